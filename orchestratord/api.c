/* api.c: the HTTP API's routes and handlers: validate, pre-check, store, and reply in JSON. */
#include "orchestratord/api.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/err.h"
#include "common/log.h"
#include "orchestratord/api_policy.h"
#include "orchestratord/approval_check.h"
#include "orchestratord/ready.h"
#include "orchestratord/store.h"
#include "orchestratord/validate.h"

#define DB_WAIT_MS 2000		/* for a pooled connection, then 503 */
#define JSON_TYPE "application/json"
#define PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef void handler_fn(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep);

static handler_fn h_healthz, h_readyz, h_metrics, h_create, h_list, h_get,
    h_approve, h_reject, h_cancel, h_exposure, h_events;
/* Endpoints in files of their own: api_policy_get (api_policy.c). */

/*
 * The one route table: method, path ("{id}" is one segment holding a
 * request id), the permission the caller's role needs, whether a JSON body
 * is read, and the query parameters allowed (any other is a 400: a
 * misspelt ?frist= must not silently list 50).
 */
static const struct route {
	const char *method;
	const char *path;
	enum auth_perm perm;
	int body;
	const char *args[4];
	handler_fn *fn;
} routes[] = {
	{ "GET", "/healthz", AUTH_PERM_NONE, 0, { NULL }, h_healthz },
	{ "GET", "/readyz", AUTH_PERM_NONE, 0, { NULL }, h_readyz },
	{ "GET", "/metrics", AUTH_PERM_READ, 0, { NULL }, h_metrics },
	{ "POST", "/v1/payouts", AUTH_PERM_SUBMIT, 1, { NULL }, h_create },
	{ "GET", "/v1/payouts", AUTH_PERM_READ, 0,
	    { "status", "first", "after", NULL }, h_list },
	{ "GET", "/v1/payouts/{id}", AUTH_PERM_READ, 0, { NULL }, h_get },
	{ "POST", "/v1/payouts/{id}/approvals", AUTH_PERM_APPROVE, 1, { NULL },
	    h_approve },
	{ "POST", "/v1/payouts/{id}/reject", AUTH_PERM_APPROVE, 1, { NULL },
	    h_reject },
	{ "POST", "/v1/payouts/{id}/cancel", AUTH_PERM_APPROVE, 1, { NULL },
	    h_cancel },
	{ "GET", "/v1/exposure", AUTH_PERM_READ, 0, { "asset", "date", NULL },
	    h_exposure },
	{ "GET", "/v1/events", AUTH_PERM_READ, 0, { "after", "first", NULL },
	    h_events },
	{ "GET", "/v1/policy", AUTH_PERM_READ, 0, { NULL }, api_policy_get },
};

/* --- routing ------------------------------------------------------------------ */

/* Matches path against a route path; fills id for an "{id}" segment. */
static int
path_match(const char *pat, const char *path, char id[PRT_REQUEST_ID_MAX + 1])
{
	const char *brace;
	size_t n;

	for (;;) {
		if ((brace = strstr(pat, "{id}")) == NULL)
			return strcmp(pat, path) == 0;
		n = (size_t)(brace - pat);
		if (strncmp(pat, path, n) != 0)
			return 0;
		pat = brace + 4;
		path += n;
		n = strcspn(path, "/");
		/* An id no payout can have is no resource: 404, not 400. */
		if (n == 0 || n > PRT_REQUEST_ID_MAX)
			return 0;
		memcpy(id, path, n);
		id[n] = '\0';
		if (!pol_id_ok(id, PRT_REQUEST_ID_MAX))
			return 0;
		path += n;
	}
}

int
api_route(struct api_call *call, const char **allow, const char *method,
    const char *path)
{
	char id[PRT_REQUEST_ID_MAX + 1];
	int get = 0, post = 0;
	size_t i;

	memset(call, 0, sizeof(*call));
	*allow = NULL;
	for (i = 0; i < ARRAY_LEN(routes); i++) {
		id[0] = '\0';
		if (!path_match(routes[i].path, path, id))
			continue;
		if (strcmp(routes[i].method, method) == 0) {
			call->route = (int)i;
			memcpy(call->id, id, sizeof(call->id));
			return 0;
		}
		if (strcmp(routes[i].method, "GET") == 0)
			get = 1;
		else
			post = 1;
	}
	if (!get && !post)
		return ERR_NOT_FOUND;
	*allow = get && post ? "GET, POST" : get ? "GET" : "POST";
	return ERR_UNSUPPORTED;
}

enum auth_perm
api_perm(const struct api_call *call)
{
	return routes[call->route].perm;
}

int
api_wants_body(const struct api_call *call)
{
	return routes[call->route].body;
}

/* --- replies -------------------------------------------------------------------- */

void
api_reply_free(struct api_reply *rep)
{
	free(rep->body);
	rep->body = NULL;
	rep->len = 0;
}

/* Replaces anything but printable ASCII: messages quote input. */
static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s >= 0x7f)
			*s = '?';
}

/* Takes the reference to obj. */
static void
reply_json(struct api_reply *rep, int status, json_t *obj)
{
	api_reply_free(rep);
	rep->status = status;
	rep->content_type = JSON_TYPE;
	if (obj != NULL)
		rep->body = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	if (rep->body == NULL) {
		/* Out of memory: an empty 500 is all that is left to say. */
		rep->status = 500;
		rep->code = "INTERNAL";
		return;
	}
	rep->len = strlen(rep->body);
}

static json_t *
error_object(const char *request_id, const char *code, const char *message)
{
	return json_pack("{s:s, s:s, s:s}", "error", code, "message", message,
	    "request_id", request_id);
}

void
api_error(struct api_reply *rep, const char *request_id, int status,
    const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printable(msg);
	reply_json(rep, status, error_object(request_id, code, msg));
	rep->status = status;
	rep->code = code;
}

static void
reply_val(struct api_reply *rep, const struct api_request *req,
    const struct val_err *e)
{
	api_error(rep, req->request_id, e->status, e->code, "%s", e->message);
}

/*
 * A failure of the pool or the store: PostgreSQL away (or every pooled
 * connection busy) is 503, something to retry; anything else is our bug.
 */
static void
reply_db(struct api_reply *rep, const struct api_request *req, int r,
    const char *what)
{
	if (r == ERR_IO || r == ERR_TIMEOUT) {
		api_error(rep, req->request_id, 503, "UNAVAILABLE", "database "
		    "unavailable (%s); retry later", what);
		rep->retry_after = 1;
		return;
	}
	log_error("%s: %s: %s", what, err_str(r), db_last_error());
	api_error(rep, req->request_id, 500, "INTERNAL", "%s failed", what);
}

/*
 * The policy version in force, taken once per request: every check of the
 * request uses this one copy, even if a new version is published meanwhile
 * (it stays valid until exit, D54).
 */
static const struct signer_version *
version_of(struct app *app, const struct api_request *req,
    struct api_reply *rep)
{
	const struct signer_version *v;

	if (app->signer == NULL || (v = signer_current(app->signer)) == NULL) {
		api_error(rep, req->request_id, 503, "UNAVAILABLE", "signerd's "
		    "policy is not loaded yet");
		rep->retry_after = 1;
		return NULL;
	}
	return v;
}

static int
db_get(struct app *app, struct db **d, const struct api_request *req,
    struct api_reply *rep)
{
	int r;

	if ((r = db_pool_get(app->pool, d, DB_WAIT_MS)) != 0) {
		*d = NULL;
		reply_db(rep, req, r == ERR_TIMEOUT ? ERR_TIMEOUT : ERR_IO,
		    "no database connection");
	}
	return r;
}

static void
db_put(struct app *app, struct db **d)
{
	if (*d != NULL)
		db_pool_put(app->pool, *d);
	*d = NULL;
}

/* --- JSON of stored things --------------------------------------------------------- */

/* A string member, or null for an empty one when nullable. */
static void
set_str(json_t *o, const char *key, const char *s, int nullable)
{
	json_t *v;
	char *copy;

	if (nullable && (s == NULL || s[0] == '\0')) {
		json_object_set_new(o, key, json_null());
		return;
	}
	if (s == NULL)
		s = "";
	if ((v = json_string(s)) == NULL && (copy = strdup(s)) != NULL) {
		/* Not UTF-8 (never from us, but the column is text): show it. */
		printable(copy);
		v = json_string(copy);
		free(copy);
	}
	json_object_set_new(o, key, v != NULL ? v : json_null());
}

/* ISO-8601 UTC with milliseconds: 2026-11-22T10:04:05.123Z. */
static json_t *
json_time_ms(int64_t ms)
{
	char out[64];
	time_t s = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	struct tm tm;
	size_t n;

	if (frac < 0) {
		frac += 1000;
		s--;
	}
	if (gmtime_r(&s, &tm) == NULL)
		return json_null();
	n = strftime(out, sizeof(out) - 8, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, sizeof(out) - n, ".%03dZ", frac % 1000);
	return json_string(out);
}

/* For the endpoints in files of their own (api.h). */
void
api_reply_json(struct api_reply *rep, int status, json_t *obj)
{
	reply_json(rep, status, obj);
}

json_t *
api_json_time_ms(int64_t ms)
{
	return json_time_ms(ms);
}

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

	if (o == NULL)
		return NULL;
	set_str(o, "id", p->request_id, 0);
	set_str(o, "request_id", p->request_id, 0);
	set_str(o, "asset", p->asset, 0);
	json_object_set_new(o, "chain_id", json_integer((json_int_t)p->chain_id));
	set_str(o, "from", p->sender, 0);
	set_str(o, "to", p->recipient, 0);
	/* A string: amounts go past 2^53, where JSON numbers lose digits. */
	set_str(o, "amount", p->amount, 0);
	set_str(o, "status", status != NULL ? status : "UNKNOWN", 0);
	json_object_set_new(o, "approvals", json_integer(p->approvals));
	json_object_set_new(o, "approvals_required",
	    json_integer(p->approvals_required));
	json_object_set_new(o, "timelock", json_boolean(p->needs_timelock));
	json_object_set_new(o, "not_before", p->not_before > 0 ?
	    json_time_ms(p->not_before * 1000) : json_null());
	json_object_set_new(o, "nonce", p->nonce >= 0 ?
	    json_integer(p->nonce) : json_null());
	set_str(o, "tx_hash", p->tx_hash, 1);
	json_object_set_new(o, "receipt", receipt_json(&p->receipt));
	json_object_set_new(o, "block_number", p->block_number >= 0 ?
	    json_integer(p->block_number) : json_null());
	json_object_set_new(o, "confirmations", json_integer(p->confirmations));
	json_object_set_new(o, "bumps", json_integer(p->bumps));
	set_str(o, "reason_code", p->reason_code, 1);
	set_str(o, "reason", p->reason, 1);
	json_object_set_new(o, "created_at", json_time_ms(p->created_at));
	json_object_set_new(o, "updated_at", json_time_ms(p->updated_at));
	return o;
}

static void
reply_payout(struct api_reply *rep, int status, const struct payout *p)
{
	reply_json(rep, status, payout_json(p));
}

/* --- query parameters --------------------------------------------------------------- */

/* Every parameter must be one the route names, each at most once. */
static int
check_args(const struct api_call *call, const struct api_request *req,
    struct api_reply *rep)
{
	const char *const *allowed = routes[call->route].args;
	char key[40];
	size_t i, j;

	for (i = 0; i < req->nargs; i++) {
		for (j = 0; allowed[j] != NULL; j++)
			if (strcmp(allowed[j], req->args[i].key) == 0)
				break;
		snprintf(key, sizeof(key), "%s", req->args[i].key);
		if (allowed[j] == NULL) {
			api_error(rep, req->request_id, 400, "BAD_REQUEST",
			    "unknown query parameter '%s'", key);
			return ERR_MALFORMED;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(req->args[j].key, req->args[i].key) == 0) {
				api_error(rep, req->request_id, 400,
				    "BAD_REQUEST", "query parameter '%s' given "
				    "twice", key);
				return ERR_MALFORMED;
			}
		}
	}
	return 0;
}

static const char *
get_arg(const struct api_request *req, const char *key)
{
	size_t i;

	for (i = 0; i < req->nargs; i++)
		if (strcmp(req->args[i].key, key) == 0)
			return req->args[i].value != NULL ?
			    req->args[i].value : "";
	return NULL;
}

/* --- probes and metrics ---------------------------------------------------------------- */

static void
h_healthz(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	reply_json(rep, 200, json_pack("{s:s}", "status", "ok"));
}

/*
 * From the poller's last answer (ready.h): never waits on PostgreSQL or
 * signerd.  Ready when both answered within READY_STALE_MS, signerd can
 * sign right now, and we are not stopping; otherwise 503 with the first
 * reason (signerd's own when it cannot sign: PAUSED, JOURNAL_ERROR, ...).
 */
static void
h_readyz(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	struct ready_view v;
	const char *reason = NULL, *signer;
	char msg[PRT_MESSAGE_MAX + 80];
	json_t *o;

	memset(&v, 0, sizeof(v));
	if (app->ready != NULL)
		ready_get(app->ready, &v);
	signer = !v.signer_ok ? "down" : v.can_sign ? "ok" : "blocked";
	if (atomic_load(&app->stopping)) {
		reason = "STOPPING";
		snprintf(msg, sizeof(msg), "shutting down");
	} else if (!v.polled || v.age_ms > READY_STALE_MS) {
		reason = "NOT_CHECKED";
		snprintf(msg, sizeof(msg), "readiness not checked in the last "
		    "%d ms", READY_STALE_MS);
	} else if (!v.db_ok) {
		reason = "DATABASE_DOWN";
		snprintf(msg, sizeof(msg), "PostgreSQL does not answer");
	} else if (!v.signer_ok) {
		reason = "SIGNERD_UNREACHABLE";
		snprintf(msg, sizeof(msg), "%s", v.message);
	} else if (!v.can_sign) {
		reason = v.blocked > 0 ? pol_reason_name(v.blocked) :
		    "SIGNERD_BLOCKED";
		snprintf(msg, sizeof(msg), "signerd cannot sign: %s",
		    v.message[0] != '\0' ? v.message : v.blocked > 0 ?
		    pol_reason_text(v.blocked) : "no reason given");
	}
	if (reason == NULL) {
		reply_json(rep, 200, json_pack("{s:s, s:s, s:s, s:b, s:I}",
		    "status", "ok", "database", "ok", "signer", signer,
		    "signer_paused", v.paused, "checked_ms_ago",
		    (json_int_t)v.age_ms));
		return;
	}
	printable(msg);
	o = error_object(req->request_id, "UNAVAILABLE", msg);
	if (o != NULL) {
		json_object_set_new(o, "status", json_string("unavailable"));
		json_object_set_new(o, "reason", json_string(reason));
		json_object_set_new(o, "database", json_string(v.db_ok ? "ok" :
		    "down"));
		json_object_set_new(o, "signer", json_string(signer));
	}
	reply_json(rep, 503, o);
	rep->code = "UNAVAILABLE";
	rep->retry_after = 1;
}

static void
h_metrics(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	int64_t counts[PS_COUNT];
	struct db *d = NULL;
	int have = 0, r;

	/* A scrape still shows the process's own metrics without the database. */
	if (db_pool_get(app->pool, &d, DB_WAIT_MS) == 0) {
		have = store_count_by_status(d, counts) == 0;
		db_pool_put(app->pool, d);
	}
	api_reply_free(rep);
	if ((r = metrics_render(app->metrics, have ? counts : NULL, &rep->body,
	    &rep->len)) != 0) {
		api_error(rep, req->request_id, 500, "INTERNAL", "metrics: %s",
		    err_str(r));
		return;
	}
	rep->status = 200;
	rep->content_type = PROM_TYPE;
}

/* --- payouts ---------------------------------------------------------------------- */

static void
h_create(struct app *app, const struct api_call *call,
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

	if ((sv = version_of(app, req, rep)) == NULL)
		goto out;
	p = sv->policy;
	if (val_payout_body(&v, &e, p, req->body, req->body_len) != 0) {
		reply_val(rep, req, &e);
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
	evm_addr_to_str(in->sender, sender);
	memcpy(in->recipient, v.to, sizeof(in->recipient));
	memcpy(in->amount, v.amount, sizeof(in->amount));
	in->status = dec.status;
	in->approvals_required = dec.approvals_required;
	in->needs_timelock = dec.needs_timelock;
	snprintf(in->reason_code, sizeof(in->reason_code), "%s",
	    dec.reason_code);
	snprintf(in->reason, sizeof(in->reason), "%s", dec.reason);

	if (db_get(app, &d, req, rep) != 0)
		goto out;
	r = store_create(d, in, out, &created);
	db_put(app, &d);
	if (r == STORE_CONFLICT) {
		api_error(rep, req->request_id, 409, "CONFLICT", "request_id %s "
		    "exists with another asset, recipient or amount",
		    v.request_id);
		goto out;
	}
	if (r != 0) {
		reply_db(rep, req, r, "store_create");
		goto out;
	}
	/* The same request again is the same payout, as it is now. */
	reply_payout(rep, created ? 201 : 200, out);
	if (created)
		log_info("payout %s created %s (%s %s to %s)", out->request_id,
		    fsm_status_name(out->status), out->amount, out->asset,
		    out->recipient);
out:
	db_put(app, &d);
	free(in);
	free(out);
}

static void
h_get(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	struct payout *out = NULL;
	struct db *d = NULL;
	int r;

	if ((out = calloc(1, sizeof(*out))) == NULL) {
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		goto out;
	}
	if (db_get(app, &d, req, rep) != 0)
		goto out;
	r = store_get(d, call->id, out);
	db_put(app, &d);
	if (r == ERR_NOT_FOUND)
		api_error(rep, req->request_id, 404, "NOT_FOUND", "no payout "
		    "%s", call->id);
	else if (r != 0)
		reply_db(rep, req, r, "store_get");
	else
		reply_payout(rep, 200, out);
out:
	db_put(app, &d);
	free(out);
}

static void
h_list(struct app *app, const struct api_call *call,
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

	if (check_args(call, req, rep) != 0)
		goto out;
	if ((s = get_arg(req, "status")) != NULL &&
	    fsm_status_from_name(&status, s) != 0) {
		snprintf(q, sizeof(q), "%s", s);
		api_error(rep, req->request_id, 400, "BAD_REQUEST", "status: "
		    "'%s' is not a payout status", q);
		goto out;
	}
	if (val_first(&first, &e, get_arg(req, "first"), VAL_LIST_DEFAULT,
	    STORE_LIST_MAX) != 0) {
		reply_val(rep, req, &e);
		goto out;
	}
	if ((s = get_arg(req, "after")) != NULL &&
	    val_cursor_decode(&after, s) != 0) {
		api_error(rep, req->request_id, 400, "BAD_CURSOR", "after is not "
		    "a cursor this API returned");
		goto out;
	}
	if ((list = calloc((size_t)first, sizeof(*list))) == NULL) {
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		goto out;
	}
	if (db_get(app, &d, req, rep) != 0)
		goto out;
	r = store_list(d, status, after, first, list, &n);
	db_put(app, &d);
	if (r != 0) {
		reply_db(rep, req, r, "store_list");
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
	reply_json(rep, 200, o);
	o = NULL;
out:
	json_decref(o);
	db_put(app, &d);
	free(list);
}

/* The intent a stored payout stands for, as signerd will derive it. */
static int
stored_intent(struct pol_intent *in, const struct pol_policy *p,
    const struct payout *pay)
{
	size_t idx;

	memset(in, 0, sizeof(*in));
	if (pol_asset_by_name(p, pay->asset, &idx) != 0)
		return ERR_NOT_FOUND;
	in->asset = idx;
	memcpy(in->asset_name, pol_asset(p, idx)->name, sizeof(in->asset_name));
	in->chain_id = pay->chain_id;
	if (evm_addr_from_str(in->recipient, pay->recipient, 1) != 0 ||
	    u256_from_dec(&in->amount, pay->amount) != 0)
		return ERR_MALFORMED;
	return 0;
}

/* An advisory refusal of an approval: 422 with a code naming it. */
static void
reply_approval_refused(struct api_reply *rep, const struct api_request *req,
    enum pol_reason why, const char *detail)
{
	const char *code;

	switch (why) {
	case POL_APPROVAL_UNKNOWN_APPROVER:
		code = "BAD_APPROVER";
		break;
	case POL_APPROVAL_EXPIRED:
		code = "APPROVAL_EXPIRED";
		break;
	case POL_APPROVAL_BAD_SIGNATURE:
		code = "APPROVAL_BAD_SIGNATURE";
		break;
	default:
		code = pol_reason_name(why);
		break;
	}
	api_error(rep, req->request_id, 422, code, "%s", detail);
}

static void
h_approve(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	const struct signer_version *sv;
	const struct pol_policy *p;
	struct val_approval va;
	struct ac_approval ac;
	struct approval a;
	struct pol_intent in;
	struct payout *pay = NULL;
	struct val_err e;
	struct db *d = NULL;
	enum pol_reason why;
	char detail[256];
	int r;

	if ((sv = version_of(app, req, rep)) == NULL)
		goto out;
	p = sv->policy;
	if (val_approval_body(&va, &e, req->body, req->body_len) != 0 ||
	    val_approval_lifetime(&e, va.expiry, (uint64_t)time(NULL),
	    (uint64_t)app->cfg->approval_max_seconds) != 0) {
		reply_val(rep, req, &e);
		goto out;
	}
	if ((pay = calloc(1, sizeof(*pay))) == NULL) {
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		goto out;
	}
	if (db_get(app, &d, req, rep) != 0)
		goto out;
	if ((r = store_get(d, call->id, pay)) != 0) {
		if (r == ERR_NOT_FOUND)
			api_error(rep, req->request_id, 404, "NOT_FOUND", "no "
			    "payout %s", call->id);
		else
			reply_db(rep, req, r, "store_get");
		goto out;
	}
	if (pay->status != PS_PENDING_APPROVAL) {
		api_error(rep, req->request_id, 409, "CONFLICT", "payout %s is "
		    "%s; approvals are taken only while it is PENDING_APPROVAL",
		    call->id, fsm_status_name(pay->status));
		goto out;
	}
	if (stored_intent(&in, p, pay) != 0) {
		api_error(rep, req->request_id, 422, "UNKNOWN_ASSET", "payout "
		    "%s: asset %s is not in signerd's policy", call->id,
		    pay->asset);
		goto out;
	}
	/* Advisory, for fast feedback: signerd checks it again when signing. */
	ac.approver = va.approver;
	ac.expiry = va.expiry;
	ac.sig = va.sig;
	ac.sig_len = va.sig_len;
	why = ac_check_sign_with(sv->verifier, p, pay->request_id, &in, &ac,
	    (uint64_t)time(NULL), detail, sizeof(detail));
	if (why != POL_OK) {
		reply_approval_refused(rep, req, why, detail);
		goto out;
	}
	memset(&a, 0, sizeof(a));
	memcpy(a.approver, va.approver, sizeof(a.approver));
	a.expiry = va.expiry;
	memcpy(a.sig, va.sig, va.sig_len);
	a.sig_len = va.sig_len;
	r = store_add_approval(d, call->id, &a, pay);
	db_put(app, &d);
	if (r == STORE_CONFLICT) {
		if (pay->status == PS_PENDING_APPROVAL)
			api_error(rep, req->request_id, 409, "CONFLICT", "%s "
			    "has already approved payout %s", va.approver,
			    call->id);
		else
			api_error(rep, req->request_id, 409, "CONFLICT",
			    "payout %s is %s; approvals are taken only while "
			    "it is PENDING_APPROVAL", call->id,
			    fsm_status_name(pay->status));
		goto out;
	}
	if (r == ERR_NOT_FOUND) {
		api_error(rep, req->request_id, 404, "NOT_FOUND", "no payout %s",
		    call->id);
		goto out;
	}
	if (r != 0) {
		reply_db(rep, req, r, "store_add_approval");
		goto out;
	}
	log_info("payout %s approved by %s (%d of %d)", pay->request_id,
	    va.approver, pay->approvals, pay->approvals_required);
	reply_payout(rep, 200, pay);
out:
	db_put(app, &d);
	util_wipe(&va, sizeof(va));
	free(pay);
}

/*
 * A reject or cancel that store_end refused: BUSY while a worker holds the
 * payout (retry); QUEUED_IN_SIGNERD when signerd may hold it queued, where
 * only a signed cancel reaches; else the status does not allow it.
 */
static void
reply_end_refused(struct api_reply *rep, const struct api_request *req,
    const char *id, const char *verb, enum store_end_refusal why,
    const struct payout *pay)
{
	if (why == STORE_END_BUSY) {
		api_error(rep, req->request_id, 409, "BUSY", "payout %s is held "
		    "by a worker right now; retry", id);
		rep->retry_after = 1;
	} else if (why == STORE_END_IN_SIGNERD || pay->status == PS_QUEUED)
		api_error(rep, req->request_id, 409, "QUEUED_IN_SIGNERD",
		    "payout %s may be queued in signerd, where only an "
		    "approver's signed cancel stops it (POST "
		    "/v1/payouts/%s/cancel)", id, id);
	else
		api_error(rep, req->request_id, 409, "CONFLICT", "payout %s is "
		    "%s; only PENDING_APPROVAL or APPROVED payouts can be %s",
		    id, fsm_status_name(pay->status), verb);
}

static void
h_reject(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	static const enum payout_status from[] = { PS_PENDING_APPROVAL,
	    PS_APPROVED };
	char reason[VAL_REASON_MAX + 1];
	enum store_end_refusal why;
	struct payout *pay = NULL;
	struct val_err e;
	struct db *d = NULL;
	int r;

	if (val_reject_body(reason, &e, req->body, req->body_len) != 0) {
		reply_val(rep, req, &e);
		goto out;
	}
	if ((pay = calloc(1, sizeof(*pay))) == NULL) {
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		goto out;
	}
	if (db_get(app, &d, req, rep) != 0)
		goto out;
	/* A reject carries no approver's signature: it never reaches signerd. */
	r = store_end(d, call->id, from, ARRAY_LEN(from), PS_REJECTED, 0,
	    "REJECTED_BY_APPROVER", reason, &why, pay);
	db_put(app, &d);
	if (r == ERR_NOT_FOUND)
		api_error(rep, req->request_id, 404, "NOT_FOUND", "no payout %s",
		    call->id);
	else if (r == STORE_CONFLICT)
		reply_end_refused(rep, req, call->id, "rejected", why, pay);
	else if (r != 0)
		reply_db(rep, req, r, "store_end");
	else
		reply_payout(rep, 200, pay);
out:
	db_put(app, &d);
	free(pay);
}

/* signerd's refusal of a cancel: its reason name as the code. */
static void
reply_signer_refused(struct app *app, struct api_reply *rep,
    const struct api_request *req, const struct prt_reply_hdr *hdr)
{
	int status = 409;
	const char *code;

	if (hdr->result > 0) {
		code = pol_reason_name(hdr->result);
		metrics_refusal(app->metrics, code);
		/* The approval itself is bad: the client must fix it. */
		if ((hdr->result >= POL_APPROVALS_MISSING &&
		    hdr->result <= POL_APPROVAL_WRONG_INTENT) ||
		    hdr->result == POL_MALFORMED_REQUEST)
			status = 422;
		api_error(rep, req->request_id, status, code, "signerd: %s",
		    hdr->message[0] != '\0' ? hdr->message :
		    pol_reason_text(hdr->result));
		return;
	}
	api_error(rep, req->request_id, 409, err_name(hdr->result), "signerd: "
	    "%s", hdr->message[0] != '\0' ? hdr->message :
	    err_str(hdr->result));
}

/* CANCEL_REQ with the approver's signed cancel; 0 when signerd answered. */
static int
cancel_in_signerd(struct app *app, const char *id,
    const struct val_approval *va, struct prt_reply_hdr *hdr)
{
	struct prt_cancel_req creq;
	int r;

	memset(&creq, 0, sizeof(creq));
	memcpy(creq.request_id, id, sizeof(creq.request_id));
	memcpy(creq.approval.approver, va->approver,
	    sizeof(creq.approval.approver));
	creq.approval.expiry = va->expiry;
	memcpy(creq.approval.sig, va->sig, va->sig_len);
	creq.approval.sig_len = va->sig_len;
	r = prt_client_cancel(app->signer->client, &creq, hdr);
	util_wipe(&creq, sizeof(creq));
	return r;
}

/*
 * Invariant: a payout this API reports CANCELLED can never be signed.  The
 * cancel goes to signerd first, whatever the stored status: signerd
 * cancels a queued payout and, for one it never saw, records a cancel
 * that forbids its request id for good (D50), so a worker's QUEUE_REQ or
 * SIGN_REQ still on its way is refused.  Only after signerd journaled it
 * is the payout stored CANCELLED.  signerd answers TIMELOCK_NOT_QUEUED
 * once signing began: then the payout is not cancelled.
 */
static void
h_cancel(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	static const enum payout_status from[] = { PS_PENDING_APPROVAL,
	    PS_APPROVED, PS_QUEUED };
	const struct signer_version *sv;
	const struct pol_policy *p;
	struct prt_reply_hdr hdr;
	struct val_approval va;
	struct ac_approval ac;
	struct payout *pay = NULL;
	struct val_err e;
	struct db *d = NULL;
	enum store_end_refusal end_why;
	enum pol_reason why;
	enum payout_status was;
	char detail[256], reason[96];
	int r;

	if ((sv = version_of(app, req, rep)) == NULL)
		goto out;
	p = sv->policy;
	if (val_approval_body(&va, &e, req->body, req->body_len) != 0 ||
	    val_approval_lifetime(&e, va.expiry, (uint64_t)time(NULL),
	    (uint64_t)app->cfg->approval_max_seconds) != 0) {
		reply_val(rep, req, &e);
		goto out;
	}
	if ((pay = calloc(1, sizeof(*pay))) == NULL) {
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		goto out;
	}
	if (db_get(app, &d, req, rep) != 0)
		goto out;
	r = store_get(d, call->id, pay);
	/* No connection is held while signerd is asked below. */
	db_put(app, &d);
	if (r != 0) {
		if (r == ERR_NOT_FOUND)
			api_error(rep, req->request_id, 404, "NOT_FOUND", "no "
			    "payout %s", call->id);
		else
			reply_db(rep, req, r, "store_get");
		goto out;
	}
	was = pay->status;
	if (was != PS_PENDING_APPROVAL && was != PS_APPROVED &&
	    was != PS_QUEUED) {
		api_error(rep, req->request_id, 409, "CONFLICT", "payout %s is "
		    "%s; only PENDING_APPROVAL, APPROVED or QUEUED payouts can "
		    "be cancelled", call->id, fsm_status_name(was));
		goto out;
	}
	ac.approver = va.approver;
	ac.expiry = va.expiry;
	ac.sig = va.sig;
	ac.sig_len = va.sig_len;
	why = ac_check_cancel_with(sv->verifier, p, call->id, &ac,
	    (uint64_t)time(NULL), detail, sizeof(detail));
	if (why != POL_OK) {
		reply_approval_refused(rep, req, why, detail);
		goto out;
	}
	snprintf(reason, sizeof(reason), "cancelled by approver %s",
	    va.approver);
	/* Only signerd's cancel makes it unsignable: it goes first. */
	if ((r = cancel_in_signerd(app, call->id, &va, &hdr)) != 0) {
		api_error(rep, req->request_id, 503, "UNAVAILABLE",
		    "signerd: %s", err_str(r));
		rep->retry_after = 1;
		goto out;
	}
	if (hdr.result == POL_TIMELOCK_NOT_QUEUED) {
		api_error(rep, req->request_id, 409, "CONFLICT", "payout %s is "
		    "being signed or was signed by signerd; too late to cancel",
		    call->id);
		goto out;
	}
	if (hdr.result != 0) {
		reply_signer_refused(app, rep, req, &hdr);
		goto out;
	}
	if (db_get(app, &d, req, rep) != 0)
		goto out;
	r = store_end(d, call->id, from, ARRAY_LEN(from), PS_CANCELLED, 1,
	    "CANCELLED_BY_APPROVER", reason, &end_why, pay);
	db_put(app, &d);
	if (r == STORE_CONFLICT) {
		api_error(rep, req->request_id, 409, "CONFLICT", "payout %s is "
		    "now %s (signerd has cancelled it: it will not be signed)",
		    call->id, fsm_status_name(pay->status));
		goto out;
	}
	if (r != 0) {
		log_error("payout %s cancelled in signerd but not stored: %s",
		    call->id, err_str(r));
		reply_db(rep, req, r, "store_end");
		goto out;
	}
	log_info("payout %s cancelled by %s in signerd (was %s)", call->id,
	    va.approver, fsm_status_name(was));
	reply_payout(rep, 200, pay);
out:
	db_put(app, &d);
	util_wipe(&va, sizeof(va));
	free(pay);
}

/* --- exposure and events ------------------------------------------------------------ */

static void
h_exposure(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	const struct signer_version *sv;
	const struct pol_policy *p;
	struct prt_exposure_req xreq;
	struct prt_exposure_rep xrep;
	struct prt_reply_hdr hdr;
	struct val_err e;
	char date[VAL_DATE_STR], total[U256_DEC_MAX], limit[U256_DEC_MAX],
	    remaining[U256_DEC_MAX];
	uint32_t day;
	size_t idx;
	int r;

	if ((sv = version_of(app, req, rep)) == NULL ||
	    check_args(call, req, rep) != 0)
		return;
	p = sv->policy;
	if (val_asset(&idx, &e, p, get_arg(req, "asset")) != 0 ||
	    val_date(&day, &e, get_arg(req, "date")) != 0) {
		reply_val(rep, req, &e);
		return;
	}
	memset(&xreq, 0, sizeof(xreq));
	memcpy(xreq.asset, pol_asset(p, idx)->name, sizeof(xreq.asset));
	xreq.date = day;
	if ((r = prt_client_exposure(app->signer->client, &xreq, &xrep,
	    &hdr)) != 0) {
		api_error(rep, req->request_id, 503, "UNAVAILABLE", "signerd: %s",
		    err_str(r));
		rep->retry_after = 1;
		return;
	}
	if (hdr.result != 0) {
		if (hdr.result == POL_UNKNOWN_ASSET)
			api_error(rep, req->request_id, 422, "UNKNOWN_ASSET",
			    "signerd: %s", hdr.message);
		else
			api_error(rep, req->request_id, 503, "UNAVAILABLE",
			    "signerd: %s", hdr.message);
		return;
	}
	val_day_str(date, xrep.date);
	u256_to_dec(total, sizeof(total), &xrep.signed_total);
	u256_to_dec(limit, sizeof(limit), &xrep.limit);
	u256_to_dec(remaining, sizeof(remaining), &xrep.remaining);
	reply_json(rep, 200, json_pack("{s:s, s:s, s:s, s:s, s:s}", "asset",
	    xreq.asset, "date", date, "signed_total", total, "limit", limit,
	    "remaining", remaining));
}

static void
h_events(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	struct outbox_event *ev = NULL;
	struct val_err e;
	struct db *d = NULL;
	json_error_t jerr;
	json_t *o = NULL, *arr, *item, *payload;
	int64_t after;
	size_t n = 0, i;
	int first, r;

	if (check_args(call, req, rep) != 0)
		goto out;
	if (val_event_after(&after, &e, get_arg(req, "after")) != 0 ||
	    val_first(&first, &e, get_arg(req, "first"), VAL_LIST_DEFAULT,
	    STORE_LIST_MAX) != 0) {
		reply_val(rep, req, &e);
		goto out;
	}
	if ((ev = calloc((size_t)first, sizeof(*ev))) == NULL) {
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		goto out;
	}
	if (db_get(app, &d, req, rep) != 0)
		goto out;
	r = store_events(d, after, first, ev, &n);
	db_put(app, &d);
	if (r != 0) {
		reply_db(rep, req, r, "store_events");
		goto out;
	}
	if ((o = json_object()) == NULL || (arr = json_array()) == NULL) {
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		goto out;
	}
	json_object_set_new(o, "events", arr);
	for (i = 0; i < n; i++) {
		if ((item = json_object()) == NULL)
			continue;
		json_object_set_new(item, "id", json_integer(ev[i].id));
		set_str(item, "request_id", ev[i].request_id, 0);
		set_str(item, "event", ev[i].event, 0);
		/* The outbox keeps jsonb: show it as the object it is. */
		if ((payload = json_loads(ev[i].payload, 0, &jerr)) == NULL)
			set_str(item, "payload", ev[i].payload, 0);
		else
			json_object_set_new(item, "payload", payload);
		json_object_set_new(item, "created_at",
		    json_time_ms(ev[i].created_at));
		json_array_append_new(arr, item);
	}
	/* Where to continue: after the last event, or where this page began. */
	json_object_set_new(o, "next", json_integer(n > 0 ? ev[n - 1].id :
	    after));
	reply_json(rep, 200, o);
	o = NULL;
out:
	json_decref(o);
	db_put(app, &d);
	free(ev);
}

void
api_handle(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	const struct route *rt;

	memset(rep, 0, sizeof(*rep));
	if (call->route < 0 || (size_t)call->route >= ARRAY_LEN(routes)) {
		api_error(rep, req->request_id, 500, "INTERNAL", "no route");
		return;
	}
	rt = &routes[call->route];
	/* Bodies are for POSTs; a query on them is a client mistake too. */
	if (rt->args[0] == NULL && req->nargs > 0 &&
	    check_args(call, req, rep) != 0)
		return;
	rt->fn(app, call, req, rep);
}
