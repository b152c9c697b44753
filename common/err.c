/* err.c: names and texts for the codes in err.h. */
#include "common/err.h"

#include <stddef.h>

struct err_entry {
	int code;
	const char *name;
	const char *text;
};

#define E(c, t) { c, #c, t }
static const struct err_entry err_table[] = {
	E(ERR_OK, "success"),
	E(ERR_INTERNAL, "internal error"),
	E(ERR_NOMEM, "out of memory"),
	E(ERR_INVALID_ARG, "invalid argument"),
	E(ERR_IO, "input/output error"),
	E(ERR_NOT_FOUND, "not found"),
	E(ERR_EXISTS, "already exists"),
	E(ERR_PERMISSION, "permission denied"),
	E(ERR_TIMEOUT, "timed out"),
	E(ERR_UNSUPPORTED, "unsupported"),
	E(ERR_TRUNCATED, "input truncated"),
	E(ERR_TRAILING, "trailing bytes after the last field"),
	E(ERR_TOO_LARGE, "length above the allowed maximum"),
	E(ERR_MALFORMED, "malformed input"),
	E(ERR_NONCANONICAL, "non-canonical encoding"),
	E(ERR_OVERFLOW, "number out of range"),
	E(ERR_EMBEDDED_NUL, "string contains a NUL byte"),
	E(ERR_BAD_CHECKSUM, "checksum mismatch"),
	E(ERR_BAD_DIGIT, "invalid digit"),
	E(ERR_BAD_VERSION, "unsupported version"),
	E(ERR_BAD_SIGNATURE, "signature does not verify"),
	E(ERR_ROLLBACK, "journal is behind its anchor (emptied, cut or older copy)"),
	E(ERR_HSM, "PKCS#11 call failed"),
	E(ERR_HSM_MODULE, "PKCS#11 module could not be loaded"),
	E(ERR_HSM_URI, "invalid PKCS#11 URI"),
	E(ERR_HSM_NO_TOKEN, "no token matches the URI"),
	E(ERR_HSM_NO_KEY, "no key matches the URI"),
	E(ERR_HSM_AMBIGUOUS, "the URI matches more than one object"),
	E(ERR_HSM_PIN_INCORRECT, "incorrect PIN"),
	E(ERR_HSM_PIN_LOCKED, "PIN locked"),
	E(ERR_HSM_PIN_FILE, "PIN file unreadable, empty or too long"),
	E(ERR_HSM_PIN_MODE, "PIN file must be mode 0600 or stricter and owned by us"),
	E(ERR_HSM_KEY_WEAK, "key is extractable, not sensitive, or allows decrypt/unwrap/derive"),
	E(ERR_HSM_KEY_TYPE, "key is not of the expected type or curve"),
	E(ERR_HSM_NO_FREE_SLOT, "no uninitialised slot to put a token in"),
	E(ERR_HSM_SIG_MISMATCH, "HSM signature does not recover to the key"),
	E(ERR_HSM_NOT_LOGGED_IN, "not logged in to the token"),
	E(ERR_HSM_TOKEN_EXISTS, "a token with that label already exists"),
};
#undef E

static const struct err_entry *
err_find(int code)
{
	size_t i;

	for (i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].code == code)
			return &err_table[i];
	return NULL;
}

const char *
err_str(int code)
{
	const struct err_entry *e = err_find(code);

	return e != NULL ? e->text : "unknown error";
}

const char *
err_name(int code)
{
	const struct err_entry *e = err_find(code);

	return e != NULL ? e->name : "ERR_UNKNOWN";
}
