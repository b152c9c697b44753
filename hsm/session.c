/* session.c: a fixed pool of token sessions shared by signing threads, and hsm_sign. */
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
		r = hsm_fail("C_SignInit", rv);
		goto out;
	}
	rv = h->f->C_Sign(s, (CK_BYTE *)digest, 32, buf, &len);
	if (rv != CKR_OK) {
		r = hsm_fail("C_Sign", rv);
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
