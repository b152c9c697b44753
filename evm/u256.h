/* u256.h: checked unsigned 256-bit integers for amounts in base units. */
#ifndef EVM_U256_H
#define EVM_U256_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

/* Little-endian 64-bit limbs: w[0] is the least significant. */
typedef struct {
	uint64_t w[4];
} u256;

#define U256_DEC_MAX 79	/* 78 digits of 2^256-1 plus the NUL */

void u256_from_u64(u256 *out, uint64_t v);
int u256_is_zero(const u256 *a);

/* Returns -1, 0 or 1 as a <, ==, > b. */
int u256_cmp(const u256 *a, const u256 *b);

/* out = a + b; ERR_OVERFLOW (out untouched) when the sum exceeds 2^256-1. */
int u256_add(u256 *out, const u256 *a, const u256 *b) WARN_UNUSED;

/* out = a - b; ERR_OVERFLOW (out untouched) when b > a. */
int u256_sub(u256 *out, const u256 *a, const u256 *b) WARN_UNUSED;

/* out = a * m; ERR_OVERFLOW (out untouched) on overflow. */
int u256_mul_u64(u256 *out, const u256 *a, uint64_t m) WARN_UNUSED;

/* Returns 0 and *out when a fits in 64 bits, else ERR_OVERFLOW. */
int u256_to_u64(uint64_t *out, const u256 *a) WARN_UNUSED;

/*
 * Parses a decimal string of 1..78 digits, no sign, no spaces, no leading
 * zeros except "0" itself.  ERR_BAD_DIGIT for a non-digit or empty string,
 * ERR_NONCANONICAL for leading zeros, ERR_OVERFLOW above 2^256-1.
 */
int u256_from_dec(u256 *out, const char *s) WARN_UNUSED;

/*
 * Writes the decimal form (no leading zeros) into out, cap >= U256_DEC_MAX.
 * A smaller cap that cannot hold the value gets "", never a prefix.
 */
void u256_to_dec(char *out, size_t cap, const u256 *a);

/*
 * Reads n <= 32 big-endian bytes (any leading zeros allowed).  ERR_TOO_LARGE
 * when n > 32.
 */
int u256_from_be(u256 *out, const uint8_t *in, size_t n) WARN_UNUSED;

/* Writes 32 big-endian bytes. */
void u256_to_be32(uint8_t out[32], const u256 *a);

/*
 * Writes the minimal big-endian form (no leading zero bytes; zero is empty)
 * into out[32] and returns its length: the RLP integer form.
 */
size_t u256_to_be_min(uint8_t out[32], const u256 *a);

#endif
