/* test_fsm.c: the payout state machine's one transition table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "orchestratord/fsm.h"

static void
test_names_round_trip(void **state)
{
	enum payout_status s, back;

	(void)state;
	for (s = PS_PENDING_APPROVAL; s < PS_COUNT; s++) {
		assert_non_null(fsm_status_name(s));
		assert_int_equal(fsm_status_from_name(&back,
		    fsm_status_name(s)), 0);
		assert_int_equal(back, s);
	}
	assert_int_equal(fsm_status_from_name(&back, "NONE"), ERR_NOT_FOUND);
	assert_int_equal(fsm_status_from_name(&back, "confirmed"), ERR_NOT_FOUND);
	assert_null(fsm_status_name(PS_COUNT));
}

/* Invariant 7: a terminal payout never moves again. */
static void
test_terminal_states_are_final(void **state)
{
	enum payout_status from, to;

	(void)state;
	for (from = PS_NONE; from < PS_COUNT; from++)
		for (to = PS_NONE; to < PS_COUNT; to++)
			if (fsm_is_terminal(from))
				assert_null(fsm_event(from, to));
	assert_true(fsm_is_terminal(PS_CONFIRMED));
	assert_true(fsm_is_terminal(PS_FAILED));
	assert_false(fsm_is_terminal(PS_SUBMITTED));
}

static void
test_the_seed_flow(void **state)
{
	(void)state;
	assert_string_equal(fsm_event(PS_NONE, PS_PENDING_APPROVAL),
	    "PayoutRequestCreated");
	assert_string_equal(fsm_event(PS_NONE, PS_REJECTED),
	    "RiskCheckRejected");
	assert_string_equal(fsm_event(PS_PENDING_APPROVAL, PS_APPROVED),
	    "PayoutRequestApproved");
	assert_string_equal(fsm_event(PS_APPROVED, PS_SIGNING), "");
	assert_string_equal(fsm_event(PS_SIGNING, PS_SUBMITTED),
	    "PayoutSubmitted");
	assert_string_equal(fsm_event(PS_SUBMITTED, PS_CONFIRMED),
	    "PayoutConfirmed");
	assert_string_equal(fsm_event(PS_SUBMITTED, PS_FAILED),
	    "PayoutFailed");
	/* No shortcuts: nothing is confirmed or submitted unsigned. */
	assert_null(fsm_event(PS_APPROVED, PS_SUBMITTED));
	assert_null(fsm_event(PS_APPROVED, PS_CONFIRMED));
	assert_null(fsm_event(PS_PENDING_APPROVAL, PS_SIGNING));
	assert_null(fsm_event(PS_SIGNING, PS_CANCELLED));
	assert_null(fsm_event(PS_NONE, PS_SIGNING));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_terminal_states_are_final),
		cmocka_unit_test(test_the_seed_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
