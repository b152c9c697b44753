/* test_model.c: what a parsed policy exposes to signerd and orchestratord through the accessors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/policy/fixture.h"

static void
test_base_policy_model(void **state)
{
	struct pol_policy *p = fx_policy();
	const struct pol_asset *a;
	const struct pol_approver *ap;
	uint8_t addr[EVM_ADDR_LEN];
	size_t i;

	assert_string_equal(pol_policy_id(p), "test-1");
	assert_int_equal(pol_paused(p), 0);
	assert_int_equal(pol_asset_count(p), 4);
	assert_int_equal(pol_approver_count(p), 4);

	/* Assets keep file order. */
	assert_int_equal(pol_asset_by_name(p, "ETH", &i), 0);
	assert_int_equal(i, FX_ETH);
	assert_int_equal(pol_asset_by_name(p, "BIG", &i), 0);
	assert_int_equal(i, FX_BIG);
	assert_int_equal(pol_asset_by_name(p, "eth", &i), ERR_NOT_FOUND);
	assert_true(i == SIZE_MAX);

	a = pol_asset(p, FX_ETH);
	assert_string_equal(a->name, "ETH");
	assert_int_equal(a->chain_id, 1337);
	assert_int_equal(a->kind, POL_KIND_NATIVE);
	assert_int_equal(a->decimals, 18);
	assert_string_equal(a->key, "payout");
	fx_assert_u256(&a->daily_limit, "5000000000000000000");
	fx_assert_u256(&a->per_tx_limit, "2000000000000000000");
	assert_true(a->has_approval);
	fx_assert_u256(&a->approval_threshold, "1000000000000000000");
	assert_int_equal(a->approval_m, 2);
	assert_int_equal(a->approval_n, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(a->approval_approvers[i], i);
	assert_true(a->has_timelock);
	fx_assert_u256(&a->timelock_threshold, "1500000000000000000");
	assert_int_equal(a->timelock_delay, 30);
	assert_false(a->has_allowlist);
	fx_assert_u256(&a->max_fee_per_gas, "200000000000");
	fx_assert_u256(&a->max_priority_fee_per_gas, "5000000000");
	assert_int_equal(a->gas_limit, 100000);
	assert_false(a->finalized);
	assert_int_equal(a->confirmations, 2);

	a = pol_asset(p, FX_TUSD);
	assert_int_equal(a->kind, POL_KIND_ERC20);
	fx_addr(addr, TOKEN);
	assert_memory_equal(a->contract, addr, EVM_ADDR_LEN);
	assert_false(a->has_approval);
	assert_false(a->has_timelock);
	assert_true(a->finalized);
	/* The allowlist is sorted: ACCT2 (0x3c...) before ACCT1 (0x70...). */
	assert_true(a->has_allowlist);
	assert_int_equal(a->allowlist_len, 2);
	fx_addr(addr, ACCT2);
	assert_memory_equal(a->allowlist[0], addr, EVM_ADDR_LEN);
	assert_true(pol_recipient_allowed(a, addr));
	fx_addr(addr, ACCT1);
	assert_true(pol_recipient_allowed(a, addr));
	fx_addr(addr, ACCT3);
	assert_false(pol_recipient_allowed(a, addr));
	/* No allowlist: anyone. */
	assert_true(pol_recipient_allowed(pol_asset(p, FX_USDX), addr));

	a = pol_asset(p, FX_BIG);
	fx_assert_u256(&a->daily_limit, U256_MAX_DEC);

	assert_int_equal(pol_approver_by_name(p, "erin", &i), 0);
	assert_int_equal(i, 3);
	assert_int_equal(pol_approver_by_name(p, "mallory", &i), ERR_NOT_FOUND);
	ap = pol_approver(p, 0);
	assert_string_equal(ap->name, "alice");
	assert_int_equal(ap->alg, POL_KEY_P256);
	assert_int_equal(ap->spki_der_len, 91);	/* P-256 SubjectPublicKeyInfo */
	assert_non_null(strstr(ap->public_key_pem, "\nMFkwEwYHKoZIzj0C"));
	ap = pol_approver(p, 3);
	assert_int_equal(ap->alg, POL_KEY_ED25519);
	assert_int_equal(ap->spki_der_len, 44);

	/* Governance: m of named approvers, by index. */
	assert_non_null(pol_governance(p));
	assert_int_equal(pol_governance(p)->m, 2);
	assert_int_equal(pol_governance(p)->n, 3);
	assert_int_equal(pol_governance(p)->approvers[0], 0);	/* alice */
	assert_int_equal(pol_governance(p)->approvers[2], 3);	/* erin */
	pol_free(p);
}

/* No approvers, no governance: nobody can pause or unpause over the wire. */
static void
test_no_approvers_no_governance(void **state)
{
	static const char text[] = "{\"policy_id\": \"p\", \"assets\": "
	    "{\"ETH\": {\"chain_id\": 1, \"kind\": \"native\", "
	    "\"decimals\": 18, \"key\": \"k\", \"daily_limit\": \"10\", "
	    "\"per_tx_limit\": \"5\", \"fee_caps\": " FEE_CAPS ", "
	    "\"confirmations\": 1}}}";
	struct pol_policy *p = NULL;
	char err[256];

	assert_int_equal(fx_parse_text(&p, text, err, sizeof(err)), 0);
	assert_null(pol_governance(p));
	assert_int_equal(pol_approver_count(p), 0);
	pol_free(p);
}

static void
test_free_null(void **state)
{
	pol_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_policy_model),
		cmocka_unit_test(test_no_approvers_no_governance),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
