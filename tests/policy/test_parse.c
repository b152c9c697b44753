/* test_parse.c: the genesis policy parser: the model it builds and every error path it names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "tests/policy/fixture.h"

#define TOKEN_ASSET(chain, contract) "{\"chain_id\": " chain ", " \
	"\"kind\": \"erc20\", \"contract\": \"" contract "\", \"decimals\": 6," \
	"\"key\": \"payout\", \"daily_limit\": \"10\", \"per_tx_limit\": \"10\"," \
	"\"fee_caps\": " FEE_CAPS ", \"confirmations\": 1}"
#define NATIVE_ASSET(chain) "{\"chain_id\": " chain ", " \
	"\"kind\": \"native\", \"decimals\": 18," \
	"\"key\": \"payout\", \"daily_limit\": \"10\", \"per_tx_limit\": \"10\"," \
	"\"fee_caps\": " FEE_CAPS ", \"confirmations\": 1}"
#define PEM_JSON(pem) "{\"public_key_pem\": \"" pem "\"}"

/* The policy hash is sha256sum of the file: any byte changes it. */
static void
test_hash_is_sha256_of_bytes(void **state)
{
	struct pol_policy *p = fx_policy(), *q = NULL;
	uint8_t want[32];
	char *spaced;
	char err[256];

	assert_int_equal(EVP_Digest(BASE_POLICY, strlen(BASE_POLICY), want, NULL,
	    EVP_sha256(), NULL), 1);
	assert_memory_equal(pol_hash(p), want, 32);

	spaced = malloc(strlen(BASE_POLICY) + 2);
	assert_non_null(spaced);
	strcpy(spaced, BASE_POLICY);
	strcat(spaced, "\n");
	assert_int_equal(fx_parse_text(&q, spaced, err, sizeof(err)), 0);
	assert_memory_not_equal(pol_hash(q), want, 32);
	free(spaced);
	pol_free(q);
	pol_free(p);
}

/* The shipped sample must parse (the demo uses it); run from the repo root. */
static void
test_example_file(void **state)
{
	struct pol_policy *p = NULL;
	char err[256], hex[65];
	uint8_t *buf;
	size_t n;
	FILE *f = fopen("policy/examples/genesis.json", "rb");
	int r;

	assert_non_null(f);
	buf = malloc(POL_MAX_FILE);
	assert_non_null(buf);
	n = fread(buf, 1, POL_MAX_FILE, f);
	fclose(f);
	r = pol_parse(&p, buf, n, err, sizeof(err));
	if (r != 0)
		print_message("genesis.json: %s\n", err);
	assert_int_equal(r, 0);
	assert_string_equal(pol_policy_id(p), "genesis-2026-11");
	assert_int_equal(pol_asset_count(p), 2);
	util_hex_encode(hex, pol_hash(p), 32);
	print_message("sha256 of policy/examples/genesis.json: %s\n", hex);
	pol_free(p);
	free(buf);
}

struct bad_case {
	const char *path;	/* dotted member path in the base policy */
	const char *raw;	/* new JSON value, NULL to remove the member */
	const char *err;	/* the exact message */
};

static const struct bad_case bad_cases[] = {
	/* amounts: decimal strings only (D4) */
	{ "assets.ETH.daily_limit", "\"1.5\"",
	    "assets.ETH.daily_limit: not a decimal amount" },
	{ "assets.ETH.daily_limit", "\"-1\"",
	    "assets.ETH.daily_limit: not a decimal amount" },
	{ "assets.ETH.daily_limit", "\"1e18\"",
	    "assets.ETH.daily_limit: not a decimal amount" },
	{ "assets.ETH.daily_limit", "\"0x10\"",
	    "assets.ETH.daily_limit: not a decimal amount" },
	{ "assets.ETH.daily_limit", "\" 5\"",
	    "assets.ETH.daily_limit: not a decimal amount" },
	{ "assets.ETH.daily_limit", "\"\"",
	    "assets.ETH.daily_limit: not a decimal amount" },
	{ "assets.ETH.daily_limit", "\"05000000000000000000\"",
	    "assets.ETH.daily_limit: not a decimal amount (leading zero)" },
	{ "assets.ETH.daily_limit", "5000000000000000000",
	    "assets.ETH.daily_limit: not a decimal amount (write it as a "
	    "string of base units)" },
	{ "assets.ETH.daily_limit", "5e18",
	    "assets.ETH.daily_limit: not a decimal amount (write it as a "
	    "string of base units)" },
	{ "assets.ETH.daily_limit", "\"115792089237316195423570985008687907853"
	    "269984665640564039457584007913129639936\"",
	    "assets.ETH.daily_limit: amount exceeds 2^256-1" },
	{ "assets.ETH.daily_limit", "\"0\"",
	    "assets.ETH.daily_limit: must be greater than zero" },
	{ "assets.ETH.per_tx_limit", "\"0\"",
	    "assets.ETH.per_tx_limit: must be greater than zero" },
	{ "assets.ETH.per_tx_limit", "\"5000000000000000001\"",
	    "assets.ETH.per_tx_limit: exceeds daily_limit" },
	{ "assets.ETH.approval.threshold", "1",
	    "assets.ETH.approval.threshold: not a decimal amount (write it as "
	    "a string of base units)" },
	{ "assets.ETH.timelock.threshold", "\"1,5\"",
	    "assets.ETH.timelock.threshold: not a decimal amount" },
	{ "assets.ETH.fee_caps.max_fee_per_gas", "\"200 gwei\"",
	    "assets.ETH.fee_caps.max_fee_per_gas: not a decimal amount" },

	/* approvals */
	{ "assets.ETH.approval.m", "4",
	    "assets.ETH.approval.m: 4 exceeds the 3 approvers" },
	{ "assets.ETH.approval.m", "0",
	    "assets.ETH.approval.m: must be at least 1" },
	{ "assets.ETH.approval.m", "-2",
	    "assets.ETH.approval.m: must be at least 1" },
	{ "assets.ETH.approval.m", "\"2\"",
	    "assets.ETH.approval.m: must be an integer" },
	{ "assets.ETH.approval.approvers", "[\"alice\", \"bob\", \"alice\"]",
	    "assets.ETH.approval.approvers[2]: duplicate approver 'alice'" },
	{ "assets.ETH.approval.approvers", "[\"alice\", \"dave\"]",
	    "assets.ETH.approval.approvers[1]: unknown approver 'dave'" },
	{ "assets.ETH.approval.approvers", "[\"alice\", 7]",
	    "assets.ETH.approval.approvers[1]: must be an approver name" },
	{ "assets.ETH.approval.approvers", "[]",
	    "assets.ETH.approval.approvers: must be a list of 1..32 approver "
	    "names" },
	{ "assets.ETH.approval.approvers", "\"alice\"",
	    "assets.ETH.approval.approvers: must be a list of 1..32 approver "
	    "names" },
	{ "assets.ETH.approval.threshold", NULL,
	    "assets.ETH.approval: missing field 'threshold'" },
	{ "assets.ETH.approval.quorum", "2",
	    "assets.ETH.approval: unknown field 'quorum'" },
	{ "assets.ETH.approval", "true",
	    "assets.ETH.approval: must be an object" },
	{ "approvers", NULL,
	    "assets.ETH.approval.approvers[0]: unknown approver 'alice'" },

	/* approvers */
	{ "approvers.carol", PEM_JSON(PEM_BOB),
	    "approvers: duplicate public key for bob and carol" },
	{ "approvers.carol", PEM_JSON(PEM_ALICE_COMPRESSED),
	    "approvers: duplicate public key for alice and carol" },
	{ "approvers.carol", PEM_JSON(PEM_SECP256K1),
	    "approvers.carol.public_key_pem: must be a P-256 or Ed25519 "
	    "public key" },
	{ "approvers.carol", PEM_JSON(PEM_RSA),
	    "approvers.carol.public_key_pem: must be a P-256 or Ed25519 "
	    "public key" },
	{ "approvers.carol", PEM_JSON("placeholder"),
	    "approvers.carol.public_key_pem: must start with \"-----BEGIN "
	    "PUBLIC KEY-----\"" },
	{ "approvers.carol", PEM_JSON("junk\\n" PEM_CAROL),
	    "approvers.carol.public_key_pem: must start with \"-----BEGIN "
	    "PUBLIC KEY-----\"" },
	{ "approvers.carol", PEM_JSON("-----BEGIN PUBLIC KEY-----\\nAAAA\\n"
	    "-----END PUBLIC KEY-----\\n"),
	    "approvers.carol.public_key_pem: not a PEM public key" },
	/* Carol's DER and one byte more: a key has one spelling. */
	{ "approvers.carol", PEM_JSON("-----BEGIN PUBLIC KEY-----\\n"
	    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExfN78uaWh/eKniiezlNlyUlfhmHV"
	    "\\nuTE2WW0tv57nt+YMlZalG3HNBSNAZV434ZiUny2yZJVS7IrLqrrz1DbDuAA="
	    "\\n-----END PUBLIC KEY-----\\n"),
	    "approvers.carol.public_key_pem: not a PEM public key" },
	{ "approvers.carol", PEM_JSON("-----BEGIN PUBLIC KEY-----\\n"
	    "Proc-Type: 4,ENCRYPTED\\nDEK-Info: AES-128-CBC,"
	    "00000000000000000000000000000000\\n\\n"
	    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExfN78uaWh/eKniiezlNlyUlfhmHV"
	    "\\nuTE2WW0tv57nt+YMlZalG3HNBSNAZV434ZiUny2yZJVS7IrLqrrz1DbDuA=="
	    "\\n-----END PUBLIC KEY-----\\n"),
	    "approvers.carol.public_key_pem: not a PEM public key" },
	{ "approvers.carol", PEM_JSON(PEM_CAROL "x"),
	    "approvers.carol.public_key_pem: text after the PEM block" },
	{ "approvers.carol", PEM_JSON(PEM_CAROL PEM_DAVE),
	    "approvers.carol.public_key_pem: text after the PEM block" },
	{ "approvers.carol", PEM_JSON(""),
	    "approvers.carol.public_key_pem: must be 1..4096 bytes" },
	{ "approvers.carol", "{\"public_key_pem\": 1}",
	    "approvers.carol.public_key_pem: must be a string" },
	{ "approvers.carol", "{}",
	    "approvers.carol: missing field 'public_key_pem'" },
	{ "approvers.carol", "{\"public_key_pem\": \"" PEM_CAROL "\", "
	    "\"email\": \"c@example.com\"}",
	    "approvers.carol: unknown field 'email'" },
	{ "approvers.Carol", PEM_JSON(PEM_DAVE),
	    "approvers: bad approver name 'Carol' (want 1..32 of a-z 0-9 _ . -)" },
	{ "approvers.carol smith", PEM_JSON(PEM_DAVE),
	    "approvers: bad approver name 'carol smith' (want 1..32 of a-z 0-9 "
	    "_ . -)" },
	{ "approvers", "[]", "approvers: must be an object" },

	/* addresses */
	{ "assets.TUSD.contract", "\"0x5fbDB2315678afecb367f032d93F642f64180aa3\"",
	    "assets.TUSD.contract: bad EIP-55 checksum" },
	{ "assets.TUSD.contract", "\"0x5fbdb2315678afecb367f032d93f642f64180aa3\"",
	    "assets.TUSD.contract: missing EIP-55 checksum (write the "
	    "mixed-case form)" },
	{ "assets.TUSD.contract", "\"0x5FbDB2315678afecb367f032d93F642f64180a\"",
	    "assets.TUSD.contract: not an address (want \"0x\" + 40 hex "
	    "digits)" },
	{ "assets.TUSD.contract", "\"0x5FbDB2315678afecb367f032d93F642f64180aaG\"",
	    "assets.TUSD.contract: not an address (want \"0x\" + 40 hex "
	    "digits)" },
	{ "assets.TUSD.contract", "\"" ZERO_ADDR "\"",
	    "assets.TUSD.contract: the zero address is not allowed" },
	{ "assets.TUSD.contract", "5",
	    "assets.TUSD.contract: must be a string \"0x\" + 40 hex digits" },
	{ "assets.TUSD.contract", NULL,
	    "assets.TUSD: missing field 'contract'" },
	{ "assets.ETH.contract", "\"" TOKEN "\"",
	    "assets.ETH.contract: only allowed with kind \"erc20\"" },

	/* allowlist */
	{ "assets.TUSD.allowlist", "[\"" ACCT1 "\", \"" ACCT2 "\", \"" ACCT1 "\"]",
	    "assets.TUSD.allowlist[2]: duplicate of entry 0" },
	{ "assets.TUSD.allowlist", "[]",
	    "assets.TUSD.allowlist: must be a list of 1..4096 addresses (omit "
	    "it to allow any recipient)" },
	{ "assets.TUSD.allowlist", "[\"" ACCT1 "\", "
	    "\"0x3c44CdDdB6a900fa2b585dd299e03d12FA4293BC\"]",
	    "assets.TUSD.allowlist[1]: bad EIP-55 checksum" },
	{ "assets.TUSD.allowlist", "[\"" ZERO_ADDR "\"]",
	    "assets.TUSD.allowlist[0]: the zero address is not allowed" },
	{ "assets.ETH.allowlist", "[\"" ACCT1 "\", \"" TOKEN2 "\"]",
	    "assets.ETH.allowlist: lists the token contract of assets.USDX" },

	/* unknown and missing fields */
	{ "assets.ETH.dialy_limit", "\"1\"",
	    "assets.ETH: unknown field 'dialy_limit'" },
	{ "assets.ETH.fee_caps.gas", "1",
	    "assets.ETH.fee_caps: unknown field 'gas'" },
	{ "assets.ETH.timelock.delay", "1",
	    "assets.ETH.timelock: unknown field 'delay'" },
	{ "polcy", "1", "top level: unknown field 'polcy'" },
	{ "assets.ETH.a\nb'c", "1", "assets.ETH: unknown field 'a?b?c'" },
	{ "assets.ETH.key", NULL, "assets.ETH: missing field 'key'" },
	{ "assets.ETH.fee_caps", NULL, "assets.ETH: missing field 'fee_caps'" },
	{ "assets.ETH.confirmations", NULL,
	    "assets.ETH: missing field 'confirmations'" },
	{ "assets.ETH.daily_limit", NULL,
	    "assets.ETH: missing field 'daily_limit'" },
	{ "assets.ETH.fee_caps.gas_limit", NULL,
	    "assets.ETH.fee_caps: missing field 'gas_limit'" },
	{ "policy_id", NULL, "top level: missing field 'policy_id'" },
	{ "assets", NULL, "top level: missing field 'assets'" },

	/* assets */
	{ "assets", "{}", "assets: no assets" },
	{ "assets", "[]", "assets: must be an object" },
	{ "assets.eth", NATIVE_ASSET("1"),
	    "assets: bad asset name 'eth' (want 1..16 of A-Z 0-9)" },
	{ "assets.ABCDEFGHIJKLMNOPQ", NATIVE_ASSET("1"),
	    "assets: bad asset name 'ABCDEFGHIJKLMNOPQ' (want 1..16 of A-Z 0-9)" },
	{ "assets.T-USD", NATIVE_ASSET("1"),
	    "assets: bad asset name 'T-USD' (want 1..16 of A-Z 0-9)" },
	{ "assets.TUSD2", TOKEN_ASSET("1337", TOKEN),
	    "assets.TUSD2: same chain_id and contract as assets.TUSD" },
	{ "assets.ETH2", NATIVE_ASSET("1337"),
	    "assets.ETH2: a second native asset on chain 1337 (assets.ETH)" },
	{ "assets.ETH", "7", "assets.ETH: must be an object" },
	{ "assets.ETH.decimals", "78",
	    "assets.ETH.decimals: must be an integer in 0..77" },
	{ "assets.ETH.decimals", "-1",
	    "assets.ETH.decimals: must be an integer in 0..77" },
	{ "assets.ETH.decimals", "18.0",
	    "assets.ETH.decimals: must be an integer in 0..77" },
	{ "assets.ETH.chain_id", "0",
	    "assets.ETH.chain_id: must be an integer in 1..9223372036854775807" },
	{ "assets.ETH.chain_id", "\"1337\"",
	    "assets.ETH.chain_id: must be an integer in 1..9223372036854775807" },
	{ "assets.ETH.kind", "\"erc721\"",
	    "assets.ETH.kind: must be \"native\" or \"erc20\"" },
	{ "assets.ETH.kind", "1",
	    "assets.ETH.kind: must be \"native\" or \"erc20\"" },
	{ "assets.ETH.key", "\"\"",
	    "assets.ETH.key: bad name (want 1..64 of A-Z a-z 0-9 _ . -)" },
	{ "assets.ETH.key", "\"pay out\"",
	    "assets.ETH.key: bad name (want 1..64 of A-Z a-z 0-9 _ . -)" },
	{ "assets.ETH.key", "[]",
	    "assets.ETH.key: must be a string (1..64 of A-Z a-z 0-9 _ . -)" },

	/* timelock, fee caps, confirmations */
	{ "assets.ETH.timelock.delay_seconds", "0",
	    "assets.ETH.timelock.delay_seconds: must be an integer in "
	    "1..31622400" },
	{ "assets.ETH.timelock.delay_seconds", NULL,
	    "assets.ETH.timelock: missing field 'delay_seconds'" },
	{ "assets.ETH.fee_caps.max_priority_fee_per_gas", "\"200000000001\"",
	    "assets.ETH.fee_caps.max_priority_fee_per_gas: exceeds "
	    "max_fee_per_gas" },
	{ "assets.ETH.fee_caps.max_fee_per_gas", "\"0\"",
	    "assets.ETH.fee_caps.max_fee_per_gas: must be greater than zero" },
	{ "assets.ETH.fee_caps.gas_limit", "20999",
	    "assets.ETH.fee_caps.gas_limit: must be an integer in "
	    "21000..30000000" },
	{ "assets.ETH.fee_caps.gas_limit", "30000001",
	    "assets.ETH.fee_caps.gas_limit: must be an integer in "
	    "21000..30000000" },
	{ "assets.ETH.confirmations", "0",
	    "assets.ETH.confirmations: must be an integer in 1..10000 or "
	    "\"finalized\"" },
	{ "assets.ETH.confirmations", "\"final\"",
	    "assets.ETH.confirmations: must be an integer in 1..10000 or "
	    "\"finalized\"" },
	{ "assets.ETH.confirmations", "10001",
	    "assets.ETH.confirmations: must be an integer in 1..10000 or "
	    "\"finalized\"" },

	/* governance: who may lift a pause */
	{ "governance", NULL,
	    "governance: missing (required when approvers are listed: any "
	    "approver can pause, governance unpauses)" },
	{ "governance", "[]", "governance: must be an object" },
	{ "governance.m", "4", "governance.m: 4 exceeds the 3 approvers" },
	{ "governance.m", "0", "governance.m: must be at least 1" },
	{ "governance.m", "\"2\"", "governance.m: must be an integer" },
	{ "governance.m", NULL, "governance: missing field 'm'" },
	{ "governance.approvers", "[\"alice\", \"alice\"]",
	    "governance.approvers[1]: duplicate approver 'alice'" },
	{ "governance.approvers", "[\"alice\", \"mallory\"]",
	    "governance.approvers[1]: unknown approver 'mallory'" },
	{ "governance.approvers", "[]",
	    "governance.approvers: must be a list of 1..32 approver names" },
	{ "governance.timelock", "30",
	    "governance: unknown field 'timelock'" },
	/* governance.delay: how long a loosening policy change waits */
	{ "governance.delay", NULL,
	    "governance.delay: missing (seconds a loosening policy change "
	    "waits; docs/governance.md)" },
	{ "governance.delay", "0",
	    "governance.delay: must be an integer in 1..31622400" },
	{ "governance.delay", "-1",
	    "governance.delay: must be an integer in 1..31622400" },
	{ "governance.delay", "31622401",
	    "governance.delay: must be an integer in 1..31622400" },
	{ "governance.delay", "3600.0",
	    "governance.delay: must be an integer in 1..31622400" },
	{ "governance.delay", "\"3600\"",
	    "governance.delay: must be an integer in 1..31622400" },
	{ "governance.delay", "null",
	    "governance.delay: must be an integer in 1..31622400" },
	{ "governance.delay", "true",
	    "governance.delay: must be an integer in 1..31622400" },
	{ "governance.delay", "4294967296",
	    "governance.delay: must be an integer in 1..31622400" },

	/* top level */
	{ "paused", "\"no\"", "paused: must be true or false" },
	{ "paused", "0", "paused: must be true or false" },
	{ "policy_id", "\"genesis 2026\"",
	    "policy_id: bad name (want 1..64 of A-Z a-z 0-9 _ . : -)" },
	{ "policy_id", "7",
	    "policy_id: must be a string (1..64 of A-Z a-z 0-9 _ . : -)" },
};

static void
test_bad_policies_name_their_path(void **state)
{
	struct pol_policy *p;
	char err[512];
	size_t i;
	int r;

	for (i = 0; i < ARRAY_LEN(bad_cases); i++) {
		p = (struct pol_policy *)&p;	/* must come back NULL */
		r = fx_parse_with(&p, bad_cases[i].path, bad_cases[i].raw, err,
		    sizeof(err));
		if (r != ERR_MALFORMED || strcmp(err, bad_cases[i].err) != 0)
			print_message("case %zu (%s): got %d \"%s\"\n", i,
			    bad_cases[i].path, r, err);
		assert_int_equal(r, ERR_MALFORMED);
		assert_null(p);
		assert_string_equal(err, bad_cases[i].err);
	}
}

struct good_case {
	const char *path;
	const char *raw;
};

/* Edges that must still parse. */
static const struct good_case good_cases[] = {
	{ "assets.ETH.decimals", "77" },
	{ "assets.ETH.decimals", "0" },
	{ "assets.ETH.per_tx_limit", "\"5000000000000000000\"" },	/* = daily */
	{ "assets.ETH.approval.m", "3" },
	{ "assets.ETH.approval.m", "1" },
	{ "assets.ETH.approval.threshold", "\"0\"" },
	{ "assets.ETH.approval", NULL },
	{ "assets.ETH.timelock", NULL },
	{ "assets.ETH.timelock.delay_seconds", "31622400" },
	{ "assets.TUSD.allowlist", NULL },
	{ "assets.ETH.confirmations", "\"finalized\"" },
	{ "assets.ETH.confirmations", "10000" },
	{ "assets.ETH.fee_caps.max_priority_fee_per_gas", "\"200000000000\"" },
	{ "assets.ETH.fee_caps.gas_limit", "21000" },
	{ "assets.ABCDEFGHIJKLMNOP", NATIVE_ASSET("2") },	/* 16 chars */
	{ "assets.TUSD1", TOKEN_ASSET("1", TOKEN) },	/* same token, chain 1 */
	{ "assets.ETH1", NATIVE_ASSET("1") },
	{ "approvers.dave", PEM_JSON(PEM_DAVE) },
	{ "approvers.x_y-9", PEM_JSON(PEM_DAVE) },
	{ "approvers.carol", PEM_JSON(PEM_CAROL "\\n\\n  ") },
	{ "paused", "true" },
	{ "policy_id", "\"genesis:2026-11.a_b\"" },
	{ "governance.m", "3" },
	{ "governance", "{\"m\": 1, \"approvers\": [\"carol\"], "
	    "\"delay\": 60}" },
	{ "governance.delay", "1" },
	{ "governance.delay", "31622400" },
};

static void
test_edges_that_parse(void **state)
{
	struct pol_policy *p;
	char err[512];
	size_t i;
	int r;

	for (i = 0; i < ARRAY_LEN(good_cases); i++) {
		r = fx_parse_with(&p, good_cases[i].path, good_cases[i].raw, err,
		    sizeof(err));
		if (r != 0)
			print_message("case %zu (%s): \"%s\"\n", i,
			    good_cases[i].path, err);
		assert_int_equal(r, 0);
		assert_string_equal(err, "");
		pol_free(p);
	}
}

/* governance.delay lands in the model unchanged. */
static void
test_governance_delay(void **state)
{
	struct pol_policy *p = fx_policy();
	char err[256];

	assert_int_equal(pol_governance(p)->delay, 3600);
	pol_free(p);
	assert_int_equal(fx_parse_with(&p, "governance.delay", "31622400", err,
	    sizeof(err)), 0);
	assert_int_equal(pol_governance(p)->delay, POL_MAX_DELAY_SECONDS);
	pol_free(p);
}

static void
test_paused_flag(void **state)
{
	struct pol_policy *p;
	char err[256];

	assert_int_equal(fx_parse_with(&p, "paused", "true", err, sizeof(err)),
	    0);
	assert_int_equal(pol_paused(p), 1);
	pol_free(p);
}

static void
test_json_syntax_errors(void **state)
{
	static const char *const texts[] = {
		"",
		"{",
		"{\"policy_id\": \"x\"} {}",	/* two documents */
		"{\"policy_id\": \"x\",}",
		"{\"policy_id\": \"a\\u0000b\"}",	/* NUL in a string */
		"\xef\xbb\xbf{}",	/* byte order mark */
	};
	struct pol_policy *p;
	char err[256];
	size_t i;

	for (i = 0; i < ARRAY_LEN(texts); i++) {
		assert_int_equal(fx_parse_text(&p, texts[i], err, sizeof(err)),
		    ERR_MALFORMED);
		assert_null(p);
		assert_memory_equal(err, "json: line ", 11);
	}
	assert_int_equal(fx_parse_text(&p, "[]", err, sizeof(err)),
	    ERR_MALFORMED);
	assert_string_equal(err, "top level: must be an object");
}

/* A reader that keeps the first or the last duplicate would see other rules. */
static void
test_duplicate_keys_rejected(void **state)
{
	static const char *const needles[] = {
		"\"ETH\": {",
		"\"assets\": {",
		"\"approvers\": {",
		"\"policy_id\": \"test-1\",",
	};
	static const char *const dups[] = {
		"\"daily_limit\": \"1\", ",
		"\"ETH\": {}, ",
		"\"bob\": {}, ",
		"\"policy_id\": \"other\",",
	};
	struct pol_policy *p;
	char err[256], *text, *at;
	size_t i, k;

	for (i = 0; i < ARRAY_LEN(needles); i++) {
		text = malloc(strlen(BASE_POLICY) + strlen(dups[i]) + 1);
		assert_non_null(text);
		at = strstr(BASE_POLICY, needles[i]);
		assert_non_null(at);
		k = (size_t)(at - BASE_POLICY) + strlen(needles[i]);
		memcpy(text, BASE_POLICY, k);
		strcpy(text + k, dups[i]);
		strcat(text, BASE_POLICY + k);
		assert_int_equal(fx_parse_text(&p, text, err, sizeof(err)),
		    ERR_MALFORMED);
		assert_null(p);
		assert_memory_equal(err, "json: line 1 column ", 20);
		assert_non_null(strstr(err, "duplicate object key"));
		free(text);
	}
}

static void
test_too_many_assets(void **state)
{
	char raw[32768], name[16];
	struct pol_policy *p;
	char err[256];
	size_t off = 0;
	int i;

	off += (size_t)snprintf(raw + off, sizeof(raw) - off, "{");
	for (i = 0; i <= POL_MAX_ASSETS; i++) {
		snprintf(name, sizeof(name), "A%d", i);
		off += (size_t)snprintf(raw + off, sizeof(raw) - off,
		    "%s\"%s\": " NATIVE_ASSET("%d"), i ? "," : "", name, i + 1);
	}
	snprintf(raw + off, sizeof(raw) - off, "}");
	assert_int_equal(fx_parse_with(&p, "assets", raw, err, sizeof(err)),
	    ERR_MALFORMED);
	assert_string_equal(err, "assets: more than 64 assets");
}

static void
test_size_and_error_buffer_limits(void **state)
{
	struct pol_policy *p;
	uint8_t *big;
	char err[16];

	big = calloc(1, POL_MAX_FILE + 1);
	assert_non_null(big);
	assert_int_equal(pol_parse(&p, big, POL_MAX_FILE + 1, NULL, 0),
	    ERR_TOO_LARGE);
	assert_null(p);
	free(big);

	/* A short buffer truncates the message but stays a C string. */
	assert_int_equal(fx_parse_with(&p, "assets.ETH.approval.m", "4", err,
	    sizeof(err)), ERR_MALFORMED);
	assert_string_equal(err, "assets.ETH.appr");
	/* No buffer at all is allowed. */
	assert_int_equal(fx_parse_with(&p, "assets.ETH.approval.m", "4", NULL,
	    0), ERR_MALFORMED);
	assert_null(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_is_sha256_of_bytes),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_bad_policies_name_their_path),
		cmocka_unit_test(test_edges_that_parse),
		cmocka_unit_test(test_governance_delay),
		cmocka_unit_test(test_paused_flag),
		cmocka_unit_test(test_json_syntax_errors),
		cmocka_unit_test(test_duplicate_keys_rejected),
		cmocka_unit_test(test_too_many_assets),
		cmocka_unit_test(test_size_and_error_buffer_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
