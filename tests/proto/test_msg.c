/* test_msg.c: wire messages round-trip; each malformed form gets its code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "proto/msg.h"

/* A byte no decoder leaves behind, so "cleared on failure" is visible. */
#define JUNK 0xa5
/* A typed reply header's retry_after_s, after the message (version 5). */
#define RETRY_LEN 4

/* --- samples ---------------------------------------------------------- */

static const char SAMPLE_ID[] = "payout-2024.11:0001_A";
static const char SAMPLE_ASSET[] = "USDC";
#define SAMPLE_TX_LEN 120
#define SAMPLE_SIG0_LEN 65
#define SAMPLE_SIG1_LEN 64
#define SAMPLE_CREATED_DAY 0x01024e21u	/* any u32 but 0 */

static void
sample_sign_req(struct prt_sign_req *q)
{
	size_t i;

	memset(q, 0, sizeof(*q));
	strcpy(q->request_id, SAMPLE_ID);
	strcpy(q->asset, SAMPLE_ASSET);
	q->chain_id = 11155111;
	for (i = 0; i < sizeof(q->from); i++)
		q->from[i] = (uint8_t)(0x61 + i);
	/* Four distinct bytes, so a byte order mistake shows. */
	q->created_day = SAMPLE_CREATED_DAY;
	for (i = 0; i < sizeof(q->to); i++)
		q->to[i] = (uint8_t)(0x11 + i);
	/* Distinct limbs, so a swapped limb order shows. */
	q->amount.w[3] = 0x0102030405060708ULL;
	q->amount.w[2] = 0x1112131415161718ULL;
	q->amount.w[1] = 0x2122232425262728ULL;
	q->amount.w[0] = 0x3132333435363738ULL;
	q->tx_len = SAMPLE_TX_LEN;
	q->tx[0] = 0x02;
	for (i = 1; i < q->tx_len; i++)
		q->tx[i] = (uint8_t)(i * 7);
	q->napprovals = 2;
	strcpy(q->approvals[0].approver, "alice");
	q->approvals[0].expiry = 1700000000;
	q->approvals[0].sig_len = SAMPLE_SIG0_LEN;
	memset(q->approvals[0].sig, 0xaa, SAMPLE_SIG0_LEN);
	strcpy(q->approvals[1].approver, "bob.ops");
	q->approvals[1].expiry = 1700003600;
	q->approvals[1].sig_len = SAMPLE_SIG1_LEN;
	memset(q->approvals[1].sig, 0xbb, SAMPLE_SIG1_LEN);
}

/* Offsets of the sample's fields in its encoding, for targeted damage. */
struct sign_req_offsets {
	size_t id_len, id, asset_len, asset, chain, from, created, to, amount,
	    tx_len,
	    count, a0_name_len, a0_name, a0_expiry, a0_sig_len, a0_sig, end;
};

static struct sign_req_offsets
sign_req_offsets(void)
{
	struct sign_req_offsets o;

	o.id_len = PRT_HEADER_LEN;
	o.id = o.id_len + 4;
	o.asset_len = o.id + strlen(SAMPLE_ID);
	o.asset = o.asset_len + 4;
	o.chain = o.asset + strlen(SAMPLE_ASSET);
	o.from = o.chain + 8;
	o.created = o.from + 20;
	o.to = o.created + 4;
	o.amount = o.to + 20;
	o.tx_len = o.amount + 32;
	o.count = o.tx_len + 4 + SAMPLE_TX_LEN;
	o.a0_name_len = o.count + 2;
	o.a0_name = o.a0_name_len + 4;
	o.a0_expiry = o.a0_name + strlen("alice");
	o.a0_sig_len = o.a0_expiry + 8;
	o.a0_sig = o.a0_sig_len + 4;
	o.end = o.a0_sig + SAMPLE_SIG0_LEN + 4 + strlen("bob.ops") + 8 + 4 +
	    SAMPLE_SIG1_LEN;
	return o;
}

static void
sample_sign_rep(struct prt_sign_rep *p)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->raw_len = 180;
	for (i = 0; i < p->raw_len; i++)
		p->raw[i] = (uint8_t)(0xff - i);
	for (i = 0; i < sizeof(p->tx_hash); i++)
		p->tx_hash[i] = (uint8_t)(0x40 + i);
	/* Distinct bytes, so a byte order mistake shows. */
	p->receipt_seq = 0x0102030405060708ULL;
	for (i = 0; i < sizeof(p->receipt_hash); i++)
		p->receipt_hash[i] = (uint8_t)(0xc0 + i);
}

static void
sample_exposure_req(struct prt_exposure_req *q)
{
	memset(q, 0, sizeof(*q));
	strcpy(q->asset, SAMPLE_ASSET);
	q->date = 20000;
}

static void
sample_exposure_rep(struct prt_exposure_rep *p)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->asset, "ETH");
	p->date = 20049;
	p->signed_total.w[0] = 123456789;
	p->limit.w[1] = 1;
	p->limit.w[0] = 0;
	p->remaining.w[0] = 0xffffffffffffffffULL;
	p->remaining.w[3] = 0x8000000000000000ULL;
}

/* A reason code (policy/'s, opaque to proto/) with four distinct bytes. */
#define SAMPLE_BLOCKED 0x01020304

static void
sample_status_rep(struct prt_status_rep *p)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	strcpy(p->version, "signerd 0.1.0 (proto 1)");
	strcpy(p->policy_id, "genesis-2024-11");
	for (i = 0; i < PRT_HASH_LEN; i++) {
		p->policy_hash[i] = (uint8_t)i;
		p->head_hash[i] = (uint8_t)(0x80 | i);
	}
	p->head_seq = 0x0000000100000002ULL;
	p->paused = 1;
	/* Paused: no sign can succeed, and blocked says why. */
	p->can_sign = 0;
	p->blocked = SAMPLE_BLOCKED;
	p->nkeys = 2;
	strcpy(p->keys[0].name, "hot-usdc");
	memset(p->keys[0].address, 0x42, EVM_ADDR_LEN);
	strcpy(p->keys[1].name, "hot-eth");
	memset(p->keys[1].address, 0x43, EVM_ADDR_LEN);
}

static const char SAMPLE_JSON[] = "{\"policy_id\":\"genesis-2024-11\"}";

static void
ok_hdr(struct prt_reply_hdr *h)
{
	memset(h, 0, sizeof(*h));
	strcpy(h->message, "ok");
}

/* A copy of exactly n bytes on the heap, so ASan sees any overread. */
static uint8_t *
dup_exact(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n > 0 ? n : 1);

	assert_non_null(d);
	if (n > 0)
		memcpy(d, p, n);
	return d;
}

static void
assert_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			fail_msg("output byte %zu not cleared: 0x%02x", i, b[i]);
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void
put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* --- one decoder interface for the generic damage tests -------------- */

/*
 * Each wrapper fills its outputs with junk, decodes, and checks that a
 * failure left every output cleared (the cursor API's rule, kept by the
 * message layer).
 */
static int
dec_sign_req(const uint8_t *b, size_t n)
{
	struct prt_sign_req *q = malloc(sizeof(*q));
	int r;

	assert_non_null(q);
	memset(q, JUNK, sizeof(*q));
	if ((r = prt_decode_sign_req(q, b, n)) != 0)
		assert_zero(q, sizeof(*q));
	free(q);
	return r;
}

static int
dec_sign_rep(const uint8_t *b, size_t n)
{
	struct prt_sign_rep *p = malloc(sizeof(*p));
	struct prt_reply_hdr h;
	int r;

	assert_non_null(p);
	memset(p, JUNK, sizeof(*p));
	memset(&h, JUNK, sizeof(h));
	if ((r = prt_decode_sign_rep(&h, p, b, n)) != 0) {
		assert_zero(p, sizeof(*p));
		assert_zero(&h, sizeof(h));
	}
	free(p);
	return r;
}

static int
dec_exposure_req(const uint8_t *b, size_t n)
{
	struct prt_exposure_req q;
	int r;

	memset(&q, JUNK, sizeof(q));
	if ((r = prt_decode_exposure_req(&q, b, n)) != 0)
		assert_zero(&q, sizeof(q));
	return r;
}

static int
dec_exposure_rep(const uint8_t *b, size_t n)
{
	struct prt_exposure_rep p;
	struct prt_reply_hdr h;
	int r;

	memset(&p, JUNK, sizeof(p));
	memset(&h, JUNK, sizeof(h));
	if ((r = prt_decode_exposure_rep(&h, &p, b, n)) != 0) {
		assert_zero(&p, sizeof(p));
		assert_zero(&h, sizeof(h));
	}
	return r;
}

static int
dec_status_req(const uint8_t *b, size_t n)
{
	return prt_decode_status_req(b, n);
}

static int
dec_status_rep(const uint8_t *b, size_t n)
{
	struct prt_status_rep *p = malloc(sizeof(*p));
	struct prt_reply_hdr h;
	int r;

	assert_non_null(p);
	memset(p, JUNK, sizeof(*p));
	memset(&h, JUNK, sizeof(h));
	if ((r = prt_decode_status_rep(&h, p, b, n)) != 0) {
		assert_zero(p, sizeof(*p));
		assert_zero(&h, sizeof(h));
	}
	free(p);
	return r;
}

static int
dec_policy_req(const uint8_t *b, size_t n)
{
	return prt_decode_policy_req(b, n);
}

static int
dec_policy_rep(const uint8_t *b, size_t n)
{
	struct prt_policy_rep p;
	struct prt_reply_hdr h;
	int r;

	memset(&p, JUNK, sizeof(p));
	memset(&h, JUNK, sizeof(h));
	if ((r = prt_decode_policy_rep(&h, &p, b, n)) != 0) {
		assert_zero(&p, sizeof(p));
		assert_zero(&h, sizeof(h));
	}
	return r;
}

static int
dec_error_rep(const uint8_t *b, size_t n)
{
	struct prt_reply_hdr h;
	uint16_t version = 0xa5a5;
	int r;

	memset(&h, JUNK, sizeof(h));
	if ((r = prt_decode_error_rep(&h, &version, b, n)) != 0) {
		assert_zero(&h, sizeof(h));
		assert_int_equal(version, 0);
	}
	return r;
}

static int
dec_queue_req(const uint8_t *b, size_t n)
{
	struct prt_sign_req *q = malloc(sizeof(*q));
	int r;

	assert_non_null(q);
	memset(q, JUNK, sizeof(*q));
	if ((r = prt_decode_queue_req(q, b, n)) != 0)
		assert_zero(q, sizeof(*q));
	free(q);
	return r;
}

static int
dec_queue_rep(const uint8_t *b, size_t n)
{
	struct prt_queue_rep p;
	struct prt_reply_hdr h;
	int r;

	memset(&p, JUNK, sizeof(p));
	memset(&h, JUNK, sizeof(h));
	if ((r = prt_decode_queue_rep(&h, &p, b, n)) != 0) {
		assert_zero(&p, sizeof(p));
		assert_zero(&h, sizeof(h));
	}
	return r;
}

static int
dec_cancel_req(const uint8_t *b, size_t n)
{
	struct prt_cancel_req q;
	int r;

	memset(&q, JUNK, sizeof(q));
	if ((r = prt_decode_cancel_req(&q, b, n)) != 0)
		assert_zero(&q, sizeof(q));
	return r;
}

static int
dec_pause_req(const uint8_t *b, size_t n)
{
	struct prt_pause_req q;
	int r;

	memset(&q, JUNK, sizeof(q));
	if ((r = prt_decode_pause_req(&q, b, n)) != 0)
		assert_zero(&q, sizeof(q));
	return r;
}

static int
dec_unpause_req(const uint8_t *b, size_t n)
{
	struct prt_unpause_req *q = malloc(sizeof(*q));
	int r;

	assert_non_null(q);
	memset(q, JUNK, sizeof(*q));
	if ((r = prt_decode_unpause_req(q, b, n)) != 0)
		assert_zero(q, sizeof(*q));
	free(q);
	return r;
}

static int
dec_ack(uint16_t type, const uint8_t *b, size_t n)
{
	struct prt_reply_hdr h;
	int r;

	memset(&h, JUNK, sizeof(h));
	if ((r = prt_decode_ack_rep(&h, type, b, n)) != 0)
		assert_zero(&h, sizeof(h));
	return r;
}

static int
dec_cancel_rep(const uint8_t *b, size_t n)
{
	return dec_ack(PRT_CANCEL_REP, b, n);
}

static int
dec_pause_rep(const uint8_t *b, size_t n)
{
	return dec_ack(PRT_PAUSE_REP, b, n);
}

static int
dec_unpause_rep(const uint8_t *b, size_t n)
{
	return dec_ack(PRT_UNPAUSE_REP, b, n);
}

struct codec {
	const char *name;
	uint16_t type;
	int (*decode)(const uint8_t *, size_t);
	void (*encode)(struct prt_writer *);	/* the valid sample */
};

static void
enc_sign_req(struct prt_writer *w)
{
	struct prt_sign_req *q = malloc(sizeof(*q));

	assert_non_null(q);
	sample_sign_req(q);
	assert_int_equal(prt_encode_sign_req(w, q), 0);
	free(q);
}

static void
enc_sign_rep(struct prt_writer *w)
{
	struct prt_sign_rep p;
	struct prt_reply_hdr h;

	ok_hdr(&h);
	sample_sign_rep(&p);
	assert_int_equal(prt_encode_sign_rep(w, &h, &p), 0);
}

static void
enc_exposure_req(struct prt_writer *w)
{
	struct prt_exposure_req q;

	sample_exposure_req(&q);
	assert_int_equal(prt_encode_exposure_req(w, &q), 0);
}

static void
enc_exposure_rep(struct prt_writer *w)
{
	struct prt_exposure_rep p;
	struct prt_reply_hdr h;

	ok_hdr(&h);
	sample_exposure_rep(&p);
	assert_int_equal(prt_encode_exposure_rep(w, &h, &p), 0);
}

static void
enc_status_req(struct prt_writer *w)
{
	assert_int_equal(prt_encode_status_req(w), 0);
}

static void
enc_status_rep(struct prt_writer *w)
{
	struct prt_status_rep p;
	struct prt_reply_hdr h;

	ok_hdr(&h);
	sample_status_rep(&p);
	assert_int_equal(prt_encode_status_rep(w, &h, &p), 0);
}

static void
enc_policy_req(struct prt_writer *w)
{
	assert_int_equal(prt_encode_policy_req(w), 0);
}

static void
enc_policy_rep(struct prt_writer *w)
{
	struct prt_policy_rep p = { (const uint8_t *)SAMPLE_JSON,
		sizeof(SAMPLE_JSON) - 1 };
	struct prt_reply_hdr h;

	ok_hdr(&h);
	assert_int_equal(prt_encode_policy_rep(w, &h, &p), 0);
}

static void
enc_error_rep(struct prt_writer *w)
{
	struct prt_reply_hdr h;

	prt_reply_hdr_set(&h, ERR_BAD_VERSION, "version 2 not supported");
	assert_int_equal(prt_encode_error_rep(w, &h), 0);
}

/* A refusal: header only, no payload, for each reply type. */
static void
enc_sign_rep_refused(struct prt_writer *w)
{
	struct prt_reply_hdr h;

	prt_reply_hdr_set(&h, 7, "over daily limit");
	assert_int_equal(prt_encode_sign_rep(w, &h, NULL), 0);
}

static void
enc_status_rep_refused(struct prt_writer *w)
{
	struct prt_reply_hdr h;

	prt_reply_hdr_set(&h, ERR_HSM, "token gone");
	assert_int_equal(prt_encode_status_rep(w, &h, NULL), 0);
}

static void
sample_approval(struct prt_approval *a, const char *who, uint8_t fill,
    size_t len)
{
	memset(a, 0, sizeof(*a));
	strcpy(a->approver, who);
	a->expiry = 1795000000;
	a->sig_len = len;
	memset(a->sig, fill, len);
}

static void
sample_cancel_req(struct prt_cancel_req *q)
{
	memset(q, 0, sizeof(*q));
	strcpy(q->request_id, SAMPLE_ID);
	sample_approval(&q->approval, "carol", 0xcc, 71);
}

static void
sample_pause_req(struct prt_pause_req *q)
{
	memset(q, 0, sizeof(*q));
	strcpy(q->pause_id, "incident-7");
	sample_approval(&q->approval, "erin", 0xee, 64);
}

static void
sample_unpause_req(struct prt_unpause_req *q)
{
	memset(q, 0, sizeof(*q));
	strcpy(q->pause_id, "incident-7");
	q->napprovals = 2;
	sample_approval(&q->approvals[0], "alice", 0xaa, 70);
	sample_approval(&q->approvals[1], "bob", 0xbb, 72);
}

static void
enc_queue_req(struct prt_writer *w)
{
	struct prt_sign_req *q = malloc(sizeof(*q));

	assert_non_null(q);
	sample_sign_req(q);
	assert_int_equal(prt_encode_queue_req(w, q), 0);
	free(q);
}

static void
enc_queue_rep(struct prt_writer *w)
{
	struct prt_queue_rep p = { 1795000030 };
	struct prt_reply_hdr h;

	ok_hdr(&h);
	assert_int_equal(prt_encode_queue_rep(w, &h, &p), 0);
}

static void
enc_queue_rep_refused(struct prt_writer *w)
{
	struct prt_reply_hdr h;

	prt_reply_hdr_set(&h, 22, "APPROVALS_MISSING: 1 of 2");
	assert_int_equal(prt_encode_queue_rep(w, &h, NULL), 0);
}

static void
enc_cancel_req(struct prt_writer *w)
{
	struct prt_cancel_req q;

	sample_cancel_req(&q);
	assert_int_equal(prt_encode_cancel_req(w, &q), 0);
}

static void
enc_pause_req(struct prt_writer *w)
{
	struct prt_pause_req q;

	sample_pause_req(&q);
	assert_int_equal(prt_encode_pause_req(w, &q), 0);
}

static void
enc_unpause_req(struct prt_writer *w)
{
	struct prt_unpause_req *q = malloc(sizeof(*q));

	assert_non_null(q);
	sample_unpause_req(q);
	assert_int_equal(prt_encode_unpause_req(w, q), 0);
	free(q);
}

static void
enc_cancel_rep(struct prt_writer *w)
{
	struct prt_reply_hdr h;

	ok_hdr(&h);
	assert_int_equal(prt_encode_ack_rep(w, PRT_CANCEL_REP, &h), 0);
}

static void
enc_pause_rep(struct prt_writer *w)
{
	struct prt_reply_hdr h;

	ok_hdr(&h);
	assert_int_equal(prt_encode_ack_rep(w, PRT_PAUSE_REP, &h), 0);
}

static void
enc_unpause_rep_refused(struct prt_writer *w)
{
	struct prt_reply_hdr h;

	prt_reply_hdr_set(&h, 22, "APPROVALS_MISSING: 1 of 2 governance");
	assert_int_equal(prt_encode_ack_rep(w, PRT_UNPAUSE_REP, &h), 0);
}

/* --- governance samples ------------------------------------------------ */

static const char SAMPLE_POLICY[] =
    "{\"policy_id\":\"ops-2026-12-a\",\"assets\":{}}\n";

static void
sample_gov_propose_req(struct prt_gov_propose_req *q)
{
	size_t i;

	memset(q, 0, sizeof(*q));
	q->policy = (const uint8_t *)SAMPLE_POLICY;
	q->policy_len = sizeof(SAMPLE_POLICY) - 1;
	for (i = 0; i < sizeof(q->replaces); i++)
		q->replaces[i] = (uint8_t)(0x70 + i);
}

static void
sample_gov_approve_req(struct prt_gov_approve_req *q)
{
	size_t i;

	memset(q, 0, sizeof(*q));
	for (i = 0; i < sizeof(q->proposed); i++)
		q->proposed[i] = (uint8_t)(0x90 + i);
	q->napprovals = 2;
	sample_approval(&q->approvals[0], "alice", 0xaa, 70);
	sample_approval(&q->approvals[1], "bob", 0xbb, 64);
}

static void
sample_gov_cancel_req(struct prt_gov_cancel_req *q)
{
	size_t i;

	memset(q, 0, sizeof(*q));
	for (i = 0; i < sizeof(q->proposed); i++)
		q->proposed[i] = (uint8_t)(0x90 + i);
	sample_approval(&q->approval, "carol", 0xcc, 71);
}

/*
 * The version in force and, when pending, a loosening approved by
 * napproved of the 2 needed (effective once both are in).
 */
static void
sample_gov_state(struct prt_gov_state *st, int pending, uint16_t napproved)
{
	static const char *const names[] = { "alice", "bob.ops" };
	size_t i;

	memset(st, 0, sizeof(*st));
	strcpy(st->policy_id, "genesis-2026-11");
	for (i = 0; i < PRT_HASH_LEN; i++)
		st->policy_hash[i] = (uint8_t)(0x30 + i);
	st->version = 0x01020304;
	st->since = 0x1112131415161718ULL;
	if (!pending)
		return;
	st->pending = 1;
	strcpy(st->pending_id, "ops-2026-12-a");
	for (i = 0; i < PRT_HASH_LEN; i++)
		st->pending_hash[i] = (uint8_t)(0xa0 + i);
	st->change = PRT_GOV_LOOSEN;
	st->proposed_at = 1795003600;
	st->needed = 2;
	st->effective_at = napproved >= 2 ? 1795010800 : 0;
	st->napproved = napproved;
	for (i = 0; i < napproved && i < ARRAY_LEN(names); i++)
		strcpy(st->approved[i], names[i]);
}

static int
dec_gov_propose_req(const uint8_t *b, size_t n)
{
	struct prt_gov_propose_req q;
	int r;

	memset(&q, JUNK, sizeof(q));
	if ((r = prt_decode_gov_propose_req(&q, b, n)) != 0)
		assert_zero(&q, sizeof(q));
	return r;
}

static int
dec_gov_approve_req(const uint8_t *b, size_t n)
{
	struct prt_gov_approve_req *q = malloc(sizeof(*q));
	int r;

	assert_non_null(q);
	memset(q, JUNK, sizeof(*q));
	if ((r = prt_decode_gov_approve_req(q, b, n)) != 0)
		assert_zero(q, sizeof(*q));
	free(q);
	return r;
}

static int
dec_gov_cancel_req(const uint8_t *b, size_t n)
{
	struct prt_gov_cancel_req q;
	int r;

	memset(&q, JUNK, sizeof(q));
	if ((r = prt_decode_gov_cancel_req(&q, b, n)) != 0)
		assert_zero(&q, sizeof(q));
	return r;
}

static int
dec_gov_status_req(const uint8_t *b, size_t n)
{
	return prt_decode_gov_status_req(b, n);
}

static int
dec_gov(uint16_t type, const uint8_t *b, size_t n)
{
	struct prt_gov_state *st = malloc(sizeof(*st));
	struct prt_reply_hdr h;
	int r;

	assert_non_null(st);
	memset(st, JUNK, sizeof(*st));
	memset(&h, JUNK, sizeof(h));
	if ((r = prt_decode_gov_rep(&h, type, st, b, n)) != 0) {
		assert_zero(st, sizeof(*st));
		assert_zero(&h, sizeof(h));
	}
	free(st);
	return r;
}

static int
dec_gov_propose_rep(const uint8_t *b, size_t n)
{
	return dec_gov(PRT_GOV_PROPOSE_REP, b, n);
}

static int
dec_gov_approve_rep(const uint8_t *b, size_t n)
{
	return dec_gov(PRT_GOV_APPROVE_REP, b, n);
}

static int
dec_gov_cancel_rep(const uint8_t *b, size_t n)
{
	return dec_gov(PRT_GOV_CANCEL_REP, b, n);
}

static int
dec_gov_status_rep(const uint8_t *b, size_t n)
{
	return dec_gov(PRT_GOV_STATUS_REP, b, n);
}

static void
enc_gov_propose_req(struct prt_writer *w)
{
	struct prt_gov_propose_req q;

	sample_gov_propose_req(&q);
	assert_int_equal(prt_encode_gov_propose_req(w, &q), 0);
}

static void
enc_gov_approve_req(struct prt_writer *w)
{
	struct prt_gov_approve_req *q = malloc(sizeof(*q));

	assert_non_null(q);
	sample_gov_approve_req(q);
	assert_int_equal(prt_encode_gov_approve_req(w, q), 0);
	free(q);
}

static void
enc_gov_cancel_req(struct prt_writer *w)
{
	struct prt_gov_cancel_req q;

	sample_gov_cancel_req(&q);
	assert_int_equal(prt_encode_gov_cancel_req(w, &q), 0);
}

static void
enc_gov_status_req(struct prt_writer *w)
{
	assert_int_equal(prt_encode_gov_status_req(w), 0);
}

/* A fresh proposal: pending, nobody approved yet. */
static void
enc_gov_propose_rep(struct prt_writer *w)
{
	struct prt_gov_state st;
	struct prt_reply_hdr h;

	ok_hdr(&h);
	sample_gov_state(&st, 1, 0);
	assert_int_equal(prt_encode_gov_rep(w, PRT_GOV_PROPOSE_REP, &h, &st),
	    0);
}

/* Approved: both names, effective after the delay. */
static void
enc_gov_approve_rep(struct prt_writer *w)
{
	struct prt_gov_state st;
	struct prt_reply_hdr h;

	ok_hdr(&h);
	sample_gov_state(&st, 1, 2);
	assert_int_equal(prt_encode_gov_rep(w, PRT_GOV_APPROVE_REP, &h, &st),
	    0);
}

/* Cancelled: nothing pending any more. */
static void
enc_gov_cancel_rep(struct prt_writer *w)
{
	struct prt_gov_state st;
	struct prt_reply_hdr h;

	ok_hdr(&h);
	sample_gov_state(&st, 0, 0);
	assert_int_equal(prt_encode_gov_rep(w, PRT_GOV_CANCEL_REP, &h, &st),
	    0);
}

/* A tightening with one approval in. */
static void
enc_gov_status_rep(struct prt_writer *w)
{
	struct prt_gov_state st;
	struct prt_reply_hdr h;

	ok_hdr(&h);
	sample_gov_state(&st, 1, 1);
	st.change = PRT_GOV_TIGHTEN;
	assert_int_equal(prt_encode_gov_rep(w, PRT_GOV_STATUS_REP, &h, &st),
	    0);
}

static void
enc_gov_approve_rep_refused(struct prt_writer *w)
{
	struct prt_reply_hdr h;

	prt_reply_hdr_set(&h, 25, "APPROVAL_BAD_SIGNATURE: alice");
	assert_int_equal(prt_encode_gov_rep(w, PRT_GOV_APPROVE_REP, &h, NULL),
	    0);
}

static const struct codec codecs[] = {
	{ "SIGN_REQ", PRT_SIGN_REQ, dec_sign_req, enc_sign_req },
	{ "SIGN_REP", PRT_SIGN_REP, dec_sign_rep, enc_sign_rep },
	{ "SIGN_REP refused", PRT_SIGN_REP, dec_sign_rep, enc_sign_rep_refused },
	{ "EXPOSURE_REQ", PRT_EXPOSURE_REQ, dec_exposure_req,
	    enc_exposure_req },
	{ "EXPOSURE_REP", PRT_EXPOSURE_REP, dec_exposure_rep,
	    enc_exposure_rep },
	{ "STATUS_REQ", PRT_STATUS_REQ, dec_status_req, enc_status_req },
	{ "STATUS_REP", PRT_STATUS_REP, dec_status_rep, enc_status_rep },
	{ "STATUS_REP refused", PRT_STATUS_REP, dec_status_rep,
	    enc_status_rep_refused },
	{ "POLICY_REQ", PRT_POLICY_REQ, dec_policy_req, enc_policy_req },
	{ "POLICY_REP", PRT_POLICY_REP, dec_policy_rep, enc_policy_rep },
	{ "ERROR_REP", PRT_ERROR_REP, dec_error_rep, enc_error_rep },
	{ "QUEUE_REQ", PRT_QUEUE_REQ, dec_queue_req, enc_queue_req },
	{ "QUEUE_REP", PRT_QUEUE_REP, dec_queue_rep, enc_queue_rep },
	{ "QUEUE_REP refused", PRT_QUEUE_REP, dec_queue_rep,
	    enc_queue_rep_refused },
	{ "CANCEL_REQ", PRT_CANCEL_REQ, dec_cancel_req, enc_cancel_req },
	{ "CANCEL_REP", PRT_CANCEL_REP, dec_cancel_rep, enc_cancel_rep },
	{ "PAUSE_REQ", PRT_PAUSE_REQ, dec_pause_req, enc_pause_req },
	{ "PAUSE_REP", PRT_PAUSE_REP, dec_pause_rep, enc_pause_rep },
	{ "UNPAUSE_REQ", PRT_UNPAUSE_REQ, dec_unpause_req, enc_unpause_req },
	{ "UNPAUSE_REP refused", PRT_UNPAUSE_REP, dec_unpause_rep,
	    enc_unpause_rep_refused },
	{ "GOV_PROPOSE_REQ", PRT_GOV_PROPOSE_REQ, dec_gov_propose_req,
	    enc_gov_propose_req },
	{ "GOV_APPROVE_REQ", PRT_GOV_APPROVE_REQ, dec_gov_approve_req,
	    enc_gov_approve_req },
	{ "GOV_CANCEL_REQ", PRT_GOV_CANCEL_REQ, dec_gov_cancel_req,
	    enc_gov_cancel_req },
	{ "GOV_STATUS_REQ", PRT_GOV_STATUS_REQ, dec_gov_status_req,
	    enc_gov_status_req },
	{ "GOV_PROPOSE_REP", PRT_GOV_PROPOSE_REP, dec_gov_propose_rep,
	    enc_gov_propose_rep },
	{ "GOV_APPROVE_REP", PRT_GOV_APPROVE_REP, dec_gov_approve_rep,
	    enc_gov_approve_rep },
	{ "GOV_APPROVE_REP refused", PRT_GOV_APPROVE_REP, dec_gov_approve_rep,
	    enc_gov_approve_rep_refused },
	{ "GOV_CANCEL_REP", PRT_GOV_CANCEL_REP, dec_gov_cancel_rep,
	    enc_gov_cancel_rep },
	{ "GOV_STATUS_REP", PRT_GOV_STATUS_REP, dec_gov_status_rep,
	    enc_gov_status_rep },
};

/* Encodes codec c's sample into a fresh heap buffer of exact size. */
static uint8_t *
encode_sample(const struct codec *c, size_t *len)
{
	struct prt_writer w;
	uint8_t *b;

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	c->encode(&w);
	assert_int_equal(prt_writer_error(&w), 0);
	b = dup_exact(w.p, w.len);
	*len = w.len;
	prt_writer_free(&w);
	return b;
}

static int
decode_copy(const struct codec *c, const uint8_t *p, size_t n)
{
	uint8_t *d = dup_exact(p, n);
	int r = c->decode(d, n);

	free(d);
	return r;
}

/* --- generic damage, every decoder ----------------------------------- */

static void
test_all_valid_samples_decode(void **state)
{
	size_t i, len;
	uint8_t *b;
	uint16_t v, t;

	for (i = 0; i < ARRAY_LEN(codecs); i++) {
		b = encode_sample(&codecs[i], &len);
		assert_int_equal(prt_peek_header(&v, &t, b, len), 0);
		assert_int_equal(v, PRT_VERSION);
		assert_int_equal(t, codecs[i].type);
		if (codecs[i].decode(b, len) != 0)
			fail_msg("%s: sample does not decode", codecs[i].name);
		free(b);
	}
}

static void
test_all_truncated_at_every_offset(void **state)
{
	size_t i, cut, len;
	uint8_t *b;
	int r;

	for (i = 0; i < ARRAY_LEN(codecs); i++) {
		b = encode_sample(&codecs[i], &len);
		for (cut = 0; cut < len; cut++) {
			r = decode_copy(&codecs[i], b, cut);
			if (r != ERR_TRUNCATED)
				fail_msg("%s cut at %zu/%zu: %s", codecs[i].name,
				    cut, len, err_name(r));
		}
		assert_int_equal(codecs[i].decode(NULL, 0), ERR_TRUNCATED);
		free(b);
	}
}

static void
test_all_trailing_byte(void **state)
{
	size_t i, len;
	uint8_t *b, *t;

	for (i = 0; i < ARRAY_LEN(codecs); i++) {
		b = encode_sample(&codecs[i], &len);
		t = malloc(len + 1);
		assert_non_null(t);
		memcpy(t, b, len);
		t[len] = 0;
		if (codecs[i].decode(t, len + 1) != ERR_TRAILING)
			fail_msg("%s: trailing byte accepted", codecs[i].name);
		free(t);
		free(b);
	}
}

static void
test_all_version(void **state)
{
	static const uint16_t bad[] = { 0, PRT_VERSION + 1, 0x0100, 0xffff };
	size_t i, j, len;
	uint8_t *b;
	uint16_t v, t;

	for (i = 0; i < ARRAY_LEN(codecs); i++) {
		/* ERROR_REP accepts any version on purpose: tested below. */
		if (codecs[i].type == PRT_ERROR_REP)
			continue;
		b = encode_sample(&codecs[i], &len);
		for (j = 0; j < ARRAY_LEN(bad); j++) {
			put_be16(b + 4, bad[j]);
			if (decode_copy(&codecs[i], b, len) != ERR_BAD_VERSION)
				fail_msg("%s: version %u accepted",
				    codecs[i].name, bad[j]);
			/* peek reports the version without judging it */
			assert_int_equal(prt_peek_header(&v, &t, b, len), 0);
			assert_int_equal(v, bad[j]);
			assert_int_equal(t, codecs[i].type);
		}
		free(b);
	}
}

static void
test_all_magic(void **state)
{
	size_t i, j, len;
	uint8_t *b, save;
	uint16_t v, t;

	for (i = 0; i < ARRAY_LEN(codecs); i++) {
		b = encode_sample(&codecs[i], &len);
		for (j = 0; j < PRT_MAGIC_LEN; j++) {
			save = b[j];
			b[j] ^= 0x20;	/* "sGNR": case matters */
			if (decode_copy(&codecs[i], b, len) != ERR_MALFORMED)
				fail_msg("%s: magic byte %zu", codecs[i].name, j);
			v = t = 0xa5a5;
			assert_int_equal(prt_peek_header(&v, &t, b, len),
			    ERR_MALFORMED);
			assert_int_equal(v, 0);
			assert_int_equal(t, 0);
			b[j] = save;
		}
		free(b);
	}
}

/* Each decoder refuses every other type's frame. */
static void
test_all_type_mismatch(void **state)
{
	size_t i, j, len;
	uint8_t *b;

	for (i = 0; i < ARRAY_LEN(codecs); i++) {
		b = encode_sample(&codecs[i], &len);
		for (j = 0; j < ARRAY_LEN(codecs); j++) {
			if (codecs[j].type == codecs[i].type)
				continue;
			if (decode_copy(&codecs[j], b, len) != ERR_MALFORMED)
				fail_msg("%s decoder took a %s frame",
				    codecs[j].name, codecs[i].name);
		}
		/* Unused and unknown type numbers too. */
		put_be16(b + 6, 0x000D);
		assert_int_equal(decode_copy(&codecs[i], b, len), ERR_MALFORMED);
		put_be16(b + 6, 0x7fff);
		assert_int_equal(decode_copy(&codecs[i], b, len), ERR_MALFORMED);
		free(b);
	}
}

/* The size limit is checked before a single byte is read. */
static void
test_all_oversize_input(void **state)
{
	size_t i, len;
	uint8_t *b, *big;
	uint16_t v, t;

	big = calloc(1, PRT_MAX_MESSAGE + 1);
	assert_non_null(big);
	for (i = 0; i < ARRAY_LEN(codecs); i++) {
		b = encode_sample(&codecs[i], &len);
		memcpy(big, b, len);
		assert_int_equal(codecs[i].decode(big, PRT_MAX_MESSAGE + 1),
		    ERR_TOO_LARGE);
		/* At exactly the limit the frame is read: trailing zeros. */
		assert_int_equal(codecs[i].decode(big, PRT_MAX_MESSAGE),
		    ERR_TRAILING);
		free(b);
	}
	assert_int_equal(prt_peek_header(&v, &t, big, PRT_MAX_MESSAGE + 1),
	    ERR_TOO_LARGE);
	/* A huge len with a tiny buffer: refused without touching it. */
	assert_int_equal(dec_sign_req(big, SIZE_MAX), ERR_TOO_LARGE);
	free(big);
}

/* --- SIGN ------------------------------------------------------------ */

static void
test_sign_req_round_trip(void **state)
{
	struct prt_sign_req *q = malloc(sizeof(*q)), *d = malloc(sizeof(*d));
	struct sign_req_offsets o = sign_req_offsets();
	struct prt_writer w, w2;
	static const uint8_t amount_be[32] = {
		1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
		0x17, 0x18, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
		0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38 };

	assert_non_null(q);
	assert_non_null(d);
	sample_sign_req(q);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_sign_req(&w, q), 0);
	assert_int_equal(w.len, o.end);
	assert_memory_equal(w.p, "SGNR\x00\x05\x00\x01", PRT_HEADER_LEN);
	/* Version 3: from right after chain_id; version 4: created_day
	 * (big-endian u32) right after from, then to. */
	assert_memory_equal(w.p + o.from, q->from, EVM_ADDR_LEN);
	assert_memory_equal(w.p + o.created, "\x01\x02\x4e\x21", 4);
	assert_memory_equal(w.p + o.to, q->to, EVM_ADDR_LEN);
	/* The amount is 32 big-endian bytes, most significant limb first. */
	assert_memory_equal(w.p + o.amount, amount_be, 32);
	assert_int_equal(prt_decode_sign_req(d, w.p, w.len), 0);
	assert_memory_equal(d, q, sizeof(*q));

	prt_writer_init(&w2, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_sign_req(&w2, d), 0);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.p, w.p, w.len);
	prt_writer_free(&w);
	prt_writer_free(&w2);
	free(q);
	free(d);
}

/* The largest SIGN_REQ: every field at its maximum. */
static void
test_sign_req_at_limits(void **state)
{
	struct prt_sign_req *q = malloc(sizeof(*q)), *d = malloc(sizeof(*d));
	struct prt_writer w;
	size_t i;

	assert_non_null(q);
	assert_non_null(d);
	memset(q, 0, sizeof(*q));
	memset(q->request_id, 'x', PRT_REQUEST_ID_MAX);
	memcpy(q->request_id, "Az09._:-", 8);
	memset(q->asset, 'Z', PRT_ASSET_MAX);
	q->chain_id = UINT64_MAX;
	memset(q->from, 0xfe, sizeof(q->from));
	q->created_day = UINT32_MAX;	/* the largest day is a day */
	memset(q->to, 0xff, sizeof(q->to));
	memset(&q->amount, 0xff, sizeof(q->amount));
	q->tx_len = PRT_TX_MAX;
	memset(q->tx, 0x5c, PRT_TX_MAX);
	q->napprovals = PRT_APPROVALS_MAX;
	for (i = 0; i < PRT_APPROVALS_MAX; i++) {
		memset(q->approvals[i].approver, 'a', PRT_APPROVER_MAX);
		q->approvals[i].approver[0] = (char)('A' + i);
		q->approvals[i].expiry = UINT64_MAX - i;
		q->approvals[i].sig_len = PRT_APPROVAL_SIG_MAX;
		memset(q->approvals[i].sig, (int)i, PRT_APPROVAL_SIG_MAX);
	}
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_sign_req(&w, q), 0);
	assert_true(w.len <= PRT_MAX_MESSAGE);
	assert_int_equal(prt_decode_sign_req(d, w.p, w.len), 0);
	assert_memory_equal(d, q, sizeof(*q));
	prt_writer_free(&w);

	/* The smallest: no approvals, empty tx, the zero address as from
	 * (the codec has no opinion on addresses; signerd refuses it), the
	 * first day that is not 0. */
	memset(q, 0, sizeof(*q));
	strcpy(q->request_id, "r");
	strcpy(q->asset, "E");
	q->created_day = 1;
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_sign_req(&w, q), 0);
	assert_int_equal(prt_decode_sign_req(d, w.p, w.len), 0);
	assert_memory_equal(d, q, sizeof(*q));
	prt_writer_free(&w);
	free(q);
	free(d);
}

/* Encodes the sample, lets damage() alter it, expects code from decode. */
static void
expect_sign_req(void (*damage)(uint8_t *, const struct sign_req_offsets *),
    int code)
{
	struct sign_req_offsets o = sign_req_offsets();
	struct prt_writer w;
	uint8_t *b;

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	enc_sign_req(&w);
	b = dup_exact(w.p, w.len);
	damage(b, &o);
	assert_int_equal(dec_sign_req(b, w.len), code);
	free(b);
	prt_writer_free(&w);
}

static void d_id_nul(uint8_t *b, const struct sign_req_offsets *o)
{ b[o->id + 3] = 0; }
static void d_id_slash(uint8_t *b, const struct sign_req_offsets *o)
{ b[o->id + 3] = '/'; }
static void d_id_space(uint8_t *b, const struct sign_req_offsets *o)
{ b[o->id] = ' '; }
static void d_id_high(uint8_t *b, const struct sign_req_offsets *o)
{ b[o->id + 1] = 0xc3; }
static void d_id_len_over(uint8_t *b, const struct sign_req_offsets *o)
{ put_be32(b + o->id_len, PRT_REQUEST_ID_MAX + 1); }
static void d_id_len_huge(uint8_t *b, const struct sign_req_offsets *o)
{ put_be32(b + o->id_len, 0xffffffffu); }
static void d_asset_lower(uint8_t *b, const struct sign_req_offsets *o)
{ b[o->asset + 1] = 's'; }
static void d_asset_dash(uint8_t *b, const struct sign_req_offsets *o)
{ b[o->asset + 1] = '-'; }
static void d_asset_nul(uint8_t *b, const struct sign_req_offsets *o)
{ b[o->asset + 3] = 0; }
static void d_asset_len_over(uint8_t *b, const struct sign_req_offsets *o)
{ put_be32(b + o->asset_len, PRT_ASSET_MAX + 1); }
static void d_tx_len_over(uint8_t *b, const struct sign_req_offsets *o)
{ put_be32(b + o->tx_len, PRT_TX_MAX + 1); }
static void d_count_over(uint8_t *b, const struct sign_req_offsets *o)
{ put_be16(b + o->count, PRT_APPROVALS_MAX + 1); }
static void d_count_huge(uint8_t *b, const struct sign_req_offsets *o)
{ put_be16(b + o->count, 0xffff); }
static void d_count_short(uint8_t *b, const struct sign_req_offsets *o)
{ put_be16(b + o->count, 1); }
static void d_count_long(uint8_t *b, const struct sign_req_offsets *o)
{ put_be16(b + o->count, 3); }
static void d_name_nul(uint8_t *b, const struct sign_req_offsets *o)
{ b[o->a0_name + 2] = 0; }
static void d_name_bad(uint8_t *b, const struct sign_req_offsets *o)
{ b[o->a0_name + 2] = '@'; }
static void d_name_len_over(uint8_t *b, const struct sign_req_offsets *o)
{ put_be32(b + o->a0_name_len, PRT_APPROVER_MAX + 1); }
static void d_sig_len_over(uint8_t *b, const struct sign_req_offsets *o)
{ put_be32(b + o->a0_sig_len, PRT_APPROVAL_SIG_MAX + 1); }
static void d_created_zero(uint8_t *b, const struct sign_req_offsets *o)
{ put_be32(b + o->created, 0); }
static void d_created_max(uint8_t *b, const struct sign_req_offsets *o)
{ put_be32(b + o->created, UINT32_MAX); }

static void
test_sign_req_malformed(void **state)
{
	expect_sign_req(d_id_nul, ERR_EMBEDDED_NUL);
	expect_sign_req(d_id_slash, ERR_MALFORMED);
	expect_sign_req(d_id_space, ERR_MALFORMED);
	expect_sign_req(d_id_high, ERR_MALFORMED);
	expect_sign_req(d_id_len_over, ERR_TOO_LARGE);
	expect_sign_req(d_id_len_huge, ERR_TOO_LARGE);
	expect_sign_req(d_asset_lower, ERR_MALFORMED);
	expect_sign_req(d_asset_dash, ERR_MALFORMED);
	expect_sign_req(d_asset_nul, ERR_EMBEDDED_NUL);
	expect_sign_req(d_asset_len_over, ERR_TOO_LARGE);
	expect_sign_req(d_tx_len_over, ERR_TOO_LARGE);
	expect_sign_req(d_count_over, ERR_TOO_LARGE);
	expect_sign_req(d_count_huge, ERR_TOO_LARGE);
	/* A count that disagrees with the entries: trailing or truncated. */
	expect_sign_req(d_count_short, ERR_TRAILING);
	expect_sign_req(d_count_long, ERR_TRUNCATED);
	expect_sign_req(d_name_nul, ERR_EMBEDDED_NUL);
	expect_sign_req(d_name_bad, ERR_MALFORMED);
	expect_sign_req(d_name_len_over, ERR_TOO_LARGE);
	expect_sign_req(d_sig_len_over, ERR_TOO_LARGE);
	/* created day 0 is no day; UINT32_MAX is one (signerd judges it). */
	expect_sign_req(d_created_zero, ERR_MALFORMED);
	expect_sign_req(d_created_max, 0);
}

/* Empty strings where 1.. characters are required. */
static void
test_sign_req_empty_fields(void **state)
{
	struct prt_writer w;
	uint8_t *b;

	/* Hand-built: header, "" request id, "USDC" ... cut after asset. */
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	(void)prt_put_bytes(&w, "SGNR", 4);
	(void)prt_put_u16(&w, PRT_VERSION);
	(void)prt_put_u16(&w, PRT_SIGN_REQ);
	(void)prt_put_string(&w, "");
	(void)prt_put_string(&w, "USDC");
	assert_int_equal(prt_writer_error(&w), 0);
	b = dup_exact(w.p, w.len);
	assert_int_equal(dec_sign_req(b, w.len), ERR_MALFORMED);
	free(b);
	prt_writer_free(&w);

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	(void)prt_put_bytes(&w, "SGNR", 4);
	(void)prt_put_u16(&w, PRT_VERSION);
	(void)prt_put_u16(&w, PRT_SIGN_REQ);
	(void)prt_put_string(&w, "id");
	(void)prt_put_string(&w, "");
	b = dup_exact(w.p, w.len);
	assert_int_equal(dec_sign_req(b, w.len), ERR_MALFORMED);
	free(b);
	prt_writer_free(&w);
}

/* Encoders refuse what decoders refuse, and leave the writer as it was. */
static void
test_sign_req_encoder_refuses(void **state)
{
	struct prt_sign_req *q = malloc(sizeof(*q));
	struct prt_writer w;

	assert_non_null(q);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	(void)prt_put_u8(&w, 0x77);	/* earlier content survives */

	sample_sign_req(q);
	q->request_id[0] = '\0';
	assert_int_equal(prt_encode_sign_req(&w, q), ERR_MALFORMED);
	assert_int_equal(w.len, 1);

	sample_sign_req(q);
	q->request_id[2] = '/';
	assert_int_equal(prt_encode_sign_req(&w, q), ERR_MALFORMED);

	sample_sign_req(q);
	memset(q->request_id, 'a', sizeof(q->request_id));	/* no NUL */
	assert_int_equal(prt_encode_sign_req(&w, q), ERR_TOO_LARGE);

	sample_sign_req(q);
	strcpy(q->asset, "usdc");
	assert_int_equal(prt_encode_sign_req(&w, q), ERR_MALFORMED);

	sample_sign_req(q);
	q->tx_len = PRT_TX_MAX + 1;
	assert_int_equal(prt_encode_sign_req(&w, q), ERR_TOO_LARGE);

	sample_sign_req(q);
	q->napprovals = PRT_APPROVALS_MAX + 1;
	assert_int_equal(prt_encode_sign_req(&w, q), ERR_TOO_LARGE);

	sample_sign_req(q);
	q->approvals[1].sig_len = PRT_APPROVAL_SIG_MAX + 1;
	assert_int_equal(prt_encode_sign_req(&w, q), ERR_TOO_LARGE);

	sample_sign_req(q);
	strcpy(q->approvals[1].approver, "bob smith");
	assert_int_equal(prt_encode_sign_req(&w, q), ERR_MALFORMED);

	/* created day 0: a struct nobody dated is not sent (QUEUE too). */
	sample_sign_req(q);
	q->created_day = 0;
	assert_int_equal(prt_encode_sign_req(&w, q), ERR_MALFORMED);
	assert_int_equal(prt_encode_queue_req(&w, q), ERR_MALFORMED);
	assert_int_equal(w.len, 1);
	assert_int_equal(w.p[0], 0x77);
	assert_int_equal(prt_writer_error(&w), 0);

	/* A writer too small for the frame: its sticky error, no half frame. */
	prt_writer_free(&w);
	prt_writer_init(&w, 100);
	sample_sign_req(q);
	assert_int_equal(prt_encode_sign_req(&w, q), ERR_TOO_LARGE);
	assert_int_equal(w.len, 0);
	prt_writer_free(&w);
	free(q);
}

static void
test_sign_rep_round_trip(void **state)
{
	struct prt_sign_rep p, d;
	struct prt_reply_hdr h, dh;
	struct prt_writer w, w2;
	static const int32_t results[] = { 7, -1, ERR_BAD_VERSION, INT32_MIN,
		INT32_MAX };
	size_t i;

	ok_hdr(&h);
	sample_sign_rep(&p);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_sign_rep(&w, &h, &p), 0);
	assert_int_equal(prt_decode_sign_rep(&dh, &d, w.p, w.len), 0);
	assert_memory_equal(&dh, &h, sizeof(h));
	assert_memory_equal(&d, &p, sizeof(p));
	prt_writer_init(&w2, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_sign_rep(&w2, &dh, &d), 0);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.p, w.p, w.len);
	prt_writer_free(&w);
	prt_writer_free(&w2);

	/* A refusal carries the code and the message, and no payload. */
	for (i = 0; i < ARRAY_LEN(results); i++) {
		prt_reply_hdr_set(&h, results[i], "refused: over daily limit");
		prt_writer_init(&w, PRT_MAX_MESSAGE);
		assert_int_equal(prt_encode_sign_rep(&w, &h, &p), 0);
		assert_int_equal(w.len, PRT_HEADER_LEN + 4 + 4 +
		    strlen(h.message) + RETRY_LEN);
		memset(&d, JUNK, sizeof(d));
		assert_int_equal(prt_decode_sign_rep(&dh, &d, w.p, w.len), 0);
		assert_int_equal(dh.result, results[i]);
		assert_string_equal(dh.message, "refused: over daily limit");
		assert_zero(&d, sizeof(d));
		prt_writer_free(&w);
	}
}

static void
test_sign_rep_malformed(void **state)
{
	struct prt_sign_rep p;
	struct prt_reply_hdr h;
	struct prt_writer w;
	size_t msg_off = PRT_HEADER_LEN + 4;	/* after the result */
	size_t raw_len_off = msg_off + 4 + 2 + RETRY_LEN;	/* "ok" */
	size_t receipt_off = raw_len_off + 4 + 180 + PRT_HASH_LEN;
	uint8_t *b;

	ok_hdr(&h);
	sample_sign_rep(&p);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_sign_rep(&w, &h, &p), 0);
	b = dup_exact(w.p, w.len);

	put_be32(b + raw_len_off, PRT_TX_MAX + 1);
	assert_int_equal(dec_sign_rep(b, w.len), ERR_TOO_LARGE);
	memcpy(b, w.p, w.len);
	b[msg_off + 4] = '\n';	/* control character in the message */
	assert_int_equal(dec_sign_rep(b, w.len), ERR_MALFORMED);
	b[msg_off + 4] = 0;
	assert_int_equal(dec_sign_rep(b, w.len), ERR_EMBEDDED_NUL);
	memcpy(b, w.p, w.len);
	put_be32(b + msg_off, PRT_MESSAGE_MAX + 1);
	assert_int_equal(dec_sign_rep(b, w.len), ERR_TOO_LARGE);
	/* A refusal followed by a payload: the payload is trailing. */
	memcpy(b, w.p, w.len);
	b[PRT_HEADER_LEN + 3] = 1;
	assert_int_equal(dec_sign_rep(b, w.len), ERR_TRAILING);
	/* Receipt seq 0 names no record (a journal starts at 1). */
	memcpy(b, w.p, w.len);
	memset(b + receipt_off, 0, 8);
	assert_int_equal(dec_sign_rep(b, w.len), ERR_MALFORMED);
	/* ... while seq 1 is a receipt. */
	b[receipt_off + 7] = 1;
	assert_int_equal(dec_sign_rep(b, w.len), 0);
	/* A version 1 reply (no receipt) is short, whatever it claims. */
	memcpy(b, w.p, w.len);
	assert_int_equal(dec_sign_rep(b, receipt_off), ERR_TRUNCATED);
	free(b);
	prt_writer_free(&w);

	/* The encoder refuses a message it could not send. */
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	strcpy(h.message, "line\nbreak");
	assert_int_equal(prt_encode_sign_rep(&w, &h, &p), ERR_MALFORMED);
	ok_hdr(&h);
	p.raw_len = PRT_TX_MAX + 1;
	assert_int_equal(prt_encode_sign_rep(&w, &h, &p), ERR_TOO_LARGE);
	/* ... or a signature without a receipt. */
	sample_sign_rep(&p);
	p.receipt_seq = 0;
	assert_int_equal(prt_encode_sign_rep(&w, &h, &p), ERR_MALFORMED);
	assert_int_equal(w.len, 0);
	/* A refusal has no payload, so no receipt either. */
	prt_reply_hdr_set(&h, 7, "over daily limit");
	assert_int_equal(prt_encode_sign_rep(&w, &h, &p), 0);
	prt_writer_free(&w);
}

/*
 * retry_after_s (version 5): a refusal's advice, as data.  Every value
 * 1..PRT_RETRY_AFTER_MAX survives a round trip in every typed reply;
 * above it is ERR_TOO_LARGE and advice on a success is ERR_MALFORMED,
 * from the encoder and the decoder alike; a frame cut inside it is
 * ERR_TRUNCATED; ERROR_REP's frozen layout cannot carry it.
 */
static const uint32_t retry_values[] = { 1, 2, 0x01020304,
	PRT_RETRY_AFTER_MAX - 1, PRT_RETRY_AFTER_MAX };

/* Encodes a refusal with advice as reply type type; 0 or the error. */
static int
enc_refusal(struct prt_writer *w, uint16_t type,
    const struct prt_reply_hdr *h)
{
	switch (type) {
	case PRT_SIGN_REP: return prt_encode_sign_rep(w, h, NULL);
	case PRT_QUEUE_REP: return prt_encode_queue_rep(w, h, NULL);
	case PRT_EXPOSURE_REP: return prt_encode_exposure_rep(w, h, NULL);
	case PRT_STATUS_REP: return prt_encode_status_rep(w, h, NULL);
	case PRT_POLICY_REP: return prt_encode_policy_rep(w, h, NULL);
	case PRT_GOV_STATUS_REP:
		return prt_encode_gov_rep(w, type, h, NULL);
	default: return prt_encode_ack_rep(w, type, h);
	}
}

/* Decodes a reply of type type into *h; 0 or the error. */
static int
dec_refusal(struct prt_reply_hdr *h, uint16_t type, const uint8_t *b,
    size_t n)
{
	static struct prt_sign_rep sr;
	static struct prt_status_rep st;
	static struct prt_gov_state gs;
	struct prt_queue_rep qr;
	struct prt_exposure_rep xr;
	struct prt_policy_rep pr;

	switch (type) {
	case PRT_SIGN_REP: return prt_decode_sign_rep(h, &sr, b, n);
	case PRT_QUEUE_REP: return prt_decode_queue_rep(h, &qr, b, n);
	case PRT_EXPOSURE_REP: return prt_decode_exposure_rep(h, &xr, b, n);
	case PRT_STATUS_REP: return prt_decode_status_rep(h, &st, b, n);
	case PRT_POLICY_REP: return prt_decode_policy_rep(h, &pr, b, n);
	case PRT_GOV_STATUS_REP: return prt_decode_gov_rep(h, type, &gs, b, n);
	default: return prt_decode_ack_rep(h, type, b, n);
	}
}

static const uint16_t typed_reps[] = { PRT_SIGN_REP, PRT_QUEUE_REP,
	PRT_EXPOSURE_REP, PRT_STATUS_REP, PRT_POLICY_REP, PRT_GOV_STATUS_REP,
	PRT_CANCEL_REP, PRT_PAUSE_REP, PRT_UNPAUSE_REP };

static void
test_retry_after_round_trip(void **state)
{
	struct prt_reply_hdr h, dh;
	struct prt_writer w, w2;
	size_t i, j, off;

	for (i = 0; i < ARRAY_LEN(typed_reps); i++) {
		for (j = 0; j < ARRAY_LEN(retry_values); j++) {
			prt_reply_hdr_set(&h, 29, "TIMELOCK_PENDING: wait");
			h.retry_after_s = retry_values[j];
			prt_writer_init(&w, PRT_MAX_MESSAGE);
			assert_int_equal(enc_refusal(&w, typed_reps[i], &h), 0);
			/* Big-endian, right after the message. */
			off = PRT_HEADER_LEN + 4 + 4 + strlen(h.message);
			assert_int_equal(w.len, off + RETRY_LEN);
			assert_int_equal(w.p[off], retry_values[j] >> 24);
			assert_int_equal(w.p[off + 3], retry_values[j] & 0xff);
			memset(&dh, JUNK, sizeof(dh));
			assert_int_equal(dec_refusal(&dh, typed_reps[i], w.p,
			    w.len), 0);
			assert_memory_equal(&dh, &h, sizeof(h));
			prt_writer_init(&w2, PRT_MAX_MESSAGE);
			assert_int_equal(enc_refusal(&w2, typed_reps[i], &dh),
			    0);
			assert_int_equal(w2.len, w.len);
			assert_memory_equal(w2.p, w.p, w.len);
			prt_writer_free(&w2);
			prt_writer_free(&w);
		}
	}
}

static void
test_retry_after_malformed(void **state)
{
	struct prt_reply_hdr h, dh;
	struct prt_writer w;
	size_t i, off, cut;
	uint8_t *b;

	for (i = 0; i < ARRAY_LEN(typed_reps); i++) {
		prt_reply_hdr_set(&h, 48, "IN_FLIGHT: busy");
		h.retry_after_s = 1;
		prt_writer_init(&w, PRT_MAX_MESSAGE);
		assert_int_equal(enc_refusal(&w, typed_reps[i], &h), 0);
		off = PRT_HEADER_LEN + 4 + 4 + strlen(h.message);
		b = dup_exact(w.p, w.len);
		/* Over the range: the decoder refuses, outputs cleared. */
		put_be32(b + off, PRT_RETRY_AFTER_MAX + 1);
		memset(&dh, JUNK, sizeof(dh));
		assert_int_equal(dec_refusal(&dh, typed_reps[i], b, w.len),
		    ERR_TOO_LARGE);
		assert_zero(&dh, sizeof(dh));
		put_be32(b + off, UINT32_MAX);
		assert_int_equal(dec_refusal(&dh, typed_reps[i], b, w.len),
		    ERR_TOO_LARGE);
		/* Cut inside the field, at each of its bytes. */
		for (cut = off; cut < off + RETRY_LEN; cut++) {
			free(b);
			b = dup_exact(w.p, cut);
			assert_int_equal(dec_refusal(&dh, typed_reps[i], b,
			    cut), ERR_TRUNCATED);
		}
		free(b);
		/* A version 4 refusal (no field) is short, whatever it says. */
		b = dup_exact(w.p, off);
		b[5] = 4;
		assert_int_equal(dec_refusal(&dh, typed_reps[i], b, off),
		    ERR_BAD_VERSION);
		b[5] = PRT_VERSION & 0xff;
		assert_int_equal(dec_refusal(&dh, typed_reps[i], b, off),
		    ERR_TRUNCATED);
		free(b);
		/* Advice on a success: result 0 with retry_after_s 1. */
		b = dup_exact(w.p, w.len);
		memset(b + PRT_HEADER_LEN, 0, 4);
		assert_int_equal(dec_refusal(&dh, typed_reps[i], b, w.len),
		    ERR_MALFORMED);
		free(b);
		prt_writer_free(&w);

		/* The encoder refuses both, and appends nothing. */
		prt_writer_init(&w, PRT_MAX_MESSAGE);
		h.retry_after_s = PRT_RETRY_AFTER_MAX + 1;
		assert_int_equal(enc_refusal(&w, typed_reps[i], &h),
		    ERR_TOO_LARGE);
		h.result = 0;
		h.retry_after_s = 1;
		assert_int_equal(enc_refusal(&w, typed_reps[i], &h),
		    ERR_MALFORMED);
		assert_int_equal(w.len, 0);
		prt_writer_free(&w);
	}
	/* ERROR_REP: frozen, no room for advice, so never silently lost. */
	prt_reply_hdr_set(&h, ERR_BAD_VERSION, "speaks version 9");
	h.retry_after_s = 5;
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_error_rep(&w, &h), ERR_INVALID_ARG);
	assert_int_equal(w.len, 0);
	h.retry_after_s = 0;
	assert_int_equal(prt_encode_error_rep(&w, &h), 0);
	assert_int_equal(w.len, PRT_HEADER_LEN + 4 + 4 + strlen(h.message));
	prt_writer_free(&w);
}

/* Runs of one byte value, to write 20- and 32-byte fields out in full. */
#define R4(x) x, x, x, x
#define R20(x) R4(x), R4(x), R4(x), R4(x), R4(x)
#define R32(x) R4(x), R4(x), R4(x), R4(x), R4(x), R4(x), R4(x), R4(x)

/* SIGN_REP, byte for byte (docs/protocol.md; its layout since version 2). */
static void
test_sign_rep_golden(void **state)
{
	static const uint8_t golden[] = {
		'S', 'G', 'N', 'R', 0, 5, 0x80, 0x01,	/* header */
		0, 0, 0, 0,				/* result OK */
		0, 0, 0, 2, 'o', 'k',			/* message */
		0, 0, 0, 0,				/* retry_after_s */
		0, 0, 0, 3, 0x02, 0xc0, 0x01,		/* raw */
		R32(0x11),				/* tx_hash */
		0, 0, 0, 0, 0, 0, 0x01, 0x2c,		/* receipt_seq 300 */
		R32(0x22),				/* receipt_hash */
	};
	struct prt_sign_rep p, d;
	struct prt_reply_hdr h, dh;
	struct prt_writer w;

	ok_hdr(&h);
	memset(&p, 0, sizeof(p));
	p.raw[0] = 0x02;
	p.raw[1] = 0xc0;
	p.raw[2] = 0x01;
	p.raw_len = 3;
	memset(p.tx_hash, 0x11, sizeof(p.tx_hash));
	p.receipt_seq = 300;
	memset(p.receipt_hash, 0x22, sizeof(p.receipt_hash));
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_sign_rep(&w, &h, &p), 0);
	assert_int_equal(w.len, sizeof(golden));
	assert_memory_equal(w.p, golden, sizeof(golden));
	assert_int_equal(prt_decode_sign_rep(&dh, &d, golden, sizeof(golden)),
	    0);
	assert_memory_equal(&d, &p, sizeof(p));
	prt_writer_free(&w);
}

/*
 * Version 4's SIGN_REQ, byte for byte: from between chain_id and to
 * (version 3), created_day between from and to (version 4).
 */
static void
test_sign_req_golden(void **state)
{
	static const uint8_t golden[] = {
		'S', 'G', 'N', 'R', 0, 5, 0, 0x01,	/* header */
		0, 0, 0, 1, 'r',			/* request_id */
		0, 0, 0, 3, 'E', 'T', 'H',		/* asset */
		0, 0, 0, 0, 0, 0, 0x05, 0x39,		/* chain_id 1337 */
		R20(0x66),				/* from */
		0, 0, 0x4e, 0x21,			/* created_day 20001 */
		R20(0x77),				/* to */
		R4(0), R4(0), R4(0), R4(0), R4(0), R4(0), R4(0),
		0, 0, 0x03, 0xe8,			/* amount 1000 */
		0, 0, 0, 2, 0x02, 0xc0,			/* tx */
		0, 1,					/* approvals */
		0, 0, 0, 1, 'a',			/* approver */
		0, 0, 0, 0, 0, 0, 0, 9,			/* expiry */
		0, 0, 0, 1, 0x5a,			/* signature */
	};
	struct prt_sign_req *q = calloc(1, sizeof(*q));
	struct prt_sign_req *d = malloc(sizeof(*d));
	struct prt_writer w;

	assert_non_null(q);
	assert_non_null(d);
	strcpy(q->request_id, "r");
	strcpy(q->asset, "ETH");
	q->chain_id = 1337;
	memset(q->from, 0x66, sizeof(q->from));
	q->created_day = 20001;
	memset(q->to, 0x77, sizeof(q->to));
	q->amount.w[0] = 1000;
	q->tx[0] = 0x02;
	q->tx[1] = 0xc0;
	q->tx_len = 2;
	q->napprovals = 1;
	strcpy(q->approvals[0].approver, "a");
	q->approvals[0].expiry = 9;
	q->approvals[0].sig[0] = 0x5a;
	q->approvals[0].sig_len = 1;
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_sign_req(&w, q), 0);
	assert_int_equal(w.len, sizeof(golden));
	assert_memory_equal(w.p, golden, sizeof(golden));
	assert_int_equal(prt_decode_sign_req(d, golden, sizeof(golden)), 0);
	assert_memory_equal(d, q, sizeof(*q));
	prt_writer_free(&w);
	free(q);
	free(d);
}

/*
 * The frame a version 3 client sends (no created_day): refused as another
 * version, for SIGN and QUEUE alike, never read as a version 4 frame with
 * the first bytes of to taken for a day.  Relabelled 4 it does not decode
 * either: every later field shifts by 4 bytes, and the tx length read
 * is then 0x02c00000 (the tx bytes), above its limit.
 */
static void
test_sign_req_version3_refused(void **state)
{
	uint8_t v3[] = {
		'S', 'G', 'N', 'R', 0, 3, 0, 0x01,	/* header */
		0, 0, 0, 1, 'r',			/* request_id */
		0, 0, 0, 3, 'E', 'T', 'H',		/* asset */
		0, 0, 0, 0, 0, 0, 0x05, 0x39,		/* chain_id 1337 */
		R20(0x66),				/* from */
		R20(0x77),				/* to */
		R4(0), R4(0), R4(0), R4(0), R4(0), R4(0), R4(0),
		0, 0, 0x03, 0xe8,			/* amount 1000 */
		0, 0, 0, 2, 0x02, 0xc0,			/* tx */
		0, 0,					/* approvals */
	};

	assert_int_equal(dec_sign_req(v3, sizeof(v3)), ERR_BAD_VERSION);
	v3[7] = PRT_QUEUE_REQ;
	assert_int_equal(dec_queue_req(v3, sizeof(v3)), ERR_BAD_VERSION);
	v3[5] = PRT_VERSION & 0xff;
	assert_int_equal(dec_queue_req(v3, sizeof(v3)), ERR_TOO_LARGE);
	v3[7] = PRT_SIGN_REQ;
	assert_int_equal(dec_sign_req(v3, sizeof(v3)), ERR_TOO_LARGE);
}

/* A frame that ends inside created_day, at each of its bytes. */
static void
test_sign_req_created_day_truncated(void **state)
{
	struct sign_req_offsets o = sign_req_offsets();
	struct prt_writer w;
	uint8_t *b;
	size_t cut;

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	enc_sign_req(&w);
	for (cut = o.created; cut < o.created + 4; cut++) {
		b = dup_exact(w.p, cut);
		assert_int_equal(dec_sign_req(b, cut), ERR_TRUNCATED);
		free(b);
	}
	/* With the whole field and nothing after it: truncated at to. */
	b = dup_exact(w.p, o.created + 4);
	assert_int_equal(dec_sign_req(b, o.created + 4), ERR_TRUNCATED);
	free(b);
	prt_writer_free(&w);
}

/* STATUS_REP, byte for byte: the flags after "paused" (since version 2). */
static void
test_status_rep_golden(void **state)
{
	static const uint8_t golden[] = {
		'S', 'G', 'N', 'R', 0, 5, 0x80, 0x03,	/* header */
		0, 0, 0, 0,				/* result OK */
		0, 0, 0, 2, 'o', 'k',			/* message */
		0, 0, 0, 0,				/* retry_after_s */
		0, 0, 0, 1, 'v',			/* version */
		0, 0, 0, 1, 'p',			/* policy_id */
		R32(0x33),				/* policy_hash */
		0, 0, 0, 0, 0, 0, 0, 9,			/* head_seq */
		R32(0x44),				/* head_hash */
		0,					/* paused */
		0,					/* can_sign */
		0xff, 0xff, 0xff, 0xd5,			/* blocked -43 */
		0, 1,					/* nkeys */
		0, 0, 0, 1, 'k', R20(0x55),		/* key 0 */
	};
	struct prt_status_rep *p = calloc(1, sizeof(*p));
	struct prt_status_rep *d = malloc(sizeof(*d));
	struct prt_reply_hdr h, dh;
	struct prt_writer w;

	assert_non_null(p);
	assert_non_null(d);
	ok_hdr(&h);
	strcpy(p->version, "v");
	strcpy(p->policy_id, "p");
	memset(p->policy_hash, 0x33, sizeof(p->policy_hash));
	p->head_seq = 9;
	memset(p->head_hash, 0x44, sizeof(p->head_hash));
	p->can_sign = 0;
	p->blocked = -43;	/* negative codes travel as their u32 bits */
	p->nkeys = 1;
	strcpy(p->keys[0].name, "k");
	memset(p->keys[0].address, 0x55, EVM_ADDR_LEN);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_status_rep(&w, &h, p), 0);
	assert_int_equal(w.len, sizeof(golden));
	assert_memory_equal(w.p, golden, sizeof(golden));
	assert_int_equal(prt_decode_status_rep(&dh, d, golden,
	    sizeof(golden)), 0);
	assert_memory_equal(d, p, sizeof(*p));
	prt_writer_free(&w);
	free(p);
	free(d);
}

/* --- EXPOSURE -------------------------------------------------------- */

static void
test_exposure_req_round_trip(void **state)
{
	static const uint8_t golden[] = { 'S', 'G', 'N', 'R', 0, 5, 0, 2,
		0, 0, 0, 4, 'U', 'S', 'D', 'C', 0, 0, 0x4e, 0x20 };
	struct prt_exposure_req q, d;
	struct prt_writer w;

	sample_exposure_req(&q);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_exposure_req(&w, &q), 0);
	assert_int_equal(w.len, sizeof(golden));
	assert_memory_equal(w.p, golden, sizeof(golden));
	assert_int_equal(prt_decode_exposure_req(&d, w.p, w.len), 0);
	assert_memory_equal(&d, &q, sizeof(q));
	prt_writer_free(&w);

	/* "today" is a request-side value. */
	q.date = PRT_DATE_TODAY;
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_exposure_req(&w, &q), 0);
	assert_int_equal(prt_decode_exposure_req(&d, w.p, w.len), 0);
	assert_int_equal(d.date, PRT_DATE_TODAY);
	prt_writer_free(&w);
}

static void
test_exposure_req_malformed(void **state)
{
	struct prt_exposure_req q;
	struct prt_writer w;
	uint8_t *b;

	sample_exposure_req(&q);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_exposure_req(&w, &q), 0);
	b = dup_exact(w.p, w.len);
	b[13] = 'x';
	assert_int_equal(dec_exposure_req(b, w.len), ERR_MALFORMED);
	b[13] = 0;
	assert_int_equal(dec_exposure_req(b, w.len), ERR_EMBEDDED_NUL);
	memcpy(b, w.p, w.len);
	put_be32(b + 8, PRT_ASSET_MAX + 1);
	assert_int_equal(dec_exposure_req(b, w.len), ERR_TOO_LARGE);
	free(b);
	prt_writer_free(&w);

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	q.asset[0] = '\0';
	assert_int_equal(prt_encode_exposure_req(&w, &q), ERR_MALFORMED);
	memset(q.asset, 'A', sizeof(q.asset));
	assert_int_equal(prt_encode_exposure_req(&w, &q), ERR_TOO_LARGE);
	assert_int_equal(w.len, 0);
	prt_writer_free(&w);
}

static void
test_exposure_rep_round_trip(void **state)
{
	struct prt_exposure_rep p, d;
	struct prt_reply_hdr h, dh;
	struct prt_writer w, w2;
	size_t u = PRT_HEADER_LEN + 4 + 4 + 2 + RETRY_LEN + 4 + 3 + 4;

	ok_hdr(&h);
	sample_exposure_rep(&p);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_exposure_rep(&w, &h, &p), 0);
	assert_int_equal(w.len, u + 3 * 32);
	/* remaining = 2^255 + 2^64 - 1: top bit first, low limb last. */
	assert_int_equal(w.p[u + 64], 0x80);
	assert_int_equal(w.p[u + 64 + 23], 0x00);
	assert_int_equal(w.p[u + 64 + 24], 0xff);
	assert_int_equal(prt_decode_exposure_rep(&dh, &d, w.p, w.len), 0);
	assert_memory_equal(&d, &p, sizeof(p));
	assert_memory_equal(&dh, &h, sizeof(h));
	prt_writer_init(&w2, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_exposure_rep(&w2, &dh, &d), 0);
	assert_memory_equal(w2.p, w.p, w.len);
	prt_writer_free(&w);
	prt_writer_free(&w2);
}

static void
test_exposure_rep_malformed(void **state)
{
	struct prt_exposure_rep p;
	struct prt_reply_hdr h;
	struct prt_writer w;
	size_t asset_off = PRT_HEADER_LEN + 4 + 4 + 2 + RETRY_LEN;
	size_t date_off = asset_off + 4 + 3;
	uint8_t *b;

	ok_hdr(&h);
	sample_exposure_rep(&p);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_exposure_rep(&w, &h, &p), 0);
	b = dup_exact(w.p, w.len);
	/* The reply names the day it used, never "today". */
	put_be32(b + date_off, PRT_DATE_TODAY);
	assert_int_equal(dec_exposure_rep(b, w.len), ERR_MALFORMED);
	memcpy(b, w.p, w.len);
	b[asset_off + 4] = 'e';
	assert_int_equal(dec_exposure_rep(b, w.len), ERR_MALFORMED);
	b[asset_off + 4] = 0;
	assert_int_equal(dec_exposure_rep(b, w.len), ERR_EMBEDDED_NUL);
	memcpy(b, w.p, w.len);
	put_be32(b + asset_off, PRT_ASSET_MAX + 1);
	assert_int_equal(dec_exposure_rep(b, w.len), ERR_TOO_LARGE);
	free(b);
	prt_writer_free(&w);

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	p.date = PRT_DATE_TODAY;
	assert_int_equal(prt_encode_exposure_rep(&w, &h, &p), ERR_MALFORMED);
	assert_int_equal(w.len, 0);
	prt_writer_free(&w);
}

/* --- STATUS and POLICY ----------------------------------------------- */

static void
test_empty_requests(void **state)
{
	struct prt_writer w;

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_status_req(&w), 0);
	assert_int_equal(w.len, PRT_HEADER_LEN);
	assert_memory_equal(w.p, "SGNR\x00\x05\x00\x03", PRT_HEADER_LEN);
	assert_int_equal(prt_decode_status_req(w.p, w.len), 0);
	assert_int_equal(prt_decode_policy_req(w.p, w.len), ERR_MALFORMED);
	prt_writer_free(&w);

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_policy_req(&w), 0);
	assert_memory_equal(w.p, "SGNR\x00\x05\x00\x04", PRT_HEADER_LEN);
	assert_int_equal(prt_decode_policy_req(w.p, w.len), 0);
	prt_writer_free(&w);
}

static void
test_status_rep_round_trip(void **state)
{
	struct prt_status_rep *p = malloc(sizeof(*p)), *d = malloc(sizeof(*d));
	struct prt_reply_hdr h, dh;
	struct prt_writer w, w2;
	size_t i;

	assert_non_null(p);
	assert_non_null(d);
	ok_hdr(&h);
	sample_status_rep(p);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_status_rep(&w, &h, p), 0);
	assert_int_equal(prt_decode_status_rep(&dh, d, w.p, w.len), 0);
	assert_memory_equal(d, p, sizeof(*p));
	prt_writer_init(&w2, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_status_rep(&w2, &dh, d), 0);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.p, w.p, w.len);
	prt_writer_free(&w);
	prt_writer_free(&w2);

	/* Each consistent can_sign/blocked pair round-trips; blocked keeps
	 * its sign (an int32 sent as its u32 bits). */
	{
		static const struct { uint8_t paused, can_sign; int32_t
		    blocked; } ok[] = { { 0, 1, 0 }, { 0, 0, 17 },
		    { 1, 0, 17 }, { 0, 0, -5 }, { 0, 0, INT32_MIN },
		    { 0, 0, INT32_MAX } };

		for (i = 0; i < ARRAY_LEN(ok); i++) {
			p->paused = ok[i].paused;
			p->can_sign = ok[i].can_sign;
			p->blocked = ok[i].blocked;
			prt_writer_init(&w, PRT_MAX_MESSAGE);
			assert_int_equal(prt_encode_status_rep(&w, &h, p), 0);
			memset(d, JUNK, sizeof(*d));
			assert_int_equal(prt_decode_status_rep(&dh, d, w.p,
			    w.len), 0);
			assert_int_equal(d->can_sign, ok[i].can_sign);
			assert_int_equal(d->blocked, ok[i].blocked);
			assert_memory_equal(d, p, sizeof(*p));
			prt_writer_free(&w);
		}
	}

	/* Every key slot used, longest names. */
	p->nkeys = PRT_KEYS_MAX;
	p->paused = 0;
	for (i = 0; i < PRT_KEYS_MAX; i++) {
		memset(p->keys[i].name, 'k', PRT_KEY_NAME_MAX);
		p->keys[i].name[0] = (char)('0' + i % 10);
		memset(p->keys[i].address, (int)i, EVM_ADDR_LEN);
	}
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_status_rep(&w, &h, p), 0);
	assert_int_equal(prt_decode_status_rep(&dh, d, w.p, w.len), 0);
	assert_memory_equal(d, p, sizeof(*p));
	prt_writer_free(&w);
	free(p);
	free(d);
}

static void
test_status_rep_malformed(void **state)
{
	struct prt_status_rep *p = malloc(sizeof(*p));
	struct prt_reply_hdr h;
	struct prt_writer w;
	size_t ver_off = PRT_HEADER_LEN + 4 + 4 + 2 + RETRY_LEN;
	size_t pid_off = ver_off + 4 + strlen("signerd 0.1.0 (proto 1)");
	size_t paused_off = pid_off + 4 + strlen("genesis-2024-11") + 32 + 8 +
	    32;
	size_t can_sign_off = paused_off + 1;
	size_t blocked_off = can_sign_off + 1;
	size_t count_off = blocked_off + 4;
	size_t k0_off = count_off + 2;
	uint8_t *b;

	assert_non_null(p);
	ok_hdr(&h);
	sample_status_rep(p);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_status_rep(&w, &h, p), 0);
	b = dup_exact(w.p, w.len);

	b[paused_off] = 2;
	assert_int_equal(dec_status_rep(b, w.len), ERR_MALFORMED);
	/* can_sign is a flag too. */
	memcpy(b, w.p, w.len);
	b[can_sign_off] = 2;
	assert_int_equal(dec_status_rep(b, w.len), ERR_MALFORMED);
	/* Blocked with no reason: the sample is paused, reason zeroed. */
	memcpy(b, w.p, w.len);
	put_be32(b + blocked_off, 0);
	assert_int_equal(dec_status_rep(b, w.len), ERR_MALFORMED);
	/* Paused yet able to sign. */
	memcpy(b, w.p, w.len);
	b[can_sign_off] = 1;
	put_be32(b + blocked_off, 0);
	assert_int_equal(dec_status_rep(b, w.len), ERR_MALFORMED);
	/* Able to sign, not paused, yet a reason: inconsistent. */
	b[paused_off] = 0;
	put_be32(b + blocked_off, SAMPLE_BLOCKED);
	assert_int_equal(dec_status_rep(b, w.len), ERR_MALFORMED);
	/* The consistent forms of the same bytes decode. */
	put_be32(b + blocked_off, 0);
	assert_int_equal(dec_status_rep(b, w.len), 0);
	b[can_sign_off] = 0;
	put_be32(b + blocked_off, 0xffffffffu);	/* blocked -1 */
	assert_int_equal(dec_status_rep(b, w.len), 0);
	/* A version 1 reply: the key count where the flags are now. */
	memcpy(b, w.p, w.len);
	assert_int_equal(dec_status_rep(b, can_sign_off), ERR_TRUNCATED);
	memcpy(b, w.p, w.len);
	put_be16(b + count_off, PRT_KEYS_MAX + 1);
	assert_int_equal(dec_status_rep(b, w.len), ERR_TOO_LARGE);
	memcpy(b, w.p, w.len);
	put_be32(b + k0_off, PRT_KEY_NAME_MAX + 1);
	assert_int_equal(dec_status_rep(b, w.len), ERR_TOO_LARGE);
	memcpy(b, w.p, w.len);
	b[k0_off + 4 + 1] = 0;
	assert_int_equal(dec_status_rep(b, w.len), ERR_EMBEDDED_NUL);
	b[k0_off + 4 + 1] = '*';
	assert_int_equal(dec_status_rep(b, w.len), ERR_MALFORMED);
	memcpy(b, w.p, w.len);
	b[ver_off + 4] = 0x1b;	/* ESC: terminal control in the version */
	assert_int_equal(dec_status_rep(b, w.len), ERR_MALFORMED);
	memcpy(b, w.p, w.len);
	put_be32(b + ver_off, PRT_VERSION_STR_MAX + 1);
	assert_int_equal(dec_status_rep(b, w.len), ERR_TOO_LARGE);
	memcpy(b, w.p, w.len);
	b[pid_off + 4] = ' ';
	assert_int_equal(dec_status_rep(b, w.len), ERR_MALFORMED);
	memcpy(b, w.p, w.len);
	put_be32(b + pid_off, PRT_POLICY_ID_MAX + 1);
	assert_int_equal(dec_status_rep(b, w.len), ERR_TOO_LARGE);
	free(b);
	prt_writer_free(&w);

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	p->paused = 2;
	assert_int_equal(prt_encode_status_rep(&w, &h, p), ERR_MALFORMED);
	p->paused = 0;
	/* The encoder holds can_sign and blocked to the same rules. */
	p->can_sign = 2;
	assert_int_equal(prt_encode_status_rep(&w, &h, p), ERR_MALFORMED);
	p->can_sign = 1;	/* blocked is still SAMPLE_BLOCKED */
	assert_int_equal(prt_encode_status_rep(&w, &h, p), ERR_MALFORMED);
	p->can_sign = 0;
	p->blocked = 0;
	assert_int_equal(prt_encode_status_rep(&w, &h, p), ERR_MALFORMED);
	p->can_sign = 1;
	p->paused = 1;
	assert_int_equal(prt_encode_status_rep(&w, &h, p), ERR_MALFORMED);
	assert_int_equal(w.len, 0);
	p->paused = 0;
	p->nkeys = PRT_KEYS_MAX + 1;
	assert_int_equal(prt_encode_status_rep(&w, &h, p), ERR_TOO_LARGE);
	p->nkeys = 1;
	p->version[0] = '\0';
	assert_int_equal(prt_encode_status_rep(&w, &h, p), ERR_MALFORMED);
	assert_int_equal(w.len, 0);
	prt_writer_free(&w);
	free(p);
}

static void
test_policy_rep(void **state)
{
	struct prt_policy_rep p, d;
	struct prt_reply_hdr h, dh;
	struct prt_writer w;
	char *big;
	uint8_t *b;

	ok_hdr(&h);
	p.json = (const uint8_t *)SAMPLE_JSON;
	p.json_len = strlen(SAMPLE_JSON);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_policy_rep(&w, &h, &p), 0);
	assert_int_equal(prt_decode_policy_rep(&dh, &d, w.p, w.len), 0);
	/* The text is a view into the frame, not a copy. */
	assert_ptr_equal(d.json, w.p + w.len - p.json_len);
	assert_int_equal(d.json_len, p.json_len);
	assert_memory_equal(d.json, SAMPLE_JSON, p.json_len);

	b = dup_exact(w.p, w.len);
	b[w.len - 3] = 0;
	assert_int_equal(dec_policy_rep(b, w.len), ERR_EMBEDDED_NUL);
	memcpy(b, w.p, w.len);
	put_be32(b + w.len - p.json_len - 4, PRT_POLICY_JSON_MAX + 1);
	assert_int_equal(dec_policy_rep(b, w.len), ERR_TOO_LARGE);
	free(b);
	prt_writer_free(&w);

	/* The largest policy fits a frame. */
	big = malloc(PRT_POLICY_JSON_MAX + 1);
	assert_non_null(big);
	memset(big, ' ', PRT_POLICY_JSON_MAX + 1);
	big[0] = '{';
	big[PRT_POLICY_JSON_MAX - 1] = '}';
	p.json = (const uint8_t *)big;
	p.json_len = PRT_POLICY_JSON_MAX;
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_policy_rep(&w, &h, &p), 0);
	assert_int_equal(prt_decode_policy_rep(&dh, &d, w.p, w.len), 0);
	assert_int_equal(d.json_len, PRT_POLICY_JSON_MAX);
	prt_writer_free(&w);

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	p.json_len = PRT_POLICY_JSON_MAX + 1;
	assert_int_equal(prt_encode_policy_rep(&w, &h, &p), ERR_TOO_LARGE);
	big[10] = '\0';
	p.json_len = 20;
	assert_int_equal(prt_encode_policy_rep(&w, &h, &p), ERR_EMBEDDED_NUL);
	p.json = NULL;
	assert_int_equal(prt_encode_policy_rep(&w, &h, &p), ERR_INVALID_ARG);
	assert_int_equal(w.len, 0);
	/* An empty text is a valid (if useless) payload. */
	p.json_len = 0;
	assert_int_equal(prt_encode_policy_rep(&w, &h, &p), 0);
	assert_int_equal(prt_decode_policy_rep(&dh, &d, w.p, w.len), 0);
	assert_int_equal(d.json_len, 0);
	prt_writer_free(&w);
	free(big);
}

/* --- ERROR_REP, peek, helpers, dispatch ------------------------------ */

static void
test_error_rep(void **state)
{
	struct prt_reply_hdr h, dh;
	struct prt_writer w;
	uint16_t version;
	uint8_t *b;

	prt_reply_hdr_set(&h, ERR_BAD_VERSION, "speaks version 1");
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_error_rep(&w, &h), 0);
	assert_memory_equal(w.p, "SGNR\x00\x05\x80\x00", PRT_HEADER_LEN);
	assert_int_equal(prt_decode_error_rep(&dh, &version, w.p, w.len), 0);
	assert_int_equal(version, PRT_VERSION);
	assert_int_equal(dh.result, ERR_BAD_VERSION);
	assert_string_equal(dh.message, "speaks version 1");

	/* Frozen layout: a client reads it whatever version wrote it. */
	b = dup_exact(w.p, w.len);
	put_be16(b + 4, 7);
	assert_int_equal(prt_decode_error_rep(&dh, &version, b, w.len), 0);
	assert_int_equal(version, 7);
	assert_int_equal(dh.result, ERR_BAD_VERSION);
	/* Success is not an error. */
	memcpy(b, w.p, w.len);
	memset(b + PRT_HEADER_LEN, 0, 4);
	assert_int_equal(dec_error_rep(b, w.len), ERR_MALFORMED);
	free(b);
	prt_writer_free(&w);

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	prt_reply_hdr_set(&h, 0, "fine");
	assert_int_equal(prt_encode_error_rep(&w, &h), ERR_INVALID_ARG);
	assert_int_equal(w.len, 0);
	prt_writer_free(&w);
}

static void
test_peek_header(void **state)
{
	static const uint8_t frame[] = { 'S', 'G', 'N', 'R', 0, 9, 0x12, 0x34 };
	uint16_t v, t;
	size_t n;

	assert_int_equal(prt_peek_header(&v, &t, frame, sizeof(frame)), 0);
	assert_int_equal(v, 9);
	assert_int_equal(t, 0x1234);
	for (n = 0; n < sizeof(frame); n++) {
		v = t = 0xa5a5;
		assert_int_equal(prt_peek_header(&v, &t, frame, n),
		    ERR_TRUNCATED);
		assert_int_equal(v, 0);
		assert_int_equal(t, 0);
	}
}

static void
test_reply_hdr_set(void **state)
{
	struct prt_reply_hdr h;
	struct prt_writer w;
	char long_msg[400];

	prt_reply_hdr_set(&h, -5, "bad\tinput\n\x01\xc3\xa9!");
	assert_int_equal(h.result, -5);
	assert_string_equal(h.message, "bad?input\?\?\?\?!");

	memset(long_msg, 'm', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	prt_reply_hdr_set(&h, 1, long_msg);
	assert_int_equal(strlen(h.message), PRT_MESSAGE_MAX);

	prt_reply_hdr_set(&h, 1, NULL);
	assert_string_equal(h.message, "");

	/* Whatever it was given, the result encodes. */
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	prt_reply_hdr_set(&h, 3, "\x7f\x80\xff");
	assert_int_equal(prt_encode_error_rep(&w, &h), 0);
	prt_writer_free(&w);
}

static int
h_status(void *ctx, const uint8_t *req, size_t len, struct prt_writer *rep)
{
	return 0;
}

static int
h_policy(void *ctx, const uint8_t *req, size_t len, struct prt_writer *rep)
{
	return 1;
}

static void
test_find_handler(void **state)
{
	static const struct prt_handler table[] = {
		{ PRT_STATUS_REQ, h_status, 0 },
		{ PRT_POLICY_REQ, h_policy, PRT_HF_ADMIN },
	};
	const struct prt_handler *h;

	h = prt_find_handler(table, ARRAY_LEN(table), PRT_POLICY_REQ);
	assert_ptr_equal(h, &table[1]);
	assert_int_equal(h->fn(NULL, NULL, 0, NULL), 1);
	assert_int_equal(h->flags, PRT_HF_ADMIN);
	assert_ptr_equal(prt_find_handler(table, ARRAY_LEN(table),
	    PRT_STATUS_REQ), &table[0]);
	assert_null(prt_find_handler(table, ARRAY_LEN(table), PRT_SIGN_REQ));
	assert_null(prt_find_handler(table, ARRAY_LEN(table),
	    PRT_REPLY_TYPE(PRT_STATUS_REQ)));
	assert_null(prt_find_handler(NULL, 0, PRT_STATUS_REQ));
}

/* --- QUEUE, CANCEL, PAUSE, UNPAUSE ------------------------------------ */

static void
test_queue_round_trip(void **state)
{
	struct prt_sign_req *q = malloc(sizeof(*q)), *d = malloc(sizeof(*d));
	struct prt_queue_rep p = { 1795000030 }, dp;
	struct prt_reply_hdr h, dh;
	struct prt_writer w, ws;

	assert_non_null(q);
	assert_non_null(d);
	sample_sign_req(q);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	prt_writer_init(&ws, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_queue_req(&w, q), 0);
	assert_int_equal(prt_encode_sign_req(&ws, q), 0);
	/* Same layout as SIGN_REQ: only the type differs. */
	assert_int_equal(w.len, ws.len);
	assert_memory_equal(w.p + 8, ws.p + 8, w.len - 8);
	assert_int_equal(w.p[7], PRT_QUEUE_REQ);
	assert_int_equal(prt_decode_queue_req(d, w.p, w.len), 0);
	assert_memory_equal(d, q, sizeof(*q));
	assert_int_equal(prt_decode_sign_req(d, w.p, w.len), ERR_MALFORMED);
	prt_writer_free(&w);
	prt_writer_free(&ws);

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	ok_hdr(&h);
	assert_int_equal(prt_encode_queue_rep(&w, &h, &p), 0);
	assert_int_equal(w.len, PRT_HEADER_LEN + 4 + 4 + 2 + RETRY_LEN + 8);
	assert_int_equal(prt_decode_queue_rep(&dh, &dp, w.p, w.len), 0);
	assert_int_equal(dp.earliest, 1795000030);
	assert_string_equal(dh.message, "ok");
	prt_writer_free(&w);
	free(q);
	free(d);
}

static void
test_cancel_pause_round_trip(void **state)
{
	struct prt_cancel_req c, dc;
	struct prt_pause_req pz, dpz;
	struct prt_writer w;
	size_t want;

	sample_cancel_req(&c);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_cancel_req(&w, &c), 0);
	want = PRT_HEADER_LEN + 4 + strlen(SAMPLE_ID) + 4 + 5 + 8 + 4 + 71;
	assert_int_equal(w.len, want);
	assert_int_equal(prt_decode_cancel_req(&dc, w.p, w.len), 0);
	assert_memory_equal(&dc, &c, sizeof(c));
	/* A cancel frame is not a pause, though the fields look alike. */
	assert_int_equal(prt_decode_pause_req(&dpz, w.p, w.len), ERR_MALFORMED);
	prt_writer_free(&w);

	sample_pause_req(&pz);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_pause_req(&w, &pz), 0);
	assert_int_equal(prt_decode_pause_req(&dpz, w.p, w.len), 0);
	assert_memory_equal(&dpz, &pz, sizeof(pz));
	prt_writer_free(&w);
}

static void
test_unpause_round_trip_and_limits(void **state)
{
	struct prt_unpause_req *q = malloc(sizeof(*q)), *d = malloc(sizeof(*d));
	struct prt_writer w;
	size_t i;

	assert_non_null(q);
	assert_non_null(d);
	sample_unpause_req(q);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_unpause_req(&w, q), 0);
	assert_int_equal(prt_decode_unpause_req(d, w.p, w.len), 0);
	assert_memory_equal(d, q, sizeof(*q));
	prt_writer_free(&w);

	/* The most approvals, each at its limits, still fit a frame. */
	q->napprovals = PRT_APPROVALS_MAX;
	memset(q->pause_id, 'p', PRT_REQUEST_ID_MAX);
	q->pause_id[PRT_REQUEST_ID_MAX] = '\0';
	for (i = 0; i < PRT_APPROVALS_MAX; i++) {
		sample_approval(&q->approvals[i], "a", (uint8_t)i,
		    PRT_APPROVAL_SIG_MAX);
		memset(q->approvals[i].approver, 'z', PRT_APPROVER_MAX);
		q->approvals[i].approver[PRT_APPROVER_MAX] = '\0';
		q->approvals[i].expiry = UINT64_MAX;
	}
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_unpause_req(&w, q), 0);
	assert_int_equal(prt_decode_unpause_req(d, w.p, w.len), 0);
	assert_memory_equal(d, q, sizeof(*q));
	/* One more approval in the count: refused before any entry. */
	put_be16(w.p + PRT_HEADER_LEN + 4 + PRT_REQUEST_ID_MAX,
	    PRT_APPROVALS_MAX + 1);
	assert_int_equal(dec_unpause_req(w.p, w.len), ERR_TOO_LARGE);
	prt_writer_free(&w);

	/* No approvals at all decodes: signerd says how many are missing. */
	sample_unpause_req(q);
	q->napprovals = 0;
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_unpause_req(&w, q), 0);
	assert_int_equal(prt_decode_unpause_req(d, w.p, w.len), 0);
	assert_int_equal(d->napprovals, 0);
	prt_writer_free(&w);
	free(q);
	free(d);
}

static void
test_op_requests_malformed(void **state)
{
	struct prt_cancel_req c;
	struct prt_pause_req pz;
	struct prt_writer w;
	uint8_t *b;
	size_t id_off = PRT_HEADER_LEN + 4, name_off;

	sample_cancel_req(&c);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_cancel_req(&w, &c), 0);
	b = dup_exact(w.p, w.len);
	name_off = id_off + strlen(SAMPLE_ID) + 4;
	b[id_off] = '/';
	assert_int_equal(dec_cancel_req(b, w.len), ERR_MALFORMED);
	b[id_off] = '\0';
	assert_int_equal(dec_cancel_req(b, w.len), ERR_EMBEDDED_NUL);
	memcpy(b, w.p, w.len);
	b[name_off] = ' ';
	assert_int_equal(dec_cancel_req(b, w.len), ERR_MALFORMED);
	memcpy(b, w.p, w.len);
	put_be32(b + name_off + 5 + 8, PRT_APPROVAL_SIG_MAX + 1);
	assert_int_equal(dec_cancel_req(b, w.len), ERR_TOO_LARGE);
	free(b);
	prt_writer_free(&w);

	/* Empty ids and approver names are refused on both sides. */
	sample_pause_req(&pz);
	pz.pause_id[0] = '\0';
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_pause_req(&w, &pz), ERR_MALFORMED);
	assert_int_equal(w.len, 0);
	sample_pause_req(&pz);
	pz.approval.approver[0] = '\0';
	assert_int_equal(prt_encode_pause_req(&w, &pz), ERR_MALFORMED);
	sample_pause_req(&pz);
	pz.approval.sig_len = PRT_APPROVAL_SIG_MAX + 1;
	assert_int_equal(prt_encode_pause_req(&w, &pz), ERR_TOO_LARGE);
	assert_int_equal(w.len, 0);
	prt_writer_free(&w);
}

static void
test_ack_reps(void **state)
{
	struct prt_reply_hdr h, dh;
	struct prt_writer w;

	ok_hdr(&h);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	/* Only the three header-only reply types. */
	assert_int_equal(prt_encode_ack_rep(&w, PRT_SIGN_REP, &h),
	    ERR_INVALID_ARG);
	assert_int_equal(prt_encode_ack_rep(&w, PRT_CANCEL_REQ, &h),
	    ERR_INVALID_ARG);
	assert_int_equal(w.len, 0);
	assert_int_equal(prt_encode_ack_rep(&w, PRT_UNPAUSE_REP, &h), 0);
	assert_int_equal(prt_decode_ack_rep(&dh, PRT_UNPAUSE_REP, w.p, w.len),
	    0);
	assert_string_equal(dh.message, "ok");
	assert_int_equal(prt_decode_ack_rep(&dh, PRT_PAUSE_REP, w.p, w.len),
	    ERR_MALFORMED);
	assert_int_equal(prt_decode_ack_rep(&dh, PRT_STATUS_REP, w.p, w.len),
	    ERR_MALFORMED);
	prt_writer_free(&w);
}

/* --- governance: GOV_PROPOSE, GOV_APPROVE, GOV_CANCEL, GOV_STATUS ------ */

static void
test_gov_propose_req(void **state)
{
	struct prt_gov_propose_req q, d;
	struct prt_writer w, w2;
	size_t doc_off = PRT_HEADER_LEN + 4, n = sizeof(SAMPLE_POLICY) - 1;
	char *big;
	uint8_t *b;

	sample_gov_propose_req(&q);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_gov_propose_req(&w, &q), 0);
	assert_int_equal(w.len, doc_off + n + PRT_HASH_LEN);
	assert_memory_equal(w.p, "SGNR\x00\x05\x00\x09", PRT_HEADER_LEN);
	assert_int_equal(prt_decode_gov_propose_req(&d, w.p, w.len), 0);
	/* The file is a view into the frame, not a copy. */
	assert_ptr_equal(d.policy, w.p + doc_off);
	assert_int_equal(d.policy_len, n);
	assert_memory_equal(d.policy, SAMPLE_POLICY, n);
	assert_memory_equal(d.replaces, q.replaces, PRT_HASH_LEN);
	prt_writer_init(&w2, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_gov_propose_req(&w2, &d), 0);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.p, w.p, w.len);
	prt_writer_free(&w2);

	/* A NUL anywhere in the file, a length above the limit. */
	b = dup_exact(w.p, w.len);
	b[doc_off + n - 1] = 0;
	assert_int_equal(dec_gov_propose_req(b, w.len), ERR_EMBEDDED_NUL);
	memcpy(b, w.p, w.len);
	b[doc_off] = 0;
	assert_int_equal(dec_gov_propose_req(b, w.len), ERR_EMBEDDED_NUL);
	memcpy(b, w.p, w.len);
	put_be32(b + doc_off - 4, PRT_POLICY_JSON_MAX + 1);
	assert_int_equal(dec_gov_propose_req(b, w.len), ERR_TOO_LARGE);
	put_be32(b + doc_off - 4, 0xffffffffu);
	assert_int_equal(dec_gov_propose_req(b, w.len), ERR_TOO_LARGE);
	free(b);
	prt_writer_free(&w);

	/* An empty file is no proposal: refused on both sides. */
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	(void)prt_put_bytes(&w, "SGNR", 4);
	(void)prt_put_u16(&w, PRT_VERSION);
	(void)prt_put_u16(&w, PRT_GOV_PROPOSE_REQ);
	(void)prt_put_lv(&w, "", 0);
	(void)prt_put_bytes(&w, q.replaces, PRT_HASH_LEN);
	assert_int_equal(prt_writer_error(&w), 0);
	b = dup_exact(w.p, w.len);
	assert_int_equal(dec_gov_propose_req(b, w.len), ERR_MALFORMED);
	free(b);
	prt_writer_free(&w);

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	(void)prt_put_u8(&w, 0x77);	/* earlier content survives */
	q.policy_len = 0;
	assert_int_equal(prt_encode_gov_propose_req(&w, &q), ERR_MALFORMED);
	q.policy = NULL;
	assert_int_equal(prt_encode_gov_propose_req(&w, &q), ERR_MALFORMED);
	q.policy_len = 5;
	assert_int_equal(prt_encode_gov_propose_req(&w, &q), ERR_MALFORMED);

	/* The largest file fits a frame; one byte more does not encode. */
	big = malloc(PRT_POLICY_JSON_MAX + 1);
	assert_non_null(big);
	memset(big, ' ', PRT_POLICY_JSON_MAX + 1);
	big[0] = '{';
	big[PRT_POLICY_JSON_MAX - 1] = '}';
	q.policy = (const uint8_t *)big;
	q.policy_len = PRT_POLICY_JSON_MAX + 1;
	assert_int_equal(prt_encode_gov_propose_req(&w, &q), ERR_TOO_LARGE);
	big[7] = '\0';
	q.policy_len = 20;
	assert_int_equal(prt_encode_gov_propose_req(&w, &q), ERR_EMBEDDED_NUL);
	assert_int_equal(w.len, 1);
	assert_int_equal(w.p[0], 0x77);
	assert_int_equal(prt_writer_error(&w), 0);
	prt_writer_free(&w);
	big[7] = ' ';
	q.policy_len = PRT_POLICY_JSON_MAX;
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_gov_propose_req(&w, &q), 0);
	assert_int_equal(w.len, PRT_HEADER_LEN + 4 + PRT_POLICY_JSON_MAX +
	    PRT_HASH_LEN);
	assert_int_equal(prt_decode_gov_propose_req(&d, w.p, w.len), 0);
	assert_int_equal(d.policy_len, PRT_POLICY_JSON_MAX);
	prt_writer_free(&w);
	free(big);
}

static void
test_gov_approve_req(void **state)
{
	struct prt_gov_approve_req *q = malloc(sizeof(*q));
	struct prt_gov_approve_req *d = malloc(sizeof(*d));
	struct prt_writer w, w2;
	size_t count_off = PRT_HEADER_LEN + PRT_HASH_LEN, name_off, i;
	uint8_t *b;

	assert_non_null(q);
	assert_non_null(d);
	sample_gov_approve_req(q);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_gov_approve_req(&w, q), 0);
	assert_int_equal(w.len, count_off + 2 + (4 + 5 + 8 + 4 + 70) +
	    (4 + 3 + 8 + 4 + 64));
	assert_memory_equal(w.p, "SGNR\x00\x05\x00\x0a", PRT_HEADER_LEN);
	assert_memory_equal(w.p + PRT_HEADER_LEN, q->proposed, PRT_HASH_LEN);
	assert_int_equal(prt_decode_gov_approve_req(d, w.p, w.len), 0);
	assert_memory_equal(d, q, sizeof(*q));
	prt_writer_init(&w2, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_gov_approve_req(&w2, d), 0);
	assert_memory_equal(w2.p, w.p, w.len);
	prt_writer_free(&w2);

	b = dup_exact(w.p, w.len);
	/* Counts: above the limit before any entry, or not the entries. */
	put_be16(b + count_off, PRT_APPROVALS_MAX + 1);
	assert_int_equal(dec_gov_approve_req(b, w.len), ERR_TOO_LARGE);
	put_be16(b + count_off, 0xffff);
	assert_int_equal(dec_gov_approve_req(b, w.len), ERR_TOO_LARGE);
	put_be16(b + count_off, 1);
	assert_int_equal(dec_gov_approve_req(b, w.len), ERR_TRAILING);
	put_be16(b + count_off, 3);
	assert_int_equal(dec_gov_approve_req(b, w.len), ERR_TRUNCATED);
	/* An approver name outside the id charset, or with a NUL. */
	memcpy(b, w.p, w.len);
	name_off = count_off + 2 + 4;
	b[name_off + 1] = '/';
	assert_int_equal(dec_gov_approve_req(b, w.len), ERR_MALFORMED);
	b[name_off + 1] = 0;
	assert_int_equal(dec_gov_approve_req(b, w.len), ERR_EMBEDDED_NUL);
	free(b);
	/* No approval at all: the frame ends after the count. */
	assert_int_equal(dec_gov_approve_req(w.p, count_off), ERR_TRUNCATED);
	b = dup_exact(w.p, count_off + 2);
	put_be16(b + count_off, 0);
	assert_int_equal(dec_gov_approve_req(b, count_off + 2),
	    ERR_MALFORMED);
	free(b);
	prt_writer_free(&w);

	/* The encoder refuses the same, and leaves the writer as it was. */
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	q->napprovals = 0;
	assert_int_equal(prt_encode_gov_approve_req(&w, q), ERR_MALFORMED);
	q->napprovals = PRT_APPROVALS_MAX + 1;
	assert_int_equal(prt_encode_gov_approve_req(&w, q), ERR_TOO_LARGE);
	sample_gov_approve_req(q);
	q->approvals[1].approver[0] = '\0';
	assert_int_equal(prt_encode_gov_approve_req(&w, q), ERR_MALFORMED);
	sample_gov_approve_req(q);
	q->approvals[0].sig_len = PRT_APPROVAL_SIG_MAX + 1;
	assert_int_equal(prt_encode_gov_approve_req(&w, q), ERR_TOO_LARGE);
	assert_int_equal(w.len, 0);
	assert_int_equal(prt_writer_error(&w), 0);

	/* The most approvals, each at its limits, still fit a frame. */
	q->napprovals = PRT_APPROVALS_MAX;
	for (i = 0; i < PRT_APPROVALS_MAX; i++) {
		sample_approval(&q->approvals[i], "a", (uint8_t)i,
		    PRT_APPROVAL_SIG_MAX);
		memset(q->approvals[i].approver, 'z', PRT_APPROVER_MAX);
		q->approvals[i].approver[0] = (char)('A' + i);
		q->approvals[i].approver[PRT_APPROVER_MAX] = '\0';
		q->approvals[i].expiry = UINT64_MAX - i;
	}
	assert_int_equal(prt_encode_gov_approve_req(&w, q), 0);
	assert_int_equal(w.len, PRT_HEADER_LEN + PRT_HASH_LEN + 2 +
	    PRT_APPROVALS_MAX * (4 + PRT_APPROVER_MAX + 8 + 4 +
	    PRT_APPROVAL_SIG_MAX));
	assert_int_equal(prt_decode_gov_approve_req(d, w.p, w.len), 0);
	assert_memory_equal(d, q, sizeof(*q));
	prt_writer_free(&w);
	free(q);
	free(d);
}

static void
test_gov_cancel_status_req(void **state)
{
	struct prt_gov_cancel_req q, d;
	struct prt_writer w;
	size_t name_off = PRT_HEADER_LEN + PRT_HASH_LEN;
	uint8_t *b;

	sample_gov_cancel_req(&q);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_gov_cancel_req(&w, &q), 0);
	assert_int_equal(w.len, name_off + 4 + 5 + 8 + 4 + 71);
	assert_memory_equal(w.p, "SGNR\x00\x05\x00\x0b", PRT_HEADER_LEN);
	assert_int_equal(prt_decode_gov_cancel_req(&d, w.p, w.len), 0);
	assert_memory_equal(&d, &q, sizeof(q));
	/* Exactly one approval: no count on the wire. */
	assert_int_equal(w.p[name_off + 3], 5);
	b = dup_exact(w.p, w.len);
	b[name_off + 4] = ' ';
	assert_int_equal(dec_gov_cancel_req(b, w.len), ERR_MALFORMED);
	memcpy(b, w.p, w.len);
	put_be32(b + name_off, PRT_APPROVER_MAX + 1);
	assert_int_equal(dec_gov_cancel_req(b, w.len), ERR_TOO_LARGE);
	memcpy(b, w.p, w.len);
	put_be32(b + name_off + 4 + 5 + 8, PRT_APPROVAL_SIG_MAX + 1);
	assert_int_equal(dec_gov_cancel_req(b, w.len), ERR_TOO_LARGE);
	free(b);
	prt_writer_free(&w);

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	q.approval.approver[0] = '\0';
	assert_int_equal(prt_encode_gov_cancel_req(&w, &q), ERR_MALFORMED);
	sample_gov_cancel_req(&q);
	q.approval.sig_len = PRT_APPROVAL_SIG_MAX + 1;
	assert_int_equal(prt_encode_gov_cancel_req(&w, &q), ERR_TOO_LARGE);
	assert_int_equal(w.len, 0);

	/* GOV_STATUS_REQ: the header alone. */
	assert_int_equal(prt_encode_gov_status_req(&w), 0);
	assert_int_equal(w.len, PRT_HEADER_LEN);
	assert_memory_equal(w.p, "SGNR\x00\x05\x00\x0c", PRT_HEADER_LEN);
	assert_int_equal(prt_decode_gov_status_req(w.p, w.len), 0);
	assert_int_equal(prt_decode_status_req(w.p, w.len), ERR_MALFORMED);
	prt_writer_free(&w);
}

/* GOV_*_REP, byte for byte, with and without a pending proposal. */
static void
test_gov_rep_golden(void **state)
{
	static const uint8_t pending[] = {
		'S', 'G', 'N', 'R', 0, 5, 0x80, 0x0c,	/* header */
		0, 0, 0, 0,				/* result OK */
		0, 0, 0, 2, 'o', 'k',			/* message */
		0, 0, 0, 0,				/* retry_after_s */
		0, 0, 0, 1, 'g',			/* policy_id */
		R32(0x33),				/* policy_hash */
		0, 0, 0, 7,				/* version */
		0, 0, 0, 0, 0, 0, 0x01, 0x00,		/* since 256 */
		1,					/* pending */
		0, 0, 0, 1, 'n',			/* pending_id */
		R32(0x44),				/* pending_hash */
		2,					/* change: loosen */
		0, 0, 0, 0, 0, 0, 0x02, 0x00,		/* proposed_at 512 */
		0, 2,					/* needed */
		0, 0, 0, 0, 0, 0, 0, 0,			/* effective_at */
		0, 1,					/* napproved */
		0, 0, 0, 5, 'a', 'l', 'i', 'c', 'e',	/* approved[0] */
	};
	/* Nothing pending: the frame ends after the pending byte. */
	static const uint8_t idle[] = {
		'S', 'G', 'N', 'R', 0, 5, 0x80, 0x09,	/* header */
		0, 0, 0, 0,				/* result OK */
		0, 0, 0, 0,				/* message */
		0, 0, 0, 0,				/* retry_after_s */
		0, 0, 0, 1, 'g',			/* policy_id */
		R32(0x33),				/* policy_hash */
		0, 0, 0, 1,				/* version */
		0, 0, 0, 0, 0, 0, 0, 0,			/* since */
		0,					/* pending */
	};
	struct prt_gov_state st, d;
	struct prt_reply_hdr h, dh;
	struct prt_writer w;

	ok_hdr(&h);
	memset(&st, 0, sizeof(st));
	strcpy(st.policy_id, "g");
	memset(st.policy_hash, 0x33, sizeof(st.policy_hash));
	st.version = 7;
	st.since = 256;
	st.pending = 1;
	strcpy(st.pending_id, "n");
	memset(st.pending_hash, 0x44, sizeof(st.pending_hash));
	st.change = PRT_GOV_LOOSEN;
	st.proposed_at = 512;
	st.needed = 2;
	st.napproved = 1;
	strcpy(st.approved[0], "alice");
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    0);
	assert_int_equal(w.len, sizeof(pending));
	assert_memory_equal(w.p, pending, sizeof(pending));
	assert_int_equal(prt_decode_gov_rep(&dh, PRT_GOV_STATUS_REP, &d,
	    pending, sizeof(pending)), 0);
	assert_memory_equal(&d, &st, sizeof(st));
	assert_memory_equal(&dh, &h, sizeof(h));
	prt_writer_free(&w);

	prt_reply_hdr_set(&h, 0, "");
	memset(&st, 0, sizeof(st));
	strcpy(st.policy_id, "g");
	memset(st.policy_hash, 0x33, sizeof(st.policy_hash));
	st.version = 1;
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_PROPOSE_REP, &h, &st),
	    0);
	assert_int_equal(w.len, sizeof(idle));
	assert_memory_equal(w.p, idle, sizeof(idle));
	memset(&d, JUNK, sizeof(d));
	assert_int_equal(prt_decode_gov_rep(&dh, PRT_GOV_PROPOSE_REP, &d, idle,
	    sizeof(idle)), 0);
	assert_memory_equal(&d, &st, sizeof(st));
	prt_writer_free(&w);
}

static void
test_gov_rep_round_trip(void **state)
{
	static const uint16_t types[] = { PRT_GOV_PROPOSE_REP,
		PRT_GOV_APPROVE_REP, PRT_GOV_CANCEL_REP, PRT_GOV_STATUS_REP };
	struct prt_gov_state *st = malloc(sizeof(*st)), *d = malloc(sizeof(*d));
	struct prt_reply_hdr h, dh;
	struct prt_writer w, w2;
	size_t i;

	assert_non_null(st);
	assert_non_null(d);
	/* Every field at its limit: the largest governance reply. */
	memset(st, 0, sizeof(*st));
	memset(st->policy_id, 'p', PRT_POLICY_ID_MAX);
	memset(st->policy_hash, 0xff, PRT_HASH_LEN);
	st->version = UINT32_MAX;
	st->since = UINT64_MAX;
	st->pending = 1;
	memset(st->pending_id, 'q', PRT_POLICY_ID_MAX);
	memset(st->pending_hash, 0xee, PRT_HASH_LEN);
	st->change = PRT_GOV_TIGHTEN;
	st->proposed_at = UINT64_MAX - 1;
	st->needed = UINT16_MAX;
	st->effective_at = UINT64_MAX - 2;
	st->napproved = PRT_GOV_APPROVED_MAX;
	for (i = 0; i < PRT_GOV_APPROVED_MAX; i++) {
		memset(st->approved[i], 'a', PRT_APPROVER_MAX);
		st->approved[i][0] = (char)('A' + i % 26);
		st->approved[i][1] = (char)('0' + i / 26);
	}
	prt_reply_hdr_set(&h, 0, "activated");
	memset(h.message, 'm', PRT_MESSAGE_MAX);
	for (i = 0; i < ARRAY_LEN(types); i++) {
		prt_writer_init(&w, PRT_MAX_MESSAGE);
		assert_int_equal(prt_encode_gov_rep(&w, types[i], &h, st), 0);
		assert_int_equal(w.len, PRT_HEADER_LEN + 4 + 4 +
		    PRT_MESSAGE_MAX + RETRY_LEN + 2 * (4 + PRT_POLICY_ID_MAX +
		    PRT_HASH_LEN) + 4 + 8 + 1 + 1 + 8 + 2 + 8 + 2 +
		    PRT_GOV_APPROVED_MAX * (4 + PRT_APPROVER_MAX));
		assert_int_equal(w.p[7], types[i] & 0xff);
		assert_int_equal(prt_decode_gov_rep(&dh, types[i], d, w.p,
		    w.len), 0);
		assert_memory_equal(d, st, sizeof(*st));
		assert_memory_equal(&dh, &h, sizeof(h));
		prt_writer_init(&w2, PRT_MAX_MESSAGE);
		assert_int_equal(prt_encode_gov_rep(&w2, types[i], &dh, d), 0);
		assert_int_equal(w2.len, w.len);
		assert_memory_equal(w2.p, w.p, w.len);
		prt_writer_free(&w2);
		prt_writer_free(&w);
	}

	/* A refusal: the header alone, and the state left zero. */
	prt_reply_hdr_set(&h, 22, "APPROVALS_MISSING: 1 of 2");
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_APPROVE_REP, &h, st),
	    0);
	assert_int_equal(w.len, PRT_HEADER_LEN + 4 + 4 + strlen(h.message) +
	    RETRY_LEN);
	memset(d, JUNK, sizeof(*d));
	assert_int_equal(prt_decode_gov_rep(&dh, PRT_GOV_APPROVE_REP, d, w.p,
	    w.len), 0);
	assert_int_equal(dh.result, 22);
	assert_zero(d, sizeof(*d));
	prt_writer_free(&w);
	free(st);
	free(d);
}

/* Encodes st as a GOV_STATUS_REP and returns a heap copy of the frame. */
static uint8_t *
gov_frame(const struct prt_gov_state *st, size_t *len)
{
	struct prt_reply_hdr h;
	struct prt_writer w;
	uint8_t *b;

	ok_hdr(&h);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, st),
	    0);
	b = dup_exact(w.p, w.len);
	*len = w.len;
	prt_writer_free(&w);
	return b;
}

static void
test_gov_rep_malformed(void **state)
{
	/* Offsets in sample_gov_state's frame, message "ok". */
	const size_t id_off = PRT_HEADER_LEN + 4 + 4 + 2 + RETRY_LEN;
	const size_t version_off = id_off + 4 + 15 + PRT_HASH_LEN;
	const size_t pending_off = version_off + 4 + 8;
	const size_t pid_off = pending_off + 1;
	const size_t change_off = pid_off + 4 + 13 + PRT_HASH_LEN;
	const size_t count_off = change_off + 1 + 8 + 2 + 8;
	struct prt_gov_state st;
	size_t len, idle_len;
	uint8_t *b, *idle;

	sample_gov_state(&st, 1, 2);
	b = gov_frame(&st, &len);
	assert_int_equal(len, count_off + 2 + 4 + 5 + 4 + 7);
	assert_int_equal(b[pending_off], 1);
	assert_int_equal(b[change_off], PRT_GOV_LOOSEN);

	/* change is 1 or 2; pending is 0 or 1. */
	b[change_off] = PRT_GOV_TIGHTEN;
	assert_int_equal(dec_gov_status_rep(b, len), 0);
	b[change_off] = 0;
	assert_int_equal(dec_gov_status_rep(b, len), ERR_MALFORMED);
	b[change_off] = 3;
	assert_int_equal(dec_gov_status_rep(b, len), ERR_MALFORMED);
	b[change_off] = 0xff;
	assert_int_equal(dec_gov_status_rep(b, len), ERR_MALFORMED);
	b[change_off] = PRT_GOV_LOOSEN;
	b[pending_off] = 2;
	assert_int_equal(dec_gov_status_rep(b, len), ERR_MALFORMED);
	/* pending 0 with the pending fields after it: trailing bytes. */
	b[pending_off] = 0;
	assert_int_equal(dec_gov_status_rep(b, len), ERR_TRAILING);
	b[pending_off] = 1;
	/* The count: above 32 before any name is read, or not the names. */
	put_be16(b + count_off, PRT_GOV_APPROVED_MAX + 1);
	assert_int_equal(dec_gov_status_rep(b, len), ERR_TOO_LARGE);
	put_be16(b + count_off, 0xffff);
	assert_int_equal(dec_gov_status_rep(b, len), ERR_TOO_LARGE);
	put_be16(b + count_off, 1);
	assert_int_equal(dec_gov_status_rep(b, len), ERR_TRAILING);
	put_be16(b + count_off, 3);
	assert_int_equal(dec_gov_status_rep(b, len), ERR_TRUNCATED);
	put_be16(b + count_off, 2);
	/* Names: the id charset, no NUL, not empty. */
	b[count_off + 2 + 4 + 1] = '/';
	assert_int_equal(dec_gov_status_rep(b, len), ERR_MALFORMED);
	b[count_off + 2 + 4 + 1] = 0;
	assert_int_equal(dec_gov_status_rep(b, len), ERR_EMBEDDED_NUL);
	b[count_off + 2 + 4 + 1] = 'l';
	b[pid_off + 4] = ' ';
	assert_int_equal(dec_gov_status_rep(b, len), ERR_MALFORMED);
	b[pid_off + 4] = 'o';
	b[id_off + 4] = '\n';
	assert_int_equal(dec_gov_status_rep(b, len), ERR_MALFORMED);
	b[id_off + 4] = 'g';
	put_be32(b + id_off, PRT_POLICY_ID_MAX + 1);
	assert_int_equal(dec_gov_status_rep(b, len), ERR_TOO_LARGE);
	put_be32(b + id_off, 15);
	/* Version 0 does not exist: genesis is 1. */
	put_be32(b + version_off, 0);
	assert_int_equal(dec_gov_status_rep(b, len), ERR_MALFORMED);
	put_be32(b + version_off, 1);
	assert_int_equal(dec_gov_status_rep(b, len), 0);
	/* The frame of another governance reply type. */
	assert_int_equal(dec_gov_approve_rep(b, len), ERR_MALFORMED);
	free(b);

	/* Nothing pending: the frame ends at the pending byte. */
	sample_gov_state(&st, 0, 0);
	idle = gov_frame(&st, &idle_len);
	assert_int_equal(idle_len, pending_off + 1);
	assert_int_equal(dec_gov_status_rep(idle, idle_len), 0);
	idle[pending_off] = 2;
	assert_int_equal(dec_gov_status_rep(idle, idle_len), ERR_MALFORMED);
	/* pending 1 without its fields: truncated. */
	idle[pending_off] = 1;
	assert_int_equal(dec_gov_status_rep(idle, idle_len), ERR_TRUNCATED);
	free(idle);
}

/* The encoder refuses what the decoder refuses, writing nothing. */
static void
test_gov_rep_encoder_refuses(void **state)
{
	struct prt_gov_state st;
	struct prt_reply_hdr h;
	struct prt_writer w;

	ok_hdr(&h);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	(void)prt_put_u8(&w, 0x77);	/* earlier content survives */

	/* Not a governance reply type. */
	sample_gov_state(&st, 1, 2);
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REQ, &h, &st),
	    ERR_INVALID_ARG);
	assert_int_equal(prt_encode_gov_rep(&w, PRT_STATUS_REP, &h, &st),
	    ERR_INVALID_ARG);
	assert_int_equal(prt_encode_gov_rep(&w, PRT_CANCEL_REP, &h, &st),
	    ERR_INVALID_ARG);
	assert_int_equal(prt_encode_gov_rep(&w, PRT_ERROR_REP, &h, &st),
	    ERR_INVALID_ARG);
	assert_int_equal(prt_encode_gov_rep(&w, 0x800D, &h, &st),
	    ERR_INVALID_ARG);

	st.pending = 2;
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_MALFORMED);
	sample_gov_state(&st, 1, 2);
	st.change = 0;
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_MALFORMED);
	st.change = 3;
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_MALFORMED);
	sample_gov_state(&st, 1, 2);
	st.napproved = PRT_GOV_APPROVED_MAX + 1;
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_TOO_LARGE);
	sample_gov_state(&st, 1, 2);
	st.version = 0;
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_MALFORMED);
	sample_gov_state(&st, 1, 2);
	st.approved[1][0] = '\0';
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_MALFORMED);
	sample_gov_state(&st, 1, 2);
	st.pending_id[0] = '\0';
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_MALFORMED);
	sample_gov_state(&st, 1, 2);
	st.policy_id[3] = '/';
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_MALFORMED);

	/* pending 0: every pending field must be zero, one at a time. */
	sample_gov_state(&st, 0, 0);
	strcpy(st.pending_id, "x");
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_MALFORMED);
	sample_gov_state(&st, 0, 0);
	st.pending_hash[31] = 1;
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_MALFORMED);
	sample_gov_state(&st, 0, 0);
	st.change = PRT_GOV_TIGHTEN;
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_MALFORMED);
	sample_gov_state(&st, 0, 0);
	st.proposed_at = 1;
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_MALFORMED);
	sample_gov_state(&st, 0, 0);
	st.needed = 1;
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_MALFORMED);
	sample_gov_state(&st, 0, 0);
	st.effective_at = 1;
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_MALFORMED);
	sample_gov_state(&st, 0, 0);
	st.napproved = 1;
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_MALFORMED);
	st.napproved = PRT_GOV_APPROVED_MAX + 1;
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_TOO_LARGE);
	/* A message the peer would refuse. */
	sample_gov_state(&st, 0, 0);
	strcpy(h.message, "tab\there");
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_STATUS_REP, &h, &st),
	    ERR_MALFORMED);
	assert_int_equal(w.len, 1);
	assert_int_equal(w.p[0], 0x77);
	assert_int_equal(prt_writer_error(&w), 0);
	prt_writer_free(&w);

	/* A refusal carries no state: any st (even NULL) is fine. */
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	prt_reply_hdr_set(&h, 12, "REQUEST_ID_CONFLICT");
	st.pending = 9;
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_CANCEL_REP, &h, &st),
	    0);
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_CANCEL_REP, &h, NULL),
	    0);
	prt_writer_free(&w);
}

/* The decoder is told which reply it expects; it takes no other. */
static void
test_gov_rep_types(void **state)
{
	struct prt_gov_state st, d;
	struct prt_reply_hdr h, dh;
	struct prt_writer w;

	ok_hdr(&h);
	sample_gov_state(&st, 1, 1);
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_gov_rep(&w, PRT_GOV_CANCEL_REP, &h, &st),
	    0);
	assert_int_equal(prt_decode_gov_rep(&dh, PRT_GOV_CANCEL_REP, &d, w.p,
	    w.len), 0);
	assert_int_equal(dec_gov(PRT_GOV_STATUS_REP, w.p, w.len),
	    ERR_MALFORMED);
	assert_int_equal(dec_gov(PRT_GOV_PROPOSE_REP, w.p, w.len),
	    ERR_MALFORMED);
	/* A type that is no governance reply, even the frame's request. */
	assert_int_equal(dec_gov(PRT_GOV_CANCEL_REQ, w.p, w.len),
	    ERR_MALFORMED);
	assert_int_equal(dec_gov(PRT_CANCEL_REP, w.p, w.len), ERR_MALFORMED);
	assert_int_equal(dec_gov(PRT_STATUS_REP, w.p, w.len), ERR_MALFORMED);
	/* ... and another version's frame is a version refusal. */
	w.p[5] = PRT_VERSION - 1;
	assert_int_equal(dec_gov(PRT_GOV_CANCEL_REP, w.p, w.len),
	    ERR_BAD_VERSION);
	w.p[5] = PRT_VERSION + 1;
	assert_int_equal(dec_gov(PRT_GOV_CANCEL_REP, w.p, w.len),
	    ERR_BAD_VERSION);
	prt_writer_free(&w);
}

/* Type numbers are protocol: a renumbering must fail here. */
static void
test_type_numbers(void **state)
{
	assert_int_equal(PRT_SIGN_REQ, 1);
	assert_int_equal(PRT_EXPOSURE_REQ, 2);
	assert_int_equal(PRT_STATUS_REQ, 3);
	assert_int_equal(PRT_POLICY_REQ, 4);
	assert_int_equal(PRT_QUEUE_REQ, 5);
	assert_int_equal(PRT_CANCEL_REQ, 6);
	assert_int_equal(PRT_PAUSE_REQ, 7);
	assert_int_equal(PRT_UNPAUSE_REQ, 8);
	assert_int_equal(PRT_ERROR_REP, 0x8000);
	assert_int_equal(PRT_REPLY_TYPE(PRT_SIGN_REQ), PRT_SIGN_REP);
	assert_int_equal(PRT_REPLY_TYPE(PRT_EXPOSURE_REQ), PRT_EXPOSURE_REP);
	assert_int_equal(PRT_REPLY_TYPE(PRT_STATUS_REQ), PRT_STATUS_REP);
	assert_int_equal(PRT_REPLY_TYPE(PRT_POLICY_REQ), PRT_POLICY_REP);
	assert_int_equal(PRT_REPLY_TYPE(PRT_QUEUE_REQ), PRT_QUEUE_REP);
	assert_int_equal(PRT_REPLY_TYPE(PRT_CANCEL_REQ), PRT_CANCEL_REP);
	assert_int_equal(PRT_REPLY_TYPE(PRT_PAUSE_REQ), PRT_PAUSE_REP);
	assert_int_equal(PRT_REPLY_TYPE(PRT_UNPAUSE_REQ), PRT_UNPAUSE_REP);
	assert_int_equal(PRT_GOV_PROPOSE_REQ, 9);
	assert_int_equal(PRT_GOV_APPROVE_REQ, 10);
	assert_int_equal(PRT_GOV_CANCEL_REQ, 11);
	assert_int_equal(PRT_GOV_STATUS_REQ, 12);
	assert_int_equal(PRT_REPLY_TYPE(PRT_GOV_PROPOSE_REQ),
	    PRT_GOV_PROPOSE_REP);
	assert_int_equal(PRT_REPLY_TYPE(PRT_GOV_APPROVE_REQ),
	    PRT_GOV_APPROVE_REP);
	assert_int_equal(PRT_REPLY_TYPE(PRT_GOV_CANCEL_REQ),
	    PRT_GOV_CANCEL_REP);
	assert_int_equal(PRT_REPLY_TYPE(PRT_GOV_STATUS_REQ),
	    PRT_GOV_STATUS_REP);
	assert_int_equal(PRT_GOV_STATUS_REP, 0x800C);
	assert_int_equal(PRT_GOV_TIGHTEN, 1);
	assert_int_equal(PRT_GOV_LOOSEN, 2);
	/*
	 * Version 2: SIGN_REP receipts, STATUS_REP can_sign and blocked.
	 * Version 3: SIGN_REQ and QUEUE_REQ carry from.
	 * Version 4: SIGN_REQ and QUEUE_REQ carry created_day.
	 * Version 5: every typed reply header carries retry_after_s.
	 */
	assert_int_equal(PRT_VERSION, 5);
	assert_int_equal(PRT_RETRY_AFTER_MAX, 366 * 86400);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_valid_samples_decode),
		cmocka_unit_test(test_all_truncated_at_every_offset),
		cmocka_unit_test(test_all_trailing_byte),
		cmocka_unit_test(test_all_version),
		cmocka_unit_test(test_all_magic),
		cmocka_unit_test(test_all_type_mismatch),
		cmocka_unit_test(test_all_oversize_input),
		cmocka_unit_test(test_sign_req_round_trip),
		cmocka_unit_test(test_sign_req_at_limits),
		cmocka_unit_test(test_sign_req_malformed),
		cmocka_unit_test(test_sign_req_empty_fields),
		cmocka_unit_test(test_sign_req_encoder_refuses),
		cmocka_unit_test(test_sign_rep_round_trip),
		cmocka_unit_test(test_sign_rep_malformed),
		cmocka_unit_test(test_sign_rep_golden),
		cmocka_unit_test(test_retry_after_round_trip),
		cmocka_unit_test(test_retry_after_malformed),
		cmocka_unit_test(test_sign_req_golden),
		cmocka_unit_test(test_sign_req_version3_refused),
		cmocka_unit_test(test_sign_req_created_day_truncated),
		cmocka_unit_test(test_status_rep_golden),
		cmocka_unit_test(test_exposure_req_round_trip),
		cmocka_unit_test(test_exposure_req_malformed),
		cmocka_unit_test(test_exposure_rep_round_trip),
		cmocka_unit_test(test_exposure_rep_malformed),
		cmocka_unit_test(test_empty_requests),
		cmocka_unit_test(test_status_rep_round_trip),
		cmocka_unit_test(test_status_rep_malformed),
		cmocka_unit_test(test_policy_rep),
		cmocka_unit_test(test_error_rep),
		cmocka_unit_test(test_peek_header),
		cmocka_unit_test(test_reply_hdr_set),
		cmocka_unit_test(test_find_handler),
		cmocka_unit_test(test_queue_round_trip),
		cmocka_unit_test(test_cancel_pause_round_trip),
		cmocka_unit_test(test_unpause_round_trip_and_limits),
		cmocka_unit_test(test_op_requests_malformed),
		cmocka_unit_test(test_ack_reps),
		cmocka_unit_test(test_gov_propose_req),
		cmocka_unit_test(test_gov_approve_req),
		cmocka_unit_test(test_gov_cancel_status_req),
		cmocka_unit_test(test_gov_rep_golden),
		cmocka_unit_test(test_gov_rep_round_trip),
		cmocka_unit_test(test_gov_rep_malformed),
		cmocka_unit_test(test_gov_rep_encoder_refuses),
		cmocka_unit_test(test_gov_rep_types),
		cmocka_unit_test(test_type_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
