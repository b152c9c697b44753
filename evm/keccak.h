/* keccak.h: Keccak-256 as Ethereum uses it (original padding, not SHA3-256). */
#ifndef EVM_KECCAK_H
#define EVM_KECCAK_H

#include <stddef.h>
#include <stdint.h>

void evm_keccak256(uint8_t out[32], const void *in, size_t len);

#endif
