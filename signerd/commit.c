/*
 * commit.c: the one way a decision becomes durable and then takes effect
 * (invariant 1): stamp it with signerd's one clock and make the last
 * checks under the order lock, queue the record, wait until it is
 * durable, then apply it to the state, or undo what the stamp took.
 */
#include "signerd/signerd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "signerd/policy_change.h"

int64_t
sd_now(struct sd_ctx *sd)
{
	struct timespec ts;
	int64_t newest;

	/* The journal's newest time first, then the clock: a record written
	 * a moment ago can then never make the clock look behind. */
	newest = sd_state_newest_time(sd->state);
	clock_gettime(CLOCK_REALTIME, &ts);
	/* Invariant 10: one monotone time; a clock set back changes nothing
	 * (the day, expiries and delays stand still until it catches up). */
	return (int64_t)ts.tv_sec > newest ? (int64_t)ts.tv_sec : newest;
}

/*
 * Under order_mu: the last checks and fields of c's record at time t.
 * The version in force at this point of the file (D51) is set before the
 * stamp: an activation's stamp changes it, and its own record names the
 * version it replaces.  POL_OK, or the refusal with detail.
 */
static enum pol_reason
stamp_locked(struct sd_ctx *sd, const struct sd_commit *c, int64_t t,
    char *detail, size_t cap)
{
	enum pol_reason why;

	if (json_object_set_new(c->body, "policy",
	    json_string(sd_version_now(sd)->hex)) != 0) {
		snprintf(detail, cap, "out of memory");
		return POL_INTERNAL;
	}
	if (c->v != NULL && c->v != sd_version_now(sd)) {
		snprintf(detail, cap, "the policy version changed while this "
		    "request was decided; send it again");
		return POL_RETRY;
	}
	if (c->stamp != NULL) {
		sd_state_lock(sd->state);
		why = c->stamp(sd, c->arg, c->body, t, detail, cap);
		sd_state_unlock(sd->state);
		if (why != POL_OK)
			return why;
	}
	if (sd_json_set_time(c->body, t) != 0) {
		snprintf(detail, cap, "out of memory");
		return POL_INTERNAL;
	}
	return POL_OK;
}

/*
 * Once the journal said (r): apply when durable, undo when not.  Runs
 * with commit_lock's read side held, so a snapshot never sees the record
 * durable but not applied.
 */
static enum pol_reason
settle(struct sd_ctx *sd, const struct sd_commit *c, int r, uint64_t s,
    const uint8_t h[32], char *detail, size_t cap)
{
	enum pol_reason why = POL_OK;

	sd_state_lock(sd->state);
	if (r != 0) {
		if (c->undo != NULL)
			c->undo(sd, c->arg);
	} else if (c->apply != NULL && c->apply(sd, c->arg, s, h) != 0) {
		/* Durable but not remembered: only memory exhaustion gets
		 * here; a restart replays it. */
		why = POL_INTERNAL;
		snprintf(detail, cap, "state update failed after the record "
		    "was made durable");
	}
	sd_state_unlock(sd->state);
	if (r == 0) {
		atomic_fetch_add(&sd->appended_since_snapshot, 1);
		return why;
	}
	if (r == ERR_IO)
		atomic_store(&sd->journal_failed, 1);
	snprintf(detail, cap, "the decision could not be made durable: %s",
	    err_str(r));
	log_error("journal append of a %s record failed: %s",
	    c->body != NULL ? json_string_value(json_object_get(c->body,
	    "type")) : "queued", err_str(r));
	return POL_JOURNAL_ERROR;
}

enum pol_reason
sd_commit(struct sd_ctx *sd, const struct sd_commit *c, uint64_t *seq,
    uint8_t hash[32], char *detail, size_t cap)
{
	struct jnl_pending *p = NULL;
	enum pol_reason why;
	uint64_t s = 0;
	uint8_t h[32];
	int64_t t;
	int r;

	memset(h, 0, sizeof(h));
	pthread_rwlock_rdlock(&sd->commit_lock);
	/*
	 * Stamp and queue under one lock, so that the records' times never
	 * go back in the file and the last checks (the pause, the day, an
	 * approval's expiry) see every record queued before this one.
	 */
	pthread_mutex_lock(&sd->order_mu);
	t = sd_now(sd);
	if ((why = stamp_locked(sd, c, t, detail, cap)) != POL_OK) {
		pthread_mutex_unlock(&sd->order_mu);
		pthread_rwlock_unlock(&sd->commit_lock);
		return why;
	}
	if ((r = jnl_append_begin(sd->journal, &p, c->body)) == 0)
		sd_state_note_time(sd->state, t);
	pthread_mutex_unlock(&sd->order_mu);
	if (r == 0)
		r = jnl_append_end_pos(sd->journal, p, &s, h, c->pos);
	why = settle(sd, c, r, s, h, detail, cap);
	pthread_rwlock_unlock(&sd->commit_lock);
	if (why == POL_JOURNAL_ERROR)
		return why;
	if (seq != NULL)
		*seq = s;
	if (hash != NULL)
		memcpy(hash, h, 32);
	return why;
}

/* The longest the leader holds a queued record back for the others. */
#define LEADER_WAIT_MAX_NS 20000000

/* An async record was queued: the leader may be waiting for it. */
static void
note_queued(struct sd_ctx *sd)
{
	pthread_mutex_lock(&sd->batch_mu);
	/* One wake per batch, not one per record. */
	if (++sd->batch_queued == sd->batch_target)
		pthread_cond_signal(&sd->batch_cv);
	pthread_mutex_unlock(&sd->batch_mu);
}

/*
 * Waits until target records are queued, for at most wait_ns, and starts
 * the count of the next batch.  Leading as soon as one record is queued
 * wrote it alone while the others, a moment behind it (their clients
 * were just answered), waited a whole flush: with 8 clients and a 10 ms
 * fdatasync, batches alternated between small and large.  The clients
 * the last batch answered are the ones likely to come back, so its size
 * is the target; waiting at most one flush's time costs the first record
 * no more than the flush the latecomers would have waited anyway, and a
 * client that went away lowers the target at the next batch.  Returns
 * the number counted.
 */
static unsigned
gather(struct sd_ctx *sd, unsigned target, int64_t wait_ns)
{
	struct timespec until;
	unsigned n;
	int64_t end;

	if (wait_ns > LEADER_WAIT_MAX_NS)
		wait_ns = LEADER_WAIT_MAX_NS;
	clock_gettime(CLOCK_REALTIME, &until);
	end = (int64_t)until.tv_sec * 1000000000 + until.tv_nsec + wait_ns;
	until.tv_sec = (time_t)(end / 1000000000);
	until.tv_nsec = (long)(end % 1000000000);
	pthread_mutex_lock(&sd->batch_mu);
	sd->batch_target = target;
	while (sd->batch_queued < target && pthread_cond_timedwait(
	    &sd->batch_cv, &sd->batch_mu, &until) == 0)
		;
	n = sd->batch_queued;
	sd->batch_queued = 0;
	sd->batch_target = 0;	/* no one waits: no wake */
	pthread_mutex_unlock(&sd->batch_mu);
	return n;
}

/* An sd_commit_async() record between queued and settled. */
struct pending_commit {
	struct sd_ctx *sd;
	struct sd_commit c;	/* body NULL: it was serialised at once */
	sd_commit_done_fn done;
};

/* jnl_done_fn: the leader's thread, commit_lock's read side held. */
static void
async_settle(void *arg, int r, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos)
{
	struct pending_commit *pc = arg;
	enum pol_reason why;
	char detail[200] = "";

	if (r == 0 && pc->c.pos != NULL && pos != NULL)
		*pc->c.pos = *pos;
	why = settle(pc->sd, &pc->c, r, seq, hash, detail, sizeof(detail));
	pc->done(pc->sd, pc->c.arg, why, r == 0 ? seq : 0, hash, detail);
	free(pc);
}

enum pol_reason
sd_commit_async(struct sd_ctx *sd, const struct sd_commit *c,
    sd_commit_done_fn done, char *detail, size_t cap)
{
	struct pending_commit *pc;
	enum pol_reason why;
	int64_t t;
	int r;

	if ((pc = malloc(sizeof(*pc))) == NULL) {
		snprintf(detail, cap, "out of memory");
		return POL_INTERNAL;
	}
	pc->sd = sd;
	pc->c = *c;
	pc->c.body = NULL;
	pc->done = done;
	/* Stamp and queue as sd_commit() does; durability is the leader's. */
	pthread_mutex_lock(&sd->order_mu);
	t = sd_now(sd);
	if ((why = stamp_locked(sd, c, t, detail, cap)) == POL_OK) {
		if ((r = jnl_append_async(sd->journal, c->body, async_settle,
		    pc)) == 0)
			sd_state_note_time(sd->state, t);
	}
	pthread_mutex_unlock(&sd->order_mu);
	if (why == POL_OK && r == 0)
		note_queued(sd);
	if (why != POL_OK) {
		free(pc);
		return why;
	}
	if (r != 0) {
		/* Nothing queued: give back what was taken, as sd_commit. */
		pthread_rwlock_rdlock(&sd->commit_lock);
		why = settle(sd, c, r, 0, NULL, detail, cap);
		pthread_rwlock_unlock(&sd->commit_lock);
		free(pc);
		return why;
	}
	return POL_OK;
}

void *
sd_commit_leader_main(void *arg)
{
	struct sd_ctx *sd = arg;
	int64_t t0, flush_ns = 0;
	unsigned last = 1;

	/* Serving starts with this thread: the metrics' start and their
	 * fdatasync timer (metrics.h). */
	sd_metrics_start(sd);
	/*
	 * One batch at a time: every record queued while the last one was
	 * written and fdatasync'ed goes in the next, so a slow disk makes
	 * batches grow with the requests waiting rather than stall a worker
	 * per request.  commit_lock's read side covers durable-to-applied.
	 */
	while (jnl_lead_wait(sd->journal) == 0) {
		if ((last = gather(sd, last, flush_ns / 2)) == 0)
			last = 1;	/* only sync appenders' records */
		pthread_rwlock_rdlock(&sd->commit_lock);
		t0 = (int64_t)util_mono_ns();
		jnl_lead(sd->journal);
		flush_ns = (int64_t)util_mono_ns() - t0;
		pthread_rwlock_unlock(&sd->commit_lock);
	}
	return NULL;
}
