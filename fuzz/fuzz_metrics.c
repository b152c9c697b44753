/*
 * fuzz_metrics.c: METRICS_REQ/REP's decoders (proto/msg.c) and the
 * Prometheus renderer (proto/metrics.c) on any bytes.  What decodes is
 * canonical and renders, and the text it renders is nothing but
 * signerd_* lines of printable ASCII: a hostile signerd (or a bit flip)
 * cannot inject a line, a label or a control byte into orchestratord's
 * GET /metrics page or a textfile collector's file.
 *
 * Seeds: fuzz/corpus/fuzz_metrics, a reply with every list non-empty,
 * a refusal, and the request.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proto/metrics.h"
#include "proto/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer runs one input at a time: the large struct lives here. */
static struct prt_metrics m;

static int
line_ok(const uint8_t *p, size_t n)
{
	static const char *const starts[] = { "# HELP signerd_",
	    "# TYPE signerd_", "signerd_" };
	size_t i, k;

	for (k = 0; k < sizeof(starts) / sizeof(starts[0]); k++)
		if (n >= strlen(starts[k]) &&
		    memcmp(p, starts[k], strlen(starts[k])) == 0)
			break;
	if (k == sizeof(starts) / sizeof(starts[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return 0;
	return 1;
}

static void
check_text(const struct prt_writer *w)
{
	size_t start = 0, i;

	if (w->len == 0 || w->p[w->len - 1] != '\n')
		abort();
	for (i = 0; i < w->len; i++) {
		if (w->p[i] != '\n')
			continue;
		if (!line_ok(w->p + start, i - start))
			abort();
		start = i + 1;
	}
}

static void
run(const uint8_t *data, size_t size)
{
	struct prt_reply_hdr hdr;
	struct prt_writer w;

	if (prt_decode_metrics_req(data, size) == 0) {
		prt_writer_init(&w, PRT_MAX_MESSAGE);
		if (prt_encode_metrics_req(&w) != 0 || w.len != size ||
		    memcmp(w.p, data, size) != 0)
			abort();
		prt_writer_free(&w);
	}
	if (prt_decode_metrics_rep(&hdr, &m, data, size) != 0)
		return;
	/* One meaning, one encoding. */
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	if (prt_encode_metrics_rep(&w, &hdr, &m) != 0 || w.len != size ||
	    memcmp(w.p, data, size) != 0)
		abort();
	prt_writer_free(&w);
	if (hdr.result != 0)
		return;
	/* Whatever decodes renders, and renders clean. */
	prt_writer_init(&w, 1024 * 1024);
	if (prt_metrics_text(&w, &m) != 0)
		abort();
	check_text(&w);
	prt_writer_free(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t version, type;
	uint8_t *copy;

	run(data, size);
	/* Another version's frame also runs as ours (see fuzz_wire.c). */
	if (prt_peek_header(&version, &type, data, size) == 0 &&
	    version != PRT_VERSION) {
		if ((copy = malloc(size)) == NULL)
			abort();
		memcpy(copy, data, size);
		copy[4] = PRT_VERSION >> 8;
		copy[5] = PRT_VERSION & 0xff;
		run(copy, size);
		free(copy);
	}
	return 0;
}
