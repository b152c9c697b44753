/* verify.c: approver keys in OpenSSL, signature checks, and the M-of-N rule. */
#include "policy/verify.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/err.h"

struct pol_verifier {
	const struct pol_policy *policy;
	size_t n;
	EVP_PKEY *keys[POL_MAX_APPROVERS];
};

/*
 * SHA-256 fetched from the provider once: EVP_sha256() would make OpenSSL
 * 3 fetch it again on every verification, and a fetch after a sandbox is
 * installed could need a file.
 */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256;
static int self_test_result = ERR_INTERNAL;
static char self_test_err[96];

static void
md_fetch(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *
sha256(void)
{
	pthread_once(&md_once, md_fetch);
	return md_sha256;
}

void
pol_verifier_free(struct pol_verifier *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++)
		EVP_PKEY_free(v->keys[i]);
	free(v);
}

/* 1 verifies, 0 does not: the same call for both kinds of key. */
static int
verify(EVP_PKEY *key, int ed25519, const char *text, size_t len,
    const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *md;
	int ok = 0;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return 0;
	/* Ed25519 is "pure": no digest; P-256 signs SHA-256 of the text. */
	if ((ed25519 || sha256() != NULL) &&
	    EVP_DigestVerifyInit(md, NULL, ed25519 ? NULL : sha256(), NULL,
	    key) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, (const uint8_t *)text, len) == 1)
		ok = 1;
	EVP_MD_CTX_free(md);
	/* A bad DER signature leaves errors queued on this thread. */
	ERR_clear_error();
	return ok;
}

static int
sign_once(EVP_PKEY *key, int ed25519, const char *text, size_t len,
    uint8_t *sig, size_t *siglen)
{
	EVP_MD_CTX *md;
	int ok;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return 0;
	ok = EVP_DigestSignInit(md, NULL, ed25519 ? NULL : sha256(), NULL,
	    key) == 1 &&
	    EVP_DigestSign(md, sig, siglen, (const uint8_t *)text, len) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/*
 * The throwaway key's public half through DER and back, as a policy's
 * keys are loaded: the decoders are fetched here too, not first when a
 * later policy version brings the other kind of key.
 */
static EVP_PKEY *
spki_round_trip(EVP_PKEY *key)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *pub = NULL;
	int n;

	if ((n = i2d_PUBKEY(key, &der)) > 0) {
		p = der;
		pub = d2i_PUBKEY(NULL, &p, n);
	}
	OPENSSL_free(der);
	return pub;
}

/*
 * Signs and verifies with a throwaway key of each kind, and checks that a
 * changed text fails: OpenSSL fetches algorithms and builds tables on
 * first use, which must happen before a sandbox (no file or mmap
 * afterwards) rather than on the first approval.  Once per process.
 */
static pthread_once_t self_test_once = PTHREAD_ONCE_INIT;

static void
self_test(void)
{
	static const char text[] = "signer-approval self-test\n";
	static const char *const algs[] = { "EC", "ED25519" };
	EVP_PKEY *key = NULL, *pub = NULL;
	uint8_t sig[128];
	size_t siglen, i;

	for (i = 0; i < ARRAY_LEN(algs); i++) {
		key = i == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") :
		    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		siglen = sizeof(sig);
		if (key == NULL || sha256() == NULL ||
		    (pub = spki_round_trip(key)) == NULL ||
		    !sign_once(key, i == 1, text, sizeof(text) - 1, sig,
		    &siglen) ||
		    !verify(pub, i == 1, text, sizeof(text) - 1, sig, siglen) ||
		    verify(pub, i == 1, text, sizeof(text) - 2, sig, siglen) ||
		    verify(pub, i == 1, text, sizeof(text) - 1, sig, 3)) {
			snprintf(self_test_err, sizeof(self_test_err),
			    "approval self-test with a %s key failed", algs[i]);
			EVP_PKEY_free(pub);
			EVP_PKEY_free(key);
			ERR_clear_error();
			return;
		}
		EVP_PKEY_free(pub);
		EVP_PKEY_free(key);
		pub = NULL;
	}
	ERR_clear_error();
	self_test_result = 0;
}

int
pol_verifier_new(struct pol_verifier **out, const struct pol_policy *p,
    char *err, size_t errlen)
{
	const struct pol_approver *ap;
	struct pol_verifier *v;
	const unsigned char *der;
	uint8_t junk[64];
	size_t i;
	int r, ed25519;

	*out = NULL;
	pthread_once(&self_test_once, self_test);
	if (self_test_result != 0) {
		snprintf(err, errlen, "%s", self_test_err);
		return self_test_result;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return ERR_NOMEM;
	v->policy = p;
	memset(junk, 0x5a, sizeof(junk));
	for (i = 0; i < pol_approver_count(p); i++) {
		ap = pol_approver(p, i);
		ed25519 = ap->alg == POL_KEY_ED25519;
		der = ap->spki_der;
		v->keys[i] = d2i_PUBKEY(NULL, &der, (long)ap->spki_der_len);
		v->n = i + 1;
		/* The key must be the kind the policy says, or the text is
		 * hashed wrong. */
		if (v->keys[i] == NULL ||
		    der != ap->spki_der + ap->spki_der_len ||
		    !EVP_PKEY_is_a(v->keys[i], ed25519 ? "ED25519" : "EC")) {
			snprintf(err, errlen, "approver %s: OpenSSL refuses "
			    "the public key", ap->name);
			r = ERR_MALFORMED;
			goto fail;
		}
		/* First use of each key before a sandbox, too. */
		(void)verify(v->keys[i], ed25519, "x", 1, junk, sizeof(junk));
	}
	ERR_clear_error();
	*out = v;
	return 0;
fail:
	ERR_clear_error();
	pol_verifier_free(v);
	return r;
}

int
pol_verify(const struct pol_verifier *v, size_t idx, const char *text,
    size_t len, const uint8_t *sig, size_t siglen)
{
	int ed25519;

	if (idx >= v->n)
		return ERR_INVALID_ARG;
	ed25519 = pol_approver(v->policy, idx)->alg == POL_KEY_ED25519;
	/* Ed25519 signatures are 64 bytes; don't hand OpenSSL anything else. */
	if (ed25519 && siglen != 64)
		return 0;
	return verify(v->keys[idx], ed25519, text, len, sig, siglen);
}

int
pol_verify_spki(const uint8_t *spki, size_t spki_len, const char *text,
    size_t len, const uint8_t *sig, size_t siglen)
{
	const unsigned char *der = spki;
	EVP_PKEY *key;
	char group[16];
	size_t glen;
	int r, ed25519;

	key = d2i_PUBKEY(NULL, &der, (long)spki_len);
	if (key == NULL || der != spki + spki_len) {
		r = ERR_MALFORMED;
		goto out;
	}
	ed25519 = EVP_PKEY_is_a(key, "ED25519");
	if (!ed25519 && (!EVP_PKEY_is_a(key, "EC") ||
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &glen) != 1 ||
	    strcmp(group, "prime256v1") != 0)) {
		r = ERR_MALFORMED;
		goto out;
	}
	/* As pol_verify: an Ed25519 signature is 64 bytes. */
	r = ed25519 && siglen != 64 ? 0 :
	    verify(key, ed25519, text, len, sig, siglen);
out:
	EVP_PKEY_free(key);
	ERR_clear_error();
	return r;
}

void
pol_set_asset(struct pol_approval_set *s, const struct pol_policy *p,
    size_t asset)
{
	const struct pol_asset *a = pol_asset(p, asset);

	s->idx = a->approval_approvers;
	s->n = a->has_approval ? a->approval_n : 0;
	s->m = a->has_approval ? a->approval_m : 0;
	s->name = a->name;
}

void
pol_set_governance(struct pol_approval_set *s, const struct pol_policy *p)
{
	const struct pol_governance *g = pol_governance(p);
	static const size_t none[1];

	s->idx = g != NULL ? g->approvers : none;
	s->n = g != NULL ? g->n : 0;
	s->m = g != NULL ? g->m : 0;
	s->name = "governance";
}

void
pol_set_any(struct pol_approval_set *s, const struct pol_policy *p,
    unsigned m)
{
	(void)p;
	s->idx = NULL;
	s->n = 0;
	s->m = m;
	s->name = "the policy";
}

static int
in_set(const struct pol_approval_set *set, size_t idx)
{
	size_t i;

	if (set->idx == NULL)
		return 1;
	for (i = 0; i < set->n; i++)
		if (set->idx[i] == idx)
			return 1;
	return 0;
}

enum pol_reason
pol_approvals_check(const struct pol_verifier *v,
    const struct pol_approval_set *set, const struct pol_approval_msg *msg,
    const struct pol_approval *ap, size_t nap, uint64_t now, size_t *bad,
    char *detail, size_t cap)
{
	struct pol_approval_msg m = *msg;
	char text[POL_APPROVAL_TEXT_MAX];
	size_t i, j, idx, len;
	unsigned valid = 0;

	*bad = SIZE_MAX;
	detail[0] = '\0';
	for (i = 0; i < nap; i++) {
		*bad = i;
		/* Names from the wire are [A-Za-z0-9._:-], safe to print. */
		if (memchr(ap[i].approver, '\0', sizeof(ap[i].approver)) ==
		    NULL || !pol_id_ok(ap[i].approver, POL_APPROVER_NAME_MAX) ||
		    pol_approver_by_name(v->policy, ap[i].approver, &idx) !=
		    0 || !in_set(set, idx)) {
			snprintf(detail, cap, "approval %zu: '%.32s' is not an "
			    "approver of %s", i, pol_id_ok(ap[i].approver,
			    POL_APPROVER_NAME_MAX) ? ap[i].approver :
			    "(unprintable)", set->name);
			return POL_APPROVAL_UNKNOWN_APPROVER;
		}
		/* invariant 4: M distinct approvers, one vote each. */
		for (j = 0; j < i; j++) {
			if (strcmp(ap[j].approver, ap[i].approver) == 0) {
				snprintf(detail, cap, "approval %zu: %s "
				    "approved twice", i, ap[i].approver);
				return POL_APPROVAL_DUPLICATE;
			}
		}
		if (ap[i].expiry < now) {
			snprintf(detail, cap, "approval %zu by %s expired at "
			    "%" PRIu64 " (now %" PRIu64 ")", i, ap[i].approver,
			    ap[i].expiry, now);
			return POL_APPROVAL_EXPIRED;
		}
		m.expires = ap[i].expiry;
		if (pol_approval_text(text, sizeof(text), &len, &m) != 0) {
			snprintf(detail, cap, "approval text cannot be built");
			return POL_INTERNAL;
		}
		if (pol_verify(v, idx, text, len, ap[i].sig, ap[i].sig_len) !=
		    1) {
			snprintf(detail, cap, "approval %zu by %s does not "
			    "verify over this %s", i, ap[i].approver,
			    pol_action_name(m.action));
			return POL_APPROVAL_BAD_SIGNATURE;
		}
		valid++;
	}
	*bad = SIZE_MAX;
	if (valid < set->m) {
		snprintf(detail, cap, "%u valid approval%s of %s, %u needed",
		    valid, valid == 1 ? "" : "s", set->name, set->m);
		return POL_APPROVALS_MISSING;
	}
	return POL_OK;
}
