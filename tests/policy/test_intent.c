/* test_intent.c: deriving asset, recipient and amount from decoded transactions, never from claims; refusing transactions no node includes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "evm/erc20.h"
#include "evm/tx.h"
#include "proto/buf.h"
#include "tests/policy/fixture.h"

struct fx {
	struct pol_policy *p;
	struct evm_tx tx;
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

/* A plain transfer of value wei on chain to `to`, with fees under the caps. */
static void
native_tx(struct evm_tx *tx, uint64_t chain, const char *to,
    const char *value)
{
	memset(tx, 0, sizeof(*tx));
	tx->chain_id = chain;
	tx->nonce = 7;
	tx->max_priority_fee_per_gas = fx_u256("1000000000");
	tx->max_fee_per_gas = fx_u256("30000000000");
	tx->gas_limit = 21000;
	tx->has_to = 1;
	fx_addr(tx->to, to);
	tx->value = fx_u256(value);
}

/* transfer(to, amount) on the token contract. */
static void
token_tx(struct evm_tx *tx, uint64_t chain, const char *contract,
    const char *to, const char *amount)
{
	uint8_t rcpt[EVM_ADDR_LEN];
	u256 a = fx_u256(amount);

	native_tx(tx, chain, contract, "0");
	tx->gas_limit = 60000;
	fx_addr(rcpt, to);
	erc20_transfer_encode(tx->data, rcpt, &a);
	tx->data_len = ERC20_TRANSFER_LEN;
}

/* Derivation must refuse with `want` and leave a zeroed intent behind. */
static void
assert_refused(const struct pol_policy *p, const struct evm_tx *tx,
    enum pol_reason want)
{
	static const struct pol_intent zero;
	struct pol_intent in;
	enum pol_reason why;

	memset(&in, 0xa5, sizeof(in));
	assert_int_equal(pol_derive_intent(&in, &why, p, tx), ERR_UNSUPPORTED);
	if (why != want)
		print_message("got %s, want %s\n", pol_reason_name(why),
		    pol_reason_name(want));
	assert_int_equal(why, want);
	assert_memory_equal(&in, &zero, sizeof(in));
}

static void
test_native_transfer(void **state)
{
	struct fx *f = *state;
	struct pol_intent in;
	enum pol_reason why;
	uint8_t to[EVM_ADDR_LEN];

	native_tx(&f->tx, 1337, ACCT3, "1000000000000000000");
	assert_int_equal(pol_derive_intent(&in, &why, f->p, &f->tx), 0);
	assert_int_equal(why, POL_OK);
	assert_int_equal(in.asset, FX_ETH);
	assert_string_equal(in.asset_name, "ETH");
	assert_int_equal(in.chain_id, 1337);
	fx_addr(to, ACCT3);
	assert_memory_equal(in.recipient, to, EVM_ADDR_LEN);
	fx_assert_u256(&in.amount, "1000000000000000000");
	fx_assert_u256(&in.max_fee_per_gas, "30000000000");
	fx_assert_u256(&in.max_priority_fee_per_gas, "1000000000");
	assert_int_equal(in.gas_limit, 21000);
	assert_int_equal(in.nonce, 7);

	/* The native asset of another chain. */
	native_tx(&f->tx, 7, ACCT3, "5");
	assert_int_equal(pol_derive_intent(&in, &why, f->p, &f->tx), 0);
	assert_int_equal(in.asset, FX_BIG);
	assert_int_equal(in.chain_id, 7);
}

static void
test_erc20_transfer(void **state)
{
	struct fx *f = *state;
	struct pol_intent in;
	enum pol_reason why;
	uint8_t to[EVM_ADDR_LEN];

	token_tx(&f->tx, 1337, TOKEN, ACCT1, "5000000");
	assert_int_equal(pol_derive_intent(&in, &why, f->p, &f->tx), 0);
	assert_int_equal(why, POL_OK);
	assert_int_equal(in.asset, FX_TUSD);
	assert_string_equal(in.asset_name, "TUSD");
	/* Recipient and amount come from the calldata, not tx.to/value. */
	fx_addr(to, ACCT1);
	assert_memory_equal(in.recipient, to, EVM_ADDR_LEN);
	fx_assert_u256(&in.amount, "5000000");
	assert_int_equal(in.gas_limit, 60000);

	token_tx(&f->tx, 1337, TOKEN2, ACCT3, "1");
	assert_int_equal(pol_derive_intent(&in, &why, f->p, &f->tx), 0);
	assert_int_equal(in.asset, FX_USDX);

	/* A zero amount derives; pol_check_sign refuses it. */
	token_tx(&f->tx, 1337, TOKEN, ACCT1, "0");
	assert_int_equal(pol_derive_intent(&in, &why, f->p, &f->tx), 0);
	assert_true(u256_is_zero(&in.amount));
}

/* What signerd does: decode the bytes it is given, then derive. */
static void
test_derive_after_decode(void **state)
{
	struct fx *f = *state;
	struct prt_writer w;
	struct evm_tx dec;
	struct pol_intent in;
	enum pol_reason why;

	token_tx(&f->tx, 1337, TOKEN, ACCT2, "20000000000");
	prt_writer_init(&w, EVM_TX_MAX_ENCODED);
	assert_int_equal(evm_tx_encode(&w, &f->tx), 0);
	assert_int_equal(prt_writer_error(&w), 0);
	assert_int_equal(evm_tx_decode(&dec, w.p, w.len), 0);
	prt_writer_free(&w);
	assert_int_equal(pol_derive_intent(&in, &why, f->p, &dec), 0);
	assert_int_equal(in.asset, FX_TUSD);
	fx_assert_u256(&in.amount, "20000000000");
}

static void
test_not_a_transfer(void **state)
{
	struct fx *f = *state;

	/* Contract creation. */
	native_tx(&f->tx, 1337, ACCT1, "1");
	f->tx.has_to = 0;
	memset(f->tx.to, 0, EVM_ADDR_LEN);
	f->tx.data[0] = 0x60;
	f->tx.data_len = 1;
	assert_refused(f->p, &f->tx, POL_NOT_A_TRANSFER);

	/* Data on a native transfer, even a single byte. */
	native_tx(&f->tx, 1337, ACCT1, "1");
	f->tx.data_len = 1;
	assert_refused(f->p, &f->tx, POL_NOT_A_TRANSFER);

	/* Value, or nothing, sent to a registered token contract. */
	native_tx(&f->tx, 1337, TOKEN, "1000");
	assert_refused(f->p, &f->tx, POL_NOT_A_TRANSFER);
	native_tx(&f->tx, 1337, TOKEN, "0");
	assert_refused(f->p, &f->tx, POL_NOT_A_TRANSFER);
	/* ... also when that token is registered on another chain only. */
	native_tx(&f->tx, 7, TOKEN, "1000");
	assert_refused(f->p, &f->tx, POL_NOT_A_TRANSFER);

	/* approve(spender, amount) has the same shape but another selector. */
	token_tx(&f->tx, 1337, TOKEN, ACCT1, "5");
	memcpy(f->tx.data, "\x09\x5e\xa7\xb3", 4);
	assert_refused(f->p, &f->tx, POL_NOT_A_TRANSFER);

	/* transfer with a trailing byte, a short word, dirty address bits. */
	token_tx(&f->tx, 1337, TOKEN, ACCT1, "5");
	f->tx.data_len = ERC20_TRANSFER_LEN + 1;
	assert_refused(f->p, &f->tx, POL_NOT_A_TRANSFER);
	f->tx.data_len = ERC20_TRANSFER_LEN - 1;
	assert_refused(f->p, &f->tx, POL_NOT_A_TRANSFER);
	token_tx(&f->tx, 1337, TOKEN, ACCT1, "5");
	f->tx.data[4] = 0x01;
	assert_refused(f->p, &f->tx, POL_NOT_A_TRANSFER);

	/* Other calldata to an unregistered contract. */
	token_tx(&f->tx, 1337, STRANGER, ACCT1, "5");
	f->tx.data[0] ^= 0xff;
	assert_refused(f->p, &f->tx, POL_NOT_A_TRANSFER);
}

static void
test_unknown_token_contract(void **state)
{
	struct fx *f = *state;

	token_tx(&f->tx, 1337, STRANGER, ACCT1, "5");
	assert_refused(f->p, &f->tx, POL_UNKNOWN_TOKEN_CONTRACT);
	/* transfer() calldata sent to an address the policy does not know. */
	token_tx(&f->tx, 1337, ACCT1, ACCT2, "5");
	assert_refused(f->p, &f->tx, POL_UNKNOWN_TOKEN_CONTRACT);
}

static void
test_value_on_token_transfer(void **state)
{
	struct fx *f = *state;

	token_tx(&f->tx, 1337, TOKEN, ACCT1, "5");
	f->tx.value = fx_u256("1");
	assert_refused(f->p, &f->tx, POL_VALUE_ON_TOKEN_TRANSFER);
}

static void
test_chain_mismatch(void **state)
{
	struct fx *f = *state;

	/* TUSD lives on 1337 only. */
	token_tx(&f->tx, 1, TOKEN, ACCT1, "5");
	assert_refused(f->p, &f->tx, POL_CHAIN_MISMATCH);
	/* Native assets exist, but none on chain 1. */
	native_tx(&f->tx, 1, ACCT1, "5");
	assert_refused(f->p, &f->tx, POL_CHAIN_MISMATCH);
}

static void
test_access_list(void **state)
{
	struct fx *f = *state;

	native_tx(&f->tx, 1337, ACCT1, "5");
	f->tx.access_list_items = 1;
	assert_refused(f->p, &f->tx, POL_ACCESS_LIST_NOT_EMPTY);
	token_tx(&f->tx, 1337, TOKEN, ACCT1, "5");
	f->tx.access_list_items = 3;
	assert_refused(f->p, &f->tx, POL_ACCESS_LIST_NOT_EMPTY);
}

/* Derivation must succeed for asset `want`. */
static void
assert_derives(const struct pol_policy *p, const struct evm_tx *tx,
    size_t want)
{
	struct pol_intent in;
	enum pol_reason why;

	assert_int_equal(pol_derive_intent(&in, &why, p, tx), 0);
	if (why != POL_OK)
		print_message("got %s, want OK\n", pol_reason_name(why));
	assert_int_equal(why, POL_OK);
	assert_int_equal(in.asset, want);
}

/*
 * A node never includes max priority fee above max fee (EIP-1559); equal
 * is a valid transaction.
 */
static void
test_priority_fee_above_max_fee(void **state)
{
	struct fx *f = *state;

	native_tx(&f->tx, 1337, ACCT1, "5");
	f->tx.max_fee_per_gas = fx_u256("30000000000");
	f->tx.max_priority_fee_per_gas = fx_u256("30000000000");
	assert_derives(f->p, &f->tx, FX_ETH);
	f->tx.max_priority_fee_per_gas = fx_u256("30000000001");
	assert_refused(f->p, &f->tx, POL_TX_PRIORITY_FEE_ABOVE_MAX_FEE);

	/* Zero fees are consistent; any priority over a zero max is not. */
	u256_from_u64(&f->tx.max_fee_per_gas, 0);
	u256_from_u64(&f->tx.max_priority_fee_per_gas, 0);
	assert_derives(f->p, &f->tx, FX_ETH);
	u256_from_u64(&f->tx.max_priority_fee_per_gas, 1);
	assert_refused(f->p, &f->tx, POL_TX_PRIORITY_FEE_ABOVE_MAX_FEE);

	/* Compared as 256-bit numbers, not by their low words. */
	f->tx.max_fee_per_gas = fx_u256(U256_MAX_DEC);
	f->tx.max_priority_fee_per_gas = fx_u256(U256_MAX_DEC);
	assert_derives(f->p, &f->tx, FX_ETH);
	f->tx.max_fee_per_gas = fx_u256("18446744073709551616");	/* 2^64 */
	f->tx.max_priority_fee_per_gas = fx_u256("18446744073709551617");
	assert_refused(f->p, &f->tx, POL_TX_PRIORITY_FEE_ABOVE_MAX_FEE);

	/* ERC-20 transfers alike. */
	token_tx(&f->tx, 1337, TOKEN, ACCT1, "5");
	f->tx.max_priority_fee_per_gas = f->tx.max_fee_per_gas;
	assert_derives(f->p, &f->tx, FX_TUSD);
	f->tx.max_priority_fee_per_gas = fx_u256("30000000001");
	assert_refused(f->p, &f->tx, POL_TX_PRIORITY_FEE_ABOVE_MAX_FEE);
}

/* 21000 is the floor for every asset, ERC-20 included. */
static void
test_gas_limit_too_low(void **state)
{
	struct fx *f = *state;

	native_tx(&f->tx, 1337, ACCT1, "5");
	f->tx.gas_limit = 21000;
	assert_derives(f->p, &f->tx, FX_ETH);
	f->tx.gas_limit = 20999;
	assert_refused(f->p, &f->tx, POL_TX_GAS_LIMIT_TOO_LOW);
	f->tx.gas_limit = 0;
	assert_refused(f->p, &f->tx, POL_TX_GAS_LIMIT_TOO_LOW);

	token_tx(&f->tx, 1337, TOKEN, ACCT1, "5");
	f->tx.gas_limit = 21000;
	assert_derives(f->p, &f->tx, FX_TUSD);
	f->tx.gas_limit = 20999;
	assert_refused(f->p, &f->tx, POL_TX_GAS_LIMIT_TOO_LOW);

	/* The native asset of another chain too. */
	native_tx(&f->tx, 7, ACCT1, "5");
	f->tx.gas_limit = 20999;
	assert_refused(f->p, &f->tx, POL_TX_GAS_LIMIT_TOO_LOW);
}

/* EIP-2681: a nonce is strictly below 2^64-1. */
static void
test_nonce_too_high(void **state)
{
	struct fx *f = *state;
	struct pol_intent in;
	enum pol_reason why;

	native_tx(&f->tx, 1337, ACCT1, "5");
	f->tx.nonce = UINT64_MAX - 1;
	assert_int_equal(pol_derive_intent(&in, &why, f->p, &f->tx), 0);
	assert_true(in.nonce == UINT64_MAX - 1);
	f->tx.nonce = UINT64_MAX;
	assert_refused(f->p, &f->tx, POL_TX_NONCE_TOO_HIGH);

	/* 2^63 and above are ordinary nonces (no sign bit anywhere). */
	f->tx.nonce = (uint64_t)1 << 63;
	assert_derives(f->p, &f->tx, FX_ETH);

	token_tx(&f->tx, 1337, TOKEN2, ACCT3, "5");
	f->tx.nonce = UINT64_MAX - 1;
	assert_derives(f->p, &f->tx, FX_USDX);
	f->tx.nonce = UINT64_MAX;
	assert_refused(f->p, &f->tx, POL_TX_NONCE_TOO_HIGH);
}

/*
 * What signerd does: the three fields decode from real bytes (the RLP
 * layer takes them) and only policy refuses them.
 */
static void
test_unincludable_after_decode(void **state)
{
	static const struct {
		const char *max_fee, *prio;
		uint64_t gas, nonce;
		enum pol_reason want;
	} cases[] = {
		{ "30000000000", "30000000000", 21000, UINT64_MAX - 1, POL_OK },
		{ "30000000000", "30000000001", 21000, 1,
		    POL_TX_PRIORITY_FEE_ABOVE_MAX_FEE },
		{ "30000000000", "1", 20999, 1, POL_TX_GAS_LIMIT_TOO_LOW },
		{ "30000000000", "1", 21000, UINT64_MAX,
		    POL_TX_NONCE_TOO_HIGH },
	};
	struct fx *f = *state;
	struct prt_writer w;
	struct evm_tx dec;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		native_tx(&f->tx, 1337, ACCT1, "5");
		f->tx.max_fee_per_gas = fx_u256(cases[i].max_fee);
		f->tx.max_priority_fee_per_gas = fx_u256(cases[i].prio);
		f->tx.gas_limit = cases[i].gas;
		f->tx.nonce = cases[i].nonce;
		prt_writer_init(&w, EVM_TX_MAX_ENCODED);
		assert_int_equal(evm_tx_encode(&w, &f->tx), 0);
		assert_int_equal(prt_writer_error(&w), 0);
		assert_int_equal(evm_tx_decode(&dec, w.p, w.len), 0);
		prt_writer_free(&w);
		assert_true(dec.nonce == cases[i].nonce);
		if (cases[i].want == POL_OK)
			assert_derives(f->p, &dec, FX_ETH);
		else
			assert_refused(f->p, &dec, cases[i].want);
	}
}

/*
 * What the transaction does is judged first (a contract creation is not a
 * payout however it is built); then the fields, in the documented order.
 */
static void
test_unincludable_order(void **state)
{
	struct fx *f = *state;

	native_tx(&f->tx, 1337, ACCT1, "5");
	f->tx.max_priority_fee_per_gas = fx_u256("30000000001");
	f->tx.gas_limit = 0;
	f->tx.nonce = UINT64_MAX;
	assert_refused(f->p, &f->tx, POL_TX_PRIORITY_FEE_ABOVE_MAX_FEE);
	f->tx.max_priority_fee_per_gas = fx_u256("1");
	assert_refused(f->p, &f->tx, POL_TX_GAS_LIMIT_TOO_LOW);
	f->tx.gas_limit = 21000;
	assert_refused(f->p, &f->tx, POL_TX_NONCE_TOO_HIGH);

	/* Shape first: creation, access list, wrong chain. */
	f->tx.gas_limit = 0;
	f->tx.has_to = 0;
	memset(f->tx.to, 0, EVM_ADDR_LEN);
	assert_refused(f->p, &f->tx, POL_NOT_A_TRANSFER);
	native_tx(&f->tx, 1337, ACCT1, "5");
	f->tx.gas_limit = 0;
	f->tx.access_list_items = 1;
	assert_refused(f->p, &f->tx, POL_ACCESS_LIST_NOT_EMPTY);
	native_tx(&f->tx, 1, ACCT1, "5");
	f->tx.nonce = UINT64_MAX;
	assert_refused(f->p, &f->tx, POL_CHAIN_MISMATCH);
	token_tx(&f->tx, 1337, TOKEN, ACCT1, "5");
	f->tx.value = fx_u256("1");
	f->tx.gas_limit = 20999;
	assert_refused(f->p, &f->tx, POL_VALUE_ON_TOKEN_TRANSFER);
}

/* A policy with no native asset at all has nothing to map a value transfer to. */
static void
test_unknown_asset(void **state)
{
	struct fx *f = *state;
	struct pol_policy *p;
	char err[256];

	assert_int_equal(fx_parse_with(&p, "assets", "{\"TUSD\": {"
	    "\"chain_id\": 1337, \"kind\": \"erc20\", \"contract\": \"" TOKEN
	    "\", \"decimals\": 6, \"key\": \"payout\", \"daily_limit\": \"10\","
	    "\"per_tx_limit\": \"10\", \"fee_caps\": " FEE_CAPS ","
	    "\"confirmations\": 1}}", err, sizeof(err)), 0);
	native_tx(&f->tx, 1337, ACCT1, "5");
	assert_refused(p, &f->tx, POL_UNKNOWN_ASSET);
	pol_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_native_transfer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_erc20_transfer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_derive_after_decode, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_a_transfer, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_token_contract,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_on_token_transfer,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_mismatch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_access_list, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_asset, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_priority_fee_above_max_fee,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_gas_limit_too_low, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_nonce_too_high, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unincludable_after_decode,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_unincludable_order, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
