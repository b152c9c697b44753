/* test_state.c: exposure reservations, the request table inside the retention window, snapshot blobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "signerd/state.h"

static const uint8_t content_a[32] = { 1 };
static const uint8_t content_b[32] = { 2 };
static const struct jnl_pos pos_a = { 1, 100 }, pos_b = { 2, 300 };
#define DAY 20000u

/* A nonce reference of key 0x11.. on chain 1337. */
#define NREF(n) (&(struct sd_nonce_ref){ \
	.from = { 0x11, 0x11 }, .chain_id = 1337, .nonce = (n) })

static u256
amt(uint64_t v)
{
	u256 a;

	u256_from_u64(&a, v);
	return a;
}

static uint64_t
exposure(struct sd_state *st, const char *asset, int64_t day)
{
	uint64_t v = 0;
	u256 e;

	sd_state_exposure(st, &e, asset, day);
	assert_int_equal(u256_to_u64(&v, &e), 0);
	return v;
}

static enum sd_req_kind
kind(struct sd_state *st, const char *id, uint32_t created)
{
	struct sd_req_found f;

	return sd_state_find(st, id, created, &f);
}

static void
test_reserve_commit_abort(void **unused)
{
	struct sd_state *st;
	struct sd_req_found f;
	u256 a = amt(100), b = amt(50);

	assert_int_equal(sd_state_new(&st, 0), 0);
	assert_int_equal(sd_state_begin(st, "r1", DAY, content_a, "ETH", 7, &a,
	    NREF(101)), 0);
	assert_int_equal(kind(st, "r1", DAY), SD_REQ_IN_FLIGHT);
	/* In-flight reservations count toward exposure (invariant 2). */
	assert_int_equal(exposure(st, "ETH", 7), 100);
	assert_int_equal(sd_state_begin(st, "r2", DAY, content_a, "ETH", 7, &b,
	    NREF(102)), 0);
	assert_int_equal(exposure(st, "ETH", 7), 150);
	sd_state_abort(st, "r2", DAY);
	assert_int_equal(exposure(st, "ETH", 7), 100);
	assert_int_equal(kind(st, "r2", DAY), SD_REQ_NONE);
	assert_int_equal(sd_state_commit(st, "r1", DAY, &pos_a), 0);
	assert_int_equal(exposure(st, "ETH", 7), 100);
	assert_int_equal(exposure(st, "ETH", 8), 0);
	assert_int_equal(exposure(st, "TUSD", 7), 0);
	assert_int_equal(sd_state_find(st, "r1", DAY, &f), SD_REQ_SIGNED);
	assert_memory_equal(f.content_tag, content_a, SD_CONTENT_TAG_LEN);
	assert_int_equal(f.pos.seg, 1);
	assert_int_equal(f.pos.off, 100);
	/* The id is named with its created day: another day, another one. */
	assert_int_equal(kind(st, "r1", DAY + 1), SD_REQ_NONE);
	/* Committing twice, or a request never begun, is refused. */
	assert_int_equal(sd_state_commit(st, "r1", DAY, &pos_a),
	    ERR_INVALID_ARG);
	assert_int_equal(sd_state_commit(st, "nope", DAY, &pos_a),
	    ERR_INVALID_ARG);
	/* Abort of a signed request must not release its exposure. */
	sd_state_abort(st, "r1", DAY);
	assert_int_equal(exposure(st, "ETH", 7), 100);
	assert_int_equal(sd_state_count(st), 1);
	sd_state_free(st);
}

static void
test_duplicate_id_refused(void **unused)
{
	struct sd_state *st;
	u256 a = amt(1);

	assert_int_equal(sd_state_new(&st, 0), 0);
	assert_int_equal(sd_state_begin(st, "dup", DAY, content_a, "ETH", 1, &a,
	    NREF(103)), 0);
	assert_int_equal(sd_state_begin(st, "dup", DAY, content_a, "ETH", 1, &a,
	    NREF(104)), ERR_EXISTS);
	assert_int_equal(sd_state_begin(st, "bad", 0, content_a, "ETH", 1, &a,
	    NREF(105)), ERR_INVALID_ARG);
	assert_int_equal(exposure(st, "ETH", 1), 1);
	sd_state_free(st);
}

static void
test_overflow_refused(void **unused)
{
	struct sd_state *st;
	u256 max = { { UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX } };
	u256 one = amt(1);

	assert_int_equal(sd_state_new(&st, 0), 0);
	assert_int_equal(sd_state_begin(st, "a", DAY, content_a, "ETH", 1, &max,
	    NREF(105)), 0);
	assert_int_equal(sd_state_begin(st, "b", DAY, content_a, "ETH", 1, &one,
	    NREF(106)), ERR_OVERFLOW);
	assert_int_equal(kind(st, "b", DAY), SD_REQ_NONE);
	/* The refused request did not take its nonce. */
	assert_false(sd_state_nonce_used(st, NREF(106)));
	sd_state_free(st);
}

/* Many ids force growth and probe runs; pruning half in the middle of
 * runs exercises the backward-shift delete. */
static void
test_many_ids(void **unused)
{
	struct sd_state *st;
	char id[32];
	u256 a = amt(1);
	int i;

	assert_int_equal(sd_state_new(&st, 0), 0);
	for (i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "req-%d", i);
		assert_int_equal(sd_state_replay_signed(st, id,
		    DAY + (uint32_t)(i % 2), content_a, "ETH", DAY, &a,
		    NREF((uint64_t)i), &pos_a), 0);
	}
	sd_state_prune(st, DAY + 1);
	for (i = 0; i < 20000; i++) {
		snprintf(id, sizeof(id), "req-%d", i);
		assert_int_equal(kind(st, id, DAY + (uint32_t)(i % 2)),
		    i % 2 == 0 ? SD_REQ_NONE : SD_REQ_SIGNED);
	}
	assert_int_equal(sd_state_count(st), 10000);
	/* Forgotten requests keep their nonces: nothing signs them again. */
	assert_true(sd_state_nonce_used(st, NREF(0)));
	assert_int_equal(sd_state_nonce_count(st), 0);
	sd_state_free(st);
}

/*
 * D55's bound: 100 days of 4000 payouts a day, a 7-day window.  What
 * memory holds is what is live: the requests of the window's 8 days at
 * most 64 bytes each, no nonce held one by one.  Counts, not timings.
 */
static void
test_memory_follows_the_window(void **unused)
{
	struct sd_state *st;
	char id[32];
	u256 a = amt(1);
	uint32_t d;
	uint64_t nonce = 0;
	int i;

	assert_int_equal(sd_state_new(&st, 0), 0);
	for (d = DAY; d < DAY + 100; d++) {
		sd_state_prune(st, (int64_t)d - 7);
		for (i = 0; i < 4000; i++) {
			snprintf(id, sizeof(id), "pay-%u-%d", d, i);
			assert_int_equal(sd_state_replay_signed(st, id, d,
			    content_a, "ETH", d, &a, NREF(nonce), &pos_a), 0);
			nonce++;
		}
		assert_true(sd_state_count(st) <= 8 * 4000);
		assert_true(sd_state_table_bytes(st) <= 64 * 8 * 4000 + 64 * 1024);
	}
	assert_int_equal(sd_state_count(st), 8 * 4000);
	assert_true(sd_state_table_bytes(st) / sd_state_count(st) <= 64);
	assert_int_equal(sd_state_nonce_count(st), 0);
	sd_state_free(st);
}

static void
test_snapshot_round_trip(void **unused)
{
	struct sd_state *st, *st2;
	struct sd_req_found f;
	struct prt_writer w;
	u256 a = amt(70), b = amt(30), c = amt(5);

	assert_int_equal(sd_state_new(&st, 0), 0);
	assert_int_equal(sd_state_replay_signed(st, "x", DAY, content_a, "ETH",
	    DAY, &a, NREF(108), &pos_a), 0);
	assert_int_equal(sd_state_replay_signed(st, "y", DAY, content_b, "ETH",
	    DAY, &b, NREF(109), &pos_b), 0);
	assert_int_equal(sd_state_replay_signed(st, "z", DAY + 1, content_a,
	    "TUSD", DAY + 1, &c, NREF(110), &pos_a), 0);
	/* Older than the window: forgotten before it is written. */
	assert_int_equal(sd_state_replay_signed(st, "old", DAY - 1, content_a,
	    "ETH", DAY - 1, &c, NREF(111), &pos_a), 0);
	/* In flight: must not be in the snapshot. */
	assert_int_equal(sd_state_begin(st, "w", DAY, content_a, "ETH", DAY, &c,
	    NREF(107)), 0);
	prt_writer_init(&w, 1 << 20);
	assert_int_equal(sd_state_serialize(st, &w, DAY), 0);
	assert_memory_equal(w.p, "STT5", 4);

	assert_int_equal(sd_state_new(&st2, 0), 0);
	assert_int_equal(sd_state_deserialize(st2, w.p, w.len), 0);
	assert_int_equal(exposure(st2, "ETH", DAY), 100);
	assert_int_equal(exposure(st2, "TUSD", DAY + 1), 5);
	assert_int_equal(exposure(st2, "ETH", DAY - 1), 0);
	assert_int_equal(sd_state_find(st2, "y", DAY, &f), SD_REQ_SIGNED);
	assert_memory_equal(f.content_tag, content_b, SD_CONTENT_TAG_LEN);
	assert_int_equal(f.pos.seg, 2);
	assert_int_equal(f.pos.off, 300);
	assert_int_equal(kind(st2, "w", DAY), SD_REQ_NONE);
	assert_int_equal(kind(st2, "old", DAY - 1), SD_REQ_NONE);
	assert_int_equal(sd_state_count(st2), 3);
	/* The nonces stay, the forgotten one's too; the in-flight one not. */
	assert_true(sd_state_nonce_used(st2, NREF(111)));
	assert_false(sd_state_nonce_used(st2, NREF(107)));
	sd_state_free(st2);

	/* Any truncation and a trailing byte are refused. */
	for (size_t cut = 0; cut < w.len; cut += 7) {
		assert_int_equal(sd_state_new(&st2, 0), 0);
		assert_int_not_equal(sd_state_deserialize(st2, w.p, cut), 0);
		sd_state_free(st2);
	}
	prt_put_u8(&w, 0);
	assert_int_equal(sd_state_new(&st2, 0), 0);
	assert_int_equal(sd_state_deserialize(st2, w.p, w.len), ERR_TRAILING);
	sd_state_free(st2);
	prt_writer_free(&w);
	sd_state_free(st);
}

/* Requests in the blob: ascending keys (each once), a day, a segment. */
static void
test_snapshot_requests_checked(void **unused)
{
	struct sd_state *st, *st2;
	struct prt_writer w;
	size_t at;
	u256 a = amt(0);	/* no bucket: the requests come first */
	uint8_t save[32];

	assert_int_equal(sd_state_new(&st, 0), 0);
	assert_int_equal(sd_state_replay_signed(st, "x", DAY, content_a, "ETH",
	    DAY, &a, NREF(1), &pos_a), 0);
	assert_int_equal(sd_state_replay_signed(st, "y", DAY, content_a, "ETH",
	    DAY, &a, NREF(2), &pos_b), 0);
	prt_writer_init(&w, 1 << 20);
	assert_int_equal(sd_state_serialize(st, &w, DAY), 0);
	/* The requests come last: count 8, then 32 bytes each. */
	at = w.len - 2 * 32;
	memcpy(save, w.p + at, 32);
	memcpy(w.p + at, w.p + at + 32, 32);	/* the same request twice */
	assert_int_equal(sd_state_new(&st2, 0), 0);
	assert_int_equal(sd_state_deserialize(st2, w.p, w.len), ERR_MALFORMED);
	sd_state_free(st2);
	memcpy(w.p + at, save, 32);
	memset(w.p + at + 12, 0, 4);		/* created day 0 */
	assert_int_equal(sd_state_new(&st2, 0), 0);
	assert_int_equal(sd_state_deserialize(st2, w.p, w.len), ERR_MALFORMED);
	sd_state_free(st2);
	memcpy(w.p + at, save, 32);
	memset(w.p + at + 24, 0, 4);		/* segment 0 */
	assert_int_equal(sd_state_new(&st2, 0), 0);
	assert_int_equal(sd_state_deserialize(st2, w.p, w.len), ERR_MALFORMED);
	sd_state_free(st2);
	memcpy(w.p + at, save, 32);
	assert_int_equal(sd_state_new(&st2, 0), 0);
	assert_int_equal(sd_state_deserialize(st2, w.p, w.len), 0);
	sd_state_free(st2);
	prt_writer_free(&w);
	sd_state_free(st);
}

/* invariant 5: one payout per (key, chain, nonce), released on abort. */
static void
test_nonce_claims(void **unused)
{
	struct sd_state *st;
	u256 a = amt(1);

	assert_int_equal(sd_state_new(&st, 0), 0);
	assert_false(sd_state_nonce_used(st, NREF(5)));
	assert_int_equal(sd_state_begin(st, "p1", DAY, content_a, "ETH", 1, &a,
	    NREF(5)), 0);
	assert_true(sd_state_nonce_used(st, NREF(5)));
	assert_int_equal(sd_state_begin(st, "p2", DAY, content_a, "ETH", 1, &a,
	    NREF(5)), ERR_EXISTS);
	assert_int_equal(kind(st, "p2", DAY), SD_REQ_NONE);
	assert_int_equal(exposure(st, "ETH", 1), 1);
	sd_state_abort(st, "p1", DAY);
	assert_false(sd_state_nonce_used(st, NREF(5)));
	assert_int_equal(sd_state_begin(st, "p2", DAY, content_a, "ETH", 1, &a,
	    NREF(5)), 0);
	assert_int_equal(sd_state_commit(st, "p2", DAY, &pos_a), 0);
	assert_true(sd_state_nonce_used(st, NREF(5)));
	/* Another chain or key is another nonce. */
	assert_false(sd_state_nonce_used(st, (&(struct sd_nonce_ref){
	    .from = { 0x11, 0x11 }, .chain_id = 1, .nonce = 5 })));
	sd_state_free(st);
}

/* A fee bump moves the request to its new record; exposure stays. */
static void
test_fee_bump(void **unused)
{
	struct sd_state *st;
	struct sd_req_found f;
	u256 a = amt(40);

	assert_int_equal(sd_state_new(&st, 0), 0);
	assert_int_equal(sd_state_bump_begin(st, "r", DAY, &pos_a),
	    ERR_NOT_FOUND);
	assert_int_equal(sd_state_begin(st, "r", DAY, content_a, "ETH", DAY + 1000, &a,
	    NREF(1)), 0);
	/* Only a signed request can be bumped. */
	assert_int_equal(sd_state_bump_begin(st, "r", DAY, &pos_a),
	    ERR_NOT_FOUND);
	assert_int_equal(sd_state_commit(st, "r", DAY, &pos_a), 0);
	/* Stale record: somebody bumped it already. */
	assert_int_equal(sd_state_bump_begin(st, "r", DAY, &pos_b), ERR_EXISTS);
	assert_int_equal(sd_state_bump_begin(st, "r", DAY, &pos_a), 0);
	assert_int_equal(kind(st, "r", DAY), SD_REQ_BUMPING);
	assert_int_equal(sd_state_bump_begin(st, "r", DAY, &pos_a), ERR_EXISTS);
	/* A bump being signed is not forgotten by a prune. */
	sd_state_prune(st, DAY + 100);
	assert_int_equal(kind(st, "r", DAY), SD_REQ_BUMPING);
	sd_state_bump_abort(st, "r", DAY);
	assert_int_equal(kind(st, "r", DAY), SD_REQ_SIGNED);
	assert_int_equal(sd_state_bump_begin(st, "r", DAY, &pos_a), 0);
	assert_int_equal(sd_state_bump_commit(st, "r", DAY, content_b, &pos_b),
	    0);
	assert_int_equal(sd_state_find(st, "r", DAY, &f), SD_REQ_SIGNED);
	assert_memory_equal(f.content_tag, content_b, SD_CONTENT_TAG_LEN);
	assert_int_equal(f.pos.seg, 2);
	assert_int_equal(sd_state_bump_commit(st, "r", DAY, content_b, &pos_b),
	    ERR_INVALID_ARG);	/* no bump running */
	assert_int_equal(exposure(st, "ETH", DAY + 1000), 40);
	assert_int_equal(sd_state_count(st), 1);
	/* Replay of a bump: the same move. */
	assert_int_equal(sd_state_replay_bump(st, "r", DAY, content_a, &pos_a),
	    0);
	assert_int_equal(sd_state_find(st, "r", DAY, &f), SD_REQ_SIGNED);
	assert_memory_equal(f.content_tag, content_a, SD_CONTENT_TAG_LEN);
	assert_int_equal(sd_state_replay_bump(st, "nope", DAY, content_a,
	    &pos_a), ERR_NOT_FOUND);
	assert_int_equal(exposure(st, "ETH", DAY + 1000), 40);
	sd_state_free(st);
}

/* signerd never journals two payouts on one nonce: replay refuses. */
static void
test_replay_nonce_taken(void **unused)
{
	struct sd_state *st;
	u256 a = amt(3);

	assert_int_equal(sd_state_new(&st, 0), 0);
	assert_int_equal(sd_state_replay_signed(st, "old1", DAY, content_a,
	    "ETH", 1, &a, NREF(0), &pos_a), 0);
	assert_int_equal(sd_state_replay_signed(st, "old2", DAY, content_a,
	    "ETH", 1, &a, NREF(0), &pos_b), ERR_EXISTS);
	assert_int_equal(kind(st, "old2", DAY), SD_REQ_NONE);
	assert_int_equal(exposure(st, "ETH", 1), 3);
	sd_state_free(st);
}

/* A cancel names the id alone: any created day in the range. */
static void
test_find_any(void **unused)
{
	struct sd_state *st;
	struct sd_req_found f;
	u256 a = amt(3);

	assert_int_equal(sd_state_new(&st, 0), 0);
	assert_int_equal(sd_state_replay_signed(st, "c", DAY - 3, content_a,
	    "ETH", 1, &a, NREF(0), &pos_a), 0);
	assert_int_equal(sd_state_find_any(st, "c", DAY - 7, DAY + 1, &f),
	    SD_REQ_SIGNED);
	assert_int_equal(sd_state_find_any(st, "c", DAY - 2, DAY + 1, &f),
	    SD_REQ_NONE);
	assert_int_equal(sd_state_find_any(st, "d", DAY - 7, DAY + 1, &f),
	    SD_REQ_NONE);
	sd_state_free(st);
}

static void
test_newest_time(void **unused)
{
	struct sd_state *st;

	assert_int_equal(sd_state_new(&st, 0), 0);
	assert_true(sd_state_newest_time(st) < 0);
	sd_state_note_time(st, 1000);
	sd_state_note_time(st, 990);	/* never lowered */
	assert_int_equal(sd_state_newest_time(st), 1000);
	sd_state_free(st);
}

/* The other parts: the queue, the pause, seen approvals and time survive. */
static void
test_snapshot_other_parts(void **unused)
{
	static const uint8_t intent[32] = { 7 }, sig[] = { 1, 2, 3 };
	struct sd_state *st, *st2;
	struct sd_pause_state ps;
	const struct sd_queued *q;
	struct prt_writer w;
	u256 a = amt(9);

	assert_int_equal(sd_state_new(&st, 1), 0);	/* genesis-paused */
	assert_int_equal(sd_state_replay_signed(st, "s1", DAY, content_a, "ETH",
	    1, &a, NREF(77), &pos_a), 0);
	assert_int_equal(sd_queue_begin(sd_state_queue(st), "q1", intent, 100,
	    130), 0);
	assert_int_equal(sd_queue_commit(sd_state_queue(st), "q1"), 0);
	assert_int_equal(sd_queue_begin(sd_state_queue(st), "q2", intent, 100,
	    130), 0);
	assert_int_equal(sd_queue_commit(sd_state_queue(st), "q2"), 0);
	assert_int_equal(sd_queue_cancel(sd_state_queue(st), "q2"), 0);
	/* Pending: not durable, not in the snapshot. */
	assert_int_equal(sd_queue_begin(sd_state_queue(st), "q3", intent, 100,
	    100), 0);
	assert_int_equal(sd_pause_clear(sd_state_pause(st), "genesis"), 0);
	assert_int_equal(sd_pause_set(sd_state_pause(st), "inc-1", "erin"), 0);
	assert_int_equal(sd_seen_add(sd_state_seen(st), sig, sizeof(sig),
	    "sign s1", 99999), 0);
	sd_state_note_time(st, 12345);
	prt_writer_init(&w, 1 << 20);
	assert_int_equal(sd_state_serialize(st, &w, DAY), 0);

	assert_int_equal(sd_state_new(&st2, 0), 0);
	assert_int_equal(sd_state_deserialize(st2, w.p, w.len), 0);
	assert_true(sd_state_nonce_used(st2, NREF(77)));
	q = sd_queue_find(sd_state_queue(st2), "q1");
	assert_non_null(q);
	assert_int_equal(q->status, SD_Q_QUEUED);
	assert_int_equal(q->earliest, 130);
	assert_memory_equal(q->intent, intent, 32);
	assert_int_equal(sd_queue_find(sd_state_queue(st2), "q2")->status,
	    SD_Q_CANCELLED);
	assert_null(sd_queue_find(sd_state_queue(st2), "q3"));
	sd_pause_get(sd_state_pause(st2), &ps);
	assert_true(ps.paused);
	assert_string_equal(ps.id, "inc-1");
	assert_string_equal(ps.by, "erin");
	assert_true(sd_pause_id_used(sd_state_pause(st2), "genesis"));
	assert_string_equal(sd_seen_find(sd_state_seen(st2), sig, sizeof(sig)),
	    "sign s1");
	assert_int_equal(sd_state_newest_time(st2), 12345);
	sd_state_free(st2);

	/* Earlier formats (STT4: whole transactions) are refused, not
	 * misread. */
	memcpy(w.p, "STT4", 4);
	assert_int_equal(sd_state_new(&st2, 0), 0);
	assert_int_equal(sd_state_deserialize(st2, w.p, w.len),
	    ERR_BAD_VERSION);
	sd_state_free(st2);
	prt_writer_free(&w);
	sd_state_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserve_commit_abort),
		cmocka_unit_test(test_duplicate_id_refused),
		cmocka_unit_test(test_overflow_refused),
		cmocka_unit_test(test_many_ids),
		cmocka_unit_test(test_memory_follows_the_window),
		cmocka_unit_test(test_snapshot_round_trip),
		cmocka_unit_test(test_snapshot_requests_checked),
		cmocka_unit_test(test_nonce_claims),
		cmocka_unit_test(test_fee_bump),
		cmocka_unit_test(test_replay_nonce_taken),
		cmocka_unit_test(test_find_any),
		cmocka_unit_test(test_newest_time),
		cmocka_unit_test(test_snapshot_other_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
