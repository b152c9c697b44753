/*
 * state.h: what signerd must remember between requests and across restarts:
 * the amount signed per asset and UTC day, each request inside the
 * retention window with where its signed record is, which nonces are
 * taken, the timelock queue, the pause, the approval signatures accepted,
 * and the newest time journaled.
 * Rebuilt from the journal (and its snapshots) at start-up; never written
 * anywhere else.
 */
#ifndef SIGNERD_STATE_H
#define SIGNERD_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "evm/u256.h"
#include "journal/journal.h"
#include "proto/buf.h"
#include "signerd/nonces.h"
#include "signerd/pause.h"
#include "signerd/seen.h"
#include "signerd/timelock.h"
#include "signerd/versions.h"

#define SD_REQUEST_ID_MAX 64
#define SD_ASSET_MAX 16
#define SD_RAW_TX_MAX 8192
/*
 * The retention window (D55): a request names the UTC day it was created;
 * signerd signs it, retries it and bumps its fees while that day is at
 * most this many days behind signerd's day, and forgets it after.
 */
#define SD_RETENTION_DAYS_DEFAULT 7
#define SD_RETENTION_DAYS_MAX 366

/* What the state knows of a request, named by its id and created day. */
enum sd_req_kind {
	SD_REQ_NONE = 0,	/* never signed, or forgotten */
	SD_REQ_IN_FLIGHT,	/* reserved, being signed and journaled */
	SD_REQ_BUMPING,		/* signed; a fee bump of it is being signed */
	SD_REQ_SIGNED,		/* durable in the journal */
};

/*
 * A signed request as memory keeps it: a fingerprint of what it asked to
 * sign and where its newest signed record is.  The transaction, its hash,
 * the key and the receipt are read back from that record (replay.c).
 */
#define SD_CONTENT_TAG_LEN 8
struct sd_req_found {
	enum sd_req_kind kind;
	uint8_t content_tag[SD_CONTENT_TAG_LEN];
	struct jnl_pos pos;
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

/*
 * What the state knows of (request_id, created): out->kind, and for a
 * signed one its content tag and record position.  Returns out->kind.
 */
enum sd_req_kind sd_state_find(const struct sd_state *st,
    const char *request_id, uint32_t created, struct sd_req_found *out);

/*
 * sd_state_find() for a request named by its id alone (a cancel): the
 * first created day from newest_day down to oldest_day that knows it.
 */
enum sd_req_kind sd_state_find_any(const struct sd_state *st,
    const char *request_id, int64_t oldest_day, int64_t newest_day,
    struct sd_req_found *out);

/* The first SD_CONTENT_TAG_LEN bytes of content: what memory compares. */
void sd_content_tag(uint8_t tag[SD_CONTENT_TAG_LEN], const uint8_t content[32]);

/*
 * Writes the exposure of asset on day: signed amounts plus amounts reserved
 * by requests still in flight, so that concurrent requests cannot both take
 * the last of a limit (invariant 2).
 */
void sd_state_exposure(const struct sd_state *st, u256 *out, const char *asset,
    int64_t day);

/*
 * Records an in-flight request, reserves amount against (asset, day) and
 * claims the nonce ref names (invariants 2 and 5).  ERR_EXISTS if the
 * request is known or the nonce is taken, ERR_OVERFLOW if the total would
 * overflow, ERR_INVALID_ARG, ERR_NOMEM.
 */
int sd_state_begin(struct sd_state *st, const char *request_id,
    uint32_t created, const uint8_t content[32], const char *asset,
    int64_t day, const u256 *amount, const struct sd_nonce_ref *ref)
    WARN_UNUSED;

/* Marks an in-flight request signed by the record at pos. */
int sd_state_commit(struct sd_state *st, const char *request_id,
    uint32_t created, const struct jnl_pos *pos) WARN_UNUSED;

/* Forgets an in-flight request, its reservation and its nonce claim. */
void sd_state_abort(struct sd_state *st, const char *request_id,
    uint32_t created);

/* 1 when ref is signed or claimed by a request in flight. */
int sd_state_nonce_used(const struct sd_state *st,
    const struct sd_nonce_ref *ref);

/*
 * A fee bump (invariant 5: the only re-sign): marks the signed request
 * whose record is still at pos as being re-signed.  ERR_NOT_FOUND if it is
 * not signed, ERR_EXISTS if it was bumped since (another record) or
 * another bump is running, ERR_NOMEM.  Exposure is not touched: a bump is
 * the same payout, counted once.
 */
int sd_state_bump_begin(struct sd_state *st, const char *request_id,
    uint32_t created, const struct jnl_pos *pos) WARN_UNUSED;

/* The bumped request's content and record become the bump's. */
int sd_state_bump_commit(struct sd_state *st, const char *request_id,
    uint32_t created, const uint8_t content[32], const struct jnl_pos *pos)
    WARN_UNUSED;

/* Ends a bump that was not signed or not journaled. */
void sd_state_bump_abort(struct sd_state *st, const char *request_id,
    uint32_t created);

/*
 * Replay of one durable "signed" record (start-up, audit): begin and
 * commit in one step.  ERR_EXISTS for a request seen twice or a nonce
 * taken, which signerd never journals.
 */
int sd_state_replay_signed(struct sd_state *st, const char *request_id,
    uint32_t created, const uint8_t content[32], const char *asset,
    int64_t day, const u256 *amount, const struct sd_nonce_ref *ref,
    const struct jnl_pos *pos) WARN_UNUSED;

/* Replay of a "signed" record with "fee_bump": true. */
int sd_state_replay_bump(struct sd_state *st, const char *request_id,
    uint32_t created, const uint8_t content[32], const struct jnl_pos *pos)
    WARN_UNUSED;

/*
 * Forgets every signed request created before oldest_day and every
 * exposure day before it: nothing can ask for them any more (D55).
 * Requests in flight are never forgotten.
 */
void sd_state_prune(struct sd_state *st, int64_t oldest_day);

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

/* Signed requests remembered; nonces held one by one (state.c's own
 * memory bound is tested on these). */
size_t sd_state_count(const struct sd_state *st);
size_t sd_state_nonce_count(const struct sd_state *st);
/* Bytes the request table takes: slots times their size (D55's bound). */
size_t sd_state_table_bytes(const struct sd_state *st);

/*
 * Snapshot blob: versioned ("STT5"): the exposure buckets and the signed
 * requests of oldest_day and later (older ones are forgotten first, so a
 * snapshot is as large as the window, not the history), every sender's
 * nonces, the durable queue entries, the pause state, the accepted
 * approval signatures, the policy version in force with the pending
 * proposal (versions.h) and the newest journal time.  In-flight requests
 * and pending queue entries are never in a snapshot (they are not
 * durable).  A blob of another version is ERR_BAD_VERSION.
 */
int sd_state_serialize(struct sd_state *st, struct prt_writer *w,
    int64_t oldest_day) WARN_UNUSED;

/*
 * sd_state_serialize() in two steps, so that a snapshot holds the state
 * lock only for a copy of the request table: head (lock held) writes all
 * but the requests and copies them; tail (no lock needed) sorts and
 * writes the copy, frees it, and says in *min_seg the oldest segment a
 * request's record is in (0: none), which must not be archived.
 */
struct sd_state_copy;
int sd_state_serialize_head(struct sd_state *st, struct prt_writer *w,
    int64_t oldest_day, struct sd_state_copy **copy) WARN_UNUSED;
int sd_state_serialize_tail(struct sd_state_copy *copy, struct prt_writer *w,
    uint32_t *min_seg) WARN_UNUSED;
void sd_state_copy_free(struct sd_state_copy *copy);

/* Loads a blob into an empty state; any malformation is an error. */
int sd_state_deserialize(struct sd_state *st, const uint8_t *blob,
    size_t len) WARN_UNUSED;

#endif
