/* fuzz_rlp.c: libFuzzer harness walking arbitrary nested RLP items. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "evm/rlp.h"

/* Deep enough for any real structure; bounds the recursion on hostile input. */
#define MAX_DEPTH 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Decodes every item of r, recursing into lists, and re-encodes it into w.
 * Also exercises the typed getters and checks that a failing getter leaves
 * the cursor where it was.
 */
static int
walk(struct prt_reader *r, struct prt_writer *w, int depth)
{
	struct prt_reader peek, list;
	const uint8_t *raw, *p;
	size_t rawlen, n, at, off;
	uint64_t v64;
	u256 v;
	int is_list, ret;

	while (prt_remaining(r) > 0) {
		off = r->off;
		peek = *r;
		if ((ret = rlp_get_raw(&peek, &raw, &rawlen, &is_list)) != 0) {
			if (peek.off != off || rawlen != 0 || raw != NULL)
				abort();
			return ret;
		}
		/* Typed getters on the same item either succeed or move nothing. */
		peek = *r;
		if (rlp_get_u64(&peek, &v64) != 0 && (peek.off != off || v64 != 0))
			abort();
		peek = *r;
		if (rlp_get_u256(&peek, &v) != 0 &&
		    (peek.off != off || !u256_is_zero(&v)))
			abort();
		if (is_list) {
			if (depth == 0)
				return ERR_TOO_LARGE;
			at = w->len;
			if (rlp_get_list(r, &list) != 0)
				abort();	/* get_raw accepted it */
			if ((ret = walk(&list, w, depth - 1)) != 0)
				return ret;
			rlp_close_list(w, at);
		} else {
			if (rlp_get_list(r, &list) != ERR_MALFORMED || r->off != off)
				abort();
			if (rlp_get_bytes(r, &p, &n) != 0)
				abort();
			rlp_put_bytes(w, p, n);
		}
		if (r->off - off != rawlen)
			abort();
	}
	return prt_writer_error(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prt_reader r;
	struct prt_writer w;

	prt_reader_init(&r, data, size);
	prt_writer_init(&w, 2 * size + 64);
	/* Canonical decoding means one encoding: what parses re-encodes exactly. */
	if (walk(&r, &w, MAX_DEPTH) == 0 &&
	    (w.len != size || (size > 0 && memcmp(w.p, data, size) != 0)))
		abort();
	prt_writer_free(&w);
	return 0;
}
