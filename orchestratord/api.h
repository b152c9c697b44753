/*
 * api.h: the endpoints of orchestratord's HTTP API: routes, the role each
 * needs, and handlers that turn a request into a JSON reply through
 * store.h and signerd.  Knows nothing of the HTTP library: http.c parses
 * the request, authenticates the caller, limits the body and sends what
 * the handler replies.
 *
 *   GET  /healthz                        process alive
 *   GET  /readyz                         PostgreSQL answers, signerd can sign
 *                                        (from ready.h's poller: no I/O)
 *   GET  /metrics                        Prometheus text
 *   POST /v1/payouts                     create (idempotent by request_id)
 *   GET  /v1/payouts?status=&first=&after=   list, oldest first
 *   GET  /v1/payouts/{id}                one payout (id = its request id)
 *   POST /v1/payouts/{id}/approvals      add a signed approval
 *   POST /v1/payouts/{id}/reject         approver rejects it
 *   POST /v1/payouts/{id}/cancel         approver cancels it (signed)
 *   GET  /v1/exposure?asset=&date=       signerd's exposure of a UTC day
 *   GET  /v1/events?after=&first=        the outbox, oldest first
 *   GET  /v1/policy                      signerd's policy version in force
 *                                        and pending change (api_policy.c)
 *
 * Errors are {"error": CODE, "message": text, "request_id": id} with the
 * status codes of validate.h plus 401 UNAUTHENTICATED, 403 FORBIDDEN,
 * 404 NOT_FOUND, 405 METHOD_NOT_ALLOWED, 409 CONFLICT, BUSY (a worker
 * holds the payout: retry), QUEUED_IN_SIGNERD (a reject of a payout
 * signerd may hold: only a signed cancel stops it) or signerd's reason
 * name, 413 TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE, 429
 * RATE_LIMITED, 503 UNAVAILABLE (PostgreSQL or signerd down, or
 * stopping), 500 INTERNAL.  A refused request changes nothing.
 */
#ifndef ORCH_API_H
#define ORCH_API_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "orchestratord/app.h"
#include "orchestratord/auth.h"
#include "proto/msg.h"

#define API_ARGS_MAX 8		/* query parameters per request */
#define API_REQUEST_ID_MAX 64	/* X-Request-Id: 1..64 of [A-Za-z0-9._:-] */

/* One query parameter, percent-decoded; value "" for "?key". */
struct api_arg {
	const char *key;
	const char *value;
};

struct api_request {
	const char *request_id;		/* for error bodies */
	const struct api_arg *args;	/* nargs of them */
	size_t nargs;
	const uint8_t *body;		/* POST: the whole body; else NULL */
	size_t body_len;
};

struct api_reply {
	int status;
	char *body;			/* malloc'd (free() it); NULL if none */
	size_t len;
	const char *content_type;	/* static */
	const char *code;		/* error code for the log; NULL on success */
	int retry_after;		/* seconds for Retry-After; 0: none */
	int www_authenticate;		/* 1: add WWW-Authenticate: Bearer */
	const char *allow;		/* 405: the Allow header; static */
};

/* A routed request: which endpoint, and the {id} of its path. */
struct api_call {
	int route;			/* index into api.c's table */
	char id[PRT_REQUEST_ID_MAX + 1];
};

/*
 * Finds the endpoint of method and path (no query string).  Returns 0
 * and *call; ERR_NOT_FOUND for a path no endpoint has (also an {id} that
 * cannot be a request id); ERR_UNSUPPORTED when the path exists but not
 * with this method (*allow then lists the methods it has).
 */
int api_route(struct api_call *call, const char **allow, const char *method,
    const char *path) WARN_UNUSED;

/* What a routed call needs from its caller's token. */
enum auth_perm api_perm(const struct api_call *call);

/* 1 when the endpoint reads a JSON body (POST), else 0. */
int api_wants_body(const struct api_call *call);

/*
 * Runs the endpoint and fills *rep (status, body, headers).  Never fails:
 * every problem is an error reply.  Blocks on PostgreSQL (a pooled
 * connection, at most 2 s to get one) and signerd (its timeout).
 */
void api_handle(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep);

/*
 * Fills *rep with an error body; the message is cut to printable ASCII.
 * Replaces any body rep had.
 */
void api_error(struct api_reply *rep, const char *request_id, int status,
    const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Frees rep's body; rep may be reused. */
void api_reply_free(struct api_reply *rep);

/* --- for the endpoints in files of their own (api_*.c) ------------------ */

struct json_t;

/*
 * Replaces rep's body with obj as compact JSON and the status; takes the
 * reference to obj (NULL, or out of memory: an empty 500).
 */
void api_reply_json(struct api_reply *rep, int status, struct json_t *obj);

/*
 * A time as every time in the API: RFC 3339, UTC, milliseconds
 * ("2026-11-22T10:04:05.123Z"); ms is unix milliseconds.
 */
struct json_t *api_json_time_ms(int64_t ms);

#endif
