/* test_cmd_key.c: key list and key show on a token holding a weak key, which signerctl itself cannot make. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/hsm/fixture.h"
#include "signerctl/ctl.h"

static struct hsm *h;
static const struct ctl_cmd cmd = { "key", "test", NULL, 0, 0, NULL, "", "" };

/* An extractable secp256k1 key, made through the raw function list. */
static int
make_weak_key(void)
{
	static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	static const uint8_t k1[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a };
	CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_BYTE id[] = { 0xbe, 0xef };
	CK_ATTRIBUTE pub_t[] = {
		{ CKA_TOKEN, (void *)&yes, 1 },
		{ CKA_EC_PARAMS, (void *)k1, sizeof(k1) },
		{ CKA_LABEL, "weak", 4 },
		{ CKA_ID, id, sizeof(id) },
	};
	CK_ATTRIBUTE priv_t[] = {
		{ CKA_TOKEN, (void *)&yes, 1 },
		{ CKA_PRIVATE, (void *)&yes, 1 },
		{ CKA_SENSITIVE, (void *)&yes, 1 },
		{ CKA_EXTRACTABLE, (void *)&yes, 1 },
		{ CKA_SIGN, (void *)&yes, 1 },
		{ CKA_DECRYPT, (void *)&no, 1 },
		{ CKA_UNWRAP, (void *)&no, 1 },
		{ CKA_DERIVE, (void *)&no, 1 },
		{ CKA_LABEL, "weak", 4 },
		{ CKA_ID, id, sizeof(id) },
	};
	CK_OBJECT_HANDLE pub, priv;
	CK_FUNCTION_LIST *f = fx_raw();
	CK_SESSION_HANDLE s;
	CK_RV rv;

	if (f == NULL ||
	    (s = fx_raw_session(f, "ctl")) == CK_INVALID_HANDLE)
		return -1;
	rv = f->C_GenerateKeyPair(s, &mech, pub_t, ARRAY_LEN(pub_t), priv_t,
	    ARRAY_LEN(priv_t), &pub, &priv);
	f->C_CloseSession(s);
	return rv == CKR_OK ? 0 : -1;
}

static int
setup(void **state)
{
	struct hsm_key k;

	if (fx_setup(state) != 0 || fx_token("ctl") != 0 ||
	    fx_open(&h, "ctl", 1) != 0)
		return -1;
	if (hsm_key_generate(h, &k, "good", HSM_KEY_SECP256K1) != 0)
		return -1;
	return make_weak_key();
}

static int
teardown(void **state)
{
	hsm_close(h);
	return fx_teardown(state);
}

/* Runs fn with stdout and stderr going to files; returns its result. */
static int
capture(int (*fn)(const struct ctl_cmd *, const struct ctl_opts *),
    const struct ctl_opts *o, char *out, size_t outcap, char *err,
    size_t errcap)
{
	FILE *fo = tmpfile(), *fe = tmpfile();
	int save_out, save_err, r;
	size_t n;

	assert_non_null(fo);
	assert_non_null(fe);
	fflush(stdout);
	fflush(stderr);
	save_out = dup(1);
	save_err = dup(2);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	r = fn(&cmd, o);
	fflush(stdout);
	fflush(stderr);
	dup2(save_out, 1);
	dup2(save_err, 2);
	close(save_out);
	close(save_err);
	rewind(fo);
	rewind(fe);
	n = fread(out, 1, outcap - 1, fo);
	out[n] = '\0';
	n = fread(err, 1, errcap - 1, fe);
	err[n] = '\0';
	fclose(fo);
	fclose(fe);
	return r;
}

static void
opts(struct ctl_opts *o, const char *uri, int json)
{
	memset(o, 0, sizeof(*o));
	o->module = fx.module;
	o->token = "pkcs11:token=ctl";
	o->uri = uri;
	o->pin_file = fx.pin_file;
	o->json = json;
}

static void
test_list_flags_weak(void **state)
{
	static char out[16384], err[4096];
	struct ctl_opts o;

	opts(&o, NULL, 0);
	assert_int_equal(capture(ctl_key_list, &o, out, sizeof(out), err,
	    sizeof(err)), CTL_EXIT_OK);
	assert_non_null(strstr(out, "good (secp256k1)"));
	assert_non_null(strstr(out, "weak (secp256k1)"));
	assert_non_null(strstr(out, "safety       ok"));
	assert_non_null(strstr(out, "safety       WEAK: extractable, "
	    "was-extractable"));
	assert_non_null(strstr(out, "extractable=yes"));
	assert_string_equal(err, "");
}

static void
test_list_json_flags_weak(void **state)
{
	static char out[16384], err[4096];
	struct ctl_opts o;
	json_t *v, *keys, *k;
	json_error_t je;
	size_t i;
	int weak = 0, good = 0;

	opts(&o, NULL, 1);
	assert_int_equal(capture(ctl_key_list, &o, out, sizeof(out), err,
	    sizeof(err)), CTL_EXIT_OK);
	v = json_loads(out, 0, &je);
	assert_non_null(v);
	keys = json_object_get(v, "keys");
	assert_int_equal(json_array_size(keys), 2);
	json_array_foreach(keys, i, k) {
		if (strcmp(json_string_value(json_object_get(k, "label")),
		    "weak") == 0) {
			weak = 1;
			assert_true(json_is_true(json_object_get(k, "weak")));
			assert_string_equal(json_string_value(json_array_get(
			    json_object_get(k, "weaknesses"), 0)), "extractable");
			assert_true(json_is_true(json_object_get(json_object_get(
			    k, "attributes"), "extractable")));
		} else {
			good = 1;
			assert_true(json_is_false(json_object_get(k, "weak")));
			assert_int_equal(json_array_size(json_object_get(k,
			    "weaknesses")), 0);
		}
		assert_int_equal(strlen(json_string_value(json_object_get(k,
		    "address"))), 42);
	}
	assert_true(weak && good);
	json_decref(v);
}

/* Shown, so the reviewer sees what is wrong, and still a failure. */
static void
test_show_weak(void **state)
{
	static char out[8192], err[4096];
	struct ctl_opts o;

	opts(&o, "pkcs11:token=ctl;object=weak", 0);
	assert_int_equal(capture(ctl_key_show, &o, out, sizeof(out), err,
	    sizeof(err)), CTL_EXIT_FAIL);
	assert_non_null(strstr(out, "weak (secp256k1)"));
	assert_non_null(strstr(out, "WEAK: extractable"));
	assert_non_null(strstr(err, "signerctl: the key must not be used for "
	    "signing: "));
	assert_non_null(strstr(err, "CKA_EXTRACTABLE is true"));
}

static void
test_show_good(void **state)
{
	static char out[8192], err[4096];
	struct ctl_opts o;

	opts(&o, "pkcs11:token=ctl;object=good", 1);
	assert_int_equal(capture(ctl_key_show, &o, out, sizeof(out), err,
	    sizeof(err)), CTL_EXIT_OK);
	assert_non_null(strstr(out, "\"weak\": false"));
	assert_string_equal(err, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_flags_weak),
		cmocka_unit_test(test_list_json_flags_weak),
		cmocka_unit_test(test_show_weak),
		cmocka_unit_test(test_show_good),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
