/* scan.c: the hash-only walk that checks prefix, prev chain and seq of every line. */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "journal/internal.h"

int
jnl_scan_init(struct jnl_scan *s)
{
	memset(s, 0, sizeof(*s));
	return jnl_hasher_init(&s->h);
}

void
jnl_scan_free(struct jnl_scan *s)
{
	jnl_hasher_free(&s->h);
	memset(s, 0, sizeof(*s));
}

int
jnl_scan_segment(struct jnl_scan *s, struct jnl_seg_cursor *c,
    struct jnl_error *err, uint32_t seg_no, const uint8_t *buf, size_t len,
    int last)
{
	char want[40];

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), JNL_SEG_NAME_FMT, seg_no);
	/* A missing segment takes its records with it; the numbering says so
	 * before the seq gap does. */
	if (seg_no != s->seg_no + 1) {
		snprintf(want, sizeof(want), JNL_SEG_NAME_FMT, s->seg_no + 1);
		return jnl_err(err, ERR_MALFORMED, c->name, 0, s->seq + 1,
		    "segment %s is missing (%s follows %s)%s", want, c->name,
		    s->seg_no == 0 ? "nothing" : s->last_segment,
		    s->seg_no == 0 ? "; if it was archived, verify with "
		    "--archive ADIR" : "");
	}
	s->seg_no = seg_no;
	prt_reader_init(&c->r, buf, len);
	c->last = last;
	return 0;
}

/*
 * Called when line (n bytes, just consumed from c) does not chain to the
 * record before it.  Returns 1 if the next line in the segment still names
 * line's hash as its prev: line is then intact and the record before it
 * is the one altered.  Otherwise (line's own prev was altered, or there is
 * no next line to ask) the break is blamed on line.
 */
static int
successor_vouches(struct jnl_scan *s, const struct jnl_seg_cursor *c,
    const uint8_t *line, size_t n)
{
	const uint8_t *next = line + n + 1, *nl;
	size_t rem = c->r.len - (size_t)(next - c->r.p);
	struct jnl_prefix pre;
	const char *reason;
	uint8_t hash[32];

	if ((nl = memchr(next, '\n', rem)) == NULL ||
	    (size_t)(nl - next) + 1 > JNL_LINE_MAX ||
	    jnl_fmt_prefix(&pre, &reason, next, (size_t)(nl - next)) != 0 ||
	    jnl_hash(&s->h, hash, line, n) != 0)
		return 0;
	return memcmp(pre.prev, hash, 32) == 0;
}

int
jnl_scan_next(struct jnl_scan *s, struct jnl_seg_cursor *c,
    struct jnl_line *out, struct jnl_error *err)
{
	struct jnl_prefix pre;
	const uint8_t *p, *nl, *line;
	const char *reason;
	size_t rem, n, off;
	int r;

	memset(out, 0, sizeof(*out));
	if ((rem = prt_remaining(&c->r)) == 0)
		return 0;
	off = c->r.off;
	p = c->r.p + off;
	if ((nl = memchr(p, '\n', rem)) == NULL) {
		/* Only the newest segment can end mid-line: a crash during
		 * the write that would have been acknowledged. */
		if (!c->last)
			return jnl_err(err, ERR_MALFORMED, c->name, off,
			    s->seq + 1, "segment does not end with a newline "
			    "but a newer segment follows");
		c->torn = rem;
		return 0;
	}
	n = (size_t)(nl - p);
	if (n + 1 > JNL_LINE_MAX)
		return jnl_err(err, ERR_TOO_LARGE, c->name, off, s->seq + 1,
		    "line of %zu bytes is longer than %d", n + 1,
		    JNL_LINE_MAX);
	if ((r = prt_get_view(&c->r, &line, n + 1)) != 0)
		return jnl_err(err, r, c->name, off, s->seq + 1,
		    "line framing");
	if ((r = jnl_fmt_prefix(&pre, &reason, line, n)) != 0) {
		c->r.off = off;
		return jnl_err(err, r, c->name, off, s->seq + 1, "%s", reason);
	}
	if (pre.seq != s->seq + 1) {
		c->r.off = off;
		return jnl_err(err, ERR_MALFORMED, c->name, off, pre.seq,
		    "seq %llu where %llu was expected: a record was removed, "
		    "reordered or duplicated", (unsigned long long)pre.seq,
		    (unsigned long long)(s->seq + 1));
	}
	if (memcmp(pre.prev, s->hash, 32) != 0) {
		c->r.off = off;
		if (s->seq == 0)
			return jnl_err(err, ERR_MALFORMED, c->name, off,
			    pre.seq, "the first record's prev is not 64 "
			    "zeros");
		if (successor_vouches(s, c, line, n))
			return jnl_err(err, ERR_MALFORMED, s->last_segment,
			    s->last_offset, s->seq, "the record's SHA-256 "
			    "differs from the prev of seq %llu (%s offset "
			    "%zu), whose own successor still matches it: "
			    "this record was altered",
			    (unsigned long long)pre.seq, c->name, off);
		return jnl_err(err, ERR_MALFORMED, c->name, off, pre.seq,
		    "prev differs from the SHA-256 of seq %llu (%s offset "
		    "%llu): this record's prev or that record was altered",
		    (unsigned long long)s->seq, s->last_segment,
		    (unsigned long long)s->last_offset);
	}
	if ((r = jnl_hash(&s->h, out->hash, line, n)) != 0) {
		c->r.off = off;
		return jnl_err(err, r, c->name, off, pre.seq, "SHA-256");
	}
	out->seq = pre.seq;
	out->p = line;
	out->len = n;
	out->offset = off;
	s->seq = pre.seq;
	memcpy(s->hash, out->hash, 32);
	memcpy(s->last_segment, c->name, sizeof(s->last_segment));
	s->last_offset = off;
	return 1;
}

int
jnl_scan_buffer(struct jnl_scan *s, size_t *complete, struct jnl_error *err,
    uint32_t seg_no, const uint8_t *buf, size_t len, int last)
{
	struct jnl_seg_cursor c;
	struct jnl_line l;
	int r;

	*complete = 0;
	if ((r = jnl_scan_segment(s, &c, err, seg_no, buf, len, last)) != 0)
		return r;
	while ((r = jnl_scan_next(s, &c, &l, err)) == 1)
		*complete = l.offset + l.len + 1;
	return r;
}
