/* api_exposure.c: GET /v1/exposure, signerd's exposure of a UTC day. */
#include "orchestratord/api_internal.h"

#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "orchestratord/validate.h"

void
api_exposure_get(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	const struct signer_version *sv;
	const struct pol_policy *p;
	struct prt_exposure_req xreq;
	struct prt_exposure_rep xrep;
	struct signer_answer ans;
	struct val_err e;
	char date[VAL_DATE_STR], total[U256_DEC_MAX], limit[U256_DEC_MAX],
	    remaining[U256_DEC_MAX];
	uint32_t day;
	size_t idx;

	if ((sv = api_version_of(app, req, rep)) == NULL ||
	    api_check_args(call, req, rep) != 0)
		return;
	p = sv->policy;
	if (val_asset(&idx, &e, p, api_get_arg(req, "asset")) != 0 ||
	    val_date(&day, &e, api_get_arg(req, "date")) != 0) {
		api_reply_val(rep, req, &e);
		return;
	}
	memset(&xreq, 0, sizeof(xreq));
	memcpy(xreq.asset, pol_asset(p, idx)->name, sizeof(xreq.asset));
	xreq.date = day;
	if (signer_exposure(app->signer, &xreq, &xrep, &ans) != SIGNER_DONE) {
		if (ans.reason == POL_UNKNOWN_ASSET)
			api_error(rep, req->request_id, 422, "UNKNOWN_ASSET",
			    "signerd: %s", ans.message);
		else {
			api_error(rep, req->request_id, 503, "UNAVAILABLE",
			    "signerd: %s", ans.message);
			rep->retry_after = signer_retry_after_s(&ans);
		}
		return;
	}
	val_day_str(date, xrep.date);
	u256_to_dec(total, sizeof(total), &xrep.signed_total);
	u256_to_dec(limit, sizeof(limit), &xrep.limit);
	u256_to_dec(remaining, sizeof(remaining), &xrep.remaining);
	api_reply_json(rep, 200, json_pack("{s:s, s:s, s:s, s:s, s:s}", "asset",
	    xreq.asset, "date", date, "signed_total", total, "limit", limit,
	    "remaining", remaining));
}
