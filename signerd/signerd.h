/* signerd.h: the daemon's shared context, seen by its handlers and setup. */
#ifndef SIGNERD_SIGNERD_H
#define SIGNERD_SIGNERD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>

#include "hsm/hsm.h"
#include "journal/journal.h"
#include "policy/policy.h"
#include "proto/buf.h"
#include "proto/msg.h"
#include "signerd/approvals.h"
#include "signerd/state.h"

#define SD_VERSION "signerd 0.1"
#define SD_MAX_KEYS 16
#define SD_MAX_UIDS 16

/* A named signing key from the config, loaded and checked at start-up. */
struct sd_key {
	char name[65];
	struct hsm_key key;
	uint8_t address[20];
};

struct sd_ctx {
	struct hsm *hsm;
	struct sd_key keys[SD_MAX_KEYS];
	size_t nkeys;
	struct hsm_key audit_key;

	struct pol_policy *policy;
	struct sd_approvers *approvers;	/* the policy's keys, in OpenSSL */
	char policy_hex[65];
	uint8_t *policy_text;	/* the genesis file, served by POLICY_REQ */
	size_t policy_len;

	struct jnl *journal;
	struct sd_state *state;
	/*
	 * Sign handlers hold it shared from journal append to state commit;
	 * the snapshot writer takes it exclusively, so a snapshot never
	 * misses a record that is durable but not yet in the state.
	 */
	pthread_rwlock_t commit_lock;
	atomic_uint_fast64_t appended_since_snapshot;
	/*
	 * Cancel, pause and unpause are rare and each is one decision over
	 * state a concurrent one could change (a newer pause, the same
	 * cancel): they run one at a time, record included.
	 */
	pthread_mutex_t ops_mu;
	uint64_t snapshot_interval;

	size_t replay_nonce_conflicts;	/* start-up: nonces signed twice */

	unsigned allowed_uids[SD_MAX_UIDS];
	size_t nallowed;
	atomic_int stopping;
};

/* Called by the server for each request after the peer check. */
int sd_handle_sign(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *req,
    size_t len, struct prt_writer *rep);
int sd_handle_exposure(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_status(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_policy(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_queue(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_cancel(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_pause(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);
int sd_handle_unpause(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);

/*
 * Journals a refusal ({"type":"refused",...}) with its reason, the action
 * refused ("sign", "queue", "cancel", "pause", "unpause"; NULL when the
 * frame had none) and the request id when known; failures to journal are
 * logged (the refusal itself stands: refusing never needs durability).
 */
void sd_journal_refusal(struct sd_ctx *sd, const char *action,
    const char *request_id, unsigned peer_uid, int reason,
    const char *detail);

/*
 * Logs, journals (sd_journal_refusal) and encodes into rep the refusal of
 * a request: the reply of reply_type (SIGN_REP, QUEUE_REP, CANCEL_REP,
 * PAUSE_REP, UNPAUSE_REP) with result reason and message "REASON: detail".
 * Returns the encoder's result.
 */
int sd_refuse(struct sd_ctx *sd, struct prt_writer *rep, uint16_t reply_type,
    const char *action, const char *request_id, unsigned peer_uid,
    int reason, const char *detail);

/*
 * Reads the newest journal time, then the clock, in that order: a record
 * another thread wrote a moment ago can then never make the clock look
 * behind the journal.  *now is the clock; *newest the journal's time.
 */
void sd_clock(struct sd_ctx *sd, int64_t *now, int64_t *newest);

/*
 * The approvals as journaled: [{"approver","expiry","sig":hex}, ...];
 * NULL when out of memory.
 */
json_t *sd_approvals_json(const struct prt_approval *ap, size_t n);

/*
 * Remembers accepted approvals' signatures for the replay diagnosis
 * (seen.h) under label ("sign payout-42").  State lock held.
 */
void sd_remember_approvals(struct sd_ctx *sd, const struct prt_approval *ap,
    size_t n, const char *label);

/*
 * Starts a record body {"type":type,"ts":now,"policy":hash}; the caller adds
 * fields and json_decref()s it.  NULL when out of memory.
 */
json_t *sd_record_new(struct sd_ctx *sd, const char *type);

/* Writes a snapshot if enough records were appended since the last one. */
void sd_maybe_snapshot(struct sd_ctx *sd, int force);

/* Index of the key called name, or -1. */
int sd_key_index(const struct sd_ctx *sd, const char *name);

#endif
