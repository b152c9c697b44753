/* fuzz_policy.c: libFuzzer harness for pol_parse, then every rule over whatever policy parsed. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "evm/erc20.h"
#include "evm/tx.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs a transfer of each asset through derivation and the rules. */
static void
exercise(const struct pol_policy *p)
{
	const struct pol_asset *a;
	struct evm_tx tx;
	struct pol_intent in;
	struct pol_stated st;
	enum pol_reason why;
	u256 today, total;
	size_t i, idx;

	for (i = 0; i < pol_asset_count(p); i++) {
		a = pol_asset(p, i);
		if (pol_asset_by_name(p, a->name, &idx) != 0 || idx != i)
			__builtin_trap();
		memset(&tx, 0, sizeof(tx));
		tx.chain_id = a->chain_id;
		tx.has_to = 1;
		tx.gas_limit = a->gas_limit;
		tx.max_fee_per_gas = a->max_fee_per_gas;
		tx.max_priority_fee_per_gas = a->max_priority_fee_per_gas;
		memset(tx.to, 0x42, EVM_ADDR_LEN);
		if (a->has_allowlist)
			memcpy(tx.to, a->allowlist[0], EVM_ADDR_LEN);
		if (a->kind == POL_KIND_ERC20) {
			erc20_transfer_encode(tx.data, tx.to, &a->per_tx_limit);
			tx.data_len = ERC20_TRANSFER_LEN;
			memcpy(tx.to, a->contract, EVM_ADDR_LEN);
		} else {
			tx.value = a->per_tx_limit;
		}
		if (pol_derive_intent(&in, &why, p, &tx) != 0) {
			/* The parser keeps caps a node accepts: a tx at the
			 * caps is never refused as unincludable. */
			if (why == POL_TX_PRIORITY_FEE_ABOVE_MAX_FEE ||
			    why == POL_TX_GAS_LIMIT_TOO_LOW ||
			    why == POL_TX_NONCE_TOO_HIGH)
				__builtin_trap();
			continue;
		}
		/* EIP-2681: the last nonce never derives. */
		tx.nonce = UINT64_MAX;
		if (pol_derive_intent(&in, &why, p, &tx) == 0 ||
		    why != POL_TX_NONCE_TOO_HIGH)
			__builtin_trap();
		tx.nonce = 0;
		if (pol_derive_intent(&in, &why, p, &tx) != 0)
			__builtin_trap();
		memset(&st, 0, sizeof(st));
		memcpy(st.asset, in.asset_name, sizeof(st.asset));
		st.chain_id = in.chain_id;
		memcpy(st.to, in.recipient, EVM_ADDR_LEN);
		st.amount = in.amount;
		u256_from_u64(&today, 0);
		why = pol_check_sign(p, pol_paused(p), &in, &st, &today,
		    &total);
		/* The per-tx limit never exceeds the daily limit. */
		if (why == POL_DAILY_LIMIT)
			__builtin_trap();
		(void)pol_needs_approval(p, &in);
		(void)pol_needs_timelock(p, &in);
		(void)pol_reason_name(why);
	}
	for (i = 0; i < pol_approver_count(p); i++)
		if (pol_approver(p, i)->spki_der_len == 0)
			__builtin_trap();
	if (pol_policy_id(p)[0] == '\0')
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pol_policy *p = NULL;
	char err[256];

	if (pol_parse(&p, data, size, err, sizeof(err)) == 0) {
		exercise(p);
		pol_free(p);
	} else if (p != NULL || strlen(err) == 0) {
		__builtin_trap();	/* failure must say why and own nothing */
	}
	return 0;
}
