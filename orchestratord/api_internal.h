/*
 * api_internal.h: what the endpoint files of the HTTP API (api_*.c)
 * share, and their handlers, which api.c's one route table names.  Not
 * for the rest of orchestratord: api.h is the API's interface.
 *
 * Every helper that replies fills *rep with an error body on failure, so
 * a handler just stops.
 */
#ifndef ORCH_API_INTERNAL_H
#define ORCH_API_INTERNAL_H

#include <stdint.h>

#include <jansson.h>

#include "orchestratord/api.h"
#include "orchestratord/db.h"
#include "orchestratord/signer.h"
#include "orchestratord/store.h"
#include "orchestratord/validate.h"

#define DB_WAIT_MS 2000		/* for a pooled connection, then 503 */

/* --- the handlers (api.c's route table) ------------------------------------ */

#define API_HANDLER(name) void name(struct app *app, \
    const struct api_call *call, const struct api_request *req, \
    struct api_reply *rep)

/* api_probes.c: GET /healthz, /readyz, /metrics */
API_HANDLER(api_probes_healthz);
API_HANDLER(api_probes_readyz);
API_HANDLER(api_probes_metrics);
/* api_payouts.c: POST /v1/payouts, GET /v1/payouts, /v1/payouts/{id} */
API_HANDLER(api_payouts_create);
API_HANDLER(api_payouts_list);
API_HANDLER(api_payouts_get);
/* api_approvals.c: POST /v1/payouts/{id}/approvals, /reject, /cancel */
API_HANDLER(api_approvals_add);
API_HANDLER(api_approvals_reject);
API_HANDLER(api_approvals_cancel);
/* api_exposure.c: GET /v1/exposure */
API_HANDLER(api_exposure_get);
/* api_events.c: GET /v1/events */
API_HANDLER(api_events_list);

/* --- shared by the handlers (api.c) ---------------------------------------- */

/* Replaces anything but printable ASCII in s: messages quote input. */
void api_printable(char *s);

/* {"error": code, "message": message, "request_id": request_id}. */
json_t *api_error_object(const char *request_id, const char *code,
    const char *message);

/* A validation error (validate.h) as the error reply it names. */
void api_reply_val(struct api_reply *rep, const struct api_request *req,
    const struct val_err *e);

/*
 * A failure r of the pool or the store in what: 503 UNAVAILABLE with
 * Retry-After for PostgreSQL away (ERR_IO, ERR_TIMEOUT), else 500 (logged).
 */
void api_reply_db(struct api_reply *rep, const struct api_request *req,
    int r, const char *what);

/*
 * The policy version in force, taken once per request: every check of the
 * request uses this one copy (D54).  NULL (503 replied) when none is
 * loaded yet.
 */
const struct signer_version *api_version_of(struct app *app,
    const struct api_request *req, struct api_reply *rep);

/*
 * A pooled connection into *d, waiting at most DB_WAIT_MS.  Returns 0, or
 * an error with *d NULL and the 503 replied.  api_db_put gives it back
 * (*d NULL: nothing) and sets *d NULL, so calling it twice is safe.
 */
int api_db_get(struct app *app, struct db **d, const struct api_request *req,
    struct api_reply *rep);
void api_db_put(struct app *app, struct db **d);

/* Sets string member key of o; an empty or NULL s is null when nullable. */
void api_set_str(json_t *o, const char *key, const char *s, int nullable);

/*
 * 0 when every query parameter is one the call's route allows, each at
 * most once; else ERR_MALFORMED with the 400 replied.
 */
int api_check_args(const struct api_call *call, const struct api_request *req,
    struct api_reply *rep);

/* The value of query parameter key ("" for "?key"), or NULL if absent. */
const char *api_get_arg(const struct api_request *req, const char *key);

/* --- api_payouts.c ----------------------------------------------------------- */

/* p as the API shows a payout, with status. */
void api_reply_payout(struct api_reply *rep, int status,
    const struct payout *p);

#endif
