/* api_policy.c: GET /v1/policy: signerd's policy version in force and its pending change. */
#include "orchestratord/api_policy.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "orchestratord/signer.h"

static json_t *
hash_json(const uint8_t hash[PRT_HASH_LEN])
{
	char hex[2 * PRT_HASH_LEN + 1];

	util_hex_encode(hex, hash, PRT_HASH_LEN);
	return json_string(hex);
}

/* Unix seconds as the API's time; 0 (signerd does not know) as null. */
static json_t *
time_json(uint64_t unix_s)
{
	if (unix_s == 0 || unix_s > (uint64_t)INT64_MAX / 1000)
		return json_null();
	return api_json_time_ms((int64_t)unix_s * 1000);
}

/* Ids are signerd's (checked charset), never quoted input: still, as text. */
static json_t *
id_json(const char *id, size_t cap)
{
	json_t *v;

	if (strnlen(id, cap) == cap || (v = json_string(id)) == NULL)
		return json_null();
	return v;
}

static json_t *
pending_json(const struct prt_gov_state *st)
{
	json_t *o, *names;
	size_t i, n;

	if (!st->pending)
		return json_null();
	if ((o = json_object()) == NULL)
		return NULL;
	if ((names = json_array()) == NULL) {
		json_decref(o);
		return NULL;
	}
	n = st->napproved <= PRT_GOV_APPROVED_MAX ? st->napproved :
	    PRT_GOV_APPROVED_MAX;
	for (i = 0; i < n; i++)
		json_array_append_new(names, id_json(st->approved[i],
		    sizeof(st->approved[i])));
	json_object_set_new(o, "policy_id", id_json(st->pending_id,
	    sizeof(st->pending_id)));
	json_object_set_new(o, "policy_hash", hash_json(st->pending_hash));
	json_object_set_new(o, "change", json_string(
	    st->change == PRT_GOV_TIGHTEN ? "tighten" :
	    st->change == PRT_GOV_LOOSEN ? "loosen" : "unknown"));
	json_object_set_new(o, "proposed_at", time_json(st->proposed_at));
	json_object_set_new(o, "approvals", names);
	json_object_set_new(o, "needed", json_integer(st->needed));
	/* 0 until the approvals are in: then when it takes (took) effect. */
	json_object_set_new(o, "effective_at", time_json(st->effective_at));
	return o;
}

json_t *
api_policy_json(const struct prt_gov_state *st)
{
	json_t *o, *pending;

	if ((pending = pending_json(st)) == NULL)
		return NULL;
	if ((o = json_object()) == NULL) {
		json_decref(pending);
		return NULL;
	}
	json_object_set_new(o, "policy_id", id_json(st->policy_id,
	    sizeof(st->policy_id)));
	json_object_set_new(o, "policy_hash", hash_json(st->policy_hash));
	json_object_set_new(o, "version", json_integer(st->version));
	json_object_set_new(o, "since", time_json(st->since));
	json_object_set_new(o, "pending", pending);
	return o;
}

/*
 * Asked of signerd at each request, not of the copy the advisory checks
 * use: a pending proposal gains approvals without a new version, and this
 * is what an operator checks after approving.
 */
void
api_policy_get(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	struct prt_gov_state st;
	struct signer_answer ans;

	(void)call;
	if (app->signer == NULL) {
		api_error(rep, req->request_id, 503, "UNAVAILABLE", "signerd is "
		    "not connected yet");
		rep->retry_after = 1;
		return;
	}
	if (signer_gov_status(app->signer, &st, &ans) != SIGNER_DONE) {
		api_error(rep, req->request_id, 503, "UNAVAILABLE", "signerd: %s",
		    ans.message);
		rep->retry_after = signer_retry_after_s(&ans);
		return;
	}
	api_reply_json(rep, 200, api_policy_json(&st));
}
