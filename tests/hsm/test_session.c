/* test_session.c: hsm_sign through the session pool, from one thread and from many, verified by OpenSSL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <cmocka.h>

#include "tests/hsm/fixture.h"
#include "hsm/internal.h"

#define THREADS 4
#define PER_THREAD 40

static struct hsm *h;
static struct hsm_key k1, p1;

static int
setup(void **state)
{
	if (fx_setup(state) != 0 || fx_token("sess") != 0 ||
	    fx_token("probe") != 0 || fx_token("reinit") != 0 ||
	    fx_open(&h, "sess", 2) != 0)
		return -1;
	if (hsm_key_generate(h, &k1, "k1", HSM_KEY_SECP256K1) != 0 ||
	    hsm_key_generate(h, &p1, "p1", HSM_KEY_P256) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	hsm_close(h);
	return fx_teardown(state);
}

static void
sign_and_verify(const struct hsm_key *k)
{
	uint8_t digest[32], sig[64];
	size_t i;

	for (i = 0; i < sizeof(digest); i++)
		digest[i] = (uint8_t)(i * 7 + k->type);
	assert_int_equal(hsm_sign(h, sig, k, digest), 0);
	assert_true(fx_verify(k->type, k->pub, digest, sig));
	digest[0] ^= 1;
	assert_false(fx_verify(k->type, k->pub, digest, sig));
}

static void
test_sign_secp256k1(void **state)
{
	sign_and_verify(&k1);
}

static void
test_sign_p256(void **state)
{
	sign_and_verify(&p1);
}

static void
test_sign_refusals(void **state)
{
	struct hsm_key bad = k1;
	uint8_t sig[64], digest[32] = { 0 };

	bad.type = 0;
	assert_int_equal(hsm_sign(h, sig, &bad, digest), ERR_HSM_KEY_TYPE);
	bad = k1;
	bad.priv = 0x7fffffff;
	assert_int_not_equal(hsm_sign(h, sig, &bad, digest), 0);
	assert_non_null(strstr(hsm_last_error(), "C_SignInit"));
	/* A failed sign gives its session back. */
	assert_int_equal(h->nidle, 2);
	assert_memory_equal(sig, (uint8_t[64]){ 0 }, 64);
}

struct worker {
	int id;
	const struct hsm_key *key;
	int signed_ok;
	int verified;
	int err;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	uint8_t digest[32], sig[64];
	int i, r;

	for (i = 0; i < PER_THREAD; i++) {
		memset(digest, 0, sizeof(digest));
		digest[0] = (uint8_t)w->id;
		digest[1] = (uint8_t)i;
		if ((r = hsm_sign(h, sig, w->key, digest)) != 0) {
			w->err = r;
			break;
		}
		w->signed_ok++;
		w->verified += fx_verify(w->key->type, w->key->pub, digest, sig);
	}
	return NULL;
}

/* 4 threads, 2 sessions: every signature valid, every session back. */
static void
test_concurrent(void **state)
{
	pthread_t t[THREADS];
	struct worker w[THREADS];
	int i;

	for (i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		w[i].key = i % 2 ? &p1 : &k1;
		assert_int_equal(pthread_create(&t[i], NULL, worker_main,
		    &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(w[i].err, 0);
		assert_int_equal(w[i].signed_ok, PER_THREAD);
		assert_int_equal(w[i].verified, PER_THREAD);
	}
	assert_int_equal(h->nsessions, 2);
	assert_int_equal(h->nidle, 2);
}

/*
 * A key object deleted under a running signer: the failure names the
 * PKCS#11 code and the key, and is not "no key matches the URI".
 */
static void
test_sign_key_gone(void **state)
{
	CK_FUNCTION_LIST *f = fx_raw();
	CK_SESSION_HANDLE s;
	struct hsm_key gone;
	uint8_t sig[64], digest[32] = { 3 };
	int r;

	assert_int_equal(hsm_key_generate(h, &gone, "gone", HSM_KEY_P256), 0);
	assert_int_equal(hsm_sign(h, sig, &gone, digest), 0);
	assert_non_null(f);
	s = fx_raw_session(f, "sess");
	assert_int_not_equal(s, CK_INVALID_HANDLE);
	assert_int_equal(f->C_DestroyObject(s, gone.priv), CKR_OK);
	f->C_CloseSession(s);
	r = hsm_sign(h, sig, &gone, digest);
	assert_int_equal(r, ERR_HSM);
	assert_int_not_equal(r, ERR_HSM_NO_KEY);
	assert_int_equal(hsm_last_rv(), CKR_OBJECT_HANDLE_INVALID);
	assert_non_null(strstr(hsm_last_error(),
	    "C_SignInit: CKR_OBJECT_HANDLE_INVALID"));
	assert_non_null(strstr(hsm_last_error(), "\"gone\""));
	assert_int_equal(h->nidle, 2);
	/* The pool itself is fine: other keys still sign. */
	sign_and_verify(&k1);
	assert_int_equal(hsm_probe(h), 0);
	/* hsm_key_probe tells without signing. */
	assert_int_equal(hsm_key_probe(h, &k1), 0);
	assert_int_equal(hsm_key_probe(h, &gone), ERR_HSM);
	assert_int_equal(hsm_last_rv(), CKR_OBJECT_HANDLE_INVALID);
	assert_non_null(strstr(hsm_last_error(), "is gone"));
	assert_int_equal(h->nidle, 2);
	/* A handle that names another object now is no better. */
	gone = p1;
	gone.id[0] ^= 1;
	assert_int_equal(hsm_key_probe(h, &gone), ERR_HSM);
	assert_int_equal(hsm_last_rv(), CKR_OK);
	assert_non_null(strstr(hsm_last_error(), "another object"));
}

static void
test_probe_ok(void **state)
{
	struct hsm *o = NULL;

	assert_int_equal(hsm_probe(h), 0);
	assert_string_equal(hsm_last_error(), "");
	assert_int_equal(h->nidle, 2);
	/* Not logged in is not a failure when nobody asked to be. */
	assert_int_equal(hsm_open(&o, fx.module, "pkcs11:token=probe", 1), 0);
	assert_int_equal(hsm_probe(o), 0);
	hsm_close(o);
}

/* Sessions closed under us (as a token reset or removal does): not usable. */
static void
test_probe_sessions_gone(void **state)
{
	CK_FUNCTION_LIST *f = fx_raw();
	struct hsm *o = NULL;
	uint8_t sig[64], digest[32] = { 4 };
	struct hsm_key k;

	assert_int_equal(fx_open(&o, "probe", 2), 0);
	assert_int_equal(hsm_key_generate(o, &k, "pk", HSM_KEY_P256), 0);
	assert_int_equal(hsm_probe(o), 0);
	assert_int_equal(f->C_CloseAllSessions(o->slot), CKR_OK);
	assert_int_equal(hsm_probe(o), ERR_HSM);
	assert_int_equal(hsm_last_rv(), CKR_SESSION_HANDLE_INVALID);
	assert_string_equal(hsm_last_error(),
	    "C_GetSessionInfo: CKR_SESSION_HANDLE_INVALID");
	assert_int_equal(o->nidle, 2);
	/* And signing agrees. */
	assert_int_equal(hsm_sign(o, sig, &k, digest), ERR_HSM);
	assert_int_equal(hsm_last_rv(), CKR_SESSION_HANDLE_INVALID);
	hsm_close(o);
	/* The other token's sessions were not touched. */
	assert_int_equal(hsm_probe(h), 0);
}

/*
 * The token re-initialised by another process under a running signer:
 * issue 10's "HSM_ERROR until a restart, and STATUS shows nothing".  The
 * sessions still answer; the key objects are gone.
 */
static void
test_probe_reinitialised(void **state)
{
	struct hsm *o = NULL;
	struct hsm_key k;
	uint8_t sig[64], digest[32] = { 5 };
	int r;

	if (system("command -v softhsm2-util >/dev/null") != 0)
		skip();
	assert_int_equal(fx_open(&o, "reinit", 1), 0);
	assert_int_equal(hsm_key_generate(o, &k, "rk", HSM_KEY_SECP256K1), 0);
	assert_int_equal(hsm_probe(o), 0);
	/* Fixed test PINs (fixture.h); softhsm2-util takes them nowhere else. */
	assert_int_equal(system("softhsm2-util --init-token --token reinit "
	    "--label reinit --so-pin " FX_SO_PIN " --pin " FX_PIN
	    " >/dev/null 2>&1 </dev/null"), 0);
	r = hsm_sign(o, sig, &k, digest);
	assert_int_equal(r, ERR_HSM);
	assert_int_equal(hsm_last_rv(), CKR_OBJECT_HANDLE_INVALID);
	assert_non_null(strstr(hsm_last_error(), "CKR_OBJECT_HANDLE_INVALID"));
	/*
	 * SoftHSM keeps the sessions, the login, the label, the serial and
	 * (re-set by softhsm2-util) the user PIN: hsm_probe cannot tell, and
	 * hsm_key_probe can.
	 */
	assert_int_equal(hsm_probe(o), 0);
	assert_int_equal(hsm_key_probe(o, &k), ERR_HSM);
	assert_int_equal(hsm_last_rv(), CKR_OBJECT_HANDLE_INVALID);
	hsm_close(o);
}

static atomic_int waiter_done;

static void *
waiter_main(void *arg)
{
	uint8_t digest[32] = { 9 }, sig[64];
	int *r = arg;

	*r = hsm_sign(h, sig, &k1, digest);
	atomic_store(&waiter_done, 1);
	return NULL;
}

/* With every session taken, a signer waits instead of failing. */
static void
test_pool_blocks(void **state)
{
	CK_SESSION_HANDLE a, b;
	struct timespec ms50 = { 0, 50 * 1000 * 1000 };
	pthread_t t;
	int r = -1;

	a = hsm_pool_take(h);
	b = hsm_pool_take(h);
	atomic_store(&waiter_done, 0);
	assert_int_equal(pthread_create(&t, NULL, waiter_main, &r), 0);
	nanosleep(&ms50, NULL);
	assert_int_equal(atomic_load(&waiter_done), 0);
	hsm_pool_give(h, a);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(atomic_load(&waiter_done), 1);
	assert_int_equal(r, 0);
	hsm_pool_give(h, b);
	assert_int_equal(h->nidle, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_secp256k1),
		cmocka_unit_test(test_sign_p256),
		cmocka_unit_test(test_sign_refusals),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_pool_blocks),
		cmocka_unit_test(test_sign_key_gone),
		cmocka_unit_test(test_probe_ok),
		cmocka_unit_test(test_probe_sessions_gone),
		cmocka_unit_test(test_probe_reinitialised),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
