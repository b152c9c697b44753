/*
 * test_metrics.c: METRICS_REQ/REP (proto/msg.c) round-trip and refuse
 * every broken field with its code; the Prometheus renderer
 * (proto/metrics.c) prints exact values and refuses what the decoder
 * would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "proto/metrics.h"
#include "proto/msg.h"

/* The two structs are large: one of each, reset by every test. */
static struct prt_metrics sample, got;

#define NOW 1800000000u

static void
set_hist(struct prt_metrics_hist *h, uint64_t first_ns, uint8_t n)
{
	uint8_t i;

	h->nbounds = n;
	for (i = 0; i < n; i++) {
		h->bound_ns[i] = first_ns * (i + 1);
		h->count[i] = i + 1;
	}
	h->count[n] = 7;
	h->sum_ns = 123456789;
}

/* Every list non-empty, every optional field present once. */
static void
make_sample(struct prt_metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->now = NOW;
	m->started = NOW - 100;
	m->paused = 1;
	m->head_seq = 0x0102030405060708ull;
	m->checkpoints = 3;
	m->checkpoint_failures = 1;
	m->last_checkpoint = NOW - 30;
	m->nassets = 3;
	strcpy(m->assets[0].asset, "BIG");
	m->assets[0].in_policy = 1;
	memset(&m->assets[0].exposure_limit, 0xff,
	    sizeof(m->assets[0].exposure_limit));
	m->assets[0].exposure_used.w[0] = 1;
	strcpy(m->assets[1].asset, "ETH");
	m->assets[1].signatures = 42;
	m->assets[1].in_policy = 1;
	m->assets[1].exposure_used.w[0] = 100000000000000000ull; /* 1e17 */
	m->assets[1].exposure_limit.w[0] = 5000000;
	strcpy(m->assets[2].asset, "OLD");	/* left the policy */
	m->assets[2].signatures = 2;
	m->nrefusals = 3;
	strcpy(m->refusals[0].reason, "PAUSED");
	m->refusals[0].count = 4;
	strcpy(m->refusals[1].asset, "ETH");
	strcpy(m->refusals[1].reason, "DAILY_LIMIT");
	m->refusals[1].count = 2;
	strcpy(m->refusals[2].asset, "ETH");
	strcpy(m->refusals[2].reason, "PER_TX_LIMIT");
	m->refusals[2].count = 1;
	m->nhsm_errors = 2;
	strcpy(m->hsm_errors[0].kind, "ERR_HSM");
	m->hsm_errors[0].count = 0;
	strcpy(m->hsm_errors[1].kind, "ERR_HSM_NOT_LOGGED_IN");
	m->hsm_errors[1].count = 5;
	set_hist(&m->hist[PRT_MH_SIGN], 250000, 3);
	set_hist(&m->hist[PRT_MH_HSM_SIGN], 1000000000, 2);
	set_hist(&m->hist[PRT_MH_FSYNC], 100000, PRT_METRICS_BOUNDS_MAX);
}

/*
 * The layout of docs/protocol.md written field by field with no checks
 * at all, so that a test can put any value on the wire.  Counts are
 * written as given; at most the array's entries follow them.
 */
static void
raw_hist(struct prt_writer *w, const struct prt_metrics_hist *h)
{
	size_t i, n = h->nbounds < PRT_METRICS_BOUNDS_MAX ? h->nbounds :
	    PRT_METRICS_BOUNDS_MAX;

	prt_put_u8(w, h->nbounds);
	for (i = 0; i < n; i++)
		prt_put_u64(w, h->bound_ns[i]);
	for (i = 0; i <= n; i++)
		prt_put_u64(w, h->count[i]);
	prt_put_u64(w, h->sum_ns);
}

static void
raw_u256(struct prt_writer *w, const u256 *v)
{
	int i;

	for (i = 3; i >= 0; i--)
		prt_put_u64(w, v->w[i]);
}

static void
raw_encode(struct prt_writer *w, const struct prt_metrics *m)
{
	size_t i;

	prt_writer_init(w, PRT_MAX_MESSAGE * 2);
	prt_put_bytes(w, "SGNR", 4);
	prt_put_u16(w, PRT_VERSION);
	prt_put_u16(w, PRT_METRICS_REP);
	prt_put_u32(w, 0);		/* result */
	prt_put_string(w, "ok");
	prt_put_u32(w, 0);		/* retry_after_s */
	prt_put_u64(w, m->now);
	prt_put_u64(w, m->started);
	prt_put_u8(w, m->paused);
	prt_put_u64(w, m->head_seq);
	prt_put_u64(w, m->checkpoints);
	prt_put_u64(w, m->checkpoint_failures);
	prt_put_u64(w, m->last_checkpoint);
	prt_put_u16(w, m->nassets);
	for (i = 0; i < m->nassets && i < PRT_METRICS_ASSETS_MAX; i++) {
		prt_put_string(w, m->assets[i].asset);
		prt_put_u64(w, m->assets[i].signatures);
		prt_put_u8(w, m->assets[i].in_policy);
		if (m->assets[i].in_policy) {
			raw_u256(w, &m->assets[i].exposure_used);
			raw_u256(w, &m->assets[i].exposure_limit);
		}
	}
	prt_put_u16(w, m->nrefusals);
	for (i = 0; i < m->nrefusals && i < PRT_METRICS_REFUSALS_MAX; i++) {
		prt_put_string(w, m->refusals[i].asset);
		prt_put_string(w, m->refusals[i].reason);
		prt_put_u64(w, m->refusals[i].count);
	}
	prt_put_u16(w, m->nhsm_errors);
	for (i = 0; i < m->nhsm_errors && i < PRT_METRICS_HSM_ERRORS_MAX;
	    i++) {
		prt_put_string(w, m->hsm_errors[i].kind);
		prt_put_u64(w, m->hsm_errors[i].count);
	}
	for (i = 0; i < PRT_MH_COUNT; i++)
		raw_hist(w, &m->hist[i]);
	assert_int_equal(prt_writer_error(w), 0);
}

static int
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* Decodes bytes that must be refused with want, outputs left cleared. */
static void
refused(const uint8_t *buf, size_t len, int want)
{
	struct prt_reply_hdr hdr;

	memset(&got, 0xa5, sizeof(got));
	memset(&hdr, 0xa5, sizeof(hdr));
	assert_int_equal(prt_decode_metrics_rep(&hdr, &got, buf, len), want);
	assert_true(all_zero(&got, sizeof(got)));
	assert_true(all_zero(&hdr, sizeof(hdr)));
}

/* m is refused by the encoder, which leaves the writer as it was. */
static void
encoder_refuses(const struct prt_metrics *m, int want)
{
	struct prt_reply_hdr hdr;
	struct prt_writer w;

	prt_reply_hdr_set(&hdr, 0, "ok");
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	prt_put_u8(&w, 0x77);	/* a byte already there stays alone */
	assert_int_equal(prt_encode_metrics_rep(&w, &hdr, m), want);
	assert_int_equal(w.len, 1);
	prt_writer_free(&w);
}

/* raw_encode(m) must be refused by the decoder and m by the encoder. */
static void
both_refuse(const struct prt_metrics *m, int want)
{
	struct prt_writer w;

	raw_encode(&w, m);
	refused(w.p, w.len, want);
	prt_writer_free(&w);
	encoder_refuses(m, want);
}

/* --- round trip ---------------------------------------------------------- */

static void
test_round_trip(void **unused)
{
	struct prt_reply_hdr hdr, hdr2;
	struct prt_writer w, raw, again;

	make_sample(&sample);
	prt_reply_hdr_set(&hdr, 0, "ok");
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_metrics_rep(&w, &hdr, &sample), 0);
	/* The layout is the documented one, field for field. */
	raw_encode(&raw, &sample);
	assert_int_equal(raw.len, w.len);
	assert_memory_equal(raw.p, w.p, w.len);
	assert_int_equal(prt_decode_metrics_rep(&hdr2, &got, w.p, w.len), 0);
	assert_int_equal(hdr2.result, 0);
	assert_string_equal(hdr2.message, "ok");
	assert_memory_equal(&got, &sample, sizeof(got));
	/* One meaning, one encoding. */
	prt_writer_init(&again, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_metrics_rep(&again, &hdr2, &got), 0);
	assert_int_equal(again.len, w.len);
	assert_memory_equal(again.p, w.p, w.len);
	prt_writer_free(&again);
	prt_writer_free(&raw);
	prt_writer_free(&w);
}

/* Every list at its maximum still fits one frame (the static assert). */
static void
test_largest_frame(void **unused)
{
	struct prt_reply_hdr hdr;
	struct prt_writer w;
	size_t i;

	make_sample(&sample);
	sample.nassets = PRT_METRICS_ASSETS_MAX;
	for (i = 0; i < PRT_METRICS_ASSETS_MAX; i++) {
		memset(&sample.assets[i], 0, sizeof(sample.assets[i]));
		snprintf(sample.assets[i].asset, sizeof(sample.assets[i].asset),
		    "A%015zu", i);
		sample.assets[i].in_policy = 1;
	}
	sample.nrefusals = PRT_METRICS_REFUSALS_MAX;
	for (i = 0; i < PRT_METRICS_REFUSALS_MAX; i++) {
		snprintf(sample.refusals[i].asset,
		    sizeof(sample.refusals[i].asset), "A%015zu", i);
		memset(sample.refusals[i].reason, 'R', PRT_METRICS_NAME_MAX);
		sample.refusals[i].reason[PRT_METRICS_NAME_MAX] = '\0';
	}
	sample.nhsm_errors = PRT_METRICS_HSM_ERRORS_MAX;
	for (i = 0; i < PRT_METRICS_HSM_ERRORS_MAX; i++)
		snprintf(sample.hsm_errors[i].kind,
		    sizeof(sample.hsm_errors[i].kind), "K%031zu", i);
	for (i = 0; i < PRT_MH_COUNT; i++)
		set_hist(&sample.hist[i], 1, PRT_METRICS_BOUNDS_MAX);
	prt_reply_hdr_set(&hdr, 0, NULL);
	memset(hdr.message, 'm', PRT_MESSAGE_MAX);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_metrics_rep(&w, &hdr, &sample), 0);
	assert_true(w.len <= PRT_MAX_MESSAGE);
	assert_int_equal(prt_decode_metrics_rep(&hdr, &got, w.p, w.len), 0);
	assert_memory_equal(&got, &sample, sizeof(got));
	prt_writer_free(&w);
}

static void
test_request(void **unused)
{
	struct prt_writer w;
	static const uint8_t trailing[] = { 'S', 'G', 'N', 'R', 0, PRT_VERSION,
	    0x00, 0x0d, 0 };

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_metrics_req(&w), 0);
	assert_int_equal(w.len, PRT_HEADER_LEN);
	assert_int_equal(w.p[6], 0x00);
	assert_int_equal(w.p[7], 0x0d);
	assert_int_equal(prt_decode_metrics_req(w.p, w.len), 0);
	assert_int_equal(prt_decode_metrics_req(w.p, w.len - 1),
	    ERR_TRUNCATED);
	assert_int_equal(prt_decode_metrics_req(trailing, sizeof(trailing)),
	    ERR_TRAILING);
	/* A STATUS_REQ is not a METRICS_REQ. */
	prt_writer_free(&w);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_status_req(&w), 0);
	assert_int_equal(prt_decode_metrics_req(w.p, w.len), ERR_MALFORMED);
	prt_writer_free(&w);
}

/* A refusal is the header alone; a payload after it is trailing. */
static void
test_refusal_reply(void **unused)
{
	struct prt_reply_hdr hdr;
	struct prt_writer w;

	prt_reply_hdr_set(&hdr, 1, "MALFORMED_REQUEST: trailing bytes");
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_metrics_rep(&w, &hdr, NULL), 0);
	assert_int_equal(prt_decode_metrics_rep(&hdr, &got, w.p, w.len), 0);
	assert_int_equal(hdr.result, 1);
	assert_true(all_zero(&got, sizeof(got)));
	prt_put_u64(&w, 0);
	refused(w.p, w.len, ERR_TRAILING);
	prt_writer_free(&w);
}

/* --- every byte counts --------------------------------------------------- */

static void
test_truncated_everywhere(void **unused)
{
	struct prt_writer w;
	size_t n;

	make_sample(&sample);
	raw_encode(&w, &sample);
	for (n = 0; n < w.len; n++)
		refused(w.p, n, ERR_TRUNCATED);
	prt_put_u8(&w, 0);
	refused(w.p, w.len, ERR_TRAILING);
	prt_writer_free(&w);
}

static void
test_frame_header(void **unused)
{
	struct prt_writer w;

	make_sample(&sample);
	raw_encode(&w, &sample);
	w.p[5] ^= 1;		/* another version */
	refused(w.p, w.len, ERR_BAD_VERSION);
	w.p[5] ^= 1;
	w.p[7] = 0x03;		/* a STATUS_REP */
	refused(w.p, w.len, ERR_MALFORMED);
	w.p[7] = 0x0d;
	w.p[0] = 'X';
	refused(w.p, w.len, ERR_MALFORMED);
	prt_writer_free(&w);
	/* The size limit comes before anything is read. */
	assert_non_null(w.p = calloc(1, PRT_MAX_MESSAGE + 1));
	refused(w.p, PRT_MAX_MESSAGE + 1, ERR_TOO_LARGE);
	free(w.p);
}

/* Retry advice belongs to refusals only. */
static void
test_advice_on_success(void **unused)
{
	struct prt_writer w;
	size_t at = PRT_HEADER_LEN + 4 + 4 + 2;	/* result, "ok" */

	make_sample(&sample);
	raw_encode(&w, &sample);
	w.p[at + 3] = 1;
	refused(w.p, w.len, ERR_MALFORMED);
	prt_writer_free(&w);
}

static void
test_head_fields(void **unused)
{
	make_sample(&sample);
	sample.paused = 2;
	both_refuse(&sample, ERR_MALFORMED);
	make_sample(&sample);
	sample.started = NOW + 1;
	both_refuse(&sample, ERR_MALFORMED);
	make_sample(&sample);
	sample.last_checkpoint = NOW + 1;
	both_refuse(&sample, ERR_MALFORMED);
}

static void
test_assets(void **unused)
{
	make_sample(&sample);
	sample.nassets = PRT_METRICS_ASSETS_MAX + 1;
	both_refuse(&sample, ERR_TOO_LARGE);
	make_sample(&sample);
	strcpy(sample.assets[1].asset, "BIG");	/* a repeated label set */
	both_refuse(&sample, ERR_MALFORMED);
	make_sample(&sample);
	strcpy(sample.assets[0].asset, "ZZZ");	/* out of order */
	both_refuse(&sample, ERR_MALFORMED);
	make_sample(&sample);
	strcpy(sample.assets[1].asset, "eth");	/* not the asset charset */
	both_refuse(&sample, ERR_MALFORMED);
	make_sample(&sample);
	sample.assets[1].asset[0] = '\0';
	both_refuse(&sample, ERR_MALFORMED);
	make_sample(&sample);
	sample.assets[1].in_policy = 2;
	both_refuse(&sample, ERR_MALFORMED);
	/* Out of the policy, the exposure is not on the wire: it must be
	 * zero, or the encoder would drop it silently. */
	make_sample(&sample);
	sample.assets[2].exposure_limit.w[3] = 1;
	encoder_refuses(&sample, ERR_MALFORMED);
}

/*
 * The string field holding needle (its whole value) one byte longer on
 * the wire: its length prefix and its bytes, as no struct can hold it.
 */
static void
refuse_grown(const struct prt_writer *w, const char *needle, int want)
{
	size_t n = strlen(needle), at;
	uint8_t *p, *buf;

	assert_non_null(p = memmem(w->p, w->len, needle, n));
	at = (size_t)(p - w->p);
	assert_true(at >= 4 && w->p[at - 1] == n);
	assert_non_null(buf = malloc(w->len + 1));
	memcpy(buf, w->p, at + n);
	buf[at - 1] = (uint8_t)(n + 1);
	buf[at + n] = (uint8_t)needle[0];
	memcpy(buf + at + n + 1, w->p + at + n, w->len - at - n);
	refused(buf, w->len + 1, want);
	free(buf);
}

static void
test_too_long_names(void **unused)
{
	struct prt_reply_hdr hdr;
	struct prt_writer w;

	/* At the limits: 32-byte names, a 16-byte asset. */
	make_sample(&sample);
	memset(sample.refusals[2].reason, 'Z', PRT_METRICS_NAME_MAX);
	memset(sample.hsm_errors[1].kind, 'Y', PRT_METRICS_NAME_MAX);
	strcpy(sample.assets[2].asset, "PPPPPPPPPPPPPPPP");
	raw_encode(&w, &sample);
	assert_int_equal(prt_decode_metrics_rep(&hdr, &got, w.p, w.len), 0);
	assert_memory_equal(&got, &sample, sizeof(got));
	/* One byte past them. */
	refuse_grown(&w, sample.refusals[2].reason, ERR_TOO_LARGE);
	refuse_grown(&w, sample.hsm_errors[1].kind, ERR_TOO_LARGE);
	refuse_grown(&w, sample.assets[2].asset, ERR_TOO_LARGE);
	prt_writer_free(&w);
}

static void
test_refusals(void **unused)
{
	make_sample(&sample);
	sample.nrefusals = PRT_METRICS_REFUSALS_MAX + 1;
	both_refuse(&sample, ERR_TOO_LARGE);
	make_sample(&sample);
	strcpy(sample.refusals[2].reason, "DAILY_LIMIT");	/* repeated */
	both_refuse(&sample, ERR_MALFORMED);
	make_sample(&sample);
	strcpy(sample.refusals[1].reason, "Z_LAST");	/* out of order */
	both_refuse(&sample, ERR_MALFORMED);
	make_sample(&sample);
	strcpy(sample.refusals[0].asset, "ZZ");	/* "" must come first */
	both_refuse(&sample, ERR_MALFORMED);
	make_sample(&sample);
	strcpy(sample.refusals[1].reason, "DAILY-LIMIT");	/* charset */
	both_refuse(&sample, ERR_MALFORMED);
	make_sample(&sample);
	strcpy(sample.refusals[1].reason, "daily_limit");
	both_refuse(&sample, ERR_MALFORMED);
	make_sample(&sample);
	sample.refusals[1].reason[0] = '\0';
	both_refuse(&sample, ERR_MALFORMED);
	make_sample(&sample);
	strcpy(sample.refusals[1].asset, "E\"T");	/* a label's quote */
	both_refuse(&sample, ERR_MALFORMED);
}

static void
test_hsm_errors(void **unused)
{
	make_sample(&sample);
	sample.nhsm_errors = PRT_METRICS_HSM_ERRORS_MAX + 1;
	both_refuse(&sample, ERR_TOO_LARGE);
	make_sample(&sample);
	strcpy(sample.hsm_errors[1].kind, "ERR_HSM");
	both_refuse(&sample, ERR_MALFORMED);
	make_sample(&sample);
	strcpy(sample.hsm_errors[0].kind, "ERR_Z");
	both_refuse(&sample, ERR_MALFORMED);
	make_sample(&sample);
	strcpy(sample.hsm_errors[0].kind, "ERR HSM");
	both_refuse(&sample, ERR_MALFORMED);
}

static void
test_histograms(void **unused)
{
	int h;

	for (h = 0; h < PRT_MH_COUNT; h++) {
		make_sample(&sample);
		sample.hist[h].nbounds = 0;
		both_refuse(&sample, ERR_MALFORMED);
		make_sample(&sample);
		sample.hist[h].nbounds = PRT_METRICS_BOUNDS_MAX + 1;
		both_refuse(&sample, ERR_TOO_LARGE);
		make_sample(&sample);
		sample.hist[h].bound_ns[0] = 0;
		both_refuse(&sample, ERR_MALFORMED);
		make_sample(&sample);
		sample.hist[h].bound_ns[1] = sample.hist[h].bound_ns[0];
		both_refuse(&sample, ERR_MALFORMED);
		/* The cumulative count of the last bucket would wrap. */
		make_sample(&sample);
		sample.hist[h].count[sample.hist[h].nbounds] = UINT64_MAX;
		both_refuse(&sample, ERR_OVERFLOW);
	}
}

/* Bytes no encoder writes: a NUL inside a name. */
static void
test_embedded_nul(void **unused)
{
	struct prt_writer w;
	uint8_t *at;

	make_sample(&sample);
	raw_encode(&w, &sample);
	at = memmem(w.p, w.len, "DAILY_LIMIT", 11);
	assert_non_null(at);
	at[5] = '\0';
	refused(w.p, w.len, ERR_EMBEDDED_NUL);
	prt_writer_free(&w);
}

/* --- the renderer -------------------------------------------------------- */

static char *
render(const struct prt_metrics *m, int want)
{
	struct prt_writer w;
	char *text;

	prt_writer_init(&w, 1 << 20);
	prt_put_bytes(&w, "x", 1);
	assert_int_equal(prt_metrics_text(&w, m), want);
	if (want != 0) {
		/* Nothing appended: no half page. */
		assert_int_equal(w.len, 1);
		prt_writer_free(&w);
		return NULL;
	}
	assert_non_null(text = calloc(1, w.len));
	memcpy(text, w.p + 1, w.len - 1);
	prt_writer_free(&w);
	return text;
}

static void
has_line(const char *text, const char *line)
{
	char *want;
	size_t n = strlen(line);

	assert_non_null(want = malloc(n + 3));
	snprintf(want, n + 3, "\n%s\n", line);
	if (strstr(text, want) == NULL)
		fail_msg("missing line: %s\n---\n%s", line, text);
	free(want);
}

static void
test_text(void **unused)
{
	char *t, big[64];

	make_sample(&sample);
	t = render(&sample, 0);
	assert_true(strncmp(t, "# HELP signerd_up ", 18) == 0);
	has_line(t, "# TYPE signerd_up gauge");
	has_line(t, "signerd_up 1");
	has_line(t, "signerd_start_time_seconds 1799999900");
	has_line(t, "signerd_paused 1");
	has_line(t, "signerd_journal_head_seq 72623859790382856");
	has_line(t, "signerd_checkpoints_total 3");
	has_line(t, "signerd_checkpoint_failures_total 1");
	has_line(t, "signerd_last_checkpoint_timestamp_seconds 1799999970");
	has_line(t, "signerd_checkpoint_age_seconds 30");
	has_line(t, "# TYPE signerd_signatures_total counter");
	has_line(t, "signerd_signatures_total{asset=\"ETH\"} 42");
	has_line(t, "signerd_signatures_total{asset=\"OLD\"} 2");
	has_line(t, "signerd_refusals_total{asset=\"none\","
	    "reason=\"PAUSED\"} 4");
	has_line(t, "signerd_refusals_total{asset=\"ETH\","
	    "reason=\"DAILY_LIMIT\"} 2");
	/* Exact below 2^53 and at 1e17; the nearest double above. */
	has_line(t, "signerd_exposure_used{asset=\"BIG\"} 1");
	has_line(t, "signerd_exposure_used{asset=\"ETH\"} 1e+17");
	has_line(t, "signerd_exposure_limit{asset=\"ETH\"} 5000000");
	snprintf(big, sizeof(big), "signerd_exposure_limit{asset=\"BIG\"} "
	    "%.17g", 0x1p256);
	has_line(t, big);
	/* An asset out of the policy has counters, no exposure. */
	assert_null(strstr(t, "signerd_exposure_used{asset=\"OLD\"}"));
	assert_null(strstr(t, "signerd_exposure_limit{asset=\"OLD\"}"));
	has_line(t, "signerd_hsm_errors_total{kind=\"ERR_HSM\"} 0");
	has_line(t, "signerd_hsm_errors_total{kind=\"ERR_HSM_NOT_LOGGED_IN\"} "
	    "5");
	/* Buckets cumulative, bounds exact decimals, +Inf the count. */
	has_line(t, "# TYPE signerd_sign_duration_seconds histogram");
	has_line(t, "signerd_sign_duration_seconds_bucket{le=\"0.00025\"} 1");
	has_line(t, "signerd_sign_duration_seconds_bucket{le=\"0.0005\"} 3");
	has_line(t, "signerd_sign_duration_seconds_bucket{le=\"0.00075\"} 6");
	has_line(t, "signerd_sign_duration_seconds_bucket{le=\"+Inf\"} 13");
	has_line(t, "signerd_sign_duration_seconds_count 13");
	has_line(t, "signerd_sign_duration_seconds_sum 0.123456789");
	has_line(t, "signerd_hsm_sign_duration_seconds_bucket{le=\"1\"} 1");
	has_line(t, "signerd_hsm_sign_duration_seconds_bucket{le=\"2\"} 3");
	has_line(t, "signerd_journal_fsync_duration_seconds_bucket"
	    "{le=\"0.0001\"} 1");
	has_line(t, "signerd_journal_fsync_duration_seconds_bucket"
	    "{le=\"0.0024\"} 300");
	/* Every line is a comment or a sample: no blank, no control byte. */
	assert_null(strstr(t, "\n\n"));
	assert_int_equal(t[strlen(t) - 1], '\n');
	free(t);
}

static void
test_text_down(void **unused)
{
	char *t = render(NULL, 0);

	assert_string_equal(t, "# HELP signerd_up 1 when signerd answered "
	    "the METRICS request behind these samples.\n"
	    "# TYPE signerd_up gauge\nsignerd_up 0\n");
	free(t);
}

/* The renderer prints nothing a decoder would refuse. */
static void
test_text_refuses(void **unused)
{
	make_sample(&sample);
	strcpy(sample.refusals[1].asset, "E\"T");
	assert_null(render(&sample, ERR_MALFORMED));
	make_sample(&sample);
	strcpy(sample.assets[1].asset, "BIG");
	assert_null(render(&sample, ERR_MALFORMED));
	make_sample(&sample);
	sample.hist[0].count[0] = UINT64_MAX;
	assert_null(render(&sample, ERR_OVERFLOW));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_largest_frame),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_refusal_reply),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_frame_header),
		cmocka_unit_test(test_advice_on_success),
		cmocka_unit_test(test_head_fields),
		cmocka_unit_test(test_assets),
		cmocka_unit_test(test_too_long_names),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_hsm_errors),
		cmocka_unit_test(test_histograms),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_down),
		cmocka_unit_test(test_text_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
