/* test_nonces.c: which nonces are taken, the floor that keeps that small, and what counts as a fee bump (invariant 5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "signerd/nonces.h"

static void
test_claims(void **unused)
{
	struct sd_nonces *n;
	struct sd_nonce_ref a = { { 1 }, 1337, 4 }, b = a;

	b.from[0] = 2;	/* another key, same chain and nonce */
	assert_int_equal(sd_nonces_new(&n), 0);
	assert_int_equal(sd_nonces_claim(n, &a), 0);
	assert_int_equal(sd_nonces_claim(n, &a), ERR_EXISTS);
	assert_int_equal(sd_nonces_claim(n, &b), 0);
	assert_true(sd_nonces_used(n, &a));
	sd_nonces_release(n, &a);
	assert_false(sd_nonces_used(n, &a));
	assert_int_equal(sd_nonces_count(n), 1);
	/* A signed nonce is never given back. */
	assert_int_equal(sd_nonces_signed(n, &b), 0);
	sd_nonces_release(n, &b);
	assert_true(sd_nonces_used(n, &b));
	assert_int_equal(sd_nonces_claim(n, &b), ERR_EXISTS);
	assert_int_equal(sd_nonces_signed(n, &b), ERR_EXISTS);
	sd_nonces_free(n);
}

/* Signed in order, memory stays at the requests in flight: the floor
 * closes over every run (D55), and nothing below it signs again. */
static void
test_floor_follows_the_holes(void **unused)
{
	struct sd_nonces *n;
	struct sd_nonce_ref r = { { 9 }, 1, 0 };
	uint64_t i;

	assert_int_equal(sd_nonces_new(&n), 0);
	for (i = 0; i < 100000; i++) {
		r.nonce = i;
		assert_int_equal(sd_nonces_claim(n, &r), 0);
		assert_int_equal(sd_nonces_signed(n, &r), 0);
	}
	assert_int_equal(sd_nonces_count(n), 0);
	r.nonce = 5;
	assert_true(sd_nonces_used(n, &r));
	assert_int_equal(sd_nonces_claim(n, &r), ERR_EXISTS);
	/* A hole at 100000: what is signed above it is held one by one
	 * until it is filled, then the floor closes over all of it. */
	for (i = 100001; i < 100011; i++) {
		r.nonce = i;
		assert_int_equal(sd_nonces_signed(n, &r), 0);
	}
	assert_int_equal(sd_nonces_count(n), 10);
	r.nonce = 100000;
	assert_false(sd_nonces_used(n, &r));
	assert_true(sd_nonces_below_signed(n, &r));
	assert_int_equal(sd_nonces_signed(n, &r), 0);
	assert_int_equal(sd_nonces_count(n), 0);
	r.nonce = 100011;
	assert_false(sd_nonces_used(n, &r));
	assert_false(sd_nonces_below_signed(n, &r));
	/* The largest nonce does not wrap the floor. */
	r.nonce = UINT64_MAX;
	assert_int_equal(sd_nonces_signed(n, &r), 0);
	assert_true(sd_nonces_used(n, &r));
	sd_nonces_free(n);
}

/* Snapshot round trip, and every inconsistency refused. */
static void
round_trip(struct sd_nonces *n, struct sd_nonces **out)
{
	struct prt_writer w;

	prt_writer_init(&w, 1 << 20);
	assert_int_equal(sd_nonces_serialize(n, &w), 0);
	assert_int_equal(sd_nonces_new(out), 0);
	{
		struct prt_reader rd;

		prt_reader_init(&rd, w.p, w.len);
		assert_int_equal(sd_nonces_deserialize(*out, &rd), 0);
		assert_int_equal(prt_end(&rd), 0);
	}
	prt_writer_free(&w);
}

static int
load(const uint8_t *blob, size_t len)
{
	struct sd_nonces *n;
	struct prt_reader rd;
	int r;

	assert_int_equal(sd_nonces_new(&n), 0);
	prt_reader_init(&rd, blob, len);
	r = sd_nonces_deserialize(n, &rd);
	sd_nonces_free(n);
	return r;
}

static void
test_serialize(void **unused)
{
	struct sd_nonces *n, *m;
	struct sd_nonce_ref r = { { 3 }, 10, 0 };
	struct prt_writer w;
	uint64_t i;
	uint8_t *b;

	assert_int_equal(sd_nonces_new(&n), 0);
	for (i = 0; i < 5; i++) {
		r.nonce = i;
		assert_int_equal(sd_nonces_signed(n, &r), 0);
	}
	r.nonce = 9;
	assert_int_equal(sd_nonces_signed(n, &r), 0);
	r.nonce = 7;
	assert_int_equal(sd_nonces_claim(n, &r), 0);	/* not durable */
	round_trip(n, &m);
	r.nonce = 4;
	assert_true(sd_nonces_used(m, &r));
	r.nonce = 9;
	assert_true(sd_nonces_used(m, &r));
	r.nonce = 7;
	assert_false(sd_nonces_used(m, &r));
	r.nonce = 6;
	assert_true(sd_nonces_below_signed(m, &r));
	assert_int_equal(sd_nonces_count(m), 1);

	/* u32 count, then from(20) chain floor any highest count nonces */
	prt_writer_init(&w, 4096);
	assert_int_equal(sd_nonces_serialize(m, &w), 0);
	assert_int_equal(load(w.p, w.len), 0);
	b = w.p;
	b[4 + 20 + 8 + 7] = 9;		/* floor 9: not below the nonce 9 */
	assert_int_equal(load(w.p, w.len), ERR_MALFORMED);
	b[4 + 20 + 8 + 7] = 5;
	b[4 + 20 + 8 + 8 + 1 + 7] = 8;	/* top 8, yet 9 is in the set */
	assert_int_equal(load(w.p, w.len), ERR_MALFORMED);
	b[4 + 20 + 8 + 8 + 1 + 7] = 9;
	b[4 + 20 + 8 + 8] = 2;		/* "any" is a flag */
	assert_int_equal(load(w.p, w.len), ERR_MALFORMED);
	b[4 + 20 + 8 + 8] = 1;
	assert_int_not_equal(load(w.p, w.len - 1), 0);
	prt_writer_free(&w);
	sd_nonces_free(n);
	sd_nonces_free(m);
}

static void
base_tx(struct evm_tx *t)
{
	memset(t, 0, sizeof(*t));
	t->chain_id = 1337;
	t->nonce = 7;
	t->has_to = 1;
	memset(t->to, 0x70, sizeof(t->to));
	u256_from_u64(&t->value, 1000);
	u256_from_u64(&t->max_fee_per_gas, 100);
	u256_from_u64(&t->max_priority_fee_per_gas, 10);
	t->gas_limit = 21000;
}

static void
test_bump_rules(void **unused)
{
	struct evm_tx old, t;
	char d[160];

	base_tx(&old);
	base_tx(&t);
	u256_from_u64(&t.max_fee_per_gas, 101);
	u256_from_u64(&t.max_priority_fee_per_gas, 11);
	assert_int_equal(sd_bump_classify(&old, &t, d, sizeof(d)), SD_BUMP_OK);

	/* Only one fee up, or none: nodes would not replace it. */
	u256_from_u64(&t.max_priority_fee_per_gas, 10);
	assert_int_equal(sd_bump_classify(&old, &t, d, sizeof(d)),
	    SD_BUMP_FEES_NOT_HIGHER);
	base_tx(&t);
	u256_from_u64(&t.max_priority_fee_per_gas, 11);
	assert_int_equal(sd_bump_classify(&old, &t, d, sizeof(d)),
	    SD_BUMP_FEES_NOT_HIGHER);
	u256_from_u64(&t.max_fee_per_gas, 99);
	assert_int_equal(sd_bump_classify(&old, &t, d, sizeof(d)),
	    SD_BUMP_FEES_NOT_HIGHER);

	/* Anything else changed: another payout, not a bump. */
	base_tx(&t);
	u256_from_u64(&t.max_fee_per_gas, 200);
	u256_from_u64(&t.max_priority_fee_per_gas, 20);
	t.to[19] ^= 1;
	assert_int_equal(sd_bump_classify(&old, &t, d, sizeof(d)),
	    SD_BUMP_NOT_A_BUMP);
	t.to[19] ^= 1;
	u256_from_u64(&t.value, 1001);
	assert_int_equal(sd_bump_classify(&old, &t, d, sizeof(d)),
	    SD_BUMP_NOT_A_BUMP);
	u256_from_u64(&t.value, 1000);
	t.nonce = 8;
	assert_int_equal(sd_bump_classify(&old, &t, d, sizeof(d)),
	    SD_BUMP_NOT_A_BUMP);
	t.nonce = 7;
	t.data_len = 1;
	assert_int_equal(sd_bump_classify(&old, &t, d, sizeof(d)),
	    SD_BUMP_NOT_A_BUMP);
	t.data_len = 0;
	t.gas_limit = 30000;
	assert_int_equal(sd_bump_classify(&old, &t, d, sizeof(d)),
	    SD_BUMP_NOT_A_BUMP);
	t.gas_limit = 21000;
	t.chain_id = 1;
	assert_int_equal(sd_bump_classify(&old, &t, d, sizeof(d)),
	    SD_BUMP_NOT_A_BUMP);
	assert_true(strlen(d) > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_floor_follows_the_holes),
		cmocka_unit_test(test_serialize),
		cmocka_unit_test(test_bump_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
