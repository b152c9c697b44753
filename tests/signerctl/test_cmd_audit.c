/* test_cmd_audit.c: `signerctl audit verify|show` on journals written by the journal library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/ecdsa.h>
#include <openssl/pem.h>

#include "common/err.h"
#include "common/log.h"
#include "signerctl/cmd_audit.h"
#include "../journal/jnl_test.h"

static EVP_PKEY *audit_key;
static char pem[PATH_MAX + 16];
static char topdir[PATH_MAX];

static int
group_setup(void **state)
{
	FILE *f;

	t_mkdtemp(topdir);
	audit_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	snprintf(pem, sizeof(pem), "%s/audit.pem", topdir);
	if (audit_key == NULL || (f = fopen(pem, "w")) == NULL)
		return -1;
	PEM_write_PUBKEY(f, audit_key);
	fclose(f);
	return 0;
}

static int
group_teardown(void **state)
{
	EVP_PKEY_free(audit_key);
	t_rm_rf(topdir);
	return 0;
}

/* Records 1-3 at 10:00:0N, a checkpoint (now), records 5-6 in 2099. */
/* These journals hold synthetic records, not signerd's: --chain-only. */
static void
make_journal(char *dir)
{
	struct jnl_error e;
	struct jnl *j;
	char ts[32], req[16];
	json_t *b;
	int i;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	for (i = 1; i <= 5; i++) {
		if (i == 4)
			assert_int_equal(jnl_checkpoint(j, key_signer,
			    audit_key), 0);
		/*
		 * The checkpoint (seq 4) carries the real clock: the records
		 * after it are dated far ahead, so --since falls between
		 * them whatever today is.
		 */
		snprintf(ts, sizeof(ts), "%s-11-22T1%d:00:0%dZ",
		    i < 4 ? "2026" : "2099", i < 4 ? 0 : 1, i);
		snprintf(req, sizeof(req), "req-%d", i);
		b = json_pack("{s:s, s:s, s:s, s:s}", "type",
		    i == 5 ? "refused" : "signed", "ts", ts, "request", req,
		    "amount", "1000");
		assert_int_equal(jnl_append(j, NULL, NULL, b), 0);
		json_decref(b);
	}
	jnl_close(j);
}

/* Runs cmd_audit with stdout in a file; returns its exit status. */
static int
run(char **out, const char *const *args)
{
	char path[PATH_MAX + 16], *argv[16];
	int fd, saved, argc = 0, r;

	while (args[argc] != NULL) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	argv[argc] = NULL;
	snprintf(path, sizeof(path), "%s/out.txt", topdir);
	fflush(stdout);
	saved = dup(1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	close(fd);
	r = cmd_audit(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	*out = t_read(path, NULL);
	return r;
}

static void
test_verify_ok_and_json(void **state)
{
	char dir[PATH_MAX], *out;
	json_t *o;

	make_journal(dir);
	assert_int_equal(run(&out, (const char *const[]){ "audit", "verify",
	    "--chain-only", "--journal", dir, "--pubkey", pem, NULL }), 0);
	assert_non_null(strstr(out, ": OK"));
	assert_non_null(strstr(out, "records 6, checkpoint signatures 1"));
	assert_non_null(strstr(out, "signed by the audit key up to seq 3"));
	free(out);
	assert_int_equal(run(&out, (const char *const[]){ "audit", "verify",
	    "--journal=", NULL }), 2);
	free(out);
	assert_int_equal(run(&out, (const char *const[]){ "audit", "verify",
	    "--chain-only", "--journal", dir, "--pubkey", pem, "--json", NULL }),
	    0);
	o = json_loads(out, 0, NULL);
	assert_non_null(o);
	assert_true(json_is_true(json_object_get(o, "ok")));
	assert_int_equal(json_integer_value(json_object_get(o, "records")), 6);
	assert_int_equal(json_integer_value(json_object_get(o, "head_seq")),
	    6);
	json_decref(o);
	free(out);
	t_rm_rf(dir);
}

static void
test_verify_names_first_bad_record(void **state)
{
	char dir[PATH_MAX], seg[PATH_MAX], *out, *b, want[128];
	json_t *o, *err;
	size_t len;
	long off;

	make_journal(dir);
	t_seg_path(seg, dir, 1);
	b = t_read(seg, &len);
	off = t_line_off(b, len, 2);
	strstr(b + off, "1000")[0] = '9';
	t_write(seg, b, len);
	free(b);
	assert_int_equal(run(&out, (const char *const[]){ "audit", "verify",
	    "--chain-only", "--journal", dir, "--pubkey", pem, NULL }), 1);
	snprintf(want, sizeof(want), "seg-00000001.jsonl offset %ld seq 2",
	    off);
	assert_non_null(strstr(out, "FAILED"));
	assert_non_null(strstr(out, want));
	free(out);
	assert_int_equal(run(&out, (const char *const[]){ "audit", "verify",
	    "--chain-only", "--journal", dir, "--pubkey", pem, "--json", NULL }),
	    1);
	o = json_loads(out, 0, NULL);
	err = json_object_get(o, "error");
	assert_string_equal(json_string_value(json_object_get(err, "code")),
	    "ERR_MALFORMED");
	assert_string_equal(json_string_value(json_object_get(err,
	    "segment")), "seg-00000001.jsonl");
	assert_int_equal(json_integer_value(json_object_get(err, "offset")),
	    off);
	assert_int_equal(json_integer_value(json_object_get(err, "seq")), 2);
	json_decref(o);
	free(out);
	t_rm_rf(dir);
}

static void
test_show(void **state)
{
	char dir[PATH_MAX], *out, *line;
	json_t *o;
	int n = 0;

	make_journal(dir);
	assert_int_equal(run(&out, (const char *const[]){ "audit", "show",
	    "--journal", dir, NULL }), 0);
	assert_non_null(strstr(out, "SEQ"));
	assert_non_null(strstr(out, "2026-11-22T10:00:01Z"));
	assert_non_null(strstr(out, "request=req-1"));
	assert_non_null(strstr(out, "checkpoint"));
	assert_non_null(strstr(out, "head_seq=3"));
	assert_null(strstr(out, "signer-journal-checkpoint"));
	free(out);

	/* --since a time: records 5 and 6 (2099, 11:00:04 and 11:00:05). */
	assert_int_equal(run(&out, (const char *const[]){ "audit", "show",
	    "--journal", dir, "--since", "2099-11-22T12:00:00+01:00", "--json",
	    NULL }), 0);
	for (line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		o = json_loads(line, 0, NULL);
		assert_non_null(o);
		assert_true(json_integer_value(json_object_get(o, "seq")) >= 5);
		json_decref(o);
		n++;
	}
	assert_int_equal(n, 2);
	free(out);
	/* --since a seq. */
	assert_int_equal(run(&out, (const char *const[]){ "audit", "show",
	    "--journal", dir, "--since", "4", "--json", NULL }), 0);
	assert_int_equal(strncmp(strchr(out, ','), ",\"seq\":4,", 9), 0);
	free(out);
	assert_int_equal(run(&out, (const char *const[]){ "audit", "show",
	    "--journal", dir, "--since", "yesterday", NULL }), 2);
	free(out);
	t_rm_rf(dir);
}

static void
test_usage(void **state)
{
	char *out;

	assert_int_equal(run(&out, (const char *const[]){ "audit", NULL }), 2);
	free(out);
	assert_int_equal(run(&out, (const char *const[]){ "audit", "frob",
	    NULL }), 2);
	free(out);
	assert_int_equal(run(&out, (const char *const[]){ "audit", "verify",
	    "--journal", "/nonexistent", NULL }), 2);
	free(out);
	assert_int_equal(run(&out, (const char *const[]){ "audit", "show",
	    "--journal", "/nonexistent", "--pubkey", "x", NULL }), 2);
	free(out);
	assert_int_equal(run(&out, (const char *const[]){ "audit", "verify",
	    "--help", NULL }), 0);
	assert_non_null(strstr(out, "usage:"));
	free(out);
	assert_int_equal(run(&out, (const char *const[]){ "audit", "verify",
	    "--journal", "/nonexistent", "--pubkey", pem, NULL }), 1);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_ok_and_json),
		cmocka_unit_test(test_verify_names_first_bad_record),
		cmocka_unit_test(test_show),
		cmocka_unit_test(test_usage),
	};

	log_init("test_cmd_audit", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
