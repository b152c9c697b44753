/* query.c: read-only requests: exposure, status, the policy in force. */
#include "signerd/signerd.h"
#include "signerd/policy_change.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "proto/msg.h"
#include "signerd/badpeer.h"
#include "signerd/health.h"

/*
 * A refusal is a reply of the request's own type with no payload.  A
 * query changes nothing and costs its sender nothing to repeat, so its
 * refusal is counted and journaled in aggregate (badpeer.h).
 */
static int
query_refuse(struct sd_ctx *sd, struct prt_writer *rep, uint16_t type,
    unsigned peer_uid, int reason, const char *detail)
{
	struct prt_reply_hdr hdr;
	char msg[PRT_MESSAGE_MAX + 1];

	snprintf(msg, sizeof(msg), "%s: %s", pol_reason_name(reason), detail);
	sd_badpeer_note(sd, (int)peer_uid, reason, msg);
	prt_reply_hdr_set(&hdr, reason, msg);
	switch (type) {
	case PRT_EXPOSURE_REP:
		return prt_encode_exposure_rep(rep, &hdr, NULL);
	case PRT_STATUS_REP:
		return prt_encode_status_rep(rep, &hdr, NULL);
	case PRT_POLICY_REP:
		return prt_encode_policy_rep(rep, &hdr, NULL);
	default:
		return prt_encode_error_rep(rep, &hdr);
	}
}

int
sd_handle_exposure(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *buf,
    size_t len, struct prt_writer *rep)
{
	struct prt_exposure_req req;
	struct prt_exposure_rep out;
	struct prt_reply_hdr hdr;
	const struct sd_version *v;
	const struct pol_asset *a;
	size_t idx;
	int64_t day;
	int r;

	if ((r = prt_decode_exposure_req(&req, buf, len)) != 0)
		return query_refuse(sd, rep, PRT_EXPOSURE_REP, peer_uid,
		    POL_MALFORMED_REQUEST, err_str(r));
	v = sd_version_now(sd);
	if (pol_asset_by_name(v->policy, req.asset, &idx) != 0)
		return query_refuse(sd, rep, PRT_EXPOSURE_REP, peer_uid, POL_UNKNOWN_ASSET,
		    "no such asset in the policy");
	a = pol_asset(v->policy, idx);
	day = req.date == PRT_DATE_TODAY ? pol_utc_day(sd_now(sd)) :
	    (int64_t)req.date;

	memset(&out, 0, sizeof(out));
	snprintf(out.asset, sizeof(out.asset), "%s", a->name);
	out.date = (uint32_t)day;
	sd_state_lock(sd->state);
	sd_state_exposure(sd->state, &out.signed_total, a->name, day);
	sd_state_unlock(sd->state);
	out.limit = a->daily_limit;
	if (u256_sub(&out.remaining, &a->daily_limit, &out.signed_total) != 0)
		u256_from_u64(&out.remaining, 0);
	prt_reply_hdr_set(&hdr, POL_OK, "ok");
	return prt_encode_exposure_rep(rep, &hdr, &out);
}

int
sd_handle_status(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *buf,
    size_t len, struct prt_writer *rep)
{
	struct prt_status_rep *out;
	struct prt_reply_hdr hdr;
	struct sd_pause_state pause;
	const struct sd_version *v;
	char msg[PRT_MESSAGE_MAX + 1], why[200] = "";
	size_t i;
	int r;

	if ((r = prt_decode_status_req(buf, len)) != 0)
		return query_refuse(sd, rep, PRT_STATUS_REP, peer_uid,
		    POL_MALFORMED_REQUEST, err_str(r));
	if ((out = calloc(1, sizeof(*out))) == NULL)
		return ERR_NOMEM;
	snprintf(out->version, sizeof(out->version), "%s", SD_VERSION);
	v = sd_version_now(sd);
	snprintf(out->policy_id, sizeof(out->policy_id), "%s",
	    pol_policy_id(v->policy));
	memcpy(out->policy_hash, pol_hash(v->policy), 32);
	jnl_head(sd->journal, &out->head_seq, out->head_hash);
	/* The pause in force is signerd's state, not the file's flag. */
	sd_state_lock(sd->state);
	sd_pause_get(sd_state_pause(sd->state), &pause);
	sd_state_unlock(sd->state);
	out->paused = (uint8_t)(pause.paused != 0);
	/* Whether a sign could succeed now, and the first reason not. */
	if (pause.paused) {
		out->blocked = POL_PAUSED;
	} else if (atomic_load(&sd->journal_failed)) {
		out->blocked = POL_JOURNAL_ERROR;
		snprintf(why, sizeof(why), "the journal failed a write: "
		    "nothing can be made durable until signerd restarts");
	} else if (sd_hsm_usable(sd, why, sizeof(why)) != 0) {
		out->blocked = POL_HSM_ERROR;
	}
	out->can_sign = out->blocked == 0;
	for (i = 0; i < sd->nkeys && i < PRT_KEYS_MAX; i++) {
		snprintf(out->keys[i].name, sizeof(out->keys[i].name), "%s",
		    sd->keys[i].name);
		memcpy(out->keys[i].address, sd->keys[i].address, 20);
	}
	out->nkeys = (uint16_t)i;
	/* Approvers need the pause's id to sign its unpause. */
	if (pause.paused)
		snprintf(msg, sizeof(msg), "paused: pause %s%s%s", pause.id,
		    pause.by[0] ? " by " : "", pause.by);
	else if (out->blocked != 0)
		snprintf(msg, sizeof(msg), "cannot sign: %s", why);
	else
		snprintf(msg, sizeof(msg), "ok");
	prt_reply_hdr_set(&hdr, POL_OK, msg);
	r = prt_encode_status_rep(rep, &hdr, out);
	free(out);
	return r;
}

int
sd_handle_policy(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *buf,
    size_t len, struct prt_writer *rep)
{
	struct prt_policy_rep out;
	struct prt_reply_hdr hdr;
	const struct sd_version *v;
	int r;

	if ((r = prt_decode_policy_req(buf, len)) != 0)
		return query_refuse(sd, rep, PRT_POLICY_REP, peer_uid,
		    POL_MALFORMED_REQUEST, err_str(r));
	/* The version in force, whole (orchestratord follows it). */
	v = sd_version_now(sd);
	if (v->len > PRT_POLICY_JSON_MAX)
		return query_refuse(sd, rep, PRT_POLICY_REP, peer_uid, POL_INTERNAL,
		    "policy file too large for one reply");
	out.json = v->text;
	out.json_len = v->len;
	prt_reply_hdr_set(&hdr, POL_OK, "ok");
	return prt_encode_policy_rep(rep, &hdr, &out);
}
