/*
 * metrics.h: signerd's counters for monitoring, read by METRICS_REQ
 * (docs/metrics.md).  signerd listens on no network socket: orchestratord
 * folds the reply into its GET /metrics, and `signerctl metrics` prints
 * it for node_exporter's textfile collector.
 *
 * Every hook is lock-free (relaxed atomics, no allocation; no system
 * call but the one log line when asset slots run out), so counting never
 * blocks the sign path, and the struct is valid zeroed: it lives inside
 * struct sd_ctx, which is.  A snapshot
 * reads counters one by one, so two counters may be a request apart;
 * each counter on its own only grows.
 *
 * Label sets are bounded: assets by the slots below (an asset of any
 * policy version takes one for the life of the process; past
 * SD_METRICS_ASSETS names its counts are dropped and logged once),
 * refusal reasons by enum pol_reason, HSM error kinds by common/err.h.
 */
#ifndef SIGNERD_METRICS_H
#define SIGNERD_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "proto/buf.h"
#include "proto/msg.h"

#define SD_METRICS_ASSETS PRT_METRICS_ASSETS_MAX
#define SD_METRICS_ERR_CODES 128	/* -code of every common/err.h code */

struct sd_ctx;

struct sd_metrics_hist {
	/* Per bucket (the bounds of metrics.c), the last above them all. */
	atomic_uint_fast64_t bucket[PRT_METRICS_BOUNDS_MAX + 1];
	atomic_uint_fast64_t sum_ns;
};

struct sd_metrics_asset {
	atomic_int state;	/* 0 free, 1 being named, 2 named */
	char name[PRT_ASSET_MAX + 1];	/* fixed once state is 2 */
	atomic_uint_fast64_t signatures;
	atomic_uint_fast64_t refusals[POL_REASON_COUNT];
};

struct sd_metrics {
	struct sd_metrics_asset asset[SD_METRICS_ASSETS];
	/* Refusals of requests that named no asset of the policy. */
	atomic_uint_fast64_t refusals_none[POL_REASON_COUNT];
	atomic_uint_fast64_t hsm_errors[SD_METRICS_ERR_CODES];
	struct sd_metrics_hist hist[PRT_MH_COUNT];
	atomic_int_fast64_t started;	/* unix s; 0 until sd_metrics_start */
	atomic_uint_fast64_t checkpoints;
	atomic_uint_fast64_t checkpoint_failures;
	atomic_int_fast64_t last_checkpoint;	/* unix s; 0: none yet */
	atomic_int full_logged;
};

/*
 * Serving begins (the group-commit leader's thread, before any request):
 * notes the start time, names the slots of the policy in force, and has
 * the journal report every fdatasync's duration (jnl_set_sync_observer).
 */
void sd_metrics_start(struct sd_ctx *sd);

/*
 * A signature answered: asset (a policy asset's name) and the request's
 * time from a worker taking it (t0_ns, util_mono_ns) to now.
 */
void sd_metrics_signature(struct sd_ctx *sd, const char *asset,
    uint64_t t0_ns);

/*
 * A refusal sent: reason (enum pol_reason) and the asset the request
 * named (NULL or "" for none).  An asset that is not one of the policy
 * in force, and has no slot yet, counts as none: a request cannot grow
 * the label set.
 */
void sd_metrics_refusal(struct sd_ctx *sd, const char *asset, int reason);

/* One C_Sign: its duration, and its error (0: none; else an ERR_*). */
void sd_metrics_hsm_sign(struct sd_ctx *sd, uint64_t ns, int err);

/* An HSM failure around signing that is not C_Sign's own (the signature
 * did not recover to the key): err is the ERR_* code. */
void sd_metrics_hsm_error(struct sd_ctx *sd, int err);

/* A checkpoint attempt (main.c's checkpoint()): r 0 when it was signed. */
void sd_metrics_checkpoint(struct sd_ctx *sd, int r);

/*
 * Fills m with the counters now, the pause, the journal head and today's
 * exposure of every asset of the policy in force, sorted as msg.h
 * requires (the reply encodes).  Takes the state lock briefly.
 */
void sd_metrics_snapshot(struct sd_ctx *sd, struct prt_metrics *m);

/* METRICS_REQ (server.c's table): admitted like STATUS. */
int sd_handle_metrics(struct sd_ctx *sd, unsigned peer_uid,
    const uint8_t *req, size_t len, struct prt_writer *rep);

#endif
