/*
 * verify.h: the one implementation of approvals (invariant 4): approvers'
 * public keys loaded into OpenSSL, P-256 and Ed25519 signatures verified
 * over the canonical texts of policy.h, and the M-of-N count.  signerd
 * enforces with it, signerctl and orchestratord's advisory checks call the
 * same code, so the three can never disagree.  Pure apart from OpenSSL:
 * no I/O, no clock (time is an argument), thread-safe once built.
 */
#ifndef POLICY_VERIFY_H
#define POLICY_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "policy/policy.h"

#define POL_APPROVAL_SIG_MAX 128	/* a DER P-256 signature fits */

/* One approval as received: the approver's name, expiry and signature. */
struct pol_approval {
	char approver[POL_APPROVER_NAME_MAX + 1];
	uint64_t expiry;	/* the text's expires: valid while now <= it */
	uint8_t sig[POL_APPROVAL_SIG_MAX];
	size_t sig_len;
};

/* Whose approvals count and how many are needed. */
struct pol_approval_set {
	const size_t *idx;	/* approver numbers; NULL: every approver */
	size_t n;		/* entries of idx (ignored when idx is NULL) */
	unsigned m;		/* valid approvals needed, >= 1 */
	const char *name;	/* "asset ETH", "governance": for messages */
};

/* The asset's approval set (index < pol_asset_count); m = 0: none needed. */
void pol_set_asset(struct pol_approval_set *s, const struct pol_policy *p,
    size_t asset);

/* The governance set and its m; n = 0 and m = 0 when p has none. */
void pol_set_governance(struct pol_approval_set *s,
    const struct pol_policy *p);

/* Every approver of p, m of them. */
void pol_set_any(struct pol_approval_set *s, const struct pol_policy *p,
    unsigned m);

struct pol_verifier;

/*
 * Loads every approver key of p into OpenSSL and uses each once.  The
 * first call in a process also signs and verifies with a throwaway key of
 * each kind, so that everything OpenSSL loads on first use (providers,
 * tables, config) is in place before a sandbox; later calls need no file
 * access.  err (errlen bytes) says what failed.  Returns 0, ERR_MALFORMED
 * (a key OpenSSL refuses, or not of its policy's kind), ERR_INTERNAL (the
 * self-test failed) or ERR_NOMEM.  p must outlive *out.
 */
int pol_verifier_new(struct pol_verifier **out, const struct pol_policy *p,
    char *err, size_t errlen) WARN_UNUSED;

/* NULL is a no-op. */
void pol_verifier_free(struct pol_verifier *v);

/*
 * Verifies sig by approver number idx (pol_approver order) over text: a
 * DER ECDSA signature over SHA-256(text) for P-256, a 64-byte pure
 * Ed25519 signature over text.  Returns 1 when it verifies, 0 when not
 * (also for a signature that does not parse), ERR_INVALID_ARG for an idx
 * out of range.
 */
int pol_verify(const struct pol_verifier *v, size_t idx, const char *text,
    size_t len, const uint8_t *sig, size_t siglen);

/*
 * pol_verify with one key given as DER SubjectPublicKeyInfo (spki_len
 * bytes) instead of an approver: what signerctl approve checks its own
 * signature with before printing it.  Returns 1 when sig verifies, 0 when
 * not, ERR_MALFORMED for a key that is neither P-256 nor Ed25519.
 */
int pol_verify_spki(const uint8_t *spki, size_t spki_len, const char *text,
    size_t len, const uint8_t *sig, size_t siglen);

/*
 * Checks approvals ap[0..nap) for msg (its expires is replaced by each
 * approval's expiry) at time now.  Every approval must be valid, in
 * order: its approver a member of set (APPROVAL_UNKNOWN_APPROVER), not
 * named twice (APPROVAL_DUPLICATE), not expired, i.e. expiry >= now
 * (APPROVAL_EXPIRED), and its signature verifying over the text
 * (APPROVAL_BAD_SIGNATURE).  Then at least set->m of them
 * (APPROVALS_MISSING).  Returns POL_OK or the first refusal, with *bad
 * the index of the approval at fault (SIZE_MAX for APPROVALS_MISSING) and
 * a sentence in detail (cap bytes).
 */
enum pol_reason pol_approvals_check(const struct pol_verifier *v,
    const struct pol_approval_set *set, const struct pol_approval_msg *msg,
    const struct pol_approval *ap, size_t nap, uint64_t now, size_t *bad,
    char *detail, size_t cap);

#endif
