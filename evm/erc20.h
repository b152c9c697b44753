/* erc20.h: calldata of ERC-20 transfer(address,uint256). */
#ifndef EVM_ERC20_H
#define EVM_ERC20_H

#include <stddef.h>
#include <stdint.h>

#include "evm/addr.h"
#include "evm/u256.h"

#define ERC20_TRANSFER_LEN 68	/* selector + two 32-byte words */

/* Writes a9059cbb || pad32(to) || be32(amount) into out[68]. */
void erc20_transfer_encode(uint8_t out[ERC20_TRANSFER_LEN],
    const uint8_t to[EVM_ADDR_LEN], const u256 *amount);

/*
 * Decodes transfer calldata strictly: selector a9059cbb (ERR_UNSUPPORTED
 * for any other function, whatever its length), exactly 68 bytes
 * (ERR_MALFORMED, also for fewer than 4), and the 12 high bytes of the
 * address word zero (ERR_NONCANONICAL).  Outputs are zeroed on any error.
 */
int erc20_transfer_decode(uint8_t to[EVM_ADDR_LEN], u256 *amount,
    const uint8_t *data, size_t len) WARN_UNUSED;

#endif
