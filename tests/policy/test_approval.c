/* test_approval.c: every approval text form: exact bytes, strict parsing, round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* A policy change: the hashes of the file in force and of the proposal. */
#define HASH_A "00112233445566778899aabbccddeeff" \
    "0123456789abcdef0123456789abcdef"
#define HASH_B "ffeeddccbbaa99887766554433221100" \
    "fedcba9876543210fedcba9876543210"
static const char policy_text[] =
    "signer-approval v1\n"
    "action: policy\n"
    "policy: test-1\n"
    "replaces: " HASH_A "\n"
    "proposed: " HASH_B "\n"
    "expires: 1795000000\n";

static void
hex_of(char out[65], const uint8_t h[32])
{
	size_t i;

	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

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

/* Replaces the first occurrence of from with to in base, then parses. */
static int
parse_edited_in(const char *base, const char *from, const char *to)
{
	struct pol_approval_msg m;
	char buf[1024];
	const char *at = strstr(base, from);
	size_t pre;
	int r;

	assert_non_null(at);
	pre = (size_t)(at - base);
	memcpy(buf, base, pre);
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

static int
parse_edited(const char *from, const char *to)
{
	return parse_edited_in(sign_text, from, to);
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

static void
test_policy_texts(void **state)
{
	struct pol_policy *p = fx_policy();
	struct pol_approval_msg m;
	char text[POL_APPROVAL_TEXT_MAX], expect[POL_APPROVAL_TEXT_MAX];
	char replaces[65], proposed_hex[65];
	uint8_t proposed[32];
	size_t i, len;

	for (i = 0; i < sizeof(proposed); i++)
		proposed[i] = (uint8_t)(0xf0 - i);
	hex_of(replaces, pol_hash(p));
	hex_of(proposed_hex, proposed);
	assert_int_equal(pol_approval_msg_policy(&m, p, POL_ACTION_POLICY,
	    proposed, 1795000000), 0);
	assert_string_equal(m.policy_id, "test-1");
	assert_memory_equal(m.replaces, pol_hash(p), 32);
	assert_memory_equal(m.proposed, proposed, 32);
	assert_string_equal(m.request_id, "");
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m), 0);
	snprintf(expect, sizeof(expect), "signer-approval v1\naction: policy\n"
	    "policy: test-1\nreplaces: %s\nproposed: %s\nexpires: 1795000000\n",
	    replaces, proposed_hex);
	assert_string_equal(text, expect);
	assert_int_equal(len, strlen(expect));

	assert_int_equal(pol_approval_msg_policy(&m, p,
	    POL_ACTION_POLICY_CANCEL, proposed, 7), 0);
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m), 0);
	snprintf(expect, sizeof(expect), "signer-approval v1\n"
	    "action: policy-cancel\npolicy: test-1\nreplaces: %s\n"
	    "proposed: %s\nexpires: 7\n", replaces, proposed_hex);
	assert_string_equal(text, expect);
	/* Too small a buffer for the longest form: nothing written. */
	assert_int_equal(pol_approval_text(text, len, &len, &m), ERR_TOO_LARGE);
	assert_int_equal(len, 0);
	assert_string_equal(text, "");

	/* Only the two policy actions take hashes. */
	for (i = POL_ACTION_SIGN; i <= POL_ACTION_UNPAUSE; i++) {
		assert_int_equal(pol_approval_msg_policy(&m, p,
		    (enum pol_action)i, proposed, 5), ERR_INVALID_ARG);
		assert_int_equal(m.action, 0);
	}
	assert_int_equal(pol_approval_msg_op(&m, p, POL_ACTION_POLICY, "x", 5),
	    ERR_INVALID_ARG);
	assert_string_equal(pol_action_name(POL_ACTION_POLICY), "policy");
	assert_string_equal(pol_action_name(POL_ACTION_POLICY_CANCEL),
	    "policy-cancel");
	assert_string_equal(pol_action_name(POL_ACTION_POLICY_CANCEL + 1), "?");
	assert_string_equal(pol_action_name(0), "?");
	pol_free(p);
}

/* Each form has its own fields: a message with another's is no text. */
static void
test_policy_fields_write_nothing(void **state)
{
	struct pol_policy *p = fx_policy();
	struct pol_approval_msg m;
	char text[POL_APPROVAL_TEXT_MAX];
	uint8_t proposed[32];
	size_t len;

	memset(proposed, 0xab, sizeof(proposed));
	assert_int_equal(pol_approval_msg_policy(&m, p, POL_ACTION_POLICY,
	    proposed, 1), 0);
	strcpy(m.request_id, "r1");	/* a policy text names no request */
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m),
	    ERR_MALFORMED);
	assert_int_equal(len, 0);
	m.request_id[0] = '\0';
	m.chain_id = 1337;		/* nor an intent */
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m),
	    ERR_MALFORMED);
	m.chain_id = 0;
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m), 0);

	/* Hashes on a pause or a payout: refused, not silently dropped. */
	assert_int_equal(pol_approval_msg_op(&m, p, POL_ACTION_PAUSE, "x", 1),
	    0);
	m.proposed[31] = 1;
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m),
	    ERR_MALFORMED);
	assert_int_equal(pol_approval_msg_op(&m, p, POL_ACTION_CANCEL, "x", 1),
	    0);
	m.replaces[0] = 1;
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m),
	    ERR_MALFORMED);
	assert_int_equal(pol_approval_parse(&m, (const uint8_t *)sign_text,
	    strlen(sign_text)), 0);
	m.replaces[5] = 1;
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m),
	    ERR_MALFORMED);
	pol_free(p);
}

static void
test_policy_parse_round_trip(void **state)
{
	static const uint8_t a[32] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	};
	struct pol_approval_msg m;
	char text[POL_APPROVAL_TEXT_MAX], cancel[POL_APPROVAL_TEXT_MAX];
	size_t len;

	assert_int_equal(pol_approval_parse(&m, (const uint8_t *)policy_text,
	    strlen(policy_text)), 0);
	assert_int_equal(m.action, POL_ACTION_POLICY);
	assert_string_equal(m.policy_id, "test-1");
	assert_string_equal(m.request_id, "");
	assert_memory_equal(m.replaces, a, 32);
	assert_int_equal(m.proposed[0], 0xff);
	assert_int_equal(m.proposed[31], 0x10);
	assert_int_equal(m.chain_id, 0);
	assert_int_equal(m.expires, 1795000000);
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m), 0);
	assert_string_equal(text, policy_text);

	snprintf(cancel, sizeof(cancel), "signer-approval v1\n"
	    "action: policy-cancel\npolicy: test-1\nreplaces: %s\n"
	    "proposed: %s\nexpires: 0\n", HASH_A, HASH_B);
	assert_int_equal(pol_approval_parse(&m, (const uint8_t *)cancel,
	    strlen(cancel)), 0);
	assert_int_equal(m.action, POL_ACTION_POLICY_CANCEL);
	assert_int_equal(m.expires, 0);
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m), 0);
	assert_string_equal(text, cancel);
}

static int
parse_policy_edited(const char *from, const char *to)
{
	return parse_edited_in(policy_text, from, to);
}

static void
test_policy_parse_refuses_noncanonical(void **state)
{
	struct pol_approval_msg m;

	/* Upper case hex is the same hash in another text. */
	assert_int_equal(parse_policy_edited("replaces: 00112233445566778899aa",
	    "replaces: 00112233445566778899AA"), ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("proposed: ff",
	    "proposed: FF"), ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("76543210\nexpires",
	    "7654321A\nexpires"), ERR_MALFORMED);
	/* 63 and 65 digits, a prefix, a non-digit, nothing. */
	assert_int_equal(parse_policy_edited("cdef\nproposed", "cde\nproposed"),
	    ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("cdef\nproposed",
	    "cdef0\nproposed"), ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("replaces: 00", "replaces: 0x"),
	    ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("replaces: 00", "replaces: 0g"),
	    ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("proposed: ff", "proposed:  f"),
	    ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("replaces: " HASH_A "\n",
	    "replaces: \n"), ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("replaces: " HASH_A "\n",
	    "replaces: " HASH_A HASH_A "\n"), ERR_MALFORMED);
	/* Lines missing, swapped, or another form's. */
	assert_int_equal(parse_policy_edited("replaces: " HASH_A "\n", ""),
	    ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("proposed: " HASH_B "\n", ""),
	    ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("replaces: " HASH_A "\n"
	    "proposed: " HASH_B "\n", "proposed: " HASH_B "\n"
	    "replaces: " HASH_A "\n"), ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("replaces: ", "replaced: "),
	    ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("policy: test-1\n",
	    "policy: test-1\nrequest: r1\n"), ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("replaces: " HASH_A "\n",
	    "request: r1\nreplaces: " HASH_A "\n"), ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("expires: ",
	    "request: r1\nexpires: "), ERR_MALFORMED);
	/* Action names exactly. */
	assert_int_equal(parse_policy_edited("action: policy",
	    "action: Policy"), ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("action: policy",
	    "action: policy_cancel"), ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("action: policy",
	    "action: policy-cancel "), ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("action: policy",
	    "action: policy-change"), ERR_MALFORMED);
	/* Another action with the hash lines, or a pause named policy. */
	assert_int_equal(parse_policy_edited("action: policy",
	    "action: pause"), ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("action: policy",
	    "action: sign"), ERR_MALFORMED);
	assert_int_equal(parse_edited_in(pause_text, "request: incident-7\n",
	    "request: incident-7\nreplaces: " HASH_A "\nproposed: " HASH_B
	    "\n"), ERR_MALFORMED);
	assert_int_equal(parse_edited_in(pause_text, "request: incident-7\n",
	    "replaces: " HASH_A "\nproposed: " HASH_B "\n"), ERR_MALFORMED);
	assert_int_equal(parse_edited_in(pause_text, "action: pause",
	    "action: policy"), ERR_MALFORMED);
	assert_int_equal(parse_edited("request: payout-42\n",
	    "replaces: " HASH_A "\nproposed: " HASH_B "\n"), ERR_MALFORMED);
	/* The rest as for every text. */
	assert_int_equal(parse_policy_edited("expires: 1795000000",
	    "expires: 01795000000"), ERR_NONCANONICAL);
	assert_int_equal(parse_policy_edited("expires: 1795000000\n",
	    "expires: 1795000000"), ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("expires: 1795000000\n",
	    "expires: 1795000000\n\n"), ERR_MALFORMED);
	assert_int_equal(parse_policy_edited("proposed: " HASH_B "\n",
	    "proposed: " HASH_B "\r\n"), ERR_MALFORMED);
	assert_int_equal(pol_approval_parse(&m, (const uint8_t *)policy_text,
	    strlen(policy_text) - 1), ERR_MALFORMED);
	assert_int_equal(m.action, 0);
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
		cmocka_unit_test(test_policy_texts),
		cmocka_unit_test(test_policy_fields_write_nothing),
		cmocka_unit_test(test_policy_parse_round_trip),
		cmocka_unit_test(test_policy_parse_refuses_noncanonical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
