/*
 * audit.c: `signerctl audit verify` runs signerd's own verifier (replay.c)
 * over a whole journal, offline, with no HSM: the policy comes from the
 * journal's genesis record and the keys' addresses from the records, so
 * an auditor and a starting signerd reach the same verdict (invariant 8).
 */
#include "signerd/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "signerd/policy_change.h"
#include "signerd/setup.h"

/*
 * The state as a snapshot of the head would hold it (sd_maybe_snapshot's
 * payload, without its signature): policy hash, newest time, state.
 */
static int
write_state(struct sd_ctx *sd, const char *path)
{
	struct prt_writer w;
	int64_t now = sd_state_newest_time(sd->state);
	FILE *f;
	int r;

	prt_writer_init(&w, JNL_SNAPSHOT_MAX);
	sd_seen_prune(sd_state_seen(sd->state), now);
	sd_queue_prune(sd_state_queue(sd->state), now);
	prt_put_bytes(&w, pol_hash(sd_version_now(sd)->policy), 32);
	prt_put_u64(&w, (uint64_t)now);
	if ((r = sd_state_serialize(sd->state, &w)) == 0) {
		r = ERR_IO;
		if ((f = fopen(path, "wb")) != NULL) {
			if (fwrite(w.p, 1, w.len, f) == w.len)
				r = 0;
			if (fclose(f) != 0)
				r = ERR_IO;
		}
	}
	prt_writer_free(&w);
	return r;
}

/* Invariant 8: a snapshot not signed by the audit key is someone's
 * forgery (signerd writes only signed ones, atomically). */
static int
snapshot_signed(void *ctx, uint64_t seq, const uint8_t hash[32],
    const void *blob, size_t len)
{
	return sd_snapshot_verify(ctx, seq, hash, blob, &len) == 0 ? 0 :
	    ERR_BAD_SIGNATURE;
}

int
sd_audit_verify(const char *dir, EVP_PKEY *audit_pub, const char *state_out,
    struct jnl_verify_result *res)
{
	struct sd_ctx *sd;
	int r;

	if ((sd = calloc(1, sizeof(*sd))) == NULL)
		return ERR_NOMEM;
	sd->auditing = 1;
	sd->audit_pub = audit_pub;
	r = jnl_verify_replay(dir, audit_pub, sd_replay_record, sd, res);
	if (r == 0 && res->ok &&
	    (r = jnl_snapshots_each(dir, snapshot_signed, sd, &res->err)) !=
	    0) {
		res->ok = 0;
		if (r == ERR_BAD_SIGNATURE)
			snprintf(res->err.reason, sizeof(res->err.reason),
			    "the snapshot is not signed by the audit key: "
			    "someone else wrote it (signerd ignores it)");
	}
	if (r == 0 && res->ok && state_out != NULL && sd_version_now(sd) != NULL)
		r = write_state(sd, state_out);
	sd_state_free(sd->state);
	free(sd);
	return r;
}
