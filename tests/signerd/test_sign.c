/* test_sign.c: the sign path's decision (signerd/decide.c), without an HSM or a journal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "common/err.h"
#include "evm/addr.h"
#include "evm/keccak.h"
#include "evm/tx.h"
#include "signerd/readback.h"
#include "signerd/sign.h"
#include "tests/policy/fixture.h"

#define GWEI 1000000000ull
#define ETHER "1000000000000000000"
/* job->now's UTC day: the day payout() names as created. */
#define NOW 1800000000
#define TODAY (NOW / 86400)

/*
 * Memory keeps where a signed request's record is (D55): a retry or a fee
 * bump reads it back.  The tests keep a one-segment journal of their own
 * and sign with a software key standing for the HSM's "payout" key.
 */
static const uint8_t test_seckey[32] = { [31] = 7 };
static char journal_dir[64];
static uint64_t journal_seq;

static void
software_address(uint8_t addr[20])
{
	secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	secp256k1_pubkey pk;
	uint8_t pub[65];
	size_t n = sizeof(pub);

	assert_int_equal(secp256k1_ec_pubkey_create(c, &pk, test_seckey), 1);
	assert_int_equal(secp256k1_ec_pubkey_serialize(c, pub, &n, &pk,
	    SECP256K1_EC_UNCOMPRESSED), 1);
	assert_int_equal(evm_addr_from_pubkey(addr, pub), 0);
	secp256k1_context_destroy(c);
}

static void
hex0x(char *out, const uint8_t *p, size_t n)
{
	out[0] = '0';
	out[1] = 'x';
	util_hex_encode(out + 2, p, n);
}

/* Signs job's transaction and appends its "signed" record; *pos is where. */
static void
journal_signed(struct sd_ctx *sd, struct sd_sign_job *job, struct jnl_pos *pos)
{
	secp256k1_context *c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	secp256k1_ecdsa_recoverable_signature sig;
	uint8_t digest[32], rs[64], from[20];
	struct evm_tx tx = job->p.tx;
	struct prt_writer w;
	char path[96], content[65], txh[67], addr[43], *raw;
	int recid, fd;
	FILE *f;

	assert_int_equal(evm_tx_signing_hash(digest, &tx), 0);
	assert_int_equal(secp256k1_ecdsa_sign_recoverable(c, &sig, digest,
	    test_seckey, NULL, NULL), 1);
	secp256k1_ecdsa_recoverable_signature_serialize_compact(c, rs, &recid,
	    &sig);
	secp256k1_context_destroy(c);
	memcpy(tx.r, rs, 32);
	memcpy(tx.s, rs + 32, 32);
	tx.y_parity = (uint8_t)recid;
	tx.is_signed = 1;
	prt_writer_init(&w, PRT_TX_MAX);
	assert_int_equal(evm_tx_encode(&w, &tx), 0);
	evm_keccak256(job->tx_hash, w.p, w.len);
	assert_non_null(raw = malloc(2 * w.len + 3));
	hex0x(raw, w.p, w.len);
	prt_writer_free(&w);
	util_hex_encode(content, job->p.content, 32);
	hex0x(txh, job->tx_hash, 32);
	software_address(from);
	hex0x(addr, from, 20);
	snprintf(path, sizeof(path), "%s/seg-00000001.jsonl", journal_dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600)) >= 0);
	pos->seg = 1;
	pos->off = (uint32_t)lseek(fd, 0, SEEK_END);
	assert_non_null(f = fdopen(fd, "a"));
	/* The journal's line form (readback checks it; the chain is the
	 * journal layer's, not this test's). */
	fprintf(f, "{\"prev\":\"%064d\",\"seq\":%llu,\"content\":\"%s\","
	    "\"created\":%u,\"day\":%lld,\"fee_bump\":%s,\"from\":\"%s\","
	    "\"raw\":\"%s\",\"request_id\":\"%s\",\"tx_hash\":\"%s\","
	    "\"type\":\"signed\"}\n", 0, (unsigned long long)++journal_seq,
	    content, job->p.req.created_day, (long long)job->day,
	    job->bump ? "true" : "false", addr, raw, job->p.req.request_id,
	    txh);
	assert_int_equal(fclose(f), 0);
	free(raw);
	(void)sd;
}

static struct sd_ctx *
ctx_new(void)
{
	struct sd_ctx *sd = calloc(1, sizeof(*sd));
	char err[256];

	assert_non_null(sd);
	struct sd_version *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	v->policy = fx_policy();
	assert_int_equal(pol_verifier_new(&v->verifier, v->policy, err,
	    sizeof(err)), 0);
	util_hex_encode(v->hex, pol_hash(v->policy), 32);
	assert_int_equal(sd_state_new(&sd->state, 0), 0);
	sd_gov_genesis(sd_state_gov(sd->state), v, 0);
	snprintf(sd->keys[0].name, sizeof(sd->keys[0].name), "payout");
	software_address(sd->keys[0].address);
	sd->retention_days = SD_RETENTION_DAYS_DEFAULT;
	snprintf(journal_dir, sizeof(journal_dir), "/tmp/test_sign.XXXXXX");
	assert_non_null(mkdtemp(journal_dir));
	journal_seq = 0;
	assert_int_equal(sd_read_dirs_open(sd, journal_dir, NULL), 0);
	snprintf(sd->keys[1].name, sizeof(sd->keys[1].name), "big");
	memset(sd->keys[1].address, 0x22, 20);
	sd->nkeys = 2;
	return sd;
}

static void
ctx_free(struct sd_ctx *sd)
{
	char path[96];

	sd_read_dirs_close(sd);
	snprintf(path, sizeof(path), "%s/seg-00000001.jsonl", journal_dir);
	(void)unlink(path);
	(void)rmdir(journal_dir);
	sd_state_free(sd->state);
	free(sd);
}

/*
 * A native ETH payout of amount (decimal) to ACCT1 with nonce and fees,
 * decoded as signerd decodes a request.  Returns the decode reason.
 */
static enum pol_reason
payout(struct sd_ctx *sd, struct sd_sign_job *job, const char *id,
    const char *amount, uint64_t nonce, uint64_t max_fee_gwei)
{
	struct prt_writer w;
	struct evm_tx tx;
	char detail[200];
	enum pol_reason why;

	memset(job, 0, sizeof(*job));
	memset(&tx, 0, sizeof(tx));
	tx.chain_id = 1337;
	tx.nonce = nonce;
	u256_from_u64(&tx.max_priority_fee_per_gas, max_fee_gwei * GWEI / 50);
	u256_from_u64(&tx.max_fee_per_gas, max_fee_gwei * GWEI);
	tx.gas_limit = 21000;
	tx.has_to = 1;
	assert_int_equal(evm_addr_from_str(tx.to, ACCT1, 1), 0);
	assert_int_equal(u256_from_dec(&tx.value, amount), 0);
	prt_writer_init(&w, PRT_TX_MAX);
	assert_int_equal(evm_tx_encode(&w, &tx), 0);
	memcpy(job->p.req.tx, w.p, w.len);
	job->p.req.tx_len = w.len;
	prt_writer_free(&w);
	snprintf(job->p.req.request_id, sizeof(job->p.req.request_id), "%s",
	    id);
	snprintf(job->p.req.asset, sizeof(job->p.req.asset), "ETH");
	job->p.req.chain_id = 1337;
	memcpy(job->p.req.to, tx.to, 20);
	job->p.req.amount = tx.value;
	job->now = NOW;
	job->p.req.created_day = TODAY;
	why = sd_payout_prepare(sd, &job->p, detail, sizeof(detail));
	/* The client names the asset's key, as it learnt it (D53). */
	if (why == POL_OK)
		memcpy(job->p.req.from, sd->keys[job->p.key].address, 20);
	return why;
}

/* Decides; a "yes" is committed as signed (raw stands in for the tx). */
static enum pol_reason
decide(struct sd_ctx *sd, struct sd_sign_job *job, int *repeat, int commit)
{
	char detail[240];
	enum pol_reason why;
	struct jnl_pos pos;

	why = sd_sign_decide(sd, job, repeat, detail, sizeof(detail));
	if (why == POL_OK && !*repeat && commit) {
		journal_signed(sd, job, &pos);
		sd_state_lock(sd->state);
		if (job->bump)
			assert_int_equal(sd_state_bump_commit(sd->state,
			    job->p.req.request_id, job->p.req.created_day,
			    job->p.content, &pos), 0);
		else
			assert_int_equal(sd_state_commit(sd->state,
			    job->p.req.request_id, job->p.req.created_day,
			    &pos), 0);
		sd_state_unlock(sd->state);
	}
	return why;
}

static void
test_new_then_repeat(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	struct sd_sign_job job;
	int repeat;

	assert_int_equal(payout(sd, &job, "p1", "1000", 1, 100), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 1), POL_OK);
	assert_false(repeat);
	/* invariant 5: the same request again is the same signature. */
	assert_int_equal(payout(sd, &job, "p1", "1000", 1, 100), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_OK);
	assert_true(repeat);
	ctx_free(sd);
}

static void
test_in_flight_and_nonce(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	struct sd_sign_job job;
	int repeat;

	assert_int_equal(payout(sd, &job, "a", "1000", 5, 100), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_OK);	/* in flight */
	assert_int_equal(payout(sd, &job, "a", "1000", 5, 100), POL_OK);
	/* Being signed right now: IN_FLIGHT, never a conflict (issue 13). */
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_IN_FLIGHT);
	assert_int_equal(job.retry_after_s, 0);	/* the reason's default */
	/* invariant 5: one payout per (key, chain, nonce), in flight too. */
	assert_int_equal(payout(sd, &job, "b", "1000", 5, 100), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_NONCE_REUSED);
	ctx_free(sd);
}

static void
test_daily_limit_counts_in_flight(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	struct sd_sign_job job;
	int repeat, i;
	char id[16];

	/* 5 ETH a day, 0.9 ETH each (below the approval threshold). */
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "d%d", i);
		assert_int_equal(payout(sd, &job, id, "900000000000000000",
		    (uint64_t)i, 100), POL_OK);
		assert_int_equal(decide(sd, &job, &repeat, i % 2), POL_OK);
	}
	/* invariant 2: 5.4 > 5 even though only some are durable. */
	assert_int_equal(payout(sd, &job, "d5", "900000000000000000", 5, 100),
	    POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_DAILY_LIMIT);
	/* The next day has its own limit. */
	assert_int_equal(payout(sd, &job, "d5", "900000000000000000", 5, 100),
	    POL_OK);
	job.now += 86400;
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_OK);
	ctx_free(sd);
}

static void
test_pause_refuses_everything(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	struct sd_sign_job job;
	int repeat;

	assert_int_equal(payout(sd, &job, "s", "1000", 1, 100), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 1), POL_OK);
	sd_state_lock(sd->state);
	assert_int_equal(sd_pause_set(sd_state_pause(sd->state), "inc-1",
	    "alice"), 0);
	sd_state_unlock(sd->state);
	assert_int_equal(payout(sd, &job, "t", "1000", 2, 100), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_PAUSED);
	/* D18: not even the repeat of a signed request leaves. */
	assert_int_equal(payout(sd, &job, "s", "1000", 1, 100), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_PAUSED);
	ctx_free(sd);
}

/*
 * What a retry reads back is checked as strictly as it was first accepted:
 * a record whose sender signerd does not hold (an edited journal) is
 * never handed out.
 */
static void
test_read_back_sender_must_be_held(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	struct sd_sign_job job;
	int repeat;

	assert_int_equal(payout(sd, &job, "rb", "1000", 1, 100), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 1), POL_OK);
	memset(sd->keys[0].address, 0x44, 20);
	assert_int_equal(payout(sd, &job, "rb", "1000", 1, 100), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_INTERNAL);
	assert_false(repeat);
	ctx_free(sd);
}

static void
test_thresholds(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	struct sd_req_found f;
	struct sd_sign_job job;
	int repeat;

	/* invariant 4: above 1 ETH needs 2 approvals; above 1.5 a queue. */
	assert_int_equal(payout(sd, &job, "m", "1200000000000000000", 1, 100),
	    POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_APPROVALS_MISSING);
	assert_int_equal(payout(sd, &job, "q", "1600000000000000000", 1, 100),
	    POL_OK);
	assert_int_not_equal(decide(sd, &job, &repeat, 0), POL_OK);
	/* Nothing was reserved by a refusal. */
	assert_int_equal(sd_state_find(sd->state, "m", TODAY, &f), SD_REQ_NONE);
	assert_int_equal(sd_state_find(sd->state, "q", TODAY, &f), SD_REQ_NONE);
	ctx_free(sd);
}

static void
test_queued_payout_waits_its_delay(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	struct sd_sign_job job;
	int repeat;

	assert_int_equal(payout(sd, &job, "tl", "1600000000000000000", 1,
	    100), POL_OK);
	sd_state_lock(sd->state);
	assert_int_equal(sd_queue_begin(sd_state_queue(sd->state), "tl",
	    job.p.intent_hash, job.now - 10, job.now + 20), 0);
	assert_int_equal(sd_queue_commit(sd_state_queue(sd->state), "tl"), 0);
	sd_state_unlock(sd->state);
	/* D52: queued under another version, it needs this one's approvals. */
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_APPROVALS_MISSING);
	sd_state_lock(sd->state);
	sd_queue_set_version(sd_state_queue(sd->state), "tl", 1);
	sd_state_unlock(sd->state);
	assert_int_equal(payout(sd, &job, "tl", "1600000000000000000", 1,
	    100), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_TIMELOCK_PENDING);
	/* The wait as data for the reply header: the seconds remaining. */
	assert_int_equal(job.retry_after_s, 20);
	assert_int_equal(payout(sd, &job, "tl", "1600000000000000000", 1,
	    100), POL_OK);
	job.now += 13;
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_TIMELOCK_PENDING);
	assert_int_equal(job.retry_after_s, 7);
	assert_int_equal(payout(sd, &job, "tl", "1600000000000000000", 1,
	    100), POL_OK);
	job.now += 20;
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_OK);
	assert_int_equal(job.retry_after_s, 0);
	assert_true(job.queued);
	/* A queued id is bound to what was queued. */
	assert_int_equal(payout(sd, &job, "tl", "1700000000000000000", 2,
	    100), POL_OK);
	job.now += 20;
	assert_int_not_equal(decide(sd, &job, &repeat, 0), POL_OK);
	ctx_free(sd);
}

/*
 * A request id being queued right now (its QUEUE_REQ not yet durable) is
 * IN_FLIGHT to a sign request, not a conflict: it may pass once the
 * queue entry is committed (and its delay over).
 */
static void
test_being_queued_is_in_flight(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	struct sd_sign_job job;
	int repeat;

	assert_int_equal(payout(sd, &job, "bq", "1600000000000000000", 1,
	    100), POL_OK);
	sd_state_lock(sd->state);
	assert_int_equal(sd_queue_begin(sd_state_queue(sd->state), "bq",
	    job.p.intent_hash, job.now, job.now + 30), 0);
	sd_state_unlock(sd->state);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_IN_FLIGHT);
	ctx_free(sd);
}

/* The advice a refusal carries: defaults, and a wait kept in range. */
static void
test_retry_advice(void **unused)
{
	int reason;

	for (reason = 0; reason < POL_REASON_COUNT + 2; reason++)
		assert_int_equal(sd_retry_after_default(reason),
		    reason == POL_IN_FLIGHT ? 1 : 0);
	assert_int_equal(sd_retry_after_of(-5), 1);
	assert_int_equal(sd_retry_after_of(0), 1);
	assert_int_equal(sd_retry_after_of(1), 1);
	assert_int_equal(sd_retry_after_of(20), 20);
	assert_int_equal(sd_retry_after_of(PRT_RETRY_AFTER_MAX),
	    PRT_RETRY_AFTER_MAX);
	assert_int_equal(sd_retry_after_of(INT64_MAX), PRT_RETRY_AFTER_MAX);
}

static void
test_fee_bump(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	struct sd_sign_job job;
	int repeat;

	assert_int_equal(payout(sd, &job, "f", "1000", 7, 100), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 1), POL_OK);
	/* invariant 5: the one re-sign, fees up, within the caps. */
	assert_int_equal(payout(sd, &job, "f", "1000", 7, 90), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_FEE_BUMP_INVALID);
	assert_int_equal(payout(sd, &job, "f", "1000", 7, 300), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_FEE_BUMP_INVALID);
	assert_int_equal(payout(sd, &job, "f", "2000", 7, 150), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_REQUEST_ID_CONFLICT);
	assert_int_equal(payout(sd, &job, "f", "1000", 7, 150), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_OK);
	assert_true(job.bump);
	ctx_free(sd);
}

/* D53: a payout built for another key's nonces is never signed. */
static void
test_key_mismatch(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	struct sd_req_found f;
	struct sd_sign_job job;
	int repeat;

	assert_int_equal(payout(sd, &job, "k", "1000", 3, 100), POL_OK);
	memset(job.p.req.from, 0x22, 20);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_KEY_MISMATCH);
	assert_int_equal(sd_state_find(sd->state, "k", TODAY, &f), SD_REQ_NONE);
	assert_int_equal(payout(sd, &job, "k", "1000", 3, 100), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 1), POL_OK);
	/* A fee bump names the key that signed the payout. */
	assert_int_equal(payout(sd, &job, "k", "1000", 3, 150), POL_OK);
	memset(job.p.req.from, 0x22, 20);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_KEY_MISMATCH);
	assert_int_equal(payout(sd, &job, "k", "1000", 3, 150), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_OK);
	assert_true(job.bump);
	ctx_free(sd);
}

/*
 * D53's one exception: a key no asset names (retired) signs a new payout
 * only into a free nonce below the highest it signed.
 */
static void
test_gap_fill_by_a_retired_key(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	struct sd_nonce_ref ref;
	struct sd_sign_job job;
	static const uint8_t c[32] = { 3 };
	static const struct jnl_pos at = { 1, 0 };
	u256 one;
	int repeat;

	snprintf(sd->keys[2].name, sizeof(sd->keys[2].name), "old");
	memset(sd->keys[2].address, 0x33, 20);
	sd->nkeys = 3;
	memset(&ref, 0, sizeof(ref));
	memset(ref.from, 0x33, 20);
	ref.chain_id = 1337;
	ref.nonce = 10;
	u256_from_u64(&one, 1);
	assert_int_equal(sd_state_replay_signed(sd->state, "old-10", TODAY, c,
	    "ETH", 1, &one, &ref, &at), 0);
	/* Below its highest signed nonce: a gap fill, by the old key. */
	assert_int_equal(payout(sd, &job, "g5", "1000", 5, 100), POL_OK);
	memset(job.p.req.from, 0x33, 20);
	assert_int_equal(decide(sd, &job, &repeat, 1), POL_OK);
	assert_true(job.gap_fill);
	assert_int_equal(job.p.key, 2);
	assert_int_equal(job.p.ref.nonce, 5);
	/* The same hole again, the top itself, or above it: refused. */
	assert_int_equal(payout(sd, &job, "g5b", "1000", 5, 100), POL_OK);
	memset(job.p.req.from, 0x33, 20);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_KEY_MISMATCH);
	assert_int_equal(payout(sd, &job, "g10", "1000", 10, 100), POL_OK);
	memset(job.p.req.from, 0x33, 20);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_KEY_MISMATCH);
	assert_int_equal(payout(sd, &job, "g11", "1000", 11, 100), POL_OK);
	memset(job.p.req.from, 0x33, 20);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_KEY_MISMATCH);
	/* A fee bump is never a gap fill: its payout's key or nothing. */
	assert_int_equal(payout(sd, &job, "b3", "1000", 3, 100), POL_OK);
	assert_int_equal(decide(sd, &job, &repeat, 1), POL_OK);
	assert_int_equal(payout(sd, &job, "b3", "1000", 3, 150), POL_OK);
	memset(job.p.req.from, 0x33, 20);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_KEY_MISMATCH);
	assert_false(job.gap_fill);
	/* A key an asset still names fills nothing: "big" (0x22). */
	assert_int_equal(payout(sd, &job, "g2", "1000", 2, 100), POL_OK);
	memset(job.p.req.from, 0x22, 20);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_KEY_MISMATCH);
	ctx_free(sd);
}

static void
test_intent_mismatch(void **unused)
{
	struct sd_ctx *sd = ctx_new();
	struct sd_sign_job job;
	int repeat;

	assert_int_equal(payout(sd, &job, "x", "1000", 1, 100), POL_OK);
	u256_from_u64(&job.p.stated.amount, 999);
	assert_int_equal(decide(sd, &job, &repeat, 0), POL_INTENT_MISMATCH);
	ctx_free(sd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_then_repeat),
		cmocka_unit_test(test_read_back_sender_must_be_held),
		cmocka_unit_test(test_in_flight_and_nonce),
		cmocka_unit_test(test_daily_limit_counts_in_flight),
		cmocka_unit_test(test_pause_refuses_everything),
		cmocka_unit_test(test_thresholds),
		cmocka_unit_test(test_queued_payout_waits_its_delay),
		cmocka_unit_test(test_being_queued_is_in_flight),
		cmocka_unit_test(test_retry_advice),
		cmocka_unit_test(test_fee_bump),
		cmocka_unit_test(test_intent_mismatch),
		cmocka_unit_test(test_key_mismatch),
		cmocka_unit_test(test_gap_fill_by_a_retired_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
