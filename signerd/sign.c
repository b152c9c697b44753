/*
 * sign.c: the sign path.  Decode the transaction, derive what it does,
 * check it against the pause, the policy, approvals, the timelock queue,
 * nonces and today's exposure, reserve, sign in the HSM, make the record
 * durable, and only then reply (invariants 1-5).  A fee bump of a signed
 * payout is the one re-sign allowed.
 */
#include "signerd/signerd.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "evm/ecsig.h"
#include "evm/keccak.h"
#include "evm/tx.h"
#include "proto/msg.h"
#include "signerd/payout.h"

/* What the request id tells us before any rule is applied. */
enum kind {
	K_NEW,		/* never seen: the full path */
	K_SAME,		/* signed with this very content: hand it back */
	K_BUSY,		/* being signed or bumped right now */
	K_OTHER,	/* signed with other content: a fee bump, or a conflict */
	K_PAUSED,	/* every signature is refused */
};

struct sign_job {
	struct sd_payout p;
	int64_t now;		/* sd_now() when the request was decided */
	int64_t day;
	u256 exposure_after;
	int queued;		/* authorized by its queue entry */
	struct sd_queued q;	/* that entry, copied */
	int approvals_used;	/* its approvals were checked: journal them */
	struct sd_pause_state pause;
	/* K_OTHER: the transaction signed before, for a fee bump. */
	uint8_t prev_content[32];
	uint8_t prev_hash[32];
	uint8_t prev_raw[SD_RAW_TX_MAX];
	size_t prev_raw_len;
	struct evm_tx prev_tx;
	int bump;
	/* The result. */
	uint8_t raw[PRT_TX_MAX];
	size_t raw_len;
	uint8_t tx_hash[32];
	/* The receipt: the record that authorized it (seq and hash). */
	uint64_t receipt_seq;
	uint8_t receipt_hash[32];
};

static int
reply(struct prt_writer *rep, const char *msg, const struct sign_job *job)
{
	struct prt_reply_hdr hdr;
	struct prt_sign_rep *out;
	int r;

	prt_reply_hdr_set(&hdr, POL_OK, msg);
	if ((out = calloc(1, sizeof(*out))) == NULL)
		return ERR_NOMEM;
	memcpy(out->raw, job->raw, job->raw_len);
	out->raw_len = job->raw_len;
	memcpy(out->tx_hash, job->tx_hash, 32);
	out->receipt_seq = job->receipt_seq;
	memcpy(out->receipt_hash, job->receipt_hash, 32);
	r = prt_encode_sign_rep(rep, &hdr, out);
	free(out);
	return r;
}

static int
refuse(struct sd_ctx *sd, struct prt_writer *rep, unsigned peer_uid,
    const struct sign_job *job, int reason, const char *detail)
{
	return sd_refuse(sd, rep, PRT_SIGN_REP, "sign",
	    job->p.req.request_id, peer_uid, reason, detail);
}

static int
hex_field(json_t *o, const char *key, const uint8_t *p, size_t n, int prefix)
{
	char buf[2 * PRT_TX_MAX + 3];

	if (prefix) {
		buf[0] = '0';
		buf[1] = 'x';
	}
	util_hex_encode(buf + (prefix ? 2 : 0), p, n);
	return json_object_set_new(o, key, json_string(buf));
}

static int
dec_field(json_t *o, const char *key, const u256 *v)
{
	char buf[U256_DEC_MAX];

	u256_to_dec(buf, sizeof(buf), v);
	return json_object_set_new(o, key, json_string(buf));
}

/* The record that authorizes the signature (invariant 1); NULL: no memory. */
static json_t *
build_signed(struct sd_ctx *sd, const struct sign_job *job)
{
	const struct sd_key *k = &sd->keys[job->p.key];
	const struct pol_intent *in = &job->p.intent;
	char addr[EVM_ADDR_STR];
	json_t *o, *aps;

	if ((o = sd_record_new(sd, "signed")) == NULL)
		return NULL;
	if (json_object_set_new(o, "request_id",
	    json_string(job->p.req.request_id)) != 0 ||
	    json_object_set_new(o, "asset", json_string(in->asset_name)) != 0 ||
	    sd_json_set_u64(o, "chain_id", in->chain_id) != 0 ||
	    json_object_set_new(o, "key", json_string(k->name)) != 0 ||
	    sd_json_set_u64(o, "nonce", in->nonce) != 0 ||
	    json_object_set_new(o, "day", json_integer(job->day)) != 0 ||
	    dec_field(o, "amount", &in->amount) != 0 ||
	    dec_field(o, "exposure", &job->exposure_after) != 0 ||
	    dec_field(o, "max_fee_per_gas", &in->max_fee_per_gas) != 0 ||
	    dec_field(o, "max_priority_fee_per_gas",
	    &in->max_priority_fee_per_gas) != 0 ||
	    sd_json_set_u64(o, "gas_limit", in->gas_limit) != 0 ||
	    hex_field(o, "content", job->p.content, 32, 0) != 0 ||
	    hex_field(o, "tx_hash", job->tx_hash, 32, 1) != 0 ||
	    hex_field(o, "raw", job->raw, job->raw_len, 1) != 0)
		goto fail;
	evm_addr_to_str(addr, k->address);
	if (json_object_set_new(o, "from", json_string(addr)) != 0)
		goto fail;
	evm_addr_to_str(addr, in->recipient);
	if (json_object_set_new(o, "to", json_string(addr)) != 0)
		goto fail;
	/* The authority for it: approvals used, or its queue entry. */
	if (job->approvals_used &&
	    ((aps = sd_approvals_json(job->p.req.approvals,
	    job->p.req.napprovals)) == NULL ||
	    json_object_set_new(o, "approvals", aps) != 0))
		goto fail;
	if (job->queued && (json_object_set_new(o, "queued", json_true()) != 0 ||
	    json_object_set_new(o, "earliest",
	    json_integer(job->q.earliest)) != 0))
		goto fail;
	/* invariant 5: the one re-sign, counted once, named as such. */
	if (job->bump && (json_object_set_new(o, "fee_bump", json_true()) != 0 ||
	    hex_field(o, "replaces", job->prev_hash, 32, 1) != 0))
		goto fail;
	return o;
 fail:
	json_decref(o);
	return NULL;
}

/* C_Sign, then low-S, recovery id and the recovered-key check. */
static int
hsm_sign_tx(struct sd_ctx *sd, struct sign_job *job)
{
	const struct sd_key *k = &sd->keys[job->p.key];
	uint8_t digest[32], rs[64];
	struct prt_writer w;
	int r;

	if ((r = evm_tx_signing_hash(digest, &job->p.tx)) != 0)
		return r;
	if ((r = hsm_sign(sd->hsm, rs, &k->key, digest)) != 0) {
		log_error("C_Sign with key %s failed: %s (%s)", k->name,
		    err_str(r), hsm_last_error());
		return r;
	}
	if ((r = evm_sig_finish(job->p.tx.r, job->p.tx.s,
	    &job->p.tx.y_parity, digest, rs, k->key.pub)) != 0)
		return r;
	job->p.tx.is_signed = 1;
	prt_writer_init(&w, PRT_TX_MAX);
	/* The tx hash is keccak256 of exactly these bytes: hash them here
	 * rather than have evm_tx_hash() encode the transaction again. */
	if ((r = evm_tx_encode(&w, &job->p.tx)) == 0) {
		evm_keccak256(job->tx_hash, w.p, w.len);
		memcpy(job->raw, w.p, w.len);
		job->raw_len = w.len;
	}
	prt_writer_free(&w);
	return r;
}

/* Under the state lock: gives back what check-and-reserve took. */
static void
release_locked(struct sd_ctx *sd, const struct sign_job *job)
{
	if (job->bump)
		sd_state_bump_abort(sd->state, job->p.req.request_id);
	else
		sd_state_abort(sd->state, job->p.req.request_id);
}

/* Gives back what check-and-reserve took: the reservation or the bump. */
static void
release(struct sd_ctx *sd, const struct sign_job *job)
{
	sd_state_lock(sd->state);
	release_locked(sd, job);
	sd_state_unlock(sd->state);
}

/* Under the state lock: the pause, then what the request id already is. */
static enum kind
classify(struct sd_ctx *sd, struct sign_job *job)
{
	const struct sd_request *prev;

	sd_pause_get(sd_state_pause(sd->state), &job->pause);
	if (job->pause.paused)
		return K_PAUSED;
	if ((prev = sd_state_find(sd->state, job->p.req.request_id)) == NULL)
		return K_NEW;
	if (prev->status == SD_REQ_SIGNED &&
	    memcmp(prev->content, job->p.content, 32) == 0) {
		/* Same request, same content: the same signature, counted
		 * once (invariant 5). */
		memcpy(job->raw, prev->raw, prev->raw_len);
		job->raw_len = prev->raw_len;
		memcpy(job->tx_hash, prev->tx_hash, 32);
		job->receipt_seq = prev->receipt_seq;
		memcpy(job->receipt_hash, prev->receipt_hash, 32);
		return K_SAME;
	}
	if (prev->status != SD_REQ_SIGNED || prev->bumping)
		return K_BUSY;
	memcpy(job->prev_content, prev->content, 32);
	memcpy(job->prev_hash, prev->tx_hash, 32);
	memcpy(job->prev_raw, prev->raw, prev->raw_len);
	job->prev_raw_len = prev->raw_len;
	job->day = prev->day;
	return K_OTHER;
}

static void
paused_detail(char *detail, size_t cap, const struct sd_pause_state *s)
{
	snprintf(detail, cap, "signerd is paused (pause %s%s%s); m of the "
	    "governance set must unpause it", s->id, s->by[0] ? " by " : "",
	    s->by);
}

/*
 * sd_commit's last checks, in record order: a pause decided since the
 * request was checked (invariant 9), a UTC day that ended while the HSM
 * signed, an approval that expired meanwhile.  The record's time t is
 * what the verifier judges it by.
 */
static enum pol_reason
stamp_signed(struct sd_ctx *sd, void *arg, json_t *body, int64_t t,
    char *detail, size_t cap)
{
	struct sign_job *job = arg;
	struct sd_pause_state pause;

	sd_pause_get(sd_state_pause(sd->state), &pause);
	if (pause.paused) {
		paused_detail(detail, cap, &pause);
		return POL_PAUSED;
	}
	if (!job->bump && pol_utc_day(t) != job->day) {
		snprintf(detail, cap, "the UTC day ended while signing; retry");
		return POL_RETRY;
	}
	return job->approvals_used ? sd_approvals_unexpired(
	    job->p.req.approvals, job->p.req.napprovals, t, detail, cap) :
	    POL_OK;
}

static int
apply_signed(struct sd_ctx *sd, void *arg, uint64_t seq,
    const uint8_t hash[32])
{
	struct sign_job *job = arg;
	char label[SD_SEEN_LABEL_MAX + 1];
	int r;

	if (job->bump)
		r = sd_state_bump_commit(sd->state, job->p.req.request_id,
		    job->p.content, job->tx_hash, job->raw, job->raw_len);
	else
		r = sd_state_commit(sd->state, job->p.req.request_id,
		    job->tx_hash, job->raw, job->raw_len);
	if (r != 0)
		return r;
	job->receipt_seq = seq;
	memcpy(job->receipt_hash, hash, 32);
	sd_state_set_receipt(sd->state, job->p.req.request_id, seq, hash);
	if (job->approvals_used) {
		snprintf(label, sizeof(label), "sign %s",
		    job->p.req.request_id);
		sd_remember_approvals(sd, job->p.req.approvals,
		    job->p.req.napprovals, label);
	}
	return 0;
}

static void
undo_signed(struct sd_ctx *sd, void *arg)
{
	release_locked(sd, arg);
}

/* HSM, journal, state, reply: shared by new payouts and fee bumps. */
static int
sign_and_reply(struct sd_ctx *sd, struct prt_writer *rep, unsigned peer_uid,
    struct sign_job *job, char *detail, size_t cap)
{
	struct sd_commit c;
	enum pol_reason why;
	int r;

	if ((r = hsm_sign_tx(sd, job)) != 0) {
		release(sd, job);
		snprintf(detail, cap, "HSM signing failed: %s (%s)", err_str(r),
		    hsm_last_error());
		return refuse(sd, rep, peer_uid, job, POL_HSM_ERROR, detail);
	}
	memset(&c, 0, sizeof(c));
	if ((c.body = build_signed(sd, job)) == NULL) {
		release(sd, job);
		util_wipe(job->raw, sizeof(job->raw));
		snprintf(detail, cap, "out of memory building the record");
		return refuse(sd, rep, peer_uid, job, POL_INTERNAL, detail);
	}
	c.stamp = stamp_signed;
	c.apply = apply_signed;
	c.undo = undo_signed;
	c.arg = job;
	/* Invariant 1: durable before the signature leaves this process. */
	why = sd_commit(sd, &c, NULL, NULL, detail, cap);
	json_decref(c.body);
	if (why == POL_INTERNAL) {
		/* Durable but not remembered: do not hand it out twice. */
		util_wipe(job->raw, sizeof(job->raw));
		return refuse(sd, rep, peer_uid, job, why, detail);
	}
	if (why != POL_OK) {
		/* Nothing durable: the signature never leaves (D10).  A
		 * journal error already gave the reservation back (undo). */
		if (why != POL_JOURNAL_ERROR)
			release(sd, job);
		util_wipe(job->raw, sizeof(job->raw));
		if (why == POL_JOURNAL_ERROR)
			snprintf(detail, cap, "the decision could not be made "
			    "durable; nothing was signed");
		return refuse(sd, rep, peer_uid, job, why, detail);
	}
	log_info("request %s %s: asset %s nonce %" PRIu64 ", record %" PRIu64,
	    job->p.req.request_id, job->bump ? "fee-bumped" : "signed",
	    job->p.intent.asset_name, job->p.intent.nonce, job->receipt_seq);
	return reply(rep, job->bump ? "fee bump signed" : "signed", job);
}

/*
 * The request id signed another transaction: a fee bump of it, or a
 * conflict (invariant 5).  Exposure is not counted again.
 */
static int
sign_bump(struct sd_ctx *sd, struct prt_writer *rep, unsigned peer_uid,
    struct sign_job *job, char *detail, size_t cap)
{
	enum pol_reason why;
	int r;

	if (evm_tx_decode(&job->prev_tx, job->prev_raw, job->prev_raw_len) !=
	    0) {
		snprintf(detail, cap, "the stored transaction does not decode");
		return refuse(sd, rep, peer_uid, job, POL_INTERNAL, detail);
	}
	switch (sd_bump_classify(&job->prev_tx, &job->p.tx, detail, cap)) {
	case SD_BUMP_OK:
		break;
	case SD_BUMP_FEES_NOT_HIGHER:
		return refuse(sd, rep, peer_uid, job, POL_FEE_BUMP_INVALID,
		    detail);
	default:
		return refuse(sd, rep, peer_uid, job, POL_REQUEST_ID_CONFLICT,
		    detail);
	}
	why = sd_payout_check_rules(sd, &job->p, detail, cap);
	if (why == POL_FEE_CAP_MAX_FEE || why == POL_FEE_CAP_PRIORITY_FEE ||
	    why == POL_FEE_CAP_GAS_LIMIT) {
		snprintf(detail, cap, "the bumped fees break the fee caps: %s",
		    pol_reason_text(why));
		return refuse(sd, rep, peer_uid, job, POL_FEE_BUMP_INVALID,
		    detail);
	}
	if (why != POL_OK)
		return refuse(sd, rep, peer_uid, job, why, detail);

	sd_state_lock(sd->state);
	sd_pause_get(sd_state_pause(sd->state), &job->pause);
	r = job->pause.paused ? 1 : sd_state_bump_begin(sd->state,
	    job->p.req.request_id, job->prev_content);
	sd_state_exposure(sd->state, &job->exposure_after,
	    job->p.intent.asset_name, job->day);
	sd_state_unlock(sd->state);
	if (r == 1) {
		paused_detail(detail, cap, &job->pause);
		return refuse(sd, rep, peer_uid, job, POL_PAUSED, detail);
	}
	if (r != 0) {
		snprintf(detail, cap, "request id is being re-signed right "
		    "now; retry");
		return refuse(sd, rep, peer_uid, job, POL_REQUEST_ID_CONFLICT,
		    detail);
	}
	job->bump = 1;
	return sign_and_reply(sd, rep, peer_uid, job, detail, cap);
}

/*
 * Under the state lock, right before reserving: what may have changed
 * since the checks outside it (a pause, a cancel, a nonce or the last of
 * the daily limit taken by a concurrent request).
 */
static enum pol_reason
check_and_reserve(struct sd_ctx *sd, struct sign_job *job, char *detail,
    size_t cap)
{
	const struct sd_queued *q;
	const char *owner;
	enum pol_reason why;
	u256 exposure;
	int r;

	sd_pause_get(sd_state_pause(sd->state), &job->pause);
	if (job->pause.paused) {
		paused_detail(detail, cap, &job->pause);
		return POL_PAUSED;
	}
	q = sd_queue_find(sd_state_queue(sd->state), job->p.req.request_id);
	if (q != NULL && sd_queue_expired(q, job->now))
		q = NULL;
	if (job->queued && (q == NULL || q->status != SD_Q_QUEUED)) {
		snprintf(detail, cap, "request %s was cancelled while queued",
		    job->p.req.request_id);
		return POL_TIMELOCK_CANCELLED;
	}
	/* Queued by a concurrent request since we looked: decide again. */
	if (!job->queued && q != NULL) {
		snprintf(detail, cap, "request id is being queued right now; "
		    "retry");
		return POL_REQUEST_ID_CONFLICT;
	}
	/* invariant 5: one payout per (key, chain, nonce). */
	if ((owner = sd_state_nonce_owner(sd->state, &job->p.ref)) != NULL &&
	    strcmp(owner, job->p.req.request_id) != 0) {
		snprintf(detail, cap, "key %s already signed nonce %" PRIu64
		    " on chain %" PRIu64 " for request %.64s",
		    sd->keys[job->p.key].name, job->p.ref.nonce,
		    job->p.ref.chain_id, owner);
		return POL_NONCE_REUSED;
	}
	/* invariant 2: the day's exposure includes requests in flight. */
	sd_state_exposure(sd->state, &exposure, job->p.intent.asset_name,
	    job->day);
	why = pol_check_sign(sd->policy, 0, &job->p.intent, &job->p.stated,
	    &exposure, &job->exposure_after);
	if (why != POL_OK) {
		snprintf(detail, cap, "%s", pol_reason_text(why));
		return why;
	}
	r = sd_state_begin(sd->state, job->p.req.request_id, job->p.content,
	    job->p.intent.asset_name, job->day, &job->p.intent.amount,
	    &job->p.ref);
	if (r == ERR_EXISTS) {
		snprintf(detail, cap, "request id is being signed right now; "
		    "retry");
		return POL_REQUEST_ID_CONFLICT;
	}
	if (r != 0) {
		snprintf(detail, cap, "exposure reservation failed: %s",
		    err_str(r));
		return POL_INTERNAL;
	}
	return POL_OK;
}

/* A request id never signed: every rule, then reserve and sign. */
static int
sign_new(struct sd_ctx *sd, struct prt_writer *rep, unsigned peer_uid,
    struct sign_job *job, char *detail, size_t cap)
{
	const struct sd_queued *q;
	enum pol_reason why;
	int64_t remaining;
	int have_q = 0;

	if ((why = sd_payout_check_rules(sd, &job->p, detail, cap)) != POL_OK)
		return refuse(sd, rep, peer_uid, job, why, detail);

	sd_state_lock(sd->state);
	if ((q = sd_queue_find(sd_state_queue(sd->state),
	    job->p.req.request_id)) != NULL && !sd_queue_expired(q, job->now)) {
		job->q = *q;
		have_q = 1;
	}
	sd_state_unlock(sd->state);
	if (have_q) {
		/* A queued id is bound to what was queued, cancelled or not. */
		if (job->q.status == SD_Q_CANCELLED) {
			snprintf(detail, cap, "request %s was cancelled while "
			    "queued", job->p.req.request_id);
			return refuse(sd, rep, peer_uid, job,
			    POL_TIMELOCK_CANCELLED, detail);
		}
		if (job->q.status == SD_Q_PENDING) {
			snprintf(detail, cap, "request id is being queued "
			    "right now; retry");
			return refuse(sd, rep, peer_uid, job,
			    POL_REQUEST_ID_CONFLICT, detail);
		}
		if (memcmp(job->q.intent, job->p.intent_hash, 32) != 0) {
			snprintf(detail, cap, "request id was queued for a "
			    "different payout (asset, chain, recipient or "
			    "amount)");
			return refuse(sd, rep, peer_uid, job,
			    POL_REQUEST_ID_CONFLICT, detail);
		}
		job->queued = 1;
	}
	/*
	 * Invariant 4: M approvals over exactly this intent.  A queued
	 * payout's approvals were checked and journaled when it was queued
	 * (before a delay they may not outlive); the entry binds the intent.
	 */
	if (job->p.needs_approval && !job->queued) {
		why = sd_payout_check_approvals(sd, &job->p, job->now, detail,
		    cap);
		if (why != POL_OK)
			return refuse(sd, rep, peer_uid, job, why, detail);
		job->approvals_used = 1;
	}
	if (job->p.needs_timelock || have_q) {
		why = sd_timelock_check(have_q ? &job->q : NULL, job->now,
		    &remaining);
		if (why == POL_TIMELOCK_PENDING)
			snprintf(detail, cap, "%" PRId64 " s remaining: "
			    "signable from %" PRId64 " (unix)", remaining,
			    job->q.earliest);
		else if (why == POL_TIMELOCK_NOT_QUEUED)
			snprintf(detail, cap, "above the timelock threshold: "
			    "queue it first (QUEUE_REQ) and sign after the "
			    "delay");
		if (why != POL_OK)
			return refuse(sd, rep, peer_uid, job, why, detail);
	}

	sd_state_lock(sd->state);
	why = check_and_reserve(sd, job, detail, cap);
	sd_state_unlock(sd->state);
	if (why != POL_OK)
		return refuse(sd, rep, peer_uid, job, why, detail);
	return sign_and_reply(sd, rep, peer_uid, job, detail, cap);
}

int
sd_handle_sign(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *buf,
    size_t len, struct prt_writer *rep)
{
	struct sign_job *job;
	enum pol_reason why;
	char detail[240] = "";
	enum kind kind;
	int r;

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return ERR_NOMEM;
	why = sd_payout_decode(sd, &job->p, PRT_SIGN_REQ, buf, len, detail,
	    sizeof(detail));
	if (why != POL_OK) {
		r = refuse(sd, rep, peer_uid, job, why, detail);
		goto out;
	}
	job->now = sd_now(sd);
	job->day = pol_utc_day(job->now);

	sd_state_lock(sd->state);
	kind = classify(sd, job);
	sd_state_unlock(sd->state);
	switch (kind) {
	case K_PAUSED:
		paused_detail(detail, sizeof(detail), &job->pause);
		r = refuse(sd, rep, peer_uid, job, POL_PAUSED, detail);
		break;
	case K_SAME:
		log_info("request %s: same content again, same signature",
		    job->p.req.request_id);
		r = reply(rep, "already signed", job);
		break;
	case K_BUSY:
		snprintf(detail, sizeof(detail), "request id is being signed "
		    "right now; retry");
		r = refuse(sd, rep, peer_uid, job, POL_REQUEST_ID_CONFLICT,
		    detail);
		break;
	case K_OTHER:
		r = sign_bump(sd, rep, peer_uid, job, detail, sizeof(detail));
		break;
	default:
		r = sign_new(sd, rep, peer_uid, job, detail, sizeof(detail));
		break;
	}
 out:
	util_wipe(job, sizeof(*job));
	free(job);
	return r;
}
