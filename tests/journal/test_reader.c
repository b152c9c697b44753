/* test_reader.c: iterating records read-only, as `signerctl audit show` does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/log.h"
#include "journal/journal.h"
#include "jnl_test.h"

static void
test_iterates_across_segments(void **state)
{
	char dir[PATH_MAX], seg[PATH_MAX], want[32];
	struct jnl_reader *rd;
	struct jnl_record rec;
	struct jnl_error e;
	uint64_t n = 0, last_off = 0;
	char last_seg[40] = "";
	int r, segs = 0;
	size_t len;
	char *b;

	t_mkdtemp(dir);
	assert_int_equal(t_make_journal(dir, 30, 1500), 0);
	assert_int_equal(jnl_reader_open(&rd, &e, dir), 0);
	while ((r = jnl_reader_next(rd, &rec, &e)) == 1) {
		n++;
		assert_int_equal(rec.seq, n);
		snprintf(want, sizeof(want), "req-%llu", (unsigned long long)n);
		assert_string_equal(json_string_value(json_object_get(rec.json,
		    "request")), want);
		assert_int_equal(rec.line[0], '{');
		assert_int_equal(rec.line[rec.len - 1], '}');
		if (strcmp(rec.segment, last_seg) != 0) {
			segs++;
			assert_int_equal(rec.offset, 0);
			snprintf(last_seg, sizeof(last_seg), "%s", rec.segment);
		} else {
			assert_true(rec.offset > last_off);
		}
		last_off = rec.offset;
	}
	assert_int_equal(r, 0);
	assert_int_equal(n, 30);
	assert_true(segs >= 3);
	jnl_reader_close(rd);

	/* Tampering: records up to it, then the error. */
	t_seg_path(seg, dir, 1);
	b = t_read(seg, &len);
	b[t_line_off(b, len, 3)] = '[';
	t_write(seg, b, len);
	free(b);
	assert_int_equal(jnl_reader_open(&rd, &e, dir), 0);
	assert_int_equal(jnl_reader_next(rd, &rec, &e), 1);
	assert_int_equal(jnl_reader_next(rd, &rec, &e), 1);
	assert_int_equal(jnl_reader_next(rd, &rec, &e), ERR_MALFORMED);
	assert_int_equal(e.seq, 3);
	jnl_reader_close(rd);
	t_rm_rf(dir);
}

static void
test_torn_tail_and_missing(void **state)
{
	char dir[PATH_MAX], seg[PATH_MAX], missing[PATH_MAX + 8];
	struct jnl_reader *rd = (struct jnl_reader *)1;
	struct jnl_record rec;
	struct jnl_error e;
	size_t len;
	char *b;
	int n = 0;

	t_mkdtemp(dir);
	assert_int_equal(t_make_journal(dir, 3, 0), 0);
	t_seg_path(seg, dir, 1);
	b = t_read(seg, &len);
	t_write(seg, b, len - 2);
	free(b);
	assert_int_equal(jnl_reader_open(&rd, &e, dir), 0);
	while (jnl_reader_next(rd, &rec, &e) == 1)
		n++;
	assert_int_equal(n, 2);
	jnl_reader_close(rd);
	snprintf(missing, sizeof(missing), "%s/nope", dir);
	assert_int_equal(jnl_reader_open(&rd, &e, missing), ERR_NOT_FOUND);
	assert_null(rd);
	t_rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iterates_across_segments),
		cmocka_unit_test(test_torn_tail_and_missing),
	};

	log_init("test_reader", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
