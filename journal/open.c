/* open.c: jnl_open(): verify the whole chain, drop a torn tail, restore a snapshot, replay. */
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

/* A segment may pass segment_max by one batch; read back at most this. */
#define SEG_READ_MAX (2 * JNL_SEGMENT_MAX_LIMIT)

/* Newest snapshot whose own checksum holds; older ones are the fallback. */
static int
pick_snapshot(struct jnl_snapshot *snap, int *have, struct jnl_error *err,
    int dirfd, const struct jnl_dir *d)
{
	struct jnl_error e;
	char msg[320];
	size_t i;
	int r;

	*have = 0;
	for (i = 0; i < d->nsnaps; i++) {
		r = jnl_snapshot_read(snap, &e, dirfd, d->snaps[i]);
		if (r == 0) {
			*have = 1;
			return 0;
		}
		if (r == ERR_NOMEM)
			return jnl_err(err, r, e.segment, 0, 0, "%s", e.reason);
		log_warn("ignoring snapshot: %s; falling back to %s",
		    jnl_error_format(msg, sizeof(msg), &e),
		    i + 1 < d->nsnaps ? "an older snapshot" : "full replay");
	}
	return 0;
}

/* Pass 1: hashes only, every segment; checks the snapshot's position. */
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

/* Invariant 8: every checkpoint signature, at start-up as in an audit. */
static int
check_checkpoint(struct jnl_error *err, const char *name,
    const struct jnl_line *l, const struct jnl_ckpt_ring *ring,
    EVP_PKEY *pub, uint64_t *signed_seq)
{
	const char *reason, *type;
	uint64_t head_seq;
	json_t *rec = NULL;
	int r;

	if ((r = jnl_parse_record(&rec, &reason, l)) != 0)
		return jnl_err(err, r, name, l->offset, l->seq, "%s", reason);
	type = json_string_value(json_object_get(rec, "type"));
	r = 0;
	if (strcmp(type, "checkpoint") == 0) {
		if ((r = jnl_ckpt_verify(&head_seq, &reason, ring, l->seq, rec,
		    pub)) != 0)
			jnl_err(err, r, name, l->offset, l->seq, "%s", reason);
		else if (head_seq > *signed_seq)
			*signed_seq = head_seq;
	}
	json_decref(rec);
	return r;
}

int
jnl_scan_all(struct jnl_scan_result *res, struct jnl_error *err, int dirfd,
    const struct jnl_dir *d, const struct jnl_snapshot *snap, int have_snap,
    const struct jnl_config *cfg)
{
	EVP_PKEY *pub = cfg->audit_pub;
	struct jnl_ckpt_ring ring;
	struct jnl_seg_cursor c;
	struct jnl_scan s;
	struct jnl_line l;
	char name[40], snapname[48], want[65], got[65];
	struct jnl_filebuf fb = { NULL, 0 };
	size_t i, len;
	int r, last;

	memset(res, 0, sizeof(*res));
	res->replay_seg = -1;
	if ((r = jnl_ckpt_ring_init(&ring)) != 0)
		return r;
	if ((r = jnl_scan_init(&s)) != 0) {
		jnl_ckpt_ring_free(&ring);
		return r;
	}
	snprintf(snapname, sizeof(snapname), JNL_SNAP_NAME_FMT,
	    (unsigned long long)(have_snap ? snap->seq : 0));
	for (i = 0; i < d->nsegs; i++) {
		last = i + 1 == d->nsegs;
		snprintf(name, sizeof(name), JNL_SEG_NAME_FMT, d->segs[i]);
		if ((r = jnl_read_into(&fb, &len, err, dirfd, name,
		    SEG_READ_MAX)) != 0 ||
		    (r = jnl_scan_segment(&s, &c, err, d->segs[i], fb.p, len,
		    last)) != 0)
			goto out;
		while ((r = jnl_scan_next(&s, &c, &l, err)) == 1) {
			if (pub != NULL && maybe_checkpoint(&l) &&
			    (r = check_checkpoint(err, name, &l, &ring, pub,
			    &res->signed_seq)) != 0)
				goto out;
			jnl_ckpt_ring_push(&ring, l.seq, l.hash);
			if (l.seq == cfg->anchor_seq &&
			    memcmp(l.hash, cfg->anchor_hash, 32) != 0) {
				util_hex_encode(want, cfg->anchor_hash, 32);
				util_hex_encode(got, l.hash, 32);
				r = jnl_err(err, ERR_ROLLBACK, name, l.offset,
				    l.seq, "the HSM's anchor names record %llu "
				    "with hash %s, but this journal's hashes to "
				    "%s: it is another or a rewritten journal",
				    (unsigned long long)l.seq, want, got);
				goto out;
			}
			if (have_snap && l.seq == snap->seq &&
			    memcmp(l.hash, snap->hash, 32) != 0) {
				util_hex_encode(want, snap->hash, 32);
				util_hex_encode(got, l.hash, 32);
				r = jnl_err(err, ERR_MALFORMED, snapname, 0,
				    l.seq, "snapshot is tied to record hash "
				    "%s but %s offset %llu hashes to %s", want,
				    name, (unsigned long long)l.offset, got);
				goto out;
			}
			if (res->replay_seg < 0 &&
			    l.seq == (have_snap ? snap->seq : 0) + 1) {
				res->replay_seg = (int)i;
				res->replay_off = l.offset;
			}
		}
		if (r < 0)
			goto out;
		if (last) {
			res->torn = c.torn;
			res->last_complete = len - c.torn;
		}
	}
	/* Invariant 8: the HSM saw this journal reach anchor_seq. */
	if (cfg->anchor_seq > s.seq) {
		r = jnl_err(err, ERR_ROLLBACK, NULL, 0, s.seq, "the journal "
		    "ends at seq %llu but the HSM's anchor says it reached seq "
		    "%llu: it was emptied, truncated or replaced by an older "
		    "copy", (unsigned long long)s.seq,
		    (unsigned long long)cfg->anchor_seq);
		goto out;
	}
	/* D2: a snapshot of a position the journal lacks means records it
	 * reflects were cut off the end. */
	if (have_snap && snap->seq > s.seq) {
		r = jnl_err(err, ERR_MALFORMED, snapname, 0, snap->seq,
		    "snapshot is tied to seq %llu but the journal ends at seq "
		    "%llu: the journal was truncated",
		    (unsigned long long)snap->seq, (unsigned long long)s.seq);
		goto out;
	}
	res->seq = s.seq;
	memcpy(res->hash, s.hash, 32);
	r = 0;
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
		    SEG_READ_MAX)) != 0 ||
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
	    (r = pick_snapshot(&snap, &have_snap, err, dirfd, &d)) != 0 ||
	    (r = jnl_scan_all(&res, err, dirfd, &d, &snap, have_snap, cfg)) != 0)
		goto out;
	if (have_snap && cfg->restore != NULL &&
	    (r = cfg->restore(cfg->ctx, snap.seq, snap.hash, snap.blob,
	    snap.len)) != 0) {
		char name[48];

		snprintf(name, sizeof(name), JNL_SNAP_NAME_FMT,
		    (unsigned long long)snap.seq);
		if (r != ERR_BAD_SIGNATURE) {
			jnl_err(err, r, name, 0, snap.seq,
			    "restore callback refused the snapshot");
			goto out;
		}
		/* Not believed: replay everything instead. */
		have_snap = 0;
		if ((r = jnl_scan_all(&res, err, dirfd, &d, &snap, 0, cfg)) != 0)
			goto out;
	}
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
