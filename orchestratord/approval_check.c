/* approval_check.c: advisory checks of one approval with policy/verify.h, in signerd's order. */
#include "orchestratord/approval_check.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

/* The wire form must hold whatever policy's form holds. */
_Static_assert(POL_APPROVER_NAME_MAX == PRT_APPROVER_MAX &&
    POL_APPROVAL_SIG_MAX == PRT_APPROVAL_SIG_MAX,
    "pol_approval and prt_approval bounds differ");

/* Names are checked by the caller's parser; still, never print a non-id. */
static const char *
printable_name(const struct pol_approval *a)
{
	size_t i;

	for (i = 0; i < sizeof(a->approver) && a->approver[i] != '\0'; i++)
		if (i >= POL_APPROVER_NAME_MAX || a->approver[i] <= 0x20 ||
		    a->approver[i] >= 0x7f)
			return "(unprintable)";
	return i < sizeof(a->approver) ? a->approver : "(unprintable)";
}

/*
 * One approval of msg by a member of set, through pol_approvals_check:
 * membership, expiry, then the signature.  One approval is checked, not
 * counted (the payout's M is the store's to count), so the set needs 1.
 * The verdict is verify.c's; the sentence in detail stays this API's
 * (whose is named what: the set, or the request and expiry).
 */
static enum pol_reason
check_one(const struct pol_verifier *v, const struct pol_approval_set *set,
    const char *of, const struct pol_approval_msg *msg,
    const struct pol_approval *a, uint64_t now, char *detail, size_t cap)
{
	struct pol_approval_set one = *set;
	enum pol_reason why;
	size_t bad;

	one.m = 1;
	why = pol_approvals_check(v, &one, msg, a, 1, now, &bad, detail, cap);
	switch (why) {
	case POL_OK:
		detail[0] = '\0';
		break;
	case POL_APPROVAL_UNKNOWN_APPROVER:
		snprintf(detail, cap, "'%s' is not an approver of %s",
		    printable_name(a), of);
		break;
	case POL_APPROVAL_EXPIRED:
		snprintf(detail, cap, "approval by %s expired at %" PRIu64
		    " (now %" PRIu64 ")", printable_name(a), a->expiry, now);
		break;
	case POL_APPROVAL_BAD_SIGNATURE:
		snprintf(detail, cap, "approval by %s does not verify over "
		    "this %s (request %s, expires %" PRIu64 ")",
		    printable_name(a),
		    pol_action_name(msg->action), msg->request_id, a->expiry);
		break;
	default:
		/* The text cannot be built: nothing an approver signed. */
		snprintf(detail, cap, "the approval text cannot be built");
		why = POL_MALFORMED_REQUEST;
		break;
	}
	return why;
}

enum pol_reason
ac_check_sign_with(const struct pol_verifier *v, const struct pol_policy *p,
    const char *request_id, const struct pol_intent *in,
    const struct pol_approval *a, uint64_t now, char *detail, size_t cap)
{
	struct pol_approval_msg msg;
	struct pol_approval_set set;
	char of[POL_ASSET_NAME_MAX + 8];

	detail[0] = '\0';
	if (in->asset >= pol_asset_count(p)) {
		snprintf(detail, cap, "the payout's asset is not in the policy");
		return POL_MALFORMED_REQUEST;
	}
	if (pol_approval_msg_sign(&msg, p, request_id, in, a->expiry) != 0) {
		snprintf(detail, cap, "request id cannot be approved");
		return POL_MALFORMED_REQUEST;
	}
	/* An asset without an approval rule has nobody in its set. */
	pol_set_asset(&set, p, in->asset);
	snprintf(of, sizeof(of), "asset %s", pol_asset(p, in->asset)->name);
	return check_one(v, &set, of, &msg, a, now, detail, cap);
}

enum pol_reason
ac_check_cancel_with(const struct pol_verifier *v, const struct pol_policy *p,
    const char *request_id, const struct pol_approval *a, uint64_t now,
    char *detail, size_t cap)
{
	struct pol_approval_msg msg;
	struct pol_approval_set set;

	detail[0] = '\0';
	if (pol_approval_msg_op(&msg, p, POL_ACTION_CANCEL, request_id,
	    a->expiry) != 0) {
		snprintf(detail, cap, "request id cannot be cancelled");
		return POL_MALFORMED_REQUEST;
	}
	/* Any one approver of the policy may stop a queued payout. */
	pol_set_any(&set, p, 1);
	return check_one(v, &set, "the policy", &msg, a, now, detail, cap);
}

enum pol_reason
ac_check_sign(const struct pol_policy *p, const char *request_id,
    const struct pol_intent *in, const struct pol_approval *a, uint64_t now,
    char *detail, size_t cap)
{
	struct pol_verifier *v;
	enum pol_reason why;

	if (pol_verifier_new(&v, p, detail, cap) != 0)
		return POL_INTERNAL;
	why = ac_check_sign_with(v, p, request_id, in, a, now, detail, cap);
	pol_verifier_free(v);
	return why;
}

enum pol_reason
ac_check_cancel(const struct pol_policy *p, const char *request_id,
    const struct pol_approval *a, uint64_t now, char *detail, size_t cap)
{
	struct pol_verifier *v;
	enum pol_reason why;

	if (pol_verifier_new(&v, p, detail, cap) != 0)
		return POL_INTERNAL;
	why = ac_check_cancel_with(v, p, request_id, a, now, detail, cap);
	pol_verifier_free(v);
	return why;
}

void
ac_approval_to_wire(struct prt_approval *out, const struct pol_approval *a)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->approver, a->approver, sizeof(out->approver));
	out->approver[sizeof(out->approver) - 1] = '\0';
	out->expiry = a->expiry;
	out->sig_len = a->sig_len <= sizeof(out->sig) ? a->sig_len : 0;
	memcpy(out->sig, a->sig, out->sig_len);
}
