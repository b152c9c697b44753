/* fuzz_erc20.c: libFuzzer harness for transfer calldata decoding. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "evm/erc20.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero_addr[EVM_ADDR_LEN];
	uint8_t to[EVM_ADDR_LEN], again[ERC20_TRANSFER_LEN];
	u256 amount;
	int ret;

	ret = erc20_transfer_decode(to, &amount, data, size);
	if (ret != 0) {
		/* A refusal leaves nothing behind that could be used by mistake. */
		if (memcmp(to, zero_addr, sizeof(to)) != 0 || !u256_is_zero(&amount))
			abort();
		return 0;
	}
	/* Strict decoding: the only accepted form is the one we would write. */
	erc20_transfer_encode(again, to, &amount);
	if (size != ERC20_TRANSFER_LEN || memcmp(again, data, size) != 0)
		abort();
	return 0;
}
