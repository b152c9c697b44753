/* jnl_test.h: temp directories, file surgery and record bodies shared by the journal tests. */
#ifndef TESTS_JOURNAL_JNL_TEST_H
#define TESTS_JOURNAL_JNL_TEST_H

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "journal/journal.h"

/*
 * A jnl_signer_fn that stands in for signerd's HSM function: signs the
 * digest with ctx, an OpenSSL P-256 key, and returns raw r||s as the HSM
 * does.  Aborts on failure: tests control the key.
 */
static inline int
key_signer(void *ctx, uint8_t rs[64], const uint8_t digest[32])
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new(ctx, NULL);
	const uint8_t *p;
	uint8_t der[80];
	size_t dl = sizeof(der);
	ECDSA_SIG *sig;

	if (pc == NULL || EVP_PKEY_sign_init(pc) != 1 ||
	    EVP_PKEY_sign(pc, der, &dl, digest, 32) != 1)
		abort();
	p = der;
	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)dl)) == NULL)
		abort();
	BN_bn2binpad(ECDSA_SIG_get0_r(sig), rs, 32);
	BN_bn2binpad(ECDSA_SIG_get0_s(sig), rs + 32, 32);
	ECDSA_SIG_free(sig);
	EVP_PKEY_CTX_free(pc);
	return 0;
}

/* Creates a fresh directory under $TMPDIR (or /tmp); dir holds PATH_MAX. */
static inline void
t_mkdtemp(char *dir)
{
	const char *base = getenv("TMPDIR");

	if (snprintf(dir, PATH_MAX, "%s/jnltest.XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp") >= PATH_MAX ||
	    mkdtemp(dir) == NULL)
		abort();
}

static inline int
t_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void
t_rm_rf(const char *dir)
{
	nftw(dir, t_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* dir/seg-0000000N.jsonl into out (PATH_MAX). */
static inline void
t_seg_path(char *out, const char *dir, unsigned n)
{
	if (snprintf(out, PATH_MAX, "%s/seg-%08u.jsonl", dir, n) >= PATH_MAX)
		abort();
}

/* Whole file into a malloc'ed, NUL-terminated buffer; *len its size. */
static inline char *
t_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;

	if (len != NULL)
		*len = 0;
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	if (b == NULL || fread(b, 1, (size_t)n, f) != (size_t)n)
		abort();
	b[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return b;
}

static inline void
t_write(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, n, f) != n)
		abort();
	fclose(f);
}

/* Byte offset of line number k (1-based) in buf, or -1. */
static inline long
t_line_off(const char *buf, size_t len, int k)
{
	size_t i;
	int line = 1;

	if (k == 1)
		return 0;
	for (i = 0; i < len; i++)
		if (buf[i] == '\n' && ++line == k)
			return (long)(i + 1);
	return -1;
}

/* Length of line k including its '\n'. */
static inline size_t
t_line_len(const char *buf, size_t len, int k)
{
	long off = t_line_off(buf, len, k);
	const char *nl = memchr(buf + off, '\n', len - (size_t)off);

	return (size_t)(nl - (buf + off)) + 1;
}

/* A body like signerd's: {"type":"signed","ts":..,"request":"req-<i>",..} */
static inline json_t *
t_body(int i)
{
	char req[32];

	snprintf(req, sizeof(req), "req-%d", i);
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "signed",
	    "ts", "2026-11-22T10:00:00Z", "request", req,
	    "policy", "9f2c4e1a", "amount", "1500000000000000000");
}

/* Appends n records numbered from first; fails the test on error. */
static inline int
t_append_n(struct jnl *j, int first, int n)
{
	json_t *b;
	int i, r;

	for (i = 0; i < n; i++) {
		b = t_body(first + i);
		r = jnl_append(j, NULL, NULL, b);
		json_decref(b);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Opens dir, appends n records, closes. */
static inline int
t_make_journal(const char *dir, int n, uint64_t segment_max)
{
	struct jnl_config cfg;
	struct jnl_error e;
	struct jnl *j;
	int r;

	memset(&cfg, 0, sizeof(cfg));
	cfg.segment_max = segment_max;
	if ((r = jnl_open(&j, &e, dir, &cfg)) != 0)
		return r;
	r = t_append_n(j, 1, n);
	jnl_close(j);
	return r;
}

/*
 * Writes seg-0000000<segno>.jsonl in dir holding bodies[0..n) (each "{...}"
 * text, not checked) chained from seq first with prev; prev is updated to
 * the last hash.  Needs journal/internal.h included first.
 */
#ifdef JOURNAL_INTERNAL_H
static inline void
t_write_chain(const char *dir, unsigned segno, uint64_t first,
    uint8_t prev[32], const char *const *bodies, int n)
{
	char path[PATH_MAX];
	struct jnl_hasher h;
	struct prt_writer w;
	uint8_t hash[32];
	int i;

	if (jnl_hasher_init(&h) != 0)
		abort();
	prt_writer_init(&w, 1 << 24);
	for (i = 0; i < n; i++) {
		if (jnl_fmt_line(&w, hash, &h, first + (uint64_t)i, prev,
		    bodies[i], strlen(bodies[i])) != 0)
			abort();
		memcpy(prev, hash, 32);
	}
	t_seg_path(path, dir, segno);
	t_write(path, w.p, w.len);
	prt_writer_free(&w);
	jnl_hasher_free(&h);
}
#endif

#endif
