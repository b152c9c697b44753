/* api_webhooks.c: list and replay webhook dead letters (admin). */
#include "orchestratord/api_webhooks.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/log.h"
#include "orchestratord/api_internal.h"
#include "orchestratord/db.h"
#include "orchestratord/validate.h"

#define DEAD_PAGE_MAX 500
#define EVENT_ID_MAX 9007199254740991LL	/* 2^53 - 1: exact in JSON */

int
api_webhooks_replay_body(int64_t *event_id, char *why, size_t whylen,
    const uint8_t *body, size_t len)
{
	json_error_t jerr;
	json_t *root, *ev, *all;
	int r = ERR_MALFORMED;

	*event_id = 0;
	root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		snprintf(why, whylen, "body is not JSON: line %d column %d",
		    jerr.line, jerr.column);
		return ERR_MALFORMED;
	}
	ev = json_object_get(root, "event_id");
	all = json_object_get(root, "all");
	if (!json_is_object(root) || json_object_size(root) != 1 ||
	    (ev == NULL && all == NULL)) {
		snprintf(why, whylen, "body must be {\"event_id\": N} or "
		    "{\"all\": true}");
		goto out;
	}
	if (all != NULL) {
		if (!json_is_true(all)) {
			snprintf(why, whylen, "'all' must be true");
			goto out;
		}
		r = 0;
		goto out;
	}
	if (!json_is_integer(ev) || json_integer_value(ev) < 1 ||
	    json_integer_value(ev) > EVENT_ID_MAX) {
		snprintf(why, whylen, "'event_id' must be a whole number from "
		    "1 to %lld", EVENT_ID_MAX);
		goto out;
	}
	*event_id = (int64_t)json_integer_value(ev);
	r = 0;
out:
	json_decref(root);
	return r;
}

/* {name} must be a subscriber of the config: a typo is a 404. */
static int
known(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	const struct wh_config *wc = &app->cfg->webhooks;
	size_t i;

	for (i = 0; i < wc->nsubs; i++)
		if (strcmp(wc->subs[i].name, call->id) == 0)
			return 1;
	api_error(rep, req->request_id, 404, "NOT_FOUND", "no webhook '%s' in "
	    "the config", call->id);
	return 0;
}

static json_t *
dead_json(const PGresult *res, int i)
{
	const char *err = PQgetvalue(res, i, 5);
	int64_t http = strtoll(PQgetvalue(res, i, 4), NULL, 10);

	return json_pack("{s:I, s:s, s:s, s:i, s:o, s:o, s:o, s:o, s:i}",
	    "event_id", (json_int_t)strtoll(PQgetvalue(res, i, 0), NULL, 10),
	    "request_id", PQgetvalue(res, i, 1),
	    "event", PQgetvalue(res, i, 2),
	    "attempts", (int)strtol(PQgetvalue(res, i, 3), NULL, 10),
	    "last_http_status", http > 0 ? json_integer(http) : json_null(),
	    "last_error", err[0] != '\0' ? json_string(err) : json_null(),
	    "last_attempt_at", api_json_time_ms(strtoll(PQgetvalue(res, i, 6),
	    NULL, 10)),
	    "dead_at", api_json_time_ms(strtoll(PQgetvalue(res, i, 7), NULL,
	    10)),
	    "replays", (int)strtol(PQgetvalue(res, i, 8), NULL, 10));
}

void
api_webhooks_dead(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	const char *params[3];
	char after_s[24], first_s[16];
	struct val_err e;
	struct db *d = NULL;
	PGresult *res = NULL;
	json_t *o, *arr, *item;
	int64_t after, last = 0;
	int first, r, i;

	if (!known(app, call, req, rep) || api_check_args(call, req, rep) != 0)
		return;
	if (val_event_after(&after, &e, api_get_arg(req, "after")) != 0 ||
	    val_first(&first, &e, api_get_arg(req, "first"), VAL_LIST_DEFAULT,
	    DEAD_PAGE_MAX) != 0) {
		api_reply_val(rep, req, &e);
		return;
	}
	snprintf(after_s, sizeof(after_s), "%" PRId64, after);
	snprintf(first_s, sizeof(first_s), "%d", first);
	params[0] = call->id;
	params[1] = after_s;
	params[2] = first_s;
	if (api_db_get(app, &d, req, rep) != 0)
		return;
	r = db_exec(d, &res, "wh_dead", 3, params);
	api_db_put(app, &d);
	if (r != 0) {
		api_reply_db(rep, req, r, "wh_dead");
		return;
	}
	if ((o = json_object()) == NULL || (arr = json_array()) == NULL ||
	    json_object_set_new(o, "dead", arr) != 0) {
		json_decref(o);
		PQclear(res);
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		return;
	}
	for (i = 0; i < PQntuples(res) && i < first; i++) {
		if ((item = dead_json(res, i)) != NULL)
			json_array_append_new(arr, item);
		last = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	}
	PQclear(res);
	/* Where to continue: after the last one, or where this page began. */
	json_object_set_new(o, "next", json_integer(last > 0 ? last : after));
	api_reply_json(rep, 200, o);
}

void
api_webhooks_replay(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	const char *params[2];
	char why[160], ev_s[24];
	struct db *d = NULL;
	PGresult *res = NULL;
	int64_t ev, n;
	int r;

	if (!known(app, call, req, rep))
		return;
	if (api_webhooks_replay_body(&ev, why, sizeof(why), req->body,
	    req->body_len) != 0) {
		api_error(rep, req->request_id, 400, "BAD_REQUEST", "%s", why);
		return;
	}
	snprintf(ev_s, sizeof(ev_s), "%" PRId64, ev);
	params[0] = call->id;
	params[1] = ev > 0 ? ev_s : NULL;
	if (api_db_get(app, &d, req, rep) != 0)
		return;
	r = db_exec(d, &res, "wh_replay", 2, params);
	api_db_put(app, &d);
	if (r != 0) {
		api_reply_db(rep, req, r, "wh_replay");
		return;
	}
	n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (ev > 0 && n == 0) {
		api_error(rep, req->request_id, 404, "NOT_FOUND", "event %"
		    PRId64 " is not a dead letter of webhook '%s'", ev,
		    call->id);
		return;
	}
	log_info("webhook %s: %" PRId64 " dead letter(s) replayed", call->id,
	    n);
	api_reply_json(rep, 200, json_pack("{s:I}", "replayed",
	    (json_int_t)n));
}
