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

	assert_int_equal(sd_state_new(&st), 0);
	assert_int_equal(sd_state_begin(st, "r1", content_a, "ETH", 7, &a), 0);
	/* In-flight reservations count toward exposure (invariant 2). */
	assert_int_equal(exposure(st, "ETH", 7), 100);
	assert_int_equal(sd_state_begin(st, "r2", content_a, "ETH", 7, &b), 0);
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

	assert_int_equal(sd_state_new(&st), 0);
	assert_int_equal(sd_state_begin(st, "dup", content_a, "ETH", 1, &a), 0);
	assert_int_equal(sd_state_begin(st, "dup", content_a, "ETH", 1, &a),
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

	assert_int_equal(sd_state_new(&st), 0);
	assert_int_equal(sd_state_begin(st, "a", content_a, "ETH", 1, &max), 0);
	assert_int_equal(sd_state_begin(st, "b", content_a, "ETH", 1, &one),
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

	assert_int_equal(sd_state_new(&st), 0);
	for (i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "req-%d", i);
		assert_int_equal(sd_state_begin(st, id, content_a, "ETH", 1,
		    &a), 0);
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

	assert_int_equal(sd_state_new(&st), 0);
	assert_int_equal(sd_state_replay_signed(st, "x", content_a, "ETH", 3,
	    &a, hash_a, raw_a, sizeof(raw_a)), 0);
	assert_int_equal(sd_state_replay_signed(st, "y", content_a, "ETH", 3,
	    &b, hash_a, raw_a, sizeof(raw_a)), 0);
	assert_int_equal(sd_state_replay_signed(st, "z", content_a, "TUSD", 4,
	    &c, hash_a, raw_a, sizeof(raw_a)), 0);
	/* In flight: must not be in the snapshot. */
	assert_int_equal(sd_state_begin(st, "w", content_a, "ETH", 3, &c), 0);
	prt_writer_init(&w, 1 << 20);
	assert_int_equal(sd_state_serialize(st, &w), 0);

	assert_int_equal(sd_state_new(&st2), 0);
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
	assert_int_equal(sd_state_new(&st2), 0);
	assert_int_equal(sd_state_deserialize(st2, w.p, w.len), ERR_MALFORMED);
	sd_state_free(st2);
	w.p[8 + 4 + 3 + 8 + 31] ^= 1;
	for (size_t cut = 0; cut < w.len; cut += 7) {
		assert_int_equal(sd_state_new(&st2), 0);
		assert_int_not_equal(sd_state_deserialize(st2, w.p, cut), 0);
		sd_state_free(st2);
	}
	prt_put_u8(&w, 0);
	assert_int_equal(sd_state_new(&st2), 0);
	assert_int_equal(sd_state_deserialize(st2, w.p, w.len), ERR_TRAILING);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
