/* fuzz_u256.c: libFuzzer harness for decimal parsing and u256 arithmetic. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "evm/u256.h"

#define MAX_TEXT 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The arithmetic must agree with itself on whatever value was parsed. */
static void
check_arith(const u256 *a)
{
	u256 one, sum, back, ten, be_back;
	uint8_t be[32], min[32];
	size_t n;

	u256_from_u64(&one, 1);
	if (u256_add(&sum, a, &one) == 0) {
		if (u256_sub(&back, &sum, &one) != 0 || u256_cmp(&back, a) != 0 ||
		    u256_cmp(&sum, a) <= 0)
			abort();
	}
	if (u256_mul_u64(&ten, a, 10) == 0 && !u256_is_zero(a) &&
	    u256_cmp(&ten, a) <= 0)
		abort();
	u256_to_be32(be, a);
	n = u256_to_be_min(min, a);
	if (n > 32 || (n > 0 && min[0] == 0) ||
	    u256_from_be(&be_back, min, n) != 0 || u256_cmp(&be_back, a) != 0)
		abort();
	if (u256_from_be(&be_back, be, 32) != 0 || u256_cmp(&be_back, a) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[MAX_TEXT + 1], out[U256_DEC_MAX];
	u256 a;

	if (size > MAX_TEXT)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (u256_from_dec(&a, text) != 0) {
		if (!u256_is_zero(&a))
			abort();
		return 0;
	}
	/* Canonical decimal: parsing then formatting gives the input back. */
	u256_to_dec(out, sizeof(out), &a);
	if (strcmp(out, text) != 0)
		abort();
	check_arith(&a);
	return 0;
}
