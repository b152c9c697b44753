/*
 * governance.c: PAUSE_REQ and UNPAUSE_REQ.  Any one approver pauses at
 * once (break-glass): the pause is in force before its record is durable,
 * since refusing is always safe.  Lifting it takes m approvals of the
 * governance set over "action: unpause" naming that very pause, and is
 * journaled before it takes effect.
 */
#include "signerd/signerd.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "signerd/payout.h"

static int
ack(struct prt_writer *rep, uint16_t type, const char *msg)
{
	struct prt_reply_hdr hdr;

	prt_reply_hdr_set(&hdr, POL_OK, msg);
	return prt_encode_ack_rep(rep, type, &hdr);
}

static int
journal_op(struct sd_ctx *sd, const char *type, const char *pause_id,
    const struct prt_approval *ap, size_t n)
{
	json_t *o, *aps;
	int r = ERR_NOMEM;

	if ((o = sd_record_new(sd, type)) == NULL)
		return ERR_NOMEM;
	if (json_object_set_new(o, "pause_id", json_string(pause_id)) == 0 &&
	    (aps = sd_approvals_json(ap, n)) != NULL &&
	    json_object_set_new(o, "approvals", aps) == 0)
		r = jnl_append(sd->journal, NULL, NULL, o);
	json_decref(o);
	if (r == 0)
		atomic_fetch_add(&sd->appended_since_snapshot, 1);
	return r;
}

static void
remember(struct sd_ctx *sd, const char *action, const char *id,
    const struct prt_approval *ap, size_t n)
{
	char label[SD_SEEN_LABEL_MAX + 1];

	snprintf(label, sizeof(label), "%s %s", action, id);
	sd_state_lock(sd->state);
	sd_remember_approvals(sd, ap, n, label);
	sd_state_unlock(sd->state);
}

int
sd_handle_pause(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *buf,
    size_t len, struct prt_writer *rep)
{
	struct prt_pause_req req;
	struct pol_approval_msg msg;
	struct sd_approval_set set = { NULL, 0, 1, "the policy" };
	struct sd_pause_state before;
	char detail[240] = "";
	int64_t now, newest;
	int r, why;

	if ((r = prt_decode_pause_req(&req, buf, len)) != 0) {
		snprintf(detail, sizeof(detail), "request does not decode: %s",
		    err_str(r));
		return sd_refuse(sd, rep, PRT_PAUSE_REP, "pause", "", peer_uid,
		    POL_MALFORMED_REQUEST, detail);
	}
	sd_clock(sd, &now, &newest);
	if (pol_approval_msg_op(&msg, sd->policy, POL_ACTION_PAUSE,
	    req.pause_id, 0) != 0)
		why = POL_MALFORMED_REQUEST;
	else
		why = sd_check_approvals(sd, &set, &msg, &req.approval, 1,
		    now > newest ? now : newest, detail, sizeof(detail));
	if (why != POL_OK)
		return sd_refuse(sd, rep, PRT_PAUSE_REP, "pause", req.pause_id,
		    peer_uid, why, detail);

	pthread_mutex_lock(&sd->ops_mu);
	pthread_rwlock_rdlock(&sd->commit_lock);
	sd_state_lock(sd->state);
	sd_pause_get(sd_state_pause(sd->state), &before);
	/* An id names one pause, ever: an unpause for it lifts nothing else. */
	r = sd_pause_set(sd_state_pause(sd->state), req.pause_id,
	    req.approval.approver);
	sd_state_unlock(sd->state);
	if (r == ERR_EXISTS) {
		snprintf(detail, sizeof(detail), "pause id %s was used before; "
		    "each pause needs a new id", req.pause_id);
		why = POL_REQUEST_ID_CONFLICT;
	} else if (r != 0) {
		snprintf(detail, sizeof(detail), "pause not set: %s",
		    err_str(r));
		why = POL_INTERNAL;
	} else if ((r = journal_op(sd, "paused", req.pause_id, &req.approval,
	    1)) != 0) {
		/* Fail-safe would be to stay paused, but memory must match
		 * the journal: every later append fails anyway. */
		sd_state_lock(sd->state);
		sd_pause_restore(sd_state_pause(sd->state), &before);
		sd_state_unlock(sd->state);
		snprintf(detail, sizeof(detail), "the pause could not be made "
		    "durable: %s", err_str(r));
		why = POL_JOURNAL_ERROR;
	} else {
		remember(sd, "pause", req.pause_id, &req.approval, 1);
	}
	pthread_rwlock_unlock(&sd->commit_lock);
	pthread_mutex_unlock(&sd->ops_mu);
	if (why != POL_OK)
		return sd_refuse(sd, rep, PRT_PAUSE_REP, "pause", req.pause_id,
		    peer_uid, why, detail);
	log_warn("PAUSED by %s (pause %s): every payout is refused until m of "
	    "the governance set unpause it", req.approval.approver,
	    req.pause_id);
	return ack(rep, PRT_PAUSE_REP, "paused");
}

/* Under ops_mu: the pause named id is the one in force. */
static int
is_current(struct sd_ctx *sd, const char *id, char *detail, size_t cap)
{
	struct sd_pause_state cur;

	sd_state_lock(sd->state);
	sd_pause_get(sd_state_pause(sd->state), &cur);
	sd_state_unlock(sd->state);
	if (!cur.paused) {
		snprintf(detail, cap, "signerd is not paused");
		return 0;
	}
	if (strcmp(cur.id, id) != 0) {
		snprintf(detail, cap, "the pause in force is %s, not %.64s",
		    cur.id, id);
		return 0;
	}
	return 1;
}

int
sd_handle_unpause(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *buf,
    size_t len, struct prt_writer *rep)
{
	const struct pol_governance *g = pol_governance(sd->policy);
	struct prt_unpause_req *req;
	struct pol_approval_msg msg;
	struct sd_approval_set set;
	char detail[240] = "";
	int64_t now, newest;
	int r, why = POL_INTERNAL;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		return ERR_NOMEM;
	if ((r = prt_decode_unpause_req(req, buf, len)) != 0) {
		snprintf(detail, sizeof(detail), "request does not decode: %s",
		    err_str(r));
		why = POL_MALFORMED_REQUEST;
		goto refuse;
	}
	if (g == NULL) {
		snprintf(detail, sizeof(detail), "the policy names no "
		    "governance set: nobody can unpause");
		why = POL_APPROVALS_MISSING;
		goto refuse;
	}
	pthread_mutex_lock(&sd->ops_mu);
	if (!is_current(sd, req->pause_id, detail, sizeof(detail))) {
		pthread_mutex_unlock(&sd->ops_mu);
		why = POL_REQUEST_ID_CONFLICT;
		goto refuse;
	}
	/* Invariant 4 for governance: m approvals naming this pause. */
	sd_clock(sd, &now, &newest);
	set.idx = g->approvers;
	set.n = g->n;
	set.m = g->m;
	set.name = "governance";
	if (pol_approval_msg_op(&msg, sd->policy, POL_ACTION_UNPAUSE,
	    req->pause_id, 0) != 0)
		why = POL_MALFORMED_REQUEST;
	else
		why = sd_check_approvals(sd, &set, &msg, req->approvals,
		    req->napprovals, now > newest ? now : newest, detail,
		    sizeof(detail));
	if (why == POL_OK) {
		/* Durable first: lifting the pause is the unsafe direction. */
		pthread_rwlock_rdlock(&sd->commit_lock);
		if ((r = journal_op(sd, "unpaused", req->pause_id,
		    req->approvals, req->napprovals)) != 0) {
			snprintf(detail, sizeof(detail), "the unpause could not "
			    "be made durable: %s", err_str(r));
			why = POL_JOURNAL_ERROR;
		} else {
			sd_state_lock(sd->state);
			if (sd_pause_clear(sd_state_pause(sd->state),
			    req->pause_id) != 0)
				why = POL_INTERNAL;	/* ops_mu held: cannot */
			sd_state_unlock(sd->state);
			remember(sd, "unpause", req->pause_id, req->approvals,
			    req->napprovals);
		}
		pthread_rwlock_unlock(&sd->commit_lock);
	}
	pthread_mutex_unlock(&sd->ops_mu);
	if (why != POL_OK)
		goto refuse;
	log_warn("unpaused (pause %s lifted by %u governance approvals)",
	    req->pause_id, req->napprovals);
	r = ack(rep, PRT_UNPAUSE_REP, "unpaused");
	goto out;
refuse:
	r = sd_refuse(sd, rep, PRT_UNPAUSE_REP, "unpause", req->pause_id,
	    peer_uid, why, detail);
out:
	free(req);
	return r;
}
