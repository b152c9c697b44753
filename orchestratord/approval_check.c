/* approval_check.c: advisory verification of approvals with OpenSSL, in signerd's order. */
#include "orchestratord/approval_check.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/err.h"

/*
 * Each check parses the approver's key from its DER again: approvals are
 * rare (a person signs each one), and holding no state keeps this free of
 * locks and of a cache that could go stale when the policy is reloaded.
 */
int
ac_verify(const struct pol_approver *ap, const char *text, size_t len,
    const uint8_t *sig, size_t siglen)
{
	const unsigned char *der = ap->spki_der;
	EVP_PKEY *key = NULL;
	EVP_MD_CTX *md = NULL;
	int ed25519 = ap->alg == POL_KEY_ED25519, ok = 0;

	/* Ed25519 signatures are 64 bytes; don't hand OpenSSL anything else. */
	if (ed25519 && siglen != 64)
		goto out;
	if (ap->alg != POL_KEY_P256 && !ed25519)
		goto out;
	key = d2i_PUBKEY(NULL, &der, (long)ap->spki_der_len);
	if (key == NULL || der != ap->spki_der + ap->spki_der_len)
		goto out;
	/* The key must be the kind the policy says, or the text is hashed wrong. */
	if (!EVP_PKEY_is_a(key, ed25519 ? "ED25519" : "EC"))
		goto out;
	if ((md = EVP_MD_CTX_new()) == NULL)
		goto out;
	/* Ed25519 is "pure": no digest; P-256 signs SHA-256 of the text. */
	if (EVP_DigestVerifyInit(md, NULL, ed25519 ? NULL : EVP_sha256(), NULL,
	    key) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, (const uint8_t *)text, len) == 1)
		ok = 1;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	/* A bad DER signature leaves errors queued on this thread. */
	ERR_clear_error();
	return ok;
}

static int
in_asset_set(const struct pol_asset *a, size_t idx)
{
	size_t i;

	if (!a->has_approval)
		return 0;
	for (i = 0; i < a->approval_n; i++)
		if (a->approval_approvers[i] == idx)
			return 1;
	return 0;
}

/* The checks after membership: expiry, then the signature over msg. */
static enum pol_reason
check_text(const struct pol_policy *p, size_t idx,
    const struct pol_approval_msg *msg, const struct ac_approval *a,
    uint64_t now, char *detail, size_t cap)
{
	char text[POL_APPROVAL_TEXT_MAX];
	size_t len;

	if (a->expiry < now) {
		snprintf(detail, cap, "approval by %s expired at %" PRIu64
		    " (now %" PRIu64 ")", a->approver, a->expiry, now);
		return POL_APPROVAL_EXPIRED;
	}
	if (pol_approval_text(text, sizeof(text), &len, msg) != 0) {
		snprintf(detail, cap, "the approval text cannot be built");
		return POL_MALFORMED_REQUEST;
	}
	if (ac_verify(pol_approver(p, idx), text, len, a->sig, a->sig_len) !=
	    1) {
		snprintf(detail, cap, "approval by %s does not verify over "
		    "this %s (request %s, expires %" PRIu64 ")", a->approver,
		    pol_action_name(msg->action), msg->request_id, a->expiry);
		return POL_APPROVAL_BAD_SIGNATURE;
	}
	return POL_OK;
}

/* Names are checked by the caller's parser; still, never print a non-id. */
static const char *
printable_name(const struct ac_approval *a)
{
	size_t i;

	for (i = 0; a->approver[i] != '\0'; i++)
		if (i >= POL_APPROVER_NAME_MAX || a->approver[i] <= 0x20 ||
		    a->approver[i] >= 0x7f)
			return "(unprintable)";
	return a->approver;
}

enum pol_reason
ac_check_sign(const struct pol_policy *p, const char *request_id,
    const struct pol_intent *in, const struct ac_approval *a, uint64_t now,
    char *detail, size_t cap)
{
	struct pol_approval_msg msg;
	const struct pol_asset *asset;
	size_t idx;

	detail[0] = '\0';
	if (in->asset >= pol_asset_count(p)) {
		snprintf(detail, cap, "the payout's asset is not in the policy");
		return POL_MALFORMED_REQUEST;
	}
	asset = pol_asset(p, in->asset);
	if (pol_approver_by_name(p, a->approver, &idx) != 0 ||
	    !in_asset_set(asset, idx)) {
		snprintf(detail, cap, "'%s' is not an approver of asset %s",
		    printable_name(a), asset->name);
		return POL_APPROVAL_UNKNOWN_APPROVER;
	}
	if (pol_approval_msg_sign(&msg, p, request_id, in, a->expiry) != 0) {
		snprintf(detail, cap, "request id cannot be approved");
		return POL_MALFORMED_REQUEST;
	}
	return check_text(p, idx, &msg, a, now, detail, cap);
}

enum pol_reason
ac_check_cancel(const struct pol_policy *p, const char *request_id,
    const struct ac_approval *a, uint64_t now, char *detail, size_t cap)
{
	struct pol_approval_msg msg;
	size_t idx;

	detail[0] = '\0';
	/* Any one approver of the policy may stop a queued payout. */
	if (pol_approver_by_name(p, a->approver, &idx) != 0) {
		snprintf(detail, cap, "'%s' is not an approver of the policy",
		    printable_name(a));
		return POL_APPROVAL_UNKNOWN_APPROVER;
	}
	if (pol_approval_msg_op(&msg, p, POL_ACTION_CANCEL, request_id,
	    a->expiry) != 0) {
		snprintf(detail, cap, "request id cannot be cancelled");
		return POL_MALFORMED_REQUEST;
	}
	return check_text(p, idx, &msg, a, now, detail, cap);
}
