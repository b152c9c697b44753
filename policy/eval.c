/* eval.c: the signing rules over a derived intent, and the UTC-day bucket for limits. */
#include "policy/internal.h"

#include <stdlib.h>
#include <string.h>

static int
cmp_addr(const void *key, const void *elem)
{
	return memcmp(key, elem, EVM_ADDR_LEN);
}

int
pol_recipient_allowed(const struct pol_asset *a,
    const uint8_t addr[EVM_ADDR_LEN])
{
	if (!a->has_allowlist)
		return 1;
	return bsearch(addr, a->allowlist, a->allowlist_len,
	    sizeof(*a->allowlist), cmp_addr) != NULL;
}

/*
 * Addresses no payout goes to whatever the allowlist says: the zero address
 * burns, and a token contract keeps tokens sent to it (on any chain, since
 * contract addresses repeat across chains).
 */
static int
is_sink(const struct pol_policy *p, const uint8_t addr[EVM_ADDR_LEN])
{
	static const uint8_t zero[EVM_ADDR_LEN];
	size_t i;

	if (memcmp(addr, zero, EVM_ADDR_LEN) == 0)
		return 1;
	for (i = 0; i < p->n_assets; i++)
		if (p->assets[i].kind == POL_KIND_ERC20 &&
		    memcmp(p->assets[i].contract, addr, EVM_ADDR_LEN) == 0)
			return 1;
	return 0;
}

/* The intent's asset, or NULL when the intent did not come from p. */
static const struct pol_asset *
intent_asset(const struct pol_policy *p, const struct pol_intent *in)
{
	const struct pol_asset *a;

	if (in->asset >= p->n_assets)
		return NULL;
	a = &p->assets[in->asset];
	if (a->chain_id != in->chain_id ||
	    strncmp(a->name, in->asset_name, sizeof(in->asset_name)) != 0)
		return NULL;
	return a;
}

enum pol_reason
pol_check_sign(const struct pol_policy *p, int paused,
    const struct pol_intent *in, const struct pol_stated *stated,
    const u256 *signed_today, u256 *new_total)
{
	const struct pol_asset *a;
	enum pol_reason why;
	size_t stated_asset;
	u256 total;

	*new_total = *signed_today;
	if (paused) {
		why = POL_PAUSED;
		goto out;
	}
	if ((a = intent_asset(p, in)) == NULL) {
		why = POL_INTERNAL;
		goto out;
	}
	if (memchr(stated->asset, '\0', sizeof(stated->asset)) == NULL) {
		why = POL_MALFORMED_REQUEST;
		goto out;
	}
	if (pol_asset_by_name(p, stated->asset, &stated_asset) != 0) {
		why = POL_UNKNOWN_ASSET;
		goto out;
	}
	/* The client must know what it asked for: no signing a surprise. */
	if (stated_asset != in->asset || stated->chain_id != in->chain_id ||
	    memcmp(stated->to, in->recipient, EVM_ADDR_LEN) != 0 ||
	    u256_cmp(&stated->amount, &in->amount) != 0) {
		why = POL_INTENT_MISMATCH;
		goto out;
	}
	if (u256_is_zero(&in->amount)) {
		why = POL_ZERO_AMOUNT;
		goto out;
	}
	if (u256_cmp(&in->amount, &a->per_tx_limit) > 0) {
		why = POL_PER_TX_LIMIT;
		goto out;
	}
	if (!pol_recipient_allowed(a, in->recipient) ||
	    is_sink(p, in->recipient)) {
		why = POL_RECIPIENT_NOT_ALLOWED;
		goto out;
	}
	if (u256_cmp(&in->max_fee_per_gas, &a->max_fee_per_gas) > 0) {
		why = POL_FEE_CAP_MAX_FEE;
		goto out;
	}
	if (u256_cmp(&in->max_priority_fee_per_gas,
	    &a->max_priority_fee_per_gas) > 0) {
		why = POL_FEE_CAP_PRIORITY_FEE;
		goto out;
	}
	if (in->gas_limit > a->gas_limit) {
		why = POL_FEE_CAP_GAS_LIMIT;
		goto out;
	}
	/* invariant 2: a sum past 2^256-1 is over any limit, never wrapped. */
	if (u256_add(&total, signed_today, &in->amount) != 0 ||
	    u256_cmp(&total, &a->daily_limit) > 0) {
		why = POL_DAILY_LIMIT;
		goto out;
	}
	*new_total = total;
	why = POL_OK;
out:
	return why;
}

int
pol_needs_approval(const struct pol_policy *p, const struct pol_intent *in)
{
	const struct pol_asset *a = pol_asset(p, in->asset);

	return a->has_approval &&
	    u256_cmp(&in->amount, &a->approval_threshold) > 0;
}

int
pol_needs_timelock(const struct pol_policy *p, const struct pol_intent *in)
{
	const struct pol_asset *a = pol_asset(p, in->asset);

	return a->has_timelock &&
	    u256_cmp(&in->amount, &a->timelock_threshold) > 0;
}

int64_t
pol_utc_day(int64_t unix_seconds)
{
	int64_t day = unix_seconds / 86400;

	/* C division truncates toward zero; days start at midnight. */
	if (unix_seconds % 86400 < 0)
		day--;
	return day;
}
