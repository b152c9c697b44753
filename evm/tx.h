/* tx.h: EIP-1559 (type 2) transactions: encode, decode, hashes. */
#ifndef EVM_TX_H
#define EVM_TX_H

#include <stddef.h>
#include <stdint.h>

#include "evm/addr.h"
#include "evm/u256.h"
#include "proto/buf.h"

#define EVM_TX_TYPE_1559 0x02
#define EVM_TX_MAX_DATA 4096	/* calldata we will ever sign: transfers */
#define EVM_TX_MAX_ENCODED 8192

struct evm_tx {
	uint64_t chain_id;
	uint64_t nonce;
	u256 max_priority_fee_per_gas;
	u256 max_fee_per_gas;
	uint64_t gas_limit;
	int has_to;	/* 0: contract creation (never signed by policy) */
	uint8_t to[EVM_ADDR_LEN];
	u256 value;
	uint8_t data[EVM_TX_MAX_DATA];
	size_t data_len;
	size_t access_list_items;	/* decoded entries; policy wants 0 */
	/* Present only in the signed form. */
	int is_signed;
	uint8_t y_parity;	/* 0 or 1 */
	uint8_t r[32];
	uint8_t s[32];
};

/*
 * Appends 0x02 || rlp([chain_id, nonce, max_priority_fee_per_gas,
 * max_fee_per_gas, gas_limit, to, value, data, access_list]) and, when
 * tx->is_signed, y_parity, r, s inside the list.  Only an empty access list
 * is encoded (access_list_items must be 0: ERR_UNSUPPORTED otherwise).
 * ERR_INVALID_ARG for data_len above EVM_TX_MAX_DATA or (signed) y_parity
 * above 1; nothing is written on those three errors.
 */
int evm_tx_encode(struct prt_writer *w, const struct evm_tx *tx) WARN_UNUSED;

/*
 * Decodes a type-2 transaction, unsigned (9 fields) or signed (12 fields),
 * strictly: canonical RLP, no trailing bytes, to empty or 20 bytes,
 * y_parity 0 or 1, r and s at most 32 bytes (left-padded into r, s), data at
 * most EVM_TX_MAX_DATA, and a well-formed access list
 * ([[address20, [slot32, ...]], ...]) whose entries are counted.
 * Codes: ERR_UNSUPPORTED for any first byte but 0x02 (legacy, other types);
 * ERR_MALFORMED for a wrong kind or size of field and y_parity above 1;
 * ERR_TOO_LARGE for data above EVM_TX_MAX_DATA; ERR_TRUNCATED for too few
 * fields; ERR_TRAILING for too many or bytes after the list; the rlp.h codes
 * otherwise.  *tx is zeroed on any error.
 */
int evm_tx_decode(struct evm_tx *tx, const uint8_t *in, size_t len)
    WARN_UNUSED;

/* keccak256 of the unsigned encoding: the digest the key signs. */
int evm_tx_signing_hash(uint8_t out[32], const struct evm_tx *tx) WARN_UNUSED;

/*
 * keccak256 of the signed encoding: the transaction hash nodes report.
 * ERR_INVALID_ARG if tx is not signed.
 */
int evm_tx_hash(uint8_t out[32], const struct evm_tx *tx) WARN_UNUSED;

#endif
