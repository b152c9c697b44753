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
#include "signerd/payout.h"

struct queue_job {
	struct sd_payout p;
	int64_t now, newest;
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
	return sd_refuse(sd, rep, PRT_QUEUE_REP, "queue", job->p.req.request_id,
	    peer_uid, reason, detail);
}

/*
 * Under the state lock: what the request id already is.  Returns POL_OK
 * for a new id, -1 for the same payout queued before (*earliest set), or
 * a refusal.
 */
static int
check_id(struct sd_ctx *sd, struct queue_job *job, char *detail, size_t cap)
{
	const struct sd_request *prev;
	const struct sd_queued *q;

	sd_pause_get(sd_state_pause(sd->state), &job->pause);
	if (job->pause.paused) {
		snprintf(detail, cap, "signerd is paused (pause %s)",
		    job->pause.id);
		return POL_PAUSED;
	}
	if ((prev = sd_state_find(sd->state, job->p.req.request_id)) != NULL) {
		snprintf(detail, cap, "request id was %s already",
		    prev->status == SD_REQ_SIGNED ? "signed" : "being signed");
		return POL_REQUEST_ID_CONFLICT;
	}
	if ((q = sd_queue_find(sd_state_queue(sd->state),
	    job->p.req.request_id)) == NULL)
		return POL_OK;
	if (q->status == SD_Q_CANCELLED) {
		snprintf(detail, cap, "request %s was cancelled",
		    job->p.req.request_id);
		return POL_TIMELOCK_CANCELLED;
	}
	if (q->status == SD_Q_PENDING ||
	    memcmp(q->intent, job->p.intent_hash, 32) != 0) {
		snprintf(detail, cap, q->status == SD_Q_PENDING ?
		    "request id is being queued right now; retry" :
		    "request id was queued for a different payout");
		return POL_REQUEST_ID_CONFLICT;
	}
	job->earliest = q->earliest;
	return -1;
}

static int
journal_queued(struct sd_ctx *sd, const struct queue_job *job)
{
	const struct pol_intent *in = &job->p.intent;
	char addr[EVM_ADDR_STR], amount[U256_DEC_MAX], hex[65];
	json_t *o, *aps;
	int r = ERR_NOMEM;

	if ((o = sd_record_new(sd, "queued")) == NULL)
		return ERR_NOMEM;
	evm_addr_to_str(addr, in->recipient);
	u256_to_dec(amount, sizeof(amount), &in->amount);
	util_hex_encode(hex, job->p.intent_hash, 32);
	if (json_object_set_new(o, "request_id",
	    json_string(job->p.req.request_id)) != 0 ||
	    json_object_set_new(o, "asset", json_string(in->asset_name)) != 0 ||
	    json_object_set_new(o, "chain_id",
	    json_integer((json_int_t)in->chain_id)) != 0 ||
	    json_object_set_new(o, "to", json_string(addr)) != 0 ||
	    json_object_set_new(o, "amount", json_string(amount)) != 0 ||
	    json_object_set_new(o, "intent", json_string(hex)) != 0 ||
	    json_object_set_new(o, "queued_at", json_integer(job->now)) != 0 ||
	    json_object_set_new(o, "earliest", json_integer(job->earliest)) != 0)
		goto out;
	if (job->approvals_used &&
	    ((aps = sd_approvals_json(job->p.req.approvals,
	    job->p.req.napprovals)) == NULL ||
	    json_object_set_new(o, "approvals", aps) != 0))
		goto out;
	r = jnl_append(sd->journal, NULL, NULL, o);
 out:
	json_decref(o);
	return r;
}

/* Adds the entry, journals it, and only then makes it signable. */
static int
queue_commit(struct sd_ctx *sd, struct queue_job *job, char *detail,
    size_t cap)
{
	char label[SD_SEEN_LABEL_MAX + 1];
	int r, why;

	pthread_rwlock_rdlock(&sd->commit_lock);
	sd_state_lock(sd->state);
	if ((why = check_id(sd, job, detail, cap)) == POL_OK &&
	    (r = sd_queue_begin(sd_state_queue(sd->state),
	    job->p.req.request_id, job->p.intent_hash, job->now,
	    job->earliest)) != 0) {
		snprintf(detail, cap, "queue entry not added: %s", err_str(r));
		why = POL_INTERNAL;
	}
	sd_state_unlock(sd->state);
	if (why != POL_OK) {
		pthread_rwlock_unlock(&sd->commit_lock);
		return why;
	}
	r = journal_queued(sd, job);
	sd_state_lock(sd->state);
	if (r != 0) {
		sd_queue_abort(sd_state_queue(sd->state), job->p.req.request_id);
	} else {
		r = sd_queue_commit(sd_state_queue(sd->state),
		    job->p.req.request_id);
		snprintf(label, sizeof(label), "queue %s",
		    job->p.req.request_id);
		if (job->approvals_used)
			sd_remember_approvals(sd, job->p.req.approvals,
			    job->p.req.napprovals, label);
	}
	sd_state_unlock(sd->state);
	atomic_fetch_add(&sd->appended_since_snapshot, 1);
	pthread_rwlock_unlock(&sd->commit_lock);
	if (r != 0) {
		snprintf(detail, cap, "the queue entry could not be made "
		    "durable: %s", err_str(r));
		return POL_JOURNAL_ERROR;
	}
	return POL_OK;
}

int
sd_handle_queue(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *buf,
    size_t len, struct prt_writer *rep)
{
	const struct pol_asset *a;
	struct queue_job *job;
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
	sd_clock(sd, &job->now, &job->newest);
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
	/* A clock set back would queue with an earliest time too soon. */
	if (job->now < job->newest) {
		snprintf(detail, sizeof(detail), "the clock (%" PRId64 ") is "
		    "behind the newest journal record (%" PRId64 ")", job->now,
		    job->newest);
		r = qrefuse(sd, rep, peer_uid, job, POL_CLOCK_BEHIND_JOURNAL,
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
	a = pol_asset(sd->policy, job->p.intent.asset);
	job->earliest = job->now +
	    (job->p.needs_timelock ? (int64_t)a->timelock_delay : 0);
	if ((why = queue_commit(sd, job, detail, sizeof(detail))) == -1) {
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

static int
journal_cancelled(struct sd_ctx *sd, const struct prt_cancel_req *req)
{
	json_t *o, *aps;
	int r = ERR_NOMEM;

	if ((o = sd_record_new(sd, "cancelled")) == NULL)
		return ERR_NOMEM;
	if (json_object_set_new(o, "request_id",
	    json_string(req->request_id)) == 0 &&
	    (aps = sd_approvals_json(&req->approval, 1)) != NULL &&
	    json_object_set_new(o, "approvals", aps) == 0)
		r = jnl_append(sd->journal, NULL, NULL, o);
	json_decref(o);
	return r;
}

/* Under the state lock: cancels the entry, or says why it cannot be. */
static int
cancel_entry(struct sd_ctx *sd, const char *id, char *detail, size_t cap)
{
	const struct sd_request *prev;
	const struct sd_queued *q;

	/* Too late once signing began: signerd never takes one back. */
	if ((prev = sd_state_find(sd->state, id)) != NULL) {
		snprintf(detail, cap, "request %s was %s already; too late "
		    "to cancel", id, prev->status == SD_REQ_SIGNED ? "signed" :
		    "being signed");
		return POL_TIMELOCK_NOT_QUEUED;
	}
	if ((q = sd_queue_find(sd_state_queue(sd->state), id)) == NULL ||
	    q->status == SD_Q_PENDING) {
		snprintf(detail, cap, "request %s is not queued", id);
		return POL_TIMELOCK_NOT_QUEUED;
	}
	if (q->status == SD_Q_CANCELLED)
		return -1;
	return sd_queue_cancel(sd_state_queue(sd->state), id) == 0 ? POL_OK :
	    POL_INTERNAL;
}

int
sd_handle_cancel(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *buf,
    size_t len, struct prt_writer *rep)
{
	struct prt_cancel_req req;
	struct pol_approval_msg msg;
	struct sd_approval_set set = { NULL, 0, 1, "the policy" };
	struct prt_reply_hdr hdr;
	char detail[240] = "", label[SD_SEEN_LABEL_MAX + 1];
	int64_t now, newest;
	int r, why;

	if ((r = prt_decode_cancel_req(&req, buf, len)) != 0) {
		snprintf(detail, sizeof(detail), "request does not decode: %s",
		    err_str(r));
		return sd_refuse(sd, rep, PRT_CANCEL_REP, "cancel", "",
		    peer_uid, POL_MALFORMED_REQUEST, detail);
	}
	/* Any one approver of the policy may stop a queued payout. */
	sd_clock(sd, &now, &newest);
	if (pol_approval_msg_op(&msg, sd->policy, POL_ACTION_CANCEL,
	    req.request_id, 0) != 0)
		why = POL_MALFORMED_REQUEST;
	else
		why = sd_check_approvals(sd, &set, &msg, &req.approval, 1,
		    now > newest ? now : newest, detail, sizeof(detail));
	if (why != POL_OK)
		return sd_refuse(sd, rep, PRT_CANCEL_REP, "cancel",
		    req.request_id, peer_uid, why, detail);

	pthread_mutex_lock(&sd->ops_mu);
	pthread_rwlock_rdlock(&sd->commit_lock);
	/* Cancelled before the record is durable: in between, a sign
	 * request is refused, which is the safe side. */
	sd_state_lock(sd->state);
	why = cancel_entry(sd, req.request_id, detail, sizeof(detail));
	sd_state_unlock(sd->state);
	if (why == POL_OK) {
		if ((r = journal_cancelled(sd, &req)) != 0) {
			sd_state_lock(sd->state);
			if (sd_queue_uncancel(sd_state_queue(sd->state),
			    req.request_id) != 0)
				log_error("cancel of %s not undone",
				    req.request_id);
			sd_state_unlock(sd->state);
			snprintf(detail, sizeof(detail), "the cancel could not "
			    "be made durable: %s", err_str(r));
			why = POL_JOURNAL_ERROR;
		} else {
			snprintf(label, sizeof(label), "cancel %s",
			    req.request_id);
			sd_state_lock(sd->state);
			sd_remember_approvals(sd, &req.approval, 1, label);
			sd_state_unlock(sd->state);
			atomic_fetch_add(&sd->appended_since_snapshot, 1);
		}
	}
	pthread_rwlock_unlock(&sd->commit_lock);
	pthread_mutex_unlock(&sd->ops_mu);
	if (why != POL_OK && why != -1)
		return sd_refuse(sd, rep, PRT_CANCEL_REP, "cancel",
		    req.request_id, peer_uid, why, detail);
	log_info("request %s cancelled by %s", req.request_id,
	    req.approval.approver);
	prt_reply_hdr_set(&hdr, POL_OK, why == -1 ? "already cancelled" :
	    "cancelled");
	return prt_encode_ack_rep(rep, PRT_CANCEL_REP, &hdr);
}
