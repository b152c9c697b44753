/*
 * state.h: what signerd must remember between requests and across restarts:
 * the amount signed per asset and UTC day, every request id with the
 * transaction it signed, who owns each nonce, the timelock queue, the
 * pause, the approval signatures accepted, and the newest time journaled.
 * Rebuilt from the journal (and its snapshots) at start-up; never written
 * anywhere else.
 */
#ifndef SIGNERD_STATE_H
#define SIGNERD_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "evm/u256.h"
#include "proto/buf.h"
#include "signerd/nonces.h"
#include "signerd/pause.h"
#include "signerd/seen.h"
#include "signerd/timelock.h"
#include "signerd/versions.h"

#define SD_REQUEST_ID_MAX 64
#define SD_ASSET_MAX 16
#define SD_RAW_TX_MAX 8192

enum sd_request_status {
	SD_REQ_IN_FLIGHT = 1,	/* reserved, being signed and journaled */
	SD_REQ_SIGNED = 2,	/* durable in the journal */
};

struct sd_request {
	char id[SD_REQUEST_ID_MAX + 1];
	uint8_t content[32];	/* SHA-256 of what the request asked to sign */
	enum sd_request_status status;
	char asset[SD_ASSET_MAX + 1];
	int64_t day;
	u256 amount;
	uint8_t tx_hash[32];
	uint8_t *raw;		/* signed transaction, when SD_REQ_SIGNED */
	size_t raw_len;
	struct sd_nonce_ref ref;	/* the key, chain and nonce it holds */
	uint64_t receipt_seq;	/* the journal record that signed it */
	uint8_t receipt_hash[32];
	int bumping;		/* a fee bump of it is being signed */
};

struct sd_state;

/*
 * Allocates an empty state, paused (under SD_PAUSE_GENESIS) when
 * genesis_paused: the policy file's flag.  ERR_NOMEM.
 */
int sd_state_new(struct sd_state **out, int genesis_paused) WARN_UNUSED;
void sd_state_free(struct sd_state *st);

/*
 * Every function below except the replay/snapshot ones must be called with
 * the state locked; a sign request holds the lock only to look up, reserve,
 * and later commit or abort, never across the HSM call or the fdatasync.
 */
void sd_state_lock(struct sd_state *st);
void sd_state_unlock(struct sd_state *st);

/* The request with that id, or NULL. */
const struct sd_request *sd_state_find(const struct sd_state *st,
    const char *request_id);

/*
 * Writes the exposure of asset on day: signed amounts plus amounts reserved
 * by requests still in flight, so that concurrent requests cannot both take
 * the last of a limit (invariant 2).
 */
void sd_state_exposure(const struct sd_state *st, u256 *out, const char *asset,
    int64_t day);

/*
 * Records an in-flight request, reserves amount against (asset, day) and
 * claims the nonce ref names (invariants 2 and 5).  ERR_EXISTS if the id
 * is known or another request owns the nonce, ERR_OVERFLOW if the total
 * would overflow, ERR_NOMEM.
 */
int sd_state_begin(struct sd_state *st, const char *request_id,
    const uint8_t content[32], const char *asset, int64_t day,
    const u256 *amount, const struct sd_nonce_ref *ref) WARN_UNUSED;

/* Marks an in-flight request signed, keeping a copy of the raw transaction. */
int sd_state_commit(struct sd_state *st, const char *request_id,
    const uint8_t tx_hash[32], const uint8_t *raw, size_t raw_len) WARN_UNUSED;

/* Forgets an in-flight request, its reservation and its nonce claim. */
void sd_state_abort(struct sd_state *st, const char *request_id);

/* The request id owning ref (signed or in flight), or NULL. */
const char *sd_state_nonce_owner(const struct sd_state *st,
    const struct sd_nonce_ref *ref);

/*
 * A fee bump (invariant 5: the only re-sign): marks the signed request
 * whose stored content is still old_content as being re-signed.
 * ERR_NOT_FOUND if it is not signed, ERR_EXISTS if its content changed or
 * another bump is running.  Exposure is not touched: a bump is the same
 * payout, counted once.
 */
int sd_state_bump_begin(struct sd_state *st, const char *request_id,
    const uint8_t old_content[32]) WARN_UNUSED;

/* Replaces the bumped request's content and signed transaction. */
int sd_state_bump_commit(struct sd_state *st, const char *request_id,
    const uint8_t content[32], const uint8_t tx_hash[32], const uint8_t *raw,
    size_t raw_len) WARN_UNUSED;

/* Ends a bump that was not signed or not journaled. */
void sd_state_bump_abort(struct sd_state *st, const char *request_id);

/*
 * Replay of one durable "signed" record (start-up, single-threaded): begin
 * and commit in one step.  ERR_EXISTS for a request id seen twice or a
 * nonce another request holds, which signerd never journals.
 */
int sd_state_replay_signed(struct sd_state *st, const char *request_id,
    const uint8_t content[32], const char *asset, int64_t day,
    const u256 *amount, const uint8_t tx_hash[32], const uint8_t *raw,
    size_t raw_len, const struct sd_nonce_ref *ref) WARN_UNUSED;

/* Remembers the receipt (record seq and hash) of a signed request. */
void sd_state_set_receipt(struct sd_state *st, const char *request_id,
    uint64_t seq, const uint8_t hash[32]);

/* Replay of a "signed" record with "fee_bump": true. */
int sd_state_replay_bump(struct sd_state *st, const char *request_id,
    const uint8_t content[32], const uint8_t tx_hash[32], const uint8_t *raw,
    size_t raw_len) WARN_UNUSED;

/*
 * The other parts of the state, for their own modules' functions; the
 * state lock covers them too.
 */
struct sd_queue *sd_state_queue(struct sd_state *st);
struct sd_pause *sd_state_pause(struct sd_state *st);
struct sd_seen *sd_state_seen(struct sd_state *st);
/* Policy versions: the pending proposal under the lock; the version in
 * force lock-free (versions.h). */
struct sd_gov *sd_state_gov(struct sd_state *st);

/*
 * 1 when ref is a free nonce below the highest its sender signed on that
 * chain: a payout there fills a hole that holds the sender's later
 * transactions back (D53: the one new payout a rotated key may sign).
 */
int sd_state_fills_gap(const struct sd_state *st,
    const struct sd_nonce_ref *ref);

/*
 * The newest "unix" time of any journal record (lock-free): raised by
 * each record signerd writes and by replay, never lowered.  Timelocks
 * refuse to run while the clock is behind it.
 */
void sd_state_note_time(struct sd_state *st, int64_t unix_seconds);
int64_t sd_state_newest_time(const struct sd_state *st);

/* Number of signed requests remembered. */
size_t sd_state_count(const struct sd_state *st);

/*
 * Snapshot blob: versioned ("STT4"): every exposure bucket, every signed
 * request with its nonce, the durable queue entries, the pause state, the
 * accepted approval signatures, the policy version in force with the
 * pending proposal (versions.h) and the newest journal time.  In-flight
 * requests and pending queue entries are never in a snapshot (they are
 * not durable).  A blob of another version is ERR_BAD_VERSION.
 */
int sd_state_serialize(const struct sd_state *st, struct prt_writer *w)
    WARN_UNUSED;

/* Loads a blob into an empty state; any malformation is an error. */
int sd_state_deserialize(struct sd_state *st, const uint8_t *blob,
    size_t len) WARN_UNUSED;

#endif
