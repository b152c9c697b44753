/*
 * test_api_policy.c: the body of GET /v1/policy from signerd's GOV_STATUS:
 * the version in force with its hash in lowercase hex and times in the
 * API's RFC 3339 form; pending null, or the proposal with its change,
 * approvals, needed, and effective_at null until the approvals are in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "orchestratord/api_policy.h"

static void
state_in_force(struct prt_gov_state *st)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->policy_id, sizeof(st->policy_id), "genesis-2026-11");
	memset(st->policy_hash, 0xab, sizeof(st->policy_hash));
	st->policy_hash[0] = 0x01;
	st->version = 3;
	st->since = 1796073987;
}

static const char *
str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	assert_non_null(v);
	assert_true(json_is_string(v));
	return json_string_value(v);
}

static void
test_no_pending(void **state)
{
	struct prt_gov_state st;
	json_t *o;

	(void)state;
	state_in_force(&st);
	o = api_policy_json(&st);
	assert_non_null(o);
	assert_string_equal(str(o, "policy_id"), "genesis-2026-11");
	assert_string_equal(str(o, "policy_hash"),
	    "01ababababababababababababababababababababababababababababababab");
	assert_int_equal(json_integer_value(json_object_get(o, "version")), 3);
	assert_string_equal(str(o, "since"), "2026-11-30T21:26:27.000Z");
	assert_true(json_is_null(json_object_get(o, "pending")));
	assert_int_equal(json_object_size(o), 5);
	json_decref(o);
}

static void
test_pending_loosen_then_approved(void **state)
{
	struct prt_gov_state st;
	json_t *o, *p, *names;

	(void)state;
	state_in_force(&st);
	st.pending = 1;
	snprintf(st.pending_id, sizeof(st.pending_id), "ops-2026-12-a");
	memset(st.pending_hash, 0x0f, sizeof(st.pending_hash));
	st.change = PRT_GOV_LOOSEN;
	st.proposed_at = 1796073987;
	st.needed = 2;
	st.napproved = 1;
	snprintf(st.approved[0], sizeof(st.approved[0]), "alice");
	o = api_policy_json(&st);
	assert_non_null(o);
	p = json_object_get(o, "pending");
	assert_true(json_is_object(p));
	assert_string_equal(str(p, "policy_id"), "ops-2026-12-a");
	assert_string_equal(str(p, "policy_hash"),
	    "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f");
	assert_string_equal(str(p, "change"), "loosen");
	assert_string_equal(str(p, "proposed_at"), "2026-11-30T21:26:27.000Z");
	assert_int_equal(json_integer_value(json_object_get(p, "needed")), 2);
	names = json_object_get(p, "approvals");
	assert_int_equal(json_array_size(names), 1);
	assert_string_equal(json_string_value(json_array_get(names, 0)),
	    "alice");
	/* Not approved yet: no time it takes effect. */
	assert_true(json_is_null(json_object_get(p, "effective_at")));
	assert_int_equal(json_object_size(p), 7);
	json_decref(o);

	/* The second approval: a loosening takes effect after the delay. */
	st.napproved = 2;
	snprintf(st.approved[1], sizeof(st.approved[1]), "bob");
	st.effective_at = 1796077587;
	o = api_policy_json(&st);
	p = json_object_get(o, "pending");
	assert_int_equal(json_array_size(json_object_get(p, "approvals")), 2);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(p, "approvals"), 1)), "bob");
	assert_string_equal(str(p, "effective_at"), "2026-11-30T22:26:27.000Z");
	json_decref(o);

	st.change = PRT_GOV_TIGHTEN;
	o = api_policy_json(&st);
	assert_string_equal(str(json_object_get(o, "pending"), "change"),
	    "tighten");
	json_decref(o);
}

static void
test_unknown_since_is_null(void **state)
{
	struct prt_gov_state st;
	json_t *o;

	(void)state;
	state_in_force(&st);
	st.since = 0;
	o = api_policy_json(&st);
	assert_true(json_is_null(json_object_get(o, "since")));
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_pending),
		cmocka_unit_test(test_pending_loosen_then_approved),
		cmocka_unit_test(test_unknown_since_is_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
