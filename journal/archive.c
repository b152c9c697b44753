/* archive.c: jnl_archive(): moves old segments that a believed snapshot and a signed checkpoint cover out of the live directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "journal/internal.h"

/* Streaming copy: a segment may be up to JNL_SEG_READ_MAX bytes. */
#define COPY_CHUNK (1024 * 1024)

/* Both directories of one run. */
struct arch {
	const char *live_path;
	const char *arch_path;
	int live;		/* dirfd */
	int arch;
	struct jnl_dir ld;	/* live listing */
	struct jnl_dir ad;	/* archive listing */
	EVP_PKEY *pub;
};

/* Where the archive's chain ends: its last record. */
struct join {
	uint32_t seg_no;	/* 0: empty archive */
	uint64_t seq;
	uint8_t hash[32];
};

/* What the walk learnt of one live segment. */
struct seg_info {
	uint64_t last_seq;	/* 0: no complete line */
	uint64_t records;
	uint8_t digest[32];	/* SHA-256 of the verified bytes */
	int digested;
};

static int
has_seg(const struct jnl_dir *d, uint32_t n)
{
	size_t i;

	for (i = 0; i < d->nsegs; i++)
		if (d->segs[i] == n)
			return 1;
	return 0;
}

static int
same_bytes(int *same, struct jnl_error *err, const struct arch *a,
    const char *name)
{
	uint8_t *x = NULL, *y = NULL;
	size_t xl, yl;
	int r;

	*same = 0;
	if ((r = jnl_read_file(&x, &xl, err, a->live, name,
	    JNL_SEG_READ_MAX)) == 0 &&
	    (r = jnl_read_file(&y, &yl, err, a->arch, name,
	    JNL_SEG_READ_MAX)) == 0)
		*same = xl == yl && memcmp(x, y, xl) == 0;
	free(x);
	free(y);
	return r;
}

static int
unlink_live(struct jnl_error *err, const struct arch *a, const char *name)
{
	if (unlinkat(a->live, name, 0) != 0 || jnl_sync_dir(a->live) != 0)
		return jnl_err(err, ERR_IO, name, 0, 0, "unlink from %s: %s",
		    a->live_path, strerror(errno));
	return 0;
}

/*
 * A crash between copying a segment and unlinking it leaves it in both
 * directories: an identical copy is finished work; any other bytes under
 * the same name are an error.
 */
static int
finish_leftovers(struct jnl_archive_result *res, struct jnl_error *err,
    struct arch *a)
{
	char name[40];
	size_t i;
	int same, r, any = 0;

	for (i = 0; i < a->ld.nsegs; i++) {
		if (!has_seg(&a->ad, a->ld.segs[i]))
			continue;
		snprintf(name, sizeof(name), JNL_SEG_NAME_FMT, a->ld.segs[i]);
		if ((r = same_bytes(&same, err, a, name)) != 0)
			return r;
		/* The newest live segment is never copied: one in the
		 * archive is someone else's. */
		if (!same || i + 1 == a->ld.nsegs)
			return jnl_err(err, ERR_MALFORMED, name, 0, 0,
			    "%s/%s and %s/%s differ%s", a->live_path, name,
			    a->arch_path, name, same ? " in role (the live "
			    "one is the newest segment)" : "");
		if ((r = unlink_live(err, a, name)) != 0)
			return r;
		log_info("%s was already archived (an interrupted run): "
		    "removed from %s", name, a->live_path);
		res->leftovers++;
		any = 1;
	}
	if (!any)
		return 0;
	jnl_dir_free(&a->ld);
	return jnl_dir_list(&a->ld, err, a->live);
}


/* The newest snapshot believe() accepts; *have 0 if none. */
static int
believed_snapshot(struct jnl_snapshot *snap, int *have, struct jnl_error *err,
    const struct arch *a, jnl_restore_fn believe, void *ctx)
{
	size_t i;
	int r;

	*have = 0;
	for (i = 0; i < a->ld.nsnaps; i++) {
		if ((r = jnl_snapshot_read(snap, NULL, a->live,
		    a->ld.snaps[i])) != 0) {
			if (r == ERR_NOMEM)
				return jnl_err(err, r, NULL, 0, 0,
				    "out of memory");
			continue;
		}
		if (believe == NULL || believe(ctx, snap->seq, snap->hash,
		    snap->blob, snap->len) == 0) {
			*have = 1;
			return 0;
		}
		jnl_snapshot_free(snap);
	}
	return 0;
}

/* The archive's last record: the live run must chain on from it. */
static int
archive_end(struct join *jn, struct jnl_error *err, const struct arch *a)
{
	struct jnl_filebuf fb = { NULL, 0 };
	struct jnl_hasher h;
	struct jnl_prefix pre;
	const char *reason;
	const uint8_t *p, *line;
	char name[40];
	size_t len;
	int r;

	memset(jn, 0, sizeof(*jn));
	memset(&h, 0, sizeof(h));
	if (a->ad.nsegs == 0)
		return 0;
	jn->seg_no = a->ad.segs[a->ad.nsegs - 1];
	snprintf(name, sizeof(name), JNL_SEG_NAME_FMT, jn->seg_no);
	if ((r = jnl_read_into(&fb, &len, err, a->arch, name,
	    JNL_SEG_READ_MAX)) != 0)
		goto out;
	/* Archived segments were whole when copied: a last line ends with
	 * '\n'. */
	if (len < 2 || fb.p[len - 1] != '\n') {
		r = jnl_err(err, ERR_MALFORMED, name, len, 0, "%s/%s does not "
		    "end with a complete record", a->arch_path, name);
		goto out;
	}
	for (p = fb.p + len - 1; p > fb.p && p[-1] != '\n'; p--)
		;
	line = p;
	if ((r = jnl_fmt_prefix(&pre, &reason, line,
	    (size_t)(fb.p + len - 1 - line))) != 0) {
		r = jnl_err(err, r, name, (uint64_t)(line - fb.p), 0,
		    "%s/%s: last line: %s", a->arch_path, name, reason);
		goto out;
	}
	if ((r = jnl_hasher_init(&h)) != 0 ||
	    (r = jnl_hash(&h, jn->hash, line,
	    (size_t)(fb.p + len - 1 - line))) != 0)
		goto out;
	jn->seq = pre.seq;
	r = 0;
out:
	jnl_hasher_free(&h);
	jnl_filebuf_free(&fb);
	return r;
}

/*
 * Verifies the live chain from the archive's end: numbering, prefix,
 * prev, seq, every checkpoint, record snap->seq's hash.  Fills info per
 * live segment (digests of those that may move: last seq below limit).
 */
static int
walk_live(struct jnl_archive_result *res, struct seg_info *info,
    struct jnl_error *err, const struct arch *a, const struct join *jn,
    const struct jnl_snapshot *snap, uint64_t limit)
{
	struct jnl_filebuf fb = { NULL, 0 };
	struct jnl_ckpt_ring ring;
	struct jnl_seg_cursor c;
	struct jnl_scan s;
	struct jnl_line l;
	char name[40], want[65], got[65];
	size_t i, len;
	int r, last, found = 0;

	memset(&ring, 0, sizeof(ring));
	if ((r = jnl_scan_init(&s)) != 0 ||
	    (r = jnl_ckpt_ring_init(&ring)) != 0)
		goto out;
	s.seq = jn->seq;
	memcpy(s.hash, jn->hash, 32);
	s.seg_no = jn->seg_no;
	snprintf(s.last_segment, sizeof(s.last_segment), JNL_SEG_NAME_FMT,
	    jn->seg_no);
	ring.seq = jn->seq;
	for (i = 0; i < a->ld.nsegs; i++) {
		last = i + 1 == a->ld.nsegs;
		snprintf(name, sizeof(name), JNL_SEG_NAME_FMT, a->ld.segs[i]);
		if ((r = jnl_read_into(&fb, &len, err, a->live, name,
		    JNL_SEG_READ_MAX)) != 0 ||
		    (r = jnl_scan_segment(&s, &c, err, a->ld.segs[i], fb.p,
		    len, last)) != 0)
			goto out;
		while ((r = jnl_scan_next(&s, &c, &l, err)) == 1) {
			if ((r = jnl_check_line_checkpoint(err, name, &l,
			    &ring, jn->seq + 1, a->pub,
			    &res->signed_seq)) != 0)
				goto out;
			jnl_ckpt_ring_push(&ring, l.seq, l.hash);
			if (l.seq == snap->seq) {
				found = 1;
				if (memcmp(l.hash, snap->hash, 32) != 0) {
					util_hex_encode(want, snap->hash, 32);
					util_hex_encode(got, l.hash, 32);
					r = jnl_err(err, ERR_MALFORMED, name,
					    l.offset, l.seq, "the snapshot is "
					    "tied to hash %s but the record "
					    "hashes to %s", want, got);
					goto out;
				}
			}
			info[i].last_seq = l.seq;
			info[i].records++;
		}
		if (r < 0)
			goto out;
		/* The bytes verified are the bytes copied (copy_one). */
		if (!last && info[i].last_seq != 0 &&
		    info[i].last_seq <= limit) {
			if ((r = jnl_hash(&s.h, info[i].digest, fb.p, len)) !=
			    0)
				goto out;
			info[i].digested = 1;
		}
	}
	if (!found && snap->seq > s.seq) {
		r = jnl_err(err, ERR_MALFORMED, NULL, 0, snap->seq, "the "
		    "snapshot is tied to seq %llu but the journal ends at seq "
		    "%llu: the journal was truncated",
		    (unsigned long long)snap->seq, (unsigned long long)s.seq);
		goto out;
	}
	r = 0;
out:
	jnl_filebuf_free(&fb);
	jnl_scan_free(&s);
	jnl_ckpt_ring_free(&ring);
	return r;
}

/* Copies name into the archive: temp file, fsync, check, rename, fsync. */
static int
copy_one(struct jnl_error *err, const struct arch *a, const char *name,
    const uint8_t want[32])
{
	EVP_MD_CTX *md = NULL;
	uint8_t *buf = NULL, got[32];
	char tmp[48];
	unsigned int glen = 0;
	ssize_t n;
	int in = -1, out = -1, r = ERR_IO;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	if ((buf = malloc(COPY_CHUNK)) == NULL ||
	    (md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		r = jnl_err(err, ERR_NOMEM, name, 0, 0, "out of memory");
		goto out;
	}
	if ((in = openat(a->live, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) <
	    0 || (out = openat(a->arch, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC | O_NOFOLLOW, 0640)) < 0) {
		r = jnl_err(err, ERR_IO, name, 0, 0, "open for copying: %s",
		    strerror(errno));
		goto out;
	}
	for (;;) {
		n = read(in, buf, COPY_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n > 0 && (jnl_write_all(out, buf, (size_t)n) != 0 ||
		    EVP_DigestUpdate(md, buf, (size_t)n) != 1))) {
			r = jnl_err(err, ERR_IO, name, 0, 0, "copying to %s: %s",
			    a->arch_path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
	}
	if (EVP_DigestFinal_ex(md, got, &glen) != 1 || glen != 32 ||
	    memcmp(got, want, 32) != 0) {
		r = jnl_err(err, ERR_MALFORMED, name, 0, 0, "%s/%s changed "
		    "after it was verified", a->live_path, name);
		goto out;
	}
	if (fsync(out) != 0 || close(out) != 0) {
		out = -1;
		r = jnl_err(err, ERR_IO, tmp, 0, 0, "fsync: %s",
		    strerror(errno));
		goto out;
	}
	out = -1;
	/* The name appears in the archive only whole (a rerun trusts an
	 * archived file of this name to be a finished copy). */
	if (renameat(a->arch, tmp, a->arch, name) != 0 ||
	    jnl_sync_dir(a->arch) != 0) {
		r = jnl_err(err, ERR_IO, name, 0, 0, "rename into %s: %s",
		    a->arch_path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (out >= 0)
		close(out);
	if (r != 0)
		unlinkat(a->arch, tmp, 0);
	if (in >= 0)
		close(in);
	EVP_MD_CTX_free(md);
	free(buf);
	return r;
}

/* Moves the leading live segments that every condition covers. */
static int
move_covered(struct jnl_archive_result *res, struct jnl_error *err,
    const struct arch *a, const struct seg_info *info, uint64_t limit)
{
	char name[40];
	size_t i;
	int r;

	for (i = 0; i + 1 < a->ld.nsegs; i++) {
		if (!info[i].digested || info[i].last_seq > limit)
			break;
		snprintf(name, sizeof(name), JNL_SEG_NAME_FMT, a->ld.segs[i]);
		if ((r = copy_one(err, a, name, info[i].digest)) != 0 ||
		    (r = unlink_live(err, a, name)) != 0)
			return r;
		if (res->segments_moved == 0) {
			res->first_moved = a->ld.segs[i];
			res->first_seq = info[i].last_seq - info[i].records + 1;
		}
		res->last_moved = a->ld.segs[i];
		res->last_seq = info[i].last_seq;
		res->segments_moved++;
		res->records_moved += info[i].records;
	}
	return 0;
}

static uint64_t
min_u64(uint64_t x, uint64_t y)
{
	return x < y ? x : y;
}

int
jnl_archive(const char *live, const char *archive, EVP_PKEY *audit_pub,
    jnl_restore_fn believe, void *ctx, struct jnl_archive_result *res,
    struct jnl_error *err)
{
	struct arch a;
	struct join jn;
	struct jnl_snapshot snap;
	struct seg_info *info = NULL;
	uint64_t limit;
	int have = 0, r;

	memset(res, 0, sizeof(*res));
	memset(&a, 0, sizeof(a));
	memset(&snap, 0, sizeof(snap));
	a.live = a.arch = -1;
	a.live_path = live;
	a.arch_path = archive;
	a.pub = audit_pub;
	jnl_err(err, 0, NULL, 0, 0, "%s", "");
	if (audit_pub == NULL || jnl_ckpt_check_key(audit_pub) != 0) {
		r = jnl_err(err, ERR_UNSUPPORTED, NULL, 0, 0,
		    "the audit key is not an EC P-256 key");
		goto out;
	}
	/* No flock: signerd holds it and keeps running; it never reads a
	 * segment before its snapshot's keep_from. */
	if ((r = jnl_open_dir(&a.live, err, live)) != 0 ||
	    (r = jnl_open_dir(&a.arch, err, archive)) != 0)
		goto out;
	/* seg-*.tmp: a copy a crash cut short. */
	jnl_remove_tmp(a.arch, "seg-", "archive copy");
	if ((r = jnl_dir_list(&a.ld, err, a.live)) != 0 ||
	    (r = jnl_dir_list(&a.ad, err, a.arch)) != 0 ||
	    (r = jnl_dir_check_run(&a.ld, err)) != 0 ||
	    (r = jnl_dir_check_run(&a.ad, err)) != 0 ||
	    (r = finish_leftovers(res, err, &a)) != 0 ||
	    (r = believed_snapshot(&snap, &have, err, &a, believe, ctx)) != 0)
		goto out;
	if (a.ld.nsegs > 0)
		res->live_first = a.ld.segs[0];
	if (a.ad.nsegs > 0)
		res->archive_last = a.ad.segs[a.ad.nsegs - 1];
	if (!have || a.ld.nsegs < 2) {
		r = 0;
		goto out;
	}
	res->snapshot_seq = snap.seq;
	res->keep_from = snap.keep_from;
	if ((info = calloc(a.ld.nsegs, sizeof(*info))) == NULL) {
		r = jnl_err(err, ERR_NOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	/* Covered by the snapshot, and nothing signerd may read back. */
	limit = min_u64(snap.seq, snap.keep_from - 1);
	if ((r = archive_end(&jn, err, &a)) != 0 ||
	    (r = walk_live(res, info, err, &a, &jn, &snap, limit)) != 0)
		goto out;
	/* And vouched for by the audit key: its checkpoint signs a head at
	 * or after the segment's last record. */
	limit = min_u64(limit, res->signed_seq);
	if ((r = move_covered(res, err, &a, info, limit)) != 0)
		goto out;
	if (res->segments_moved > 0) {
		res->live_first = res->last_moved + 1;
		res->archive_last = res->last_moved;
	}
	r = 0;
out:
	free(info);
	jnl_snapshot_free(&snap);
	jnl_dir_free(&a.ld);
	jnl_dir_free(&a.ad);
	if (a.live >= 0)
		close(a.live);
	if (a.arch >= 0)
		close(a.arch);
	return r;
}
