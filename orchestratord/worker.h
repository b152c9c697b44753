/* worker.h: the signing workers: claim a payout, queue or sign it in signerd, submit it. */
#ifndef ORCH_WORKER_H
#define ORCH_WORKER_H

#include "common/util.h"

struct app;
struct workers;

/*
 * Starts cfg->workers threads (none for 0), each with its own PostgreSQL
 * connection and JSON-RPC client, sharing app->signer->client.  Before
 * the first claim they seed the nonce counter of every sender of the
 * policy on the node's chain from the node's pending count, retrying with
 * backoff until PostgreSQL and the node answer (and again, once, for each
 * policy version published later: a rotated key's address, D54).  Then
 * each loops: take the policy version in force, claim one payout (lease
 * cfg->lease_ms), move it to its asset's current key if it is not signed
 * yet and the key changed, queue it in signerd (timelocked) or build,
 * sign, record SUBMITTED and broadcast it once; the tracker does the
 * rest.  app must outlive the workers.  Returns 0 and *out, or
 * ERR_NOMEM / ERR_INVALID_ARG (nothing started then).
 */
int workers_start(struct workers **out, struct app *app) WARN_UNUSED;

/*
 * Stops the workers: each finishes the payout it holds, or gives it back
 * (store_release) before asking signerd, and exits; waits at most
 * cfg->shutdown_seconds for all of them (after that the stragglers are
 * left running, logged, and their memory is not freed).  Call after
 * app->stopping is set; NULL is a no-op.
 */
void workers_stop(struct workers *w);

#endif
