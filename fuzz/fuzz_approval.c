/*
 * fuzz_approval.c: the approval decoders on any bytes: the approval text
 * parser (what signerctl approve reads from an orchestrator-supplied
 * file), which must accept only texts that re-encode to themselves, and
 * policy/'s approval check (verify.h) over approvals decoded from the
 * input, which must never accept one (nobody holds these approvers'
 * private keys).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "evm/tx.h"
#include "policy/policy.h"
#include "policy/verify.h"
#include "proto/buf.h"
#include "proto/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Throwaway keys (private halves discarded): P-256 x3, Ed25519. */
static const char policy_json[] =
    "{\"policy_id\": \"fuzz-1\", \"approvers\": {"
    "\"alice\": {\"public_key_pem\": \"-----BEGIN PUBLIC KEY-----\\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAESt+GypfbsMCb0IUQam2PiP2ogPcp\\n"
    "Q6N44S7KiEOlWunBoP3Gu+jFU722KPGmBQgUNIcvaDZsOEqldFyV3AWLWA==\\n"
    "-----END PUBLIC KEY-----\\n\"},"
    "\"bob\": {\"public_key_pem\": \"-----BEGIN PUBLIC KEY-----\\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEGlaBQmYxi6rPgJVmrm9NyZvDdUOK\\n"
    "FzSIdpS7UnPpSQwArScwdCOqB6kXNMBc01xZfxRTe+6QVk7SL7aQnoM0Iw==\\n"
    "-----END PUBLIC KEY-----\\n\"},"
    "\"erin\": {\"public_key_pem\": \"-----BEGIN PUBLIC KEY-----\\n"
    "MCowBQYDK2VwAyEAU4YvzOW2dgVRaSDzgSy7TtWIw2Ns8EQZTIExGRdzAd0=\\n"
    "-----END PUBLIC KEY-----\\n\"}},"
    "\"governance\": {\"m\": 1, \"approvers\": [\"alice\", \"erin\"], "
    "\"delay\": 3600},"
    "\"assets\": {\"ETH\": {\"chain_id\": 1337, \"kind\": \"native\", "
    "\"decimals\": 18, \"key\": \"payout\", \"daily_limit\": \"1000\", "
    "\"per_tx_limit\": \"500\", \"approval\": {\"threshold\": \"0\", "
    "\"m\": 1, \"approvers\": [\"alice\", \"bob\", \"erin\"]}, "
    "\"fee_caps\": {\"max_fee_per_gas\": \"1000\", "
    "\"max_priority_fee_per_gas\": \"100\", \"gas_limit\": 21000}, "
    "\"confirmations\": 1}}}";

static struct pol_policy *policy;
static struct pol_verifier *approvers;
static struct pol_approval ap[PRT_APPROVALS_MAX];

static void
init(void)
{
	char err[256];

	if (policy != NULL)
		return;
	if (pol_parse(&policy, (const uint8_t *)policy_json,
	    sizeof(policy_json) - 1, err, sizeof(err)) != 0 ||
	    pol_verifier_new(&approvers, policy, err, sizeof(err)) != 0)
		__builtin_trap();
}

/* The text parser: canonical in, the same bytes out. */
static void
fuzz_text(const uint8_t *data, size_t size)
{
	struct pol_approval_msg m;
	char text[POL_APPROVAL_TEXT_MAX];
	size_t len;

	if (pol_approval_parse(&m, data, size) != 0) {
		if (m.action != 0 || m.expires != 0)
			__builtin_trap();	/* outputs cleared on failure */
		return;
	}
	if (pol_approval_text(text, sizeof(text), &len, &m) != 0 ||
	    len != size || memcmp(text, data, size) != 0)
		__builtin_trap();
}

/*
 * Approvals as the wire carries them (approver string, u64 expiry, lv
 * signature), checked over the text of a fixed payout by any approver,
 * then over a policy change (or its cancel) by the governance set.
 */
static void
fuzz_check(const uint8_t *data, size_t size)
{
	struct pol_approval_msg msg;
	struct pol_approval_set set = { NULL, 0, 1, "the policy" };
	struct pol_intent in;
	struct prt_reader rd;
	const uint8_t *sig;
	uint8_t proposed[32];
	char detail[240];
	size_t n = 0, bad;
	enum pol_reason why;

	memset(&in, 0, sizeof(in));
	strcpy(in.asset_name, "ETH");
	in.chain_id = 1337;
	memset(in.recipient, 0x70, sizeof(in.recipient));
	u256_from_u64(&in.amount, 400);
	if (pol_approval_msg_sign(&msg, policy, "fuzz-req", &in, 0) != 0)
		__builtin_trap();
	prt_reader_init(&rd, data, size);
	while (n < PRT_APPROVALS_MAX && prt_remaining(&rd) > 0) {
		memset(&ap[n], 0, sizeof(ap[n]));
		if (prt_get_string(&rd, ap[n].approver,
		    sizeof(ap[n].approver)) != 0 ||
		    prt_get_u64(&rd, &ap[n].expiry) != 0 ||
		    prt_get_lv(&rd, &sig, &ap[n].sig_len,
		    PRT_APPROVAL_SIG_MAX) != 0)
			break;
		memcpy(ap[n].sig, sig, ap[n].sig_len);
		n++;
	}
	why = pol_approvals_check(approvers, &set, &msg, ap, n, 0,
	    &bad, detail, sizeof(detail));
	/* Forging a P-256 or Ed25519 signature is not on the menu. */
	if (why == POL_OK || (why != POL_APPROVALS_MISSING && bad >= n))
		__builtin_trap();

	memset(proposed, 0, sizeof(proposed));
	memcpy(proposed, data, size < sizeof(proposed) ? size : sizeof(proposed));
	if (pol_approval_msg_policy(&msg, policy, size % 2 == 0 ?
	    POL_ACTION_POLICY : POL_ACTION_POLICY_CANCEL, proposed, 0) != 0)
		__builtin_trap();
	pol_set_governance(&set, policy);
	why = pol_approvals_check(approvers, &set, &msg, ap, n, 0,
	    &bad, detail, sizeof(detail));
	if (why == POL_OK || (why != POL_APPROVALS_MISSING && bad >= n))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init();
	fuzz_text(data, size);
	fuzz_check(data, size);
	return 0;
}
