/* session.c: a fixed pool of token sessions shared by signing threads, hsm_sign, and hsm_probe. */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "hsm/internal.h"

/*
 * One PKCS#11 session runs one operation at a time, so each signer takes a
 * whole session for C_SignInit+C_Sign and gives it back; N sessions let N
 * signatures run in parallel in the module.
 */
int
hsm_pool_open(struct hsm *h, size_t n)
{
	CK_SESSION_HANDLE s;
	CK_RV rv;
	size_t i;
	int r = ERR_NOMEM;

	h->sessions = calloc(n, sizeof(*h->sessions));
	h->idle = calloc(n, sizeof(*h->idle));
	if (h->sessions == NULL || h->idle == NULL)
		goto out;
	if (pthread_mutex_init(&h->mu, NULL) != 0)
		goto out;
	if (pthread_cond_init(&h->cv, NULL) != 0) {
		pthread_mutex_destroy(&h->mu);
		goto out;
	}
	if (pthread_mutex_init(&h->anchor_mu, NULL) != 0) {
		pthread_cond_destroy(&h->cv);
		pthread_mutex_destroy(&h->mu);
		goto out;
	}
	h->sync_ready = 1;
	for (i = 0; i < n; i++) {
		rv = h->f->C_OpenSession(h->slot,
		    CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
		if (rv != CKR_OK) {
			r = hsm_fail("C_OpenSession", rv);
			goto out;
		}
		h->sessions[h->nsessions++] = s;
		h->idle[h->nidle++] = s;
	}
	r = 0;
out:
	return r;
}

void
hsm_pool_close(struct hsm *h)
{
	size_t i;

	/*
	 * No C_Logout: login state belongs to the whole process, so it would
	 * log out every other handle on this token too.  Closing our last
	 * session logs us out when we were the last ones there.
	 */
	h->logged_in = 0;
	for (i = 0; i < h->nsessions; i++)
		(void)h->f->C_CloseSession(h->sessions[i]);
	h->nsessions = h->nidle = 0;
	free(h->sessions);
	free(h->idle);
	h->sessions = h->idle = NULL;
	if (h->sync_ready) {
		pthread_mutex_destroy(&h->anchor_mu);
		pthread_cond_destroy(&h->cv);
		pthread_mutex_destroy(&h->mu);
		h->sync_ready = 0;
	}
}

CK_SESSION_HANDLE
hsm_pool_take(struct hsm *h)
{
	CK_SESSION_HANDLE s;

	pthread_mutex_lock(&h->mu);
	while (h->nidle == 0)
		pthread_cond_wait(&h->cv, &h->mu);
	s = h->idle[--h->nidle];
	pthread_mutex_unlock(&h->mu);
	return s;
}

void
hsm_pool_give(struct hsm *h, CK_SESSION_HANDLE s)
{
	pthread_mutex_lock(&h->mu);
	h->idle[h->nidle++] = s;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

int
hsm_session_check(struct hsm *h, CK_SESSION_HANDLE s, int need_user)
{
	CK_SESSION_INFO si;
	CK_RV rv;

	if ((rv = h->f->C_GetSessionInfo(s, &si)) != CKR_OK)
		return hsm_fail("C_GetSessionInfo", rv);
	if (si.slotID != h->slot) {
		hsm_error_set("C_GetSessionInfo: session is on slot %lu, not "
		    "%lu", si.slotID, h->slot);
		return ERR_HSM;
	}
	if (need_user && si.state != CKS_RW_USER_FUNCTIONS &&
	    si.state != CKS_RO_USER_FUNCTIONS) {
		hsm_error_set("the session is not logged in as the user "
		    "(state %lu)", si.state);
		return ERR_HSM_NOT_LOGGED_IN;
	}
	return 0;
}

/* Blank-padded CK_TOKEN_INFO fields compare as they are. */
#define SAME_FIELD(a, b, f) (memcmp((a)->f, (b)->f, sizeof((a)->f)) == 0)

int
hsm_probe(struct hsm *h)
{
	CK_SESSION_HANDLE s;
	CK_TOKEN_INFO ti;
	CK_RV rv;
	int r;

	hsm_error_clear();
	/*
	 * A pooled session, not a new one: the question is whether the
	 * sessions signers use still work.  Waits for at most one C_Sign.
	 */
	s = hsm_pool_take(h);
	r = hsm_session_check(h, s, h->logged_in);
	hsm_pool_give(h, s);
	if (r != 0)
		goto out;
	if ((rv = h->f->C_GetTokenInfo(h->slot, &ti)) != CKR_OK) {
		r = hsm_fail("C_GetTokenInfo", rv);
		goto out;
	}
	/*
	 * Re-initialising the token (another process can) leaves our
	 * sessions and login intact in the module but takes every object and
	 * the user PIN away: sessions that answer are not enough.
	 */
	if (!(ti.flags & CKF_TOKEN_INITIALIZED) ||
	    !SAME_FIELD(&ti, &h->token, label) ||
	    !SAME_FIELD(&ti, &h->token, serialNumber)) {
		hsm_error_set("slot %lu no longer holds the token that was "
		    "opened (re-initialised or replaced?)", h->slot);
		r = ERR_HSM_NO_TOKEN;
		goto out;
	}
	if (h->logged_in && (ti.flags & CKF_USER_PIN_LOCKED)) {
		hsm_error_set("the token's user PIN is locked");
		r = ERR_HSM_PIN_LOCKED;
		goto out;
	}
	if (h->logged_in && !(ti.flags & CKF_USER_PIN_INITIALIZED)) {
		hsm_error_set("the token has no user PIN any more "
		    "(re-initialised?)");
		r = ERR_HSM_NOT_LOGGED_IN;
		goto out;
	}
	r = 0;
out:
	return r;
}

/* Says which key went away when its handle stopped working. */
static int
sign_fail(const char *fn, CK_RV rv, const struct hsm_key *key)
{
	int r = hsm_fail(fn, rv);

	if (rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID)
		hsm_error_append(" (the object of key \"%s\" is gone from the "
		    "token: deleted, or the token re-initialised)", key->label);
	return r;
}

int
hsm_key_probe(struct hsm *h, const struct hsm_key *key)
{
	CK_OBJECT_CLASS cls = (CK_OBJECT_CLASS)-1;
	CK_BYTE id[HSM_ID_MAX];
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, id, sizeof(id) },
	};
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int r;

	hsm_error_clear();
	s = hsm_pool_take(h);
	rv = h->f->C_GetAttributeValue(s, key->priv, t, ARRAY_LEN(t));
	hsm_pool_give(h, s);
	if (rv != CKR_OK) {
		r = sign_fail("C_GetAttributeValue", rv, key);
		goto out;
	}
	/* A handle number may come back naming a new object. */
	if (cls != CKO_PRIVATE_KEY || t[1].ulValueLen != key->id_len ||
	    memcmp(id, key->id, key->id_len) != 0) {
		hsm_error_set("the handle of key \"%s\" names another object "
		    "now (token re-initialised?)", key->label);
		r = ERR_HSM;
		goto out;
	}
	r = 0;
out:
	return r;
}

int
hsm_sign(struct hsm *h, uint8_t sig[64], const struct hsm_key *key,
    const uint8_t digest[32])
{
	CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	/* Room for any ECDSA size (P-521), so C_Sign never stops half-way. */
	CK_BYTE buf[132];
	CK_ULONG len = sizeof(buf);
	CK_RV rv;
	int taken = 0, r;

	memset(sig, 0, 64);
	hsm_error_clear();
	if (key->type != HSM_KEY_SECP256K1 && key->type != HSM_KEY_P256) {
		r = ERR_HSM_KEY_TYPE;
		goto out;
	}
	/* Keys never leave the token: one that could have is not used. */
	if (key->weak) {
		hsm_error_set("refusing to sign with a weak key");
		r = ERR_HSM_KEY_WEAK;
		goto out;
	}
	s = hsm_pool_take(h);
	taken = 1;
	if ((rv = h->f->C_SignInit(s, &mech, key->priv)) != CKR_OK) {
		r = sign_fail("C_SignInit", rv, key);
		goto out;
	}
	rv = h->f->C_Sign(s, (CK_BYTE *)digest, 32, buf, &len);
	if (rv != CKR_OK) {
		r = sign_fail("C_Sign", rv, key);
		goto out;
	}
	if (len != 64) {
		hsm_error_set("C_Sign: %lu-byte signature, expected 64", len);
		r = ERR_HSM_KEY_TYPE;
		goto out;
	}
	memcpy(sig, buf, 64);
	r = 0;
out:
	if (taken)
		hsm_pool_give(h, s);
	return r;
}
