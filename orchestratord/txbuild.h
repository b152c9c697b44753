/* txbuild.h: a payout's unsigned EIP-1559 transaction, its gas and fees (pure). */
#ifndef ORCH_TXBUILD_H
#define ORCH_TXBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/util.h"
#include "evm/tx.h"
#include "evm/u256.h"
#include "orchestratord/store.h"
#include "policy/policy.h"

/*
 * Nothing here does I/O: the worker and the tracker ask the node and
 * signerd, these functions do the arithmetic, so every cap edge is a unit
 * test.  signerd checks every result again (fee caps, D22 for bumps);
 * staying inside the caps here only avoids refusals.
 */

/* txb_bump: the caps leave no room for both fees to rise. */
#define TXB_NO_ROOM ERR_OVERFLOW

/*
 * Fills *tx for payout p of asset a: native, to = recipient and value =
 * amount with no data; ERC-20, to = the token contract, value 0 and data =
 * transfer(recipient, amount).  Returns 0, or ERR_INVALID_ARG when p is
 * not of asset a (name or chain id); *tx is zeroed on error.
 */
int txb_build(struct evm_tx *tx, const struct pol_asset *a,
    const struct payout *p, uint64_t nonce, uint64_t gas_limit,
    const u256 *max_fee, const u256 *prio_fee) WARN_UNUSED;

/*
 * The unsigned (or signed) encoding of tx into out (cap bytes) and *len.
 * Returns 0 or evm_tx_encode's error (ERR_TOO_LARGE when cap is short).
 */
int txb_encode(uint8_t *out, size_t cap, size_t *len,
    const struct evm_tx *tx) WARN_UNUSED;

/*
 * Gas limit from the node's estimate: estimate * (100 + margin_percent) /
 * 100, capped at the asset's cap.  Returns 0, ERR_MALFORMED for an
 * estimate below 21000 (no transaction costs less: the node is wrong), or
 * ERR_TOO_LARGE when the estimate alone is above cap (the transfer needs
 * more gas than policy allows; signed anyway it would run out of gas).
 */
int txb_gas_limit(uint64_t *out, uint64_t estimate, int margin_percent,
    uint64_t cap) WARN_UNUSED;

/*
 * Fees for a new transaction: priority = the node's suggestion capped at
 * the asset's max_priority_fee_per_gas; max fee = 2 * base_fee + priority
 * (room for the base fee to rise for a few blocks), capped at the asset's
 * max_fee_per_gas and never below priority.
 */
void txb_fees(u256 *max_fee, u256 *prio_fee, const u256 *base_fee,
    const u256 *suggested_prio, const struct pol_asset *a);

/*
 * A fee bump of a transaction whose fees were prev_max / prev_prio: each
 * * (100 + bump_percent) / 100, at least + 1 wei, capped at the asset's
 * caps, priority never above max fee.  Both must end strictly above
 * their previous values (signerd's rule for a re-sign, D22, and what
 * nodes need to replace a pooled transaction), else TXB_NO_ROOM and the
 * outputs are the previous fees.  A function of its inputs only: a
 * tracker that crashed after signerd signed a bump computes the same bump
 * again and gets the same signature back (D9).
 */
int txb_bump(u256 *max_fee, u256 *prio_fee, const u256 *prev_max,
    const u256 *prev_prio, int bump_percent, const struct pol_asset *a)
    WARN_UNUSED;

/*
 * Checks signerd's answer to a SIGN_REQ for the transaction unsigned_tx:
 * raw decodes as that transaction, signed, and hash is keccak-256 of raw.
 * signerd is trusted, but a reply that is not what was asked must not be
 * stored and broadcast as this payout.  Returns 0, or ERR_MALFORMED.
 */
int txb_check_signed(const uint8_t *raw, size_t raw_len,
    const uint8_t hash[32], const uint8_t *unsigned_tx, size_t unsigned_len)
    WARN_UNUSED;

/*
 * Decodes a signed transaction into its unsigned form (signature
 * cleared), the base of a fee bump.  Returns 0, ERR_MALFORMED when raw is
 * not a signed transaction, or evm_tx_decode's error; *tx zeroed then.
 */
int txb_unsigned_of(struct evm_tx *tx, const uint8_t *raw, size_t raw_len)
    WARN_UNUSED;

#endif
