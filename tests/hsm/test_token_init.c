/* test_token_init.c: provisioning a token with SO and user PINs, and the refusals around it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/hsm/fixture.h"

static void
test_init_then_login(void **state)
{
	unsigned long slot = 99;
	struct hsm *h = NULL;

	assert_int_equal(hsm_token_init(&slot, fx.module, "fresh",
	    fx.so_pin_file, fx.pin_file), 0);
	assert_int_not_equal(slot, 99);
	assert_int_equal(fx_open(&h, "fresh", 1), 0);
	hsm_close(h);
	/* The SO PIN is not the user PIN. */
	assert_int_equal(hsm_open(&h, fx.module, "pkcs11:token=fresh", 1), 0);
	assert_int_equal(hsm_login(h, fx.so_pin_file, NULL),
	    ERR_HSM_PIN_INCORRECT);
	hsm_close(h);
}

static void
test_init_twice(void **state)
{
	unsigned long slot;

	assert_int_equal(hsm_token_init(&slot, fx.module, "twice",
	    fx.so_pin_file, fx.pin_file), 0);
	assert_int_equal(hsm_token_init(&slot, fx.module, "twice",
	    fx.so_pin_file, fx.pin_file), ERR_HSM_TOKEN_EXISTS);
	assert_non_null(strstr(hsm_last_error(), "twice"));
	assert_int_equal(slot, 0);
}

static void
test_init_from_env(void **state)
{
	unsigned long slot;
	struct hsm *h = NULL;

	setenv("TEST_SO_PIN", FX_SO_PIN, 1);
	setenv("TEST_PIN", FX_PIN, 1);
	assert_int_equal(hsm_token_init_from(&slot, fx.module, "from-env",
	    NULL, "TEST_SO_PIN", NULL, "TEST_PIN"), 0);
	assert_null(getenv("TEST_SO_PIN"));
	assert_null(getenv("TEST_PIN"));
	assert_int_equal(fx_open(&h, "from-env", 1), 0);
	hsm_close(h);
}

/* A bad PIN file is found before the token is touched. */
static void
test_bad_pin_files(void **state)
{
	char loose[PATH_MAX], empty[PATH_MAX];
	unsigned long slot;
	struct hsm *h = NULL;

	fx_path(loose, "loose.pin");
	fx_path(empty, "empty.pin");
	assert_int_equal(fx_write(loose, FX_PIN, strlen(FX_PIN), 0644), 0);
	assert_int_equal(fx_write(empty, "", 0, 0600), 0);
	assert_int_equal(hsm_token_init(&slot, fx.module, "half",
	    fx.so_pin_file, loose), ERR_HSM_PIN_MODE);
	assert_int_equal(hsm_token_init(&slot, fx.module, "half", empty,
	    fx.pin_file), ERR_HSM_PIN_FILE);
	assert_int_equal(hsm_open(&h, fx.module, "pkcs11:token=half", 1),
	    ERR_HSM_NO_TOKEN);
}

static void
test_bad_labels_and_pins(void **state)
{
	char shortpin[PATH_MAX];
	unsigned long slot;

	assert_int_equal(hsm_token_init(&slot, fx.module, "",
	    fx.so_pin_file, fx.pin_file), ERR_INVALID_ARG);
	assert_int_equal(hsm_token_init(&slot, fx.module,
	    "a-label-longer-than-32-characters", fx.so_pin_file, fx.pin_file),
	    ERR_INVALID_ARG);
	assert_int_equal(hsm_token_init(&slot, fx.module, "tab\there",
	    fx.so_pin_file, fx.pin_file), ERR_INVALID_ARG);
	/* SoftHSM wants at least 4 characters; said before C_InitToken. */
	fx_path(shortpin, "short.pin");
	assert_int_equal(fx_write(shortpin, "12", 2, 0600), 0);
	assert_int_equal(hsm_token_init(&slot, fx.module, "short", shortpin,
	    fx.pin_file), ERR_INVALID_ARG);
	assert_non_null(strstr(hsm_last_error(), "SO PIN of 4 to"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_then_login),
		cmocka_unit_test(test_init_twice),
		cmocka_unit_test(test_init_from_env),
		cmocka_unit_test(test_bad_pin_files),
		cmocka_unit_test(test_bad_labels_and_pins),
	};

	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
