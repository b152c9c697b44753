/*
 * test_rlp.c: RLP against ethereum/tests RLPTests (rlptest.json and
 * invalidRLPTest.json) and the EIP-155 example, plus every non-canonical
 * form, oversize and truncated input with its specific error code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/util.h"
#include "evm/keccak.h"
#include "evm/rlp.h"

#define BUF_MAX 4096

/* Hex to bytes; the test data is ours, so a bad string is a test bug. */
static size_t
unhex(uint8_t *out, size_t cap, const char *h)
{
	size_t n;

	assert_int_equal(util_hex_decode_var(out, cap, &n, h), 0);
	return n;
}

static void
assert_writer_hex(struct prt_writer *w, const char *want_hex)
{
	static uint8_t want[BUF_MAX];
	size_t n = unhex(want, sizeof(want), want_hex);

	assert_int_equal(prt_writer_error(w), 0);
	assert_int_equal(w->len, n);
	assert_memory_equal(w->p, want, n);
}

/*
 * Decodes every item of r, recursing into lists, and re-encodes it into w.
 * Canonical input must come back byte for byte.  Returns the first error.
 */
static int
reencode(struct prt_reader *r, struct prt_writer *w, int depth)
{
	struct prt_reader peek, list;
	const uint8_t *p;
	size_t n, at;
	int is_list, ret;

	while (prt_remaining(r) > 0) {
		peek = *r;
		if ((ret = rlp_get_raw(&peek, &p, &n, &is_list)) != 0)
			return ret;
		if (is_list) {
			if (depth == 0)
				return ERR_TOO_LARGE;
			at = w->len;
			if ((ret = rlp_get_list(r, &list)) != 0 ||
			    (ret = reencode(&list, w, depth - 1)) != 0)
				return ret;
			rlp_close_list(w, at);
		} else {
			if ((ret = rlp_get_bytes(r, &p, &n)) != 0)
				return ret;
			rlp_put_bytes(w, p, n);
		}
	}
	return prt_writer_error(w);
}

/* Returns the code of decoding hex as one sequence of items. */
static int
decode_hex(const char *h)
{
	static uint8_t in[BUF_MAX];
	struct prt_reader r;
	struct prt_writer w;
	size_t n = unhex(in, sizeof(in), h);
	int ret;

	prt_reader_init(&r, in, n);
	prt_writer_init(&w, BUF_MAX);
	ret = reencode(&r, &w, 32);
	if (ret == 0) {
		assert_int_equal(w.len, n);
		assert_memory_equal(w.p, in, n);
	}
	prt_writer_free(&w);
	return ret;
}

static void
put_str(struct prt_writer *w, const char *s)
{
	rlp_put_bytes(w, (const uint8_t *)s, strlen(s));
}

/* rlptest.json: strings. */
static void
test_encode_strings(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{ "", 0, "80" },
		{ "\x00", 1, "00" },
		{ "\x01", 1, "01" },
		{ "\x7f", 1, "7f" },
		{ "dog", 3, "83646f67" },
		/* shortstring2: 55 bytes, the longest short form. */
		{ "Lorem ipsum dolor sit amet, consectetur adipisicing eli", 55,
		  "b74c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572206164697069736963696e6720656c69" },
		/* longstring: 56 bytes, the shortest long form. */
		{ "Lorem ipsum dolor sit amet, consectetur adipisicing elit", 56,
		  "b8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572206164697069736963696e6720656c6974" },
	};
	struct prt_writer w;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		prt_writer_init(&w, BUF_MAX);
		rlp_put_bytes(&w, (const uint8_t *)cases[i].in, cases[i].len);
		assert_writer_hex(&w, cases[i].out);
		assert_int_equal(decode_hex(cases[i].out), 0);
		prt_writer_free(&w);
	}
}

/* rlptest.json: integers, including the bigint that exceeds 256 bits. */
static void
test_encode_integers(void **state)
{
	static const struct {
		uint64_t in;
		const char *out;
	} small[] = {
		{ 0, "80" }, { 1, "01" }, { 16, "10" }, { 79, "4f" },
		{ 127, "7f" }, { 128, "8180" }, { 1000, "8203e8" },
		{ 100000, "830186a0" },
	};
	static uint8_t big[33];
	struct prt_writer w;
	struct prt_reader r;
	uint8_t in[64];
	u256 v;
	size_t i, n;

	for (i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		uint64_t got = 12345;

		prt_writer_init(&w, BUF_MAX);
		rlp_put_u64(&w, small[i].in);
		assert_writer_hex(&w, small[i].out);
		prt_writer_free(&w);
		n = unhex(in, sizeof(in), small[i].out);
		prt_reader_init(&r, in, n);
		assert_int_equal(rlp_get_u64(&r, &got), 0);
		assert_true(got == small[i].in);
		assert_int_equal(prt_end(&r), 0);
	}

	/* mediumint4, mediumint5. */
	prt_writer_init(&w, BUF_MAX);
	assert_int_equal(u256_from_dec(&v, "83729609699884896815286331701780722"), 0);
	rlp_put_u256(&w, &v);
	assert_writer_hex(&w, "8f102030405060708090a0b0c0d0e0f2");
	prt_writer_free(&w);
	prt_writer_init(&w, BUF_MAX);
	assert_int_equal(u256_from_dec(&v,
	    "105315505618206987246253880190783558935785933862974822347068935681"), 0);
	rlp_put_u256(&w, &v);
	assert_writer_hex(&w, "9c0100020003000400050006000700080009000a000b000c000d000e01");
	prt_writer_free(&w);

	/* bigint = 2^256: a valid byte string, but no u256. */
	big[0] = 0x01;
	prt_writer_init(&w, BUF_MAX);
	rlp_put_bytes(&w, big, sizeof(big));
	assert_writer_hex(&w,
	    "a1010000000000000000000000000000000000000000000000000000000000000000");
	prt_reader_init(&r, w.p, w.len);
	assert_int_equal(rlp_get_u256(&r, &v), ERR_OVERFLOW);
	assert_int_equal(r.off, 0);
	prt_writer_free(&w);
}

static void
put_asdf_list(struct prt_writer *w)
{
	size_t at = w->len;

	put_str(w, "asdf");
	put_str(w, "qwer");
	put_str(w, "zxcv");
	rlp_close_list(w, at);
}

/* rlptest.json: lists. */
static void
test_encode_lists(void **state)
{
	static char want[BUF_MAX * 2];
	struct prt_writer w;
	size_t at, at2, at3, i;

	/* emptylist */
	prt_writer_init(&w, BUF_MAX);
	rlp_close_list(&w, 0);
	assert_writer_hex(&w, "c0");
	prt_writer_free(&w);

	/* stringlist */
	prt_writer_init(&w, BUF_MAX);
	put_str(&w, "dog");
	put_str(&w, "god");
	put_str(&w, "cat");
	rlp_close_list(&w, 0);
	assert_writer_hex(&w, "cc83646f6783676f6483636174");
	prt_writer_free(&w);

	/* multilist: [ "zw", [ 4 ], 1 ] */
	prt_writer_init(&w, BUF_MAX);
	put_str(&w, "zw");
	at = w.len;
	rlp_put_u64(&w, 4);
	rlp_close_list(&w, at);
	rlp_put_u64(&w, 1);
	rlp_close_list(&w, 0);
	assert_writer_hex(&w, "c6827a77c10401");
	prt_writer_free(&w);

	/* shortListMax1: 55 bytes of payload, the longest short list. */
	prt_writer_init(&w, BUF_MAX);
	for (i = 0; i < 11; i++)
		put_str(&w, (const char *[]){ "asdf", "qwer", "zxcv" }[i % 3]);
	rlp_close_list(&w, 0);
	assert_writer_hex(&w,
	    "f784617364668471776572847a78637684617364668471776572847a7863768461"
	    "7364668471776572847a78637684617364668471776572");
	prt_writer_free(&w);

	/* longList1 (4 inner lists) and longList2 (32: a two-byte length). */
	prt_writer_init(&w, BUF_MAX);
	for (i = 0; i < 4; i++)
		put_asdf_list(&w);
	rlp_close_list(&w, 0);
	strcpy(want, "f840");
	for (i = 0; i < 4; i++)
		strcat(want, "cf84617364668471776572847a786376");
	assert_writer_hex(&w, want);
	prt_writer_free(&w);

	prt_writer_init(&w, BUF_MAX);
	for (i = 0; i < 32; i++)
		put_asdf_list(&w);
	rlp_close_list(&w, 0);
	strcpy(want, "f90200");
	for (i = 0; i < 32; i++)
		strcat(want, "cf84617364668471776572847a786376");
	assert_writer_hex(&w, want);
	assert_int_equal(decode_hex(want), 0);
	prt_writer_free(&w);

	/* listsoflists: [ [ [], [] ], [] ] */
	prt_writer_init(&w, BUF_MAX);
	at = w.len;
	rlp_close_list(&w, w.len);
	rlp_close_list(&w, w.len);
	rlp_close_list(&w, at);
	rlp_close_list(&w, w.len);
	rlp_close_list(&w, 0);
	assert_writer_hex(&w, "c4c2c0c0c0");
	prt_writer_free(&w);

	/* listsoflists2: [ [], [[]], [ [], [[]] ] ] */
	prt_writer_init(&w, BUF_MAX);
	rlp_close_list(&w, w.len);
	at = w.len;
	rlp_close_list(&w, w.len);
	rlp_close_list(&w, at);
	at = w.len;
	rlp_close_list(&w, w.len);
	at2 = w.len;
	rlp_close_list(&w, w.len);
	rlp_close_list(&w, at2);
	rlp_close_list(&w, at);
	rlp_close_list(&w, 0);
	assert_writer_hex(&w, "c7c0c1c0c3c0c1c0");
	prt_writer_free(&w);

	/* dictTest1 */
	prt_writer_init(&w, BUF_MAX);
	for (i = 1; i <= 4; i++) {
		char k[5] = "key0", v[5] = "val0";

		k[3] = v[3] = (char)('0' + i);
		at3 = w.len;
		put_str(&w, k);
		put_str(&w, v);
		rlp_close_list(&w, at3);
	}
	rlp_close_list(&w, 0);
	assert_writer_hex(&w,
	    "ecca846b6579318476616c31ca846b6579328476616c32ca846b6579338476616c33"
	    "ca846b6579348476616c34");
	prt_writer_free(&w);
}

/* Decoding gives back the structure, not just the bytes. */
static void
test_decode_structure(void **state)
{
	uint8_t in[64];
	struct prt_reader r, l, inner;
	const uint8_t *p;
	size_t n;
	uint64_t v;

	n = unhex(in, sizeof(in), "c6827a77c10401");
	prt_reader_init(&r, in, n);
	assert_int_equal(rlp_get_list(&r, &l), 0);
	assert_int_equal(prt_end(&r), 0);
	assert_int_equal(rlp_get_bytes(&l, &p, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(p, "zw", 2);
	assert_int_equal(rlp_get_list(&l, &inner), 0);
	assert_int_equal(rlp_get_u64(&inner, &v), 0);
	assert_true(v == 4);
	assert_int_equal(prt_end(&inner), 0);
	assert_int_equal(rlp_get_u64(&l, &v), 0);
	assert_true(v == 1);
	assert_int_equal(prt_end(&l), 0);

	/* Every rlptest.json list vector round-trips through the decoder. */
	assert_int_equal(decode_hex("c0"), 0);
	assert_int_equal(decode_hex("cc83646f6783676f6483636174"), 0);
	assert_int_equal(decode_hex("c4c2c0c0c0"), 0);
	assert_int_equal(decode_hex("c7c0c1c0c3c0c1c0"), 0);
	assert_int_equal(decode_hex(
	    "ecca846b6579318476616c31ca846b6579328476616c32ca846b6579338476616c33"
	    "ca846b6579348476616c34"), 0);
}

/* invalidRLPTest.json, each with the code our stricter reader gives. */
static void
test_invalid_vectors(void **state)
{
	static const struct {
		const char *name;
		const char *hex;
		int err;
	} cases[] = {
		{ "int32Overflow", "bf0f000000000000021111", ERR_TOO_LARGE },
		{ "int32Overflow2", "ff0f000000000000021111", ERR_TOO_LARGE },
		{ "wrongSizeList", "f80180", ERR_NONCANONICAL },
		{ "wrongSizeList2", "f80100", ERR_NONCANONICAL },
		{ "incorrectLengthInArray",
		  "b9002100dc2b275d0f74e8a53e6f4ec61b27f24278820be3f82ea2110e582081b0565df0",
		  ERR_NONCANONICAL },
		{ "randomRLP",
		  "f861f83eb9002100dc2b275d0f74e8a53e6f4ec61b27f24278820be3f82ea2110e58"
		  "2081b0565df027b90015002d5ef8325ae4d034df55d4b58d0dfba64d61ddd17be0"
		  "0000b9001a00dae30907045a2f66fa36f2bb8aa9029cbb0b8a7b3b5c435ab331",
		  ERR_NONCANONICAL },
		{ "bytesShouldBeSingleByte00", "8100", ERR_NONCANONICAL },
		{ "bytesShouldBeSingleByte01", "8101", ERR_NONCANONICAL },
		{ "bytesShouldBeSingleByte7F", "817F", ERR_NONCANONICAL },
		{ "leadingZerosInLongLengthArray1",
		  "b90040000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d"
		  "1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
		  ERR_NONCANONICAL },
		{ "leadingZerosInLongLengthArray2", "b800", ERR_NONCANONICAL },
		{ "leadingZerosInLongLengthList1",
		  "fb00000040000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c"
		  "1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
		  ERR_NONCANONICAL },
		{ "leadingZerosInLongLengthList2", "f800", ERR_NONCANONICAL },
		{ "nonOptimalLongLengthArray1", "b81000112233445566778899aabbccddeeff",
		  ERR_NONCANONICAL },
		{ "nonOptimalLongLengthArray2", "b801ff", ERR_NONCANONICAL },
		{ "nonOptimalLongLengthList1", "f810000102030405060708090a0b0c0d0e0f",
		  ERR_NONCANONICAL },
		{ "nonOptimalLongLengthList2", "f803112233", ERR_NONCANONICAL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = decode_hex(cases[i].hex);

		if (got != cases[i].err)
			fail_msg("%s: got %s, want %s", cases[i].name,
			    err_name(got), err_name(cases[i].err));
	}
}

/* Tries one byte-string read that must fail and leave everything as it was. */
static void
expect_bytes_err(const char *h, int err)
{
	uint8_t in[128];
	struct prt_reader r;
	const uint8_t *p = (const uint8_t *)"x";
	size_t n = unhex(in, sizeof(in), h), got = 99;

	prt_reader_init(&r, in, n);
	assert_int_equal(rlp_get_bytes(&r, &p, &got), err);
	assert_null(p);
	assert_int_equal(got, 0);
	assert_int_equal(r.off, 0);
}

static void
expect_list_err(const char *h, int err)
{
	uint8_t in[128];
	struct prt_reader r, l;
	size_t n = unhex(in, sizeof(in), h);

	prt_reader_init(&r, in, n);
	prt_reader_init(&l, in, n);
	assert_int_equal(rlp_get_list(&r, &l), err);
	assert_int_equal(prt_remaining(&l), 0);
	assert_int_equal(r.off, 0);
}

static void
test_noncanonical_forms(void **state)
{
	/* A single byte below 0x80 wrapped in a header (the brief's 0x81 0x05). */
	expect_bytes_err("8105", ERR_NONCANONICAL);
	expect_bytes_err("8100", ERR_NONCANONICAL);
	expect_bytes_err("817f", ERR_NONCANONICAL);
	/* ... and long-wrapped: still a length that fits the short form. */
	expect_bytes_err("b80105", ERR_NONCANONICAL);
	/* Long form for 55 bytes, with and without a leading zero byte. */
	expect_bytes_err("b837"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000", ERR_NONCANONICAL);
	expect_bytes_err("b90038"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "000000000000000000000000000000000000000000000000", ERR_NONCANONICAL);
	expect_list_err("f837"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000", ERR_NONCANONICAL);
	expect_list_err("f90038"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "000000000000000000000000000000000000000000000000", ERR_NONCANONICAL);
	expect_list_err("f800", ERR_NONCANONICAL);
	/* The short forms of the same items are fine. */
	expect_bytes_err("c0", ERR_MALFORMED);
	assert_int_equal(decode_hex("8180"), 0);
	assert_int_equal(decode_hex("05"), 0);
}

static void
test_too_large(void **state)
{
	/* Length-of-length above 4: refused before any length byte is read. */
	expect_bytes_err("bc", ERR_TOO_LARGE);
	expect_bytes_err("bf", ERR_TOO_LARGE);
	expect_list_err("fc", ERR_TOO_LARGE);
	expect_list_err("ff", ERR_TOO_LARGE);
	/* RLP_MAX_ITEM + 1, with no payload present: too large, not truncated. */
	expect_bytes_err("ba100001", ERR_TOO_LARGE);
	expect_list_err("fa100001", ERR_TOO_LARGE);
	expect_bytes_err("bbffffffff", ERR_TOO_LARGE);
	/* Exactly RLP_MAX_ITEM is allowed, so a missing payload is truncation. */
	expect_bytes_err("ba100000", ERR_TRUNCATED);
}

static void
test_truncated(void **state)
{
	expect_bytes_err("", ERR_TRUNCATED);
	expect_bytes_err("83646f", ERR_TRUNCATED);
	expect_bytes_err("b8", ERR_TRUNCATED);
	expect_bytes_err("b904", ERR_TRUNCATED);
	expect_list_err("c38080", ERR_TRUNCATED);
	expect_list_err("f9", ERR_TRUNCATED);
	/* Inside a well-formed list, an item may not run past the list's end. */
	assert_int_equal(decode_hex("c283646f67"), ERR_TRUNCATED);
}

static void
test_trailing(void **state)
{
	uint8_t in[16];
	struct prt_reader r, l;
	const uint8_t *p;
	size_t n = unhex(in, sizeof(in), "83646f6700");

	prt_reader_init(&r, in, n);
	assert_int_equal(rlp_get_bytes(&r, &p, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(prt_end(&r), ERR_TRAILING);

	/* A list with one item more than the reader wanted. */
	n = unhex(in, sizeof(in), "c28080");
	prt_reader_init(&r, in, n);
	assert_int_equal(rlp_get_list(&r, &l), 0);
	assert_int_equal(rlp_get_bytes(&l, &p, &n), 0);
	assert_int_equal(prt_end(&l), ERR_TRAILING);
	assert_int_equal(prt_end(&r), 0);
}

static void
test_kind_mismatch(void **state)
{
	uint8_t in[8];
	struct prt_reader r;
	uint64_t v = 5;
	size_t n = unhex(in, sizeof(in), "c0");

	expect_bytes_err("c0", ERR_MALFORMED);
	expect_bytes_err("c180", ERR_MALFORMED);
	expect_list_err("80", ERR_MALFORMED);
	expect_list_err("05", ERR_MALFORMED);
	prt_reader_init(&r, in, n);
	assert_int_equal(rlp_get_u64(&r, &v), ERR_MALFORMED);
	assert_true(v == 0);
	assert_int_equal(r.off, 0);
}

static void
expect_u64(const char *h, int err, uint64_t want)
{
	uint8_t in[64];
	struct prt_reader r;
	uint64_t v = 77;
	size_t n = unhex(in, sizeof(in), h);

	prt_reader_init(&r, in, n);
	assert_int_equal(rlp_get_u64(&r, &v), err);
	assert_true(v == want);
	assert_int_equal(r.off, err == 0 ? n : 0);
}

static void
expect_u256(const char *h, int err)
{
	uint8_t in[64];
	struct prt_reader r;
	u256 v;
	size_t n = unhex(in, sizeof(in), h);

	memset(&v, 0xaa, sizeof(v));
	prt_reader_init(&r, in, n);
	assert_int_equal(rlp_get_u256(&r, &v), err);
	if (err != 0) {
		assert_true(u256_is_zero(&v));
		assert_int_equal(r.off, 0);
	}
}

static void
test_integers(void **state)
{
	uint8_t in[64];
	struct prt_reader r;
	u256 v;
	size_t n;

	expect_u64("80", 0, 0);
	expect_u64("01", 0, 1);
	expect_u64("88ffffffffffffffff", 0, UINT64_MAX);
	/* Leading zeros: zero must be the empty string. */
	expect_u64("00", ERR_NONCANONICAL, 0);
	expect_u64("8200ff", ERR_NONCANONICAL, 0);
	expect_u64("88000000000000ffff", ERR_NONCANONICAL, 0);
	expect_u64("89010000000000000000", ERR_OVERFLOW, 0);

	expect_u256("a0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0);
	expect_u256("a100ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	    ERR_NONCANONICAL);
	expect_u256("a1010000000000000000000000000000000000000000000000000000000000000000",
	    ERR_OVERFLOW);
	expect_u256("00", ERR_NONCANONICAL);

	n = unhex(in, sizeof(in),
	    "a0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
	prt_reader_init(&r, in, n);
	assert_int_equal(rlp_get_u256(&r, &v), 0);
	assert_true(v.w[0] == UINT64_MAX && v.w[3] == UINT64_MAX);
}

static void
test_fixed(void **state)
{
	uint8_t in[64], out[20];
	struct prt_reader r;
	size_t n;

	n = unhex(in, sizeof(in), "943535353535353535353535353535353535353535");
	prt_reader_init(&r, in, n);
	assert_int_equal(rlp_get_fixed(&r, out, 20), 0);
	assert_memory_equal(out, in + 1, 20);
	assert_int_equal(prt_end(&r), 0);

	n = unhex(in, sizeof(in), "9335353535353535353535353535353535353535");
	prt_reader_init(&r, in, n);
	memset(out, 0xee, sizeof(out));
	assert_int_equal(rlp_get_fixed(&r, out, 20), ERR_MALFORMED);
	assert_int_equal(r.off, 0);
	assert_int_equal(out[0] | out[19], 0);
}

static void
test_raw(void **state)
{
	uint8_t in[32];
	struct prt_reader r;
	const uint8_t *p;
	size_t n = unhex(in, sizeof(in), "c6827a77c1040183646f67");
	int is_list;

	prt_reader_init(&r, in, n);
	assert_int_equal(rlp_get_raw(&r, &p, &n, &is_list), 0);
	assert_int_equal(n, 7);
	assert_true(p == in);
	assert_int_equal(is_list, 1);
	assert_int_equal(rlp_get_raw(&r, &p, &n, &is_list), 0);
	assert_int_equal(n, 4);
	assert_true(p == in + 7);
	assert_int_equal(is_list, 0);
	is_list = 1;
	assert_int_equal(rlp_get_raw(&r, &p, &n, &is_list), ERR_TRUNCATED);
	assert_null(p);
	assert_int_equal(n, 0);
	assert_int_equal(is_list, 0);
}

static void
test_long_headers(void **state)
{
	struct prt_writer w;
	struct prt_reader r, l;
	const uint8_t *p;
	uint8_t *big;
	size_t n;

	big = calloc(1, RLP_MAX_ITEM + 1);
	assert_non_null(big);

	prt_writer_init(&w, RLP_MAX_ITEM + 16);
	rlp_put_bytes(&w, big, 1024);
	assert_int_equal(prt_writer_error(&w), 0);
	assert_memory_equal(w.p, "\xb9\x04\x00", 3);
	assert_int_equal(w.len, 1027);
	prt_writer_free(&w);

	/* The largest item we accept, both ways. */
	prt_writer_init(&w, RLP_MAX_ITEM + 16);
	rlp_put_bytes(&w, big, RLP_MAX_ITEM);
	assert_int_equal(prt_writer_error(&w), 0);
	assert_memory_equal(w.p, "\xba\x10\x00\x00", 4);
	prt_reader_init(&r, w.p, w.len);
	assert_int_equal(rlp_get_bytes(&r, &p, &n), 0);
	assert_int_equal(n, RLP_MAX_ITEM);
	prt_writer_free(&w);

	/* One byte more is refused by the writer too, and the error sticks. */
	prt_writer_init(&w, RLP_MAX_ITEM + 16);
	assert_int_equal(rlp_put_bytes(&w, big, RLP_MAX_ITEM + 1), ERR_TOO_LARGE);
	assert_int_equal(rlp_put_u64(&w, 1), ERR_TOO_LARGE);
	assert_int_equal(prt_writer_error(&w), ERR_TOO_LARGE);
	prt_writer_free(&w);

	/* A 56-byte list payload takes the long list form. */
	prt_writer_init(&w, BUF_MAX);
	rlp_put_bytes(&w, big, 55);
	rlp_close_list(&w, 0);
	assert_int_equal(prt_writer_error(&w), 0);
	assert_memory_equal(w.p, "\xf8\x38\xb7", 3);
	prt_reader_init(&r, w.p, w.len);
	assert_int_equal(rlp_get_list(&r, &l), 0);
	assert_int_equal(prt_remaining(&l), 56);
	prt_writer_free(&w);
	free(big);
}

static void
test_writer_misuse(void **state)
{
	struct prt_writer w;

	prt_writer_init(&w, BUF_MAX);
	rlp_put_u64(&w, 1);
	assert_int_equal(rlp_close_list(&w, 2), ERR_INVALID_ARG);
	assert_int_equal(prt_writer_error(&w), ERR_INVALID_ARG);
	prt_writer_free(&w);

	/* The writer's own bound is honoured, including by list headers. */
	prt_writer_init(&w, 3);
	assert_int_equal(rlp_put_bytes(&w, (const uint8_t *)"dog", 3), ERR_TOO_LARGE);
	prt_writer_free(&w);
	prt_writer_init(&w, 3);
	rlp_put_u64(&w, 1);
	rlp_put_u64(&w, 2);
	rlp_put_u64(&w, 3);
	assert_int_equal(rlp_close_list(&w, 0), ERR_TOO_LARGE);
	prt_writer_free(&w);
}

/*
 * EIP-155's example: nonce 9, gas price 20 gwei, gas 21000, to 0x35..35,
 * value 1 ether, chain id 1.  The legacy signing data is plain RLP, so it
 * checks the encoder and Keccak-256 together.
 */
static void
test_eip155_example(void **state)
{
	static const uint8_t to[20] = {
		0x35, 0x35, 0x35, 0x35, 0x35, 0x35, 0x35, 0x35, 0x35, 0x35,
		0x35, 0x35, 0x35, 0x35, 0x35, 0x35, 0x35, 0x35, 0x35, 0x35,
	};
	struct prt_writer w;
	struct prt_reader r, l;
	uint8_t hash[32], want[32], in[128], addr[20];
	const uint8_t *p;
	uint64_t v;
	u256 value, num, want_num;
	size_t n;

	assert_int_equal(u256_from_dec(&value, "1000000000000000000"), 0);
	prt_writer_init(&w, BUF_MAX);
	rlp_put_u64(&w, 9);
	rlp_put_u64(&w, 20000000000ull);
	rlp_put_u64(&w, 21000);
	rlp_put_bytes(&w, to, sizeof(to));
	rlp_put_u256(&w, &value);
	rlp_put_bytes(&w, NULL, 0);
	rlp_put_u64(&w, 1);
	rlp_put_u64(&w, 0);
	rlp_put_u64(&w, 0);
	rlp_close_list(&w, 0);
	assert_writer_hex(&w,
	    "ec098504a817c800825208943535353535353535353535353535353535353535880de0"
	    "b6b3a764000080018080");
	evm_keccak256(hash, w.p, w.len);
	assert_int_equal(util_hex_decode(want, 32,
	    "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53"), 0);
	assert_memory_equal(hash, want, 32);
	prt_writer_free(&w);

	/* The signed transaction decodes to v = 37 and the EIP's r and s. */
	n = unhex(in, sizeof(in),
	    "f86c098504a817c800825208943535353535353535353535353535353535353535880d"
	    "e0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1"
	    "590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1"
	    "966a3b6d83");
	prt_reader_init(&r, in, n);
	assert_int_equal(rlp_get_list(&r, &l), 0);
	assert_int_equal(prt_end(&r), 0);
	assert_int_equal(rlp_get_u64(&l, &v), 0);
	assert_true(v == 9);
	assert_int_equal(rlp_get_u64(&l, &v), 0);
	assert_true(v == 20000000000ull);
	assert_int_equal(rlp_get_u64(&l, &v), 0);
	assert_true(v == 21000);
	assert_int_equal(rlp_get_fixed(&l, addr, 20), 0);
	assert_memory_equal(addr, to, 20);
	assert_int_equal(rlp_get_u256(&l, &num), 0);
	assert_int_equal(u256_cmp(&num, &value), 0);
	assert_int_equal(rlp_get_bytes(&l, &p, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(rlp_get_u64(&l, &v), 0);
	assert_true(v == 37);
	assert_int_equal(rlp_get_u256(&l, &num), 0);
	assert_int_equal(u256_from_dec(&want_num,
	    "18515461264373351373200002665853028612451056578545711640558177340181847433846"), 0);
	assert_int_equal(u256_cmp(&num, &want_num), 0);
	assert_int_equal(rlp_get_u256(&l, &num), 0);
	assert_int_equal(u256_from_dec(&want_num,
	    "46948507304638947509940763649030358759909902576025900602547168820602576006531"), 0);
	assert_int_equal(u256_cmp(&num, &want_num), 0);
	assert_int_equal(prt_end(&l), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_strings),
		cmocka_unit_test(test_encode_integers),
		cmocka_unit_test(test_encode_lists),
		cmocka_unit_test(test_decode_structure),
		cmocka_unit_test(test_invalid_vectors),
		cmocka_unit_test(test_noncanonical_forms),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_kind_mismatch),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_long_headers),
		cmocka_unit_test(test_writer_misuse),
		cmocka_unit_test(test_eip155_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
