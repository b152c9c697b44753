/* test_pause.c: pause ids used once, unpause names the pause in force, restore and snapshots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "signerd/pause.h"

static void
test_pause_cycle(void **unused)
{
	struct sd_pause *p;
	struct sd_pause_state s, saved;

	assert_int_equal(sd_pause_new(&p, 0), 0);
	assert_false(sd_pause_active(p));
	assert_true(sd_pause_id_used(p, SD_PAUSE_GENESIS));
	assert_int_equal(sd_pause_set(p, SD_PAUSE_GENESIS, "alice"),
	    ERR_EXISTS);
	assert_int_equal(sd_pause_set(p, "", "alice"), ERR_INVALID_ARG);
	assert_int_equal(sd_pause_clear(p, "p1"), ERR_NOT_FOUND);
	assert_int_equal(sd_pause_set(p, "p1", "alice"), 0);
	sd_pause_get(p, &s);
	assert_true(s.paused);
	assert_string_equal(s.id, "p1");
	assert_string_equal(s.by, "alice");
	/* A second pause while paused: the newer one is in force. */
	sd_pause_get(p, &saved);
	assert_int_equal(sd_pause_set(p, "p2", "bob"), 0);
	/* An unpause for p1 does not lift p2. */
	assert_int_equal(sd_pause_clear(p, "p1"), ERR_NOT_FOUND);
	assert_true(sd_pause_active(p));
	/* Undo after a failed write: p1 back in force, p2 stays used. */
	sd_pause_restore(p, &saved);
	sd_pause_get(p, &s);
	assert_string_equal(s.id, "p1");
	assert_true(sd_pause_id_used(p, "p2"));
	assert_int_equal(sd_pause_clear(p, "p1"), 0);
	assert_false(sd_pause_active(p));
	/* Ids are never reused, even after the pause was lifted. */
	assert_int_equal(sd_pause_set(p, "p1", "carol"), ERR_EXISTS);
	sd_pause_free(p);
}

static void
test_genesis_paused(void **unused)
{
	struct sd_pause *p;
	struct sd_pause_state s;

	assert_int_equal(sd_pause_new(&p, 1), 0);
	sd_pause_get(p, &s);
	assert_true(s.paused);
	assert_string_equal(s.id, SD_PAUSE_GENESIS);
	assert_string_equal(s.by, "");
	assert_int_equal(sd_pause_clear(p, SD_PAUSE_GENESIS), 0);
	sd_pause_free(p);
}

static void
test_serialize(void **unused)
{
	struct sd_pause *p, *p2;
	struct sd_pause_state s;
	struct prt_writer w;
	struct prt_reader rd;

	assert_int_equal(sd_pause_new(&p, 0), 0);
	assert_int_equal(sd_pause_set(p, "old", "alice"), 0);
	assert_int_equal(sd_pause_clear(p, "old"), 0);
	assert_int_equal(sd_pause_set(p, "now", "erin"), 0);
	prt_writer_init(&w, 4096);
	assert_int_equal(sd_pause_serialize(p, &w), 0);
	assert_int_equal(sd_pause_new(&p2, 1), 0);
	prt_reader_init(&rd, w.p, w.len);
	assert_int_equal(sd_pause_deserialize(p2, &rd), 0);
	assert_int_equal(prt_end(&rd), 0);
	sd_pause_get(p2, &s);
	assert_string_equal(s.id, "now");
	assert_true(sd_pause_id_used(p2, "old"));
	sd_pause_free(p2);
	/* paused = 1 with no id is not a state signerd writes. */
	w.p[0] = 2;
	assert_int_equal(sd_pause_new(&p2, 0), 0);
	prt_reader_init(&rd, w.p, w.len);
	assert_int_equal(sd_pause_deserialize(p2, &rd), ERR_MALFORMED);
	sd_pause_free(p2);
	prt_writer_free(&w);
	sd_pause_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pause_cycle),
		cmocka_unit_test(test_genesis_paused),
		cmocka_unit_test(test_serialize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
