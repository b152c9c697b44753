/*
 * ecsig.h: turn a raw ECDSA signature from the HSM into an Ethereum one.
 * Half of all HSM signatures are high-S, which nodes reject; the recovery id
 * is not part of PKCS#11 at all.  Both come from libsecp256k1 here, and the
 * recovered key must equal the HSM's key before the signature is used.
 */
#ifndef EVM_ECSIG_H
#define EVM_ECSIG_H

#include <stdint.h>

#include "common/util.h"

/*
 * Given digest (32 bytes), the HSM's r||s (64 bytes) and the key's
 * uncompressed public key (65 bytes, 0x04||X||Y), writes low-S r and s and
 * the y parity (0/1) for which public-key recovery yields pub.
 * ERR_BAD_SIGNATURE if r||s does not parse, ERR_HSM_SIG_MISMATCH if no
 * recovery id gives pub (a wrong key or a corrupt signature).
 */
int evm_sig_finish(uint8_t r[32], uint8_t s[32], uint8_t *y_parity,
    const uint8_t digest[32], const uint8_t rs[64], const uint8_t pub[65])
    WARN_UNUSED;

/*
 * The public key (uncompressed, 65 bytes) that signed digest with the
 * low-S signature (r, s, y_parity) of a transaction.  ERR_BAD_SIGNATURE
 * for a zero, out-of-range or high-S r or s, or no recoverable key.
 */
int evm_sig_recover(uint8_t pub[65], const uint8_t digest[32],
    const uint8_t r[32], const uint8_t s[32], uint8_t y_parity) WARN_UNUSED;

#endif
