/* test_client.c: the NNG client against an in-test rep server on ipc://. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "common/err.h"
#include "proto/client.h"
#include "proto/msg.h"

#define TIMEOUT_MS 300

/* What the in-test server does with each request. */
enum mode {
	SERVE,		/* answer through a dispatch table, like signerd */
	DROP,		/* never answer */
	OVERSIZE,	/* answer with PRT_MAX_MESSAGE + 1 bytes */
	GARBAGE,	/* answer bytes that are no frame */
	WRONG_TYPE,	/* answer a STATUS_REP to everything */
	OTHER_VERSION,	/* answer as a server of the next version would */
	OTHER_VERSION_TYPED,	/* a typed reply of the next version */
};

/* A version this client does not speak: the next one. */
#define OTHER_VERSION_NUMBER (PRT_VERSION + 1)

/* A STATUS_REP blocked reason: opaque to proto/ (policy/'s codes). */
#define BLOCKED_REASON 21
/* The server's refusals: opaque here too (KEY_MISMATCH, unknown approver). */
#define KEY_MISMATCH_REASON 41
#define UNKNOWN_APPROVER_REASON 23
#define REQUEST_EXPIRED_REASON 47

/* The server's day, and the first day its window still holds. */
#define SERVER_DAY 20049
#define WINDOW_FIRST_DAY (SERVER_DAY - 7)

/* The address of the server's one key (STATUS_REP): what SIGN_REQs name. */
#define KEY_BYTE 0x33

struct server {
	nng_socket sock;
	pthread_t thread;
	atomic_int mode;	/* enum mode; a test may change it */
	atomic_int requests;
	char dir[64];
	char path[96];
	char url[112];
};

/*
 * The server runs in its own thread, where a cmocka assertion would
 * longjmp into the wrong stack: it aborts instead.
 */
#define SRV_CHECK(x) do {						\
	if (!(x)) {							\
		fprintf(stderr, "server: %s failed\n", #x);		\
		abort();						\
	}								\
} while (0)

static const char SAMPLE_JSON[] = "{\"policy_id\":\"genesis-2024-11\"}";

/* --- the server's handlers (the dispatch table signerd will have) ---- */

/* The tx hash names the request, so concurrent callers can check theirs. */
static void
hash_of(uint8_t out[PRT_HASH_LEN], const char *request_id)
{
	memset(out, 0, PRT_HASH_LEN);
	memcpy(out, request_id, strnlen(request_id, PRT_HASH_LEN));
}

static int
h_sign(void *ctx, const uint8_t *req, size_t len, struct prt_writer *rep)
{
	struct prt_sign_req *q = malloc(sizeof(*q));
	struct prt_sign_rep *p = calloc(1, sizeof(*p));
	struct prt_reply_hdr h;
	int r;

	SRV_CHECK(q != NULL);
	SRV_CHECK(p != NULL);
	if ((r = prt_decode_sign_req(q, req, len)) != 0) {
		prt_reply_hdr_set(&h, r, err_str(r));
	} else if (strcmp(q->asset, "DENY") == 0) {
		prt_reply_hdr_set(&h, 7, "over daily limit");
	} else if (q->from[0] != KEY_BYTE || q->from[19] != KEY_BYTE) {
		prt_reply_hdr_set(&h, KEY_MISMATCH_REASON, "not our key");
	} else if (q->created_day < WINDOW_FIRST_DAY) {
		prt_reply_hdr_set(&h, REQUEST_EXPIRED_REASON, "too old");
	} else {
		prt_reply_hdr_set(&h, 0, "signed");
		/* "Signed" tx: the unsigned one with a marker byte. */
		memcpy(p->raw, q->tx, q->tx_len);
		p->raw[q->tx_len] = 0x5e;
		p->raw_len = q->tx_len + 1;
		hash_of(p->tx_hash, q->request_id);
		/* The receipt: the journal record that authorized it. */
		p->receipt_seq = 1000 + (uint64_t)q->tx_len;
		hash_of(p->receipt_hash, "receipt");
	}
	r = prt_encode_sign_rep(rep, &h, p);
	free(q);
	free(p);
	return r;
}

static int
h_exposure(void *ctx, const uint8_t *req, size_t len, struct prt_writer *rep)
{
	struct prt_exposure_req q;
	struct prt_exposure_rep p;
	struct prt_reply_hdr h;
	int r;

	memset(&p, 0, sizeof(p));
	if ((r = prt_decode_exposure_req(&q, req, len)) != 0) {
		prt_reply_hdr_set(&h, r, err_str(r));
		return prt_encode_exposure_rep(rep, &h, NULL);
	}
	prt_reply_hdr_set(&h, 0, "");
	strcpy(p.asset, q.asset);
	p.date = q.date == PRT_DATE_TODAY ? 20049 : q.date;
	p.signed_total.w[0] = 400;
	p.limit.w[0] = 1000;
	p.limit.w[3] = 1;
	p.remaining.w[0] = 600;
	p.remaining.w[3] = 1;
	return prt_encode_exposure_rep(rep, &h, &p);
}

static int
h_status(void *ctx, const uint8_t *req, size_t len, struct prt_writer *rep)
{
	struct prt_status_rep p;
	struct prt_reply_hdr h;
	int r;

	memset(&p, 0, sizeof(p));
	if ((r = prt_decode_status_req(req, len)) != 0) {
		prt_reply_hdr_set(&h, r, err_str(r));
		return prt_encode_status_rep(rep, &h, NULL);
	}
	prt_reply_hdr_set(&h, 0, "");
	strcpy(p.version, "signerd test");
	strcpy(p.policy_id, "genesis");
	memset(p.policy_hash, 0x11, sizeof(p.policy_hash));
	p.head_seq = 42;
	memset(p.head_hash, 0x22, sizeof(p.head_hash));
	p.paused = 1;
	/* Paused: a sign could not succeed now, and says why. */
	p.can_sign = 0;
	p.blocked = BLOCKED_REASON;
	p.nkeys = 1;
	strcpy(p.keys[0].name, "hot-eth");
	memset(p.keys[0].address, KEY_BYTE, EVM_ADDR_LEN);
	return prt_encode_status_rep(rep, &h, &p);
}

/*
 * Governance, reduced: the version in force is "genesis" (version 1,
 * hash of 0x11s); a proposal is pending once proposed, named by the hash
 * the client sent as replaced plus one, and each approval names one
 * approver; a cancel by "mallory" is refused.
 */
static void
gov_state(struct prt_gov_state *st, int pending)
{
	memset(st, 0, sizeof(*st));
	strcpy(st->policy_id, "genesis");
	memset(st->policy_hash, 0x11, sizeof(st->policy_hash));
	st->version = 1;
	st->since = 1795000000;
	if (!pending)
		return;
	st->pending = 1;
	strcpy(st->pending_id, "ops-2");
	memset(st->pending_hash, 0x12, sizeof(st->pending_hash));
	st->change = PRT_GOV_LOOSEN;
	st->proposed_at = 1795000100;
	st->needed = 2;
}

static int
h_gov_propose(void *ctx, const uint8_t *req, size_t len,
    struct prt_writer *rep)
{
	struct prt_gov_propose_req q;
	struct prt_gov_state st;
	struct prt_reply_hdr h;
	size_t i;
	int r;

	if ((r = prt_decode_gov_propose_req(&q, req, len)) != 0) {
		prt_reply_hdr_set(&h, r, err_str(r));
		return prt_encode_gov_rep(rep, PRT_GOV_PROPOSE_REP, &h, NULL);
	}
	gov_state(&st, 1);
	for (i = 0; i < PRT_HASH_LEN; i++)
		st.pending_hash[i] = (uint8_t)(q.replaces[i] + 1);
	/* The file's length, so the test sees the file arrived whole. */
	st.proposed_at = q.policy_len;
	prt_reply_hdr_set(&h, 0, "proposed");
	return prt_encode_gov_rep(rep, PRT_GOV_PROPOSE_REP, &h, &st);
}

static int
h_gov_approve(void *ctx, const uint8_t *req, size_t len,
    struct prt_writer *rep)
{
	struct prt_gov_approve_req *q = malloc(sizeof(*q));
	struct prt_gov_state st;
	struct prt_reply_hdr h;
	uint16_t i;
	int r;

	SRV_CHECK(q != NULL);
	if ((r = prt_decode_gov_approve_req(q, req, len)) != 0) {
		prt_reply_hdr_set(&h, r, err_str(r));
		free(q);
		return prt_encode_gov_rep(rep, PRT_GOV_APPROVE_REP, &h, NULL);
	}
	gov_state(&st, 1);
	memcpy(st.pending_hash, q->proposed, PRT_HASH_LEN);
	st.napproved = q->napprovals;
	for (i = 0; i < q->napprovals; i++)
		strcpy(st.approved[i], q->approvals[i].approver);
	if (st.napproved >= st.needed)
		st.effective_at = 1795003700;
	prt_reply_hdr_set(&h, 0, "approved");
	free(q);
	return prt_encode_gov_rep(rep, PRT_GOV_APPROVE_REP, &h, &st);
}

static int
h_gov_cancel(void *ctx, const uint8_t *req, size_t len,
    struct prt_writer *rep)
{
	struct prt_gov_cancel_req q;
	struct prt_gov_state st;
	struct prt_reply_hdr h;
	int r;

	if ((r = prt_decode_gov_cancel_req(&q, req, len)) != 0) {
		prt_reply_hdr_set(&h, r, err_str(r));
		return prt_encode_gov_rep(rep, PRT_GOV_CANCEL_REP, &h, NULL);
	}
	if (strcmp(q.approval.approver, "mallory") == 0) {
		prt_reply_hdr_set(&h, UNKNOWN_APPROVER_REASON,
		    "mallory is no governance approver");
		return prt_encode_gov_rep(rep, PRT_GOV_CANCEL_REP, &h, NULL);
	}
	gov_state(&st, 0);
	prt_reply_hdr_set(&h, 0, "cancelled");
	return prt_encode_gov_rep(rep, PRT_GOV_CANCEL_REP, &h, &st);
}

static int
h_gov_status(void *ctx, const uint8_t *req, size_t len,
    struct prt_writer *rep)
{
	struct prt_gov_state st;
	struct prt_reply_hdr h;
	int r;

	if ((r = prt_decode_gov_status_req(req, len)) != 0) {
		prt_reply_hdr_set(&h, r, err_str(r));
		return prt_encode_gov_rep(rep, PRT_GOV_STATUS_REP, &h, NULL);
	}
	gov_state(&st, 1);
	prt_reply_hdr_set(&h, 0, "");
	return prt_encode_gov_rep(rep, PRT_GOV_STATUS_REP, &h, &st);
}

static int
h_policy(void *ctx, const uint8_t *req, size_t len, struct prt_writer *rep)
{
	struct prt_policy_rep p = { (const uint8_t *)SAMPLE_JSON,
		sizeof(SAMPLE_JSON) - 1 };
	struct prt_reply_hdr h;
	int r;

	if ((r = prt_decode_policy_req(req, len)) != 0) {
		prt_reply_hdr_set(&h, r, err_str(r));
		return prt_encode_policy_rep(rep, &h, NULL);
	}
	prt_reply_hdr_set(&h, 0, "");
	return prt_encode_policy_rep(rep, &h, &p);
}

static const struct prt_handler handlers[] = {
	{ PRT_SIGN_REQ, h_sign, PRT_HF_WRITES },
	{ PRT_EXPOSURE_REQ, h_exposure, 0 },
	{ PRT_STATUS_REQ, h_status, 0 },
	{ PRT_POLICY_REQ, h_policy, 0 },
	{ PRT_GOV_PROPOSE_REQ, h_gov_propose, PRT_HF_ADMIN | PRT_HF_WRITES },
	{ PRT_GOV_APPROVE_REQ, h_gov_approve, PRT_HF_ADMIN | PRT_HF_WRITES },
	{ PRT_GOV_CANCEL_REQ, h_gov_cancel, PRT_HF_ADMIN | PRT_HF_WRITES },
	{ PRT_GOV_STATUS_REQ, h_gov_status, 0 },
};

static int
error_rep(struct prt_writer *w, int code, const char *why)
{
	struct prt_reply_hdr h;

	prt_reply_hdr_set(&h, code, why);
	return prt_encode_error_rep(w, &h);
}

/* signerd's front door, reduced: header, version, table. */
static void
serve_one(const uint8_t *req, size_t len, struct prt_writer *w)
{
	const struct prt_handler *hd;
	uint16_t version, type;
	int r;

	if ((r = prt_peek_header(&version, &type, req, len)) != 0)
		r = error_rep(w, r, "bad frame");
	else if (version != PRT_VERSION)
		r = error_rep(w, ERR_BAD_VERSION, "this signer speaks another "
		    "version");
	else if ((hd = prt_find_handler(handlers, ARRAY_LEN(handlers),
	    type)) == NULL)
		r = error_rep(w, ERR_UNSUPPORTED, "unknown type");
	else
		r = hd->fn(NULL, req, len, w);
	SRV_CHECK(r == 0);
}

/* Rewrites a frame's u16 version (big-endian, after the magic). */
static void
set_version(uint8_t *frame, uint16_t version)
{
	frame[PRT_MAGIC_LEN] = (uint8_t)(version >> 8);
	frame[PRT_MAGIC_LEN + 1] = (uint8_t)version;
}

static void
answer(struct server *s, const uint8_t *req, size_t len, struct prt_writer *w)
{
	struct prt_reply_hdr h;
	struct prt_status_rep st;

	switch ((enum mode)atomic_load(&s->mode)) {
	case SERVE:
		serve_one(req, len, w);
		break;
	case DROP:
		break;
	case OVERSIZE:
		SRV_CHECK(prt_put_reserve(w, PRT_MAX_MESSAGE + 1) != NULL);
		memset(w->p, 0, w->len);
		memcpy(w->p, "SGNR", 4);
		break;
	case GARBAGE:
		(void)prt_put_bytes(w, "hello", 5);
		break;
	case WRONG_TYPE:
		memset(&st, 0, sizeof(st));
		strcpy(st.version, "x");
		strcpy(st.policy_id, "p");
		st.can_sign = 1;
		prt_reply_hdr_set(&h, 0, "");
		SRV_CHECK(prt_encode_status_rep(w, &h, &st) == 0);
		break;
	case OTHER_VERSION:
		SRV_CHECK(error_rep(w, ERR_BAD_VERSION, "speaks 3") == 0);
		set_version(w->p, OTHER_VERSION_NUMBER);
		break;
	case OTHER_VERSION_TYPED:
		serve_one(req, len, w);
		set_version(w->p, OTHER_VERSION_NUMBER);
		break;
	}
}

static void *
serve(void *arg)
{
	struct server *s = arg;
	struct prt_writer w;
	nng_msg *m, *r;

	while (nng_recvmsg(s->sock, &m, 0) == 0) {
		atomic_fetch_add(&s->requests, 1);
		/* Room for the oversized answer the OVERSIZE mode sends. */
		prt_writer_init(&w, 2 * PRT_MAX_MESSAGE);
		answer(s, nng_msg_body(m), nng_msg_len(m), &w);
		nng_msg_free(m);
		if (w.len > 0 && nng_msg_alloc(&r, w.len) == 0) {
			memcpy(nng_msg_body(r), w.p, w.len);
			if (nng_sendmsg(s->sock, r, 0) != 0)
				nng_msg_free(r);
		}
		prt_writer_free(&w);
	}
	return NULL;
}

static void
server_start(struct server *s, enum mode mode)
{
	const char *tmp = getenv("TMPDIR");

	memset(s, 0, sizeof(*s));
	atomic_init(&s->mode, (int)mode);
	atomic_init(&s->requests, 0);
	snprintf(s->dir, sizeof(s->dir), "%s/prt-client-XXXXXX",
	    tmp != NULL && strlen(tmp) < 40 ? tmp : "/tmp");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/signerd.sock", s->dir);
	snprintf(s->url, sizeof(s->url), "ipc://%s", s->path);
	assert_int_equal(nng_rep0_open(&s->sock), 0);
	/* As signerd does: an oversized request never reaches a decoder. */
	assert_int_equal(nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ,
	    PRT_MAX_MESSAGE), 0);
	assert_int_equal(nng_listen(s->sock, s->url, NULL, 0), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void
server_stop(struct server *s)
{
	nng_close(s->sock);
	assert_int_equal(pthread_join(s->thread, NULL), 0);
	(void)unlink(s->path);
	assert_int_equal(rmdir(s->dir), 0);
}

static void
sample_sign_req(struct prt_sign_req *q, const char *id)
{
	memset(q, 0, sizeof(*q));
	strcpy(q->request_id, id);
	strcpy(q->asset, "USDC");
	q->chain_id = 1;
	memset(q->from, KEY_BYTE, sizeof(q->from));
	q->created_day = SERVER_DAY;
	memset(q->to, 0x44, sizeof(q->to));
	q->amount.w[0] = 1000000;
	q->tx_len = 100;
	memset(q->tx, 0x02, q->tx_len);
	q->napprovals = 1;
	strcpy(q->approvals[0].approver, "alice");
	q->approvals[0].expiry = 1700000000;
	q->approvals[0].sig_len = 65;
	memset(q->approvals[0].sig, 0xaa, 65);
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* --- tests ------------------------------------------------------------ */

static void
test_open_errors(void **state)
{
	struct prt_client *c = (struct prt_client *)1;
	struct server s;

	assert_int_equal(prt_client_open(&c, NULL, 100), ERR_INVALID_ARG);
	assert_null(c);
	assert_int_equal(prt_client_open(&c, "ipc:///nonexistent/x", 0),
	    ERR_INVALID_ARG);
	/* Nobody listening: the dial fails now, with nng's reason. */
	server_start(&s, SERVE);
	server_stop(&s);
	assert_int_equal(prt_client_open(&c, s.url, 100), ERR_IO);
	assert_null(c);
	assert_non_null(strstr(prt_client_last_error(), "nng_dial"));
	prt_client_close(NULL);
}

static void
test_sign(void **state)
{
	struct prt_sign_req *q = malloc(sizeof(*q));
	struct prt_sign_rep *p = malloc(sizeof(*p));
	struct prt_queue_rep qp;
	struct prt_reply_hdr h;
	struct prt_client *c;
	struct server s;
	uint8_t want[PRT_HASH_LEN];

	assert_non_null(q);
	assert_non_null(p);
	server_start(&s, SERVE);
	assert_int_equal(prt_client_open(&c, s.url, TIMEOUT_MS), 0);

	sample_sign_req(q, "req-1");
	assert_int_equal(prt_client_sign(c, q, p, &h), 0);
	assert_int_equal(h.result, 0);
	assert_string_equal(h.message, "signed");
	assert_int_equal(p->raw_len, 101);
	assert_memory_equal(p->raw, q->tx, 100);
	assert_int_equal(p->raw[100], 0x5e);
	hash_of(want, "req-1");
	assert_memory_equal(p->tx_hash, want, PRT_HASH_LEN);
	/* Protocol 2: the receipt rides along. */
	assert_int_equal(p->receipt_seq, 1100);
	hash_of(want, "receipt");
	assert_memory_equal(p->receipt_hash, want, PRT_HASH_LEN);
	assert_string_equal(prt_client_last_error(), "");

	/* A refusal is a reply, not a transport error. */
	strcpy(q->asset, "DENY");
	memset(p, 0xa5, sizeof(*p));
	assert_int_equal(prt_client_sign(c, q, p, &h), 0);
	assert_int_equal(h.result, 7);
	assert_string_equal(h.message, "over daily limit");
	assert_int_equal(p->raw_len, 0);
	assert_int_equal(p->receipt_seq, 0);

	/* Protocol 3: from arrives, and the server judges it. */
	strcpy(q->asset, "USDC");
	q->from[19] = 0x34;
	assert_int_equal(prt_client_sign(c, q, p, &h), 0);
	assert_int_equal(h.result, KEY_MISMATCH_REASON);
	assert_int_equal(p->raw_len, 0);

	/* Protocol 4: created_day arrives as sent, and the server judges
	 * it: the first day of its window signs, the day before does not. */
	q->from[19] = KEY_BYTE;
	q->created_day = WINDOW_FIRST_DAY;
	assert_int_equal(prt_client_sign(c, q, p, &h), 0);
	assert_int_equal(h.result, 0);
	q->created_day = WINDOW_FIRST_DAY - 1;
	assert_int_equal(prt_client_sign(c, q, p, &h), 0);
	assert_int_equal(h.result, REQUEST_EXPIRED_REASON);
	assert_int_equal(p->raw_len, 0);

	/* A request we would not encode is never sent: a bad id, or no
	 * created day. */
	strcpy(q->request_id, "bad id");
	assert_int_equal(prt_client_sign(c, q, p, &h), ERR_MALFORMED);
	assert_non_null(strstr(prt_client_last_error(), "encoding"));
	strcpy(q->request_id, "req-1");
	q->created_day = 0;
	assert_int_equal(prt_client_sign(c, q, p, &h), ERR_MALFORMED);
	assert_int_equal(prt_client_queue(c, q, &qp, &h), ERR_MALFORMED);
	assert_int_equal(atomic_load(&s.requests), 5);

	prt_client_close(c);
	server_stop(&s);
	free(q);
	free(p);
}

static void
test_exposure_status_policy(void **state)
{
	struct prt_exposure_req eq;
	struct prt_exposure_rep ep;
	struct prt_status_rep st;
	struct prt_reply_hdr h;
	struct prt_client *c;
	struct server s;
	char *json;
	size_t json_len;

	server_start(&s, SERVE);
	assert_int_equal(prt_client_open(&c, s.url, TIMEOUT_MS), 0);

	memset(&eq, 0, sizeof(eq));
	strcpy(eq.asset, "ETH");
	eq.date = PRT_DATE_TODAY;
	assert_int_equal(prt_client_exposure(c, &eq, &ep, &h), 0);
	assert_int_equal(h.result, 0);
	assert_string_equal(ep.asset, "ETH");
	assert_int_equal(ep.date, 20049);
	assert_int_equal(ep.signed_total.w[0], 400);
	assert_int_equal(ep.limit.w[3], 1);
	assert_int_equal(ep.remaining.w[0], 600);

	assert_int_equal(prt_client_status(c, &st, &h), 0);
	assert_int_equal(h.result, 0);
	assert_string_equal(st.version, "signerd test");
	assert_string_equal(st.policy_id, "genesis");
	assert_int_equal(st.head_seq, 42);
	assert_int_equal(st.paused, 1);
	assert_int_equal(st.can_sign, 0);
	assert_int_equal(st.blocked, BLOCKED_REASON);
	assert_int_equal(st.nkeys, 1);
	assert_string_equal(st.keys[0].name, "hot-eth");
	assert_int_equal(st.keys[0].address[19], KEY_BYTE);

	assert_int_equal(prt_client_policy(c, &json, &json_len, &h), 0);
	assert_int_equal(h.result, 0);
	assert_int_equal(json_len, strlen(SAMPLE_JSON));
	assert_string_equal(json, SAMPLE_JSON);
	free(json);

	prt_client_close(c);
	server_stop(&s);
}

static void
test_governance(void **state)
{
	static const char doc[] = "{\"policy_id\":\"ops-2\"}";
	struct prt_gov_approve_req *aq = calloc(1, sizeof(*aq));
	struct prt_gov_propose_req pq;
	struct prt_gov_cancel_req cq;
	struct prt_gov_state st;
	struct prt_reply_hdr h;
	struct prt_client *c;
	struct server s;
	uint8_t want[PRT_HASH_LEN];

	assert_non_null(aq);
	server_start(&s, SERVE);
	assert_int_equal(prt_client_open(&c, s.url, TIMEOUT_MS), 0);

	memset(&pq, 0, sizeof(pq));
	pq.policy = (const uint8_t *)doc;
	pq.policy_len = strlen(doc);
	memset(pq.replaces, 0x20, sizeof(pq.replaces));
	assert_int_equal(prt_client_gov_propose(c, &pq, &st, &h), 0);
	assert_int_equal(h.result, 0);
	assert_string_equal(h.message, "proposed");
	assert_string_equal(st.policy_id, "genesis");
	assert_int_equal(st.version, 1);
	assert_int_equal(st.pending, 1);
	assert_string_equal(st.pending_id, "ops-2");
	memset(want, 0x21, sizeof(want));
	assert_memory_equal(st.pending_hash, want, PRT_HASH_LEN);
	assert_int_equal(st.change, PRT_GOV_LOOSEN);
	assert_int_equal(st.proposed_at, strlen(doc));
	assert_int_equal(st.napproved, 0);

	memset(aq->proposed, 0x21, sizeof(aq->proposed));
	aq->napprovals = 2;
	strcpy(aq->approvals[0].approver, "alice");
	aq->approvals[0].expiry = 1795001000;
	aq->approvals[0].sig_len = 64;
	memset(aq->approvals[0].sig, 0xaa, 64);
	strcpy(aq->approvals[1].approver, "bob");
	aq->approvals[1].expiry = 1795001000;
	aq->approvals[1].sig_len = 71;
	memset(aq->approvals[1].sig, 0xbb, 71);
	assert_int_equal(prt_client_gov_approve(c, aq, &st, &h), 0);
	assert_int_equal(h.result, 0);
	assert_memory_equal(st.pending_hash, aq->proposed, PRT_HASH_LEN);
	assert_int_equal(st.napproved, 2);
	assert_string_equal(st.approved[0], "alice");
	assert_string_equal(st.approved[1], "bob");
	assert_int_equal(st.needed, 2);
	assert_int_equal(st.effective_at, 1795003700);

	assert_int_equal(prt_client_gov_status(c, &st, &h), 0);
	assert_int_equal(h.result, 0);
	assert_int_equal(st.pending, 1);
	assert_int_equal(st.effective_at, 0);

	/* A refusal is a reply: the code, and no state. */
	memset(&cq, 0, sizeof(cq));
	memset(cq.proposed, 0x21, sizeof(cq.proposed));
	strcpy(cq.approval.approver, "mallory");
	cq.approval.expiry = 1795001000;
	cq.approval.sig_len = 64;
	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(prt_client_gov_cancel(c, &cq, &st, &h), 0);
	assert_int_equal(h.result, UNKNOWN_APPROVER_REASON);
	assert_string_equal(h.message, "mallory is no governance approver");
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.version, 0);
	strcpy(cq.approval.approver, "carol");
	assert_int_equal(prt_client_gov_cancel(c, &cq, &st, &h), 0);
	assert_int_equal(h.result, 0);
	assert_string_equal(h.message, "cancelled");
	assert_int_equal(st.pending, 0);
	assert_string_equal(st.pending_id, "");
	assert_int_equal(atomic_load(&s.requests), 5);

	/* Requests we would not encode are never sent. */
	pq.policy_len = 0;
	assert_int_equal(prt_client_gov_propose(c, &pq, &st, &h),
	    ERR_MALFORMED);
	assert_non_null(strstr(prt_client_last_error(), "encoding"));
	aq->napprovals = 0;
	assert_int_equal(prt_client_gov_approve(c, aq, &st, &h),
	    ERR_MALFORMED);
	cq.approval.approver[0] = '\0';
	assert_int_equal(prt_client_gov_cancel(c, &cq, &st, &h),
	    ERR_MALFORMED);
	assert_int_equal(atomic_load(&s.requests), 5);
	prt_client_close(c);
	server_stop(&s);

	/* Another reply type where a GOV_STATUS_REP belongs. */
	server_start(&s, WRONG_TYPE);
	assert_int_equal(prt_client_open(&c, s.url, TIMEOUT_MS), 0);
	assert_int_equal(prt_client_gov_status(c, &st, &h), ERR_MALFORMED);
	assert_non_null(strstr(prt_client_last_error(), "GOV_STATUS_REP"));
	prt_client_close(c);
	server_stop(&s);

	/* A server of another version explains itself: a reply, no failure. */
	server_start(&s, OTHER_VERSION);
	assert_int_equal(prt_client_open(&c, s.url, TIMEOUT_MS), 0);
	assert_int_equal(prt_client_gov_status(c, &st, &h), 0);
	assert_int_equal(h.result, ERR_BAD_VERSION);
	assert_int_equal(st.version, 0);
	prt_client_close(c);
	server_stop(&s);
	free(aq);
}

/* A server that never answers: the call gives up after its timeout. */
static void
test_timeout(void **state)
{
	struct prt_sign_req *q = malloc(sizeof(*q));
	struct prt_sign_rep *p = malloc(sizeof(*p));
	struct prt_reply_hdr h;
	struct prt_client *c;
	struct server s;
	struct timespec t0;
	long ms;

	assert_non_null(q);
	assert_non_null(p);
	server_start(&s, DROP);
	assert_int_equal(prt_client_open(&c, s.url, 200), 0);
	sample_sign_req(q, "req-timeout");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(prt_client_sign(c, q, p, &h), ERR_TIMEOUT);
	ms = ms_since(&t0);
	assert_true(ms >= 150);
	assert_true(ms < 5000);
	assert_string_equal(prt_client_last_error(), "receive: Timed out");
	assert_int_equal(h.result, 0);
	assert_int_equal(p->raw_len, 0);
	/* Sent once: no timed resend while waiting. */
	assert_int_equal(atomic_load(&s.requests), 1);
	prt_client_close(c);
	server_stop(&s);
	free(q);
	free(p);
}

/*
 * A reply above PRT_MAX_MESSAGE is dropped by the transport before it is
 * buffered; the call fails and nothing is decoded.
 */
static void
test_oversized_reply(void **state)
{
	struct prt_status_rep st;
	struct prt_reply_hdr h;
	struct prt_client *c;
	struct server s;
	uint8_t *rep = (uint8_t *)1;
	size_t replen = 1;

	server_start(&s, OVERSIZE);
	assert_int_equal(prt_client_open(&c, s.url, 3000), 0);
	/*
	 * NNG closes the connection on the oversized frame; with resends
	 * off the call fails at once rather than asking again.
	 */
	assert_int_equal(prt_client_status(c, &st, &h), ERR_IO);
	assert_string_equal(prt_client_last_error(),
	    "receive: Connection reset");
	assert_int_equal(st.nkeys, 0);
	assert_int_equal(atomic_load(&s.requests), 1);
	assert_int_equal(prt_client_call(c, (const uint8_t *)"SGNR", 4, &rep,
	    &replen), ERR_IO);
	assert_null(rep);
	assert_int_equal(replen, 0);
	assert_int_equal(atomic_load(&s.requests), 2);
	/*
	 * The socket redials on its own and stays usable.  This also ends
	 * the test with both sides' handshakes over: libnng 1.5 leaks a
	 * connection whose handshake is in flight when its socket closes
	 * (see proto/client.c; the cause of the 1-in-20 LeakSanitizer report
	 * of issue 10 item 11).
	 */
	atomic_store(&s.mode, SERVE);
	assert_int_equal(prt_client_status(c, &st, &h), 0);
	assert_int_equal(h.result, 0);
	assert_int_equal(st.nkeys, 1);
	assert_int_equal(atomic_load(&s.requests), 3);
	prt_client_close(c);
	server_stop(&s);
}

/* An oversized request never reaches the server's code either. */
static void
test_oversized_request(void **state)
{
	struct prt_client *c;
	struct server s;
	uint8_t *big, *rep;
	size_t replen;

	big = calloc(1, PRT_MAX_MESSAGE + 1);
	assert_non_null(big);
	/* A STATUS_REQ header of this version, then padding. */
	memcpy(big, "SGNR\x00\x00\x00\x03", PRT_HEADER_LEN);
	set_version(big, PRT_VERSION);
	server_start(&s, SERVE);
	assert_int_equal(prt_client_open(&c, s.url, 3000), 0);
	assert_int_equal(prt_client_call(c, big, PRT_MAX_MESSAGE + 1, &rep,
	    &replen), ERR_IO);
	assert_int_equal(atomic_load(&s.requests), 0);
	/* The client reconnects, and a good request still works. */
	assert_int_equal(prt_client_call(c, big, PRT_HEADER_LEN, &rep,
	    &replen), 0);
	free(rep);
	assert_int_equal(atomic_load(&s.requests), 1);
	prt_client_close(c);
	server_stop(&s);
	free(big);
}

static void
test_bad_replies(void **state)
{
	struct prt_status_rep st;
	struct prt_reply_hdr h;
	struct prt_client *c;
	struct server s;

	server_start(&s, GARBAGE);
	assert_int_equal(prt_client_open(&c, s.url, TIMEOUT_MS), 0);
	assert_int_equal(prt_client_status(c, &st, &h), ERR_MALFORMED);
	assert_non_null(strstr(prt_client_last_error(), "STATUS_REP"));
	prt_client_close(c);
	server_stop(&s);

	server_start(&s, WRONG_TYPE);
	assert_int_equal(prt_client_open(&c, s.url, TIMEOUT_MS), 0);
	assert_int_equal(prt_client_status(c, &st, &h), 0);
	{
		char *json = (char *)1;
		size_t n = 1;

		/* A STATUS_REP where a POLICY_REP belongs. */
		assert_int_equal(prt_client_policy(c, &json, &n, &h),
		    ERR_MALFORMED);
		assert_null(json);
		assert_int_equal(n, 0);
	}
	prt_client_close(c);
	server_stop(&s);

	/* A typed reply of another version is refused as such. */
	server_start(&s, OTHER_VERSION_TYPED);
	assert_int_equal(prt_client_open(&c, s.url, TIMEOUT_MS), 0);
	assert_int_equal(prt_client_status(c, &st, &h), ERR_BAD_VERSION);
	prt_client_close(c);
	server_stop(&s);
}

/* A server of another version explains itself with an ERROR_REP. */
static void
test_error_rep_from_other_version(void **state)
{
	struct prt_exposure_req eq;
	struct prt_exposure_rep ep;
	struct prt_reply_hdr h;
	struct prt_client *c;
	struct server s;

	server_start(&s, OTHER_VERSION);
	assert_int_equal(prt_client_open(&c, s.url, TIMEOUT_MS), 0);
	memset(&eq, 0, sizeof(eq));
	strcpy(eq.asset, "ETH");
	assert_int_equal(prt_client_exposure(c, &eq, &ep, &h), 0);
	assert_int_equal(h.result, ERR_BAD_VERSION);
	assert_string_equal(h.message, "speaks 3");
	assert_string_equal(ep.asset, "");
	prt_client_close(c);
	server_stop(&s);
}

/* Raw frames reach the server's front door and get an ERROR_REP. */
static void
test_raw_call_malformed_frames(void **state)
{
	struct prt_reply_hdr h;
	struct prt_client *c;
	struct prt_writer w;
	struct server s;
	uint16_t version;
	uint8_t frame[PRT_HEADER_LEN], *rep;
	size_t replen;

	server_start(&s, SERVE);
	assert_int_equal(prt_client_open(&c, s.url, TIMEOUT_MS), 0);

	assert_int_equal(prt_client_call(c, (const uint8_t *)"xx", 2, &rep,
	    &replen), 0);
	assert_int_equal(prt_decode_error_rep(&h, &version, rep, replen), 0);
	assert_int_equal(h.result, ERR_TRUNCATED);
	free(rep);

	/* Other versions, older and newer: a STATUS_REQ header each. */
	memcpy(frame, "SGNR\x00\x00\x00\x03", PRT_HEADER_LEN);
	set_version(frame, PRT_VERSION - 1);
	assert_int_equal(prt_client_call(c, frame, PRT_HEADER_LEN, &rep,
	    &replen), 0);
	assert_int_equal(prt_decode_error_rep(&h, &version, rep, replen), 0);
	assert_int_equal(h.result, ERR_BAD_VERSION);
	assert_int_equal(version, PRT_VERSION);
	free(rep);
	set_version(frame, OTHER_VERSION_NUMBER);
	assert_int_equal(prt_client_call(c, frame, PRT_HEADER_LEN, &rep,
	    &replen), 0);
	assert_int_equal(prt_decode_error_rep(&h, &version, rep, replen), 0);
	assert_int_equal(h.result, ERR_BAD_VERSION);
	free(rep);

	/* This version, a type nobody defined. */
	memcpy(frame, "SGNR\x00\x00\x00\x7f", PRT_HEADER_LEN);
	set_version(frame, PRT_VERSION);
	assert_int_equal(prt_client_call(c, frame, PRT_HEADER_LEN, &rep,
	    &replen), 0);
	assert_int_equal(prt_decode_error_rep(&h, &version, rep, replen), 0);
	assert_int_equal(h.result, ERR_UNSUPPORTED);
	free(rep);

	/* A STATUS_REQ with a trailing byte: refused in a typed reply. */
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_status_req(&w), 0);
	(void)prt_put_u8(&w, 0);
	assert_int_equal(prt_client_call(c, w.p, w.len, &rep, &replen), 0);
	{
		struct prt_status_rep st;

		assert_int_equal(prt_decode_status_rep(&h, &st, rep, replen),
		    0);
		assert_int_equal(h.result, ERR_TRAILING);
	}
	free(rep);
	prt_writer_free(&w);

	prt_client_close(c);
	server_stop(&s);
}

/* Many threads on one client: each gets the reply to its own request. */
#define THREADS 8
#define CALLS 40

struct worker {
	struct prt_client *c;
	int id;
	int failures;
};

static void *
work(void *arg)
{
	struct worker *wk = arg;
	struct prt_sign_req *q = malloc(sizeof(*q));
	struct prt_sign_rep *p = malloc(sizeof(*p));
	struct prt_reply_hdr h;
	uint8_t want[PRT_HASH_LEN];
	char id[PRT_REQUEST_ID_MAX + 1];
	int i;

	if (q == NULL || p == NULL) {
		wk->failures = CALLS;
		goto out;
	}
	for (i = 0; i < CALLS; i++) {
		snprintf(id, sizeof(id), "w%d-call%d", wk->id, i);
		sample_sign_req(q, id);
		hash_of(want, id);
		if (prt_client_sign(wk->c, q, p, &h) != 0 || h.result != 0 ||
		    memcmp(p->tx_hash, want, PRT_HASH_LEN) != 0)
			wk->failures++;
	}
out:
	free(q);
	free(p);
	return NULL;
}

static void
test_concurrent_callers(void **state)
{
	struct worker wk[THREADS];
	pthread_t t[THREADS];
	struct prt_client *c;
	struct server s;
	int i;

	server_start(&s, SERVE);
	assert_int_equal(prt_client_open(&c, s.url, 5000), 0);
	for (i = 0; i < THREADS; i++) {
		wk[i].c = c;
		wk[i].id = i;
		wk[i].failures = 0;
		assert_int_equal(pthread_create(&t[i], NULL, work, &wk[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(wk[i].failures, 0);
	}
	assert_int_equal(atomic_load(&s.requests), THREADS * CALLS);
	prt_client_close(c);
	server_stop(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_exposure_status_policy),
		cmocka_unit_test(test_governance),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_oversized_reply),
		cmocka_unit_test(test_oversized_request),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_error_rep_from_other_version),
		cmocka_unit_test(test_raw_call_malformed_frames),
		cmocka_unit_test(test_concurrent_callers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
