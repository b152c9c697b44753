/*
 * versions.h: the policy versions signerd runs (issue 11, docs/governance.md).
 * The genesis file is version 1; each activation journaled since makes the
 * next.  The version in force is read lock-free by every request (one load
 * per request, used throughout), and no version is freed before signerd
 * exits, so a request that read one never sees it go away.  What is
 * pending (a proposal, its approvals) is part of the state: changed with
 * the state locked, rebuilt from the journal and kept in snapshots.
 */
#ifndef SIGNERD_VERSIONS_H
#define SIGNERD_VERSIONS_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "policy/diff.h"
#include "policy/policy.h"
#include "policy/verify.h"
#include "proto/buf.h"

/* One policy file, parsed, with its approvers' keys loaded. */
struct sd_version {
	struct pol_policy *policy;
	struct pol_verifier *verifier;
	uint8_t *text;		/* the file's bytes, as journaled */
	size_t len;
	char hex[65];		/* SHA-256 of text, lowercase hex */
	uint32_t number;	/* 1 for genesis; 0 while only proposed */
	int64_t since;		/* unix time it took effect */
	struct sd_version *older;	/* every version made, until exit */
};

/* A proposal waiting for approvals or for its delay. */
struct sd_gov_pending {
	struct sd_version *v;		/* number 0 */
	enum pol_change_class change;	/* TIGHTEN (or NONE) or LOOSEN */
	int64_t proposed_at;
	size_t napproved;		/* approvals that count, in order */
	char approved[POL_MAX_APPROVERS][POL_APPROVER_NAME_MAX + 1];
	uint64_t expiry[POL_MAX_APPROVERS];
	int64_t approved_at;		/* when the m-th came in; 0 before */
};

/* Cancelled proposals remembered per version (their approvals are dead). */
#define SD_GOV_CANCELLED_MAX 1024

struct sd_gov;

int sd_gov_new(struct sd_gov **out) WARN_UNUSED;
void sd_gov_free(struct sd_gov *g);

/*
 * Parses a policy file into a new version (not yet in any list): pol_parse
 * and pol_verifier_new.  err names what failed.  ERR_MALFORMED,
 * ERR_TOO_LARGE, ERR_NOMEM.
 */
int sd_version_parse(struct sd_version **out, const uint8_t *text,
    size_t len, char *err, size_t errlen) WARN_UNUSED;

/* Frees a version no list holds (NULL is a no-op). */
void sd_version_free(struct sd_version *v);

/* Takes v (from sd_version_parse) as version 1, in force since since. */
void sd_gov_genesis(struct sd_gov *g, struct sd_version *v, int64_t since);

/* The version in force, NULL before genesis.  Lock-free. */
const struct sd_version *sd_gov_current(const struct sd_gov *g);

/* Everything below: with the state locked. */

/* The pending proposal, or NULL. */
struct sd_gov_pending *sd_gov_pending(struct sd_gov *g);

/* 1 when id named a version in force, ever. */
int sd_gov_id_used(const struct sd_gov *g, const char *id);

/* 1 when hash was proposed and cancelled under the version in force. */
int sd_gov_was_cancelled(const struct sd_gov *g, const uint8_t hash[32]);

/* Makes v (from sd_version_parse) the pending proposal.  ERR_EXISTS. */
int sd_gov_propose(struct sd_gov *g, struct sd_version *v,
    enum pol_change_class change, int64_t t) WARN_UNUSED;

/*
 * Drops the pending proposal (its version stays allocated until exit);
 * when cancelled its hash is remembered (ERR_TOO_LARGE when the list is
 * full: nothing changed then).
 */
int sd_gov_drop(struct sd_gov *g, int cancelled) WARN_UNUSED;

/* Puts back a proposal dropped a moment ago (a failed journal write). */
void sd_gov_undrop(struct sd_gov *g, const struct sd_gov_pending *saved,
    int cancelled);

/*
 * The pending proposal takes effect at t as the next version; the
 * cancelled list starts empty for it.  ERR_NOT_FOUND when none pending.
 */
int sd_gov_activate(struct sd_gov *g, int64_t t) WARN_UNUSED;

/* Takes back an activation a moment ago (a failed journal write). */
void sd_gov_unactivate(struct sd_gov *g, const struct sd_gov_pending *saved,
    size_t ncancelled_before);

/* Number of cancelled hashes remembered (for sd_gov_unactivate). */
size_t sd_gov_ncancelled(const struct sd_gov *g);

/*
 * When the pending proposal takes (or took) effect: 0 while approvals are
 * missing; its last approval's time for a tightening; for a loosening the
 * first second at least the governance delay of the version in force
 * after its last approval (that record's second + delay + 1).
 */
int64_t sd_gov_effective_at(const struct sd_gov *g);

/*
 * Snapshot section: the version in force (text, number, since), the ids
 * ever in force, the cancelled hashes and the pending proposal.  Load into
 * a fresh sd_gov: the texts are parsed again (err says why one fails).
 */
int sd_gov_serialize(const struct sd_gov *g, struct prt_writer *w)
    WARN_UNUSED;
int sd_gov_deserialize(struct sd_gov *g, struct prt_reader *rd, char *err,
    size_t errlen) WARN_UNUSED;

#endif
