/* approvals.c: approver keys in OpenSSL, signature checks, and the M-of-N rule. */
#include "signerd/approvals.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "signerd/sha256.h"

struct sd_approvers {
	const struct pol_policy *policy;
	size_t n;
	EVP_PKEY *keys[POL_MAX_APPROVERS];
};

void
sd_approvers_free(struct sd_approvers *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n; i++)
		EVP_PKEY_free(a->keys[i]);
	free(a);
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
	if (EVP_DigestVerifyInit(md, NULL, ed25519 ? NULL : sd_sha256(),
	    NULL, key) == 1 &&
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
	ok = EVP_DigestSignInit(md, NULL, ed25519 ? NULL : sd_sha256(), NULL,
	    key) == 1 &&
	    EVP_DigestSign(md, sig, siglen, (const uint8_t *)text, len) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/*
 * Signs and verifies with a throwaway key of each kind, and checks that a
 * changed text fails: OpenSSL fetches algorithms and builds tables on
 * first use, which must happen before the sandbox (no file or mmap
 * afterwards) rather than on the first approval.
 */
static int
self_test(char *err, size_t errlen)
{
	static const char text[] = "signer-approval self-test\n";
	static const char *const algs[] = { "EC", "ED25519" };
	EVP_PKEY *key = NULL;
	uint8_t sig[128];
	size_t siglen, i;
	int r = ERR_INTERNAL;

	for (i = 0; i < ARRAY_LEN(algs); i++) {
		key = i == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") :
		    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		siglen = sizeof(sig);
		if (key == NULL || !sign_once(key, i == 1, text,
		    sizeof(text) - 1, sig, &siglen) ||
		    !verify(key, i == 1, text, sizeof(text) - 1, sig, siglen) ||
		    verify(key, i == 1, text, sizeof(text) - 2, sig, siglen) ||
		    verify(key, i == 1, text, sizeof(text) - 1, sig, 3)) {
			snprintf(err, errlen, "approval self-test with a %s key "
			    "failed", algs[i]);
			goto out;
		}
		EVP_PKEY_free(key);
		key = NULL;
	}
	r = 0;
out:
	EVP_PKEY_free(key);
	ERR_clear_error();
	return r;
}

int
sd_approvers_new(struct sd_approvers **out, const struct pol_policy *p,
    char *err, size_t errlen)
{
	const struct pol_approver *ap;
	struct sd_approvers *a;
	const unsigned char *der;
	uint8_t junk[64];
	size_t i;
	int r;

	*out = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ERR_NOMEM;
	a->policy = p;
	if ((r = self_test(err, errlen)) != 0)
		goto out;
	memset(junk, 0x5a, sizeof(junk));
	for (i = 0; i < pol_approver_count(p); i++) {
		ap = pol_approver(p, i);
		der = ap->spki_der;
		a->keys[i] = d2i_PUBKEY(NULL, &der, (long)ap->spki_der_len);
		if (a->keys[i] == NULL ||
		    der != ap->spki_der + ap->spki_der_len) {
			snprintf(err, errlen, "approver %s: OpenSSL refuses "
			    "the public key", ap->name);
			r = ERR_MALFORMED;
			goto out;
		}
		a->n = i + 1;
		/* First use of each key before the sandbox, too. */
		(void)verify(a->keys[i], ap->alg == POL_KEY_ED25519, "x", 1,
		    junk, sizeof(junk));
	}
	*out = a;
	a = NULL;
	r = 0;
out:
	ERR_clear_error();
	sd_approvers_free(a);
	return r;
}

int
sd_approval_verify(const struct sd_approvers *a, size_t idx, const char *text,
    size_t len, const uint8_t *sig, size_t siglen)
{
	if (idx >= a->n)
		return ERR_INVALID_ARG;
	/* Ed25519 signatures are 64 bytes; don't hand OpenSSL anything else. */
	if (pol_approver(a->policy, idx)->alg == POL_KEY_ED25519 &&
	    siglen != 64)
		return 0;
	return verify(a->keys[idx], pol_approver(a->policy, idx)->alg ==
	    POL_KEY_ED25519, text, len, sig, siglen);
}

static int
in_set(const struct sd_approval_set *set, size_t idx)
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
sd_approvals_check(const struct sd_approvers *a, const struct pol_policy *p,
    const struct sd_approval_set *set, const struct pol_approval_msg *msg,
    const struct prt_approval *ap, size_t nap, uint64_t now, size_t *bad,
    char *detail, size_t cap)
{
	struct pol_approval_msg m = *msg;
	char text[POL_APPROVAL_TEXT_MAX];
	size_t i, j, idx, len;
	unsigned valid = 0;
	enum pol_reason why;

	*bad = SIZE_MAX;
	detail[0] = '\0';
	for (i = 0; i < nap; i++) {
		*bad = i;
		/* Names from the wire are [A-Za-z0-9._:-], safe to print. */
		if (memchr(ap[i].approver, '\0', sizeof(ap[i].approver)) ==
		    NULL || pol_approver_by_name(p, ap[i].approver, &idx) != 0 ||
		    !in_set(set, idx)) {
			snprintf(detail, cap, "approval %zu: '%.32s' is not an "
			    "approver of %s", i, ap[i].approver, set->name);
			why = POL_APPROVAL_UNKNOWN_APPROVER;
			goto out;
		}
		/* invariant 4: M distinct approvers, one vote each. */
		for (j = 0; j < i; j++) {
			if (strcmp(ap[j].approver, ap[i].approver) == 0) {
				snprintf(detail, cap, "approval %zu: %s "
				    "approved twice", i, ap[i].approver);
				why = POL_APPROVAL_DUPLICATE;
				goto out;
			}
		}
		if (ap[i].expiry < now) {
			snprintf(detail, cap, "approval %zu by %s expired at "
			    "%" PRIu64 " (now %" PRIu64 ")", i, ap[i].approver,
			    ap[i].expiry, now);
			why = POL_APPROVAL_EXPIRED;
			goto out;
		}
		m.expires = ap[i].expiry;
		if (pol_approval_text(text, sizeof(text), &len, &m) != 0) {
			snprintf(detail, cap, "approval text cannot be built");
			why = POL_INTERNAL;
			goto out;
		}
		if (sd_approval_verify(a, idx, text, len, ap[i].sig,
		    ap[i].sig_len) != 1) {
			snprintf(detail, cap, "approval %zu by %s does not "
			    "verify over this %s", i, ap[i].approver,
			    pol_action_name(m.action));
			why = POL_APPROVAL_BAD_SIGNATURE;
			goto out;
		}
		valid++;
	}
	*bad = SIZE_MAX;
	if (valid < set->m) {
		snprintf(detail, cap, "%u valid approval%s of %s, %u needed",
		    valid, valid == 1 ? "" : "s", set->name, set->m);
		why = POL_APPROVALS_MISSING;
		goto out;
	}
	why = POL_OK;
out:
	return why;
}
