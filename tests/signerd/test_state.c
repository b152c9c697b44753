/* test_state.c: exposure reservations, idempotency table, snapshot blobs. */
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
static const uint8_t hash_a[32] = { 0xaa };
static const uint8_t raw_a[] = { 0x02, 0xf8, 0x01 };

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

static void
test_reserve_commit_abort(void **unused)
{
	struct sd_state *st;
	u256 a = amt(100), b = amt(50);

	assert_int_equal(sd_state_new(&st, 0), 0);
	assert_int_equal(sd_state_begin(st, "r1", content_a, "ETH", 7, &a,
	    NREF(101)), 0);
	/* In-flight reservations count toward exposure (invariant 2). */
	assert_int_equal(exposure(st, "ETH", 7), 100);
	assert_int_equal(sd_state_begin(st, "r2", content_a, "ETH", 7, &b,
	    NREF(102)), 0);
	assert_int_equal(exposure(st, "ETH", 7), 150);
	sd_state_abort(st, "r2");
	assert_int_equal(exposure(st, "ETH", 7), 100);
	assert_null(sd_state_find(st, "r2"));
	assert_int_equal(sd_state_commit(st, "r1", hash_a, raw_a,
	    sizeof(raw_a)), 0);
	assert_int_equal(exposure(st, "ETH", 7), 100);
	assert_int_equal(exposure(st, "ETH", 8), 0);
	assert_int_equal(exposure(st, "TUSD", 7), 0);
	assert_int_equal(sd_state_find(st, "r1")->status, SD_REQ_SIGNED);
	assert_memory_equal(sd_state_find(st, "r1")->raw, raw_a, sizeof(raw_a));
	/* Committing twice, or a request never begun, is refused. */
	assert_int_equal(sd_state_commit(st, "r1", hash_a, raw_a,
	    sizeof(raw_a)), ERR_INVALID_ARG);
	assert_int_equal(sd_state_commit(st, "nope", hash_a, raw_a,
	    sizeof(raw_a)), ERR_INVALID_ARG);
	/* Abort of a signed request must not release its exposure. */
	sd_state_abort(st, "r1");
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
	assert_int_equal(sd_state_begin(st, "dup", content_a, "ETH", 1, &a,
	    NREF(103)), 0);
	assert_int_equal(sd_state_begin(st, "dup", content_a, "ETH", 1, &a,
	    NREF(104)),
	    ERR_EXISTS);
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
	assert_int_equal(sd_state_begin(st, "a", content_a, "ETH", 1, &max,
	    NREF(105)), 0);
	assert_int_equal(sd_state_begin(st, "b", content_a, "ETH", 1, &one,
	    NREF(106)),
	    ERR_OVERFLOW);
	assert_null(sd_state_find(st, "b"));
	sd_state_free(st);
}

/* Many ids force growth and probe runs; abort in the middle of runs
 * exercises the backward-shift delete. */
static void
test_many_ids(void **unused)
{
	struct sd_state *st;
	char id[32];
	u256 a = amt(1);
	int i;

	assert_int_equal(sd_state_new(&st, 0), 0);
	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "req-%d", i);
		assert_int_equal(sd_state_begin(st, id, content_a, "ETH", 1,
		    &a, NREF(i)), 0);
	}
	for (i = 0; i < 5000; i += 2) {
		snprintf(id, sizeof(id), "req-%d", i);
		sd_state_abort(st, id);
	}
	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "req-%d", i);
		if (i % 2 == 0)
			assert_null(sd_state_find(st, id));
		else
			assert_non_null(sd_state_find(st, id));
	}
	assert_int_equal(exposure(st, "ETH", 1), 2500);
	sd_state_free(st);
}

static void
test_snapshot_round_trip(void **unused)
{
	struct sd_state *st, *st2;
	struct prt_writer w;
	u256 a = amt(70), b = amt(30), c = amt(5);

	assert_int_equal(sd_state_new(&st, 0), 0);
	assert_int_equal(sd_state_replay_signed(st, "x", content_a, "ETH", 3,
	    &a, hash_a, raw_a, sizeof(raw_a), NREF(108)), 0);
	assert_int_equal(sd_state_replay_signed(st, "y", content_a, "ETH", 3,
	    &b, hash_a, raw_a, sizeof(raw_a), NREF(109)), 0);
	assert_int_equal(sd_state_replay_signed(st, "z", content_a, "TUSD", 4,
	    &c, hash_a, raw_a, sizeof(raw_a), NREF(110)), 0);
	/* In flight: must not be in the snapshot. */
	assert_int_equal(sd_state_begin(st, "w", content_a, "ETH", 3, &c,
	    NREF(107)), 0);
	prt_writer_init(&w, 1 << 20);
	assert_int_equal(sd_state_serialize(st, &w), 0);

	assert_int_equal(sd_state_new(&st2, 0), 0);
	assert_int_equal(sd_state_deserialize(st2, w.p, w.len), 0);
	assert_int_equal(exposure(st2, "ETH", 3), 100);
	assert_int_equal(exposure(st2, "TUSD", 4), 5);
	assert_non_null(sd_state_find(st2, "y"));
	assert_null(sd_state_find(st2, "w"));
	assert_int_equal(sd_state_count(st2), 3);
	sd_state_free(st2);

	/* A blob whose stored total disagrees with its requests is refused;
	 * so is any truncation and a trailing byte. */
	w.p[8 + 4 + 3 + 8 + 31] ^= 1;
	assert_int_equal(sd_state_new(&st2, 0), 0);
	assert_int_equal(sd_state_deserialize(st2, w.p, w.len), ERR_MALFORMED);
	sd_state_free(st2);
	w.p[8 + 4 + 3 + 8 + 31] ^= 1;
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

/* invariant 5: one payout per (key, chain, nonce), released on abort. */
static void
test_nonce_claims(void **unused)
{
	struct sd_state *st;
	u256 a = amt(1);

	assert_int_equal(sd_state_new(&st, 0), 0);
	assert_null(sd_state_nonce_owner(st, NREF(5)));
	assert_int_equal(sd_state_begin(st, "p1", content_a, "ETH", 1, &a,
	    NREF(5)), 0);
	assert_string_equal(sd_state_nonce_owner(st, NREF(5)), "p1");
	assert_int_equal(sd_state_begin(st, "p2", content_a, "ETH", 1, &a,
	    NREF(5)), ERR_EXISTS);
	assert_null(sd_state_find(st, "p2"));
	assert_int_equal(exposure(st, "ETH", 1), 1);
	sd_state_abort(st, "p1");
	assert_null(sd_state_nonce_owner(st, NREF(5)));
	assert_int_equal(sd_state_begin(st, "p2", content_a, "ETH", 1, &a,
	    NREF(5)), 0);
	assert_int_equal(sd_state_commit(st, "p2", hash_a, raw_a,
	    sizeof(raw_a)), 0);
	assert_string_equal(sd_state_nonce_owner(st, NREF(5)), "p2");
	/* Another chain or key is another nonce. */
	assert_null(sd_state_nonce_owner(st, (&(struct sd_nonce_ref){
	    .from = { 0x11, 0x11 }, .chain_id = 1, .nonce = 5 })));
	sd_state_free(st);
}

/* A fee bump replaces the transaction; exposure stays (counted once). */
static void
test_fee_bump(void **unused)
{
	static const uint8_t content_b[32] = { 2 }, hash_b[32] = { 0xbb };
	static const uint8_t raw_b[] = { 0x02, 0xf8, 0x02, 0x03 };
	struct sd_state *st;
	u256 a = amt(40);

	assert_int_equal(sd_state_new(&st, 0), 0);
	assert_int_equal(sd_state_bump_begin(st, "r", content_a),
	    ERR_NOT_FOUND);
	assert_int_equal(sd_state_begin(st, "r", content_a, "ETH", 2, &a,
	    NREF(1)), 0);
	/* Only a signed request can be bumped. */
	assert_int_equal(sd_state_bump_begin(st, "r", content_a),
	    ERR_NOT_FOUND);
	assert_int_equal(sd_state_commit(st, "r", hash_a, raw_a,
	    sizeof(raw_a)), 0);
	/* Stale content: somebody bumped it already. */
	assert_int_equal(sd_state_bump_begin(st, "r", content_b), ERR_EXISTS);
	assert_int_equal(sd_state_bump_begin(st, "r", content_a), 0);
	assert_int_equal(sd_state_bump_begin(st, "r", content_a), ERR_EXISTS);
	sd_state_bump_abort(st, "r");
	assert_int_equal(sd_state_bump_begin(st, "r", content_a), 0);
	assert_int_equal(sd_state_bump_commit(st, "r", content_b, hash_b,
	    raw_b, sizeof(raw_b)), 0);
	assert_memory_equal(sd_state_find(st, "r")->raw, raw_b, sizeof(raw_b));
	assert_memory_equal(sd_state_find(st, "r")->content, content_b, 32);
	assert_int_equal(sd_state_bump_commit(st, "r", content_b, hash_b,
	    raw_b, sizeof(raw_b)), ERR_INVALID_ARG);	/* no bump running */
	assert_int_equal(exposure(st, "ETH", 2), 40);
	assert_int_equal(sd_state_count(st), 1);
	/* Replay of a bump: the same replacement. */
	assert_int_equal(sd_state_replay_bump(st, "r", content_a, hash_a,
	    raw_a, sizeof(raw_a)), 0);
	assert_memory_equal(sd_state_find(st, "r")->content, content_a, 32);
	assert_int_equal(sd_state_replay_bump(st, "nope", content_a, hash_a,
	    raw_a, sizeof(raw_a)), ERR_NOT_FOUND);
	assert_int_equal(exposure(st, "ETH", 2), 40);
	sd_state_free(st);
}

/* An old journal may hold two payouts on one nonce: the first keeps it. */
static void
test_replay_nonce_taken(void **unused)
{
	struct sd_state *st;
	u256 a = amt(3);

	/* signerd never journals two payouts on one nonce: replay refuses. */
	assert_int_equal(sd_state_new(&st, 0), 0);
	assert_int_equal(sd_state_replay_signed(st, "old1", content_a, "ETH",
	    1, &a, hash_a, raw_a, sizeof(raw_a), NREF(0)), 0);
	assert_int_equal(sd_state_replay_signed(st, "old2", content_a, "ETH",
	    1, &a, hash_a, raw_a, sizeof(raw_a), NREF(0)), ERR_EXISTS);
	assert_string_equal(sd_state_nonce_owner(st, NREF(0)), "old1");
	assert_int_equal(exposure(st, "ETH", 1), 3);
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

/* STT2/STT3: nonces, the queue, the pause, seen approvals, time and receipts survive. */
static void
test_snapshot_v2_parts(void **unused)
{
	static const uint8_t intent[32] = { 7 }, sig[] = { 1, 2, 3 };
	struct sd_state *st, *st2;
	struct sd_pause_state ps;
	const struct sd_queued *q;
	struct prt_writer w;
	u256 a = amt(9);

	assert_int_equal(sd_state_new(&st, 1), 0);	/* genesis-paused */
	assert_int_equal(sd_state_replay_signed(st, "s1", content_a, "ETH",
	    1, &a, hash_a, raw_a, sizeof(raw_a), NREF(77)), 0);
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
	assert_int_equal(sd_state_serialize(st, &w), 0);
	assert_memory_equal(w.p, "STT4", 4);

	assert_int_equal(sd_state_new(&st2, 0), 0);
	assert_int_equal(sd_state_deserialize(st2, w.p, w.len), 0);
	assert_string_equal(sd_state_nonce_owner(st2, NREF(77)), "s1");
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

	/* Version 1 blobs are another format: refused, not misread. */
	memcpy(w.p, "STT1", 4);
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
		cmocka_unit_test(test_snapshot_round_trip),
		cmocka_unit_test(test_nonce_claims),
		cmocka_unit_test(test_fee_bump),
		cmocka_unit_test(test_replay_nonce_taken),
		cmocka_unit_test(test_newest_time),
		cmocka_unit_test(test_snapshot_v2_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
