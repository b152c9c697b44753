/* test_format.c: the line builder, the body rules and the fixed-prefix parser (D1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "common/err.h"
#include "journal/internal.h"

static const uint8_t zeros[32];

/* Builds the line for body text at seq with prev; returns it NUL-ended. */
static char *
build(uint8_t hash[32], uint64_t seq, const uint8_t prev[32], const char *body)
{
	struct jnl_hasher h;
	struct prt_writer w;
	char *s;

	assert_int_equal(jnl_hasher_init(&h), 0);
	prt_writer_init(&w, JNL_LINE_MAX * 2);
	assert_int_equal(jnl_fmt_line(&w, hash, &h, seq, prev, body,
	    strlen(body)), 0);
	s = strndup((const char *)w.p, w.len);
	prt_writer_free(&w);
	jnl_hasher_free(&h);
	return s;
}

static void
test_line_bytes_and_hash(void **state)
{
	uint8_t hash[32], want[32];
	char *line, *body = NULL;
	size_t blen;
	json_t *b;

	/* Keys sorted, compact: the bytes auditors hash are predictable. */
	b = json_pack("{s:s, s:s, s:s}", "type", "signed", "amount", "5",
	    "ts", "2026-11-22T10:00:00Z");
	assert_int_equal(jnl_fmt_body(&body, &blen, b, 0), 0);
	assert_string_equal(body,
	    "{\"amount\":\"5\",\"ts\":\"2026-11-22T10:00:00Z\",\"type\":\"signed\"}");
	line = build(hash, 1, zeros, body);
	assert_string_equal(line, "{\"prev\":\"0000000000000000000000000000000"
	    "000000000000000000000000000000000\",\"seq\":1,\"amount\":\"5\","
	    "\"ts\":\"2026-11-22T10:00:00Z\",\"type\":\"signed\"}\n");
	/* The hash is SHA-256 of the line without its newline. */
	SHA256((const uint8_t *)line, strlen(line) - 1, want);
	assert_memory_equal(hash, want, 32);
	free(line);
	free(body);
	json_decref(b);
}

static void
test_prefix_roundtrip(void **state)
{
	struct jnl_prefix p;
	const char *reason;
	uint8_t prev[32], hash[32];
	char *line;

	memset(prev, 0xab, sizeof(prev));
	line = build(hash, 18446744073709551615ull, prev,
	    "{\"type\":\"x\"}");
	assert_int_equal(jnl_fmt_prefix(&p, &reason, (const uint8_t *)line,
	    strlen(line) - 1), 0);
	assert_true(p.seq == 18446744073709551615ull);
	assert_memory_equal(p.prev, prev, 32);
	free(line);
}

static void
test_body_rules(void **state)
{
	char *text = (char *)1, big[JNL_LINE_MAX];
	size_t len = 1;
	json_t *b;

	/* Not an object, empty, or missing/empty type. */
	b = json_array();
	assert_int_equal(jnl_fmt_body(&text, &len, b, 0), ERR_INVALID_ARG);
	assert_null(text);
	assert_int_equal(len, 0);
	json_decref(b);
	b = json_object();
	assert_int_equal(jnl_fmt_body(&text, &len, b, 0), ERR_INVALID_ARG);
	json_decref(b);
	b = json_pack("{s:s}", "ts", "x");
	assert_int_equal(jnl_fmt_body(&text, &len, b, 0), ERR_INVALID_ARG);
	json_decref(b);
	b = json_pack("{s:i}", "type", 3);
	assert_int_equal(jnl_fmt_body(&text, &len, b, 0), ERR_INVALID_ARG);
	json_decref(b);
	/* prev and seq belong to the prefix. */
	b = json_pack("{s:s, s:s}", "type", "t", "prev", "x");
	assert_int_equal(jnl_fmt_body(&text, &len, b, 0), ERR_INVALID_ARG);
	json_decref(b);
	b = json_pack("{s:s, s:i}", "type", "t", "seq", 4);
	assert_int_equal(jnl_fmt_body(&text, &len, b, 0), ERR_INVALID_ARG);
	json_decref(b);
	/* Only jnl_checkpoint() may write a checkpoint. */
	b = json_pack("{s:s}", "type", "checkpoint");
	assert_int_equal(jnl_fmt_body(&text, &len, b, 0), ERR_INVALID_ARG);
	assert_int_equal(jnl_fmt_body(&text, &len, b, 1), 0);
	free(text);
	json_decref(b);
	/* Newlines in strings are escaped, never raw. */
	b = json_pack("{s:s, s:s}", "type", "t", "note", "a\nb");
	assert_int_equal(jnl_fmt_body(&text, &len, b, 0), 0);
	assert_null(memchr(text, '\n', len));
	free(text);
	json_decref(b);
	/* The longest line fits JNL_LINE_MAX whatever the seq; one more
	 * byte does not. */
	memset(big, 'a', sizeof(big));
	big[JNL_LINE_MAX - JNL_PREFIX_MAX - 19] = '\0';
	b = json_pack("{s:s, s:s}", "type", "t", "x", big);
	assert_int_equal(jnl_fmt_body(&text, &len, b, 0), 0);
	assert_int_equal(JNL_PREFIX_MAX + len, JNL_LINE_MAX);
	free(text);
	json_decref(b);
	big[JNL_LINE_MAX - JNL_PREFIX_MAX - 19] = 'a';
	big[JNL_LINE_MAX - JNL_PREFIX_MAX - 18] = '\0';
	b = json_pack("{s:s, s:s}", "type", "t", "x", big);
	assert_int_equal(jnl_fmt_body(&text, &len, b, 0), ERR_TOO_LARGE);
	json_decref(b);
}

struct bad_prefix {
	const char *line;
	int err;
};

#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"
static const struct bad_prefix bad[] = {
	{ "", ERR_MALFORMED },
	{ "{\"prev\":\"", ERR_MALFORMED },
	{ "{\"prev\": \"" Z64 "\",\"seq\":1,\"type\":\"x\"}", ERR_MALFORMED },
	{ "{\"prev\":\"" Z64 "\", \"seq\":1,\"type\":\"x\"}", ERR_MALFORMED },
	{ "{\"seq\":1,\"prev\":\"" Z64 "\",\"type\":\"x\"}", ERR_MALFORMED },
	/* Uppercase hex is a second spelling of the same hash. */
	{ "{\"prev\":\"000000000000000000000000000000000000000000000000000000"
	  "000000000A\",\"seq\":1,\"type\":\"x\"}", ERR_BAD_DIGIT },
	{ "{\"prev\":\"" Z64 "\",\"seq\":01,\"type\":\"x\"}", ERR_NONCANONICAL },
	{ "{\"prev\":\"" Z64 "\",\"seq\":0,\"type\":\"x\"}", ERR_NONCANONICAL },
	{ "{\"prev\":\"" Z64 "\",\"seq\":-1,\"type\":\"x\"}", ERR_BAD_DIGIT },
	{ "{\"prev\":\"" Z64 "\",\"seq\":1.5,\"type\":\"x\"}", ERR_BAD_DIGIT },
	{ "{\"prev\":\"" Z64 "\",\"seq\":18446744073709551616,\"t\":1}",
	  ERR_OVERFLOW },
	{ "{\"prev\":\"" Z64 "\",\"seq\":,\"type\":\"x\"}", ERR_MALFORMED },
	{ "{\"prev\":\"" Z64 "\",\"seq\":1}", ERR_BAD_DIGIT },
	{ "{\"prev\":\"" Z64 "\",\"seq\":1", ERR_MALFORMED },
	{ "{\"prev\":\"" Z64 "\",\"seq\":1,", ERR_MALFORMED },
	{ "{\"prev\":\"" Z64 "\",\"seq\":1,}", ERR_MALFORMED },
	{ "{\"prev\":\"" Z64 "\",\"seq\":1,\"type\":\"x\"} ", ERR_MALFORMED },
	{ "{\"prev\":\"" Z64 "\",\"seq\":1,\"type\":\"x\"", ERR_MALFORMED },
};

static void
test_prefix_rejects(void **state)
{
	struct jnl_prefix p;
	const char *reason;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&p, 0xa5, sizeof(p));
		reason = NULL;
		if (jnl_fmt_prefix(&p, &reason, (const uint8_t *)bad[i].line,
		    strlen(bad[i].line)) != bad[i].err)
			fail_msg("case %zu: %s", i, bad[i].line);
		assert_non_null(reason);
		assert_int_equal(p.seq, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_bytes_and_hash),
		cmocka_unit_test(test_prefix_roundtrip),
		cmocka_unit_test(test_body_rules),
		cmocka_unit_test(test_prefix_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
