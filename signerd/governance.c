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

/* What a pause or an unpause record needs from its request. */
struct op_job {
	const char *pause_id;
	const struct prt_approval *ap;
	size_t n;
	struct sd_pause_state before;	/* pause: to put back on failure */
};

static json_t *
build_op(struct sd_ctx *sd, const char *type, const struct op_job *job)
{
	json_t *o, *aps;

	if ((o = sd_record_new(sd, type)) == NULL)
		return NULL;
	if (json_object_set_new(o, "pause_id", json_string(job->pause_id)) !=
	    0 || (aps = sd_approvals_json(job->ap, job->n)) == NULL ||
	    json_object_set_new(o, "approvals", aps) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
remember_op(struct sd_ctx *sd, const char *action, const struct op_job *job)
{
	char label[SD_SEEN_LABEL_MAX + 1];

	snprintf(label, sizeof(label), "%s %s", action, job->pause_id);
	sd_remember_approvals(sd, job->ap, job->n, label);
	return 0;
}

/*
 * A pause is in force as soon as it is stamped, before it is durable:
 * refusing is always safe, and every sign record stamped after it sees it
 * (invariant 9).
 */
static enum pol_reason
stamp_paused(struct sd_ctx *sd, void *arg, json_t *body, int64_t t,
    char *detail, size_t cap)
{
	struct op_job *job = arg;
	enum pol_reason why;
	int r;

	if ((why = sd_approvals_unexpired(job->ap, job->n, t, detail, cap)) !=
	    POL_OK)
		return why;
	sd_pause_get(sd_state_pause(sd->state), &job->before);
	/* An id names one pause, ever: an unpause for it lifts nothing else. */
	r = sd_pause_set(sd_state_pause(sd->state), job->pause_id,
	    job->ap[0].approver);
	if (r == ERR_EXISTS) {
		snprintf(detail, cap, "pause id %s was used before; each pause "
		    "needs a new id", job->pause_id);
		return POL_REQUEST_ID_CONFLICT;
	}
	if (r != 0) {
		snprintf(detail, cap, "pause not set: %s", err_str(r));
		return POL_INTERNAL;
	}
	return POL_OK;
}

static int
apply_paused(struct sd_ctx *sd, void *arg, uint64_t seq,
    const uint8_t hash[32])
{
	return remember_op(sd, "pause", arg);
}

static void
undo_paused(struct sd_ctx *sd, void *arg)
{
	struct op_job *job = arg;

	/* Fail-safe would be to stay paused, but memory must match the
	 * journal: every later append fails anyway. */
	sd_pause_restore(sd_state_pause(sd->state), &job->before);
}

int
sd_handle_pause(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *buf,
    size_t len, struct prt_writer *rep)
{
	const struct sd_version *v = sd_version_now(sd);
	struct prt_pause_req req;
	struct pol_approval_msg msg;
	struct pol_approval_set set;
	struct op_job job;
	struct sd_commit c;
	char detail[240] = "";
	int r, why;

	if ((r = prt_decode_pause_req(&req, buf, len)) != 0) {
		snprintf(detail, sizeof(detail), "request does not decode: %s",
		    err_str(r));
		return sd_refuse(sd, rep, PRT_PAUSE_REP, "pause", "", peer_uid,
		    POL_MALFORMED_REQUEST, detail);
	}
	pol_set_any(&set, v->policy, 1);
	if (pol_approval_msg_op(&msg, v->policy, POL_ACTION_PAUSE,
	    req.pause_id, 0) != 0)
		why = POL_MALFORMED_REQUEST;
	else
		why = sd_check_approvals(sd, v, &set, &msg, &req.approval, 1,
		    sd_now(sd), detail, sizeof(detail));
	if (why != POL_OK)
		return sd_refuse(sd, rep, PRT_PAUSE_REP, "pause", req.pause_id,
		    peer_uid, why, detail);

	memset(&job, 0, sizeof(job));
	job.pause_id = req.pause_id;
	job.ap = &req.approval;
	job.n = 1;
	memset(&c, 0, sizeof(c));
	if ((c.body = build_op(sd, "paused", &job)) == NULL)
		return ERR_NOMEM;
	c.v = v;
	c.stamp = stamp_paused;
	c.apply = apply_paused;
	c.undo = undo_paused;
	c.arg = &job;
	why = sd_commit(sd, &c, NULL, NULL, detail, sizeof(detail));
	json_decref(c.body);
	if (why != POL_OK)
		return sd_refuse(sd, rep, PRT_PAUSE_REP, "pause", req.pause_id,
		    peer_uid, why, detail);
	/*
	 * Invariant 9: every sign request that got past the pause holds the
	 * gate until its reply is sent; waiting for them here means no OK
	 * reply can follow this PAUSE reply.
	 */
	sd_gate_close(&sd->reply_gate);
	sd_gate_open(&sd->reply_gate);
	log_warn("PAUSED by %s (pause %s): every payout is refused until m of "
	    "the governance set unpause it", req.approval.approver,
	    req.pause_id);
	return ack(rep, PRT_PAUSE_REP, "paused");
}

/* Lifting the pause is the unsafe direction: durable first (apply). */
static enum pol_reason
stamp_unpaused(struct sd_ctx *sd, void *arg, json_t *body, int64_t t,
    char *detail, size_t cap)
{
	struct op_job *job = arg;
	struct sd_pause_state cur;

	sd_pause_get(sd_state_pause(sd->state), &cur);
	if (!cur.paused) {
		snprintf(detail, cap, "signerd is not paused");
		return POL_REQUEST_ID_CONFLICT;
	}
	if (strcmp(cur.id, job->pause_id) != 0) {
		snprintf(detail, cap, "the pause in force is %s, not %.64s",
		    cur.id, job->pause_id);
		return POL_REQUEST_ID_CONFLICT;
	}
	return sd_approvals_unexpired(job->ap, job->n, t, detail, cap);
}

static int
apply_unpaused(struct sd_ctx *sd, void *arg, uint64_t seq,
    const uint8_t hash[32])
{
	struct op_job *job = arg;
	int r;

	/* order_mu made the stamp and this one decision: cannot fail. */
	if ((r = sd_pause_clear(sd_state_pause(sd->state), job->pause_id)) !=
	    0)
		return r;
	return remember_op(sd, "unpause", job);
}

int
sd_handle_unpause(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *buf,
    size_t len, struct prt_writer *rep)
{
	const struct sd_version *v = sd_version_now(sd);
	const struct pol_governance *g = pol_governance(v->policy);
	struct prt_unpause_req *req;
	struct pol_approval_msg msg;
	struct pol_approval_set set;
	struct op_job job;
	struct sd_commit c;
	char detail[240] = "";
	int r, why = POL_INTERNAL;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		return ERR_NOMEM;
	memset(&c, 0, sizeof(c));
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
	/* Name the pause in force first: the clearest refusal. */
	memset(&job, 0, sizeof(job));
	job.pause_id = req->pause_id;
	sd_state_lock(sd->state);
	why = stamp_unpaused(sd, &job, NULL, 0, detail, sizeof(detail));
	sd_state_unlock(sd->state);
	if (why != POL_OK && why != POL_APPROVAL_EXPIRED)
		goto refuse;
	/* Invariant 4 for governance: m approvals naming this pause. */
	pol_set_governance(&set, v->policy);
	if (pol_approval_msg_op(&msg, v->policy, POL_ACTION_UNPAUSE,
	    req->pause_id, 0) != 0)
		why = POL_MALFORMED_REQUEST;
	else
		why = sd_check_approvals(sd, v, &set, &msg, req->approvals,
		    req->napprovals, sd_now(sd), detail, sizeof(detail));
	if (why != POL_OK)
		goto refuse;
	job.ap = req->approvals;
	job.n = req->napprovals;
	if ((c.body = build_op(sd, "unpaused", &job)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	c.v = v;
	c.stamp = stamp_unpaused;
	c.apply = apply_unpaused;
	c.arg = &job;
	if ((why = sd_commit(sd, &c, NULL, NULL, detail, sizeof(detail))) !=
	    POL_OK)
		goto refuse;
	log_warn("unpaused (pause %s lifted by %u governance approvals)",
	    req->pause_id, req->napprovals);
	r = ack(rep, PRT_UNPAUSE_REP, "unpaused");
	goto out;
refuse:
	r = sd_refuse(sd, rep, PRT_UNPAUSE_REP, "unpause", req->pause_id,
	    peer_uid, why, detail);
out:
	json_decref(c.body);
	free(req);
	return r;
}
