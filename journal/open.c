/* open.c: jnl_open(): verify the chain from the newest believed snapshot (or from seq 1), drop a torn tail, restore, replay. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "journal/internal.h"

/* The replay callback's jnl_pos.off holds any offset a segment can have. */
_Static_assert(JNL_SEG_READ_MAX <= (uint64_t)UINT32_MAX + 1,
    "segment offsets must fit jnl_pos.off");

/* locate()'s answers besides 0 and a negative ERR_*. */
#define LOCATE_BEFORE 1	/* before the first live record (archived) */
#define LOCATE_AFTER 2	/* after the last complete record */

/*
 * A line that may be a checkpoint: its type, however formatted or
 * escaped, cannot be "checkpoint" without one of these in its bytes.
 */
static int
maybe_checkpoint(const struct jnl_line *l)
{
	return memmem(l->p, l->len, "checkpoint", 10) != NULL ||
	    memmem(l->p, l->len, "\\u", 2) != NULL;
}

/*
 * A checkpoint signing a head this walk did not hash (it started after
 * it): the ring is given the head the checkpoint states, so the text and
 * signature are still checked.  The slot is that of head_seq + WINDOW, a
 * record not pushed yet, so no hash the walk did compute is lost.
 */
static void
take_unread_head(struct jnl_ckpt_ring *ring, uint64_t ring_first,
    uint64_t seq, const json_t *rec)
{
	json_t *hs = json_object_get(rec, "head_seq");
	const char *head = json_string_value(json_object_get(rec, "head"));
	uint8_t hash[32];
	json_int_t n;

	if (!json_is_integer(hs) || head == NULL || strlen(head) != 64)
		return;
	n = json_integer_value(hs);
	if (n < 1 || (uint64_t)n >= ring_first || (uint64_t)n >= seq ||
	    seq - (uint64_t)n > JNL_CHECKPOINT_WINDOW ||
	    util_hex_decode(hash, sizeof(hash), head) != 0)
		return;
	memcpy(ring->hash[(uint64_t)n % JNL_CHECKPOINT_WINDOW], hash, 32);
}

/* Invariant 8: every checkpoint signature, at start-up as in an audit. */
int
jnl_check_line_checkpoint(struct jnl_error *err, const char *name,
    const struct jnl_line *l, struct jnl_ckpt_ring *ring, uint64_t ring_first,
    EVP_PKEY *pub, uint64_t *signed_seq)
{
	const char *reason, *type;
	uint64_t head_seq;
	json_t *rec = NULL;
	int r;

	if (!maybe_checkpoint(l))
		return 0;
	if ((r = jnl_parse_record(&rec, &reason, l)) != 0)
		return jnl_err(err, r, name, l->offset, l->seq, "%s", reason);
	type = json_string_value(json_object_get(rec, "type"));
	r = 0;
	if (strcmp(type, "checkpoint") == 0) {
		take_unread_head(ring, ring_first, l->seq, rec);
		if ((r = jnl_ckpt_verify(&head_seq, &reason, ring, l->seq, rec,
		    pub)) != 0)
			jnl_err(err, r, name, l->offset, l->seq, "%s", reason);
		else if (head_seq > *signed_seq)
			*signed_seq = head_seq;
	}
	json_decref(rec);
	return r;
}

/* Where a walk starts and what it checks on the way. */
struct walk {
	size_t seg;		/* index in d->segs */
	uint64_t off;		/* byte offset of the first line to walk */
	size_t preloaded;	/* fb holds d->segs[seg], this many bytes;
				 * SIZE_MAX: read it */
	uint64_t ring_first;	/* the first seq hashed (1: from the start) */
	const struct jnl_snapshot *snap;	/* NULL: none */
};

/* Stops the walk on a record that is not the anchor's or snapshot's. */
static int
check_ties(struct jnl_error *err, const char *name, const struct jnl_line *l,
    const struct jnl_snapshot *snap, const struct jnl_config *cfg)
{
	char snapname[48], want[65], got[65];

	if (l->seq == cfg->anchor_seq &&
	    memcmp(l->hash, cfg->anchor_hash, 32) != 0) {
		util_hex_encode(want, cfg->anchor_hash, 32);
		util_hex_encode(got, l->hash, 32);
		return jnl_err(err, ERR_ROLLBACK, name, l->offset, l->seq,
		    "the HSM's anchor names record %llu with hash %s, but this "
		    "journal's hashes to %s: it is another or a rewritten "
		    "journal", (unsigned long long)l->seq, want, got);
	}
	if (snap != NULL && l->seq == snap->seq &&
	    memcmp(l->hash, snap->hash, 32) != 0) {
		snprintf(snapname, sizeof(snapname), JNL_SNAP_NAME_FMT,
		    (unsigned long long)snap->seq);
		util_hex_encode(want, snap->hash, 32);
		util_hex_encode(got, l->hash, 32);
		return jnl_err(err, ERR_MALFORMED, snapname, 0, l->seq,
		    "snapshot is tied to record hash %s but %s offset %llu "
		    "hashes to %s", want, name, (unsigned long long)l->offset,
		    got);
	}
	return 0;
}

/*
 * Pass 1 from w's start to the end: hashes only, every checkpoint, the
 * anchor's and the snapshot's records.  s and ring hold the chain state
 * just before the start.
 */
static int
walk_chain(struct jnl_scan_result *res, struct jnl_error *err, int dirfd,
    const struct jnl_dir *d, const struct walk *w, struct jnl_scan *s,
    struct jnl_ckpt_ring *ring, struct jnl_filebuf *fb,
    const struct jnl_config *cfg)
{
	const struct jnl_snapshot *snap = w->snap;
	const uint8_t *skip;
	struct jnl_seg_cursor c;
	struct jnl_line l;
	char name[40], snapname[48];
	size_t i, len;
	int r, last;

	memset(res, 0, sizeof(*res));
	res->replay_seg = -1;
	for (i = w->seg; i < d->nsegs; i++) {
		last = i + 1 == d->nsegs;
		snprintf(name, sizeof(name), JNL_SEG_NAME_FMT, d->segs[i]);
		len = w->preloaded;
		if ((i != w->seg || len == SIZE_MAX) &&
		    (r = jnl_read_into(fb, &len, err, dirfd, name,
		    JNL_SEG_READ_MAX)) != 0)
			return r;
		if ((r = jnl_scan_segment(s, &c, err, d->segs[i], fb->p, len,
		    last)) != 0)
			return r;
		if (i == w->seg && w->off > 0 &&
		    prt_get_view(&c.r, &skip, w->off) != 0)
			return jnl_err(err, ERR_MALFORMED, name, w->off, 0,
			    "segment changed while opening");
		while ((r = jnl_scan_next(s, &c, &l, err)) == 1) {
			if (cfg->audit_pub != NULL &&
			    (r = jnl_check_line_checkpoint(err, name, &l, ring,
			    w->ring_first, cfg->audit_pub,
			    &res->signed_seq)) != 0)
				return r;
			jnl_ckpt_ring_push(ring, l.seq, l.hash);
			if ((r = check_ties(err, name, &l, snap, cfg)) != 0)
				return r;
			if (res->replay_seg < 0 &&
			    l.seq == (snap != NULL ? snap->seq : 0) + 1) {
				res->replay_seg = (int)i;
				res->replay_off = l.offset;
			}
		}
		if (r < 0)
			return r;
		if (last) {
			res->torn = c.torn;
			res->last_complete = len - c.torn;
		}
	}
	/* Invariant 8: the HSM saw this journal reach anchor_seq. */
	if (cfg->anchor_seq > s->seq)
		return jnl_err(err, ERR_ROLLBACK, NULL, 0, s->seq, "the "
		    "journal ends at seq %llu but the HSM's anchor says it "
		    "reached seq %llu: it was emptied, truncated or replaced by "
		    "an older copy", (unsigned long long)s->seq,
		    (unsigned long long)cfg->anchor_seq);
	/* D2: a snapshot of a position the journal lacks means records it
	 * reflects were cut off the end. */
	if (snap != NULL && snap->seq > s->seq) {
		snprintf(snapname, sizeof(snapname), JNL_SNAP_NAME_FMT,
		    (unsigned long long)snap->seq);
		return jnl_err(err, ERR_MALFORMED, snapname, 0, snap->seq,
		    "snapshot is tied to seq %llu but the journal ends at seq "
		    "%llu: the journal was truncated",
		    (unsigned long long)snap->seq, (unsigned long long)s->seq);
	}
	res->seq = s->seq;
	memcpy(res->hash, s->hash, 32);
	return 0;
}

int
jnl_scan_all(struct jnl_scan_result *res, struct jnl_error *err, int dirfd,
    const struct jnl_dir *d, const struct jnl_snapshot *snap, int have_snap,
    const struct jnl_config *cfg)
{
	struct walk w = { 0, 0, SIZE_MAX, 1, have_snap ? snap : NULL };
	struct jnl_filebuf fb = { NULL, 0 };
	struct jnl_ckpt_ring ring;
	struct jnl_scan s;
	int r;

	memset(res, 0, sizeof(*res));
	res->replay_seg = -1;
	if ((r = jnl_ckpt_ring_init(&ring)) != 0)
		return r;
	if ((r = jnl_scan_init(&s)) != 0) {
		jnl_ckpt_ring_free(&ring);
		return r;
	}
	r = walk_chain(res, err, dirfd, d, &w, &s, &ring, &fb, cfg);
	jnl_filebuf_free(&fb);
	jnl_scan_free(&s);
	jnl_ckpt_ring_free(&ring);
	return r;
}

/* The first seq of each live segment (0: no complete line), from names
 * and first lines alone. */
struct seg_index {
	uint64_t *first;
	size_t n;
};

static int
index_segments(struct seg_index *ix, struct jnl_error *err, int dirfd,
    const struct jnl_dir *d)
{
	uint64_t prev = 0;
	char name[40];
	size_t i;
	int r;

	ix->n = 0;
	if ((ix->first = calloc(d->nsegs + 1, sizeof(*ix->first))) == NULL)
		return jnl_err(err, ERR_NOMEM, NULL, 0, 0, "out of memory");
	for (i = 0; i < d->nsegs; i++) {
		if ((r = jnl_seg_first_seq(&ix->first[i], err, dirfd,
		    d->segs[i])) != 0)
			return r;
		/* Later segments start later: the walk would say so too,
		 * but locate() must not be sent into the wrong segment. */
		if (ix->first[i] != 0 && ix->first[i] <= prev) {
			snprintf(name, sizeof(name), JNL_SEG_NAME_FMT,
			    d->segs[i]);
			return jnl_err(err, ERR_MALFORMED, name, 0,
			    ix->first[i], "first record has seq %llu, not "
			    "after the previous segment's first (%llu)",
			    (unsigned long long)ix->first[i],
			    (unsigned long long)prev);
		}
		if (ix->first[i] != 0)
			prev = ix->first[i];
		ix->n++;
	}
	return 0;
}

/*
 * Finds record seq without hashing anything before it: the segment whose
 * first seq is the largest not above seq, then seq - first newlines into
 * it.  Out: w->seg, w->off, w->preloaded (fb holds that segment), prev the
 * record's stated prev.  Returns 0, LOCATE_BEFORE, LOCATE_AFTER or an
 * ERR_*.
 */
static int
locate(struct walk *w, uint8_t prev[32], struct jnl_error *err, int dirfd,
    const struct jnl_dir *d, const struct seg_index *ix, uint64_t seq,
    struct jnl_filebuf *fb)
{
	struct jnl_prefix pre;
	const char *reason;
	const uint8_t *p, *nl, *end;
	char name[40];
	uint64_t k;
	size_t i, len, found = SIZE_MAX, later = SIZE_MAX;
	int r, any = 0;

	for (i = 0; i < ix->n; i++) {
		if (ix->first[i] == 0)
			continue;
		if (ix->first[i] <= seq)
			found = i;
		else if (later == SIZE_MAX)
			later = i;
		any = 1;
	}
	if (found == SIZE_MAX)
		return any ? LOCATE_BEFORE : LOCATE_AFTER;
	snprintf(name, sizeof(name), JNL_SEG_NAME_FMT, d->segs[found]);
	if ((r = jnl_read_into(fb, &len, err, dirfd, name,
	    JNL_SEG_READ_MAX)) != 0)
		return r;
	p = fb->p;
	end = fb->p + len;
	/* Counting newlines, not hashing: memchr runs at memory speed. */
	for (k = ix->first[found]; k < seq; k++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		p = nl + 1;
	}
	nl = k == seq ? memchr(p, '\n', (size_t)(end - p)) : NULL;
	if (nl == NULL) {
		if (later == SIZE_MAX)
			return LOCATE_AFTER;
		return jnl_err(err, ERR_MALFORMED, name, (uint64_t)(p - fb->p),
		    seq, "segment ends before seq %llu but the next segment "
		    "starts at seq %llu: records are missing",
		    (unsigned long long)seq,
		    (unsigned long long)ix->first[later]);
	}
	if ((r = jnl_fmt_prefix(&pre, &reason, p, (size_t)(nl - p))) != 0)
		return jnl_err(err, r, name, (uint64_t)(p - fb->p), seq, "%s",
		    reason);
	if (pre.seq != seq)
		return jnl_err(err, ERR_MALFORMED, name, (uint64_t)(p - fb->p),
		    pre.seq, "seq %llu where %llu was expected: a record was "
		    "removed, reordered or duplicated",
		    (unsigned long long)pre.seq, (unsigned long long)seq);
	memcpy(prev, pre.prev, 32);
	w->seg = found;
	w->off = (uint64_t)(p - fb->p);
	w->preloaded = len;
	return 0;
}

/*
 * Pass 1 for snapshot snap: verifies the chain from min(snap->seq, the
 * anchor) to the end, with record snap->seq tied to its hash.  Returns 0,
 * LOCATE_BEFORE (the snapshot's record was archived: unusable) or ERR_*.
 */
static int
scan_from_snapshot(struct jnl_scan_result *res, struct jnl_error *err,
    int dirfd, const struct jnl_dir *d, const struct seg_index *ix,
    const struct jnl_snapshot *snap, const struct jnl_config *cfg)
{
	struct jnl_filebuf fb = { NULL, 0 };
	struct jnl_ckpt_ring ring;
	struct jnl_scan s;
	struct walk w;
	uint8_t prev[32];
	char snapname[48], first[40];
	uint64_t start = snap->seq;
	int anchor_first, r;

	memset(&w, 0, sizeof(w));
	memset(&ring, 0, sizeof(ring));
	memset(&s, 0, sizeof(s));
	anchor_first = cfg->anchor_seq != 0 && cfg->anchor_seq < start;
	if (anchor_first)
		start = cfg->anchor_seq;
	snprintf(snapname, sizeof(snapname), JNL_SNAP_NAME_FMT,
	    (unsigned long long)snap->seq);
	if ((r = locate(&w, prev, err, dirfd, d, ix, start, &fb)) < 0)
		goto out;
	if (r == LOCATE_BEFORE && anchor_first) {
		snprintf(first, sizeof(first), JNL_SEG_NAME_FMT, d->segs[0]);
		r = jnl_err(err, ERR_ROLLBACK, NULL, 0, start, "the HSM's "
		    "anchor names record %llu, which is before the first live "
		    "segment %s: it cannot be checked without the archive; an "
		    "archive must not take records after the anchor, or this "
		    "is an older or another journal",
		    (unsigned long long)start, first);
		goto out;
	}
	if (r == LOCATE_BEFORE)
		goto out;
	/* Invariant 8 first, as a full walk would say: the anchor is at or
	 * before the snapshot's record here, or past it (then also past the
	 * end). */
	if (r == LOCATE_AFTER && cfg->anchor_seq != 0) {
		r = jnl_err(err, ERR_ROLLBACK, NULL, 0, cfg->anchor_seq, "the "
		    "journal ends before seq %llu, which the HSM's anchor says "
		    "it reached: it was emptied, truncated or replaced by an "
		    "older copy", (unsigned long long)cfg->anchor_seq);
		goto out;
	}
	if (r == LOCATE_AFTER) {
		r = jnl_err(err, ERR_MALFORMED, snapname, 0, snap->seq,
		    "snapshot is tied to seq %llu but the journal ends before "
		    "it: the journal was truncated",
		    (unsigned long long)snap->seq);
		goto out;
	}
	if ((r = jnl_ckpt_ring_init(&ring)) != 0 ||
	    (r = jnl_scan_init(&s)) != 0)
		goto out;
	/* The chain state just before start: its prev as the line states
	 * it (only record 1's is known: zeros). */
	s.seq = start - 1;
	if (start > 1)
		memcpy(s.hash, prev, 32);
	s.seg_no = d->segs[w.seg] - 1;
	ring.seq = start - 1;
	w.ring_first = start;
	w.snap = snap;
	r = walk_chain(res, err, dirfd, d, &w, &s, &ring, &fb, cfg);
out:
	jnl_filebuf_free(&fb);
	jnl_scan_free(&s);
	jnl_ckpt_ring_free(&ring);
	return r;
}

/* Pass 2: parse and hand over the records after the snapshot. */
static int
replay(struct jnl_error *err, int dirfd, const struct jnl_dir *d,
    const struct jnl_scan_result *res, const struct jnl_snapshot *snap,
    int have_snap, const struct jnl_config *cfg)
{
	struct jnl_seg_cursor c;
	struct jnl_scan s;
	struct jnl_line l;
	struct jnl_pos pos;
	const uint8_t *skip;
	const char *reason;
	struct jnl_filebuf fb = { NULL, 0 };
	json_t *rec = NULL;
	char name[40], why[200];
	size_t i, len;
	int r;

	if (res->replay_seg < 0 || cfg->replay == NULL)
		return 0;
	if ((r = jnl_scan_init(&s)) != 0)
		return r;
	/* The chain is checked again on the way: the bytes parsed are the
	 * bytes hashed, even if a file changed since pass 1. */
	if (have_snap) {
		s.seq = snap->seq;
		memcpy(s.hash, snap->hash, 32);
	}
	s.seg_no = d->segs[res->replay_seg] - 1;
	for (i = (size_t)res->replay_seg; i < d->nsegs; i++) {
		snprintf(name, sizeof(name), JNL_SEG_NAME_FMT, d->segs[i]);
		if ((r = jnl_read_into(&fb, &len, err, dirfd, name,
		    JNL_SEG_READ_MAX)) != 0 ||
		    (r = jnl_scan_segment(&s, &c, err, d->segs[i], fb.p, len,
		    i + 1 == d->nsegs)) != 0)
			goto out;
		if (i == (size_t)res->replay_seg &&
		    (r = prt_get_view(&c.r, &skip, res->replay_off)) != 0) {
			r = jnl_err(err, ERR_MALFORMED, name, res->replay_off,
			    0, "segment changed while opening");
			goto out;
		}
		while ((r = jnl_scan_next(&s, &c, &l, err)) == 1) {
			if ((r = jnl_parse_record(&rec, &reason, &l)) != 0) {
				r = jnl_err(err, r, name, l.offset, l.seq,
				    "%s", reason);
				goto out;
			}
			why[0] = '\0';
			pos.seg = d->segs[i];
			pos.off = (uint32_t)l.offset;
			if ((r = cfg->replay(cfg->ctx, l.seq, l.hash, &pos, rec,
			    why, sizeof(why))) != 0) {
				jnl_err(err, r, name, l.offset, l.seq,
				    "record does not replay: %s", why[0] ? why :
				    "refused");
				goto out;
			}
			json_decref(rec);
			rec = NULL;
		}
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	json_decref(rec);
	jnl_filebuf_free(&fb);
	jnl_scan_free(&s);
	return r;
}

/* Opens the newest segment for appending, first dropping a torn tail. */
static int
open_tail(int *segfd, uint32_t *seg_no, struct jnl_error *err, int dirfd,
    const struct jnl_dir *d, const struct jnl_scan_result *res)
{
	char name[40];
	int fd = -1, r = ERR_IO;

	*segfd = -1;
	*seg_no = d->nsegs > 0 ? d->segs[d->nsegs - 1] : 1;
	snprintf(name, sizeof(name), JNL_SEG_NAME_FMT, *seg_no);
	if (d->nsegs == 0) {
		fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (fd < 0 || jnl_sync_dir(dirfd) != 0) {
			r = jnl_err(err, ERR_IO, name, 0, 0, "create: %s",
			    strerror(errno));
			goto out;
		}
	} else {
		fd = openat(dirfd, name, O_WRONLY | O_APPEND | O_CLOEXEC |
		    O_NOFOLLOW);
		if (fd < 0) {
			r = jnl_err(err, ERR_IO, name, 0, 0, "open: %s",
			    strerror(errno));
			goto out;
		}
	}
	if (res->torn > 0) {
		/* Never acknowledged: its writer was still waiting for the
		 * fdatasync when the process or machine stopped. */
		if (ftruncate(fd, (off_t)res->last_complete) != 0 ||
		    fsync(fd) != 0) {
			r = jnl_err(err, ERR_IO, name, res->last_complete, 0,
			    "truncating a torn tail: %s", strerror(errno));
			goto out;
		}
		log_warn("%s: dropped a torn final line of %zu bytes at offset "
		    "%zu (a crash mid-write; it was never acknowledged)", name,
		    res->torn, res->last_complete);
	}
	*segfd = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/*
 * Start-up from the newest snapshot that verifies against the chain and
 * that restore believes; older ones if it does not.  *have 0: none was
 * (or there were none); the caller then verifies from seq 1.
 */
static int
start_from_snapshot(struct jnl_scan_result *res, struct jnl_snapshot *snap,
    int *have, struct jnl_error *err, int dirfd, const struct jnl_dir *d,
    const struct jnl_config *cfg)
{
	struct seg_index ix = { NULL, 0 };
	struct jnl_error e;
	char msg[320], name[48];
	size_t i;
	int r = 0;

	*have = 0;
	if (d->nsnaps == 0)
		return 0;
	if ((r = index_segments(&ix, err, dirfd, d)) != 0)
		goto out;
	for (i = 0; i < d->nsnaps; i++) {
		snprintf(name, sizeof(name), JNL_SNAP_NAME_FMT,
		    (unsigned long long)d->snaps[i]);
		if ((r = jnl_snapshot_read(snap, &e, dirfd, d->snaps[i])) != 0) {
			if (r == ERR_NOMEM) {
				jnl_err(err, r, e.segment, 0, 0, "%s", e.reason);
				goto out;
			}
			log_warn("ignoring snapshot: %s; falling back to %s",
			    jnl_error_format(msg, sizeof(msg), &e),
			    i + 1 < d->nsnaps ? "an older snapshot" :
			    "full replay");
			continue;
		}
		r = scan_from_snapshot(res, err, dirfd, d, &ix, snap, cfg);
		if (r == LOCATE_BEFORE) {
			log_warn("ignoring %s: its record is before the first "
			    "live segment (archived)", name);
			jnl_snapshot_free(snap);
			continue;
		}
		if (r != 0)
			goto out;
		/* Verified before restored: the callback sees only a
		 * snapshot the chain holds. */
		if (cfg->restore == NULL ||
		    (r = cfg->restore(cfg->ctx, snap->seq, snap->hash,
		    snap->blob, snap->len)) == 0) {
			*have = 1;
			goto out;
		}
		if (r != ERR_BAD_SIGNATURE) {
			jnl_err(err, r, name, 0, snap->seq,
			    "restore callback refused the snapshot");
			goto out;
		}
		log_warn("%s is not believed (its signature does not verify); "
		    "falling back to %s", name, i + 1 < d->nsnaps ?
		    "an older snapshot" : "full replay");
		jnl_snapshot_free(snap);
	}
	r = 0;
out:
	free(ix.first);
	return r;
}

/* Start-up without a snapshot: the whole chain, which needs segment 1. */
static int
start_from_genesis(struct jnl_scan_result *res, struct jnl_error *err,
    int dirfd, const struct jnl_dir *d, const struct jnl_config *cfg)
{
	char first[40];

	if (d->nsegs > 0 && d->segs[0] != 1) {
		snprintf(first, sizeof(first), JNL_SEG_NAME_FMT, d->segs[0]);
		return jnl_err(err, ERR_MALFORMED, "seg-00000001.jsonl", 0, 1,
		    "segment seg-00000001.jsonl is missing (the live segments "
		    "start at %s) and no snapshot inside them is believed: an "
		    "archived journal cannot be replayed from the start "
		    "without its archive", first);
	}
	return jnl_scan_all(res, err, dirfd, d, NULL, 0, cfg);
}

int
jnl_open(struct jnl **out, struct jnl_error *err, const char *dir,
    const struct jnl_config *cfg)
{
	static const struct jnl_config defaults;
	struct jnl_writer_init init;
	struct jnl_snapshot snap;
	struct jnl_scan_result res;
	struct jnl_dir d;
	int dirfd = -1, segfd = -1, have_snap = 0, r;
	uint32_t seg_no;

	*out = NULL;
	memset(&d, 0, sizeof(d));
	memset(&snap, 0, sizeof(snap));
	jnl_err(err, 0, NULL, 0, 0, "%s", "");
	if (cfg == NULL)
		cfg = &defaults;
	if (cfg->segment_max > JNL_SEGMENT_MAX_LIMIT) {
		r = jnl_err(err, ERR_INVALID_ARG, NULL, 0, 0,
		    "segment_max above %llu", JNL_SEGMENT_MAX_LIMIT);
		goto out;
	}
	if (cfg->audit_pub != NULL && jnl_ckpt_check_key(cfg->audit_pub) != 0) {
		r = jnl_err(err, ERR_UNSUPPORTED, NULL, 0, 0,
		    "the audit key is not an EC P-256 key");
		goto out;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		r = jnl_err(err, ERR_IO, NULL, 0, 0, "create %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	if ((r = jnl_open_dir(&dirfd, err, dir)) != 0)
		goto out;
	/* Two writers would fork the chain. */
	if (flock(dirfd, LOCK_EX | LOCK_NB) != 0) {
		r = jnl_err(err, errno == EWOULDBLOCK ? ERR_EXISTS : ERR_IO,
		    NULL, 0, 0, "journal %s is locked by another process: %s",
		    dir, strerror(errno));
		goto out;
	}
	jnl_snapshot_cleanup(dirfd);
	if ((r = jnl_dir_list(&d, err, dirfd)) != 0 ||
	    (r = jnl_dir_check_run(&d, err)) != 0 ||
	    (r = start_from_snapshot(&res, &snap, &have_snap, err, dirfd, &d,
	    cfg)) != 0)
		goto out;
	if (!have_snap &&
	    (r = start_from_genesis(&res, err, dirfd, &d, cfg)) != 0)
		goto out;
	if ((r = open_tail(&segfd, &seg_no, err, dirfd, &d, &res)) != 0)
		goto out;
	if ((r = replay(err, dirfd, &d, &res, &snap, have_snap, cfg)) != 0)
		goto out;

	memset(&init, 0, sizeof(init));
	init.dirfd = dirfd;
	init.segfd = segfd;
	init.seg_no = seg_no;
	init.seg_size = res.last_complete;
	init.seg_max = cfg->segment_max != 0 ? cfg->segment_max :
	    JNL_SEGMENT_MAX_DEFAULT;
	init.seq = res.seq;
	memcpy(init.hash, res.hash, 32);
	init.audit_pub = cfg->audit_pub;
	if ((r = jnl_writer_new(out, &init)) != 0) {
		jnl_err(err, r, NULL, 0, 0, "out of memory");
		goto out;
	}
	dirfd = segfd = -1;	/* the journal owns them now */
	r = 0;
out:
	if (segfd >= 0)
		close(segfd);
	if (dirfd >= 0)
		close(dirfd);
	jnl_snapshot_free(&snap);
	jnl_dir_free(&d);
	return r;
}
