/* verify.c: jnl_verify(), the auditors' one-pass check of a journal (archive and live), and its serial walk. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "journal/internal.h"

int
jnl_parse_record(json_t **json, const char **reason, const struct jnl_line *l)
{
	json_error_t je;
	const char *prev;
	json_t *o, *seq;
	int r = ERR_MALFORMED;

	*json = NULL;
	*reason = NULL;
	/* Duplicate keys would let two readers see two different records. */
	o = json_loadb((const char *)l->p, l->len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL) {
		*reason = "line is not valid JSON (or repeats a key)";
		goto out;
	}
	if (!json_is_object(o)) {
		*reason = "line is not a JSON object";
		goto out;
	}
	prev = json_string_value(json_object_get(o, "prev"));
	seq = json_object_get(o, "seq");
	if (prev == NULL || strlen(prev) != 64 ||
	    memcmp(prev, l->p + 9, 64) != 0 || !json_is_integer(seq) ||
	    json_integer_value(seq) < 1 ||
	    (uint64_t)json_integer_value(seq) != l->seq) {
		*reason = "JSON prev/seq differ from the line's prefix";
		goto out;
	}
	if (json_string_value(json_object_get(o, "type")) == NULL ||
	    json_string_value(json_object_get(o, "type"))[0] == '\0') {
		*reason = "record has no string \"type\"";
		goto out;
	}
	*json = o;
	o = NULL;
	r = 0;
out:
	json_decref(o);
	return r;
}

/*
 * Snapshots of the live (last) directory whose own checksum holds; a
 * rotten one costs start-up time, not integrity, and is only counted.
 */
static int
load_snapshots(struct jnl_vstate *v, const struct jnl_dir *d)
{
	struct jnl_snapshot snap;
	size_t i;
	int r;

	if (d->nsnaps == 0)
		return 0;
	if ((v->snaps = calloc(d->nsnaps, sizeof(*v->snaps))) == NULL)
		return ERR_NOMEM;
	for (i = 0; i < d->nsnaps; i++) {
		r = jnl_snapshot_read(&snap, NULL, v->dirfd[v->ndirs - 1],
		    d->snaps[i]);
		if (r == ERR_NOMEM)
			return r;
		if (r != 0) {
			v->res->snapshots_corrupt++;
			continue;
		}
		v->snaps[v->nsnaps].seq = snap.seq;
		memcpy(v->snaps[v->nsnaps].hash, snap.hash, 32);
		v->nsnaps++;
		jnl_snapshot_free(&snap);
	}
	return 0;
}

/* Merges each directory's segment numbers into one ascending list. */
static int
merge_segments(struct jnl_vstate *v, const struct jnl_dir *d)
{
	size_t total = 0, k, i, n = 0;
	size_t at[JNL_VERIFY_DIRS_MAX] = { 0 };
	uint32_t lo;

	for (k = 0; k < v->ndirs; k++)
		total += d[k].nsegs;
	if (total == 0)
		return 0;
	if ((v->segs = calloc(total, sizeof(*v->segs))) == NULL)
		return ERR_NOMEM;
	for (;;) {
		lo = UINT32_MAX;
		for (k = 0; k < v->ndirs; k++)
			if (at[k] < d[k].nsegs && d[k].segs[at[k]] < lo)
				lo = d[k].segs[at[k]];
		if (lo == UINT32_MAX)
			break;
		v->segs[n].no = lo;
		for (k = 0; k < v->ndirs; k++)
			if (at[k] < d[k].nsegs && d[k].segs[at[k]] == lo) {
				v->segs[n].in |= 1u << k;
				at[k]++;
			}
		n++;
	}
	v->nsegs = n;
	for (i = 0; i < n; i++)
		if (v->segs[i].in == 0)
			return ERR_INTERNAL;
	return 0;
}

int
jnl_vload(const struct jnl_vstate *v, size_t i, struct jnl_filebuf *fb,
    size_t *len, struct jnl_error *err)
{
	const struct jnl_vseg *sg = &v->segs[i];
	uint8_t *copy = NULL;
	size_t k, first, clen = 0, at;
	char name[40];
	int r;

	*len = 0;
	snprintf(name, sizeof(name), JNL_SEG_NAME_FMT, sg->no);
	for (first = 0; !(sg->in & (1u << first)); first++)
		;
	if ((r = jnl_read_into(fb, len, err, v->dirfd[first], name,
	    JNL_SEG_READ_MAX)) != 0)
		return r;
	/* A crash during archival leaves a segment in both directories:
	 * harmless only if both copies are the same bytes. */
	for (k = first + 1; k < v->ndirs; k++) {
		if (!(sg->in & (1u << k)))
			continue;
		if ((r = jnl_read_file(&copy, &clen, err, v->dirfd[k], name,
		    JNL_SEG_READ_MAX)) != 0)
			return r;
		for (at = 0; at < clen && at < *len && copy[at] == fb->p[at];
		    at++)
			;
		free(copy);
		copy = NULL;
		if (at != clen || clen != *len)
			return jnl_err(err, ERR_MALFORMED, name, at, 0,
			    "the copies in %s and in %s differ (from byte "
			    "%zu): an archived segment must be the live one's "
			    "bytes", v->dirs[first], v->dirs[k], at);
	}
	return 0;
}

int
jnl_vstate_chain_fail(struct jnl_vstate *v, int r, const struct jnl_error *e)
{
	struct jnl_verify_result *res = v->res;

	/* The chain blamed the last record counted as good: report the
	 * counts as they were before it.  With a refusal held, the counts
	 * stay as they were when it was met. */
	if (!v->held && res->records > 0 && e->seq == res->head_seq)
		*res = v->before;
	res->err = *e;
	return r;
}

int
jnl_vstate_segment(struct jnl_vstate *v, size_t i, const uint8_t *buf,
    size_t len, int load_rc, const struct jnl_error *load_err)
{
	struct jnl_error e;
	char name[40], miss[40];
	uint32_t no = v->segs[i].no;
	int r;

	if (load_rc != 0)
		return jnl_vstate_chain_fail(v, load_rc, load_err);
	/* In an archive and a live directory a gap is in neither. */
	if (v->ndirs > 1 && no != v->s.seg_no + 1) {
		snprintf(name, sizeof(name), JNL_SEG_NAME_FMT, no);
		snprintf(miss, sizeof(miss), JNL_SEG_NAME_FMT, v->s.seg_no + 1);
		r = jnl_err(&e, ERR_MALFORMED, name, 0, v->s.seq + 1,
		    "%s is in neither %s nor %s", miss, v->dirs[0],
		    v->dirs[1]);
		return jnl_vstate_chain_fail(v, r, &e);
	}
	if ((r = jnl_scan_segment(&v->s, &v->c, &e, no, buf, len,
	    i + 1 == v->nsegs)) != 0)
		return jnl_vstate_chain_fail(v, r, &e);
	if (!v->held)
		v->res->segments++;
	return 0;
}

/*
 * With a refusal held (chain_first), only what jnl_open() verifies before
 * its replay can still be reported: lines that may be checkpoints.
 */
static int
watch_chain(struct jnl_vstate *v, const struct jnl_line *l)
{
	struct jnl_error e;
	uint64_t signed_seq = 0;
	int r;

	if ((r = jnl_check_line_checkpoint(&e, v->c.name, l, &v->ring, 1,
	    v->pub, &signed_seq)) != 0)
		return jnl_vstate_chain_fail(v, r, &e);
	jnl_ckpt_ring_push(&v->ring, l->seq, l->hash);
	return 0;
}

/*
 * A failure of JSON, replay or a snapshot: final, or with chain_first
 * held while the rest of the chain is still checked, because
 * jnl_open() would report a chain failure anywhere first.
 */
static int
refuse(struct jnl_vstate *v, int r, const struct jnl_error *e,
    const struct jnl_line *l)
{
	v->res->err = *e;
	if (!v->hooks->chain_first)
		return r;
	v->held = 1;
	jnl_ckpt_ring_push(&v->ring, l->seq, l->hash);
	return 0;
}

/* Each snapshot tied to this record names its hash (D2). */
static int
check_snapshots(struct jnl_vstate *v, const struct jnl_line *l,
    struct jnl_error *e)
{
	char name[48], a[65], b[65];
	size_t i;

	for (i = 0; i < v->nsnaps; i++) {
		if (v->snaps[i].seq != l->seq)
			continue;
		if (memcmp(v->snaps[i].hash, l->hash, 32) != 0) {
			snprintf(name, sizeof(name), JNL_SNAP_NAME_FMT,
			    (unsigned long long)v->snaps[i].seq);
			util_hex_encode(a, v->snaps[i].hash, 32);
			util_hex_encode(b, l->hash, 32);
			return jnl_err(e, ERR_MALFORMED, v->c.name,
			    l->offset, l->seq, "%s is tied to hash %s but "
			    "the record hashes to %s", name, a, b);
		}
		v->res->snapshots++;
	}
	return 0;
}

int
jnl_vstate_record(struct jnl_vstate *v, const struct jnl_line *l,
    const json_t *rec, const char *reason, int prep_rc, void *prep)
{
	struct jnl_verify_result *res = v->res;
	const struct jnl_verify_hooks *h = v->hooks;
	const char *segname = v->c.name, *ckreason;
	char why[200];
	struct jnl_error e;
	struct jnl_pos pos;
	uint64_t head_seq;
	int r;

	if (v->held)
		return watch_chain(v, l);
	v->before = *res;
	if (rec == NULL && reason != NULL) {
		/* jnl_open() parses a line that may be a checkpoint in its
		 * chain pass: such a line's JSON is a chain failure. */
		if (h->chain_first) {
			head_seq = 0;
			if ((r = jnl_check_line_checkpoint(&e, segname, l,
			    &v->ring, 1, v->pub, &head_seq)) != 0)
				return jnl_vstate_chain_fail(v, r, &e);
		}
		r = jnl_err(&e, ERR_MALFORMED, segname, l->offset, l->seq,
		    "%s", reason);
		return refuse(v, r, &e, l);
	}
	if (rec != NULL && strcmp(json_string_value(json_object_get(rec,
	    "type")), "checkpoint") == 0) {
		if ((r = jnl_ckpt_verify(&head_seq, &ckreason, &v->ring, l->seq,
		    rec, v->pub)) != 0) {
			jnl_err(&e, r, segname, l->offset, l->seq, "%s",
			    ckreason);
			return jnl_vstate_chain_fail(v, r, &e);
		}
		res->checkpoints++;
		if (head_seq > res->signed_seq)
			res->signed_seq = head_seq;
	}
	if (prep_rc != 0) {
		jnl_err(&e, prep_rc, segname, l->offset, l->seq, "preparing "
		    "the record: %s", prep_rc == ERR_NOMEM ? "out of memory" :
		    "failed");
		return jnl_vstate_chain_fail(v, prep_rc, &e);
	}
	why[0] = '\0';
	pos.seg = v->s.seg_no;
	pos.off = (uint32_t)l->offset;
	if (h->replay != NULL && rec != NULL && (r = h->replay(h->ctx, l->seq,
	    l->hash, &pos, rec, prep, why, sizeof(why))) != 0) {
		jnl_err(&e, r, segname, l->offset, l->seq, "record does not "
		    "replay: %s", why[0] ? why : "refused");
		return refuse(v, r, &e, l);
	}
	if ((r = check_snapshots(v, l, &e)) != 0)
		return refuse(v, r, &e, l);
	jnl_ckpt_ring_push(&v->ring, l->seq, l->hash);
	res->records++;
	res->head_seq = l->seq;
	memcpy(res->head, l->hash, 32);
	return 0;
}

int
jnl_vprepare(const struct jnl_verify_hooks *h, const struct jnl_line *l,
    json_t **rec, const char **reason, void **prep)
{
	*prep = NULL;
	if (jnl_parse_record(rec, reason, l) != 0 || h->prepare == NULL)
		return 0;
	return h->prepare(h->ctx, l->seq, *rec, prep);
}

/* Frees what jnl_vprepare() made. */
static void
unprepare(const struct jnl_verify_hooks *h, json_t *rec, void *prep)
{
	if (prep != NULL)
		h->release(h->ctx, prep);
	json_decref(rec);
}

/* The serial reference: every line in order on the calling thread. */
static int
serial_run(struct jnl_vstate *v)
{
	struct jnl_filebuf fb = { NULL, 0 };
	struct jnl_error e;
	struct jnl_line l;
	const char *reason;
	json_t *rec;
	void *prep;
	size_t i, len;
	int r = 0, prc;

	for (i = 0; i < v->nsegs; i++) {
		r = jnl_vload(v, i, &fb, &len, &e);
		if ((r = jnl_vstate_segment(v, i, fb.p, len, r, &e)) != 0)
			goto out;
		while ((r = jnl_scan_next(&v->s, &v->c, &l, &e)) == 1) {
			rec = NULL;
			prep = NULL;
			reason = NULL;
			prc = v->held ? 0 : jnl_vprepare(v->hooks, &l, &rec,
			    &reason, &prep);
			r = jnl_vstate_record(v, &l, rec, reason, prc, prep);
			unprepare(v->hooks, rec, prep);
			if (r != 0)
				goto out;
		}
		if (r < 0) {
			r = jnl_vstate_chain_fail(v, r, &e);
			goto out;
		}
		if (!v->held)
			v->res->torn_bytes = v->c.torn;
	}
	r = 0;
out:
	jnl_filebuf_free(&fb);
	return r;
}

/* After the last line: a held refusal, or snapshots past the end. */
static int
finish(struct jnl_vstate *v)
{
	struct jnl_verify_result *res = v->res;
	char name[48];
	size_t i;

	if (v->held)
		return res->err.code;
	/* D2: a snapshot beyond the end is a journal cut short. */
	for (i = 0; i < v->nsnaps; i++) {
		if (v->snaps[i].seq > res->head_seq) {
			snprintf(name, sizeof(name), JNL_SNAP_NAME_FMT,
			    (unsigned long long)v->snaps[i].seq);
			return jnl_err(&res->err, ERR_MALFORMED, name, 0,
			    v->snaps[i].seq,
			    "snapshot is tied to seq %llu but the journal ends "
			    "at seq %llu: the journal was truncated",
			    (unsigned long long)v->snaps[i].seq,
			    (unsigned long long)res->head_seq);
		}
	}
	res->ok = 1;
	return 0;
}

/* Opens and lists every directory; snapshots from the last. */
static int
open_dirs(struct jnl_vstate *v)
{
	struct jnl_verify_result *res = v->res;
	struct jnl_dir d[JNL_VERIFY_DIRS_MAX];
	size_t k;
	int r = 0;

	memset(d, 0, sizeof(d));
	for (k = 0; k < v->ndirs; k++)
		if ((r = jnl_open_dir(&v->dirfd[k], &res->err,
		    v->dirs[k])) != 0 ||
		    (r = jnl_dir_list(&d[k], &res->err, v->dirfd[k])) != 0)
			goto out;
	if ((r = merge_segments(v, d)) != 0 ||
	    (r = load_snapshots(v, &d[v->ndirs - 1])) != 0) {
		jnl_err(&res->err, r, NULL, 0, 0, "%s", r == ERR_NOMEM ?
		    "out of memory" : "listing segments");
		goto out;
	}
out:
	for (k = 0; k < v->ndirs; k++)
		jnl_dir_free(&d[k]);
	return r;
}

int
jnl_verify_replay2(const char *const *dirs, size_t ndirs, EVP_PKEY *audit_pub,
    const struct jnl_verify_hooks *hooks, unsigned threads,
    struct jnl_verify_result *res)
{
	static const struct jnl_verify_hooks none;
	struct jnl_vstate v;
	size_t k;
	int r;

	memset(res, 0, sizeof(*res));
	memset(&v, 0, sizeof(v));
	for (k = 0; k < JNL_VERIFY_DIRS_MAX; k++)
		v.dirfd[k] = -1;
	v.res = res;
	v.pub = audit_pub;
	v.hooks = hooks != NULL ? hooks : &none;
	v.dirs = dirs;
	v.ndirs = ndirs;
	if (threads == 0)
		threads = JNL_VERIFY_THREADS_DEFAULT;
	if (threads > JNL_VERIFY_THREADS_MAX || ndirs < 1 ||
	    ndirs > JNL_VERIFY_DIRS_MAX ||
	    (v.hooks->prepare != NULL && v.hooks->release == NULL)) {
		r = jnl_err(&res->err, ERR_INVALID_ARG, NULL, 0, 0,
		    "threads 1..%d, one or two directories, release with "
		    "prepare", JNL_VERIFY_THREADS_MAX);
		goto out;
	}
	if ((r = jnl_scan_init(&v.s)) != 0) {
		jnl_err(&res->err, r, NULL, 0, 0, "out of memory");
		goto out;
	}
	if (audit_pub == NULL || jnl_ckpt_check_key(audit_pub) != 0) {
		r = jnl_err(&res->err, ERR_UNSUPPORTED, NULL, 0, 0, "the audit "
		    "key is not an EC P-256 key");
		goto out;
	}
	if ((r = jnl_ckpt_ring_init(&v.ring)) != 0) {
		jnl_err(&res->err, r, NULL, 0, 0, "out of memory");
		goto out;
	}
	if ((r = open_dirs(&v)) != 0)
		goto out;
	r = threads == 1 ? serial_run(&v) : jnl_pverify_run(&v, threads);
	if (r == 0)
		r = finish(&v);
out:
	util_hex_encode(res->head_hex, res->head, 32);
	for (k = 0; k < JNL_VERIFY_DIRS_MAX; k++)
		if (v.dirfd[k] >= 0)
			close(v.dirfd[k]);
	free(v.segs);
	free(v.snaps);
	jnl_ckpt_ring_free(&v.ring);
	jnl_scan_free(&v.s);
	return r;
}

/* jnl_verify_replay()'s callback, which takes no prepared result. */
struct replay_plain {
	jnl_replay_fn fn;
	void *ctx;
};

static int
replay_plain(void *ctx, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos, const json_t *rec, void *prep, char *why,
    size_t cap)
{
	const struct replay_plain *p = ctx;

	(void)prep;
	return p->fn(p->ctx, seq, hash, pos, rec, why, cap);
}

int
jnl_verify(const char *dir, EVP_PKEY *audit_pub,
    struct jnl_verify_result *res)
{
	return jnl_verify_replay2(&dir, 1, audit_pub, NULL, 1, res);
}

int
jnl_verify_replay(const char *dir, EVP_PKEY *audit_pub, jnl_replay_fn fn,
    void *ctx, struct jnl_verify_result *res)
{
	struct replay_plain plain = { fn, ctx };
	struct jnl_verify_hooks h;

	memset(&h, 0, sizeof(h));
	if (fn != NULL) {
		h.replay = replay_plain;
		h.ctx = &plain;
		h.chain_first = 1;
	}
	return jnl_verify_replay2(&dir, 1, audit_pub, &h, 1, res);
}

int
jnl_snapshots_each(const char *dir, jnl_restore_fn fn, void *ctx,
    struct jnl_error *err)
{
	struct jnl_snapshot snap;
	struct jnl_dir d;
	int dirfd = -1, r;
	size_t i;

	memset(&d, 0, sizeof(d));
	if ((r = jnl_open_dir(&dirfd, err, dir)) != 0 ||
	    (r = jnl_dir_list(&d, err, dirfd)) != 0)
		goto out;
	for (i = 0; i < d.nsnaps; i++) {
		/* A rotten snapshot is jnl_verify's to count, not ours. */
		if ((r = jnl_snapshot_read(&snap, NULL, dirfd, d.snaps[i])) != 0) {
			if (r == ERR_NOMEM)
				goto out;
			continue;
		}
		r = fn(ctx, snap.seq, snap.hash, snap.blob, snap.len);
		if (r != 0) {
			char name[48];

			snprintf(name, sizeof(name), JNL_SNAP_NAME_FMT,
			    (unsigned long long)snap.seq);
			jnl_err(err, r, name, 0, snap.seq, "the snapshot "
			    "callback refused it");
		}
		jnl_snapshot_free(&snap);
		if (r != 0)
			goto out;
	}
	r = 0;
out:
	if (dirfd >= 0)
		close(dirfd);
	jnl_dir_free(&d);
	return r;
}
