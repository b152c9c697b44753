/*
 * test_verify.c: approval signatures by P-256 and Ed25519 approvers over
 * the canonical texts: M of N, one short, unknown, duplicate, forged,
 * another intent, expired (invariant 4); the sets of each action; policy
 * change approvals; one approval checked alone (orchestratord's advisory).
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
#include <openssl/x509.h>

#include "common/err.h"
#include "evm/tx.h"
#include "policy/verify.h"

#define NKEYS 4		/* alice, bob, carol: P-256; erin: Ed25519 */
static const char *const names[NKEYS] = { "alice", "bob", "carol", "erin" };

struct fx {
	EVP_PKEY *keys[NKEYS];
	EVP_PKEY *mallory;	/* not in the policy */
	struct pol_policy *p;
	struct pol_verifier *v;
	struct pol_intent in;
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

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	json_t *root, *aps;
	struct evm_tx tx;
	enum pol_reason why;
	char err[256], *text, *pem;
	size_t i;

	assert_non_null(f);
	for (i = 0; i < NKEYS; i++) {
		f->keys[i] = i < 3 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") :
		    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		assert_non_null(f->keys[i]);
	}
	f->mallory = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	aps = json_object();
	for (i = 0; i < NKEYS; i++) {
		pem = pem_of(f->keys[i]);
		json_object_set_new(aps, names[i],
		    json_pack("{s:s}", "public_key_pem", pem));
		free(pem);
	}
	root = json_pack("{s:s, s:o, s:{s:i, s:[s,s,s], s:i}, s:{s:{s:i, s:s, "
	    "s:i, s:s, s:s, s:s, s:{s:s, s:i, s:[s,s,s,s]}, s:{s:s, s:s, s:i}, "
	    "s:i}}}",
	    "policy_id", "t-1", "approvers", aps,
	    "governance", "m", 2, "approvers", "alice", "bob", "erin",
	    "delay", 3600,
	    "assets", "ETH", "chain_id", 1337, "kind", "native", "decimals", 18,
	    "key", "payout", "daily_limit", "1000", "per_tx_limit", "500",
	    "approval", "threshold", "10", "m", 2, "approvers", "alice", "bob",
	    "carol", "erin",
	    "fee_caps", "max_fee_per_gas", "1000", "max_priority_fee_per_gas",
	    "100", "gas_limit", 21000, "confirmations", 1);
	assert_non_null(root);
	text = json_dumps(root, 0);
	if (pol_parse(&f->p, (const uint8_t *)text, strlen(text), err,
	    sizeof(err)) != 0)
		print_message("policy: %s\n", err);
	assert_non_null(f->p);
	free(text);
	json_decref(root);
	assert_int_equal(pol_verifier_new(&f->v, f->p, err, sizeof(err)), 0);

	memset(&tx, 0, sizeof(tx));
	tx.chain_id = 1337;
	tx.has_to = 1;
	memset(tx.to, 0x70, sizeof(tx.to));
	u256_from_u64(&tx.value, 400);
	tx.gas_limit = 21000;
	assert_int_equal(pol_derive_intent(&f->in, &why, f->p, &tx), 0);
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
	EVP_PKEY_free(f->mallory);
	free(f);
	return 0;
}

/* What an approver does: sign the text of m with expiry. */
static void
approve_msg(struct pol_approval *ap, EVP_PKEY *key, const char *name,
    const struct pol_approval_msg *msg, uint64_t expiry)
{
	struct pol_approval_msg m = *msg;
	char text[POL_APPROVAL_TEXT_MAX];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ed = EVP_PKEY_is_a(key, "ED25519");
	size_t len;

	m.expires = expiry;
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m), 0);
	memset(ap, 0, sizeof(*ap));
	strcpy(ap->approver, name);
	ap->expiry = expiry;
	ap->sig_len = sizeof(ap->sig);
	assert_int_equal(EVP_DigestSignInit(md, NULL, ed ? NULL : EVP_sha256(),
	    NULL, key), 1);
	assert_int_equal(EVP_DigestSign(md, ap->sig, &ap->sig_len,
	    (const uint8_t *)text, len), 1);
	EVP_MD_CTX_free(md);
}

/* The same for a payout: request id and intent. */
static void
approve(struct fx *f, struct pol_approval *ap, EVP_PKEY *key,
    const char *name, const char *request_id, const struct pol_intent *in,
    uint64_t expiry)
{
	struct pol_approval_msg m;

	assert_int_equal(pol_approval_msg_sign(&m, f->p, request_id, in, 0),
	    0);
	approve_msg(ap, key, name, &m, expiry);
}

static enum pol_reason
check_set(struct fx *f, const struct pol_approval_set *set,
    const struct pol_approval_msg *m, const struct pol_approval *ap,
    size_t n, uint64_t now, size_t *bad)
{
	char detail[200];
	enum pol_reason why;

	why = pol_approvals_check(f->v, set, m, ap, n, now, bad, detail,
	    sizeof(detail));
	if (why != POL_OK)
		assert_true(strlen(detail) > 0);
	else
		assert_string_equal(detail, "");
	return why;
}

static enum pol_reason
check(struct fx *f, const struct pol_approval *ap, size_t n, uint64_t now,
    size_t *bad)
{
	struct pol_approval_set set;
	struct pol_approval_msg m;

	pol_set_asset(&set, f->p, 0);
	assert_int_equal(pol_approval_msg_sign(&m, f->p, "pay-1", &f->in, 0),
	    0);
	return check_set(f, &set, &m, ap, n, now, bad);
}

static void
test_exactly_m_and_more(void **state)
{
	struct fx *f = *state;
	struct pol_approval ap[4];
	size_t bad;

	approve(f, &ap[0], f->keys[0], "alice", "pay-1", &f->in, 2000);
	approve(f, &ap[1], f->keys[3], "erin", "pay-1", &f->in, 2000);
	assert_int_equal(check(f, ap, 2, 1000, &bad), POL_OK);
	assert_true(bad == SIZE_MAX);
	approve(f, &ap[2], f->keys[2], "carol", "pay-1", &f->in, 2000);
	assert_int_equal(check(f, ap, 3, 1000, &bad), POL_OK);
	/* Exactly at the expiry second is still valid. */
	assert_int_equal(check(f, ap, 2, 2000, &bad), POL_OK);
}

static void
test_one_short(void **state)
{
	struct fx *f = *state;
	struct pol_approval ap[1];
	size_t bad;

	memset(ap, 0, sizeof(ap));
	assert_int_equal(check(f, ap, 0, 1000, &bad), POL_APPROVALS_MISSING);
	approve(f, &ap[0], f->keys[1], "bob", "pay-1", &f->in, 2000);
	assert_int_equal(check(f, ap, 1, 1000, &bad), POL_APPROVALS_MISSING);
	assert_true(bad == SIZE_MAX);
}

static void
test_unknown_and_duplicate(void **state)
{
	struct fx *f = *state;
	struct pol_approval ap[3];
	size_t bad;

	approve(f, &ap[0], f->keys[0], "alice", "pay-1", &f->in, 2000);
	approve(f, &ap[1], f->mallory, "mallory", "pay-1", &f->in, 2000);
	assert_int_equal(check(f, ap, 2, 1000, &bad),
	    POL_APPROVAL_UNKNOWN_APPROVER);
	assert_int_equal(bad, 1);
	/* A name without its NUL, and one with a space: unknown. */
	memset(ap[1].approver, 'a', sizeof(ap[1].approver));
	assert_int_equal(check(f, ap, 2, 1000, &bad),
	    POL_APPROVAL_UNKNOWN_APPROVER);
	strcpy(ap[1].approver, "bo b");
	assert_int_equal(check(f, ap, 2, 1000, &bad),
	    POL_APPROVAL_UNKNOWN_APPROVER);
	/* One approver twice is one vote, and refused outright. */
	approve(f, &ap[1], f->keys[0], "alice", "pay-1", &f->in, 2001);
	assert_int_equal(check(f, ap, 2, 1000, &bad), POL_APPROVAL_DUPLICATE);
	assert_int_equal(bad, 1);
	/* Mallory's key under bob's name: the signature fails. */
	approve(f, &ap[1], f->mallory, "bob", "pay-1", &f->in, 2000);
	assert_int_equal(check(f, ap, 2, 1000, &bad),
	    POL_APPROVAL_BAD_SIGNATURE);
	assert_int_equal(bad, 1);
}

static void
test_forged_and_other_intent(void **state)
{
	struct fx *f = *state;
	struct pol_approval ap[2];
	struct pol_intent other = f->in;
	size_t bad;

	approve(f, &ap[0], f->keys[0], "alice", "pay-1", &f->in, 2000);
	approve(f, &ap[1], f->keys[1], "bob", "pay-1", &f->in, 2000);
	ap[1].sig[10] ^= 1;
	assert_int_equal(check(f, ap, 2, 1000, &bad),
	    POL_APPROVAL_BAD_SIGNATURE);
	/* Signed over another request id, recipient or amount. */
	approve(f, &ap[1], f->keys[1], "bob", "pay-2", &f->in, 2000);
	assert_int_equal(check(f, ap, 2, 1000, &bad),
	    POL_APPROVAL_BAD_SIGNATURE);
	other.recipient[0] ^= 1;
	approve(f, &ap[1], f->keys[1], "bob", "pay-1", &other, 2000);
	assert_int_equal(check(f, ap, 2, 1000, &bad),
	    POL_APPROVAL_BAD_SIGNATURE);
	other = f->in;
	u256_from_u64(&other.amount, 401);
	approve(f, &ap[1], f->keys[3], "erin", "pay-1", &other, 2000);
	assert_int_equal(check(f, ap, 2, 1000, &bad),
	    POL_APPROVAL_BAD_SIGNATURE);
	/* The expiry is signed too: moving it breaks the signature. */
	approve(f, &ap[1], f->keys[3], "erin", "pay-1", &f->in, 2000);
	ap[1].expiry = 3000;
	assert_int_equal(check(f, ap, 2, 1000, &bad),
	    POL_APPROVAL_BAD_SIGNATURE);
	/* Garbage, empty, and a P-256 signature under an Ed25519 name. */
	ap[1].expiry = 2000;
	ap[1].sig_len = 0;
	assert_int_equal(check(f, ap, 2, 1000, &bad),
	    POL_APPROVAL_BAD_SIGNATURE);
	approve(f, &ap[1], f->keys[2], "erin", "pay-1", &f->in, 2000);
	assert_int_equal(check(f, ap, 2, 1000, &bad),
	    POL_APPROVAL_BAD_SIGNATURE);
}

static void
test_expired(void **state)
{
	struct fx *f = *state;
	struct pol_approval ap[2];
	size_t bad;

	approve(f, &ap[0], f->keys[0], "alice", "pay-1", &f->in, 2000);
	approve(f, &ap[1], f->keys[1], "bob", "pay-1", &f->in, 999);
	assert_int_equal(check(f, ap, 2, 1000, &bad), POL_APPROVAL_EXPIRED);
	assert_int_equal(bad, 1);
}

/* The detail sentences signerd replies with, word for word. */
static void
test_details(void **state)
{
	struct fx *f = *state;
	struct pol_approval_set set;
	struct pol_approval_msg m;
	struct pol_approval ap[2];
	char detail[200];
	size_t bad;

	pol_set_asset(&set, f->p, 0);
	set.name = "asset ETH";
	assert_int_equal(pol_approval_msg_sign(&m, f->p, "pay-1", &f->in, 0),
	    0);
	approve(f, &ap[0], f->keys[0], "alice", "pay-1", &f->in, 2000);
	approve(f, &ap[1], f->mallory, "mallory", "pay-1", &f->in, 2000);
	assert_int_equal(pol_approvals_check(f->v, &set, &m, ap, 2, 1000, &bad,
	    detail, sizeof(detail)), POL_APPROVAL_UNKNOWN_APPROVER);
	assert_string_equal(detail, "approval 1: 'mallory' is not an approver "
	    "of asset ETH");
	approve(f, &ap[1], f->keys[0], "alice", "pay-1", &f->in, 2000);
	assert_int_equal(pol_approvals_check(f->v, &set, &m, ap, 2, 1000, &bad,
	    detail, sizeof(detail)), POL_APPROVAL_DUPLICATE);
	assert_string_equal(detail, "approval 1: alice approved twice");
	approve(f, &ap[1], f->keys[1], "bob", "pay-1", &f->in, 999);
	assert_int_equal(pol_approvals_check(f->v, &set, &m, ap, 2, 1000, &bad,
	    detail, sizeof(detail)), POL_APPROVAL_EXPIRED);
	assert_string_equal(detail, "approval 1 by bob expired at 999 (now "
	    "1000)");
	approve(f, &ap[1], f->keys[1], "bob", "pay-2", &f->in, 2000);
	assert_int_equal(pol_approvals_check(f->v, &set, &m, ap, 2, 1000, &bad,
	    detail, sizeof(detail)), POL_APPROVAL_BAD_SIGNATURE);
	assert_string_equal(detail, "approval 1 by bob does not verify over "
	    "this sign");
	assert_int_equal(pol_approvals_check(f->v, &set, &m, ap, 1, 1000, &bad,
	    detail, sizeof(detail)), POL_APPROVALS_MISSING);
	assert_string_equal(detail, "1 valid approval of asset ETH, 2 needed");
	assert_int_equal(pol_approvals_check(f->v, &set, &m, ap, 0, 1000, &bad,
	    detail, sizeof(detail)), POL_APPROVALS_MISSING);
	assert_string_equal(detail, "0 valid approvals of asset ETH, 2 needed");
}

/* Whose approvals count for each action. */
static void
test_sets(void **state)
{
	struct fx *f = *state;
	struct pol_approval_set set;
	struct pol_approval_msg m;
	struct pol_approval ap[3];
	struct pol_policy *bare;
	size_t bad;
	char err[256];
	static const char bare_json[] = "{\"policy_id\": \"bare-1\", "
	    "\"approvers\": {}, \"assets\": {\"ETH\": {\"chain_id\": 1, "
	    "\"kind\": \"native\", \"decimals\": 18, \"key\": \"payout\", "
	    "\"daily_limit\": \"1000\", \"per_tx_limit\": \"500\", "
	    "\"fee_caps\": {\"max_fee_per_gas\": \"1000\", "
	    "\"max_priority_fee_per_gas\": \"100\", \"gas_limit\": 21000}, "
	    "\"confirmations\": 1}}}";

	pol_set_asset(&set, f->p, 0);
	assert_int_equal(set.m, 2);
	assert_int_equal(set.n, 4);
	assert_string_equal(set.name, "ETH");

	/* Governance: alice, bob, erin, two of them; carol is not in it. */
	pol_set_governance(&set, f->p);
	assert_int_equal(set.m, 2);
	assert_int_equal(set.n, 3);
	assert_string_equal(set.name, "governance");
	assert_int_equal(pol_approval_msg_op(&m, f->p, POL_ACTION_UNPAUSE,
	    "incident-7", 0), 0);
	approve_msg(&ap[0], f->keys[2], "carol", &m, 2000);
	assert_int_equal(check_set(f, &set, &m, ap, 1, 1000, &bad),
	    POL_APPROVAL_UNKNOWN_APPROVER);
	approve_msg(&ap[0], f->keys[1], "bob", &m, 2000);
	assert_int_equal(check_set(f, &set, &m, ap, 1, 1000, &bad),
	    POL_APPROVALS_MISSING);
	approve_msg(&ap[1], f->keys[3], "erin", &m, 2000);
	assert_int_equal(check_set(f, &set, &m, ap, 2, 1000, &bad), POL_OK);

	/* Any approver of the policy, one of them (cancel, pause). */
	pol_set_any(&set, f->p, 1);
	assert_int_equal(set.m, 1);
	assert_null(set.idx);
	assert_int_equal(pol_approval_msg_op(&m, f->p, POL_ACTION_PAUSE, "p-1",
	    0), 0);
	approve_msg(&ap[0], f->keys[2], "carol", &m, 2000);
	assert_int_equal(check_set(f, &set, &m, ap, 1, 1000, &bad), POL_OK);
	approve_msg(&ap[0], f->mallory, "mallory", &m, 2000);
	assert_int_equal(check_set(f, &set, &m, ap, 1, 1000, &bad),
	    POL_APPROVAL_UNKNOWN_APPROVER);
	/* A pause approval is no unpause approval. */
	approve_msg(&ap[0], f->keys[0], "alice", &m, 2000);
	assert_int_equal(pol_approval_msg_op(&m, f->p, POL_ACTION_UNPAUSE,
	    "p-1", 0), 0);
	assert_int_equal(check_set(f, &set, &m, ap, 1, 1000, &bad),
	    POL_APPROVAL_BAD_SIGNATURE);

	/* A policy without governance or approvals: nobody is in a set. */
	assert_int_equal(pol_parse(&bare, (const uint8_t *)bare_json,
	    strlen(bare_json), err, sizeof(err)), 0);
	pol_set_governance(&set, bare);
	assert_int_equal(set.n, 0);
	assert_int_equal(set.m, 0);
	assert_non_null(set.idx);
	pol_set_asset(&set, bare, 0);
	assert_int_equal(set.n, 0);
	assert_int_equal(set.m, 0);
	assert_non_null(set.idx);
	pol_free(bare);
}

/* Approving and cancelling a proposed policy version. */
static void
test_policy_change(void **state)
{
	struct fx *f = *state;
	struct pol_approval_set set;
	struct pol_approval_msg m, other;
	struct pol_approval ap[3];
	uint8_t proposed[32], stale[32];
	size_t bad;

	memset(proposed, 0x42, sizeof(proposed));
	pol_set_governance(&set, f->p);
	assert_int_equal(pol_approval_msg_policy(&m, f->p, POL_ACTION_POLICY,
	    proposed, 0), 0);
	approve_msg(&ap[0], f->keys[0], "alice", &m, 2000);
	approve_msg(&ap[1], f->keys[3], "erin", &m, 2000);
	assert_int_equal(check_set(f, &set, &m, ap, 2, 1000, &bad), POL_OK);
	assert_int_equal(check_set(f, &set, &m, ap, 1, 1000, &bad),
	    POL_APPROVALS_MISSING);
	approve_msg(&ap[2], f->keys[2], "carol", &m, 2000);
	assert_int_equal(check_set(f, &set, &m, &ap[2], 1, 1000, &bad),
	    POL_APPROVAL_UNKNOWN_APPROVER);

	/* Another proposal, another version in force, or a cancel. */
	other = m;
	other.proposed[0] ^= 1;
	assert_int_equal(check_set(f, &set, &other, ap, 2, 1000, &bad),
	    POL_APPROVAL_BAD_SIGNATURE);
	assert_int_equal(bad, 0);
	memcpy(stale, pol_hash(f->p), sizeof(stale));
	other = m;
	other.replaces[31] ^= 1;
	assert_int_equal(check_set(f, &set, &other, ap, 2, 1000, &bad),
	    POL_APPROVAL_BAD_SIGNATURE);
	assert_int_equal(pol_approval_msg_policy(&other, f->p,
	    POL_ACTION_POLICY_CANCEL, proposed, 0), 0);
	set.m = 1;
	assert_int_equal(check_set(f, &set, &other, ap, 1, 1000, &bad),
	    POL_APPROVAL_BAD_SIGNATURE);
	approve_msg(&ap[0], f->keys[1], "bob", &other, 2000);
	assert_int_equal(check_set(f, &set, &other, ap, 1, 1000, &bad), POL_OK);
	assert_int_equal(check_set(f, &set, &m, ap, 1, 1000, &bad),
	    POL_APPROVAL_BAD_SIGNATURE);
	assert_memory_equal(stale, pol_hash(f->p), sizeof(stale));
}

/* orchestratord's advisory check: one approval, a set of m = 1. */
static void
test_one_approval_advisory(void **state)
{
	struct fx *f = *state;
	struct pol_approval_set set;
	struct pol_approval_msg m;
	struct pol_approval ap;
	size_t bad;

	pol_set_asset(&set, f->p, 0);
	set.m = 1;
	assert_int_equal(pol_approval_msg_sign(&m, f->p, "pay-1", &f->in, 0),
	    0);
	approve(f, &ap, f->keys[3], "erin", "pay-1", &f->in, 2000);
	assert_int_equal(check_set(f, &set, &m, &ap, 1, 1000, &bad), POL_OK);
	approve(f, &ap, f->keys[3], "erin", "pay-9", &f->in, 2000);
	assert_int_equal(check_set(f, &set, &m, &ap, 1, 1000, &bad),
	    POL_APPROVAL_BAD_SIGNATURE);
	assert_int_equal(bad, 0);
}

static void
test_verify_direct(void **state)
{
	struct fx *f = *state;
	uint8_t sig[8] = { 0 };

	assert_int_equal(pol_verify(f->v, NKEYS, "x", 1, sig, sizeof(sig)),
	    ERR_INVALID_ARG);
	assert_int_equal(pol_verify(f->v, 0, "x", 1, sig, sizeof(sig)), 0);
	assert_int_equal(pol_verify(f->v, 3, "x", 1, sig, sizeof(sig)), 0);
	assert_int_equal(pol_verify(f->v, 0, "x", 1, NULL, 0), 0);
}

/* One key as SPKI DER, without a policy (signerctl approve's check). */
static void
test_verify_spki(void **state)
{
	struct fx *f = *state;
	struct pol_approval ap;
	struct pol_approval_msg m;
	char text[POL_APPROVAL_TEXT_MAX];
	unsigned char *der = NULL, buf[200];
	EVP_PKEY *k1;
	size_t len;
	int n, i;

	assert_int_equal(pol_approval_msg_sign(&m, f->p, "pay-1", &f->in,
	    2000), 0);
	assert_int_equal(pol_approval_text(text, sizeof(text), &len, &m), 0);
	for (i = 0; i < NKEYS; i += 3) {	/* alice (P-256), erin */
		approve(f, &ap, f->keys[i], names[i], "pay-1", &f->in, 2000);
		der = NULL;
		n = i2d_PUBKEY(f->keys[i], &der);
		assert_true(n > 0 && (size_t)n < sizeof(buf));
		assert_int_equal(pol_verify_spki(der, (size_t)n, text, len,
		    ap.sig, ap.sig_len), 1);
		assert_int_equal(pol_verify_spki(der, (size_t)n, text, len - 1,
		    ap.sig, ap.sig_len), 0);
		assert_int_equal(pol_verify_spki(der, (size_t)n, text, len,
		    ap.sig, ap.sig_len - 1), 0);
		/* Trailing bytes after the key, or a cut key. */
		memcpy(buf, der, (size_t)n);
		buf[n] = 0;
		assert_int_equal(pol_verify_spki(buf, (size_t)n + 1, text, len,
		    ap.sig, ap.sig_len), ERR_MALFORMED);
		assert_int_equal(pol_verify_spki(buf, (size_t)n - 1, text, len,
		    ap.sig, ap.sig_len), ERR_MALFORMED);
		OPENSSL_free(der);
	}
	/* Another curve is no approver key. */
	k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	assert_non_null(k1);
	der = NULL;
	n = i2d_PUBKEY(k1, &der);
	assert_true(n > 0);
	assert_int_equal(pol_verify_spki(der, (size_t)n, text, len, ap.sig,
	    ap.sig_len), ERR_MALFORMED);
	OPENSSL_free(der);
	EVP_PKEY_free(k1);
}

/* Later verifiers (a new policy version) are built the same way. */
static void
test_second_verifier(void **state)
{
	struct fx *f = *state;
	struct pol_verifier *v2 = NULL;
	struct pol_approval_set set;
	struct pol_approval_msg m;
	struct pol_approval ap[2];
	char err[256], detail[200];
	size_t bad;

	assert_int_equal(pol_verifier_new(&v2, f->p, err, sizeof(err)), 0);
	assert_non_null(v2);
	pol_set_asset(&set, f->p, 0);
	assert_int_equal(pol_approval_msg_sign(&m, f->p, "pay-1", &f->in, 0),
	    0);
	approve(f, &ap[0], f->keys[0], "alice", "pay-1", &f->in, 2000);
	approve(f, &ap[1], f->keys[3], "erin", "pay-1", &f->in, 2000);
	assert_int_equal(pol_approvals_check(v2, &set, &m, ap, 2, 1000, &bad,
	    detail, sizeof(detail)), POL_OK);
	pol_verifier_free(v2);
	pol_verifier_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exactly_m_and_more),
		cmocka_unit_test(test_one_short),
		cmocka_unit_test(test_unknown_and_duplicate),
		cmocka_unit_test(test_forged_and_other_intent),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_details),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_policy_change),
		cmocka_unit_test(test_one_approval_advisory),
		cmocka_unit_test(test_verify_direct),
		cmocka_unit_test(test_verify_spki),
		cmocka_unit_test(test_second_verifier),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
