/* keccak.c: Keccak-256 sponge (original 0x01 padding) over nettle's Keccak-f[1600]. */
#include "evm/keccak.h"

#include <string.h>

#include <nettle/sha3.h>

#include "common/util.h"

/* 1600-bit state minus 512 bits of capacity (twice the digest). */
#define KECCAK256_RATE 136

/* Lanes are little-endian 64-bit words whatever the host byte order. */
static uint64_t
load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
store_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
absorb(struct sha3_state *st, const uint8_t block[KECCAK256_RATE])
{
	size_t i;

	for (i = 0; i < KECCAK256_RATE / 8; i++)
		st->a[i] ^= load_le64(block + 8 * i);
	sha3_permute(st);
}

void
evm_keccak256(uint8_t out[32], const void *in, size_t len)
{
	struct sha3_state st;
	uint8_t last[KECCAK256_RATE];
	const uint8_t *p = in;
	size_t i;

	memset(&st, 0, sizeof(st));
	for (; len >= KECCAK256_RATE; len -= KECCAK256_RATE, p += KECCAK256_RATE)
		absorb(&st, p);
	/*
	 * Keccak's pad10*1 with no domain bits: 0x01 after the message, 0x80
	 * in the last byte of the block (the same byte, 0x81, when only one
	 * byte is left).  SHA3-256 would put 0x06 here instead.
	 */
	memset(last, 0, sizeof(last));
	if (len > 0)
		memcpy(last, p, len);
	last[len] ^= 0x01;
	last[KECCAK256_RATE - 1] ^= 0x80;
	absorb(&st, last);
	for (i = 0; i < 4; i++)
		store_le64(out + 8 * i, st.a[i]);
	/* The input may be a secret (a key being checked); leave no copy. */
	util_wipe(last, sizeof(last));
	util_wipe(&st, sizeof(st));
}
