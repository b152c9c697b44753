/* sha256.h: the one SHA-256 implementation handle signerd uses. */
#ifndef SIGNERD_SHA256_H
#define SIGNERD_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/*
 * SHA-256, fetched from the provider once.  Passing EVP_sha256() makes
 * OpenSSL 3 fetch the implementation again on every call, which `make bench`
 * measured at about 5% of start-up replay.  Never NULL (aborts if the
 * default provider has no SHA-256, which would be a broken install).
 */
const EVP_MD *sd_sha256(void);

/* out = SHA-256 of n bytes at p (aborts like sd_sha256). */
void sd_sha256_buf(uint8_t out[32], const void *p, size_t n);

#endif
