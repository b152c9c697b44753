/* tx.c: EIP-1559 (type 2) transaction encoding, strict decoding and hashes. */
#include "evm/tx.h"

#include <string.h>

#include "common/err.h"
#include "evm/keccak.h"
#include "evm/rlp.h"

#define SLOT_LEN 32	/* an access-list storage key */

/* Appends a 32-byte big-endian signature value as a minimal RLP integer. */
static int
put_sig_int(struct prt_writer *w, const uint8_t be[32])
{
	size_t skip = 0;

	while (skip < 32 && be[skip] == 0)
		skip++;
	return rlp_put_bytes(w, be + skip, 32 - skip);
}

/* The one encoder: with_sig selects the signed (12-field) form. */
static int
encode(struct prt_writer *w, const struct evm_tx *tx, int with_sig)
{
	size_t list_at, al_at;

	if (prt_writer_error(w) != 0)
		return prt_writer_error(w);
	if (tx->access_list_items != 0)
		return ERR_UNSUPPORTED;
	if (tx->data_len > EVM_TX_MAX_DATA || (with_sig && tx->y_parity > 1))
		return ERR_INVALID_ARG;
	prt_put_u8(w, EVM_TX_TYPE_1559);
	list_at = w->len;
	rlp_put_u64(w, tx->chain_id);
	rlp_put_u64(w, tx->nonce);
	rlp_put_u256(w, &tx->max_priority_fee_per_gas);
	rlp_put_u256(w, &tx->max_fee_per_gas);
	rlp_put_u64(w, tx->gas_limit);
	rlp_put_bytes(w, tx->to, tx->has_to ? EVM_ADDR_LEN : 0);
	rlp_put_u256(w, &tx->value);
	rlp_put_bytes(w, tx->data, tx->data_len);
	/* The access list: empty, as checked above. */
	al_at = w->len;
	rlp_close_list(w, al_at);
	if (with_sig) {
		rlp_put_u64(w, tx->y_parity);
		put_sig_int(w, tx->r);
		put_sig_int(w, tx->s);
	}
	rlp_close_list(w, list_at);
	return prt_writer_error(w);
}

int
evm_tx_encode(struct prt_writer *w, const struct evm_tx *tx)
{
	return encode(w, tx, tx->is_signed);
}

/*
 * Walks [[address20, [slot32, ...]], ...] strictly and counts entries.
 * Policy refuses non-empty lists, but it can only do so if they parse.
 */
static int
decode_access_list(struct prt_reader *fields, size_t *count)
{
	struct prt_reader al, entry, slots;
	uint8_t addr[EVM_ADDR_LEN], slot[SLOT_LEN];
	int ret;

	*count = 0;
	if ((ret = rlp_get_list(fields, &al)) != 0)
		return ret;
	while (prt_remaining(&al) > 0) {
		if ((ret = rlp_get_list(&al, &entry)) != 0 ||
		    (ret = rlp_get_fixed(&entry, addr, sizeof(addr))) != 0 ||
		    (ret = rlp_get_list(&entry, &slots)) != 0)
			return ret;
		while (prt_remaining(&slots) > 0)
			if ((ret = rlp_get_fixed(&slots, slot, sizeof(slot))) != 0)
				return ret;
		if ((ret = prt_end(&entry)) != 0)
			return ret;
		(*count)++;
	}
	return 0;
}

int
evm_tx_decode(struct evm_tx *tx, const uint8_t *in, size_t len)
{
	struct prt_reader r, f;
	const uint8_t *p;
	size_t n;
	uint64_t parity;
	u256 sig;
	uint8_t type;
	int ret;

	memset(tx, 0, sizeof(*tx));
	prt_reader_init(&r, in, len);
	if ((ret = prt_get_u8(&r, &type)) != 0)
		goto out;
	/* Legacy and other EIP-2718 types are valid elsewhere, not here. */
	if (type != EVM_TX_TYPE_1559) {
		ret = ERR_UNSUPPORTED;
		goto out;
	}
	if ((ret = rlp_get_list(&r, &f)) != 0 || (ret = prt_end(&r)) != 0)
		goto out;
	if ((ret = rlp_get_u64(&f, &tx->chain_id)) != 0 ||
	    (ret = rlp_get_u64(&f, &tx->nonce)) != 0 ||
	    (ret = rlp_get_u256(&f, &tx->max_priority_fee_per_gas)) != 0 ||
	    (ret = rlp_get_u256(&f, &tx->max_fee_per_gas)) != 0 ||
	    (ret = rlp_get_u64(&f, &tx->gas_limit)) != 0)
		goto out;
	if ((ret = rlp_get_bytes(&f, &p, &n)) != 0)
		goto out;
	if (n == EVM_ADDR_LEN) {
		memcpy(tx->to, p, n);
		tx->has_to = 1;
	} else if (n != 0) {
		ret = ERR_MALFORMED;
		goto out;
	}
	if ((ret = rlp_get_u256(&f, &tx->value)) != 0 ||
	    (ret = rlp_get_bytes(&f, &p, &n)) != 0)
		goto out;
	if (n > EVM_TX_MAX_DATA) {
		ret = ERR_TOO_LARGE;
		goto out;
	}
	if (n > 0)
		memcpy(tx->data, p, n);
	tx->data_len = n;
	if ((ret = decode_access_list(&f, &tx->access_list_items)) != 0)
		goto out;
	if (prt_remaining(&f) == 0) {
		ret = 0;
		goto out;
	}
	/* Signed form: exactly three more fields. */
	if ((ret = rlp_get_u64(&f, &parity)) != 0)
		goto out;
	if (parity > 1) {
		ret = ERR_MALFORMED;
		goto out;
	}
	tx->y_parity = (uint8_t)parity;
	if ((ret = rlp_get_u256(&f, &sig)) != 0)
		goto out;
	u256_to_be32(tx->r, &sig);
	if ((ret = rlp_get_u256(&f, &sig)) != 0)
		goto out;
	u256_to_be32(tx->s, &sig);
	if ((ret = prt_end(&f)) != 0)
		goto out;
	tx->is_signed = 1;
	ret = 0;
out:
	/* Never hand back half a transaction. */
	if (ret != 0)
		memset(tx, 0, sizeof(*tx));
	return ret;
}

/* Encodes in one form and hashes the bytes. */
static int
hash_form(uint8_t out[32], const struct evm_tx *tx, int with_sig)
{
	struct prt_writer w;
	int ret;

	memset(out, 0, 32);
	prt_writer_init(&w, EVM_TX_MAX_ENCODED);
	if ((ret = encode(&w, tx, with_sig)) != 0)
		goto out;
	evm_keccak256(out, w.p, w.len);
	ret = 0;
out:
	prt_writer_free(&w);
	return ret;
}

int
evm_tx_signing_hash(uint8_t out[32], const struct evm_tx *tx)
{
	return hash_form(out, tx, 0);
}

int
evm_tx_hash(uint8_t out[32], const struct evm_tx *tx)
{
	if (!tx->is_signed) {
		memset(out, 0, 32);
		return ERR_INVALID_ARG;
	}
	return hash_form(out, tx, 1);
}
