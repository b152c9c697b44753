/*
 * approval_check.h: orchestratord's advisory check of an approval before
 * it is stored or forwarded, so that a forged, expired or misdirected
 * approval is refused at once with a precise error instead of failing
 * later inside signerd.  signerd checks every approval again against the
 * transaction it decodes (invariant 4); nothing here is trusted by it.
 *
 * The text is the one signerd rebuilds (pol_approval_msg_sign /
 * pol_approval_msg_op + pol_approval_text, docs/approvals.md) and the
 * verdict is policy/verify.h's, the one implementation signerd runs, with
 * the policy version's verifier (built once per version, D54).  No I/O,
 * no clock (now is an argument), no state; thread-safe.
 */
#ifndef ORCH_APPROVAL_CHECK_H
#define ORCH_APPROVAL_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "policy/policy.h"
#include "policy/verify.h"
#include "proto/msg.h"

/*
 * An approval is policy/verify.h's struct pol_approval from the API's
 * parser (val_approval_body) through the store and the worker to the
 * wire (D60); only the SIGN_REQ / CANCEL_REQ encoder has its own
 * struct prt_approval, filled by ac_approval_to_wire.
 */
/*
 * Checks an approval of payout request_id whose intent is in (asset index
 * and name, chain, recipient, amount) at time now, with v, the verifier of
 * p (pol_verifier_new), in signerd's order:
 *   POL_APPROVAL_UNKNOWN_APPROVER  not an approver of the intent's asset
 *                                  (or the asset needs no approvals)
 *   POL_APPROVAL_EXPIRED           expiry < now
 *   POL_APPROVAL_BAD_SIGNATURE     the signature does not verify over the
 *                                  sign text with this expiry
 *   POL_MALFORMED_REQUEST          request_id or the intent cannot make a
 *                                  text
 * Returns POL_OK or the refusal with a sentence in detail (cap bytes).
 */
enum pol_reason ac_check_sign_with(const struct pol_verifier *v,
    const struct pol_policy *p, const char *request_id,
    const struct pol_intent *in, const struct pol_approval *a, uint64_t now,
    char *detail, size_t cap);

/*
 * The same for cancelling queued payout request_id: any approver of the
 * policy may, over the five-line cancel text.
 */
enum pol_reason ac_check_cancel_with(const struct pol_verifier *v,
    const struct pol_policy *p, const char *request_id,
    const struct pol_approval *a, uint64_t now, char *detail, size_t cap);

/*
 * ac_check_sign_with and ac_check_cancel_with with a verifier of p built
 * for this one call (POL_INTERNAL when it cannot be built), for callers
 * that hold no policy version (the fuzz harness).  The daemon uses its
 * version's verifier.
 */
enum pol_reason ac_check_sign(const struct pol_policy *p,
    const char *request_id, const struct pol_intent *in,
    const struct pol_approval *a, uint64_t now, char *detail, size_t cap);
enum pol_reason ac_check_cancel(const struct pol_policy *p,
    const char *request_id, const struct pol_approval *a, uint64_t now,
    char *detail, size_t cap);

/*
 * The wire form of a (proto/ sits below policy/, so the encoder cannot
 * take policy's type): the one place the fields are copied.
 */
void ac_approval_to_wire(struct prt_approval *out,
    const struct pol_approval *a);

#endif
