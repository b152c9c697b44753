/* test_diff.c: policy change classification: every field, both directions, and the change list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tests/policy/fixture.h"
#include "policy/diff.h"

/* A throwaway Ed25519 key (private half discarded), for an algorithm change. */
#define PEM_FRANK \
	"-----BEGIN PUBLIC KEY-----\\nMCowBQYDK2VwAyEAHjEKPRdkmcghoPq9NGg/3/VgWiEg83GMLeNpR+nVi10=\\n-----END PUBLIC KEY-----\\n"
#define PEM_JSON(pem) "{\"public_key_pem\": \"" pem "\"}"
#define NATIVE_ASSET(chain) "{\"chain_id\": " chain ", " \
	"\"kind\": \"native\", \"decimals\": 18," \
	"\"key\": \"payout\", \"daily_limit\": \"10\", \"per_tx_limit\": \"10\"," \
	"\"fee_caps\": " FEE_CAPS ", \"confirmations\": 1}"

#define MAX_EDITS 4
#define MAX_SEEN 64

/* One member of the base policy replaced (raw JSON) or removed (raw NULL). */
struct edit {
	const char *path;	/* dotted, as fx_parse_with takes it */
	const char *raw;
};

/* The base policy with edits applied in order; it must parse. */
static struct pol_policy *
parse_edited(const struct edit *edits, size_t n)
{
	struct pol_policy *p = NULL;
	json_error_t jerr;
	json_t *root, *obj, *val;
	char buf[256], err[512], *dot, *key, *text;
	size_t i;
	int r;

	root = json_loads(BASE_POLICY, 0, &jerr);
	assert_non_null(root);
	for (i = 0; i < n && edits[i].path != NULL; i++) {
		assert_true(strlen(edits[i].path) < sizeof(buf));
		strcpy(buf, edits[i].path);
		obj = root;
		key = buf;
		while ((dot = strchr(key, '.')) != NULL) {
			*dot = '\0';
			obj = json_object_get(obj, key);
			assert_non_null(obj);
			key = dot + 1;
		}
		if (edits[i].raw == NULL) {
			assert_int_equal(json_object_del(obj, key), 0);
			continue;
		}
		val = json_loads(edits[i].raw, JSON_DECODE_ANY, &jerr);
		if (val == NULL)
			print_message("bad raw JSON %s: %s\n", edits[i].raw,
			    jerr.text);
		assert_non_null(val);
		assert_int_equal(json_object_set_new(obj, key, val), 0);
	}
	text = json_dumps(root, 0);
	assert_non_null(text);
	r = fx_parse_text(&p, text, err, sizeof(err));
	if (r != 0)
		print_message("edited policy: %s\n", err);
	assert_int_equal(r, 0);
	free(text);
	json_decref(root);
	return p;
}

/* What the callback saw, in order. */
struct seen {
	size_t n;
	struct pol_change c[MAX_SEEN];
};

static void
record(void *arg, const struct pol_change *c)
{
	struct seen *s = arg;

	assert_true(s->n < MAX_SEEN);
	s->c[s->n++] = *c;
}

static void
print_seen(const struct seen *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		print_message("  %s %s: %s -> %s\n",
		    pol_change_class_name(s->c[i].cls), s->c[i].path,
		    s->c[i].old_value, s->c[i].new_value);
}

/* A value as expected: exact, or a prefix when want ends in '*'. */
static void
assert_value(const char *got, const char *want)
{
	size_t n = strlen(want);

	if (n > 0 && want[n - 1] == '*')
		assert_memory_equal(got, want, n - 1);
	else
		assert_string_equal(got, want);
}

/*
 * One field, one direction: the base policy against the edited one gives
 * cls, and the first change reported is path: old -> new (with class cls
 * when it is the only one; with several, cls is the largest).
 */
struct row {
	const char *name;
	struct edit edits[MAX_EDITS];
	enum pol_change_class cls;
	size_t n_changes;
	const char *path, *old_value, *new_value;
};

#define T POL_CHANGE_TIGHTEN
#define L POL_CHANGE_LOOSEN

static const struct row rows[] = {
	/* where and what an asset is: any change loosens */
	{ "chain_id lower loosens", { { "assets.ETH.chain_id", "1" } }, L, 1,
	    "assets.ETH.chain_id", "1337", "1" },
	{ "chain_id higher loosens", { { "assets.ETH.chain_id", "1338" } }, L, 1,
	    "assets.ETH.chain_id", "1337", "1338" },
	{ "kind native to erc20 loosens", { { "assets.BIG.kind", "\"erc20\"" },
	    { "assets.BIG.contract", "\"" TOKEN "\"" } }, L, 2,
	    "assets.BIG.kind", "native", "erc20" },
	{ "contract changed loosens",
	    { { "assets.TUSD.contract", "\"" STRANGER "\"" } }, L, 1,
	    "assets.TUSD.contract", TOKEN, STRANGER },
	{ "decimals lower loosens", { { "assets.ETH.decimals", "17" } }, L, 1,
	    "assets.ETH.decimals", "18", "17" },
	{ "decimals higher loosens", { { "assets.ETH.decimals", "19" } }, L, 1,
	    "assets.ETH.decimals", "18", "19" },
	{ "key changed loosens", { { "assets.ETH.key", "\"payout2\"" } }, L, 1,
	    "assets.ETH.key", "payout", "payout2" },

	/* limits */
	{ "daily_limit lower tightens",
	    { { "assets.ETH.daily_limit", "\"4000000000000000000\"" } }, T, 1,
	    "assets.ETH.daily_limit", "5000000000000000000",
	    "4000000000000000000" },
	{ "daily_limit higher loosens",
	    { { "assets.ETH.daily_limit", "\"6000000000000000000\"" } }, L, 1,
	    "assets.ETH.daily_limit", "5000000000000000000",
	    "6000000000000000000" },
	{ "per_tx_limit lower tightens",
	    { { "assets.ETH.per_tx_limit", "\"1000000000000000000\"" } }, T, 1,
	    "assets.ETH.per_tx_limit", "2000000000000000000",
	    "1000000000000000000" },
	{ "per_tx_limit higher loosens",
	    { { "assets.ETH.per_tx_limit", "\"3000000000000000000\"" } }, L, 1,
	    "assets.ETH.per_tx_limit", "2000000000000000000",
	    "3000000000000000000" },
	{ "u256 limit below 2^256-1 tightens",
	    { { "assets.BIG.daily_limit", "\"1000\"" },
	    { "assets.BIG.per_tx_limit", "\"1000\"" } }, T, 2,
	    "assets.BIG.daily_limit", U256_MAX_DEC, "1000" },

	/* approval */
	{ "approval gained tightens", { { "assets.USDX.approval",
	    "{\"threshold\": \"100\", \"m\": 1, \"approvers\": [\"alice\"]}" } },
	    T, 1, "assets.USDX.approval", "(none)", "1 of alice above 100" },
	{ "approval lost loosens", { { "assets.ETH.approval", NULL } }, L, 1,
	    "assets.ETH.approval", "2 of alice,bob,carol above "
	    "1000000000000000000", "(none)" },
	{ "approval.threshold lower tightens",
	    { { "assets.ETH.approval.threshold", "\"0\"" } }, T, 1,
	    "assets.ETH.approval.threshold", "1000000000000000000", "0" },
	{ "approval.threshold higher loosens",
	    { { "assets.ETH.approval.threshold", "\"1200000000000000000\"" } },
	    L, 1, "assets.ETH.approval.threshold", "1000000000000000000",
	    "1200000000000000000" },
	{ "approval.m higher tightens", { { "assets.ETH.approval.m", "3" } },
	    T, 1, "assets.ETH.approval.m", "2", "3" },
	{ "approval.m lower loosens", { { "assets.ETH.approval.m", "1" } },
	    L, 1, "assets.ETH.approval.m", "2", "1" },
	{ "approval approver added loosens", { { "assets.ETH.approval.approvers",
	    "[\"alice\", \"bob\", \"carol\", \"erin\"]" } }, L, 1,
	    "assets.ETH.approval.approvers[erin]", "(none)", "member" },
	{ "approval approver removed tightens",
	    { { "assets.ETH.approval.approvers", "[\"alice\", \"bob\"]" } },
	    T, 1, "assets.ETH.approval.approvers[carol]", "member", "(none)" },
	{ "approval approvers reordered is no change",
	    { { "assets.ETH.approval.approvers",
	    "[\"carol\", \"alice\", \"bob\"]" } }, POL_CHANGE_NONE, 0,
	    NULL, NULL, NULL },

	/* timelock */
	{ "timelock gained tightens", { { "assets.USDX.timelock",
	    "{\"threshold\": \"1000\", \"delay_seconds\": 60}" } }, T, 1,
	    "assets.USDX.timelock", "(none)", "60 s above 1000" },
	{ "timelock lost loosens", { { "assets.ETH.timelock", NULL } }, L, 1,
	    "assets.ETH.timelock", "30 s above 1500000000000000000", "(none)" },
	{ "timelock.threshold lower tightens",
	    { { "assets.ETH.timelock.threshold", "\"1000000000000000000\"" } },
	    T, 1, "assets.ETH.timelock.threshold", "1500000000000000000",
	    "1000000000000000000" },
	{ "timelock.threshold higher loosens",
	    { { "assets.ETH.timelock.threshold", "\"1600000000000000000\"" } },
	    L, 1, "assets.ETH.timelock.threshold", "1500000000000000000",
	    "1600000000000000000" },
	{ "timelock.delay_seconds longer tightens",
	    { { "assets.ETH.timelock.delay_seconds", "60" } }, T, 1,
	    "assets.ETH.timelock.delay_seconds", "30", "60" },
	{ "timelock.delay_seconds shorter loosens",
	    { { "assets.ETH.timelock.delay_seconds", "10" } }, L, 1,
	    "assets.ETH.timelock.delay_seconds", "30", "10" },

	/* allowlist */
	{ "allowlist gained tightens",
	    { { "assets.USDX.allowlist", "[\"" ACCT1 "\"]" } }, T, 1,
	    "assets.USDX.allowlist", "(none)", "1 address" },
	{ "allowlist lost loosens", { { "assets.TUSD.allowlist", NULL } }, L, 1,
	    "assets.TUSD.allowlist", "2 addresses", "(none)" },
	{ "allowlist entry added loosens", { { "assets.TUSD.allowlist",
	    "[\"" ACCT1 "\", \"" ACCT2 "\", \"" ACCT3 "\"]" } }, L, 1,
	    "assets.TUSD.allowlist[" ACCT3 "]", "(none)", "listed" },
	{ "allowlist entry removed tightens",
	    { { "assets.TUSD.allowlist", "[\"" ACCT1 "\"]" } }, T, 1,
	    "assets.TUSD.allowlist[" ACCT2 "]", "listed", "(none)" },
	{ "allowlist entry swapped loosens",
	    { { "assets.TUSD.allowlist", "[\"" ACCT1 "\", \"" ACCT3 "\"]" } },
	    L, 2, "assets.TUSD.allowlist[" ACCT2 "]", "listed", "(none)" },
	{ "allowlist reordered is no change",
	    { { "assets.TUSD.allowlist", "[\"" ACCT2 "\", \"" ACCT1 "\"]" } },
	    POL_CHANGE_NONE, 0, NULL, NULL, NULL },

	/* fee caps */
	{ "max_fee_per_gas lower tightens",
	    { { "assets.ETH.fee_caps.max_fee_per_gas", "\"100000000000\"" } },
	    T, 1, "assets.ETH.fee_caps.max_fee_per_gas", "200000000000",
	    "100000000000" },
	{ "max_fee_per_gas higher loosens",
	    { { "assets.ETH.fee_caps.max_fee_per_gas", "\"300000000000\"" } },
	    L, 1, "assets.ETH.fee_caps.max_fee_per_gas", "200000000000",
	    "300000000000" },
	{ "max_priority_fee_per_gas lower tightens",
	    { { "assets.ETH.fee_caps.max_priority_fee_per_gas",
	    "\"1000000000\"" } }, T, 1,
	    "assets.ETH.fee_caps.max_priority_fee_per_gas", "5000000000",
	    "1000000000" },
	{ "max_priority_fee_per_gas higher loosens",
	    { { "assets.ETH.fee_caps.max_priority_fee_per_gas",
	    "\"6000000000\"" } }, L, 1,
	    "assets.ETH.fee_caps.max_priority_fee_per_gas", "5000000000",
	    "6000000000" },
	{ "gas_limit lower tightens",
	    { { "assets.ETH.fee_caps.gas_limit", "50000" } }, T, 1,
	    "assets.ETH.fee_caps.gas_limit", "100000", "50000" },
	{ "gas_limit higher loosens",
	    { { "assets.ETH.fee_caps.gas_limit", "200000" } }, L, 1,
	    "assets.ETH.fee_caps.gas_limit", "100000", "200000" },

	/* confirmations */
	{ "confirmations more tightens", { { "assets.ETH.confirmations", "3" } },
	    T, 1, "assets.ETH.confirmations", "2", "3" },
	{ "confirmations fewer loosens", { { "assets.ETH.confirmations", "1" } },
	    L, 1, "assets.ETH.confirmations", "2", "1" },
	{ "finalized gained tightens",
	    { { "assets.ETH.confirmations", "\"finalized\"" } }, T, 1,
	    "assets.ETH.confirmations", "2", "finalized" },
	{ "finalized lost loosens",
	    { { "assets.TUSD.confirmations", "10000" } }, L, 1,
	    "assets.TUSD.confirmations", "finalized", "10000" },

	/* assets */
	{ "asset added loosens", { { "assets.NEW", NATIVE_ASSET("2") } }, L, 1,
	    "assets.NEW", "(none)", "native, chain 2, key payout" },
	{ "asset removed tightens", { { "assets.USDX", NULL } }, T, 1,
	    "assets.USDX", "erc20 " TOKEN2 ", chain 1337, key payout",
	    "(none)" },

	/* approvers */
	{ "approver added loosens", { { "approvers.dave", PEM_JSON(PEM_DAVE) } },
	    L, 1, "approvers.dave", "(none)", "p256 SHA256:*" },
	{ "approver removed tightens", { { "approvers.carol", NULL },
	    { "assets.ETH.approval.approvers", "[\"alice\", \"bob\"]" } },
	    T, 2, "approvers.carol", "p256 SHA256:*", "(none)" },
	{ "approver with another key loosens",
	    { { "approvers.carol", PEM_JSON(PEM_DAVE) } }, L, 1,
	    "approvers.carol", "p256 SHA256:*", "p256 SHA256:*" },
	{ "approver with another algorithm loosens",
	    { { "approvers.carol", PEM_JSON(PEM_FRANK) } }, L, 1,
	    "approvers.carol", "p256 SHA256:*", "ed25519 SHA256:*" },
	{ "approver PEM text only loosens (fail safe)",
	    { { "approvers.carol", PEM_JSON(PEM_CAROL "\\n\\n  ") } }, L, 1,
	    "approvers.carol.public_key_pem", "p256 SHA256:*",
	    "same key, other PEM text" },

	/* governance */
	{ "governance approver added loosens", { { "governance.approvers",
	    "[\"alice\", \"bob\", \"erin\", \"carol\"]" } }, L, 1,
	    "governance.approvers[carol]", "(none)", "member" },
	{ "governance approver removed loosens",
	    { { "governance.approvers", "[\"alice\", \"bob\"]" } }, L, 1,
	    "governance.approvers[erin]", "member", "(none)" },
	{ "governance m raised tightens", { { "governance.m", "3" } }, T, 1,
	    "governance.m", "2", "3" },
	{ "governance m lowered loosens", { { "governance.m", "1" } }, L, 1,
	    "governance.m", "2", "1" },
	{ "governance delay longer tightens", { { "governance.delay", "7200" } },
	    T, 1, "governance.delay", "3600", "7200" },
	{ "governance delay shorter loosens", { { "governance.delay", "60" } },
	    L, 1, "governance.delay", "3600", "60" },
	{ "governance reordered is no change", { { "governance.approvers",
	    "[\"erin\", \"bob\", \"alice\"]" } }, POL_CHANGE_NONE, 0,
	    NULL, NULL, NULL },
};

static void
test_row(void **state)
{
	const struct row *w = *state;
	struct pol_policy *base = fx_policy();
	struct pol_policy *p = parse_edited(w->edits, MAX_EDITS);
	struct seen s;
	enum pol_change_class cls;

	memset(&s, 0, sizeof(s));
	cls = pol_diff(base, p, record, &s);
	if (cls != w->cls || s.n != w->n_changes)
		print_seen(&s);
	assert_int_equal(cls, w->cls);
	assert_int_equal(s.n, w->n_changes);
	if (w->n_changes > 0) {
		assert_string_equal(s.c[0].path, w->path);
		assert_value(s.c[0].old_value, w->old_value);
		assert_value(s.c[0].new_value, w->new_value);
	}
	if (w->n_changes == 1)
		assert_int_equal(s.c[0].cls, w->cls);
	/* The class does not depend on whether anyone listens. */
	assert_int_equal(pol_diff(base, p, NULL, NULL), w->cls);
	pol_free(p);
	pol_free(base);
}

static void
test_identical_is_none(void **state)
{
	struct pol_policy *a = fx_policy(), *b = fx_policy();
	struct seen s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(pol_diff(a, b, record, &s), POL_CHANGE_NONE);
	assert_int_equal(s.n, 0);
	assert_int_equal(pol_diff(a, a, record, &s), POL_CHANGE_NONE);
	assert_int_equal(s.n, 0);
	pol_free(a);
	pol_free(b);
}

/* policy_id is reported (a reviewer should see it) but is no rule. */
static void
test_policy_id_only_is_none(void **state)
{
	static const struct edit e[] = { { "policy_id", "\"test-2\"" } };
	struct pol_policy *a = fx_policy(), *b = parse_edited(e, 1);
	struct seen s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(pol_diff(a, b, record, &s), POL_CHANGE_NONE);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.c[0].path, "policy_id");
	assert_string_equal(s.c[0].old_value, "test-1");
	assert_string_equal(s.c[0].new_value, "test-2");
	assert_int_equal(s.c[0].cls, POL_CHANGE_NONE);
	pol_free(a);
	pol_free(b);
}

/* The genesis "paused" flag is where signerd starts, not a rule. */
static void
test_paused_flag_ignored(void **state)
{
	static const struct edit e[] = { { "paused", "true" } };
	struct pol_policy *a = fx_policy(), *b = parse_edited(e, 1);
	struct seen s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(pol_diff(a, b, record, &s), POL_CHANGE_NONE);
	assert_int_equal(s.n, 0);
	pol_free(a);
	pol_free(b);
}

/* Tightenings together stay a tightening. */
static void
test_only_tightenings_tighten(void **state)
{
	static const struct edit e[] = {
		{ "assets.ETH.daily_limit", "\"4000000000000000000\"" },
		{ "governance.m", "3" },
		{ "assets.USDX", NULL },
		{ "assets.TUSD.allowlist", "[\"" ACCT2 "\"]" },
	};
	struct pol_policy *a = fx_policy(), *b = parse_edited(e, 4);
	struct seen s;
	size_t i;

	memset(&s, 0, sizeof(s));
	assert_int_equal(pol_diff(a, b, record, &s), POL_CHANGE_TIGHTEN);
	assert_int_equal(s.n, 4);
	for (i = 0; i < s.n; i++)
		assert_int_equal(s.c[i].cls, POL_CHANGE_TIGHTEN);
	pol_free(a);
	pol_free(b);
}

/*
 * Several changes: one loosening makes the whole change a loosening, and
 * the callback sees every change, in the documented order (policy_id,
 * approvers by name, governance, assets in the new file's order, then
 * removed assets).
 */
static void
test_several_changes_loosen_wins(void **state)
{
	static const struct edit e[] = {
		{ "policy_id", "\"test-2\"" },
		{ "approvers.dave", PEM_JSON(PEM_DAVE) },
		{ "assets", "{"
		    "\"NEW\": " NATIVE_ASSET("2") ","
		    "\"TUSD\": {\"chain_id\": 1337, \"kind\": \"erc20\","
		    "  \"contract\": \"" TOKEN "\", \"decimals\": 6,"
		    "  \"key\": \"payout\", \"daily_limit\": \"40000000000\","
		    "  \"per_tx_limit\": \"20000000000\","
		    "  \"allowlist\": [\"" ACCT1 "\", \"" ACCT3 "\"],"
		    "  \"fee_caps\": " FEE_CAPS ","
		    "  \"confirmations\": \"finalized\"},"
		    "\"BIG\": {\"chain_id\": 7, \"kind\": \"native\","
		    "  \"decimals\": 0, \"key\": \"big\","
		    "  \"daily_limit\": \"" U256_MAX_DEC "\","
		    "  \"per_tx_limit\": \"" U256_MAX_DEC "\","
		    "  \"fee_caps\": " FEE_CAPS ", \"confirmations\": 1}"
		    "}" },
		{ "governance.m", "3" },
	};
	static const struct {
		enum pol_change_class cls;
		const char *path, *old_value, *new_value;
	} want[] = {
		{ POL_CHANGE_NONE, "policy_id", "test-1", "test-2" },
		{ L, "approvers.dave", "(none)", "p256 SHA256:*" },
		{ T, "governance.m", "2", "3" },
		{ L, "assets.NEW", "(none)", "native, chain 2, key payout" },
		{ T, "assets.TUSD.daily_limit", "50000000000", "40000000000" },
		/* sorted: ACCT2 0x3C.. < ACCT3 0x90.. */
		{ T, "assets.TUSD.allowlist[" ACCT2 "]", "listed", "(none)" },
		{ L, "assets.TUSD.allowlist[" ACCT3 "]", "(none)", "listed" },
		{ T, "assets.ETH", "native, chain 1337, key payout", "(none)" },
		{ T, "assets.USDX", "erc20 " TOKEN2 ", chain 1337, key payout",
		    "(none)" },
	};
	struct pol_policy *a = fx_policy(), *b = parse_edited(e, 4);
	struct seen s;
	size_t i;

	memset(&s, 0, sizeof(s));
	assert_int_equal(pol_diff(a, b, record, &s), POL_CHANGE_LOOSEN);
	if (s.n != ARRAY_LEN(want))
		print_seen(&s);
	assert_int_equal(s.n, ARRAY_LEN(want));
	for (i = 0; i < s.n; i++) {
		assert_int_equal(s.c[i].cls, want[i].cls);
		assert_string_equal(s.c[i].path, want[i].path);
		assert_value(s.c[i].old_value, want[i].old_value);
		assert_value(s.c[i].new_value, want[i].new_value);
	}
	pol_free(a);
	pol_free(b);
}

/*
 * A policy without approvers has no governance: gaining or losing it
 * loosens (losing it: nobody can pause; gaining it: new voters).
 */
static void
test_governance_gained_or_lost_loosens(void **state)
{
	static const struct edit e[] = {
		{ "approvers", NULL },
		{ "governance", NULL },
		{ "assets.ETH.approval", NULL },
	};
	struct pol_policy *a = fx_policy(), *b = parse_edited(e, 3);
	struct seen s;
	size_t i, gov = SIZE_MAX;

	assert_null(pol_governance(b));
	memset(&s, 0, sizeof(s));
	assert_int_equal(pol_diff(a, b, record, &s), POL_CHANGE_LOOSEN);
	for (i = 0; i < s.n; i++)
		if (strcmp(s.c[i].path, "governance") == 0)
			gov = i;
	assert_true(gov < s.n);
	assert_int_equal(s.c[gov].cls, POL_CHANGE_LOOSEN);
	assert_string_equal(s.c[gov].old_value,
	    "2 of alice,bob,erin, delay 3600 s");
	assert_string_equal(s.c[gov].new_value, "(none)");
	/* approvers (by name, first), governance, then ETH's approval */
	assert_int_equal(s.n, 6);
	assert_string_equal(s.c[0].path, "approvers.alice");
	assert_int_equal(s.c[0].cls, POL_CHANGE_TIGHTEN);
	assert_string_equal(s.c[3].path, "approvers.erin");
	assert_int_equal(gov, 4);
	assert_string_equal(s.c[5].path, "assets.ETH.approval");

	memset(&s, 0, sizeof(s));
	assert_int_equal(pol_diff(b, a, record, &s), POL_CHANGE_LOOSEN);
	assert_int_equal(s.n, 6);
	assert_string_equal(s.c[4].path, "governance");
	assert_string_equal(s.c[4].old_value, "(none)");
	assert_string_equal(s.c[4].new_value,
	    "2 of alice,bob,erin, delay 3600 s");
	assert_int_equal(s.c[4].cls, POL_CHANGE_LOOSEN);
	/* approval regained tightens, but the whole stays a loosening */
	assert_int_equal(s.c[5].cls, POL_CHANGE_TIGHTEN);
	pol_free(a);
	pol_free(b);
}

/* Approver sets are compared by name: indexes differ between files. */
static void
test_sets_compare_by_name(void **state)
{
	/* dave first shifts every approver index by one. */
	static const struct edit e[] = {
		{ "approvers", "{\"dave\": " PEM_JSON(PEM_DAVE) ","
		    "\"alice\": " PEM_JSON(PEM_ALICE) ","
		    "\"bob\": " PEM_JSON(PEM_BOB) ","
		    "\"carol\": " PEM_JSON(PEM_CAROL) ","
		    "\"erin\": " PEM_JSON(PEM_ERIN) "}" },
	};
	struct pol_policy *a = fx_policy(), *b = parse_edited(e, 1);
	struct seen s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(pol_diff(a, b, record, &s), POL_CHANGE_LOOSEN);
	if (s.n != 1)
		print_seen(&s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.c[0].path, "approvers.dave");
	pol_free(a);
	pol_free(b);
}

/* Parses the base policy after fn edited its JSON tree. */
static struct pol_policy *
parse_tree(void (*fn)(json_t *root))
{
	struct pol_policy *p = NULL;
	json_error_t jerr;
	json_t *root;
	char err[512], *text;

	root = json_loads(BASE_POLICY, 0, &jerr);
	assert_non_null(root);
	fn(root);
	text = json_dumps(root, 0);
	assert_non_null(text);
	if (fx_parse_text(&p, text, err, sizeof(err)) != 0)
		print_message("edited policy: %s\n", err);
	assert_non_null(p);
	free(text);
	json_decref(root);
	return p;
}

static void
no_approvers(json_t *root)
{
	json_object_del(root, "approvers");
	json_object_del(root, "governance");
	json_object_del(json_object_get(json_object_get(root, "assets"), "ETH"),
	    "approval");
}

/* The base's four keys under 32-character names, all in governance. */
static void
long_names(json_t *root)
{
	static const char *const names[] = { "alice", "bob", "carol", "erin" };
	json_t *aps = json_object_get(root, "approvers"), *set, *gov;
	char name[POL_APPROVER_NAME_MAX + 1];
	size_t i;

	set = json_array();
	for (i = 0; i < ARRAY_LEN(names); i++) {
		snprintf(name, sizeof(name), "%s-with-a-rather-long-name-xxxxxx",
		    names[i]);
		assert_int_equal(json_object_set(aps, name,
		    json_object_get(aps, names[i])), 0);
		/* one key, one vote: the short name must go */
		assert_int_equal(json_object_del(aps, names[i]), 0);
		assert_int_equal(json_array_append_new(set,
		    json_string(name)), 0);
	}
	gov = json_pack("{s:i, s:o, s:i}", "m", 2, "approvers", set, "delay",
	    60);
	assert_non_null(gov);
	assert_int_equal(json_object_set_new(root, "governance", gov), 0);
	json_object_del(json_object_get(json_object_get(root, "assets"), "ETH"),
	    "approval");
}

/* A rendering longer than the field is cut and ends in "...". */
static void
test_long_values_truncated(void **state)
{
	struct pol_policy *a = parse_tree(no_approvers);
	struct pol_policy *b = parse_tree(long_names);
	struct seen s;
	size_t i, found = 0;

	memset(&s, 0, sizeof(s));
	assert_int_equal(pol_diff(a, b, record, &s), POL_CHANGE_LOOSEN);
	for (i = 0; i < s.n; i++) {
		if (strcmp(s.c[i].path, "governance") != 0)
			continue;
		found = 1;
		assert_string_equal(s.c[i].old_value, "(none)");
		assert_int_equal(strlen(s.c[i].new_value),
		    POL_CHANGE_VALUE_MAX - 1);
		assert_string_equal(s.c[i].new_value + POL_CHANGE_VALUE_MAX - 4,
		    "...");
		assert_memory_equal(s.c[i].new_value,
		    "2 of alice-with-a-rather-long-name-", 35);
	}
	assert_true(found);
	pol_free(a);
	pol_free(b);
}

static void
test_class_names(void **state)
{
	assert_string_equal(pol_change_class_name(POL_CHANGE_NONE), "none");
	assert_string_equal(pol_change_class_name(POL_CHANGE_TIGHTEN),
	    "tighten");
	assert_string_equal(pol_change_class_name(POL_CHANGE_LOOSEN), "loosen");
	assert_string_equal(pol_change_class_name((enum pol_change_class)7),
	    "?");
}

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_identical_is_none),
		cmocka_unit_test(test_policy_id_only_is_none),
		cmocka_unit_test(test_paused_flag_ignored),
		cmocka_unit_test(test_only_tightenings_tighten),
		cmocka_unit_test(test_several_changes_loosen_wins),
		cmocka_unit_test(test_governance_gained_or_lost_loosens),
		cmocka_unit_test(test_sets_compare_by_name),
		cmocka_unit_test(test_long_values_truncated),
		cmocka_unit_test(test_class_names),
	};
	struct CMUnitTest tests[ARRAY_LEN(fixed) + ARRAY_LEN(rows)];
	size_t i;

	/* One named test per field and direction, from the table. */
	memcpy(tests, fixed, sizeof(fixed));
	for (i = 0; i < ARRAY_LEN(rows); i++) {
		memset(&tests[ARRAY_LEN(fixed) + i], 0, sizeof(tests[0]));
		tests[ARRAY_LEN(fixed) + i].name = rows[i].name;
		tests[ARRAY_LEN(fixed) + i].test_func = test_row;
		tests[ARRAY_LEN(fixed) + i].initial_state = (void *)&rows[i];
	}
	return _cmocka_run_group_tests("test_diff", tests, ARRAY_LEN(tests),
	    NULL, NULL);
}
