/* u256.c: checked 256-bit unsigned arithmetic and decimal/big-endian forms. */
#include "evm/u256.h"

#include <string.h>

#include "common/err.h"

#define U256_LIMBS 4
#define U256_DEC_DIGITS 78	/* digits of 2^256-1 */

void
u256_from_u64(u256 *out, uint64_t v)
{
	memset(out, 0, sizeof(*out));
	out->w[0] = v;
}

int
u256_is_zero(const u256 *a)
{
	return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0;
}

int
u256_cmp(const u256 *a, const u256 *b)
{
	int i;

	for (i = U256_LIMBS - 1; i >= 0; i--) {
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	}
	return 0;
}

int
u256_add(u256 *out, const u256 *a, const u256 *b)
{
	u256 t;
	uint64_t carry = 0, s;
	int i;

	for (i = 0; i < U256_LIMBS; i++) {
		s = a->w[i] + carry;
		carry = s < carry;
		t.w[i] = s + b->w[i];
		carry += t.w[i] < s;
	}
	if (carry != 0)
		return ERR_OVERFLOW;
	*out = t;
	return 0;
}

int
u256_sub(u256 *out, const u256 *a, const u256 *b)
{
	u256 t;
	uint64_t borrow = 0, d;
	int i;

	if (u256_cmp(a, b) < 0)
		return ERR_OVERFLOW;
	for (i = 0; i < U256_LIMBS; i++) {
		d = a->w[i] - borrow;
		borrow = a->w[i] < borrow;
		t.w[i] = d - b->w[i];
		borrow += d < b->w[i];
	}
	*out = t;
	return 0;
}

/* Full 64x64 -> 128 product from 32-bit halves: no compiler extensions. */
static void
mul64(uint64_t *hi, uint64_t *lo, uint64_t a, uint64_t b)
{
	uint64_t a0 = a & 0xffffffffu, a1 = a >> 32;
	uint64_t b0 = b & 0xffffffffu, b1 = b >> 32;
	uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
	uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);

	*lo = (mid << 32) | (p00 & 0xffffffffu);
	*hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

int
u256_mul_u64(u256 *out, const u256 *a, uint64_t m)
{
	u256 t;
	uint64_t carry = 0, hi, lo;
	int i;

	for (i = 0; i < U256_LIMBS; i++) {
		mul64(&hi, &lo, a->w[i], m);
		t.w[i] = lo + carry;
		/* hi <= 2^64-2, so adding the carry bit cannot wrap. */
		carry = hi + (t.w[i] < lo);
	}
	if (carry != 0)
		return ERR_OVERFLOW;
	*out = t;
	return 0;
}

int
u256_to_u64(uint64_t *out, const u256 *a)
{
	*out = 0;
	if ((a->w[1] | a->w[2] | a->w[3]) != 0)
		return ERR_OVERFLOW;
	*out = a->w[0];
	return 0;
}

int
u256_from_dec(u256 *out, const char *s)
{
	u256 acc, digit;
	size_t n, i;
	int r;

	memset(out, 0, sizeof(*out));
	n = strlen(s);
	if (n == 0)
		return ERR_BAD_DIGIT;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return ERR_BAD_DIGIT;
	if (s[0] == '0' && n > 1)
		return ERR_NONCANONICAL;
	if (n > U256_DEC_DIGITS)
		return ERR_OVERFLOW;
	memset(&acc, 0, sizeof(acc));
	for (i = 0; i < n; i++) {
		u256_from_u64(&digit, (uint64_t)(s[i] - '0'));
		if ((r = u256_mul_u64(&acc, &acc, 10)) != 0 ||
		    (r = u256_add(&acc, &acc, &digit)) != 0)
			return r;
	}
	*out = acc;
	return 0;
}

/* Divides a by d (d < 2^32) in place and returns the remainder. */
static uint32_t
divmod_small(u256 *a, uint32_t d)
{
	uint64_t rem = 0, part;
	int i, half;

	for (i = U256_LIMBS - 1; i >= 0; i--) {
		uint64_t q = 0;

		/* rem < d < 2^32, so rem << 32 | half-limb fits in 64 bits. */
		for (half = 1; half >= 0; half--) {
			part = rem << 32 | ((a->w[i] >> (32 * half)) & 0xffffffffu);
			q |= (part / d) << (32 * half);
			rem = part % d;
		}
		a->w[i] = q;
	}
	return (uint32_t)rem;
}

void
u256_to_dec(char *out, size_t cap, const u256 *a)
{
	char tmp[U256_DEC_MAX];
	size_t n = 0, i;
	u256 t = *a;

	if (cap == 0)
		return;
	do {
		tmp[n++] = (char)('0' + divmod_small(&t, 10));
	} while (!u256_is_zero(&t));
	/* API misuse (cap below U256_DEC_MAX) yields "" rather than a prefix. */
	if (n >= cap) {
		out[0] = '\0';
		return;
	}
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

int
u256_from_be(u256 *out, const uint8_t *in, size_t n)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	if (n > 32)
		return ERR_TOO_LARGE;
	for (i = 0; i < n; i++) {
		size_t bit = 8 * (n - 1 - i);

		out->w[bit / 64] |= (uint64_t)in[i] << (bit % 64);
	}
	return 0;
}

void
u256_to_be32(uint8_t out[32], const u256 *a)
{
	size_t i;

	for (i = 0; i < 32; i++) {
		size_t bit = 8 * (31 - i);

		out[i] = (uint8_t)(a->w[bit / 64] >> (bit % 64));
	}
}

size_t
u256_to_be_min(uint8_t out[32], const u256 *a)
{
	uint8_t be[32];
	size_t skip = 0;

	u256_to_be32(be, a);
	while (skip < 32 && be[skip] == 0)
		skip++;
	memset(out, 0, 32);
	memcpy(out, be + skip, 32 - skip);
	return 32 - skip;
}
