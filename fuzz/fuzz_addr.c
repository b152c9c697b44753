/* fuzz_addr.c: libFuzzer harness for EIP-55 address parsing. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "evm/addr.h"

#define MAX_TEXT 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[EVM_ADDR_LEN];
	char text[MAX_TEXT + 1], out[EVM_ADDR_STR];
	uint8_t addr[EVM_ADDR_LEN], pub[65];

	/* 65 bytes may be a public key; anything parses or is refused cleanly. */
	if (size == sizeof(pub)) {
		memcpy(pub, data, size);
		if (evm_addr_from_pubkey(addr, pub) != 0 &&
		    memcmp(addr, zero, sizeof(addr)) != 0)
			abort();
	}
	if (size > MAX_TEXT)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	/* Strict: only the exact checksum form is accepted. */
	if (evm_addr_from_str(addr, text, 0) == 0) {
		evm_addr_to_str(out, addr);
		if (strcmp(out, text) != 0)
			abort();
	} else if (memcmp(addr, zero, sizeof(addr)) != 0) {
		abort();
	}
	/* Lenient: the same address, whatever the case. */
	if (evm_addr_from_str(addr, text, 1) == 0) {
		evm_addr_to_str(out, addr);
		if (strcasecmp(out, text) != 0)
			abort();
		if (evm_addr_from_str(addr, out, 0) != 0)
			abort();
	}
	return 0;
}
