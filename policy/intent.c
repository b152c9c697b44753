/* intent.c: what a decoded transaction does in policy terms: asset, recipient, amount, fees. */
#include "policy/internal.h"

#include <string.h>

#include "common/err.h"
#include "evm/erc20.h"
#include "evm/tx.h"

/*
 * Fields no node accepts (EIP-1559, the intrinsic gas of a transfer,
 * EIP-2681): a signature over them buys nothing and would still count
 * against the day's limit and hold the sender's nonce.  21000 is the floor
 * for ERC-20 assets too: a token transfer needs more (calldata, the
 * token's code), but how much depends on the token, which policy cannot
 * know.
 */
static enum pol_reason
check_includable(const struct evm_tx *tx)
{
	if (u256_cmp(&tx->max_priority_fee_per_gas, &tx->max_fee_per_gas) > 0)
		return POL_TX_PRIORITY_FEE_ABOVE_MAX_FEE;
	if (tx->gas_limit < POL_MIN_GAS_LIMIT)
		return POL_TX_GAS_LIMIT_TOO_LOW;
	if (tx->nonce > POL_MAX_NONCE)
		return POL_TX_NONCE_TOO_HIGH;
	return POL_OK;
}

/*
 * invariant 3: everything here comes from the decoded transaction; what the
 * client states is only compared against it later, in pol_check_sign.
 */
int
pol_derive_intent(struct pol_intent *out, enum pol_reason *why,
    const struct pol_policy *p, const struct evm_tx *tx)
{
	const struct pol_asset *a;
	enum pol_reason w = POL_INTERNAL;
	uint8_t rcpt[EVM_ADDR_LEN];
	u256 amount;
	size_t i, token = SIZE_MAX, native = SIZE_MAX;
	int token_elsewhere = 0, native_elsewhere = 0, is_transfer;

	memset(out, 0, sizeof(*out));
	if (!tx->has_to) {
		w = POL_NOT_A_TRANSFER;	/* contract creation */
		goto out;
	}
	if (tx->access_list_items != 0) {
		w = POL_ACCESS_LIST_NOT_EMPTY;
		goto out;
	}
	for (i = 0; i < p->n_assets; i++) {
		a = &p->assets[i];
		if (a->kind == POL_KIND_ERC20 &&
		    memcmp(a->contract, tx->to, EVM_ADDR_LEN) == 0) {
			if (a->chain_id == tx->chain_id)
				token = i;
			else
				token_elsewhere = 1;
		} else if (a->kind == POL_KIND_NATIVE) {
			if (a->chain_id == tx->chain_id)
				native = i;
			else
				native_elsewhere = 1;
		}
	}
	is_transfer = erc20_transfer_decode(rcpt, &amount, tx->data,
	    tx->data_len) == 0;

	if (token != SIZE_MAX) {
		/* Value sent to a token contract is lost: never "native". */
		if (!is_transfer) {
			w = POL_NOT_A_TRANSFER;
			goto out;
		}
		if (!u256_is_zero(&tx->value)) {
			w = POL_VALUE_ON_TOKEN_TRANSFER;
			goto out;
		}
		i = token;
	} else if (tx->data_len != 0) {
		if (!is_transfer)
			w = POL_NOT_A_TRANSFER;
		else if (token_elsewhere)
			w = POL_CHAIN_MISMATCH;
		else
			w = POL_UNKNOWN_TOKEN_CONTRACT;
		goto out;
	} else if (token_elsewhere) {
		/*
		 * The same deployer and nonce give the same contract address
		 * on every chain: treat the address as a contract here too.
		 */
		w = POL_NOT_A_TRANSFER;
		goto out;
	} else {
		if (native == SIZE_MAX) {
			w = native_elsewhere ? POL_CHAIN_MISMATCH :
			    POL_UNKNOWN_ASSET;
			goto out;
		}
		memcpy(rcpt, tx->to, EVM_ADDR_LEN);
		amount = tx->value;
		i = native;
	}
	/* What it does is known; now whether any node would include it. */
	if ((w = check_includable(tx)) != POL_OK)
		goto out;

	a = &p->assets[i];
	out->asset = i;
	memcpy(out->asset_name, a->name, sizeof(out->asset_name));
	out->chain_id = tx->chain_id;
	memcpy(out->recipient, rcpt, EVM_ADDR_LEN);
	out->amount = amount;
	out->max_fee_per_gas = tx->max_fee_per_gas;
	out->max_priority_fee_per_gas = tx->max_priority_fee_per_gas;
	out->gas_limit = tx->gas_limit;
	out->nonce = tx->nonce;
	w = POL_OK;
out:
	*why = w;
	if (w != POL_OK) {
		memset(out, 0, sizeof(*out));
		return ERR_UNSUPPORTED;
	}
	return 0;
}
