/* test_config.c: orchestratord's INI config: defaults, and every refusal names file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "orchestratord/config.h"

static char path[64];

static const char *good =
    "[database]\n"
    "conninfo = host=/tmp/pg dbname=payouts user=orchestrator\n"
    "[signer]\n"
    "socket = ipc:///run/signer/signerd.sock\n"
    "[evm]\n"
    "rpc_url = http://127.0.0.1:8545\n"
    "[http]\n"
    "tokens = /etc/signer/api-tokens\n";

/* Writes text (mode 0600 unless told) and loads it; err gets the reason. */
static int
load(struct orch_config *cfg, const char *text, mode_t mode, char *err,
    size_t errlen)
{
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "/tmp/orch-config-test.%ld",
	    (long)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	r = orch_config_load(cfg, path, err, errlen);
	unlink(path);
	return r;
}

/*
 * good with extra merged in: each "[section]" block of extra goes right
 * after that section's header in good (a section may appear only once),
 * or at the end if good has no such section; lines before any header too.
 */
static int
load_with(struct orch_config *cfg, const char *extra, char *err,
    size_t errlen)
{
	char text[2048], block[512], head[64];
	const char *p = extra, *next, *at;
	size_t hl, bl;

	snprintf(text, sizeof(text), "%s", good);
	while (*p != '\0') {
		/* One block: a header (if any) and the lines up to the next. */
		next = p[0] == '[' ? strstr(p + 1, "\n[") : strstr(p, "\n[");
		next = next != NULL ? next + 1 : p + strlen(p);
		bl = (size_t)(next - p);
		assert_true(bl < sizeof(block));
		memcpy(block, p, bl);
		block[bl] = '\0';
		hl = p[0] == '[' ? (size_t)(strchr(p, '\n') - p) + 1 : 0;
		assert_true(hl < sizeof(head));
		memcpy(head, p, hl);
		head[hl] = '\0';
		if (hl > 0 && (at = strstr(text, head)) != NULL) {
			char tail[2048];
			size_t off = (size_t)(at - text) + hl;

			snprintf(tail, sizeof(tail), "%s", text + off);
			snprintf(text + off, sizeof(text) - off, "%s%s",
			    block + hl, tail);
		} else {
			strncat(text, block, sizeof(text) - strlen(text) - 1);
		}
		p = next;
	}
	return load(cfg, text, 0600, err, errlen);
}

static void
test_good_with_defaults(void **state)
{
	struct orch_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load(&cfg, good, 0600, err, sizeof(err)), 0);
	assert_string_equal(cfg.signer_url, "ipc:///run/signer/signerd.sock");
	assert_string_equal(cfg.http_host, "127.0.0.1");
	assert_int_equal(cfg.http_port, 8080);
	assert_int_equal(cfg.workers, 2);
	assert_int_equal(cfg.lease_ms, 30000);
	assert_int_equal(cfg.bump_after_seconds, 120);
	assert_int_equal(cfg.http_per_client, 32);
	assert_int_equal(cfg.header_timeout_ms, 10000);
	assert_int_equal(cfg.body_timeout_ms, 30000);
	assert_int_equal(cfg.anon_rate_per_second, 20);
	assert_int_equal(cfg.anon_rate_burst, 40);
	assert_int_equal(cfg.approval_max_seconds, 604800);
	assert_true(cfg.worker_id[0] != '\0');
	assert_int_equal(load_with(&cfg, "[http]\nlisten = [::1]:9000\n"
	    "[worker]\ncount = 0\nid = replica-7\n", err, sizeof(err)), 0);
	assert_string_equal(cfg.http_host, "::1");
	assert_int_equal(cfg.http_port, 9000);
	assert_int_equal(cfg.workers, 0);
	assert_string_equal(cfg.worker_id, "replica-7");
	assert_int_equal(load_with(&cfg, "[http]\nmax_connections_per_client = 4"
	    "\nheader_timeout_ms = 1500\nbody_timeout_ms = 2500\n"
	    "anon_rate_per_second = 2\nanon_rate_burst = 3\n"
	    "approval_max_seconds = 3600\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.http_per_client, 4);
	assert_int_equal(cfg.header_timeout_ms, 1500);
	assert_int_equal(cfg.body_timeout_ms, 2500);
	assert_int_equal(cfg.anon_rate_per_second, 2);
	assert_int_equal(cfg.anon_rate_burst, 3);
	assert_int_equal(cfg.approval_max_seconds, 3600);
}

/* Each bad file is refused, and the message names where and why. */
static void
test_refusals(void **state)
{
	static const struct {
		const char *extra, *want;
	} cases[] = {
		/* Merged into good's [http] (line 7): listen is line 8. */
		{ "[http]\nlisten = 0.0.0.0:8080\n", ":8: bad value for 'listen' "
		    "in [http]: must be 127.0.0.1:PORT or [::1]:PORT (loopback "
		    "only)" },
		{ "[http]\nlisten = 127.0.0.1:70000\n", "'listen' in [http]: "
		    "must be" },
		{ "[worker]\ncount = 65\n", ":10: bad value for 'count' in "
		    "[worker]: 65 is out of range 0..64" },
		{ "[worker]\ncount = 02\n", "'02' has a leading zero" },
		{ "[worker]\ncount = -1\n", "'-1' is not a decimal number" },
		{ "[worker]\nlease_ms = 1\n", "'lease_ms'" },
		{ "[worker]\nid = bad id\n", ":10: bad value for 'id' in "
		    "[worker]: must be 1..63 of" },
		{ "[worker]\nspeed = 3\n", ":10: unknown key 'speed' in [worker]" },
		{ "[nope]\nx = 1\n", ":9: unknown section [nope]" },
		{ "[signer]\nsocket = ipc:///b\n", ":5: duplicate key 'socket' "
		    "in [signer] (first at line 4)" },
		{ "[process]\nlog_level = loud\n", "'log_level' in [process]: "
		    "must be debug, info, warn or error" },
		{ "[http]\nmax_body = \n", ":8: empty value for 'max_body' in "
		    "[http]" },
		{ "garbage line\n", ":9: expected [section]" },
		{ "threads: 2\n", ":9: expected [section]" },
		{ "[http]\nthreads = 2\x01\n", ":8: control or non-ASCII byte "
		    "0x01 in column 12" },
		{ "[http]\nmax_connections_per_client = 0\n",
		    "bad value for 'max_connections_per_client' in [http]: 0 is "
		    "out of range 1..1024" },
		{ "[http]\nheader_timeout_ms = 99\n", "'header_timeout_ms'" },
		{ "[http]\napproval_max_seconds = 31536001\n",
		    "'approval_max_seconds'" },
		{ "[database]\nconninfo2 = x\n", ":2: unknown key 'conninfo2' in "
		    "[database]" },
		{ "[ worker ]\ncount = 1\n", ":9: unknown section [ worker ]" },
		{ "[worker] x\n", ":9: text after ']'" },
	};
	struct orch_config cfg;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_not_equal(load_with(&cfg, cases[i].extra, err,
		    sizeof(err)), 0);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err,
			    cases[i].want);
	}
}

static void
test_required_and_loopback(void **state)
{
	struct orch_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load(&cfg, "[database]\nconninfo = x\n", 0600, err,
	    sizeof(err)), ERR_MALFORMED);
	assert_non_null(strstr(err, ": missing section [signer] (needs "
	    "'socket')"));
	assert_int_equal(load(&cfg, "[database]\nconninfo = x\n[signer]\n"
	    "timeout_ms = 100\n", 0600, err, sizeof(err)), ERR_MALFORMED);
	assert_non_null(strstr(err, ":3: missing required key 'socket' in "
	    "[signer]"));
	/* A section given twice: the loader refuses it (signerd did already). */
	assert_int_equal(load(&cfg, "[database]\nconninfo = x\n[database]\n",
	    0600, err, sizeof(err)), ERR_MALFORMED);
	assert_non_null(strstr(err, ":3: duplicate section [database] (first "
	    "at line 1)"));
	assert_int_not_equal(load(&cfg, "[database]\nconninfo = x\n[signer]\n"
	    "socket = tcp://127.0.0.1:1\n[evm]\nrpc_url = http://127.0.0.1:1\n"
	    "[http]\ntokens = /t\n", 0600, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "ipc:///"));
	assert_int_not_equal(load(&cfg, "[database]\nconninfo = x\n[signer]\n"
	    "socket = ipc:///s\n[evm]\nrpc_url = http://10.0.0.1:8545\n"
	    "[http]\ntokens = /t\n", 0600, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "loopback"));
	assert_int_not_equal(load(&cfg, "[database]\nconninfo = x\n[signer]\n"
	    "socket = ipc:///s\n[evm]\nrpc_url = http://127.0.0.1:8545\n"
	    "[http]\ntokens = relative\n", 0600, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "absolute"));
}

static void
test_file_trust(void **state)
{
	struct orch_config cfg;
	char err[256];

	(void)state;
	assert_int_equal(load(&cfg, good, 0666, err, sizeof(err)),
	    ERR_PERMISSION);
	assert_non_null(strstr(err, "writable by group or others"));
	assert_int_equal(orch_config_load(&cfg, "/nonexistent/orch.conf", err,
	    sizeof(err)), ERR_IO);
	assert_non_null(strstr(err, "/nonexistent/orch.conf: "));
	assert_int_equal(orch_config_load(&cfg, "/tmp", err, sizeof(err)),
	    ERR_PERMISSION);
	assert_non_null(strstr(err, "not a regular file"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_with_defaults),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_required_and_loopback),
		cmocka_unit_test(test_file_trust),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
