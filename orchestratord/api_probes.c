/* api_probes.c: GET /healthz, /readyz and /metrics: what monitoring polls. */
#include "orchestratord/api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "orchestratord/ready.h"

#define PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

void
api_probes_healthz(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	api_reply_json(rep, 200, json_pack("{s:s}", "status", "ok"));
}

/*
 * From the poller's last answer (ready.h): never waits on PostgreSQL or
 * signerd.  Ready when both answered within READY_STALE_MS, signerd can
 * sign right now, and we are not stopping; otherwise 503 with the first
 * reason (signerd's own when it cannot sign: PAUSED, JOURNAL_ERROR, ...).
 */
void
api_probes_readyz(struct app *app, const struct api_call *call,
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
		api_reply_json(rep, 200, json_pack("{s:s, s:s, s:s, s:b, s:I}",
		    "status", "ok", "database", "ok", "signer", signer,
		    "signer_paused", v.paused, "checked_ms_ago",
		    (json_int_t)v.age_ms));
		return;
	}
	api_printable(msg);
	o = api_error_object(req->request_id, "UNAVAILABLE", msg);
	if (o != NULL) {
		json_object_set_new(o, "status", json_string("unavailable"));
		json_object_set_new(o, "reason", json_string(reason));
		json_object_set_new(o, "database", json_string(v.db_ok ? "ok" :
		    "down"));
		json_object_set_new(o, "signer", json_string(signer));
	}
	api_reply_json(rep, 503, o);
	rep->code = "UNAVAILABLE";
	rep->retry_after = 1;
}

void
api_probes_metrics(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	int64_t counts[PS_COUNT];
	struct signer_answer ans;
	struct prt_metrics *sd;
	struct db *d = NULL;
	int have = 0, r;

	/* A scrape still shows the process's own metrics without the database. */
	if (db_pool_get(app->pool, &d, DB_WAIT_MS) == 0) {
		have = store_count_by_status(d, counts) == 0;
		db_pool_put(app->pool, d);
	}
	/* signerd's families, asked now (docs/metrics.md); NULL: down. */
	if ((sd = calloc(1, sizeof(*sd))) != NULL && (app->signer == NULL ||
	    signer_metrics(app->signer, app->cfg->signer_url,
	    app->cfg->signer_timeout_ms, sd, &ans) != SIGNER_DONE)) {
		free(sd);
		sd = NULL;
	}
	api_reply_free(rep);
	if ((r = metrics_render(app->metrics, have ? counts : NULL, &rep->body,
	    &rep->len)) == 0)
		r = metrics_append_signerd(&rep->body, &rep->len, sd);
	free(sd);
	if (r != 0) {
		api_error(rep, req->request_id, 500, "INTERNAL", "metrics: %s",
		    err_str(r));
		return;
	}
	rep->status = 200;
	rep->content_type = PROM_TYPE;
}
