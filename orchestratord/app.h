/* app.h: what orchestratord's threads share: config, pools, signer, metrics. */
#ifndef ORCH_APP_H
#define ORCH_APP_H

#include <stdatomic.h>

#include "orchestratord/config.h"
#include "orchestratord/db.h"
#include "orchestratord/metrics.h"
#include "orchestratord/signer.h"

struct auth;
struct ready;

struct app {
	const struct orch_config *cfg;
	struct db_pool *pool;		/* HTTP handlers' connections */
	struct signer *signer;		/* policy, keys, signerd client */
	struct auth *auth;		/* bearer tokens and rate limits */
	struct metrics *metrics;
	struct ready *ready;		/* readiness, polled off the request path */
	atomic_int stopping;		/* SIGTERM: no new intake */
};

#endif
