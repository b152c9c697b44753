/*
 * hsm.h: keys that never leave the token.  One struct hsm is one PKCS#11
 * module, one token (chosen by an RFC 7512 URI), and a pool of sessions for
 * concurrent signing.  Callers hold object handles and public keys only.
 */
#ifndef HSM_HSM_H
#define HSM_HSM_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

/* SoftHSM2's module on Debian; used when no --module is given. */
#define HSM_DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define HSM_PIN_MAX 128
#define HSM_LABEL_MAX 64
#define HSM_ID_MAX 32

enum hsm_key_type { HSM_KEY_SECP256K1 = 1, HSM_KEY_P256 = 2 };

/* The attributes that decide whether a private key is safe to use. */
struct hsm_key_attrs {
	int sensitive;		/* CKA_SENSITIVE */
	int extractable;	/* CKA_EXTRACTABLE */
	int always_sensitive;	/* CKA_ALWAYS_SENSITIVE */
	int never_extractable;	/* CKA_NEVER_EXTRACTABLE */
	int sign;		/* CKA_SIGN */
	int decrypt;		/* CKA_DECRYPT */
	int unwrap;		/* CKA_UNWRAP */
	int derive;		/* CKA_DERIVE */
};

struct hsm_key {
	unsigned long priv;	/* CK_OBJECT_HANDLE of the private key */
	enum hsm_key_type type;
	char label[HSM_LABEL_MAX + 1];
	uint8_t id[HSM_ID_MAX];
	size_t id_len;
	uint8_t pub[65];	/* uncompressed point 0x04 || X || Y */
	struct hsm_key_attrs attrs;
	int weak;		/* non-zero if attrs fail the safety rules */
};

struct hsm;

/*
 * Loads the module at module_path (NULL: HSM_DEFAULT_MODULE), initialises it
 * for multi-threaded use, finds exactly one token matching token_uri (a
 * "pkcs11:" URI; token/manufacturer/serial/model attributes are used) and
 * opens nsessions (>= 1) read-write sessions.  Does not log in.
 */
int hsm_open(struct hsm **out, const char *module_path, const char *token_uri,
    size_t nsessions) WARN_UNUSED;

/*
 * Closes the sessions (PKCS#11 logs the process out with the last one; no
 * C_Logout, which would log out other handles on the same token too), and
 * finalises and unloads the module once no other handle uses it.  NULL is ok.
 */
void hsm_close(struct hsm *h);

/*
 * Reads a PIN from path into pin (cap bytes, NUL-terminated, trailing
 * newline removed).  The file must be a regular file owned by the effective
 * uid with no group/other permissions (ERR_HSM_PIN_MODE); empty or longer
 * than HSM_PIN_MAX is ERR_HSM_PIN_FILE.  The caller wipes pin after use.
 */
int hsm_pin_read_file(char *pin, size_t cap, const char *path) WARN_UNUSED;

/*
 * Reads a PIN from the environment variable name, then overwrites the
 * variable's value in place and unsets it.  ERR_HSM_PIN_FILE if unset/empty.
 */
int hsm_pin_read_env(char *pin, size_t cap, const char *name) WARN_UNUSED;

/*
 * Logs in as the user with a PIN from pin_file, or from the environment
 * variable pin_env when pin_file is NULL.  The PIN is wiped right after
 * C_Login.  ERR_HSM_PIN_INCORRECT / ERR_HSM_PIN_LOCKED name the failure.
 */
int hsm_login(struct hsm *h, const char *pin_file, const char *pin_env)
    WARN_UNUSED;

/*
 * Finds the private key matching key_uri ("pkcs11:...;object=LABEL" or
 * id=...), reads its public key from the matching public key object (same
 * CKA_ID) and its attributes.  Refuses a weak key with ERR_HSM_KEY_WEAK
 * (extractable, not sensitive, allowing decrypt/unwrap/derive, or once
 * extractable or not sensitive: CKA_NEVER_EXTRACTABLE or
 * CKA_ALWAYS_SENSITIVE false, as for any imported key); out is still
 * filled in and hsm_last_error() names the attributes.
 */
int hsm_key_find(struct hsm *h, struct hsm_key *out, const char *key_uri)
    WARN_UNUSED;

/*
 * Generates a key pair on the token with CKA_TOKEN, CKA_PRIVATE,
 * CKA_SENSITIVE, !CKA_EXTRACTABLE, CKA_SIGN and CKA_DECRYPT, CKA_UNWRAP,
 * CKA_DERIVE false, a random CKA_ID and the given label.  ERR_EXISTS if a
 * private key with that label exists already.  The private key is also
 * CKA_MODIFIABLE false, so no usage can be switched on later; the public
 * key verifies only.  The label has 1..HSM_LABEL_MAX printable bytes
 * (ERR_INVALID_ARG).  Needs hsm_login (ERR_HSM_NOT_LOGGED_IN).
 */
int hsm_key_generate(struct hsm *h, struct hsm_key *out, const char *label,
    enum hsm_key_type type) WARN_UNUSED;

/*
 * Lists every EC private key on the token, weak ones included (flagged via
 * ->weak).  *keys is malloc'd; free it with free().  Keys on curves other
 * than secp256k1 and P-256 are left out; a key whose public key object is
 * missing or unreadable is listed with pub[0] == 0.
 */
int hsm_key_list(struct hsm *h, struct hsm_key **keys, size_t *nkeys)
    WARN_UNUSED;

/*
 * Signs a 32-byte digest with CKM_ECDSA using a pooled session (blocks until
 * one is free; safe from many threads) and writes r||s (64 bytes, as the
 * HSM made it: not low-S normalised).  A key flagged weak is refused
 * (ERR_HSM_KEY_WEAK).
 */
int hsm_sign(struct hsm *h, uint8_t sig[64], const struct hsm_key *key,
    const uint8_t digest[32]) WARN_UNUSED;

/*
 * Initialises a token on the first slot whose token is not yet initialised:
 * C_InitToken with the SO PIN, then C_InitPIN with the user PIN (both read
 * from 0600 files and wiped).  ERR_HSM_TOKEN_EXISTS if a token with the
 * label exists, ERR_HSM_NO_FREE_SLOT if none is free.  *slot_out gets the
 * slot id used.
 */
int hsm_token_init(unsigned long *slot_out, const char *module_path,
    const char *label, const char *so_pin_file, const char *pin_file)
    WARN_UNUSED;

/*
 * The last PKCS#11 failure on this thread, as "C_Login: CKR_PIN_INCORRECT",
 * or the detail of a refusal of hsm/'s own ("PIN file /x has mode 0644;
 * ...", "key \"k\" is weak: CKA_DECRYPT is true"), or "" if none.  Each
 * hsm_open, hsm_login, hsm_key_find/generate/list, hsm_sign and
 * hsm_token_init call starts afresh.  Never holds a PIN.  For error
 * messages only.
 */
const char *hsm_last_error(void);

/* The symbolic name of a CK_RV ("CKR_PIN_INCORRECT"), or "CKR_0x...". */
const char *hsm_rv_name(unsigned long rv);

/* "secp256k1" or "p256". */
const char *hsm_key_type_name(enum hsm_key_type type);

/*
 * Added with the implementation (not in the first contract):
 */

/*
 * Like hsm_token_init, but each PIN comes from its file or, when the file
 * is NULL, from the environment variable named next to it (read, wiped and
 * unset as hsm_pin_read_env does).
 */
int hsm_token_init_from(unsigned long *slot_out, const char *module_path,
    const char *label, const char *so_pin_file, const char *so_pin_env,
    const char *pin_file, const char *pin_env) WARN_UNUSED;

/*
 * Writes the RFC 7512 URI of key on h's token ("pkcs11:token=..;id=..;
 * object=..;type=private") into out (cap bytes).  ERR_TOO_LARGE if it does
 * not fit; HSM_URI_MAX bytes always do (every byte of the token label,
 * key label and id may need "%XX").
 */
#define HSM_URI_MAX 512
int hsm_key_uri(struct hsm *h, char *out, size_t cap,
    const struct hsm_key *key) WARN_UNUSED;

/* Writes the URI of the token labelled label ("pkcs11:token=...") into out. */
int hsm_token_uri(char *out, size_t cap, const char *label) WARN_UNUSED;

/*
 * Writes what makes key weak as a comma-separated list ("extractable,
 * decrypt"), or "" if nothing, into out (cap bytes; 128 always fit).
 * Returns how many problems it found.
 */
int hsm_key_weakness(char *out, size_t cap, const struct hsm_key *key);

#endif
