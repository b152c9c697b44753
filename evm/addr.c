/* addr.c: Ethereum addresses: EIP-55 text form and derivation from a public key. */
#include "evm/addr.h"

#include <string.h>

#include "common/err.h"
#include "evm/keccak.h"

#define ADDR_HEX (2 * EVM_ADDR_LEN)

/*
 * Writes the EIP-55 form of the 40 lowercase hex digits in lower into
 * out[40]: a letter is upper-cased when the matching nibble of
 * keccak256(lowercase hex as ASCII) is 8 or more.
 */
static void
checksum_case(char out[ADDR_HEX], const char lower[ADDR_HEX])
{
	uint8_t h[32];
	size_t i;
	unsigned nib;

	evm_keccak256(h, lower, ADDR_HEX);
	for (i = 0; i < ADDR_HEX; i++) {
		nib = i % 2 == 0 ? h[i / 2] >> 4 : h[i / 2] & 0x0f;
		out[i] = lower[i];
		if (lower[i] >= 'a' && lower[i] <= 'f' && nib >= 8)
			out[i] = (char)(lower[i] - 'a' + 'A');
	}
}

void
evm_addr_to_str(char out[EVM_ADDR_STR], const uint8_t addr[EVM_ADDR_LEN])
{
	char lower[ADDR_HEX + 1];

	util_hex_encode(lower, addr, EVM_ADDR_LEN);
	out[0] = '0';
	out[1] = 'x';
	checksum_case(out + 2, lower);
	out[2 + ADDR_HEX] = '\0';
}

static int
hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
evm_addr_from_str(uint8_t out[EVM_ADDR_LEN], const char *s,
    int allow_unchecksummed)
{
	char lower[ADDR_HEX], want[ADDR_HEX];
	const char *hex;
	int has_lower = 0, has_upper = 0, v;
	size_t i;

	memset(out, 0, EVM_ADDR_LEN);
	if (s[0] != '0' || s[1] != 'x')
		return ERR_MALFORMED;
	hex = s + 2;
	if (strnlen(hex, ADDR_HEX + 1) != ADDR_HEX)
		return ERR_MALFORMED;
	for (i = 0; i < ADDR_HEX; i++) {
		if ((v = hex_val(hex[i])) < 0)
			return ERR_BAD_DIGIT;
		has_lower |= hex[i] >= 'a' && hex[i] <= 'f';
		has_upper |= hex[i] >= 'A' && hex[i] <= 'F';
		lower[i] = "0123456789abcdef"[v];
	}
	checksum_case(want, lower);
	/*
	 * The exact EIP-55 form is always accepted, even when it happens to be
	 * single-case (the EIP lists such addresses).  Any other single-case
	 * string carries no checksum; mixed case that differs is a typo.
	 */
	if (memcmp(hex, want, ADDR_HEX) != 0 &&
	    (!allow_unchecksummed || (has_lower && has_upper)))
		return ERR_BAD_CHECKSUM;
	for (i = 0; i < EVM_ADDR_LEN; i++)
		out[i] = (uint8_t)(hex_val(lower[2 * i]) << 4 |
		    hex_val(lower[2 * i + 1]));
	return 0;
}

int
evm_addr_from_pubkey(uint8_t out[EVM_ADDR_LEN], const uint8_t pub[65])
{
	uint8_t h[32];

	memset(out, 0, EVM_ADDR_LEN);
	if (pub[0] != 0x04)
		return ERR_MALFORMED;
	evm_keccak256(h, pub + 1, 64);
	memcpy(out, h + sizeof(h) - EVM_ADDR_LEN, EVM_ADDR_LEN);
	return 0;
}
