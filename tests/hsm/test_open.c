/* test_open.c: choosing exactly one token by URI, and refusing URIs that name none, several, or nonsense. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/hsm/fixture.h"

static int
setup(void **state)
{
	if (fx_setup(state) != 0 || fx_token("alpha") != 0 ||
	    fx_token("beta") != 0)
		return -1;
	return 0;
}

static int
open_uri(const char *uri)
{
	struct hsm *h = NULL;
	int r;

	r = hsm_open(&h, fx.module, uri, 1);
	if (r == 0)
		assert_non_null(h);
	else
		assert_null(h);
	hsm_close(h);
	return r;
}

static void
test_open_by_label(void **state)
{
	assert_int_equal(open_uri("pkcs11:token=alpha"), 0);
	assert_int_equal(open_uri("pkcs11:token=beta"), 0);
	assert_int_equal(open_uri("pkcs11:model=SoftHSM%20v2;"
	    "manufacturer=SoftHSM%20project;token=alpha"), 0);
	assert_int_equal(open_uri("pkcs11:library-manufacturer=SoftHSM;"
	    "token=alpha"), 0);
	/* A key URI opens its token; the object part is for hsm_key_find. */
	assert_int_equal(open_uri("pkcs11:token=alpha;object=hot;"
	    "type=private"), 0);
}

static void
test_bad_uris(void **state)
{
	assert_int_equal(open_uri("alpha"), ERR_HSM_URI);
	assert_int_equal(open_uri("pkcs12:token=alpha"), ERR_HSM_URI);
	assert_int_equal(open_uri("pkcs11:token=al%zzpha"), ERR_HSM_URI);
	assert_int_equal(open_uri("pkcs11:tokn=alpha"), ERR_HSM_URI);
	assert_int_equal(open_uri("pkcs11:token=alpha?pin-value=246810"),
	    ERR_HSM_URI);
	assert_null(strstr(hsm_last_error(), "246810"));
}

static void
test_unknown_token(void **state)
{
	assert_int_equal(open_uri("pkcs11:token=gamma"), ERR_HSM_NO_TOKEN);
	assert_non_null(strstr(hsm_last_error(), "no initialised token"));
	assert_int_equal(open_uri("pkcs11:token=alpha;manufacturer=Acme"),
	    ERR_HSM_NO_TOKEN);
	assert_int_equal(open_uri("pkcs11:token=alpha;slot-id=424242"),
	    ERR_HSM_NO_TOKEN);
	assert_int_equal(open_uri("pkcs11:library-manufacturer=Acme;"
	    "token=alpha"), ERR_HSM_NO_TOKEN);
	/* The blank token SoftHSM always offers is never chosen. */
	assert_int_equal(open_uri("pkcs11:token="), ERR_HSM_NO_TOKEN);
}

static void
test_ambiguous(void **state)
{
	assert_int_equal(open_uri("pkcs11:"), ERR_HSM_AMBIGUOUS);
	assert_int_equal(open_uri("pkcs11:model=SoftHSM%20v2"),
	    ERR_HSM_AMBIGUOUS);
}

static void
test_bad_args(void **state)
{
	struct hsm *h = NULL;
	char bad[PATH_MAX];

	assert_int_equal(hsm_open(&h, fx.module, "pkcs11:token=alpha", 0),
	    ERR_INVALID_ARG);
	assert_int_equal(hsm_open(&h, fx.module, "pkcs11:token=alpha", 65),
	    ERR_INVALID_ARG);
	fx_path(bad, "nope.so");
	assert_int_equal(hsm_open(&h, bad, "pkcs11:token=alpha", 1),
	    ERR_HSM_MODULE);
	assert_null(h);
	hsm_close(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_by_label),
		cmocka_unit_test(test_bad_uris),
		cmocka_unit_test(test_unknown_token),
		cmocka_unit_test(test_ambiguous),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, setup, fx_teardown);
}
