/*
 * test_approvals.c: approval signatures by P-256 and Ed25519 approvers
 * over the canonical text: M of N, one short, unknown, duplicate, forged,
 * another intent, expired (invariant 4).
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
#include "evm/tx.h"
#include "signerd/approvals.h"

#define NKEYS 4		/* alice, bob, carol: P-256; erin: Ed25519 */
static const char *const names[NKEYS] = { "alice", "bob", "carol", "erin" };

struct fx {
	EVP_PKEY *keys[NKEYS];
	EVP_PKEY *mallory;	/* not in the policy */
	struct pol_policy *p;
	struct sd_approvers *a;
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
	root = json_pack("{s:s, s:o, s:{s:i, s:[s,s,s]}, s:{s:{s:i, s:s, s:i, "
	    "s:s, s:s, s:s, s:{s:s, s:i, s:[s,s,s,s]}, s:{s:s, s:s, s:i}, "
	    "s:i}}}",
	    "policy_id", "t-1", "approvers", aps,
	    "governance", "m", 2, "approvers", "alice", "bob", "erin",
	    "assets", "ETH", "chain_id", 1337, "kind", "native", "decimals", 18,
	    "key", "payout", "daily_limit", "1000", "per_tx_limit", "500",
	    "approval", "threshold", "10", "m", 2, "approvers", "alice", "bob",
	    "carol", "erin",
	    "fee_caps", "max_fee_per_gas", "1000", "max_priority_fee_per_gas",
	    "100", "gas_limit", 21000, "confirmations", 1);
	assert_non_null(root);
	text = json_dumps(root, 0);
	assert_int_equal(pol_parse(&f->p, (const uint8_t *)text, strlen(text),
	    err, sizeof(err)), 0);
	free(text);
	json_decref(root);
	assert_int_equal(sd_approvers_new(&f->a, f->p, err, sizeof(err)), 0);

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

	sd_approvers_free(f->a);
	pol_free(f->p);
	for (i = 0; i < NKEYS; i++)
		EVP_PKEY_free(f->keys[i]);
	EVP_PKEY_free(f->mallory);
	free(f);
	return 0;
}

/* What an approver does: sign the text for request id and expiry. */
static void
approve(struct fx *f, struct prt_approval *ap, EVP_PKEY *key,
    const char *name, const char *request_id, const struct pol_intent *in,
    uint64_t expiry)
{
	struct pol_approval_msg m;
	char text[POL_APPROVAL_TEXT_MAX];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ed = EVP_PKEY_is_a(key, "ED25519");
	size_t len;

	assert_int_equal(pol_approval_msg_sign(&m, f->p, request_id, in,
	    expiry), 0);
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

static enum pol_reason
check(struct fx *f, const struct prt_approval *ap, size_t n, uint64_t now,
    size_t *bad)
{
	const struct pol_asset *a = pol_asset(f->p, 0);
	struct sd_approval_set set = { a->approval_approvers, a->approval_n,
		a->approval_m, "asset ETH" };
	struct pol_approval_msg m;
	char detail[200];
	enum pol_reason why;

	assert_int_equal(pol_approval_msg_sign(&m, f->p, "pay-1", &f->in, 0),
	    0);
	why = sd_approvals_check(f->a, f->p, &set, &m, ap, n, now, bad, detail,
	    sizeof(detail));
	if (why != POL_OK)
		assert_true(strlen(detail) > 0);
	return why;
}

static void
test_exactly_m_and_more(void **state)
{
	struct fx *f = *state;
	struct prt_approval ap[4];
	size_t bad;

	approve(f, &ap[0], f->keys[0], "alice", "pay-1", &f->in, 2000);
	approve(f, &ap[1], f->keys[3], "erin", "pay-1", &f->in, 2000);
	assert_int_equal(check(f, ap, 2, 1000, &bad), POL_OK);
	approve(f, &ap[2], f->keys[2], "carol", "pay-1", &f->in, 2000);
	assert_int_equal(check(f, ap, 3, 1000, &bad), POL_OK);
	/* Exactly at the expiry second is still valid. */
	assert_int_equal(check(f, ap, 2, 2000, &bad), POL_OK);
}

static void
test_one_short(void **state)
{
	struct fx *f = *state;
	struct prt_approval ap[1];
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
	struct prt_approval ap[3];
	size_t bad;

	approve(f, &ap[0], f->keys[0], "alice", "pay-1", &f->in, 2000);
	approve(f, &ap[1], f->mallory, "mallory", "pay-1", &f->in, 2000);
	assert_int_equal(check(f, ap, 2, 1000, &bad),
	    POL_APPROVAL_UNKNOWN_APPROVER);
	assert_int_equal(bad, 1);
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
	struct prt_approval ap[2];
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
	struct prt_approval ap[2];
	size_t bad;

	approve(f, &ap[0], f->keys[0], "alice", "pay-1", &f->in, 2000);
	approve(f, &ap[1], f->keys[1], "bob", "pay-1", &f->in, 999);
	assert_int_equal(check(f, ap, 2, 1000, &bad), POL_APPROVAL_EXPIRED);
	assert_int_equal(bad, 1);
}

static void
test_verify_direct(void **state)
{
	struct fx *f = *state;
	uint8_t sig[8] = { 0 };

	assert_int_equal(sd_approval_verify(f->a, NKEYS, "x", 1, sig,
	    sizeof(sig)), ERR_INVALID_ARG);
	assert_int_equal(sd_approval_verify(f->a, 0, "x", 1, sig,
	    sizeof(sig)), 0);
	assert_int_equal(sd_approval_verify(f->a, 3, "x", 1, sig,
	    sizeof(sig)), 0);
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
		cmocka_unit_test(test_verify_direct),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
