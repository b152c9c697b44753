/*
 * buf.h: the bounded cursor through which every untrusted byte is read, and
 * the growable writer that builds every encoding (RLP, wire frames, journal).
 *
 * Reader rules (OpenSSH sshbuf, OpenSMTPD m_get_*): each getter returns 0 or
 * a negative ERR_*, clears its outputs before anything else, checks bounds
 * without overflow, and leaves the cursor where it was on failure.  Call
 * prt_end() after the last field to reject trailing bytes.
 */
#ifndef PROTO_BUF_H
#define PROTO_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

struct prt_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/* Starts reading len bytes at p.  The bytes must outlive the reader. */
void prt_reader_init(struct prt_reader *r, const void *p, size_t len);

/* Bytes not yet consumed. */
size_t prt_remaining(const struct prt_reader *r);

/* Returns 0 if every byte was consumed, else ERR_TRAILING. */
int prt_end(const struct prt_reader *r) WARN_UNUSED;

/* Fixed-size big-endian integers.  ERR_TRUNCATED if too few bytes remain. */
int prt_get_u8(struct prt_reader *r, uint8_t *v) WARN_UNUSED;
int prt_get_u16(struct prt_reader *r, uint16_t *v) WARN_UNUSED;
int prt_get_u32(struct prt_reader *r, uint32_t *v) WARN_UNUSED;
int prt_get_u64(struct prt_reader *r, uint64_t *v) WARN_UNUSED;

/* Copies exactly n bytes into out. */
int prt_get_bytes(struct prt_reader *r, void *out, size_t n) WARN_UNUSED;

/* Points *out at the next n bytes without copying, and consumes them. */
int prt_get_view(struct prt_reader *r, const uint8_t **out, size_t n)
    WARN_UNUSED;

/*
 * Reads a u32 big-endian length then that many bytes as a view.  A length
 * above max gives ERR_TOO_LARGE before the bytes are looked at.
 */
int prt_get_lv(struct prt_reader *r, const uint8_t **out, size_t *outlen,
    size_t max) WARN_UNUSED;

/*
 * Like prt_get_lv for text: copies into out (cap bytes incl. the NUL) and
 * rejects embedded NULs (ERR_EMBEDDED_NUL) and lengths >= cap (ERR_TOO_LARGE).
 */
int prt_get_string(struct prt_reader *r, char *out, size_t cap) WARN_UNUSED;

/*
 * Splits off the next n bytes as a reader of their own (for nested
 * structures such as RLP lists) and consumes them from r.
 */
int prt_get_sub(struct prt_reader *r, struct prt_reader *sub, size_t n)
    WARN_UNUSED;

/*
 * Writer: grows on demand up to max bytes.  After the first failure every
 * later put is a no-op and returns the same error, so a sequence of puts
 * can be checked once with prt_writer_error().
 */
struct prt_writer {
	uint8_t *p;
	size_t len;
	size_t cap;
	size_t max;
	int err;
};

/* Starts an empty writer that refuses to grow beyond max bytes. */
void prt_writer_init(struct prt_writer *w, size_t max);

/* Wipes and frees the buffer; the writer may be initialised again. */
void prt_writer_free(struct prt_writer *w);

/* Returns 0 or the first error any put met. */
int prt_writer_error(const struct prt_writer *w) WARN_UNUSED;

int prt_put_u8(struct prt_writer *w, uint8_t v);
int prt_put_u16(struct prt_writer *w, uint16_t v);
int prt_put_u32(struct prt_writer *w, uint32_t v);
int prt_put_u64(struct prt_writer *w, uint64_t v);
int prt_put_bytes(struct prt_writer *w, const void *p, size_t n);
/* u32 length then bytes: the counterpart of prt_get_lv. */
int prt_put_lv(struct prt_writer *w, const void *p, size_t n);
/* u32 length then the string without its NUL: counterpart of prt_get_string. */
int prt_put_string(struct prt_writer *w, const char *s);

/*
 * Reserves n bytes at the end and returns a pointer to them (NULL on
 * failure).  The pointer is valid until the next put.
 */
uint8_t *prt_put_reserve(struct prt_writer *w, size_t n);

/* Inserts n bytes at offset off, moving later bytes up (RLP list headers). */
int prt_insert(struct prt_writer *w, size_t off, const void *p, size_t n);

#endif
