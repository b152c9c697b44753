/*
 * api.c: the HTTP API's one route table, routing, and what every endpoint
 * shares (error and JSON replies, query parameters, the pooled database
 * connection, the policy version of a request).  The endpoints are in
 * api_<resource>.c, one file per resource.
 */
#include "orchestratord/api_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/err.h"
#include "common/log.h"
#include "orchestratord/api_policy.h"
#include "orchestratord/api_webhooks.h"

#define JSON_TYPE "application/json"

typedef void handler_fn(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep);

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
	{ "GET", "/healthz", AUTH_PERM_NONE, 0, { NULL }, api_probes_healthz },
	{ "GET", "/readyz", AUTH_PERM_NONE, 0, { NULL }, api_probes_readyz },
	{ "GET", "/metrics", AUTH_PERM_READ, 0, { NULL }, api_probes_metrics },
	{ "POST", "/v1/payouts", AUTH_PERM_SUBMIT, 1, { NULL },
	    api_payouts_create },
	{ "GET", "/v1/payouts", AUTH_PERM_READ, 0,
	    { "status", "first", "after", NULL }, api_payouts_list },
	{ "GET", "/v1/payouts/{id}", AUTH_PERM_READ, 0, { NULL },
	    api_payouts_get },
	{ "POST", "/v1/payouts/{id}/approvals", AUTH_PERM_APPROVE, 1, { NULL },
	    api_approvals_add },
	{ "POST", "/v1/payouts/{id}/reject", AUTH_PERM_APPROVE, 1, { NULL },
	    api_approvals_reject },
	{ "POST", "/v1/payouts/{id}/cancel", AUTH_PERM_APPROVE, 1, { NULL },
	    api_approvals_cancel },
	{ "GET", "/v1/exposure", AUTH_PERM_READ, 0, { "asset", "date", NULL },
	    api_exposure_get },
	{ "GET", "/v1/events", AUTH_PERM_READ, 0, { "after", "first", NULL },
	    api_events_list },
	{ "GET", "/v1/policy", AUTH_PERM_READ, 0, { NULL }, api_policy_get },
	{ "GET", "/v1/webhooks/{id}/dead", AUTH_PERM_ADMIN, 0,
	    { "after", "first", NULL }, api_webhooks_dead },
	{ "POST", "/v1/webhooks/{id}/replay", AUTH_PERM_ADMIN, 1, { NULL },
	    api_webhooks_replay },
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
void
api_printable(char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s >= 0x7f)
			*s = '?';
}

/* Takes the reference to obj. */
void
api_reply_json(struct api_reply *rep, int status, json_t *obj)
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

json_t *
api_error_object(const char *request_id, const char *code,
    const char *message)
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
	api_printable(msg);
	api_reply_json(rep, status, api_error_object(request_id, code, msg));
	rep->status = status;
	rep->code = code;
}

void
api_reply_val(struct api_reply *rep, const struct api_request *req,
    const struct val_err *e)
{
	api_error(rep, req->request_id, e->status, e->code, "%s", e->message);
}

/*
 * A failure of the pool or the store: PostgreSQL away (or every pooled
 * connection busy) is 503, something to retry; anything else is our bug.
 */
void
api_reply_db(struct api_reply *rep, const struct api_request *req, int r,
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
const struct signer_version *
api_version_of(struct app *app, const struct api_request *req,
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

int
api_db_get(struct app *app, struct db **d, const struct api_request *req,
    struct api_reply *rep)
{
	int r;

	if ((r = db_pool_get(app->pool, d, DB_WAIT_MS)) != 0) {
		*d = NULL;
		api_reply_db(rep, req, r == ERR_TIMEOUT ? ERR_TIMEOUT : ERR_IO,
		    "no database connection");
	}
	return r;
}

void
api_db_put(struct app *app, struct db **d)
{
	if (*d != NULL)
		db_pool_put(app->pool, *d);
	*d = NULL;
}

/* --- JSON of stored things --------------------------------------------------------- */

/* A string member, or null for an empty one when nullable. */
void
api_set_str(json_t *o, const char *key, const char *s, int nullable)
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
		api_printable(copy);
		v = json_string(copy);
		free(copy);
	}
	json_object_set_new(o, key, v != NULL ? v : json_null());
}

/* ISO-8601 UTC with milliseconds: 2026-11-22T10:04:05.123Z. */
json_t *
api_json_time_ms(int64_t ms)
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

/* --- query parameters --------------------------------------------------------------- */

/* Every parameter must be one the route names, each at most once. */
int
api_check_args(const struct api_call *call, const struct api_request *req,
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

const char *
api_get_arg(const struct api_request *req, const char *key)
{
	size_t i;

	for (i = 0; i < req->nargs; i++)
		if (strcmp(req->args[i].key, key) == 0)
			return req->args[i].value != NULL ?
			    req->args[i].value : "";
	return NULL;
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
	    api_check_args(call, req, rep) != 0)
		return;
	rt->fn(app, call, req, rep);
}
