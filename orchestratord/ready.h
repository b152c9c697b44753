/*
 * ready.h: readiness, computed off the request path.  One thread polls
 * PostgreSQL (its own connection) and signerd's STATUS (its own client,
 * with a short timeout) every READY_INTERVAL_MS and keeps the answer;
 * GET /readyz reads that answer and never waits on either, so a slow or
 * stopped signerd cannot hold an HTTP thread through the probe.  The same
 * STATUS tells when signerd's policy version or keys changed: the poller
 * then loads the version in force (signer_follow, D54).
 */
#ifndef ORCH_READY_H
#define ORCH_READY_H

#include <stdint.h>

#include "common/util.h"
#include "proto/msg.h"

#define READY_INTERVAL_MS 1000
#define READY_SIGNER_TIMEOUT_MS 1000	/* per step of a STATUS call */
/* An answer older than this says nothing (the poller itself is stuck). */
#define READY_STALE_MS 5000

struct ready;
struct orch_config;
struct signer;

/* What the last poll found. */
struct ready_view {
	int polled;		/* 0 until the first poll ended */
	int64_t age_ms;		/* since that poll ended */
	int db_ok;
	int signer_ok;		/* signerd answered STATUS */
	int can_sign;		/* and said it can sign now */
	int32_t blocked;	/* its reason (policy/ code) when it cannot */
	int paused;
	/* signerd's words for blocked, or why it did not answer. */
	char message[PRT_MESSAGE_MAX + 1];
};

/*
 * Starts the poller for cfg (which must outlive it): the first poll runs
 * at once.  With signer (NULL: none, for tests), each STATUS that names
 * another policy hash or other keys than signer's version in force loads
 * the new version (signer_follow).  Returns 0 and *out, ERR_NOMEM, or
 * ERR_INTERNAL (no thread).
 */
int ready_start(struct ready **out, const struct orch_config *cfg,
    struct signer *signer) WARN_UNUSED;

/* The newest answer (never blocks on I/O). */
void ready_get(struct ready *r, struct ready_view *out);

/* Stops the poller (within one poll) and frees r.  NULL is a no-op. */
void ready_stop(struct ready *r);

#endif
