/*
 * timelock.h: invariant 4's second half: a payout above its timelock
 * threshold is signed only after it was queued in signerd for the policy's
 * delay and not cancelled.  The queue binds a request id to the payout's
 * derived intent (asset, chain, recipient, amount), not to one
 * transaction, so the nonce and fees are chosen when it is signed.  Called
 * with the state locked (see state.h); rebuilt from "queued" and
 * "cancelled" journal records and from snapshots.
 */
#ifndef SIGNERD_TIMELOCK_H
#define SIGNERD_TIMELOCK_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "policy/policy.h"
#include "proto/buf.h"

enum sd_queue_status {
	SD_Q_PENDING = 1,	/* being journaled; not yet queued */
	SD_Q_QUEUED = 2,	/* durable; signable from earliest on */
	SD_Q_CANCELLED = 3,	/* durable; never signable */
};

struct sd_queued {
	char id[POL_REQUEST_ID_MAX + 1];
	uint8_t intent[32];	/* sd_intent_hash of the queued payout */
	int64_t queued_at;	/* unix seconds */
	int64_t earliest;	/* queued_at + delay */
	enum sd_queue_status status;
	uint32_t version;	/* the policy version it was queued under */
};

/*
 * A queued (or cancelled) payout not signed by earliest + SD_QUEUE_TTL is
 * gone: to sign it, it must be queued again with fresh approvals.  This
 * is a function of time alone, so a replay reaches the same decisions
 * whenever entries are actually freed.  At most SD_QUEUE_MAX entries live
 * at once (docs/decisions.md D50).
 */
#define SD_QUEUE_TTL (7 * 86400)
#define SD_QUEUE_MAX 10000

struct sd_queue;

/*
 * 1 when the queued entry e has expired at time now (see SD_QUEUE_TTL);
 * a cancelled entry never expires.
 */
int sd_queue_expired(const struct sd_queued *e, int64_t now);

/*
 * An approver's cancel at time now: a queued entry becomes CANCELLED; an
 * id never queued (or whose entry expired) gets a CANCELLED entry that
 * forbids it from then on (*forbade = 1), so a payout cancelled before it
 * reached signerd can never be queued or signed either.  Returns 0, 1
 * when it was cancelled already, ERR_EXISTS while it is being queued, or
 * ERR_NOMEM.  Whether it was signed is the caller's check.
 */
int sd_queue_cancel_at(struct sd_queue *q, const char *id, int64_t now,
    int *forbade) WARN_UNUSED;

/* Undoes a cancel that forbade an id (its record was not written). */
void sd_queue_unforbid(struct sd_queue *q, const char *id);

/* Queued and pending entries not expired at now (cancelled ones excluded). */
size_t sd_queue_live(const struct sd_queue *q, int64_t now);

/* Frees the entries expired at now. */
void sd_queue_prune(struct sd_queue *q, int64_t now);

/* An empty queue.  ERR_NOMEM. */
int sd_queue_new(struct sd_queue **out) WARN_UNUSED;
void sd_queue_free(struct sd_queue *q);

/*
 * What an approval and a queue entry are about: SHA-256 over the derived
 * intent's asset name, chain id, recipient and amount.
 */
void sd_intent_hash(uint8_t out[32], const struct pol_intent *in);

/* The entry for request id, or NULL. */
const struct sd_queued *sd_queue_find(const struct sd_queue *q,
    const char *id);

/*
 * Adds a PENDING entry while its record is written (replacing an entry
 * of that id expired at queued_at).  ERR_EXISTS if the id is queued
 * already, ERR_INVALID_ARG for a bad id or earliest < queued_at,
 * ERR_NOMEM.
 */
int sd_queue_begin(struct sd_queue *q, const char *id,
    const uint8_t intent[32], int64_t queued_at, int64_t earliest)
    WARN_UNUSED;

/* PENDING -> QUEUED once durable; ERR_NOT_FOUND if id is not pending. */
int sd_queue_commit(struct sd_queue *q, const char *id) WARN_UNUSED;

/* Drops a PENDING entry whose record could not be written. */
void sd_queue_abort(struct sd_queue *q, const char *id);

/*
 * Sets a QUEUED entry's status to CANCELLED, or back (undo after a failed
 * journal write).  ERR_NOT_FOUND if there is no such entry in the
 * expected state.
 */
int sd_queue_cancel(struct sd_queue *q, const char *id) WARN_UNUSED;
int sd_queue_uncancel(struct sd_queue *q, const char *id) WARN_UNUSED;

/* Entries, pending included. */
size_t sd_queue_count(const struct sd_queue *q);

/* Records the policy version the entry id was queued under (D52). */
void sd_queue_set_version(struct sd_queue *q, const char *id,
    uint32_t version);

/*
 * When a queued payout may be signed under policy p (D52): the later of
 * the entry's earliest and queued_at plus p's delay for the intent's
 * asset, so a version that lengthens a delay holds queued payouts too.
 */
int64_t sd_queue_earliest(const struct sd_queued *e,
    const struct pol_policy *p, const struct pol_intent *in);

/*
 * The timelock rule for a payout whose queue entry is e (NULL: not
 * queued), at time now (sd_now(): it never goes back, so a clock set back
 * cannot shorten a delay).  Returns POL_OK, TIMELOCK_NOT_QUEUED,
 * TIMELOCK_CANCELLED or TIMELOCK_PENDING with *remaining seconds.
 */
enum pol_reason sd_timelock_check(const struct sd_queued *e, int64_t now,
    int64_t *remaining);

/* Appends the durable entries (QUEUED and CANCELLED) to w. */
int sd_queue_serialize(const struct sd_queue *q, struct prt_writer *w)
    WARN_UNUSED;

/* Reads what sd_queue_serialize wrote into an empty queue. */
int sd_queue_deserialize(struct sd_queue *q, struct prt_reader *rd)
    WARN_UNUSED;

#endif
