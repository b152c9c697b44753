/* test_addr.c: EIP-55 checksums against the EIP's own addresses; key-to-address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <secp256k1.h>

#include "common/err.h"
#include "common/util.h"
#include "evm/addr.h"

/* The test cases listed in EIP-55 (now ERC-55), already in checksum form. */
static const char *const eip55_cases[] = {
	/* all caps */
	"0x52908400098527886E0F7030069857D2E4169EE7",
	"0x8617E340B3D01FA5F11F306F4090FD50E238070D",
	/* all lower */
	"0xde709f2102306220921060314715629080e2fb77",
	"0x27b1fdb04752bbc536007a920d24acb045561c26",
	/* normal */
	"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
	"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
	"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
	"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
};

static void
lower_case(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'F')
			*s = (char)(*s - 'A' + 'a');
}

static void
upper_case(char *s)
{
	for (s += 2; *s != '\0'; s++)
		if (*s >= 'a' && *s <= 'f')
			*s = (char)(*s - 'a' + 'A');
}

static void
test_eip55_vectors(void **state)
{
	uint8_t addr[EVM_ADDR_LEN], want[EVM_ADDR_LEN];
	char str[EVM_ADDR_STR];
	size_t i;

	for (i = 0; i < sizeof(eip55_cases) / sizeof(eip55_cases[0]); i++) {
		assert_int_equal(util_hex_decode(want, sizeof(want), eip55_cases[i]), 0);
		evm_addr_to_str(str, want);
		assert_string_equal(str, eip55_cases[i]);
		/* The exact checksum form is accepted even without the opt-in. */
		assert_int_equal(evm_addr_from_str(addr, eip55_cases[i], 0), 0);
		assert_memory_equal(addr, want, sizeof(addr));
	}
}

static void
test_bad_checksum(void **state)
{
	uint8_t addr[EVM_ADDR_LEN];
	char s[EVM_ADDR_STR];
	size_t i;

	for (i = 4; i < sizeof(eip55_cases) / sizeof(eip55_cases[0]); i++) {
		char *letter;

		/* Flip the case of the first letter: a one-character typo. */
		strcpy(s, eip55_cases[i]);
		for (letter = s + 2; *letter != '\0'; letter++)
			if ((*letter >= 'a' && *letter <= 'f') ||
			    (*letter >= 'A' && *letter <= 'F'))
				break;
		assert_true(*letter != '\0');
		*letter ^= 0x20;
		memset(addr, 0xee, sizeof(addr));
		assert_int_equal(evm_addr_from_str(addr, s, 0), ERR_BAD_CHECKSUM);
		assert_int_equal(addr[0] | addr[19], 0);
		/* Mixed case that is wrong stays wrong with the opt-in. */
		assert_int_equal(evm_addr_from_str(addr, s, 1), ERR_BAD_CHECKSUM);
	}
}

static void
test_unchecksummed(void **state)
{
	uint8_t addr[EVM_ADDR_LEN], want[EVM_ADDR_LEN];
	char s[EVM_ADDR_STR];

	strcpy(s, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
	assert_int_equal(util_hex_decode(want, sizeof(want), s), 0);
	lower_case(s);
	assert_int_equal(evm_addr_from_str(addr, s, 0), ERR_BAD_CHECKSUM);
	assert_int_equal(evm_addr_from_str(addr, s, 1), 0);
	assert_memory_equal(addr, want, sizeof(addr));
	upper_case(s);
	assert_int_equal(evm_addr_from_str(addr, s, 0), ERR_BAD_CHECKSUM);
	assert_int_equal(evm_addr_from_str(addr, s, 1), 0);
	assert_memory_equal(addr, want, sizeof(addr));

	/* An all-caps checksum vector written in lowercase has lost its check. */
	strcpy(s, "0x52908400098527886E0F7030069857D2E4169EE7");
	lower_case(s);
	assert_int_equal(evm_addr_from_str(addr, s, 0), ERR_BAD_CHECKSUM);
}

static void
test_malformed(void **state)
{
	static const struct {
		const char *s;
		int err;
	} cases[] = {
		{ "", ERR_MALFORMED },
		{ "0", ERR_MALFORMED },
		{ "0x", ERR_MALFORMED },
		{ "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", ERR_MALFORMED },
		{ "005aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", ERR_MALFORMED },
		{ "0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", ERR_MALFORMED },
		{ "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", ERR_MALFORMED },
		{ "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd", ERR_MALFORMED },
		{ " 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", ERR_MALFORMED },
		{ "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed ", ERR_MALFORMED },
		{ "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", ERR_BAD_DIGIT },
		{ "0x 5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe", ERR_BAD_DIGIT },
	};
	uint8_t addr[EVM_ADDR_LEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(addr, 0xee, sizeof(addr));
		assert_int_equal(evm_addr_from_str(addr, cases[i].s, 1), cases[i].err);
		assert_int_equal(addr[0] | addr[10] | addr[19], 0);
	}
}

/* Derives the uncompressed public key of a private key given in hex. */
static void
pubkey_of(uint8_t pub[65], const char *priv_hex)
{
	secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	secp256k1_pubkey pk;
	uint8_t priv[32];
	size_t len = 65;

	assert_non_null(ctx);
	assert_int_equal(util_hex_decode(priv, sizeof(priv), priv_hex), 0);
	assert_int_equal(secp256k1_ec_pubkey_create(ctx, &pk, priv), 1);
	assert_int_equal(secp256k1_ec_pubkey_serialize(ctx, pub, &len, &pk,
	    SECP256K1_EC_UNCOMPRESSED), 1);
	secp256k1_context_destroy(ctx);
}

static void
test_from_pubkey(void **state)
{
	uint8_t pub[65], addr[EVM_ADDR_LEN];
	char s[EVM_ADDR_STR];

	/* EIP-155's example key; its sender address is widely published. */
	pubkey_of(pub,
	    "4646464646464646464646464646464646464646464646464646464646464646");
	assert_int_equal(evm_addr_from_pubkey(addr, pub), 0);
	evm_addr_to_str(s, addr);
	assert_string_equal(s, "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");

	/* Hyperledger Besu's documented dev account. */
	pubkey_of(pub,
	    "8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63");
	assert_int_equal(evm_addr_from_pubkey(addr, pub), 0);
	evm_addr_to_str(s, addr);
	assert_string_equal(s, "0xFE3B557E8Fb62b89F4916B721be55cEb828dBd73");

	/* Only the uncompressed form is a valid input. */
	pub[0] = 0x02;
	memset(addr, 0xee, sizeof(addr));
	assert_int_equal(evm_addr_from_pubkey(addr, pub), ERR_MALFORMED);
	assert_int_equal(addr[0] | addr[19], 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eip55_vectors),
		cmocka_unit_test(test_bad_checksum),
		cmocka_unit_test(test_unchecksummed),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_from_pubkey),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
