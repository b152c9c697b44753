/* tracker.h: follows submitted payouts on chain: receipts, reorgs, rebroadcasts, fee bumps. */
#ifndef ORCH_TRACKER_H
#define ORCH_TRACKER_H

#include "common/util.h"

struct app;
struct tracker;

/*
 * Starts the replica's one tracker thread, with its own PostgreSQL
 * connection and JSON-RPC client.  Every cfg->evm_poll_ms it leases all
 * the SUBMITTED payouts nobody holds (up to 1024), and goes through them
 * by sender and nonce, looking for a receipt of any signed version:
 *   - a receipt in a canonical block: records block and confirmations;
 *     enough of them (the asset's count, or the node's finalized block
 *     for "finalized" assets) make it CONFIRMED, or FAILED "REVERTED" when
 *     the transaction reverted (final too: a reorg could still undo a
 *     revert);
 *   - none: a payout that was mined before is reorged (PayoutReorged) and
 *     broadcast again at once; otherwise, while its nonce is still open
 *     on chain, it is rebroadcast when its last broadcast is older than
 *     two poll intervals plus the RPC timeout (so that a worker's first
 *     broadcast is not doubled for nothing).  The sender's next nonce is
 *     sent again sooner, once two blocks went by without it since this
 *     replica saw or sent it, and then every following nonce it holds,
 *     in order, so that a node that set them aside (some never look at
 *     them again by themselves) takes them back; a nonce-0 transaction
 *     the node has is never sent again (a node that reads nonce 0 as
 *     "no nonce" would mine a second copy).  The sender's next nonce is
 *     also fee-bumped through signerd (same request id, D22) every
 *     cfg->bump_after_seconds, up to cfg->max_bumps times, within the
 *     fee caps.
 * The chain's nonce is read once per sender and round.  Returns 0 and
 * *out, or ERR_NOMEM / ERR_INVALID_ARG.
 */
int tracker_start(struct tracker **out, struct app *app) WARN_UNUSED;

/*
 * Stops it: the row in hand is finished, the rest of the round's leases
 * are given up; waits at most cfg->shutdown_seconds (then the thread is
 * left running, logged, not freed).  NULL is a no-op.
 */
void tracker_stop(struct tracker *k);

#endif
