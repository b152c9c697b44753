/* test_timelock.c: the queue's states and the rule deciding when a queued payout may be signed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "signerd/timelock.h"

static const uint8_t intent[32] = { 0x42 };

static void
test_states(void **unused)
{
	struct sd_queue *q;

	assert_int_equal(sd_queue_new(&q), 0);
	assert_int_equal(sd_queue_begin(q, "r", intent, 100, 99),
	    ERR_INVALID_ARG);
	assert_int_equal(sd_queue_begin(q, "", intent, 100, 130),
	    ERR_INVALID_ARG);
	assert_int_equal(sd_queue_begin(q, "r", intent, 100, 130), 0);
	assert_int_equal(sd_queue_begin(q, "r", intent, 100, 130), ERR_EXISTS);
	assert_int_equal(sd_queue_find(q, "r")->status, SD_Q_PENDING);
	/* Pending cannot be cancelled: it is not queued yet. */
	assert_int_equal(sd_queue_cancel(q, "r"), ERR_NOT_FOUND);
	sd_queue_abort(q, "r");
	assert_null(sd_queue_find(q, "r"));
	assert_int_equal(sd_queue_begin(q, "r", intent, 100, 130), 0);
	assert_int_equal(sd_queue_commit(q, "r"), 0);
	assert_int_equal(sd_queue_commit(q, "r"), ERR_NOT_FOUND);
	sd_queue_abort(q, "r");		/* not pending: stays */
	assert_int_equal(sd_queue_find(q, "r")->status, SD_Q_QUEUED);
	assert_int_equal(sd_queue_cancel(q, "r"), 0);
	assert_int_equal(sd_queue_cancel(q, "r"), ERR_NOT_FOUND);
	assert_int_equal(sd_queue_uncancel(q, "r"), 0);
	assert_int_equal(sd_queue_find(q, "r")->status, SD_Q_QUEUED);
	assert_int_equal(sd_queue_count(q), 1);
	sd_queue_free(q);
}

static void
test_rule(void **unused)
{
	struct sd_queued e;
	int64_t rem;

	memset(&e, 0, sizeof(e));
	e.queued_at = 1000;
	e.earliest = 1030;
	e.status = SD_Q_QUEUED;
	assert_int_equal(sd_timelock_check(NULL, 2000, &rem),
	    POL_TIMELOCK_NOT_QUEUED);
	assert_int_equal(sd_timelock_check(&e, 1010, &rem),
	    POL_TIMELOCK_PENDING);
	assert_int_equal(rem, 20);
	assert_int_equal(sd_timelock_check(&e, 1029, &rem),
	    POL_TIMELOCK_PENDING);
	assert_int_equal(rem, 1);
	assert_int_equal(sd_timelock_check(&e, 1030, &rem), POL_OK);
	assert_int_equal(rem, 0);
	assert_int_equal(sd_timelock_check(&e, 5001, &rem), POL_OK);
	e.status = SD_Q_CANCELLED;
	assert_int_equal(sd_timelock_check(&e, 5001, &rem),
	    POL_TIMELOCK_CANCELLED);
	e.status = SD_Q_PENDING;
	assert_int_equal(sd_timelock_check(&e, 5001, &rem),
	    POL_TIMELOCK_NOT_QUEUED);
}

static void
test_intent_hash(void **unused)
{
	struct pol_intent a, b;
	uint8_t ha[32], hb[32];

	memset(&a, 0, sizeof(a));
	strcpy(a.asset_name, "ETH");
	a.chain_id = 1337;
	memset(a.recipient, 0x70, sizeof(a.recipient));
	u256_from_u64(&a.amount, 5);
	a.nonce = 1;
	b = a;
	b.nonce = 2;	/* nonce and fees are not part of what is queued */
	u256_from_u64(&b.max_fee_per_gas, 9);
	sd_intent_hash(ha, &a);
	sd_intent_hash(hb, &b);
	assert_memory_equal(ha, hb, 32);
	u256_from_u64(&b.amount, 6);
	sd_intent_hash(hb, &b);
	assert_memory_not_equal(ha, hb, 32);
	b = a;
	b.recipient[0] ^= 1;
	sd_intent_hash(hb, &b);
	assert_memory_not_equal(ha, hb, 32);
	b = a;
	b.chain_id = 1;
	sd_intent_hash(hb, &b);
	assert_memory_not_equal(ha, hb, 32);
}

static void
test_serialize(void **unused)
{
	struct sd_queue *q, *q2;
	struct prt_writer w;
	struct prt_reader rd;

	assert_int_equal(sd_queue_new(&q), 0);
	assert_int_equal(sd_queue_begin(q, "a", intent, 1, 31), 0);
	assert_int_equal(sd_queue_commit(q, "a"), 0);
	sd_queue_set_version(q, "a", 3);
	assert_int_equal(sd_queue_begin(q, "b", intent, 2, 32), 0);
	assert_int_equal(sd_queue_commit(q, "b"), 0);
	assert_int_equal(sd_queue_cancel(q, "b"), 0);
	assert_int_equal(sd_queue_begin(q, "c", intent, 3, 33), 0);
	prt_writer_init(&w, 4096);
	assert_int_equal(sd_queue_serialize(q, &w), 0);
	assert_int_equal(sd_queue_new(&q2), 0);
	prt_reader_init(&rd, w.p, w.len);
	assert_int_equal(sd_queue_deserialize(q2, &rd), 0);
	assert_int_equal(prt_end(&rd), 0);
	assert_int_equal(sd_queue_count(q2), 2);
	assert_int_equal(sd_queue_find(q2, "a")->earliest, 31);
	/* The policy version it was queued under survives (D52). */
	assert_int_equal(sd_queue_find(q2, "a")->version, 3);
	assert_int_equal(sd_queue_find(q2, "b")->status, SD_Q_CANCELLED);
	assert_null(sd_queue_find(q2, "c"));
	/* A status byte out of range is refused (the version follows it). */
	w.p[w.len - 5] = 9;
	sd_queue_free(q2);
	assert_int_equal(sd_queue_new(&q2), 0);
	prt_reader_init(&rd, w.p, w.len);
	assert_int_not_equal(sd_queue_deserialize(q2, &rd), 0);
	sd_queue_free(q2);
	prt_writer_free(&w);
	sd_queue_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_intent_hash),
		cmocka_unit_test(test_serialize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
