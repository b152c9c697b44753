/* test_ini.c: the shared INI loader: a table of every kind, the hook, and each refusal with its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/ini.h"

struct conf {
	char name[8];
	char *path;
	int count;
	uint16_t port;
	uint32_t days;
	uint64_t bytes;
	int verbose;
	int mode;
	/* what the hook saw */
	int hooked;
	char last[64];
};

static int
check_abs(void *base, const char *v, char *why, size_t whylen)
{
	if (v[0] == '/')
		return 0;
	snprintf(why, whylen, "'%s' is not absolute", v);
	return -1;
}

static int
parse_mode(void *base, const char *v, char *why, size_t whylen)
{
	struct conf *c = base;

	if (strcmp(v, "fast") == 0 || strcmp(v, "slow") == 0) {
		c->mode = v[0] == 'f' ? 1 : 2;
		return 0;
	}
	snprintf(why, whylen, "must be fast or slow");
	return -1;
}

/* The hook owns [sub:NAME]; "bad" is refused, "oom" runs out of memory. */
static int
sub_claims(void *ctx, const char *section)
{
	return strncmp(section, "sub:", 4) == 0 && section[4] != '\0';
}

static int
sub_pair(void *ctx, const char *section, const char *name, const char *value,
    int line, char *why, size_t whylen)
{
	struct conf *c = ctx;

	if (strcmp(name, "oom") == 0)
		return ERR_NOMEM;
	if (strcmp(name, "bad") == 0) {
		snprintf(why, whylen, "bad value for 'bad' in [%s]: no", section);
		return ERR_MALFORMED;
	}
	c->hooked++;
	snprintf(c->last, sizeof(c->last), "%s/%s=%s@%d", section, name, value,
	    line);
	return 0;
}

static const char *const sections[] = { "main", "limits" };

#define F(sec, name, kind, m, lo, hi, fn, req) \
	INI_FIELD(struct conf, sec, name, kind, m, lo, hi, fn, req)

static const struct ini_field fields[] = {
	F("main", "name", INI_STRING, name, 0, 0, NULL, 1),
	F("main", "path", INI_STRDUP, path, 0, 0, check_abs, 0),
	F("main", "verbose", INI_BOOL, verbose, 0, 0, NULL, 0),
	F("main", "mode", INI_CUSTOM, mode, 0, 0, parse_mode, 0),
	F("limits", "count", INI_INT, count, 1, 100, NULL, 1),
	F("limits", "port", INI_UINT, port, 1, 65535, NULL, 0),
	F("limits", "days", INI_UINT, days, 0, 366, NULL, 0),
	F("limits", "bytes", INI_UINT, bytes, 0, UINT64_MAX, NULL, 0),
};

static const char good[] =
    "; test config\n"		/* 1 */
    "[main]\n"			/* 2 */
    "name = abc   ; inline\n"	/* 3 */
    "path = /x/y\n"		/* 4 */
    "verbose = yes\n"		/* 5 */
    "[limits]\n"		/* 6 */
    "count = 7\n"		/* 7 */
    "[sub:one]\n"		/* 8 */
    "url = http://h/p\n";	/* 9 */

/* Parses len bytes of text into *c; err gets the message. */
static int
parse(struct conf *c, const char *text, size_t len, char *err, size_t errlen,
    struct ini_load *out)
{
	struct ini_hook hook = { sub_claims, sub_pair, c };
	struct ini_spec spec = { sections, ARRAY_LEN(sections), fields,
		ARRAY_LEN(fields), 4096, &hook };
	struct ini_load ld;
	int r;

	memset(c, 0, sizeof(*c));
	c->port = 8080;
	ini_init(&ld, &spec, c, "t.ini", err, errlen);
	r = ini_parse_buf(&ld, text, len);
	if (out != NULL)
		*out = ld;
	return r;
}

/* Expects text to fail with rc and exactly "t.ini" + suffix. */
static void
expect(const char *text, size_t len, int rc, const char *suffix)
{
	struct conf c;
	char err[256], want[256];

	if (parse(&c, text, len, err, sizeof(err), NULL) != rc)
		fail_msg("'%s' (%s) is not %d", text, err, rc);
	snprintf(want, sizeof(want), "t.ini%s", suffix);
	if (strcmp(err, want) != 0)
		fail_msg("got '%s', want '%s'", err, want);
	free(c.path);
}

static void
expect_str(const char *text, const char *suffix)
{
	expect(text, strlen(text), ERR_MALFORMED, suffix);
}

/* good with the first from replaced by to. */
static void
expect_sub(const char *from, const char *to, const char *suffix)
{
	char text[4096];
	const char *at = strstr(good, from);

	assert_non_null(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - good), good, to,
	    at + strlen(from));
	expect_str(text, suffix);
}

static void
test_good(void **state)
{
	struct ini_load ld;
	struct conf c;
	char err[128];

	(void)state;
	assert_int_equal(parse(&c, good, strlen(good), err, sizeof(err), &ld),
	    0);
	assert_string_equal(err, "");
	assert_string_equal(c.name, "abc");
	assert_string_equal(c.path, "/x/y");
	assert_int_equal(c.verbose, 1);
	assert_int_equal(c.count, 7);
	assert_int_equal(c.port, 8080);		/* the default stays */
	assert_int_equal(c.hooked, 1);
	assert_string_equal(c.last, "sub:one/url=http://h/p@9");
	assert_int_equal(ini_field_line(&ld, "limits", "count"), 7);
	assert_int_equal(ini_field_line(&ld, "limits", "port"), 0);
	assert_int_equal(ini_field_line(&ld, "nope", "count"), 0);
	assert_int_equal(ini_section_line(&ld, "limits"), 6);
	assert_int_equal(ini_section_line(&ld, "sub:one"), 8);
	assert_int_equal(ini_section_line(&ld, "sub:two"), 0);
	free(c.path);
}

static void
test_every_kind(void **state)
{
	static const char text[] =
	    "[main]\r\nname = 1234567\r\n\tmode = slow\nverbose = false\n"
	    "[limits]\ncount = 100\nport = 65535\ndays = 366\n"
	    "bytes = 18446744073709551615\n";
	struct conf c;
	char err[128];

	(void)state;
	assert_int_equal(parse(&c, text, strlen(text), err, sizeof(err), NULL),
	    0);
	assert_string_equal(c.name, "1234567");
	assert_null(c.path);
	assert_int_equal(c.mode, 2);
	assert_int_equal(c.verbose, 0);
	assert_int_equal(c.count, 100);
	assert_int_equal(c.port, 65535);
	assert_int_equal(c.days, 366);
	assert_true(c.bytes == UINT64_MAX);
}

static void
test_bad_bytes(void **state)
{
	static const char nul[] = "[main]\nname = a\0b\n";
	static const char bel[] = "[main]\nname = a\ab\n";
	static const char cr[] = "[main]\nname = a\rb\n";
	static const char del[] = "[main]\nname = a\x7f\n";
	static const char utf8[] = "[main]\nname = \xc3\xa9\n";

	(void)state;
	expect(nul, sizeof(nul) - 1, ERR_MALFORMED,
	    ":2: control or non-ASCII byte 0x00 in column 9");
	expect(bel, sizeof(bel) - 1, ERR_MALFORMED,
	    ":2: control or non-ASCII byte 0x07 in column 9");
	expect(cr, sizeof(cr) - 1, ERR_MALFORMED,
	    ":2: control or non-ASCII byte 0x0d in column 9");
	expect(del, sizeof(del) - 1, ERR_MALFORMED,
	    ":2: control or non-ASCII byte 0x7f in column 9");
	expect(utf8, sizeof(utf8) - 1, ERR_MALFORMED,
	    ":2: control or non-ASCII byte 0xc3 in column 8");
}

/* inih would split a long line and read its tail as a line of its own. */
static void
test_long_line(void **state)
{
	char text[512];
	struct conf c;
	char err[128];

	(void)state;
	snprintf(text, sizeof(text), "[main]\nname = x\n; %0300d\n", 0);
	assert_int_equal(parse(&c, text, strlen(text), err, sizeof(err), NULL),
	    ERR_TOO_LARGE);
	assert_true(strncmp(err, "t.ini:3: line longer than ", 26) == 0);
	/* A line of 198 bytes fits inih's 200-byte buffer. */
	snprintf(text, sizeof(text), "[main]\nname = x\n;%0197d\n[limits]\n"
	    "count = 1\n", 0);
	assert_int_equal(parse(&c, text, strlen(text), err, sizeof(err), NULL),
	    0);
}

static void
test_headers(void **state)
{
	char text[256];

	(void)state;
	expect_sub("[limits]\n", "[limits\n",
	    ":6: expected [section], key = value, or a comment");
	expect_sub("[limits]\n", "[limits] count = 1\n", ":6: text after ']'");
	expect_sub("[limits]\n", "[limits]]\n", ":6: text after ']'");
	expect_sub("[limits]\n", "[Limits]\n", ":6: unknown section [Limits]");
	expect_sub("[limits]\n", "[ limits]\n",
	    ":6: unknown section [ limits]");
	expect_sub("[limits]\n", "[]\n", ":6: unknown section []");
	expect_sub("[limits]\n", "[main]\n",
	    ":6: duplicate section [main] (first at line 2)");
	/* The hook sees only names it can trust inih to keep whole. */
	expect_sub("[sub:one]\n", "[sub:o ne]\n",
	    ":8: unknown section [sub:o ne]");
	expect_sub("[sub:one]\n", "[sub:]\n", ":8: unknown section [sub:]");
	snprintf(text, sizeof(text), "[sub:%045d]\n", 0);	/* 49 bytes */
	expect_sub("[sub:one]\n", text, ":8: unknown section [sub:"
	    "000000000000000000000000000000000000000000000]");
	expect_sub("url = ", "[sub:one]\nurl = ",
	    ":9: duplicate section [sub:one] (first at line 8)");
	/* An empty unknown section is an error too (inih never says). */
	expect_str("[main]\nname = a\n[limits]\ncount = 1\n[extra]\n",
	    ":5: unknown section [extra]");
}

static void
test_pairs(void **state)
{
	(void)state;
	expect_sub("count = 7", "count: 7",
	    ":7: expected [section], key = value, or a comment");
	expect_sub("count = 7", "count 7",
	    ":7: expected [section], key = value, or a comment");
	expect_sub("count = 7", "= 7", ":7: no key before '='");
	expect_sub("; test config\n", "stray = 1\n",
	    ":1: key outside any section");
	expect_sub("count = 7", "count =", ":7: empty value for 'count' in "
	    "[limits]");
	expect_sub("count = 7", "count = ; comment", ":7: empty value for "
	    "'count' in [limits]");
	expect_sub("count = 7", "speed = 7",
	    ":7: unknown key 'speed' in [limits]");
	expect_sub("count = 7", "name = 7",
	    ":7: unknown key 'name' in [limits]");
	expect_sub("verbose = yes\n", "verbose = yes\nverbose = no\n",
	    ":6: duplicate key 'verbose' in [main] (first at line 5)");
	/* The hook's own refusals, with the line of the pair. */
	expect_sub("url = ", "bad = 1\nurl = ",
	    ":9: bad value for 'bad' in [sub:one]: no");
	{
		char t[128];

		snprintf(t, sizeof(t), "%s", good);
		strcat(t, "oom = 1\n");
		expect(t, strlen(t), ERR_NOMEM, ": out of memory");
	}
}

static void
test_values(void **state)
{
	(void)state;
	expect_sub("count = 7", "count = 0",
	    ":7: bad value for 'count' in [limits]: 0 is out of range 1..100");
	expect_sub("count = 7", "count = 101",
	    ":7: bad value for 'count' in [limits]: 101 is out of range "
	    "1..100");
	expect_sub("count = 7", "count = 99999999999999999999999",
	    ":7: bad value for 'count' in [limits]: 99999999999999999999999 "
	    "is out of range 1..100");
	expect_sub("count = 7", "count = -1",
	    ":7: bad value for 'count' in [limits]: '-1' is not a decimal "
	    "number");
	expect_sub("count = 7", "count = +1",
	    ":7: bad value for 'count' in [limits]: '+1' is not a decimal "
	    "number");
	expect_sub("count = 7", "count = 07",
	    ":7: bad value for 'count' in [limits]: '07' has a leading zero");
	expect_sub("count = 7", "count = 0x7",
	    ":7: bad value for 'count' in [limits]: '0x7' is not a decimal "
	    "number");
	expect_sub("count = 7", "count = 7\nport = 0",
	    ":8: bad value for 'port' in [limits]: 0 is out of range "
	    "1..65535");
	expect_sub("count = 7", "count = 7\nport = 65536",
	    ":8: bad value for 'port' in [limits]: 65536 is out of range "
	    "1..65535");
	expect_sub("count = 7", "count = 7\ndays = 367",
	    ":8: bad value for 'days' in [limits]: 367 is out of range 0..366");
	expect_sub("count = 7", "count = 7\nbytes = 18446744073709551616",
	    ":8: bad value for 'bytes' in [limits]: 18446744073709551616 is "
	    "out of range 0..18446744073709551615");
	expect_sub("name = abc", "name = 12345678",
	    ":3: bad value for 'name' in [main]: longer than 7 bytes");
	expect_sub("path = /x/y", "path = x/y",
	    ":4: bad value for 'path' in [main]: 'x/y' is not absolute");
	expect_sub("verbose = yes", "verbose = 1",
	    ":5: bad value for 'verbose' in [main]: '1' is not yes, no, true "
	    "or false");
	expect_sub("verbose = yes", "mode = quick",
	    ":5: bad value for 'mode' in [main]: must be fast or slow");
}

static void
test_missing(void **state)
{
	(void)state;
	expect_sub("count = 7\n", "", ":6: missing required key 'count' in "
	    "[limits]");
	expect_sub("[limits]\ncount = 7\n", "",
	    ": missing section [limits] (needs 'count')");
	expect_str("", ": missing section [main] (needs 'name')");
	expect_str("\n\n;x\n#y\n", ": missing section [main] (needs 'name')");
}

/* The first error wins, inih's own included; later lines are not read. */
static void
test_first_error(void **state)
{
	struct conf c;
	char err[128];

	(void)state;
	expect_str("[main]\n[limits\nname = a\n", ":2: expected [section], "
	    "key = value, or a comment");
	expect_str("[main]\nname = a\nname = b\n\x01\n",
	    ":3: duplicate key 'name' in [main] (first at line 2)");
	assert_int_equal(parse(&c, "[main]\nx = 1\nname = a\n", 21, err,
	    sizeof(err), NULL), ERR_MALFORMED);
	assert_string_equal(err, "t.ini:2: unknown key 'x' in [main]");
	assert_string_equal(c.name, "");	/* line 3 never parsed */
	/* No error buffer at all is fine too. */
	assert_int_equal(parse(&c, "[nope]\n", 7, NULL, 0, NULL),
	    ERR_MALFORMED);
	/* A small one truncates. */
	assert_int_equal(parse(&c, "[nope]\n", 7, err, 6, NULL),
	    ERR_MALFORMED);
	assert_string_equal(err, "t.ini");
}

/* ini_load: the trusted-file checks before any parsing. */
static void
test_file(void **state)
{
	char path[64], err[256], big[5000];
	struct ini_hook hook = { sub_claims, sub_pair, NULL };
	struct ini_spec spec = { sections, ARRAY_LEN(sections), fields,
		ARRAY_LEN(fields), 4096, &hook };
	struct ini_load ld;
	struct conf c;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/test_ini.%ld", (long)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(good, f);
	fclose(f);
	memset(&c, 0, sizeof(c));
	hook.ctx = &c;
	assert_int_equal(chmod(path, 0600), 0);
	ini_init(&ld, &spec, &c, path, err, sizeof(err));
	assert_int_equal(ini_load(&ld), 0);
	assert_int_equal(c.count, 7);
	free(c.path);

	memset(&c, 0, sizeof(c));
	assert_int_equal(chmod(path, 0620), 0);
	ini_init(&ld, &spec, &c, path, err, sizeof(err));
	assert_int_equal(ini_load(&ld), ERR_PERMISSION);
	assert_non_null(strstr(err, ": writable by group or others"));
	assert_null(c.path);

	f = fopen(path, "w");
	assert_non_null(f);
	memset(big, '\n', sizeof(big));
	fwrite(big, 1, sizeof(big), f);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
	ini_init(&ld, &spec, &c, path, err, sizeof(err));
	assert_int_equal(ini_load(&ld), ERR_TOO_LARGE);
	assert_non_null(strstr(err, ": larger than 4096 bytes"));
	unlink(path);

	ini_init(&ld, &spec, &c, "/nonexistent/x.ini", err, sizeof(err));
	assert_int_equal(ini_load(&ld), ERR_IO);
	assert_string_equal(err, "/nonexistent/x.ini: No such file or "
	    "directory");
}

/* Random bytes: always a clean error naming the file, never a crash. */
static void
test_noise(void **state)
{
	unsigned char noise[1024];
	struct conf c;
	char err[256];
	uint32_t x = 0x9e3779b9;
	size_t i, j;

	(void)state;
	for (i = 0; i < 256; i++) {
		for (j = 0; j < sizeof(noise); j++) {
			x = x * 1103515245u + 12345u;
			noise[j] = (unsigned char)(x >> 16);
		}
		assert_int_not_equal(parse(&c, (const char *)noise,
		    sizeof(noise) - i * 3, err, sizeof(err), NULL), 0);
		assert_true(strncmp(err, "t.ini", 5) == 0);
		free(c.path);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_every_kind),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_first_error),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_noise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
