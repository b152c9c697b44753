/* metrics.c: METRICS_REP rendered as Prometheus text (see metrics.h). */
#include "proto/metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

/* Longer than any line below: names and labels are bounded (msg.h). */
#define LINE_MAX_TEXT 512

static int put_line(struct prt_writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
put_line(struct prt_writer *w, const char *fmt, ...)
{
	char line[LINE_MAX_TEXT];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Sticky like the writer's own errors: render() checks once. */
	if (n < 0 || (size_t)n >= sizeof(line)) {
		if (w->err == 0)
			w->err = ERR_INTERNAL;
		return w->err;
	}
	return prt_put_bytes(w, line, (size_t)n);
}

static int
put_family(struct prt_writer *w, const char *name, const char *type,
    const char *help)
{
	return put_line(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/*
 * Nanoseconds as an exact decimal number of seconds ("0.00025", "2"):
 * bucket bounds and sums print without a float's rounding.
 */
static void
fmt_seconds(char out[32], uint64_t ns)
{
	size_t n;

	if (ns % 1000000000u == 0) {
		snprintf(out, 32, "%" PRIu64, ns / 1000000000u);
		return;
	}
	snprintf(out, 32, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u,
	    ns % 1000000000u);
	for (n = strlen(out); out[n - 1] == '0'; n--)
		out[n - 1] = '\0';
}

/*
 * An amount in base units as a sample value.  Prometheus samples are
 * float64: exact below 2^53, else the nearest double (relative error
 * below 2^-52) -- lossy, and said so in docs/metrics.md; the exact
 * figure is `signerctl exposure`'s.
 */
static double
u256_to_double(const u256 *v)
{
	const double two64 = 18446744073709551616.0;

	return (((double)v->w[3] * two64 + (double)v->w[2]) * two64 +
	    (double)v->w[1]) * two64 + (double)v->w[0];
}

static const struct {
	const char *name;
	const char *help;
} hist_info[PRT_MH_COUNT] = {
	[PRT_MH_SIGN] = { "signerd_sign_duration_seconds",
	    "Sign requests that produced a signature: from a worker taking "
	    "the request to its answer (policy, HSM, journal fdatasync)." },
	[PRT_MH_HSM_SIGN] = { "signerd_hsm_sign_duration_seconds",
	    "One C_Sign call on the HSM, failed or not." },
	[PRT_MH_FSYNC] = { "signerd_journal_fsync_duration_seconds",
	    "One fdatasync of the journal (a group-commit batch), failed or "
	    "not." },
};

static int
put_hist(struct prt_writer *w, int h, const struct prt_metrics_hist *hs)
{
	const char *name = hist_info[h].name;
	char le[32], sum[32];
	uint64_t cum = 0;
	uint8_t i;

	(void)put_family(w, name, "histogram", hist_info[h].help);
	/* Prometheus buckets count everything at or below le. */
	for (i = 0; i < hs->nbounds; i++) {
		cum += hs->count[i];
		fmt_seconds(le, hs->bound_ns[i]);
		(void)put_line(w, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", name,
		    le, cum);
	}
	cum += hs->count[hs->nbounds];
	fmt_seconds(sum, hs->sum_ns);
	return put_line(w, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n"
	    "%s_sum %s\n%s_count %" PRIu64 "\n", name, cum, name, sum, name,
	    cum);
}

static int
put_scalar(struct prt_writer *w, const char *name, const char *type,
    const char *help, uint64_t v)
{
	(void)put_family(w, name, type, help);
	return put_line(w, "%s %" PRIu64 "\n", name, v);
}

static int
render(struct prt_writer *w, const struct prt_metrics *m)
{
	const struct prt_metrics_asset *a;
	const struct prt_metrics_refusal *f;
	uint64_t since;
	size_t i;
	int h;

	(void)put_scalar(w, "signerd_up", "gauge", "1 when signerd answered "
	    "the METRICS request behind these samples.", 1);
	(void)put_scalar(w, "signerd_start_time_seconds", "gauge", "Unix time "
	    "at which this signerd process began serving requests.",
	    m->started);
	(void)put_scalar(w, "signerd_paused", "gauge", "1 while a break-glass "
	    "pause is in force: every payout is refused.", m->paused);
	(void)put_scalar(w, "signerd_journal_head_seq", "gauge", "Sequence "
	    "number of the newest durable journal record.", m->head_seq);
	(void)put_scalar(w, "signerd_checkpoints_total", "counter", "Signed "
	    "journal checkpoints made since signerd started.",
	    m->checkpoints);
	(void)put_scalar(w, "signerd_checkpoint_failures_total", "counter",
	    "Journal checkpoints that failed since signerd started.",
	    m->checkpoint_failures);
	(void)put_scalar(w, "signerd_last_checkpoint_timestamp_seconds",
	    "gauge", "Unix time of the last signed checkpoint since signerd "
	    "started; 0 when none yet.", m->last_checkpoint);
	since = m->last_checkpoint != 0 ? m->last_checkpoint : m->started;
	(void)put_scalar(w, "signerd_checkpoint_age_seconds", "gauge",
	    "Seconds since the last signed checkpoint (since the start when "
	    "none yet), by signerd's clock when it answered.",
	    m->now - since);

	(void)put_family(w, "signerd_signatures_total", "counter",
	    "Transactions signed and answered since signerd started (fee "
	    "bumps included, repeats of a signed request not), by asset.");
	for (i = 0; i < m->nassets; i++)
		(void)put_line(w, "signerd_signatures_total{asset=\"%s\"} %"
		    PRIu64 "\n", m->assets[i].asset, m->assets[i].signatures);
	(void)put_family(w, "signerd_refusals_total", "counter", "Requests "
	    "refused since signerd started, by asset (none: the request "
	    "named no asset of the policy) and reason.");
	for (i = 0; i < m->nrefusals; i++) {
		f = &m->refusals[i];
		(void)put_line(w, "signerd_refusals_total{asset=\"%s\","
		    "reason=\"%s\"} %" PRIu64 "\n", f->asset[0] != '\0' ?
		    f->asset : "none", f->reason, f->count);
	}
	(void)put_family(w, "signerd_exposure_used", "gauge", "Amount signed "
	    "today (signer's UTC day) in the asset's base units, requests "
	    "in flight included; a float64 (exact below 2^53).");
	for (i = 0; i < m->nassets; i++) {
		a = &m->assets[i];
		if (a->in_policy)
			(void)put_line(w, "signerd_exposure_used{asset=\"%s\"} "
			    "%.17g\n", a->asset,
			    u256_to_double(&a->exposure_used));
	}
	(void)put_family(w, "signerd_exposure_limit", "gauge", "The policy's "
	    "daily limit in the asset's base units; a float64 (exact below "
	    "2^53).");
	for (i = 0; i < m->nassets; i++) {
		a = &m->assets[i];
		if (a->in_policy)
			(void)put_line(w, "signerd_exposure_limit{asset="
			    "\"%s\"} %.17g\n", a->asset,
			    u256_to_double(&a->exposure_limit));
	}
	(void)put_family(w, "signerd_hsm_errors_total", "counter", "Failed "
	    "HSM signing operations since signerd started, by error kind.");
	for (i = 0; i < m->nhsm_errors; i++)
		(void)put_line(w, "signerd_hsm_errors_total{kind=\"%s\"} %"
		    PRIu64 "\n", m->hsm_errors[i].kind,
		    m->hsm_errors[i].count);
	for (h = 0; h < PRT_MH_COUNT; h++)
		(void)put_hist(w, h, &m->hist[h]);
	return prt_writer_error(w);
}

int
prt_metrics_text(struct prt_writer *w, const struct prt_metrics *m)
{
	struct prt_reply_hdr hdr;
	struct prt_writer check;
	size_t start = w->len;
	int r;

	if (m == NULL) {
		r = put_scalar(w, "signerd_up", "gauge", "1 when signerd "
		    "answered the METRICS request behind these samples.", 0);
		goto out;
	}
	/* The decoder's rules, by the encoder that shares them. */
	prt_reply_hdr_set(&hdr, 0, NULL);
	prt_writer_init(&check, PRT_MAX_MESSAGE);
	r = prt_encode_metrics_rep(&check, &hdr, m);
	prt_writer_free(&check);
	if (r != 0)
		return r;
	r = render(w, m);
out:
	if (r == 0)
		r = prt_writer_error(w);
	if (r != 0 && w->len > start)
		w->len = start;
	return r;
}
