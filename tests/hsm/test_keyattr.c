/* test_keyattr.c: CKA_EC_POINT in both forms, curve OIDs, point validation and the weakness rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "hsm/internal.h"

/* The generator points: known to be on their curves. */
static const char g_k1[] = "04"
    "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";
static const char g_p256[] = "04"
    "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";

static void
test_point_raw_and_der(void **state)
{
	uint8_t raw[65], der[67], pub[65];

	assert_int_equal(util_hex_decode(raw, sizeof(raw), g_k1), 0);
	assert_int_equal(hsm_ec_point_decode(pub, raw, sizeof(raw)), 0);
	assert_memory_equal(pub, raw, 65);
	der[0] = 0x04;
	der[1] = 0x41;
	memcpy(der + 2, raw, 65);
	memset(pub, 0, sizeof(pub));
	assert_int_equal(hsm_ec_point_decode(pub, der, sizeof(der)), 0);
	assert_memory_equal(pub, raw, 65);
}

static void
test_point_malformed(void **state)
{
	uint8_t raw[65], der[68], pub[65];

	assert_int_equal(util_hex_decode(raw, sizeof(raw), g_k1), 0);
	der[0] = 0x04;
	der[1] = 0x41;
	memcpy(der + 2, raw, 65);
	der[67] = 0;
	/* Trailing byte, wrong tag, wrong length, short input. */
	assert_int_equal(hsm_ec_point_decode(pub, der, 68), ERR_TRAILING);
	der[0] = 0x03;
	assert_int_equal(hsm_ec_point_decode(pub, der, 67), ERR_MALFORMED);
	der[0] = 0x04;
	der[1] = 0x40;
	assert_int_equal(hsm_ec_point_decode(pub, der, 67), ERR_MALFORMED);
	der[1] = 0x41;
	assert_int_equal(hsm_ec_point_decode(pub, der, 66), ERR_TRUNCATED);
	assert_int_equal(hsm_ec_point_decode(pub, der, 1), ERR_TRUNCATED);
	/* Compressed points carry no Y to hash into an address. */
	raw[0] = 0x02;
	assert_int_equal(hsm_ec_point_decode(pub, raw, 65), ERR_MALFORMED);
	assert_int_equal(pub[0], 0);
}

static void
test_curve_oids(void **state)
{
	const uint8_t *der;
	enum hsm_key_type t;
	size_t n;
	static const uint8_t p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00,
	    0x22 };

	der = hsm_ec_params_der(HSM_KEY_SECP256K1, &n);
	assert_int_equal(n, 7);
	assert_int_equal(hsm_ec_params_type(&t, der, n), 0);
	assert_int_equal(t, HSM_KEY_SECP256K1);
	der = hsm_ec_params_der(HSM_KEY_P256, &n);
	assert_int_equal(n, 10);
	assert_int_equal(hsm_ec_params_type(&t, der, n), 0);
	assert_int_equal(t, HSM_KEY_P256);
	assert_int_equal(hsm_ec_params_type(&t, p384, sizeof(p384)),
	    ERR_HSM_KEY_TYPE);
	assert_int_equal(hsm_ec_params_type(&t, der, n - 1), ERR_HSM_KEY_TYPE);
	assert_null(hsm_ec_params_der(0, &n));
	assert_string_equal(hsm_key_type_name(HSM_KEY_SECP256K1), "secp256k1");
	assert_string_equal(hsm_key_type_name(0), "unknown");
}

static void
test_point_on_curve(void **state)
{
	uint8_t pub[65];

	assert_int_equal(util_hex_decode(pub, sizeof(pub), g_k1), 0);
	assert_int_equal(hsm_pubkey_check(HSM_KEY_SECP256K1, pub), 0);
	assert_int_equal(hsm_pubkey_check(HSM_KEY_P256, pub), ERR_MALFORMED);
	pub[64] ^= 1;
	assert_int_equal(hsm_pubkey_check(HSM_KEY_SECP256K1, pub),
	    ERR_MALFORMED);
	assert_int_equal(util_hex_decode(pub, sizeof(pub), g_p256), 0);
	assert_int_equal(hsm_pubkey_check(HSM_KEY_P256, pub), 0);
}

static void
test_weakness(void **state)
{
	struct hsm_key k;
	char why[128], tiny[12];

	memset(&k, 0, sizeof(k));
	k.attrs.sensitive = k.attrs.always_sensitive = 1;
	k.attrs.never_extractable = k.attrs.sign = 1;
	strcpy(k.label, "hot");
	assert_int_equal(hsm_key_is_weak(&k.attrs), 0);
	assert_int_equal(hsm_key_weakness(why, sizeof(why), &k), 0);
	assert_string_equal(why, "");

	k.attrs.derive = 1;
	k.attrs.unwrap = 1;
	assert_int_equal(hsm_key_is_weak(&k.attrs), 1);
	assert_int_equal(hsm_key_weakness(why, sizeof(why), &k), 2);
	assert_string_equal(why, "unwrap, derive");
	hsm_key_weak_error(&k);
	assert_string_equal(hsm_last_error(), "key \"hot\" is weak: "
	    "CKA_UNWRAP is true, CKA_DERIVE is true");

	/* Once exposed stays weak, even when locked down later. */
	memset(&k.attrs, 0, sizeof(k.attrs));
	k.attrs.sensitive = 1;
	k.attrs.sign = 1;
	assert_int_equal(hsm_key_weakness(why, sizeof(why), &k), 2);
	assert_string_equal(why, "was-extractable, was-not-sensitive");
	/* A short buffer holds what fits and still counts everything. */
	assert_int_equal(hsm_key_weakness(tiny, sizeof(tiny), &k), 2);
	assert_string_equal(tiny, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_point_raw_and_der),
		cmocka_unit_test(test_point_malformed),
		cmocka_unit_test(test_curve_oids),
		cmocka_unit_test(test_point_on_curve),
		cmocka_unit_test(test_weakness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
