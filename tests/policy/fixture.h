/* fixture.h: the policy the policy/ tests share, and helpers to vary it (include after cmocka.h). */
#ifndef TESTS_POLICY_FIXTURE_H
#define TESTS_POLICY_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "evm/addr.h"
#include "evm/u256.h"
#include "policy/policy.h"

/*
 * Public keys of throwaway test keys (private halves discarded), written
 * JSON-escaped so they can sit inside JSON string literals.
 */
#define PEM_ALICE \
	"-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAESt+GypfbsMCb0IUQam2PiP2ogPcp\\nQ6N44S7KiEOlWunBoP3Gu+jFU722KPGmBQgUNIcvaDZsOEqldFyV3AWLWA==\\n-----END PUBLIC KEY-----\\n"
#define PEM_BOB \
	"-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEGlaBQmYxi6rPgJVmrm9NyZvDdUOK\\nFzSIdpS7UnPpSQwArScwdCOqB6kXNMBc01xZfxRTe+6QVk7SL7aQnoM0Iw==\\n-----END PUBLIC KEY-----\\n"
#define PEM_CAROL \
	"-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExfN78uaWh/eKniiezlNlyUlfhmHV\\nuTE2WW0tv57nt+YMlZalG3HNBSNAZV434ZiUny2yZJVS7IrLqrrz1DbDuA==\\n-----END PUBLIC KEY-----\\n"
#define PEM_ERIN \
	"-----BEGIN PUBLIC KEY-----\\nMCowBQYDK2VwAyEAU4YvzOW2dgVRaSDzgSy7TtWIw2Ns8EQZTIExGRdzAd0=\\n-----END PUBLIC KEY-----\\n"
#define PEM_DAVE \
	"-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEy1eXPx8IfwwCtao2cyaWeH7zA40c\\ncmwmijLxsv6UpUrt48pkPm9MykEhukqUpG4DKig92axDrlshiiBcJ4IZzg==\\n-----END PUBLIC KEY-----\\n"
#define PEM_SECP256K1 \
	"-----BEGIN PUBLIC KEY-----\\nMFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEaiamfqeypuMz9fB8rmfKEwzohsyiOvqI\\n3a/edn8NzWtdyNj/L6Fbod8+o2jkxoB35HG0PFf0V1SELrTDU0Ht0w==\\n-----END PUBLIC KEY-----\\n"
#define PEM_RSA \
	"-----BEGIN PUBLIC KEY-----\\nMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQChQ+W5o3BDGJuHmo/+EHiCyInp\\njKUKbMAQgFb1YotZYLSMse0C/rFVuH08lu2Vsd+fiLLV1jTe1ME8h/+UyaZ7tJr/\\nar63kSDfLnnZIHYlr4z78lHqZyc+xRQaohZK9ro5JirRadDOVAEj/Ix3cpODT+o8\\n2mZXQukp8SHuQAdWBQIDAQAB\\n-----END PUBLIC KEY-----\\n"
#define PEM_ALICE_COMPRESSED \
	"-----BEGIN PUBLIC KEY-----\\nMDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgACSt+GypfbsMCb0IUQam2PiP2ogPcp\\nQ6N44S7KiEOlWuk=\\n-----END PUBLIC KEY-----\\n"

#define TOKEN "0x5FbDB2315678afecb367f032d93F642f64180aa3"	/* TUSD */
#define TOKEN2 "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"	/* USDX */
#define STRANGER "0xABcdEFABcdEFabcdEfAbCdefabcdeFABcDEFabCD"	/* no asset */
#define ACCT1 "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
#define ACCT2 "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
#define ACCT3 "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
#define ZERO_ADDR "0x0000000000000000000000000000000000000000"
#define U256_MAX_DEC "1157920892373161954235709850086879078532699846656" \
	"40564039457584007913129639935"

#define FEE_CAPS "{\"max_fee_per_gas\": \"200000000000\", " \
	"\"max_priority_fee_per_gas\": \"5000000000\", \"gas_limit\": 100000}"

/*
 * ETH: native on 1337, approvals above 1 ETH, timelock above 1.5 ETH.
 * TUSD: ERC-20 on 1337 with an allowlist.  USDX: ERC-20 on 1337, any
 * recipient.  BIG: native on chain 7 with limits at 2^256-1.
 */
#define BASE_POLICY "{" \
	"\"policy_id\": \"test-1\"," \
	"\"approvers\": {" \
	"  \"alice\": {\"public_key_pem\": \"" PEM_ALICE "\"}," \
	"  \"bob\": {\"public_key_pem\": \"" PEM_BOB "\"}," \
	"  \"carol\": {\"public_key_pem\": \"" PEM_CAROL "\"}," \
	"  \"erin\": {\"public_key_pem\": \"" PEM_ERIN "\"}" \
	"}," \
	"\"governance\": {\"m\": 2, \"approvers\": [\"alice\", \"bob\", \"erin\"]," \
	"  \"delay\": 3600}," \
	"\"assets\": {" \
	"  \"ETH\": {\"chain_id\": 1337, \"kind\": \"native\", \"decimals\": 18," \
	"    \"key\": \"payout\"," \
	"    \"daily_limit\": \"5000000000000000000\"," \
	"    \"per_tx_limit\": \"2000000000000000000\"," \
	"    \"approval\": {\"threshold\": \"1000000000000000000\", \"m\": 2," \
	"      \"approvers\": [\"alice\", \"bob\", \"carol\"]}," \
	"    \"timelock\": {\"threshold\": \"1500000000000000000\"," \
	"      \"delay_seconds\": 30}," \
	"    \"fee_caps\": " FEE_CAPS "," \
	"    \"confirmations\": 2}," \
	"  \"TUSD\": {\"chain_id\": 1337, \"kind\": \"erc20\"," \
	"    \"contract\": \"" TOKEN "\", \"decimals\": 6, \"key\": \"payout\"," \
	"    \"daily_limit\": \"50000000000\", \"per_tx_limit\": \"20000000000\"," \
	"    \"allowlist\": [\"" ACCT1 "\", \"" ACCT2 "\"]," \
	"    \"fee_caps\": " FEE_CAPS "," \
	"    \"confirmations\": \"finalized\"}," \
	"  \"USDX\": {\"chain_id\": 1337, \"kind\": \"erc20\"," \
	"    \"contract\": \"" TOKEN2 "\", \"decimals\": 6, \"key\": \"payout\"," \
	"    \"daily_limit\": \"50000000000\", \"per_tx_limit\": \"20000000000\"," \
	"    \"fee_caps\": " FEE_CAPS "," \
	"    \"confirmations\": 1}," \
	"  \"BIG\": {\"chain_id\": 7, \"kind\": \"native\", \"decimals\": 0," \
	"    \"key\": \"big\", \"daily_limit\": \"" U256_MAX_DEC "\"," \
	"    \"per_tx_limit\": \"" U256_MAX_DEC "\"," \
	"    \"fee_caps\": " FEE_CAPS "," \
	"    \"confirmations\": 1}" \
	"}}"

enum { FX_ETH = 0, FX_TUSD = 1, FX_USDX = 2, FX_BIG = 3 };

/* Parses NUL-terminated JSON text; returns pol_parse's result. */
static inline int
fx_parse_text(struct pol_policy **out, const char *text, char *err,
    size_t errlen)
{
	return pol_parse(out, (const uint8_t *)text, strlen(text), err, errlen);
}

/* The base policy, which must parse. */
static inline struct pol_policy *
fx_policy(void)
{
	struct pol_policy *p = NULL;
	char err[256];
	int r = fx_parse_text(&p, BASE_POLICY, err, sizeof(err));

	if (r != 0)
		print_message("base policy: %s\n", err);
	assert_int_equal(r, 0);
	return p;
}

/*
 * Parses the base policy with the member at a dotted path ("assets.ETH.m")
 * replaced by the JSON text raw, or removed when raw is NULL.  Members are
 * kept in file order, so a new one lands last.
 */
static inline int
fx_parse_with(struct pol_policy **out, const char *path, const char *raw,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *obj, *val = NULL;
	char buf[256], *dot, *key;
	char *text;
	int r;

	root = json_loads(BASE_POLICY, 0, &jerr);
	assert_non_null(root);
	if (raw != NULL) {
		val = json_loads(raw, JSON_DECODE_ANY, &jerr);
		if (val == NULL)
			print_message("bad raw JSON %s: %s\n", raw, jerr.text);
		assert_non_null(val);
	}
	assert_true(strlen(path) < sizeof(buf));
	strcpy(buf, path);
	obj = root;
	key = buf;
	while ((dot = strchr(key, '.')) != NULL) {
		*dot = '\0';
		obj = json_object_get(obj, key);
		assert_non_null(obj);
		key = dot + 1;
	}
	if (val != NULL)
		assert_int_equal(json_object_set_new(obj, key, val), 0);
	else
		assert_int_equal(json_object_del(obj, key), 0);
	text = json_dumps(root, 0);
	assert_non_null(text);
	r = fx_parse_text(out, text, err, errlen);
	free(text);
	json_decref(root);
	return r;
}

static inline void
fx_addr(uint8_t out[EVM_ADDR_LEN], const char *s)
{
	assert_int_equal(evm_addr_from_str(out, s, 1), 0);
}

static inline u256
fx_u256(const char *dec)
{
	u256 v;

	assert_int_equal(u256_from_dec(&v, dec), 0);
	return v;
}

static inline void
fx_assert_u256(const u256 *v, const char *dec)
{
	char s[U256_DEC_MAX];

	u256_to_dec(s, sizeof(s), v);
	assert_string_equal(s, dec);
}

#endif
