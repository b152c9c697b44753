/* test_eval.c: the signing rules: order, limits at and one past the edge, overflow, UTC days. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "evm/erc20.h"
#include "evm/tx.h"
#include "tests/policy/fixture.h"

#define ETH_1 "1000000000000000000"

struct fx {
	struct pol_policy *p;
	struct evm_tx tx;
	struct pol_intent in;
	struct pol_stated st;
	u256 today, total;
	int paused;		/* signerd's pause state, passed in */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->p = fx_policy();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	pol_free(f->p);
	free(f);
	return 0;
}

/* Derives f->in from a tx and states exactly that; today starts at zero. */
static void
derive(struct fx *f)
{
	enum pol_reason why;

	assert_int_equal(pol_derive_intent(&f->in, &why, f->p, &f->tx), 0);
	memset(&f->st, 0, sizeof(f->st));
	strcpy(f->st.asset, f->in.asset_name);
	f->st.chain_id = f->in.chain_id;
	memcpy(f->st.to, f->in.recipient, EVM_ADDR_LEN);
	f->st.amount = f->in.amount;
	u256_from_u64(&f->today, 0);
}

static void
native(struct fx *f, uint64_t chain, const char *to, const char *value)
{
	memset(&f->tx, 0, sizeof(f->tx));
	f->tx.chain_id = chain;
	f->tx.nonce = 1;
	f->tx.max_priority_fee_per_gas = fx_u256("1000000000");
	f->tx.max_fee_per_gas = fx_u256("30000000000");
	f->tx.gas_limit = 21000;
	f->tx.has_to = 1;
	fx_addr(f->tx.to, to);
	f->tx.value = fx_u256(value);
	derive(f);
}

static void
token(struct fx *f, const char *contract, const char *to, const char *amount)
{
	uint8_t rcpt[EVM_ADDR_LEN];
	u256 a = fx_u256(amount);

	memset(&f->tx, 0, sizeof(f->tx));
	f->tx.chain_id = 1337;
	f->tx.max_priority_fee_per_gas = fx_u256("1000000000");
	f->tx.max_fee_per_gas = fx_u256("30000000000");
	f->tx.gas_limit = 60000;
	f->tx.has_to = 1;
	fx_addr(f->tx.to, contract);
	fx_addr(rcpt, to);
	erc20_transfer_encode(f->tx.data, rcpt, &a);
	f->tx.data_len = ERC20_TRANSFER_LEN;
	derive(f);
}

/* Checks the verdict; a refusal must leave the total where it was. */
static void
expect(struct fx *f, enum pol_reason want)
{
	enum pol_reason got;

	memset(&f->total, 0xa5, sizeof(f->total));
	got = pol_check_sign(f->p, f->paused, &f->in, &f->st, &f->today,
	    &f->total);
	if (got != want)
		print_message("got %s, want %s\n", pol_reason_name(got),
		    pol_reason_name(want));
	assert_int_equal(got, want);
	if (want != POL_OK)
		assert_memory_equal(&f->total, &f->today, sizeof(u256));
}

static void
test_allowed_returns_new_total(void **state)
{
	struct fx *f = *state;

	native(f, 1337, ACCT1, ETH_1);
	f->today = fx_u256("250");
	expect(f, POL_OK);
	fx_assert_u256(&f->total, "1000000000000000250");

	token(f, TOKEN, ACCT2, "7");
	expect(f, POL_OK);
	fx_assert_u256(&f->total, "7");
}

static void
test_paused(void **state)
{
	struct fx *f = *state;
	struct pol_policy *p;
	char err[256];

	native(f, 1337, ACCT1, ETH_1);
	f->paused = 1;
	expect(f, POL_PAUSED);
	/* Paused is checked first: even a mismatched request says PAUSED. */
	f->st.chain_id = 1;
	expect(f, POL_PAUSED);

	/*
	 * The file's flag is only where signerd starts: what counts is the
	 * state passed in, so an unpaused signerd signs under a paused file.
	 */
	assert_int_equal(fx_parse_with(&p, "paused", "true", err, sizeof(err)),
	    0);
	pol_free(f->p);
	f->p = p;
	native(f, 1337, ACCT1, ETH_1);
	f->paused = 0;
	expect(f, POL_OK);
	f->paused = pol_paused(p);
	expect(f, POL_PAUSED);
}

static void
test_intent_mismatch(void **state)
{
	struct fx *f = *state;

	native(f, 1337, ACCT1, ETH_1);
	strcpy(f->st.asset, "TUSD");
	expect(f, POL_INTENT_MISMATCH);

	native(f, 1337, ACCT1, ETH_1);
	f->st.chain_id = 1;
	expect(f, POL_INTENT_MISMATCH);

	native(f, 1337, ACCT1, ETH_1);
	fx_addr(f->st.to, ACCT2);
	expect(f, POL_INTENT_MISMATCH);

	native(f, 1337, ACCT1, ETH_1);
	f->st.amount = fx_u256("999999999999999999");
	expect(f, POL_INTENT_MISMATCH);

	/* A token transfer stated as a transfer to the token contract. */
	token(f, TOKEN, ACCT1, "5");
	fx_addr(f->st.to, TOKEN);
	expect(f, POL_INTENT_MISMATCH);

	/* A mismatch is reported before the amount's own problems. */
	native(f, 1337, ACCT1, "0");
	f->st.amount = fx_u256("1");
	expect(f, POL_INTENT_MISMATCH);
}

static void
test_unknown_or_malformed_stated_asset(void **state)
{
	struct fx *f = *state;

	native(f, 1337, ACCT1, ETH_1);
	strcpy(f->st.asset, "DOGE");
	expect(f, POL_UNKNOWN_ASSET);
	strcpy(f->st.asset, "eth");
	expect(f, POL_UNKNOWN_ASSET);
	memset(f->st.asset, 'A', sizeof(f->st.asset));	/* no NUL */
	expect(f, POL_MALFORMED_REQUEST);
}

/* An intent that did not come from this policy is a caller bug. */
static void
test_foreign_intent(void **state)
{
	struct fx *f = *state;

	native(f, 1337, ACCT1, ETH_1);
	f->in.asset = 99;
	expect(f, POL_INTERNAL);
	native(f, 1337, ACCT1, ETH_1);
	f->in.asset = FX_BIG;
	expect(f, POL_INTERNAL);
}

static void
test_zero_amount(void **state)
{
	struct fx *f = *state;

	native(f, 1337, ACCT1, "0");
	expect(f, POL_ZERO_AMOUNT);
	token(f, TOKEN, ACCT1, "0");
	expect(f, POL_ZERO_AMOUNT);
}

static void
test_per_tx_limit_edge(void **state)
{
	struct fx *f = *state;

	native(f, 1337, ACCT1, "2000000000000000000");
	expect(f, POL_OK);
	native(f, 1337, ACCT1, "2000000000000000001");
	expect(f, POL_PER_TX_LIMIT);

	token(f, TOKEN, ACCT1, "20000000000");
	expect(f, POL_OK);
	token(f, TOKEN, ACCT1, "20000000001");
	expect(f, POL_PER_TX_LIMIT);
}

static void
test_recipient_rules(void **state)
{
	struct fx *f = *state;

	/* TUSD has an allowlist. */
	token(f, TOKEN, ACCT1, "5");
	expect(f, POL_OK);
	token(f, TOKEN, ACCT3, "5");
	expect(f, POL_RECIPIENT_NOT_ALLOWED);

	/* USDX allows anyone, but never a sink. */
	token(f, TOKEN2, ACCT3, "5");
	expect(f, POL_OK);
	token(f, TOKEN2, ZERO_ADDR, "5");
	expect(f, POL_RECIPIENT_NOT_ALLOWED);
	token(f, TOKEN2, TOKEN2, "5");
	expect(f, POL_RECIPIENT_NOT_ALLOWED);
	token(f, TOKEN2, TOKEN, "5");
	expect(f, POL_RECIPIENT_NOT_ALLOWED);
	native(f, 1337, ZERO_ADDR, "5");
	expect(f, POL_RECIPIENT_NOT_ALLOWED);
}

static void
test_fee_caps_edge(void **state)
{
	struct fx *f = *state;

	native(f, 1337, ACCT1, "5");
	f->in.max_fee_per_gas = fx_u256("200000000000");
	f->in.max_priority_fee_per_gas = fx_u256("5000000000");
	f->in.gas_limit = 100000;
	expect(f, POL_OK);

	f->in.max_fee_per_gas = fx_u256("200000000001");
	expect(f, POL_FEE_CAP_MAX_FEE);
	f->in.max_fee_per_gas = fx_u256("200000000000");

	f->in.max_priority_fee_per_gas = fx_u256("5000000001");
	expect(f, POL_FEE_CAP_PRIORITY_FEE);
	f->in.max_priority_fee_per_gas = fx_u256("5000000000");

	f->in.gas_limit = 100001;
	expect(f, POL_FEE_CAP_GAS_LIMIT);

	/* The caps come from the decoded tx via the intent. */
	native(f, 1337, ACCT1, "5");
	f->tx.max_fee_per_gas = fx_u256(U256_MAX_DEC);
	derive(f);
	expect(f, POL_FEE_CAP_MAX_FEE);
}

/*
 * orchestratord pre-checks a payout before it has a transaction: no fees,
 * no gas, nonce 0.  The per-request rules must pass such an intent;
 * whether a transaction is includable is pol_derive_intent's to judge
 * (test_intent.c), on every path that has one.
 */
static void
test_intent_without_transaction(void **state)
{
	struct fx *f = *state;

	native(f, 1337, ACCT1, "5");
	u256_from_u64(&f->in.max_fee_per_gas, 0);
	u256_from_u64(&f->in.max_priority_fee_per_gas, 0);
	f->in.gas_limit = 0;
	f->in.nonce = 0;
	expect(f, POL_OK);
	fx_assert_u256(&f->total, "5");
}

static void
test_daily_limit_edge(void **state)
{
	struct fx *f = *state;

	/* 3 ETH signed today + 2 ETH = the 5 ETH limit exactly. */
	native(f, 1337, ACCT1, "2000000000000000000");
	f->today = fx_u256("3000000000000000000");
	expect(f, POL_OK);
	fx_assert_u256(&f->total, "5000000000000000000");

	/* One wei more is refused, and the total does not move. */
	f->today = fx_u256("3000000000000000001");
	expect(f, POL_DAILY_LIMIT);

	/* Already over the limit (e.g. a replayed day): still refused. */
	native(f, 1337, ACCT1, "1");
	f->today = fx_u256("6000000000000000000");
	expect(f, POL_DAILY_LIMIT);

	/* Checked last: a request that breaks other rules says those. */
	native(f, 1337, ACCT1, "2000000000000000001");
	f->today = fx_u256("5000000000000000000");
	expect(f, POL_PER_TX_LIMIT);
}

/* invariant 2: a sum past 2^256-1 must not wrap to a small total. */
static void
test_daily_limit_overflow(void **state)
{
	struct fx *f = *state;

	/* BIG's daily limit is 2^256-1: reaching it exactly is allowed. */
	native(f, 7, ACCT1, "1");
	f->today = fx_u256("1157920892373161954235709850086879078532699846656"
	    "40564039457584007913129639934");
	expect(f, POL_OK);
	fx_assert_u256(&f->total, U256_MAX_DEC);

	f->today = fx_u256(U256_MAX_DEC);
	expect(f, POL_DAILY_LIMIT);

	native(f, 7, ACCT1, U256_MAX_DEC);
	f->today = fx_u256("1");
	expect(f, POL_DAILY_LIMIT);
	f->today = fx_u256(U256_MAX_DEC);
	expect(f, POL_DAILY_LIMIT);

	/* On a normal asset too: today near 2^256-1 plus 1 wei. */
	native(f, 1337, ACCT1, "1");
	f->today = fx_u256(U256_MAX_DEC);
	expect(f, POL_DAILY_LIMIT);
}

static void
test_approval_and_timelock_thresholds(void **state)
{
	struct fx *f = *state;

	native(f, 1337, ACCT1, ETH_1);
	assert_false(pol_needs_approval(f->p, &f->in));
	native(f, 1337, ACCT1, "1000000000000000001");
	assert_true(pol_needs_approval(f->p, &f->in));
	assert_false(pol_needs_timelock(f->p, &f->in));
	native(f, 1337, ACCT1, "1500000000000000000");
	assert_false(pol_needs_timelock(f->p, &f->in));
	native(f, 1337, ACCT1, "1500000000000000001");
	assert_true(pol_needs_timelock(f->p, &f->in));
	assert_true(pol_needs_approval(f->p, &f->in));

	/* TUSD configures neither. */
	token(f, TOKEN, ACCT1, "20000000000");
	assert_false(pol_needs_approval(f->p, &f->in));
	assert_false(pol_needs_timelock(f->p, &f->in));
}

static void
test_utc_day(void **state)
{
	assert_int_equal(pol_utc_day(0), 0);
	assert_int_equal(pol_utc_day(86399), 0);
	assert_int_equal(pol_utc_day(86400), 1);
	assert_int_equal(pol_utc_day(86401), 1);
	assert_int_equal(pol_utc_day(-1), -1);
	assert_int_equal(pol_utc_day(-86399), -1);
	assert_int_equal(pol_utc_day(-86400), -1);
	assert_int_equal(pol_utc_day(-86401), -2);
	/* 2026-11-01T00:00:00Z and the second before it. */
	assert_int_equal(pol_utc_day(1793491200), 20758);
	assert_int_equal(pol_utc_day(1793491199), 20757);
	assert_true(pol_utc_day(INT64_MAX) == INT64_MAX / 86400);
	assert_true(pol_utc_day(INT64_MIN) == INT64_MIN / 86400 - 1);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_allowed_returns_new_total),
		T(test_paused),
		T(test_intent_mismatch),
		T(test_unknown_or_malformed_stated_asset),
		T(test_foreign_intent),
		T(test_zero_amount),
		T(test_per_tx_limit_edge),
		T(test_recipient_rules),
		T(test_fee_caps_edge),
		T(test_intent_without_transaction),
		T(test_daily_limit_edge),
		T(test_daily_limit_overflow),
		T(test_approval_and_timelock_thresholds),
		cmocka_unit_test(test_utc_day),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
