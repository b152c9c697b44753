/* buf.c: bounded reader and growable writer; see buf.h for the rules. */
#include "proto/buf.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

void
prt_reader_init(struct prt_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p != NULL ? len : 0;
	r->off = 0;
}

size_t
prt_remaining(const struct prt_reader *r)
{
	return r->len - r->off;
}

int
prt_end(const struct prt_reader *r)
{
	return prt_remaining(r) == 0 ? 0 : ERR_TRAILING;
}

int
prt_get_view(struct prt_reader *r, const uint8_t **out, size_t n)
{
	*out = NULL;
	if (n > prt_remaining(r))
		return ERR_TRUNCATED;
	/* A reader over nothing has a NULL base: no arithmetic on it. */
	if (r->p == NULL)
		return 0;
	*out = r->p + r->off;
	r->off += n;
	return 0;
}

int
prt_get_bytes(struct prt_reader *r, void *out, size_t n)
{
	const uint8_t *v;
	int ret;

	if (n > 0)
		memset(out, 0, n);
	if ((ret = prt_get_view(r, &v, n)) != 0)
		return ret;
	if (n > 0)
		memcpy(out, v, n);
	return 0;
}

static int
get_be(struct prt_reader *r, uint64_t *v, size_t n)
{
	const uint8_t *b;
	size_t i;
	int ret;

	*v = 0;
	if ((ret = prt_get_view(r, &b, n)) != 0)
		return ret;
	for (i = 0; i < n; i++)
		*v = *v << 8 | b[i];
	return 0;
}

int
prt_get_u8(struct prt_reader *r, uint8_t *v)
{
	uint64_t t;
	int ret = get_be(r, &t, 1);

	*v = (uint8_t)t;
	return ret;
}

int
prt_get_u16(struct prt_reader *r, uint16_t *v)
{
	uint64_t t;
	int ret = get_be(r, &t, 2);

	*v = (uint16_t)t;
	return ret;
}

int
prt_get_u32(struct prt_reader *r, uint32_t *v)
{
	uint64_t t;
	int ret = get_be(r, &t, 4);

	*v = (uint32_t)t;
	return ret;
}

int
prt_get_u64(struct prt_reader *r, uint64_t *v)
{
	return get_be(r, v, 8);
}

int
prt_get_lv(struct prt_reader *r, const uint8_t **out, size_t *outlen,
    size_t max)
{
	size_t start = r->off;
	uint32_t n;
	int ret;

	*out = NULL;
	*outlen = 0;
	if ((ret = prt_get_u32(r, &n)) != 0)
		return ret;
	if (n > max) {
		r->off = start;
		return ERR_TOO_LARGE;
	}
	if ((ret = prt_get_view(r, out, n)) != 0) {
		r->off = start;
		return ret;
	}
	*outlen = n;
	return 0;
}

int
prt_get_string(struct prt_reader *r, char *out, size_t cap)
{
	size_t start = r->off, n;
	const uint8_t *v;
	int ret;

	if (cap == 0)
		return ERR_INVALID_ARG;
	out[0] = '\0';
	if ((ret = prt_get_lv(r, &v, &n, cap - 1)) != 0)
		return ret;
	if (n > 0 && memchr(v, '\0', n) != NULL) {
		r->off = start;
		return ERR_EMBEDDED_NUL;
	}
	if (n > 0)
		memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

int
prt_get_sub(struct prt_reader *r, struct prt_reader *sub, size_t n)
{
	const uint8_t *v;
	int ret;

	prt_reader_init(sub, NULL, 0);
	if ((ret = prt_get_view(r, &v, n)) != 0)
		return ret;
	prt_reader_init(sub, v, n);
	return 0;
}

void
prt_writer_init(struct prt_writer *w, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->max = max;
}

void
prt_writer_free(struct prt_writer *w)
{
	if (w->p != NULL) {
		util_wipe(w->p, w->cap);
		free(w->p);
	}
	memset(w, 0, sizeof(*w));
}

int
prt_writer_error(const struct prt_writer *w)
{
	return w->err;
}

/* Makes room for n more bytes; sets w->err on failure. */
static int
grow(struct prt_writer *w, size_t n)
{
	size_t want, ncap;
	uint8_t *np;

	if (w->err != 0)
		return w->err;
	if (n > w->max || w->len > w->max - n)
		return w->err = ERR_TOO_LARGE;
	want = w->len + n;
	if (want <= w->cap)
		return 0;
	ncap = w->cap < 64 ? 64 : w->cap;
	while (ncap < want)
		ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
	if (ncap > w->max)
		ncap = w->max;
	/* Copy rather than realloc so a buffer holding secrets is wiped. */
	if ((np = malloc(ncap)) == NULL)
		return w->err = ERR_NOMEM;
	if (w->len > 0)
		memcpy(np, w->p, w->len);
	if (w->p != NULL) {
		util_wipe(w->p, w->cap);
		free(w->p);
	}
	w->p = np;
	w->cap = ncap;
	return 0;
}

uint8_t *
prt_put_reserve(struct prt_writer *w, size_t n)
{
	uint8_t *at;

	/* n == 0 still allocates, so the result is never a NULL + 0 and
	 * NULL keeps meaning failure. */
	if (grow(w, n) != 0 || (w->p == NULL && grow(w, 1) != 0))
		return NULL;
	at = w->p + w->len;
	w->len += n;
	return at;
}

int
prt_put_bytes(struct prt_writer *w, const void *p, size_t n)
{
	uint8_t *at;

	if ((at = prt_put_reserve(w, n)) == NULL)
		return w->err;
	if (n > 0)
		memcpy(at, p, n);
	return 0;
}

static int
put_be(struct prt_writer *w, uint64_t v, size_t n)
{
	uint8_t b[8];
	size_t i;

	for (i = 0; i < n; i++)
		b[n - 1 - i] = (uint8_t)(v >> (8 * i));
	return prt_put_bytes(w, b, n);
}

int prt_put_u8(struct prt_writer *w, uint8_t v) { return put_be(w, v, 1); }
int prt_put_u16(struct prt_writer *w, uint16_t v) { return put_be(w, v, 2); }
int prt_put_u32(struct prt_writer *w, uint32_t v) { return put_be(w, v, 4); }
int prt_put_u64(struct prt_writer *w, uint64_t v) { return put_be(w, v, 8); }

int
prt_put_lv(struct prt_writer *w, const void *p, size_t n)
{
	if (w->err == 0 && n > UINT32_MAX)
		w->err = ERR_TOO_LARGE;
	if (prt_put_u32(w, (uint32_t)n) != 0)
		return w->err;
	return prt_put_bytes(w, p, n);
}

int
prt_put_string(struct prt_writer *w, const char *s)
{
	return prt_put_lv(w, s, strlen(s));
}

int
prt_insert(struct prt_writer *w, size_t off, const void *p, size_t n)
{
	if (off > w->len)
		return w->err != 0 ? w->err : (w->err = ERR_INVALID_ARG);
	if (prt_put_reserve(w, n) == NULL)
		return w->err;
	memmove(w->p + off + n, w->p + off, w->len - n - off);
	if (n > 0)
		memcpy(w->p + off, p, n);
	return 0;
}
