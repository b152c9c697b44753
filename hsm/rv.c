/* rv.c: CK_RV names, their mapping to ERR_HSM_* codes, and the thread's last error. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "hsm/internal.h"

/* Per thread, so concurrent signers never read each other's failure. */
static _Thread_local char last_error[256];
static _Thread_local CK_RV last_rv;
static _Thread_local char unknown_name[32];

struct rv_name {
	CK_RV rv;
	const char *name;
};

#define R(x) { x, #x }
static const struct rv_name rv_names[] = {
	R(CKR_OK), R(CKR_CANCEL), R(CKR_HOST_MEMORY), R(CKR_SLOT_ID_INVALID),
	R(CKR_GENERAL_ERROR), R(CKR_FUNCTION_FAILED), R(CKR_ARGUMENTS_BAD),
	R(CKR_NO_EVENT), R(CKR_NEED_TO_CREATE_THREADS), R(CKR_CANT_LOCK),
	R(CKR_ATTRIBUTE_READ_ONLY), R(CKR_ATTRIBUTE_SENSITIVE),
	R(CKR_ATTRIBUTE_TYPE_INVALID), R(CKR_ATTRIBUTE_VALUE_INVALID),
	R(CKR_ACTION_PROHIBITED), R(CKR_DATA_INVALID), R(CKR_DATA_LEN_RANGE),
	R(CKR_DEVICE_ERROR), R(CKR_DEVICE_MEMORY), R(CKR_DEVICE_REMOVED),
	R(CKR_ENCRYPTED_DATA_INVALID), R(CKR_ENCRYPTED_DATA_LEN_RANGE),
	R(CKR_FUNCTION_CANCELED), R(CKR_FUNCTION_NOT_PARALLEL),
	R(CKR_FUNCTION_NOT_SUPPORTED), R(CKR_KEY_HANDLE_INVALID),
	R(CKR_KEY_SIZE_RANGE), R(CKR_KEY_TYPE_INCONSISTENT),
	R(CKR_KEY_NOT_NEEDED), R(CKR_KEY_CHANGED), R(CKR_KEY_NEEDED),
	R(CKR_KEY_INDIGESTIBLE), R(CKR_KEY_FUNCTION_NOT_PERMITTED),
	R(CKR_KEY_NOT_WRAPPABLE), R(CKR_KEY_UNEXTRACTABLE),
	R(CKR_MECHANISM_INVALID), R(CKR_MECHANISM_PARAM_INVALID),
	R(CKR_OBJECT_HANDLE_INVALID), R(CKR_OPERATION_ACTIVE),
	R(CKR_OPERATION_NOT_INITIALIZED), R(CKR_PIN_INCORRECT),
	R(CKR_PIN_INVALID), R(CKR_PIN_LEN_RANGE), R(CKR_PIN_EXPIRED),
	R(CKR_PIN_LOCKED), R(CKR_SESSION_CLOSED), R(CKR_SESSION_COUNT),
	R(CKR_SESSION_HANDLE_INVALID), R(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
	R(CKR_SESSION_READ_ONLY), R(CKR_SESSION_EXISTS),
	R(CKR_SESSION_READ_ONLY_EXISTS), R(CKR_SESSION_READ_WRITE_SO_EXISTS),
	R(CKR_SIGNATURE_INVALID), R(CKR_SIGNATURE_LEN_RANGE),
	R(CKR_TEMPLATE_INCOMPLETE), R(CKR_TEMPLATE_INCONSISTENT),
	R(CKR_TOKEN_NOT_PRESENT), R(CKR_TOKEN_NOT_RECOGNIZED),
	R(CKR_TOKEN_WRITE_PROTECTED), R(CKR_UNWRAPPING_KEY_HANDLE_INVALID),
	R(CKR_UNWRAPPING_KEY_SIZE_RANGE),
	R(CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT), R(CKR_USER_ALREADY_LOGGED_IN),
	R(CKR_USER_NOT_LOGGED_IN), R(CKR_USER_PIN_NOT_INITIALIZED),
	R(CKR_USER_TYPE_INVALID), R(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
	R(CKR_USER_TOO_MANY_TYPES), R(CKR_WRAPPED_KEY_INVALID),
	R(CKR_WRAPPED_KEY_LEN_RANGE), R(CKR_WRAPPING_KEY_HANDLE_INVALID),
	R(CKR_WRAPPING_KEY_SIZE_RANGE), R(CKR_WRAPPING_KEY_TYPE_INCONSISTENT),
	R(CKR_RANDOM_SEED_NOT_SUPPORTED), R(CKR_RANDOM_NO_RNG),
	R(CKR_DOMAIN_PARAMS_INVALID), R(CKR_CURVE_NOT_SUPPORTED),
	R(CKR_BUFFER_TOO_SMALL), R(CKR_SAVED_STATE_INVALID),
	R(CKR_INFORMATION_SENSITIVE), R(CKR_STATE_UNSAVEABLE),
	R(CKR_CRYPTOKI_NOT_INITIALIZED), R(CKR_CRYPTOKI_ALREADY_INITIALIZED),
	R(CKR_MUTEX_BAD), R(CKR_MUTEX_NOT_LOCKED), R(CKR_NEW_PIN_MODE),
	R(CKR_NEXT_OTP), R(CKR_EXCEEDED_MAX_ITERATIONS),
	R(CKR_FIPS_SELF_TEST_FAILED), R(CKR_LIBRARY_LOAD_FAILED),
	R(CKR_PIN_TOO_WEAK), R(CKR_PUBLIC_KEY_INVALID), R(CKR_FUNCTION_REJECTED),
};
#undef R

/*
 * The failures a caller can act on get their own code; the rest are
 * ERR_HSM, with the CK_RV kept in hsm_last_rv().  CKR_OBJECT_HANDLE_INVALID
 * and CKR_KEY_HANDLE_INVALID are among the rest: a handle that stopped
 * working means the object went away under us (deleted, or the token
 * re-initialised), which ERR_HSM_NO_KEY ("no key matches the URI", a
 * search that found nothing) would misreport.
 */
static const struct {
	CK_RV rv;
	int err;
} rv_errs[] = {
	{ CKR_HOST_MEMORY, ERR_NOMEM },
	{ CKR_DEVICE_MEMORY, ERR_NOMEM },
	{ CKR_PIN_INCORRECT, ERR_HSM_PIN_INCORRECT },
	{ CKR_PIN_LOCKED, ERR_HSM_PIN_LOCKED },
	{ CKR_PIN_LEN_RANGE, ERR_INVALID_ARG },
	{ CKR_PIN_INVALID, ERR_INVALID_ARG },
	{ CKR_USER_NOT_LOGGED_IN, ERR_HSM_NOT_LOGGED_IN },
	{ CKR_USER_PIN_NOT_INITIALIZED, ERR_HSM_NOT_LOGGED_IN },
	{ CKR_SLOT_ID_INVALID, ERR_HSM_NO_TOKEN },
	{ CKR_TOKEN_NOT_PRESENT, ERR_HSM_NO_TOKEN },
	{ CKR_TOKEN_NOT_RECOGNIZED, ERR_HSM_NO_TOKEN },
	{ CKR_DEVICE_REMOVED, ERR_HSM_NO_TOKEN },
	{ CKR_KEY_TYPE_INCONSISTENT, ERR_HSM_KEY_TYPE },
	{ CKR_CURVE_NOT_SUPPORTED, ERR_HSM_KEY_TYPE },
	{ CKR_DOMAIN_PARAMS_INVALID, ERR_HSM_KEY_TYPE },
	{ CKR_KEY_FUNCTION_NOT_PERMITTED, ERR_PERMISSION },
	{ CKR_ATTRIBUTE_SENSITIVE, ERR_PERMISSION },
	{ CKR_ACTION_PROHIBITED, ERR_PERMISSION },
	{ CKR_CRYPTOKI_NOT_INITIALIZED, ERR_HSM_MODULE },
	{ CKR_LIBRARY_LOAD_FAILED, ERR_HSM_MODULE },
	{ CKR_NEED_TO_CREATE_THREADS, ERR_HSM_MODULE },
	{ CKR_CANT_LOCK, ERR_HSM_MODULE },
};

const char *
hsm_rv_name(unsigned long rv)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(rv_names); i++)
		if (rv_names[i].rv == rv)
			return rv_names[i].name;
	snprintf(unknown_name, sizeof(unknown_name), "CKR_0x%lx", rv);
	return unknown_name;
}

int
hsm_rv_to_err(CK_RV rv)
{
	size_t i;

	if (rv == CKR_OK)
		return 0;
	for (i = 0; i < ARRAY_LEN(rv_errs); i++)
		if (rv_errs[i].rv == rv)
			return rv_errs[i].err;
	return ERR_HSM;
}

void
hsm_error_clear(void)
{
	last_error[0] = '\0';
	last_rv = CKR_OK;
}

void
hsm_error_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	/* A refusal of our own replaces any PKCS#11 failure before it. */
	last_rv = CKR_OK;
}

void
hsm_error_append(const char *fmt, ...)
{
	size_t n = strlen(last_error);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error + n, sizeof(last_error) - n, fmt, ap);
	va_end(ap);
}

int
hsm_fail(const char *fn, CK_RV rv)
{
	hsm_error_set("%s: %s", fn, hsm_rv_name(rv));
	last_rv = rv;
	return hsm_rv_to_err(rv);
}

const char *
hsm_last_error(void)
{
	return last_error;
}

unsigned long
hsm_last_rv(void)
{
	return last_rv;
}
