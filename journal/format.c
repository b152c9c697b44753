/* format.c: building one journal line and reading its fixed prefix (D1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "journal/internal.h"

static const char prefix_prev[] = "{\"prev\":\"";
static const char prefix_seq[] = "\",\"seq\":";

int
jnl_hasher_init(struct jnl_hasher *h)
{
	memset(h, 0, sizeof(*h));
	/* Fetch once: EVP_sha256() would look the provider up per digest. */
	if ((h->md = EVP_MD_fetch(NULL, "SHA2-256", NULL)) == NULL ||
	    (h->ctx = EVP_MD_CTX_new()) == NULL) {
		jnl_hasher_free(h);
		return ERR_NOMEM;
	}
	return 0;
}

void
jnl_hasher_free(struct jnl_hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	memset(h, 0, sizeof(*h));
}

int
jnl_hash(struct jnl_hasher *h, uint8_t out[32], const void *p, size_t n)
{
	unsigned int olen = 0;

	if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1 ||
	    EVP_DigestUpdate(h->ctx, p, n) != 1 ||
	    EVP_DigestFinal_ex(h->ctx, out, &olen) != 1 || olen != 32) {
		memset(out, 0, 32);
		return ERR_INTERNAL;
	}
	return 0;
}

int
jnl_fmt_body(char **text, size_t *len, const json_t *body, int checkpoint)
{
	const char *type;
	char *t = NULL;
	size_t n;
	int r = ERR_INVALID_ARG;

	*text = NULL;
	*len = 0;
	if (!json_is_object(body) || json_object_size(body) == 0)
		goto out;
	/* The prefix owns these two: a second "seq" would let jq and our
	 * scanner disagree about a record. */
	if (json_object_get(body, "prev") != NULL ||
	    json_object_get(body, "seq") != NULL)
		goto out;
	type = json_string_value(json_object_get(body, "type"));
	if (type == NULL || type[0] == '\0')
		goto out;
	/* Only jnl_checkpoint() writes checkpoints: a verifier rejects one
	 * without a valid signature. */
	if (!checkpoint && strcmp(type, "checkpoint") == 0)
		goto out;
	if ((t = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	n = strlen(t);
	if (n < 2 || t[0] != '{' || t[n - 1] != '}' ||
	    memchr(t, '\n', n) != NULL)
		goto out;
	/* prefix + body without '{' + '\n' must fit, whatever seq becomes. */
	if (JNL_PREFIX_MAX + (n - 1) + 1 > JNL_LINE_MAX) {
		r = ERR_TOO_LARGE;
		goto out;
	}
	*text = t;
	*len = n;
	t = NULL;
	r = 0;
out:
	free(t);
	return r;
}

int
jnl_fmt_line(struct prt_writer *w, uint8_t hash[32], struct jnl_hasher *h,
    uint64_t seq, const uint8_t prev[32], const char *body, size_t body_len)
{
	char hex[65], pre[JNL_PREFIX_MAX + 1];
	size_t start = w->len;
	int n, r;

	memset(hash, 0, 32);
	if (body_len < 3 || body[0] != '{' || body[body_len - 1] != '}')
		return ERR_INVALID_ARG;
	util_hex_encode(hex, prev, 32);
	n = snprintf(pre, sizeof(pre), "%s%s%s%llu,", prefix_prev, hex,
	    prefix_seq, (unsigned long long)seq);
	if (n < 0 || (size_t)n >= sizeof(pre))
		return ERR_INTERNAL;
	prt_put_bytes(w, pre, (size_t)n);
	prt_put_bytes(w, body + 1, body_len - 1);
	prt_put_u8(w, '\n');
	if ((r = prt_writer_error(w)) != 0)
		return r;
	if (w->len - start > JNL_LINE_MAX)
		return ERR_TOO_LARGE;
	return jnl_hash(h, hash, w->p + start, w->len - start - 1);
}

/*
 * Lowercase hex digit -> value + 1; 0 for anything else.  A table, not
 * range tests: random hex defeats branch prediction, and open() decodes
 * one prev per record.
 */
static const uint8_t hex_plus1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

/* Reads n bytes that must equal lit. */
static int
get_literal(struct prt_reader *r, const char *lit, size_t n)
{
	const uint8_t *v;
	int ret;

	if ((ret = prt_get_view(r, &v, n)) != 0)
		return ret;
	return memcmp(v, lit, n) == 0 ? 0 : ERR_MALFORMED;
}

int
jnl_fmt_prefix(struct jnl_prefix *out, const char **reason,
    const uint8_t *line, size_t len)
{
	struct prt_reader r;
	const uint8_t *v;
	uint64_t seq = 0;
	size_t i, ndig = 0;
	unsigned int hi, lo;
	uint8_t c = 0;
	int ret, bad = 0;

	memset(out, 0, sizeof(*out));
	*reason = NULL;
	prt_reader_init(&r, line, len);
	if (get_literal(&r, prefix_prev, sizeof(prefix_prev) - 1) != 0) {
		*reason = "line does not start with {\"prev\":\"";
		return ERR_MALFORMED;
	}
	if (prt_get_view(&r, &v, 64) != 0) {
		*reason = "prev is cut short";
		return ERR_MALFORMED;
	}
	/* Lowercase only: one spelling per hash keeps the line canonical. */
	for (i = 0; i < 32; i++) {
		hi = hex_plus1[v[2 * i]];
		lo = hex_plus1[v[2 * i + 1]];
		bad |= hi == 0 || lo == 0;
		/* Unsigned: on a bad digit this wraps harmlessly; the
		 * result is thrown away below. */
		out->prev[i] = (uint8_t)((hi - 1u) << 4 | (lo - 1u));
	}
	if (bad) {
		memset(out->prev, 0, sizeof(out->prev));
		*reason = "prev is not 64 lowercase hex digits";
		return ERR_BAD_DIGIT;
	}
	if (get_literal(&r, prefix_seq, sizeof(prefix_seq) - 1) != 0) {
		*reason = "prev is not followed by \",\"seq\":";
		return ERR_MALFORMED;
	}
	for (;;) {
		if ((ret = prt_get_u8(&r, &c)) != 0) {
			*reason = "seq is cut short";
			return ERR_MALFORMED;
		}
		if (c == ',')
			break;
		if (c < '0' || c > '9') {
			*reason = "seq is not a decimal number followed by ','";
			return ERR_BAD_DIGIT;
		}
		if (ndig == 0 && c == '0') {
			*reason = "seq has a leading zero or is zero";
			return ERR_NONCANONICAL;
		}
		if (seq > (UINT64_MAX - (uint64_t)(c - '0')) / 10) {
			*reason = "seq does not fit 64 bits";
			return ERR_OVERFLOW;
		}
		seq = seq * 10 + (uint64_t)(c - '0');
		ndig++;
	}
	if (ndig == 0) {
		*reason = "seq is empty";
		return ERR_MALFORMED;
	}
	/* The body: at least one field, and the object must close the line. */
	if (prt_remaining(&r) < 2 ||
	    prt_get_view(&r, &v, prt_remaining(&r)) != 0 || v[0] != '"' ||
	    line[len - 1] != '}') {
		*reason = "no body field after seq, or the line does not end "
		    "with '}'";
		return ERR_MALFORMED;
	}
	out->seq = seq;
	return 0;
}
