/*
 * audit.c: `signerctl audit verify` runs signerd's own verifier (replay.c)
 * over a whole journal, offline, with no HSM: the policy comes from the
 * journal's genesis record and the keys' addresses from the records, so
 * an auditor and a starting signerd reach the same verdict (invariant 8).
 */
#include "signerd/audit.h"
#include "signerd/readback.h"

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
	FILE *f;
	int r;

	prt_writer_init(&w, JNL_SNAPSHOT_MAX);
	if ((r = sd_snapshot_payload(sd, &w)) == 0) {
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

/* The replay hook: signerd's checks, then the caller's look. */
struct audit_run {
	struct sd_ctx *sd;	/* NULL: chain only */
	const struct sd_audit_opts *o;
};

static int
audit_replay(void *ctx, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos, const json_t *rec, void *prepared, char *why,
    size_t cap)
{
	const struct audit_run *a = ctx;
	int r;

	if (a->sd != NULL && (r = sd_replay_record_prepared(a->sd, seq, hash,
	    pos, rec, prepared, why, cap)) != 0)
		return r;
	if (a->o->each != NULL)
		a->o->each(a->o->each_ctx, seq, hash);
	return 0;
}

static int
audit_prepare(void *ctx, uint64_t seq, const json_t *rec, void **prepared)
{
	const struct audit_run *a = ctx;

	*prepared = NULL;
	return a->sd != NULL ? sd_replay_prepare(a->sd, seq, rec, prepared) :
	    0;
}

static void
audit_release(void *ctx, void *prepared)
{
	const struct audit_run *a = ctx;

	sd_replay_release(a->sd, prepared);
}

int
sd_audit_run(const struct sd_audit_opts *o, struct jnl_verify_result *res)
{
	const char *dirs[2];
	struct jnl_verify_hooks h;
	struct audit_run a;
	struct sd_ctx *sd = NULL;
	size_t ndirs = 0;
	int r;

	if (o->archive != NULL)
		dirs[ndirs++] = o->archive;
	dirs[ndirs++] = o->journal;
	if (!o->chain_only) {
		if ((sd = calloc(1, sizeof(*sd))) == NULL)
			return ERR_NOMEM;
		sd->auditing = 1;
		sd->audit_pub = o->audit_pub;
		/* A fee bump is judged against the record it replaces, read
		 * back from wherever its segment is (D55). */
		if ((r = sd_read_dirs_open(sd, o->journal, o->archive)) != 0) {
			free(sd);
			return r;
		}
	}
	a.sd = sd;
	a.o = o;
	memset(&h, 0, sizeof(h));
	h.ctx = &a;
	if (sd != NULL || o->each != NULL)
		h.replay = audit_replay;
	if (sd != NULL) {
		/* One thread is the reference: every check where start-up
		 * runs it; more run the stateless part ahead on workers. */
		if (o->threads != 1) {
			h.prepare = audit_prepare;
			h.release = audit_release;
		}
		/* An auditor names the failure signerd's start-up names. */
		h.chain_first = 1;
	}
	r = jnl_verify_replay2(dirs, ndirs, o->audit_pub, &h, o->threads, res);
	if (sd == NULL)
		return r;
	if (r == 0 && res->ok &&
	    (r = jnl_snapshots_each(o->journal, snapshot_signed, sd,
	    &res->err)) != 0) {
		res->ok = 0;
		if (r == ERR_BAD_SIGNATURE)
			snprintf(res->err.reason, sizeof(res->err.reason),
			    "the snapshot is not signed by the audit key: "
			    "someone else wrote it (signerd ignores it)");
	}
	if (r == 0 && res->ok && o->state_out != NULL &&
	    sd_version_now(sd) != NULL)
		r = write_state(sd, o->state_out);
	sd_read_dirs_close(sd);
	sd_state_free(sd->state);
	free(sd);
	return r;
}

int
sd_audit_verify(const char *dir, EVP_PKEY *audit_pub, const char *state_out,
    struct jnl_verify_result *res)
{
	struct sd_audit_opts o;

	memset(&o, 0, sizeof(o));
	o.journal = dir;
	o.audit_pub = audit_pub;
	o.state_out = state_out;
	return sd_audit_run(&o, res);
}

int
sd_audit_archive(const char *journal, const char *archive, EVP_PKEY *audit_pub,
    struct jnl_archive_result *res, struct jnl_error *err)
{
	struct sd_ctx *sd;
	int r;

	/* The archive believes a snapshot as signerd does (snapshot_signed). */
	if ((sd = calloc(1, sizeof(*sd))) == NULL)
		return ERR_NOMEM;
	sd->audit_pub = audit_pub;
	r = jnl_archive(journal, archive, audit_pub, snapshot_signed, sd, res,
	    err);
	free(sd);
	return r;
}
