/* record.c: journal record bodies, refusals, time and snapshots shared by every handler. */
#include "signerd/signerd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "signerd/badpeer.h"

json_t *
sd_record_new(struct sd_ctx *sd, const char *type)
{
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	/* sd_commit adds "policy": the version in force where it lands. */
	if (json_object_set_new(o, "type", json_string(type)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
sd_json_set_u64(json_t *o, const char *key, uint64_t v)
{
	/* jq and every JavaScript reader lose integers past 2^53: a number
	 * that can get there is a decimal string (D4). */
	return json_object_set_new(o, key, json_sprintf("%llu",
	    (unsigned long long)v));
}

int
sd_json_set_u256(json_t *o, const char *key, const u256 *v)
{
	char buf[U256_DEC_MAX];

	u256_to_dec(buf, sizeof(buf), v);
	return json_object_set_new(o, key, json_string(buf));
}

int
sd_json_set_hex(json_t *o, const char *key, const uint8_t *p, size_t n,
    int prefix)
{
	char *buf;
	int r;

	if ((buf = malloc(2 * n + 3)) == NULL)
		return -1;
	if (prefix)
		util_hex_encode_0x(buf, p, n);
	else
		util_hex_encode(buf, p, n);
	r = json_object_set_new(o, key, json_string(buf));
	free(buf);
	return r;
}

int
sd_json_set_time(json_t *o, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char ts[40];

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -1;
	if (json_object_set_new(o, "unix", json_integer(t)) != 0 ||
	    json_object_set_new(o, "ts", json_string(ts)) != 0)
		return -1;
	return 0;
}

int
sd_journal_record(struct sd_ctx *sd, json_t *body, uint64_t *seq,
    uint8_t hash[32])
{
	struct sd_commit c = { .body = body };
	char detail[200];

	return sd_commit(sd, &c, seq, hash, detail, sizeof(detail)) == POL_OK ?
	    0 : ERR_IO;
}

void
sd_journal_refusal(struct sd_ctx *sd, const char *action,
    const char *request_id, unsigned peer_uid, int reason,
    const char *detail)
{
	json_t *o;
	int r = ERR_NOMEM;

	if ((o = sd_record_new(sd, "refused")) == NULL)
		goto out;
	if ((request_id != NULL && request_id[0] != '\0' &&
	    json_object_set_new(o, "request_id", json_string(request_id)) != 0) ||
	    (action != NULL &&
	    json_object_set_new(o, "action", json_string(action)) != 0) ||
	    json_object_set_new(o, "reason", json_string(
	    pol_reason_name(reason))) != 0 ||
	    json_object_set_new(o, "reason_code", json_integer(reason)) != 0 ||
	    json_object_set_new(o, "peer_uid", json_integer(peer_uid)) != 0 ||
	    json_object_set_new(o, "detail", json_string(detail)) != 0)
		goto out;
	r = sd_journal_record(sd, o, NULL, NULL);
 out:
	if (r != 0)
		log_error("could not journal refusal %s of request %s: %s",
		    pol_reason_name(reason), request_id ? request_id : "-",
		    err_str(r));
	json_decref(o);
}

uint32_t
sd_retry_after_default(int reason)
{
	return reason == POL_IN_FLIGHT ? 1 : 0;
}

uint32_t
sd_retry_after_of(int64_t seconds)
{
	if (seconds < 1)
		return 1;
	return seconds > (int64_t)PRT_RETRY_AFTER_MAX ? PRT_RETRY_AFTER_MAX :
	    (uint32_t)seconds;
}

int
sd_refusal_encode(struct prt_writer *rep, uint16_t reply_type, int reason,
    const char *detail, uint32_t retry_after_s)
{
	static const struct prt_sign_rep no_sign;
	struct prt_reply_hdr hdr;
	char msg[PRT_MESSAGE_MAX + 1];

	snprintf(msg, sizeof(msg), "%s: %s", pol_reason_name(reason), detail);
	prt_reply_hdr_set(&hdr, reason, msg);
	hdr.retry_after_s = retry_after_s > PRT_RETRY_AFTER_MAX ?
	    PRT_RETRY_AFTER_MAX : retry_after_s;
	switch (reply_type) {
	case PRT_SIGN_REP:
		return prt_encode_sign_rep(rep, &hdr, &no_sign);
	case PRT_QUEUE_REP:
		return prt_encode_queue_rep(rep, &hdr, NULL);
	case PRT_CANCEL_REP:
	case PRT_PAUSE_REP:
	case PRT_UNPAUSE_REP:
		return prt_encode_ack_rep(rep, reply_type, &hdr);
	default:
		/* Frozen layout (PRT_ERROR_REP): no room for advice. */
		hdr.retry_after_s = 0;
		return prt_encode_error_rep(rep, &hdr);
	}
}

int
sd_refuse(struct sd_ctx *sd, struct prt_writer *rep, uint16_t reply_type,
    const char *action, const char *request_id, unsigned peer_uid,
    int reason, const char *detail)
{
	return sd_refuse_after(sd, rep, reply_type, action, request_id, NULL,
	    peer_uid, reason, detail, sd_retry_after_default(reason));
}

int
sd_refuse_after(struct sd_ctx *sd, struct prt_writer *rep,
    uint16_t reply_type, const char *action, const char *request_id,
    const char *asset, unsigned peer_uid, int reason, const char *detail,
    uint32_t retry_after_s)
{
	char msg[PRT_MESSAGE_MAX + 1];

	sd_metrics_refusal(sd, asset, reason);	/* every refusal sent */
	snprintf(msg, sizeof(msg), "%s: %s", pol_reason_name(reason), detail);
	/* A frame that does not decode (no request id) is no decision:
	 * counted, logged at a bounded rate, journaled in aggregate. */
	if (reason == POL_MALFORMED_REQUEST &&
	    (request_id == NULL || request_id[0] == '\0')) {
		sd_badpeer_note(sd, (int)peer_uid, reason, msg);
	} else {
		log_info("%s %s refused: %s", action, request_id != NULL &&
		    request_id[0] != '\0' ? request_id : "-", msg);
		sd_journal_refusal(sd, action, request_id, peer_uid, reason,
		    detail);
	}
	return sd_refusal_encode(rep, reply_type, reason, detail,
	    retry_after_s);
}

json_t *
sd_approvals_json(const struct prt_approval *ap, size_t n)
{
	char hex[2 * PRT_APPROVAL_SIG_MAX + 1];
	json_t *arr, *o;
	size_t i;

	if ((arr = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		util_hex_encode(hex, ap[i].sig, ap[i].sig_len);
		o = json_pack("{s:s, s:s}", "approver", ap[i].approver, "sig",
		    hex);
		/* JSON integers stop at 2^63-1; a later expiry is a string. */
		if (o != NULL && json_object_set_new(o, "expiry",
		    ap[i].expiry <= INT64_MAX ?
		    json_integer((json_int_t)ap[i].expiry) :
		    json_sprintf("%llu", (unsigned long long)ap[i].expiry)) != 0) {
			json_decref(o);
			o = NULL;
		}
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

void
sd_remember_approvals(struct sd_ctx *sd, const struct prt_approval *ap,
    size_t n, const char *label)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (sd_seen_add(sd_state_seen(sd->state), ap[i].sig,
		    ap[i].sig_len, label, ap[i].expiry) != 0)
			log_warn("approval of %s by %s not remembered", label,
			    ap[i].approver);
}

int
sd_key_index(const struct sd_ctx *sd, const char *name)
{
	size_t i;

	for (i = 0; i < sd->nkeys; i++)
		if (strcmp(sd->keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
sd_key_by_address(const struct sd_ctx *sd, const uint8_t addr[20])
{
	size_t i;

	for (i = 0; i < sd->nkeys; i++)
		if (memcmp(sd->keys[i].address, addr, 20) == 0)
			return (int)i;
	return -1;
}

enum pol_reason
sd_approvals_unexpired(const struct prt_approval *ap, size_t n, int64_t t,
    char *detail, size_t cap)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t < 0 || ap[i].expiry < (uint64_t)t) {
			snprintf(detail, cap, "approval %zu by %s expired (at "
			    "%llu) before the decision was recorded", i,
			    ap[i].approver,
			    (unsigned long long)ap[i].expiry);
			return POL_APPROVAL_EXPIRED;
		}
	return POL_OK;
}

size_t
sd_pol_approvals(struct pol_approval *out, const struct prt_approval *in,
    size_t n)
{
	size_t i;

	_Static_assert(sizeof(out->approver) >= sizeof(in->approver) &&
	    sizeof(out->sig) >= sizeof(in->sig), "approval fields");
	for (i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		memcpy(out[i].approver, in[i].approver, sizeof(in[i].approver));
		out[i].expiry = in[i].expiry;
		memcpy(out[i].sig, in[i].sig, in[i].sig_len);
		out[i].sig_len = in[i].sig_len;
	}
	return n;
}
