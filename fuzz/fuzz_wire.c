/* fuzz_wire.c: every wire decoder on any bytes; what decodes is canonical. */
/*
 * Seeds: fuzz/corpus/fuzz_wire, one frame of each message type.  After a
 * PRT_VERSION bump, tests/tools/wireseeds upgrades them in place (and
 * checks that each decodes), so they keep reaching the typed decoders.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "proto/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Whatever a decoder accepts must re-encode to exactly the input: one
 * meaning has one encoding, so signerd, the journal and auditors never
 * disagree about what a frame said.
 */
static void
check_same(struct prt_writer *w, int enc, const uint8_t *data, size_t size)
{
	if (enc != 0 || w->len != size || memcmp(w->p, data, size) != 0)
		abort();
	prt_writer_free(w);
}

/*
 * The field rules hold for whatever decodes: a payout request names its
 * created day (never 0), a signature always comes
 * with a receipt (seq 1 or more), STATUS_REP's flags agree (can_sign 0/1,
 * blocked non-zero exactly when it is 0, never both paused and able to
 * sign), and a governance state has one meaning per value (below).
 */
static void
check_sign_rep(const struct prt_reply_hdr *hdr, const struct prt_sign_rep *r)
{
	/* Retry advice (protocol 5): bounded, and only on a refusal. */
	if (hdr->retry_after_s > PRT_RETRY_AFTER_MAX ||
	    (hdr->result == 0 && hdr->retry_after_s != 0))
		abort();
	if (hdr->result == 0 && r->receipt_seq == 0)
		abort();
	if (hdr->result != 0 && (r->receipt_seq != 0 || r->raw_len != 0))
		abort();
}

/* A payout request always names the day it was created (protocol 4). */
static void
check_payout_req(const struct prt_sign_req *q)
{
	if (q->created_day == 0)
		abort();
}

static void
check_status_rep(const struct prt_reply_hdr *hdr,
    const struct prt_status_rep *r)
{
	if (hdr->result != 0)
		return;
	if (r->paused > 1 || r->can_sign > 1 ||
	    (r->can_sign == 1) != (r->blocked == 0) ||
	    (r->paused == 1 && r->can_sign == 1))
		abort();
}

/*
 * A governance state: version 1 or more, pending 0 or 1, with nothing
 * pending every later field zero, a pending change a tightening or a
 * loosening naming at most PRT_GOV_APPROVED_MAX approvers.  A refusal
 * leaves it all zero.  The policy file of a proposal holds no NUL.
 */
static void
check_gov_state(const struct prt_reply_hdr *hdr,
    const struct prt_gov_state *st)
{
	static const struct prt_gov_state zero;

	if (hdr->result != 0) {
		if (memcmp(st, &zero, sizeof(zero)) != 0)
			abort();
		return;
	}
	if (st->version == 0 || st->pending > 1 ||
	    st->napproved > PRT_GOV_APPROVED_MAX)
		abort();
	if (st->pending == 0 && (st->pending_id[0] != '\0' ||
	    memcmp(st->pending_hash, zero.pending_hash,
	    sizeof(zero.pending_hash)) != 0 || st->change != 0 ||
	    st->proposed_at != 0 || st->needed != 0 || st->effective_at != 0 ||
	    st->napproved != 0))
		abort();
	if (st->pending == 1 && st->change != PRT_GOV_TIGHTEN &&
	    st->change != PRT_GOV_LOOSEN)
		abort();
}

static void
check_gov_propose(const struct prt_gov_propose_req *q)
{
	if (q->policy_len == 0 || q->policy_len > PRT_POLICY_JSON_MAX ||
	    memchr(q->policy, '\0', q->policy_len) != NULL)
		abort();
}

/* Large structs live here: libFuzzer runs one input at a time. */
static struct prt_sign_req sign_req;
static struct prt_sign_rep sign_rep;
static struct prt_status_rep status_rep;
static struct prt_sign_req queue_req;
static struct prt_unpause_req unpause_req;
static struct prt_gov_approve_req gov_approve_req;
static struct prt_gov_state gov_state;

static void
run_decoders(const uint8_t *data, size_t size)
{
	struct prt_exposure_req exposure_req;
	struct prt_exposure_rep exposure_rep;
	struct prt_policy_rep policy_rep;
	struct prt_queue_rep queue_rep;
	struct prt_cancel_req cancel_req;
	struct prt_pause_req pause_req;
	struct prt_gov_propose_req gov_propose_req;
	struct prt_gov_cancel_req gov_cancel_req;
	static const uint16_t ack_types[] = {
		PRT_CANCEL_REP, PRT_PAUSE_REP, PRT_UNPAUSE_REP,
	};
	static const uint16_t gov_types[] = {
		PRT_GOV_PROPOSE_REP, PRT_GOV_APPROVE_REP, PRT_GOV_CANCEL_REP,
		PRT_GOV_STATUS_REP,
	};
	size_t i;
	struct prt_reply_hdr hdr;
	struct prt_writer w;
	uint16_t version, type;
	uint8_t *copy;

	(void)prt_peek_header(&version, &type, data, size);

	prt_writer_init(&w, PRT_MAX_MESSAGE);
	if (prt_decode_sign_req(&sign_req, data, size) == 0) {
		check_payout_req(&sign_req);
		check_same(&w, prt_encode_sign_req(&w, &sign_req), data, size);
	}
	if (prt_decode_sign_rep(&hdr, &sign_rep, data, size) == 0) {
		check_sign_rep(&hdr, &sign_rep);
		check_same(&w, prt_encode_sign_rep(&w, &hdr, &sign_rep), data,
		    size);
	}
	if (prt_decode_exposure_req(&exposure_req, data, size) == 0)
		check_same(&w, prt_encode_exposure_req(&w, &exposure_req), data,
		    size);
	if (prt_decode_exposure_rep(&hdr, &exposure_rep, data, size) == 0)
		check_same(&w, prt_encode_exposure_rep(&w, &hdr, &exposure_rep),
		    data, size);
	if (prt_decode_status_req(data, size) == 0)
		check_same(&w, prt_encode_status_req(&w), data, size);
	if (prt_decode_status_rep(&hdr, &status_rep, data, size) == 0) {
		check_status_rep(&hdr, &status_rep);
		check_same(&w, prt_encode_status_rep(&w, &hdr, &status_rep),
		    data, size);
	}
	if (prt_decode_policy_req(data, size) == 0)
		check_same(&w, prt_encode_policy_req(&w), data, size);
	if (prt_decode_policy_rep(&hdr, &policy_rep, data, size) == 0)
		check_same(&w, prt_encode_policy_rep(&w, &hdr, &policy_rep),
		    data, size);
	if (prt_decode_queue_req(&queue_req, data, size) == 0) {
		check_payout_req(&queue_req);
		check_same(&w, prt_encode_queue_req(&w, &queue_req), data, size);
	}
	if (prt_decode_queue_rep(&hdr, &queue_rep, data, size) == 0)
		check_same(&w, prt_encode_queue_rep(&w, &hdr, &queue_rep), data,
		    size);
	if (prt_decode_cancel_req(&cancel_req, data, size) == 0)
		check_same(&w, prt_encode_cancel_req(&w, &cancel_req), data,
		    size);
	if (prt_decode_pause_req(&pause_req, data, size) == 0)
		check_same(&w, prt_encode_pause_req(&w, &pause_req), data, size);
	if (prt_decode_unpause_req(&unpause_req, data, size) == 0)
		check_same(&w, prt_encode_unpause_req(&w, &unpause_req), data,
		    size);
	for (i = 0; i < sizeof(ack_types) / sizeof(ack_types[0]); i++)
		if (prt_decode_ack_rep(&hdr, ack_types[i], data, size) == 0)
			check_same(&w, prt_encode_ack_rep(&w, ack_types[i],
			    &hdr), data, size);
	if (prt_decode_gov_propose_req(&gov_propose_req, data, size) == 0) {
		check_gov_propose(&gov_propose_req);
		check_same(&w, prt_encode_gov_propose_req(&w,
		    &gov_propose_req), data, size);
	}
	if (prt_decode_gov_approve_req(&gov_approve_req, data, size) == 0) {
		if (gov_approve_req.napprovals == 0)
			abort();
		check_same(&w, prt_encode_gov_approve_req(&w,
		    &gov_approve_req), data, size);
	}
	if (prt_decode_gov_cancel_req(&gov_cancel_req, data, size) == 0)
		check_same(&w, prt_encode_gov_cancel_req(&w, &gov_cancel_req),
		    data, size);
	if (prt_decode_gov_status_req(data, size) == 0)
		check_same(&w, prt_encode_gov_status_req(&w), data, size);
	for (i = 0; i < sizeof(gov_types) / sizeof(gov_types[0]); i++)
		if (prt_decode_gov_rep(&hdr, gov_types[i], &gov_state, data,
		    size) == 0) {
			check_gov_state(&hdr, &gov_state);
			check_same(&w, prt_encode_gov_rep(&w, gov_types[i],
			    &hdr, &gov_state), data, size);
		}
	if (prt_decode_error_rep(&hdr, &version, data, size) == 0) {
		/* Any version decodes; ours is what gets written back. */
		if ((copy = malloc(size)) == NULL)
			abort();
		memcpy(copy, data, size);
		copy[4] = PRT_VERSION >> 8;
		copy[5] = PRT_VERSION & 0xff;
		check_same(&w, prt_encode_error_rep(&w, &hdr), copy, size);
		free(copy);
	}
	prt_writer_free(&w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint16_t version, type;
	uint8_t *copy;

	run_decoders(data, size);
	/*
	 * A frame of another version also runs as one of ours, so seeds and
	 * inputs of an older protocol still reach the typed decoders after a
	 * version bump (their new fields then have to be found by mutation).
	 */
	if (prt_peek_header(&version, &type, data, size) == 0 &&
	    version != PRT_VERSION) {
		if ((copy = malloc(size)) == NULL)
			abort();
		memcpy(copy, data, size);
		copy[4] = PRT_VERSION >> 8;
		copy[5] = PRT_VERSION & 0xff;
		run_decoders(copy, size);
		free(copy);
	}
	return 0;
}
