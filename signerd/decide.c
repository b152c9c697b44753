/*
 * decide.c: the sign path's decision, apart from the HSM and the journal
 * (invariants 2-5, 9): what the request id already is, the pause, every
 * policy rule, approvals, the timelock queue, nonces and today's exposure,
 * and the reservation that holds the decision until the signature is
 * durable.  tests/signerd/test_sign.c drives it without an HSM.
 */
#include "signerd/sign.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "signerd/readback.h"

/* What the request id tells us before any rule is applied. */
enum kind {
	K_NEW,		/* never seen: the full path */
	K_SAME,		/* signed with this very content: hand it back */
	K_BUSY,		/* being signed or bumped right now */
	K_OTHER,	/* signed with other content: a fee bump, or a conflict */
	K_PAUSED,	/* every signature is refused */
};

enum pol_reason
sd_created_check(uint32_t window_days, uint32_t created, int64_t day,
    char *detail, size_t cap)
{
	/* A day ahead is a client's clock a little ahead around midnight;
	 * more would keep its request in memory past the window. */
	if ((int64_t)created > day + 1) {
		snprintf(detail, cap, "the request was created on day %" PRIu32
		    ", after signerd's day %" PRId64, created, day);
		return POL_REQUEST_EXPIRED;
	}
	if ((int64_t)created + window_days < day) {
		snprintf(detail, cap, "the request was created on day %" PRIu32
		    ", more than %" PRIu32 " days before signerd's day %"
		    PRId64 ": outside the retention window, it can no longer "
		    "be signed, retried or fee-bumped", created, window_days,
		    day);
		return POL_REQUEST_EXPIRED;
	}
	return POL_OK;
}

/* Under the state lock: the pause, then what the request already is. */
static enum kind
classify(struct sd_ctx *sd, struct sd_sign_job *job)
{
	uint8_t tag[SD_CONTENT_TAG_LEN];

	sd_pause_get(sd_state_pause(sd->state), &job->pause);
	if (job->pause.paused)
		return K_PAUSED;
	switch (sd_state_find(sd->state, job->p.req.request_id,
	    job->p.req.created_day, &job->found)) {
	case SD_REQ_NONE:
		return K_NEW;
	case SD_REQ_SIGNED:
		break;
	default:
		return K_BUSY;
	}
	sd_content_tag(tag, job->p.content);
	return memcmp(tag, job->found.content_tag, SD_CONTENT_TAG_LEN) == 0 ?
	    K_SAME : K_OTHER;
}

/*
 * Outside the lock: the signed record memory points at, read back.  Same
 * content: the same signature, counted once (invariant 5), if the record
 * holds exactly the transaction asked for.  Other content (or a tag that
 * only looked the same): the transaction a fee bump must be compared
 * with, signed by the key that signed the payout (D53).
 */
_Static_assert(SD_RAW_TX_MAX <= PRT_TX_MAX,
    "a transaction read back fits the reply's and the job's buffers");

static enum pol_reason
read_back(struct sd_ctx *sd, struct sd_sign_job *job, enum kind *kind,
    char *detail, size_t cap)
{
	struct sd_signed_back *b;
	uint8_t want[32], got[32];
	char why[200];
	int r;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return POL_INTERNAL;
	if ((r = sd_read_signed(sd, &job->found, job->p.req.request_id,
	    job->p.req.created_day, b, why, sizeof(why))) != 0) {
		log_error("request %s: its signed record cannot be read back: "
		    "%s", job->p.req.request_id, why);
		snprintf(detail, cap, "the signed record of this request "
		    "cannot be read back from the journal: %s", why);
		free(b);
		return POL_INTERNAL;
	}
	if (memcmp(b->content, job->p.content, 32) == 0) {
		if (evm_tx_signing_hash(want, &job->p.tx) != 0 ||
		    evm_tx_signing_hash(got, &b->tx) != 0 ||
		    memcmp(want, got, 32) != 0) {
			snprintf(detail, cap, "the journal's record of this "
			    "request holds another transaction");
			free(b);
			return POL_INTERNAL;
		}
		*kind = K_SAME;
		memcpy(job->raw, b->raw, b->raw_len);
		job->raw_len = b->raw_len;
		memcpy(job->tx_hash, b->tx_hash, 32);
		job->receipt_seq = b->seq;
		memcpy(job->receipt_hash, b->hash, 32);
	} else {
		*kind = K_OTHER;
		memcpy(job->p.ref.from, b->from, EVM_ADDR_LEN);
		memcpy(job->prev_hash, b->tx_hash, 32);
		memcpy(job->prev_raw, b->raw, b->raw_len);
		job->prev_raw_len = b->raw_len;
		job->day = b->day;
	}
	free(b);
	return POL_OK;
}

void
sd_paused_detail(char *detail, size_t cap, const struct sd_pause_state *s)
{
	snprintf(detail, cap, "signerd is paused (pause %s%s%s); m of the "
	    "governance set must unpause it", s->id, s->by[0] ? " by " : "",
	    s->by);
}

/* 1 when no asset of the version in force names key k: a retired key. */
static int
key_retired(const struct sd_version *v, const struct sd_key *k)
{
	size_t i;

	for (i = 0; i < pol_asset_count(v->policy); i++)
		if (strcmp(pol_asset(v->policy, i)->key, k->name) == 0)
			return 0;
	return 1;
}

int
sd_gap_fill_allowed(struct sd_ctx *sd, const struct sd_version *v, int key,
    const struct sd_nonce_ref *ref)
{
	int ok;

	if (key < 0 || !key_retired(v, &sd->keys[key]))
		return 0;
	sd_state_lock(sd->state);
	ok = sd_state_fills_gap(sd->state, ref);
	sd_state_unlock(sd->state);
	return ok;
}

/*
 * The request names the address it expects to sign (D53): a transaction
 * built for one key's nonce sequence is never signed by another key.  The
 * one exception: a retired key signs a new payout into a hole below a
 * nonce it already signed, or its signed transactions could never be
 * mined (job->gap_fill).
 */
static enum pol_reason
check_from(struct sd_ctx *sd, struct sd_sign_job *job, int may_fill,
    char *detail, size_t cap)
{
	char want[EVM_ADDR_STR], got[EVM_ADDR_STR];
	struct sd_nonce_ref ref = job->p.ref;
	int k;

	if (memcmp(job->p.req.from, sd->keys[job->p.key].address,
	    EVM_ADDR_LEN) == 0)
		return POL_OK;
	memcpy(ref.from, job->p.req.from, EVM_ADDR_LEN);
	if (may_fill && (k = sd_key_by_address(sd, job->p.req.from)) >= 0 &&
	    sd_gap_fill_allowed(sd, job->p.v, k, &ref)) {
		job->p.key = k;
		job->p.ref = ref;
		job->gap_fill = 1;
		return POL_OK;
	}
	evm_addr_to_str(want, sd->keys[job->p.key].address);
	evm_addr_to_str(got, job->p.req.from);
	snprintf(detail, cap, "this payout is signed by key %s (%s), not %s",
	    sd->keys[job->p.key].name, want, got);
	return POL_KEY_MISMATCH;
}

/*
 * The request id signed another transaction: a fee bump of it, or a
 * conflict (invariant 5).  Exposure is not counted again.
 */
static enum pol_reason
sign_bump(struct sd_ctx *sd, struct sd_sign_job *job, char *detail, size_t cap)
{
	enum pol_reason why;
	int r;

	if ((job->p.key = sd_key_by_address(sd, job->p.ref.from)) < 0) {
		snprintf(detail, cap, "the key that signed request %s is no "
		    "longer loaded: keep it in [keys] until its payouts are "
		    "final", job->p.req.request_id);
		return POL_HSM_ERROR;
	}
	/* A bump is only ever signed by its payout's key: never a fill. */
	if ((why = check_from(sd, job, 0, detail, cap)) != POL_OK)
		return why;
	if (evm_tx_decode(&job->prev_tx, job->prev_raw, job->prev_raw_len) !=
	    0) {
		snprintf(detail, cap, "the stored transaction does not decode");
		return POL_INTERNAL;
	}
	switch (sd_bump_classify(&job->prev_tx, &job->p.tx, detail, cap)) {
	case SD_BUMP_OK:
		break;
	case SD_BUMP_FEES_NOT_HIGHER:
		return POL_FEE_BUMP_INVALID;
	default:
		return POL_REQUEST_ID_CONFLICT;
	}
	why = sd_payout_check_rules(sd, &job->p, detail, cap);
	if (why == POL_FEE_CAP_MAX_FEE || why == POL_FEE_CAP_PRIORITY_FEE ||
	    why == POL_FEE_CAP_GAS_LIMIT) {
		snprintf(detail, cap, "the bumped fees break the fee caps: %s",
		    pol_reason_text(why));
		return POL_FEE_BUMP_INVALID;
	}
	if (why != POL_OK)
		return why;

	sd_state_lock(sd->state);
	sd_pause_get(sd_state_pause(sd->state), &job->pause);
	r = job->pause.paused ? 1 : sd_state_bump_begin(sd->state,
	    job->p.req.request_id, job->p.req.created_day, &job->found.pos);
	sd_state_exposure(sd->state, &job->exposure_after,
	    job->p.intent.asset_name, job->day);
	sd_state_unlock(sd->state);
	if (r == 1) {
		sd_paused_detail(detail, cap, &job->pause);
		return POL_PAUSED;
	}
	if (r != 0) {
		snprintf(detail, cap, "request id is being re-signed right "
		    "now; retry");
		return POL_IN_FLIGHT;
	}
	job->bump = 1;
	return POL_OK;
}

/*
 * Under the state lock, right before reserving: what may have changed
 * since the checks outside it (a pause, a cancel, a nonce or the last of
 * the daily limit taken by a concurrent request).
 */
static enum pol_reason
check_and_reserve(struct sd_ctx *sd, struct sd_sign_job *job, char *detail,
    size_t cap)
{
	const struct sd_queued *q;
	enum pol_reason why;
	u256 exposure;
	int r;

	sd_pause_get(sd_state_pause(sd->state), &job->pause);
	if (job->pause.paused) {
		sd_paused_detail(detail, cap, &job->pause);
		return POL_PAUSED;
	}
	q = sd_queue_find(sd_state_queue(sd->state), job->p.req.request_id);
	if (q != NULL && sd_queue_expired(q, job->now))
		q = NULL;
	if (job->queued && (q == NULL || q->status != SD_Q_QUEUED)) {
		snprintf(detail, cap, "request %s was cancelled while queued",
		    job->p.req.request_id);
		return POL_TIMELOCK_CANCELLED;
	}
	/* Queued by a concurrent request since we looked: decide again. */
	if (!job->queued && q != NULL) {
		snprintf(detail, cap, "request id is being queued right now; "
		    "retry");
		return POL_IN_FLIGHT;
	}
	/* invariant 5: one payout per (key, chain, nonce), for good. */
	if (sd_state_nonce_used(sd->state, &job->p.ref)) {
		snprintf(detail, cap, "key %s already signed nonce %" PRIu64
		    " on chain %" PRIu64 " for another request",
		    sd->keys[job->p.key].name, job->p.ref.nonce,
		    job->p.ref.chain_id);
		return POL_NONCE_REUSED;
	}
	/* invariant 2: the day's exposure includes requests in flight. */
	sd_state_exposure(sd->state, &exposure, job->p.intent.asset_name,
	    job->day);
	why = pol_check_sign(job->p.v->policy, 0, &job->p.intent,
	    &job->p.stated,
	    &exposure, &job->exposure_after);
	if (why != POL_OK) {
		snprintf(detail, cap, "%s", pol_reason_text(why));
		return why;
	}
	r = sd_state_begin(sd->state, job->p.req.request_id,
	    job->p.req.created_day, job->p.content, job->p.intent.asset_name,
	    job->day, &job->p.intent.amount, &job->p.ref);
	if (r == ERR_EXISTS) {
		snprintf(detail, cap, "request id is being signed right now; "
		    "retry");
		return POL_IN_FLIGHT;
	}
	if (r != 0) {
		snprintf(detail, cap, "exposure reservation failed: %s",
		    err_str(r));
		return POL_INTERNAL;
	}
	return POL_OK;
}

/* A request id never signed: every rule, then reserve. */
static enum pol_reason
sign_new(struct sd_ctx *sd, struct sd_sign_job *job, char *detail, size_t cap)
{
	const struct sd_queued *q;
	enum pol_reason why;
	int64_t remaining;
	int have_q = 0;

	if ((why = sd_payout_check_rules(sd, &job->p, detail, cap)) != POL_OK)
		return why;
	if ((why = check_from(sd, job, 1, detail, cap)) != POL_OK)
		return why;

	sd_state_lock(sd->state);
	if ((q = sd_queue_find(sd_state_queue(sd->state),
	    job->p.req.request_id)) != NULL && !sd_queue_expired(q, job->now)) {
		job->q = *q;
		have_q = 1;
	}
	sd_state_unlock(sd->state);
	if (have_q) {
		/* A queued id is bound to what was queued, cancelled or not. */
		if (job->q.status == SD_Q_CANCELLED) {
			snprintf(detail, cap, "request %s was cancelled while "
			    "queued", job->p.req.request_id);
			return POL_TIMELOCK_CANCELLED;
		}
		if (job->q.status == SD_Q_PENDING) {
			snprintf(detail, cap, "request id is being queued "
			    "right now; retry");
			return POL_IN_FLIGHT;
		}
		if (memcmp(job->q.intent, job->p.intent_hash, 32) != 0) {
			snprintf(detail, cap, "request id was queued for a "
			    "different payout (asset, chain, recipient or "
			    "amount)");
			return POL_REQUEST_ID_CONFLICT;
		}
		job->queued = 1;
	}
	/*
	 * Invariant 4: M approvals over exactly this intent.  A queued
	 * payout's approvals were checked and journaled when it was queued
	 * (before a delay they may not outlive); the entry binds the intent.
	 */
	if (job->p.needs_approval && (!job->queued ||
	    job->q.version != job->p.v->number)) {
		why = sd_payout_check_approvals(sd, &job->p, job->now, detail,
		    cap);
		if (why != POL_OK)
			return why;
		job->approvals_used = 1;
	}
	if (job->p.needs_timelock || have_q) {
		if (have_q)
			job->q.earliest = sd_queue_earliest(&job->q,
			    job->p.v->policy, &job->p.intent);
		why = sd_timelock_check(have_q ? &job->q : NULL, job->now,
		    &remaining);
		if (why == POL_TIMELOCK_PENDING) {
			/* The wait, as data in the reply (protocol 5). */
			job->retry_after_s = sd_retry_after_of(remaining);
			snprintf(detail, cap, "%" PRId64 " s remaining: "
			    "signable from %" PRId64 " (unix)", remaining,
			    job->q.earliest);
		}
		else if (why == POL_TIMELOCK_NOT_QUEUED)
			snprintf(detail, cap, "above the timelock threshold: "
			    "queue it first (QUEUE_REQ) and sign after the "
			    "delay");
		if (why != POL_OK)
			return why;
	}

	sd_state_lock(sd->state);
	why = check_and_reserve(sd, job, detail, cap);
	sd_state_unlock(sd->state);
	if (why != POL_OK)
		return why;
	return POL_OK;
}

enum pol_reason
sd_sign_decide(struct sd_ctx *sd, struct sd_sign_job *job, int *repeat,
    char *detail, size_t cap)
{
	enum pol_reason why;
	enum kind kind;

	*repeat = 0;
	job->retry_after_s = 0;
	job->day = pol_utc_day(job->now);
	/* D55: only requests inside the window are known or signed. */
	if ((why = sd_created_check(sd->retention_days,
	    job->p.req.created_day, job->day, detail, cap)) != POL_OK)
		return why;
	sd_state_lock(sd->state);
	kind = classify(sd, job);
	sd_state_unlock(sd->state);
	if ((kind == K_SAME || kind == K_OTHER) &&
	    (why = read_back(sd, job, &kind, detail, cap)) != POL_OK)
		return why;
	switch (kind) {
	case K_PAUSED:
		sd_paused_detail(detail, cap, &job->pause);
		return POL_PAUSED;
	case K_SAME:
		*repeat = 1;
		return POL_OK;
	case K_BUSY:
		snprintf(detail, cap, "request id is being signed right now; "
		    "retry");
		return POL_IN_FLIGHT;
	case K_OTHER:
		return sign_bump(sd, job, detail, cap);
	default:
		return sign_new(sd, job, detail, cap);
	}
}
