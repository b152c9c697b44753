/*
 * test_signer.c: the policy version orchestratord follows (D54): a policy
 * text whose hash is not the one STATUS named, or that does not parse, is
 * never published; a new version is, and the old one stays readable; the same
 * version again is the same object; a rotated key changes the sender, and
 * signer_move_of says what a claimed payout must do; readers racing a
 * publisher always see a whole version.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/log.h"
#include "orchestratord/signer.h"
#include "tests/policy/fixture.h"

#define ADDR_OLD "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
#define ADDR_NEW "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
#define ADDR_BIG "0x90F79bf6EB2c4f870365E785982E1f101E93b906"

struct doc {
	char *text;
	size_t len;
	uint8_t hash[PRT_HASH_LEN];
};

/* BASE_POLICY with another id and, when key is set, ETH's key changed. */
static void
doc_make(struct doc *d, const char *id, const char *key)
{
	struct pol_policy *p = NULL;
	json_error_t jerr;
	json_t *root;
	char err[256];

	root = json_loads(BASE_POLICY, 0, &jerr);
	assert_non_null(root);
	assert_int_equal(json_object_set_new(root, "policy_id",
	    json_string(id)), 0);
	if (key != NULL)
		assert_int_equal(json_object_set_new(json_object_get(
		    json_object_get(root, "assets"), "ETH"), "key",
		    json_string(key)), 0);
	d->text = json_dumps(root, 0);
	assert_non_null(d->text);
	d->len = strlen(d->text);
	json_decref(root);
	assert_int_equal(pol_parse(&p, (const uint8_t *)d->text, d->len, err,
	    sizeof(err)), 0);
	memcpy(d->hash, pol_hash(p), PRT_HASH_LEN);
	pol_free(p);
}

static void
add_key(struct prt_status_rep *st, const char *name, const char *addr)
{
	struct prt_key_info *k = &st->keys[st->nkeys++];

	snprintf(k->name, sizeof(k->name), "%s", name);
	fx_addr(k->address, addr);
}

/* signerd's STATUS for d: keys payout (and payout2 when two), big. */
static void
status_of(struct prt_status_rep *st, const struct doc *d, int two)
{
	memset(st, 0, sizeof(*st));
	memcpy(st->policy_hash, d->hash, PRT_HASH_LEN);
	add_key(st, "payout", ADDR_OLD);
	if (two)
		add_key(st, "payout2", ADDR_NEW);
	add_key(st, "big", ADDR_BIG);
}

static const struct pol_asset *
eth(const struct signer_version *v)
{
	size_t i;

	assert_int_equal(pol_asset_by_name(v->policy, "ETH", &i), 0);
	return pol_asset(v->policy, i);
}

static void
test_publish_checks_hash_and_parse(void **state)
{
	struct prt_status_rep st, bst;
	struct signer *s = NULL;
	struct doc a, b;
	const char bad[] = "{\"policy_id\": \"x\"}";

	(void)state;
	doc_make(&a, "v-1", NULL);
	doc_make(&b, "v-2", NULL);
	assert_int_equal(signer_new(&s, NULL), 0);
	assert_null(signer_current(s));
	status_of(&st, &a, 0);
	assert_true(signer_stale(s, &st));
	/* b's text while STATUS names a's hash: it changed in between. */
	assert_int_equal(signer_publish(s, (const uint8_t *)b.text, b.len, &st,
	    NULL), ERR_BAD_CHECKSUM);
	assert_null(signer_current(s));
	/* A text that is what STATUS names but does not parse here. */
	assert_int_equal(signer_publish(s, (const uint8_t *)bad, strlen(bad),
	    &st, NULL), ERR_BAD_CHECKSUM);
	status_of(&bst, &a, 0);
	EVP_Digest(bad, strlen(bad), bst.policy_hash, NULL, EVP_sha256(), NULL);
	assert_int_equal(signer_publish(s, (const uint8_t *)bad, strlen(bad),
	    &bst, NULL), ERR_MALFORMED);
	assert_null(signer_current(s));
	assert_int_equal(signer_publish(s, (const uint8_t *)a.text, a.len, &st,
	    NULL), 0);
	assert_non_null(signer_current(s));
	assert_string_equal(pol_policy_id(signer_current(s)->policy), "v-1");
	assert_memory_equal(signer_current(s)->hash, a.hash, PRT_HASH_LEN);
	assert_int_equal(signer_current(s)->number, 0);
	assert_false(signer_stale(s, &st));
	/* The same hash with other keys (a restart) is stale too. */
	st.keys[0].address[0] ^= 1;
	assert_true(signer_stale(s, &st));
	signer_close(s);
	free(a.text);
	free(b.text);
}

static void
test_versions_kept_and_reused(void **state)
{
	const struct signer_version *v1, *v2;
	struct prt_status_rep st;
	struct prt_gov_state gov;
	struct signer *s = NULL;
	struct doc a, b;

	(void)state;
	doc_make(&a, "v-1", NULL);
	doc_make(&b, "v-2", NULL);
	assert_int_equal(signer_new(&s, NULL), 0);
	memset(&gov, 0, sizeof(gov));
	status_of(&st, &a, 0);
	memcpy(gov.policy_hash, a.hash, PRT_HASH_LEN);
	gov.version = 1;
	gov.since = 1790000000;
	assert_int_equal(signer_publish(s, (const uint8_t *)a.text, a.len, &st,
	    &gov), 0);
	v1 = signer_current(s);
	assert_int_equal(v1->number, 1);
	assert_int_equal(v1->since, 1790000000);
	/* GOV_STATUS naming another hash gives no number. */
	status_of(&st, &b, 0);
	assert_int_equal(signer_publish(s, (const uint8_t *)b.text, b.len, &st,
	    &gov), 0);
	v2 = signer_current(s);
	assert_ptr_not_equal(v1, v2);
	assert_int_equal(v2->number, 0);
	/* The old version is still whole: readers holding it go on. */
	assert_string_equal(pol_policy_id(v1->policy), "v-1");
	assert_memory_equal(v1->hash, a.hash, PRT_HASH_LEN);
	/* Back to a: the same object, not a copy. */
	status_of(&st, &a, 0);
	assert_int_equal(signer_publish(s, (const uint8_t *)a.text, a.len, &st,
	    &gov), 0);
	assert_ptr_equal(signer_current(s), v1);
	signer_close(s);
	free(a.text);
	free(b.text);
}

static void
test_rotation_moves_unsigned_payouts(void **state)
{
	const struct signer_version *v1, *v2;
	struct prt_status_rep st;
	struct signer *s = NULL;
	uint8_t addr[EVM_ADDR_LEN], want[EVM_ADDR_LEN];
	uint8_t old[EVM_ADDR_LEN], neu[EVM_ADDR_LEN];
	struct doc a, b;

	(void)state;
	fx_addr(old, ADDR_OLD);
	fx_addr(neu, ADDR_NEW);
	doc_make(&a, "v-1", NULL);
	assert_int_equal(signer_new(&s, NULL), 0);
	status_of(&st, &a, 0);
	assert_int_equal(signer_publish(s, (const uint8_t *)a.text, a.len, &st,
	    NULL), 0);
	v1 = signer_current(s);
	assert_int_equal(signer_sender(v1, eth(v1), addr), 0);
	fx_addr(want, ADDR_OLD);
	assert_memory_equal(addr, want, EVM_ADDR_LEN);
	/* A key signerd does not hold (yet): no sender, nothing to move to. */
	doc_make(&b, "v-2", "payout2");
	status_of(&st, &b, 0);
	assert_int_equal(signer_publish(s, (const uint8_t *)b.text, b.len, &st,
	    NULL), 0);
	assert_int_equal(signer_sender(signer_current(s),
	    eth(signer_current(s)), addr), ERR_NOT_FOUND);
	assert_int_equal(signer_move_of(signer_current(s),
	    eth(signer_current(s)), old, 0, 0), SIGNER_KEEP);
	/* signerd restarted with the new key loaded: a new version. */
	status_of(&st, &b, 1);
	assert_true(signer_stale(s, &st));
	assert_int_equal(signer_publish(s, (const uint8_t *)b.text, b.len, &st,
	    NULL), 0);
	v2 = signer_current(s);
	assert_int_equal(signer_sender(v2, eth(v2), addr), 0);
	fx_addr(want, ADDR_NEW);
	assert_memory_equal(addr, want, EVM_ADDR_LEN);
	/* Under v2: old-sender payouts not signed move, or ask signerd. */
	assert_int_equal(signer_move_of(v2, eth(v2), old, 0, 0),
	    SIGNER_MOVE);
	assert_int_equal(signer_move_of(v2, eth(v2), old, 0, 1),
	    SIGNER_ASK);
	/* Signed ones finish with the old key; new-sender ones stay. */
	assert_int_equal(signer_move_of(v2, eth(v2), old, 1, 1),
	    SIGNER_KEEP);
	assert_int_equal(signer_move_of(v2, eth(v2), neu, 0, 0),
	    SIGNER_KEEP);
	/* Under v1 nothing moves. */
	assert_int_equal(signer_move_of(v1, eth(v1), old, 0, 0),
	    SIGNER_KEEP);
	signer_close(s);
	free(a.text);
	free(b.text);
}

/* --- readers racing a publisher ------------------------------------------ */

#define RACE_READS 200000
#define RACE_SWITCHES 500

static struct signer *race_signer;
static struct doc race_docs[2];

static void *
reader(void *arg)
{
	const struct signer_version *v;
	int i;

	(void)arg;
	for (i = 0; i < RACE_READS; i++) {
		v = signer_current(race_signer);
		/* Published whole: id and hash agree with one of the docs. */
		if (memcmp(v->hash, pol_hash(v->policy), PRT_HASH_LEN) != 0 ||
		    (memcmp(v->hash, race_docs[0].hash, PRT_HASH_LEN) != 0 &&
		    memcmp(v->hash, race_docs[1].hash, PRT_HASH_LEN) != 0))
			return (void *)1;
	}
	return NULL;
}

static void
test_readers_see_whole_versions(void **state)
{
	struct prt_status_rep st;
	pthread_t th[3];
	void *rv;
	int i, j;

	(void)state;
	doc_make(&race_docs[0], "race-1", NULL);
	doc_make(&race_docs[1], "race-2", "payout2");
	assert_int_equal(signer_new(&race_signer, NULL), 0);
	status_of(&st, &race_docs[0], 1);
	assert_int_equal(signer_publish(race_signer,
	    (const uint8_t *)race_docs[0].text, race_docs[0].len, &st, NULL), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, NULL), 0);
	for (i = 0; i < RACE_SWITCHES; i++) {
		j = (i + 1) % 2;
		status_of(&st, &race_docs[j], 1);
		assert_int_equal(signer_publish(race_signer,
		    (const uint8_t *)race_docs[j].text, race_docs[j].len, &st,
		    NULL), 0);
	}
	for (i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(th[i], &rv), 0);
		assert_null(rv);
	}
	signer_close(race_signer);
	free(race_docs[0].text);
	free(race_docs[1].text);
}

/* --- outcomes (issue 13): done, refused, or retry after --------------- */

/* The reasons that may pass when the same request is sent again. */
static int
transient(int reason)
{
	switch (reason) {
	case POL_IN_FLIGHT:
	case POL_TIMELOCK_PENDING:
	case POL_PAUSED:
	case POL_CLOCK_BEHIND_JOURNAL:
	case POL_HSM_ERROR:
	case POL_JOURNAL_ERROR:
	case POL_INTERNAL:
	case POL_RETRY:
		return 1;
	default:
		return 0;
	}
}

/* Every reason maps to exactly one outcome; unknown ones are final. */
static void
test_outcome_table(void **state)
{
	uint32_t def;
	int reason;

	assert_int_equal(signer_outcome_of(0, &def), SIGNER_DONE);
	assert_int_equal(def, 0);
	for (reason = 1; reason < POL_REASON_COUNT; reason++)
		assert_int_equal(signer_outcome_of(reason, NULL),
		    transient(reason) ? SIGNER_RETRY : SIGNER_REFUSED);
	/* A conflict is final, in-flight is not: never the same outcome. */
	assert_int_equal(signer_outcome_of(POL_REQUEST_ID_CONFLICT, NULL),
	    SIGNER_REFUSED);
	assert_int_equal(signer_outcome_of(POL_IN_FLIGHT, NULL), SIGNER_RETRY);
	assert_int_equal(signer_outcome_of(POL_REQUEST_EXPIRED, NULL),
	    SIGNER_REFUSED);
	/* A reason newer than this build: final, never retried blindly. */
	assert_int_equal(signer_outcome_of(POL_REASON_COUNT, &def),
	    SIGNER_REFUSED);
	assert_int_equal(def, 0);
	assert_int_equal(signer_outcome_of(INT32_MAX, NULL), SIGNER_REFUSED);
	/* signerd's own errors and ours (no reply): transient. */
	assert_int_equal(signer_outcome_of(ERR_IO, NULL), SIGNER_RETRY);
	assert_int_equal(signer_outcome_of(ERR_TIMEOUT, NULL), SIGNER_RETRY);
	assert_int_equal(signer_outcome_of(ERR_BAD_VERSION, NULL),
	    SIGNER_RETRY);
	/* Waits signerd cannot know: long enough not to flood its journal. */
	assert_int_equal(signer_outcome_of(POL_PAUSED, &def), SIGNER_RETRY);
	assert_true(def >= 10000);
}

static void
reply_of(struct prt_reply_hdr *h, int32_t result, uint32_t retry_after_s,
    const char *msg)
{
	prt_reply_hdr_set(h, result, msg);
	h->retry_after_s = retry_after_s;
}

/* signerd's advice is passed through; the words are never read. */
static void
test_answer_takes_retry_after(void **state)
{
	struct prt_reply_hdr h;
	struct signer_answer a;

	/* The message says 5 s; the header says 20: 20 it is. */
	reply_of(&h, POL_TIMELOCK_PENDING, 20, "TIMELOCK_PENDING: 5 s "
	    "remaining: signable from 1 (unix)");
	assert_int_equal(signer_answer_of(&a, 0, &h), SIGNER_RETRY);
	assert_int_equal(a.reason, POL_TIMELOCK_PENDING);
	assert_int_equal(a.retry_after_ms, 20000);
	assert_string_equal(a.message, h.message);
	/* No advice (a signerd of protocol 4 would give none): the default. */
	reply_of(&h, POL_TIMELOCK_PENDING, 0, "3 s remaining");
	assert_int_equal(signer_answer_of(&a, 0, &h), SIGNER_RETRY);
	assert_int_equal(a.retry_after_ms, 5000);
	/* IN_FLIGHT with signerd's 1 s. */
	reply_of(&h, POL_IN_FLIGHT, 1, "IN_FLIGHT: being signed right now");
	assert_int_equal(signer_answer_of(&a, 0, &h), SIGNER_RETRY);
	assert_int_equal(a.retry_after_ms, 1000);
	assert_int_equal(signer_retry_after_s(&a), 1);
	/* A long timelock: capped, so a shortened delay is seen in time. */
	reply_of(&h, POL_TIMELOCK_PENDING, PRT_RETRY_AFTER_MAX, "long");
	assert_int_equal(signer_answer_of(&a, 0, &h), SIGNER_RETRY);
	assert_int_equal(a.retry_after_ms, SIGNER_RETRY_MAX_MS);
	assert_int_equal(signer_retry_after_s(&a), SIGNER_RETRY_MAX_MS / 1000);
	/* A final refusal keeps no wait, even if one came with it. */
	reply_of(&h, POL_REQUEST_ID_CONFLICT, 9, "REQUEST_ID_CONFLICT: other");
	assert_int_equal(signer_answer_of(&a, 0, &h), SIGNER_REFUSED);
	assert_int_equal(a.reason, POL_REQUEST_ID_CONFLICT);
	assert_int_equal(a.retry_after_ms, 0);
	/* Unknown reason: final, with a text of its own when none came. */
	reply_of(&h, 4711, 0, "");
	assert_int_equal(signer_answer_of(&a, 0, &h), SIGNER_REFUSED);
	assert_string_equal(a.message, "unknown reason");
	/* Done. */
	reply_of(&h, 0, 0, "signed");
	assert_int_equal(signer_answer_of(&a, 0, &h), SIGNER_DONE);
	assert_int_equal(a.reason, 0);
	assert_int_equal(a.retry_after_ms, 0);
	/* No reply at all: retry on the caller's backoff; hdr not read. */
	assert_int_equal(signer_answer_of(&a, ERR_TIMEOUT, NULL),
	    SIGNER_RETRY);
	assert_int_equal(a.reason, ERR_TIMEOUT);
	assert_int_equal(a.retry_after_ms, 0);
	assert_int_equal(signer_retry_after_s(&a), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcome_table),
		cmocka_unit_test(test_answer_takes_retry_after),
		cmocka_unit_test(test_publish_checks_hash_and_parse),
		cmocka_unit_test(test_versions_kept_and_reused),
		cmocka_unit_test(test_rotation_moves_unsigned_payouts),
		cmocka_unit_test(test_readers_see_whole_versions),
	};

	/* Every switch is logged at info: keep the TAP output readable. */
	log_init("test_signer", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
