/*
 * test_metrics.c: the Prometheus page: the lines expected after
 * observations, cumulative histogram buckets, label values cleaned and
 * bounded, rendering without the database, and counts kept exactly under
 * concurrent updates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <pthread.h>
#include <cmocka.h>

#include "common/err.h"
#include "orchestratord/metrics.h"

static char *
render(struct metrics *m, const int64_t *counts)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(metrics_render(m, counts, &out, &len), 0);
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

/* The page has this exact line. */
static void
has_line(const char *page, const char *line)
{
	const char *p = page;
	size_t n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == page || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	print_message("missing line: %s\n", line);
	fail();
}

/* The value of the line starting with prefix (then a space). */
static double
value_of(const char *page, const char *prefix)
{
	char want[160];
	const char *p;

	snprintf(want, sizeof(want), "\n%s ", prefix);
	p = strstr(page, want);
	if (p == NULL)
		print_message("no line %s\n", prefix);
	assert_non_null(p);
	return strtod(p + strlen(want), NULL);
}

/* Exposition format: each line a comment, or "name[{labels}] value". */
static void
well_formed(const char *page)
{
	const char *line = page, *nl, *sp;

	assert_true(page[strlen(page) - 1] == '\n');
	for (; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		if (line[0] == '#') {
			assert_true(strncmp(line, "# HELP ", 7) == 0 ||
			    strncmp(line, "# TYPE ", 7) == 0);
			continue;
		}
		assert_true(strncmp(line, "orchestratord_", 14) == 0);
		sp = memchr(line, ' ', (size_t)(nl - line));
		assert_non_null(sp);
		/* One space only: no label value carries one. */
		assert_null(memchr(sp + 1, ' ', (size_t)(nl - sp - 1)));
	}
}

static void
test_page_after_observations(void **state)
{
	struct metrics *m;
	int64_t counts[PS_COUNT] = { 0 };
	char *page;

	assert_int_equal(metrics_new(&m), 0);
	counts[PS_APPROVED] = 3;
	counts[PS_SUBMITTED] = 12;
	counts[PS_CONFIRMED] = 1234567890123;
	metrics_refusal(m, "DAILY_LIMIT");
	metrics_refusal(m, "DAILY_LIMIT");
	metrics_refusal(m, "PAUSED");
	metrics_rpc_error(m, "eth_sendRawTransaction");
	metrics_http(m, 200);
	metrics_http(m, 200);
	metrics_http(m, 201);
	metrics_http(m, 404);
	metrics_http(m, 99);	/* not a status: ignored */
	metrics_http(m, 600);
	metrics_observe(m, MH_SIGN, 0.004);

	page = render(m, counts);
	well_formed(page);
	has_line(page, "# TYPE orchestratord_payouts gauge");
	has_line(page, "orchestratord_payouts{status=\"PENDING_APPROVAL\"} 0");
	has_line(page, "orchestratord_payouts{status=\"APPROVED\"} 3");
	has_line(page, "orchestratord_payouts{status=\"SUBMITTED\"} 12");
	has_line(page, "orchestratord_payouts{status=\"CONFIRMED\"} "
	    "1234567890123");
	has_line(page, "orchestratord_payouts{status=\"FAILED\"} 0");
	assert_null(strstr(page, "status=\"NONE\""));
	has_line(page, "orchestratord_database_up 1");
	has_line(page, "# TYPE orchestratord_signer_refusals_total counter");
	has_line(page, "orchestratord_signer_refusals_total{reason="
	    "\"DAILY_LIMIT\"} 2");
	has_line(page, "orchestratord_signer_refusals_total{reason=\"PAUSED\"} "
	    "1");
	has_line(page, "orchestratord_rpc_errors_total{method="
	    "\"eth_sendRawTransaction\"} 1");
	has_line(page, "orchestratord_http_responses_total{code=\"200\"} 2");
	has_line(page, "orchestratord_http_responses_total{code=\"201\"} 1");
	has_line(page, "orchestratord_http_responses_total{code=\"404\"} 1");
	assert_null(strstr(page, "code=\"99\""));
	assert_null(strstr(page, "code=\"600\""));
	has_line(page, "# TYPE orchestratord_sign_seconds histogram");
	has_line(page, "orchestratord_sign_seconds_bucket{le=\"0.0025\"} 0");
	has_line(page, "orchestratord_sign_seconds_bucket{le=\"0.005\"} 1");
	has_line(page, "orchestratord_sign_seconds_count 1");
	has_line(page, "orchestratord_claim_seconds_count 0");
	has_line(page, "orchestratord_claim_seconds_bucket{le=\"+Inf\"} 0");
	free(page);
	metrics_free(m);
}

static void
test_histogram_cumulative(void **state)
{
	static const char *const le[] = { "0.0005", "0.001", "0.0025", "0.005",
	    "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
	    "10", "+Inf" };
	/* Observations per bucket, +Inf last. */
	static const int want[] = { 3, 3, 3, 5, 5, 5, 5, 6, 6, 6, 7, 7, 7, 8, 9 };
	struct metrics *m;
	char key[96], *page;
	double prev = 0, v;
	size_t i;

	assert_int_equal(metrics_new(&m), 0);
	metrics_observe(m, MH_CLAIM, 0.0001);
	metrics_observe(m, MH_CLAIM, 0.0005);	/* on a bound: counts there */
	metrics_observe(m, MH_CLAIM, -2);	/* a clock step: zero */
	metrics_observe(m, MH_CLAIM, 0.003);
	metrics_observe(m, MH_CLAIM, 0.005);
	metrics_observe(m, MH_CLAIM, 0.07);
	metrics_observe(m, MH_CLAIM, 0.7);
	metrics_observe(m, MH_CLAIM, 10);
	metrics_observe(m, MH_CLAIM, 3600);
	metrics_observe(m, MH_CLAIM, NAN);	/* ignored */
	metrics_observe(m, MH_COUNT, 1);	/* no such histogram */

	page = render(m, NULL);
	well_formed(page);
	for (i = 0; i < ARRAY_LEN(le); i++) {
		snprintf(key, sizeof(key), "orchestratord_claim_seconds_bucket"
		    "{le=\"%s\"}", le[i]);
		v = value_of(page, key);
		if ((int)v != want[i])
			print_message("le=%s: %g, want %d\n", le[i], v, want[i]);
		assert_int_equal((int)v, want[i]);
		assert_true(v >= prev);
		prev = v;
	}
	assert_int_equal((int)value_of(page, "orchestratord_claim_seconds_count"),
	    9);
	v = value_of(page, "orchestratord_claim_seconds_sum");
	assert_true(fabs(v - (0.0001 + 0.0005 + 0.003 + 0.005 + 0.07 + 0.7 + 10 +
	    3600)) < 1e-6);
	/* The other histogram is untouched. */
	assert_int_equal((int)value_of(page, "orchestratord_sign_seconds_count"),
	    0);
	free(page);
	metrics_free(m);
}

static void
test_without_database(void **state)
{
	struct metrics *m;
	char *page;

	assert_int_equal(metrics_new(&m), 0);
	page = render(m, NULL);
	well_formed(page);
	assert_null(strstr(page, "orchestratord_payouts{"));
	has_line(page, "orchestratord_database_up 0");
	has_line(page, "# TYPE orchestratord_http_responses_total counter");
	free(page);
	metrics_free(m);
}

static void
test_labels_cleaned_and_bounded(void **state)
{
	struct metrics *m;
	char name[32], *page;
	int i;

	assert_int_equal(metrics_new(&m), 0);
	metrics_rpc_error(m, "eth_x\"} 1\n# evil");
	metrics_rpc_error(m, "");
	metrics_rpc_error(m, NULL);
	metrics_refusal(m, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaa");
	for (i = 0; i < METRICS_LABELS_MAX + 6; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		metrics_rpc_error(m, name);
	}
	page = render(m, NULL);
	well_formed(page);
	has_line(page, "orchestratord_rpc_errors_total{method="
	    "\"eth_x___1___evil\"} 1");
	has_line(page, "orchestratord_rpc_errors_total{method=\"unknown\"} 2");
	has_line(page, "orchestratord_signer_refusals_total{reason=\"aaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"} 1");
	/* Two labels were taken before the loop; the rest overflow. */
	has_line(page, "orchestratord_rpc_errors_total{method=\"m61\"} 1");
	assert_null(strstr(page, "method=\"m62\""));
	has_line(page, "orchestratord_rpc_errors_total{method=\"other\"} 8");
	free(page);
	metrics_free(m);
}

#define THREADS 4
#define PER_THREAD 20000

static void *
hammer(void *arg)
{
	struct metrics *m = arg;
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		metrics_observe(m, MH_SIGN, 0.001 * (i % 7));
		metrics_http(m, 200);
		metrics_refusal(m, i % 2 ? "PAUSED" : "DAILY_LIMIT");
	}
	return NULL;
}

static void
test_concurrent_counts(void **state)
{
	pthread_t t[THREADS];
	struct metrics *m;
	char *page;
	int i;

	assert_int_equal(metrics_new(&m), 0);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, m), 0);
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	page = render(m, NULL);
	assert_int_equal((int)value_of(page, "orchestratord_sign_seconds_count"),
	    THREADS * PER_THREAD);
	assert_int_equal((int)value_of(page,
	    "orchestratord_sign_seconds_bucket{le=\"+Inf\"}"),
	    THREADS * PER_THREAD);
	assert_int_equal((int)value_of(page,
	    "orchestratord_http_responses_total{code=\"200\"}"),
	    THREADS * PER_THREAD);
	assert_int_equal((int)value_of(page,
	    "orchestratord_signer_refusals_total{reason=\"PAUSED\"}"),
	    THREADS * PER_THREAD / 2);
	free(page);
	metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_after_observations),
		cmocka_unit_test(test_histogram_cumulative),
		cmocka_unit_test(test_without_database),
		cmocka_unit_test(test_labels_cleaned_and_bounded),
		cmocka_unit_test(test_concurrent_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
