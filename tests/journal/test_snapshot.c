/* test_snapshot.c: snapshot restore, replay after it, truncation and corruption handling (D2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/log.h"
#include "journal/journal.h"
#include "jnl_test.h"

struct seen {
	int restored;
	uint64_t restore_seq;
	char blob[64];
	uint64_t first, last, n;
};

static int
on_restore(void *ctx, uint64_t seq, const uint8_t hash[32], const void *blob,
    size_t len)
{
	struct seen *s = ctx;

	s->restored++;
	s->restore_seq = seq;
	snprintf(s->blob, sizeof(s->blob), "%.*s", (int)len,
	    (const char *)blob);
	return 0;
}

static int
on_replay(void *ctx, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos, const json_t *rec, char *why, size_t cap)
{
	struct seen *s = ctx;

	if (s->n == 0)
		s->first = seq;
	s->last = seq;
	s->n++;
	return 0;
}

static int
open_seen(struct seen *s, struct jnl_error *e, const char *dir)
{
	struct jnl_config cfg;
	struct jnl *j = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	memset(&cfg, 0, sizeof(cfg));
	cfg.restore = on_restore;
	cfg.replay = on_replay;
	cfg.ctx = s;
	r = jnl_open(&j, e, dir, &cfg);
	jnl_close(j);
	return r;
}

/* Appends n records then writes a snapshot "state@<head>". */
static void
append_and_snap(struct jnl *j, int first, int n)
{
	char blob[32];
	uint64_t hs;

	assert_int_equal(t_append_n(j, first, n), 0);
	jnl_head(j, &hs, NULL);
	snprintf(blob, sizeof(blob), "state@%llu", (unsigned long long)hs);
	assert_int_equal(jnl_snapshot_write(j, blob, strlen(blob)), 0);
}

static void
snap_path(char *out, const char *dir, uint64_t seq)
{
	if (snprintf(out, PATH_MAX, "%s/snap-%020llu.bin", dir,
	    (unsigned long long)seq) >= PATH_MAX)
		abort();
}

static void
test_restore_then_replay_after(void **state)
{
	char dir[PATH_MAX];
	struct jnl_error e;
	struct seen s;
	struct jnl *j;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	append_and_snap(j, 1, 10);
	assert_int_equal(t_append_n(j, 11, 5), 0);
	jnl_close(j);

	assert_int_equal(open_seen(&s, &e, dir), 0);
	assert_int_equal(s.restored, 1);
	assert_int_equal(s.restore_seq, 10);
	assert_string_equal(s.blob, "state@10");
	assert_int_equal(s.n, 5);
	assert_int_equal(s.first, 11);
	assert_int_equal(s.last, 15);

	/* A snapshot at the head leaves nothing to replay. */
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	append_and_snap(j, 16, 1);
	jnl_close(j);
	assert_int_equal(open_seen(&s, &e, dir), 0);
	assert_int_equal(s.restore_seq, 16);
	assert_int_equal(s.n, 0);
	t_rm_rf(dir);
}

static void
test_truncated_journal_detected(void **state)
{
	char dir[PATH_MAX], seg[PATH_MAX];
	struct jnl_error e;
	struct seen s;
	struct jnl *j;
	size_t len;
	char *b;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	append_and_snap(j, 1, 10);
	jnl_close(j);
	/* Cut the last two records: the chain alone cannot tell. */
	t_seg_path(seg, dir, 1);
	b = t_read(seg, &len);
	t_write(seg, b, (size_t)t_line_off(b, len, 9));
	free(b);
	assert_int_equal(open_seen(&s, &e, dir), ERR_MALFORMED);
	assert_int_equal(s.restored, 0);
	assert_string_equal(e.segment, "snap-00000000000000000010.bin");
	assert_int_equal(e.seq, 10);
	assert_non_null(strstr(e.reason, "truncated"));
	t_rm_rf(dir);
}

static void
test_last_segment_deleted_detected(void **state)
{
	char dir[PATH_MAX], seg[PATH_MAX];
	struct jnl_config cfg;
	struct jnl_stats st;
	struct jnl_error e;
	struct seen s;
	struct jnl *j;

	t_mkdtemp(dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.segment_max = 1024;
	assert_int_equal(jnl_open(&j, &e, dir, &cfg), 0);
	append_and_snap(j, 1, 30);
	jnl_stats(j, &st);
	jnl_close(j);
	t_seg_path(seg, dir, (unsigned)st.rotations + 1);
	assert_int_equal(unlink(seg), 0);
	assert_int_equal(open_seen(&s, &e, dir), ERR_MALFORMED);
	assert_non_null(strstr(e.reason, "truncated"));
	t_rm_rf(dir);
}

static void
test_snapshot_hash_mismatch(void **state)
{
	char dir[PATH_MAX], seg[PATH_MAX];
	struct jnl_error e;
	struct seen s;
	struct jnl *j;
	size_t len;
	char *b, *p;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	append_and_snap(j, 1, 10);
	jnl_close(j);
	/* Rewrite the last record's body: no successor to notice, but the
	 * snapshot tied to it does. */
	t_seg_path(seg, dir, 1);
	b = t_read(seg, &len);
	p = strstr(b + t_line_off(b, len, 10), "req-10");
	p[4] = '9';
	t_write(seg, b, len);
	free(b);
	assert_int_equal(open_seen(&s, &e, dir), ERR_MALFORMED);
	assert_string_equal(e.segment, "snap-00000000000000000010.bin");
	assert_int_equal(e.seq, 10);
	assert_int_equal(s.restored, 0);
	t_rm_rf(dir);
}

static void
test_corrupt_snapshot_falls_back(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct jnl_error e;
	struct seen s;
	struct jnl *j;
	size_t len;
	char *b;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	append_and_snap(j, 1, 5);
	append_and_snap(j, 6, 5);
	assert_int_equal(t_append_n(j, 11, 3), 0);
	jnl_close(j);

	/* Rot in the newest: the older one is used, with a warning. */
	snap_path(path, dir, 10);
	b = t_read(path, &len);
	b[len / 2] ^= 0x01;
	t_write(path, b, len);
	free(b);
	assert_int_equal(open_seen(&s, &e, dir), 0);
	assert_int_equal(s.restore_seq, 5);
	assert_string_equal(s.blob, "state@5");
	assert_int_equal(s.first, 6);
	assert_int_equal(s.last, 13);

	/* Both rotten (one cut short): full replay. */
	snap_path(path, dir, 5);
	b = t_read(path, &len);
	t_write(path, b, len - 3);
	free(b);
	assert_int_equal(open_seen(&s, &e, dir), 0);
	assert_int_equal(s.restored, 0);
	assert_int_equal(s.first, 1);
	assert_int_equal(s.last, 13);
	t_rm_rf(dir);
}

static int
count_snapshots(const char *dir, int *tmp)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	*tmp = 0;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "snap-", 5) != 0)
			continue;
		if (strstr(de->d_name, ".tmp") != NULL)
			(*tmp)++;
		else
			n++;
	}
	closedir(d);
	return n;
}

static void
test_keeps_newest_two(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct jnl_error e;
	struct stat sb;
	struct jnl *j;
	int i, tmp;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	for (i = 0; i < 4; i++)
		append_and_snap(j, i * 2 + 1, 2);
	jnl_close(j);
	assert_int_equal(count_snapshots(dir, &tmp), 2);
	snap_path(path, dir, 8);
	assert_int_equal(stat(path, &sb), 0);
	snap_path(path, dir, 6);
	assert_int_equal(stat(path, &sb), 0);

	/* A crash mid-write leaves a temp file; open removes it. */
	snprintf(path + strlen(path), 8, ".tmp");
	t_write(path, "junk", 4);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	jnl_close(j);
	assert_int_equal(count_snapshots(dir, &tmp), 2);
	assert_int_equal(tmp, 0);
	t_rm_rf(dir);
}

static void
test_snapshot_arguments(void **state)
{
	char dir[PATH_MAX];
	struct jnl_error e;
	struct jnl *j;
	uint8_t hash[32], other[32];
	uint64_t seq;
	json_t *b;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	assert_int_equal(jnl_snapshot_write(j, "x", 1), ERR_NOT_FOUND);
	b = t_body(1);
	assert_int_equal(jnl_append(j, &seq, hash, b), 0);
	json_decref(b);
	memset(other, 0x11, sizeof(other));
	assert_int_equal(jnl_snapshot_write_at(j, 2, hash, 1, "x", 1),
	    ERR_INVALID_ARG);
	assert_int_equal(jnl_snapshot_write_at(j, 1, other, 1, "x", 1),
	    ERR_INVALID_ARG);
	/* keep_from: 1 .. seq + 1. */
	assert_int_equal(jnl_snapshot_write_at(j, 1, hash, 0, "x", 1),
	    ERR_INVALID_ARG);
	assert_int_equal(jnl_snapshot_write_at(j, 1, hash, 3, "x", 1),
	    ERR_INVALID_ARG);
	assert_int_equal(jnl_snapshot_write_at(j, 1, hash, 2, "x", 1), 0);
	assert_int_equal(jnl_snapshot_write_at(j, 1, hash, 1, "x", 1), 0);
	/* An empty state is a state. */
	assert_int_equal(jnl_snapshot_write(j, NULL, 0), 0);
	jnl_close(j);
	t_rm_rf(dir);
}

static int
refuse(void *ctx, uint64_t seq, const uint8_t hash[32], const void *blob,
    size_t len)
{
	return ERR_BAD_VERSION;
}

static void
test_restore_error_propagates(void **state)
{
	char dir[PATH_MAX];
	struct jnl_config cfg;
	struct jnl_error e;
	struct jnl *j;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	append_and_snap(j, 1, 3);
	jnl_close(j);
	memset(&cfg, 0, sizeof(cfg));
	cfg.restore = refuse;
	j = (struct jnl *)1;
	assert_int_equal(jnl_open(&j, &e, dir, &cfg), ERR_BAD_VERSION);
	assert_null(j);
	/* The lock went with the failure. */
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	jnl_close(j);
	t_rm_rf(dir);
}

/* Writes snap-<seq>.bin by hand: magic, seq, hash, [keep_from], blob, sum. */
static void
write_snapshot_file(const char *dir, const char *magic, uint64_t seq,
    const uint8_t hash[32], int with_keep, uint64_t keep_from,
    const char *blob)
{
	uint8_t buf[256], sum[32];
	char path[PATH_MAX];
	size_t n = 0, bl = strlen(blob);
	unsigned int sl = 0;
	int i;

	memcpy(buf, magic, 8);
	n = 8;
	for (i = 7; i >= 0; i--)
		buf[n++] = (uint8_t)(seq >> (8 * i));
	memcpy(buf + n, hash, 32);
	n += 32;
	if (with_keep)
		for (i = 7; i >= 0; i--)
			buf[n++] = (uint8_t)(keep_from >> (8 * i));
	for (i = 7; i >= 0; i--)
		buf[n++] = (uint8_t)((uint64_t)bl >> (8 * i));
	memcpy(buf + n, blob, bl);
	n += bl;
	assert_int_equal(EVP_Digest(buf, n, sum, &sl, EVP_sha256(), NULL), 1);
	memcpy(buf + n, sum, 32);
	n += 32;
	snprintf(path, sizeof(path), "%s/snap-%020llu.bin", dir,
	    (unsigned long long)seq);
	t_write(path, buf, n);
}

/* Issue 12: keep_from is stored, read back, and exposed. */
static void
test_keep_from_round_trip(void **state)
{
	struct jnl_snapshot_info info;
	char dir[PATH_MAX];
	struct jnl_error e;
	struct jnl *j;
	uint8_t hash[32];
	uint64_t seq;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	assert_int_equal(t_append_n(j, 1, 7), 0);
	jnl_head(j, &seq, hash);
	assert_int_equal(jnl_snapshot_write_at(j, seq, hash, 5, "abc", 3), 0);
	jnl_close(j);
	assert_int_equal(jnl_snapshot_stat(&info, &e, dir, 0), 0);
	assert_int_equal(info.seq, 7);
	assert_int_equal(info.keep_from, 5);
	assert_int_equal(info.len, 3);
	assert_memory_equal(info.hash, hash, 32);
	assert_int_equal(jnl_snapshot_stat(&info, &e, dir, 7), 0);
	assert_int_equal(info.keep_from, 5);
	assert_int_equal(jnl_snapshot_stat(&info, &e, dir, 6), ERR_NOT_FOUND);
	t_rm_rf(dir);
}

/* A snapshot of the first format still restores, as keep_from 1. */
static void
test_old_format_reads(void **state)
{
	struct jnl_snapshot_info info;
	struct jnl_config cfg;
	char dir[PATH_MAX];
	struct jnl_error e;
	struct seen sn;
	struct jnl *j;
	uint8_t hash[32];
	uint64_t seq;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	assert_int_equal(t_append_n(j, 1, 4), 0);
	jnl_head(j, &seq, hash);
	jnl_close(j);
	write_snapshot_file(dir, "JNLSNAP1", seq, hash, 0, 0, "old");
	assert_int_equal(jnl_snapshot_stat(&info, &e, dir, 0), 0);
	assert_int_equal(info.keep_from, 1);
	memset(&sn, 0, sizeof(sn));
	memset(&cfg, 0, sizeof(cfg));
	cfg.restore = on_restore;
	cfg.ctx = &sn;
	assert_int_equal(jnl_open(&j, &e, dir, &cfg), 0);
	jnl_close(j);
	assert_int_equal(sn.restored, 1);
	assert_string_equal(sn.blob, "old");
	t_rm_rf(dir);
}

/* Checksummed but impossible: keep_from 0 or past seq + 1; bad magic. */
static void
test_bad_keep_from_refused(void **state)
{
	struct jnl_snapshot_info info;
	char dir[PATH_MAX];
	struct jnl_error e;
	struct jnl *j;
	uint8_t hash[32];
	uint64_t seq;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	assert_int_equal(t_append_n(j, 1, 4), 0);
	jnl_head(j, &seq, hash);
	jnl_close(j);
	write_snapshot_file(dir, "JNLSNAP2", seq, hash, 1, 0, "x");
	assert_int_equal(jnl_snapshot_stat(&info, &e, dir, seq),
	    ERR_MALFORMED);
	write_snapshot_file(dir, "JNLSNAP2", seq, hash, 1, seq + 2, "x");
	assert_int_equal(jnl_snapshot_stat(&info, &e, dir, seq),
	    ERR_MALFORMED);
	write_snapshot_file(dir, "JNLSNAP2", seq, hash, 1, seq + 1, "x");
	assert_int_equal(jnl_snapshot_stat(&info, &e, dir, seq), 0);
	assert_int_equal(info.keep_from, seq + 1);
	write_snapshot_file(dir, "JNLSNAP9", seq, hash, 1, 1, "x");
	assert_int_equal(jnl_snapshot_stat(&info, &e, dir, seq),
	    ERR_MALFORMED);
	/* A v1 file claiming v2's layout: its length field is read as
	 * keep_from and the lengths no longer add up. */
	write_snapshot_file(dir, "JNLSNAP1", seq, hash, 1, 1, "x");
	assert_int_equal(jnl_snapshot_stat(&info, &e, dir, seq),
	    ERR_MALFORMED);
	t_rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restore_then_replay_after),
		cmocka_unit_test(test_truncated_journal_detected),
		cmocka_unit_test(test_last_segment_deleted_detected),
		cmocka_unit_test(test_snapshot_hash_mismatch),
		cmocka_unit_test(test_corrupt_snapshot_falls_back),
		cmocka_unit_test(test_keeps_newest_two),
		cmocka_unit_test(test_snapshot_arguments),
		cmocka_unit_test(test_restore_error_propagates),
		cmocka_unit_test(test_keep_from_round_trip),
		cmocka_unit_test(test_old_format_reads),
		cmocka_unit_test(test_bad_keep_from_refused),
	};

	log_init("test_snapshot", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
