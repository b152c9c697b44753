/*
 * worker.c: the signing workers.  A thread claims one payout at a time
 * (claim_payout(): lease and nonce in one statement), queues it in signerd
 * when it is timelocked, else builds its unsigned transaction, has signerd
 * sign it, records it SUBMITTED and broadcasts it once; the tracker does
 * everything after that.  No keys here: signerd decodes and judges.
 */
#include "orchestratord/worker.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "evm/keccak.h"
#include "orchestratord/app.h"
#include "orchestratord/approval_check.h"
#include "orchestratord/fees.h"
#include "orchestratord/rpc.h"
#include "orchestratord/store.h"
#include "orchestratord/txbuild.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 5000
#define NAP_SLICE_MS 100	/* how soon a nap sees app->stopping */
#define STORE_SIGNED_TRIES 5
/* How long signerd's refusals wait: signer.c's table (signer_outcome_of). */
#define RETRY_NO_NODE_MS 60000
/* Key rotation (D54): the new sender's counter, or our view of signerd's. */
#define RETRY_NEW_KEY_MS 1000
/*
 * A hole of a retired sender that signerd refused to fill, or that the
 * sender could not pay for, is offered to a claim again after this long:
 * each refusal is journaled, and a hole signerd will not fill would
 * otherwise cost every new payout one.
 */
#define GAP_REFUSED_RETRY_MS 300000
#define RESEED_RETRY_S 5.0
/*
 * Payouts one claim takes (one statement, one commit: store_claim_many).
 * Small, so that a worker that dies strands few until their leases run
 * out and a batch is worked through well inside its lease.
 */
#define CLAIM_BATCH 4
#define WHY_MAX 512		/* a note on a retry: ours plus signerd's message */

struct workers;

struct wthread {
	struct workers *w;
	int index;
	int started;
	pthread_t th;
	char id[ORCH_WORKER_ID_MAX + 16];	/* lease owner: "<worker id>/<n>" */
	struct db *db;
	struct rpc_client *rpc;
	int backoff_ms;
	/* This claim's policy version: one copy for the whole claim (D54). */
	const struct signer_version *v;
	/* The last claim's payouts, worked through in order from next. */
	size_t nclaimed, next;
	double claimed_at;	/* monotonic s */
	/* Large: kept with the thread rather than on its stack. */
	struct payout claimed[CLAIM_BATCH];
	struct payout p;	/* the one being worked on */
	struct prt_sign_req req;
	struct prt_sign_rep rep;
	struct pol_approval ap[PRT_APPROVALS_MAX];
	struct evm_tx tx;
};

struct workers {
	struct app *app;
	pthread_mutex_t mu;
	pthread_cond_t cv;	/* workers_stop wakes naps */
	atomic_int stop;
	pthread_mutex_t seed_mu;
	/* The version whose senders have counters; NULL before the first. */
	const struct signer_version *seeded;	/* under seed_mu */
	double reseed_at;	/* under seed_mu: a failed reseed's next try */
	atomic_ullong chain;	/* the node's chain id once seeded */
	struct fees *fees;	/* shared fee data, one fetch per poll */
	size_t n;
	struct wthread *t;
};

/* --- time, naps and backoff ------------------------------------------- */

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
stopping(struct workers *w)
{
	return atomic_load(&w->stop) || atomic_load(&w->app->stopping);
}

/* Sleeps ms, or less when told to stop. */
static void
nap(struct workers *w, int ms)
{
	struct timespec now, until;
	double end = mono_s() + ms / 1e3, left;

	pthread_mutex_lock(&w->mu);
	while (!stopping(w) && (left = end - mono_s()) > 0) {
		if (left > NAP_SLICE_MS / 1e3)
			left = NAP_SLICE_MS / 1e3;
		clock_gettime(CLOCK_MONOTONIC, &now);
		until.tv_sec = now.tv_sec + (time_t)left;
		until.tv_nsec = now.tv_nsec + (long)((left - (time_t)left) *
		    1e9);
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&w->cv, &w->mu, &until);
	}
	pthread_mutex_unlock(&w->mu);
}

/* Something failed that will not get better at once: slow this thread. */
static void
trouble(struct wthread *t)
{
	nap(t->w, t->backoff_ms);
	t->backoff_ms = t->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    t->backoff_ms * 2;
}

static void
ok(struct wthread *t)
{
	t->backoff_ms = BACKOFF_MIN_MS;
}

/* --- outcomes ----------------------------------------------------------- */

/*
 * A store call failed: STORE_CONFLICT means the row moved on (the lease
 * went to another worker, or an approver ended the payout).
 */
static void
store_failed(struct wthread *t, const char *what, int r)
{
	if (r == STORE_CONFLICT) {
		log_info("payout %s: %s: the row moved on (another worker "
		    "holds it, or an approver ended it); left to that",
		    t->p.request_id, what);
		return;
	}
	log_warn("payout %s: %s: %s %s", t->p.request_id, what, err_str(r),
	    db_last_error());
	trouble(t);
}

/*
 * A transient problem (signerd or the node down, signerd paused): give
 * the payout back, claimable again in retry_ms, keeping its nonce and
 * unsigned transaction, and slow this thread down.
 */
static void
retry_later(struct wthread *t, int retry_ms, const char *why)
{
	int r;

	if ((r = store_release(t->db, &t->p, retry_ms, why)) != 0 &&
	    r != STORE_CONFLICT)
		log_warn("payout %s: release: %s %s (its lease runs out "
		    "instead)", t->p.request_id, err_str(r), db_last_error());
	log_info("payout %s: retry in %d ms: %s", t->p.request_id, retry_ms,
	    why);
	trouble(t);
}

static void
fail_payout(struct wthread *t, const char *code, const char *reason)
{
	int r;

	if ((r = store_fail(t->db, &t->p, code, reason)) != 0) {
		store_failed(t, "fail", r);
		return;
	}
	log_info("payout %s: FAILED %s: %s", t->p.request_id, code, reason);
	ok(t);
}

/*
 * signerd did not do it.  Whether to send the same request again, and
 * when, is signer.c's to say (signer_outcome_of): a retry waits what it
 * advises, or this thread's backoff; a final refusal fails the payout
 * with signerd's reason as its code.
 */
static void
refused(struct wthread *t, const struct signer_answer *ans, const char *what)
{
	const char *name = ans->reason > 0 ? pol_reason_name(ans->reason) :
	    err_name(ans->reason);
	char why[WHY_MAX];

	if (ans->outcome == SIGNER_RETRY) {
		snprintf(why, sizeof(why), "signerd %s: %s (retry %s)", what,
		    ans->message, ans->retry_after_ms != 0 ?
		    "after signerd's wait" : "on our backoff");
		retry_later(t, ans->retry_after_ms != 0 ?
		    (int)ans->retry_after_ms : t->backoff_ms, why);
		return;
	}
	metrics_refusal(t->w->app->metrics, name);
	fail_payout(t, name, ans->message);
}

/* --- building the request ----------------------------------------------- */

static const struct pol_asset *
asset_of(struct wthread *t)
{
	const struct pol_policy *pol = t->v->policy;
	size_t i;

	if (pol_asset_by_name(pol, t->p.asset, &i) != 0)
		return NULL;
	return pol_asset(pol, i);
}

/*
 * The SIGN_REQ / QUEUE_REQ fields: the intent as the payout states it,
 * the transaction, and the stored approvals when the payout needed any.
 * Returns 0, or a store error (approvals), or ERR_MALFORMED for a row
 * whose sender, recipient or amount does not parse.
 */
static int
fill_request(struct wthread *t, const uint8_t *tx, size_t tx_len)
{
	struct prt_sign_req *q = &t->req;
	size_t i, n = 0;
	int r;

	memset(q, 0, sizeof(*q));
	snprintf(q->request_id, sizeof(q->request_id), "%s", t->p.request_id);
	snprintf(q->asset, sizeof(q->asset), "%s", t->p.asset);
	q->chain_id = t->p.chain_id;
	/* The sender whose nonce the transaction uses: signerd signs with
	 * that key or refuses (KEY_MISMATCH), never with another. */
	if (tx_len > sizeof(q->tx))
		return ERR_MALFORMED;
	memcpy(q->from, t->p.sender, EVM_ADDR_LEN);
	memcpy(q->to, t->p.recipient, EVM_ADDR_LEN);
	q->amount = t->p.amount;
	/* The first request's day, on every request (store_sign_day). */
	q->created_day = t->p.sign_day;
	memcpy(q->tx, tx, tx_len);
	q->tx_len = tx_len;
	if (t->p.approvals_required > 0) {
		if ((r = store_approvals(t->db, t->p.id, t->ap, ARRAY_LEN(t->ap),
		    &n)) != 0)
			return r;
		for (i = 0; i < n; i++)
			ac_approval_to_wire(&q->approvals[i], &t->ap[i]);
		q->napprovals = (uint16_t)n;
	}
	return 0;
}

/*
 * fill_request, dealing with its failure: 0, or -1 when dealt with.  The
 * payout's sign day first: stored by the first request built for it,
 * read back by every later one, so signerd sees one created_day per
 * payout whoever sends it and however late (issue 12).
 */
static int
prepare_request(struct wthread *t, const uint8_t *tx, size_t tx_len)
{
	int r;

	if (t->p.sign_day == 0 && (r = store_sign_day(t->db, &t->p)) != 0) {
		store_failed(t, "sign_day", r);
		return -1;
	}
	if ((r = fill_request(t, tx, tx_len)) == 0)
		return 0;
	if (r == ERR_MALFORMED)
		fail_payout(t, "INTERNAL", "the stored payout does not make a "
		    "request");
	else
		store_failed(t, "approvals", r);
	return -1;
}

/* The node failed us (down, slow, malformed): retry the payout later. */
static void
node_trouble(struct wthread *t)
{
	char why[WHY_MAX];

	metrics_rpc_error(t->w->app->metrics, rpc_last_method());
	snprintf(why, sizeof(why), "EVM node: %s", rpc_last_error());
	log_warn("payout %s: %s", t->p.request_id, why);
	retry_later(t, t->backoff_ms, why);
}

/* --- key rotation (D54) ------------------------------------------------- */

/*
 * Moves the claimed payout to the address of its asset's key in this
 * claim's version (store_move_sender): the old sender's nonce handed
 * back, the new sender's taken.  fill_after_ms > 0 (a gap fill that
 * failed): the hole handed back waits that long before a claim offers it
 * again.  Returns 0 to go on with t->p updated, or -1 when the payout was
 * dealt with (released, or the row moved on).
 */
static int
move_to_key(struct wthread *t, const struct pol_asset *a, int fill_after_ms)
{
	char was[EVM_ADDR_STR], to[EVM_ADDR_STR];
	uint8_t addr[EVM_ADDR_LEN];
	int64_t old_nonce = t->p.nonce;
	int gap, r;

	if (signer_sender(t->v, a, addr) != 0)
		return 0;
	evm_addr_to_str(to, addr);
	evm_addr_to_str(was, t->p.sender);
	if ((r = store_move_sender(t->db, &t->p, addr, fill_after_ms, &gap)) ==
	    ERR_NOT_FOUND) {
		retry_later(t, RETRY_NEW_KEY_MS, "the new key's address has no "
		    "nonce counter yet (seeding it)");
		return -1;
	}
	if (r != 0) {
		store_failed(t, "move_sender", r);
		return -1;
	}
	log_info("payout %s: asset %s is signed by key %s now: sender %s -> "
	    "%s, nonce %" PRId64 " -> %" PRId64, t->p.request_id, a->name,
	    a->key, was, to, old_nonce, t->p.nonce);
	/*
	 * A hole below later nonces of the old sender: the next payout
	 * claimed for that sender takes it, or, once no asset names its
	 * key, the next payout of any asset on the chain (claim_payout).
	 */
	if (gap && fill_after_ms > 0)
		log_warn("payout %s: nonce %" PRId64 " of %s handed back below "
		    "later nonces of that sender, after a gap fill failed: "
		    "offered to a new payout again in %d s; those later "
		    "transactions cannot be mined until %" PRId64 " is used",
		    t->p.request_id, old_nonce, was, fill_after_ms / 1000,
		    old_nonce);
	else if (gap)
		log_info("payout %s: nonce %" PRId64 " of %s handed back below "
		    "later nonces of that sender: a new payout takes it",
		    t->p.request_id, old_nonce, was);
	return 0;
}

/*
 * A gap fill (t->p.gap_fill: a hole of a retired sender below a nonce it
 * signed) that cannot go on with that sender: signerd refused it (the key
 * is not retired there, or the nonce is no hole in its journal), or the
 * node says the old address cannot pay it.  The payout moves to its
 * asset's key as any unsigned one does, and the hole waits
 * GAP_REFUSED_RETRY_MS before a claim offers it again.  Returns as
 * move_to_key.
 */
static int
gap_fill_failed(struct wthread *t, const struct pol_asset *a, const char *why)
{
	char sender[EVM_ADDR_STR];

	evm_addr_to_str(sender, t->p.sender);
	log_warn("payout %s: nonce %" PRId64 " of retired sender %s not "
	    "filled: %s; it moves to asset %s's key", t->p.request_id,
	    t->p.nonce, sender, why, a->name);
	return move_to_key(t, a, GAP_REFUSED_RETRY_MS);
}

/*
 * signerd refused with KEY_MISMATCH: the sender the request names is not
 * the asset's key in the version in force there.  When this claim's
 * version has another key for the asset, the payout was built for the
 * old key and not signed by it (signerd would have returned that
 * signature): it moves, and 1 says to go on at once.  When our version
 * agrees with the payout, our copy is behind signerd's (the poller loads
 * the new version within a second): retry soon, 0.  -1: another refusal.
 */
static int
key_refused(struct wthread *t, const struct pol_asset *a,
    const struct signer_answer *ans, const char *what)
{
	char why[WHY_MAX];

	if (ans->outcome != SIGNER_REFUSED || ans->reason != POL_KEY_MISMATCH)
		return -1;
	if (t->p.gap_fill && signer_move_of(t->v, a, t->p.sender, 0, 0) !=
	    SIGNER_KEEP) {
		snprintf(why, sizeof(why), "signerd %s: %s", what,
		    ans->message);
		return gap_fill_failed(t, a, why) == 0 ? 1 : 0;
	}
	if (signer_move_of(t->v, a, t->p.sender, 0, 0) == SIGNER_KEEP) {
		snprintf(why, sizeof(why), "signerd %s: %s (our copy of its "
		    "policy is behind: retrying)", what, ans->message);
		retry_later(t, RETRY_NEW_KEY_MS, why);
		return 0;
	}
	return move_to_key(t, a, 0) == 0 ? 1 : 0;
}

/* --- APPROVED, timelocked: queue in signerd ----------------------------- */

/*
 * signerd queued the payout, but the row moved on before we could say so
 * (our lease ran out while signerd answered).  Never dropped silently: the
 * row must show what signerd holds.  Still APPROVED: it becomes QUEUED
 * whoever holds the lease now.  Otherwise another worker recorded it, or
 * an approver's cancel reached signerd first (store_end ends a payout
 * whose QUEUE_REQ was sent only after signerd cancelled it, and signerd
 * then refuses to sign it).  A REJECTED or CANCELLED row that signerd
 * still holds queued cannot happen by that rule; if it ever does, say so
 * loudly: an approver must cancel it in signerd.
 */
static void
queued_late(struct wthread *t, int64_t earliest)
{
	struct payout *now = &t->p;
	char id[PRT_REQUEST_ID_MAX + 1];
	int r;

	if ((r = store_queued_late(t->db, &t->p, earliest)) == 0) {
		log_warn("payout %s: QUEUED in signerd after our lease ran out; "
		    "recorded QUEUED", t->p.request_id);
		ok(t);
		return;
	}
	if (r != STORE_CONFLICT) {
		/* Still APPROVED and queue_sent: the next claim asks again. */
		store_failed(t, "queued_late", r);
		return;
	}
	snprintf(id, sizeof(id), "%s", t->p.request_id);
	if ((r = store_get(t->db, id, now)) != 0) {
		log_error("payout %s: queued in signerd, and the row cannot be "
		    "read: %s %s", id, err_str(r), db_last_error());
		trouble(t);
		return;
	}
	if (now->status == PS_REJECTED || (now->status == PS_CANCELLED &&
	    now->queue_sent == 0))
		log_error("payout %s: %s here but QUEUED in signerd: an approver "
		    "must cancel it there (signerctl cancel)", id,
		    fsm_status_name(now->status));
	else
		log_info("payout %s: queued in signerd; the row is already %s",
		    id, fsm_status_name(now->status));
	ok(t);
}

static void
do_queue(struct wthread *t)
{
	const struct pol_asset *a;
	struct signer_answer ans;
	uint64_t earliest;
	uint8_t enc[PRT_TX_MAX];
	size_t len;
	int sent_before = t->p.queue_sent, r;

	if ((a = asset_of(t)) == NULL) {
		fail_payout(t, "UNKNOWN_ASSET", "the asset is not in signerd's "
		    "policy");
		return;
	}
	/* No nonce yet: after a key rotation it is queued as the new key's. */
	if (signer_move_of(t->v, a, t->p.sender, 0, 0) == SIGNER_MOVE &&
	    move_to_key(t, a, 0) != 0)
		return;
	/*
	 * D19: the queue binds the intent, not a transaction.  Any nonce;
	 * fees and gas at the caps, so the caps check passes.
	 */
	if (txb_build(&t->tx, a, &t->p, 0, a->gas_limit, &a->max_fee_per_gas,
	    &a->max_priority_fee_per_gas) != 0 ||
	    txb_encode(enc, sizeof(enc), &len, &t->tx) != 0) {
		fail_payout(t, "INTERNAL", "the stored payout does not make a "
		    "transaction");
		return;
	}
	if (prepare_request(t, enc, len) != 0)
		return;
	/*
	 * From here on signerd may hold the payout, so only a cancel that
	 * reaches signerd may end it (store_end).  Not marked: an approver
	 * ended it or another worker took it over; send nothing.
	 */
	if ((r = store_queue_sent(t->db, &t->p)) != 0) {
		store_failed(t, "queue_sent", r);
		return;
	}
	if (signer_queue(t->w->app->signer, &t->req, &earliest, &ans) !=
	    SIGNER_DONE) {
		/*
		 * Refused (signerd answered, reason > 0): nothing of ours is
		 * queued there, unless an earlier request (sent_before) may
		 * still reach it.  No answer: it may be queued; keep the mark.
		 */
		if (ans.reason > 0 && !sent_before &&
		    (r = store_queue_unsent(t->db, &t->p)) != 0 &&
		    r != STORE_CONFLICT)
			log_warn("payout %s: queue_unsent: %s %s",
			    t->p.request_id, err_str(r), db_last_error());
		if ((r = key_refused(t, a, &ans, "queue")) > 0)
			do_queue(t);	/* moved: queue it as the new key's */
		else if (r < 0)
			refused(t, &ans, "queue");
		return;
	}
	if ((r = store_queued(t->db, &t->p, (int64_t)earliest)) != 0) {
		if (r == STORE_CONFLICT)
			queued_late(t, (int64_t)earliest);
		else
			store_failed(t, "queued", r);
		return;
	}
	log_info("payout %s: QUEUED in signerd until %" PRIu64 " (timelock)",
	    t->p.request_id, earliest);
	ok(t);
}

/* --- SIGNING ------------------------------------------------------------ */

/*
 * Records the signed transaction (SIGNING -> SUBMITTED) before anything
 * is broadcast, then broadcasts it once; the tracker rebroadcasts.
 */
static void
submit(struct wthread *t, const uint8_t *raw, size_t len,
    const struct store_receipt *receipt)
{
	char hash_str[STORE_HASH_STR], mf[U256_DEC_MAX], pf[U256_DEC_MAX];
	uint8_t hash[32];
	int tries, r;

	if ((r = txb_unsigned_of(&t->tx, raw, len)) != 0) {
		log_error("payout %s: the signed transaction does not decode: "
		    "%s", t->p.request_id, err_str(r));
		retry_later(t, t->backoff_ms, "signed transaction unreadable");
		return;
	}
	evm_keccak256(hash, raw, len);
	/*
	 * The signature is in hand: PostgreSQL being briefly away should not
	 * cost a round trip to signerd (which would answer with the same
	 * signature anyway, D9).
	 */
	for (tries = 1;; tries++) {
		r = store_signed(t->db, &t->p, raw, len, hash,
		    &t->tx.max_fee_per_gas, &t->tx.max_priority_fee_per_gas,
		    receipt);
		if (r != ERR_IO || tries == STORE_SIGNED_TRIES)
			break;
		log_warn("payout %s: recording the signature: %s; retrying",
		    t->p.request_id, db_last_error());
		trouble(t);
	}
	if (r != 0) {
		store_failed(t, "signed", r);
		return;
	}
	hash_str[0] = '0';
	hash_str[1] = 'x';
	util_hex_encode(hash_str + 2, hash, 32);
	u256_to_dec(mf, sizeof(mf), &t->tx.max_fee_per_gas);
	u256_to_dec(pf, sizeof(pf), &t->tx.max_priority_fee_per_gas);
	log_info("payout %s: SUBMITTED nonce %" PRId64 " tx %s (max fee %s, "
	    "priority %s)", t->p.request_id, t->p.nonce, hash_str, mf, pf);
	ok(t);
	if ((r = rpc_send_raw(t->rpc, raw, len)) != 0) {
		metrics_rpc_error(t->w->app->metrics, rpc_last_method());
		log_warn("payout %s: broadcast failed, the tracker retries: %s",
		    t->p.request_id, rpc_last_error());
		return;
	}
	/*
	 * Not recorded: the tracker counts from submitted_at, a moment
	 * before this broadcast, when it decides to send the payout again.
	 */
	log_info("payout %s: broadcast tx %s", t->p.request_id, hash_str);
}

/*
 * Builds the unsigned transaction from the node's estimate and fees and
 * stores it before signerd sees it, so that every later attempt sends
 * exactly these bytes.  Returns 0, 1 when a gap fill moved to the
 * asset's key instead (build it again), or -1 when the payout was dealt
 * with (failed, released, dropped).
 */
static int
build_unsigned(struct wthread *t, const struct pol_asset *a)
{
	const struct orch_config *cfg = t->w->app->cfg;
	char why[WHY_MAX], mf[U256_DEC_MAX], pf[U256_DEC_MAX];
	uint64_t estimate, gas;
	u256 zero, base, sugg, max_fee, prio;
	int r;

	memset(&zero, 0, sizeof(zero));
	if (txb_build(&t->tx, a, &t->p, (uint64_t)t->p.nonce, 0, &zero,
	    &zero) != 0) {
		fail_payout(t, "INTERNAL", "the stored payout does not make a "
		    "transaction");
		return -1;
	}
	r = rpc_estimate_gas(t->rpc, t->p.sender, t->tx.to, &t->tx.value, t->tx.data,
	    t->tx.data_len, &estimate);
	if (r == ERR_UNSUPPORTED) {
		/* The node says it would fail (revert, no funds): say why. */
		metrics_rpc_error(t->w->app->metrics, rpc_last_method());
		/* From the retired address: its funds may have moved on. */
		if (t->p.gap_fill) {
			snprintf(why, sizeof(why), "the node says it would "
			    "fail from that address: %s", rpc_last_error());
			return gap_fill_failed(t, a, why) == 0 ? 1 : -1;
		}
		fail_payout(t, "GAS_ESTIMATE_FAILED", rpc_last_error());
		return -1;
	}
	if (r != 0) {
		node_trouble(t);
		return -1;
	}
	r = txb_gas_limit(&gas, estimate, cfg->gas_margin_percent, a->gas_limit);
	if (r == ERR_TOO_LARGE) {
		snprintf(why, sizeof(why), "the node estimates %" PRIu64
		    " gas, above the asset's gas limit cap %" PRIu64, estimate,
		    a->gas_limit);
		fail_payout(t, "FEE_CAP_GAS_LIMIT", why);
		return -1;
	}
	if (r != 0) {
		snprintf(why, sizeof(why), "EVM node: estimate of %" PRIu64
		    " gas is no transfer's", estimate);
		log_warn("payout %s: %s", t->p.request_id, why);
		retry_later(t, t->backoff_ms, why);
		return -1;
	}
	if (fees_get(t->w->fees, t->rpc, &base, &sugg) != 0) {
		node_trouble(t);
		return -1;
	}
	txb_fees(&max_fee, &prio, &base, &sugg, a);
	if (txb_build(&t->tx, a, &t->p, (uint64_t)t->p.nonce, gas, &max_fee,
	    &prio) != 0 || txb_encode(t->p.unsigned_tx,
	    sizeof(t->p.unsigned_tx), &t->p.unsigned_len, &t->tx) != 0) {
		fail_payout(t, "INTERNAL", "cannot encode the transaction");
		return -1;
	}
	if ((r = store_set_unsigned(t->db, &t->p, t->p.unsigned_tx,
	    t->p.unsigned_len, gas, &max_fee, &prio)) != 0) {
		store_failed(t, "set_unsigned", r);
		return -1;
	}
	u256_to_dec(mf, sizeof(mf), &max_fee);
	u256_to_dec(pf, sizeof(pf), &prio);
	log_info("payout %s: built nonce %" PRId64 " gas %" PRIu64 " max fee "
	    "%s priority %s", t->p.request_id, t->p.nonce, gas, mf, pf);
	return 0;
}

static void
do_sign(struct wthread *t)
{
	struct workers *w = t->w;
	const struct pol_asset *a;
	struct signer_answer ans;
	struct store_receipt receipt;
	char sender[EVM_ADDR_STR];
	double t0;
	int r;

	if (t->p.raw_len > 0) {
		/* Signed by an earlier attempt but not recorded: record it. */
		submit(t, t->p.raw_tx, t->p.raw_len, NULL);
		return;
	}
	if (t->p.chain_id != atomic_load(&w->chain)) {
		log_error("payout %s: chain %" PRIu64 " is not the EVM node's "
		    "(%llu): cannot send it", t->p.request_id, t->p.chain_id,
		    (unsigned long long)atomic_load(&w->chain));
		retry_later(t, RETRY_NO_NODE_MS, "no EVM node for its chain");
		return;
	}
	if ((a = asset_of(t)) == NULL) {
		fail_payout(t, "UNKNOWN_ASSET", "the asset is not in signerd's "
		    "policy");
		return;
	}
	/*
	 * Its asset's key changed since it got its sender: never sent for
	 * signing, it moves now; built, it is sent as it is (SIGNER_ASK):
	 * signerd returns the old key's signature if it gave one, else
	 * refuses KEY_MISMATCH and it moves then (key_refused).  Not a gap
	 * fill: its nonce is a hole below nonces the retired sender signed,
	 * which only that sender can fill (D53); it stays, and moves only if
	 * signerd refuses it.
	 */
	if (t->p.gap_fill) {
		evm_addr_to_str(sender, t->p.sender);
		log_info("payout %s: fills nonce %" PRId64 " of retired sender "
		    "%s, a hole below a nonce it signed (gap fill)",
		    t->p.request_id, t->p.nonce, sender);
	} else if (signer_move_of(t->v, a, t->p.sender, 0, t->p.unsigned_len >
	    0) == SIGNER_MOVE && move_to_key(t, a, 0) != 0)
		return;
	if (t->p.nonce < 0) {
		fail_payout(t, "INTERNAL", "claimed for signing without a nonce");
		return;
	}
	if (t->p.unsigned_len == 0) {
		if ((r = build_unsigned(t, a)) > 0)
			do_sign(t);	/* moved: built for the new key */
		if (r != 0)
			return;
	} else if (evm_tx_decode(&t->tx, t->p.unsigned_tx,
	    t->p.unsigned_len) != 0 || t->tx.is_signed ||
	    t->tx.nonce != (uint64_t)t->p.nonce ||
	    t->tx.chain_id != t->p.chain_id) {
		/* Never signed: signerd refuses what does not decode. */
		fail_payout(t, "INTERNAL", "the stored unsigned transaction "
		    "does not decode or is not this payout's");
		return;
	}
	/* Stopping: give it back now rather than start a signature. */
	if (stopping(w)) {
		retry_later(t, 0, "orchestratord stopping");
		return;
	}
	if (prepare_request(t, t->p.unsigned_tx, t->p.unsigned_len) != 0)
		return;
	/* Same request id and bytes on every attempt (D9): safe to repeat. */
	t0 = mono_s();
	(void)signer_sign(w->app->signer, &t->req, &t->rep, &ans);
	metrics_observe(w->app->metrics, MH_SIGN, mono_s() - t0);
	if (ans.outcome != SIGNER_DONE) {
		if (ans.reason < 0)
			log_warn("payout %s: signerd: %s", t->p.request_id,
			    ans.message);
		if ((r = key_refused(t, a, &ans, "sign")) > 0)
			do_sign(t);	/* moved: built again for the new key */
		else if (r < 0)
			refused(t, &ans, "sign");
		return;
	}
	if (txb_check_signed(t->rep.raw, t->rep.raw_len, t->rep.tx_hash,
	    t->p.unsigned_tx, t->p.unsigned_len) != 0) {
		log_error("payout %s: signerd's reply is not the transaction "
		    "asked for; not stored", t->p.request_id);
		retry_later(t, t->backoff_ms, "signerd reply mismatch");
		return;
	}
	store_receipt_of(&receipt, &t->rep);
	submit(t, t->rep.raw, t->rep.raw_len, &receipt);
}

/* --- the thread ----------------------------------------------------------- */

/* Every sender of version v on the node's chain gets its nonce counter. */
static int
seed_nonces(struct wthread *t, const struct signer_version *v)
{
	const struct pol_policy *pol = v->policy;
	const struct pol_asset *a;
	char sender[EVM_ADDR_STR];
	uint8_t addr[EVM_ADDR_LEN];
	uint64_t chain, nonce;
	size_t i;
	int r;

	if ((r = rpc_chain_id(t->rpc, &chain)) != 0) {
		log_warn("EVM node: %s", rpc_last_error());
		return r;
	}
	for (i = 0; i < pol_asset_count(pol); i++) {
		a = pol_asset(pol, i);
		if (a->chain_id != chain) {
			log_warn("asset %s is on chain %" PRIu64 ", the EVM node "
			    "serves %" PRIu64 ": its payouts cannot be sent",
			    a->name, a->chain_id, chain);
			continue;
		}
		if (signer_sender(v, a, addr) != 0) {
			log_warn("asset %s: signerd has no key %s", a->name,
			    a->key);
			continue;
		}
		if ((r = rpc_nonce(t->rpc, addr, "pending", &nonce)) != 0) {
			log_warn("EVM node: %s", rpc_last_error());
			return r;
		}
		evm_addr_to_str(sender, addr);
		if ((r = store_seed_nonce(t->db, addr, chain, nonce)) != 0) {
			log_warn("PostgreSQL: %s", db_last_error());
			return r;
		}
		log_info("nonces of %s on chain %" PRIu64 " start at least at "
		    "%" PRIu64 " (asset %s)", sender, chain, nonce, a->name);
	}
	atomic_store(&t->w->chain, chain);
	return 0;
}

/*
 * Once per replica and policy version, by whichever thread comes first.
 * The first version is seeded before any claim, retrying until PostgreSQL
 * and the node answer.  A later one (a rotated key's new address starts
 * at the chain's pending nonce, D54) is tried at most every
 * RESEED_RETRY_S meanwhile claims go on: claim_payout skips a sender with
 * no counter, and store_move_sender moves nothing to one.  Returns 0
 * only when stopping before the first version was seeded.
 */
static int
ensure_seeded(struct wthread *t, const struct signer_version *v)
{
	struct workers *w = t->w;
	int seeded;

	pthread_mutex_lock(&w->seed_mu);
	while (w->seeded == NULL && !stopping(w)) {
		if (seed_nonces(t, v) == 0)
			w->seeded = v;
		else
			trouble(t);
	}
	if (w->seeded != NULL && w->seeded != v && mono_s() >= w->reseed_at) {
		if (seed_nonces(t, v) == 0)
			w->seeded = v;
		else
			w->reseed_at = mono_s() + RESEED_RETRY_S;
	}
	seeded = w->seeded != NULL;
	pthread_mutex_unlock(&w->seed_mu);
	return seeded;
}

/*
 * The next claimed payout into t->p: the fields and the bytes the lengths
 * say, not the whole 16 KB of transaction buffers.
 */
static void
take_next(struct wthread *t)
{
	const struct payout *src = &t->claimed[t->next++];

	memcpy(&t->p, src, offsetof(struct payout, unsigned_tx));
	t->p.unsigned_len = src->unsigned_len;
	memcpy(t->p.unsigned_tx, src->unsigned_tx, src->unsigned_len);
	t->p.raw_len = src->raw_len;
	memcpy(t->p.raw_tx, src->raw_tx, src->raw_len);
}

/*
 * Claims the next batch.  Returns 1 when there is one to work on, 0 when
 * there is nothing to do now or PostgreSQL failed (napped either way), -1
 * when stopping.
 */
static int
claim_batch(struct wthread *t)
{
	struct workers *w = t->w;
	const struct orch_config *cfg = w->app->cfg;
	const struct signer_version *v;
	double t0;
	int r;

	/* Taken before the claim; the claim uses it throughout. */
	v = signer_current(w->app->signer);
	if (!ensure_seeded(t, v))
		return -1;
	t->v = v;
	t->next = t->nclaimed = 0;
	t0 = mono_s();
	r = store_claim_many(t->db, t->id, cfg->lease_ms, v->retired,
	    v->nretired, t->claimed, CLAIM_BATCH, &t->nclaimed);
	metrics_observe(w->app->metrics, MH_CLAIM, mono_s() - t0);
	t->claimed_at = mono_s();
	if (r == ERR_NOT_FOUND) {
		ok(t);
		nap(w, cfg->worker_poll_ms);
		return 0;
	}
	if (r != 0) {
		/* Rows claimed before the failure wait for their leases. */
		t->nclaimed = 0;
		log_warn("worker %s: claim: %s %s", t->id, err_str(r),
		    db_last_error());
		trouble(t);
		return 0;
	}
	return 1;
}

static void *
worker_main(void *arg)
{
	struct wthread *t = arg;
	struct workers *w = t->w;
	const struct orch_config *cfg = w->app->cfg;
	int r;

	if (!ensure_seeded(t, signer_current(w->app->signer)))
		return NULL;
	ok(t);
	log_info("worker %s: claiming", t->id);
	while (!stopping(w)) {
		if (t->next == t->nclaimed && (r = claim_batch(t)) <= 0) {
			if (r < 0)
				break;
			continue;
		}
		take_next(t);
		/*
		 * Started late in its lease (the batch's earlier payouts
		 * took long): given back rather than risk working past it.
		 */
		if (mono_s() - t->claimed_at > cfg->lease_ms / 2000.0) {
			retry_later(t, 0, "not started within half its lease");
			continue;
		}
		log_info("payout %s: claimed %s by %s (nonce %" PRId64 ")",
		    t->p.request_id, fsm_status_name(t->p.status), t->id,
		    t->p.nonce);
		if (t->p.status == PS_APPROVED)
			do_queue(t);
		else if (t->p.status == PS_SIGNING)
			do_sign(t);
		else
			retry_later(t, t->backoff_ms, "claimed in an unexpected "
			    "status");
	}
	/* Claimed and not started: back at once for another worker. */
	while (t->next < t->nclaimed) {
		take_next(t);
		retry_later(t, 0, "orchestratord stopping");
	}
	log_info("worker %s: stopped", t->id);
	return NULL;
}

/* --- start and stop ------------------------------------------------------ */

static void
workers_free(struct workers *w)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		db_close(w->t[i].db);
		rpc_close(w->t[i].rpc);
	}
	free(w->t);
	fees_free(w->fees);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	pthread_mutex_destroy(&w->seed_mu);
	free(w);
}

int
workers_start(struct workers **out, struct app *app)
{
	const struct orch_config *cfg = app->cfg;
	pthread_condattr_t ca;
	struct workers *w;
	struct wthread *t;
	size_t i;
	int r;

	*out = NULL;
	if (cfg->workers < 0 || app->signer == NULL)
		return ERR_INVALID_ARG;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return ERR_NOMEM;
	w->app = app;
	atomic_init(&w->stop, 0);
	atomic_init(&w->chain, 0);
	pthread_mutex_init(&w->mu, NULL);
	pthread_mutex_init(&w->seed_mu, NULL);
	/* Naps measure monotonic time: a clock step must not wake or stall them. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Fee data as fresh as the tracker's view of the chain. */
	if ((r = fees_new(&w->fees, cfg->evm_poll_ms)) != 0 ||
	    (cfg->workers > 0 &&
	    (w->t = calloc((size_t)cfg->workers, sizeof(*w->t))) == NULL)) {
		workers_free(w);
		return r != 0 ? r : ERR_NOMEM;
	}
	w->n = (size_t)cfg->workers;
	for (i = 0; i < w->n; i++) {
		t = &w->t[i];
		t->w = w;
		t->index = (int)i;
		t->backoff_ms = BACKOFF_MIN_MS;
		snprintf(t->id, sizeof(t->id), "%s/%d", cfg->worker_id, (int)i);
		/* PostgreSQL down now is fine: db_exec connects later. */
		if (((r = db_open(&t->db, cfg->conninfo, store_stmts,
		    store_nstmts)) != 0 && r != ERR_IO) ||
		    (r = rpc_open(&t->rpc, cfg->rpc_url, cfg->rpc_timeout_ms)) !=
		    0)
			goto fail;
	}
	for (i = 0; i < w->n; i++) {
		if (pthread_create(&w->t[i].th, NULL, worker_main, &w->t[i]) !=
		    0) {
			r = ERR_NOMEM;
			goto fail;
		}
		w->t[i].started = 1;
	}
	*out = w;
	return 0;
fail:
	workers_stop(w);
	return r;
}

void
workers_stop(struct workers *w)
{
	struct timespec deadline;
	int stragglers = 0;
	size_t i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	atomic_store(&w->stop, 1);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += w->app->cfg->shutdown_seconds;
	for (i = 0; i < w->n; i++) {
		if (!w->t[i].started)
			continue;
		if (pthread_timedjoin_np(w->t[i].th, NULL, &deadline) != 0) {
			log_error("worker %s did not stop within %d s; left "
			    "running (its lease runs out)", w->t[i].id,
			    w->app->cfg->shutdown_seconds);
			stragglers++;
		}
	}
	/* A straggler still uses its connection and the shared state. */
	if (stragglers == 0)
		workers_free(w);
}
