/* verify.c: jnl_verify(), the auditors' offline check of a whole journal directory. */
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

/* Snapshots whose own checksum holds, to hold against the chain. */
struct snap_check {
	uint64_t seq;
	uint8_t hash[32];
};

static int
load_snapshots(struct snap_check **out, size_t *n,
    struct jnl_verify_result *res, int dirfd, const struct jnl_dir *d)
{
	struct jnl_snapshot snap;
	struct snap_check *sc;
	size_t i;
	int r;

	*out = NULL;
	*n = 0;
	if (d->nsnaps == 0)
		return 0;
	if ((sc = calloc(d->nsnaps, sizeof(*sc))) == NULL)
		return ERR_NOMEM;
	for (i = 0; i < d->nsnaps; i++) {
		r = jnl_snapshot_read(&snap, NULL, dirfd, d->snaps[i]);
		if (r == ERR_NOMEM) {
			free(sc);
			return r;
		}
		/* A rotten snapshot costs start-up time, not integrity. */
		if (r != 0) {
			res->snapshots_corrupt++;
			continue;
		}
		sc[*n].seq = snap.seq;
		memcpy(sc[*n].hash, snap.hash, 32);
		(*n)++;
		jnl_snapshot_free(&snap);
	}
	*out = sc;
	return 0;
}

/* Checks one record beyond the chain: JSON, checkpoint, snapshots. */
/* The semantic check of jnl_verify_replay(), if any. */
struct replay_hook {
	jnl_replay_fn fn;
	void *ctx;
};

static int
check_record(struct jnl_verify_result *res, const struct jnl_line *l,
    uint32_t seg, const char *segname, const struct jnl_ckpt_ring *ring, EVP_PKEY *pub,
    const struct snap_check *sc, size_t nsc, const struct replay_hook *hook)
{
	const char *reason, *type;
	char name[48], a[65], b[65], why[200];
	struct jnl_pos pos;
	json_t *rec = NULL;
	uint64_t head_seq;
	size_t i;
	int r;

	if ((r = jnl_parse_record(&rec, &reason, l)) != 0) {
		r = jnl_err(&res->err, r, segname, l->offset, l->seq, "%s",
		    reason);
		goto out;
	}
	type = json_string_value(json_object_get(rec, "type"));
	if (strcmp(type, "checkpoint") == 0) {
		if ((r = jnl_ckpt_verify(&head_seq, &reason, ring, l->seq, rec,
		    pub)) != 0) {
			r = jnl_err(&res->err, r, segname, l->offset, l->seq,
			    "%s", reason);
			goto out;
		}
		res->checkpoints++;
		if (head_seq > res->signed_seq)
			res->signed_seq = head_seq;
	}
	why[0] = '\0';
	pos.seg = seg;
	pos.off = (uint32_t)l->offset;
	if (hook->fn != NULL && (r = hook->fn(hook->ctx, l->seq, l->hash, &pos,
	    rec, why, sizeof(why))) != 0) {
		r = jnl_err(&res->err, r, segname, l->offset, l->seq,
		    "record does not replay: %s", why[0] ? why : "refused");
		goto out;
	}
	for (i = 0; i < nsc; i++) {
		if (sc[i].seq != l->seq)
			continue;
		if (memcmp(sc[i].hash, l->hash, 32) != 0) {
			snprintf(name, sizeof(name), JNL_SNAP_NAME_FMT,
			    (unsigned long long)sc[i].seq);
			util_hex_encode(a, sc[i].hash, 32);
			util_hex_encode(b, l->hash, 32);
			r = jnl_err(&res->err, ERR_MALFORMED, segname,
			    l->offset, l->seq, "%s is tied to hash %s but the "
			    "record hashes to %s", name, a, b);
			goto out;
		}
		res->snapshots++;
	}
	r = 0;
out:
	json_decref(rec);
	return r;
}

int
jnl_verify(const char *dir, EVP_PKEY *audit_pub,
    struct jnl_verify_result *res)
{
	return jnl_verify_replay(dir, audit_pub, NULL, NULL, res);
}

int
jnl_verify_replay(const char *dir, EVP_PKEY *audit_pub, jnl_replay_fn fn,
    void *ctx, struct jnl_verify_result *res)
{
	const struct replay_hook hook = { fn, ctx };
	struct jnl_verify_result before;
	struct jnl_ckpt_ring ring;
	struct jnl_seg_cursor c;
	struct snap_check *sc = NULL;
	struct jnl_scan s;
	struct jnl_line l;
	struct jnl_dir d;
	struct jnl_filebuf fb = { NULL, 0 };
	char name[48];
	size_t i, len, nsc = 0;
	int dirfd = -1, r;

	memset(res, 0, sizeof(*res));
	memset(&before, 0, sizeof(before));
	memset(&d, 0, sizeof(d));
	memset(&ring, 0, sizeof(ring));
	if ((r = jnl_scan_init(&s)) != 0) {
		jnl_err(&res->err, r, NULL, 0, 0, "out of memory");
		return r;
	}
	if (audit_pub == NULL || (r = jnl_ckpt_check_key(audit_pub)) != 0) {
		r = ERR_UNSUPPORTED;
		jnl_err(&res->err, r, NULL, 0, 0, "the audit key is not an "
		    "EC P-256 key");
		goto out;
	}
	if ((r = jnl_ckpt_ring_init(&ring)) != 0 ||
	    (r = jnl_open_dir(&dirfd, &res->err, dir)) != 0 ||
	    (r = jnl_dir_list(&d, &res->err, dirfd)) != 0)
		goto out;
	if ((r = load_snapshots(&sc, &nsc, res, dirfd, &d)) != 0) {
		jnl_err(&res->err, r, NULL, 0, 0, "reading snapshots");
		goto out;
	}
	/*
	 * Replaying as signerd does: first its start-up pass (chain and every
	 * checkpoint), so that both name the same first failure.
	 */
	if (fn != NULL) {
		struct jnl_config cfg;
		struct jnl_scan_result sr;

		memset(&cfg, 0, sizeof(cfg));
		cfg.audit_pub = audit_pub;
		if ((r = jnl_scan_all(&sr, &res->err, dirfd, &d, NULL, 0,
		    &cfg)) != 0)
			goto out;
	}
	for (i = 0; i < d.nsegs; i++) {
		snprintf(name, sizeof(name), JNL_SEG_NAME_FMT, d.segs[i]);
		if ((r = jnl_read_into(&fb, &len, &res->err, dirfd, name,
		    2 * JNL_SEGMENT_MAX_LIMIT)) != 0 ||
		    (r = jnl_scan_segment(&s, &c, &res->err, d.segs[i], fb.p,
		    len, i + 1 == d.nsegs)) != 0)
			goto out;
		res->segments++;
		while ((r = jnl_scan_next(&s, &c, &l, &res->err)) == 1) {
			before = *res;
			if ((r = check_record(res, &l, d.segs[i], name, &ring,
			    audit_pub, sc, nsc, &hook)) != 0)
				goto out;
			jnl_ckpt_ring_push(&ring, l.seq, l.hash);
			res->records++;
			res->head_seq = l.seq;
			memcpy(res->head, l.hash, 32);
		}
		if (r < 0) {
			/* The chain blamed the last record counted as good:
			 * report the counts as they were before it. */
			if (res->records > 0 && res->err.seq == res->head_seq) {
				before.err = res->err;
				*res = before;
			}
			goto out;
		}
		res->torn_bytes = c.torn;
	}
	/* D2: a snapshot beyond the end is a journal cut short. */
	for (i = 0; i < nsc; i++) {
		if (sc[i].seq > res->head_seq) {
			snprintf(name, sizeof(name), JNL_SNAP_NAME_FMT,
			    (unsigned long long)sc[i].seq);
			r = jnl_err(&res->err, ERR_MALFORMED, name, 0,
			    sc[i].seq,
			    "snapshot is tied to seq %llu but the journal ends "
			    "at seq %llu: the journal was truncated",
			    (unsigned long long)sc[i].seq,
			    (unsigned long long)res->head_seq);
			goto out;
		}
	}
	res->ok = 1;
	r = 0;
out:
	util_hex_encode(res->head_hex, res->head, 32);
	jnl_filebuf_free(&fb);
	free(sc);
	if (dirfd >= 0)
		close(dirfd);
	jnl_dir_free(&d);
	jnl_ckpt_ring_free(&ring);
	jnl_scan_free(&s);
	return r;
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
