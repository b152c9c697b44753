/* ready.c: the readiness poller behind GET /readyz (PostgreSQL, signerd) that also follows signerd's policy. */
#include "orchestratord/ready.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "orchestratord/config.h"
#include "orchestratord/db.h"
#include "orchestratord/signer.h"

struct ready {
	const struct orch_config *cfg;
	struct signer *signer;		/* NULL: no policy to follow */
	pthread_t th;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* ready_stop wakes the poller */
	int stop;			/* under mu */
	struct ready_view view;		/* under mu */
	int64_t polled_at;		/* monotonic ms, under mu */
	/* The poller's own, so that neither waits behind a request. */
	struct db *db;
	struct prt_client *client;	/* signer_probe_status's */
	struct prt_status_rep st;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
poll_once(struct ready *r, struct ready_view *v)
{
	struct signer_answer ans;
	int timeout = r->cfg->signer_timeout_ms < READY_SIGNER_TIMEOUT_MS ?
	    r->cfg->signer_timeout_ms : READY_SIGNER_TIMEOUT_MS;
	int rc;

	memset(v, 0, sizeof(*v));
	/* A database that is down now is not an error: it connects later. */
	if (r->db == NULL && db_open(&r->db, r->cfg->conninfo, NULL, 0) ==
	    ERR_NOMEM)
		r->db = NULL;
	v->db_ok = r->db != NULL && db_ping(r->db) == 0;
	/* No client yet: dialled here, and a signerd not listening fails. */
	rc = r->client == NULL;
	if (signer_probe_status(&r->client, r->cfg->signer_url, timeout,
	    &r->st, &ans) != SIGNER_DONE) {
		/* Truncated to the view's room: a long error's tail goes. */
		if (snprintf(v->message, sizeof(v->message), "%s%s",
		    ans.reason >= 0 ? "" : rc && r->client == NULL ?
		    "signerd unreachable: " : "signerd did not answer STATUS: ",
		    ans.message) >= (int)sizeof(v->message))
			log_debug("readiness: signerd's words truncated");
		return;
	}
	v->signer_ok = 1;
	/*
	 * A new policy version (or, after a restart, new keys): load it
	 * here, on this thread's client, rather than in a thread of its
	 * own.  Failures are logged there and retried at the next poll.
	 */
	if (r->signer != NULL && (rc = signer_follow(r->signer, r->client,
	    &r->st)) != 0)
		log_debug("policy not followed yet: %s", err_str(rc));
	v->can_sign = r->st.can_sign == 1;
	v->blocked = v->can_sign ? 0 : r->st.blocked;
	v->paused = r->st.paused == 1;
	/* STATUS's words: at most PRT_MESSAGE_MAX, they fit. */
	if (!v->can_sign && snprintf(v->message, sizeof(v->message), "%s",
	    ans.message) >= (int)sizeof(v->message))
		log_debug("readiness: signerd's words truncated");
}

static void *
poller(void *arg)
{
	struct ready *r = arg;
	struct ready_view v;
	struct timespec until;
	int64_t end;

	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		pthread_mutex_unlock(&r->mu);
		poll_once(r, &v);
		pthread_mutex_lock(&r->mu);
		v.polled = 1;
		r->view = v;
		r->polled_at = mono_ms();
		end = r->polled_at + READY_INTERVAL_MS;
		until.tv_sec = (time_t)(end / 1000);
		until.tv_nsec = (long)(end % 1000) * 1000000L;
		while (!r->stop && mono_ms() < end)
			(void)pthread_cond_timedwait(&r->cv, &r->mu, &until);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int
ready_start(struct ready **out, const struct orch_config *cfg,
    struct signer *signer)
{
	pthread_condattr_t ca;
	struct ready *r;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ERR_NOMEM;
	r->cfg = cfg;
	r->signer = signer;
	pthread_mutex_init(&r->mu, NULL);
	/* The wait measures monotonic time: a clock step must not stall it. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&r->th, NULL, poller, r) != 0) {
		ready_stop(r);
		return ERR_INTERNAL;
	}
	r->started = 1;
	*out = r;
	return 0;
}

void
ready_get(struct ready *r, struct ready_view *out)
{
	pthread_mutex_lock(&r->mu);
	*out = r->view;
	out->age_ms = r->view.polled ? mono_ms() - r->polled_at : 0;
	pthread_mutex_unlock(&r->mu);
}

void
ready_stop(struct ready *r)
{
	struct timespec deadline;

	if (r == NULL)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (r->started) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += READY_STALE_MS / 1000;
		/* A poll stuck in libpq or NNG: leave it, as workers_stop does. */
		if (pthread_timedjoin_np(r->th, NULL, &deadline) != 0) {
			log_error("readiness poller did not stop; left running");
			return;
		}
	}
	signer_probe_close(r->client);
	db_close(r->db);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}
