/* api_approvals.c: an approver's approve, reject and cancel of a payout. */
#include "orchestratord/api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/err.h"
#include "common/log.h"
#include "orchestratord/approval_check.h"
#include "orchestratord/store.h"
#include "orchestratord/validate.h"

/* The intent a stored payout stands for, as signerd will derive it. */
static int
stored_intent(struct pol_intent *in, const struct pol_policy *p,
    const struct payout *pay)
{
	size_t idx;

	memset(in, 0, sizeof(*in));
	if (pol_asset_by_name(p, pay->asset, &idx) != 0)
		return ERR_NOT_FOUND;
	in->asset = idx;
	memcpy(in->asset_name, pol_asset(p, idx)->name, sizeof(in->asset_name));
	in->chain_id = pay->chain_id;
	memcpy(in->recipient, pay->recipient, EVM_ADDR_LEN);
	in->amount = pay->amount;
	return 0;
}

/*
 * After the check of an approval under *sv refused why (the first time:
 * tries 0): 1 with *sv the newer version signerd has moved to, to check
 * once more under, else 0.  Only refusals a new version can change (other
 * approvers, other keys, another policy id in the signed text): GET
 * /v1/policy asks signerd live, so an approver may sign a version the
 * poller has not loaded yet (D69).
 */
static int
newer_version(struct app *app, enum pol_reason why, int tries,
    const struct signer_version **sv)
{
	const struct signer_version *nv;

	if (tries > 0 || (why != POL_APPROVAL_BAD_SIGNATURE &&
	    why != POL_APPROVAL_UNKNOWN_APPROVER) ||
	    (nv = signer_refresh(app->signer)) == NULL)
		return 0;
	*sv = nv;
	return 1;
}

/* An advisory refusal of an approval: 422 with a code naming it. */
static void
reply_approval_refused(struct api_reply *rep, const struct api_request *req,
    enum pol_reason why, const char *detail)
{
	const char *code;

	switch (why) {
	case POL_APPROVAL_UNKNOWN_APPROVER:
		code = "BAD_APPROVER";
		break;
	case POL_APPROVAL_EXPIRED:
		code = "APPROVAL_EXPIRED";
		break;
	case POL_APPROVAL_BAD_SIGNATURE:
		code = "APPROVAL_BAD_SIGNATURE";
		break;
	default:
		code = pol_reason_name(why);
		break;
	}
	api_error(rep, req->request_id, 422, code, "%s", detail);
}

/*
 * What an approver's signed request (approve or cancel) starts with: the
 * policy version in force, the body as an approval with an acceptable
 * lifetime, and the payout it names, read with a pooled connection left
 * in *d.  Returns 0, or -1 with the error replied (*d then NULL).  The
 * caller frees *pay and gives *d back.
 */
static int
load_approved(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep,
    const struct signer_version **sv, struct pol_approval *va,
    struct payout **pay, struct db **d)
{
	struct val_err e;
	int r;

	*pay = NULL;
	*d = NULL;
	if ((*sv = api_version_of(app, req, rep)) == NULL)
		return -1;
	if (val_approval_body(va, &e, req->body, req->body_len) != 0 ||
	    val_approval_lifetime(&e, va->expiry, (uint64_t)time(NULL),
	    (uint64_t)app->cfg->approval_max_seconds) != 0) {
		api_reply_val(rep, req, &e);
		return -1;
	}
	if ((*pay = calloc(1, sizeof(**pay))) == NULL) {
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		return -1;
	}
	if (api_db_get(app, d, req, rep) != 0)
		return -1;
	if ((r = store_get(*d, call->id, *pay)) != 0) {
		api_db_put(app, d);
		if (r == ERR_NOT_FOUND)
			api_error(rep, req->request_id, 404, "NOT_FOUND", "no "
			    "payout %s", call->id);
		else
			api_reply_db(rep, req, r, "store_get");
		return -1;
	}
	return 0;
}

void
api_approvals_add(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	const struct signer_version *sv;
	const struct pol_policy *p;
	struct pol_approval va;
	struct pol_intent in;
	struct payout *pay = NULL;
	struct db *d = NULL;
	enum pol_reason why;
	char detail[256];
	int r, tries;

	if (load_approved(app, call, req, rep, &sv, &va, &pay, &d) != 0)
		goto out;
	if (pay->status != PS_PENDING_APPROVAL) {
		api_error(rep, req->request_id, 409, "CONFLICT", "payout %s is "
		    "%s; approvals are taken only while it is PENDING_APPROVAL",
		    call->id, fsm_status_name(pay->status));
		goto out;
	}
	/* Advisory, for fast feedback: signerd checks it again when signing. */
	for (tries = 0;; tries++) {
		p = sv->policy;
		if (stored_intent(&in, p, pay) != 0) {
			api_error(rep, req->request_id, 422, "UNKNOWN_ASSET",
			    "payout %s: asset %s is not in signerd's policy",
			    call->id, pay->asset);
			goto out;
		}
		why = ac_check_sign_with(sv->verifier, p, pay->request_id, &in,
		    &va, (uint64_t)time(NULL), detail, sizeof(detail));
		if (!newer_version(app, why, tries, &sv))
			break;
	}
	if (why != POL_OK) {
		reply_approval_refused(rep, req, why, detail);
		goto out;
	}
	r = store_add_approval(d, call->id, &va, pay);
	api_db_put(app, &d);
	if (r == STORE_CONFLICT) {
		if (pay->status == PS_PENDING_APPROVAL)
			api_error(rep, req->request_id, 409, "CONFLICT", "%s "
			    "has already approved payout %s", va.approver,
			    call->id);
		else
			api_error(rep, req->request_id, 409, "CONFLICT",
			    "payout %s is %s; approvals are taken only while "
			    "it is PENDING_APPROVAL", call->id,
			    fsm_status_name(pay->status));
		goto out;
	}
	if (r == ERR_NOT_FOUND) {
		api_error(rep, req->request_id, 404, "NOT_FOUND", "no payout %s",
		    call->id);
		goto out;
	}
	if (r != 0) {
		api_reply_db(rep, req, r, "store_add_approval");
		goto out;
	}
	log_info("payout %s approved by %s (%d of %d)", pay->request_id,
	    va.approver, pay->approvals, pay->approvals_required);
	api_reply_payout(rep, 200, pay);
out:
	api_db_put(app, &d);
	util_wipe(&va, sizeof(va));
	free(pay);
}

/*
 * A reject or cancel that store_end refused: BUSY while a worker holds the
 * payout (retry); QUEUED_IN_SIGNERD when signerd may hold it queued, where
 * only a signed cancel reaches; else the status does not allow it.
 */
static void
reply_end_refused(struct api_reply *rep, const struct api_request *req,
    const char *id, const char *verb, enum store_end_refusal why,
    const struct payout *pay)
{
	if (why == STORE_END_BUSY) {
		api_error(rep, req->request_id, 409, "BUSY", "payout %s is held "
		    "by a worker right now; retry", id);
		rep->retry_after = 1;
	} else if (why == STORE_END_IN_SIGNERD || pay->status == PS_QUEUED)
		api_error(rep, req->request_id, 409, "QUEUED_IN_SIGNERD",
		    "payout %s may be queued in signerd, where only an "
		    "approver's signed cancel stops it (POST "
		    "/v1/payouts/%s/cancel)", id, id);
	else
		api_error(rep, req->request_id, 409, "CONFLICT", "payout %s is "
		    "%s; only PENDING_APPROVAL or APPROVED payouts can be %s",
		    id, fsm_status_name(pay->status), verb);
}

void
api_approvals_reject(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	static const enum payout_status from[] = { PS_PENDING_APPROVAL,
	    PS_APPROVED };
	char reason[VAL_REASON_MAX + 1];
	enum store_end_refusal why;
	struct payout *pay = NULL;
	struct val_err e;
	struct db *d = NULL;
	int r;

	if (val_reject_body(reason, &e, req->body, req->body_len) != 0) {
		api_reply_val(rep, req, &e);
		goto out;
	}
	if ((pay = calloc(1, sizeof(*pay))) == NULL) {
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		goto out;
	}
	if (api_db_get(app, &d, req, rep) != 0)
		goto out;
	/* A reject carries no approver's signature: it never reaches signerd. */
	r = store_end(d, call->id, from, ARRAY_LEN(from), PS_REJECTED, 0,
	    "REJECTED_BY_APPROVER", reason, &why, pay);
	api_db_put(app, &d);
	if (r == ERR_NOT_FOUND)
		api_error(rep, req->request_id, 404, "NOT_FOUND", "no payout %s",
		    call->id);
	else if (r == STORE_CONFLICT)
		reply_end_refused(rep, req, call->id, "rejected", why, pay);
	else if (r != 0)
		api_reply_db(rep, req, r, "store_end");
	else
		api_reply_payout(rep, 200, pay);
out:
	api_db_put(app, &d);
	free(pay);
}

/*
 * signerd did not do it: SIGNER_RETRY is 503 with Retry-After from
 * signer.c (its advice, else 1 s); a final refusal has its reason name
 * as the code.
 */
static void
reply_signer_refused(struct app *app, struct api_reply *rep,
    const struct api_request *req, const struct signer_answer *ans)
{
	int status = 409;
	const char *code;

	if (ans->outcome == SIGNER_RETRY) {
		api_error(rep, req->request_id, 503, "UNAVAILABLE", "signerd: "
		    "%s", ans->message);
		rep->retry_after = signer_retry_after_s(ans);
		return;
	}
	code = pol_reason_name(ans->reason);
	metrics_refusal(app->metrics, code);
	/* The approval itself is bad: the client must fix it. */
	if ((ans->reason >= POL_APPROVALS_MISSING &&
	    ans->reason <= POL_APPROVAL_WRONG_INTENT) ||
	    ans->reason == POL_MALFORMED_REQUEST)
		status = 422;
	api_error(rep, req->request_id, status, code, "signerd: %s",
	    ans->message);
}

/* CANCEL_REQ with the approver's signed cancel. */
static enum signer_outcome
cancel_in_signerd(struct app *app, const char *id,
    const struct pol_approval *va, struct signer_answer *ans)
{
	struct prt_cancel_req creq;
	enum signer_outcome r;

	memset(&creq, 0, sizeof(creq));
	memcpy(creq.request_id, id, sizeof(creq.request_id));
	ac_approval_to_wire(&creq.approval, va);
	r = signer_cancel(app->signer, &creq, ans);
	util_wipe(&creq, sizeof(creq));
	return r;
}

/*
 * Invariant: a payout this API reports CANCELLED can never be signed.  The
 * cancel goes to signerd first, whatever the stored status: signerd
 * cancels a queued payout and, for one it never saw, records a cancel
 * that forbids its request id for good (D50), so a worker's QUEUE_REQ or
 * SIGN_REQ still on its way is refused.  Only after signerd journaled it
 * is the payout stored CANCELLED.  signerd answers TIMELOCK_NOT_QUEUED
 * once signing began: then the payout is not cancelled.
 */
void
api_approvals_cancel(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	static const enum payout_status from[] = { PS_PENDING_APPROVAL,
	    PS_APPROVED, PS_QUEUED };
	const struct signer_version *sv;
	struct signer_answer ans;
	struct pol_approval va;
	struct payout *pay = NULL;
	struct db *d = NULL;
	enum store_end_refusal end_why;
	enum pol_reason why;
	enum payout_status was;
	char detail[256], reason[96];
	int r, tries;

	if (load_approved(app, call, req, rep, &sv, &va, &pay, &d) != 0)
		goto out;
	/* No connection is held while signerd is asked below. */
	api_db_put(app, &d);
	was = pay->status;
	if (was != PS_PENDING_APPROVAL && was != PS_APPROVED &&
	    was != PS_QUEUED) {
		api_error(rep, req->request_id, 409, "CONFLICT", "payout %s is "
		    "%s; only PENDING_APPROVAL, APPROVED or QUEUED payouts can "
		    "be cancelled", call->id, fsm_status_name(was));
		goto out;
	}
	for (tries = 0;; tries++) {
		why = ac_check_cancel_with(sv->verifier, sv->policy, call->id,
		    &va, (uint64_t)time(NULL), detail, sizeof(detail));
		if (!newer_version(app, why, tries, &sv))
			break;
	}
	if (why != POL_OK) {
		reply_approval_refused(rep, req, why, detail);
		goto out;
	}
	snprintf(reason, sizeof(reason), "cancelled by approver %s",
	    va.approver);
	/* Only signerd's cancel makes it unsignable: it goes first. */
	if (cancel_in_signerd(app, call->id, &va, &ans) == SIGNER_REFUSED &&
	    ans.reason == POL_TIMELOCK_NOT_QUEUED) {
		api_error(rep, req->request_id, 409, "CONFLICT", "payout %s is "
		    "being signed or was signed by signerd; too late to cancel",
		    call->id);
		goto out;
	}
	if (ans.outcome != SIGNER_DONE) {
		reply_signer_refused(app, rep, req, &ans);
		goto out;
	}
	if (api_db_get(app, &d, req, rep) != 0)
		goto out;
	r = store_end(d, call->id, from, ARRAY_LEN(from), PS_CANCELLED, 1,
	    "CANCELLED_BY_APPROVER", reason, &end_why, pay);
	api_db_put(app, &d);
	if (r == STORE_CONFLICT) {
		api_error(rep, req->request_id, 409, "CONFLICT", "payout %s is "
		    "now %s (signerd has cancelled it: it will not be signed)",
		    call->id, fsm_status_name(pay->status));
		goto out;
	}
	if (r != 0) {
		log_error("payout %s cancelled in signerd but not stored: %s",
		    call->id, err_str(r));
		api_reply_db(rep, req, r, "store_end");
		goto out;
	}
	log_info("payout %s cancelled by %s in signerd (was %s)", call->id,
	    va.approver, fsm_status_name(was));
	api_reply_payout(rep, 200, pay);
out:
	api_db_put(app, &d);
	util_wipe(&va, sizeof(va));
	free(pay);
}
