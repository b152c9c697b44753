/* store.h: every read and write of payouts, approvals, nonces and events. */
#ifndef ORCH_STORE_H
#define ORCH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "evm/addr.h"
#include "evm/u256.h"
#include "orchestratord/db.h"
#include "orchestratord/fsm.h"
#include "policy/verify.h"
#include "proto/msg.h"

/*
 * Each state change is ONE statement that updates the payout only if it
 * is still in the expected status (and, for a worker, still under the
 * lease epoch it claimed) and inserts the change's outbox event in the
 * same statement, so a stale worker cannot move a row and an event exists
 * exactly when its change does.  Functions return 0, ERR_NOT_FOUND (no
 * such payout), ERR_STALE... see each; ERR_IO when PostgreSQL is
 * unreachable (retry later: nothing was changed or the change is
 * idempotent to retry); ERR_INTERNAL for a stored row that does not parse
 * (a sender, recipient or amount that is not an address or a u256).
 */

/* Returned when the row is not in the expected status or lease epoch. */
#define STORE_CONFLICT ERR_EXISTS

#define STORE_REASON_MAX 256
#define STORE_CODE_MAX 40
#define STORE_HASH_STR 67	/* "0x" + 64 hex + NUL */
#define STORE_LIST_MAX 500
/* Retired senders a claim considers at most (signerd's keys). */
#define STORE_RETIRED_MAX PRT_KEYS_MAX

/*
 * signerd's receipt of a signature (SIGN_REP): the seq and SHA-256 of the
 * journal record that authorized it, which an auditor can check against
 * the journal (`signerctl audit verify --receipts`).  seq 0: no receipt
 * (a version signed before signerd returned them).
 */
struct store_receipt {
	uint64_t seq;
	uint8_t hash[32];
};

/* The receipt a SIGN_REP carries. */
void store_receipt_of(struct store_receipt *out,
    const struct prt_sign_rep *rep);

/* A payout as the API shows it and the worker acts on it. */
struct payout {
	int64_t id;			/* internal; cursors and joins */
	char request_id[PRT_REQUEST_ID_MAX + 1];	/* the public id */
	char asset[PRT_ASSET_MAX + 1];
	uint64_t chain_id;
	/*
	 * Binary inside orchestratord; text (EIP-55, decimal) only at the SQL
	 * edge (store.c) and the JSON edge (api.c).
	 */
	uint8_t sender[EVM_ADDR_LEN];
	uint8_t recipient[EVM_ADDR_LEN];
	u256 amount;			/* base units */
	enum payout_status status;
	int approvals_required;		/* 0: none needed */
	int approvals;			/* stored so far */
	int needs_timelock;
	int64_t not_before;		/* unix s, QUEUED; 0 when none */
	int64_t nonce;			/* -1 until assigned */
	char tx_hash[STORE_HASH_STR];	/* "" until signed */
	int64_t block_number;		/* -1 until mined */
	char block_hash[STORE_HASH_STR];
	int confirmations;
	int bumps;
	char reason_code[STORE_CODE_MAX];	/* "" or e.g. "DAILY_LIMIT" */
	char reason[STORE_REASON_MAX + 1];
	int64_t created_at;		/* unix ms */
	int64_t updated_at;
	int64_t submitted_at;		/* unix ms, 0 if never */
	int64_t last_broadcast_at;	/* unix ms, 0 if never */
	/* A worker sent its QUEUE_REQ: signerd may hold it queued. */
	int queue_sent;
	/* signerd's receipt of the current signed version; seq 0: none. */
	struct store_receipt receipt;
	/*
	 * Its nonce is a hole of a retired sender below a nonce that sender
	 * signed (D54): it is signed with from = sender, and does not move
	 * to its asset's key (set by the claim; kept once signed).
	 */
	int gap_fill;
	/*
	 * The UTC day (days since 1970-01-01) its signerd requests name as
	 * created_day, the same on every one (protocol 4); 0 until the first
	 * request is built (store_sign_day).
	 */
	uint32_t sign_day;
	/* Worker's view; zero for API reads. */
	int64_t lease_epoch;
	uint8_t unsigned_tx[PRT_TX_MAX];
	size_t unsigned_len;		/* 0: not built yet */
	uint8_t raw_tx[PRT_TX_MAX];
	size_t raw_len;			/* 0: not signed yet */
};

/* What POST /v1/payouts stores, after validation. */
struct payout_new {
	char request_id[PRT_REQUEST_ID_MAX + 1];
	char asset[PRT_ASSET_MAX + 1];
	uint64_t chain_id;
	uint8_t sender[EVM_ADDR_LEN];
	uint8_t recipient[EVM_ADDR_LEN];
	u256 amount;
	/* Advisory pre-check by policy/: initial status is one of these. */
	enum payout_status status;	/* PENDING_APPROVAL, APPROVED or REJECTED */
	int approvals_required;
	int needs_timelock;
	char reason_code[STORE_CODE_MAX];	/* REJECTED only */
	char reason[STORE_REASON_MAX + 1];
};

struct outbox_event {
	int64_t id;
	char request_id[PRT_REQUEST_ID_MAX + 1];
	char event[40];
	char payload[1024];		/* JSON object text */
	int64_t created_at;		/* unix ms */
};

/* The prepared statements every connection gets (db_open's stmts). */
extern const struct db_stmt store_stmts[];
extern const size_t store_nstmts;

/* --- API ---------------------------------------------------------------- */

/*
 * Creates the payout with its status and events (PayoutRequestCreated;
 * also PayoutRequestApproved when it starts APPROVED; RiskCheckRejected
 * when it starts REJECTED) in one statement.  If request_id exists with
 * the same asset, recipient and amount: *created = 0 and *out is the
 * existing payout.  With another body: STORE_CONFLICT and *out is the
 * existing payout.
 */
int store_create(struct db *d, const struct payout_new *in,
    struct payout *out, int *created) WARN_UNUSED;

/* By public id (request id). */
int store_get(struct db *d, const char *request_id, struct payout *out)
    WARN_UNUSED;

/*
 * Up to limit (1..STORE_LIST_MAX) payouts with id > after_id, oldest
 * first, of one status (PS_NONE: any).  *n is the count written to out.
 */
int store_list(struct db *d, enum payout_status status, int64_t after_id,
    int limit, struct payout *out, size_t *n) WARN_UNUSED;

/*
 * Stores an approval of a PENDING_APPROVAL payout and, when it makes the
 * count reach approvals_required, moves it to APPROVED with its event,
 * all in one statement.  STORE_CONFLICT when the payout is not
 * PENDING_APPROVAL or this approver already approved it (*out then shows
 * the payout).
 */
int store_add_approval(struct db *d, const char *request_id,
    const struct pol_approval *a, struct payout *out) WARN_UNUSED;

/* The stored approvals of a payout (at most max), in policy's type (D60). */
int store_approvals(struct db *d, int64_t payout_id, struct pol_approval *out,
    size_t max, size_t *n) WARN_UNUSED;

/* Why store_end did not end a payout. */
enum store_end_refusal {
	STORE_END_OK = 0,
	STORE_END_STATE,	/* not in one of the from statuses */
	STORE_END_BUSY,		/* a worker holds a live lease on it */
	STORE_END_IN_SIGNERD,	/* signerd may hold it queued */
};

/*
 * An approver's reject or cancel: moves the payout from one of the
 * statuses in from (n of them) to REJECTED or CANCELLED with reason,
 * writing the event, and fences any worker holding it (the lease epoch
 * moves on).  signerd_cancelled says that signerd has cancelled it
 * (CANCEL_REQ answered OK): then it ends whoever holds it.  Otherwise it
 * ends only while signerd cannot hold it: not after a worker sent its
 * QUEUE_REQ (queue_sent, or QUEUED), and not while a worker holds a live
 * lease on it (invariant: no payout reported REJECTED or CANCELLED is
 * signable in signerd).  Returns 0, ERR_NOT_FOUND, a db error, or
 * STORE_CONFLICT with *why saying which rule refused; *out shows the
 * payout unless ERR_NOT_FOUND.
 */
int store_end(struct db *d, const char *request_id,
    const enum payout_status *from, size_t n, enum payout_status to,
    int signerd_cancelled, const char *reason_code, const char *reason,
    enum store_end_refusal *why, struct payout *out) WARN_UNUSED;

/* Up to limit events with id > after_id, oldest first. */
int store_events(struct db *d, int64_t after_id, int limit,
    struct outbox_event *out, size_t *n) WARN_UNUSED;

/* Payout counts by status (counts[PS_COUNT], index by status). */
int store_count_by_status(struct db *d, int64_t counts[PS_COUNT])
    WARN_UNUSED;

/* --- workers ------------------------------------------------------------ */

/*
 * Ensures a nonce counter exists for (sender, chain): created at
 * chain_nonce (the node's pending count) if missing, raised to it if
 * lower.  Called at start for every sender of the policy.
 */
int store_seed_nonce(struct db *d, const uint8_t sender[EVM_ADDR_LEN],
    uint64_t chain_id,
    uint64_t chain_nonce) WARN_UNUSED;

/*
 * claim_payout(): one statement.  Returns 0 with *out (status APPROVED:
 * queue it; SIGNING: sign it, nonce assigned; unsigned_tx and raw_tx
 * filled if an earlier attempt got that far), or ERR_NOT_FOUND when there
 * is nothing to do.
 *
 * retired (nretired of them, at most STORE_RETIRED_MAX): the
 * senders of the keys signerd holds that no asset of the claim's version
 * names (signer_version.retired).  A payout that needs a nonce takes the
 * lowest nonce handed back by a retired sender on its chain below that
 * sender's highest signed nonce first, with that sender (a hole its
 * signed transactions wait for; D54); and out->gap_fill says the claimed
 * payout holds such a hole, newly or from before: sign it with from =
 * its sender, do not move it.  ERR_INVALID_ARG for nretired too large.
 */
int store_claim(struct db *d, const char *worker, int lease_ms,
    const uint8_t (*retired)[EVM_ADDR_LEN], size_t nretired,
    struct payout *out) WARN_UNUSED;

/*
 * store_claim for up to max (1..STORE_CLAIM_MAX) payouts in one statement
 * and transaction (claim_payouts(), the same claim repeated): out[0..*n)
 * in claim order, each under its own lease.  ERR_NOT_FOUND when none.
 * A worker works through them in order and gives back (store_release)
 * those it will not start within its lease.
 */
#define STORE_CLAIM_MAX 64
int store_claim_many(struct db *d, const char *worker, int lease_ms,
    const uint8_t (*retired)[EVM_ADDR_LEN], size_t nretired,
    struct payout *out, size_t max, size_t *n) WARN_UNUSED;

/*
 * SIGNING, under epoch: remember the unsigned transaction and its fees,
 * and the payout's sign day (as store_sign_day, in the same statement:
 * p->sign_day is set).
 */
int store_set_unsigned(struct db *d, struct payout *p,
    const uint8_t *tx, size_t len, uint64_t gas_limit, const u256 *max_fee,
    const u256 *prio_fee) WARN_UNUSED;

/*
 * APPROVED, under epoch: marks that this worker is about to send the
 * payout's QUEUE_REQ (queue_sent), so that from now on only a cancel that
 * reaches signerd can end it.  Call before the request leaves; on
 * STORE_CONFLICT (the row moved: an approver ended it, or the lease was
 * taken over) send nothing.
 */
int store_queue_sent(struct db *d, const struct payout *p) WARN_UNUSED;

/*
 * Undoes store_queue_sent, under epoch, after signerd refused this
 * worker's QUEUE_REQ (it answered: nothing was queued).  Only for a row
 * that was not queue_sent when claimed: an earlier request whose answer
 * never came may still reach signerd.
 */
int store_queue_unsent(struct db *d, const struct payout *p) WARN_UNUSED;

/* APPROVED -> QUEUED with the signer's earliest time (unix s). */
int store_queued(struct db *d, const struct payout *p, int64_t not_before)
    WARN_UNUSED;

/*
 * APPROVED -> QUEUED whatever the lease: signerd answered this worker's
 * QUEUE_REQ with "queued" after its lease had passed to another, and the
 * row must say what signerd holds.  The epoch moves on (the holder of the
 * new lease then finds the row QUEUED).  STORE_CONFLICT when the payout
 * is not APPROVED any more.
 */
int store_queued_late(struct db *d, const struct payout *p,
    int64_t not_before) WARN_UNUSED;

/*
 * SIGNING -> SUBMITTED: stores the signed transaction (also in payout_txs,
 * with signerd's receipt; NULL receipt: none) before anything is
 * broadcast, writes PayoutSubmitted, clears the lease.
 */
int store_signed(struct db *d, const struct payout *p, const uint8_t *raw,
    size_t len, const uint8_t hash[32], const u256 *max_fee,
    const u256 *prio_fee, const struct store_receipt *receipt) WARN_UNUSED;

/*
 * -> FAILED (from APPROVED, QUEUED, SIGNING or SUBMITTED, under epoch)
 * with the reason.  A payout that was never signed hands its nonce back
 * (nonce_gaps, or the counter when it was the newest) in the same
 * statement, except after NONCE_REUSED: signerd holds that nonce signed
 * for another payout, so handing it back would fail every later payout of
 * the sender with the same reason.
 */
int store_fail(struct db *d, const struct payout *p, const char *code,
    const char *reason) WARN_UNUSED;

/*
 * Under epoch (a worker's or the tracker's lease): the day the payout's
 * signerd requests name, p->sign_day.  The first call for a payout sets
 * it to PostgreSQL's current UTC day, in one statement; every later one
 * returns that day unchanged, so a retry, a lease takeover and a fee bump
 * name the first request's day.  Returns 0, STORE_CONFLICT (the row moved
 * on), ERR_INTERNAL for a stored day outside 1..UINT32_MAX.
 */
int store_sign_day(struct db *d, struct payout *p) WARN_UNUSED;

/*
 * Keeps the status, gives the lease up until retry_ms from now (a
 * transient error: signer down, node down, PAUSED) and notes why.
 */
int store_release(struct db *d, const struct payout *p, int retry_ms,
    const char *reason) WARN_UNUSED;

/* --- tracker ------------------------------------------------------------ */

/* A SUBMITTED payout leased by the tracker, and every signed version. */
#define STORE_VERSIONS_MAX 32	/* the first and every bump (max_bumps <= 20) */
struct store_submitted {
	struct payout p;		/* raw_tx and tx_hash: the newest */
	size_t nversions;
	char versions[STORE_VERSIONS_MAX][STORE_HASH_STR];	/* oldest first */
};

/*
 * Leases up to max SUBMITTED payouts not leased by anyone (one statement,
 * FOR UPDATE SKIP LOCKED) for lease_ms, with their versions' hashes.
 */
int store_claim_submitted(struct db *d, const char *worker, int lease_ms,
    struct store_submitted *out, size_t max, size_t *n) WARN_UNUSED;

/* The node has the tx: record block, hash, confirmations, broadcast time. */
int store_mined(struct db *d, const struct payout *p, const char *tx_hash,
    int64_t block_number, const char *block_hash, int confirmations)
    WARN_UNUSED;

/* Broadcast (again) just now. */
int store_broadcast(struct db *d, const struct payout *p) WARN_UNUSED;

/*
 * SUBMITTED -> SUBMITTED (event PayoutReorged): its receipt vanished or
 * its block left the canonical chain; block data cleared.
 */
int store_reorged(struct db *d, const struct payout *p) WARN_UNUSED;

/* SUBMITTED -> CONFIRMED, recording the block as store_mined does. */
int store_confirmed(struct db *d, const struct payout *p, const char *tx_hash,
    int64_t block_number, const char *block_hash, int confirmations)
    WARN_UNUSED;

/*
 * A fee bump: the new signed version (with its receipt, as store_signed)
 * replaces raw_tx/tx_hash; bumps + 1.
 */
int store_bumped(struct db *d, const struct payout *p, const uint8_t *raw,
    size_t len, const uint8_t hash[32], const u256 *max_fee,
    const u256 *prio_fee, const struct store_receipt *receipt) WARN_UNUSED;

/*
 * Ends the tracker's leases on the rows ids[0..n) under epochs[0..n)
 * without a change, in one statement (a row whose epoch moved on is left
 * alone).
 */
int store_unlease(struct db *d, const int64_t *ids, const int64_t *epochs,
    size_t n) WARN_UNUSED;

/* --- key rotation (D54) ----------------------------------------------------- */

/*
 * Moves a payout that is not signed (APPROVED, or SIGNING without a
 * signed transaction, under its lease epoch) to sender, the address of
 * its asset's key in the version in force, in one statement: a nonce it
 * holds on the old sender is handed back as store_fail does (the counter
 * goes back when it was the newest, past handed-back nonces just below
 * it; else it waits in nonce_gaps: *gap = 1, and that old sender's later
 * nonces wait until it is used), a SIGNING payout takes
 * the new sender's next nonce (a handed-back one first), and its unsigned
 * transaction and gap_fill mark are dropped.  fill_after_ms > 0: a nonce
 * handed back into nonce_gaps is not offered to a claim before that many
 * ms from now (signerd refused to fill that hole, or its sender could not
 * pay: not every payout should try again at once).  Returns 0 with p's
 * sender, nonce, unsigned_len and gap_fill updated; ERR_NOT_FOUND when
 * sender has no nonce counter on the payout's chain yet (nothing
 * changed); STORE_CONFLICT when the row moved on, is signed, or already
 * has that sender.
 */
int store_move_sender(struct db *d, struct payout *p,
    const uint8_t sender[EVM_ADDR_LEN], int fill_after_ms, int *gap)
    WARN_UNUSED;

#endif
