/* fuzz_tx.c: libFuzzer harness for evm_tx_decode and its canonical round trip. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "evm/tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct evm_tx tx;
	struct prt_writer w;
	uint8_t h1[32], h2[32];
	int ret;

	if (evm_tx_decode(&tx, data, size) != 0)
		return 0;
	if (tx.y_parity > 1 || tx.data_len > EVM_TX_MAX_DATA)
		abort();
	prt_writer_init(&w, EVM_TX_MAX_ENCODED);
	ret = evm_tx_encode(&w, &tx);
	if (tx.access_list_items != 0) {
		/* Decoded for policy to refuse; the encoder must refuse it too. */
		if (ret != ERR_UNSUPPORTED)
			abort();
	} else {
		/* One transaction, one encoding: the bytes must come back. */
		if (ret != 0 || w.len != size || memcmp(w.p, data, size) != 0)
			abort();
		if (evm_tx_signing_hash(h1, &tx) != 0)
			abort();
		if (tx.is_signed && evm_tx_hash(h2, &tx) != 0)
			abort();
	}
	prt_writer_free(&w);
	return 0;
}
