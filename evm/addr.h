/* addr.h: 20-byte Ethereum addresses and their EIP-55 text form. */
#ifndef EVM_ADDR_H
#define EVM_ADDR_H

#include <stdint.h>

#include "common/util.h"

#define EVM_ADDR_LEN 20
#define EVM_ADDR_STR 43	/* "0x" + 40 hex + NUL */

/* Writes the EIP-55 checksummed form "0x...". */
void evm_addr_to_str(char out[EVM_ADDR_STR], const uint8_t addr[EVM_ADDR_LEN]);

/*
 * Parses "0x" + 40 hex digits.  The exact EIP-55 form is always accepted,
 * also when it happens to be single-case (EIP-55 lists such addresses).
 * Any other mixed-case string is ERR_BAD_CHECKSUM.  Any other
 * all-lowercase or all-uppercase string carries no checksum: accepted only
 * when allow_unchecksummed is non-zero, else ERR_BAD_CHECKSUM.
 * ERR_MALFORMED for a wrong length or missing "0x" (lowercase x only),
 * ERR_BAD_DIGIT for a non-hex character.  out is zeroed on any error.
 */
int evm_addr_from_str(uint8_t out[EVM_ADDR_LEN], const char *s,
    int allow_unchecksummed) WARN_UNUSED;

/*
 * Derives the address from an uncompressed secp256k1 public key
 * (65 bytes, 0x04 || X || Y): the last 20 bytes of keccak256(X || Y).
 * ERR_MALFORMED if pub[0] != 0x04.
 */
int evm_addr_from_pubkey(uint8_t out[EVM_ADDR_LEN], const uint8_t pub[65])
    WARN_UNUSED;

#endif
