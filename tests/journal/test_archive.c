/* test_archive.c: jnl_archive moves only what a believed snapshot, its keep_from and a signed checkpoint cover, crash-safely (issue 12). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/log.h"
#include "journal/journal.h"
#include "jnl_test.h"

#define SEG_MAX 2000

static EVP_PKEY *audit_key;

struct fixture {
	char live[PATH_MAX];
	char arch[PATH_MAX];
};

static int
accept_all(void *ctx, uint64_t seq, const uint8_t hash[32], const void *blob,
    size_t len)
{
	return 0;
}

static int
refuse_all(void *ctx, uint64_t seq, const uint8_t hash[32], const void *blob,
    size_t len)
{
	return ERR_BAD_SIGNATURE;
}

/* 60 records, a checkpoint after `ckpt_after` (0: none), a snapshot at
 * the head with keep_from, then `tail` more records. */
static void
make(const char *dir, int ckpt_after, uint64_t keep_from, int tail)
{
	struct jnl_config cfg;
	struct jnl_error e;
	struct jnl *j;
	uint8_t hash[32];
	uint64_t seq;

	memset(&cfg, 0, sizeof(cfg));
	cfg.segment_max = SEG_MAX;
	cfg.audit_pub = audit_key;
	assert_int_equal(jnl_open(&j, &e, dir, &cfg), 0);
	if (ckpt_after > 0) {
		assert_int_equal(t_append_n(j, 1, ckpt_after), 0);
		assert_int_equal(jnl_checkpoint(j, key_signer, audit_key), 0);
	}
	jnl_head(j, &seq, NULL);
	assert_int_equal(t_append_n(j, 100, 60 - (int)seq), 0);
	jnl_head(j, &seq, hash);
	assert_int_equal(jnl_snapshot_write_at(j, seq, hash,
	    keep_from != 0 ? keep_from : seq + 1, "s", 1), 0);
	assert_int_equal(t_append_n(j, 200, tail), 0);
	jnl_close(j);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	t_mkdtemp(f->live);
	t_mkdtemp(f->arch);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	t_rm_rf(f->live);
	t_rm_rf(f->arch);
	free(f);
	return 0;
}

static int
archive(struct fixture *f, jnl_restore_fn believe,
    struct jnl_archive_result *res, struct jnl_error *e)
{
	char msg[600];
	int r;

	r = jnl_archive(f->live, f->arch, audit_key, believe, NULL, res, e);
	if (r != 0)
		print_message("# %s\n", jnl_error_format(msg, sizeof(msg), e));
	return r;
}

static int
exists(const char *dir, unsigned n)
{
	char path[PATH_MAX];

	t_seg_path(path, dir, n);
	return access(path, F_OK) == 0;
}

/* Starts as signerd would: from the snapshot, live segments only. */
static void
live_opens(const char *dir)
{
	struct jnl_config cfg;
	struct jnl_error e;
	struct jnl *j;

	memset(&cfg, 0, sizeof(cfg));
	cfg.segment_max = SEG_MAX;
	cfg.audit_pub = audit_key;
	cfg.restore = accept_all;
	assert_int_equal(jnl_open(&j, &e, dir, &cfg), 0);
	assert_int_equal(t_append_n(j, 300, 3), 0);
	jnl_close(j);
}

static void
test_moves_covered_then_noop(void **state)
{
	struct fixture *f = *state;
	struct jnl_archive_result res;
	struct jnl_error e;
	unsigned i;

	/* Signed up to 40: the checkpoint limits, not the snapshot. */
	make(f->live, 40, 0, 2);
	assert_int_equal(archive(f, accept_all, &res, &e), 0);
	assert_int_equal(res.snapshot_seq, 60);
	assert_int_equal(res.signed_seq, 40);
	assert_true(res.segments_moved >= 2);
	assert_int_equal(res.first_moved, 1);
	assert_int_equal(res.first_seq, 1);
	assert_true(res.last_seq <= 40);
	for (i = 1; i <= res.last_moved; i++) {
		assert_true(exists(f->arch, i));
		assert_false(exists(f->live, i));
	}
	assert_true(exists(f->live, res.last_moved + 1));
	live_opens(f->live);
	/* Nothing more is covered: a rerun moves nothing. */
	assert_int_equal(archive(f, accept_all, &res, &e), 0);
	assert_int_equal(res.segments_moved, 0);
	assert_int_equal(res.leftovers, 0);
}

static void
test_keep_from_limits(void **state)
{
	struct fixture *f = *state;
	struct jnl_archive_result res;
	struct jnl_error e;

	make(f->live, 59, 12, 0);
	assert_int_equal(archive(f, accept_all, &res, &e), 0);
	assert_int_equal(res.keep_from, 12);
	assert_true(res.last_seq < 12);
	live_opens(f->live);
}

static void
test_nothing_without_belief_or_signature(void **state)
{
	struct fixture *f = *state;
	struct jnl_archive_result res;
	struct jnl_error e;

	make(f->live, 0, 0, 0);
	/* No checkpoint at all. */
	assert_int_equal(archive(f, accept_all, &res, &e), 0);
	assert_int_equal(res.snapshot_seq, 60);
	assert_int_equal(res.segments_moved, 0);
	/* No snapshot believed. */
	assert_int_equal(archive(f, refuse_all, &res, &e), 0);
	assert_int_equal(res.snapshot_seq, 0);
	assert_int_equal(res.segments_moved, 0);
	assert_true(exists(f->live, 1));
	assert_false(exists(f->arch, 1));
}

/* A crash after the copy, before the unlink: the rerun only unlinks. */
static void
test_rerun_after_crash(void **state)
{
	struct fixture *f = *state;
	struct jnl_archive_result res;
	struct jnl_error e;
	char a[PATH_MAX], l[PATH_MAX];
	size_t len;
	char *b;
	unsigned last;

	make(f->live, 50, 0, 0);
	assert_int_equal(archive(f, accept_all, &res, &e), 0);
	last = res.last_moved;
	assert_true(last >= 2);
	t_seg_path(a, f->arch, last);
	t_seg_path(l, f->live, last);
	b = t_read(a, &len);
	t_write(l, b, len);
	/* And a partial copy of the next one in the archive. */
	snprintf(a + strlen(a), 8, ".tmp");
	t_write(a, b, len / 2);
	free(b);
	assert_int_equal(archive(f, accept_all, &res, &e), 0);
	assert_int_equal(res.leftovers, 1);
	assert_false(exists(f->live, last));
	assert_int_equal(access(a, F_OK), -1);
	live_opens(f->live);
}

static void
test_different_file_in_archive(void **state)
{
	struct fixture *f = *state;
	struct jnl_archive_result res;
	struct jnl_error e;
	char a[PATH_MAX];

	make(f->live, 50, 0, 0);
	t_seg_path(a, f->arch, 1);
	t_write(a, "{}\n", 3);
	assert_int_equal(archive(f, accept_all, &res, &e), ERR_MALFORMED);
	assert_non_null(strstr(e.reason, f->live));
	assert_non_null(strstr(e.reason, f->arch));
	assert_true(exists(f->live, 1));
}

static void
test_tampered_live_refused(void **state)
{
	struct fixture *f = *state;
	struct jnl_archive_result res;
	struct jnl_error e;
	char l[PATH_MAX];
	size_t len;
	char *b;

	make(f->live, 50, 0, 0);
	t_seg_path(l, f->live, 2);
	b = t_read(l, &len);
	b[t_line_off(b, len, 2) + 120] ^= 1;
	t_write(l, b, len);
	free(b);
	assert_int_equal(archive(f, accept_all, &res, &e), ERR_MALFORMED);
	assert_int_equal(res.segments_moved, 0);
	assert_false(exists(f->arch, 1));
}

/* The live run must chain on from the archive's last record. */
static void
test_join_checked(void **state)
{
	struct fixture *f = *state;
	struct jnl_archive_result res;
	struct jnl_error e;
	char a[PATH_MAX], l[PATH_MAX];

	make(f->live, 30, 0, 0);
	assert_int_equal(archive(f, accept_all, &res, &e), 0);
	assert_true(res.segments_moved > 0);
	/* A later checkpoint covers more, but the archive's end now belongs
	 * to another chain. */
	{
		struct jnl_config cfg;
		struct jnl *j;

		memset(&cfg, 0, sizeof(cfg));
		cfg.segment_max = SEG_MAX;
		cfg.audit_pub = audit_key;
		cfg.restore = accept_all;
		assert_int_equal(jnl_open(&j, &e, f->live, &cfg), 0);
		assert_int_equal(jnl_checkpoint(j, key_signer, audit_key), 0);
		assert_int_equal(t_append_n(j, 400, 30), 0);
		{
			uint8_t h[32];
			uint64_t s;

			jnl_head(j, &s, h);
			assert_int_equal(jnl_snapshot_write_at(j, s, h, s, "t",
			    1), 0);
		}
		jnl_close(j);
	}
	t_seg_path(a, f->arch, res.last_moved);
	t_seg_path(l, f->arch, 1);
	{
		size_t len;
		char *b = t_read(a, &len);

		b[len - 10] ^= 1;
		t_write(a, b, len);
		free(b);
	}
	assert_int_equal(archive(f, accept_all, &res, &e), ERR_MALFORMED);
	assert_int_equal(res.segments_moved, 0);
	/* An empty archive and a live run that starts after 1: no join. */
	t_rm_rf(f->arch);
	assert_int_equal(mkdir(f->arch, 0700), 0);
	assert_int_equal(archive(f, accept_all, &res, &e), ERR_MALFORMED);
	assert_non_null(strstr(e.reason, "seg-00000001.jsonl"));
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
		cmocka_unit_test_setup_teardown(test_moves_covered_then_noop,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_from_limits, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_nothing_without_belief_or_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rerun_after_crash, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_different_file_in_archive,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_live_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_checked, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
