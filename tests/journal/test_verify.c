/* test_verify.c: jnl_verify's record checks beyond the chain, and what it reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/log.h"
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

static void
test_good_journal(void **state)
{
	struct jnl_verify_result res;
	char dir[PATH_MAX];

	t_mkdtemp(dir);
	assert_int_equal(t_make_journal(dir, 50, 4096), 0);
	assert_int_equal(jnl_verify(dir, audit_key, &res), 0);
	assert_true(res.ok);
	assert_int_equal(res.records, 50);
	assert_int_equal(res.head_seq, 50);
	assert_true(res.segments >= 2);
	assert_int_equal(res.checkpoints, 0);
	assert_int_equal(res.signed_seq, 0);
	assert_int_equal(res.torn_bytes, 0);
	t_rm_rf(dir);
}

static void
test_empty_and_missing(void **state)
{
	struct jnl_verify_result res;
	char dir[PATH_MAX], missing[PATH_MAX + 8];

	t_mkdtemp(dir);
	assert_int_equal(jnl_verify(dir, audit_key, &res), 0);
	assert_int_equal(res.records, 0);
	snprintf(missing, sizeof(missing), "%s/nope", dir);
	assert_int_equal(jnl_verify(missing, audit_key, &res), ERR_NOT_FOUND);
	assert_false(res.ok);
	t_rm_rf(dir);
}

static void
test_wrong_key_type(void **state)
{
	struct jnl_verify_result res;
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	char dir[PATH_MAX];

	t_mkdtemp(dir);
	assert_int_equal(jnl_verify(dir, ed, &res), ERR_UNSUPPORTED);
	assert_int_equal(jnl_verify(dir, k1, &res), ERR_UNSUPPORTED);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(k1);
	t_rm_rf(dir);
}

/* Each body chains correctly but breaks one of the per-record rules. */
static const char *const bad_bodies[] = {
	"{\"type\":\"x\",oops}",			/* not JSON */
	"{\"type\":\"x\",\"type\":\"y\"}",		/* duplicate key */
	"{\"type\":\"x\",\"seq\":9}",			/* second seq */
	"{\"note\":\"no type\"}",			/* no type */
	"{\"type\":\"\"}",				/* empty type */
	"{\"type\":7}",					/* type not a string */
	"{\"type\":\"x\"} {\"a\":1}",			/* two values */
	"{\"type\":\"checkpoint\",\"head_seq\":1}",	/* unsigned */
};

static void
test_record_rules(void **state)
{
	const char *bodies[3] = { "{\"type\":\"a\"}", "{\"type\":\"b\"}",
	    NULL };
	struct jnl_verify_result res;
	char dir[PATH_MAX], seg[PATH_MAX], msg[512];
	uint8_t prev[32];
	size_t i, len;
	char *b;

	for (i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
		t_mkdtemp(dir);
		memset(prev, 0, sizeof(prev));
		bodies[2] = bad_bodies[i];
		t_write_chain(dir, 1, 1, prev, bodies, 3);
		assert_int_equal(jnl_verify(dir, audit_key, &res),
		    ERR_MALFORMED);
		print_message("# %s\n", jnl_error_format(msg, sizeof(msg),
		    &res.err));
		assert_int_equal(res.err.seq, 3);
		assert_int_equal(res.records, 2);
		assert_int_equal(res.head_seq, 2);
		t_seg_path(seg, dir, 1);
		b = t_read(seg, &len);
		assert_int_equal(res.err.offset, t_line_off(b, len, 3));
		free(b);
		t_rm_rf(dir);
	}
}

static void
test_same_report_as_open(void **state)
{
	struct jnl_verify_result res;
	char dir[PATH_MAX], seg[PATH_MAX];
	struct jnl_error e;
	struct jnl *j;
	size_t len;
	char *b;
	long off;

	t_mkdtemp(dir);
	assert_int_equal(t_make_journal(dir, 10, 0), 0);
	t_seg_path(seg, dir, 1);
	b = t_read(seg, &len);
	off = t_line_off(b, len, 7);
	strstr(b + off, "req-7")[4] = 'x';
	t_write(seg, b, len);
	free(b);
	assert_int_equal(jnl_verify(dir, audit_key, &res), ERR_MALFORMED);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), ERR_MALFORMED);
	assert_string_equal(res.err.segment, e.segment);
	assert_int_equal(res.err.offset, off);
	assert_int_equal(e.offset, off);
	assert_int_equal(res.err.seq, 7);
	assert_int_equal(e.seq, 7);
	/* The counts stop before the record named. */
	assert_int_equal(res.records, 6);
	assert_int_equal(res.head_seq, 6);
	t_rm_rf(dir);
}

static void
test_torn_tail_counted(void **state)
{
	struct jnl_verify_result res;
	char dir[PATH_MAX], seg[PATH_MAX];
	size_t len;
	char *b;

	t_mkdtemp(dir);
	assert_int_equal(t_make_journal(dir, 4, 0), 0);
	t_seg_path(seg, dir, 1);
	b = t_read(seg, &len);
	t_write(seg, b, len - 5);
	free(b);
	/* An auditor may look at a journal whose writer crashed: the torn
	 * line was never acknowledged, and verify never writes. */
	assert_int_equal(jnl_verify(dir, audit_key, &res), 0);
	assert_int_equal(res.records, 3);
	assert_true(res.torn_bytes > 0);
	b = t_read(seg, &len);
	assert_int_equal(len, res.torn_bytes + (size_t)t_line_off(b, len, 4));
	free(b);
	t_rm_rf(dir);
}

static void
test_snapshots_checked(void **state)
{
	struct jnl_verify_result res;
	char dir[PATH_MAX], seg[PATH_MAX], snap[PATH_MAX + 40];
	struct jnl_error e;
	struct jnl *j;
	size_t len;
	char *b;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	assert_int_equal(t_append_n(j, 1, 4), 0);
	assert_int_equal(jnl_snapshot_write(j, "s4", 2), 0);
	assert_int_equal(t_append_n(j, 5, 4), 0);
	assert_int_equal(jnl_snapshot_write(j, "s8", 2), 0);
	jnl_close(j);
	assert_int_equal(jnl_verify(dir, audit_key, &res), 0);
	assert_int_equal(res.snapshots, 2);
	assert_int_equal(res.snapshots_corrupt, 0);

	/* A rotten snapshot is reported, not fatal. */
	snprintf(snap, sizeof(snap), "%s/snap-%020d.bin", dir, 4);
	b = t_read(snap, &len);
	b[10] ^= 1;
	t_write(snap, b, len);
	free(b);
	assert_int_equal(jnl_verify(dir, audit_key, &res), 0);
	assert_int_equal(res.snapshots, 1);
	assert_int_equal(res.snapshots_corrupt, 1);

	/* Cutting the journal below the newest snapshot is not. */
	t_seg_path(seg, dir, 1);
	b = t_read(seg, &len);
	t_write(seg, b, (size_t)t_line_off(b, len, 7));
	free(b);
	assert_int_equal(jnl_verify(dir, audit_key, &res), ERR_MALFORMED);
	assert_string_equal(res.err.segment, "snap-00000000000000000008.bin");
	t_rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_journal),
		cmocka_unit_test(test_empty_and_missing),
		cmocka_unit_test(test_wrong_key_type),
		cmocka_unit_test(test_record_rules),
		cmocka_unit_test(test_same_report_as_open),
		cmocka_unit_test(test_torn_tail_counted),
		cmocka_unit_test(test_snapshots_checked),
	};

	log_init("test_verify", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
