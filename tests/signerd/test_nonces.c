/* test_nonces.c: nonce ownership and what counts as a fee bump (invariant 5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "signerd/nonces.h"

static void
test_owner(void **unused)
{
	struct sd_nonces *n;
	struct sd_nonce_ref a = { { 1 }, 1337, 4 }, b = a;

	b.from[0] = 2;	/* another key, same chain and nonce */
	assert_int_equal(sd_nonces_new(&n), 0);
	assert_int_equal(sd_nonces_claim(n, &a, "r1"), 0);
	assert_int_equal(sd_nonces_claim(n, &a, "r1"), 0);	/* idempotent */
	assert_int_equal(sd_nonces_claim(n, &a, "r2"), ERR_EXISTS);
	assert_int_equal(sd_nonces_claim(n, &b, "r2"), 0);
	assert_string_equal(sd_nonces_owner(n, &a), "r1");
	sd_nonces_release(n, &a, "r2");		/* not the owner: no-op */
	assert_string_equal(sd_nonces_owner(n, &a), "r1");
	sd_nonces_release(n, &a, "r1");
	assert_null(sd_nonces_owner(n, &a));
	assert_int_equal(sd_nonces_count(n), 1);
	sd_nonces_free(n);
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
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_bump_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
