/* fees.h: the node's fee data, fetched once per interval and shared by the workers. */
#ifndef ORCH_FEES_H
#define ORCH_FEES_H

#include <stdint.h>

#include "common/util.h"
#include "evm/u256.h"
#include "orchestratord/rpc.h"

/*
 * The latest block's base fee and the node's priority fee suggestion
 * (rpc_fees) change at most once a block, yet every transaction a worker
 * builds needs them: one copy, fetched by whichever worker first finds it
 * older than max_age_ms, serves every worker until then.  The node is
 * not trusted more for it: txb_fees caps what a transaction offers by the
 * asset's policy either way.
 */
struct fees;

int fees_new(struct fees **out, int max_age_ms) WARN_UNUSED;
void fees_free(struct fees *f);

/*
 * The fee data, fetched with c (the caller's own client) when older than
 * max_age_ms; other callers wait for that one fetch (one node round trip)
 * rather than make their own.  Returns 0, or rpc_fees's error (nothing
 * cached then: the next call asks again).
 */
int fees_get(struct fees *f, struct rpc_client *c, u256 *base_fee,
    u256 *priority_fee) WARN_UNUSED;

#endif
