/*
 * queue.c: QUEUE_REQ and CANCEL_REQ.  A payout above its timelock
 * threshold is checked like a sign request (everything but nonce and
 * exposure, which belong to the transaction signed later), journaled as
 * "queued" with its earliest signing time, and signable from then on
 * unless an approver cancels it first (invariant 4).
 */
#include "signerd/signerd.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "signerd/sign.h"
#include "signerd/payout.h"

struct queue_job {
	struct sd_payout p;
	int64_t now;
	int64_t delay;
	int64_t earliest;
	int approvals_used;
	struct sd_pause_state pause;
};

static int
reply_earliest(struct prt_writer *rep, const char *msg, int64_t earliest)
{
	struct prt_reply_hdr hdr;
	struct prt_queue_rep out;

	prt_reply_hdr_set(&hdr, POL_OK, msg);
	out.earliest = earliest < 0 ? 0 : (uint64_t)earliest;
	return prt_encode_queue_rep(rep, &hdr, &out);
}

static int
qrefuse(struct sd_ctx *sd, struct prt_writer *rep, unsigned peer_uid,
    const struct queue_job *job, int reason, const char *detail)
{
	return sd_refuse_after(sd, rep, PRT_QUEUE_REP, "queue",
	    job->p.req.request_id, job->p.req.asset, peer_uid, reason, detail,
	    sd_retry_after_default(reason));
}

/*
 * Under the state lock: what the request id already is.  Returns POL_OK
 * for a new id, -1 for the same payout queued before (*earliest set), or
 * a refusal.
 */
static int
check_id(struct sd_ctx *sd, struct queue_job *job, char *detail, size_t cap)
{
	struct sd_req_found prev;
	const struct sd_queued *q;

	sd_pause_get(sd_state_pause(sd->state), &job->pause);
	if (job->pause.paused) {
		snprintf(detail, cap, "signerd is paused (pause %s)",
		    job->pause.id);
		return POL_PAUSED;
	}
	if (sd_state_find(sd->state, job->p.req.request_id,
	    job->p.req.created_day, &prev) != SD_REQ_NONE) {
		snprintf(detail, cap, "request id was %s already",
		    prev.kind == SD_REQ_IN_FLIGHT ? "being signed" : "signed");
		return POL_REQUEST_ID_CONFLICT;
	}
	if ((q = sd_queue_find(sd_state_queue(sd->state),
	    job->p.req.request_id)) == NULL || sd_queue_expired(q, job->now))
		return POL_OK;
	if (q->status == SD_Q_CANCELLED) {
		snprintf(detail, cap, "request %s was cancelled",
		    job->p.req.request_id);
		return POL_TIMELOCK_CANCELLED;
	}
	if (q->status == SD_Q_PENDING) {
		snprintf(detail, cap, "request id is being queued right now; "
		    "retry");
		return POL_IN_FLIGHT;
	}
	if (memcmp(q->intent, job->p.intent_hash, 32) != 0) {
		snprintf(detail, cap, "request id was queued for a different "
		    "payout");
		return POL_REQUEST_ID_CONFLICT;
	}
	job->earliest = q->earliest;
	return -1;
}

/* The "queued" record; queued_at and earliest are its stamp's. */
static json_t *
build_queued(struct sd_ctx *sd, const struct queue_job *job)
{
	const struct pol_intent *in = &job->p.intent;
	char addr[EVM_ADDR_STR], amount[U256_DEC_MAX], hex[65];
	json_t *o, *aps;

	if ((o = sd_record_new(sd, "queued")) == NULL)
		return NULL;
	evm_addr_to_str(addr, in->recipient);
	u256_to_dec(amount, sizeof(amount), &in->amount);
	util_hex_encode(hex, job->p.intent_hash, 32);
	if (json_object_set_new(o, "request_id",
	    json_string(job->p.req.request_id)) != 0 ||
	    json_object_set_new(o, "created",
	    json_integer(job->p.req.created_day)) != 0 ||
	    json_object_set_new(o, "asset", json_string(in->asset_name)) != 0 ||
	    sd_json_set_u64(o, "chain_id", in->chain_id) != 0 ||
	    json_object_set_new(o, "to", json_string(addr)) != 0 ||
	    json_object_set_new(o, "amount", json_string(amount)) != 0 ||
	    json_object_set_new(o, "intent", json_string(hex)) != 0)
		goto fail;
	if (job->approvals_used &&
	    ((aps = sd_approvals_json(job->p.req.approvals,
	    job->p.req.napprovals)) == NULL ||
	    json_object_set_new(o, "approvals", aps) != 0))
		goto fail;
	return o;
 fail:
	json_decref(o);
	return NULL;
}

/*
 * In record order: the id is still new, the approvals still valid at the
 * record's time t, the queue not full; the entry is added (pending) with
 * earliest = t + delay, exactly what the verifier recomputes.
 */
static enum pol_reason
stamp_queued(struct sd_ctx *sd, void *arg, json_t *body, int64_t t,
    char *detail, size_t cap)
{
	struct queue_job *job = arg;
	enum pol_reason why;
	int r;

	job->now = t;
	if ((why = check_id(sd, job, detail, cap)) != POL_OK)
		return why;
	if (job->approvals_used && (why = sd_approvals_unexpired(
	    job->p.req.approvals, job->p.req.napprovals, t, detail, cap)) !=
	    POL_OK)
		return why;
	if (sd_queue_live(sd_state_queue(sd->state), t) >= SD_QUEUE_MAX) {
		snprintf(detail, cap, "the timelock queue holds %d payouts "
		    "already; cancel or sign some first", SD_QUEUE_MAX);
		return POL_QUEUE_FULL;
	}
	job->earliest = t + job->delay;
	if ((r = sd_queue_begin(sd_state_queue(sd->state),
	    job->p.req.request_id, job->p.intent_hash, t,
	    job->earliest)) != 0) {
		snprintf(detail, cap, "queue entry not added: %s", err_str(r));
		return POL_INTERNAL;
	}
	if (json_object_set_new(body, "queued_at", json_integer(t)) != 0 ||
	    json_object_set_new(body, "earliest",
	    json_integer(job->earliest)) != 0) {
		sd_queue_abort(sd_state_queue(sd->state), job->p.req.request_id);
		snprintf(detail, cap, "out of memory");
		return POL_INTERNAL;
	}
	return POL_OK;
}

static int
apply_queued(struct sd_ctx *sd, void *arg, uint64_t seq,
    const uint8_t hash[32])
{
	struct queue_job *job = arg;
	char label[SD_SEEN_LABEL_MAX + 1];
	int r;

	if ((r = sd_queue_commit(sd_state_queue(sd->state),
	    job->p.req.request_id)) != 0)
		return r;
	sd_queue_set_version(sd_state_queue(sd->state), job->p.req.request_id,
	    job->p.v->number);
	snprintf(label, sizeof(label), "queue %s", job->p.req.request_id);
	if (job->approvals_used)
		sd_remember_approvals(sd, job->p.req.approvals,
		    job->p.req.napprovals, label);
	return 0;
}

static void
undo_queued(struct sd_ctx *sd, void *arg)
{
	struct queue_job *job = arg;

	sd_queue_abort(sd_state_queue(sd->state), job->p.req.request_id);
}

int
sd_handle_queue(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *buf,
    size_t len, struct prt_writer *rep)
{
	const struct pol_asset *a;
	struct queue_job *job;
	struct sd_commit c;
	char detail[240] = "";
	int r, why;

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return ERR_NOMEM;
	why = sd_payout_decode(sd, &job->p, PRT_QUEUE_REQ, buf, len, detail,
	    sizeof(detail));
	if (why != POL_OK) {
		r = qrefuse(sd, rep, peer_uid, job, why, detail);
		goto out;
	}
	job->now = sd_now(sd);
	/* D55: a payout queued now is signed inside the same window. */
	if ((why = sd_created_check(sd->retention_days,
	    job->p.req.created_day, pol_utc_day(job->now), detail,
	    sizeof(detail))) != POL_OK) {
		r = qrefuse(sd, rep, peer_uid, job, why, detail);
		goto out;
	}
	sd_state_lock(sd->state);
	why = check_id(sd, job, detail, sizeof(detail));
	sd_state_unlock(sd->state);
	if (why == -1) {
		r = reply_earliest(rep, "already queued", job->earliest);
		goto out;
	}
	if (why != POL_OK ||
	    (why = sd_payout_check_rules(sd, &job->p, detail,
	    sizeof(detail))) != POL_OK) {
		r = qrefuse(sd, rep, peer_uid, job, why, detail);
		goto out;
	}
	/* The queue is for payouts that must wait: anything else would sit
	 * in it, costing memory and snapshots, for nothing. */
	if (!job->p.needs_timelock) {
		snprintf(detail, sizeof(detail), "asset %s: %s is not above the "
		    "timelock threshold; sign it directly",
		    job->p.intent.asset_name, "the amount");
		r = qrefuse(sd, rep, peer_uid, job, POL_TIMELOCK_NOT_NEEDED,
		    detail);
		goto out;
	}
	/* Invariant 4: the approvals are checked now, over the derived
	 * intent, and journaled with the entry. */
	if (job->p.needs_approval) {
		why = sd_payout_check_approvals(sd, &job->p, job->now, detail,
		    sizeof(detail));
		if (why != POL_OK) {
			r = qrefuse(sd, rep, peer_uid, job, why, detail);
			goto out;
		}
		job->approvals_used = 1;
	}
	a = pol_asset(job->p.v->policy, job->p.intent.asset);
	job->delay = (int64_t)a->timelock_delay;
	/* D55: a payout whose delay outlasts its request's window could
	 * never be signed; say so now, not when it is due. */
	if ((why = sd_created_check(sd->retention_days,
	    job->p.req.created_day, pol_utc_day(job->now + job->delay), detail,
	    sizeof(detail))) != POL_OK) {
		snprintf(detail, sizeof(detail), "the timelock of %" PRId64
		    " s ends after the retention window (%u days) of a request "
		    "created on day %u: it could never be signed",
		    job->delay, sd->retention_days, job->p.req.created_day);
		r = qrefuse(sd, rep, peer_uid, job, why, detail);
		goto out;
	}
	memset(&c, 0, sizeof(c));
	if ((c.body = build_queued(sd, job)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	c.v = job->p.v;
	c.stamp = stamp_queued;
	c.apply = apply_queued;
	c.undo = undo_queued;
	c.arg = job;
	why = sd_commit(sd, &c, NULL, NULL, detail, sizeof(detail));
	json_decref(c.body);
	if (why == -1) {
		r = reply_earliest(rep, "already queued", job->earliest);
		goto out;
	}
	if (why != POL_OK) {
		r = qrefuse(sd, rep, peer_uid, job, why, detail);
		goto out;
	}
	log_info("request %s queued: asset %s, signable from %" PRId64,
	    job->p.req.request_id, job->p.intent.asset_name, job->earliest);
	r = reply_earliest(rep, "queued", job->earliest);
 out:
	util_wipe(job, sizeof(*job));
	free(job);
	return r;
}

/* --- CANCEL ------------------------------------------------------------ */

struct cancel_job {
	struct prt_cancel_req req;
	int forbade;		/* the id was never queued: now it never can be */
};

/*
 * Under the state lock: cancels the entry (or forbids an id never
 * queued), or says why it cannot be.  -1: cancelled already.
 */
static int
cancel_entry(struct sd_ctx *sd, struct cancel_job *job, int64_t now,
    char *detail, size_t cap)
{
	const char *id = job->req.request_id;
	struct sd_req_found prev;
	int64_t day = pol_utc_day(now);
	int r;

	/* Too late once signing began: signerd never takes one back.  A
	 * cancel names the id alone: any created day in the window. */
	if (sd_state_find_any(sd->state, id, sd_oldest_day(sd, day), day + 1,
	    &prev) != SD_REQ_NONE) {
		snprintf(detail, cap, "request %s was %s already; too late "
		    "to cancel", id, prev.kind == SD_REQ_IN_FLIGHT ?
		    "being signed" : "signed");
		return POL_TIMELOCK_NOT_QUEUED;
	}
	r = sd_queue_cancel_at(sd_state_queue(sd->state), id, now,
	    &job->forbade);
	if (r == 1)
		return -1;
	if (r == ERR_EXISTS) {
		snprintf(detail, cap, "request %s is being queued right now; "
		    "retry", id);
		return POL_IN_FLIGHT;
	}
	if (r != 0) {
		snprintf(detail, cap, "cancel not recorded: %s", err_str(r));
		return POL_INTERNAL;
	}
	return POL_OK;
}

/* In record order: still queued, the approval still valid; cancels at
 * once (a sign request in between is refused: the safe side). */
static enum pol_reason
stamp_cancelled(struct sd_ctx *sd, void *arg, json_t *body, int64_t t,
    char *detail, size_t cap)
{
	struct cancel_job *job = arg;
	enum pol_reason why;

	if ((why = sd_approvals_unexpired(&job->req.approval, 1, t, detail,
	    cap)) != POL_OK)
		return why;
	return cancel_entry(sd, job, t, detail, cap);
}

static int
apply_cancelled(struct sd_ctx *sd, void *arg, uint64_t seq,
    const uint8_t hash[32])
{
	struct cancel_job *job = arg;
	char label[SD_SEEN_LABEL_MAX + 1];

	snprintf(label, sizeof(label), "cancel %s", job->req.request_id);
	sd_remember_approvals(sd, &job->req.approval, 1, label);
	return 0;
}

static void
undo_cancelled(struct sd_ctx *sd, void *arg)
{
	struct cancel_job *job = arg;

	if (job->forbade)
		sd_queue_unforbid(sd_state_queue(sd->state),
		    job->req.request_id);
	else if (sd_queue_uncancel(sd_state_queue(sd->state),
	    job->req.request_id) != 0)
		log_error("cancel of %s not undone", job->req.request_id);
}

int
sd_handle_cancel(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *buf,
    size_t len, struct prt_writer *rep)
{
	struct cancel_job job = { 0 };
	struct pol_approval_msg msg;
	const struct sd_version *v = sd_version_now(sd);
	struct pol_approval_set set;
	struct prt_reply_hdr hdr;
	struct sd_commit c;
	char detail[240] = "";
	json_t *aps;
	int r, why;

	if ((r = prt_decode_cancel_req(&job.req, buf, len)) != 0) {
		snprintf(detail, sizeof(detail), "request does not decode: %s",
		    err_str(r));
		return sd_refuse(sd, rep, PRT_CANCEL_REP, "cancel", "",
		    peer_uid, POL_MALFORMED_REQUEST, detail);
	}
	/* Any one approver of the policy may stop a queued payout. */
	pol_set_any(&set, v->policy, 1);
	if (pol_approval_msg_op(&msg, v->policy, POL_ACTION_CANCEL,
	    job.req.request_id, 0) != 0)
		why = POL_MALFORMED_REQUEST;
	else
		why = sd_check_approvals(sd, v, &set, &msg, &job.req.approval,
		    1, sd_now(sd), detail, sizeof(detail));
	if (why != POL_OK)
		return sd_refuse(sd, rep, PRT_CANCEL_REP, "cancel",
		    job.req.request_id, peer_uid, why, detail);

	memset(&c, 0, sizeof(c));
	if ((c.body = sd_record_new(sd, "cancelled")) == NULL ||
	    json_object_set_new(c.body, "request_id",
	    json_string(job.req.request_id)) != 0 ||
	    (aps = sd_approvals_json(&job.req.approval, 1)) == NULL ||
	    json_object_set_new(c.body, "approvals", aps) != 0) {
		json_decref(c.body);
		return ERR_NOMEM;
	}
	c.v = v;
	c.stamp = stamp_cancelled;
	c.apply = apply_cancelled;
	c.undo = undo_cancelled;
	c.arg = &job;
	why = sd_commit(sd, &c, NULL, NULL, detail, sizeof(detail));
	json_decref(c.body);
	if (why != POL_OK && why != -1)
		return sd_refuse(sd, rep, PRT_CANCEL_REP, "cancel",
		    job.req.request_id, peer_uid, why, detail);
	log_info("request %s cancelled by %s", job.req.request_id,
	    job.req.approval.approver);
	prt_reply_hdr_set(&hdr, POL_OK, why == -1 ? "already cancelled" :
	    "cancelled");
	return prt_encode_ack_rep(rep, PRT_CANCEL_REP, &hdr);
}
