/*
 * test_approval_check.c: orchestratord's advisory approval check with
 * P-256 and Ed25519 keys made here, through the policy's verifier
 * (policy/verify.h) as the daemon holds one per version: approvals signed
 * over the text of docs/approvals.md verify; a flipped byte, another
 * request id, another intent, another approver's key, an expired one, an
 * approver outside the asset's set, a sign approval used as a cancel (or
 * back), and junk signatures all fail, with this API's sentences.
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
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/err.h"
#include "orchestratord/approval_check.h"

#define NKEYS 4		/* alice, bob, carol: P-256; erin: Ed25519 */
static const char *const names[NKEYS] = { "alice", "bob", "carol", "erin" };
enum { ALICE, BOB, CAROL, ERIN };

#define TO "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
#define OTHER_TO "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
#define NOW 1790000000u
#define LATER 1795000000u

struct fx {
	EVP_PKEY *keys[NKEYS];
	struct pol_policy *p;
	struct pol_verifier *v;		/* built once, as per policy version */
	struct pol_intent in;		/* 400 wei of ETH to TO */
};

static char *
pem_of(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_non_null(b);
	assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
	n = BIO_get_mem_data(b, &data);
	out = strndup(data, (size_t)n);
	BIO_free(b);
	return out;
}

static void
intent(struct fx *f, struct pol_intent *in, const char *asset,
    const char *to, uint64_t amount)
{
	size_t idx;

	memset(in, 0, sizeof(*in));
	assert_int_equal(pol_asset_by_name(f->p, asset, &idx), 0);
	in->asset = idx;
	strcpy(in->asset_name, asset);
	in->chain_id = pol_asset(f->p, idx)->chain_id;
	assert_int_equal(evm_addr_from_str(in->recipient, to, 0), 0);
	u256_from_u64(&in->amount, amount);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	json_t *root, *aps;
	char err[256], *text, *pem;
	size_t i;

	assert_non_null(f);
	for (i = 0; i < NKEYS; i++) {
		f->keys[i] = i < 3 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") :
		    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		assert_non_null(f->keys[i]);
	}
	aps = json_object();
	for (i = 0; i < NKEYS; i++) {
		pem = pem_of(f->keys[i]);
		json_object_set_new(aps, names[i],
		    json_pack("{s:s}", "public_key_pem", pem));
		free(pem);
	}
	/* ETH needs 2 of alice, bob, erin above 10; USDX never needs any. */
	root = json_pack("{s:s, s:o, s:{s:i, s:[s,s], s:i}, s:{"
	    "s:{s:i, s:s, s:i, s:s, s:s, s:s, s:{s:s, s:i, s:[s,s,s]}, "
	    "s:{s:s, s:s, s:i}, s:i},"
	    "s:{s:i, s:s, s:s, s:i, s:s, s:s, s:s, s:{s:s, s:s, s:i}, s:i}}}",
	    "policy_id", "t-1", "approvers", aps,
	    "governance", "m", 2, "approvers", "alice", "bob", "delay", 3600,
	    "assets",
	    "ETH", "chain_id", 1337, "kind", "native", "decimals", 18,
	    "key", "payout", "daily_limit", "1000", "per_tx_limit", "500",
	    "approval", "threshold", "10", "m", 2, "approvers", "alice", "bob",
	    "erin",
	    "fee_caps", "max_fee_per_gas", "1000", "max_priority_fee_per_gas",
	    "100", "gas_limit", 21000, "confirmations", 1,
	    "USDX", "chain_id", 1337, "kind", "erc20",
	    "contract", "0x5FbDB2315678afecb367f032d93F642f64180aa3",
	    "decimals", 6, "key", "payout", "daily_limit", "1000",
	    "per_tx_limit", "500",
	    "fee_caps", "max_fee_per_gas", "1000", "max_priority_fee_per_gas",
	    "100", "gas_limit", 100000, "confirmations", 1);
	assert_non_null(root);
	text = json_dumps(root, 0);
	if (pol_parse(&f->p, (const uint8_t *)text, strlen(text), err,
	    sizeof(err)) != 0)
		print_message("policy: %s\n", err);
	assert_non_null(f->p);
	assert_int_equal(pol_verifier_new(&f->v, f->p, err, sizeof(err)), 0);
	free(text);
	json_decref(root);
	intent(f, &f->in, "ETH", TO, 400);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	size_t i;

	pol_verifier_free(f->v);
	pol_free(f->p);
	for (i = 0; i < NKEYS; i++)
		EVP_PKEY_free(f->keys[i]);
	free(f);
	return 0;
}

/* Signs text as an approver does with openssl (dgst -sha256 / -rawin). */
static void
sign_text(uint8_t *sig, size_t *siglen, EVP_PKEY *key, const char *text)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ed = EVP_PKEY_is_a(key, "ED25519");

	assert_non_null(md);
	*siglen = 128;
	assert_int_equal(EVP_DigestSignInit(md, NULL, ed ? NULL : EVP_sha256(),
	    NULL, key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, siglen,
	    (const uint8_t *)text, strlen(text)), 1);
	EVP_MD_CTX_free(md);
}

/*
 * The sign text written out by hand as docs/approvals.md's printf line
 * does, not with pol_approval_text: the check must accept exactly what an
 * approver with openssl alone produces.
 */
static void
sign_payout(uint8_t *sig, size_t *siglen, EVP_PKEY *key, const char *request,
    const char *asset, const char *to, const char *amount, uint64_t expires)
{
	char text[512];

	snprintf(text, sizeof(text), "signer-approval v1\naction: sign\n"
	    "policy: t-1\nrequest: %s\nchain: 1337\nasset: %s\nto: %s\n"
	    "amount: %s\nexpires: %llu\n", request, asset, to, amount,
	    (unsigned long long)expires);
	sign_text(sig, siglen, key, text);
}

static void
sign_cancel(uint8_t *sig, size_t *siglen, EVP_PKEY *key, const char *request,
    uint64_t expires)
{
	char text[256];

	snprintf(text, sizeof(text), "signer-approval v1\naction: cancel\n"
	    "policy: t-1\nrequest: %s\nexpires: %llu\n", request,
	    (unsigned long long)expires);
	sign_text(sig, siglen, key, text);
}

/* An approval as the API's parser hands it over (policy's type, D60). */
static struct pol_approval
mk(const char *approver, uint64_t expiry, const uint8_t *sig, size_t len)
{
	struct pol_approval a;

	memset(&a, 0, sizeof(a));
	assert_true(strlen(approver) < sizeof(a.approver));
	assert_true(len <= sizeof(a.sig));
	memcpy(a.approver, approver, strlen(approver));
	a.expiry = expiry;
	memcpy(a.sig, sig, len);
	a.sig_len = len;
	return a;
}

static enum pol_reason
check(struct fx *f, const struct pol_intent *in, const char *request,
    const char *approver, uint64_t expiry, const uint8_t *sig, size_t len,
    uint64_t now)
{
	struct pol_approval a = mk(approver, expiry, sig, len);
	char detail[256];
	enum pol_reason why;

	why = ac_check_sign_with(f->v, f->p, request, in, &a, now, detail,
	    sizeof(detail));
	if (why != POL_OK)
		assert_true(strlen(detail) > 0);
	return why;
}

static enum pol_reason
cancel(struct fx *f, const char *request, const struct pol_approval *a,
    uint64_t now, char detail[256])
{
	return ac_check_cancel_with(f->v, f->p, request, a, now, detail, 256);
}

static void
test_p256_and_ed25519_verify(void **state)
{
	struct fx *f = *state;
	uint8_t sig[128];
	size_t len;

	sign_payout(sig, &len, f->keys[ALICE], "payout-42", "ETH", TO, "400",
	    LATER);
	assert_int_equal(check(f, &f->in, "payout-42", "alice", LATER, sig,
	    len, NOW), POL_OK);
	sign_payout(sig, &len, f->keys[ERIN], "payout-42", "ETH", TO, "400",
	    LATER);
	assert_int_equal(len, 64);
	assert_int_equal(check(f, &f->in, "payout-42", "erin", LATER, sig, len,
	    NOW), POL_OK);
	/* Valid up to and including its last second, as in signerd. */
	assert_int_equal(check(f, &f->in, "payout-42", "erin", LATER, sig, len,
	    LATER), POL_OK);
}

/* Without a version's verifier (the fuzz harness): the same verdicts. */
static void
test_one_shot_verifier(void **state)
{
	struct fx *f = *state;
	struct pol_approval a;
	uint8_t sig[128];
	char detail[256];
	size_t len;

	sign_payout(sig, &len, f->keys[ALICE], "payout-42", "ETH", TO, "400",
	    LATER);
	a = mk("alice", LATER, sig, len);
	assert_int_equal(ac_check_sign(f->p, "payout-42", &f->in, &a, NOW,
	    detail, sizeof(detail)), POL_OK);
	assert_int_equal(ac_check_sign(f->p, "payout-43", &f->in, &a, NOW,
	    detail, sizeof(detail)), POL_APPROVAL_BAD_SIGNATURE);
	sign_cancel(sig, &len, f->keys[CAROL], "payout-42", LATER);
	a = mk("carol", LATER, sig, len);
	assert_int_equal(ac_check_cancel(f->p, "payout-42", &a, NOW, detail,
	    sizeof(detail)), POL_OK);
}

static void
test_flipped_byte_fails(void **state)
{
	struct fx *f = *state;
	uint8_t sig[128];
	size_t len, i;
	int k;

	for (k = 0; k < 2; k++) {
		sign_payout(sig, &len, f->keys[k == 0 ? ALICE : ERIN],
		    "payout-42", "ETH", TO, "400", LATER);
		for (i = 0; i < len; i += 7) {
			sig[i] ^= 0x01;
			assert_int_equal(check(f, &f->in, "payout-42", k == 0 ?
			    "alice" : "erin", LATER, sig, len, NOW),
			    POL_APPROVAL_BAD_SIGNATURE);
			sig[i] ^= 0x01;
		}
		/* Cut short or lengthened. */
		assert_int_equal(check(f, &f->in, "payout-42", k == 0 ?
		    "alice" : "erin", LATER, sig, len - 1, NOW),
		    POL_APPROVAL_BAD_SIGNATURE);
		sig[len] = 0;
		assert_int_equal(check(f, &f->in, "payout-42", k == 0 ?
		    "alice" : "erin", LATER, sig, len + 1, NOW),
		    POL_APPROVAL_BAD_SIGNATURE);
		assert_int_equal(check(f, &f->in, "payout-42", k == 0 ?
		    "alice" : "erin", LATER, sig, len, NOW), POL_OK);
	}
}

static void
test_other_payout_fails(void **state)
{
	struct fx *f = *state;
	struct pol_intent other;
	uint8_t sig[128];
	size_t len;

	/* Signed for another request id. */
	sign_payout(sig, &len, f->keys[ALICE], "payout-43", "ETH", TO, "400",
	    LATER);
	assert_int_equal(check(f, &f->in, "payout-42", "alice", LATER, sig,
	    len, NOW), POL_APPROVAL_BAD_SIGNATURE);
	/* Same id, another recipient or amount. */
	sign_payout(sig, &len, f->keys[ALICE], "payout-42", "ETH", OTHER_TO,
	    "400", LATER);
	assert_int_equal(check(f, &f->in, "payout-42", "alice", LATER, sig,
	    len, NOW), POL_APPROVAL_BAD_SIGNATURE);
	intent(f, &other, "ETH", OTHER_TO, 400);
	assert_int_equal(check(f, &other, "payout-42", "alice", LATER, sig,
	    len, NOW), POL_OK);
	sign_payout(sig, &len, f->keys[ERIN], "payout-42", "ETH", TO, "401",
	    LATER);
	assert_int_equal(check(f, &f->in, "payout-42", "erin", LATER, sig, len,
	    NOW), POL_APPROVAL_BAD_SIGNATURE);
	/* Another expiry than the one signed. */
	sign_payout(sig, &len, f->keys[ALICE], "payout-42", "ETH", TO, "400",
	    LATER);
	assert_int_equal(check(f, &f->in, "payout-42", "alice", LATER + 1, sig,
	    len, NOW), POL_APPROVAL_BAD_SIGNATURE);
}

static void
test_other_approvers_key_fails(void **state)
{
	struct fx *f = *state;
	uint8_t sig[128];
	size_t len;

	/* bob signs, the approval claims alice: one person, one vote. */
	sign_payout(sig, &len, f->keys[BOB], "payout-42", "ETH", TO, "400",
	    LATER);
	assert_int_equal(check(f, &f->in, "payout-42", "alice", LATER, sig,
	    len, NOW), POL_APPROVAL_BAD_SIGNATURE);
	assert_int_equal(check(f, &f->in, "payout-42", "bob", LATER, sig, len,
	    NOW), POL_OK);
	/* A P-256 signature presented for the Ed25519 approver. */
	assert_int_equal(check(f, &f->in, "payout-42", "erin", LATER, sig, len,
	    NOW), POL_APPROVAL_BAD_SIGNATURE);
}

static void
test_expired_fails(void **state)
{
	struct fx *f = *state;
	struct pol_approval a;
	uint8_t sig[128];
	char detail[256];
	size_t len;

	sign_payout(sig, &len, f->keys[ALICE], "payout-42", "ETH", TO, "400",
	    NOW - 1);
	assert_int_equal(check(f, &f->in, "payout-42", "alice", NOW - 1, sig,
	    len, NOW), POL_APPROVAL_EXPIRED);
	a = mk("alice", NOW - 1, sig, len);
	(void)ac_check_sign_with(f->v, f->p, "payout-42", &f->in, &a, NOW,
	    detail, sizeof(detail));
	assert_string_equal(detail, "approval by alice expired at 1789999999 "
	    "(now 1790000000)");
	/* Expiry is checked before the signature, as signerd does. */
	sig[5] ^= 0xff;
	assert_int_equal(check(f, &f->in, "payout-42", "alice", NOW - 1, sig,
	    len, NOW), POL_APPROVAL_EXPIRED);
}

static void
test_approver_sets(void **state)
{
	struct fx *f = *state;
	struct pol_intent usdx;
	uint8_t sig[128];
	size_t len;

	/* carol is an approver of the policy, not of ETH. */
	sign_payout(sig, &len, f->keys[CAROL], "payout-42", "ETH", TO, "400",
	    LATER);
	assert_int_equal(check(f, &f->in, "payout-42", "carol", LATER, sig,
	    len, NOW), POL_APPROVAL_UNKNOWN_APPROVER);
	assert_int_equal(check(f, &f->in, "payout-42", "mallory", LATER, sig,
	    len, NOW), POL_APPROVAL_UNKNOWN_APPROVER);
	assert_int_equal(check(f, &f->in, "payout-42", "Alice", LATER, sig,
	    len, NOW), POL_APPROVAL_UNKNOWN_APPROVER);
	/* An asset without an approval rule has no approvers at all. */
	intent(f, &usdx, "USDX", TO, 400);
	sign_payout(sig, &len, f->keys[ALICE], "payout-42", "USDX", TO, "400",
	    LATER);
	assert_int_equal(check(f, &usdx, "payout-42", "alice", LATER, sig, len,
	    NOW), POL_APPROVAL_UNKNOWN_APPROVER);
	/* A request id that cannot be in a text. */
	assert_int_equal(check(f, &f->in, "bad id", "alice", LATER, sig, len,
	    NOW), POL_MALFORMED_REQUEST);
}

static void
test_cancel(void **state)
{
	struct fx *f = *state;
	struct pol_approval a;
	uint8_t sig[128];
	char detail[256];
	size_t len;

	/* Any approver of the policy may cancel: carol too. */
	sign_cancel(sig, &len, f->keys[CAROL], "payout-42", LATER);
	a = mk("carol", LATER, sig, len);
	assert_int_equal(cancel(f, "payout-42", &a, NOW, detail),
	    POL_OK);
	assert_int_equal(cancel(f, "payout-43", &a, NOW, detail),
	    POL_APPROVAL_BAD_SIGNATURE);
	assert_int_equal(cancel(f, "payout-42", &a, LATER + 1, detail),
	    POL_APPROVAL_EXPIRED);
	/* A cancel is not a payout approval, and back. */
	assert_int_equal(check(f, &f->in, "payout-42", "alice", LATER, sig,
	    len, NOW), POL_APPROVAL_BAD_SIGNATURE);
	sign_cancel(sig, &len, f->keys[ERIN], "payout-42", LATER);
	a = mk("erin", LATER, sig, len);
	assert_int_equal(cancel(f, "payout-42", &a, NOW, detail),
	    POL_OK);
	assert_int_equal(check(f, &f->in, "payout-42", "erin", LATER, sig, len,
	    NOW), POL_APPROVAL_BAD_SIGNATURE);
	sign_payout(sig, &len, f->keys[ALICE], "payout-42", "ETH", TO, "400",
	    LATER);
	a = mk("alice", LATER, sig, len);
	assert_int_equal(cancel(f, "payout-42", &a, NOW, detail),
	    POL_APPROVAL_BAD_SIGNATURE);
	snprintf(a.approver, sizeof(a.approver), "%s", "zed");
	assert_int_equal(cancel(f, "payout-42", &a, NOW, detail),
	    POL_APPROVAL_UNKNOWN_APPROVER);
	assert_non_null(strstr(detail, "zed"));
}

/* Junk in place of a signature: refused, never handed on as valid. */
static void
test_junk_signatures_fail(void **state)
{
	struct fx *f = *state;
	uint8_t junk[200];

	memset(junk, 0x30, sizeof(junk));
	assert_int_equal(check(f, &f->in, "payout-42", "alice", LATER, junk, 72,
	    NOW), POL_APPROVAL_BAD_SIGNATURE);
	assert_int_equal(check(f, &f->in, "payout-42", "alice", LATER, junk, 0,
	    NOW), POL_APPROVAL_BAD_SIGNATURE);
	assert_int_equal(check(f, &f->in, "payout-42", "erin", LATER, junk, 64,
	    NOW), POL_APPROVAL_BAD_SIGNATURE);
	assert_int_equal(check(f, &f->in, "payout-42", "erin", LATER, junk, 63,
	    NOW), POL_APPROVAL_BAD_SIGNATURE);
	/* As long as an approval holds: longer than any key's signature. */
	assert_int_equal(check(f, &f->in, "payout-42", "alice", LATER, junk,
	    POL_APPROVAL_SIG_MAX, NOW), POL_APPROVAL_BAD_SIGNATURE);
}

/* The sentences this API has always answered with. */
static void
test_details(void **state)
{
	struct fx *f = *state;
	struct pol_approval a;
	uint8_t sig[128];
	char detail[256];
	size_t len;

	sign_payout(sig, &len, f->keys[BOB], "payout-42", "ETH", TO, "400",
	    LATER);
	a = mk("carol", LATER, sig, len);
	assert_int_equal(ac_check_sign_with(f->v, f->p, "payout-42", &f->in, &a,
	    NOW, detail, sizeof(detail)), POL_APPROVAL_UNKNOWN_APPROVER);
	assert_string_equal(detail, "'carol' is not an approver of asset ETH");
	snprintf(a.approver, sizeof(a.approver), "%s", "alice");
	assert_int_equal(ac_check_sign_with(f->v, f->p, "payout-42", &f->in, &a,
	    NOW, detail, sizeof(detail)), POL_APPROVAL_BAD_SIGNATURE);
	assert_string_equal(detail, "approval by alice does not verify over "
	    "this sign (request payout-42, expires 1795000000)");
	snprintf(a.approver, sizeof(a.approver), "%s", "zed\x01");
	assert_int_equal(cancel(f, "payout-42", &a, NOW, detail),
	    POL_APPROVAL_UNKNOWN_APPROVER);
	assert_string_equal(detail, "'(unprintable)' is not an approver of the "
	    "policy");
	snprintf(a.approver, sizeof(a.approver), "%s", "bob");
	assert_int_equal(ac_check_sign_with(f->v, f->p, "payout-42", &f->in, &a,
	    NOW, detail, sizeof(detail)), POL_OK);
	assert_string_equal(detail, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_p256_and_ed25519_verify),
		cmocka_unit_test(test_flipped_byte_fails),
		cmocka_unit_test(test_other_payout_fails),
		cmocka_unit_test(test_other_approvers_key_fails),
		cmocka_unit_test(test_expired_fails),
		cmocka_unit_test(test_approver_sets),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_junk_signatures_fail),
		cmocka_unit_test(test_details),
		cmocka_unit_test(test_one_shot_verifier),
	};

	/* One set of keys for the suite (group setup): keygen is the slow part. */
	return cmocka_run_group_tests(tests, setup, teardown);
}
