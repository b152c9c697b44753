/* test_open_snapshot.c: jnl_open from a snapshot reads nothing before it (issue 12); records read back by position (jnl_read_at). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/log.h"
#include "journal/internal.h"
#include "jnl_test.h"

/* About a dozen records per segment: many segments from few records. */
#define SEG_MAX 2000
#define N 60

static EVP_PKEY *audit_key;

struct counts {
	uint64_t restored;	/* seq restored (0: none) */
	uint64_t replayed;
	uint64_t first_replayed;
	uint64_t refuse_above;	/* restore refuses snapshots past this */
	struct jnl_pos pos[N + 8];	/* by seq, from replay */
};

static int
on_restore(void *ctx, uint64_t seq, const uint8_t hash[32], const void *blob,
    size_t len)
{
	struct counts *c = ctx;

	if (c->refuse_above != 0 && seq > c->refuse_above)
		return ERR_BAD_SIGNATURE;
	c->restored = seq;
	return 0;
}

static int
on_replay(void *ctx, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos, const json_t *rec, char *why, size_t cap)
{
	struct counts *c = ctx;

	if (c->replayed++ == 0)
		c->first_replayed = seq;
	if (seq < N + 8)
		c->pos[seq] = *pos;
	return 0;
}

static struct jnl_config
config(struct counts *c)
{
	struct jnl_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.segment_max = SEG_MAX;
	cfg.restore = on_restore;
	cfg.replay = on_replay;
	cfg.ctx = c;
	cfg.audit_pub = audit_key;
	return cfg;
}

/*
 * N records in many segments, a checkpoint after the first half, a
 * snapshot at seq snap_at (0: the head) and then more records: tail.
 */
/* jnl_read_at on j's directory, expecting seq. */
static int
read_at(struct jnl *j, const struct jnl_pos *pos, uint64_t seq, char *buf,
    size_t cap, size_t *len, uint8_t hash[32])
{
	uint64_t s = seq;
	int r = jnl_read_at(jnl_dirfd(j), pos, &s, buf, cap, len, hash);

	assert_true(r != 0 || s == seq);
	return r;
}

static void
make(const char *dir, uint64_t snap_at, int tail)
{
	struct counts c;
	struct jnl_config cfg;
	struct jnl_error e;
	struct jnl *j;
	uint8_t hash[32];
	uint64_t seq;

	memset(&c, 0, sizeof(c));
	cfg = config(&c);
	assert_int_equal(jnl_open(&j, &e, dir, &cfg), 0);
	assert_int_equal(t_append_n(j, 1, N / 2), 0);
	assert_int_equal(jnl_checkpoint(j, key_signer, audit_key), 0);
	assert_int_equal(t_append_n(j, N / 2 + 1, N / 2 - 1), 0);
	jnl_head(j, &seq, hash);
	assert_int_equal(seq, N);
	if (snap_at == 0)
		assert_int_equal(jnl_snapshot_write(j, "state", 5), 0);
	assert_int_equal(t_append_n(j, 100, tail), 0);
	jnl_close(j);
}

static int
open_with(const char *dir, struct counts *c, struct jnl_error *e,
    uint64_t anchor_seq, const uint8_t anchor_hash[32])
{
	struct jnl_config cfg = config(c);
	struct jnl *j = NULL;
	char msg[512];
	int r;

	cfg.anchor_seq = anchor_seq;
	if (anchor_hash != NULL)
		memcpy(cfg.anchor_hash, anchor_hash, 32);
	r = jnl_open(&j, e, dir, &cfg);
	if (r != 0)
		print_message("# %s\n", jnl_error_format(msg, sizeof(msg), e));
	jnl_close(j);
	return r;
}

/* Flips one byte of the body of line k (1-based) of segment segno. */
static void
flip_line(const char *dir, unsigned segno, int k)
{
	char path[PATH_MAX];
	size_t len;
	char *b;
	long off;

	t_seg_path(path, dir, segno);
	b = t_read(path, &len);
	off = t_line_off(b, len, k);
	assert_true(off >= 0);
	/* Past the prefix: the record's content, not its framing. */
	b[off + 120] ^= 0x01;
	t_write(path, b, len);
	free(b);
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

static void
test_starts_from_snapshot_despite_old_damage(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct jnl_verify_result res;
	struct jnl_error e;
	struct counts c;

	t_mkdtemp(dir);
	make(dir, 0, 3);
	assert_true(count_segments(dir) >= 5);
	/* Damage before the snapshot: line 3 of segment 1, and segment 2
	 * cut to its first line (named but not read past it). */
	flip_line(dir, 1, 3);
	t_seg_path(path, dir, 2);
	{
		size_t len;
		char *b = t_read(path, &len);

		t_write(path, b, t_line_len(b, len, 1));
		free(b);
	}
	memset(&c, 0, sizeof(c));
	assert_int_equal(open_with(dir, &c, &e, 0, NULL), 0);
	assert_int_equal(c.restored, N);
	assert_int_equal(c.replayed, 3);
	assert_int_equal(c.first_replayed, N + 1);
	/* The auditor still reads everything. */
	assert_int_equal(jnl_verify(dir, audit_key, &res), ERR_MALFORMED);
	assert_int_equal(res.ok, 0);
	/* Without the snapshot, start-up verifies from seq 1 and fails. */
	assert_int_equal(jnl_snapshot_stat(&(struct jnl_snapshot_info){ 0 },
	    NULL, dir, 0), 0);
	memset(&c, 0, sizeof(c));
	c.refuse_above = 1;
	assert_int_equal(open_with(dir, &c, &e, 0, NULL), ERR_MALFORMED);
	assert_int_equal(c.restored, 0);
	t_rm_rf(dir);
}

static void
test_tamper_after_snapshot_refused(void **state)
{
	char dir[PATH_MAX];
	struct jnl_error e;
	struct counts c;
	unsigned last;

	t_mkdtemp(dir);
	make(dir, 0, 5);
	last = count_segments(dir);
	/* The newest segment's second-to-last line: after the snapshot. */
	{
		char path[PATH_MAX];
		size_t len;
		char *b;
		int lines = 0;
		size_t i;

		t_seg_path(path, dir, last);
		b = t_read(path, &len);
		for (i = 0; i < len; i++)
			lines += b[i] == '\n';
		free(b);
		assert_true(lines >= 2);
		flip_line(dir, last, lines - 1);
	}
	memset(&c, 0, sizeof(c));
	assert_int_equal(open_with(dir, &c, &e, 0, NULL), ERR_MALFORMED);
	assert_int_equal(c.restored, 0);
	assert_int_equal(c.replayed, 0);
	t_rm_rf(dir);
}

/* The snapshot's own record altered: its hash no longer matches. */
static void
test_snapshot_record_altered(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct jnl_error e;
	struct counts c;
	size_t len;
	unsigned last;
	char *b;
	int lines = 0;
	size_t i;

	t_mkdtemp(dir);
	make(dir, 0, 0);
	last = count_segments(dir);
	t_seg_path(path, dir, last);
	b = t_read(path, &len);
	for (i = 0; i < len; i++)
		lines += b[i] == '\n';
	free(b);
	flip_line(dir, last, lines);
	memset(&c, 0, sizeof(c));
	assert_int_equal(open_with(dir, &c, &e, 0, NULL), ERR_MALFORMED);
	assert_non_null(strstr(e.segment, "snap-"));
	assert_int_equal(c.restored, 0);
	t_rm_rf(dir);
}

static void
remove_first_segments(const char *dir, unsigned n)
{
	char path[PATH_MAX];
	unsigned i;

	for (i = 1; i <= n; i++) {
		t_seg_path(path, dir, i);
		assert_int_equal(unlink(path), 0);
	}
}

static void
test_archived_live_dir(void **state)
{
	char dir[PATH_MAX];
	struct jnl_error e;
	struct counts c;

	t_mkdtemp(dir);
	make(dir, 0, 2);
	remove_first_segments(dir, 2);
	/* A believed snapshot inside the live segments: opens. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(open_with(dir, &c, &e, 0, NULL), 0);
	assert_int_equal(c.restored, N);
	assert_int_equal(c.replayed, 2);
	/* Not believed: a replay from seq 1 needs the archive. */
	memset(&c, 0, sizeof(c));
	c.refuse_above = 1;
	assert_int_equal(open_with(dir, &c, &e, 0, NULL), ERR_MALFORMED);
	assert_string_equal(e.segment, "seg-00000001.jsonl");
	assert_non_null(strstr(e.reason, "without its archive"));
	t_rm_rf(dir);
}

static void
test_anchor_rules(void **state)
{
	char dir[PATH_MAX];
	uint8_t wrong[32];
	struct jnl_error e;
	struct counts c;

	t_mkdtemp(dir);
	make(dir, 0, 2);
	memset(wrong, 0x5a, sizeof(wrong));
	/* An anchor inside the live segments, before the snapshot: the
	 * chain is walked from it, and its hash is checked. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(open_with(dir, &c, &e, 20, wrong), ERR_ROLLBACK);
	assert_int_equal(e.seq, 20);
	/* Past the end. */
	memset(&c, 0, sizeof(c));
	assert_int_equal(open_with(dir, &c, &e, N + 50, wrong), ERR_ROLLBACK);
	/* Before the first live segment: cannot be checked, refused. */
	remove_first_segments(dir, 2);
	memset(&c, 0, sizeof(c));
	assert_int_equal(open_with(dir, &c, &e, 1, wrong), ERR_ROLLBACK);
	assert_non_null(strstr(e.reason, "before the first live segment"));
	assert_int_equal(c.restored, 0);
	t_rm_rf(dir);
}

/* The anchor's hash as the journal has it: opens from the anchor on. */
static void
test_anchor_before_snapshot_ok(void **state)
{
	char dir[PATH_MAX];
	struct jnl_error e;
	struct jnl_reader *rd;
	struct jnl_record rec;
	struct counts c;
	uint8_t h20[32];

	t_mkdtemp(dir);
	make(dir, 0, 1);
	assert_int_equal(jnl_reader_open(&rd, &e, dir), 0);
	do
		assert_int_equal(jnl_reader_next(rd, &rec, &e), 1);
	while (rec.seq != 20);
	memcpy(h20, rec.hash, 32);
	jnl_reader_close(rd);
	flip_line(dir, 1, 2);	/* before the anchor: not read */
	memset(&c, 0, sizeof(c));
	assert_int_equal(open_with(dir, &c, &e, 20, h20), 0);
	assert_int_equal(c.restored, N);
	t_rm_rf(dir);
}

/* restore refusing the newest snapshot: the older one is used. */
static void
test_older_snapshot_when_newest_not_believed(void **state)
{
	char dir[PATH_MAX];
	struct jnl_config cfg;
	struct jnl_error e;
	struct counts c;
	struct jnl *j;

	t_mkdtemp(dir);
	make(dir, 0, 4);
	memset(&c, 0, sizeof(c));
	cfg = config(&c);
	assert_int_equal(jnl_open(&j, &e, dir, &cfg), 0);
	assert_int_equal(jnl_snapshot_write(j, "newer", 5), 0);
	assert_int_equal(t_append_n(j, 200, 2), 0);
	jnl_close(j);
	memset(&c, 0, sizeof(c));
	c.refuse_above = N;
	assert_int_equal(open_with(dir, &c, &e, 0, NULL), 0);
	assert_int_equal(c.restored, N);
	assert_int_equal(c.replayed, 6);
	t_rm_rf(dir);
}

/* A checkpoint right after the snapshot signs a head before it. */
static void
test_checkpoint_head_before_start(void **state)
{
	char dir[PATH_MAX];
	struct jnl_config cfg;
	struct jnl_error e;
	struct counts c;
	struct jnl *j;
	uint8_t hash[32];
	uint64_t seq;

	t_mkdtemp(dir);
	memset(&c, 0, sizeof(c));
	cfg = config(&c);
	assert_int_equal(jnl_open(&j, &e, dir, &cfg), 0);
	assert_int_equal(t_append_n(j, 1, 30), 0);
	assert_int_equal(jnl_checkpoint(j, key_signer, audit_key), 0);
	jnl_head(j, &seq, hash);
	assert_int_equal(seq, 31);	/* the checkpoint, signing 30 */
	assert_int_equal(jnl_snapshot_write_at(j, seq, hash, seq, "s", 1), 0);
	assert_int_equal(t_append_n(j, 40, 2), 0);
	jnl_close(j);
	flip_line(dir, 1, 2);
	memset(&c, 0, sizeof(c));
	assert_int_equal(open_with(dir, &c, &e, 0, NULL), 0);
	assert_int_equal(c.restored, 31);
	assert_int_equal(c.replayed, 2);
	t_rm_rf(dir);
}

static void
test_read_at(void **state)
{
	char dir[PATH_MAX], buf[JNL_LINE_MAX], path[PATH_MAX];
	struct jnl_pending *p;
	struct jnl_config cfg;
	struct jnl_error e;
	struct jnl_pos pos, bad;
	struct counts c;
	struct jnl *j;
	uint8_t hash[32], got[32];
	uint64_t seq, any;
	size_t len;
	json_t *b;

	t_mkdtemp(dir);
	make(dir, 0, 0);
	memset(&c, 0, sizeof(c));
	c.refuse_above = 1;	/* full replay: every record's position */
	cfg = config(&c);
	assert_int_equal(jnl_open(&j, &e, dir, &cfg), 0);
	assert_int_equal(c.replayed, N);
	/* Positive: a replayed record and a fresh append. */
	assert_int_equal(read_at(j, &c.pos[17], 17, buf, sizeof(buf),
	    &len, got), 0);
	assert_true(strncmp(buf, "{\"prev\":\"", 9) == 0);
	assert_non_null(strstr(buf, "\"seq\":17,"));
	b = t_body(500);
	assert_int_equal(jnl_append_begin(j, &p, b), 0);
	json_decref(b);
	assert_int_equal(jnl_append_end_pos(j, p, &seq, hash, &pos), 0);
	assert_int_equal(read_at(j, &pos, seq, buf, sizeof(buf), &len,
	    got), 0);
	assert_memory_equal(got, hash, 32);
	assert_int_equal(strlen(buf), len);
	/* Expecting no seq in particular: the line's own comes back. */
	any = 0;
	assert_int_equal(jnl_read_at(jnl_dirfd(j), &pos, &any, buf,
	    sizeof(buf), &len, got), 0);
	assert_int_equal(any, seq);
	/* Negative: another seq, mid-line, past the end, no segment, a
	 * buffer too small, nonsense positions. */
	assert_int_equal(read_at(j, &pos, seq - 1, buf, sizeof(buf), &len,
	    got), ERR_MALFORMED);
	assert_int_equal(len, 0);
	bad = pos;
	bad.off += 5;
	assert_int_equal(read_at(j, &bad, seq, buf, sizeof(buf), &len,
	    got), ERR_MALFORMED);
	bad.off = 1u << 30;
	assert_int_equal(read_at(j, &bad, seq, buf, sizeof(buf), &len,
	    got), ERR_MALFORMED);
	assert_int_equal(read_at(j, &pos, seq, buf, 40, &len, got),
	    ERR_TOO_LARGE);
	bad.seg = 0;
	assert_int_equal(read_at(j, &bad, seq, buf, sizeof(buf), &len,
	    got), ERR_INVALID_ARG);
	bad = c.pos[2];
	t_seg_path(path, dir, bad.seg);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(read_at(j, &bad, 2, buf, sizeof(buf), &len, got),
	    ERR_NOT_FOUND);
	jnl_close(j);
	t_rm_rf(dir);
}

static int
group_setup(void **state)
{
	audit_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return audit_key == NULL ? -1 : 0;
}

static int
group_teardown(void **state)
{
	EVP_PKEY_free(audit_key);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starts_from_snapshot_despite_old_damage),
		cmocka_unit_test(test_tamper_after_snapshot_refused),
		cmocka_unit_test(test_snapshot_record_altered),
		cmocka_unit_test(test_archived_live_dir),
		cmocka_unit_test(test_anchor_rules),
		cmocka_unit_test(test_anchor_before_snapshot_ok),
		cmocka_unit_test(test_older_snapshot_when_newest_not_believed),
		cmocka_unit_test(test_checkpoint_head_before_start),
		cmocka_unit_test(test_read_at),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
