/*
 * tracker.c: follows SUBMITTED payouts on chain until they are final:
 * receipts of every signed version, canonical-block checks, reorgs,
 * rebroadcasts and fee bumps.  One thread per replica; rows are leased,
 * so replicas share the work without doing a row twice at once.
 *
 * A round tracks its rows by sender and nonce, so that what it sends
 * again reaches the node in nonce order: a node can only mine a sender's
 * next nonce, and one that has put later nonces aside (some never look
 * at them again by themselves) takes them back only behind their
 * predecessor.
 */
#include "orchestratord/tracker.h"

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "orchestratord/app.h"
#include "orchestratord/rpc.h"
#include "orchestratord/store.h"
#include "orchestratord/txbuild.h"

#define BATCH 64		/* a round's first lease; doubles as needed */
#define ROUND_MAX 1024		/* rows a round leases at most (19 KB each) */
#define HOLD_SLOTS 1024
#define SEEN_SLOTS 1024
/*
 * A sender's next nonce still unmined this many blocks after we saw or
 * sent it is stuck in the node: one block may have been sealed before it
 * arrived, the next should have taken it.
 */
#define STALL_BLOCKS 2
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 5000
#define NAP_SLICE_MS 100
#define NONCE_WARN_AFTER_MS 60000
#define NONCE_WARN_EVERY_MS 30000
/*
 * signerd refused a bump REQUEST_EXPIRED: the payout's day is outside its
 * window, and it never signs that request id again.  Not asked again for
 * this long (each refusal is journaled).
 */
#define BUMP_EXPIRED_HOLD_MS (24 * 3600 * 1000)
#define WHY_MAX 512

struct tracker {
	struct app *app;
	pthread_t th;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_int stop;
	char id[ORCH_WORKER_ID_MAX + 16];
	struct db *db;
	struct rpc_client *rpc;
	int backoff_ms;
	/* This round's leased rows, and the order they are tracked in. */
	struct store_submitted *rows;
	struct store_submitted **order;	/* by chain, sender, then nonce */
	unsigned char *done;	/* rows[i] terminal: its lease went with it */
	int64_t *ids, *epochs;	/* the leases to give back */
	size_t nrows, caprows;
	/* The sender whose rows are being tracked, as the node sees it. */
	int have_sender;		/* 0: none yet this round */
	uint8_t sender[EVM_ADDR_LEN];
	uint64_t sender_chain;
	uint64_t chain_nonce;	/* its "latest" nonce, read once a round */
	int64_t run_first;	/* its nonces sent again in order: first, */
	int64_t run_next;	/* and the next one to send; -1: no run */
	/* This round's policy version: one copy for the round (D54). */
	const struct signer_version *v;
	/* This round's view of the chain. */
	uint64_t latest;
	uint8_t latest_hash[32];
	int finalized_state;	/* 0 unknown, 1 known, -1 node cannot say */
	uint64_t finalized;
	int finalized_warned;	/* said once per process, not per round */
	/*
	 * This round's answers, asked for in batches before any row is
	 * tracked (prefetch): each row's receipts (qfirst[i], qn[i] of them,
	 * one per version) and the blocks they name.
	 */
	size_t *qfirst, *qn;
	unsigned char *qbad;	/* the node could not give its receipts */
	uint8_t (*qhash)[32];
	struct rpc_receipt *qrc;
	size_t nq, capqhash, capqrc;
	struct block_seen {
		uint64_t number;
		uint8_t hash[32];
		int found;
	} *blocks;
	size_t nblocks, capblocks;
	/* Payouts whose bump was refused or failed: not before until_ms. */
	struct {
		int64_t id;
		int64_t until_ms;
	} hold[HOLD_SLOTS];
	/* The latest block when we first saw, or last sent, a payout. */
	struct {
		int64_t id;
		uint64_t block;
	} seen[SEEN_SLOTS];
	/*
	 * The latest block (number and hash) when the node was last asked
	 * for a payout's receipts: until another block comes, the answer
	 * cannot change, so it is not asked again.
	 */
	struct {
		int64_t id;
		uint64_t number;
		uint8_t hash[32];
	} looked[SEEN_SLOTS];
	int64_t last_nonce_warn_ms;
	/* Large: kept here rather than on the stack. */
	struct prt_sign_req req;
	struct prt_sign_rep rep;
	struct evm_tx tx;
};

/* --- time and naps ------------------------------------------------------ */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wall clock: PostgreSQL's timestamps (submitted_at, ...) are unix ms. */
static int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
stopping(struct tracker *k)
{
	return atomic_load(&k->stop) || atomic_load(&k->app->stopping);
}

static void
nap(struct tracker *k, int ms)
{
	struct timespec until;
	int64_t end = mono_ms() + ms, left;

	pthread_mutex_lock(&k->mu);
	while (!stopping(k) && (left = end - mono_ms()) > 0) {
		if (left > NAP_SLICE_MS)
			left = NAP_SLICE_MS;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += (long)left * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&k->cv, &k->mu, &until);
	}
	pthread_mutex_unlock(&k->mu);
}

/* --- small helpers ------------------------------------------------------ */

static const struct pol_asset *
asset_of(struct tracker *k, const struct payout *p)
{
	const struct pol_policy *pol = k->v != NULL ? k->v->policy : NULL;
	size_t i;

	if (pol == NULL || pol_asset_by_name(pol, p->asset, &i) != 0)
		return NULL;
	return pol_asset(pol, i);
}

static void
hash_str(char out[STORE_HASH_STR], const uint8_t hash[32])
{
	util_hex_encode_0x(out, hash, 32);
}

/* The node failed: count it; ERR_IO (node down) ends the round. */
static int
node_failed(struct tracker *k, const struct payout *p, int r)
{
	metrics_rpc_error(k->app->metrics, rpc_last_method());
	log_warn("payout %s: EVM node: %s", p != NULL ? p->request_id : "-",
	    rpc_last_error());
	return r == ERR_IO ? ERR_IO : 0;
}

/* A store call failed: ERR_IO ends the round; a conflict drops the row. */
static int
store_failed(const struct payout *p, const char *what, int r)
{
	if (r == STORE_CONFLICT) {
		log_info("payout %s: %s: another tracker holds it now",
		    p->request_id, what);
		return 0;
	}
	log_warn("payout %s: %s: %s %s", p->request_id, what, err_str(r),
	    db_last_error());
	return r == ERR_IO ? ERR_IO : 0;
}

static int
held_back(struct tracker *k, int64_t id, int64_t now)
{
	size_t i = (size_t)id % HOLD_SLOTS;

	return k->hold[i].id == id && now < k->hold[i].until_ms;
}

static void
hold_back(struct tracker *k, int64_t id, int64_t until)
{
	size_t i = (size_t)id % HOLD_SLOTS;

	k->hold[i].id = id;
	k->hold[i].until_ms = until;
}

/*
 * 1 when the latest block is STALL_BLOCKS past the one we first saw the
 * payout unmined at, or last sent it at.  A payout this replica has not
 * seen yet (new, taken over, or its slot reused) starts counting now.
 */
static int
stalled(struct tracker *k, int64_t id)
{
	size_t i = (size_t)id % SEEN_SLOTS;

	if (k->seen[i].id != id) {
		k->seen[i].id = id;
		k->seen[i].block = k->latest;
		return 0;
	}
	return k->latest >= k->seen[i].block + STALL_BLOCKS;
}

static void
sent_now(struct tracker *k, int64_t id)
{
	size_t i = (size_t)id % SEEN_SLOTS;

	k->seen[i].id = id;
	k->seen[i].block = k->latest;
}

/* 1 when p's receipts were asked for at this round's latest block. */
static int
looked_at_latest(const struct tracker *k, int64_t id)
{
	size_t i = (size_t)id % SEEN_SLOTS;

	return k->looked[i].id == id && k->looked[i].number == k->latest &&
	    memcmp(k->looked[i].hash, k->latest_hash, 32) == 0;
}

static void
looked_now(struct tracker *k, int64_t id)
{
	size_t i = (size_t)id % SEEN_SLOTS;

	k->looked[i].id = id;
	k->looked[i].number = k->latest;
	memcpy(k->looked[i].hash, k->latest_hash, 32);
}

/* Is block number's hash (in this round's view) the receipt's? */
static int
canonical(struct tracker *k, uint64_t number, const uint8_t hash[32],
    int *canon)
{
	uint8_t h[32];
	uint64_t got;
	size_t i;
	int found, r;

	*canon = 0;
	for (i = 0; i < k->nblocks; i++) {
		if (k->blocks[i].number == number) {
			*canon = k->blocks[i].found &&
			    memcmp(k->blocks[i].hash, hash, 32) == 0;
			return 0;
		}
	}
	if ((r = rpc_block(k->rpc, NULL, number, &got, h, &found)) != 0)
		return r;
	if (k->nblocks < k->capblocks) {
		k->blocks[k->nblocks].number = number;
		memcpy(k->blocks[k->nblocks].hash, h, 32);
		k->blocks[k->nblocks].found = found;
		k->nblocks++;
	}
	*canon = found && memcmp(h, hash, 32) == 0;
	return 0;
}

/* 1 when the node's finalized block is at or past number. */
static int
finalized_at(struct tracker *k, uint64_t number)
{
	uint8_t h[32];
	int found, r;

	if (k->finalized_state == 0) {
		r = rpc_block(k->rpc, "finalized", 0, &k->finalized, h,
		    &found);
		if (r != 0 || !found) {
			if (r != 0)
				metrics_rpc_error(k->app->metrics,
				    rpc_last_method());
			if (!k->finalized_warned)
				log_warn("EVM node has no finalized block (%s): "
				    "\"finalized\" assets wait", r != 0 ?
				    rpc_last_error() : "none");
			k->finalized_warned = 1;
			k->finalized_state = -1;
		} else {
			k->finalized_state = 1;
		}
	}
	return k->finalized_state == 1 && k->finalized >= number;
}

/* --- one payout --------------------------------------------------------- */

static void
rebroadcast(struct tracker *k, struct payout *p, int loud)
{
	uint8_t hash[32];
	int known, r;

	/*
	 * A node that takes nonce 0 (empty in RLP) for "no nonce" would
	 * mine a second copy with the sender's next nonce, paying twice.
	 * It never sets such a transaction aside, so one the node has
	 * needs no second copy anyway.
	 */
	if (p->nonce == 0 && (rpc_parse_data_fixed(hash, 32, p->tx_hash) != 0 ||
	    rpc_tx_known(k->rpc, hash, &known) != 0 || known)) {
		log_debug("payout %s: nonce 0 not sent again: the node has it, "
		    "or cannot say", p->request_id);
		sent_now(k, p->id);
		return;
	}
	sent_now(k, p->id);
	if ((r = rpc_send_raw(k->rpc, p->raw_tx, p->raw_len)) != 0) {
		metrics_rpc_error(k->app->metrics, rpc_last_method());
		log_warn("payout %s: broadcast of %s: %s", p->request_id,
		    p->tx_hash, rpc_last_error());
		return;
	}
	if ((r = store_broadcast(k->db, p)) != 0)
		(void)store_failed(p, "broadcast", r);
	if (loud)
		log_info("payout %s: broadcast %s", p->request_id, p->tx_hash);
	else
		log_debug("payout %s: broadcast %s again", p->request_id,
		    p->tx_hash);
}

/*
 * Fee bump (D22): the newest signed version with both fees raised, signed
 * under the same request id.  Returns 1 when a bump was stored (and
 * broadcast), 0 when none was made, ERR_IO to end the round.
 */
static int
bump(struct tracker *k, struct payout *p, const struct pol_asset *a,
    int64_t now)
{
	const struct orch_config *cfg = k->app->cfg;
	int64_t retry = now + (int64_t)(cfg->bump_after_seconds > 5 ?
	    cfg->bump_after_seconds : 5) * 1000;
	struct signer_answer ans;
	struct prt_sign_req *q = &k->req;
	struct store_receipt receipt;
	char mf[U256_DEC_MAX], pf[U256_DEC_MAX];
	uint8_t enc[PRT_TX_MAX];
	u256 max_fee, prio;
	int64_t t0;
	size_t len;
	int r;

	if (txb_unsigned_of(&k->tx, p->raw_tx, p->raw_len) != 0) {
		log_error("payout %s: its signed transaction does not decode; "
		    "no fee bump", p->request_id);
		hold_back(k, p->id, retry);
		return 0;
	}
	if (txb_bump(&max_fee, &prio, &k->tx.max_fee_per_gas,
	    &k->tx.max_priority_fee_per_gas, cfg->bump_percent, a) != 0) {
		log_info("payout %s: no fee bump: the asset's fee caps leave no "
		    "room", p->request_id);
		hold_back(k, p->id, retry);
		return 0;
	}
	k->tx.max_fee_per_gas = max_fee;
	k->tx.max_priority_fee_per_gas = prio;
	/* The day of its first request; a row signed before protocol 4
	 * gets it now, at its first bump, and keeps it. */
	if (p->sign_day == 0 && (r = store_sign_day(k->db, p)) != 0)
		return store_failed(p, "sign_day", r);
	memset(q, 0, sizeof(*q));
	snprintf(q->request_id, sizeof(q->request_id), "%s", p->request_id);
	snprintf(q->asset, sizeof(q->asset), "%s", p->asset);
	q->chain_id = p->chain_id;
	q->created_day = p->sign_day;
	/* from: the sender that signed the payout first, as for every bump. */
	if (txb_encode(enc, sizeof(enc), &len, &k->tx) != 0) {
		log_error("payout %s: cannot build its fee bump", p->request_id);
		hold_back(k, p->id, retry);
		return 0;
	}
	memcpy(q->from, p->sender, EVM_ADDR_LEN);
	memcpy(q->to, p->recipient, EVM_ADDR_LEN);
	q->amount = p->amount;
	memcpy(q->tx, enc, len);
	q->tx_len = len;
	/* Same intent as signed: no approvals needed again (D22). */
	t0 = mono_ms();
	(void)signer_sign(k->app->signer, q, &k->rep, &ans);
	metrics_observe(k->app->metrics, MH_SIGN, (mono_ms() - t0) / 1e3);
	if (ans.outcome == SIGNER_RETRY) {
		/* The same bump again, when signerd said (signer.c). */
		log_warn("payout %s: fee bump not signed yet: %s",
		    p->request_id, ans.message);
		hold_back(k, p->id, now + (ans.retry_after_ms != 0 ?
		    (int64_t)ans.retry_after_ms : BACKOFF_MAX_MS));
		return 0;
	}
	if (ans.outcome == SIGNER_REFUSED) {
		metrics_refusal(k->app->metrics, pol_reason_name(ans.reason));
		log_warn("payout %s: fee bump refused: %s", p->request_id,
		    ans.message);
		/*
		 * REQUEST_EXPIRED: no more bumps, but the payout is not
		 * failed: a version signed earlier may still be mined (D30),
		 * and it is tracked and sent again as before.  Another
		 * refusal: the next bump, with other fees, may pass.
		 */
		hold_back(k, p->id, ans.reason == POL_REQUEST_EXPIRED ?
		    now + BUMP_EXPIRED_HOLD_MS : retry);
		return 0;
	}
	if (txb_check_signed(k->rep.raw, k->rep.raw_len, k->rep.tx_hash, enc,
	    len) != 0) {
		log_error("payout %s: signerd's fee bump is not the transaction "
		    "asked for; not stored", p->request_id);
		hold_back(k, p->id, retry);
		return 0;
	}
	store_receipt_of(&receipt, &k->rep);
	if ((r = store_bumped(k->db, p, k->rep.raw, k->rep.raw_len,
	    k->rep.tx_hash, &max_fee, &prio, &receipt)) != 0)
		return store_failed(p, "bumped", r);
	memcpy(p->raw_tx, k->rep.raw, k->rep.raw_len);
	p->raw_len = k->rep.raw_len;
	hash_str(p->tx_hash, k->rep.tx_hash);
	p->bumps++;
	u256_to_dec(mf, sizeof(mf), &max_fee);
	u256_to_dec(pf, sizeof(pf), &prio);
	log_info("payout %s: fee bump %d: tx %s (max fee %s, priority %s)",
	    p->request_id, p->bumps, p->tx_hash, mf, pf);
	rebroadcast(k, p, 1);
	return 1;
}

/* Says how far the sender's run of nonces sent again went, and ends it. */
static void
end_run(struct tracker *k)
{
	char s[EVM_ADDR_STR];

	if (k->run_first >= 0 && k->run_next - 1 > k->run_first) {
		evm_addr_to_str(s, k->sender);
		log_info("%s: nonces %" PRId64 "..%" PRId64 " sent again in "
		    "nonce order", s, k->run_first, k->run_next - 1);
	}
	k->run_first = -1;
	k->run_next = -1;
}

/*
 * The sender's "latest" nonce, read at its first row without a receipt
 * this round.  Its rows come in nonce order, so every lower nonce's
 * receipts were asked for before, and every higher one's after it.
 */
static int
sender_nonce(struct tracker *k, const struct payout *p, uint64_t *out)
{
	int r;

	if (!k->have_sender || k->sender_chain != p->chain_id ||
	    memcmp(k->sender, p->sender, EVM_ADDR_LEN) != 0) {
		end_run(k);
		k->have_sender = 0;
		if ((r = rpc_nonce(k->rpc, p->sender, "latest",
		    &k->chain_nonce)) != 0)
			return r;
		memcpy(k->sender, p->sender, EVM_ADDR_LEN);
		k->have_sender = 1;
		k->sender_chain = p->chain_id;
	}
	*out = k->chain_nonce;
	return 0;
}

/* No receipt for any version (or only in a block that left the chain). */
static int
missing(struct tracker *k, struct payout *p, const struct pol_asset *a)
{
	const struct orch_config *cfg = k->app->cfg;
	char sender[EVM_ADDR_STR];
	int64_t now = wall_ms(), ref, due;
	uint64_t chain_nonce;
	int force = 0, old, r;

	if (p->block_number >= 0) {
		if ((r = store_reorged(k->db, p)) != 0)
			return store_failed(p, "reorged", r);
		log_warn("payout %s: reorg: its receipt in block %" PRId64
		    " is gone; broadcasting it again", p->request_id,
		    p->block_number);
		p->block_number = -1;
		force = 1;
	}
	if (p->nonce < 0) {
		log_error("payout %s: no nonce to track", p->request_id);
		return 0;
	}
	if ((r = sender_nonce(k, p, &chain_nonce)) != 0)
		return node_failed(k, p, r);
	/*
	 * A mined nonce means one of our versions is in a block we have not
	 * seen a receipt for yet, or someone else used the nonce: either
	 * way, sending again can only hurt (a node may even re-mine a
	 * nonce-0 transaction).
	 */
	if (chain_nonce > (uint64_t)p->nonce) {
		if (now - p->submitted_at > NONCE_WARN_AFTER_MS &&
		    now - k->last_nonce_warn_ms > NONCE_WARN_EVERY_MS) {
			k->last_nonce_warn_ms = now;
			/* Text only to log: EIP-55 costs a keccak. */
			evm_addr_to_str(sender, p->sender);
			log_warn("payout %s: nonce %" PRId64 " of %s is used on "
			    "chain but no version of it has a receipt",
			    p->request_id, p->nonce, sender);
		}
		return 0;
	}
	/*
	 * Only the sender's next nonce can be stuck on its fee: one waiting
	 * behind a gap (an earlier payout not sent yet) gains nothing from
	 * a bump but another signature.
	 */
	if (cfg->bump_after_seconds > 0 && p->bumps < cfg->max_bumps &&
	    p->submitted_at > 0 && chain_nonce == (uint64_t)p->nonce &&
	    !held_back(k, p->id, now)) {
		due = p->submitted_at +
		    (int64_t)cfg->bump_after_seconds * 1000 * (p->bumps + 1);
		if (now >= due && (r = bump(k, p, a, now)) != 0) {
			if (r != 1)
				return r;
			/* The new version may be all the node holds now. */
			k->run_first = p->nonce;
			k->run_next = p->nonce + 1;
			return 0;
		}
	}
	/* Leave a worker's first broadcast (up to one RPC timeout) alone. */
	ref = p->last_broadcast_at > p->submitted_at ? p->last_broadcast_at :
	    p->submitted_at;
	old = now - ref >= 2 * (int64_t)cfg->evm_poll_ms + cfg->rpc_timeout_ms;
	/*
	 * The sender's next nonce, not mined although blocks go by: the node
	 * does not have it, or not as something to mine, and maybe not the
	 * nonces after it either.  Send it and then each following nonce we
	 * hold, in order, however recently they were sent: a node that set
	 * them aside takes them back only behind their predecessor.
	 */
	if (chain_nonce == (uint64_t)p->nonce &&
	    (force || old || stalled(k, p->id))) {
		if (!force && !old) {
			evm_addr_to_str(sender, p->sender);
			log_info("payout %s: nonce %" PRId64 " of %s not mined "
			    "%d blocks after it was sent; sending it and its "
			    "successors again", p->request_id, p->nonce,
			    sender, STALL_BLOCKS);
		}
		k->run_first = p->nonce;
		k->run_next = p->nonce + 1;
		rebroadcast(k, p, force || p->last_broadcast_at == 0);
		return 0;
	}
	if (k->run_next >= 0 && p->nonce == k->run_next) {
		k->run_next++;
		rebroadcast(k, p, force || p->last_broadcast_at == 0);
		return 0;
	}
	if (force || old)
		rebroadcast(k, p, force || p->last_broadcast_at == 0);
	return 0;
}

/* A receipt in a canonical block: confirmations, and the end when final. */
static int
mined(struct tracker *k, struct payout *p, const struct pol_asset *a,
    const char *tx_hash, const uint8_t hash[32], const struct rpc_receipt *rc,
    int *terminal)
{
	char bh[STORE_HASH_STR], reason[STORE_REASON_MAX];
	uint64_t latest = k->latest, n;
	int conf, moved, fresh, final, r;

	hash_str(bh, rc->block_hash);
	if (rc->block_number > latest)
		latest = rc->block_number;	/* mined since the round began */
	n = latest - rc->block_number + 1;
	conf = n > INT_MAX ? INT_MAX : (int)n;
	moved = p->block_number >= 0 &&
	    ((uint64_t)p->block_number != rc->block_number ||
	    strcasecmp(p->block_hash, bh) != 0);
	if (moved) {
		if ((r = store_reorged(k->db, p)) != 0)
			return store_failed(p, "reorged", r);
		log_warn("payout %s: reorg: block %" PRId64 " left the chain; "
		    "now in block %" PRIu64, p->request_id, p->block_number,
		    rc->block_number);
	}
	fresh = moved || p->block_number < 0;
	final = a->finalized ? finalized_at(k, rc->block_number) :
	    conf >= (int)a->confirmations;
	if (final && rc->success) {
		/* The block and the end in one statement. */
		if ((r = store_confirmed(k->db, p, tx_hash,
		    (int64_t)rc->block_number, bh, conf)) != 0)
			return store_failed(p, "confirmed", r);
		log_info("payout %s: CONFIRMED in block %" PRIu64 " (tx %s, "
		    "%d confirmations)", p->request_id, rc->block_number,
		    tx_hash, conf);
		*terminal = 1;
		return 0;
	}
	if (fresh || p->confirmations != conf ||
	    strcasecmp(p->tx_hash, tx_hash) != 0) {
		if ((r = store_mined(k->db, p, tx_hash, (int64_t)rc->block_number,
		    bh, conf)) != 0)
			return store_failed(p, "mined", r);
		if (fresh)
			log_info("payout %s: mined in block %" PRIu64 " (tx %s, "
			    "%s)", p->request_id, rc->block_number, tx_hash,
			    rc->success ? "success" : "reverted");
	}
	if (!final)
		return 0;
	rpc_revert_reason(k->rpc, hash, reason, sizeof(reason));
	if (reason[0] == '\0')
		snprintf(reason, sizeof(reason), "execution reverted");
	if ((r = store_fail(k->db, p, "REVERTED", reason)) != 0)
		return store_failed(p, "fail", r);
	log_info("payout %s: FAILED REVERTED in block %" PRIu64 ": %s",
	    p->request_id, rc->block_number, reason);
	*terminal = 1;
	return 0;
}

/*
 * Returns 0 (row handled or skipped) or ERR_IO (end the round).  Its
 * receipts are asked for once per block: at the block they were last
 * asked at, a payout not mined is only sent again when due (missing),
 * and a mined one waits for the next block.
 */
static int
track(struct tracker *k, struct store_submitted *row, int *terminal)
{
	struct payout *p = &row->p;
	size_t ix = (size_t)(row - k->rows), i;
	char hs[STORE_HASH_STR];
	const struct pol_asset *a;
	struct rpc_receipt rc;
	uint8_t h[32];
	int canon, r;

	*terminal = 0;
	if ((a = asset_of(k, p)) == NULL) {
		log_error("payout %s: asset %s is not in signerd's policy",
		    p->request_id, p->asset);
		return 0;
	}
	if (looked_at_latest(k, p->id))
		return p->block_number >= 0 ? 0 : missing(k, p, a);
	if (k->qbad[ix])
		return 0;
	looked_now(k, p->id);
	/* Only one version can be mined: they share the nonce. */
	for (i = 0; i < k->qn[ix]; i++) {
		rc = k->qrc[k->qfirst[ix] + i];
		memcpy(h, k->qhash[k->qfirst[ix] + i], 32);
		if (!rc.found)
			continue;
		if ((r = canonical(k, rc.block_number, rc.block_hash, &canon)) !=
		    0)
			return node_failed(k, p, r);
		hash_str(hs, h);
		if (canon)
			return mined(k, p, a, hs, h, &rc, terminal);
		log_warn("payout %s: receipt of %s names block %" PRIu64
		    " which is not on the node's chain", p->request_id, hs,
		    rc.block_number);
	}
	return missing(k, p, a);
}

/* --- rounds ------------------------------------------------------------- */

/* Room for n of each: grows a round's buffers, kept between rounds. */
static int
reserve(void **buf, size_t *cap, size_t n, size_t size)
{
	void *b;

	if (n <= *cap)
		return 0;
	if ((b = realloc(*buf, n * size)) == NULL)
		return ERR_NOMEM;
	*buf = b;
	*cap = n;
	return 0;
}

/* The block's hash in this round's view, fetched or not: 1 if known. */
static int
block_known(const struct tracker *k, uint64_t number)
{
	size_t i;

	for (i = 0; i < k->nblocks; i++)
		if (k->blocks[i].number == number)
			return 1;
	return 0;
}

/*
 * The batch failed on something other than the connection (one bad
 * receipt, or a node that takes no batches): each receipt alone, so that
 * one payout's trouble stays its own.  A row whose receipt the node
 * cannot give is skipped this round (qbad), as a failed call skipped it
 * before batches.  Returns 0, or ERR_IO to end the round.
 */
static int
receipts_one_by_one(struct tracker *k)
{
	size_t i, q;
	int r;

	log_info("tracker: asking for receipts one by one: %s",
	    rpc_last_error());
	for (i = 0; i < k->nrows; i++) {
		for (q = k->qfirst[i]; q < k->qfirst[i] + k->qn[i]; q++) {
			r = rpc_receipt(k->rpc, k->qhash[q], &k->qrc[q]);
			if (r == 0)
				continue;
			if (node_failed(k, &k->rows[i].p, r) != 0)
				return ERR_IO;
			k->qbad[i] = 1;
			break;
		}
	}
	return 0;
}

/*
 * Asks the node for what this round's rows need, in JSON-RPC batches
 * rather than a call per payout: the receipts of every version of each
 * row not looked at since the latest block, then the hashes of the blocks
 * those receipts name (the latest is known already).  track() then
 * decides with these answers.  Returns 0, or the node's error.
 */
static int
prefetch(struct tracker *k)
{
	struct store_submitted *row;
	uint64_t *numbers = NULL;
	uint8_t (*hashes)[32] = NULL;
	int *found = NULL;
	size_t i, v, nv, nb = 0;
	int r;

	k->nq = 0;
	k->nblocks = 0;
	if ((r = reserve((void **)&k->blocks, &k->capblocks, 1,
	    sizeof(*k->blocks))) != 0)
		return r;
	k->blocks[0].number = k->latest;
	memcpy(k->blocks[0].hash, k->latest_hash, 32);
	k->blocks[0].found = 1;
	k->nblocks = 1;
	for (i = 0; i < k->nrows; i++) {
		row = &k->rows[i];
		k->qfirst[i] = k->nq;
		k->qn[i] = 0;
		k->qbad[i] = 0;
		if (looked_at_latest(k, row->p.id))
			continue;
		if (row->nversions == 0 && row->p.tx_hash[0] != '\0') {
			snprintf(row->versions[0], STORE_HASH_STR, "%s",
			    row->p.tx_hash);
			row->nversions = 1;
		}
		nv = row->nversions;
		if ((r = reserve((void **)&k->qhash, &k->capqhash, k->nq + nv,
		    sizeof(*k->qhash))) != 0 ||
		    (r = reserve((void **)&k->qrc, &k->capqrc, k->nq + nv,
		    sizeof(*k->qrc))) != 0)
			return r;
		for (v = 0; v < nv; v++)
			if (rpc_parse_data_fixed(k->qhash[k->nq], 32,
			    row->versions[v]) == 0) {
				k->nq++;
				k->qn[i]++;
			}
	}
	if (k->nq == 0)
		return 0;
	if ((r = rpc_receipts(k->rpc, (const uint8_t (*)[32])k->qhash, k->nq,
	    k->qrc)) != 0 && (r = receipts_one_by_one(k)) != 0)
		return r;
	if ((numbers = malloc(k->nq * sizeof(*numbers))) == NULL)
		return ERR_NOMEM;
	for (i = 0; i < k->nq; i++) {
		if (!k->qrc[i].found || block_known(k, k->qrc[i].block_number))
			continue;
		for (v = 0; v < nb && numbers[v] != k->qrc[i].block_number; v++)
			;
		if (v == nb)
			numbers[nb++] = k->qrc[i].block_number;
	}
	r = 0;
	if (nb > 0 && ((hashes = malloc(nb * 32)) == NULL ||
	    (found = malloc(nb * sizeof(*found))) == NULL ||
	    (r = reserve((void **)&k->blocks, &k->capblocks, nb + 1,
	    sizeof(*k->blocks))) != 0))
		r = r != 0 ? r : ERR_NOMEM;
	if (r == 0 && nb > 0 &&
	    (r = rpc_block_hashes(k->rpc, numbers, nb, hashes, found)) == 0) {
		for (v = 0; v < nb; v++) {
			k->blocks[k->nblocks].number = numbers[v];
			memcpy(k->blocks[k->nblocks].hash, hashes[v], 32);
			k->blocks[k->nblocks++].found = found[v];
		}
	}
	free(numbers);
	free(hashes);
	free(found);
	return r;
}

/* Room for more rows this round: doubles up to ROUND_MAX (0 when full). */
static int
grow(struct tracker *k)
{
	struct store_submitted *rows, **order;
	unsigned char *done;
	int64_t *ids, *epochs;
	size_t cap, *q;

	if (k->caprows >= ROUND_MAX)
		return 0;
	cap = k->caprows ? 2 * k->caprows : BATCH;
	if (cap > ROUND_MAX)
		cap = ROUND_MAX;
	if ((rows = realloc(k->rows, cap * sizeof(*rows))) == NULL)
		return ERR_NOMEM;
	k->rows = rows;
	if ((order = realloc(k->order, cap * sizeof(*order))) == NULL)
		return ERR_NOMEM;
	k->order = order;
	if ((done = realloc(k->done, cap)) == NULL)
		return ERR_NOMEM;
	k->done = done;
	if ((ids = realloc(k->ids, cap * sizeof(*ids))) == NULL)
		return ERR_NOMEM;
	k->ids = ids;
	if ((epochs = realloc(k->epochs, cap * sizeof(*epochs))) == NULL)
		return ERR_NOMEM;
	k->epochs = epochs;
	if ((q = realloc(k->qfirst, cap * sizeof(*q))) == NULL)
		return ERR_NOMEM;
	k->qfirst = q;
	if ((q = realloc(k->qn, cap * sizeof(*q))) == NULL)
		return ERR_NOMEM;
	k->qn = q;
	if ((done = realloc(k->qbad, cap)) == NULL)
		return ERR_NOMEM;
	k->qbad = done;
	k->caprows = cap;
	return 0;
}

static int
by_sender_nonce(const void *x, const void *y)
{
	const struct payout *a = &(*(const struct store_submitted *const *)x)->p;
	const struct payout *b = &(*(const struct store_submitted *const *)y)->p;
	int c;

	if (a->chain_id != b->chain_id)
		return a->chain_id < b->chain_id ? -1 : 1;
	if ((c = memcmp(a->sender, b->sender, EVM_ADDR_LEN)) != 0)
		return c;
	if (a->nonce != b->nonce)
		return a->nonce < b->nonce ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/*
 * Leases every row nobody holds (up to ROUND_MAX) before tracking any,
 * so that a sender's nonces are all in one replica's hands, in order;
 * tracks them by sender and nonce until done or the round used half a
 * lease; gives every lease back at the end, so the next round (one poll
 * later) sees every row again.
 */
static int
one_round(struct tracker *k)
{
	const struct orch_config *cfg = k->app->cfg;
	int64_t start = mono_ms();
	struct store_submitted *row;
	size_t n, i, want;
	int found, terminal, r = 0;

	k->v = signer_current(k->app->signer);
	k->nrows = 0;
	k->nblocks = 0;
	k->finalized_state = 0;
	k->have_sender = 0;
	k->run_first = k->run_next = -1;
	for (;;) {
		if (stopping(k) || mono_ms() - start > cfg->lease_ms / 2)
			break;
		if (k->nrows == k->caprows && (r = grow(k)) != 0)
			break;
		if ((want = k->caprows - k->nrows) == 0)
			break;
		r = store_claim_submitted(k->db, k->id, cfg->lease_ms,
		    k->rows + k->nrows, want, &n);
		k->nrows += n;		/* leased even when r != 0 */
		if (r != 0) {
			log_warn("tracker: claim: %s %s", err_str(r),
			    db_last_error());
			break;
		}
		if (n < want)
			break;
	}
	memset(k->done, 0, k->nrows);
	if (r == 0 && k->nrows > 0 &&
	    ((r = rpc_block(k->rpc, "latest", 0, &k->latest, k->latest_hash,
	    &found)) != 0 || !found)) {
		(void)node_failed(k, NULL, ERR_IO);
		r = ERR_IO;
	}
	for (i = 0; r == 0 && i < k->nrows; i++)
		k->order[i] = &k->rows[i];
	if (r == 0)
		qsort(k->order, k->nrows, sizeof(*k->order), by_sender_nonce);
	if (r == 0 && k->nrows > 0 && (r = prefetch(k)) != 0) {
		if (r != ERR_NOMEM)
			(void)node_failed(k, NULL, r);
		r = ERR_IO;
	}
	for (i = 0; r == 0 && i < k->nrows; i++) {
		if (stopping(k) || mono_ms() - start > cfg->lease_ms / 2)
			break;
		row = k->order[i];
		if ((r = track(k, row, &terminal)) != 0)
			break;
		k->done[row - k->rows] = (unsigned char)terminal;
	}
	end_run(k);
	for (i = n = 0; i < k->nrows; i++) {
		if (k->done[i])
			continue;
		k->ids[n] = k->rows[i].p.id;
		k->epochs[n++] = k->rows[i].p.lease_epoch;
	}
	/* Failing is fine: the leases run out by themselves. */
	if (n > 0 && store_unlease(k->db, k->ids, k->epochs, n) != 0)
		log_warn("tracker: giving leases back: %s", db_last_error());
	return r;
}

static void *
tracker_main(void *arg)
{
	struct tracker *k = arg;
	const struct orch_config *cfg = k->app->cfg;

	log_info("tracker %s: following submitted payouts", k->id);
	while (!stopping(k)) {
		if (one_round(k) != 0) {
			nap(k, k->backoff_ms);
			k->backoff_ms = k->backoff_ms * 2 > BACKOFF_MAX_MS ?
			    BACKOFF_MAX_MS : k->backoff_ms * 2;
			continue;
		}
		k->backoff_ms = BACKOFF_MIN_MS;
		nap(k, cfg->evm_poll_ms);
	}
	log_info("tracker %s: stopped", k->id);
	return NULL;
}

/* --- start and stop ------------------------------------------------------ */

static void
tracker_free(struct tracker *k)
{
	db_close(k->db);
	rpc_close(k->rpc);
	free(k->rows);
	free(k->order);
	free(k->done);
	free(k->ids);
	free(k->epochs);
	free(k->qfirst);
	free(k->qn);
	free(k->qbad);
	free(k->qhash);
	free(k->qrc);
	free(k->blocks);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	free(k);
}

int
tracker_start(struct tracker **out, struct app *app)
{
	const struct orch_config *cfg = app->cfg;
	pthread_condattr_t ca;
	struct tracker *k;
	int r;

	*out = NULL;
	if (app->signer == NULL)
		return ERR_INVALID_ARG;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return ERR_NOMEM;
	k->app = app;
	k->backoff_ms = BACKOFF_MIN_MS;
	atomic_init(&k->stop, 0);
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cv, &ca);
	pthread_condattr_destroy(&ca);
	snprintf(k->id, sizeof(k->id), "%s/tracker", cfg->worker_id);
	k->run_first = k->run_next = -1;
	if ((r = grow(k)) != 0)
		goto fail;
	if (((r = db_open(&k->db, cfg->conninfo, store_stmts,
	    store_nstmts)) != 0 && r != ERR_IO) ||
	    (r = rpc_open(&k->rpc, cfg->rpc_url, cfg->rpc_timeout_ms)) != 0)
		goto fail;
	if (pthread_create(&k->th, NULL, tracker_main, k) != 0) {
		r = ERR_NOMEM;
		goto fail;
	}
	k->started = 1;
	*out = k;
	return 0;
fail:
	tracker_free(k);
	return r;
}

void
tracker_stop(struct tracker *k)
{
	struct timespec deadline;

	if (k == NULL)
		return;
	pthread_mutex_lock(&k->mu);
	atomic_store(&k->stop, 1);
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += k->app->cfg->shutdown_seconds;
	if (k->started && pthread_timedjoin_np(k->th, NULL, &deadline) != 0) {
		log_error("tracker %s did not stop within %d s; left running",
		    k->id, k->app->cfg->shutdown_seconds);
		return;
	}
	tracker_free(k);
}
