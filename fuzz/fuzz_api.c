/*
 * fuzz_api.c: orchestratord's HTTP input checks on any bytes: the payout
 * body validator (and the pre-check on what it accepts), the approval and
 * reject body parsers, the approval lifetime bound, the advisory approval
 * check (which must never accept: nobody holds these approvers' private
 * keys), and the list cursor decoder, whose accepted cursors must
 * re-encode to the same text.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/err.h"
#include "orchestratord/approval_check.h"
#include "orchestratord/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Throwaway keys (private halves discarded): P-256 x2, Ed25519. */
static const char policy_json[] =
    "{\"policy_id\": \"fuzz-1\", \"approvers\": {"
    "\"alice\": {\"public_key_pem\": \"-----BEGIN PUBLIC KEY-----\\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAESt+GypfbsMCb0IUQam2PiP2ogPcp\\n"
    "Q6N44S7KiEOlWunBoP3Gu+jFU722KPGmBQgUNIcvaDZsOEqldFyV3AWLWA==\\n"
    "-----END PUBLIC KEY-----\\n\"},"
    "\"bob\": {\"public_key_pem\": \"-----BEGIN PUBLIC KEY-----\\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEGlaBQmYxi6rPgJVmrm9NyZvDdUOK\\n"
    "FzSIdpS7UnPpSQwArScwdCOqB6kXNMBc01xZfxRTe+6QVk7SL7aQnoM0Iw==\\n"
    "-----END PUBLIC KEY-----\\n\"},"
    "\"erin\": {\"public_key_pem\": \"-----BEGIN PUBLIC KEY-----\\n"
    "MCowBQYDK2VwAyEAU4YvzOW2dgVRaSDzgSy7TtWIw2Ns8EQZTIExGRdzAd0=\\n"
    "-----END PUBLIC KEY-----\\n\"}},"
    "\"governance\": {\"m\": 1, \"approvers\": [\"alice\", \"erin\"], "
    "\"delay\": 3600},"
    "\"assets\": {\"ETH\": {\"chain_id\": 1337, \"kind\": \"native\", "
    "\"decimals\": 18, \"key\": \"payout\", \"daily_limit\": \"1000\", "
    "\"per_tx_limit\": \"500\", \"approval\": {\"threshold\": \"10\", "
    "\"m\": 2, \"approvers\": [\"alice\", \"bob\", \"erin\"]}, "
    "\"timelock\": {\"threshold\": \"100\", \"delay_seconds\": 30}, "
    "\"fee_caps\": {\"max_fee_per_gas\": \"1000\", "
    "\"max_priority_fee_per_gas\": \"100\", \"gas_limit\": 21000}, "
    "\"confirmations\": 1},"
    "\"TUSD\": {\"chain_id\": 1337, \"kind\": \"erc20\", "
    "\"contract\": \"0x5FbDB2315678afecb367f032d93F642f64180aa3\", "
    "\"decimals\": 6, \"key\": \"payout\", \"daily_limit\": \"1000\", "
    "\"per_tx_limit\": \"500\", \"allowlist\": "
    "[\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"], "
    "\"fee_caps\": {\"max_fee_per_gas\": \"1000\", "
    "\"max_priority_fee_per_gas\": \"100\", \"gas_limit\": 100000}, "
    "\"confirmations\": \"finalized\"}}}";

static struct pol_policy *policy;

static void
init(void)
{
	char err[256];

	if (policy != NULL)
		return;
	if (pol_parse(&policy, (const uint8_t *)policy_json,
	    sizeof(policy_json) - 1, err, sizeof(err)) != 0)
		__builtin_trap();
}

static void
check_err(const struct val_err *e)
{
	size_t i;

	if ((e->status != 400 && e->status != 422) || e->code == NULL ||
	    e->message[0] == '\0')
		__builtin_trap();
	/* Messages quote input only as printable ASCII. */
	for (i = 0; e->message[i] != '\0'; i++)
		if (e->message[i] < 0x20 || e->message[i] >= 0x7f)
			__builtin_trap();
}

static void
fuzz_payout(const uint8_t *data, size_t size)
{
	struct val_payout v;
	struct val_decision d;
	struct val_err e;
	uint8_t addr[EVM_ADDR_LEN];
	u256 amount;

	memset(&e, 0, sizeof(e));
	if (val_payout_body(&v, &e, policy, data, size) != 0) {
		check_err(&e);
		if (v.asset != NULL || v.request_id[0] != '\0')
			__builtin_trap();	/* outputs cleared on failure */
		return;
	}
	/* What was accepted is what the store and signerd will be given. */
	if (!pol_id_ok(v.request_id, PRT_REQUEST_ID_MAX) || v.asset == NULL ||
	    evm_addr_from_str(addr, v.to, 0) != 0 ||
	    memcmp(addr, v.intent.recipient, EVM_ADDR_LEN) != 0 ||
	    u256_from_dec(&amount, v.amount) != 0 || u256_is_zero(&amount) ||
	    u256_cmp(&amount, &v.intent.amount) != 0 ||
	    v.intent.chain_id != v.asset->chain_id)
		__builtin_trap();
	val_precheck(&d, policy, &v);
	if (d.status != PS_APPROVED && d.status != PS_PENDING_APPROVAL &&
	    d.status != PS_REJECTED)
		__builtin_trap();
	if ((d.status == PS_REJECTED) != (d.reason_code[0] != '\0'))
		__builtin_trap();
}

static void
fuzz_approval(const uint8_t *data, size_t size)
{
	struct pol_approval a;
	struct pol_intent in;
	struct val_err e;
	char detail[256];

	memset(&e, 0, sizeof(e));
	if (val_approval_body(&a, &e, data, size) != 0) {
		check_err(&e);
		if (a.sig_len != 0 || a.expiry != 0)
			__builtin_trap();
		return;
	}
	if (a.sig_len < 1 || a.sig_len > POL_APPROVAL_SIG_MAX || a.expiry == 0 ||
	    !pol_id_ok(a.approver, POL_APPROVER_NAME_MAX))
		__builtin_trap();
	memset(&in, 0, sizeof(in));
	strcpy(in.asset_name, "ETH");
	in.chain_id = 1337;
	memset(in.recipient, 0x70, sizeof(in.recipient));
	u256_from_u64(&in.amount, 400);
	/* The lifetime bound: exactly "no more than max ahead of now". */
	if ((val_approval_lifetime(&e, a.expiry, 1000, 3600) == 0) !=
	    (a.expiry <= 1000 + 3600))
		__builtin_trap();
	if (a.expiry > 1000 + 3600)
		check_err(&e);
	/* Forging P-256 or Ed25519 is not on the menu. */
	if (ac_check_sign(policy, "fuzz-req", &in, &a, 0, detail,
	    sizeof(detail)) == POL_OK ||
	    ac_check_cancel(policy, "fuzz-req", &a, 0, detail,
	    sizeof(detail)) == POL_OK)
		__builtin_trap();
}

static void
fuzz_reject(const uint8_t *data, size_t size)
{
	char reason[VAL_REASON_MAX + 1];
	struct val_err e;
	size_t i;

	memset(&e, 0, sizeof(e));
	if (val_reject_body(reason, &e, data, size) != 0) {
		check_err(&e);
		return;
	}
	for (i = 0; reason[i] != '\0'; i++)
		if (reason[i] < 0x20 || reason[i] >= 0x7f)
			__builtin_trap();
	if (i < 1 || i > VAL_REASON_MAX)
		__builtin_trap();
}

/* Query values arrive as C strings: the input up to its first NUL. */
static void
fuzz_query(const uint8_t *data, size_t size)
{
	char s[VAL_CURSOR_MAX + 16], again[VAL_CURSOR_MAX], date[VAL_DATE_STR];
	struct val_err e;
	uint32_t day, day2;
	int64_t id, after;
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	int first;

	memcpy(s, data, n);
	s[n] = '\0';
	if (val_cursor_decode(&id, s) == 0) {
		if (id < 0 || val_cursor_encode(again, sizeof(again), id) != 0 ||
		    strcmp(again, s) != 0)
			__builtin_trap();
	} else if (id != 0) {
		__builtin_trap();
	}
	if (val_date(&day, &e, s) == 0) {
		val_day_str(date, day);
		if (strcmp(date, s) != 0 || val_date(&day2, &e, date) != 0 ||
		    day2 != day)
			__builtin_trap();
	}
	if (val_first(&first, &e, s, VAL_LIST_DEFAULT, 500) == 0 &&
	    (first < 1 || first > 500))
		__builtin_trap();
	if (val_event_after(&after, &e, s) == 0 && after < 0)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init();
	fuzz_payout(data, size);
	fuzz_approval(data, size);
	fuzz_reject(data, size);
	fuzz_query(data, size);
	return 0;
}
