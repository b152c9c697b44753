/* test_erc20.c: transfer(address,uint256) calldata, both ways, and what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/util.h"
#include "evm/erc20.h"
#include "evm/keccak.h"

/* transfer(0x5aAe...BeAed, 1 ether) laid out as the ABI specification says. */
#define TRANSFER_HEX \
	"a9059cbb" \
	"0000000000000000000000005aaeb6053f3e94c9b9a09f33669435e7ef1beaed" \
	"0000000000000000000000000000000000000000000000000de0b6b3a7640000"

static void
test_encode(void **state)
{
	uint8_t to[EVM_ADDR_LEN], want[ERC20_TRANSFER_LEN], out[ERC20_TRANSFER_LEN];
	uint8_t h[32];
	u256 amount;

	assert_int_equal(util_hex_decode(to, sizeof(to),
	    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"), 0);
	assert_int_equal(u256_from_dec(&amount, "1000000000000000000"), 0);
	assert_int_equal(util_hex_decode(want, sizeof(want), TRANSFER_HEX), 0);
	erc20_transfer_encode(out, to, &amount);
	assert_memory_equal(out, want, sizeof(want));
	/* The selector really is the head of keccak256 of the signature. */
	evm_keccak256(h, "transfer(address,uint256)", 25);
	assert_memory_equal(out, h, 4);
}

static void
test_decode_round_trip(void **state)
{
	uint8_t in[ERC20_TRANSFER_LEN], to[EVM_ADDR_LEN], again[ERC20_TRANSFER_LEN];
	u256 amount, want;
	char dec[U256_DEC_MAX];

	assert_int_equal(util_hex_decode(in, sizeof(in), TRANSFER_HEX), 0);
	assert_int_equal(erc20_transfer_decode(to, &amount, in, sizeof(in)), 0);
	assert_memory_equal(to, in + 16, EVM_ADDR_LEN);
	u256_to_dec(dec, sizeof(dec), &amount);
	assert_string_equal(dec, "1000000000000000000");

	/* The largest amount survives both ways. */
	memset(in + 36, 0xff, 32);
	assert_int_equal(erc20_transfer_decode(to, &amount, in, sizeof(in)), 0);
	assert_int_equal(u256_from_dec(&want,
	    "115792089237316195423570985008687907853269984665640564039457584007913129639935"), 0);
	assert_int_equal(u256_cmp(&amount, &want), 0);
	erc20_transfer_encode(again, to, &amount);
	assert_memory_equal(again, in, sizeof(in));
}

static void
expect_err(const uint8_t *in, size_t len, int err)
{
	uint8_t to[EVM_ADDR_LEN];
	u256 amount;

	memset(to, 0xee, sizeof(to));
	memset(&amount, 0xee, sizeof(amount));
	assert_int_equal(erc20_transfer_decode(to, &amount, in, len), err);
	assert_int_equal(to[0] | to[19], 0);
	assert_true(u256_is_zero(&amount));
}

static void
test_decode_rejects(void **state)
{
	uint8_t in[ERC20_TRANSFER_LEN + 1], to[EVM_ADDR_LEN];
	u256 amount;

	assert_int_equal(util_hex_decode(in, ERC20_TRANSFER_LEN, TRANSFER_HEX), 0);
	in[ERC20_TRANSFER_LEN] = 0;

	expect_err(in, 0, ERR_MALFORMED);
	expect_err(in, 3, ERR_MALFORMED);
	expect_err(in, 4, ERR_MALFORMED);
	expect_err(in, ERC20_TRANSFER_LEN - 1, ERR_MALFORMED);
	expect_err(in, ERC20_TRANSFER_LEN + 1, ERR_MALFORMED);

	/* approve(address,uint256) has the same shape and must not pass. */
	memcpy(in, "\x09\x5e\xa7\xb3", 4);
	expect_err(in, ERC20_TRANSFER_LEN, ERR_UNSUPPORTED);
	expect_err(in, 4, ERR_UNSUPPORTED);
	memcpy(in, "\xa9\x05\x9c\xbb", 4);

	/* Dirty high bits in the address word, first and last padding byte. */
	in[4] = 0x01;
	expect_err(in, ERC20_TRANSFER_LEN, ERR_NONCANONICAL);
	in[4] = 0;
	in[15] = 0x80;
	expect_err(in, ERC20_TRANSFER_LEN, ERR_NONCANONICAL);
	in[15] = 0;
	assert_int_equal(erc20_transfer_decode(to, &amount, in,
	    ERC20_TRANSFER_LEN), 0);
	assert_memory_equal(to, in + 16, EVM_ADDR_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_decode_round_trip),
		cmocka_unit_test(test_decode_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
