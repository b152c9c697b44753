/* fuzz_journal.c: any bytes as a journal segment through the chain scanner and the record checks. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "common/err.h"
#include "journal/internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The audit key of the seed corpus (fuzz/corpus/fuzz_journal), so its
 * checkpoints verify and mutations reach past the signature check.  Its
 * private half was thrown away after signing the seeds.
 */
static const char audit_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEkJGupyXUpFaNLJaCZwlZW4MDCTQ+\n"
    "Ch/oqLU6h1JmP14lVbKSIlxjazc69Jk5Mip2rkgZhyEDI9sQ+7QcItYfgQ==\n"
    "-----END PUBLIC KEY-----\n";

/*
 * Per-process state, set up once in LLVMFuzzerInitialize.  Each walk used
 * to fetch SHA-256 from OpenSSL's provider twice and calloc a 128 KiB
 * checkpoint ring, above ASan's largest size class and so an mmap and a
 * munmap per walk: three walks an input, that set-up cost more than the
 * walks themselves (15k execs/s, 37k without).
 */
static EVP_PKEY *audit_key;
static struct jnl_scan scan;		/* its hasher is kept across walks */
static struct jnl_hasher canon_h;	/* check_canonical's */
static struct jnl_ckpt_ring ring;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	BIO *b;

	if ((b = BIO_new_mem_buf(audit_pem, -1)) == NULL ||
	    (audit_key = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL)) == NULL ||
	    jnl_scan_init(&scan) != 0 || jnl_hasher_init(&canon_h) != 0 ||
	    jnl_ckpt_ring_init(&ring) != 0)
		abort();
	BIO_free(b);
	return 0;
}

/*
 * Puts the scan and the ring back to what jnl_scan_init() and
 * jnl_ckpt_ring_init() return (all zeros but the hasher), so every walk
 * starts from the same state whatever the input before it did.
 */
static void
reset(void)
{
	struct jnl_hasher h = scan.h;
	size_t n;

	memset(&scan, 0, sizeof(scan));
	scan.h = h;
	/* Only seqs 1..ring.seq were pushed. */
	n = ring.seq < JNL_CHECKPOINT_WINDOW ? ring.seq + 1 :
	    JNL_CHECKPOINT_WINDOW;
	memset(ring.hash, 0, n * sizeof(*ring.hash));
	ring.seq = 0;
}

/*
 * A line that passed the scan must be rebuilt byte for byte from its seq,
 * prev and body: one record has one spelling, so the hash auditors compute
 * is the hash signerd computed.
 */
static void
check_canonical(struct jnl_hasher *h, const struct jnl_line *l,
    const uint8_t prev[32])
{
	struct prt_writer w;
	const uint8_t *comma;
	uint8_t hash[32];
	char *body;
	size_t blen;

	/* The body starts after the comma that ends the prefix. */
	comma = memchr(l->p + 9 + 64 + 8, ',', l->len - (9 + 64 + 8));
	if (comma == NULL)
		abort();
	blen = l->len - (size_t)(comma - l->p);
	if ((body = malloc(blen + 1)) == NULL)
		abort();
	body[0] = '{';
	memcpy(body + 1, comma + 1, blen - 1);
	prt_writer_init(&w, JNL_LINE_MAX);
	if (jnl_fmt_line(&w, hash, h, l->seq, prev, body, blen) != 0 ||
	    w.len != l->len + 1 || memcmp(w.p, l->p, l->len) != 0 ||
	    memcmp(hash, l->hash, 32) != 0)
		abort();
	prt_writer_free(&w);
	free(body);
}

/* Walks data as segment 1; returns the head seq and fills hash. */
static uint64_t
walk(uint8_t head[32], size_t *complete, size_t *torn, const uint8_t *data,
    size_t size, int last, int deep)
{
	struct jnl_seg_cursor c;
	struct jnl_line l;
	struct jnl_error e;
	const char *reason;
	uint8_t prev[32];
	uint64_t hs, seq;
	json_t *rec;
	int r;

	*complete = *torn = 0;
	reset();
	if (jnl_scan_segment(&scan, &c, &e, 1, data, size, last) != 0)
		abort();
	memcpy(prev, scan.hash, 32);
	while ((r = jnl_scan_next(&scan, &c, &l, &e)) == 1) {
		*complete = l.offset + l.len + 1;
		if (!deep)
			continue;
		check_canonical(&canon_h, &l, prev);
		memcpy(prev, l.hash, 32);
		if (jnl_parse_record(&rec, &reason, &l) == 0) {
			if (strcmp(json_string_value(json_object_get(rec,
			    "type")), "checkpoint") == 0 &&
			    jnl_ckpt_verify(&hs, &reason, &ring, l.seq, rec,
			    audit_key) == 0 && (hs == 0 || hs >= l.seq))
				abort();
			json_decref(rec);
		}
		jnl_ckpt_ring_push(&ring, l.seq, l.hash);
	}
	/* Errors name a place inside the input. */
	if (r < 0 && (e.offset > size || e.code != r))
		abort();
	if (r == 0)
		*torn = c.torn;
	seq = scan.seq;
	memcpy(head, scan.hash, 32);
	return r == 0 ? seq : UINT64_MAX;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t head[32], head2[32];
	size_t complete, torn, complete2, torn2;
	uint64_t seq, seq2;

	seq = walk(head, &complete, &torn, data, size, 1, 1);
	if (seq == UINT64_MAX)
		return 0;
	/* A clean walk accounts for every byte: whole lines, then a tear. */
	if (complete + torn != size ||
	    (complete > 0 && data[complete - 1] != '\n'))
		abort();
	/* What open keeps after dropping the tear walks the same, even with a
	 * newer segment after it. */
	seq2 = walk(head2, &complete2, &torn2, data, complete, 0, 0);
	if (seq2 != seq || complete2 != complete || torn2 != 0 ||
	    memcmp(head, head2, 32) != 0)
		abort();
	/* A tail without its newline is torn only in the newest segment. */
	if (torn > 0 &&
	    walk(head2, &complete2, &torn2, data, size, 0, 0) != UINT64_MAX)
		abort();
	return 0;
}
