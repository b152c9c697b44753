/* test_buf.c: the bounded cursor and growable writer every decoder relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "proto/buf.h"

/* A value no getter would produce, so "cleared" is visible. */
#define JUNK 0xa5

/*
 * The reader rules (buf.h): a failed getter leaves the cursor where it was,
 * so a caller can report the offset of the bad field or try another form.
 */
#define assert_cursor(r, exp_off) do {				\
	assert_int_equal((r)->off, (exp_off));			\
	assert_int_equal(prt_remaining(r), (r)->len - (exp_off));	\
} while (0)

static const uint8_t seq[9] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09 };

/* --- fixed-size integers -------------------------------------------- */

static void
test_get_u8(void **state)
{
	struct prt_reader r;
	uint8_t v;

	prt_reader_init(&r, seq, 1);
	v = JUNK;
	assert_int_equal(prt_get_u8(&r, &v), 0);
	assert_int_equal(v, 0x01);
	assert_cursor(&r, 1);
	assert_int_equal(prt_end(&r), 0);

	/* Empty: nothing to read, output cleared, cursor unmoved. */
	v = JUNK;
	assert_int_equal(prt_get_u8(&r, &v), ERR_TRUNCATED);
	assert_int_equal(v, 0);
	assert_cursor(&r, 1);

	prt_reader_init(&r, NULL, 0);
	v = JUNK;
	assert_int_equal(prt_get_u8(&r, &v), ERR_TRUNCATED);
	assert_int_equal(v, 0);
	assert_cursor(&r, 0);
}

static void
test_get_u16(void **state)
{
	struct prt_reader r;
	uint16_t v;

	prt_reader_init(&r, seq, 2);
	v = 0xa5a5;
	assert_int_equal(prt_get_u16(&r, &v), 0);
	assert_int_equal(v, 0x0102);
	assert_int_equal(prt_end(&r), 0);

	/* Short: one byte of two. */
	prt_reader_init(&r, seq, 1);
	v = 0xa5a5;
	assert_int_equal(prt_get_u16(&r, &v), ERR_TRUNCATED);
	assert_int_equal(v, 0);
	assert_cursor(&r, 0);

	prt_reader_init(&r, seq, 0);
	v = 0xa5a5;
	assert_int_equal(prt_get_u16(&r, &v), ERR_TRUNCATED);
	assert_int_equal(v, 0);
	assert_cursor(&r, 0);
}

static void
test_get_u32(void **state)
{
	struct prt_reader r;
	uint32_t v;

	prt_reader_init(&r, seq, 4);
	v = 0xa5a5a5a5;
	assert_int_equal(prt_get_u32(&r, &v), 0);
	assert_int_equal(v, 0x01020304);
	assert_int_equal(prt_end(&r), 0);

	prt_reader_init(&r, seq, 3);
	v = 0xa5a5a5a5;
	assert_int_equal(prt_get_u32(&r, &v), ERR_TRUNCATED);
	assert_int_equal(v, 0);
	assert_cursor(&r, 0);

	prt_reader_init(&r, seq, 0);
	v = 0xa5a5a5a5;
	assert_int_equal(prt_get_u32(&r, &v), ERR_TRUNCATED);
	assert_int_equal(v, 0);
	assert_cursor(&r, 0);
}

static void
test_get_u64(void **state)
{
	static const uint8_t big[8] = { 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa,
		0x99, 0x88 };
	struct prt_reader r;
	uint64_t v;

	prt_reader_init(&r, seq, 8);
	v = UINT64_MAX;
	assert_int_equal(prt_get_u64(&r, &v), 0);
	assert_true(v == 0x0102030405060708ULL);
	assert_int_equal(prt_end(&r), 0);

	/* Top bit set: no sign extension on the way through. */
	prt_reader_init(&r, big, 8);
	assert_int_equal(prt_get_u64(&r, &v), 0);
	assert_true(v == 0xffeeddccbbaa9988ULL);

	prt_reader_init(&r, seq, 7);
	v = UINT64_MAX;
	assert_int_equal(prt_get_u64(&r, &v), ERR_TRUNCATED);
	assert_true(v == 0);
	assert_cursor(&r, 0);

	prt_reader_init(&r, seq, 0);
	v = UINT64_MAX;
	assert_int_equal(prt_get_u64(&r, &v), ERR_TRUNCATED);
	assert_true(v == 0);
	assert_cursor(&r, 0);
}

/* A failure after some fields were read leaves the cursor after them. */
static void
test_get_sequence_then_short(void **state)
{
	struct prt_reader r;
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d;

	prt_reader_init(&r, seq, 9);
	assert_int_equal(prt_get_u8(&r, &a), 0);
	assert_int_equal(prt_get_u16(&r, &b), 0);
	assert_int_equal(prt_get_u32(&r, &c), 0);
	assert_int_equal(a, 0x01);
	assert_int_equal(b, 0x0203);
	assert_int_equal(c, 0x04050607);
	assert_cursor(&r, 7);
	assert_int_equal(prt_end(&r), ERR_TRAILING);
	d = 1;
	assert_int_equal(prt_get_u64(&r, &d), ERR_TRUNCATED);
	assert_true(d == 0);
	assert_cursor(&r, 7);
	assert_int_equal(prt_get_u16(&r, &b), 0);
	assert_int_equal(b, 0x0809);
	assert_int_equal(prt_end(&r), 0);
}

/* --- bytes and views ------------------------------------------------ */

static void
test_get_bytes(void **state)
{
	struct prt_reader r;
	uint8_t out[9];

	prt_reader_init(&r, seq, 9);
	memset(out, JUNK, sizeof(out));
	assert_int_equal(prt_get_bytes(&r, out, 9), 0);
	assert_memory_equal(out, seq, 9);
	assert_int_equal(prt_end(&r), 0);

	/* Short: every byte of out is cleared, not just a prefix. */
	prt_reader_init(&r, seq, 8);
	memset(out, JUNK, sizeof(out));
	assert_int_equal(prt_get_bytes(&r, out, 9), ERR_TRUNCATED);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0);
	assert_cursor(&r, 0);

	prt_reader_init(&r, seq, 0);
	memset(out, JUNK, sizeof(out));
	assert_int_equal(prt_get_bytes(&r, out, 1), ERR_TRUNCATED);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], JUNK);	/* n bytes cleared, no more */
	assert_cursor(&r, 0);

	/* Zero bytes from an empty reader is not an error. */
	assert_int_equal(prt_get_bytes(&r, out, 0), 0);
	assert_cursor(&r, 0);
}

static void
test_get_view(void **state)
{
	struct prt_reader r;
	const uint8_t *v;

	prt_reader_init(&r, seq, 9);
	assert_int_equal(prt_get_view(&r, &v, 4), 0);
	assert_ptr_equal(v, seq);	/* a view, not a copy */
	assert_int_equal(prt_get_view(&r, &v, 5), 0);
	assert_ptr_equal(v, seq + 4);
	assert_int_equal(prt_end(&r), 0);

	v = seq;
	assert_int_equal(prt_get_view(&r, &v, 1), ERR_TRUNCATED);
	assert_null(v);
	assert_cursor(&r, 9);

	prt_reader_init(&r, seq, 3);
	v = seq;
	assert_int_equal(prt_get_view(&r, &v, 4), ERR_TRUNCATED);
	assert_null(v);
	assert_cursor(&r, 0);

	/* A huge n must not wrap the bounds check. */
	prt_reader_init(&r, seq, 9);
	assert_int_equal(prt_get_u8(&r, &(uint8_t){ 0 }), 0);
	v = seq;
	assert_int_equal(prt_get_view(&r, &v, SIZE_MAX), ERR_TRUNCATED);
	assert_null(v);
	assert_cursor(&r, 1);
}

/* A reader over NULL is an empty reader whatever len says. */
static void
test_reader_null(void **state)
{
	struct prt_reader r;
	uint8_t b = JUNK;

	prt_reader_init(&r, NULL, 100);
	assert_int_equal(prt_remaining(&r), 0);
	assert_int_equal(prt_end(&r), 0);
	assert_int_equal(prt_get_u8(&r, &b), ERR_TRUNCATED);
	assert_int_equal(b, 0);
}

/* --- length-prefixed values ----------------------------------------- */

static void
test_get_lv(void **state)
{
	static const uint8_t exact[] = { 0, 0, 0, 3, 'a', 'b', 'c' };
	static const uint8_t empty_lv[] = { 0, 0, 0, 0 };
	struct prt_reader r;
	const uint8_t *v;
	size_t n;

	prt_reader_init(&r, exact, sizeof(exact));
	assert_int_equal(prt_get_lv(&r, &v, &n, 3), 0);
	assert_int_equal(n, 3);
	assert_ptr_equal(v, exact + 4);
	assert_int_equal(prt_end(&r), 0);

	/* Zero-length value: ok, and consumes just the prefix. */
	prt_reader_init(&r, empty_lv, sizeof(empty_lv));
	n = 99;
	assert_int_equal(prt_get_lv(&r, &v, &n, 0), 0);
	assert_int_equal(n, 0);
	assert_int_equal(prt_end(&r), 0);

	/* Value short by one: cursor back before the length prefix. */
	prt_reader_init(&r, exact, sizeof(exact) - 1);
	v = exact;
	n = 99;
	assert_int_equal(prt_get_lv(&r, &v, &n, 100), ERR_TRUNCATED);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_cursor(&r, 0);

	/* Prefix itself short. */
	prt_reader_init(&r, exact, 3);
	v = exact;
	n = 99;
	assert_int_equal(prt_get_lv(&r, &v, &n, 100), ERR_TRUNCATED);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_cursor(&r, 0);

	prt_reader_init(&r, exact, 0);
	v = exact;
	n = 99;
	assert_int_equal(prt_get_lv(&r, &v, &n, 100), ERR_TRUNCATED);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_cursor(&r, 0);
}

/*
 * The length is judged against max before the bytes: a peer announcing
 * 4 GiB gets ERR_TOO_LARGE even though only the prefix arrived, so a
 * stream reader never waits for (or allocates) an oversize frame.
 */
static void
test_get_lv_max_before_bounds(void **state)
{
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff };
	static const uint8_t four[] = { 0, 0, 0, 4, 'a', 'b', 'c', 'd' };
	struct prt_reader r;
	const uint8_t *v;
	size_t n;

	prt_reader_init(&r, huge, sizeof(huge));
	v = huge;
	n = 99;
	assert_int_equal(prt_get_lv(&r, &v, &n, 1024), ERR_TOO_LARGE);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_cursor(&r, 0);

	/* Present in full but one above max. */
	prt_reader_init(&r, four, sizeof(four));
	assert_int_equal(prt_get_lv(&r, &v, &n, 3), ERR_TOO_LARGE);
	assert_cursor(&r, 0);
	assert_int_equal(prt_get_lv(&r, &v, &n, 4), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(v, "abcd", 4);
}

static void
test_get_string(void **state)
{
	static const uint8_t abc[] = { 0, 0, 0, 3, 'a', 'b', 'c' };
	static const uint8_t nul[] = { 0, 0, 0, 3, 'a', '\0', 'c' };
	static const uint8_t lead_nul[] = { 0, 0, 0, 1, '\0' };
	static const uint8_t empty_str[] = { 0, 0, 0, 0 };
	struct prt_reader r;
	char out[4];

	/* Exactly cap - 1 characters: fits with its NUL. */
	prt_reader_init(&r, abc, sizeof(abc));
	memset(out, JUNK, sizeof(out));
	assert_int_equal(prt_get_string(&r, out, 4), 0);
	assert_string_equal(out, "abc");
	assert_int_equal(prt_end(&r), 0);

	/* cap characters: no room for the NUL. */
	prt_reader_init(&r, abc, sizeof(abc));
	memset(out, JUNK, sizeof(out));
	assert_int_equal(prt_get_string(&r, out, 3), ERR_TOO_LARGE);
	assert_string_equal(out, "");
	assert_cursor(&r, 0);

	/* Embedded NUL would silently truncate a name: refused. */
	prt_reader_init(&r, nul, sizeof(nul));
	memset(out, JUNK, sizeof(out));
	assert_int_equal(prt_get_string(&r, out, 4), ERR_EMBEDDED_NUL);
	assert_string_equal(out, "");
	assert_cursor(&r, 0);

	prt_reader_init(&r, lead_nul, sizeof(lead_nul));
	memset(out, JUNK, sizeof(out));
	assert_int_equal(prt_get_string(&r, out, 4), ERR_EMBEDDED_NUL);
	assert_string_equal(out, "");
	assert_cursor(&r, 0);

	prt_reader_init(&r, empty_str, sizeof(empty_str));
	memset(out, JUNK, sizeof(out));
	assert_int_equal(prt_get_string(&r, out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(prt_end(&r), 0);

	/* Short value and empty input. */
	prt_reader_init(&r, abc, sizeof(abc) - 1);
	memset(out, JUNK, sizeof(out));
	assert_int_equal(prt_get_string(&r, out, 4), ERR_TRUNCATED);
	assert_string_equal(out, "");
	assert_cursor(&r, 0);

	prt_reader_init(&r, abc, 0);
	memset(out, JUNK, sizeof(out));
	assert_int_equal(prt_get_string(&r, out, 4), ERR_TRUNCATED);
	assert_string_equal(out, "");
	assert_cursor(&r, 0);

	/* No room even for the NUL is a caller bug, reported, not a crash. */
	prt_reader_init(&r, abc, sizeof(abc));
	assert_int_equal(prt_get_string(&r, out, 0), ERR_INVALID_ARG);
	assert_cursor(&r, 0);
}

static void
test_get_sub(void **state)
{
	struct prt_reader r, sub;
	uint16_t v;

	prt_reader_init(&r, seq, 9);
	assert_int_equal(prt_get_u8(&r, &(uint8_t){ 0 }), 0);
	assert_int_equal(prt_get_sub(&r, &sub, 4), 0);
	assert_cursor(&r, 5);
	assert_int_equal(prt_remaining(&sub), 4);

	/* The sub-reader is bounded by its own length, not the parent's. */
	assert_int_equal(prt_get_u16(&sub, &v), 0);
	assert_int_equal(v, 0x0203);
	assert_int_equal(prt_end(&sub), ERR_TRAILING);
	assert_int_equal(prt_get_u16(&sub, &v), 0);
	assert_int_equal(v, 0x0405);
	assert_int_equal(prt_get_u8(&sub, &(uint8_t){ 0 }), ERR_TRUNCATED);
	assert_int_equal(prt_end(&sub), 0);

	/* Short: sub comes back empty, parent unmoved. */
	sub.p = seq;
	sub.len = 9;
	sub.off = 1;
	assert_int_equal(prt_get_sub(&r, &sub, 5), ERR_TRUNCATED);
	assert_int_equal(prt_remaining(&sub), 0);
	assert_null(sub.p);
	assert_cursor(&r, 5);

	assert_int_equal(prt_get_sub(&r, &sub, 4), 0);
	assert_int_equal(prt_end(&r), 0);

	/* Empty parent, empty sub: fine. */
	assert_int_equal(prt_get_sub(&r, &sub, 0), 0);
	assert_int_equal(prt_remaining(&sub), 0);
	assert_int_equal(prt_end(&sub), 0);
}

static void
test_end(void **state)
{
	struct prt_reader r;

	prt_reader_init(&r, seq, 0);
	assert_int_equal(prt_end(&r), 0);
	prt_reader_init(&r, seq, 2);
	assert_int_equal(prt_end(&r), ERR_TRAILING);
	assert_int_equal(prt_get_u8(&r, &(uint8_t){ 0 }), 0);
	assert_int_equal(prt_end(&r), ERR_TRAILING);
	assert_int_equal(prt_get_u8(&r, &(uint8_t){ 0 }), 0);
	assert_int_equal(prt_end(&r), 0);
}

/* --- writer --------------------------------------------------------- */

static void
test_writer_empty(void **state)
{
	struct prt_writer w;

	prt_writer_init(&w, 16);
	assert_int_equal(w.len, 0);
	assert_int_equal(prt_writer_error(&w), 0);
	/* Appending nothing to an empty writer is not a failure. */
	assert_int_equal(prt_put_bytes(&w, "", 0), 0);
	assert_int_equal(w.len, 0);
	assert_int_equal(prt_writer_error(&w), 0);
	prt_writer_free(&w);
	assert_null(w.p);
	assert_int_equal(w.len, 0);
	/* Freeing twice (or a never-used writer) is harmless. */
	prt_writer_free(&w);
}

static void
test_writer_ints(void **state)
{
	static const uint8_t want[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
		0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
	struct prt_writer w;

	prt_writer_init(&w, 1024);
	assert_int_equal(prt_put_u8(&w, 0x01), 0);
	assert_int_equal(prt_put_u16(&w, 0x0203), 0);
	assert_int_equal(prt_put_u32(&w, 0x04050607), 0);
	assert_int_equal(prt_put_u64(&w, 0x08090a0b0c0d0e0fULL), 0);
	assert_int_equal(prt_writer_error(&w), 0);
	assert_int_equal(w.len, sizeof(want));
	assert_memory_equal(w.p, want, sizeof(want));
	prt_writer_free(&w);
}

/* Growth far past the first allocation keeps every byte in order. */
static void
test_writer_growth(void **state)
{
	struct prt_writer w;
	size_t i;

	prt_writer_init(&w, 100000);
	for (i = 0; i < 10000; i++)
		assert_int_equal(prt_put_u8(&w, (uint8_t)(i * 7)), 0);
	assert_int_equal(prt_writer_error(&w), 0);
	assert_int_equal(w.len, 10000);
	assert_true(w.cap >= w.len);
	assert_true(w.cap <= w.max);
	for (i = 0; i < 10000; i++)
		assert_int_equal(w.p[i], (uint8_t)(i * 7));
	prt_writer_free(&w);

	/* One put much larger than the current capacity. */
	prt_writer_init(&w, 100000);
	assert_int_equal(prt_put_u8(&w, 0xaa), 0);
	{
		static uint8_t blob[5000];

		memset(blob, 0x5c, sizeof(blob));
		assert_int_equal(prt_put_bytes(&w, blob, sizeof(blob)), 0);
	}
	assert_int_equal(w.len, 5001);
	assert_int_equal(w.p[0], 0xaa);
	assert_int_equal(w.p[5000], 0x5c);
	prt_writer_free(&w);
}

/*
 * max is a hard cap (the message size limit): exactly max fits, one more
 * fails, and the error sticks so a run of puts is checked once at the end.
 */
static void
test_writer_max_sticky(void **state)
{
	struct prt_writer w;

	prt_writer_init(&w, 10);
	assert_int_equal(prt_put_u64(&w, 1), 0);
	assert_int_equal(prt_put_u16(&w, 2), 0);
	assert_int_equal(w.len, 10);
	assert_true(w.cap <= 10);
	assert_int_equal(prt_writer_error(&w), 0);

	assert_int_equal(prt_put_u8(&w, 3), ERR_TOO_LARGE);
	assert_int_equal(w.len, 10);
	assert_int_equal(prt_writer_error(&w), ERR_TOO_LARGE);

	/* Sticky: even a put that would fit, or of nothing, now fails. */
	assert_int_equal(prt_put_bytes(&w, "", 0), ERR_TOO_LARGE);
	assert_null(prt_put_reserve(&w, 0));
	assert_int_equal(prt_put_string(&w, ""), ERR_TOO_LARGE);
	assert_int_equal(prt_insert(&w, 0, "x", 1), ERR_TOO_LARGE);
	assert_int_equal(w.len, 10);
	prt_writer_free(&w);

	/* A failed put writes none of its bytes, later puts none either. */
	prt_writer_init(&w, 10);
	assert_int_equal(prt_put_u64(&w, 1), 0);
	assert_int_equal(prt_put_u32(&w, 2), ERR_TOO_LARGE);
	assert_int_equal(w.len, 8);
	assert_int_equal(prt_put_u8(&w, 3), ERR_TOO_LARGE);
	assert_int_equal(w.len, 8);
	prt_writer_free(&w);

	/* Huge n must not wrap the limit check. */
	prt_writer_init(&w, 10);
	assert_int_equal(prt_put_u8(&w, 1), 0);
	assert_null(prt_put_reserve(&w, SIZE_MAX));
	assert_int_equal(prt_writer_error(&w), ERR_TOO_LARGE);
	prt_writer_free(&w);

	/* A zero-max writer takes nothing. */
	prt_writer_init(&w, 0);
	assert_int_equal(prt_put_u8(&w, 1), ERR_TOO_LARGE);
	prt_writer_free(&w);

	/* After free the writer starts clean again. */
	prt_writer_init(&w, 4);
	assert_int_equal(prt_put_u32(&w, 7), 0);
	assert_int_equal(prt_writer_error(&w), 0);
	prt_writer_free(&w);
}

static void
test_writer_reserve(void **state)
{
	struct prt_writer w;
	uint8_t *at;

	prt_writer_init(&w, 64);
	assert_int_equal(prt_put_u8(&w, 0x11), 0);
	assert_non_null(at = prt_put_reserve(&w, 3));
	assert_ptr_equal(at, w.p + 1);
	memcpy(at, "\x22\x33\x44", 3);
	assert_int_equal(w.len, 4);
	assert_memory_equal(w.p, "\x11\x22\x33\x44", 4);
	prt_writer_free(&w);
}

static void
test_insert(void **state)
{
	struct prt_writer w;

	prt_writer_init(&w, 64);
	assert_int_equal(prt_put_bytes(&w, "cdef", 4), 0);
	/* start */
	assert_int_equal(prt_insert(&w, 0, "ab", 2), 0);
	assert_int_equal(w.len, 6);
	assert_memory_equal(w.p, "abcdef", 6);
	/* middle */
	assert_int_equal(prt_insert(&w, 3, "XYZ", 3), 0);
	assert_memory_equal(w.p, "abcXYZdef", 9);
	/* end */
	assert_int_equal(prt_insert(&w, 9, "gh", 2), 0);
	assert_int_equal(w.len, 11);
	assert_memory_equal(w.p, "abcXYZdefgh", 11);
	/* nothing */
	assert_int_equal(prt_insert(&w, 5, "", 0), 0);
	assert_memory_equal(w.p, "abcXYZdefgh", 11);
	assert_int_equal(prt_writer_error(&w), 0);

	/* Past the end is a caller bug: an error, sticky like the others. */
	assert_int_equal(prt_insert(&w, 12, "!", 1), ERR_INVALID_ARG);
	assert_int_equal(w.len, 11);
	assert_int_equal(prt_writer_error(&w), ERR_INVALID_ARG);
	assert_int_equal(prt_put_u8(&w, 0), ERR_INVALID_ARG);
	prt_writer_free(&w);

	/* Into an empty writer. */
	prt_writer_init(&w, 64);
	assert_int_equal(prt_insert(&w, 0, "xy", 2), 0);
	assert_int_equal(w.len, 2);
	assert_memory_equal(w.p, "xy", 2);
	prt_writer_free(&w);
}

/* An insert that crosses a reallocation keeps the moved tail intact. */
static void
test_insert_growth(void **state)
{
	uint8_t hdr[10];
	struct prt_writer w;
	size_t i;

	prt_writer_init(&w, 1024);
	for (i = 0; i < 64; i++)
		assert_int_equal(prt_put_u8(&w, (uint8_t)i), 0);
	memset(hdr, 0xee, sizeof(hdr));
	assert_int_equal(prt_insert(&w, 32, hdr, sizeof(hdr)), 0);
	assert_int_equal(w.len, 74);
	for (i = 0; i < 32; i++)
		assert_int_equal(w.p[i], i);
	for (i = 32; i < 42; i++)
		assert_int_equal(w.p[i], 0xee);
	for (i = 42; i < 74; i++)
		assert_int_equal(w.p[i], i - 10);
	prt_writer_free(&w);

	/* Insert that would pass max: refused, contents untouched. */
	prt_writer_init(&w, 5);
	assert_int_equal(prt_put_bytes(&w, "abcd", 4), 0);
	assert_int_equal(prt_insert(&w, 1, "XY", 2), ERR_TOO_LARGE);
	assert_int_equal(w.len, 4);
	assert_memory_equal(w.p, "abcd", 4);
	prt_writer_free(&w);
}

static void
test_put_lv_string(void **state)
{
	struct prt_writer w;

	prt_writer_init(&w, 64);
	assert_int_equal(prt_put_lv(&w, "ab", 2), 0);
	assert_int_equal(prt_put_string(&w, "xyz"), 0);
	assert_int_equal(prt_put_string(&w, ""), 0);
	assert_int_equal(w.len, 6 + 7 + 4);
	assert_memory_equal(w.p, "\0\0\0\2ab\0\0\0\3xyz\0\0\0\0", 17);
	prt_writer_free(&w);
}

/* What the writer puts, the reader gets back, and nothing more. */
static void
test_round_trip(void **state)
{
	struct prt_writer w;
	struct prt_reader r, sub;
	const uint8_t *v;
	uint8_t u8, raw[3];
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	size_t n;
	char s[16];

	prt_writer_init(&w, 256);
	prt_put_u8(&w, 0xfe);
	prt_put_u16(&w, 0xfedc);
	prt_put_u32(&w, 0xfedcba98);
	prt_put_u64(&w, 0xfedcba9876543210ULL);
	prt_put_bytes(&w, "\x00\x01\x02", 3);
	prt_put_lv(&w, "lv", 2);
	prt_put_string(&w, "hello, world");
	prt_put_u16(&w, 0x0102);
	assert_int_equal(prt_writer_error(&w), 0);

	prt_reader_init(&r, w.p, w.len);
	assert_int_equal(prt_get_u8(&r, &u8), 0);
	assert_int_equal(u8, 0xfe);
	assert_int_equal(prt_get_u16(&r, &u16), 0);
	assert_int_equal(u16, 0xfedc);
	assert_int_equal(prt_get_u32(&r, &u32), 0);
	assert_int_equal(u32, 0xfedcba98);
	assert_int_equal(prt_get_u64(&r, &u64), 0);
	assert_true(u64 == 0xfedcba9876543210ULL);
	assert_int_equal(prt_get_bytes(&r, raw, 3), 0);
	assert_memory_equal(raw, "\x00\x01\x02", 3);
	assert_int_equal(prt_get_lv(&r, &v, &n, 2), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(v, "lv", 2);
	assert_int_equal(prt_get_string(&r, s, sizeof(s)), 0);
	assert_string_equal(s, "hello, world");
	assert_int_equal(prt_end(&r), ERR_TRAILING);
	assert_int_equal(prt_get_sub(&r, &sub, 2), 0);
	assert_int_equal(prt_get_u16(&sub, &u16), 0);
	assert_int_equal(u16, 0x0102);
	assert_int_equal(prt_end(&sub), 0);
	assert_int_equal(prt_end(&r), 0);
	prt_writer_free(&w);
}

/* A zero-length reserve on a fresh writer is a success, not NULL. */
static void
test_reserve_zero_on_fresh_writer(void **state)
{
	struct prt_writer w;
	uint8_t *at;

	prt_writer_init(&w, 16);
	at = prt_put_reserve(&w, 0);
	assert_int_equal(prt_writer_error(&w), 0);
	assert_non_null(at);
	assert_int_equal(w.len, 0);
	prt_writer_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_u8),
		cmocka_unit_test(test_get_u16),
		cmocka_unit_test(test_get_u32),
		cmocka_unit_test(test_get_u64),
		cmocka_unit_test(test_get_sequence_then_short),
		cmocka_unit_test(test_get_bytes),
		cmocka_unit_test(test_get_view),
		cmocka_unit_test(test_reader_null),
		cmocka_unit_test(test_get_lv),
		cmocka_unit_test(test_get_lv_max_before_bounds),
		cmocka_unit_test(test_get_string),
		cmocka_unit_test(test_get_sub),
		cmocka_unit_test(test_end),
		cmocka_unit_test(test_writer_empty),
		cmocka_unit_test(test_writer_ints),
		cmocka_unit_test(test_writer_growth),
		cmocka_unit_test(test_writer_max_sticky),
		cmocka_unit_test(test_writer_reserve),
		cmocka_unit_test(test_insert),
		cmocka_unit_test(test_insert_growth),
		cmocka_unit_test(test_put_lv_string),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_reserve_zero_on_fresh_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
