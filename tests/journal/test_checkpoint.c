/* test_checkpoint.c: checkpoint records signed by the audit key, checked with OpenSSL and jnl_verify (D3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/ecdsa.h>
#include <openssl/pem.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "journal/internal.h"
#include "jnl_test.h"

static EVP_PKEY *audit_key;	/* the "HSM" key */
static EVP_PKEY *other_key;	/* a forger's key */

static int
failing_signer(void *ctx, uint8_t rs[64], const uint8_t digest[32])
{
	return ERR_HSM;
}

static int
zero_signer(void *ctx, uint8_t rs[64], const uint8_t digest[32])
{
	memset(rs, 0, 64);
	return 0;
}

static int
group_setup(void **state)
{
	audit_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return audit_key != NULL && other_key != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	EVP_PKEY_free(audit_key);
	EVP_PKEY_free(other_key);
	return 0;
}

/* 5 records, checkpoint (seq 6), 2 records, checkpoint (seq 9). */
static void
make_checkpointed(const char *dir)
{
	struct jnl_error e;
	struct jnl *j;

	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	assert_int_equal(t_append_n(j, 1, 5), 0);
	assert_int_equal(jnl_checkpoint(j, key_signer, audit_key), 0);
	assert_int_equal(t_append_n(j, 6, 2), 0);
	assert_int_equal(jnl_checkpoint(j, key_signer, audit_key), 0);
	jnl_close(j);
}

static void
test_signature_verifies_with_openssl(void **state)
{
	char dir[PATH_MAX], want[128], hex[65];
	uint8_t hashes[16][32], der[80];
	struct jnl_reader *rd;
	struct jnl_record rec;
	struct jnl_error e;
	const char *msg, *sig, *head;
	EVP_MD_CTX *ctx;
	json_int_t hs;
	size_t dl;
	int ncp = 0;

	t_mkdtemp(dir);
	make_checkpointed(dir);
	assert_int_equal(jnl_reader_open(&rd, &e, dir), 0);
	while (jnl_reader_next(rd, &rec, &e) == 1) {
		memcpy(hashes[rec.seq], rec.hash, 32);
		if (strcmp(json_string_value(json_object_get(rec.json,
		    "type")), "checkpoint") != 0)
			continue;
		ncp++;
		hs = json_integer_value(json_object_get(rec.json, "head_seq"));
		head = json_string_value(json_object_get(rec.json, "head"));
		msg = json_string_value(json_object_get(rec.json, "msg"));
		sig = json_string_value(json_object_get(rec.json, "sig"));
		/* It signs the record just before it (no race here). */
		assert_int_equal(hs, rec.seq - 1);
		util_hex_encode(hex, hashes[hs], 32);
		assert_string_equal(head, hex);
		snprintf(want, sizeof(want),
		    "signer-journal-checkpoint v1 %lld %s", (long long)hs, hex);
		assert_string_equal(msg, want);
		assert_non_null(json_object_get(rec.json, "ts"));
		/* Plain OpenSSL, as an auditor's own tool would. */
		assert_int_equal(util_hex_decode_var(der, sizeof(der), &dl,
		    sig), 0);
		ctx = EVP_MD_CTX_new();
		assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(),
		    NULL, audit_key), 1);
		assert_int_equal(EVP_DigestVerify(ctx, der, dl,
		    (const uint8_t *)msg, strlen(msg)), 1);
		EVP_MD_CTX_free(ctx);
		ctx = EVP_MD_CTX_new();
		assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(),
		    NULL, other_key), 1);
		assert_int_not_equal(EVP_DigestVerify(ctx, der, dl,
		    (const uint8_t *)msg, strlen(msg)), 1);
		EVP_MD_CTX_free(ctx);
	}
	jnl_reader_close(rd);
	assert_int_equal(ncp, 2);
	t_rm_rf(dir);
}

static void
test_verify_counts(void **state)
{
	struct jnl_verify_result res;
	char dir[PATH_MAX];

	t_mkdtemp(dir);
	make_checkpointed(dir);
	assert_int_equal(jnl_verify(dir, audit_key, &res), 0);
	assert_true(res.ok);
	assert_int_equal(res.records, 9);
	assert_int_equal(res.checkpoints, 2);
	assert_int_equal(res.head_seq, 9);
	assert_int_equal(res.signed_seq, 8);
	assert_int_equal(strlen(res.head_hex), 64);
	/* The wrong audit key: the first checkpoint is named. */
	assert_int_equal(jnl_verify(dir, other_key, &res), ERR_BAD_SIGNATURE);
	assert_false(res.ok);
	assert_int_equal(res.err.seq, 6);
	assert_string_equal(res.err.segment, "seg-00000001.jsonl");
	assert_int_equal(res.records, 5);
	t_rm_rf(dir);
}

static void
test_forged_checkpoint_fails(void **state)
{
	struct jnl_verify_result res;
	char dir[PATH_MAX], seg[PATH_MAX];
	struct jnl_error e;
	struct jnl *j;
	size_t len;
	char *b;

	/* A checkpoint signed by someone else's key. */
	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	assert_int_equal(t_append_n(j, 1, 3), 0);
	assert_int_equal(jnl_checkpoint(j, key_signer, other_key), 0);
	jnl_close(j);
	assert_int_equal(jnl_verify(dir, audit_key, &res), ERR_BAD_SIGNATURE);
	assert_int_equal(res.err.seq, 4);
	t_seg_path(seg, dir, 1);
	b = t_read(seg, &len);
	assert_int_equal(res.err.offset, t_line_off(b, len, 4));
	free(b);
	t_rm_rf(dir);
}

/* Re-chains every line of seg 1 after edit() ran on the line texts, as an
 * attacker able to rewrite the whole file would. */
static void
rewrite_chain(const char *dir, void (*edit)(char **lines, int n))
{
	char seg[PATH_MAX], *b, *lines[64], *nl, *p;
	struct jnl_hasher h;
	struct prt_writer w;
	uint8_t prev[32] = { 0 }, hash[32];
	size_t len;
	int n = 0, i;

	t_seg_path(seg, dir, 1);
	b = t_read(seg, &len);
	for (p = b; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		/* Keep only the body: "{" + what follows the prefix. */
		lines[n] = strdup(strchr(strstr(p, "\"seq\":"), ','));
		lines[n][0] = '{';
		n++;
	}
	edit(lines, n);
	assert_int_equal(jnl_hasher_init(&h), 0);
	prt_writer_init(&w, 1 << 20);
	for (i = 0; i < n; i++) {
		assert_int_equal(jnl_fmt_line(&w, hash, &h, (uint64_t)i + 1,
		    prev, lines[i], strlen(lines[i])), 0);
		memcpy(prev, hash, 32);
		free(lines[i]);
	}
	t_write(seg, w.p, w.len);
	prt_writer_free(&w);
	jnl_hasher_free(&h);
	free(b);
}

static void
edit_record_3(char **lines, int n)
{
	char *p = strstr(lines[2], "req-3");

	p[4] = '7';
}

static char rehead_hex[65];

/* Also point the first checkpoint at the rewritten record 5. */
static void
edit_record_3_and_checkpoint(char **lines, int n)
{
	struct jnl_hasher h;
	struct prt_writer w;
	uint8_t prev[32] = { 0 }, hash[32];
	json_t *cp;
	char msg[128];
	int i;

	edit_record_3(lines, n);
	assert_int_equal(jnl_hasher_init(&h), 0);
	prt_writer_init(&w, 1 << 20);
	for (i = 0; i < 5; i++) {
		assert_int_equal(jnl_fmt_line(&w, hash, &h, (uint64_t)i + 1,
		    prev, lines[i], strlen(lines[i])), 0);
		memcpy(prev, hash, 32);
	}
	prt_writer_free(&w);
	jnl_hasher_free(&h);
	util_hex_encode(rehead_hex, hash, 32);
	snprintf(msg, sizeof(msg), "signer-journal-checkpoint v1 5 %s",
	    rehead_hex);
	cp = json_loads(lines[5], 0, NULL);
	json_object_set_new(cp, "head", json_string(rehead_hex));
	json_object_set_new(cp, "msg", json_string(msg));
	free(lines[5]);
	lines[5] = json_dumps(cp, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(cp);
}

static void
test_rewritten_chain_caught_by_checkpoint(void **state)
{
	struct jnl_verify_result res;
	struct jnl_error e;
	char dir[PATH_MAX];
	struct jnl *j;

	/* Rewriting record 3 and re-chaining everything fools the chain... */
	t_mkdtemp(dir);
	make_checkpointed(dir);
	rewrite_chain(dir, edit_record_3);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	jnl_close(j);
	/* ...but not the checkpoint that signed the old head. */
	assert_int_equal(jnl_verify(dir, audit_key, &res), ERR_MALFORMED);
	assert_int_equal(res.err.seq, 6);
	assert_non_null(strstr(res.err.reason, "head"));

	/* Re-pointing the checkpoint needs a signature nobody can forge. */
	t_rm_rf(dir);
	t_mkdtemp(dir);
	make_checkpointed(dir);
	rewrite_chain(dir, edit_record_3_and_checkpoint);
	assert_int_equal(jnl_verify(dir, audit_key, &res), ERR_BAD_SIGNATURE);
	assert_int_equal(res.err.seq, 6);
	t_rm_rf(dir);
}

static void
test_signer_problems(void **state)
{
	char dir[PATH_MAX];
	struct jnl_config cfg;
	struct jnl_error e;
	struct jnl *j;
	uint64_t hs;

	t_mkdtemp(dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.audit_pub = audit_key;
	assert_int_equal(jnl_open(&j, &e, dir, &cfg), 0);
	assert_int_equal(jnl_checkpoint(j, key_signer, audit_key),
	    ERR_NOT_FOUND);
	assert_int_equal(t_append_n(j, 1, 2), 0);
	assert_int_equal(jnl_checkpoint(j, failing_signer, NULL), ERR_HSM);
	assert_int_equal(jnl_checkpoint(j, zero_signer, NULL), ERR_MALFORMED);
	/* With the audit key configured, a wrong signature never lands. */
	assert_int_equal(jnl_checkpoint(j, key_signer, other_key),
	    ERR_BAD_SIGNATURE);
	jnl_head(j, &hs, NULL);
	assert_int_equal(hs, 2);
	assert_int_equal(jnl_checkpoint(j, key_signer, audit_key), 0);
	jnl_head(j, &hs, NULL);
	assert_int_equal(hs, 3);
	jnl_close(j);
	t_rm_rf(dir);
}

struct racer {
	pthread_t t;
	struct jnl *j;
	int stop;
};

static void *
race_run(void *arg)
{
	struct racer *r = arg;
	int i = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED))
		if (t_append_n(r->j, 1000 + i++, 1) != 0)
			break;
	return NULL;
}

static void
test_checkpoint_under_load(void **state)
{
	struct jnl_verify_result res;
	struct racer rc[3];
	char dir[PATH_MAX];
	struct jnl_error e;
	struct jnl *j;
	int i;

	/* Appends land between the signed head and the checkpoint; the
	 * verifier still finds the head within its window. */
	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	assert_int_equal(t_append_n(j, 1, 1), 0);
	for (i = 0; i < 3; i++) {
		rc[i].j = j;
		rc[i].stop = 0;
		pthread_create(&rc[i].t, NULL, race_run, &rc[i]);
	}
	for (i = 0; i < 20; i++)
		assert_int_equal(jnl_checkpoint(j, key_signer, audit_key), 0);
	for (i = 0; i < 3; i++) {
		__atomic_store_n(&rc[i].stop, 1, __ATOMIC_RELAXED);
		pthread_join(rc[i].t, NULL);
	}
	jnl_close(j);
	assert_int_equal(jnl_verify(dir, audit_key, &res), 0);
	assert_int_equal(res.checkpoints, 20);
	t_rm_rf(dir);
}

/*
 * Leaves a journal and the audit public key in $JNL_KEEP_DIR when set, so
 * tests/integration/journal_audit.sh can run the manual audit of
 * docs/journal-format.md on bytes this library wrote.
 */
static void
test_fixture_for_manual_audit(void **state)
{
	const char *keep = getenv("JNL_KEEP_DIR");
	struct jnl_verify_result res;
	char dir[PATH_MAX], pem[PATH_MAX + 16];
	FILE *f;

	if (keep != NULL && keep[0] != '\0')
		snprintf(dir, sizeof(dir), "%s", keep);
	else
		t_mkdtemp(dir);
	make_checkpointed(dir);
	assert_int_equal(jnl_verify(dir, audit_key, &res), 0);
	snprintf(pem, sizeof(pem), "%s/../audit.pem", dir);
	if (keep != NULL && keep[0] != '\0') {
		assert_non_null(f = fopen(pem, "w"));
		assert_int_equal(PEM_write_PUBKEY(f, audit_key), 1);
		fclose(f);
	} else {
		t_rm_rf(dir);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature_verifies_with_openssl),
		cmocka_unit_test(test_verify_counts),
		cmocka_unit_test(test_forged_checkpoint_fails),
		cmocka_unit_test(test_rewritten_chain_caught_by_checkpoint),
		cmocka_unit_test(test_signer_problems),
		cmocka_unit_test(test_checkpoint_under_load),
		cmocka_unit_test(test_fixture_for_manual_audit),
	};

	log_init("test_checkpoint", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
