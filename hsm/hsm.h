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
 * key neither wraps nor derives (its CKA_VERIFY and CKA_ENCRYPT are the
 * token's choice: tpm2-pkcs11 refuses any other).  The label has
 * 1..HSM_LABEL_MAX printable bytes (ERR_INVALID_ARG).  Needs hsm_login
 * (ERR_HSM_NOT_LOGGED_IN).
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
 * hsm_open, hsm_login, hsm_key_find/generate/list, hsm_sign,
 * hsm_token_init, hsm_anchor_* and hsm_probe call starts afresh.  Never
 * holds a PIN.  For error messages only: hsm_last_rv() is the same
 * failure as data.
 */
const char *hsm_last_error(void);

/*
 * The CK_RV of the PKCS#11 call that failed last on this thread (the one
 * hsm_last_error() names), or 0 (CKR_OK) when the last failure was a
 * refusal of hsm/'s own or there was none.  Reset by the same calls.
 */
unsigned long hsm_last_rv(void);

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

/*
 * Whether the token can be used right now, cheaply: C_GetSessionInfo on
 * one pooled session (so it waits for at most one running signature, like
 * hsm_sign) and C_GetTokenInfo on the slot.  Returns 0 when the session
 * is open on our slot, still logged in if hsm_login succeeded, and the
 * token is still the initialised one we opened (same label and serial,
 * user PIN set); otherwise the ERR_HSM_* of the failure: a PKCS#11 error
 * (its CKR_* in hsm_last_error() and hsm_last_rv()),
 * ERR_HSM_NOT_LOGGED_IN (the session lost its login, or the user PIN is
 * gone: re-initialised), ERR_HSM_PIN_LOCKED, or ERR_HSM_NO_TOKEN (a
 * different or uninitialised token in the slot).
 */
int hsm_probe(struct hsm *h) WARN_UNUSED;

/*
 * Whether key's object is still on the token under the handle hsm_sign
 * uses: C_GetAttributeValue of CKA_CLASS and CKA_ID on a pooled session.
 * hsm_probe cannot see this: a token re-initialised by another process
 * keeps our sessions and login but loses every object.  Returns 0, or
 * ERR_HSM with CKR_OBJECT_HANDLE_INVALID in hsm_last_rv() and
 * hsm_last_error() (the object is gone), or ERR_HSM with hsm_last_rv() 0
 * when the handle now names another object, or another PKCS#11 failure.
 */
int hsm_key_probe(struct hsm *h, const struct hsm_key *key) WARN_UNUSED;

/*
 * The rollback anchor: a small value kept in a data object on the token,
 * outside anything an attacker with the journal directory can write.  The
 * object is CKO_DATA with CKA_TOKEN, CKA_PRIVATE (only a logged-in user
 * reads, writes or deletes it) and CKA_MODIFIABLE true, CKA_APPLICATION
 * HSM_ANCHOR_APPLICATION, the caller's CKA_LABEL, a generation in
 * CKA_OBJECT_ID (see hsm_anchor_write); CKA_VALUE holds the caller's
 * bytes.  Only private objects with that class, application and
 * label count: a public look-alike, which anyone with access to the token
 * but without the PIN can create, is never read, overwritten or deleted.
 * Each call uses one pooled session (safe beside hsm_sign in other
 * threads) and hsm_anchor_* calls on one struct hsm are serialised; there
 * is no lock between processes, so one process writes a given label.
 * Labels are 1..HSM_LABEL_MAX printable bytes (else ERR_INVALID_ARG).
 * Each call first checks that the session is logged in as the user
 * (ERR_HSM_NOT_LOGGED_IN otherwise): before login a private object is
 * invisible, and "no anchor" must never be the answer to "not logged in".
 */
#define HSM_ANCHOR_APPLICATION "signer-journal-anchor"
/* The label signerd and signerctl use unless told otherwise. */
#define HSM_ANCHOR_LABEL "signerd-journal"
/* The largest value hsm_anchor_write stores (far above the v1 text). */
#define HSM_ANCHOR_MAX 1024

/*
 * Reads the anchor labelled label: its CKA_VALUE into buf (cap bytes) and
 * its length into *len (0 on every failure but ERR_TOO_LARGE, where *len
 * is the length that did not fit and buf is untouched).
 * Returns 0, ERR_NOT_FOUND (no such object), ERR_EXISTS (more than one,
 * other than the pair a crashed write leaves: hsm/ will not pick one;
 * hsm_anchor_delete removes them all),
 * ERR_TOO_LARGE, ERR_INVALID_ARG, ERR_HSM_NOT_LOGGED_IN, or an ERR_HSM*
 * for a PKCS#11 failure (its CKR_* in hsm_last_error(), hsm_last_rv()).
 */
int hsm_anchor_read(struct hsm *h, const char *label, uint8_t *buf,
    size_t cap, size_t *len) WARN_UNUSED;

/*
 * Stores buf (len bytes, 1..HSM_ANCHOR_MAX) as the anchor labelled label.
 * PKCS#11 makes a data object's CKA_VALUE read-only after C_CreateObject
 * (SoftHSM answers C_SetAttributeValue with CKR_ATTRIBUTE_READ_ONLY), so
 * each write creates a new object, one generation (CKA_OBJECT_ID) above
 * the current one, and then destroys the old: a crash in between leaves
 * both, and hsm_anchor_read and the next write take the newer.  Whether
 * the new value is higher than the old is the caller's rule, not hsm/'s.
 * Needs hsm_login.  Returns 0, ERR_EXISTS (objects hsm/ cannot order:
 * nothing written), ERR_TOO_LARGE, ERR_INVALID_ARG (empty value or bad
 * label), ERR_HSM_NOT_LOGGED_IN, or an ERR_HSM* for a PKCS#11 failure (a
 * failed C_DestroyObject after the create leaves the new value readable).
 */
int hsm_anchor_write(struct hsm *h, const char *label, const uint8_t *buf,
    size_t len) WARN_UNUSED;

/*
 * Destroys every anchor object labelled label (an operator's deliberate
 * re-anchor; also the way out of ERR_EXISTS).  Needs hsm_login.
 * Returns 0, ERR_NOT_FOUND (there was none), ERR_INVALID_ARG,
 * ERR_HSM_NOT_LOGGED_IN, or an ERR_HSM* for a PKCS#11 failure (objects
 * destroyed before it stay destroyed).
 */
int hsm_anchor_delete(struct hsm *h, const char *label) WARN_UNUSED;

/*
 * The anchor's v1 text, one line:
 *   "signer-journal-anchor v1 <seq> <hash>\n"
 * seq (>= 1: journal seqs start at 1) in decimal without leading zeros,
 * hash 64 lowercase hex digits.  It is HSM_ANCHOR_TEXT_MAX bytes at most
 * (no NUL is stored).
 */
#define HSM_ANCHOR_TEXT_MAX 111

/*
 * Writes the v1 text for (seq, hash) into out (no NUL) and returns its
 * length, at most HSM_ANCHOR_TEXT_MAX.
 */
size_t hsm_anchor_text(char out[HSM_ANCHOR_TEXT_MAX], uint64_t seq,
    const uint8_t hash[32]);

/*
 * Parses an anchor value (len bytes at buf) written by hsm_anchor_text:
 * exactly one v1 line with seq >= 1 and nothing else.  *seq and hash are
 * zeroed first.
 * Returns 0, ERR_BAD_VERSION (an anchor of another version) or
 * ERR_MALFORMED (anything else, non-canonical forms included).
 */
int hsm_anchor_text_parse(uint64_t *seq, uint8_t hash[32],
    const uint8_t *buf, size_t len) WARN_UNUSED;

#endif
