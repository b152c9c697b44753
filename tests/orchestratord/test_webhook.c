/* test_webhook.c: webhook signing (against a fixed vector and openssl's), full-jitter backoff bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "orchestratord/webhook.h"

/*
 * The vector a receiver's check gives (docs/api.md):
 *   printf '%s.%s' 1767225600 '{"id":1}' | openssl dgst -sha256 -hmac \
 *       0123456789abcdef0123456789abcdef
 */
static void
test_sign_vector(void **state)
{
	const char *key = "0123456789abcdef0123456789abcdef";
	const char *body = "{\"id\":1}";
	char sig[WH_SIG_HEX + 1];

	assert_int_equal(wh_sign(sig, (const uint8_t *)key, strlen(key),
	    "1767225600", body, strlen(body)), 0);
	assert_string_equal(sig, "b5400d02d4e456677f2db1dcd0260caeb2276063e8"
	    "60a6f615759ab40965080a");
}

/*
 * The pieces are hashed as the one text TIMESTAMP "." BODY (what the
 * receiver rebuilds), so "12" + "3.x" and "12.3" + "x" sign alike; a
 * timestamp is digits only, so a receiver's split is never ambiguous.
 */
static void
test_sign_binds_timestamp_and_body(void **state)
{
	const uint8_t key[] = "0123456789abcdef";
	char a[WH_SIG_HEX + 1], b[WH_SIG_HEX + 1], c[WH_SIG_HEX + 1];

	assert_int_equal(wh_sign(a, key, 16, "12", "3.x", 3), 0);
	assert_int_equal(wh_sign(b, key, 16, "12.3", "x", 1), 0);
	assert_int_equal(wh_sign(c, key, 16, "12", "3.y", 3), 0);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), WH_SIG_HEX);
	assert_int_equal(strspn(a, "0123456789abcdef"), WH_SIG_HEX);
}

/* Only the secret decides: another key, another signature. */
static void
test_sign_key(void **state)
{
	char a[WH_SIG_HEX + 1], b[WH_SIG_HEX + 1];

	assert_int_equal(wh_sign(a, (const uint8_t *)"secret-one-123456", 17,
	    "1", "{}", 2), 0);
	assert_int_equal(wh_sign(b, (const uint8_t *)"secret-one-123457", 17,
	    "1", "{}", 2), 0);
	assert_string_not_equal(a, b);
}

static void
test_backoff_bounds(void **state)
{
	/* rnd = all ones takes the top of [0, cap]. */
	const uint64_t top = UINT64_MAX;
	int a;

	assert_int_equal(wh_backoff_ms(1000, 600000, 1, 0), 0);
	/* cap = base * 2^(attempt-1), the top reached exactly */
	for (a = 1; a <= 9; a++)
		assert_true(wh_backoff_ms(1000, 600000, a, top) <=
		    1000 << (a - 1));
	assert_int_equal(wh_backoff_ms(1000, 600000, 1, 1000), 1000);
	assert_int_equal(wh_backoff_ms(1000, 600000, 3, 4000), 4000);
	assert_int_equal(wh_backoff_ms(1000, 600000, 3, 4001), 0);
	/* capped at max, however many attempts */
	assert_int_equal(wh_backoff_ms(1000, 600000, 20, 600000), 600000);
	assert_int_equal(wh_backoff_ms(1000, 600000, 1000000, 600000), 600000);
	assert_true(wh_backoff_ms(1000, 600000, 1000000, top) <= 600000);
	assert_true(wh_backoff_ms(1000, 86400000, 2147483647, top) <=
	    86400000);
	/* attempt below 1 is attempt 1 */
	assert_true(wh_backoff_ms(200, 800, 0, top) <= 200);
	assert_true(wh_backoff_ms(200, 800, -5, top) <= 200);
	/* base above max: max wins */
	assert_true(wh_backoff_ms(5000, 800, 1, top) <= 800);
}

/* Full jitter: over many draws every value stays in range, and spreads. */
static void
test_backoff_spread(void **state)
{
	uint64_t x = 88172645463325252ULL;
	int i, v, lo = 1 << 30, hi = -1;

	for (i = 0; i < 10000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = wh_backoff_ms(200, 800, 3, x);
		assert_true(v >= 0 && v <= 800);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	assert_true(lo < 50);
	assert_true(hi > 750);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_vector),
		cmocka_unit_test(test_sign_binds_timestamp_and_body),
		cmocka_unit_test(test_sign_key),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_backoff_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
