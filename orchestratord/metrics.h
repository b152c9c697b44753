/* metrics.h: counters and histograms, rendered in Prometheus text format. */
#ifndef ORCH_METRICS_H
#define ORCH_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "orchestratord/fsm.h"
#include "proto/msg.h"

/* Latency histograms (seconds). */
enum metric_hist {
	MH_CLAIM,	/* one claim_payout() statement */
	MH_SIGN,	/* one signerd SIGN_REQ round trip */
	MH_COUNT
};

struct metrics;

int metrics_new(struct metrics **out) WARN_UNUSED;
void metrics_free(struct metrics *m);

/* All of these are thread-safe and cheap (a mutex, no allocation). */
void metrics_observe(struct metrics *m, enum metric_hist h, double seconds);
/* A signer refusal, by reason name ("DAILY_LIMIT"). */
void metrics_refusal(struct metrics *m, const char *reason);
/* A failed JSON-RPC call, by method name. */
void metrics_rpc_error(struct metrics *m, const char *method);
/* An HTTP response, by status code. */
void metrics_http(struct metrics *m, int status);

/* A webhook outcome (webhook.c), by subscriber name. */
enum metric_webhook {
	MW_DELIVERED,	/* a 2xx answer */
	MW_FAILED,	/* an attempt that failed */
	MW_DEAD,	/* moved to the dead-letter list */
	MW_COUNT
};
void metrics_webhook(struct metrics *m, enum metric_webhook what,
    const char *subscriber);

/*
 * Renders every metric plus payouts by status (counts indexed by
 * enum payout_status; NULL when the database cannot say now, which leaves
 * the payouts gauge out and reports orchestratord_database_up 0) as
 * Prometheus text (version 0.0.4) into a malloc'd *out of *len bytes
 * (NUL-terminated, the NUL not counted).  Returns 0 or ERR_NOMEM.
 *
 * Names: orchestratord_payouts{status}, orchestratord_database_up,
 * orchestratord_claim_seconds and orchestratord_sign_seconds
 * (histograms), orchestratord_signer_refusals_total{reason},
 * orchestratord_rpc_errors_total{method},
 * orchestratord_http_responses_total{code},
 * orchestratord_webhook_{deliveries,failures,dead_letters}_total{subscriber},
 * and the process's round trips: orchestratord_db_statements_total
 * (db_round_trips) and orchestratord_rpc_calls_total{method}
 * (rpc_call_count; a JSON-RPC batch counts once, as "batch").  Label
 * values from callers are cut to METRICS_LABEL_MAX bytes of [A-Za-z0-9_.:-] (others become '_');
 * past METRICS_LABELS_MAX distinct values of one metric, new ones count
 * under "other".
 */
#define METRICS_LABEL_MAX 47
#define METRICS_LABELS_MAX 64

int metrics_render(struct metrics *m, const int64_t counts[PS_COUNT],
    char **out, size_t *len) WARN_UNUSED;

/*
 * Appends signerd's families to a page from metrics_render (*out, *len:
 * grown, still NUL-terminated), rendered by the renderer signerctl
 * metrics uses (proto/metrics.h) from sd, signerd's METRICS reply as
 * signer_metrics decoded it; sd NULL (signerd did not answer in time):
 * signerd_up 0 alone, no stale family.  Returns 0 or ERR_NOMEM (page
 * unchanged).
 */
int metrics_append_signerd(char **out, size_t *len,
    const struct prt_metrics *sd) WARN_UNUSED;

#endif
