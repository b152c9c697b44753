/* err.h: the one list of error codes shared by every layer of the signer. */
#ifndef COMMON_ERR_H
#define COMMON_ERR_H

/*
 * Every fallible function returns 0 on success or one of these negative
 * codes.  Codes are stable: they are journaled and sent over the wire, so
 * never renumber one; add new ones at the end of their block.
 */
enum err_code {
	ERR_OK = 0,

	/* generic (-1 .. -39) */
	ERR_INTERNAL = -1,	/* a bug or an impossible state */
	ERR_NOMEM = -2,		/* allocation failed */
	ERR_INVALID_ARG = -3,	/* caller passed a value out of range */
	ERR_IO = -4,		/* read/write/open failed; see errno */
	ERR_NOT_FOUND = -5,	/* the named thing does not exist */
	ERR_EXISTS = -6,	/* the named thing already exists */
	ERR_PERMISSION = -7,	/* file mode/owner or peer not allowed */
	ERR_TIMEOUT = -8,	/* gave up waiting */
	ERR_UNSUPPORTED = -9,	/* well-formed but not something we do */

	/* decoding untrusted bytes (-40 .. -79) */
	ERR_TRUNCATED = -40,	/* input ended before the field did */
	ERR_TRAILING = -41,	/* bytes left after the last field */
	ERR_TOO_LARGE = -42,	/* a length above the allowed maximum */
	ERR_MALFORMED = -43,	/* structure does not parse */
	ERR_NONCANONICAL = -44,	/* parses, but not in the one allowed form */
	ERR_OVERFLOW = -45,	/* a number does not fit its type */
	ERR_EMBEDDED_NUL = -46,	/* a string field carries a NUL byte */
	ERR_BAD_CHECKSUM = -47,	/* e.g. an EIP-55 mixed-case mismatch */
	ERR_BAD_DIGIT = -48,	/* a non-digit where a number was expected */
	ERR_BAD_VERSION = -49,	/* unknown protocol or format version */
	ERR_BAD_SIGNATURE = -50,	/* a signature that does not verify */
	ERR_ROLLBACK = -51,	/* a journal behind its anchor in the HSM */

	/* HSM and PKCS#11 (-80 .. -119) */
	ERR_HSM = -80,		/* a PKCS#11 call failed; see hsm_last_rv */
	ERR_HSM_MODULE = -81,	/* module cannot be loaded or initialised */
	ERR_HSM_URI = -82,	/* PKCS#11 URI does not parse */
	ERR_HSM_NO_TOKEN = -83,	/* no token matches the URI */
	ERR_HSM_NO_KEY = -84,	/* no key matches the URI */
	ERR_HSM_AMBIGUOUS = -85,	/* the URI matches more than one */
	ERR_HSM_PIN_INCORRECT = -86,
	ERR_HSM_PIN_LOCKED = -87,
	ERR_HSM_PIN_FILE = -88,	/* PIN file unreadable, empty or too long */
	ERR_HSM_PIN_MODE = -89,	/* PIN file readable by others than owner */
	ERR_HSM_KEY_WEAK = -90,	/* key extractable, not sensitive, or decrypts */
	ERR_HSM_KEY_TYPE = -91,	/* key is not on the expected curve */
	ERR_HSM_NO_FREE_SLOT = -92,	/* token init found no uninitialised slot */
	ERR_HSM_SIG_MISMATCH = -93,	/* signature does not recover to the key */
	ERR_HSM_NOT_LOGGED_IN = -94,
	ERR_HSM_TOKEN_EXISTS = -95,	/* a token with that label exists */
};

/* Returns a short, static, human-readable text for an error code. */
const char *err_str(int code);

/* Returns the symbolic name ("ERR_TRUNCATED") of a code, for JSON output. */
const char *err_name(int code);

#endif
