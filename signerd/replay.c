/*
 * replay.c: rebuilding signerd's state from the journal at start-up:
 * exposure and idempotency (invariant 2), nonces and fee bumps (5), the
 * timelock queue, the pause and the newest journal time (4).  A record
 * that does not replay stops start-up: the journal verified, so it can
 * only be a bug or a journal of another signerd.
 */
#include "signerd/setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "evm/addr.h"

static const char *
str_of(const json_t *rec, const char *key)
{
	const json_t *v = json_object_get(rec, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Every record names the policy it was decided under; a journal written
 * under another policy than the file given is refused, never mixed. */
static int
check_policy(struct sd_ctx *sd, uint64_t seq, const char *policy)
{
	if (policy != NULL && strcmp(policy, sd->policy_hex) == 0)
		return 0;
	log_error("journal record %llu was written under policy %s, but the "
	    "genesis file has hash %s; policy changes only through "
	    "governance", (unsigned long long)seq, policy ? policy : "(none)",
	    sd->policy_hex);
	return ERR_MALFORMED;
}

/* The approvals of a record, for the replay diagnosis (seen.h). */
static int
replay_approvals(struct sd_ctx *sd, const json_t *rec, const char *action,
    const char *id)
{
	const json_t *arr = json_object_get(rec, "approvals"), *e, *exp;
	char label[SD_SEEN_LABEL_MAX + 1];
	uint8_t sig[PRT_APPROVAL_SIG_MAX];
	const char *hex;
	uint64_t expiry;
	size_t i, len;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return ERR_MALFORMED;
	snprintf(label, sizeof(label), "%s %s", action, id);
	json_array_foreach(arr, i, e) {
		if ((hex = str_of(e, "sig")) == NULL ||
		    util_hex_decode_var(sig, sizeof(sig), &len, hex) != 0)
			return ERR_MALFORMED;
		/* An integer, or a decimal string past 2^63-1 (record.c). */
		exp = json_object_get(e, "expiry");
		if (json_is_integer(exp) && json_integer_value(exp) >= 0)
			expiry = (uint64_t)json_integer_value(exp);
		else if (json_is_string(exp))
			expiry = UINT64_MAX;
		else
			return ERR_MALFORMED;
		if (sd_seen_add(sd_state_seen(sd->state), sig, len, label,
		    expiry) != 0)
			return ERR_NOMEM;
	}
	return 0;
}

static int
replay_signed(struct sd_ctx *sd, uint64_t seq, const json_t *rec)
{
	const char *id = str_of(rec, "request_id"), *asset = str_of(rec, "asset");
	const char *content_hex = str_of(rec, "content");
	const char *amount_dec = str_of(rec, "amount");
	const char *hash_hex = str_of(rec, "tx_hash"), *raw_hex = str_of(rec, "raw");
	const char *from = str_of(rec, "from");
	const json_t *day = json_object_get(rec, "day");
	const json_t *chain = json_object_get(rec, "chain_id");
	const json_t *nonce = json_object_get(rec, "nonce");
	uint8_t content[32], tx_hash[32], *raw = NULL;
	struct sd_nonce_ref ref;
	size_t raw_len;
	u256 amount;
	int r = ERR_MALFORMED, taken = 0;

	memset(&ref, 0, sizeof(ref));
	if (id == NULL || asset == NULL || content_hex == NULL ||
	    amount_dec == NULL || hash_hex == NULL || raw_hex == NULL ||
	    from == NULL || !json_is_integer(day) || !json_is_integer(chain) ||
	    !json_is_integer(nonce) || json_integer_value(chain) < 0 ||
	    json_integer_value(nonce) < 0 ||
	    util_hex_decode(content, 32, content_hex) != 0 ||
	    util_hex_decode(tx_hash, 32, hash_hex) != 0 ||
	    u256_from_dec(&amount, amount_dec) != 0 ||
	    evm_addr_from_str(ref.from, from, 1) != 0)
		goto out;
	ref.chain_id = (uint64_t)json_integer_value(chain);
	ref.nonce = (uint64_t)json_integer_value(nonce);
	if ((raw = malloc(SD_RAW_TX_MAX)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	if (util_hex_decode_var(raw, SD_RAW_TX_MAX, &raw_len, raw_hex) != 0)
		goto out;
	/* invariant 2: a fee bump replaces the transaction, counted once. */
	if (json_is_true(json_object_get(rec, "fee_bump")))
		r = sd_state_replay_bump(sd->state, id, content, tx_hash, raw,
		    raw_len);
	else
		r = sd_state_replay_signed(sd->state, id, content, asset,
		    json_integer_value(day), &amount, tx_hash, raw, raw_len,
		    &ref, &taken);
	/* One line for the first, a count at the end (sd_setup_journal). */
	if (r == 0 && taken && sd->replay_nonce_conflicts++ == 0)
		log_warn("journal record %llu: request %s signed nonce %llu, "
		    "which an earlier request holds (a journal from before "
		    "nonce discipline); the earlier one keeps it",
		    (unsigned long long)seq, id,
		    (unsigned long long)ref.nonce);
	if (r == 0)
		r = replay_approvals(sd, rec, "sign", id);
 out:
	if (r != 0)
		log_error("journal record %llu: signed record does not "
		    "replay: %s", (unsigned long long)seq, err_str(r));
	free(raw);
	return r;
}

static int
replay_queued(struct sd_ctx *sd, uint64_t seq, const json_t *rec)
{
	const char *id = str_of(rec, "request_id"), *hex = str_of(rec, "intent");
	const json_t *at = json_object_get(rec, "queued_at");
	const json_t *earliest = json_object_get(rec, "earliest");
	struct sd_queue *q = sd_state_queue(sd->state);
	uint8_t intent[32];
	int r = ERR_MALFORMED;

	if (id != NULL && hex != NULL && json_is_integer(at) &&
	    json_is_integer(earliest) && util_hex_decode(intent, 32, hex) == 0 &&
	    (r = sd_queue_begin(q, id, intent, json_integer_value(at),
	    json_integer_value(earliest))) == 0 &&
	    (r = sd_queue_commit(q, id)) == 0)
		r = replay_approvals(sd, rec, "queue", id);
	if (r != 0)
		log_error("journal record %llu: queued record does not "
		    "replay: %s", (unsigned long long)seq, err_str(r));
	return r;
}

static int
replay_cancelled(struct sd_ctx *sd, uint64_t seq, const json_t *rec)
{
	const char *id = str_of(rec, "request_id");
	int r = ERR_MALFORMED;

	if (id != NULL &&
	    (r = sd_queue_cancel(sd_state_queue(sd->state), id)) == 0)
		r = replay_approvals(sd, rec, "cancel", id);
	if (r != 0)
		log_error("journal record %llu: cancelled record does not "
		    "replay (not queued?): %s", (unsigned long long)seq,
		    err_str(r));
	return r;
}

static int
replay_pause(struct sd_ctx *sd, uint64_t seq, const json_t *rec, int pause)
{
	const char *id = str_of(rec, "pause_id"), *by = NULL;
	const json_t *aps = json_object_get(rec, "approvals");
	struct sd_pause *p = sd_state_pause(sd->state);
	int r = ERR_MALFORMED;

	if (json_is_array(aps) && json_array_size(aps) > 0)
		by = str_of(json_array_get(aps, 0), "approver");
	if (id != NULL && by != NULL)
		r = pause ? sd_pause_set(p, id, by) : sd_pause_clear(p, id);
	if (r == 0)
		r = replay_approvals(sd, rec, pause ? "pause" : "unpause", id);
	if (r != 0)
		log_error("journal record %llu: %s record does not replay: %s",
		    (unsigned long long)seq, pause ? "paused" : "unpaused",
		    err_str(r));
	return r;
}

int
sd_replay_record(void *ctx, uint64_t seq, const json_t *rec)
{
	struct sd_ctx *sd = ctx;
	const char *type = str_of(rec, "type");
	const json_t *t = json_object_get(rec, "unix");
	int r;

	if (type == NULL)
		return ERR_MALFORMED;
	/* Checkpoints are signed by the journal itself, with no policy. */
	if (strcmp(type, "checkpoint") == 0)
		return 0;
	if ((r = check_policy(sd, seq, str_of(rec, "policy"))) != 0)
		return r;
	/* invariant 4: the clock may not seem to go back past this. */
	if (json_is_integer(t))
		sd_state_note_time(sd->state, json_integer_value(t));
	if (strcmp(type, "signed") == 0)
		return replay_signed(sd, seq, rec);
	if (strcmp(type, "queued") == 0)
		return replay_queued(sd, seq, rec);
	if (strcmp(type, "cancelled") == 0)
		return replay_cancelled(sd, seq, rec);
	if (strcmp(type, "paused") == 0)
		return replay_pause(sd, seq, rec, 1);
	if (strcmp(type, "unpaused") == 0)
		return replay_pause(sd, seq, rec, 0);
	return 0;
}

int
sd_replay_snapshot(void *ctx, uint64_t seq, const void *blob, size_t len)
{
	struct sd_ctx *sd = ctx;
	char hex[65];
	int r;

	if (len < 32)
		return ERR_MALFORMED;
	util_hex_encode(hex, blob, 32);
	if ((r = check_policy(sd, seq, hex)) != 0)
		return r;
	if ((r = sd_state_deserialize(sd->state, (const uint8_t *)blob + 32,
	    len - 32)) != 0)
		log_error("snapshot at record %llu does not load: %s%s",
		    (unsigned long long)seq, err_str(r), r == ERR_BAD_VERSION ?
		    " (written by another signerd version: remove the snap-* "
		    "files to replay the whole journal)" : "");
	return r;
}
