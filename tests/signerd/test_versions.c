/*
 * test_versions.c: policy versions (signerd/versions.c): genesis, a
 * proposal, drop and undrop, activation and its undo, effective times,
 * and the snapshot section round trip with every malformation refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"
#include "proto/buf.h"
#include "signerd/versions.h"
#include "tests/policy/fixture.h"

/* The fixture's policy with a new policy_id, parsed as signerd does. */
static struct sd_version *
parse(const char *id)
{
	struct sd_version *v;
	json_error_t jerr;
	json_t *root;
	char err[256], *text;
	int r;

	root = json_loads(BASE_POLICY, 0, &jerr);
	assert_non_null(root);
	assert_int_equal(json_object_set_new(root, "policy_id",
	    json_string(id)), 0);
	text = json_dumps(root, 0);
	json_decref(root);
	assert_non_null(text);
	r = sd_version_parse(&v, (const uint8_t *)text, strlen(text), err,
	    sizeof(err));
	free(text);
	assert_int_equal(r, 0);
	return v;
}

static struct sd_gov *
gov_new(void)
{
	struct sd_gov *g;

	assert_int_equal(sd_gov_new(&g), 0);
	sd_gov_genesis(g, parse("genesis-1"), 100);
	return g;
}

static void
test_genesis_and_refusals(void **unused)
{
	struct sd_version *v;
	struct sd_gov *g;
	char err[256];

	assert_int_equal(sd_version_parse(&v, (const uint8_t *)"{}", 2, err,
	    sizeof(err)), ERR_MALFORMED);
	assert_null(v);
	assert_true(err[0] != '\0');
	g = gov_new();
	assert_int_equal(sd_gov_current(g)->number, 1);
	assert_int_equal(sd_gov_current(g)->since, 100);
	assert_true(sd_gov_id_used(g, "genesis-1"));
	assert_false(sd_gov_id_used(g, "v2"));
	assert_null(sd_gov_pending(g));
	assert_int_equal(sd_gov_effective_at(g), 0);
	sd_gov_free(g);
}

static void
test_propose_cancel_activate(void **unused)
{
	struct sd_gov *g = gov_new();
	struct sd_gov_pending saved;
	const struct sd_version *old = sd_gov_current(g);
	struct sd_version *v2 = parse("v2"), *v3;
	uint8_t h2[32];

	memcpy(h2, pol_hash(v2->policy), 32);
	assert_int_equal(sd_gov_propose(g, v2, POL_CHANGE_LOOSEN, 200), 0);
	v3 = parse("v3");
	assert_int_equal(sd_gov_propose(g, v3, POL_CHANGE_TIGHTEN, 200),
	    ERR_EXISTS);
	sd_version_free(v3);
	/* Not approved: no effective time; approved: plus the delay. */
	assert_int_equal(sd_gov_effective_at(g), 0);
	sd_gov_pending(g)->approved_at = 300;
	assert_int_equal(sd_gov_effective_at(g), 300 +
	    (int64_t)pol_governance(old->policy)->delay + 1);
	/* Cancelled: remembered; put back (a failed write): forgotten. */
	saved = *sd_gov_pending(g);
	assert_int_equal(sd_gov_drop(g, 1), 0);
	assert_null(sd_gov_pending(g));
	assert_true(sd_gov_was_cancelled(g, h2));
	sd_gov_undrop(g, &saved, 1);
	assert_false(sd_gov_was_cancelled(g, h2));
	assert_non_null(sd_gov_pending(g));
	/* Activation: the next number, the id used, cancellations reset. */
	saved = *sd_gov_pending(g);
	assert_int_equal(sd_gov_activate(g, 400), 0);
	assert_ptr_equal(sd_gov_current(g), v2);
	assert_int_equal(v2->number, 2);
	assert_int_equal(v2->since, 400);
	assert_true(sd_gov_id_used(g, "v2"));
	assert_null(sd_gov_pending(g));
	assert_int_equal(sd_gov_activate(g, 500), ERR_NOT_FOUND);
	/* And taken back: the genesis is in force again, v2 pending. */
	sd_gov_unactivate(g, &saved, 0);
	assert_ptr_equal(sd_gov_current(g), old);
	assert_non_null(sd_gov_pending(g));
	sd_gov_free(g);
}

static void
roundtrip(struct sd_gov *g, struct sd_gov **out, struct prt_writer *w)
{
	struct prt_reader rd;
	char err[256];

	prt_writer_init(w, 1 << 20);
	assert_int_equal(sd_gov_serialize(g, w), 0);
	assert_int_equal(sd_gov_new(out), 0);
	prt_reader_init(&rd, w->p, w->len);
	assert_int_equal(sd_gov_deserialize(*out, &rd, err, sizeof(err)), 0);
	assert_int_equal(prt_end(&rd), 0);
}

static void
test_snapshot_section(void **unused)
{
	struct sd_gov *g = gov_new(), *g2;
	struct sd_version *v2 = parse("v2");
	struct prt_writer w, w2;
	struct prt_reader rd;
	char err[256];
	size_t i;

	assert_int_equal(sd_gov_propose(g, v2, POL_CHANGE_TIGHTEN, 200), 0);
	assert_int_equal(sd_gov_activate(g, 300), 0);
	assert_int_equal(sd_gov_propose(g, parse("v3"),
	    POL_CHANGE_LOOSEN, 400), 0);
	snprintf(sd_gov_pending(g)->approved[0], POL_APPROVER_NAME_MAX + 1,
	    "alice");
	sd_gov_pending(g)->expiry[0] = 9999;
	sd_gov_pending(g)->napproved = 1;
	roundtrip(g, &g2, &w);
	assert_string_equal(sd_gov_current(g2)->hex, v2->hex);
	assert_int_equal(sd_gov_current(g2)->number, 2);
	assert_int_equal(sd_gov_current(g2)->since, 300);
	assert_true(sd_gov_id_used(g2, "genesis-1"));
	assert_string_equal(pol_policy_id(sd_gov_pending(g2)->v->policy), "v3");
	assert_int_equal(sd_gov_pending(g2)->change, POL_CHANGE_LOOSEN);
	assert_string_equal(sd_gov_pending(g2)->approved[0], "alice");
	/* The same state writes the same bytes. */
	prt_writer_init(&w2, 1 << 20);
	assert_int_equal(sd_gov_serialize(g2, &w2), 0);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.p, w.p, w.len);
	prt_writer_free(&w2);
	sd_gov_free(g2);
	/* Every cut is refused, never half loaded past the error. */
	for (i = 0; i < w.len; i++) {
		assert_int_equal(sd_gov_new(&g2), 0);
		prt_reader_init(&rd, w.p, i);
		assert_int_not_equal(sd_gov_deserialize(g2, &rd, err,
		    sizeof(err)), 0);
		sd_gov_free(g2);
	}
	/* A pending approval by someone no approver of the version in force
	 * is not what signerd writes: refused. */
	snprintf(sd_gov_pending(g)->approved[0], POL_APPROVER_NAME_MAX + 1,
	    "mallory");
	prt_writer_init(&w2, 1 << 20);
	assert_int_equal(sd_gov_serialize(g, &w2), 0);
	assert_int_equal(sd_gov_new(&g2), 0);
	prt_reader_init(&rd, w2.p, w2.len);
	assert_int_equal(sd_gov_deserialize(g2, &rd, err, sizeof(err)),
	    ERR_MALFORMED);
	sd_gov_free(g2);
	prt_writer_free(&w2);
	/* A wrong magic, and a change class out of range. */
	w.p[0] ^= 1;
	assert_int_equal(sd_gov_new(&g2), 0);
	prt_reader_init(&rd, w.p, w.len);
	assert_int_equal(sd_gov_deserialize(g2, &rd, err, sizeof(err)),
	    ERR_MALFORMED);
	sd_gov_free(g2);
	prt_writer_free(&w);
	sd_gov_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_genesis_and_refusals),
		cmocka_unit_test(test_propose_cancel_activate),
		cmocka_unit_test(test_snapshot_section),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
