/* test_rv.c: CK_RV names, their ERR_* codes, and the per-thread last error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "common/err.h"
#include "hsm/internal.h"

static void
test_names(void **state)
{
	assert_string_equal(hsm_rv_name(CKR_OK), "CKR_OK");
	assert_string_equal(hsm_rv_name(CKR_PIN_INCORRECT), "CKR_PIN_INCORRECT");
	assert_string_equal(hsm_rv_name(CKR_ATTRIBUTE_SENSITIVE),
	    "CKR_ATTRIBUTE_SENSITIVE");
	assert_string_equal(hsm_rv_name(CKR_VENDOR_DEFINED | 5),
	    "CKR_0x80000005");
}

static void
test_mapping(void **state)
{
	assert_int_equal(hsm_rv_to_err(CKR_OK), 0);
	assert_int_equal(hsm_rv_to_err(CKR_PIN_INCORRECT), ERR_HSM_PIN_INCORRECT);
	assert_int_equal(hsm_rv_to_err(CKR_PIN_LOCKED), ERR_HSM_PIN_LOCKED);
	assert_int_equal(hsm_rv_to_err(CKR_USER_NOT_LOGGED_IN),
	    ERR_HSM_NOT_LOGGED_IN);
	assert_int_equal(hsm_rv_to_err(CKR_HOST_MEMORY), ERR_NOMEM);
	assert_int_equal(hsm_rv_to_err(CKR_TOKEN_NOT_PRESENT), ERR_HSM_NO_TOKEN);
	/* A handle that went away is a PKCS#11 failure, not a failed search. */
	assert_int_equal(hsm_rv_to_err(CKR_KEY_HANDLE_INVALID), ERR_HSM);
	assert_int_equal(hsm_rv_to_err(CKR_OBJECT_HANDLE_INVALID), ERR_HSM);
	assert_int_equal(hsm_rv_to_err(CKR_SESSION_HANDLE_INVALID), ERR_HSM);
	assert_int_equal(hsm_rv_to_err(CKR_GENERAL_ERROR), ERR_HSM);
	assert_int_equal(hsm_rv_to_err(CKR_VENDOR_DEFINED), ERR_HSM);
}

static void
test_last_error(void **state)
{
	hsm_error_clear();
	assert_string_equal(hsm_last_error(), "");
	assert_int_equal(hsm_fail("C_Login", CKR_PIN_INCORRECT),
	    ERR_HSM_PIN_INCORRECT);
	assert_string_equal(hsm_last_error(), "C_Login: CKR_PIN_INCORRECT");
	assert_int_equal(hsm_last_rv(), CKR_PIN_INCORRECT);
	/* Context added to a PKCS#11 failure keeps its CK_RV. */
	hsm_error_append(" (more)");
	assert_string_equal(hsm_last_error(),
	    "C_Login: CKR_PIN_INCORRECT (more)");
	assert_int_equal(hsm_last_rv(), CKR_PIN_INCORRECT);
	/* A refusal of our own is not a PKCS#11 failure. */
	hsm_error_set("PIN file is empty");
	assert_int_equal(hsm_last_rv(), CKR_OK);
	hsm_fail("C_Sign", CKR_DEVICE_ERROR);
	hsm_error_clear();
	assert_string_equal(hsm_last_error(), "");
	assert_int_equal(hsm_last_rv(), CKR_OK);
}

static void *
other_thread(void *arg)
{
	char *seen = arg;

	strcpy(seen, hsm_last_error());
	if (hsm_last_rv() != CKR_OK)
		strcpy(seen, "rv leaked");
	hsm_fail("C_Sign", CKR_DEVICE_ERROR);
	return NULL;
}

/* Concurrent signers must never report each other's failures. */
static void
test_last_error_per_thread(void **state)
{
	char seen[64] = "x";
	pthread_t t;

	hsm_fail("C_Login", CKR_PIN_LOCKED);
	assert_int_equal(pthread_create(&t, NULL, other_thread, seen), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_string_equal(seen, "");
	assert_string_equal(hsm_last_error(), "C_Login: CKR_PIN_LOCKED");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_last_error),
		cmocka_unit_test(test_last_error_per_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
