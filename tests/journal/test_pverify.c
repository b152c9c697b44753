/* test_pverify.c: the parallel verifier (pverify.c) against the serial one, joins at run and segment boundaries, archive + live. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>

#include "common/err.h"
#include "journal/internal.h"
#include "jnl_test.h"

static EVP_PKEY *audit_key;

static int
group_setup(void **state)
{
	audit_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return audit_key != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	EVP_PKEY_free(audit_key);
	return 0;
}

/* --- a replay hook with a prepare step -------------------------------- */

/* What prepare hands to replay: the seq it saw, to prove the pairing. */
struct prepped {
	uint64_t seq;
	char request[32];
};

/* Refuses records whose "request" is refuse_req; counts what it saw. */
struct hook_ctx {
	const char *refuse_req;
	uint64_t replayed;
	uint64_t mismatched;
};

static int
h_prepare(void *ctx, uint64_t seq, const json_t *rec, void **prepared)
{
	const char *req = json_string_value(json_object_get(rec, "request"));
	struct prepped *p;

	(void)ctx;
	*prepared = NULL;
	if (req == NULL)
		return 0;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ERR_NOMEM;
	p->seq = seq;
	snprintf(p->request, sizeof(p->request), "%s", req);
	*prepared = p;
	return 0;
}

static int
h_replay(void *ctx, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos, const json_t *rec, void *prepared, char *why,
    size_t cap)
{
	struct hook_ctx *h = ctx;
	const char *req = json_string_value(json_object_get(rec, "request"));
	const struct prepped *p = prepared;

	(void)hash;
	(void)pos;
	h->replayed++;
	if (req != NULL && (p == NULL || p->seq != seq ||
	    strcmp(p->request, req) != 0))
		h->mismatched++;
	if (req != NULL && h->refuse_req != NULL &&
	    strcmp(req, h->refuse_req) == 0) {
		snprintf(why, cap, "refused %s", req);
		return ERR_MALFORMED;
	}
	return 0;
}

static void
h_release(void *ctx, void *prepared)
{
	(void)ctx;
	free(prepared);
}

/* --- running every configuration ------------------------------------- */

static void
assert_same(const struct jnl_verify_result *a, const struct jnl_verify_result *b,
    int ra, int rb, const char *what)
{
	if (ra != rb || a->ok != b->ok || a->segments != b->segments ||
	    a->records != b->records || a->checkpoints != b->checkpoints ||
	    a->snapshots != b->snapshots ||
	    a->snapshots_corrupt != b->snapshots_corrupt ||
	    a->head_seq != b->head_seq || memcmp(a->head, b->head, 32) != 0 ||
	    a->signed_seq != b->signed_seq || a->torn_bytes != b->torn_bytes ||
	    (!a->ok && (a->err.code != b->err.code ||
	    strcmp(a->err.segment, b->err.segment) != 0 ||
	    a->err.offset != b->err.offset || a->err.seq != b->err.seq ||
	    strcmp(a->err.reason, b->err.reason) != 0))) {
		print_error("%s: serial r=%d ok=%d records=%llu head=%llu "
		    "err=%s/%llu/%llu/%s\n   parallel r=%d ok=%d records=%llu "
		    "head=%llu err=%s/%llu/%llu/%s\n", what, ra, a->ok,
		    (unsigned long long)a->records,
		    (unsigned long long)a->head_seq, a->err.segment,
		    (unsigned long long)a->err.offset,
		    (unsigned long long)a->err.seq, a->err.reason, rb, b->ok,
		    (unsigned long long)b->records,
		    (unsigned long long)b->head_seq, b->err.segment,
		    (unsigned long long)b->err.offset,
		    (unsigned long long)b->err.seq, b->err.reason);
		fail();
	}
}

/*
 * Verifies dirs with threads 1 (the reference, into *res, returned) and
 * with 2 and 3 workers over runs of one line, a few lines and the
 * default size, and checks each reports exactly what the reference does.
 */
static int
verify_all(struct jnl_verify_result *res, const char *const *dirs,
    size_t ndirs, int hooks, int chain_first, const char *refuse)
{
	static const struct { unsigned threads; size_t run; } cfg[] = {
		{ 2, 1 }, { 3, 1 }, { 2, 300 }, { 3, 700 }, { 2, 1u << 20 },
	};
	struct hook_ctx hc = { refuse, 0, 0 };
	struct jnl_verify_hooks h = { h_prepare, h_replay, h_release, &hc,
	    chain_first };
	struct jnl_verify_result other;
	const size_t saved = jnl_pverify_run_bytes;
	char what[64];
	size_t i;
	int r, r2;

	r = jnl_verify_replay2(dirs, ndirs, audit_key, hooks ? &h : NULL, 1,
	    res);
	assert_int_equal(hc.mismatched, 0);
	for (i = 0; i < sizeof(cfg) / sizeof(cfg[0]); i++) {
		jnl_pverify_run_bytes = cfg[i].run;
		hc.mismatched = 0;
		r2 = jnl_verify_replay2(dirs, ndirs, audit_key,
		    hooks ? &h : NULL, cfg[i].threads, &other);
		jnl_pverify_run_bytes = saved;
		snprintf(what, sizeof(what), "threads %u run %zu hooks %d",
		    cfg[i].threads, cfg[i].run, hooks);
		assert_same(res, &other, r, r2, what);
		assert_int_equal(hc.mismatched, 0);
	}
	return r;
}

static int
verify1(struct jnl_verify_result *res, const char *dir)
{
	return verify_all(res, &dir, 1, 0, 0, NULL);
}

/* --- journals and surgery --------------------------------------------- */

/*
 * n records in small segments (segment_max bytes), a checkpoint after
 * records ckpt_a and ckpt_b (0: none), a snapshot at snap (0: none).
 */
static void
make_journal(const char *dir, int n, uint64_t segment_max, int ckpt_a,
    int ckpt_b, int snap)
{
	struct jnl_config cfg;
	struct jnl_error e;
	struct jnl *j;
	int i;

	memset(&cfg, 0, sizeof(cfg));
	cfg.segment_max = segment_max;
	cfg.audit_pub = audit_key;
	assert_int_equal(jnl_open(&j, &e, dir, &cfg), 0);
	for (i = 1; i <= n; i++) {
		assert_int_equal(t_append_n(j, i, 1), 0);
		if (i == ckpt_a || i == ckpt_b)
			assert_int_equal(jnl_checkpoint(j, key_signer,
			    audit_key), 0);
		if (i == snap)
			assert_int_equal(jnl_snapshot_write(j, "state", 5), 0);
	}
	jnl_close(j);
}

static unsigned
count_segments(const char *dir)
{
	char path[PATH_MAX];
	unsigned n = 0;

	for (;;) {
		t_seg_path(path, dir, n + 1);
		if (access(path, F_OK) != 0)
			return n;
		n++;
	}
}

/* Copies every regular file of src into dst (created). */
static void
copy_dir(const char *src, const char *dst)
{
	char a[2 * PATH_MAX], b[2 * PATH_MAX];
	struct dirent *de;
	size_t len;
	char *buf;
	DIR *d;

	assert_int_equal(mkdir(dst, 0700), 0);
	assert_non_null(d = opendir(src));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || de->d_type != DT_REG)
			continue;
		snprintf(a, sizeof(a), "%s/%s", src, de->d_name);
		snprintf(b, sizeof(b), "%s/%s", dst, de->d_name);
		assert_non_null(buf = t_read(a, &len));
		t_write(b, buf, len);
		free(buf);
	}
	closedir(d);
}

/* Moves segment n from one directory to another. */
static void
move_segment(const char *from, const char *to, unsigned n)
{
	char a[PATH_MAX], b[PATH_MAX];

	t_seg_path(a, from, n);
	t_seg_path(b, to, n);
	assert_int_equal(rename(a, b), 0);
}

/* Byte offset of the first line of seq in segment seg, or -1. */
static long
line_of(const char *dir, unsigned seg, int line, char **buf, size_t *len)
{
	char path[PATH_MAX];

	t_seg_path(path, dir, seg);
	assert_non_null(*buf = t_read(path, len));
	return t_line_off(*buf, *len, line);
}

/* Rewrites segment seg of dir with buf. */
static void
put_segment(const char *dir, unsigned seg, const char *buf, size_t len)
{
	char path[PATH_MAX];

	t_seg_path(path, dir, seg);
	t_write(path, buf, len);
}

/*
 * Fixes every prev from the first segment on, as an attacker who
 * rewrites the whole chain would: only what is not the chain can then
 * fail.  Seqs are kept as the lines carry them.
 */
static void
rechain(const char *dir)
{
	struct jnl_hasher h;
	struct prt_writer w;
	struct jnl_prefix pre;
	const char *reason, *p, *nl, *comma;
	uint8_t prev[32] = { 0 }, hash[32];
	unsigned seg, nsegs = count_segments(dir);
	size_t len;
	char *buf, path[PATH_MAX], body[JNL_LINE_MAX];

	assert_int_equal(jnl_hasher_init(&h), 0);
	for (seg = 1; seg <= nsegs; seg++) {
		t_seg_path(path, dir, seg);
		assert_non_null(buf = t_read(path, &len));
		prt_writer_init(&w, 1 << 24);
		for (p = buf; (nl = memchr(p, '\n', len - (size_t)(p - buf))) !=
		    NULL; p = nl + 1) {
			assert_int_equal(jnl_fmt_prefix(&pre, &reason,
			    (const uint8_t *)p, (size_t)(nl - p)), 0);
			comma = memchr(p + 9 + 64 + 8, ',', (size_t)(nl - p));
			assert_non_null(comma);
			body[0] = '{';
			memcpy(body + 1, comma + 1, (size_t)(nl - comma - 1));
			body[nl - comma] = '\0';
			assert_int_equal(jnl_fmt_line(&w, hash, &h, pre.seq,
			    prev, body, strlen(body)), 0);
			memcpy(prev, hash, 32);
		}
		t_write(path, w.p, w.len);
		prt_writer_free(&w);
		free(buf);
	}
	jnl_hasher_free(&h);
}

/* Flips byte off of line `line` (1-based) of segment seg. */
static void
flip(const char *dir, unsigned seg, int line, size_t off, char to)
{
	size_t len;
	char *buf;
	long at = line_of(dir, seg, line, &buf, &len);

	assert_true(at >= 0 && (size_t)at + off < len);
	buf[at + (long)off] = to;
	put_segment(dir, seg, buf, len);
	free(buf);
}

enum tamper {
	T_PREV, T_BODY, T_DELETE, T_DUP, T_CUT, T_JSON_RECHAINED,
	T_SEQ_RECHAINED, T_COUNT
};
static int tamper(const char *dir, unsigned seg, int line, enum tamper t);

/* --- boundary joins --------------------------------------------------- */

/* A prev that breaks exactly at a segment boundary is blamed as serial
 * blames it: on the line, or on the last line of the segment before when
 * the line after still vouches for it. */
static void
test_prev_breaks_at_boundary(void **state)
{
	struct jnl_verify_result res;
	char dir[PATH_MAX], d2[PATH_MAX + 8];
	size_t len;
	char *buf;
	long at;

	t_mkdtemp(dir);
	make_journal(dir, 40, 1024, 0, 0, 0);
	assert_true(count_segments(dir) >= 3);
	snprintf(d2, sizeof(d2), "%s/b", dir);
	copy_dir(dir, d2);

	/* seg 2's first prev altered. */
	flip(dir, 2, 1, 9, 'f');
	flip(dir, 2, 1, 10, 'f');
	assert_int_equal(verify1(&res, dir), ERR_MALFORMED);
	assert_string_equal(res.err.segment, "seg-00000002.jsonl");
	assert_int_equal(res.err.offset, 0);
	assert_non_null(strstr(res.err.reason, "prev differs"));
	assert_int_equal(res.records, res.err.seq - 1);

	/* seg 1's last record altered: seg 2's second line still vouches for
	 * seg 2's first, so the blame crosses back over the boundary. */
	at = line_of(d2, 1, 1, &buf, &len);
	assert_true(at == 0 && len > 20);
	/* ..."type":"signed"}\n: a letter of "signed", valid JSON still. */
	buf[len - 4] = buf[len - 4] == 'd' ? 'e' : 'd';
	put_segment(d2, 1, buf, len);
	free(buf);
	assert_int_equal(verify1(&res, d2), ERR_MALFORMED);
	assert_string_equal(res.err.segment, "seg-00000001.jsonl");
	assert_non_null(strstr(res.err.reason, "this record was altered"));
	assert_int_equal(res.head_seq, res.err.seq - 1);
	t_rm_rf(dir);
}

static void
test_missing_middle_segment(void **state)
{
	struct jnl_verify_result res;
	char dir[PATH_MAX], path[PATH_MAX];

	t_mkdtemp(dir);
	make_journal(dir, 40, 1024, 0, 0, 0);
	t_seg_path(path, dir, 2);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(verify1(&res, dir), ERR_MALFORMED);
	assert_string_equal(res.err.segment, "seg-00000003.jsonl");
	assert_non_null(strstr(res.err.reason,
	    "segment seg-00000002.jsonl is missing"));
	assert_int_equal(res.segments, 1);
	t_rm_rf(dir);
}

static void
test_torn_line_at_end(void **state)
{
	struct jnl_verify_result res, full;
	char dir[PATH_MAX], path[PATH_MAX];
	unsigned last;
	size_t len;
	char *buf;

	t_mkdtemp(dir);
	make_journal(dir, 40, 1024, 0, 0, 0);
	assert_int_equal(verify1(&full, dir), 0);
	last = count_segments(dir);
	t_seg_path(path, dir, last);
	assert_non_null(buf = t_read(path, &len));
	buf = realloc(buf, len + 30);
	memcpy(buf + len, "{\"prev\":\"00aa", 13);
	t_write(path, buf, len + 13);
	free(buf);
	assert_int_equal(verify1(&res, dir), 0);
	assert_true(res.ok);
	assert_int_equal(res.torn_bytes, 13);
	assert_int_equal(res.records, full.records);

	/* Torn in a segment that is not the last: an error, in order. */
	t_seg_path(path, dir, 1);
	assert_non_null(buf = t_read(path, &len));
	t_write(path, buf, len - 1);
	free(buf);
	assert_int_equal(verify1(&res, dir), ERR_MALFORMED);
	assert_string_equal(res.err.segment, "seg-00000001.jsonl");
	assert_non_null(strstr(res.err.reason, "does not end with a newline"));
	t_rm_rf(dir);
}

/* The line number (1-based) of the first line of segment seg holding
 * needle, or 0. */
static int
find_line(const char *dir, unsigned seg, const char *needle)
{
	char path[PATH_MAX], *buf, *p, *nl;
	size_t len;
	int line = 1, found = 0;

	t_seg_path(path, dir, seg);
	if ((buf = t_read(path, &len)) == NULL)
		return 0;
	for (p = buf; !found && (nl = memchr(p, '\n', len - (size_t)(p -
	    buf))) != NULL; p = nl + 1, line++) {
		*nl = '\0';
		if (strstr(p, needle) != NULL)
			found = line;
	}
	free(buf);
	return found;
}

static void
test_bad_checkpoint_in_second_segment(void **state)
{
	struct jnl_verify_result res;
	char dir[PATH_MAX], name[40];
	size_t len;
	char *buf, *sig;
	long at;
	int line;

	t_mkdtemp(dir);
	make_journal(dir, 30, 1024, 2, 4, 0);
	assert_int_equal(verify1(&res, dir), 0);
	assert_int_equal(res.checkpoints, 2);
	/* The first checkpoint is in segment 1, the second in segment 2:
	 * make its signature another one, then re-chain. */
	assert_true(find_line(dir, 1, "\"checkpoint\"") > 0);
	assert_true((line = find_line(dir, 2, "\"checkpoint\"")) > 0);
	at = line_of(dir, 2, line, &buf, &len);
	assert_non_null(sig = strstr(buf + at, "\"sig\":\""));
	sig[20] = sig[20] == '0' ? '1' : '0';
	put_segment(dir, 2, buf, len);
	free(buf);
	rechain(dir);
	assert_int_equal(verify1(&res, dir), ERR_BAD_SIGNATURE);
	snprintf(name, sizeof(name), "seg-%08u.jsonl", 2);
	assert_string_equal(res.err.segment, name);
	assert_non_null(strstr(res.err.reason, "does not verify"));
	assert_int_equal(res.checkpoints, 1);
	t_rm_rf(dir);
}

/* Errors in two segments (which parallel workers find at once): the
 * first in the chain is reported. */
static void
test_first_of_two_errors_wins(void **state)
{
	struct jnl_verify_result res;
	char dir[PATH_MAX];

	t_mkdtemp(dir);
	make_journal(dir, 40, 1024, 0, 0, 0);
	assert_true(count_segments(dir) >= 3);
	flip(dir, 3, 2, 20, 'x');	/* a prev: chain */
	flip(dir, 2, 3, 100, '#');	/* a body byte: chain, earlier */
	assert_int_equal(verify1(&res, dir), ERR_MALFORMED);
	assert_string_equal(res.err.segment, "seg-00000002.jsonl");

	/* JSON broken in segment 2 and 3 with the chain re-made. */
	t_rm_rf(dir);
	t_mkdtemp(dir);
	make_journal(dir, 40, 1024, 0, 0, 0);
	assert_int_equal(tamper(dir, 3, 2, T_JSON_RECHAINED), 1);
	assert_int_equal(tamper(dir, 2, 3, T_JSON_RECHAINED), 1);
	assert_int_equal(verify1(&res, dir), ERR_MALFORMED);
	assert_string_equal(res.err.segment, "seg-00000002.jsonl");
	assert_non_null(strstr(res.err.reason, "JSON"));
	t_rm_rf(dir);
}

/* With chain_first, a chain failure later wins over an earlier refusal,
 * as signerd's start-up would report it; counts stop at the first. */
static void
test_chain_first_order(void **state)
{
	const char *dirs[1];
	struct jnl_verify_result res;
	char dir[PATH_MAX];

	t_mkdtemp(dir);
	make_journal(dir, 40, 1024, 0, 0, 0);
	dirs[0] = dir;
	assert_int_equal(verify_all(&res, dirs, 1, 1, 1, "req-7"),
	    ERR_MALFORMED);
	assert_int_equal(res.err.seq, 7);
	assert_string_equal(res.err.reason, "record does not replay: "
	    "refused req-7");
	assert_int_equal(res.records, 6);
	assert_int_equal(res.head_seq, 6);
	/* A prev broken far after it. */
	assert_int_equal(tamper(dir, 3, 2, T_PREV), 1);
	assert_int_equal(verify_all(&res, dirs, 1, 1, 1, "req-7"),
	    ERR_MALFORMED);
	assert_true(res.err.seq > 8);
	assert_string_equal(res.err.segment, "seg-00000003.jsonl");
	assert_int_equal(res.records, 6);
	/* Without chain_first the first in seq order. */
	assert_int_equal(verify_all(&res, dirs, 1, 1, 0, "req-7"),
	    ERR_MALFORMED);
	assert_int_equal(res.err.seq, 7);
	t_rm_rf(dir);
}

/* --- every tampering at every line: parallel == serial ------------------ */

/* Applies tamper t to line `line` of segment seg; 0 if the line is not
 * there. */
static int
tamper(const char *dir, unsigned seg, int line, enum tamper t)
{
	size_t len, ll;
	char *buf, *nb;
	long at = line_of(dir, seg, line, &buf, &len);

	if (at < 0 || (size_t)at >= len) {
		free(buf);
		return 0;
	}
	ll = t_line_len(buf, len, line);
	switch (t) {
	case T_PREV:
		buf[at + 12] = buf[at + 12] == 'a' ? 'b' : 'a';
		break;
	case T_BODY:
	case T_JSON_RECHAINED:
		buf[at + (long)ll - 4] = t == T_BODY ?
		    (buf[at + (long)ll - 4] == 'a' ? 'b' : 'a') : '"';
		break;
	case T_SEQ_RECHAINED:
		/* "seq":N -> a digit changed, the chain re-made. */
		buf[at + 81] = buf[at + 81] == '9' ? '8' : '9';
		break;
	case T_DELETE:
		memmove(buf + at, buf + at + (long)ll, len - (size_t)at - ll);
		len -= ll;
		break;
	case T_DUP:
		assert_non_null(nb = malloc(len + ll));
		memcpy(nb, buf, (size_t)at + ll);
		memcpy(nb + at + (long)ll, buf + at, len - (size_t)at);
		free(buf);
		buf = nb;
		len += ll;
		break;
	case T_CUT:
		len = (size_t)at + ll / 2;
		break;
	default:
		abort();
	}
	put_segment(dir, seg, buf, len);
	free(buf);
	if (t == T_JSON_RECHAINED || t == T_SEQ_RECHAINED)
		rechain(dir);
	return 1;
}

static void
test_every_tamper_same_report(void **state)
{
	struct jnl_verify_result res;
	char base[PATH_MAX], dir[PATH_MAX + 8];
	const char *dirs[1];
	unsigned seg, nsegs;
	int line, t, hooks, runs = 0;

	t_mkdtemp(base);
	snprintf(dir, sizeof(dir), "%s/j", base);
	make_journal(dir, 24, 900, 5, 15, 10);
	nsegs = count_segments(dir);
	assert_true(nsegs >= 3);
	t_rm_rf(dir);
	dirs[0] = dir;
	for (seg = 1; seg <= nsegs; seg++)
		for (line = 1; line <= 8; line++)
			for (t = 0; t < T_COUNT; t++) {
				make_journal(dir, 24, 900, 5, 15, 10);
				if (tamper(dir, seg, line, (enum tamper)t))
					for (hooks = 0; hooks <= 1; hooks++) {
						(void)verify_all(&res, dirs, 1,
						    hooks, hooks, "req-3");
						runs++;
					}
				t_rm_rf(dir);
			}
	assert_true(runs > 100);
	t_rm_rf(base);
}

/* --- archive + live ---------------------------------------------------- */

static void
test_archive_and_live(void **state)
{
	struct jnl_verify_result whole, res;
	char base[PATH_MAX], live[PATH_MAX + 8], arch[PATH_MAX + 8];
	char a[PATH_MAX], b[PATH_MAX];
	const char *dirs[2];
	size_t len;
	char *buf;

	t_mkdtemp(base);
	snprintf(live, sizeof(live), "%s/live", base);
	snprintf(arch, sizeof(arch), "%s/arch", base);
	make_journal(live, 40, 1024, 4, 0, 30);
	assert_true(count_segments(live) >= 4);
	assert_int_equal(mkdir(arch, 0700), 0);
	assert_int_equal(verify1(&whole, live), 0);
	move_segment(live, arch, 1);
	move_segment(live, arch, 2);
	dirs[0] = arch;
	dirs[1] = live;
	assert_int_equal(verify_all(&res, dirs, 2, 0, 0, NULL), 0);
	assert_same(&whole, &res, 0, 0, "archive + live");

	/* A copy in both (a crash during archival), identical: fine. */
	t_seg_path(a, arch, 2);
	t_seg_path(b, live, 2);
	assert_non_null(buf = t_read(a, &len));
	t_write(b, buf, len);
	assert_int_equal(verify_all(&res, dirs, 2, 0, 0, NULL), 0);
	assert_int_equal(res.records, whole.records);
	/* ... different: both named. */
	buf[len - 5] = buf[len - 5] == '1' ? '2' : '1';
	t_write(b, buf, len);
	free(buf);
	assert_int_equal(verify_all(&res, dirs, 2, 0, 0, NULL), ERR_MALFORMED);
	assert_string_equal(res.err.segment, "seg-00000002.jsonl");
	assert_non_null(strstr(res.err.reason, arch));
	assert_non_null(strstr(res.err.reason, live));
	assert_non_null(strstr(res.err.reason, "differ"));
	assert_int_equal(unlink(b), 0);

	/* A segment in neither. */
	move_segment(live, arch, 3);
	t_seg_path(a, arch, 3);
	assert_int_equal(unlink(a), 0);
	assert_int_equal(verify_all(&res, dirs, 2, 0, 0, NULL), ERR_MALFORMED);
	assert_string_equal(res.err.segment, "seg-00000004.jsonl");
	assert_non_null(strstr(res.err.reason, "seg-00000003.jsonl is in "
	    "neither"));
	assert_non_null(strstr(res.err.reason, arch));
	t_rm_rf(base);
}

static void
test_bad_arguments(void **state)
{
	struct jnl_verify_result res;
	char dir[PATH_MAX];
	const char *dirs[3];

	t_mkdtemp(dir);
	dirs[0] = dirs[1] = dirs[2] = dir;
	assert_int_equal(jnl_verify_replay2(dirs, 1, audit_key, NULL,
	    JNL_VERIFY_THREADS_MAX + 1, &res), ERR_INVALID_ARG);
	assert_int_equal(jnl_verify_replay2(dirs, 0, audit_key, NULL, 1,
	    &res), ERR_INVALID_ARG);
	assert_int_equal(jnl_verify_replay2(dirs, 3, audit_key, NULL, 1,
	    &res), ERR_INVALID_ARG);
	assert_false(res.ok);
	assert_int_equal(jnl_verify_replay2(dirs, 1, audit_key, NULL,
	    JNL_VERIFY_THREADS_MAX, &res), 0);
	assert_true(res.ok);
	t_rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prev_breaks_at_boundary),
		cmocka_unit_test(test_missing_middle_segment),
		cmocka_unit_test(test_torn_line_at_end),
		cmocka_unit_test(test_bad_checkpoint_in_second_segment),
		cmocka_unit_test(test_first_of_two_errors_wins),
		cmocka_unit_test(test_chain_first_order),
		cmocka_unit_test(test_every_tamper_same_report),
		cmocka_unit_test(test_archive_and_live),
		cmocka_unit_test(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
