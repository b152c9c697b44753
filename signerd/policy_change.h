/*
 * policy_change.h: governed policy versions: GOV_PROPOSE, GOV_APPROVE,
 * GOV_CANCEL and GOV_STATUS, the activation of a due proposal, and the
 * verifier's side of their four records (docs/governance.md).
 */
#ifndef SIGNERD_POLICY_CHANGE_H
#define SIGNERD_POLICY_CHANGE_H

#include "signerd/signerd.h"
#include "signerd/versions.h"

int sd_handle_gov_propose(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_gov_approve(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_gov_cancel(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_gov_status(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);

/* The version in force and the pending proposal, as GOV_*_REP carry it. */
void sd_gov_state(struct sd_ctx *sd, struct prt_gov_state *out);

/*
 * Activates the pending proposal when it is due (approved; a loosening
 * after its delay): journals policy_activated and makes it the version in
 * force.  Called after each approval, once a second by the main loop and
 * at start-up.  Returns 0 (also when nothing was due) or ERR_IO/ERR_NOMEM.
 */
int sd_policy_activate_due(struct sd_ctx *sd) WARN_UNUSED;

/*
 * The verifier (replay.c): re-checks a policy_proposed, policy_approved,
 * policy_cancelled or policy_activated record at its time t by the rules
 * that wrote it, and applies it.  0, or ERR_MALFORMED with sd->replay_why.
 */
int sd_replay_policy(struct sd_ctx *sd, const json_t *rec, const char *type,
    int64_t t) WARN_UNUSED;

#endif
