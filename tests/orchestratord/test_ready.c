/*
 * test_ready.c: the readiness poller with nothing to reach: it answers at
 * once, says why it is not ready, never blocks a reader, and stops.  The
 * ready paths (PostgreSQL up, signerd slow, paused) are in
 * tests/integration/orch_api.sh and orch_http_edge.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "orchestratord/config.h"
#include "orchestratord/ready.h"

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_nothing_reachable(void **state)
{
	struct orch_config cfg;
	struct ready_view v;
	struct ready *r = NULL;
	int64_t t0, t1;
	int i;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.conninfo, sizeof(cfg.conninfo), "host=/nonexistent "
	    "dbname=none connect_timeout=1");
	snprintf(cfg.signer_url, sizeof(cfg.signer_url),
	    "ipc:///nonexistent/signerd.sock");
	cfg.signer_timeout_ms = 10000;
	assert_int_equal(ready_start(&r, &cfg, NULL), 0);
	/* Before the first poll ends: not polled, and no waiting for it. */
	t0 = mono_ms();
	ready_get(r, &v);
	assert_true(mono_ms() - t0 < 100);
	for (i = 0; i < 50 && !v.polled; i++) {
		usleep(100000);
		ready_get(r, &v);
	}
	assert_int_equal(v.polled, 1);
	assert_true(v.age_ms >= 0 && v.age_ms < READY_STALE_MS);
	assert_int_equal(v.db_ok, 0);
	assert_int_equal(v.signer_ok, 0);
	assert_int_equal(v.can_sign, 0);
	assert_non_null(strstr(v.message, "signerd unreachable"));
	/* Readers never wait on a poll in progress. */
	for (i = 0; i < 20; i++) {
		t0 = mono_ms();
		ready_get(r, &v);
		t1 = mono_ms();
		assert_true(t1 - t0 < 50);
		usleep(50000);
	}
	t0 = mono_ms();
	ready_stop(r);
	assert_true(mono_ms() - t0 < READY_STALE_MS + 1000);
	ready_stop(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_reachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
