/* test_ecsig.c: low-S normalisation, y parity and key binding of HSM signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "common/err.h"
#include "common/util.h"
#include "evm/addr.h"
#include "evm/ecsig.h"
#include "evm/keccak.h"
#include "evm/u256.h"

/* The order of the secp256k1 group. */
#define CURVE_N "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"

struct keypair {
	uint8_t priv[32];
	uint8_t pub[65];
};

static secp256k1_context *ctx;

static int
setup(void **state)
{
	ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	return ctx == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	secp256k1_context_destroy(ctx);
	return 0;
}

static void
make_key(struct keypair *k, const char *priv_hex)
{
	secp256k1_pubkey pk;
	size_t len = sizeof(k->pub);

	assert_int_equal(util_hex_decode(k->priv, 32, priv_hex), 0);
	assert_int_equal(secp256k1_ec_pubkey_create(ctx, &pk, k->priv), 1);
	assert_int_equal(secp256k1_ec_pubkey_serialize(ctx, k->pub, &len, &pk,
	    SECP256K1_EC_UNCOMPRESSED), 1);
}

/* What the HSM would return: r||s (always low-S from libsecp256k1) and the id. */
static void
sign(uint8_t rs[64], int *recid, const uint8_t digest[32], const struct keypair *k)
{
	secp256k1_ecdsa_recoverable_signature sig;

	assert_int_equal(secp256k1_ecdsa_sign_recoverable(ctx, &sig, digest,
	    k->priv, NULL, NULL), 1);
	assert_int_equal(secp256k1_ecdsa_recoverable_signature_serialize_compact(
	    ctx, rs, recid, &sig), 1);
}

/* s' = n - s: the other valid signature, which nodes reject. */
static void
flip_s(uint8_t rs[64])
{
	uint8_t nb[32];
	u256 n, s;

	assert_int_equal(util_hex_decode(nb, 32, CURVE_N), 0);
	assert_int_equal(u256_from_be(&n, nb, 32), 0);
	assert_int_equal(u256_from_be(&s, rs + 32, 32), 0);
	assert_int_equal(u256_sub(&s, &n, &s), 0);
	u256_to_be32(rs + 32, &s);
}

/* Does (r||s, recid) recover to pub?  Checked with libsecp256k1 directly. */
static int
recovers_to(const uint8_t rs[64], int recid, const uint8_t digest[32],
    const uint8_t pub[65])
{
	secp256k1_ecdsa_recoverable_signature sig;
	secp256k1_pubkey pk;
	uint8_t got[65];
	size_t len = sizeof(got);

	if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &sig, rs, recid) ||
	    !secp256k1_ecdsa_recover(ctx, &pk, &sig, digest))
		return 0;
	assert_int_equal(secp256k1_ec_pubkey_serialize(ctx, got, &len, &pk,
	    SECP256K1_EC_UNCOMPRESSED), 1);
	return memcmp(got, pub, sizeof(got)) == 0;
}

/* EIP-155's example signature: v = 37, so y parity 0 on chain 1. */
static void
test_eip155_vector(void **state)
{
	struct keypair k;
	uint8_t digest[32], rs[64], r[32], s[32], y = 9, addr[EVM_ADDR_LEN];
	char str[EVM_ADDR_STR];

	make_key(&k, "4646464646464646464646464646464646464646464646464646464646464646");
	assert_int_equal(util_hex_decode(digest, 32,
	    "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53"), 0);
	assert_int_equal(util_hex_decode(rs, 64,
	    "28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276"
	    "67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"), 0);
	assert_int_equal(evm_sig_finish(r, s, &y, digest, rs, k.pub), 0);
	assert_int_equal(y, 0);
	assert_memory_equal(r, rs, 32);
	assert_memory_equal(s, rs + 32, 32);
	assert_int_equal(evm_addr_from_pubkey(addr, k.pub), 0);
	evm_addr_to_str(str, addr);
	assert_string_equal(str, "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");

	/* The same signature in high-S form comes back identical. */
	flip_s(rs);
	assert_memory_not_equal(rs + 32, s, 32);
	assert_int_equal(evm_sig_finish(r, s, &y, digest, rs, k.pub), 0);
	assert_int_equal(y, 0);
	assert_memory_equal(r, rs, 32);
	assert_int_equal(util_hex_decode(rs, 64,
	    "28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276"
	    "67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"), 0);
	assert_memory_equal(s, rs + 32, 32);
}

/*
 * Many digests under one fixed key: both parities occur, each is found,
 * and a high-S input is normalised with its parity flipped back.
 */
static void
test_high_s_and_parity(void **state)
{
	struct keypair k;
	uint8_t digest[32], rs[64], high[64], r[32], s[32], y;
	int recid, seen[2] = { 0, 0 };
	uint32_t i;

	make_key(&k, "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721");
	for (i = 0; i < 32; i++) {
		evm_keccak256(digest, &i, sizeof(i));
		sign(rs, &recid, digest, &k);
		assert_true(recid == 0 || recid == 1);
		seen[recid] = 1;

		y = 9;
		assert_int_equal(evm_sig_finish(r, s, &y, digest, rs, k.pub), 0);
		assert_int_equal(y, recid);
		assert_memory_equal(r, rs, 32);
		assert_memory_equal(s, rs + 32, 32);

		memcpy(high, rs, 64);
		flip_s(high);
		/* As the HSM gave it, the high-S signature has the other parity. */
		assert_true(recovers_to(high, recid ^ 1, digest, k.pub));
		assert_false(recovers_to(high, recid, digest, k.pub));
		y = 9;
		assert_int_equal(evm_sig_finish(r, s, &y, digest, high, k.pub), 0);
		assert_int_equal(y, recid);
		assert_memory_equal(r, rs, 32);
		assert_memory_equal(s, rs + 32, 32);
	}
	assert_true(seen[0] && seen[1]);
}

static void
assert_cleared(const uint8_t r[32], const uint8_t s[32], uint8_t y)
{
	static const uint8_t zero[32];

	assert_memory_equal(r, zero, 32);
	assert_memory_equal(s, zero, 32);
	assert_int_equal(y, 0);
}

static void
test_wrong_key_or_digest(void **state)
{
	struct keypair a, b;
	uint8_t digest[32], rs[64], r[32], s[32], y = 9;
	int recid;

	make_key(&a, "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721");
	make_key(&b, "4646464646464646464646464646464646464646464646464646464646464646");
	evm_keccak256(digest, "payout", 6);
	sign(rs, &recid, digest, &a);

	memset(r, 0xee, 32);
	memset(s, 0xee, 32);
	assert_int_equal(evm_sig_finish(r, s, &y, digest, rs, b.pub),
	    ERR_HSM_SIG_MISMATCH);
	assert_cleared(r, s, y);

	/* A signature over some other digest does not bind this one. */
	digest[0] ^= 1;
	assert_int_equal(evm_sig_finish(r, s, &y, digest, rs, a.pub),
	    ERR_HSM_SIG_MISMATCH);
	digest[0] ^= 1;

	/* Neither does a corrupt key. */
	a.pub[64] ^= 1;
	assert_int_equal(evm_sig_finish(r, s, &y, digest, rs, a.pub),
	    ERR_HSM_SIG_MISMATCH);
	a.pub[64] ^= 1;
	assert_int_equal(evm_sig_finish(r, s, &y, digest, rs, a.pub), 0);
}

static void
test_out_of_range(void **state)
{
	struct keypair k;
	uint8_t digest[32], good[64], rs[64], r[32], s[32], y;
	int recid;

	make_key(&k, "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721");
	evm_keccak256(digest, "range", 5);
	sign(good, &recid, digest, &k);

	/* r = n, s = n, r = 0, s = 0, r = 2^256-1. */
	memcpy(rs, good, 64);
	assert_int_equal(util_hex_decode(rs, 32, CURVE_N), 0);
	y = 9;
	assert_int_equal(evm_sig_finish(r, s, &y, digest, rs, k.pub), ERR_BAD_SIGNATURE);
	assert_cleared(r, s, y);

	memcpy(rs, good, 64);
	assert_int_equal(util_hex_decode(rs + 32, 32, CURVE_N), 0);
	assert_int_equal(evm_sig_finish(r, s, &y, digest, rs, k.pub), ERR_BAD_SIGNATURE);

	memcpy(rs, good, 64);
	memset(rs, 0, 32);
	assert_int_equal(evm_sig_finish(r, s, &y, digest, rs, k.pub), ERR_BAD_SIGNATURE);

	memcpy(rs, good, 64);
	memset(rs + 32, 0, 32);
	assert_int_equal(evm_sig_finish(r, s, &y, digest, rs, k.pub), ERR_BAD_SIGNATURE);

	memcpy(rs, good, 64);
	memset(rs, 0xff, 32);
	assert_int_equal(evm_sig_finish(r, s, &y, digest, rs, k.pub), ERR_BAD_SIGNATURE);

	/* In range but not a signature of ours: a mismatch, not a parse error. */
	memcpy(rs, good, 64);
	rs[31] ^= 1;
	assert_int_equal(evm_sig_finish(r, s, &y, digest, rs, k.pub),
	    ERR_HSM_SIG_MISMATCH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eip155_vector),
		cmocka_unit_test(test_high_s_and_parity),
		cmocka_unit_test(test_wrong_key_or_digest),
		cmocka_unit_test(test_out_of_range),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
