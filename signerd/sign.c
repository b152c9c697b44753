/*
 * sign.c: the sign path.  Decode the transaction, derive what it does,
 * check it against the policy and today's exposure, reserve, sign in the
 * HSM, make the record durable, and only then reply (invariants 1, 2, 3, 5).
 */
#include "signerd/signerd.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/log.h"
#include "evm/ecsig.h"
#include "evm/tx.h"
#include "proto/msg.h"

struct sign_job {
	struct prt_sign_req req;
	struct evm_tx tx;
	struct pol_intent intent;
	uint8_t content[32];
	int64_t day;
	u256 exposure_after;
	int key;
	uint8_t raw[PRT_TX_MAX];
	size_t raw_len;
	uint8_t tx_hash[32];
};

/*
 * What "the same request" means for idempotency: everything the client
 * asked for.  The same id with any other content is a conflict (invariant 5).
 */
static int
content_hash(uint8_t out[32], const struct prt_sign_req *req)
{
	uint8_t chain[8], amount[32];
	EVP_MD_CTX *md;
	int i, ok;

	for (i = 0; i < 8; i++)
		chain[i] = (uint8_t)(req->chain_id >> (56 - 8 * i));
	u256_to_be32(amount, &req->amount);
	if ((md = EVP_MD_CTX_new()) == NULL)
		return ERR_NOMEM;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, req->asset, strlen(req->asset) + 1) == 1 &&
	    EVP_DigestUpdate(md, chain, sizeof(chain)) == 1 &&
	    EVP_DigestUpdate(md, req->to, sizeof(req->to)) == 1 &&
	    EVP_DigestUpdate(md, amount, sizeof(amount)) == 1 &&
	    EVP_DigestUpdate(md, req->tx, req->tx_len) == 1 &&
	    EVP_DigestFinal_ex(md, out, NULL) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : ERR_INTERNAL;
}

static int
reply(struct prt_writer *rep, int reason, const char *msg,
    const struct sign_job *job)
{
	struct prt_reply_hdr hdr;
	struct prt_sign_rep *out = NULL;
	static const struct prt_sign_rep empty;
	int r;

	prt_reply_hdr_set(&hdr, reason, msg);
	if (reason != POL_OK)
		return prt_encode_sign_rep(rep, &hdr, &empty);
	if ((out = calloc(1, sizeof(*out))) == NULL)
		return ERR_NOMEM;
	memcpy(out->raw, job->raw, job->raw_len);
	out->raw_len = job->raw_len;
	memcpy(out->tx_hash, job->tx_hash, 32);
	r = prt_encode_sign_rep(rep, &hdr, out);
	free(out);
	return r;
}

static int
refuse(struct sd_ctx *sd, struct prt_writer *rep, unsigned peer_uid,
    const char *request_id, int reason, const char *detail)
{
	char msg[PRT_MESSAGE_MAX + 1];

	snprintf(msg, sizeof(msg), "%s: %s", pol_reason_name(reason), detail);
	log_info("request %s refused: %s", request_id[0] ? request_id : "-",
	    msg);
	sd_journal_refusal(sd, request_id, peer_uid, reason, detail);
	return reply(rep, reason, msg, NULL);
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

/* The durable record that authorizes the signature (invariant 1). */
static int
journal_signed(struct sd_ctx *sd, const struct sign_job *job)
{
	const struct sd_key *k = &sd->keys[job->key];
	char addr[EVM_ADDR_STR];
	json_t *o;
	int r = ERR_NOMEM;

	if ((o = sd_record_new(sd, "signed")) == NULL)
		return ERR_NOMEM;
	if (json_object_set_new(o, "request_id",
	    json_string(job->req.request_id)) != 0 ||
	    json_object_set_new(o, "asset",
	    json_string(job->intent.asset_name)) != 0 ||
	    json_object_set_new(o, "chain_id",
	    json_integer((json_int_t)job->intent.chain_id)) != 0 ||
	    json_object_set_new(o, "key", json_string(k->name)) != 0 ||
	    json_object_set_new(o, "nonce",
	    json_integer((json_int_t)job->intent.nonce)) != 0 ||
	    json_object_set_new(o, "day", json_integer(job->day)) != 0 ||
	    dec_field(o, "amount", &job->intent.amount) != 0 ||
	    dec_field(o, "exposure", &job->exposure_after) != 0 ||
	    dec_field(o, "max_fee_per_gas", &job->intent.max_fee_per_gas) != 0 ||
	    dec_field(o, "max_priority_fee_per_gas",
	    &job->intent.max_priority_fee_per_gas) != 0 ||
	    json_object_set_new(o, "gas_limit",
	    json_integer((json_int_t)job->intent.gas_limit)) != 0 ||
	    hex_field(o, "content", job->content, 32, 0) != 0 ||
	    hex_field(o, "tx_hash", job->tx_hash, 32, 1) != 0 ||
	    hex_field(o, "raw", job->raw, job->raw_len, 1) != 0)
		goto out;
	evm_addr_to_str(addr, k->address);
	if (json_object_set_new(o, "from", json_string(addr)) != 0)
		goto out;
	evm_addr_to_str(addr, job->intent.recipient);
	if (json_object_set_new(o, "to", json_string(addr)) != 0)
		goto out;
	r = jnl_append(sd->journal, NULL, NULL, o);
 out:
	json_decref(o);
	return r;
}

/* C_Sign, then low-S, recovery id and the recovered-key check. */
static int
hsm_sign_tx(struct sd_ctx *sd, struct sign_job *job)
{
	const struct sd_key *k = &sd->keys[job->key];
	uint8_t digest[32], rs[64];
	struct prt_writer w;
	int r;

	if ((r = evm_tx_signing_hash(digest, &job->tx)) != 0)
		return r;
	if ((r = hsm_sign(sd->hsm, rs, &k->key, digest)) != 0) {
		log_error("C_Sign with key %s failed: %s (%s)", k->name,
		    err_str(r), hsm_last_error());
		return r;
	}
	if ((r = evm_sig_finish(job->tx.r, job->tx.s, &job->tx.y_parity,
	    digest, rs, k->key.pub)) != 0)
		return r;
	job->tx.is_signed = 1;
	prt_writer_init(&w, PRT_TX_MAX);
	if ((r = evm_tx_encode(&w, &job->tx)) == 0 &&
	    (r = evm_tx_hash(job->tx_hash, &job->tx)) == 0) {
		memcpy(job->raw, w.p, w.len);
		job->raw_len = w.len;
	}
	prt_writer_free(&w);
	return r;
}

/* Under the state lock: idempotency, then policy with today's exposure. */
static int
check_and_reserve(struct sd_ctx *sd, struct sign_job *job, char *detail,
    size_t cap)
{
	const struct sd_request *prev;
	struct pol_stated stated;
	u256 exposure;
	int reason;

	memset(&stated, 0, sizeof(stated));
	snprintf(stated.asset, sizeof(stated.asset), "%s", job->req.asset);
	stated.chain_id = job->req.chain_id;
	memcpy(stated.to, job->req.to, sizeof(stated.to));
	stated.amount = job->req.amount;

	if ((prev = sd_state_find(sd->state, job->req.request_id)) != NULL) {
		if (memcmp(prev->content, job->content, 32) != 0) {
			snprintf(detail, cap, "request id was used for "
			    "different content");
			return POL_REQUEST_ID_CONFLICT;
		}
		if (prev->status != SD_REQ_SIGNED) {
			snprintf(detail, cap, "request id is being signed "
			    "right now; retry");
			return POL_REQUEST_ID_CONFLICT;
		}
		/* Same request, same content: hand back the same signature,
		 * counted once (invariant 5). */
		memcpy(job->raw, prev->raw, prev->raw_len);
		job->raw_len = prev->raw_len;
		memcpy(job->tx_hash, prev->tx_hash, 32);
		return -1;
	}
	sd_state_exposure(sd->state, &exposure, job->intent.asset_name,
	    job->day);
	reason = pol_check_sign(sd->policy, &job->intent, &stated, &exposure,
	    &job->exposure_after);
	if (reason != POL_OK) {
		snprintf(detail, cap, "%s", pol_reason_text(reason));
		return reason;
	}
	if (sd_state_begin(sd->state, job->req.request_id, job->content,
	    job->intent.asset_name, job->day, &job->intent.amount) != 0) {
		snprintf(detail, cap, "exposure reservation failed");
		return POL_INTERNAL;
	}
	return POL_OK;
}

int
sd_handle_sign(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *buf,
    size_t len, struct prt_writer *rep)
{
	struct sign_job *job;
	enum pol_reason why = POL_OK;
	char detail[200] = "";
	const struct pol_asset *asset;
	int r, reason;

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return ERR_NOMEM;
	if ((r = prt_decode_sign_req(&job->req, buf, len)) != 0) {
		snprintf(detail, sizeof(detail), "sign request does not "
		    "decode: %s", err_str(r));
		r = refuse(sd, rep, peer_uid, "", POL_MALFORMED_REQUEST,
		    detail);
		goto out;
	}
	/* Invariant 3: never an opaque digest; what we sign is what we
	 * decoded, and what it does comes from the bytes, not the client. */
	if ((r = evm_tx_decode(&job->tx, job->req.tx, job->req.tx_len)) != 0 ||
	    job->tx.is_signed) {
		snprintf(detail, sizeof(detail), "transaction is not an "
		    "unsigned EIP-1559 transaction: %s",
		    r != 0 ? err_str(r) : "it is already signed");
		r = refuse(sd, rep, peer_uid, job->req.request_id,
		    POL_MALFORMED_REQUEST, detail);
		goto out;
	}
	if (pol_derive_intent(&job->intent, &why, sd->policy, &job->tx) != 0 ||
	    why != POL_OK) {
		r = refuse(sd, rep, peer_uid, job->req.request_id,
		    why != POL_OK ? why : POL_INTERNAL, pol_reason_text(why));
		goto out;
	}
	asset = pol_asset(sd->policy, job->intent.asset);
	if ((job->key = sd_key_index(sd, asset->key)) < 0) {
		snprintf(detail, sizeof(detail), "asset %s names key %s, "
		    "which signerd does not hold", asset->name, asset->key);
		r = refuse(sd, rep, peer_uid, job->req.request_id,
		    POL_INTERNAL, detail);
		goto out;
	}
	if ((r = content_hash(job->content, &job->req)) != 0)
		goto out;
	job->day = pol_utc_day((int64_t)time(NULL));

	sd_state_lock(sd->state);
	reason = check_and_reserve(sd, job, detail, sizeof(detail));
	sd_state_unlock(sd->state);
	if (reason == -1) {
		log_info("request %s: same content again, same signature",
		    job->req.request_id);
		r = reply(rep, POL_OK, "already signed", job);
		goto out;
	}
	if (reason != POL_OK) {
		r = refuse(sd, rep, peer_uid, job->req.request_id, reason,
		    detail);
		goto out;
	}

	if ((r = hsm_sign_tx(sd, job)) != 0) {
		sd_state_lock(sd->state);
		sd_state_abort(sd->state, job->req.request_id);
		sd_state_unlock(sd->state);
		snprintf(detail, sizeof(detail), "HSM signing failed: %s",
		    err_str(r));
		r = refuse(sd, rep, peer_uid, job->req.request_id,
		    POL_HSM_ERROR, detail);
		goto out;
	}

	/* Invariant 1: durable before the signature leaves this process. */
	pthread_rwlock_rdlock(&sd->commit_lock);
	if ((r = journal_signed(sd, job)) != 0) {
		pthread_rwlock_unlock(&sd->commit_lock);
		sd_state_lock(sd->state);
		sd_state_abort(sd->state, job->req.request_id);
		sd_state_unlock(sd->state);
		util_wipe(job->raw, sizeof(job->raw));
		log_error("request %s: journal append failed (%s); signature "
		    "discarded", job->req.request_id, err_str(r));
		r = reply(rep, POL_JOURNAL_ERROR, "JOURNAL_ERROR: the decision "
		    "could not be made durable; nothing was signed", NULL);
		goto out;
	}
	sd_state_lock(sd->state);
	r = sd_state_commit(sd->state, job->req.request_id, job->tx_hash,
	    job->raw, job->raw_len);
	sd_state_unlock(sd->state);
	atomic_fetch_add(&sd->appended_since_snapshot, 1);
	pthread_rwlock_unlock(&sd->commit_lock);
	if (r != 0) {
		/* Durable but not remembered: only memory exhaustion gets
		 * here; a restart replays it.  Do not hand it out twice. */
		log_error("request %s: state commit failed: %s",
		    job->req.request_id, err_str(r));
		r = reply(rep, POL_INTERNAL, "INTERNAL: state commit failed",
		    NULL);
		goto out;
	}
	log_info("request %s signed: asset %s nonce %llu", job->req.request_id,
	    job->intent.asset_name, (unsigned long long)job->intent.nonce);
	r = reply(rep, POL_OK, "signed", job);
 out:
	util_wipe(job, sizeof(*job));
	free(job);
	return r;
}
