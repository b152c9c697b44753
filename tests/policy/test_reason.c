/* test_reason.c: refusal reason codes keep their numbers, names and texts (they are journaled and on the wire). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/util.h"
#include "policy/policy.h"

/* The wire and journal contract: changing a row here breaks old journals. */
static const struct {
	int code;
	const char *name;
} pinned[] = {
	{ 0, "OK" },
	{ 1, "MALFORMED_REQUEST" },
	{ 2, "UNKNOWN_ASSET" },
	{ 3, "CHAIN_MISMATCH" },
	{ 4, "NOT_A_TRANSFER" },
	{ 5, "UNKNOWN_TOKEN_CONTRACT" },
	{ 6, "VALUE_ON_TOKEN_TRANSFER" },
	{ 7, "INTENT_MISMATCH" },
	{ 8, "ACCESS_LIST_NOT_EMPTY" },
	{ 9, "PER_TX_LIMIT" },
	{ 10, "DAILY_LIMIT" },
	{ 11, "ZERO_AMOUNT" },
	{ 12, "REQUEST_ID_CONFLICT" },
	{ 13, "PEER_NOT_ALLOWED" },
	{ 14, "BAD_VERSION" },
	{ 15, "HSM_ERROR" },
	{ 16, "JOURNAL_ERROR" },
	{ 17, "INTERNAL" },
	{ 18, "RECIPIENT_NOT_ALLOWED" },
	{ 19, "FEE_CAP_MAX_FEE" },
	{ 20, "FEE_CAP_PRIORITY_FEE" },
	{ 21, "FEE_CAP_GAS_LIMIT" },
	{ 22, "APPROVALS_MISSING" },
	{ 23, "APPROVAL_UNKNOWN_APPROVER" },
	{ 24, "APPROVAL_DUPLICATE" },
	{ 25, "APPROVAL_BAD_SIGNATURE" },
	{ 26, "APPROVAL_EXPIRED" },
	{ 27, "APPROVAL_WRONG_INTENT" },
	{ 28, "TIMELOCK_NOT_QUEUED" },
	{ 29, "TIMELOCK_PENDING" },
	{ 30, "TIMELOCK_CANCELLED" },
	{ 31, "CLOCK_BEHIND_JOURNAL" },
	{ 32, "NONCE_REUSED" },
	{ 33, "FEE_BUMP_INVALID" },
	{ 34, "PAUSED" },
	{ 35, "TX_PRIORITY_FEE_ABOVE_MAX_FEE" },
	{ 36, "TX_GAS_LIMIT_TOO_LOW" },
	{ 37, "TX_NONCE_TOO_HIGH" },
	{ 38, "RETRY" },
	{ 39, "QUEUE_FULL" },
	{ 40, "TIMELOCK_NOT_NEEDED" },
	{ 41, "KEY_MISMATCH" },
	{ 42, "POLICY_INVALID" },
	{ 43, "POLICY_STALE" },
	{ 44, "POLICY_PENDING" },
	{ 45, "POLICY_NO_PROPOSAL" },
	{ 46, "POLICY_NO_GOVERNANCE" },
	{ 47, "REQUEST_EXPIRED" },
	{ 48, "IN_FLIGHT" },
};

static void
test_numbers_are_pinned(void **state)
{
	size_t i;

	assert_int_equal(ARRAY_LEN(pinned), POL_REASON_COUNT);
	for (i = 0; i < ARRAY_LEN(pinned); i++)
		assert_string_equal(pol_reason_name(pinned[i].code),
		    pinned[i].name);
	assert_int_equal(POL_DAILY_LIMIT, 10);
	assert_int_equal(POL_PAUSED, 34);
	assert_int_equal(POL_TX_NONCE_TOO_HIGH, 37);
	assert_int_equal(POL_KEY_MISMATCH, 41);
}

static void
test_every_code_has_a_text_and_round_trips(void **state)
{
	enum pol_reason r;
	int i;

	for (i = 0; i < POL_REASON_COUNT; i++) {
		assert_true(strlen(pol_reason_text(i)) > 0);
		assert_int_equal(pol_reason_from_name(&r, pol_reason_name(i)), 0);
		assert_int_equal(r, i);
	}
	assert_string_equal(pol_reason_text(POL_DAILY_LIMIT),
	    "the amount would exceed the daily limit");
}

static void
test_unknown_codes(void **state)
{
	enum pol_reason r;

	assert_string_equal(pol_reason_name(-1), "UNKNOWN");
	assert_string_equal(pol_reason_name(POL_REASON_COUNT), "UNKNOWN");
	assert_string_equal(pol_reason_text(1000), "unknown reason");
	assert_int_equal(pol_reason_from_name(&r, "daily_limit"), ERR_NOT_FOUND);
	assert_int_equal(r, POL_INTERNAL);
	assert_int_equal(pol_reason_from_name(&r, "UNKNOWN"), ERR_NOT_FOUND);
	assert_int_equal(pol_reason_from_name(&r, ""), ERR_NOT_FOUND);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers_are_pinned),
		cmocka_unit_test(test_every_code_has_a_text_and_round_trips),
		cmocka_unit_test(test_unknown_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
