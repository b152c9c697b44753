/* test_keccak.c: Keccak-256 against the Keccak team's published answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/util.h"
#include "evm/keccak.h"

/* Hashes len bytes given in hex and compares with the expected digest. */
static void
check_hex(const char *msg_hex, const char *want_hex)
{
	uint8_t msg[256], want[32], got[32];
	size_t n;

	assert_int_equal(util_hex_decode_var(msg, sizeof(msg), &n, msg_hex), 0);
	assert_int_equal(util_hex_decode(want, sizeof(want), want_hex), 0);
	evm_keccak256(got, msg, n);
	assert_memory_equal(got, want, 32);
}

static void
test_empty(void **state)
{
	uint8_t want[32], got[32], sha3_empty[32];

	assert_int_equal(util_hex_decode(want, 32,
	    "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"), 0);
	/* NULL with length 0 is the empty message. */
	evm_keccak256(got, NULL, 0);
	assert_memory_equal(got, want, 32);
	/* SHA3-256("") (FIPS 202 padding, 0x06) must not come out. */
	assert_int_equal(util_hex_decode(sha3_empty, 32,
	    "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"), 0);
	assert_memory_not_equal(got, sha3_empty, 32);
}

static void
test_abc(void **state)
{
	uint8_t want[32], got[32];

	assert_int_equal(util_hex_decode(want, 32,
	    "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"), 0);
	evm_keccak256(got, "abc", 3);
	assert_memory_equal(got, want, 32);
}

/* ShortMsgKAT_256.txt (Keccak round-3 submission), Len = 8: one byte. */
static void
test_kat_one_byte(void **state)
{
	check_hex("6b", "f3d0adcb6a1c70832365e9da0a6b2f5199422f6a53c67cfad171114e3442aa0f");
}

/*
 * Len = 1080: 135 bytes, one short of the 136-byte rate, so the 0x01 and
 * 0x80 padding bits share the last byte (0x81).
 */
static void
test_kat_rate_minus_one(void **state)
{
	check_hex(
	    "2f3fb9e6321405869ff0e6271369357ee08c9c27837fe300adf3766a61979591"
	    "d64e7809627e8f026e762982df5f00bfeb9ce76f1ccb70c9bee6331f7dc8b154"
	    "17295d7aa7ec7c1662a69842059901f136e96052b4d01b72b64f92331744872f"
	    "6de4a915d0262b33ccc375d25d77c3936023e514f30187a9501adc685e6497cc"
	    "4841e119670d4d",
	    "0484f02cc16415e7e9f28f95b6bb77209e1b25ec35015de84facbc8f9605b39e");
}

/* Len = 1088: exactly one block, so padding fills a whole second block. */
static void
test_kat_exact_rate(void **state)
{
	check_hex(
	    "33d0c3052e3ac8c19beca6b0dfa73888f753655fb2c9f77e1238602c9f6d7ad3"
	    "3e3dd96c78a22e148ed4c46d7cfdf674505bd40325cb813804e264a450de778f"
	    "1c50fc94f32aa881fe6def7b6ae6efbb42c3be678f40a09322053773e3af0200"
	    "00fe94f3283c7527aa64a2144b92cf8d568df4e6cd957af09ab1637e61667e61"
	    "6412558d4fcab4f9",
	    "b30ad6fc320c0d70309dc39953895cb7cf3fbedec7d86a5f7aa9f2bb760f6dba");
}

/* Len = 1600: a 200-byte message spanning two blocks. */
static void
test_kat_200_bytes(void **state)
{
	check_hex(
	    "9b518dcebd7aab3c6a961705d93b2733f5303ea8185653f1b91f163a105811ac"
	    "a99e7a671925a483bcbb8995f6b0c8ece10795fa5de8eb17080152195963c503"
	    "013f6b1a650f9e21ca28b7c0d880adba8742b4e42aa0fb33a24d4cfbb112ffb2"
	    "516acdb7796cd8449490056d10b22797f4dc7c1f7c78531ec59f1a77b21a2904"
	    "85f7bbfe649442f924476634fa8eccee6b480ee8c06107860122fdb33c27b7c1"
	    "1f72c08406037d2a4be35f45722b34dd7442c534a3ccbba4eeb9582be00fec00"
	    "82ad8488b001b3fc",
	    "3619785381f9290b0180fe87186e3b8e352d0bee8dec2321198770b67d8c26da");
}

/* The ERC-20 transfer selector is the head of a Keccak-256 of its signature. */
static void
test_function_selector(void **state)
{
	static const char sig[] = "transfer(address,uint256)";
	static const uint8_t want[4] = { 0xa9, 0x05, 0x9c, 0xbb };
	uint8_t got[32];

	evm_keccak256(got, sig, strlen(sig));
	assert_memory_equal(got, want, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_abc),
		cmocka_unit_test(test_kat_one_byte),
		cmocka_unit_test(test_kat_rate_minus_one),
		cmocka_unit_test(test_kat_exact_rate),
		cmocka_unit_test(test_kat_200_bytes),
		cmocka_unit_test(test_function_selector),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
