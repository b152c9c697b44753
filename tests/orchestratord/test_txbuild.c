/*
 * test_txbuild.c: a payout's transaction (what signerd derives from it is
 * the payout), the gas margin, fee choice and fee bumps at every cap edge,
 * and the check of signerd's signed reply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "evm/addr.h"
#include "evm/erc20.h"
#include "evm/keccak.h"
#include "evm/tx.h"
#include "orchestratord/txbuild.h"
#include "policy/policy.h"

#define GWEI 1000000000ull
#define RECIPIENT "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
#define TOKEN "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
#define U256_MAX_DEC "115792089237316195423570985008687907853269984665640564039457584007913129639935"

static const char policy_json[] =
    "{\"policy_id\":\"txb\",\"assets\":{"
    "\"ETH\":{\"chain_id\":1337,\"kind\":\"native\",\"decimals\":18,"
    "\"key\":\"payout\",\"daily_limit\":\"" U256_MAX_DEC "\","
    "\"per_tx_limit\":\"" U256_MAX_DEC "\",\"fee_caps\":{"
    "\"max_fee_per_gas\":\"200000000000\","
    "\"max_priority_fee_per_gas\":\"5000000000\",\"gas_limit\":100000},"
    "\"confirmations\":1},"
    "\"TUSD\":{\"chain_id\":1337,\"kind\":\"erc20\",\"contract\":\"" TOKEN
    "\",\"decimals\":6,\"key\":\"payout\",\"daily_limit\":\"1000000\","
    "\"per_tx_limit\":\"1000000\",\"fee_caps\":{"
    "\"max_fee_per_gas\":\"200000000000\","
    "\"max_priority_fee_per_gas\":\"5000000000\",\"gas_limit\":100000},"
    "\"confirmations\":\"finalized\"}}}";

static struct pol_policy *policy;
static const struct pol_asset *eth, *tusd;
static struct payout p;		/* 17 KiB: off the stack */
static struct evm_tx tx, tx2;

static int
setup(void **state)
{
	char err[256];
	size_t i;

	if (pol_parse(&policy, (const uint8_t *)policy_json,
	    sizeof(policy_json) - 1, err, sizeof(err)) != 0) {
		fprintf(stderr, "policy: %s\n", err);
		return -1;
	}
	if (pol_asset_by_name(policy, "ETH", &i) != 0)
		return -1;
	eth = pol_asset(policy, i);
	if (pol_asset_by_name(policy, "TUSD", &i) != 0)
		return -1;
	tusd = pol_asset(policy, i);
	return 0;
}

static int
teardown(void **state)
{
	pol_free(policy);
	return 0;
}

static void
set_payout(const char *asset, const char *to, const char *amount)
{
	memset(&p, 0, sizeof(p));
	snprintf(p.request_id, sizeof(p.request_id), "req-1");
	snprintf(p.asset, sizeof(p.asset), "%s", asset);
	p.chain_id = 1337;
	assert_int_equal(evm_addr_from_str(p.recipient, to, 0), 0);
	assert_int_equal(u256_from_dec(&p.amount, amount), 0);
	p.nonce = 7;
}

static u256
u(uint64_t v)
{
	u256 x;

	u256_from_u64(&x, v);
	return x;
}

static u256
dec(const char *s)
{
	u256 x;

	assert_int_equal(u256_from_dec(&x, s), 0);
	return x;
}

static void
assert_u256(const u256 *got, uint64_t want)
{
	u256 w = u(want);

	if (u256_cmp(got, &w) != 0) {
		char g[U256_DEC_MAX];

		u256_to_dec(g, sizeof(g), got);
		fail_msg("got %s, want %llu", g, (unsigned long long)want);
	}
}

/* A pol_asset with only fee caps set: the fee functions read nothing else. */
static struct pol_asset
caps(uint64_t max_fee, uint64_t prio)
{
	struct pol_asset a;

	memset(&a, 0, sizeof(a));
	a.max_fee_per_gas = u(max_fee);
	a.max_priority_fee_per_gas = u(prio);
	a.gas_limit = 100000;
	return a;
}

/* --- txb_build ---------------------------------------------------------- */

/* What signerd derives from the bytes is exactly the payout (invariant 3). */
static void
assert_derives(const struct pol_asset *a, const char *amount)
{
	uint8_t enc[EVM_TX_MAX_ENCODED], to[20];
	struct pol_intent in;
	enum pol_reason why;
	size_t len;
	u256 want = dec(amount);

	assert_int_equal(txb_encode(enc, sizeof(enc), &len, &tx), 0);
	assert_int_equal(evm_tx_decode(&tx2, enc, len), 0);
	assert_false(tx2.is_signed);
	assert_int_equal(pol_derive_intent(&in, &why, policy, &tx2), 0);
	assert_string_equal(in.asset_name, a->name);
	assert_int_equal(in.chain_id, 1337);
	assert_int_equal(evm_addr_from_str(to, RECIPIENT, 0), 0);
	assert_memory_equal(in.recipient, to, 20);
	assert_int_equal(u256_cmp(&in.amount, &want), 0);
	assert_int_equal(in.nonce, 7);
	assert_int_equal(in.gas_limit, 25200);
	assert_u256(&in.max_fee_per_gas, 3 * GWEI);
	assert_u256(&in.max_priority_fee_per_gas, GWEI);
}

static void
test_build_native(void **state)
{
	u256 mf = u(3 * GWEI), pf = u(GWEI);
	uint8_t to[20];

	set_payout("ETH", RECIPIENT, "1000");
	assert_int_equal(txb_build(&tx, eth, &p, 7, 25200, &mf, &pf), 0);
	assert_int_equal(evm_addr_from_str(to, RECIPIENT, 0), 0);
	assert_true(tx.has_to);
	assert_memory_equal(tx.to, to, 20);
	assert_u256(&tx.value, 1000);
	assert_int_equal(tx.data_len, 0);
	assert_int_equal(tx.chain_id, 1337);
	assert_derives(eth, "1000");

	/* Amounts beyond 64 bits go through unchanged. */
	set_payout("ETH", RECIPIENT, "123456789012345678901234567890");
	assert_int_equal(txb_build(&tx, eth, &p, 7, 25200, &mf, &pf), 0);
	assert_derives(eth, "123456789012345678901234567890");
}

static void
test_build_erc20(void **state)
{
	u256 mf = u(3 * GWEI), pf = u(GWEI), amount;
	uint8_t token[20], to[20], got_to[20];

	set_payout("TUSD", RECIPIENT, "500");
	assert_int_equal(txb_build(&tx, tusd, &p, 7, 25200, &mf, &pf), 0);
	assert_int_equal(evm_addr_from_str(token, TOKEN, 0), 0);
	assert_int_equal(evm_addr_from_str(to, RECIPIENT, 0), 0);
	/* The token contract is called; no ether rides along. */
	assert_memory_equal(tx.to, token, 20);
	assert_true(u256_is_zero(&tx.value));
	assert_int_equal(tx.data_len, ERC20_TRANSFER_LEN);
	assert_int_equal(erc20_transfer_decode(got_to, &amount, tx.data,
	    tx.data_len), 0);
	assert_memory_equal(got_to, to, 20);
	assert_u256(&amount, 500);
	assert_derives(tusd, "500");
}

static void
test_build_refuses(void **state)
{
	u256 mf = u(3 * GWEI), pf = u(GWEI);

	/* A payout of another asset or chain than the asset given. */
	set_payout("TUSD", RECIPIENT, "1");
	assert_int_equal(txb_build(&tx, eth, &p, 7, 21000, &mf, &pf),
	    ERR_INVALID_ARG);
	set_payout("ETH", RECIPIENT, "1");
	p.chain_id = 1;
	assert_int_equal(txb_build(&tx, eth, &p, 7, 21000, &mf, &pf),
	    ERR_INVALID_ARG);
	/*
	 * A stored row that does not parse never gets here: store.c's
	 * row_to_payout refuses it (test_store.c, test_bad_stored_row).
	 */
	/* Nothing half-built is left behind. */
	assert_int_equal(tx.chain_id, 0);
	assert_false(tx.has_to);

	/* A buffer too small to hold the encoding. */
	{
		uint8_t small[10];
		size_t len = 99;

		set_payout("ETH", RECIPIENT, "1");
		assert_int_equal(txb_build(&tx, eth, &p, 7, 21000, &mf, &pf), 0);
		assert_int_not_equal(txb_encode(small, sizeof(small), &len, &tx),
		    0);
		assert_int_equal(len, 0);
	}
}

/* --- gas ------------------------------------------------------------------ */

static void
test_gas_limit(void **state)
{
	uint64_t g = 1;

	assert_int_equal(txb_gas_limit(&g, 21000, 20, 100000), 0);
	assert_int_equal(g, 25200);
	assert_int_equal(txb_gas_limit(&g, 51234, 20, 100000), 0);
	assert_int_equal(g, 61480);	/* 61480.8 rounds down */
	assert_int_equal(txb_gas_limit(&g, 21001, 20, 100000), 0);
	assert_int_equal(g, 25201);
	assert_int_equal(txb_gas_limit(&g, 21000, 0, 100000), 0);
	assert_int_equal(g, 21000);
	assert_int_equal(txb_gas_limit(&g, 21000, 500, 30000000), 0);
	assert_int_equal(g, 126000);
	/* The margin is cut at the cap... */
	assert_int_equal(txb_gas_limit(&g, 90000, 20, 100000), 0);
	assert_int_equal(g, 100000);
	assert_int_equal(txb_gas_limit(&g, 100000, 20, 100000), 0);
	assert_int_equal(g, 100000);
	assert_int_equal(txb_gas_limit(&g, 21000, 20, 21000), 0);
	assert_int_equal(g, 21000);
	/* ...but an estimate above it is no transfer we may sign. */
	g = 1;
	assert_int_equal(txb_gas_limit(&g, 100001, 20, 100000), ERR_TOO_LARGE);
	assert_int_equal(g, 0);
	assert_int_equal(txb_gas_limit(&g, UINT64_MAX, 500, 30000000),
	    ERR_TOO_LARGE);
	/* No transaction costs less than 21000: the node is wrong. */
	assert_int_equal(txb_gas_limit(&g, 20999, 20, 100000), ERR_MALFORMED);
	assert_int_equal(txb_gas_limit(&g, 0, 20, 100000), ERR_MALFORMED);
	assert_int_equal(txb_gas_limit(&g, 21000, -1, 100000),
	    ERR_INVALID_ARG);
}

/* --- fees ------------------------------------------------------------------ */

static void
test_fees(void **state)
{
	struct pol_asset a = caps(200 * GWEI, 5 * GWEI);
	u256 mf, pf, base, sugg;

	/* Ganache's answers: base 1 gwei, tip 1 gwei. */
	base = u(GWEI);
	sugg = u(GWEI);
	txb_fees(&mf, &pf, &base, &sugg, &a);
	assert_u256(&pf, GWEI);
	assert_u256(&mf, 3 * GWEI);

	/* The node's tip above the cap: the cap. */
	sugg = u(7 * GWEI);
	txb_fees(&mf, &pf, &base, &sugg, &a);
	assert_u256(&pf, 5 * GWEI);
	assert_u256(&mf, 7 * GWEI);

	/* 2 * base + tip above the cap: the cap, exactly. */
	base = u(98 * GWEI);
	sugg = u(4 * GWEI);
	txb_fees(&mf, &pf, &base, &sugg, &a);
	assert_u256(&mf, 200 * GWEI);
	assert_u256(&pf, 4 * GWEI);
	base = u(98 * GWEI);
	sugg = u(4 * GWEI - 1);
	txb_fees(&mf, &pf, &base, &sugg, &a);
	assert_u256(&mf, 200 * GWEI - 1);

	/* A base fee near 2^256 saturates, then the cap applies. */
	base = dec(U256_MAX_DEC);
	txb_fees(&mf, &pf, &base, &sugg, &a);
	assert_u256(&mf, 200 * GWEI);

	/* Zero base fee: max fee is the tip. */
	base = u(0);
	sugg = u(2);
	txb_fees(&mf, &pf, &base, &sugg, &a);
	assert_u256(&mf, 2);
	assert_u256(&pf, 2);

	/* Never below the priority fee, even when the max cap is reached. */
	a = caps(5 * GWEI, 5 * GWEI);
	base = u(100 * GWEI);
	sugg = u(9 * GWEI);
	txb_fees(&mf, &pf, &base, &sugg, &a);
	assert_u256(&pf, 5 * GWEI);
	assert_u256(&mf, 5 * GWEI);
	/* A cap pair policy/ would refuse (prio cap > max cap) still gives max >= prio. */
	a = caps(3, 10);
	base = u(100);
	sugg = u(8);
	txb_fees(&mf, &pf, &base, &sugg, &a);
	assert_u256(&pf, 8);
	assert_u256(&mf, 8);
}

/* --- bumps ------------------------------------------------------------------ */

static void
test_bump(void **state)
{
	struct pol_asset a = caps(200 * GWEI, 5 * GWEI);
	u256 mf, pf, pm, pp;

	pm = u(3 * GWEI);
	pp = u(GWEI);
	assert_int_equal(txb_bump(&mf, &pf, &pm, &pp, 25, &a), 0);
	assert_u256(&mf, 3750000000ull);
	assert_u256(&pf, 1250000000ull);
	/* Again from there: the same rule, compounding. */
	pm = mf;
	pp = pf;
	assert_int_equal(txb_bump(&mf, &pf, &pm, &pp, 25, &a), 0);
	assert_u256(&mf, 4687500000ull);
	assert_u256(&pf, 1562500000ull);

	/* Tiny fees: the percentage rounds to nothing, +1 wei each instead. */
	pm = u(3);
	pp = u(1);
	assert_int_equal(txb_bump(&mf, &pf, &pm, &pp, 10, &a), 0);
	assert_u256(&mf, 4);
	assert_u256(&pf, 2);
	pm = u(0);
	pp = u(0);
	assert_int_equal(txb_bump(&mf, &pf, &pm, &pp, 25, &a), 0);
	assert_u256(&mf, 1);
	assert_u256(&pf, 1);
	/* A 0 % bump is still a bump (+1 wei). */
	pm = u(1000);
	pp = u(100);
	assert_int_equal(txb_bump(&mf, &pf, &pm, &pp, 0, &a), 0);
	assert_u256(&mf, 1001);
	assert_u256(&pf, 101);
	assert_int_equal(txb_bump(&mf, &pf, &pm, &pp, -1, &a), ERR_INVALID_ARG);
}

static void
test_bump_caps(void **state)
{
	struct pol_asset a = caps(200 * GWEI, 5 * GWEI);
	u256 mf, pf, pm, pp;

	/* Clamped at the caps, still strictly higher: a bump. */
	pm = u(190 * GWEI);
	pp = u(4 * GWEI);
	assert_int_equal(txb_bump(&mf, &pf, &pm, &pp, 25, &a), 0);
	assert_u256(&mf, 200 * GWEI);
	assert_u256(&pf, 5 * GWEI);
	/* One wei below each cap: the cap, one wei more. */
	pm = u(200 * GWEI - 1);
	pp = u(5 * GWEI - 1);
	assert_int_equal(txb_bump(&mf, &pf, &pm, &pp, 25, &a), 0);
	assert_u256(&mf, 200 * GWEI);
	assert_u256(&pf, 5 * GWEI);

	/* Max fee at its cap: no room, outputs are the previous fees. */
	pm = u(200 * GWEI);
	pp = u(GWEI);
	assert_int_equal(txb_bump(&mf, &pf, &pm, &pp, 25, &a), TXB_NO_ROOM);
	assert_u256(&mf, 200 * GWEI);
	assert_u256(&pf, GWEI);
	/* Priority at its cap: no room either (both must rise, D22). */
	pm = u(10 * GWEI);
	pp = u(5 * GWEI);
	assert_int_equal(txb_bump(&mf, &pf, &pm, &pp, 25, &a), TXB_NO_ROOM);
	assert_u256(&mf, 10 * GWEI);
	assert_u256(&pf, 5 * GWEI);
	/* Above the caps already (caps lowered since): no room. */
	pm = u(300 * GWEI);
	pp = u(GWEI);
	assert_int_equal(txb_bump(&mf, &pf, &pm, &pp, 25, &a), TXB_NO_ROOM);

	/* Priority is kept at or below max fee after clamping. */
	a = caps(11, 20);
	pm = u(10);
	pp = u(10);
	assert_int_equal(txb_bump(&mf, &pf, &pm, &pp, 25, &a), 0);
	assert_u256(&mf, 11);
	assert_u256(&pf, 11);
	/* ...and if that leaves it no higher than before: no room. */
	pm = u(10);
	pp = u(12);
	assert_int_equal(txb_bump(&mf, &pf, &pm, &pp, 25, &a), TXB_NO_ROOM);
	assert_u256(&mf, 10);
	assert_u256(&pf, 12);

	/* Fees near 2^256: saturation, never wrap-around. */
	a.max_fee_per_gas = dec(U256_MAX_DEC);
	a.max_priority_fee_per_gas = dec(U256_MAX_DEC);
	pm = dec("115792089237316195423570985008687907853269984665640564039457584007913129639934");
	pp = u(1);
	assert_int_equal(txb_bump(&mf, &pf, &pm, &pp, 25, &a), 0);
	assert_int_equal(u256_cmp(&mf, &a.max_fee_per_gas), 0);
	pm = dec(U256_MAX_DEC);
	assert_int_equal(txb_bump(&mf, &pf, &pm, &pp, 25, &a), TXB_NO_ROOM);
}

/* For every small fee pair and percentage: strictly higher, within caps. */
static void
test_bump_always_strict(void **state)
{
	struct pol_asset a = caps(1000, 600);
	u256 mf, pf, pm, pp, m2, p2;
	uint64_t m, q;
	int pct, r;

	for (m = 0; m <= 1000; m += 7) {
		for (q = 0; q <= m && q <= 600; q += 5) {
			for (pct = 0; pct <= 50; pct += 10) {
				pm = u(m);
				pp = u(q);
				r = txb_bump(&mf, &pf, &pm, &pp, pct, &a);
				if (m == 1000 || q == 600) {
					assert_int_equal(r, TXB_NO_ROOM);
					continue;
				}
				assert_int_equal(r, 0);
				assert_true(u256_cmp(&mf, &pm) > 0);
				assert_true(u256_cmp(&pf, &pp) > 0);
				assert_true(u256_cmp(&mf, &a.max_fee_per_gas) <= 0);
				assert_true(u256_cmp(&pf,
				    &a.max_priority_fee_per_gas) <= 0);
				assert_true(u256_cmp(&pf, &mf) <= 0);
				/* Deterministic: a retry asks for the same bump. */
				assert_int_equal(txb_bump(&m2, &p2, &pm, &pp, pct,
				    &a), 0);
				assert_int_equal(u256_cmp(&m2, &mf), 0);
				assert_int_equal(u256_cmp(&p2, &pf), 0);
			}
		}
	}
}

/* --- signerd's reply ---------------------------------------------------------- */

static void
make_signed(uint8_t *raw, size_t *raw_len, uint8_t hash[32], uint8_t *uns,
    size_t *uns_len, uint64_t nonce)
{
	u256 mf = u(3 * GWEI), pf = u(GWEI);

	set_payout("ETH", RECIPIENT, "1000");
	assert_int_equal(txb_build(&tx, eth, &p, nonce, 21000, &mf, &pf), 0);
	assert_int_equal(txb_encode(uns, EVM_TX_MAX_ENCODED, uns_len, &tx), 0);
	tx.is_signed = 1;
	tx.y_parity = 1;
	memset(tx.r, 0x11, 32);
	memset(tx.s, 0x22, 32);
	assert_int_equal(txb_encode(raw, EVM_TX_MAX_ENCODED, raw_len, &tx), 0);
	evm_keccak256(hash, raw, *raw_len);
}

static void
test_check_signed(void **state)
{
	static uint8_t raw[EVM_TX_MAX_ENCODED], uns[EVM_TX_MAX_ENCODED],
	    other[EVM_TX_MAX_ENCODED], oraw[EVM_TX_MAX_ENCODED];
	uint8_t hash[32], ohash[32];
	size_t rl, ul, ol, orl;

	make_signed(raw, &rl, hash, uns, &ul, 7);
	assert_int_equal(txb_check_signed(raw, rl, hash, uns, ul), 0);

	/* The hash must be the raw bytes' keccak-256. */
	hash[0] ^= 1;
	assert_int_equal(txb_check_signed(raw, rl, hash, uns, ul),
	    ERR_MALFORMED);
	hash[0] ^= 1;
	/* Another transaction than asked for (another nonce). */
	make_signed(oraw, &orl, ohash, other, &ol, 8);
	assert_int_equal(txb_check_signed(oraw, orl, ohash, uns, ul),
	    ERR_MALFORMED);
	/* The unsigned form back instead of a signed one. */
	evm_keccak256(ohash, uns, ul);
	assert_int_equal(txb_check_signed(uns, ul, ohash, uns, ul),
	    ERR_MALFORMED);
	/* Garbage, and a truncated signed transaction. */
	evm_keccak256(ohash, (const uint8_t *)"\x02\xc0", 2);
	assert_int_equal(txb_check_signed((const uint8_t *)"\x02\xc0", 2, ohash,
	    uns, ul), ERR_MALFORMED);
	evm_keccak256(ohash, raw, rl - 1);
	assert_int_equal(txb_check_signed(raw, rl - 1, ohash, uns, ul),
	    ERR_MALFORMED);
}

static void
test_unsigned_of(void **state)
{
	static uint8_t raw[EVM_TX_MAX_ENCODED], uns[EVM_TX_MAX_ENCODED],
	    enc[EVM_TX_MAX_ENCODED];
	uint8_t hash[32];
	size_t rl, ul, el;

	make_signed(raw, &rl, hash, uns, &ul, 7);
	assert_int_equal(txb_unsigned_of(&tx2, raw, rl), 0);
	assert_false(tx2.is_signed);
	assert_int_equal(txb_encode(enc, sizeof(enc), &el, &tx2), 0);
	assert_int_equal(el, ul);
	assert_memory_equal(enc, uns, ul);
	assert_u256(&tx2.max_fee_per_gas, 3 * GWEI);
	/* An unsigned transaction is no base for a bump. */
	assert_int_equal(txb_unsigned_of(&tx2, uns, ul), ERR_MALFORMED);
	assert_int_equal(tx2.chain_id, 0);
	assert_int_not_equal(txb_unsigned_of(&tx2, raw, rl - 1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_native),
		cmocka_unit_test(test_build_erc20),
		cmocka_unit_test(test_build_refuses),
		cmocka_unit_test(test_gas_limit),
		cmocka_unit_test(test_fees),
		cmocka_unit_test(test_bump),
		cmocka_unit_test(test_bump_caps),
		cmocka_unit_test(test_bump_always_strict),
		cmocka_unit_test(test_check_signed),
		cmocka_unit_test(test_unsigned_of),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
