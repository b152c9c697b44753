/* test_keys.c: key generation, lookup by URI, listing and the weak-key refusal against SoftHSM2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/hsm/fixture.h"

static struct hsm *h;

/* What the hsm API refuses to make: a key pair with the given private template. */
static CK_OBJECT_HANDLE
raw_generate(const char *label, CK_ATTRIBUTE *extra, size_t nextra)
{
	static const CK_BBOOL yes = CK_TRUE;
	static const uint8_t k1[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a };
	CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_BYTE id[4] = { 0xee, 0x01, 0x02, 0x03 };
	CK_ATTRIBUTE pub_t[] = {
		{ CKA_TOKEN, (void *)&yes, 1 },
		{ CKA_EC_PARAMS, (void *)k1, sizeof(k1) },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_ID, id, sizeof(id) },
	};
	CK_ATTRIBUTE priv_t[16] = {
		{ CKA_TOKEN, (void *)&yes, 1 },
		{ CKA_PRIVATE, (void *)&yes, 1 },
		{ CKA_SIGN, (void *)&yes, 1 },
		{ CKA_LABEL, (void *)label, strlen(label) },
		{ CKA_ID, id, sizeof(id) },
	};
	CK_OBJECT_HANDLE pub, priv = CK_INVALID_HANDLE;
	CK_FUNCTION_LIST *f = fx_raw();
	CK_SESSION_HANDLE s;
	size_t i;

	assert_non_null(f);
	s = fx_raw_session(f, "keys");
	assert_int_not_equal(s, CK_INVALID_HANDLE);
	/* A different id per key, so only the label can be ambiguous. */
	id[3] = (CK_BYTE)(label[0] + label[strlen(label) - 1] + nextra);
	for (i = 0; i < nextra; i++)
		priv_t[5 + i] = extra[i];
	assert_int_equal(f->C_GenerateKeyPair(s, &mech, pub_t,
	    ARRAY_LEN(pub_t), priv_t, 5 + nextra, &pub, &priv), CKR_OK);
	f->C_CloseSession(s);
	return priv;
}

static int
setup(void **state)
{
	if (fx_setup(state) != 0 || fx_token("keys") != 0 ||
	    fx_token("other") != 0)
		return -1;
	return fx_open(&h, "keys", 2);
}

static int
teardown(void **state)
{
	hsm_close(h);
	return fx_teardown(state);
}

static void
assert_safe(const struct hsm_key *k)
{
	assert_int_equal(k->attrs.sensitive, 1);
	assert_int_equal(k->attrs.extractable, 0);
	assert_int_equal(k->attrs.always_sensitive, 1);
	assert_int_equal(k->attrs.never_extractable, 1);
	assert_int_equal(k->attrs.sign, 1);
	assert_int_equal(k->attrs.decrypt, 0);
	assert_int_equal(k->attrs.unwrap, 0);
	assert_int_equal(k->attrs.derive, 0);
	assert_int_equal(k->weak, 0);
}

static void
test_generate_secp256k1(void **state)
{
	struct hsm_key k;

	assert_int_equal(hsm_key_generate(h, &k, "k1", HSM_KEY_SECP256K1), 0);
	assert_int_equal(k.type, HSM_KEY_SECP256K1);
	assert_string_equal(k.label, "k1");
	assert_int_equal(k.id_len, 16);
	assert_int_equal(k.pub[0], 0x04);
	assert_safe(&k);
}

static void
test_generate_p256(void **state)
{
	struct hsm_key k;

	assert_int_equal(hsm_key_generate(h, &k, "p1", HSM_KEY_P256), 0);
	assert_int_equal(k.type, HSM_KEY_P256);
	assert_string_equal(hsm_key_type_name(k.type), "p256");
	assert_int_equal(k.pub[0], 0x04);
	assert_safe(&k);
}

static void
test_generate_duplicate_label(void **state)
{
	struct hsm_key k;

	assert_int_equal(hsm_key_generate(h, &k, "dup-gen",
	    HSM_KEY_SECP256K1), 0);
	assert_int_equal(hsm_key_generate(h, &k, "dup-gen", HSM_KEY_P256),
	    ERR_EXISTS);
	assert_non_null(strstr(hsm_last_error(), "dup-gen"));
}

static void
test_generate_bad_label(void **state)
{
	char longest[HSM_LABEL_MAX + 2];
	struct hsm_key k;

	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	assert_int_equal(hsm_key_generate(h, &k, "", HSM_KEY_P256),
	    ERR_INVALID_ARG);
	assert_int_equal(hsm_key_generate(h, &k, longest, HSM_KEY_P256),
	    ERR_INVALID_ARG);
	assert_int_equal(hsm_key_generate(h, &k, "a\nb", HSM_KEY_P256),
	    ERR_INVALID_ARG);
	assert_int_equal(hsm_key_generate(h, &k, "t", 7), ERR_HSM_KEY_TYPE);
}

static void
test_find_by_label_and_id(void **state)
{
	struct hsm_key gen, k;
	char uri[HSM_URI_MAX];

	assert_int_equal(hsm_key_generate(h, &gen, "find-me",
	    HSM_KEY_SECP256K1), 0);
	assert_int_equal(hsm_key_find(h, &k, "pkcs11:token=keys;object=find-me"),
	    0);
	assert_int_equal(k.priv, gen.priv);
	assert_memory_equal(k.pub, gen.pub, 65);
	assert_memory_equal(k.id, gen.id, 16);
	/* The token part is optional: the handle already chose the token. */
	assert_int_equal(hsm_key_find(h, &k, "pkcs11:object=find-me"), 0);
	assert_int_equal(k.priv, gen.priv);
	/* The formatted URI carries the id and finds the same key. */
	assert_int_equal(hsm_key_uri(h, uri, sizeof(uri), &gen), 0);
	assert_non_null(strstr(uri, "token=keys"));
	assert_non_null(strstr(uri, "object=find-me"));
	assert_non_null(strstr(uri, "id=%"));
	assert_non_null(strstr(uri, "type=private"));
	assert_int_equal(hsm_key_find(h, &k, uri), 0);
	assert_int_equal(k.priv, gen.priv);
	assert_int_equal(hsm_key_uri(h, uri, 20, &gen), ERR_TOO_LARGE);
}

static void
test_find_errors(void **state)
{
	struct hsm_key k;

	assert_int_equal(hsm_key_find(h, &k, "pkcs11:token=keys;object=none"),
	    ERR_HSM_NO_KEY);
	assert_int_equal(hsm_key_find(h, &k, "pkcs11:token=keys"),
	    ERR_HSM_URI);
	assert_int_equal(hsm_key_find(h, &k,
	    "pkcs11:token=keys;object=k1;type=public"), ERR_HSM_URI);
	assert_int_equal(hsm_key_find(h, &k, "pkcs11:token=other;object=k1"),
	    ERR_HSM_NO_TOKEN);
	assert_int_equal(hsm_key_find(h, &k, "pkcs12:object=k1"), ERR_HSM_URI);
	assert_int_equal(hsm_key_find(h, &k, "pkcs11:object=k1;colour=red"),
	    ERR_HSM_URI);
}

static void
test_find_ambiguous(void **state)
{
	struct hsm_key k;
	static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE safe[] = {
		{ CKA_SENSITIVE, (void *)&yes, 1 },
		{ CKA_EXTRACTABLE, (void *)&no, 1 },
		{ CKA_DECRYPT, (void *)&no, 1 },
		{ CKA_UNWRAP, (void *)&no, 1 },
		{ CKA_DERIVE, (void *)&no, 1 },
	};

	raw_generate("twin", safe, 5);
	raw_generate("twin", safe, 4);
	assert_int_equal(hsm_key_find(h, &k, "pkcs11:object=twin"),
	    ERR_HSM_AMBIGUOUS);
}

static void
test_private_value_unreadable(void **state)
{
	static const CK_BBOOL yes = CK_TRUE;
	CK_BYTE value[64];
	CK_ATTRIBUTE get = { CKA_VALUE, value, sizeof(value) };
	CK_ATTRIBUTE set = { CKA_DECRYPT, (void *)&yes, 1 };
	CK_FUNCTION_LIST *f = fx_raw();
	CK_SESSION_HANDLE s;
	struct hsm_key k;

	assert_int_equal(hsm_key_generate(h, &k, "secret", HSM_KEY_SECP256K1),
	    0);
	assert_non_null(f);
	s = fx_raw_session(f, "keys");
	assert_int_not_equal(s, CK_INVALID_HANDLE);
	assert_int_equal(f->C_GetAttributeValue(s, k.priv, &get, 1),
	    CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(get.ulValueLen, CK_UNAVAILABLE_INFORMATION);
	/* CKA_MODIFIABLE false: nobody can turn decryption on afterwards. */
	assert_int_not_equal(f->C_SetAttributeValue(s, k.priv, &set, 1),
	    CKR_OK);
	f->C_CloseSession(s);
	assert_int_equal(hsm_key_find(h, &k, "pkcs11:object=secret"), 0);
	assert_int_equal(k.attrs.decrypt, 0);
}

/* Not modifiable is not indestructible: a key can still be retired. */
static void
test_generated_key_destroyable(void **state)
{
	CK_FUNCTION_LIST *f = fx_raw();
	CK_SESSION_HANDLE s;
	struct hsm_key k;

	assert_int_equal(hsm_key_generate(h, &k, "retire", HSM_KEY_P256), 0);
	assert_non_null(f);
	s = fx_raw_session(f, "keys");
	assert_int_not_equal(s, CK_INVALID_HANDLE);
	assert_int_equal(f->C_DestroyObject(s, k.priv), CKR_OK);
	f->C_CloseSession(s);
	assert_int_equal(hsm_key_find(h, &k, "pkcs11:object=retire"),
	    ERR_HSM_NO_KEY);
	/* The label is free again. */
	assert_int_equal(hsm_key_generate(h, &k, "retire", HSM_KEY_P256), 0);
}

static void
test_extractable_key_refused(void **state)
{
	static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE extra[] = {
		{ CKA_SENSITIVE, (void *)&yes, 1 },
		{ CKA_EXTRACTABLE, (void *)&yes, 1 },
		{ CKA_DECRYPT, (void *)&no, 1 },
		{ CKA_UNWRAP, (void *)&no, 1 },
		{ CKA_DERIVE, (void *)&no, 1 },
	};
	char why[128];
	uint8_t sig[64], digest[32] = { 1 };
	struct hsm_key k;

	raw_generate("weak-x", extra, ARRAY_LEN(extra));
	assert_int_equal(hsm_key_find(h, &k, "pkcs11:object=weak-x"),
	    ERR_HSM_KEY_WEAK);
	/* Filled in anyway, so the caller can say what is wrong. */
	assert_string_equal(k.label, "weak-x");
	assert_int_equal(k.attrs.extractable, 1);
	assert_int_equal(k.weak, 1);
	assert_non_null(strstr(hsm_last_error(), "CKA_EXTRACTABLE is true"));
	assert_true(hsm_key_weakness(why, sizeof(why), &k) >= 1);
	assert_non_null(strstr(why, "extractable"));
	assert_null(strstr(why, "decrypt"));
	assert_int_equal(hsm_sign(h, sig, &k, digest), ERR_HSM_KEY_WEAK);
}

static void
test_decrypt_key_refused(void **state)
{
	static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE extra[] = {
		{ CKA_SENSITIVE, (void *)&yes, 1 },
		{ CKA_EXTRACTABLE, (void *)&no, 1 },
		{ CKA_DECRYPT, (void *)&yes, 1 },
		{ CKA_UNWRAP, (void *)&no, 1 },
		{ CKA_DERIVE, (void *)&no, 1 },
	};
	char why[128];
	struct hsm_key k;

	raw_generate("weak-d", extra, ARRAY_LEN(extra));
	assert_int_equal(hsm_key_find(h, &k, "pkcs11:object=weak-d"),
	    ERR_HSM_KEY_WEAK);
	assert_int_equal(k.attrs.decrypt, 1);
	assert_int_equal(k.attrs.extractable, 0);
	assert_non_null(strstr(hsm_last_error(), "CKA_DECRYPT is true"));
	assert_int_equal(hsm_key_weakness(why, sizeof(why), &k), 1);
	assert_string_equal(why, "decrypt");
}

/* The trap the generation template exists for. */
static void
test_silent_template_is_weak(void **state)
{
	static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE extra[] = {
		{ CKA_SENSITIVE, (void *)&yes, 1 },
		{ CKA_EXTRACTABLE, (void *)&no, 1 },
	};
	struct hsm_key k;

	raw_generate("weak-silent", extra, ARRAY_LEN(extra));
	assert_int_equal(hsm_key_find(h, &k, "pkcs11:object=weak-silent"),
	    ERR_HSM_KEY_WEAK);
	assert_true(k.attrs.decrypt || k.attrs.unwrap || k.attrs.derive);
}

static void
test_list(void **state)
{
	struct hsm_key *keys = NULL;
	size_t n = 0, i;
	int seen_k1 = 0, seen_p1 = 0, seen_weak = 0;

	assert_int_equal(hsm_key_list(h, &keys, &n), 0);
	assert_true(n >= 2);
	for (i = 0; i < n; i++) {
		if (strcmp(keys[i].label, "k1") == 0) {
			seen_k1 = 1;
			assert_int_equal(keys[i].type, HSM_KEY_SECP256K1);
			assert_int_equal(keys[i].weak, 0);
			assert_int_equal(keys[i].pub[0], 0x04);
		}
		if (strcmp(keys[i].label, "p1") == 0) {
			seen_p1 = 1;
			assert_int_equal(keys[i].type, HSM_KEY_P256);
		}
		if (strcmp(keys[i].label, "weak-x") == 0) {
			seen_weak = 1;
			assert_int_equal(keys[i].weak, 1);
		}
	}
	free(keys);
	assert_true(seen_k1 && seen_p1 && seen_weak);
}

/* Reads one CK_BBOOL of obj through the raw list: 1, 0, or -1 unreadable. */
static int
raw_bool(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
    CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = CK_FALSE;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };

	if (f->C_GetAttributeValue(s, obj, &a, 1) != CKR_OK ||
	    a.ulValueLen != sizeof(v))
		return -1;
	return v != CK_FALSE;
}

/*
 * The public template leaves CKA_VERIFY and CKA_ENCRYPT to the token (so
 * tpm2-pkcs11 can make the key: tests/integration/approver_tpm.sh); what
 * protects the key is still spelled out and still holds on SoftHSM.
 */
static void
test_generated_objects(void **state)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE find[2] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE pub;
	CK_ULONG n = 0;
	CK_FUNCTION_LIST *f = fx_raw();
	CK_SESSION_HANDLE s;
	struct hsm_key k;

	assert_int_equal(hsm_key_generate(h, &k, "objs", HSM_KEY_P256), 0);
	assert_non_null(f);
	s = fx_raw_session(f, "keys");
	assert_int_not_equal(s, CK_INVALID_HANDLE);
	assert_int_equal(raw_bool(f, s, k.priv, CKA_SIGN), 1);
	assert_int_equal(raw_bool(f, s, k.priv, CKA_SENSITIVE), 1);
	assert_int_equal(raw_bool(f, s, k.priv, CKA_EXTRACTABLE), 0);
	assert_int_equal(raw_bool(f, s, k.priv, CKA_MODIFIABLE), 0);
	assert_int_equal(raw_bool(f, s, k.priv, CKA_DECRYPT), 0);
	assert_int_equal(raw_bool(f, s, k.priv, CKA_UNWRAP), 0);
	assert_int_equal(raw_bool(f, s, k.priv, CKA_DERIVE), 0);
	find[1].type = CKA_ID;
	find[1].pValue = k.id;
	find[1].ulValueLen = k.id_len;
	assert_int_equal(f->C_FindObjectsInit(s, find, 2), CKR_OK);
	assert_int_equal(f->C_FindObjects(s, &pub, 1, &n), CKR_OK);
	assert_int_equal(f->C_FindObjectsFinal(s), CKR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(raw_bool(f, s, pub, CKA_PRIVATE), 0);
	assert_int_equal(raw_bool(f, s, pub, CKA_WRAP), 0);
	assert_int_equal(raw_bool(f, s, pub, CKA_DERIVE), 0);
	/* SoftHSM's own default: a public key it makes verifies. */
	assert_int_equal(raw_bool(f, s, pub, CKA_VERIFY), 1);
	f->C_CloseSession(s);
}

static void
test_not_logged_in(void **state)
{
	struct hsm *o = NULL;
	struct hsm_key k;
	struct hsm_key *keys = NULL;
	size_t n = 1;

	assert_int_equal(hsm_open(&o, fx.module, "pkcs11:token=other", 1), 0);
	assert_int_equal(hsm_key_generate(o, &k, "nope", HSM_KEY_P256),
	    ERR_HSM_NOT_LOGGED_IN);
	assert_string_equal(hsm_last_error(),
	    "C_GenerateKeyPair: CKR_USER_NOT_LOGGED_IN");
	assert_int_equal(hsm_key_find(o, &k, "pkcs11:object=nope"),
	    ERR_HSM_NO_KEY);
	assert_int_equal(hsm_key_list(o, &keys, &n), 0);
	assert_int_equal(n, 0);
	free(keys);
	hsm_close(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_secp256k1),
		cmocka_unit_test(test_generate_p256),
		cmocka_unit_test(test_generate_duplicate_label),
		cmocka_unit_test(test_generate_bad_label),
		cmocka_unit_test(test_find_by_label_and_id),
		cmocka_unit_test(test_find_errors),
		cmocka_unit_test(test_find_ambiguous),
		cmocka_unit_test(test_private_value_unreadable),
		cmocka_unit_test(test_generated_key_destroyable),
		cmocka_unit_test(test_extractable_key_refused),
		cmocka_unit_test(test_decrypt_key_refused),
		cmocka_unit_test(test_silent_template_is_weak),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_generated_objects),
		cmocka_unit_test(test_not_logged_in),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
