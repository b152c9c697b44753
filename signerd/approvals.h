/*
 * approvals.h: checking approvers' signatures (invariant 4).  The text an
 * approver signed is rebuilt by policy/ from what signerd decoded itself
 * (pol_approval_text), never taken from the client, and verified with
 * OpenSSL against the approver's key from the policy.  Loaded before the
 * sandbox; verification needs no system call beyond memory.
 */
#ifndef SIGNERD_APPROVALS_H
#define SIGNERD_APPROVALS_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "policy/policy.h"
#include "proto/msg.h"

struct sd_approvers;

/*
 * Loads every approver key of p into OpenSSL and verifies one signature
 * of each kind in use (P-256 and Ed25519), made with a throwaway key, so
 * that everything OpenSSL loads or builds on first use (providers,
 * algorithm tables, config) is in place before the seccomp filter goes
 * on.  err (errlen bytes) says what failed.  Returns 0, ERR_MALFORMED (a
 * key OpenSSL refuses), ERR_INTERNAL (the self-test failed) or
 * ERR_NOMEM.  p must outlive *out.
 */
int sd_approvers_new(struct sd_approvers **out, const struct pol_policy *p,
    char *err, size_t errlen) WARN_UNUSED;

/* NULL is a no-op. */
void sd_approvers_free(struct sd_approvers *a);

/*
 * Verifies sig (siglen bytes) by approver number idx (pol_approver order)
 * over text (len bytes): a DER ECDSA signature over SHA-256(text) for
 * P-256, a pure Ed25519 signature over text.  Returns 1 when it verifies,
 * 0 when not (including a signature that does not parse), or
 * ERR_INVALID_ARG for an idx out of range.  Thread-safe.
 */
int sd_approval_verify(const struct sd_approvers *a, size_t idx,
    const char *text, size_t len, const uint8_t *sig, size_t siglen);

/* Whose approvals count and how many are needed. */
struct sd_approval_set {
	const size_t *idx;	/* approver numbers; NULL: every approver */
	size_t n;		/* entries of idx (ignored when idx is NULL) */
	unsigned m;		/* valid approvals needed, >= 1 */
	const char *name;	/* "asset ETH", "governance": for messages */
};

/*
 * Checks approvals ap[0..nap) for msg (its expires field is replaced by
 * each approval's expiry) at time now.  Every approval must be valid, in
 * order: its approver a member of set (APPROVAL_UNKNOWN_APPROVER), not
 * named twice (APPROVAL_DUPLICATE), not expired, i.e. expiry >= now
 * (APPROVAL_EXPIRED), and its signature verifying over the text
 * (APPROVAL_BAD_SIGNATURE).  Then at least set->m of them
 * (APPROVALS_MISSING).  Returns POL_OK or the first refusal, with
 * *bad the index of the approval at fault (SIZE_MAX for
 * APPROVALS_MISSING) and a sentence in detail (cap bytes).
 */
enum pol_reason sd_approvals_check(const struct sd_approvers *a,
    const struct pol_policy *p, const struct sd_approval_set *set,
    const struct pol_approval_msg *msg, const struct prt_approval *ap,
    size_t nap, uint64_t now, size_t *bad, char *detail, size_t cap);

#endif
