/* test_scan.c: the hash-only walk over segment bytes held in memory (open, verify, fuzz). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "journal/internal.h"

/* Five chained lines "{"prev":..,"seq":N,"type":"tN"}\n" in one buffer. */
static size_t
five(uint8_t *out, size_t cap, size_t off[6])
{
	struct jnl_hasher h;
	struct prt_writer w;
	uint8_t prev[32] = { 0 }, hash[32];
	char body[32];
	size_t n;
	int i;

	assert_int_equal(jnl_hasher_init(&h), 0);
	prt_writer_init(&w, cap);
	for (i = 0; i < 5; i++) {
		off[i] = w.len;
		snprintf(body, sizeof(body), "{\"type\":\"t%d\"}", i + 1);
		assert_int_equal(jnl_fmt_line(&w, hash, &h, (uint64_t)i + 1,
		    prev, body, strlen(body)), 0);
		memcpy(prev, hash, 32);
	}
	off[5] = w.len;
	memcpy(out, w.p, w.len);
	n = w.len;
	prt_writer_free(&w);
	jnl_hasher_free(&h);
	return n;
}

static int
scan(size_t *complete, struct jnl_error *e, const uint8_t *b, size_t len,
    int last, uint64_t *head)
{
	struct jnl_scan s;
	int r;

	assert_int_equal(jnl_scan_init(&s), 0);
	r = jnl_scan_buffer(&s, complete, e, 1, b, len, last);
	*head = s.seq;
	jnl_scan_free(&s);
	return r;
}

static void
test_good_and_torn(void **state)
{
	uint8_t b[2048];
	size_t off[6], len = five(b, sizeof(b), off), done;
	struct jnl_error e;
	uint64_t head;

	assert_int_equal(scan(&done, &e, b, len, 1, &head), 0);
	assert_int_equal(done, len);
	assert_int_equal(head, 5);
	assert_int_equal(scan(&done, &e, b, 0, 1, &head), 0);
	assert_int_equal(head, 0);
	/* Torn in the newest segment: whole lines counted, no error. */
	assert_int_equal(scan(&done, &e, b, off[4] + 7, 1, &head), 0);
	assert_int_equal(done, off[4]);
	assert_int_equal(head, 4);
	/* The same bytes followed by a newer segment: an error. */
	assert_int_equal(scan(&done, &e, b, off[4] + 7, 0, &head),
	    ERR_MALFORMED);
	assert_int_equal(e.offset, off[4]);
	assert_string_equal(e.segment, "seg-00000001.jsonl");
}

static void
test_blame(void **state)
{
	uint8_t b[2048], c[2048];
	size_t off[6], len = five(b, sizeof(b), off), done;
	struct jnl_error e;
	uint64_t head;

	/* Body of record 2 altered: record 3 breaks, record 4 still
	 * vouches for 3, so 2 is named. */
	memcpy(c, b, len);
	c[off[2] - 3] = '9';
	assert_int_equal(scan(&done, &e, c, len, 1, &head), ERR_MALFORMED);
	assert_int_equal(e.offset, off[1]);
	assert_int_equal(e.seq, 2);
	/* prev of record 3 altered: 4 no longer vouches for it. */
	memcpy(c, b, len);
	c[off[2] + 20] = c[off[2] + 20] == 'a' ? 'b' : 'a';
	assert_int_equal(scan(&done, &e, c, len, 1, &head), ERR_MALFORMED);
	assert_int_equal(e.offset, off[2]);
	assert_int_equal(e.seq, 3);
	/* The first record must start from zeros. */
	memcpy(c, b, len);
	c[9] = '1';
	assert_int_equal(scan(&done, &e, c, len, 1, &head), ERR_MALFORMED);
	assert_int_equal(e.offset, 0);
	assert_int_equal(e.seq, 1);
	assert_int_equal(head, 0);
}

static void
test_segment_numbering(void **state)
{
	uint8_t b[2048];
	size_t off[6], len = five(b, sizeof(b), off), done;
	struct jnl_scan s;
	struct jnl_error e;

	assert_int_equal(jnl_scan_init(&s), 0);
	assert_int_equal(jnl_scan_buffer(&s, &done, &e, 1, b, off[2], 0), 0);
	/* Segment 3 after 1. */
	assert_int_equal(jnl_scan_buffer(&s, &done, &e, 3, b + off[2],
	    len - off[2], 1), ERR_MALFORMED);
	assert_string_equal(e.segment, "seg-00000003.jsonl");
	/* Segment 2 goes on where 1 stopped. */
	assert_int_equal(jnl_scan_buffer(&s, &done, &e, 2, b + off[2],
	    len - off[2], 1), 0);
	assert_int_equal(s.seq, 5);
	jnl_scan_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_and_torn),
		cmocka_unit_test(test_blame),
		cmocka_unit_test(test_segment_numbering),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
