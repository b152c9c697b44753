/* rlp.c: RLP writer and a decoder that accepts only the canonical encoding. */
#include "evm/rlp.h"

#include <string.h>

#include "common/err.h"

#define RLP_STRING 0x80
#define RLP_LIST 0xc0
#define RLP_SHORT_MAX 55	/* longest payload with a one-byte header */
#define RLP_LENLEN_MAX 4	/* RLP_MAX_ITEM needs at most 3; 4 is ample */

/* Keeps the writer's "first error sticks" contract for our own checks. */
static int
writer_fail(struct prt_writer *w, int err)
{
	if (w->err == 0)
		w->err = err;
	return w->err;
}

/* Writes a header for a payload of n bytes into hdr[9]; returns its length. */
static size_t
make_header(uint8_t hdr[9], uint8_t base, size_t n)
{
	uint8_t le[8];
	size_t nb = 0, i;
	uint64_t v = n;

	if (n <= RLP_SHORT_MAX) {
		hdr[0] = (uint8_t)(base + n);
		return 1;
	}
	while (v != 0) {
		le[nb++] = (uint8_t)v;
		v >>= 8;
	}
	hdr[0] = (uint8_t)(base + RLP_SHORT_MAX + nb);
	for (i = 0; i < nb; i++)
		hdr[1 + i] = le[nb - 1 - i];
	return 1 + nb;
}

int
rlp_put_bytes(struct prt_writer *w, const uint8_t *p, size_t n)
{
	uint8_t hdr[9];
	size_t hlen;

	if (w->err != 0)
		return w->err;
	if (n > RLP_MAX_ITEM)
		return writer_fail(w, ERR_TOO_LARGE);
	/* A single byte below 0x80 is its own encoding. */
	if (n == 1 && p[0] < RLP_STRING)
		return prt_put_u8(w, p[0]);
	hlen = make_header(hdr, RLP_STRING, n);
	if (prt_put_bytes(w, hdr, hlen) != 0)
		return w->err;
	return prt_put_bytes(w, p, n);
}

int
rlp_put_u64(struct prt_writer *w, uint64_t v)
{
	uint8_t be[8];
	size_t skip = 0, i;

	for (i = 0; i < 8; i++)
		be[i] = (uint8_t)(v >> (8 * (7 - i)));
	/* Minimal form: zero is the empty string. */
	while (skip < 8 && be[skip] == 0)
		skip++;
	return rlp_put_bytes(w, be + skip, 8 - skip);
}

int
rlp_put_u256(struct prt_writer *w, const u256 *v)
{
	uint8_t be[32];
	size_t n = u256_to_be_min(be, v);

	return rlp_put_bytes(w, be, n);
}

int
rlp_close_list(struct prt_writer *w, size_t start)
{
	uint8_t hdr[9];
	size_t hlen, n;

	if (w->err != 0)
		return w->err;
	if (start > w->len)
		return writer_fail(w, ERR_INVALID_ARG);
	n = w->len - start;
	if (n > RLP_MAX_ITEM)
		return writer_fail(w, ERR_TOO_LARGE);
	hlen = make_header(hdr, RLP_LIST, n);
	return prt_insert(w, start, hdr, hlen);
}

/*
 * Parses the next item from t, which the caller owns and discards on
 * failure, so the caller's cursor only moves on success.  On success
 * the payload view is the item's content (for a single byte below 0x80,
 * the byte itself).  Checks, in order: lengths too long to bother with
 * (ERR_TOO_LARGE, before any payload is touched), non-canonical headers
 * (ERR_NONCANONICAL), payloads running past the input (ERR_TRUNCATED).
 */
static int
get_item(struct prt_reader *t, int *is_list, const uint8_t **payload,
    size_t *paylen)
{
	const uint8_t *tag, *lb;
	size_t len, lenlen, i;
	uint8_t base;
	int ret;

	*is_list = 0;
	*payload = NULL;
	*paylen = 0;
	if ((ret = prt_get_view(t, &tag, 1)) != 0)
		return ret;
	if (tag[0] < RLP_STRING) {
		*payload = tag;
		*paylen = 1;
		return 0;
	}
	base = tag[0] >= RLP_LIST ? RLP_LIST : RLP_STRING;
	len = (size_t)(tag[0] - base);
	if (len > RLP_SHORT_MAX) {
		lenlen = len - RLP_SHORT_MAX;
		if (lenlen > RLP_LENLEN_MAX)
			return ERR_TOO_LARGE;
		if ((ret = prt_get_view(t, &lb, lenlen)) != 0)
			return ret;
		/* One encoding per length: no leading zero, no long form that fits short. */
		if (lb[0] == 0)
			return ERR_NONCANONICAL;
		len = 0;
		for (i = 0; i < lenlen; i++)
			len = len << 8 | lb[i];
		if (len <= RLP_SHORT_MAX)
			return ERR_NONCANONICAL;
		if (len > RLP_MAX_ITEM)
			return ERR_TOO_LARGE;
	}
	if ((ret = prt_get_view(t, payload, len)) != 0)
		return ret;
	/* A lone byte below 0x80 must not be wrapped in a header. */
	if (base == RLP_STRING && len == 1 && (*payload)[0] < RLP_STRING) {
		*payload = NULL;
		return ERR_NONCANONICAL;
	}
	*is_list = base == RLP_LIST;
	*paylen = len;
	return 0;
}

int
rlp_get_bytes(struct prt_reader *r, const uint8_t **out, size_t *outlen)
{
	struct prt_reader t = *r;
	const uint8_t *p;
	size_t n;
	int is_list, ret;

	*out = NULL;
	*outlen = 0;
	if ((ret = get_item(&t, &is_list, &p, &n)) != 0)
		return ret;
	if (is_list)
		return ERR_MALFORMED;
	*r = t;
	*out = p;
	*outlen = n;
	return 0;
}

int
rlp_get_fixed(struct prt_reader *r, uint8_t *out, size_t n)
{
	struct prt_reader t = *r;
	const uint8_t *p;
	size_t got;
	int ret;

	memset(out, 0, n);
	if ((ret = rlp_get_bytes(&t, &p, &got)) != 0)
		return ret;
	if (got != n)
		return ERR_MALFORMED;
	if (n > 0)
		memcpy(out, p, n);
	*r = t;
	return 0;
}

/* Reads an integer item of at most max bytes as a big-endian view. */
static int
get_int(struct prt_reader *r, const uint8_t **be, size_t *n, size_t max)
{
	struct prt_reader t = *r;
	int ret;

	if ((ret = rlp_get_bytes(&t, be, n)) != 0)
		return ret;
	/* Zero is the empty string, so no integer starts with a zero byte. */
	if (*n > 0 && (*be)[0] == 0)
		ret = ERR_NONCANONICAL;
	else if (*n > max)
		ret = ERR_OVERFLOW;
	if (ret != 0) {
		*be = NULL;
		*n = 0;
		return ret;
	}
	*r = t;
	return 0;
}

int
rlp_get_u64(struct prt_reader *r, uint64_t *out)
{
	const uint8_t *be;
	size_t n, i;
	int ret;

	*out = 0;
	if ((ret = get_int(r, &be, &n, 8)) != 0)
		return ret;
	for (i = 0; i < n; i++)
		*out = *out << 8 | be[i];
	return 0;
}

int
rlp_get_u256(struct prt_reader *r, u256 *out)
{
	const uint8_t *be;
	size_t n;
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = get_int(r, &be, &n, 32)) != 0)
		return ret;
	return u256_from_be(out, be, n);
}

int
rlp_get_list(struct prt_reader *r, struct prt_reader *list)
{
	struct prt_reader t = *r;
	const uint8_t *p;
	size_t n;
	int is_list, ret;

	prt_reader_init(list, NULL, 0);
	if ((ret = get_item(&t, &is_list, &p, &n)) != 0)
		return ret;
	if (!is_list)
		return ERR_MALFORMED;
	*r = t;
	prt_reader_init(list, p, n);
	return 0;
}

int
rlp_get_raw(struct prt_reader *r, const uint8_t **out, size_t *outlen,
    int *is_list)
{
	struct prt_reader t = *r;
	const uint8_t *p;
	size_t n, whole;
	int list, ret;

	*out = NULL;
	*outlen = 0;
	*is_list = 0;
	if ((ret = get_item(&t, &list, &p, &n)) != 0)
		return ret;
	/* The item was checked on the copy; take it, header and all, from r. */
	whole = t.off - r->off;
	if ((ret = prt_get_view(r, out, whole)) != 0)
		return ret;
	*outlen = whole;
	*is_list = list;
	return 0;
}
