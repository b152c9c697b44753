/* test_u256.c: 256-bit arithmetic, decimal and big-endian forms, and their limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "evm/u256.h"

#define MAX_DEC "115792089237316195423570985008687907853269984665640564039457584007913129639935"
#define TWO_256 "115792089237316195423570985008687907853269984665640564039457584007913129639936"

static void
set_limbs(u256 *a, uint64_t w3, uint64_t w2, uint64_t w1, uint64_t w0)
{
	a->w[0] = w0;
	a->w[1] = w1;
	a->w[2] = w2;
	a->w[3] = w3;
}

/* A recognisable value to prove an output was (or was not) touched. */
static void
set_sentinel(u256 *a)
{
	set_limbs(a, 0x1111, 0x2222, 0x3333, 0x4444);
}

static void
assert_sentinel(const u256 *a)
{
	u256 s;

	set_sentinel(&s);
	assert_memory_equal(a, &s, sizeof(s));
}

static void
assert_dec(const u256 *a, const char *want)
{
	char buf[U256_DEC_MAX];

	u256_to_dec(buf, sizeof(buf), a);
	assert_string_equal(buf, want);
}

static void
test_dec_limits(void **state)
{
	u256 a;

	assert_int_equal(u256_from_dec(&a, MAX_DEC), 0);
	assert_true(a.w[0] == UINT64_MAX && a.w[1] == UINT64_MAX &&
	    a.w[2] == UINT64_MAX && a.w[3] == UINT64_MAX);
	assert_dec(&a, MAX_DEC);

	set_sentinel(&a);
	assert_int_equal(u256_from_dec(&a, TWO_256), ERR_OVERFLOW);
	assert_true(u256_is_zero(&a));
	/* 78 nines: the right length but above 2^256-1. */
	assert_int_equal(u256_from_dec(&a,
	    "999999999999999999999999999999999999999999999999999999999999999999999999999999"),
	    ERR_OVERFLOW);
	/* 79 digits can never fit. */
	assert_int_equal(u256_from_dec(&a, "1" MAX_DEC), ERR_OVERFLOW);
}

static void
test_dec_values(void **state)
{
	u256 a;

	assert_int_equal(u256_from_dec(&a, "0"), 0);
	assert_true(u256_is_zero(&a));
	assert_dec(&a, "0");

	assert_int_equal(u256_from_dec(&a, "18446744073709551615"), 0);
	assert_true(a.w[0] == UINT64_MAX && a.w[1] == 0);
	assert_int_equal(u256_from_dec(&a, "18446744073709551616"), 0);
	assert_true(a.w[0] == 0 && a.w[1] == 1 && a.w[2] == 0 && a.w[3] == 0);
	assert_dec(&a, "18446744073709551616");

	/* 1 ether in wei. */
	assert_int_equal(u256_from_dec(&a, "1000000000000000000"), 0);
	assert_true(a.w[0] == 1000000000000000000ull && a.w[1] == 0);

	/* rlptest.json "mediumint4": 0x102030405060708090a0b0c0d0e0f2. */
	assert_int_equal(u256_from_dec(&a, "83729609699884896815286331701780722"), 0);
	assert_true(a.w[0] == 0x8090a0b0c0d0e0f2ull && a.w[1] == 0x10203040506070ull);
}

static void
test_dec_rejects(void **state)
{
	static const struct {
		const char *s;
		int err;
	} cases[] = {
		{ "", ERR_BAD_DIGIT },
		{ "12a", ERR_BAD_DIGIT },
		{ "-1", ERR_BAD_DIGIT },
		{ "+1", ERR_BAD_DIGIT },
		{ " 1", ERR_BAD_DIGIT },
		{ "1 ", ERR_BAD_DIGIT },
		{ "1.5", ERR_BAD_DIGIT },
		{ "1e18", ERR_BAD_DIGIT },
		{ "0x10", ERR_BAD_DIGIT },
		{ "00", ERR_NONCANONICAL },
		{ "01", ERR_NONCANONICAL },
		{ "0" MAX_DEC, ERR_NONCANONICAL },
	};
	size_t i;
	u256 a;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_sentinel(&a);
		assert_int_equal(u256_from_dec(&a, cases[i].s), cases[i].err);
		assert_true(u256_is_zero(&a));
	}
}

static void
test_to_dec_small_buffer(void **state)
{
	char buf[4];
	u256 a;

	u256_from_u64(&a, 1234);
	memset(buf, 'x', sizeof(buf));
	u256_to_dec(buf, sizeof(buf), &a);
	/* Never a truncated number that reads as a smaller amount. */
	assert_string_equal(buf, "");
	u256_from_u64(&a, 123);
	u256_to_dec(buf, sizeof(buf), &a);
	assert_string_equal(buf, "123");
}

static void
test_add(void **state)
{
	u256 a, b, out, max;

	set_limbs(&a, 0, 0, 0, UINT64_MAX);
	u256_from_u64(&b, 1);
	assert_int_equal(u256_add(&out, &a, &b), 0);
	assert_true(out.w[0] == 0 && out.w[1] == 1);

	/* Carry through every limb into the top. */
	set_limbs(&a, 0, UINT64_MAX, UINT64_MAX, UINT64_MAX);
	assert_int_equal(u256_add(&a, &a, &b), 0);
	assert_true(a.w[3] == 1 && a.w[2] == 0 && a.w[1] == 0 && a.w[0] == 0);

	assert_int_equal(u256_from_dec(&max, MAX_DEC), 0);
	set_sentinel(&out);
	assert_int_equal(u256_add(&out, &max, &b), ERR_OVERFLOW);
	assert_sentinel(&out);
	set_sentinel(&out);
	assert_int_equal(u256_add(&out, &b, &max), ERR_OVERFLOW);
	assert_sentinel(&out);
	u256_from_u64(&b, 0);
	assert_int_equal(u256_add(&out, &max, &b), 0);
	assert_dec(&out, MAX_DEC);
}

static void
test_sub(void **state)
{
	u256 a, b, out;

	set_limbs(&a, 1, 0, 0, 0);
	u256_from_u64(&b, 1);
	assert_int_equal(u256_sub(&out, &a, &b), 0);
	assert_true(out.w[3] == 0 && out.w[2] == UINT64_MAX &&
	    out.w[1] == UINT64_MAX && out.w[0] == UINT64_MAX);

	u256_from_u64(&a, 0);
	set_sentinel(&out);
	assert_int_equal(u256_sub(&out, &a, &b), ERR_OVERFLOW);
	assert_sentinel(&out);

	assert_int_equal(u256_sub(&out, &b, &b), 0);
	assert_true(u256_is_zero(&out));
}

static void
test_mul(void **state)
{
	u256 a, out, max;

	assert_int_equal(u256_from_dec(&a, "1000000000000000000"), 0);
	assert_int_equal(u256_mul_u64(&out, &a, 1000000000000000000ull), 0);
	assert_dec(&out, "1000000000000000000000000000000000000");

	/* (2^64-1)^2 = 2^128 - 2^65 + 1 exercises the high half of each product. */
	u256_from_u64(&a, UINT64_MAX);
	assert_int_equal(u256_mul_u64(&out, &a, UINT64_MAX), 0);
	assert_true(out.w[0] == 1 && out.w[1] == UINT64_MAX - 1 && out.w[2] == 0);

	/*
	 * (3*2^64 - 1) * (2^64 - 1) = 3*2^128 - 4*2^64 + 1: the second limb's
	 * low product plus the first limb's carry wraps, carrying into the third.
	 */
	set_limbs(&a, 0, 0, 2, UINT64_MAX);
	assert_int_equal(u256_mul_u64(&out, &a, UINT64_MAX), 0);
	assert_true(out.w[0] == 1 && out.w[1] == UINT64_MAX - 3 &&
	    out.w[2] == 2 && out.w[3] == 0);

	assert_int_equal(u256_from_dec(&max, MAX_DEC), 0);
	assert_int_equal(u256_mul_u64(&out, &max, 1), 0);
	assert_int_equal(u256_cmp(&out, &max), 0);
	set_sentinel(&out);
	assert_int_equal(u256_mul_u64(&out, &max, 2), ERR_OVERFLOW);
	assert_sentinel(&out);
	/* Top limb alone overflowing. */
	set_limbs(&a, 1ull << 63, 0, 0, 0);
	assert_int_equal(u256_mul_u64(&out, &a, 2), ERR_OVERFLOW);
	assert_int_equal(u256_mul_u64(&out, &max, 0), 0);
	assert_true(u256_is_zero(&out));
}

static void
test_cmp_and_to_u64(void **state)
{
	u256 a, b;
	uint64_t v = 7;

	set_limbs(&a, 1, 0, 0, 0);
	set_limbs(&b, 0, UINT64_MAX, UINT64_MAX, UINT64_MAX);
	assert_int_equal(u256_cmp(&a, &b), 1);
	assert_int_equal(u256_cmp(&b, &a), -1);
	assert_int_equal(u256_cmp(&a, &a), 0);

	u256_from_u64(&a, UINT64_MAX);
	assert_int_equal(u256_to_u64(&v, &a), 0);
	assert_true(v == UINT64_MAX);
	set_limbs(&a, 0, 0, 1, 0);
	assert_int_equal(u256_to_u64(&v, &a), ERR_OVERFLOW);
	assert_true(v == 0);
}

static void
test_big_endian(void **state)
{
	uint8_t in[33], be[32], min[32];
	u256 a;
	size_t i, n;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i + 1);
	set_sentinel(&a);
	assert_int_equal(u256_from_be(&a, in, 33), ERR_TOO_LARGE);
	assert_true(u256_is_zero(&a));

	assert_int_equal(u256_from_be(&a, in, 32), 0);
	assert_true(a.w[3] == 0x0102030405060708ull && a.w[0] == 0x191a1b1c1d1e1f20ull);
	u256_to_be32(be, &a);
	assert_memory_equal(be, in, 32);

	/* Leading zeros are allowed on input and stripped by the minimal form. */
	assert_int_equal(u256_from_be(&a, (const uint8_t *)"\x00\x00\x01\x00", 4), 0);
	assert_true(a.w[0] == 0x100);
	n = u256_to_be_min(min, &a);
	assert_int_equal(n, 2);
	assert_memory_equal(min, "\x01\x00", 2);

	assert_int_equal(u256_from_be(&a, in, 0), 0);
	assert_true(u256_is_zero(&a));
	assert_int_equal(u256_to_be_min(min, &a), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dec_limits),
		cmocka_unit_test(test_dec_values),
		cmocka_unit_test(test_dec_rejects),
		cmocka_unit_test(test_to_dec_small_buffer),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_sub),
		cmocka_unit_test(test_mul),
		cmocka_unit_test(test_cmp_and_to_u64),
		cmocka_unit_test(test_big_endian),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
