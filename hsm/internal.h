/* internal.h: what the files of hsm/ share with each other and with nobody else. */
#ifndef HSM_INTERNAL_H
#define HSM_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include "hsm/hsm.h"

/* Upper bound on hsm_open's pool: SoftHSM and real HSMs cap sessions too. */
#define HSM_SESSIONS_MAX 64

/*
 * One loaded and initialised PKCS#11 module.  A module may be C_Initialize'd
 * once per process, so every struct hsm (and hsm_token_init) on the same
 * file shares one of these, counted by refs.
 */
struct hsm_module {
	char *path;		/* realpath of the library */
	void *dl;
	CK_FUNCTION_LIST *f;
	unsigned int refs;
	int finalize;		/* we initialised it, so we finalise it */
	struct hsm_module *next;
};

struct hsm {
	struct hsm_module *mod;
	CK_FUNCTION_LIST *f;	/* mod->f */
	CK_SLOT_ID slot;
	CK_TOKEN_INFO token;	/* as read when the token was chosen */

	/* The session pool: sessions[] all open ones, idle[] a stack of free. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int sync_ready;		/* mu and cv were initialised */
	CK_SESSION_HANDLE *sessions;
	CK_SESSION_HANDLE *idle;
	size_t nsessions;
	size_t nidle;
	int logged_in;
	/*
	 * hsm_anchor_*: a look-up and the create or update it decides on are
	 * one step, or two writers would each create an object.  Never held
	 * with mu, and never by hsm_sign.
	 */
	pthread_mutex_t anchor_mu;
};

/* rv.c: the thread-local last error and the CK_RV -> ERR_* mapping. */
void hsm_error_clear(void);
/* Sets the last error to a refusal of hsm/'s own (hsm_last_rv() 0). */
void hsm_error_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Adds context to the last error, keeping its CK_RV. */
void hsm_error_append(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
/* Records "fn: CKR_NAME" and returns the ERR_* code for rv. */
int hsm_fail(const char *fn, CK_RV rv);
int hsm_rv_to_err(CK_RV rv);

/* module.c: shared, reference-counted module loading. */
int hsm_module_get(struct hsm_module **out, const char *path) WARN_UNUSED;
void hsm_module_put(struct hsm_module *m);
/* The slots that hold a token; *slots is malloc'd. */
int hsm_slot_list(CK_FUNCTION_LIST *f, CK_SLOT_ID **slots, CK_ULONG *n)
    WARN_UNUSED;

/* uri.c: RFC 7512 URIs through p11-kit's parser. */
int hsm_uri_parse(P11KitUri **out, const char *text) WARN_UNUSED;
/* 1 if the module's CK_INFO matches the URI's library-* parts, 0 if not. */
int hsm_uri_match_module(P11KitUri *uri, CK_FUNCTION_LIST *f) WARN_UNUSED;
/* 1 if slot holds an initialised token the URI matches (token gets its info). */
int hsm_uri_match_slot(P11KitUri *uri, CK_FUNCTION_LIST *f, CK_SLOT_ID slot,
    CK_TOKEN_INFO *token) WARN_UNUSED;
/*
 * Builds a C_FindObjects template for the private key the URI names; the
 * template points into uri, which must outlive it.
 */
int hsm_uri_key_template(CK_ATTRIBUTE *tmpl, size_t cap, size_t *n,
    P11KitUri *uri) WARN_UNUSED;

/* keys.c: 1 if label is 1..HSM_LABEL_MAX bytes without control bytes. */
int hsm_label_ok(const char *label);

/* pin.c */
int hsm_pin_get(char *pin, size_t cap, const char *file, const char *env)
    WARN_UNUSED;

/* session.c: the pool.  take blocks until a session is free. */
int hsm_pool_open(struct hsm *h, size_t n) WARN_UNUSED;
void hsm_pool_close(struct hsm *h);
CK_SESSION_HANDLE hsm_pool_take(struct hsm *h);
void hsm_pool_give(struct hsm *h, CK_SESSION_HANDLE s);
/*
 * C_GetSessionInfo on s: 0 if it is open on h's slot and, when need_user,
 * logged in as the user (else ERR_HSM_NOT_LOGGED_IN); the PKCS#11 failure
 * otherwise.
 */
int hsm_session_check(struct hsm *h, CK_SESSION_HANDLE s, int need_user)
    WARN_UNUSED;

/* keyattr.c: reading and judging a key object. */
int hsm_ec_point_decode(uint8_t pub[65], const uint8_t *p, size_t n)
    WARN_UNUSED;
int hsm_ec_params_type(enum hsm_key_type *type, const uint8_t *p, size_t n)
    WARN_UNUSED;
const uint8_t *hsm_ec_params_der(enum hsm_key_type type, size_t *len);
int hsm_pubkey_check(enum hsm_key_type type, const uint8_t pub[65])
    WARN_UNUSED;
int hsm_key_is_weak(const struct hsm_key_attrs *a);
/* Names in the thread's last error the attributes that make key weak. */
void hsm_key_weak_error(const struct hsm_key *key);
/* need_pub: fail when the public key object is missing (else pub[0] = 0). */
int hsm_key_load(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv,
    struct hsm_key *out, int need_pub) WARN_UNUSED;
/* find.c: every object matching tmpl, at most max (0: no limit); malloc'd. */
int hsm_find_objects(struct hsm *h, CK_SESSION_HANDLE s,
    CK_OBJECT_HANDLE **objs, size_t *n, CK_ATTRIBUTE *tmpl, size_t ntmpl,
    size_t max) WARN_UNUSED;

#endif
