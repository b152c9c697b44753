/* test_config.c: signerd's config loader: a good file, and every kind of bad one with its line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/err.h"
#include "hsm/hsm.h"
#include "signerd/config.h"

/* The brief's example, line numbers fixed: the error tests point into it. */
static const char good[] =
    "# signerd.conf for the unit tests\n"				/* 1 */
    "[hsm]\n"								/* 2 */
    "module = /usr/lib/softhsm/libsofthsm2.so\n"			/* 3 */
    "token = pkcs11:token=signer\n"					/* 4 */
    "pin_file = /etc/signer/pin            ; must be 0600\n"		/* 5 */
    "sessions = 3\n"							/* 6 */
    "audit_key = pkcs11:token=signer;object=audit\n"			/* 7 */
    "[keys]\n"								/* 8 */
    "payout = pkcs11:token=signer;object=payout   ; name = URI\n"	/* 9 */
    "hot-2 = pkcs11:token=signer;object=hot-2\n"			/* 10 */
    "[journal]\n"							/* 11 */
    "dir = /var/lib/signer/journal\n"					/* 12 */
    "segment_size = 1048576\n"						/* 13 */
    "checkpoint_interval = 30     ; seconds\n"				/* 14 */
    "snapshot_interval = 5000    ; records\n"				/* 15 */
    "[policy]\n"							/* 16 */
    "genesis = /etc/signer/policy.json\n"				/* 17 */
    "[server]\n"							/* 18 */
    "listen = ipc:///run/signer/signerd.sock\n"				/* 19 */
    "socket_mode = 0640\n"						/* 20 */
    "allowed_uids = 0, 998\n"						/* 21 */
    "user = signer\n"							/* 22 */
    "workers = 5\n"							/* 23 */
    "max_message = 32768\n";						/* 24 */

struct fixture {
	char dir[64];
	char path[96];
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_config.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/signerd.conf", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Writes len bytes as the config file with the given mode. */
static void
write_raw(const struct fixture *fx, const void *p, size_t len, mode_t mode)
{
	FILE *f;

	unlink(fx->path);
	f = fopen(fx->path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(fx->path, mode), 0);
}

/* The good config with the first occurrence of from replaced by to. */
static char *
good_with(const char *from, const char *to)
{
	const char *at = strstr(good, from);
	size_t head, len;
	char *out;

	assert_non_null(at);
	head = (size_t)(at - good);
	len = strlen(good) - strlen(from) + strlen(to);
	out = malloc(len + 1);
	assert_non_null(out);
	memcpy(out, good, head);
	strcpy(out + head, to);
	strcat(out, at + strlen(from));
	return out;
}

/* Loads text; expects rc and the message path + suffix; cfg must be zeroed. */
static void
expect_error(const struct fixture *fx, const char *text, size_t len, int rc,
    const char *suffix)
{
	static const struct sd_config zero;
	struct sd_config cfg;
	char err[512], want[512];

	write_raw(fx, text, len, 0600);
	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(sd_config_load(&cfg, fx->path, err, sizeof(err)), rc);
	snprintf(want, sizeof(want), "%s%s", fx->path, suffix);
	assert_string_equal(err, want);
	assert_memory_equal(&cfg, &zero, sizeof(cfg));
	sd_config_free(&cfg);
}

/* expect_error on the good config with one substitution. */
static void
expect_sub_error(const struct fixture *fx, const char *from, const char *to,
    const char *suffix)
{
	char *text = good_with(from, to);

	expect_error(fx, text, strlen(text), ERR_MALFORMED, suffix);
	free(text);
}

static void
test_good_file(void **state)
{
	struct fixture *fx = *state;
	struct sd_config cfg;
	char err[256] = "unchanged";

	write_raw(fx, good, strlen(good), 0600);
	assert_int_equal(sd_config_load(&cfg, fx->path, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(cfg.module, "/usr/lib/softhsm/libsofthsm2.so");
	assert_string_equal(cfg.token, "pkcs11:token=signer");
	/* The inline comment is gone; a ';' inside a URI is not one. */
	assert_string_equal(cfg.pin_file, "/etc/signer/pin");
	assert_int_equal(cfg.sessions, 3);
	assert_string_equal(cfg.audit_key,
	    "pkcs11:token=signer;object=audit");
	assert_int_equal(cfg.nkeys, 2);
	assert_string_equal(cfg.keys[0].name, "payout");
	assert_string_equal(cfg.keys[0].uri,
	    "pkcs11:token=signer;object=payout");
	assert_string_equal(cfg.keys[1].name, "hot-2");
	assert_string_equal(cfg.keys[1].uri,
	    "pkcs11:token=signer;object=hot-2");
	assert_string_equal(cfg.journal_dir, "/var/lib/signer/journal");
	assert_int_equal(cfg.segment_size, 1048576);
	assert_int_equal(cfg.checkpoint_interval, 30);
	assert_int_equal(cfg.snapshot_interval, 5000);
	assert_string_equal(cfg.genesis, "/etc/signer/policy.json");
	assert_string_equal(cfg.listen, "ipc:///run/signer/signerd.sock");
	assert_int_equal(cfg.socket_mode, 0640);
	assert_int_equal(cfg.nuids, 2);
	assert_int_equal(cfg.uids[0], 0);
	assert_int_equal(cfg.uids[1], 998);
	assert_string_equal(cfg.user, "signer");
	assert_int_equal(cfg.workers, 5);
	assert_int_equal(cfg.max_message, 32768);
	sd_config_free(&cfg);
	assert_null(cfg.token);
	assert_int_equal(cfg.nkeys, 0);
	sd_config_free(&cfg);	/* twice is harmless */
}

static void
test_defaults(void **state)
{
	static const char minimal[] =
	    "[hsm]\ntoken = pkcs11:token=t\npin_file = /p\n"
	    "audit_key = pkcs11:token=t;object=a\n"
	    "[keys]\nk = pkcs11:token=t;object=k\n"
	    "[journal]\ndir = /j\n[policy]\ngenesis = /g.json\n"
	    "[server]\nlisten = tcp://127.0.0.1:7000\nallowed_uids = 5\n"
	    "user = nobody\n";
	struct fixture *fx = *state;
	struct sd_config cfg;
	char err[256];

	write_raw(fx, minimal, strlen(minimal), 0644);
	assert_int_equal(sd_config_load(&cfg, fx->path, err, sizeof(err)), 0);
	assert_string_equal(cfg.module, HSM_DEFAULT_MODULE);
	assert_int_equal(cfg.sessions, 4);
	assert_int_equal(cfg.segment_size, 64 * 1024 * 1024);
	assert_int_equal(cfg.checkpoint_interval, 60);
	assert_int_equal(cfg.snapshot_interval, 10000);
	assert_int_equal(cfg.socket_mode, 0660);
	assert_int_equal(cfg.socket_gid, (gid_t)-1);	/* not changed */
	assert_int_equal(cfg.workers, 4);
	assert_int_equal(cfg.max_message, 65536);
	assert_int_equal(cfg.nuids, 1);
	assert_int_equal(cfg.uids[0], 5);
	assert_string_equal(cfg.listen, "tcp://127.0.0.1:7000");
	sd_config_free(&cfg);
}

/* Users and the socket's group by name, looked up at load (D63). */
static void
test_names_resolved(void **state)
{
	static const char text[] =
	    "[hsm]\ntoken = pkcs11:token=t\npin_file = /p\n"
	    "audit_key = pkcs11:token=t;object=a\n"
	    "[keys]\nk = pkcs11:token=t;object=k\n"
	    "[journal]\ndir = /j\n[policy]\ngenesis = /g.json\n"
	    "[server]\nlisten = ipc:///run/s.sock\n"
	    "allowed_uids = root, 7, nobody\nsocket_group = nogroup\n"
	    "user = nobody\n";
	struct fixture *fx = *state;
	struct sd_config cfg;
	const struct passwd *pw;
	const struct group *gr;
	char err[256];

	assert_non_null(pw = getpwnam("nobody"));
	assert_non_null(gr = getgrnam("nogroup"));
	write_raw(fx, text, strlen(text), 0644);
	assert_int_equal(sd_config_load(&cfg, fx->path, err, sizeof(err)), 0);
	assert_int_equal(cfg.nuids, 3);
	assert_int_equal(cfg.uids[0], 0);
	assert_int_equal(cfg.uids[1], 7);
	assert_int_equal(cfg.uids[2], pw->pw_uid);
	assert_int_equal(cfg.socket_gid, gr->gr_gid);
	sd_config_free(&cfg);
}

/* CRLF endings, indentation, blank lines and both comment styles are fine. */
static void
test_layout_tolerated(void **state)
{
	static const char text[] =
	    "; comment\r\n\r\n  [hsm]   ; trailing comment\r\n"
	    "\ttoken = pkcs11:token=t\r\n"
	    "    pin_file=/p\r\n"
	    "audit_key = pkcs11:token=t;object=a\r\n"
	    "# another comment\r\n"
	    "[keys]\r\nk = pkcs11:token=t;object=k\r\n"
	    "[journal]\r\ndir = /j\r\nsnapshot_interval = 0\r\n"
	    "[policy]\r\ngenesis = /g.json\r\n"
	    "[server]\r\nlisten = ipc:///s\r\nallowed_uids = 1,2 ,  3\r\n"
	    "user = _svc-1";	/* no final newline */
	struct fixture *fx = *state;
	struct sd_config cfg;
	char err[256];

	write_raw(fx, text, strlen(text), 0600);
	assert_int_equal(sd_config_load(&cfg, fx->path, err, sizeof(err)), 0);
	assert_string_equal(cfg.token, "pkcs11:token=t");
	assert_string_equal(cfg.pin_file, "/p");
	assert_int_equal(cfg.snapshot_interval, 0);
	assert_int_equal(cfg.nuids, 3);
	assert_int_equal(cfg.uids[2], 3);
	assert_string_equal(cfg.user, "_svc-1");
	sd_config_free(&cfg);
}

static void
test_unknown_section_and_key(void **state)
{
	struct fixture *fx = *state;

	expect_sub_error(fx, "workers = 5\n", "foo = 1\n",
	    ":23: unknown key 'foo' in [server]");
	expect_sub_error(fx, "[policy]\n", "[polcy]\n",
	    ":16: unknown section [polcy]");
	/* An empty unknown section is still an error. */
	expect_sub_error(fx, "[journal]\n", "[extra]\n[journal]\n",
	    ":11: unknown section [extra]");
	/* Section names are exact. */
	expect_sub_error(fx, "[hsm]\n", "[ hsm ]\n",
	    ":2: unknown section [ hsm ]");
	expect_sub_error(fx, "[server]\n", "[Server]\n",
	    ":18: unknown section [Server]");
	/* A key of one section in another. */
	expect_sub_error(fx, "genesis = /etc", "workers = 4\ngenesis = /etc",
	    ":17: unknown key 'workers' in [policy]");
}

static void
test_duplicates(void **state)
{
	struct fixture *fx = *state;

	expect_sub_error(fx, "user = signer\n", "user = signer\nuser = x\n",
	    ":23: duplicate key 'user' in [server] (first at line 22)");
	expect_sub_error(fx, "hot-2 =", "payout =",
	    ":10: duplicate key 'payout' in [keys] (first at line 9)");
	expect_sub_error(fx, "[policy]\n", "[hsm]\n",
	    ":16: duplicate section [hsm] (first at line 2)");
}

static void
test_missing(void **state)
{
	struct fixture *fx = *state;

	/* A missing key points at its section's header. */
	expect_sub_error(fx, "pin_file = /etc/signer/pin", "; no pin",
	    ":2: missing required key 'pin_file' in [hsm]");
	expect_sub_error(fx, "user = signer\n", "",
	    ":18: missing required key 'user' in [server]");
	expect_sub_error(fx, "[policy]\ngenesis = /etc/signer/policy.json\n",
	    "", ": missing section [policy] (needs 'genesis')");
	expect_sub_error(fx,
	    "payout = pkcs11:token=signer;object=payout   ; name = URI\n"
	    "hot-2 = pkcs11:token=signer;object=hot-2\n", "",
	    ":8: [keys] names no key");
}

static void
test_bad_numbers(void **state)
{
	struct fixture *fx = *state;

	expect_sub_error(fx, "sessions = 3", "sessions = three",
	    ":6: bad value for 'sessions' in [hsm]: 'three' is not a "
	    "decimal number");
	expect_sub_error(fx, "sessions = 3", "sessions = 0",
	    ":6: bad value for 'sessions' in [hsm]: 0 is out of range 1..64");
	expect_sub_error(fx, "sessions = 3", "sessions = 65",
	    ":6: bad value for 'sessions' in [hsm]: 65 is out of range 1..64");
	expect_sub_error(fx, "sessions = 3", "sessions = -1",
	    ":6: bad value for 'sessions' in [hsm]: '-1' is not a decimal "
	    "number");
	expect_sub_error(fx, "sessions = 3", "sessions = 3 4",
	    ":6: bad value for 'sessions' in [hsm]: '3 4' is not a decimal "
	    "number");
	expect_sub_error(fx, "workers = 5", "workers = 05",
	    ":23: bad value for 'workers' in [server]: '05' has a leading "
	    "zero");
	expect_sub_error(fx, "segment_size = 1048576",
	    "segment_size = 99999999999999999999999",
	    ":13: bad value for 'segment_size' in [journal]: "
	    "99999999999999999999999 is out of range 65536..1073741824");
	expect_sub_error(fx, "checkpoint_interval = 30",
	    "checkpoint_interval = 0",
	    ":14: bad value for 'checkpoint_interval' in [journal]: 0 is out "
	    "of range 1..86400");
	expect_sub_error(fx, "max_message = 32768", "max_message = 65537",
	    ":24: bad value for 'max_message' in [server]: 65537 is out of "
	    "range 1024..65536");
	expect_sub_error(fx, "workers = 5", "workers =",
	    ":23: empty value for 'workers' in [server]");
}

static void
test_bad_listen(void **state)
{
	static const char *const bad[] = {
		"tcp://0.0.0.0:9000", "tcp://10.0.0.1:9000", "tcp://[::]:9000",
		"tcp://localhost:9000", "http://127.0.0.1:9000", "/run/s.sock",
	};
	struct fixture *fx = *state;
	char line[128];
	size_t i;

	for (i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(line, sizeof(line), "listen = %s\n", bad[i]);
		expect_sub_error(fx, "listen = ipc:///run/signer/signerd.sock\n",
		    line, ":19: bad value for 'listen' in [server]: must be "
		    "ipc:///path or tcp://127.0.0.1:PORT (loopback only)");
	}
	expect_sub_error(fx, "ipc:///run/signer/signerd.sock",
	    "tcp://127.0.0.1:0", ":19: bad value for 'listen' in [server]: "
	    "0 is out of range 1..65535");
	expect_sub_error(fx, "ipc:///run/signer/signerd.sock",
	    "tcp://127.0.0.1:70000", ":19: bad value for 'listen' in "
	    "[server]: 70000 is out of range 1..65535");
	expect_sub_error(fx, "ipc:///run/signer/signerd.sock",
	    "tcp://127.0.0.1:80x", ":19: bad value for 'listen' in "
	    "[server]: '80x' is not a decimal number");
	expect_sub_error(fx, "ipc:///run/signer/signerd.sock",
	    "ipc://run/signer.sock", ":19: bad value for 'listen' in "
	    "[server]: ipc:// needs an absolute path");
	expect_sub_error(fx, "ipc:///run/signer/signerd.sock",
	    "ipc:///run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock",
	    ":19: bad value for 'listen' in [server]: ipc path longer than "
	    "107 bytes");
}

static void
test_bad_mode_uids_user(void **state)
{
	struct fixture *fx = *state;

	expect_sub_error(fx, "socket_mode = 0640", "socket_mode = 640",
	    ":20: bad value for 'socket_mode' in [server]: '640' is not an "
	    "octal mode like 0660");
	expect_sub_error(fx, "socket_mode = 0640", "socket_mode = 0680",
	    ":20: bad value for 'socket_mode' in [server]: '0680' is not an "
	    "octal mode like 0660");
	expect_sub_error(fx, "socket_mode = 0640", "socket_mode = 04660",
	    ":20: bad value for 'socket_mode' in [server]: '04660' is not an "
	    "octal mode like 0660");
	expect_sub_error(fx, "socket_mode = 0640", "socket_mode = 0666",
	    ":20: bad value for 'socket_mode' in [server]: 0666 gives access "
	    "to every local user");
	expect_sub_error(fx, "allowed_uids = 0, 998", "allowed_uids = 0,,1",
	    ":21: bad value for 'allowed_uids' in [server]: empty or "
	    "overlong uid in list");
	expect_sub_error(fx, "allowed_uids = 0, 998", "allowed_uids = 1, 1",
	    ":21: bad value for 'allowed_uids' in [server]: uid 1 listed "
	    "twice");
	expect_sub_error(fx, "allowed_uids = 0, 998",
	    "allowed_uids = no-such-user-x", ":21: bad value for "
	    "'allowed_uids' in [server]: no user named 'no-such-user-x'");
	expect_sub_error(fx, "allowed_uids = 0, 998", "allowed_uids = Root!",
	    ":21: bad value for 'allowed_uids' in [server]: 'Root!' is "
	    "neither a number nor a user name");
	expect_sub_error(fx, "allowed_uids = 0, 998", "allowed_uids = 0, root",
	    ":21: bad value for 'allowed_uids' in [server]: uid root listed "
	    "twice");
	expect_sub_error(fx, "socket_mode = 0640",
	    "socket_group = no-such-group-x", ":20: bad value for "
	    "'socket_group' in [server]: no group named 'no-such-group-x'");
	expect_sub_error(fx, "socket_mode = 0640", "socket_group = 4294967295",
	    ":20: bad value for 'socket_group' in [server]: 4294967295 is out "
	    "of range 0..4294967294");
	expect_sub_error(fx, "allowed_uids = 0, 998",
	    "allowed_uids = 4294967295", ":21: bad value for 'allowed_uids' "
	    "in [server]: 4294967295 is out of range 0..4294967294");
	expect_sub_error(fx, "allowed_uids = 0, 998",
	    "allowed_uids = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17",
	    ":21: bad value for 'allowed_uids' in [server]: more than 16 uids");
	expect_sub_error(fx, "user = signer", "user = Root!",
	    ":22: bad value for 'user' in [server]: 'Root!' is not a user "
	    "name");
}

static void
test_bad_paths_and_uris(void **state)
{
	struct fixture *fx = *state;

	expect_sub_error(fx, "module = /usr", "module = usr",
	    ":3: bad value for 'module' in [hsm]: 'usr/lib/softhsm/"
	    "libsofthsm2.so' is not an absolute path");
	expect_sub_error(fx, "token = pkcs11:token=signer",
	    "token = token=signer", ":4: bad value for 'token' in [hsm]: "
	    "'token=signer' is not a pkcs11: URI");
	expect_sub_error(fx, "genesis = /etc", "genesis = etc",
	    ":17: bad value for 'genesis' in [policy]: 'etc/signer/"
	    "policy.json' is not an absolute path");
	expect_sub_error(fx, "hot-2 = pkcs11", "hot-2 = file",
	    ":10: bad value for 'hot-2' in [keys]: 'file:token=signer;"
	    "object=hot-2' is not a pkcs11: URI");
	expect_sub_error(fx, "hot-2 =", "hot/2 =",
	    ":10: bad key name 'hot/2' in [keys]: 1..64 of A-Z a-z 0-9 . _ "
	    ": -");
}

static void
test_too_many_keys(void **state)
{
	struct fixture *fx = *state;
	char keys[2048], *text;
	size_t i, n = 0;

	for (i = 0; i < SD_CONFIG_MAX_KEYS + 1; i++)
		n += (size_t)snprintf(keys + n, sizeof(keys) - n,
		    "k%zu = pkcs11:token=signer;object=k%zu\n", i, i);
	text = good_with("hot-2 = pkcs11:token=signer;object=hot-2\n", keys);
	/* payout is line 9, k0..k14 lines 10..24, k15 the 17th key on 25. */
	expect_error(fx, text, strlen(text), ERR_MALFORMED,
	    ":25: more than 16 keys in [keys]");
	free(text);
}

static void
test_syntax(void **state)
{
	struct fixture *fx = *state;

	expect_sub_error(fx, "[journal]\n", "[journal\n",
	    ":11: expected [section], key = value, or a comment");
	expect_sub_error(fx, "[journal]\n", "[journal] x\n",
	    ":11: text after ']'");
	expect_sub_error(fx, "workers = 5", "workers: 5",
	    ":23: expected [section], key = value, or a comment");
	expect_sub_error(fx, "workers = 5", "workers 5",
	    ":23: expected [section], key = value, or a comment");
	expect_sub_error(fx, "workers = 5", "= 5",
	    ":23: no key before '='");
	expect_sub_error(fx, "[hsm]\n", "stray = 1\n[hsm]\n",
	    ":2: key outside any section");
	/* The first error wins, even when only inih saw it. */
	expect_sub_error(fx, "[keys]\n", "[keys\n",
	    ":8: expected [section], key = value, or a comment");
}

static void
test_garbage_bytes(void **state)
{
	static const char nul[] = "[hsm]\ntoken = pkcs11:\0token=x\n";
	static const char high[] = "[hsm]\n\xef\xbb\xbfmodule = /x\n";
	static const char bom[] = "\xef\xbb\xbf[hsm]\n";
	static const char ctrl[] = "[hsm]\ntoken = a\rb\n";
	static const char esc[] = "[hsm]\n\x1b[31m\n";
	struct fixture *fx = *state;
	unsigned char noise[4096];
	char err[256];
	struct sd_config cfg;
	size_t i;
	uint32_t x = 0x12345678;

	expect_error(fx, nul, sizeof(nul) - 1, ERR_MALFORMED,
	    ":2: control or non-ASCII byte 0x00 in column 16");
	expect_error(fx, high, sizeof(high) - 1, ERR_MALFORMED,
	    ":2: control or non-ASCII byte 0xef in column 1");
	expect_error(fx, bom, sizeof(bom) - 1, ERR_MALFORMED,
	    ":1: control or non-ASCII byte 0xef in column 1");
	expect_error(fx, ctrl, sizeof(ctrl) - 1, ERR_MALFORMED,
	    ":2: control or non-ASCII byte 0x0d in column 10");
	expect_error(fx, esc, sizeof(esc) - 1, ERR_MALFORMED,
	    ":2: control or non-ASCII byte 0x1b in column 1");
	/* Random bytes: always a clean error, never a crash or success. */
	for (i = 0; i < 64; i++) {
		size_t j;

		for (j = 0; j < sizeof(noise); j++) {
			x = x * 1103515245u + 12345u;
			noise[j] = (unsigned char)(x >> 16);
		}
		write_raw(fx, noise, sizeof(noise) - i * 61, 0600);
		assert_int_not_equal(sd_config_load(&cfg, fx->path, err,
		    sizeof(err)), 0);
		assert_true(strncmp(err, fx->path, strlen(fx->path)) == 0);
		sd_config_free(&cfg);
	}
}

static void
test_empty_file(void **state)
{
	struct fixture *fx = *state;

	expect_error(fx, "", 0, ERR_MALFORMED,
	    ": missing section [hsm] (needs 'token')");
	expect_error(fx, "\n\n; nothing\n", strlen("\n\n; nothing\n"),
	    ERR_MALFORMED,
	    ": missing section [hsm] (needs 'token')");
}

static void
test_long_lines(void **state)
{
	struct fixture *fx = *state;
	char line[4096], *text, want[160];
	struct sd_config cfg;
	char err[256];

	/* A 150-byte comment fits inih's buffer... */
	memset(line, 'c', 150);
	line[0] = ';';
	strcpy(line + 150, "\n[journal]\n");
	text = good_with("[journal]\n", line);
	write_raw(fx, text, strlen(text), 0600);
	free(text);
	assert_int_equal(sd_config_load(&cfg, fx->path, err, sizeof(err)), 0);
	sd_config_free(&cfg);

	/* ...a 3000-byte value does not, and is not split into two lines. */
	memcpy(line, "genesis = /", 11);
	memset(line + 11, 'g', 3000);
	strcpy(line + 3011, "\n");
	text = good_with("genesis = /etc/signer/policy.json\n", line);
	write_raw(fx, text, strlen(text), 0600);
	free(text);
	assert_int_equal(sd_config_load(&cfg, fx->path, err, sizeof(err)),
	    ERR_TOO_LARGE);
	snprintf(want, sizeof(want), "%s:17: line longer than ", fx->path);
	assert_true(strncmp(err, want, strlen(want)) == 0);
	assert_non_null(strstr(err, " bytes"));
}

static void
test_file_checks(void **state)
{
	struct fixture *fx = *state;
	struct sd_config cfg;
	char err[256], want[256], *big;

	assert_int_equal(sd_config_load(&cfg, "/nonexistent/signerd.conf",
	    err, sizeof(err)), ERR_IO);
	assert_string_equal(err,
	    "/nonexistent/signerd.conf: No such file or directory");

	assert_int_equal(sd_config_load(&cfg, fx->dir, err, sizeof(err)),
	    ERR_PERMISSION);
	snprintf(want, sizeof(want), "%s: not a regular file", fx->dir);
	assert_string_equal(err, want);

	write_raw(fx, good, strlen(good), 0666);
	assert_int_equal(sd_config_load(&cfg, fx->path, err, sizeof(err)),
	    ERR_PERMISSION);
	snprintf(want, sizeof(want), "%s: writable by group or others "
	    "(mode 0666)", fx->path);
	assert_string_equal(err, want);
	write_raw(fx, good, strlen(good), 0620);
	assert_int_equal(sd_config_load(&cfg, fx->path, err, sizeof(err)),
	    ERR_PERMISSION);

	big = malloc(SD_CONFIG_FILE_MAX + 1);
	assert_non_null(big);
	memset(big, '\n', SD_CONFIG_FILE_MAX + 1);
	write_raw(fx, big, SD_CONFIG_FILE_MAX + 1, 0600);
	free(big);
	assert_int_equal(sd_config_load(&cfg, fx->path, err, sizeof(err)),
	    ERR_TOO_LARGE);
	snprintf(want, sizeof(want), "%s: larger than 65536 bytes", fx->path);
	assert_string_equal(err, want);
}

/* A tiny or absent error buffer truncates the message, nothing more. */
static void
test_small_err_buffer(void **state)
{
	struct fixture *fx = *state;
	struct sd_config cfg;
	char err[8];

	write_raw(fx, "[nope]\n", 7, 0600);
	assert_int_equal(sd_config_load(&cfg, fx->path, err, sizeof(err)),
	    ERR_MALFORMED);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(sd_config_load(&cfg, fx->path, NULL, 0),
	    ERR_MALFORMED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layout_tolerated, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_section_and_key,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_numbers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_listen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_mode_uids_user, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_paths_and_uris, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_too_many_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_bytes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_names_resolved, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_empty_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_long_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_checks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_small_err_buffer, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
