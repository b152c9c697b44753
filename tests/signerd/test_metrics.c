/*
 * test_metrics.c: signerd's counters (signerd/metrics.c): what each hook
 * counts and where, histogram bucket placement, the snapshot a
 * METRICS_REP carries (sorted, bounded, encodable), the journal's
 * fdatasync timer, and slots named by racing threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "proto/metrics.h"
#include "signerd/signerd.h"
#include "tests/policy/fixture.h"

static char journal_dir[64];
static struct prt_metrics snap;

/* A context with the fixture policy in force, a state and a journal. */
static struct sd_ctx *
ctx_new(void)
{
	struct sd_ctx *sd = calloc(1, sizeof(*sd));
	struct sd_version *v = calloc(1, sizeof(*v));
	struct jnl_error jerr;

	assert_non_null(sd);
	assert_non_null(v);
	v->policy = fx_policy();
	v->number = 1;
	util_hex_encode(v->hex, pol_hash(v->policy), 32);
	assert_int_equal(sd_state_new(&sd->state, 0), 0);
	sd_gov_genesis(sd_state_gov(sd->state), v, 0);
	snprintf(journal_dir, sizeof(journal_dir), "/tmp/test_metrics.XXXXXX");
	assert_non_null(mkdtemp(journal_dir));
	assert_int_equal(jnl_open(&sd->journal, &jerr, journal_dir, NULL), 0);
	return sd;
}

static void
ctx_free(struct sd_ctx *sd)
{
	char cmd[128];

	jnl_close(sd->journal);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", journal_dir);
	assert_int_equal(system(cmd), 0);
	sd_state_free(sd->state);
	free(sd);
}

/* The snapshot, which must encode: what the handler sends. */
static void
take(struct sd_ctx *sd)
{
	struct prt_reply_hdr hdr;
	struct prt_writer w;

	sd_metrics_snapshot(sd, &snap);
	prt_reply_hdr_set(&hdr, 0, "ok");
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_metrics_rep(&w, &hdr, &snap), 0);
	prt_writer_free(&w);
}

static const struct prt_metrics_asset *
asset_of(const char *name)
{
	size_t i;

	for (i = 0; i < snap.nassets; i++)
		if (strcmp(snap.assets[i].asset, name) == 0)
			return &snap.assets[i];
	return NULL;
}

static uint64_t
refusals_of(const char *asset, const char *reason)
{
	size_t i;

	for (i = 0; i < snap.nrefusals; i++)
		if (strcmp(snap.refusals[i].asset, asset) == 0 &&
		    strcmp(snap.refusals[i].reason, reason) == 0)
			return snap.refusals[i].count;
	return 0;
}

static uint64_t
hist_total(const struct prt_metrics_hist *h)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i <= h->nbounds; i++)
		n += h->count[i];
	return n;
}

/* --- the counters -------------------------------------------------------- */

static void
test_empty(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	int h;

	take(sd);
	/* Every asset of the policy shows, in name order, with zeros. */
	assert_int_equal(snap.nassets, 4);
	assert_string_equal(snap.assets[0].asset, "BIG");
	assert_string_equal(snap.assets[1].asset, "ETH");
	assert_string_equal(snap.assets[2].asset, "TUSD");
	assert_string_equal(snap.assets[3].asset, "USDX");
	assert_int_equal(snap.assets[1].signatures, 0);
	assert_int_equal(snap.assets[1].in_policy, 1);
	assert_int_equal(snap.assets[1].exposure_limit.w[0],
	    5000000000000000000ull);
	/* The limit at 2^256-1 travels whole. */
	assert_true(snap.assets[0].exposure_limit.w[3] == UINT64_MAX &&
	    snap.assets[0].exposure_limit.w[0] == UINT64_MAX);
	assert_int_equal(snap.nrefusals, 0);
	assert_int_equal(snap.nhsm_errors, 1);
	assert_string_equal(snap.hsm_errors[0].kind, "ERR_HSM");
	assert_int_equal(snap.paused, 0);
	assert_int_equal(snap.head_seq, 0);
	assert_true(snap.started == snap.now);
	assert_int_equal(snap.last_checkpoint, 0);
	for (h = 0; h < PRT_MH_COUNT; h++) {
		assert_true(snap.hist[h].nbounds > 0);
		assert_int_equal(hist_total(&snap.hist[h]), 0);
	}
	ctx_free(sd);
}

static void
test_signatures_and_refusals(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	uint64_t t0 = util_mono_ns();

	sd_metrics_signature(sd, "ETH", t0);
	sd_metrics_signature(sd, "ETH", t0);
	sd_metrics_signature(sd, "TUSD", t0);
	sd_metrics_refusal(sd, "ETH", POL_DAILY_LIMIT);
	sd_metrics_refusal(sd, "ETH", POL_DAILY_LIMIT);
	sd_metrics_refusal(sd, "TUSD", POL_APPROVALS_MISSING);
	/* No asset, or one the policy does not have: "none". */
	sd_metrics_refusal(sd, NULL, POL_PAUSED);
	sd_metrics_refusal(sd, "", POL_MALFORMED_REQUEST);
	sd_metrics_refusal(sd, "DOGE", POL_UNKNOWN_ASSET);
	sd_metrics_refusal(sd, "DOGE", POL_UNKNOWN_ASSET);
	/* Not a reason: counted as ours, never as a new label. */
	sd_metrics_refusal(sd, "ETH", POL_REASON_COUNT);
	sd_metrics_refusal(sd, "ETH", -3);
	take(sd);
	assert_int_equal(asset_of("ETH")->signatures, 2);
	assert_int_equal(asset_of("TUSD")->signatures, 1);
	assert_int_equal(asset_of("USDX")->signatures, 0);
	assert_null(asset_of("DOGE"));
	assert_int_equal(refusals_of("ETH", "DAILY_LIMIT"), 2);
	assert_int_equal(refusals_of("TUSD", "APPROVALS_MISSING"), 1);
	assert_int_equal(refusals_of("", "PAUSED"), 1);
	assert_int_equal(refusals_of("", "MALFORMED_REQUEST"), 1);
	assert_int_equal(refusals_of("", "UNKNOWN_ASSET"), 2);
	assert_int_equal(refusals_of("ETH", "INTERNAL"), 2);
	assert_int_equal(snap.nrefusals, 6);
	/* Wire order: asset "" first, then by asset, then reason. */
	assert_string_equal(snap.refusals[0].reason, "MALFORMED_REQUEST");
	assert_string_equal(snap.refusals[1].reason, "PAUSED");
	assert_string_equal(snap.refusals[2].reason, "UNKNOWN_ASSET");
	assert_string_equal(snap.refusals[3].reason, "DAILY_LIMIT");
	assert_string_equal(snap.refusals[4].reason, "INTERNAL");
	assert_string_equal(snap.refusals[5].asset, "TUSD");
	/* One latency per signature. */
	assert_int_equal(hist_total(&snap.hist[PRT_MH_SIGN]), 3);
	ctx_free(sd);
}

/* An upper bound is inclusive (le); above the last is +Inf. */
static void
test_bucket_placement(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	const struct prt_metrics_hist *h;
	uint64_t b0, b1, last;
	int i;

	take(sd);
	h = &snap.hist[PRT_MH_HSM_SIGN];
	b0 = h->bound_ns[0];
	b1 = h->bound_ns[1];
	last = h->bound_ns[h->nbounds - 1];
	sd_metrics_hsm_sign(sd, 0, 0);
	sd_metrics_hsm_sign(sd, b0, 0);
	sd_metrics_hsm_sign(sd, b0 + 1, 0);
	sd_metrics_hsm_sign(sd, b1, 0);
	sd_metrics_hsm_sign(sd, last, 0);
	sd_metrics_hsm_sign(sd, last + 1, 0);
	sd_metrics_hsm_sign(sd, UINT64_MAX / 4, 0);
	take(sd);
	h = &snap.hist[PRT_MH_HSM_SIGN];
	assert_int_equal(h->count[0], 2);
	assert_int_equal(h->count[1], 2);
	for (i = 2; i < h->nbounds - 1; i++)
		assert_int_equal(h->count[i], 0);
	assert_int_equal(h->count[h->nbounds - 1], 1);
	assert_int_equal(h->count[h->nbounds], 2);
	assert_true(h->sum_ns == 2 * b0 + 1 + b1 + 2 * last + 1 +
	    UINT64_MAX / 4);
	/* Bounds strictly ascending: what the wire demands. */
	for (i = 1; i < h->nbounds; i++)
		assert_true(h->bound_ns[i - 1] < h->bound_ns[i]);
	ctx_free(sd);
}

static void
test_hsm_errors(void **unused)
{
	struct sd_ctx *sd = ctx_new();

	sd_metrics_hsm_sign(sd, 1000, ERR_HSM_NOT_LOGGED_IN);
	sd_metrics_hsm_sign(sd, 1000, ERR_HSM_NOT_LOGGED_IN);
	sd_metrics_hsm_error(sd, ERR_HSM_SIG_MISMATCH);
	/* No such code: counted as ours, never a new label. */
	sd_metrics_hsm_error(sd, -7777);
	sd_metrics_hsm_error(sd, -60);
	take(sd);
	/* Sorted by name, ERR_HSM always there. */
	assert_int_equal(snap.nhsm_errors, 4);
	assert_string_equal(snap.hsm_errors[0].kind, "ERR_HSM");
	assert_int_equal(snap.hsm_errors[0].count, 0);
	assert_string_equal(snap.hsm_errors[1].kind, "ERR_HSM_NOT_LOGGED_IN");
	assert_int_equal(snap.hsm_errors[1].count, 2);
	assert_string_equal(snap.hsm_errors[2].kind, "ERR_HSM_SIG_MISMATCH");
	assert_int_equal(snap.hsm_errors[2].count, 1);
	assert_string_equal(snap.hsm_errors[3].kind, "ERR_INTERNAL");
	assert_int_equal(snap.hsm_errors[3].count, 2);
	assert_int_equal(hist_total(&snap.hist[PRT_MH_HSM_SIGN]), 2);
	ctx_free(sd);
}

static void
test_checkpoints_and_start(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	json_t *rec = json_pack("{s:s}", "type", "test");

	sd_metrics_start(sd);
	sd_metrics_checkpoint(sd, ERR_IO);
	take(sd);
	assert_int_equal(snap.checkpoints, 0);
	assert_int_equal(snap.checkpoint_failures, 1);
	assert_int_equal(snap.last_checkpoint, 0);
	sd_metrics_checkpoint(sd, 0);
	take(sd);
	assert_int_equal(snap.checkpoints, 1);
	assert_true(snap.last_checkpoint > 0 &&
	    snap.last_checkpoint <= snap.now);
	assert_true(snap.started > 0 && snap.started <= snap.now);
	/* sd_metrics_start has the journal time its fdatasyncs. */
	assert_int_equal(hist_total(&snap.hist[PRT_MH_FSYNC]), 0);
	assert_int_equal(jnl_append(sd->journal, NULL, NULL, rec), 0);
	assert_int_equal(jnl_append(sd->journal, NULL, NULL, rec), 0);
	take(sd);
	assert_int_equal(hist_total(&snap.hist[PRT_MH_FSYNC]), 2);
	assert_true(snap.hist[PRT_MH_FSYNC].sum_ns > 0);
	assert_int_equal(snap.head_seq, 2);
	json_decref(rec);
	ctx_free(sd);
}

static void
test_exposure_and_pause(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	struct sd_nonce_ref ref;
	uint8_t content[32] = { 1 };
	u256 amount;
	int64_t day = pol_utc_day(sd_now(sd));

	memset(&ref, 0, sizeof(ref));
	ref.chain_id = 1337;
	u256_from_u64(&amount, 123456789);
	/* In flight counts: the sign path's own reckoning (invariant 2). */
	assert_int_equal(sd_state_begin(sd->state, "r1", (uint32_t)day, content,
	    "ETH", day, &amount, &ref), 0);
	/* Yesterday's is not today's. */
	ref.nonce = 1;
	content[0] = 2;
	assert_int_equal(sd_state_begin(sd->state, "r2", (uint32_t)day - 1,
	    content, "TUSD", day - 1, &amount, &ref), 0);
	assert_int_equal(sd_pause_set(sd_state_pause(sd->state), "inc-1",
	    "erin"), 0);
	take(sd);
	assert_int_equal(asset_of("ETH")->exposure_used.w[0], 123456789);
	assert_int_equal(asset_of("TUSD")->exposure_used.w[0], 0);
	assert_int_equal(snap.paused, 1);
	ctx_free(sd);
}

/* --- bounds -------------------------------------------------------------- */

/*
 * More names than slots (only after SD_METRICS_ASSETS policy assets came
 * and went): the rest go uncounted, the reply keeps what fits in a frame
 * and still encodes.
 */
static void
test_slots_full(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	char name[PRT_ASSET_MAX + 1];
	int i, r;

	for (i = 0; i < SD_METRICS_ASSETS + 10; i++) {
		snprintf(name, sizeof(name), "X%d", i);
		sd_metrics_signature(sd, name, 0);
		for (r = 1; r < POL_REASON_COUNT; r++)
			sd_metrics_refusal(sd, name, r);
	}
	/* Too long for a label: no slot, no crash. */
	sd_metrics_signature(sd, "ABCDEFGHIJKLMNOPQ", 0);
	take(sd);
	assert_int_equal(snap.nassets, SD_METRICS_ASSETS);
	assert_null(asset_of("X128"));
	assert_int_equal(asset_of("X127")->signatures, 1);
	assert_int_equal(snap.nrefusals, PRT_METRICS_REFUSALS_MAX);
	/* Slot-less names that are not the policy's count as none. */
	assert_int_equal(refusals_of("", "DAILY_LIMIT"), 10);
	assert_int_equal(hist_total(&snap.hist[PRT_MH_SIGN]),
	    SD_METRICS_ASSETS + 11);
	ctx_free(sd);
}

/* Every (asset, reason) pair of the policy set: all of them fit. */
static void
test_every_pair(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	const struct sd_version *v = sd_version_now(sd);
	size_t i;
	int r;

	for (i = 0; i < pol_asset_count(v->policy); i++)
		for (r = 1; r < POL_REASON_COUNT; r++)
			sd_metrics_refusal(sd,
			    pol_asset(v->policy, i)->name, r);
	for (r = 1; r < POL_REASON_COUNT; r++)
		sd_metrics_refusal(sd, NULL, r);
	take(sd);
	assert_int_equal(snap.nrefusals, 5 * (POL_REASON_COUNT - 1));
	ctx_free(sd);
}

/* --- racing threads ------------------------------------------------------ */

#define RACERS 4
#define ROUNDS 2000
static const char *const race_names[] = { "R0", "R1", "R2", "R3", "R4",
    "R5", "R6", "R7" };

static void *
racer(void *arg)
{
	struct sd_ctx *sd = arg;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		sd_metrics_signature(sd, race_names[i % 8], 0);
		sd_metrics_hsm_sign(sd, (uint64_t)i * 1000, 0);
	}
	return NULL;
}

static void
test_racing_threads(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	pthread_t th[RACERS];
	size_t i, n = 0;

	for (i = 0; i < RACERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, racer, sd), 0);
	for (i = 0; i < RACERS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	take(sd);
	/* Each name got one slot (the encoder refuses a repeat) and no
	 * count was lost. */
	for (i = 0; i < 8; i++) {
		assert_non_null(asset_of(race_names[i]));
		n += asset_of(race_names[i])->signatures;
	}
	assert_int_equal(n, RACERS * ROUNDS);
	assert_int_equal(hist_total(&snap.hist[PRT_MH_SIGN]), RACERS * ROUNDS);
	assert_int_equal(hist_total(&snap.hist[PRT_MH_HSM_SIGN]),
	    RACERS * ROUNDS);
	ctx_free(sd);
}

/* --- the handler --------------------------------------------------------- */

static void
test_handler(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	struct prt_reply_hdr hdr;
	struct prt_writer req, rep;
	static const uint8_t extra = 0;

	sd_metrics_signature(sd, "ETH", util_mono_ns());
	prt_writer_init(&req, PRT_MAX_MESSAGE);
	assert_int_equal(prt_encode_metrics_req(&req), 0);
	prt_writer_init(&rep, PRT_MAX_MESSAGE);
	assert_int_equal(sd_handle_metrics(sd, 0, req.p, req.len, &rep), 0);
	assert_int_equal(prt_decode_metrics_rep(&hdr, &snap, rep.p, rep.len),
	    0);
	assert_int_equal(hdr.result, 0);
	assert_int_equal(asset_of("ETH")->signatures, 1);
	prt_writer_free(&rep);
	/* A request with a byte too many is refused, typed, no payload. */
	prt_put_bytes(&req, &extra, 1);
	prt_writer_init(&rep, PRT_MAX_MESSAGE);
	assert_int_equal(sd_handle_metrics(sd, 0, req.p, req.len, &rep), 0);
	assert_int_equal(prt_decode_metrics_rep(&hdr, &snap, rep.p, rep.len),
	    0);
	assert_int_equal(hdr.result, POL_MALFORMED_REQUEST);
	assert_int_equal(snap.nassets, 0);
	prt_writer_free(&rep);
	prt_writer_free(&req);
	ctx_free(sd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_signatures_and_refusals),
		cmocka_unit_test(test_bucket_placement),
		cmocka_unit_test(test_hsm_errors),
		cmocka_unit_test(test_checkpoints_and_start),
		cmocka_unit_test(test_exposure_and_pause),
		cmocka_unit_test(test_slots_full),
		cmocka_unit_test(test_every_pair),
		cmocka_unit_test(test_racing_threads),
		cmocka_unit_test(test_handler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
