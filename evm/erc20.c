/* erc20.c: build and strictly parse ERC-20 transfer(address,uint256) calldata. */
#include "evm/erc20.h"

#include <string.h>

#include "common/err.h"
#include "proto/buf.h"

#define ABI_WORD 32
#define ADDR_PAD (ABI_WORD - EVM_ADDR_LEN)

/* First four bytes of keccak256("transfer(address,uint256)"). */
static const uint8_t transfer_selector[4] = { 0xa9, 0x05, 0x9c, 0xbb };

void
erc20_transfer_encode(uint8_t out[ERC20_TRANSFER_LEN],
    const uint8_t to[EVM_ADDR_LEN], const u256 *amount)
{
	memcpy(out, transfer_selector, sizeof(transfer_selector));
	memset(out + 4, 0, ADDR_PAD);
	memcpy(out + 4 + ADDR_PAD, to, EVM_ADDR_LEN);
	u256_to_be32(out + 4 + ABI_WORD, amount);
}

int
erc20_transfer_decode(uint8_t to[EVM_ADDR_LEN], u256 *amount,
    const uint8_t *data, size_t len)
{
	static const uint8_t zeros[ADDR_PAD];
	struct prt_reader r;
	const uint8_t *sel, *pad, *amt;
	int ret;

	memset(to, 0, EVM_ADDR_LEN);
	memset(amount, 0, sizeof(*amount));
	prt_reader_init(&r, data, len);
	/* A call to another function is refused as such, whatever its length. */
	if ((ret = prt_get_view(&r, &sel, sizeof(transfer_selector))) != 0)
		return ERR_MALFORMED;
	if (memcmp(sel, transfer_selector, sizeof(transfer_selector)) != 0)
		return ERR_UNSUPPORTED;
	if (len != ERC20_TRANSFER_LEN)
		return ERR_MALFORMED;
	if ((ret = prt_get_view(&r, &pad, ADDR_PAD)) != 0 ||
	    (ret = prt_get_bytes(&r, to, EVM_ADDR_LEN)) != 0 ||
	    (ret = prt_get_view(&r, &amt, ABI_WORD)) != 0 ||
	    (ret = prt_end(&r)) != 0)
		goto fail;
	/*
	 * Decoders disagree on dirty high bits (old Solidity masked them,
	 * ABI coder v2 reverts); refusing them gives one call one encoding.
	 */
	if (memcmp(pad, zeros, ADDR_PAD) != 0) {
		ret = ERR_NONCANONICAL;
		goto fail;
	}
	if ((ret = u256_from_be(amount, amt, ABI_WORD)) != 0)
		goto fail;
	return 0;
fail:
	memset(to, 0, EVM_ADDR_LEN);
	memset(amount, 0, sizeof(*amount));
	return ret;
}
