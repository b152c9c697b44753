/* test_pin.c: PIN files (mode, owner, type, size), PIN variables, and C_Login with them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <cmocka.h>

#include "tests/hsm/fixture.h"

static char path[PATH_MAX];

static int
setup(void **state)
{
	if (fx_setup(state) != 0)
		return -1;
	fx_path(path, "test.pin");
	return fx_token("pins");
}

static int
read_text(char *pin, size_t cap, const char *text, size_t n, mode_t mode)
{
	assert_int_equal(fx_write(path, text, n, mode), 0);
	return hsm_pin_read_file(pin, cap, path);
}

static void
test_file_good(void **state)
{
	char pin[HSM_PIN_MAX + 1];

	assert_int_equal(read_text(pin, sizeof(pin), "1234", 4, 0600), 0);
	assert_string_equal(pin, "1234");
	/* One trailing newline (or CRLF) is not part of the PIN. */
	assert_int_equal(read_text(pin, sizeof(pin), "1234\n", 5, 0400), 0);
	assert_string_equal(pin, "1234");
	assert_int_equal(read_text(pin, sizeof(pin), "12 34\r\n", 7, 0600), 0);
	assert_string_equal(pin, "12 34");
}

static void
test_file_mode(void **state)
{
	char pin[HSM_PIN_MAX + 1];

	assert_int_equal(read_text(pin, sizeof(pin), "1234", 4, 0644),
	    ERR_HSM_PIN_MODE);
	assert_non_null(strstr(hsm_last_error(), "0644"));
	assert_string_equal(pin, "");
	assert_int_equal(read_text(pin, sizeof(pin), "1234", 4, 0640),
	    ERR_HSM_PIN_MODE);
	assert_int_equal(read_text(pin, sizeof(pin), "1234", 4, 0602),
	    ERR_HSM_PIN_MODE);
}

static void
test_file_symlink(void **state)
{
	char link[PATH_MAX], pin[HSM_PIN_MAX + 1];

	fx_path(link, "link.pin");
	unlink(link);
	assert_int_equal(symlink(fx.pin_file, link), 0);
	assert_int_equal(hsm_pin_read_file(pin, sizeof(pin), link),
	    ERR_HSM_PIN_MODE);
	assert_non_null(strstr(hsm_last_error(), "symbolic link"));
}

static void
test_file_not_regular(void **state)
{
	char fifo[PATH_MAX], pin[HSM_PIN_MAX + 1];

	assert_int_equal(hsm_pin_read_file(pin, sizeof(pin), fx.dir),
	    ERR_HSM_PIN_MODE);
	/* A FIFO with no writer must be refused, not waited on. */
	fx_path(fifo, "fifo.pin");
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(hsm_pin_read_file(pin, sizeof(pin), fifo),
	    ERR_HSM_PIN_MODE);
}

static void
test_file_owner(void **state)
{
	char pin[HSM_PIN_MAX + 1];

	/* Only root can give a file away; others skip this check. */
	if (geteuid() != 0)
		skip();
	assert_int_equal(fx_write(path, "1234", 4, 0600), 0);
	assert_int_equal(chown(path, 1, (gid_t)-1), 0);
	assert_int_equal(hsm_pin_read_file(pin, sizeof(pin), path),
	    ERR_HSM_PIN_MODE);
	assert_non_null(strstr(hsm_last_error(), "owned by uid 1"));
}

static void
test_file_content(void **state)
{
	char pin[HSM_PIN_MAX + 1], big[HSM_PIN_MAX + 2], small[4];

	assert_int_equal(read_text(pin, sizeof(pin), "", 0, 0600),
	    ERR_HSM_PIN_FILE);
	assert_int_equal(read_text(pin, sizeof(pin), "\n", 1, 0600),
	    ERR_HSM_PIN_FILE);
	assert_int_equal(read_text(pin, sizeof(pin), "12\0" "34", 5, 0600),
	    ERR_HSM_PIN_FILE);
	memset(big, '7', sizeof(big));
	assert_int_equal(read_text(pin, sizeof(pin), big, HSM_PIN_MAX, 0600), 0);
	assert_int_equal(strlen(pin), HSM_PIN_MAX);
	assert_int_equal(read_text(pin, sizeof(pin), big, HSM_PIN_MAX + 1,
	    0600), ERR_HSM_PIN_FILE);
	assert_int_equal(read_text(small, sizeof(small), "1234", 4, 0600),
	    ERR_INVALID_ARG);
	fx_path(path, "missing.pin");
	assert_int_equal(hsm_pin_read_file(pin, sizeof(pin), path),
	    ERR_HSM_PIN_FILE);
	fx_path(path, "test.pin");
}

static void
test_env(void **state)
{
	char pin[HSM_PIN_MAX + 1];
	char *value;

	setenv("TEST_HSM_PIN", "5678", 1);
	value = getenv("TEST_HSM_PIN");
	assert_int_equal(hsm_pin_read_env(pin, sizeof(pin), "TEST_HSM_PIN"), 0);
	assert_string_equal(pin, "5678");
	/* Gone from the environment, and its old bytes overwritten. */
	assert_null(getenv("TEST_HSM_PIN"));
	assert_memory_equal(value, "\0\0\0\0", 4);
	assert_int_equal(hsm_pin_read_env(pin, sizeof(pin), "TEST_HSM_PIN"),
	    ERR_HSM_PIN_FILE);
	setenv("TEST_HSM_PIN", "", 1);
	assert_int_equal(hsm_pin_read_env(pin, sizeof(pin), "TEST_HSM_PIN"),
	    ERR_HSM_PIN_FILE);
	assert_null(getenv("TEST_HSM_PIN"));
}

static void
test_login(void **state)
{
	struct hsm *h = NULL;

	assert_int_equal(hsm_open(&h, fx.module, "pkcs11:token=pins", 1), 0);
	assert_int_equal(hsm_login(h, fx.bad_pin_file, NULL),
	    ERR_HSM_PIN_INCORRECT);
	assert_string_equal(hsm_last_error(), "C_Login: CKR_PIN_INCORRECT");
	assert_int_equal(fx_write(path, "1234", 4, 0644), 0);
	assert_int_equal(hsm_login(h, path, NULL), ERR_HSM_PIN_MODE);
	assert_int_equal(hsm_login(h, NULL, NULL), ERR_INVALID_ARG);
	setenv("TEST_HSM_PIN", FX_PIN, 1);
	assert_int_equal(hsm_login(h, NULL, "TEST_HSM_PIN"), 0);
	assert_null(getenv("TEST_HSM_PIN"));
	/* Logging in twice is harmless. */
	assert_int_equal(hsm_login(h, fx.pin_file, NULL), 0);
	hsm_close(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_good),
		cmocka_unit_test(test_file_mode),
		cmocka_unit_test(test_file_symlink),
		cmocka_unit_test(test_file_not_regular),
		cmocka_unit_test(test_file_owner),
		cmocka_unit_test(test_file_content),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_login),
	};

	return cmocka_run_group_tests(tests, setup, fx_teardown);
}
