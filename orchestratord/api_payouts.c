/* api_payouts.c: POST /v1/payouts, GET /v1/payouts and /v1/payouts/{id}. */
#include "orchestratord/api_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/log.h"
#include "orchestratord/store.h"
#include "orchestratord/validate.h"

/*
 * signerd's receipt of the current signed version: the journal record's
 * seq (a decimal string, like amounts) and SHA-256 (lowercase hex), or
 * null when there is none.
 */
static json_t *
receipt_json(const struct store_receipt *r)
{
	char seq[24], hash[65];

	if (r->seq == 0)
		return json_null();
	snprintf(seq, sizeof(seq), "%" PRIu64, r->seq);
	util_hex_encode(hash, r->hash, sizeof(r->hash));
	return json_pack("{s:s, s:s}", "seq", seq, "hash", hash);
}

static json_t *
payout_json(const struct payout *p)
{
	json_t *o = json_object();
	const char *status = fsm_status_name(p->status);
	char from[EVM_ADDR_STR], to[EVM_ADDR_STR], amount[U256_DEC_MAX];

	if (o == NULL)
		return NULL;
	/* The JSON edge of the binary model: EIP-55 and decimal text. */
	evm_addr_to_str(from, p->sender);
	evm_addr_to_str(to, p->recipient);
	u256_to_dec(amount, sizeof(amount), &p->amount);
	api_set_str(o, "id", p->request_id, 0);
	api_set_str(o, "request_id", p->request_id, 0);
	api_set_str(o, "asset", p->asset, 0);
	json_object_set_new(o, "chain_id", json_integer((json_int_t)p->chain_id));
	api_set_str(o, "from", from, 0);
	api_set_str(o, "to", to, 0);
	/* A string: amounts go past 2^53, where JSON numbers lose digits. */
	api_set_str(o, "amount", amount, 0);
	api_set_str(o, "status", status != NULL ? status : "UNKNOWN", 0);
	json_object_set_new(o, "approvals", json_integer(p->approvals));
	json_object_set_new(o, "approvals_required",
	    json_integer(p->approvals_required));
	json_object_set_new(o, "timelock", json_boolean(p->needs_timelock));
	json_object_set_new(o, "not_before", p->not_before > 0 ?
	    api_json_time_ms(p->not_before * 1000) : json_null());
	json_object_set_new(o, "nonce", p->nonce >= 0 ?
	    json_integer(p->nonce) : json_null());
	api_set_str(o, "tx_hash", p->tx_hash, 1);
	json_object_set_new(o, "receipt", receipt_json(&p->receipt));
	json_object_set_new(o, "block_number", p->block_number >= 0 ?
	    json_integer(p->block_number) : json_null());
	json_object_set_new(o, "confirmations", json_integer(p->confirmations));
	json_object_set_new(o, "bumps", json_integer(p->bumps));
	api_set_str(o, "reason_code", p->reason_code, 1);
	api_set_str(o, "reason", p->reason, 1);
	json_object_set_new(o, "created_at", api_json_time_ms(p->created_at));
	json_object_set_new(o, "updated_at", api_json_time_ms(p->updated_at));
	return o;
}

void
api_reply_payout(struct api_reply *rep, int status,
    const struct payout *p)
{
	api_reply_json(rep, status, payout_json(p));
}

void
api_payouts_create(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	const struct signer_version *sv;
	const struct pol_policy *p;
	struct val_payout v;
	struct val_decision dec;
	struct val_err e;
	struct payout_new *in = NULL;
	struct payout *out = NULL;
	uint8_t sender[EVM_ADDR_LEN];
	struct db *d = NULL;
	int created = 0, r;

	if ((sv = api_version_of(app, req, rep)) == NULL)
		goto out;
	p = sv->policy;
	if (val_payout_body(&v, &e, p, req->body, req->body_len) != 0) {
		api_reply_val(rep, req, &e);
		goto out;
	}
	/* The version's key for the asset: after a rotation, the new one. */
	if (signer_sender(sv, v.asset, sender) != 0) {
		api_error(rep, req->request_id, 503, "UNAVAILABLE", "signerd "
		    "has no key '%s' for asset %s", v.asset->key, v.asset->name);
		goto out;
	}
	/* Advisory: signerd applies the same rules again when it signs. */
	val_precheck(&dec, p, &v);
	if ((in = calloc(1, sizeof(*in))) == NULL ||
	    (out = calloc(1, sizeof(*out))) == NULL) {
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		goto out;
	}
	memcpy(in->request_id, v.request_id, sizeof(in->request_id));
	memcpy(in->asset, v.asset->name, sizeof(in->asset));
	in->chain_id = v.asset->chain_id;
	memcpy(in->sender, sender, EVM_ADDR_LEN);
	memcpy(in->recipient, v.intent.recipient, EVM_ADDR_LEN);
	in->amount = v.intent.amount;
	in->status = dec.status;
	in->approvals_required = dec.approvals_required;
	in->needs_timelock = dec.needs_timelock;
	snprintf(in->reason_code, sizeof(in->reason_code), "%s",
	    dec.reason_code);
	snprintf(in->reason, sizeof(in->reason), "%s", dec.reason);

	if (api_db_get(app, &d, req, rep) != 0)
		goto out;
	r = store_create(d, in, out, &created);
	api_db_put(app, &d);
	if (r == STORE_CONFLICT) {
		api_error(rep, req->request_id, 409, "CONFLICT", "request_id %s "
		    "exists with another asset, recipient or amount",
		    v.request_id);
		goto out;
	}
	if (r != 0) {
		api_reply_db(rep, req, r, "store_create");
		goto out;
	}
	/* The same request again is the same payout, as it is now. */
	api_reply_payout(rep, created ? 201 : 200, out);
	if (created)
		log_info("payout %s created %s (%s %s to %s)", out->request_id,
		    fsm_status_name(out->status), v.amount, out->asset, v.to);
out:
	api_db_put(app, &d);
	free(in);
	free(out);
}

void
api_payouts_get(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	struct payout *out = NULL;
	struct db *d = NULL;
	int r;

	if ((out = calloc(1, sizeof(*out))) == NULL) {
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		goto out;
	}
	if (api_db_get(app, &d, req, rep) != 0)
		goto out;
	r = store_get(d, call->id, out);
	api_db_put(app, &d);
	if (r == ERR_NOT_FOUND)
		api_error(rep, req->request_id, 404, "NOT_FOUND", "no payout "
		    "%s", call->id);
	else if (r != 0)
		api_reply_db(rep, req, r, "store_get");
	else
		api_reply_payout(rep, 200, out);
out:
	api_db_put(app, &d);
	free(out);
}

void
api_payouts_list(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	enum payout_status status = PS_NONE;
	struct payout *list = NULL;
	char cursor[VAL_CURSOR_MAX], q[40];
	const char *s;
	struct val_err e;
	struct db *d = NULL;
	int64_t after = 0;
	size_t n = 0, i;
	json_t *o = NULL, *arr;
	int first, r;

	if (api_check_args(call, req, rep) != 0)
		goto out;
	if ((s = api_get_arg(req, "status")) != NULL &&
	    fsm_status_from_name(&status, s) != 0) {
		snprintf(q, sizeof(q), "%s", s);
		api_error(rep, req->request_id, 400, "BAD_REQUEST", "status: "
		    "'%s' is not a payout status", q);
		goto out;
	}
	if (val_first(&first, &e, api_get_arg(req, "first"), VAL_LIST_DEFAULT,
	    STORE_LIST_MAX) != 0) {
		api_reply_val(rep, req, &e);
		goto out;
	}
	if ((s = api_get_arg(req, "after")) != NULL &&
	    val_cursor_decode(&after, s) != 0) {
		api_error(rep, req->request_id, 400, "BAD_CURSOR", "after is not "
		    "a cursor this API returned");
		goto out;
	}
	if ((list = calloc((size_t)first, sizeof(*list))) == NULL) {
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		goto out;
	}
	if (api_db_get(app, &d, req, rep) != 0)
		goto out;
	r = store_list(d, status, after, first, list, &n);
	api_db_put(app, &d);
	if (r != 0) {
		api_reply_db(rep, req, r, "store_list");
		goto out;
	}
	if ((o = json_object()) == NULL || (arr = json_array()) == NULL) {
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		goto out;
	}
	json_object_set_new(o, "payouts", arr);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, payout_json(&list[i]));
	/* A full page may have a next one; a short page is the last. */
	if (n == (size_t)first && val_cursor_encode(cursor, sizeof(cursor),
	    list[n - 1].id) == 0)
		json_object_set_new(o, "next", json_string(cursor));
	else
		json_object_set_new(o, "next", json_null());
	api_reply_json(rep, 200, o);
	o = NULL;
out:
	json_decref(o);
	api_db_put(app, &d);
	free(list);
}
