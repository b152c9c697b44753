/*
 * commit.c: the one way a decision becomes durable and then takes effect
 * (invariant 1): stamp it with signerd's one clock and make the last
 * checks under the order lock, queue the record, wait until it is
 * durable, then apply it to the state, or undo what the stamp took.
 */
#include "signerd/signerd.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
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

enum pol_reason
sd_commit(struct sd_ctx *sd, const struct sd_commit *c, uint64_t *seq,
    uint8_t hash[32], char *detail, size_t cap)
{
	struct jnl_pending *p = NULL;
	enum pol_reason why = POL_OK;
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
	/*
	 * The version in force at this point of the file (D51), set before
	 * the stamp: an activation's stamp changes it, and its own record
	 * names the version it replaces.
	 */
	if (json_object_set_new(c->body, "policy",
	    json_string(sd_version_now(sd)->hex)) != 0) {
		pthread_mutex_unlock(&sd->order_mu);
		pthread_rwlock_unlock(&sd->commit_lock);
		snprintf(detail, cap, "out of memory");
		return POL_INTERNAL;
	}
	if (c->v != NULL && c->v != sd_version_now(sd)) {
		pthread_mutex_unlock(&sd->order_mu);
		pthread_rwlock_unlock(&sd->commit_lock);
		snprintf(detail, cap, "the policy version changed while this "
		    "request was decided; send it again");
		return POL_RETRY;
	}
	if (c->stamp != NULL) {
		sd_state_lock(sd->state);
		why = c->stamp(sd, c->arg, c->body, t, detail, cap);
		sd_state_unlock(sd->state);
		if (why != POL_OK) {
			pthread_mutex_unlock(&sd->order_mu);
			pthread_rwlock_unlock(&sd->commit_lock);
			return why;
		}
	}
	if ((r = sd_json_set_time(c->body, t) == 0 ? 0 : ERR_NOMEM) == 0 &&
	    (r = jnl_append_begin(sd->journal, &p, c->body)) == 0)
		sd_state_note_time(sd->state, t);
	pthread_mutex_unlock(&sd->order_mu);
	if (r == 0)
		r = jnl_append_end(sd->journal, p, &s, h);

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
	if (r == 0)
		atomic_fetch_add(&sd->appended_since_snapshot, 1);
	pthread_rwlock_unlock(&sd->commit_lock);
	if (r != 0) {
		if (r == ERR_IO)
			atomic_store(&sd->journal_failed, 1);
		snprintf(detail, cap, "the decision could not be made durable: "
		    "%s", err_str(r));
		log_error("journal append of a %s record failed: %s",
		    json_string_value(json_object_get(c->body, "type")),
		    err_str(r));
		return POL_JOURNAL_ERROR;
	}
	if (seq != NULL)
		*seq = s;
	if (hash != NULL)
		memcpy(hash, h, 32);
	return why;
}
