/*
 * metrics.c: signerd's counters (metrics.h): relaxed atomics bumped by
 * the sign path, refusals, the HSM, the journal and checkpoints, and the
 * METRICS_REQ handler that snapshots them into a typed reply.
 */
#include "signerd/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "signerd/badpeer.h"
#include "signerd/signerd.h"

#define MS(x) ((uint64_t)((x) * 1000000.0 + 0.5))

/*
 * Bucket upper bounds in nanoseconds, each table strictly ascending.  The
 * sign path spans an HSM signature and a group-commit fdatasync (ms to
 * s); C_Sign a soft token's microseconds to a network HSM's tens of ms;
 * an fdatasync 0.1 ms (NVMe) to seconds (a disk in trouble).
 */
static const uint64_t sign_bounds[] = { MS(1), MS(2.5), MS(5), MS(10),
    MS(25), MS(50), MS(100), MS(250), MS(500), MS(1000), MS(2500),
    MS(5000), MS(10000) };
static const uint64_t hsm_bounds[] = { MS(0.25), MS(0.5), MS(1), MS(2.5),
    MS(5), MS(10), MS(25), MS(50), MS(100), MS(250), MS(500), MS(1000),
    MS(2500) };
static const uint64_t fsync_bounds[] = { MS(0.1), MS(0.25), MS(0.5), MS(1),
    MS(2.5), MS(5), MS(10), MS(25), MS(50), MS(100), MS(250), MS(500),
    MS(1000), MS(2500) };

static const struct {
	const uint64_t *bound;
	size_t n;
} bounds[PRT_MH_COUNT] = {
	[PRT_MH_SIGN] = { sign_bounds, ARRAY_LEN(sign_bounds) },
	[PRT_MH_HSM_SIGN] = { hsm_bounds, ARRAY_LEN(hsm_bounds) },
	[PRT_MH_FSYNC] = { fsync_bounds, ARRAY_LEN(fsync_bounds) },
};
_Static_assert(ARRAY_LEN(sign_bounds) <= PRT_METRICS_BOUNDS_MAX &&
    ARRAY_LEN(hsm_bounds) <= PRT_METRICS_BOUNDS_MAX &&
    ARRAY_LEN(fsync_bounds) <= PRT_METRICS_BOUNDS_MAX,
    "a histogram has more bounds than the wire carries");
_Static_assert(-ERR_HSM_TOKEN_EXISTS < SD_METRICS_ERR_CODES,
    "an error code has no HSM error counter");

enum { SLOT_FREE = 0, SLOT_NAMING, SLOT_NAMED };

static void
observe(struct sd_metrics *m, int h, uint64_t ns)
{
	size_t i;

	for (i = 0; i < bounds[h].n && ns > bounds[h].bound[i]; i++)
		;
	atomic_fetch_add_explicit(&m->hist[h].bucket[i], 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&m->hist[h].sum_ns, ns,
	    memory_order_relaxed);
}

static int
name_ok(const char *name)
{
	size_t n;

	return name != NULL && (n = strnlen(name, PRT_ASSET_MAX + 1)) > 0 &&
	    n <= PRT_ASSET_MAX;
}

/* The named slot of asset name, or NULL.  Slots are claimed in order. */
static struct sd_metrics_asset *
slot_find(struct sd_metrics *m, const char *name)
{
	struct sd_metrics_asset *a;
	size_t i;
	int st;

	for (i = 0; i < SD_METRICS_ASSETS; i++) {
		a = &m->asset[i];
		st = atomic_load_explicit(&a->state, memory_order_acquire);
		if (st == SLOT_FREE)
			break;
		if (st == SLOT_NAMED && strcmp(a->name, name) == 0)
			return a;
	}
	return NULL;
}

/*
 * The slot of asset name, naming the first free one if there is none.
 * Lock-free: whoever claims a slot names it; anyone else passing it waits
 * the few stores that takes and compares, so no name gets two slots.
 * This runs once per asset for the life of the process.
 */
static struct sd_metrics_asset *
slot_get(struct sd_metrics *m, const char *name)
{
	struct sd_metrics_asset *a;
	size_t i;
	int st;

	if (!name_ok(name))
		return NULL;
	for (i = 0; i < SD_METRICS_ASSETS; i++) {
		a = &m->asset[i];
		st = atomic_load_explicit(&a->state, memory_order_acquire);
		if (st == SLOT_FREE) {
			if (atomic_compare_exchange_strong_explicit(&a->state,
			    &st, SLOT_NAMING, memory_order_acq_rel,
			    memory_order_acquire)) {
				snprintf(a->name, sizeof(a->name), "%s", name);
				atomic_store_explicit(&a->state, SLOT_NAMED,
				    memory_order_release);
				return a;
			}
		}
		while (st == SLOT_NAMING)
			st = atomic_load_explicit(&a->state,
			    memory_order_acquire);
		if (strcmp(a->name, name) == 0)
			return a;
	}
	if (!atomic_exchange(&m->full_logged, 1))
		log_warn("metrics: more than %d asset names since start; "
		    "asset %s and later ones are not counted",
		    SD_METRICS_ASSETS, name);
	return NULL;
}

/* 1 when asset names an asset of the policy in force. */
static int
in_policy(struct sd_ctx *sd, const char *asset)
{
	const struct sd_version *v = sd_version_now(sd);
	size_t idx;

	return v != NULL && pol_asset_by_name(v->policy, asset, &idx) == 0;
}

static void
name_policy_assets(struct sd_ctx *sd)
{
	const struct sd_version *v = sd_version_now(sd);
	size_t i;

	for (i = 0; v != NULL && i < pol_asset_count(v->policy); i++)
		(void)slot_get(&sd->metrics, pol_asset(v->policy, i)->name);
}

static void
on_sync(void *arg, uint64_t ns)
{
	struct sd_ctx *sd = arg;

	observe(&sd->metrics, PRT_MH_FSYNC, ns);
}

void
sd_metrics_start(struct sd_ctx *sd)
{
	atomic_store(&sd->metrics.started, sd_now(sd));
	name_policy_assets(sd);
	jnl_set_sync_observer(sd->journal, on_sync, sd);
}

void
sd_metrics_signature(struct sd_ctx *sd, const char *asset, uint64_t t0_ns)
{
	struct sd_metrics_asset *a;
	uint64_t now = util_mono_ns();

	if ((a = slot_get(&sd->metrics, asset)) != NULL)
		atomic_fetch_add_explicit(&a->signatures, 1,
		    memory_order_relaxed);
	observe(&sd->metrics, PRT_MH_SIGN, now > t0_ns ? now - t0_ns : 0);
}

void
sd_metrics_refusal(struct sd_ctx *sd, const char *asset, int reason)
{
	struct sd_metrics *m = &sd->metrics;
	struct sd_metrics_asset *a = NULL;

	/* Every refusal is a pol_reason; anything else is a bug of ours. */
	if (reason < 0 || reason >= POL_REASON_COUNT)
		reason = POL_INTERNAL;
	if (name_ok(asset) && (a = slot_find(m, asset)) == NULL &&
	    in_policy(sd, asset))
		a = slot_get(m, asset);
	atomic_fetch_add_explicit(a != NULL ? &a->refusals[reason] :
	    &m->refusals_none[reason], 1, memory_order_relaxed);
}

void
sd_metrics_hsm_error(struct sd_ctx *sd, int err)
{
	int i = -err;

	/* Only codes with a name, so that no two counters share a label. */
	if (i <= 0 || i >= SD_METRICS_ERR_CODES ||
	    strcmp(err_name(err), "ERR_UNKNOWN") == 0)
		i = -ERR_INTERNAL;
	atomic_fetch_add_explicit(&sd->metrics.hsm_errors[i], 1,
	    memory_order_relaxed);
}

void
sd_metrics_hsm_sign(struct sd_ctx *sd, uint64_t ns, int err)
{
	observe(&sd->metrics, PRT_MH_HSM_SIGN, ns);
	if (err != 0)
		sd_metrics_hsm_error(sd, err);
}

void
sd_metrics_checkpoint(struct sd_ctx *sd, int r)
{
	if (r != 0) {
		atomic_fetch_add(&sd->metrics.checkpoint_failures, 1);
		return;
	}
	atomic_fetch_add(&sd->metrics.checkpoints, 1);
	atomic_store(&sd->metrics.last_checkpoint, sd_now(sd));
}

/* --- the snapshot ------------------------------------------------------ */

static int
cmp_slot(const void *a, const void *b)
{
	const struct sd_metrics_asset *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int
cmp_kind(const void *a, const void *b)
{
	const struct prt_metrics_hsm_error *x = a, *y = b;

	return strcmp(x->kind, y->kind);
}

static int
cmp_reason(const void *a, const void *b)
{
	return strcmp(pol_reason_name(*(const int *)a),
	    pol_reason_name(*(const int *)b));
}

/* Appends one asset's refusals, reasons in name order, while room lasts. */
static void
add_refusals(struct prt_metrics *m, const char *asset,
    atomic_uint_fast64_t *counts, const int *by_name, int *dropped)
{
	struct prt_metrics_refusal *f;
	uint64_t n;
	int i;

	for (i = 0; i < POL_REASON_COUNT; i++) {
		n = atomic_load_explicit(&counts[by_name[i]],
		    memory_order_relaxed);
		if (n == 0)
			continue;
		if (m->nrefusals == PRT_METRICS_REFUSALS_MAX) {
			*dropped = 1;
			return;
		}
		f = &m->refusals[m->nrefusals++];
		snprintf(f->asset, sizeof(f->asset), "%s", asset);
		snprintf(f->reason, sizeof(f->reason), "%s",
		    pol_reason_name(by_name[i]));
		f->count = n;
	}
}

static void
snap_hist(struct prt_metrics_hist *out, struct sd_metrics_hist *h, int which)
{
	size_t i;

	out->nbounds = (uint8_t)bounds[which].n;
	for (i = 0; i < bounds[which].n; i++)
		out->bound_ns[i] = bounds[which].bound[i];
	for (i = 0; i <= bounds[which].n; i++)
		out->count[i] = atomic_load_explicit(&h->bucket[i],
		    memory_order_relaxed);
	out->sum_ns = atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
}

void
sd_metrics_snapshot(struct sd_ctx *sd, struct prt_metrics *m)
{
	static atomic_int dropped_logged;
	struct sd_metrics *sm = &sd->metrics;
	struct sd_metrics_asset *slot[SD_METRICS_ASSETS];
	struct prt_metrics_asset *a;
	struct sd_pause_state pause;
	const struct sd_version *v = sd_version_now(sd);
	const struct pol_asset *pa;
	int by_name[POL_REASON_COUNT];
	int64_t now, t;
	size_t i, n = 0, idx;
	uint64_t c;
	int dropped = 0;

	memset(m, 0, sizeof(*m));
	now = sd_now(sd);
	m->now = now > 0 ? (uint64_t)now : 0;
	/* A request served before the leader noted the start: it is now. */
	t = atomic_load(&sm->started);
	m->started = t > 0 && (uint64_t)t <= m->now ? (uint64_t)t : m->now;
	t = atomic_load(&sm->last_checkpoint);
	m->last_checkpoint = t > 0 && (uint64_t)t <= m->now ? (uint64_t)t : 0;
	m->checkpoints = atomic_load(&sm->checkpoints);
	m->checkpoint_failures = atomic_load(&sm->checkpoint_failures);
	jnl_head(sd->journal, &m->head_seq, NULL);

	/* Every asset of the policy in force shows, signed or not. */
	name_policy_assets(sd);
	for (i = 0; i < SD_METRICS_ASSETS; i++)
		if (atomic_load_explicit(&sm->asset[i].state,
		    memory_order_acquire) == SLOT_NAMED)
			slot[n++] = &sm->asset[i];
	qsort(slot, n, sizeof(slot[0]), cmp_slot);
	sd_state_lock(sd->state);
	sd_pause_get(sd_state_pause(sd->state), &pause);
	for (i = 0; i < n; i++) {
		a = &m->assets[m->nassets++];
		snprintf(a->asset, sizeof(a->asset), "%s", slot[i]->name);
		a->signatures = atomic_load_explicit(&slot[i]->signatures,
		    memory_order_relaxed);
		if (v == NULL || pol_asset_by_name(v->policy, a->asset,
		    &idx) != 0)
			continue;
		pa = pol_asset(v->policy, idx);
		a->in_policy = 1;
		sd_state_exposure(sd->state, &a->exposure_used, pa->name,
		    pol_utc_day(now));
		a->exposure_limit = pa->daily_limit;
	}
	sd_state_unlock(sd->state);
	m->paused = pause.paused != 0;

	/* Label sets in the wire's order: asset "" (none) first. */
	for (i = 0; i < POL_REASON_COUNT; i++)
		by_name[i] = (int)i;
	qsort(by_name, POL_REASON_COUNT, sizeof(by_name[0]), cmp_reason);
	add_refusals(m, "", sm->refusals_none, by_name, &dropped);
	for (i = 0; i < n; i++)
		add_refusals(m, slot[i]->name, slot[i]->refusals, by_name,
		    &dropped);
	if (dropped && !atomic_exchange(&dropped_logged, 1))
		log_warn("metrics: more than %d (asset, reason) pairs; the "
		    "rest are left out of the reply", PRT_METRICS_REFUSALS_MAX);

	/* ERR_HSM always, so the family exists before the first error. */
	for (i = 1; i < SD_METRICS_ERR_CODES &&
	    m->nhsm_errors < PRT_METRICS_HSM_ERRORS_MAX; i++) {
		c = atomic_load_explicit(&sm->hsm_errors[i],
		    memory_order_relaxed);
		if (c == 0 && (int)i != -ERR_HSM)
			continue;
		snprintf(m->hsm_errors[m->nhsm_errors].kind,
		    sizeof(m->hsm_errors[0].kind), "%s", err_name(-(int)i));
		m->hsm_errors[m->nhsm_errors++].count = c;
	}
	/* Codes run the other way from their names: sort by name. */
	qsort(m->hsm_errors, m->nhsm_errors, sizeof(m->hsm_errors[0]),
	    cmp_kind);
	for (i = 0; i < PRT_MH_COUNT; i++)
		snap_hist(&m->hist[i], &sm->hist[i], (int)i);
}

int
sd_handle_metrics(struct sd_ctx *sd, unsigned peer_uid, const uint8_t *buf,
    size_t len, struct prt_writer *rep)
{
	struct prt_reply_hdr hdr;
	struct prt_metrics *m;
	char msg[PRT_MESSAGE_MAX + 1];
	int r;

	/* A query: its refusal is counted in aggregate, as STATUS's is. */
	if ((r = prt_decode_metrics_req(buf, len)) != 0) {
		snprintf(msg, sizeof(msg), "%s: %s",
		    pol_reason_name(POL_MALFORMED_REQUEST), err_str(r));
		sd_badpeer_note(sd, (int)peer_uid, POL_MALFORMED_REQUEST, msg);
		prt_reply_hdr_set(&hdr, POL_MALFORMED_REQUEST, msg);
		return prt_encode_metrics_rep(rep, &hdr, NULL);
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return ERR_NOMEM;
	sd_metrics_snapshot(sd, m);
	prt_reply_hdr_set(&hdr, POL_OK, "ok");
	r = prt_encode_metrics_rep(rep, &hdr, m);
	free(m);
	return r;
}
