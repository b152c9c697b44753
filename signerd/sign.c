/*
 * sign.c: the sign path's effects once decide.c has said yes: sign in the
 * HSM (low-S, recovery id, the recovered key checked), make the record
 * durable through sd_commit, and only then reply (invariant 1).  The
 * record that authorizes a signature and its receipt are built here.
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
#include "signerd/sign.h"

static int
reply(struct prt_writer *rep, const char *msg, const struct sd_sign_job *job)
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
    const struct sd_sign_job *job, int reason, const char *detail)
{
	return sd_refuse_after(sd, rep, PRT_SIGN_REP, "sign",
	    job->p.req.request_id, job->p.req.asset, peer_uid, reason, detail,
	    job->retry_after_s != 0 ? job->retry_after_s :
	    sd_retry_after_default(reason));
}

/* The record that authorizes the signature (invariant 1); NULL: no memory. */
static json_t *
build_signed(struct sd_ctx *sd, const struct sd_sign_job *job)
{
	const struct sd_key *k = &sd->keys[job->p.key];
	const struct pol_intent *in = &job->p.intent;
	char addr[EVM_ADDR_STR];
	json_t *o, *aps;

	if ((o = sd_record_new(sd, "signed")) == NULL)
		return NULL;
	if (json_object_set_new(o, "request_id",
	    json_string(job->p.req.request_id)) != 0 ||
	    json_object_set_new(o, "created",
	    json_integer(job->p.req.created_day)) != 0 ||
	    json_object_set_new(o, "asset", json_string(in->asset_name)) != 0 ||
	    sd_json_set_u64(o, "chain_id", in->chain_id) != 0 ||
	    json_object_set_new(o, "key", json_string(k->name)) != 0 ||
	    sd_json_set_u64(o, "nonce", in->nonce) != 0 ||
	    json_object_set_new(o, "day", json_integer(job->day)) != 0 ||
	    sd_json_set_u256(o, "amount", &in->amount) != 0 ||
	    sd_json_set_u256(o, "exposure", &job->exposure_after) != 0 ||
	    sd_json_set_u256(o, "max_fee_per_gas", &in->max_fee_per_gas) != 0 ||
	    sd_json_set_u256(o, "max_priority_fee_per_gas",
	    &in->max_priority_fee_per_gas) != 0 ||
	    sd_json_set_u64(o, "gas_limit", in->gas_limit) != 0 ||
	    sd_json_set_hex(o, "content", job->p.content, 32, 0) != 0 ||
	    sd_json_set_hex(o, "tx_hash", job->tx_hash, 32, 1) != 0 ||
	    sd_json_set_hex(o, "raw", job->raw, job->raw_len, 1) != 0)
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
	/* D53: a retired key filling a hole in its own sequence. */
	if (job->gap_fill &&
	    json_object_set_new(o, "gap_fill", json_true()) != 0)
		goto fail;
	/* invariant 5: the one re-sign, counted once, named as such. */
	if (job->bump && (json_object_set_new(o, "fee_bump", json_true()) != 0 ||
	    sd_json_set_hex(o, "replaces", job->prev_hash, 32, 1) != 0))
		goto fail;
	return o;
 fail:
	json_decref(o);
	return NULL;
}

/* C_Sign, then low-S, recovery id and the recovered-key check. */
static int
hsm_sign_tx(struct sd_ctx *sd, struct sd_sign_job *job)
{
	const struct sd_key *k = &sd->keys[job->p.key];
	uint8_t digest[32], rs[64];
	struct prt_writer w;
	uint64_t t0;
	int r;

	if ((r = evm_tx_signing_hash(digest, &job->p.tx)) != 0)
		return r;
	t0 = util_mono_ns();
	r = hsm_sign(sd->hsm, rs, &k->key, digest);
	sd_metrics_hsm_sign(sd, util_mono_ns() - t0, r);
	if (r != 0) {
		log_error("C_Sign with key %s failed: %s (%s)", k->name,
		    err_str(r), hsm_last_error());
		/* The main thread asks the token whether it still works. */
		atomic_store(&sd->hsm_failed, 1);
		return r;
	}
	/* A signature that does not recover to the key: the HSM's fault. */
	if ((r = evm_sig_finish(job->p.tx.r, job->p.tx.s,
	    &job->p.tx.y_parity, digest, rs, k->key.pub)) != 0) {
		sd_metrics_hsm_error(sd, r);
		return r;
	}
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
release_locked(struct sd_ctx *sd, const struct sd_sign_job *job)
{
	if (job->bump)
		sd_state_bump_abort(sd->state, job->p.req.request_id,
		    job->p.req.created_day);
	else
		sd_state_abort(sd->state, job->p.req.request_id,
		    job->p.req.created_day);
}

/* Gives back what check-and-reserve took: the reservation or the bump. */
static void
release(struct sd_ctx *sd, const struct sd_sign_job *job)
{
	sd_state_lock(sd->state);
	release_locked(sd, job);
	sd_state_unlock(sd->state);
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
	struct sd_sign_job *job = arg;
	struct sd_pause_state pause;

	sd_pause_get(sd_state_pause(sd->state), &pause);
	if (pause.paused) {
		sd_paused_detail(detail, cap, &pause);
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
	struct sd_sign_job *job = arg;
	char label[SD_SEEN_LABEL_MAX + 1];
	int r;

	/* Memory keeps where the record is, not the transaction (D55). */
	if (job->bump)
		r = sd_state_bump_commit(sd->state, job->p.req.request_id,
		    job->p.req.created_day, job->p.content, &job->pos);
	else
		r = sd_state_commit(sd->state, job->p.req.request_id,
		    job->p.req.created_day, &job->pos);
	if (r != 0)
		return r;
	job->receipt_seq = seq;
	memcpy(job->receipt_hash, hash, 32);
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

/* A sign request in flight: its job and whom to answer (server.c). */
struct sign_call {
	struct sd_sign_job job;	/* first: the commit callbacks get &job */
	struct sd_rpc *req;
	uint64_t t0_ns;		/* a worker took it (util_mono_ns) */
};

/*
 * sd_commit_async's end, in the group-commit leader's thread: the reply
 * leaves only now, after the record's fdatasync (invariant 1).  A failure
 * here is not journaled (sd_commit_done_fn): the journal failed, or the
 * record is durable and a restart replays it.
 */
static void
signed_done(struct sd_ctx *sd, void *arg, enum pol_reason why, uint64_t seq,
    const uint8_t hash[32], const char *detail)
{
	struct sign_call *call = arg;
	struct sd_sign_job *job = &call->job;
	struct prt_writer rep;

	prt_writer_init(&rep, PRT_MAX_MESSAGE);
	if (why == POL_OK) {
		log_info("request %s %s: asset %s nonce %" PRIu64 ", record %"
		    PRIu64, job->p.req.request_id, job->bump ? "fee-bumped" :
		    "signed", job->p.intent.asset_name, job->p.intent.nonce,
		    job->receipt_seq);
		(void)reply(&rep, job->bump ? "fee bump signed" : "signed", job);
		sd_metrics_signature(sd, job->p.intent.asset_name,
		    call->t0_ns);
	} else {
		/* Durable but not remembered, or nothing durable: either
		 * way the signature does not leave (D10). */
		if (why == POL_JOURNAL_ERROR)
			detail = "the decision could not be made durable; "
			    "nothing was signed";
		util_wipe(job->raw, sizeof(job->raw));
		log_error("sign %s refused after queueing: %s: %s",
		    job->p.req.request_id, pol_reason_name(why), detail);
		sd_metrics_refusal(sd, job->p.req.asset, why);
		(void)sd_refusal_encode(&rep, PRT_SIGN_REP, why, detail,
		    sd_retry_after_default(why));
	}
	sd_rpc_reply(call->req, &rep);
	prt_writer_free(&rep);
	util_wipe(call, sizeof(*call));
	free(call);
}

/*
 * HSM, journal, state, reply: shared by new payouts and fee bumps.
 * SD_REPLY_LATER once the record is queued: signed_done() answers and
 * frees the call; else the refusal is in rep now.
 */
static int
sign_and_reply(struct sd_ctx *sd, struct prt_writer *rep, unsigned peer_uid,
    struct sign_call *call, char *detail, size_t cap)
{
	struct sd_sign_job *job = &call->job;
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
	c.v = job->p.v;
	c.stamp = stamp_signed;
	c.apply = apply_signed;
	c.undo = undo_signed;
	c.arg = job;
	c.pos = &job->pos;
	/* Invariant 1: durable before the signature leaves this process;
	 * the reply is sent by signed_done() after the fdatasync. */
	why = sd_commit_async(sd, &c, signed_done, detail, cap);
	json_decref(c.body);
	if (why == POL_OK)
		return SD_REPLY_LATER;
	/* Nothing queued: the signature never leaves (D10).  A journal
	 * error already gave the reservation back (undo). */
	if (why != POL_JOURNAL_ERROR)
		release(sd, job);
	util_wipe(job->raw, sizeof(job->raw));
	if (why == POL_JOURNAL_ERROR)
		snprintf(detail, cap, "the decision could not be made "
		    "durable; nothing was signed");
	return refuse(sd, rep, peer_uid, job, why, detail);
}

int
sd_handle_sign(struct sd_ctx *sd, struct sd_rpc *req, unsigned peer_uid,
    const uint8_t *buf, size_t len, struct prt_writer *rep)
{
	struct sign_call *call;
	struct sd_sign_job *job;
	enum pol_reason why;
	char detail[240] = "";
	int r, repeat;

	if ((call = calloc(1, sizeof(*call))) == NULL)
		return ERR_NOMEM;
	call->req = req;
	call->t0_ns = util_mono_ns();
	job = &call->job;
	why = sd_payout_decode(sd, &job->p, PRT_SIGN_REQ, buf, len, detail,
	    sizeof(detail));
	if (why == POL_OK) {
		job->now = sd_now(sd);
		why = sd_sign_decide(sd, job, &repeat, detail, sizeof(detail));
	}
	if (why != POL_OK)
		r = refuse(sd, rep, peer_uid, job, why, detail);
	else if (repeat) {
		log_info("request %s: same content again, same signature",
		    job->p.req.request_id);
		r = reply(rep, "already signed", job);
	} else
		r = sign_and_reply(sd, rep, peer_uid, call, detail,
		    sizeof(detail));
	if (r == SD_REPLY_LATER)
		return r;	/* signed_done() owns call now */
	util_wipe(call, sizeof(*call));
	free(call);
	return r;
}
