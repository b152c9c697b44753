/*
 * test_auth.c: the tokens file (mode, owner, symlinks, bad lines with
 * their line numbers, duplicates), bearer token lookup for every entry,
 * the role matrix, and the token bucket driven by an injected clock.
 */
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

#include <openssl/evp.h>

#include "common/err.h"
#include "orchestratord/auth.h"

/* What `printf %s "$tok" | sha256sum | cut -d' ' -f1` prints. */
static void
sha256_hex(char out[65], const char *token)
{
	uint8_t h[32];
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(token, strlen(token), h, &n, EVP_sha256(),
	    NULL), 1);
	util_hex_encode(out, h, sizeof(h));
}

static const char *const tokens[] = {
	"0d5b7a1f2c3e4d5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c",
	"submitter-token-with-other-characters_~+/=",
	"v",
	"f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f1",
};
static const char *const who[] = { "alice", "sub.mit-ter_1", "viewer", "root" };
static const char *const roles[] = { "approver", "submitter", "viewer",
    "admin" };

/* The tokens file text for the four entries above, with decoration. */
static char *
tokens_text(void)
{
	char hex[65], *text = malloc(4096);
	size_t i, n = 0;

	assert_non_null(text);
	n += (size_t)snprintf(text + n, 4096 - n, "# NAME ROLE SHA256\n\n");
	for (i = 0; i < ARRAY_LEN(tokens); i++) {
		sha256_hex(hex, tokens[i]);
		/* Spaces, tabs, leading blanks and CRLF are all fine. */
		n += (size_t)snprintf(text + n, 4096 - n, i == 2 ?
		    "  %s\t%s  %s\r\n" : "%s %s %s\n", who[i], roles[i], hex);
		if (i == 1)
			n += (size_t)snprintf(text + n, 4096 - n, "   # note\n");
	}
	return text;
}

static struct auth *
parse_ok(const char *text, int rate, int burst)
{
	struct auth *a = NULL;
	char err[256];

	if (auth_parse(&a, text, strlen(text), "tokens", rate, burst, err,
	    sizeof(err)) != 0)
		print_message("unexpected: %s\n", err);
	assert_non_null(a);
	return a;
}

/* Parses text, which must fail with r and an error naming where. */
static void
parse_bad(const char *text, int r, const char *where, const char *what)
{
	struct auth *a = (struct auth *)1;
	char err[256];

	assert_int_equal(auth_parse(&a, text, strlen(text), "tokens", 1, 1,
	    err, sizeof(err)), r);
	assert_null(a);
	if (strstr(err, where) == NULL || strstr(err, what) == NULL)
		print_message("error '%s' lacks '%s' or '%s'\n", err, where,
		    what);
	assert_non_null(strstr(err, where));
	assert_non_null(strstr(err, what));
}

static void
test_parse_and_lookup(void **state)
{
	char *text = tokens_text(), bad[600];
	struct auth *a = parse_ok(text, 10, 10);
	size_t i, idx;

	assert_int_equal(auth_count(a), 4);
	for (i = 0; i < ARRAY_LEN(tokens); i++) {
		idx = 99;
		assert_int_equal(auth_lookup(a, tokens[i], strlen(tokens[i]),
		    &idx), 0);
		assert_int_equal(idx, i);
		assert_string_equal(auth_name(a, idx), who[i]);
		assert_string_equal(auth_role_name(auth_role(a, idx)),
		    roles[i]);
	}
	/* Near misses: one character off, cut short, extended, empty. */
	snprintf(bad, sizeof(bad), "%s", tokens[0]);
	bad[10] ^= 1;
	assert_int_equal(auth_lookup(a, bad, strlen(bad), &idx), ERR_NOT_FOUND);
	assert_int_equal(idx, SIZE_MAX);
	assert_int_equal(auth_lookup(a, tokens[0], strlen(tokens[0]) - 1, &idx),
	    ERR_NOT_FOUND);
	snprintf(bad, sizeof(bad), "%sx", tokens[3]);
	assert_int_equal(auth_lookup(a, bad, strlen(bad), &idx), ERR_NOT_FOUND);
	assert_int_equal(auth_lookup(a, "", 0, &idx), ERR_NOT_FOUND);
	/* The stored hash is not a token. */
	sha256_hex(bad, tokens[2]);
	assert_int_equal(auth_lookup(a, bad, strlen(bad), &idx), ERR_NOT_FOUND);
	/* Oversized tokens are refused without hashing. */
	memset(bad, 'v', sizeof(bad) - 1);
	bad[sizeof(bad) - 1] = '\0';
	assert_int_equal(auth_lookup(a, bad, AUTH_TOKEN_MAX + 1, &idx),
	    ERR_NOT_FOUND);
	auth_free(a);
	free(text);

	/* An empty file is a server nobody can use, not an error. */
	a = parse_ok("# nobody yet\n", 1, 1);
	assert_int_equal(auth_count(a), 0);
	assert_int_equal(auth_lookup(a, "v", 1, &idx), ERR_NOT_FOUND);
	auth_free(a);
}

static void
test_bad_lines(void **state)
{
	char line[1024], hex[65], hex2[65];

	sha256_hex(hex, "a");
	sha256_hex(hex2, "b");
#define OK1 "alice approver "
	snprintf(line, sizeof(line), "# c\n" OK1 "%s\nbob boss %s\n", hex,
	    hex2);
	parse_bad(line, ERR_MALFORMED, "tokens:3:", "role");
	snprintf(line, sizeof(line), "Alice approver %s\n", hex);
	parse_bad(line, ERR_MALFORMED, "tokens:1:", "name");
	snprintf(line, sizeof(line), "\n\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
	    "viewer %s\n", hex);
	parse_bad(line, ERR_MALFORMED, "tokens:3:", "name");
	snprintf(line, sizeof(line), "alice approver\n");
	parse_bad(line, ERR_MALFORMED, "tokens:1:", "NAME ROLE SHA256HEX");
	snprintf(line, sizeof(line), "alice approver %s extra\n", hex);
	parse_bad(line, ERR_MALFORMED, "tokens:1:", "NAME ROLE SHA256HEX");
	snprintf(line, sizeof(line), "alice approver %.63s\n", hex);
	parse_bad(line, ERR_MALFORMED, "tokens:1:", "64 hex");
	snprintf(line, sizeof(line), "alice approver 0x%.62s\n", hex);
	parse_bad(line, ERR_MALFORMED, "tokens:1:", "hex");
	snprintf(line, sizeof(line), "alice approver %.63sg\n", hex);
	parse_bad(line, ERR_MALFORMED, "tokens:1:", "not hex");
	snprintf(line, sizeof(line), "alice Approver %s\n", hex);
	parse_bad(line, ERR_MALFORMED, "tokens:1:", "role");
	snprintf(line, sizeof(line), "alice approver %s\x01\n", hex);
	parse_bad(line, ERR_MALFORMED, "tokens:1:", "control");
	/* One name, one token. */
	snprintf(line, sizeof(line), OK1 "%s\n# x\nalice viewer %s\n", hex,
	    hex2);
	parse_bad(line, ERR_MALFORMED, "tokens:3:", "duplicate name alice");
	snprintf(line, sizeof(line), OK1 "%s\nbob viewer %s\n", hex, hex);
	parse_bad(line, ERR_MALFORMED, "tokens:2:", "same token hash as alice");
	/* The same hash in upper case is the same hash. */
	snprintf(line, sizeof(line), OK1 "%s\nbob viewer %s\n", hex, hex);
	for (size_t i = strlen(line) - 65; line[i] != '\n'; i++)
		if (line[i] >= 'a' && line[i] <= 'f')
			line[i] = (char)(line[i] - 'a' + 'A');
	parse_bad(line, ERR_MALFORMED, "tokens:2:", "same token hash");
#undef OK1
}

static void
test_role_matrix(void **state)
{
	static const struct {
		enum auth_role role;
		int read, submit, approve;
	} m[] = {
		{ AUTH_ROLE_VIEWER, 1, 0, 0 },
		{ AUTH_ROLE_SUBMITTER, 0, 1, 0 },
		{ AUTH_ROLE_APPROVER, 0, 0, 1 },
		{ AUTH_ROLE_ADMIN, 1, 1, 1 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(m); i++) {
		assert_int_equal(auth_role_allows(m[i].role, AUTH_PERM_NONE), 1);
		assert_int_equal(auth_role_allows(m[i].role, AUTH_PERM_READ),
		    m[i].read);
		assert_int_equal(auth_role_allows(m[i].role, AUTH_PERM_SUBMIT),
		    m[i].submit);
		assert_int_equal(auth_role_allows(m[i].role, AUTH_PERM_APPROVE),
		    m[i].approve);
	}
	assert_int_equal(auth_role_allows((enum auth_role)0, AUTH_PERM_READ),
	    0);
	assert_int_equal(auth_role_allows((enum auth_role)9, AUTH_PERM_SUBMIT),
	    0);
	assert_string_equal(auth_role_name((enum auth_role)9), "?");
}

static void
test_bucket_math(void **state)
{
	struct auth_bucket b;
	int64_t retry;
	int i;

	/* 2 a second, 3 at most: a burst of 3, then one every 500 ms. */
	auth_bucket_init(&b, 2, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(auth_bucket_take(&b, 1000, &retry), 1);
	assert_int_equal(auth_bucket_take(&b, 1000, &retry), 0);
	assert_int_equal(retry, 500);
	assert_int_equal(auth_bucket_take(&b, 1499, &retry), 0);
	assert_int_equal(retry, 1);
	assert_int_equal(auth_bucket_take(&b, 1500, &retry), 1);
	assert_int_equal(retry, 0);
	assert_int_equal(auth_bucket_take(&b, 1500, &retry), 0);
	assert_int_equal(retry, 500);
	/* Partial refills add up: 250 + 250 ms is one token. */
	assert_int_equal(auth_bucket_take(&b, 1750, &retry), 0);
	assert_int_equal(retry, 250);
	assert_int_equal(auth_bucket_take(&b, 2000, &retry), 1);
	/* A long idle time fills to the burst, not beyond. */
	for (i = 0; i < 3; i++)
		assert_int_equal(auth_bucket_take(&b, 100000, &retry), 1);
	assert_int_equal(auth_bucket_take(&b, 100000, &retry), 0);
	/* A clock that steps back adds nothing (and is not an error). */
	assert_int_equal(auth_bucket_take(&b, 50000, &retry), 0);
	assert_int_equal(auth_bucket_take(&b, 100499, &retry), 0);
	assert_int_equal(auth_bucket_take(&b, 100500, &retry), 1);
	/* Years of idleness do not overflow. */
	assert_int_equal(auth_bucket_take(&b, INT64_MAX / 2, &retry), 1);
	assert_int_equal(auth_bucket_take(&b, INT64_MAX / 2, &retry), 1);
	assert_int_equal(auth_bucket_take(&b, INT64_MAX / 2, &retry), 1);
	assert_int_equal(auth_bucket_take(&b, INT64_MAX / 2, &retry), 0);

	/* Fast: 100000 a second refills a token in a hundredth of a ms. */
	auth_bucket_init(&b, 100000, 1);
	assert_int_equal(auth_bucket_take(&b, 7, &retry), 1);
	assert_int_equal(auth_bucket_take(&b, 7, &retry), 0);
	assert_int_equal(retry, 1);
	assert_int_equal(auth_bucket_take(&b, 8, &retry), 1);
	/* Slow and out-of-range values are clamped to 1. */
	auth_bucket_init(&b, 0, -4);
	assert_int_equal(b.rate, 1);
	assert_int_equal(b.burst, 1);
	assert_int_equal(auth_bucket_take(&b, 0, &retry), 1);
	assert_int_equal(auth_bucket_take(&b, 1, &retry), 0);
	assert_int_equal(retry, 999);
}

static void
test_rate_per_token(void **state)
{
	char *text = tokens_text();
	struct auth *a = parse_ok(text, 1, 2);
	int retry;

	/* Each token has its own bucket. */
	assert_int_equal(auth_rate_take(a, 0, 5000, &retry), 1);
	assert_int_equal(auth_rate_take(a, 0, 5000, &retry), 1);
	assert_int_equal(auth_rate_take(a, 0, 5000, &retry), 0);
	assert_int_equal(retry, 1);
	assert_int_equal(auth_rate_take(a, 1, 5000, &retry), 1);
	assert_int_equal(retry, 0);
	assert_int_equal(auth_rate_take(a, 0, 5999, &retry), 0);
	assert_int_equal(retry, 1);
	assert_int_equal(auth_rate_take(a, 0, 6000, &retry), 1);
	auth_free(a);
	free(text);
}

/* Requests without a token: one bucket per client address. */
static void
test_clients(void **state)
{
	struct auth_clients *c = NULL;
	uint8_t a[5] = { 4, 127, 0, 0, 1 }, b[5] = { 4, 127, 0, 0, 2 };
	uint8_t k[17];
	int i, retry;

	assert_int_equal(auth_clients_new(&c, 1, 2), 0);
	assert_int_equal(auth_clients_take(c, a, sizeof(a), 1000, &retry), 1);
	assert_int_equal(auth_clients_take(c, a, sizeof(a), 1000, &retry), 1);
	assert_int_equal(auth_clients_take(c, a, sizeof(a), 1000, &retry), 0);
	assert_int_equal(retry, 1);
	/* Another address has its own budget. */
	assert_int_equal(auth_clients_take(c, b, sizeof(b), 1000, &retry), 1);
	assert_int_equal(retry, 0);
	/* One token a second flows back in. */
	assert_int_equal(auth_clients_take(c, a, sizeof(a), 1999, &retry), 0);
	assert_int_equal(auth_clients_take(c, a, sizeof(a), 2000, &retry), 1);
	/* Many more clients than slots: each still gets its answer, and the
	 * least recently seen are forgotten (a fresh, full bucket). */
	memset(k, 0, sizeof(k));
	k[0] = 6;
	for (i = 0; i < 4 * AUTH_CLIENTS_MAX; i++) {
		k[15] = (uint8_t)(i >> 8);
		k[16] = (uint8_t)i;
		assert_int_equal(auth_clients_take(c, k, sizeof(k), 3000 + i,
		    &retry), 1);
	}
	assert_int_equal(auth_clients_take(c, a, sizeof(a), 2000 +
	    4 * AUTH_CLIENTS_MAX, &retry), 1);
	auth_clients_free(c);
	auth_clients_free(NULL);
}

/* --- the file itself ------------------------------------------------------------ */

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int
load(const char *path, char *err, size_t errlen)
{
	struct auth *a = NULL;
	int r = auth_load(&a, path, 1, 1, err, errlen);

	if (r == 0) {
		assert_non_null(a);
		assert_int_equal(auth_count(a), 4);
	} else {
		assert_null(a);
	}
	auth_free(a);
	return r;
}

static void
test_file_checks(void **state)
{
	char dir[] = "/tmp/test_auth.XXXXXX", file[128], link[128], sub[128],
	    fifo[128], err[512];
	char *text = tokens_text();

	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/tokens", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);

	write_file(file, text, 0600);
	assert_int_equal(load(file, err, sizeof(err)), 0);
	assert_int_equal(chmod(file, 0400), 0);
	assert_int_equal(load(file, err, sizeof(err)), 0);

	/* Any group or other bit is refused, with the fix in the message. */
	assert_int_equal(chmod(file, 0640), 0);
	assert_int_equal(load(file, err, sizeof(err)), ERR_PERMISSION);
	assert_non_null(strstr(err, "0640"));
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(file, 0604), 0);
	assert_int_equal(load(file, err, sizeof(err)), ERR_PERMISSION);
	assert_int_equal(chmod(file, 0601), 0);
	assert_int_equal(load(file, err, sizeof(err)), ERR_PERMISSION);
	assert_int_equal(chmod(file, 0600), 0);

	/* A symbolic link, even to a good file, a directory, a FIFO. */
	assert_int_equal(symlink(file, link), 0);
	assert_int_equal(load(link, err, sizeof(err)), ERR_PERMISSION);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(load(sub, err, sizeof(err)), ERR_PERMISSION);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(load(fifo, err, sizeof(err)), ERR_PERMISSION);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(load("/nonexistent/tokens", err, sizeof(err)),
	    ERR_IO);

	/* Owned by someone else. */
	if (geteuid() == 0) {
		assert_int_equal(chown(file, 65534, 65534), 0);
		assert_int_equal(load(file, err, sizeof(err)), ERR_PERMISSION);
		assert_non_null(strstr(err, "owned by uid 65534"));
		assert_int_equal(chown(file, 0, 0), 0);
	} else {
		assert_int_equal(load("/etc/passwd", err, sizeof(err)),
		    ERR_PERMISSION);
		assert_non_null(strstr(err, "owned by uid 0"));
	}

	/* A bad line names the file and the line. */
	write_file(file, "# ok\nalice approver nothex\n", 0600);
	assert_int_equal(load(file, err, sizeof(err)), ERR_MALFORMED);
	assert_non_null(strstr(err, file));
	assert_non_null(strstr(err, ":2:"));

	unlink(fifo);
	rmdir(sub);
	unlink(link);
	unlink(file);
	rmdir(dir);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_lookup),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_role_matrix),
		cmocka_unit_test(test_bucket_math),
		cmocka_unit_test(test_rate_per_token),
		cmocka_unit_test(test_clients),
		cmocka_unit_test(test_file_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
