/* reason.c: names and texts of the refusal reasons in policy.h. */
#include "policy/policy.h"

#include <string.h>

#include "common/err.h"

struct reason_entry {
	const char *name;
	const char *text;
};

/* Indexed by the code, so a gap or a swap fails the table test. */
#define R(c, t) [POL_##c] = { #c, t }
static const struct reason_entry reason_table[POL_REASON_COUNT] = {
	R(OK, "allowed"),
	R(MALFORMED_REQUEST, "the request is malformed"),
	R(UNKNOWN_ASSET, "the asset is not in the policy"),
	R(CHAIN_MISMATCH, "the transaction's chain id is not the asset's"),
	R(NOT_A_TRANSFER, "the transaction is not a plain native or ERC-20 transfer"),
	R(UNKNOWN_TOKEN_CONTRACT, "the token contract is not in the policy"),
	R(VALUE_ON_TOKEN_TRANSFER, "an ERC-20 transfer must not carry native value"),
	R(INTENT_MISMATCH, "the stated intent differs from the decoded transaction"),
	R(ACCESS_LIST_NOT_EMPTY, "the transaction carries an access list"),
	R(PER_TX_LIMIT, "the amount exceeds the per-transaction limit"),
	R(DAILY_LIMIT, "the amount would exceed the daily limit"),
	R(ZERO_AMOUNT, "the amount is zero"),
	R(REQUEST_ID_CONFLICT, "the request id was used for a different transaction"),
	R(PEER_NOT_ALLOWED, "the peer is not allowed to make this request"),
	R(BAD_VERSION, "unsupported protocol version"),
	R(HSM_ERROR, "the HSM failed to sign"),
	R(JOURNAL_ERROR, "the journal could not record the decision"),
	R(INTERNAL, "internal error"),
	R(RECIPIENT_NOT_ALLOWED, "the recipient is not allowed"),
	R(FEE_CAP_MAX_FEE, "max fee per gas exceeds the asset's cap"),
	R(FEE_CAP_PRIORITY_FEE, "max priority fee per gas exceeds the asset's cap"),
	R(FEE_CAP_GAS_LIMIT, "gas limit exceeds the asset's cap"),
	R(APPROVALS_MISSING, "not enough valid approvals"),
	R(APPROVAL_UNKNOWN_APPROVER, "an approval is from an unknown approver"),
	R(APPROVAL_DUPLICATE, "an approver signed more than once"),
	R(APPROVAL_BAD_SIGNATURE, "an approval signature does not verify"),
	R(APPROVAL_EXPIRED, "an approval has expired"),
	R(APPROVAL_WRONG_INTENT, "an approval is for a different intent"),
	R(TIMELOCK_NOT_QUEUED, "the payout must be queued for its timelock first"),
	R(TIMELOCK_PENDING, "the payout's timelock has not elapsed"),
	R(TIMELOCK_CANCELLED, "the payout was cancelled while queued"),
	R(CLOCK_BEHIND_JOURNAL, "the clock is behind the newest journal record"),
	R(NONCE_REUSED, "the key already signed a payout with this nonce"),
	R(FEE_BUMP_INVALID, "not a valid fee bump of the earlier transaction"),
	R(PAUSED, "the policy is paused"),
	R(TX_PRIORITY_FEE_ABOVE_MAX_FEE, "max priority fee per gas exceeds max fee per gas; no node includes that"),
	R(TX_GAS_LIMIT_TOO_LOW, "gas limit is below 21000; no node includes that"),
	R(TX_NONCE_TOO_HIGH, "the nonce is 2^64-1, which EIP-2681 forbids; no node includes that"),
	R(RETRY, "signerd's state changed while deciding; send the same request again"),
	R(QUEUE_FULL, "the timelock queue is full"),
	R(TIMELOCK_NOT_NEEDED, "the payout is not above the timelock threshold; sign it directly"),
	R(KEY_MISMATCH, "the request's from is not the address of the key that signs this payout"),
	R(POLICY_INVALID, "the proposed policy is not acceptable"),
	R(POLICY_STALE, "the proposal replaces another version than the one in force"),
	R(POLICY_PENDING, "another policy proposal is pending"),
	R(POLICY_NO_PROPOSAL, "no such policy proposal is pending"),
	R(POLICY_NO_GOVERNANCE, "the policy in force has no governance set and cannot change"),
	R(REQUEST_EXPIRED, "the request's created day is outside signerd's retention window"),
	R(IN_FLIGHT, "the request id is being signed, queued or re-signed right now; send the same request again once that ends"),
};
#undef R

const char *
pol_reason_name(int reason)
{
	if (reason < 0 || reason >= POL_REASON_COUNT)
		return "UNKNOWN";
	return reason_table[reason].name;
}

const char *
pol_reason_text(int reason)
{
	if (reason < 0 || reason >= POL_REASON_COUNT)
		return "unknown reason";
	return reason_table[reason].text;
}

int
pol_reason_from_name(enum pol_reason *out, const char *name)
{
	int i;

	*out = POL_INTERNAL;
	for (i = 0; i < POL_REASON_COUNT; i++) {
		if (strcmp(reason_table[i].name, name) == 0) {
			*out = (enum pol_reason)i;
			return 0;
		}
	}
	return ERR_NOT_FOUND;
}
