/* test_approval.c: the canonical approval text: exact bytes, strict parsing, round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "evm/tx.h"
#include "tests/policy/fixture.h"

/* The bytes docs/approvals.md shows; approvers sign exactly these. */
static const char sign_text[] =
    "signer-approval v1\n"
    "action: sign\n"
    "policy: test-1\n"
    "request: payout-42\n"
    "chain: 1337\n"
    "asset: ETH\n"
    "to: " ACCT1 "\n"
    "amount: 1500000000000000000\n"
    "expires: 1795000000\n";

static const char pause_text[] =
    "signer-approval v1\n"
    "action: pause\n"
    "policy: test-1\n"
    "request: incident-7\n"
    "expires: 1795000000\n";

static void
intent_eth(struct pol_policy *p, struct pol_intent *in, const char *value)
{
	struct evm_tx tx;
	enum pol_reason why;

	memset(&tx, 0, sizeof(tx));
	tx.chain_id = 1337;
	tx.has_to = 1;
	fx_addr(tx.to, ACCT1);
	tx.value = fx_u256(value);
	tx.gas_limit = 21000;
	assert_int_equal(pol_derive_intent(in, &why, p, &tx), 0);
}

static void
test_sign_text_exact_bytes(void **state)
{
	struct pol_policy *p = fx_policy();
	struct pol_approval_msg m;
	struct pol_intent in;
	char text[POL_APPROVAL_TEXT_MAX];
	size_t len;

	intent_eth(p, &in, "1500000000000000000");
	assert_int_equal(pol_approval_msg_sign(&m, p, "payout-42", &in,
	    1795000000), 0);
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m), 0);
	assert_int_equal(len, strlen(sign_text));
	assert_string_equal(text, sign_text);
	pol_free(p);
}

static void
test_op_texts(void **state)
{
	struct pol_policy *p = fx_policy();
	struct pol_approval_msg m;
	char text[POL_APPROVAL_TEXT_MAX];
	size_t len;

	assert_int_equal(pol_approval_msg_op(&m, p, POL_ACTION_PAUSE,
	    "incident-7", 1795000000), 0);
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m), 0);
	assert_string_equal(text, pause_text);
	assert_int_equal(pol_approval_msg_op(&m, p, POL_ACTION_CANCEL, "r1", 5),
	    0);
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m), 0);
	assert_string_equal(text, "signer-approval v1\naction: cancel\n"
	    "policy: test-1\nrequest: r1\nexpires: 5\n");
	assert_int_equal(pol_approval_msg_op(&m, p, POL_ACTION_UNPAUSE,
	    "genesis", 0), 0);
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m), 0);
	assert_string_equal(text, "signer-approval v1\naction: unpause\n"
	    "policy: test-1\nrequest: genesis\nexpires: 0\n");
	/* Sign messages come from an intent only. */
	assert_int_equal(pol_approval_msg_op(&m, p, POL_ACTION_SIGN, "r1", 5),
	    ERR_INVALID_ARG);
	assert_int_equal(pol_approval_msg_op(&m, p, POL_ACTION_PAUSE, "a b", 5),
	    ERR_MALFORMED);
	assert_int_equal(pol_approval_msg_op(&m, p, POL_ACTION_PAUSE, "", 5),
	    ERR_MALFORMED);
	assert_string_equal(pol_action_name(POL_ACTION_UNPAUSE), "unpause");
	assert_string_equal(pol_action_name(9), "?");
	pol_free(p);
}

static void
test_bad_fields_write_nothing(void **state)
{
	struct pol_policy *p = fx_policy();
	struct pol_approval_msg m;
	struct pol_intent in;
	char text[POL_APPROVAL_TEXT_MAX];
	size_t len = 99;

	intent_eth(p, &in, "1");
	assert_int_equal(pol_approval_msg_sign(&m, p, "bad id", &in, 1),
	    ERR_MALFORMED);
	assert_int_equal(pol_approval_msg_sign(&m, p,
	    "x12345678901234567890123456789012345678901234567890123456789012345",
	    &in, 1), ERR_MALFORMED);
	assert_int_equal(pol_approval_msg_sign(&m, p, "ok", &in, 1), 0);
	m.asset[0] = 'e';	/* lower case: not an asset name */
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m),
	    ERR_MALFORMED);
	assert_int_equal(len, 0);
	assert_string_equal(text, "");
	assert_int_equal(pol_approval_msg_op(&m, p, POL_ACTION_PAUSE, "x", 1),
	    0);
	m.chain_id = 1;		/* a pause carries no intent */
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m),
	    ERR_MALFORMED);
	m.chain_id = 0;
	assert_int_equal(pol_approval_text(text, 10, &len, &m), ERR_TOO_LARGE);
	assert_int_equal(len, 0);
	pol_free(p);
}

static void
test_parse_round_trip(void **state)
{
	struct pol_approval_msg m;
	char text[POL_APPROVAL_TEXT_MAX];
	uint8_t to[EVM_ADDR_LEN];
	size_t len;

	assert_int_equal(pol_approval_parse(&m, (const uint8_t *)sign_text,
	    strlen(sign_text)), 0);
	assert_int_equal(m.action, POL_ACTION_SIGN);
	assert_string_equal(m.policy_id, "test-1");
	assert_string_equal(m.request_id, "payout-42");
	assert_int_equal(m.chain_id, 1337);
	assert_string_equal(m.asset, "ETH");
	fx_addr(to, ACCT1);
	assert_memory_equal(m.to, to, EVM_ADDR_LEN);
	fx_assert_u256(&m.amount, "1500000000000000000");
	assert_int_equal(m.expires, 1795000000);
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m), 0);
	assert_string_equal(text, sign_text);

	assert_int_equal(pol_approval_parse(&m, (const uint8_t *)pause_text,
	    strlen(pause_text)), 0);
	assert_int_equal(m.action, POL_ACTION_PAUSE);
	assert_string_equal(m.request_id, "incident-7");
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m), 0);
	assert_string_equal(text, pause_text);
}

/* Replaces the first occurrence of from with to in sign_text, then parses. */
static int
parse_edited(const char *from, const char *to)
{
	struct pol_approval_msg m;
	char buf[1024];
	const char *at = strstr(sign_text, from);
	size_t pre;
	int r;

	assert_non_null(at);
	pre = (size_t)(at - sign_text);
	memcpy(buf, sign_text, pre);
	strcpy(buf + pre, to);
	strcat(buf, at + strlen(from));
	r = pol_approval_parse(&m, (const uint8_t *)buf, strlen(buf));
	if (r != 0) {
		/* Outputs are cleared on failure. */
		assert_int_equal(m.action, 0);
		assert_int_equal(m.expires, 0);
	}
	return r;
}

static void
test_parse_refuses_noncanonical(void **state)
{
	struct pol_approval_msg m;

	assert_int_equal(parse_edited("v1\n", "v2\n"), ERR_MALFORMED);
	assert_int_equal(parse_edited("action: sign", "action: Sign"),
	    ERR_MALFORMED);
	assert_int_equal(parse_edited("action: sign", "action:  sign"),
	    ERR_MALFORMED);
	assert_int_equal(parse_edited("policy: test-1\n", "policy: test-1\r\n"),
	    ERR_MALFORMED);
	assert_int_equal(parse_edited("policy: test-1\n", "policy: test 1\n"),
	    ERR_MALFORMED);
	assert_int_equal(parse_edited("policy: test-1\n", "policy: \n"),
	    ERR_MALFORMED);
	assert_int_equal(parse_edited("chain: 1337", "chain: 01337"),
	    ERR_NONCANONICAL);
	assert_int_equal(parse_edited("chain: 1337", "chain: 0"),
	    ERR_MALFORMED);
	assert_int_equal(parse_edited("chain: 1337", "chain: +1337"),
	    ERR_MALFORMED);
	assert_int_equal(parse_edited("chain: 1337",
	    "chain: 18446744073709551616"), ERR_MALFORMED);
	assert_int_equal(parse_edited("asset: ETH", "asset: eth"),
	    ERR_MALFORMED);
	/* Lower case: the address without its checksum is another text. */
	assert_int_equal(parse_edited(ACCT1,
	    "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"), ERR_MALFORMED);
	assert_int_equal(parse_edited("amount: 1500000000000000000",
	    "amount: 01500000000000000000"), ERR_NONCANONICAL);
	assert_int_equal(parse_edited("amount: 1500000000000000000",
	    "amount: 1.5"), ERR_MALFORMED);
	assert_int_equal(parse_edited("expires: 1795000000\n",
	    "expires: 1795000000"), ERR_MALFORMED);	/* no final newline */
	assert_int_equal(parse_edited("expires: 1795000000\n",
	    "expires: 1795000000\n\n"), ERR_MALFORMED);	/* trailing */
	/* Lines in another order are another text. */
	assert_int_equal(parse_edited("asset: ETH\nto: " ACCT1,
	    "to: " ACCT1 "\nasset: ETH"), ERR_MALFORMED);
	/* A cancel with an intent, a sign without one. */
	assert_int_equal(parse_edited("action: sign", "action: cancel"),
	    ERR_MALFORMED);
	assert_int_equal(pol_approval_parse(&m, (const uint8_t *)pause_text,
	    strlen(pause_text) - 1), ERR_MALFORMED);
	assert_int_equal(pol_approval_parse(&m, (const uint8_t *)"", 0),
	    ERR_MALFORMED);
	assert_int_equal(pol_approval_parse(&m, (const uint8_t *)sign_text,
	    POL_APPROVAL_TEXT_MAX + 1), ERR_TOO_LARGE);
	/* An embedded NUL is not a printable byte. */
	assert_int_equal(pol_approval_parse(&m, (const uint8_t *)
	    "signer-approval v1\naction: pause\npolicy: a\0b\nrequest: x\n"
	    "expires: 1\n", 59), ERR_MALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_text_exact_bytes),
		cmocka_unit_test(test_op_texts),
		cmocka_unit_test(test_bad_fields_write_nothing),
		cmocka_unit_test(test_parse_round_trip),
		cmocka_unit_test(test_parse_refuses_noncanonical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
