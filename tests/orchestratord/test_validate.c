/*
 * test_validate.c: the API's input checks: every class of bad payout,
 * approval and reject body with its exact status and code, the advisory
 * pre-check, query values, dates, and list cursors (round trips and
 * garbage).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "orchestratord/validate.h"
#include "tests/policy/fixture.h"

static struct pol_policy *policy;

static int
setup(void **state)
{
	policy = fx_policy();
	return 0;
}

static int
teardown(void **state)
{
	pol_free(policy);
	policy = NULL;
	return 0;
}

/* A payout body with the four members given as raw JSON values. */
static int
payout(struct val_payout *v, struct val_err *e, const char *id,
    const char *asset, const char *to, const char *amount)
{
	char body[1024];

	snprintf(body, sizeof(body), "{\"request_id\": %s, \"asset\": %s, "
	    "\"to\": %s, \"amount\": %s}", id, asset, to, amount);
	memset(e, 0, sizeof(*e));
	return val_payout_body(v, e, policy, (const uint8_t *)body,
	    strlen(body));
}

static int
raw_payout(struct val_err *e, const char *body)
{
	struct val_payout v;

	memset(e, 0, sizeof(*e));
	return val_payout_body(&v, e, policy, (const uint8_t *)body,
	    strlen(body));
}

#define Q(s) "\"" s "\""

static void
assert_err(const struct val_err *e, int status, const char *code)
{
	if (e->status != status || e->code == NULL ||
	    strcmp(e->code, code) != 0)
		print_message("got %d %s: %s\n", e->status,
		    e->code != NULL ? e->code : "(null)", e->message);
	assert_int_equal(e->status, status);
	assert_non_null(e->code);
	assert_string_equal(e->code, code);
	assert_true(strlen(e->message) > 0);
}

static void
test_payout_good(void **state)
{
	struct val_payout v;
	struct val_err e;

	assert_int_equal(payout(&v, &e, Q("payout-1"), Q("ETH"), Q(ACCT1),
	    Q("500")), 0);
	assert_string_equal(v.request_id, "payout-1");
	assert_string_equal(v.asset->name, "ETH");
	assert_string_equal(v.to, ACCT1);
	assert_string_equal(v.amount, "500");
	assert_int_equal(v.intent.asset, FX_ETH);
	assert_string_equal(v.intent.asset_name, "ETH");
	assert_int_equal(v.intent.chain_id, 1337);
	fx_assert_u256(&v.intent.amount, "500");

	/* Longest id, every id character, largest amount. */
	assert_int_equal(payout(&v, &e, Q("aZ09._:-aaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaa"), Q("BIG"), Q(ACCT2),
	    Q(U256_MAX_DEC)), 0);
	assert_int_equal(strlen(v.request_id), 64);
	assert_string_equal(v.amount, U256_MAX_DEC);
	assert_int_equal(v.intent.chain_id, 7);
}

static void
test_payout_bad_json(void **state)
{
	struct val_err e;

	assert_int_equal(raw_payout(&e, ""), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_JSON");
	assert_int_equal(raw_payout(&e, "{\"request_id\": \"a\""), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_JSON");
	assert_int_equal(raw_payout(&e, "{} x"), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_JSON");
	/* Two readers must never see different values. */
	assert_int_equal(raw_payout(&e, "{\"request_id\": \"a\", \"asset\": "
	    "\"ETH\", \"to\": \"" ACCT1 "\", \"amount\": \"1\", \"amount\": "
	    "\"2\"}"), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_JSON");
	/* A NUL inside a string. */
	assert_int_equal(raw_payout(&e, "{\"request_id\": \"a\\u0000b\", "
	    "\"asset\": \"ETH\", \"to\": \"" ACCT1 "\", \"amount\": \"1\"}"),
	    ERR_MALFORMED);
	assert_err(&e, 400, "BAD_JSON");
}

static void
test_payout_bad_shape(void **state)
{
	struct val_payout v;
	struct val_err e;

	assert_int_equal(raw_payout(&e, "[1,2]"), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_JSON");
	assert_non_null(strstr(e.message, "object"));
	assert_int_equal(raw_payout(&e, "\"payout\""), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_JSON");
	assert_int_equal(raw_payout(&e, "42"), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_JSON");
	assert_int_equal(raw_payout(&e, "null"), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_JSON");

	/* Missing member, named. */
	assert_int_equal(raw_payout(&e, "{\"request_id\": \"a\", \"asset\": "
	    "\"ETH\", \"to\": \"" ACCT1 "\"}"), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_REQUEST");
	assert_non_null(strstr(e.message, "amount"));
	/* Unknown member, named. */
	assert_int_equal(raw_payout(&e, "{\"request_id\": \"a\", \"asset\": "
	    "\"ETH\", \"to\": \"" ACCT1 "\", \"amount\": \"1\", \"memo\": "
	    "\"x\"}"), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_REQUEST");
	assert_non_null(strstr(e.message, "memo"));
	/* Wrong JSON types. */
	assert_int_equal(payout(&v, &e, "7", Q("ETH"), Q(ACCT1), Q("1")),
	    ERR_MALFORMED);
	assert_err(&e, 400, "BAD_REQUEST");
	assert_non_null(strstr(e.message, "request_id"));
	assert_int_equal(payout(&v, &e, Q("a"), "null", Q(ACCT1), Q("1")),
	    ERR_MALFORMED);
	assert_err(&e, 400, "BAD_REQUEST");
	assert_int_equal(payout(&v, &e, Q("a"), Q("ETH"), "[]", Q("1")),
	    ERR_MALFORMED);
	assert_err(&e, 400, "BAD_REQUEST");
	assert_int_equal(payout(&v, &e, Q("a"), Q("ETH"), Q(ACCT1), "true"),
	    ERR_MALFORMED);
	assert_err(&e, 400, "BAD_REQUEST");
	/* Failure leaves nothing behind. */
	assert_null(v.asset);
	assert_string_equal(v.request_id, "");
}

static void
test_payout_bad_request_id(void **state)
{
	static const char *const bad[] = { Q(""), Q("a b"), Q("a/b"),
	    Q("caf\\u00e9"), Q("a\\n"),
	    Q("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") };
	struct val_payout v;
	struct val_err e;
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(payout(&v, &e, bad[i], Q("ETH"), Q(ACCT1),
		    Q("1")), ERR_MALFORMED);
		assert_err(&e, 422, "BAD_REQUEST_ID");
	}
}

static void
test_payout_unknown_asset(void **state)
{
	static const char *const bad[] = { Q("DOGE"), Q("eth"), Q(""),
	    Q("ETHETHETHETHETHETH") };
	struct val_payout v;
	struct val_err e;
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(payout(&v, &e, Q("a"), bad[i], Q(ACCT1),
		    Q("1")), ERR_MALFORMED);
		assert_err(&e, 422, "UNKNOWN_ASSET");
	}
}

static void
test_payout_bad_address(void **state)
{
	static const char *const bad[] = {
		Q("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"),	/* lower */
		Q("0x70997970C51812DC3A010C7D01B50E0D17DC79C8"),	/* upper */
		Q("0x70997970C51812dc3A010C7d01b50e0d17dc79c8"),	/* typo */
		Q("70997970C51812dc3A010C7d01b50e0d17dc79C8"),		/* no 0x */
		Q("0x70997970C51812dc3A010C7d01b50e0d17dc79C"),		/* short */
		Q("0x70997970C51812dc3A010C7d01b50e0d17dc79C8a"),	/* long */
		Q("0x70997970C51812dc3A010C7d01b50e0d17dc79Cg"),	/* digit */
		Q(""),
		Q(ZERO_ADDR),
		Q(TOKEN),		/* a registered token contract */
		Q(TOKEN2),
	};
	struct val_payout v;
	struct val_err e;
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_not_equal(payout(&v, &e, Q("a"), Q("ETH"), bad[i],
		    Q("1")), 0);
		assert_err(&e, 422, "BAD_ADDRESS");
	}
	/* The checksum message tells a typo apart from garbage. */
	assert_int_equal(payout(&v, &e, Q("a"), Q("ETH"), bad[0], Q("1")),
	    ERR_MALFORMED);
	assert_non_null(strstr(e.message, "EIP-55"));
	assert_int_equal(payout(&v, &e, Q("a"), Q("ETH"), bad[6], Q("1")),
	    ERR_MALFORMED);
	assert_null(strstr(e.message, "EIP-55"));
	/* A token contract is a sink for every asset, native ones too. */
	assert_int_equal(payout(&v, &e, Q("a"), Q("USDX"), Q(TOKEN), Q("1")),
	    ERR_MALFORMED);
	assert_non_null(strstr(e.message, "token contract"));
}

static void
test_payout_bad_amount(void **state)
{
	static const char *const bad[] = { Q("0"), Q("-1"), Q("+1"), Q("1e5"),
	    Q("1.5"), Q("01"), Q(" 1"), Q("1 "), Q(""), Q("0x10"),
	    /* 2^256 */
	    Q("115792089237316195423570985008687907853269984665640564039457584"
	    "007913129639936"),
	    Q("1000000000000000000000000000000000000000000000000000000000000000"
	    "000000000000000000000"),
	    /* JSON numbers lose precision: refused whatever their value. */
	    "5", "1e5", "1.0", "-3" };
	struct val_payout v;
	struct val_err e;
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_not_equal(payout(&v, &e, Q("a"), Q("ETH"), Q(ACCT1),
		    bad[i]), 0);
		assert_err(&e, 422, "BAD_AMOUNT");
	}
}

static void
precheck(struct val_decision *d, const char *asset, const char *to,
    const char *amount)
{
	struct val_payout v;
	struct val_err e;

	assert_int_equal(payout(&v, &e, Q("p"), asset, to, amount), 0);
	val_precheck(d, policy, &v);
}

static void
test_precheck(void **state)
{
	struct val_decision d;

	precheck(&d, Q("ETH"), Q(ACCT1), Q("500"));
	assert_int_equal(d.status, PS_APPROVED);
	assert_int_equal(d.approvals_required, 0);
	assert_int_equal(d.needs_timelock, 0);
	assert_string_equal(d.reason_code, "");
	/* Thresholds are strict: exactly 1 ETH needs no approval. */
	precheck(&d, Q("ETH"), Q(ACCT1), Q("1000000000000000000"));
	assert_int_equal(d.status, PS_APPROVED);
	precheck(&d, Q("ETH"), Q(ACCT1), Q("1000000000000000001"));
	assert_int_equal(d.status, PS_PENDING_APPROVAL);
	assert_int_equal(d.approvals_required, 2);
	assert_int_equal(d.needs_timelock, 0);
	precheck(&d, Q("ETH"), Q(ACCT1), Q("1600000000000000000"));
	assert_int_equal(d.status, PS_PENDING_APPROVAL);
	assert_int_equal(d.needs_timelock, 1);
	/* Equal to the per-transaction limit is allowed; above is not. */
	precheck(&d, Q("ETH"), Q(ACCT1), Q("2000000000000000000"));
	assert_int_equal(d.status, PS_PENDING_APPROVAL);
	precheck(&d, Q("ETH"), Q(ACCT1), Q("2000000000000000001"));
	assert_int_equal(d.status, PS_REJECTED);
	assert_string_equal(d.reason_code, "PER_TX_LIMIT");
	assert_non_null(strstr(d.reason, "2000000000000000000"));
	assert_int_equal(d.approvals_required, 0);
	/* TUSD pays only its allowlist. */
	precheck(&d, Q("TUSD"), Q(ACCT2), Q("1"));
	assert_int_equal(d.status, PS_APPROVED);
	precheck(&d, Q("TUSD"), Q(ACCT3), Q("1"));
	assert_int_equal(d.status, PS_REJECTED);
	assert_string_equal(d.reason_code, "RECIPIENT_NOT_ALLOWED");
	assert_non_null(strstr(d.reason, ACCT3));
	/* Both broken: the per-transaction limit comes first, as in signerd. */
	precheck(&d, Q("TUSD"), Q(ACCT3), Q("20000000001"));
	assert_string_equal(d.reason_code, "PER_TX_LIMIT");
	/* No approval rule: any amount up to the limit is approved. */
	precheck(&d, Q("BIG"), Q(ACCT3), Q(U256_MAX_DEC));
	assert_int_equal(d.status, PS_APPROVED);
}

static int
approval(struct pol_approval *a, struct val_err *e, const char *body)
{
	memset(e, 0, sizeof(*e));
	return val_approval_body(a, e, (const uint8_t *)body, strlen(body));
}

static void
test_approval_body(void **state)
{
	struct pol_approval a;
	struct val_err e;
	char body[512], hex[2 * 129 + 1];

	assert_int_equal(approval(&a, &e, "{\"approver\": \"alice\", "
	    "\"expiry\": 1795000000, \"signature\": \"3045aBcD\"}"), 0);
	assert_string_equal(a.approver, "alice");
	assert_int_equal(a.expiry, 1795000000);
	assert_int_equal(a.sig_len, 4);
	assert_int_equal(a.sig[0], 0x30);
	assert_int_equal(a.sig[3], 0xcd);
	assert_int_equal(approval(&a, &e, "{\"approver\": \"alice\", "
	    "\"expiry\": 1, \"signature\": \"0x00\"}"), 0);
	assert_int_equal(a.sig_len, 1);

	/* Shape: 400. */
	assert_int_equal(approval(&a, &e, "{\"approver\": \"alice\", "
	    "\"expiry\": 1}"), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_REQUEST");
	assert_int_equal(approval(&a, &e, "{\"approver\": \"alice\", "
	    "\"expiry\": 1, \"signature\": \"00\", \"by\": \"x\"}"),
	    ERR_MALFORMED);
	assert_err(&e, 400, "BAD_REQUEST");
	assert_int_equal(approval(&a, &e, "{\"approver\": \"alice\", "
	    "\"expiry\": \"1795000000\", \"signature\": \"00\"}"),
	    ERR_MALFORMED);
	assert_err(&e, 400, "BAD_REQUEST");
	assert_int_equal(approval(&a, &e, "{\"approver\": \"alice\", "
	    "\"expiry\": 1795000000.5, \"signature\": \"00\"}"), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_REQUEST");
	assert_int_equal(approval(&a, &e, "{\"approver\": 1, \"expiry\": 1, "
	    "\"signature\": \"00\"}"), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_REQUEST");
	assert_int_equal(approval(&a, &e, "{\"approver\": \"a\", \"expiry\": 1, "
	    "\"signature\": [0]}"), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_REQUEST");
	assert_int_equal(approval(&a, &e, "nope"), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_JSON");

	/* Values: 422 naming the field. */
	assert_int_equal(approval(&a, &e, "{\"approver\": \"al ice\", "
	    "\"expiry\": 1, \"signature\": \"00\"}"), ERR_MALFORMED);
	assert_err(&e, 422, "BAD_APPROVER");
	assert_int_equal(approval(&a, &e, "{\"approver\": \"\", "
	    "\"expiry\": 1, \"signature\": \"00\"}"), ERR_MALFORMED);
	assert_err(&e, 422, "BAD_APPROVER");
	assert_int_equal(approval(&a, &e, "{\"approver\": "
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"expiry\": 1, "
	    "\"signature\": \"00\"}"), ERR_MALFORMED);
	assert_err(&e, 422, "BAD_APPROVER");
	assert_int_equal(approval(&a, &e, "{\"approver\": \"alice\", "
	    "\"expiry\": 0, \"signature\": \"00\"}"), ERR_MALFORMED);
	assert_err(&e, 422, "APPROVAL_EXPIRED");
	assert_int_equal(approval(&a, &e, "{\"approver\": \"alice\", "
	    "\"expiry\": -5, \"signature\": \"00\"}"), ERR_MALFORMED);
	assert_err(&e, 422, "APPROVAL_EXPIRED");
	assert_int_equal(approval(&a, &e, "{\"approver\": \"alice\", "
	    "\"expiry\": 1, \"signature\": \"\"}"), ERR_MALFORMED);
	assert_err(&e, 422, "BAD_SIGNATURE");
	assert_int_equal(approval(&a, &e, "{\"approver\": \"alice\", "
	    "\"expiry\": 1, \"signature\": \"abc\"}"), ERR_MALFORMED);
	assert_err(&e, 422, "BAD_SIGNATURE");
	assert_int_equal(approval(&a, &e, "{\"approver\": \"alice\", "
	    "\"expiry\": 1, \"signature\": \"zz\"}"), ERR_MALFORMED);
	assert_err(&e, 422, "BAD_SIGNATURE");
	/* 128 bytes is the most a signature may have. */
	memset(hex, 'a', sizeof(hex) - 1);
	hex[2 * 128] = '\0';
	snprintf(body, sizeof(body), "{\"approver\": \"alice\", \"expiry\": 1, "
	    "\"signature\": \"%s\"}", hex);
	assert_int_equal(approval(&a, &e, body), 0);
	assert_int_equal(a.sig_len, 128);
	hex[2 * 128] = 'a';
	hex[2 * 129] = '\0';
	snprintf(body, sizeof(body), "{\"approver\": \"alice\", \"expiry\": 1, "
	    "\"signature\": \"%s\"}", hex);
	assert_int_equal(approval(&a, &e, body), ERR_MALFORMED);
	assert_err(&e, 422, "BAD_SIGNATURE");
	assert_int_equal(a.sig_len, 0);
}

static int
reject(char *reason, struct val_err *e, const char *body)
{
	memset(e, 0, sizeof(*e));
	return val_reject_body(reason, e, (const uint8_t *)body, strlen(body));
}

/* An approval lives at most max_seconds from now (issue 15). */
static void
test_approval_lifetime(void **state)
{
	struct val_err e;

	assert_int_equal(val_approval_lifetime(&e, 1000 + 3600, 1000, 3600),
	    0);
	assert_int_equal(val_approval_lifetime(&e, 1000 + 3601, 1000, 3600),
	    ERR_TOO_LARGE);
	assert_err(&e, 422, "APPROVAL_EXPIRY_TOO_FAR");
	assert_int_equal(val_approval_lifetime(&e, UINT64_MAX, 1000, 3600),
	    ERR_TOO_LARGE);
	/* Expired ones are for the approval check to refuse. */
	assert_int_equal(val_approval_lifetime(&e, 10, 1000, 3600), 0);
	assert_int_equal(val_approval_lifetime(&e, 1000, 1000, 0), 0);
}

static void
test_reject_body(void **state)
{
	char reason[VAL_REASON_MAX + 1], body[600], text[300];
	struct val_err e;

	assert_int_equal(reject(reason, &e, "{\"reason\": \"not ours\"}"), 0);
	assert_string_equal(reason, "not ours");
	memset(text, 'x', sizeof(text));
	text[256] = '\0';
	snprintf(body, sizeof(body), "{\"reason\": \"%s\"}", text);
	assert_int_equal(reject(reason, &e, body), 0);
	assert_int_equal(strlen(reason), 256);
	text[256] = 'x';
	text[257] = '\0';
	snprintf(body, sizeof(body), "{\"reason\": \"%s\"}", text);
	assert_int_equal(reject(reason, &e, body), ERR_MALFORMED);
	assert_err(&e, 422, "BAD_REASON");
	assert_int_equal(reject(reason, &e, "{\"reason\": \"\"}"),
	    ERR_MALFORMED);
	assert_err(&e, 422, "BAD_REASON");
	assert_int_equal(reject(reason, &e, "{\"reason\": \"a\\nb\"}"),
	    ERR_MALFORMED);
	assert_err(&e, 422, "BAD_REASON");
	assert_int_equal(reject(reason, &e, "{\"reason\": \"caf\\u00e9\"}"),
	    ERR_MALFORMED);
	assert_err(&e, 422, "BAD_REASON");
	assert_int_equal(reject(reason, &e, "{\"reason\": 5}"), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_REQUEST");
	assert_int_equal(reject(reason, &e, "{}"), ERR_MALFORMED);
	assert_err(&e, 400, "BAD_REQUEST");
	assert_int_equal(reject(reason, &e, "{\"reason\": \"a\", \"x\": 1}"),
	    ERR_MALFORMED);
	assert_err(&e, 400, "BAD_REQUEST");
	assert_string_equal(reason, "");
}

static void
test_cursor_round_trip(void **state)
{
	static const int64_t ids[] = { 0, 1, 9, 10, 99, 123, 4096, 1000000007,
	    INT64_MAX - 1, INT64_MAX };
	char c[VAL_CURSOR_MAX], again[VAL_CURSOR_MAX];
	int64_t id;
	size_t i;

	assert_int_equal(val_cursor_encode(c, sizeof(c), 123), 0);
	assert_string_equal(c, "YzE6MTIz");
	assert_int_equal(val_cursor_encode(c, sizeof(c), 0), 0);
	assert_string_equal(c, "YzE6MA");
	assert_int_equal(val_cursor_encode(c, sizeof(c), INT64_MAX), 0);
	assert_string_equal(c, "YzE6OTIyMzM3MjAzNjg1NDc3NTgwNw");
	for (i = 0; i < ARRAY_LEN(ids); i++) {
		assert_int_equal(val_cursor_encode(c, sizeof(c), ids[i]), 0);
		assert_int_equal(val_cursor_decode(&id, c), 0);
		assert_true(id == ids[i]);
		assert_int_equal(val_cursor_encode(again, sizeof(again), id), 0);
		assert_string_equal(again, c);
	}
	assert_int_equal(val_cursor_encode(c, sizeof(c), -1), ERR_INVALID_ARG);
	assert_string_equal(c, "");
	assert_int_equal(val_cursor_encode(c, 8, 1), ERR_INVALID_ARG);
}

static void
test_cursor_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"!",
		"YzE6MTIz=",		/* padding */
		"YzE6MTI=",
		"YzE6MTJ",		/* "c1:12" with non-zero spare bits */
		"YzE6M",		/* a lone last character */
		"YzE6+TIz",		/* '+' is base64, not base64url */
		"YzE6/TIz",
		"YzE6MTIz\n",
		"YzI6MQ",		/* "c2:1" */
		"YzE6",			/* "c1:" */
		"YzE6MDEy",		/* "c1:012" */
		"YzE6LTE",		/* "c1:-1" */
		"YzE6OTIyMzM3MjAzNjg1NDc3NTgwOA",	/* INT64_MAX + 1 */
		"MTIz",			/* "123" */
		"YzE6MTIzAA",		/* "c1:123\0" */
		"YzE6MTIzIA",		/* "c1:123 " */
		"YzE6MTIzMTIzMTIzMTIzMTIzMTIzMTIzMTIzMTIzMTIzMTIz",	/* long */
	};
	int64_t id;
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		id = 77;
		if (val_cursor_decode(&id, bad[i]) != ERR_MALFORMED)
			print_message("accepted cursor '%s'\n", bad[i]);
		assert_int_equal(val_cursor_decode(&id, bad[i]), ERR_MALFORMED);
		assert_true(id == 0);
	}
	/* "YzE6MTI" is "c1:12" exactly: fine. */
	assert_int_equal(val_cursor_decode(&id, "YzE6MTI"), 0);
	assert_true(id == 12);
}

static void
test_first_and_after(void **state)
{
	static const char *const bad_first[] = { "0", "501", "01", "-1", "",
	    "abc", "1.5", " 5", "99999999999999999999" };
	static const char *const bad_after[] = { "-1", "01", "", "x",
	    "9223372036854775808", "1e3" };
	struct val_err e;
	int64_t after;
	int first;
	size_t i;

	assert_int_equal(val_first(&first, &e, NULL, 50, 500), 0);
	assert_int_equal(first, 50);
	assert_int_equal(val_first(&first, &e, "1", 50, 500), 0);
	assert_int_equal(first, 1);
	assert_int_equal(val_first(&first, &e, "500", 50, 500), 0);
	assert_int_equal(first, 500);
	for (i = 0; i < ARRAY_LEN(bad_first); i++) {
		memset(&e, 0, sizeof(e));
		assert_int_equal(val_first(&first, &e, bad_first[i], 50, 500),
		    ERR_MALFORMED);
		assert_err(&e, 400, "BAD_REQUEST");
	}
	assert_int_equal(val_event_after(&after, &e, NULL), 0);
	assert_true(after == 0);
	assert_int_equal(val_event_after(&after, &e, "0"), 0);
	assert_int_equal(val_event_after(&after, &e, "42"), 0);
	assert_true(after == 42);
	assert_int_equal(val_event_after(&after, &e, "9223372036854775807"), 0);
	assert_true(after == INT64_MAX);
	for (i = 0; i < ARRAY_LEN(bad_after); i++) {
		memset(&e, 0, sizeof(e));
		assert_int_equal(val_event_after(&after, &e, bad_after[i]),
		    ERR_MALFORMED);
		assert_err(&e, 400, "BAD_REQUEST");
	}
}

static void
test_dates(void **state)
{
	static const char *const bad[] = { "1969-12-31", "2023-02-29",
	    "2024-02-30", "2026-13-01", "2026-00-10", "2026-04-31",
	    "2026-1-01", "2026-01-1", "26-01-01", "2026/01/01", "2026-01-01 ",
	    "", "today", "+026-01-01" };
	char s[VAL_DATE_STR];
	struct val_err e;
	uint32_t day, d;
	size_t i;

	assert_int_equal(val_date(&day, &e, NULL), 0);
	assert_int_equal(day, PRT_DATE_TODAY);
	assert_int_equal(val_date(&day, &e, "1970-01-01"), 0);
	assert_int_equal(day, 0);
	assert_int_equal(val_date(&day, &e, "2024-02-29"), 0);
	assert_int_equal(day, 19782);
	assert_int_equal(val_date(&day, &e, "2000-02-29"), 0);
	assert_int_equal(val_date(&day, &e, "9999-12-31"), 0);
	assert_int_equal(day, 2932896);
	/* The same day numbers as pol_utc_day, which signerd keeps limits by. */
	assert_int_equal(val_date(&day, &e, "2026-11-18"), 0);
	assert_int_equal(day, pol_utc_day(1795000000));
	assert_int_equal(pol_utc_day((int64_t)day * 86400 + 86399), day);
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		memset(&e, 0, sizeof(e));
		assert_int_equal(val_date(&day, &e, bad[i]), ERR_MALFORMED);
		assert_err(&e, 400, "BAD_DATE");
	}
	/* Every day prints as the date that parses back to it. */
	for (d = 0; d <= 2932896; d += 13) {
		val_day_str(s, d);
		assert_int_equal(val_date(&day, &e, s), 0);
		assert_int_equal(day, d);
	}
	val_day_str(s, 19782);
	assert_string_equal(s, "2024-02-29");
	val_day_str(s, 0);
	assert_string_equal(s, "1970-01-01");
}

static void
test_asset_and_ids(void **state)
{
	struct val_err e;
	size_t idx;

	assert_int_equal(val_asset(&idx, &e, policy, "TUSD"), 0);
	assert_int_equal(idx, FX_TUSD);
	memset(&e, 0, sizeof(e));
	assert_int_not_equal(val_asset(&idx, &e, policy, "NOPE"), 0);
	assert_err(&e, 422, "UNKNOWN_ASSET");
	memset(&e, 0, sizeof(e));
	assert_int_not_equal(val_asset(&idx, &e, policy, NULL), 0);
	assert_err(&e, 400, "BAD_REQUEST");

	assert_int_equal(pol_id_ok("a", 64), 1);
	assert_int_equal(pol_id_ok("A-z_0.9:", 64), 1);
	assert_int_equal(pol_id_ok("", 64), 0);
	assert_int_equal(pol_id_ok("abc", 2), 0);
	assert_int_equal(pol_id_ok("ab", 2), 1);
	assert_int_equal(pol_id_ok("a%b", 64), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payout_good),
		cmocka_unit_test(test_payout_bad_json),
		cmocka_unit_test(test_payout_bad_shape),
		cmocka_unit_test(test_payout_bad_request_id),
		cmocka_unit_test(test_payout_unknown_asset),
		cmocka_unit_test(test_payout_bad_address),
		cmocka_unit_test(test_payout_bad_amount),
		cmocka_unit_test(test_precheck),
		cmocka_unit_test(test_approval_body),
		cmocka_unit_test(test_reject_body),
		cmocka_unit_test(test_approval_lifetime),
		cmocka_unit_test(test_cursor_round_trip),
		cmocka_unit_test(test_cursor_garbage),
		cmocka_unit_test(test_first_and_after),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_asset_and_ids),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
