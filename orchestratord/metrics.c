/* metrics.c: counters and latency histograms behind one mutex, rendered as Prometheus text. */
#include "orchestratord/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "orchestratord/db.h"
#include "orchestratord/rpc.h"
#include "proto/metrics.h"

/* Upper bounds in seconds, written as Prometheus shows them. */
static const double bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
static const char *const bound_text[] = { "0.0005", "0.001", "0.0025",
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
    "10" };
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

#define HTTP_MIN 100
#define HTTP_MAX 599

struct hist {
	uint64_t bucket[NBOUNDS + 1];	/* not cumulative; last is +Inf */
	uint64_t count;
	double sum;
};

/* Counters by a label value callers name (reason, method). */
struct labelled {
	size_t n;
	char label[METRICS_LABELS_MAX][METRICS_LABEL_MAX + 1];
	uint64_t count[METRICS_LABELS_MAX];
	uint64_t other;			/* past METRICS_LABELS_MAX values */
};

struct metrics {
	pthread_mutex_t mu;
	struct hist hist[MH_COUNT];
	struct labelled refusals;
	struct labelled rpc_errors;
	uint64_t http[HTTP_MAX - HTTP_MIN + 1];
	struct labelled webhook[MW_COUNT];	/* by subscriber */
};

static const struct {
	const char *name;
	const char *help;
} hist_info[MH_COUNT] = {
	[MH_CLAIM] = { "orchestratord_claim_seconds",
	    "Time of one claim_payout() statement." },
	[MH_SIGN] = { "orchestratord_sign_seconds",
	    "Time of one signerd SIGN_REQ round trip." },
};

int
metrics_new(struct metrics **out)
{
	struct metrics *m;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return ERR_NOMEM;
	if (pthread_mutex_init(&m->mu, NULL) != 0) {
		free(m);
		return ERR_NOMEM;
	}
	*out = m;
	return 0;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void
metrics_observe(struct metrics *m, enum metric_hist h, double seconds)
{
	struct hist *hs;
	size_t i;

	if ((int)h < 0 || h >= MH_COUNT || isnan(seconds))
		return;
	/* A clock that stepped back is not a negative latency. */
	if (seconds < 0)
		seconds = 0;
	for (i = 0; i < NBOUNDS && seconds > bounds[i]; i++)
		;
	pthread_mutex_lock(&m->mu);
	hs = &m->hist[h];
	hs->bucket[i]++;
	hs->count++;
	hs->sum += seconds;
	pthread_mutex_unlock(&m->mu);
}

/* A label value that needs no escaping in the exposition format. */
static void
clean_label(char out[METRICS_LABEL_MAX + 1], const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		s = "unknown";
	for (i = 0; s[i] != '\0' && i < METRICS_LABEL_MAX; i++) {
		char ch = s[i];

		out[i] = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		    ch == ':' || ch == '-' ? ch : '_';
	}
	out[i] = '\0';
}

/* Under m->mu. */
static void
count_label(struct labelled *l, const char *value)
{
	char label[METRICS_LABEL_MAX + 1];
	size_t i;

	clean_label(label, value);
	for (i = 0; i < l->n; i++) {
		if (strcmp(l->label[i], label) == 0) {
			l->count[i]++;
			return;
		}
	}
	/* Bounded: a caller's strings must not grow the page without end. */
	if (l->n == METRICS_LABELS_MAX) {
		l->other++;
		return;
	}
	memcpy(l->label[l->n], label, sizeof(label));
	l->count[l->n++] = 1;
}

void
metrics_refusal(struct metrics *m, const char *reason)
{
	pthread_mutex_lock(&m->mu);
	count_label(&m->refusals, reason);
	pthread_mutex_unlock(&m->mu);
}

void
metrics_rpc_error(struct metrics *m, const char *method)
{
	pthread_mutex_lock(&m->mu);
	count_label(&m->rpc_errors, method);
	pthread_mutex_unlock(&m->mu);
}

void
metrics_webhook(struct metrics *m, enum metric_webhook what,
    const char *subscriber)
{
	if ((int)what < 0 || what >= MW_COUNT)
		return;
	pthread_mutex_lock(&m->mu);
	count_label(&m->webhook[what], subscriber);
	pthread_mutex_unlock(&m->mu);
}

void
metrics_http(struct metrics *m, int status)
{
	if (status < HTTP_MIN || status > HTTP_MAX)
		return;
	pthread_mutex_lock(&m->mu);
	m->http[status - HTTP_MIN]++;
	pthread_mutex_unlock(&m->mu);
}

/* --- rendering ------------------------------------------------------------ */

struct out {
	char *buf;
	size_t len, cap;
	int err;
};

static void put(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	size_t cap;
	char *nb;
	int n;

	if (o->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->err = ERR_INTERNAL;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		cap = o->cap * 2 + (size_t)n;
		if ((nb = realloc(o->buf, cap)) == NULL) {
			o->err = ERR_NOMEM;
			return;
		}
		o->buf = nb;
		o->cap = cap;
	}
}

static void
put_labelled(struct out *o, const struct labelled *l, const char *name,
    const char *label, const char *help)
{
	size_t i;

	put(o, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (i = 0; i < l->n; i++)
		put(o, "%s{%s=\"%s\"} %" PRIu64 "\n", name, label, l->label[i],
		    l->count[i]);
	if (l->other > 0)
		put(o, "%s{%s=\"other\"} %" PRIu64 "\n", name, label, l->other);
}

int
metrics_render(struct metrics *m, const int64_t counts[PS_COUNT], char **out,
    size_t *len)
{
	struct out o = { NULL, 0, 4096, 0 };
	const struct hist *hs;
	uint64_t cum;
	size_t i;
	int s, h;

	*out = NULL;
	*len = 0;
	if ((o.buf = malloc(o.cap)) == NULL)
		return ERR_NOMEM;
	if (counts != NULL) {
		put(&o, "# HELP orchestratord_payouts Payouts by status.\n"
		    "# TYPE orchestratord_payouts gauge\n");
		for (s = PS_PENDING_APPROVAL; s < PS_COUNT; s++)
			put(&o, "orchestratord_payouts{status=\"%s\"} %" PRId64
			    "\n", fsm_status_name((enum payout_status)s),
			    counts[s]);
	}
	put(&o, "# HELP orchestratord_database_up 1 when the payout counts "
	    "could be read for this scrape.\n"
	    "# TYPE orchestratord_database_up gauge\n"
	    "orchestratord_database_up %d\n", counts != NULL);

	pthread_mutex_lock(&m->mu);
	for (h = 0; h < MH_COUNT; h++) {
		hs = &m->hist[h];
		put(&o, "# HELP %s %s\n# TYPE %s histogram\n",
		    hist_info[h].name, hist_info[h].help, hist_info[h].name);
		/* Prometheus buckets count everything at or below le. */
		cum = 0;
		for (i = 0; i < NBOUNDS; i++) {
			cum += hs->bucket[i];
			put(&o, "%s_bucket{le=\"%s\"} %" PRIu64 "\n",
			    hist_info[h].name, bound_text[i], cum);
		}
		cum += hs->bucket[NBOUNDS];
		put(&o, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n%s_sum %.9g\n"
		    "%s_count %" PRIu64 "\n", hist_info[h].name, cum,
		    hist_info[h].name, hs->sum, hist_info[h].name, hs->count);
	}
	put_labelled(&o, &m->refusals, "orchestratord_signer_refusals_total",
	    "reason", "Signer refusals by reason.");
	put_labelled(&o, &m->rpc_errors, "orchestratord_rpc_errors_total",
	    "method", "Failed JSON-RPC calls by method.");
	put_labelled(&o, &m->webhook[MW_DELIVERED],
	    "orchestratord_webhook_deliveries_total", "subscriber",
	    "Webhook events delivered (a 2xx answer).");
	put_labelled(&o, &m->webhook[MW_FAILED],
	    "orchestratord_webhook_failures_total", "subscriber",
	    "Webhook attempts that failed (retried or dead).");
	put_labelled(&o, &m->webhook[MW_DEAD],
	    "orchestratord_webhook_dead_letters_total", "subscriber",
	    "Webhook events moved to the dead-letter list.");
	put(&o, "# HELP orchestratord_db_statements_total Statements sent to "
	    "PostgreSQL.\n# TYPE orchestratord_db_statements_total counter\n"
	    "orchestratord_db_statements_total %" PRIu64 "\n",
	    db_round_trips());
	put(&o, "# HELP orchestratord_rpc_calls_total JSON-RPC round trips to "
	    "the EVM node by method.\n# TYPE orchestratord_rpc_calls_total "
	    "counter\n");
	for (i = 0; i < RPC_COUNTED; i++)
		if (rpc_call_count(i) > 0)
			put(&o, "orchestratord_rpc_calls_total{method=\"%s\"} "
			    "%" PRIu64 "\n", rpc_counted_method(i),
			    rpc_call_count(i));
	put(&o, "# HELP orchestratord_http_responses_total HTTP responses by "
	    "status code.\n# TYPE orchestratord_http_responses_total "
	    "counter\n");
	for (i = 0; i < ARRAY_LEN(m->http); i++)
		if (m->http[i] > 0)
			put(&o, "orchestratord_http_responses_total{code=\"%zu\"} "
			    "%" PRIu64 "\n", i + HTTP_MIN, m->http[i]);
	pthread_mutex_unlock(&m->mu);

	if (o.err != 0) {
		free(o.buf);
		return o.err;
	}
	*out = o.buf;
	*len = o.len;
	return 0;
}

/* Far above the largest rendering (every list at its wire maximum). */
#define SIGNERD_TEXT_MAX (1024 * 1024)

int
metrics_append_signerd(char **out, size_t *len, const struct prt_metrics *sd)
{
	struct prt_writer w;
	char *nb;
	int r;

	prt_writer_init(&w, SIGNERD_TEXT_MAX);
	/* A reply the renderer refuses is no reply: signerd_up 0. */
	if ((r = prt_metrics_text(&w, sd)) != 0 && r != ERR_NOMEM)
		r = prt_metrics_text(&w, NULL);
	if (r == 0 && (nb = realloc(*out, *len + w.len + 1)) == NULL)
		r = ERR_NOMEM;
	if (r == 0) {
		memcpy(nb + *len, w.p, w.len);
		*len += w.len;
		nb[*len] = '\0';
		*out = nb;
	}
	prt_writer_free(&w);
	return r;
}
