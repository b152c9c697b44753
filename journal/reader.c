/* reader.c: read-only iteration over a journal's records, chain-checked (audit show); one record read back by position. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "journal/internal.h"

struct jnl_reader {
	int dirfd;
	struct jnl_dir d;
	size_t next_seg;	/* index in d.segs of the next to load */
	int loaded;		/* c walks fb */
	struct jnl_filebuf fb;
	struct jnl_seg_cursor c;
	struct jnl_scan s;
	json_t *json;		/* the record last handed out */
};

int
jnl_reader_open(struct jnl_reader **out, struct jnl_error *err,
    const char *dir)
{
	struct jnl_reader *rd;
	int r;

	*out = NULL;
	jnl_err(err, 0, NULL, 0, 0, "%s", "");
	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		return jnl_err(err, ERR_NOMEM, NULL, 0, 0, "out of memory");
	rd->dirfd = -1;
	if ((r = jnl_scan_init(&rd->s)) != 0) {
		jnl_err(err, r, NULL, 0, 0, "out of memory");
		goto out;
	}
	if ((r = jnl_open_dir(&rd->dirfd, err, dir)) != 0 ||
	    (r = jnl_dir_list(&rd->d, err, rd->dirfd)) != 0)
		goto out;
	*out = rd;
	rd = NULL;
out:
	jnl_reader_close(rd);
	return r;
}

int
jnl_reader_next(struct jnl_reader *rd, struct jnl_record *rec,
    struct jnl_error *err)
{
	struct jnl_line l;
	const char *reason;
	char name[40];
	size_t len;
	int r;

	memset(rec, 0, sizeof(*rec));
	json_decref(rd->json);
	rd->json = NULL;
	for (;;) {
		if (!rd->loaded) {
			if (rd->next_seg >= rd->d.nsegs)
				return 0;
			snprintf(name, sizeof(name), JNL_SEG_NAME_FMT,
			    rd->d.segs[rd->next_seg]);
			if ((r = jnl_read_into(&rd->fb, &len, err, rd->dirfd,
			    name, 2 * JNL_SEGMENT_MAX_LIMIT)) != 0 ||
			    (r = jnl_scan_segment(&rd->s, &rd->c, err,
			    rd->d.segs[rd->next_seg], rd->fb.p, len,
			    rd->next_seg + 1 == rd->d.nsegs)) != 0)
				return r;
			rd->next_seg++;
			rd->loaded = 1;
		}
		if ((r = jnl_scan_next(&rd->s, &rd->c, &l, err)) < 0)
			return r;
		if (r == 0) {
			rd->loaded = 0;
			continue;
		}
		if ((r = jnl_parse_record(&rd->json, &reason, &l)) != 0)
			return jnl_err(err, r, rd->c.name, l.offset, l.seq,
			    "%s", reason);
		rec->seq = l.seq;
		memcpy(rec->hash, l.hash, 32);
		rec->line = (const char *)l.p;
		rec->len = l.len;
		rec->json = rd->json;
		rec->segment = rd->c.name;
		rec->offset = l.offset;
		return 1;
	}
}

void
jnl_reader_close(struct jnl_reader *rd)
{
	if (rd == NULL)
		return;
	json_decref(rd->json);
	jnl_filebuf_free(&rd->fb);
	if (rd->dirfd >= 0)
		close(rd->dirfd);
	jnl_dir_free(&rd->d);
	jnl_scan_free(&rd->s);
	free(rd);
}

int
jnl_read_at(int dirfd, const struct jnl_pos *pos, uint64_t *seq,
    char *buf, size_t cap, size_t *len, uint8_t hash[32])
{
	struct jnl_prefix pre;
	const char *reason;
	int r;

	*len = 0;
	memset(hash, 0, 32);
	/* An offset at or past the largest segment read back cannot hold a
	 * line of ours. */
	if (pos->seg == 0 || pos->seg > JNL_SEG_NUM_MAX ||
	    (uint64_t)pos->off >= JNL_SEG_READ_MAX)
		return ERR_INVALID_ARG;
	/* jnl_read_line NUL-terminates: one byte more than the line. */
	if ((r = jnl_read_line(dirfd, pos, buf, cap, len, hash)) != 0)
		goto out;
	/* A line of the journal's own form, starting at a line's start. */
	if (jnl_fmt_prefix(&pre, &reason, (const uint8_t *)buf, *len) != 0 ||
	    (*seq != 0 && pre.seq != *seq)) {
		r = ERR_MALFORMED;
		goto out;
	}
	*seq = pre.seq;
	r = 0;
out:
	if (r != 0) {
		*len = 0;
		memset(hash, 0, 32);
		if (cap > 0)
			buf[0] = '\0';
	}
	return r;
}
