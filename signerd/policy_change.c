/*
 * policy_change.c: governed policy versions (issue 11, docs/governance.md).
 * An operator proposes a whole policy file replacing the version in force;
 * m of that version's governance set approve it; a change that only
 * tightens takes effect with its last approval, any other waits the
 * governance delay, during which one governance approver can cancel it.
 * Four records: policy_proposed, policy_approved, policy_cancelled and
 * policy_activated (which carries the whole file).
 *
 * Each record's rule is one function (rule_*), run under the state lock
 * by sd_commit's stamp when signerd writes the record and by the verifier
 * (replay.c, sd_replay_policy) when it reads it back at the record's
 * time, so the journal is checked by exactly the rules that wrote it.
 */
#include "signerd/policy_change.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "signerd/payout.h"
#include "signerd/setup.h"
#include "signerd/sha256.h"

/* One governance request or record on its way through its rule. */
struct gov_job {
	const struct sd_version *cur;	/* the version it was checked under */
	struct sd_version *v;		/* propose: the parsed file */
	int own_v;			/* v is still ours to free */
	enum pol_change_class change;
	uint8_t proposed[32];
	const struct prt_approval *ap;
	size_t n;
	struct sd_gov_pending saved;	/* for undo */
	size_t ncancelled;
	int complete;			/* approve: its approvals reached m */
};

static struct sd_gov *
gov_of(struct sd_ctx *sd)
{
	return sd_state_gov(sd->state);
}

const struct sd_version *
sd_version_now(struct sd_ctx *sd)
{
	return sd->state != NULL ? sd_gov_current(gov_of(sd)) : NULL;
}

static const char *
change_name(enum pol_change_class c)
{
	return c == POL_CHANGE_LOOSEN ? "loosen" : "tighten";
}

/* pol_diff's class; a file that changes no rule takes effect at once. */
static enum pol_change_class
classify(const struct sd_version *cur, const struct sd_version *v)
{
	enum pol_change_class c = pol_diff(cur->policy, v->policy, NULL, NULL);

	return c == POL_CHANGE_NONE ? POL_CHANGE_TIGHTEN : c;
}

/* The pending proposal, when it is the one named by hash. */
static struct sd_gov_pending *
pending_named(struct sd_ctx *sd, const uint8_t hash[32], char *detail,
    size_t cap)
{
	struct sd_gov_pending *p = sd_gov_pending(gov_of(sd));
	char hex[65];

	if (p != NULL && memcmp(pol_hash(p->v->policy), hash, 32) == 0)
		return p;
	util_hex_encode(hex, hash, 32);
	snprintf(detail, cap, "no pending proposal %s%s", hex,
	    p == NULL ? " (none is pending)" : "");
	return NULL;
}

/*
 * What a proposed file must be, beyond parsing: another id than any
 * version in force ever had (approvals name the id: an old approval must
 * never count for a new version), not a file cancelled under this
 * version, and no "paused" (a genesis-only flag: pause over the wire).
 */
static enum pol_reason
check_file(struct sd_ctx *sd, const struct sd_version *v, char *detail,
    size_t cap)
{
	if (pol_paused(v->policy)) {
		snprintf(detail, cap, "\"paused\" is for a genesis file only; "
		    "pause with an approver's PAUSE_REQ");
		return POL_POLICY_INVALID;
	}
	if (sd_gov_id_used(gov_of(sd), pol_policy_id(v->policy))) {
		snprintf(detail, cap, "policy_id %s named a version in force "
		    "before; every version needs a new id",
		    pol_policy_id(v->policy));
		return POL_POLICY_INVALID;
	}
	if (sd_gov_was_cancelled(gov_of(sd), pol_hash(v->policy))) {
		snprintf(detail, cap, "this file was proposed and cancelled "
		    "under the version in force; change it to propose again");
		return POL_POLICY_INVALID;
	}
	return POL_OK;
}

/* --- the rules (state locked) ---------------------------------------- */

static enum pol_reason
rule_propose(struct sd_ctx *sd, struct gov_job *job, int64_t t, char *detail,
    size_t cap)
{
	enum pol_reason why;

	if (sd_gov_pending(gov_of(sd)) != NULL) {
		snprintf(detail, cap, "another proposal is pending: approve "
		    "or cancel it first");
		return POL_POLICY_PENDING;
	}
	if ((why = check_file(sd, job->v, detail, cap)) != POL_OK)
		return why;
	if (sd_gov_propose(gov_of(sd), job->v, job->change, t) != 0) {
		snprintf(detail, cap, "out of memory");
		return POL_INTERNAL;
	}
	job->own_v = 0;
	return POL_OK;
}

static int
approved_by(const struct sd_gov_pending *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->napproved; i++)
		if (strcmp(p->approved[i], name) == 0)
			return 1;
	return 0;
}

/*
 * An approval counts while it has not expired: those that expired before
 * the last one needed came in are dropped (their approver may approve
 * again).  Once m are in at one time, the change is approved for good.
 */
static enum pol_reason
rule_approve(struct sd_ctx *sd, struct gov_job *job, int64_t t, char *detail,
    size_t cap)
{
	const struct pol_governance *g = pol_governance(job->cur->policy);
	struct sd_gov_pending *p;
	enum pol_reason why;
	size_t i, k;

	if ((p = pending_named(sd, job->proposed, detail, cap)) == NULL)
		return POL_POLICY_NO_PROPOSAL;
	if (p->approved_at != 0) {
		snprintf(detail, cap, "the proposal is approved already; it "
		    "takes effect at %" PRId64 " (unix)",
		    sd_gov_effective_at(gov_of(sd)));
		return POL_POLICY_PENDING;
	}
	if ((why = sd_approvals_unexpired(job->ap, job->n, t, detail, cap)) !=
	    POL_OK)
		return why;
	job->saved = *p;
	for (i = k = 0; i < p->napproved; i++) {
		if (p->expiry[i] < (uint64_t)t)
			continue;
		memmove(p->approved[k], p->approved[i], sizeof(p->approved[k]));
		p->expiry[k++] = p->expiry[i];
	}
	p->napproved = k;
	for (i = 0; i < job->n; i++) {
		if (approved_by(p, job->ap[i].approver)) {
			*p = job->saved;
			snprintf(detail, cap, "%s approved this proposal "
			    "already", job->ap[i].approver);
			return POL_APPROVAL_DUPLICATE;
		}
		if (p->napproved >= POL_MAX_APPROVERS)
			break;
		snprintf(p->approved[p->napproved],
		    sizeof(p->approved[p->napproved]), "%s",
		    job->ap[i].approver);
		p->expiry[p->napproved++] = job->ap[i].expiry;
	}
	if (g != NULL && p->napproved >= g->m) {
		p->approved_at = t;
		job->complete = 1;
	}
	return POL_OK;
}

static enum pol_reason
rule_cancel(struct sd_ctx *sd, struct gov_job *job, int64_t t, char *detail,
    size_t cap)
{
	struct sd_gov_pending *p;
	enum pol_reason why;
	int r;

	if ((p = pending_named(sd, job->proposed, detail, cap)) == NULL)
		return POL_POLICY_NO_PROPOSAL;
	if ((why = sd_approvals_unexpired(job->ap, job->n, t, detail, cap)) !=
	    POL_OK)
		return why;
	if ((r = sd_gov_drop(gov_of(sd), 1)) != 0) {
		snprintf(detail, cap, "cannot cancel: %s (at most %d "
		    "cancellations per version)", err_str(r),
		    SD_GOV_CANCELLED_MAX);
		return POL_POLICY_INVALID;
	}
	return POL_OK;
}

static enum pol_reason
rule_activate(struct sd_ctx *sd, struct gov_job *job, int64_t t, char *detail,
    size_t cap)
{
	struct sd_gov *gov = gov_of(sd);
	struct sd_gov_pending *p;
	int64_t at;

	if ((p = pending_named(sd, job->proposed, detail, cap)) == NULL)
		return POL_POLICY_NO_PROPOSAL;
	at = sd_gov_effective_at(gov);
	if (at == 0 || at > t) {
		snprintf(detail, cap, "the proposal is not due: %s",
		    at == 0 ? "approvals are missing" : "its delay runs");
		return POL_TIMELOCK_PENDING;
	}
	job->saved = *p;
	job->ncancelled = sd_gov_ncancelled(gov);
	job->change = p->change;
	if (sd_gov_activate(gov, t) != 0) {
		snprintf(detail, cap, "out of memory");
		return POL_INTERNAL;
	}
	return POL_OK;
}

/* --- commit callbacks -------------------------------------------------- */

static enum pol_reason
stamp_propose(struct sd_ctx *sd, void *arg, json_t *body, int64_t t,
    char *detail, size_t cap)
{
	return rule_propose(sd, arg, t, detail, cap);
}

static void
undo_propose(struct sd_ctx *sd, void *arg)
{
	/* Not durable: forget it (it was pending, so this cannot fail). */
	if (sd_gov_drop(gov_of(sd), 0) != 0)
		log_error("the proposal not journaled could not be dropped");
}

static enum pol_reason
stamp_approve(struct sd_ctx *sd, void *arg, json_t *body, int64_t t,
    char *detail, size_t cap)
{
	return rule_approve(sd, arg, t, detail, cap);
}

static void
undo_approve(struct sd_ctx *sd, void *arg)
{
	struct gov_job *job = arg;
	struct sd_gov_pending *p = sd_gov_pending(gov_of(sd));

	if (p != NULL)
		*p = job->saved;
}

static int
apply_remember(struct sd_ctx *sd, void *arg, uint64_t seq,
    const uint8_t hash[32])
{
	struct gov_job *job = arg;
	char label[SD_SEEN_LABEL_MAX + 1], hex[65];

	util_hex_encode(hex, job->proposed, 32);
	snprintf(label, sizeof(label), "policy %.16s", hex);
	sd_remember_approvals(sd, job->ap, job->n, label);
	return 0;
}

static enum pol_reason
stamp_cancel(struct sd_ctx *sd, void *arg, json_t *body, int64_t t,
    char *detail, size_t cap)
{
	struct gov_job *job = arg;
	struct sd_gov_pending *p = sd_gov_pending(gov_of(sd));

	if (p != NULL)
		job->saved = *p;
	return rule_cancel(sd, job, t, detail, cap);
}

static void
undo_cancel(struct sd_ctx *sd, void *arg)
{
	struct gov_job *job = arg;

	sd_gov_undrop(gov_of(sd), &job->saved, 1);
}

static enum pol_reason
stamp_activate(struct sd_ctx *sd, void *arg, json_t *body, int64_t t,
    char *detail, size_t cap)
{
	struct gov_job *job = arg;
	enum pol_reason why;

	if ((why = rule_activate(sd, job, t, detail, cap)) != POL_OK)
		return why;
	/* The version number is known only now, under the order lock. */
	if (sd_json_set_u64(body, "version", sd_version_now(sd)->number) != 0) {
		sd_gov_unactivate(gov_of(sd), &job->saved, job->ncancelled);
		snprintf(detail, cap, "out of memory");
		return POL_INTERNAL;
	}
	return POL_OK;
}

static void
undo_activate(struct sd_ctx *sd, void *arg)
{
	struct gov_job *job = arg;

	sd_gov_unactivate(gov_of(sd), &job->saved, job->ncancelled);
}

/* --- records ------------------------------------------------------------ */

static json_t *
build_record(struct sd_ctx *sd, const char *type, const struct gov_job *job,
    const struct sd_version *file)
{
	json_t *o, *aps;

	if ((o = sd_record_new(sd, type)) == NULL)
		return NULL;
	if (sd_json_set_hex(o, "proposal", job->proposed, 32, 0) != 0)
		goto fail;
	if (file != NULL && (sd_json_set_hex(o, "replaces",
	    pol_hash(job->cur->policy), 32, 0) != 0 ||
	    json_object_set_new(o, "policy_id",
	    json_string(pol_policy_id(file->policy))) != 0 ||
	    json_object_set_new(o, "policy_text", json_stringn(
	    (const char *)file->text, file->len)) != 0 ||
	    json_object_set_new(o, "change",
	    json_string(change_name(job->change))) != 0))
		goto fail;
	if (job->n > 0 && ((aps = sd_approvals_json(job->ap, job->n)) ==
	    NULL || json_object_set_new(o, "approvals", aps) != 0))
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* --- approvals --------------------------------------------------------- */

/*
 * Every approval valid at t: an approver of the governance set of the
 * version in force, signing the text of action over proposed.  Counting
 * to m happens in rule_approve, across requests.
 */
static enum pol_reason
check_gov_approvals(struct sd_ctx *sd, const struct sd_version *cur,
    enum pol_action action, const uint8_t proposed[32],
    const struct prt_approval *ap, size_t n, int64_t t, char *detail,
    size_t cap)
{
	const struct pol_governance *g = pol_governance(cur->policy);
	struct pol_approval_set set;
	struct pol_approval_msg msg;

	if (g == NULL) {
		snprintf(detail, cap, "the policy in force has no governance "
		    "set: it can never change");
		return POL_POLICY_NO_GOVERNANCE;
	}
	if (n > PRT_APPROVALS_MAX || n == 0) {
		snprintf(detail, cap, "1 to %d approvals per request",
		    PRT_APPROVALS_MAX);
		return POL_MALFORMED_REQUEST;
	}
	if (pol_approval_msg_policy(&msg, cur->policy, action, proposed, 0) !=
	    0) {
		snprintf(detail, cap, "approval text cannot be built");
		return POL_INTERNAL;
	}
	pol_set_governance(&set, cur->policy);
	set.m = 1;
	return sd_check_approvals(sd, cur, &set, &msg, ap, n, t, detail, cap);
}

/* --- replies ------------------------------------------------------------ */

void
sd_gov_state(struct sd_ctx *sd, struct prt_gov_state *out)
{
	const struct sd_version *cur;
	const struct pol_governance *g;
	const struct sd_gov_pending *p;
	size_t i;

	memset(out, 0, sizeof(*out));
	sd_state_lock(sd->state);
	cur = sd_version_now(sd);
	snprintf(out->policy_id, sizeof(out->policy_id), "%s",
	    pol_policy_id(cur->policy));
	memcpy(out->policy_hash, pol_hash(cur->policy), 32);
	out->version = cur->number;
	out->since = cur->since > 0 ? (uint64_t)cur->since : 0;
	if ((p = sd_gov_pending(gov_of(sd))) != NULL) {
		g = pol_governance(cur->policy);
		out->pending = 1;
		snprintf(out->pending_id, sizeof(out->pending_id), "%s",
		    pol_policy_id(p->v->policy));
		memcpy(out->pending_hash, pol_hash(p->v->policy), 32);
		out->change = p->change == POL_CHANGE_LOOSEN ? PRT_GOV_LOOSEN :
		    PRT_GOV_TIGHTEN;
		out->proposed_at = (uint64_t)p->proposed_at;
		out->needed = g != NULL ? (uint16_t)g->m : 0;
		out->effective_at = (uint64_t)sd_gov_effective_at(gov_of(sd));
		for (i = 0; i < p->napproved && i < PRT_GOV_APPROVED_MAX; i++)
			snprintf(out->approved[i], sizeof(out->approved[i]),
			    "%s", p->approved[i]);
		out->napproved = (uint16_t)i;
	}
	sd_state_unlock(sd->state);
}

static int
reply_state(struct sd_ctx *sd, struct prt_writer *rep, uint16_t type,
    const char *msg)
{
	struct prt_gov_state st;
	struct prt_reply_hdr hdr;

	sd_gov_state(sd, &st);
	prt_reply_hdr_set(&hdr, POL_OK, msg);
	return prt_encode_gov_rep(rep, type, &hdr, &st);
}

/* --- activation ---------------------------------------------------------- */

int
sd_policy_activate_due(struct sd_ctx *sd)
{
	struct gov_job job;
	struct sd_commit c;
	struct sd_gov_pending *p;
	const struct sd_version *v;
	char detail[240] = "";
	enum pol_reason why;
	int64_t at;

	memset(&job, 0, sizeof(job));
	sd_state_lock(sd->state);
	p = sd_gov_pending(gov_of(sd));
	at = sd_gov_effective_at(gov_of(sd));
	if (p != NULL) {
		memcpy(job.proposed, pol_hash(p->v->policy), 32);
		job.cur = sd_version_now(sd);
		job.change = p->change;
		v = p->v;
	}
	sd_state_unlock(sd->state);
	if (p == NULL || at == 0 || at > sd_now(sd))
		return 0;
	memset(&c, 0, sizeof(c));
	if ((c.body = build_record(sd, "policy_activated", &job, v)) == NULL)
		return ERR_NOMEM;
	c.stamp = stamp_activate;
	c.undo = undo_activate;
	c.arg = &job;
	why = sd_commit(sd, &c, NULL, NULL, detail, sizeof(detail));
	json_decref(c.body);
	if (why == POL_POLICY_NO_PROPOSAL || why == POL_TIMELOCK_PENDING)
		return 0;	/* cancelled or activated meanwhile */
	if (why != POL_OK) {
		log_error("policy activation failed: %s: %s",
		    pol_reason_name(why), detail);
		return ERR_IO;
	}
	/* Like a pause: no OK decided under the old version follows this. */
	sd_gate_close(&sd->reply_gate);
	sd_gate_open(&sd->reply_gate);
	v = sd_version_now(sd);
	log_warn("policy %s (%s) is in force: version %" PRIu32 " (%s)",
	    pol_policy_id(v->policy), v->hex, v->number,
	    change_name(job.change));
	return 0;
}

/* --- handlers ----------------------------------------------------------- */

/*
 * A key the proposal names must be one signerd holds: loaded at start-up
 * from [keys] with the key checks (setup.c), so a new key takes a restart
 * that keeps the journal (docs/governance.md, key rotation).
 */
static enum pol_reason
check_keys(struct sd_ctx *sd, const struct sd_version *v, char *detail,
    size_t cap)
{
	const struct pol_asset *a;
	size_t i;

	for (i = 0; i < pol_asset_count(v->policy); i++) {
		a = pol_asset(v->policy, i);
		if (sd_key_index(sd, a->key) < 0) {
			snprintf(detail, cap, "asset %s names key %s, which "
			    "signerd does not hold: put it on the token, add "
			    "it to [keys] and restart signerd first", a->name,
			    a->key);
			return POL_POLICY_INVALID;
		}
	}
	return POL_OK;
}

int
sd_handle_gov_propose(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *buf, size_t len, struct prt_writer *rep)
{
	struct prt_gov_propose_req req;
	struct gov_job job;
	struct sd_commit c;
	struct sd_gov_pending *p;
	char detail[240] = "", perr[200], hex[65];
	enum pol_reason why;
	int r, same = 0;

	memset(&job, 0, sizeof(job));
	memset(&c, 0, sizeof(c));
	if ((r = prt_decode_gov_propose_req(&req, buf, len)) != 0) {
		snprintf(detail, sizeof(detail), "request does not decode: %s",
		    err_str(r));
		why = POL_MALFORMED_REQUEST;
		goto refuse;
	}
	job.cur = sd_version_now(sd);
	sd_sha256_buf(job.proposed, req.policy, req.policy_len);
	if (pol_governance(job.cur->policy) == NULL) {
		snprintf(detail, sizeof(detail), "the policy in force has no "
		    "governance set: it can never change");
		why = POL_POLICY_NO_GOVERNANCE;
		goto refuse;
	}
	if (memcmp(req.replaces, pol_hash(job.cur->policy), 32) != 0) {
		util_hex_encode(hex, req.replaces, 32);
		snprintf(detail, sizeof(detail), "the proposal replaces %.16s..., "
		    "but the version in force is %.16s...", hex,
		    job.cur->hex);
		why = POL_POLICY_STALE;
		goto refuse;
	}
	/* The same file again is the same proposal: answer, write nothing. */
	sd_state_lock(sd->state);
	p = sd_gov_pending(gov_of(sd));
	same = p != NULL && memcmp(pol_hash(p->v->policy), job.proposed,
	    32) == 0;
	sd_state_unlock(sd->state);
	if (same)
		return reply_state(sd, rep, PRT_GOV_PROPOSE_REP,
		    "proposed already");
	if ((r = sd_version_parse(&job.v, req.policy, req.policy_len, perr,
	    sizeof(perr))) != 0) {
		snprintf(detail, sizeof(detail), "the proposed policy: %s",
		    perr);
		why = POL_POLICY_INVALID;
		goto refuse;
	}
	job.own_v = 1;
	if ((why = check_keys(sd, job.v, detail, sizeof(detail))) != POL_OK)
		goto refuse;
	job.change = classify(job.cur, job.v);
	if ((c.body = build_record(sd, "policy_proposed", &job, job.v)) ==
	    NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	c.v = job.cur;		/* decided under it (D52) */
	c.stamp = stamp_propose;
	c.undo = undo_propose;
	c.arg = &job;
	if ((why = sd_commit(sd, &c, NULL, NULL, detail, sizeof(detail))) !=
	    POL_OK)
		goto refuse;
	log_warn("policy %s (%s) proposed to replace %s: a %s",
	    pol_policy_id(job.v->policy), job.v->hex, job.cur->hex,
	    change_name(job.change));
	r = reply_state(sd, rep, PRT_GOV_PROPOSE_REP, "proposed");
	goto out;
refuse:
	r = sd_refuse(sd, rep, PRT_GOV_PROPOSE_REP, "policy-propose", NULL,
	    peer_uid, why, detail);
out:
	json_decref(c.body);
	if (job.own_v)
		sd_version_free(job.v);
	return r;
}

/* What tells an approval from a cancel; the rest of their path is one. */
struct vote {
	enum pol_action action;
	const char *record;	/* policy_approved, policy_cancelled */
	const char *name;	/* the refused record's action */
	uint16_t reply;
	enum pol_reason (*stamp)(struct sd_ctx *, void *, json_t *, int64_t,
	    char *, size_t);
	void (*undo)(struct sd_ctx *, void *);
};

static const struct vote approve_vote = { POL_ACTION_POLICY,
    "policy_approved", "policy-approve", PRT_GOV_APPROVE_REP, stamp_approve,
    undo_approve };
static const struct vote cancel_vote = { POL_ACTION_POLICY_CANCEL,
    "policy_cancelled", "policy-cancel", PRT_GOV_CANCEL_REP, stamp_cancel,
    undo_cancel };

/*
 * One governance vote on the pending proposal (job->proposed, ap, n
 * filled from a request that decoded, or decode_r its decoder's error):
 * approvals checked against the version in force, journaled, applied; an
 * approval that completes a tightening activates it before the reply.
 */
static int
vote(struct sd_ctx *sd, unsigned peer_uid, const struct vote *k,
    struct gov_job *job, int decode_r, struct prt_writer *rep)
{
	struct sd_commit c;
	char detail[240] = "", hex[65];
	enum pol_reason why;

	memset(&c, 0, sizeof(c));
	if (decode_r != 0) {
		snprintf(detail, sizeof(detail), "request does not decode: %s",
		    err_str(decode_r));
		why = POL_MALFORMED_REQUEST;
		goto refuse;
	}
	job->cur = sd_version_now(sd);
	sd_state_lock(sd->state);
	why = pending_named(sd, job->proposed, detail, sizeof(detail)) ==
	    NULL ? POL_POLICY_NO_PROPOSAL : POL_OK;
	sd_state_unlock(sd->state);
	if (why != POL_OK ||
	    (why = check_gov_approvals(sd, job->cur, k->action, job->proposed,
	    job->ap, job->n, sd_now(sd), detail, sizeof(detail))) != POL_OK)
		goto refuse;
	if ((c.body = build_record(sd, k->record, job, NULL)) == NULL)
		return ERR_NOMEM;
	c.v = job->cur;
	c.stamp = k->stamp;
	c.apply = apply_remember;
	c.undo = k->undo;
	c.arg = job;
	why = sd_commit(sd, &c, NULL, NULL, detail, sizeof(detail));
	json_decref(c.body);
	if (why != POL_OK)
		goto refuse;
	util_hex_encode(hex, job->proposed, 32);
	log_warn("policy proposal %.16s...: %s by %s%s", hex, k->name,
	    job->ap[0].approver, job->n > 1 ? " and others" : "");
	/* A tightening takes effect with its last approval. */
	if (job->complete && sd_policy_activate_due(sd) != 0) {
		snprintf(detail, sizeof(detail), "approved, but the activation "
		    "could not be journaled");
		why = POL_JOURNAL_ERROR;
		goto refuse;
	}
	return reply_state(sd, rep, k->reply,
	    k->action == POL_ACTION_POLICY_CANCEL ? "cancelled" :
	    job->complete ? "approved" : "approval recorded");
refuse:
	return sd_refuse(sd, rep, k->reply, k->name, NULL, peer_uid, why,
	    detail);
}

int
sd_handle_gov_approve(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *buf, size_t len, struct prt_writer *rep)
{
	struct prt_gov_approve_req *req;
	struct gov_job job;
	int r;

	if ((req = calloc(1, sizeof(*req))) == NULL)
		return ERR_NOMEM;
	memset(&job, 0, sizeof(job));
	r = prt_decode_gov_approve_req(req, buf, len);
	memcpy(job.proposed, req->proposed, 32);
	job.ap = req->approvals;
	job.n = req->napprovals;
	r = vote(sd, peer_uid, &approve_vote, &job, r, rep);
	free(req);
	return r;
}

int
sd_handle_gov_cancel(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *buf, size_t len, struct prt_writer *rep)
{
	struct prt_gov_cancel_req req;
	struct gov_job job;
	int r;

	memset(&job, 0, sizeof(job));
	r = prt_decode_gov_cancel_req(&req, buf, len);
	memcpy(job.proposed, req.proposed, 32);
	job.ap = &req.approval;
	job.n = 1;
	return vote(sd, peer_uid, &cancel_vote, &job, r, rep);
}

int
sd_handle_gov_status(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *buf, size_t len, struct prt_writer *rep)
{
	struct prt_reply_hdr hdr;
	int r;

	if ((r = prt_decode_gov_status_req(buf, len)) != 0) {
		prt_reply_hdr_set(&hdr, r, "request does not decode");
		return prt_encode_gov_rep(rep, PRT_GOV_STATUS_REP, &hdr, NULL);
	}
	return reply_state(sd, rep, PRT_GOV_STATUS_REP, "ok");
}

/* --- the verifier ------------------------------------------------------- */

#define FAIL(...) do {							\
	snprintf(sd->replay_why, sizeof(sd->replay_why), __VA_ARGS__);	\
	r = ERR_MALFORMED;						\
	goto out;							\
} while (0)

int
sd_replay_policy(struct sd_ctx *sd, const json_t *rec, const char *type,
    int64_t t)
{
	struct prt_approval ap[PRT_APPROVALS_MAX];
	const char *text, *change;
	struct gov_job job;
	char detail[240] = "", perr[200], hex[65];
	uint8_t replaces[32];
	enum pol_reason why = POL_OK;
	uint64_t number;
	uint16_t n = 0;
	int r = 0;

	memset(&job, 0, sizeof(job));
	job.cur = sd_version_now(sd);
	if (sd_replay_hash(rec, "proposal", job.proposed) != 0)
		FAIL("the %s record names no proposal hash", type);
	if (strcmp(type, "policy_approved") == 0 ||
	    strcmp(type, "policy_cancelled") == 0) {
		if ((r = sd_replay_approvals(sd, rec, ap, &n)) != 0)
			goto out;
		job.ap = ap;
		job.n = n;
		if (strcmp(type, "policy_cancelled") == 0 && n != 1)
			FAIL("a policy cancel carries exactly one approval");
		why = check_gov_approvals(sd, job.cur, type[7] == 'a' ?
		    POL_ACTION_POLICY : POL_ACTION_POLICY_CANCEL, job.proposed,
		    ap, n, t, detail, sizeof(detail));
		if (why != POL_OK)
			FAIL("approvals do not hold: %s: %.160s",
			    pol_reason_name(why), detail);
		why = type[7] == 'a' ? rule_approve(sd, &job, t, detail,
		    sizeof(detail)) : rule_cancel(sd, &job, t, detail,
		    sizeof(detail));
		if (why == POL_OK)
			apply_remember(sd, &job, 0, NULL);
	} else {
		/* proposed and activated carry the whole file. */
		text = sd_replay_str(rec, "policy_text");
		change = sd_replay_str(rec, "change");
		if (text == NULL || change == NULL ||
		    sd_replay_hash(rec, "replaces", replaces) != 0)
			FAIL("the %s record lacks its file, change or "
			    "replaced hash", type);
		if (memcmp(replaces, pol_hash(job.cur->policy), 32) != 0)
			FAIL("it replaces another version than the one in "
			    "force (%s)", job.cur->hex);
		if ((r = sd_version_parse(&job.v, (const uint8_t *)text,
		    strlen(text), perr, sizeof(perr))) != 0)
			FAIL("its policy does not parse: %.180s", perr);
		job.own_v = 1;
		if (memcmp(pol_hash(job.v->policy), job.proposed, 32) != 0) {
			util_hex_encode(hex, pol_hash(job.v->policy), 32);
			FAIL("its policy hashes to %s, not the proposal", hex);
		}
		if (strcmp(sd_replay_str(rec, "policy_id") ? sd_replay_str(rec,
		    "policy_id") : "", pol_policy_id(job.v->policy)) != 0)
			FAIL("its policy_id is not the file's");
		job.change = classify(job.cur, job.v);
		if (strcmp(change, change_name(job.change)) != 0)
			FAIL("it says \"%s\", but the change is a %s", change,
			    change_name(job.change));
		if (strcmp(type, "policy_proposed") == 0) {
			why = rule_propose(sd, &job, t, detail,
			    sizeof(detail));
		} else {
			if (sd_replay_u64(rec, "version", &number) != 0 ||
			    number != (uint64_t)job.cur->number + 1)
				FAIL("its version is not %" PRIu32,
				    job.cur->number + 1);
			why = rule_activate(sd, &job, t, detail,
			    sizeof(detail));
		}
	}
	if (why != POL_OK)
		FAIL("%s: %.200s", pol_reason_name(why), detail);
out:
	if (job.own_v)
		sd_version_free(job.v);
	return r;
}
