/*
 * snapshot.c: state snapshots that signerd believes only when its audit key
 * signed them (invariant 8).  The blob is the policy hash, the time of the
 * last record it reflects, the state, then the audit key's DER signature
 * over "signer-snapshot v1 <seq> <record hash> <sha256 of all before the
 * signature>" and the signature's u16 length.  A snapshot is tied to its
 * place in the chain by the journal (seq and record hash), so an older
 * signed snapshot restores an older, true state and replay goes on from
 * there.
 */
#include "signerd/signerd.h"
#include "signerd/policy_change.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/log.h"
#include "signerd/setup.h"
#include "signerd/sha256.h"

#define SNAP_MSG_FMT "signer-snapshot v1 %llu %s %s"

static int
snapshot_msg(char *msg, size_t cap, uint64_t seq, const uint8_t hash[32],
    const uint8_t *payload, size_t len)
{
	uint8_t digest[32];
	char h[65], d[65];
	unsigned int n = 0;

	if (EVP_Digest(payload, len, digest, &n, sd_sha256(), NULL) != 1 ||
	    n != 32)
		return ERR_INTERNAL;
	util_hex_encode(h, hash, 32);
	util_hex_encode(d, digest, 32);
	snprintf(msg, cap, SNAP_MSG_FMT, (unsigned long long)seq, h, d);
	return 0;
}

int
sd_snapshot_verify(struct sd_ctx *sd, uint64_t seq, const uint8_t hash[32],
    const void *blob, size_t *len)
{
	const uint8_t *b = blob;
	char msg[200];
	size_t siglen;

	if (*len < 2)
		return ERR_BAD_SIGNATURE;
	siglen = ((size_t)b[*len - 2] << 8) | b[*len - 1];
	if (siglen == 0 || siglen > JNL_DER_SIG_MAX || siglen + 2 > *len ||
	    snapshot_msg(msg, sizeof(msg), seq, hash, b, *len - 2 - siglen) !=
	    0 || jnl_verify_text(sd->audit_pub, b + *len - 2 - siglen, siglen,
	    msg) != 0)
		return ERR_BAD_SIGNATURE;
	*len -= 2 + siglen;
	return 0;
}

/* The payload but its requests, which are copied: state lock held. */
static int
payload_head(struct sd_ctx *sd, struct prt_writer *w,
    struct sd_state_copy **copy)
{
	int64_t now = sd_state_newest_time(sd->state);

	/* Expired approvals are refused as such: their signatures can go;
	 * expired queue entries are gone whatever memory holds; requests
	 * older than the window can no longer be asked for (D55). */
	sd_seen_prune(sd_state_seen(sd->state), now);
	sd_queue_prune(sd_state_queue(sd->state), now);
	prt_put_bytes(w, pol_hash(sd_version_now(sd)->policy), 32);
	prt_put_u64(w, (uint64_t)now);
	prt_put_u32(w, sd_replay_window(sd));
	return sd_state_serialize_head(sd->state, w,
	    pol_utc_day(now) - (int64_t)sd_replay_window(sd), copy);
}

int
sd_snapshot_payload(struct sd_ctx *sd, struct prt_writer *w)
{
	struct sd_state_copy *copy;
	uint32_t min_seg;
	int r;

	if ((r = payload_head(sd, w, &copy)) != 0)
		return r;
	return sd_state_serialize_tail(copy, w, &min_seg);
}

void
sd_prune_tick(struct sd_ctx *sd)
{
	int64_t oldest = sd_oldest_day(sd, pol_utc_day(sd_now(sd)));

	/* Once a day is enough: the window moves by days.  The walk over
	 * the table holds the state lock for a few ms per million. */
	if (oldest <= sd->pruned_before)
		return;
	sd_state_lock(sd->state);
	sd_state_prune(sd->state, oldest);
	sd_state_unlock(sd->state);
	sd->pruned_before = oldest;
	log_info("requests created before day %lld forgotten: %zu remain",
	    (long long)oldest, sd_state_count(sd->state));
}

int64_t
sd_oldest_day(const struct sd_ctx *sd, int64_t day)
{
	uint32_t window = sd->retention_days != 0 ? sd->retention_days :
	    SD_RETENTION_DAYS_DEFAULT;

	return day - (int64_t)window;
}

/*
 * The oldest record signerd may read back once restored from a snapshot
 * at seq: the first of segment min_seg, which holds the oldest record a
 * request inside the window is remembered by (none: nothing before seq+1).
 * The archive never moves it (journal-format.md).  When that first line
 * cannot be read, 1: nothing is archived on this snapshot's word.
 */
static uint64_t
keep_from_seq(struct sd_ctx *sd, uint32_t min_seg, uint64_t seq)
{
	uint64_t from = 0;

	if (min_seg == 0)
		return seq + 1;
	if (jnl_seg_first_seq(&from, NULL, sd->read_dirfd[0], min_seg) != 0 ||
	    from == 0)
		return 1;
	return from;
}

void
sd_maybe_snapshot(struct sd_ctx *sd, int force)
{
	struct sd_state_copy *copy = NULL;
	struct prt_writer w;
	uint8_t hash[32], der[JNL_DER_SIG_MAX];
	char msg[200];
	uint32_t min_seg;
	uint64_t seq, keep_from = 0;
	size_t derlen;
	int r;

	if (!force && (sd->snapshot_interval == 0 ||
	    atomic_load(&sd->appended_since_snapshot) < sd->snapshot_interval))
		return;
	prt_writer_init(&w, JNL_SNAPSHOT_MAX);
	/* No record is between durable and applied while this is held. */
	pthread_rwlock_wrlock(&sd->commit_lock);
	jnl_head(sd->journal, &seq, hash);
	sd_state_lock(sd->state);
	r = payload_head(sd, &w, &copy);
	sd_state_unlock(sd->state);
	if (r == 0)
		atomic_store(&sd->appended_since_snapshot, 0);
	pthread_rwlock_unlock(&sd->commit_lock);
	/* Signing goes on meanwhile: the requests are a copy. */
	if (r == 0)
		r = sd_state_serialize_tail(copy, &w, &min_seg);
	if (r == 0 && seq == 0)
		r = ERR_NOT_FOUND;
	if (r == 0)
		keep_from = keep_from_seq(sd, min_seg, seq);
	if (r == 0 && (r = snapshot_msg(msg, sizeof(msg), seq, hash, w.p,
	    w.len)) == 0 &&
	    (r = jnl_sign_text(der, &derlen, msg, sd_audit_sign, sd)) == 0) {
		prt_put_bytes(&w, der, derlen);
		prt_put_u16(&w, (uint16_t)derlen);
		if ((r = prt_writer_error(&w)) == 0)
			r = jnl_snapshot_write_at(sd->journal, seq, hash,
			    keep_from, w.p, w.len);
	}
	if (r != 0)
		log_error("snapshot not written: %s; the next start-up "
		    "replays the journal from the previous snapshot", err_str(r));
	else
		log_info("snapshot written at record %llu: %zu bytes, %zu "
		    "requests", (unsigned long long)seq, w.len,
		    sd_state_count(sd->state));
	prt_writer_free(&w);
}
