/* test_intent.c: deriving asset, recipient and amount from decoded transactions, never from claims. */
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
