/* fuzz_state.c: libFuzzer harness for signerd's snapshot state blob (STT5, D55): any bytes load or are refused, and what loads writes back the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "signerd/state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_state *st, *again;
	struct prt_writer w;

	log_init("fuzz_state", LOG_LEVEL_ERROR + 1);
	if (sd_state_new(&st, 0) != 0)
		return 0;
	if (sd_state_deserialize(st, data, size) == 0) {
		/* A blob that loads is a state: written again (nothing is
		 * older than day 0) it loads again, to the same count. */
		prt_writer_init(&w, 1 << 24);
		if (sd_state_serialize(st, &w, 0) != 0)
			abort();
		if (sd_state_new(&again, 0) != 0)
			abort();
		if (sd_state_deserialize(again, w.p, w.len) != 0 ||
		    sd_state_count(again) != sd_state_count(st))
			abort();
		sd_state_free(again);
		prt_writer_free(&w);
	}
	sd_state_free(st);
	return 0;
}
