/* config.c: orchestratord's INI file, read with libinih and checked strictly. */
#include "orchestratord/config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "policy/policy.h"

#define CONFIG_FILE_MAX 65536
#define LINE_MAX_OWN 600

enum kind { K_STR, K_INT, K_LISTEN, K_LEVEL };

struct field {
	const char *section, *name;
	enum kind kind;
	size_t off, size;	/* of the member; K_STR: its capacity */
	long min, max;		/* K_INT */
	int required;
};

#define STR(s, n, m, req) \
	{ s, n, K_STR, offsetof(struct orch_config, m), \
	  sizeof(((struct orch_config *)0)->m), 0, 0, req }
#define INT(s, n, m, lo, hi) \
	{ s, n, K_INT, offsetof(struct orch_config, m), sizeof(int), lo, hi, 0 }

static const struct field fields[] = {
	STR("database", "conninfo", conninfo, 1),
	INT("database", "pool", db_pool, 1, 64),
	STR("signer", "socket", signer_url, 1),
	INT("signer", "timeout_ms", signer_timeout_ms, 100, 600000),
	STR("evm", "rpc_url", rpc_url, 1),
	INT("evm", "timeout_ms", rpc_timeout_ms, 100, 600000),
	INT("evm", "gas_margin_percent", gas_margin_percent, 0, 500),
	INT("evm", "bump_after_seconds", bump_after_seconds, 0, 86400),
	INT("evm", "max_bumps", max_bumps, 0, 20),
	INT("evm", "bump_percent", bump_percent, 10, 500),
	INT("evm", "poll_ms", evm_poll_ms, 50, 60000),
	{ "http", "listen", K_LISTEN, 0, 0, 0, 0, 0 },
	STR("http", "tokens", tokens_file, 1),
	INT("http", "rate_per_second", rate_per_second, 1, 100000),
	INT("http", "rate_burst", rate_burst, 1, 100000),
	INT("http", "max_body", max_body, 256, 1048576),
	INT("http", "threads", http_threads, 1, 64),
	STR("worker", "id", worker_id, 0),
	INT("worker", "count", workers, 0, 64),
	INT("worker", "lease_ms", lease_ms, 1000, 3600000),
	INT("worker", "poll_ms", worker_poll_ms, 10, 60000),
	INT("worker", "shutdown_seconds", shutdown_seconds, 1, 300),
	STR("process", "user", user, 0),
	{ "process", "log_level", K_LEVEL, 0, 0, 0, 0, 0 },
	/* Appended: the checks below name fields by index. */
	INT("http", "max_connections_per_client", http_per_client, 1, 1024),
	INT("http", "header_timeout_ms", header_timeout_ms, 100, 300000),
	INT("http", "body_timeout_ms", body_timeout_ms, 100, 600000),
	INT("http", "anon_rate_per_second", anon_rate_per_second, 1, 100000),
	INT("http", "anon_rate_burst", anon_rate_burst, 1, 100000),
	INT("http", "approval_max_seconds", approval_max_seconds, 60,
	    31536000),
};

struct load {
	struct orch_config *cfg;
	const char *path;
	const char *buf;
	size_t len, off;
	int lineno;
	int seen[ARRAY_LEN(fields)];	/* line of each key, 0: not seen */
	int failed;
	char *err;
	size_t errlen;
};

static void __attribute__((format(printf, 4, 5)))
fail(struct load *ld, int code, int line, const char *fmt, ...)
{
	char reason[320];
	va_list ap;

	if (ld->failed)
		return;
	ld->failed = code;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(ld->err, ld->errlen, "%s:%d: %s", ld->path, line,
		    reason);
	else
		snprintf(ld->err, ld->errlen, "%s: %s", ld->path, reason);
}

/*
 * inih's line source: one whole line per call, so its line numbers are
 * ours; refuses control and non-ASCII bytes and lines inih would split.
 */
static char *
next_line(char *str, int num, void *stream)
{
	struct load *ld = stream;
	const char *p, *nl;
	size_t n, i, limit;

	if (ld->failed || ld->off >= ld->len || num < 3)
		return NULL;
	p = ld->buf + ld->off;
	nl = memchr(p, '\n', ld->len - ld->off);
	n = nl != NULL ? (size_t)(nl - p) : ld->len - ld->off;
	ld->off += n + (nl != NULL);
	ld->lineno++;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	limit = (size_t)num - 2 < LINE_MAX_OWN ? (size_t)num - 2 : LINE_MAX_OWN;
	if (n > limit) {
		fail(ld, ERR_TOO_LARGE, ld->lineno, "line longer than %zu "
		    "bytes", limit);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 && c != '\t') || c >= 0x7f) {
			fail(ld, ERR_MALFORMED, ld->lineno, "control or "
			    "non-ASCII byte 0x%02x in column %zu", c, i + 1);
			return NULL;
		}
	}
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	memcpy(str, p, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

/* A canonical decimal in [lo, hi]. */
static int
parse_int(long *out, const char *v, long lo, long hi)
{
	char *end;
	long x;

	if (v[0] < '0' || v[0] > '9' || (v[0] == '0' && v[1] != '\0'))
		return -1;
	errno = 0;
	x = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

/* "127.0.0.1:PORT" or "[::1]:PORT": loopback only, by design. */
static int
parse_listen(struct orch_config *cfg, const char *v)
{
	const char *colon = strrchr(v, ':');
	long port;

	if (colon == NULL || parse_int(&port, colon + 1, 0, 65535) != 0)
		return -1;
	if ((size_t)(colon - v) == strlen("127.0.0.1") &&
	    strncmp(v, "127.0.0.1", 9) == 0)
		snprintf(cfg->http_host, sizeof(cfg->http_host), "127.0.0.1");
	else if ((size_t)(colon - v) == 5 && strncmp(v, "[::1]", 5) == 0)
		snprintf(cfg->http_host, sizeof(cfg->http_host), "::1");
	else
		return -1;
	cfg->http_port = (uint16_t)port;
	return 0;
}

static int
set_field(struct load *ld, const struct field *f, const char *v)
{
	struct orch_config *cfg = ld->cfg;
	char *base = (char *)cfg + f->off;
	long x;

	switch (f->kind) {
	case K_STR:
		if (strlen(v) >= f->size) {
			fail(ld, ERR_MALFORMED, ld->lineno, "'%s' is longer "
			    "than %zu bytes", f->name, f->size - 1);
			return -1;
		}
		memcpy(base, v, strlen(v) + 1);
		return 0;
	case K_INT:
		if (parse_int(&x, v, f->min, f->max) != 0) {
			fail(ld, ERR_MALFORMED, ld->lineno, "'%s' must be a "
			    "whole number from %ld to %ld", f->name, f->min,
			    f->max);
			return -1;
		}
		*(int *)(void *)base = (int)x;
		return 0;
	case K_LISTEN:
		if (parse_listen(cfg, v) != 0) {
			fail(ld, ERR_MALFORMED, ld->lineno, "'listen' must be "
			    "127.0.0.1:PORT or [::1]:PORT (loopback only)");
			return -1;
		}
		return 0;
	case K_LEVEL:
		if (strcmp(v, "debug") == 0)
			cfg->log_level = LOG_LEVEL_DEBUG;
		else if (strcmp(v, "info") == 0)
			cfg->log_level = LOG_LEVEL_INFO;
		else if (strcmp(v, "warn") == 0)
			cfg->log_level = LOG_LEVEL_WARN;
		else if (strcmp(v, "error") == 0)
			cfg->log_level = LOG_LEVEL_ERROR;
		else {
			fail(ld, ERR_MALFORMED, ld->lineno, "'log_level' must "
			    "be debug, info, warn or error");
			return -1;
		}
		return 0;
	}
	return -1;
}

static int
on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct load *ld = user;
	size_t i;

	if (ld->failed)
		return 0;
	if (*section == '\0') {
		fail(ld, ERR_MALFORMED, ld->lineno, "key outside any section");
		return 0;
	}
	if (*value == '\0') {
		fail(ld, ERR_MALFORMED, ld->lineno, "empty value for '%.64s'",
		    name);
		return 0;
	}
	for (i = 0; i < ARRAY_LEN(fields); i++) {
		if (strcmp(fields[i].section, section) != 0 ||
		    strcmp(fields[i].name, name) != 0)
			continue;
		if (ld->seen[i]) {
			fail(ld, ERR_MALFORMED, ld->lineno, "duplicate key "
			    "'%s' in [%s] (first at line %d)", name, section,
			    ld->seen[i]);
			return 0;
		}
		ld->seen[i] = ld->lineno;
		return set_field(ld, &fields[i], value) == 0;
	}
	fail(ld, ERR_MALFORMED, ld->lineno, "unknown key '%.64s' in [%.32s]",
	    name, section);
	return 0;
}

/* The config names the database and the tokens file: root's or ours only. */
static int
read_file(struct load *ld, char **buf)
{
	char why[192];
	int r;

	if ((r = util_read_trusted_file(ld->path, CONFIG_FILE_MAX, buf,
	    &ld->len, why, sizeof(why))) != 0)
		fail(ld, r, 0, "%s", why);
	return r;
}

static void
defaults(struct orch_config *cfg)
{
	char host[64] = "orchestratord";

	memset(cfg, 0, sizeof(*cfg));
	cfg->db_pool = 4;
	cfg->signer_timeout_ms = 10000;
	cfg->rpc_timeout_ms = 5000;
	cfg->gas_margin_percent = 20;
	cfg->bump_after_seconds = 120;
	cfg->max_bumps = 3;
	cfg->bump_percent = 25;
	cfg->evm_poll_ms = 500;
	snprintf(cfg->http_host, sizeof(cfg->http_host), "127.0.0.1");
	cfg->http_port = 8080;
	cfg->rate_per_second = 50;
	cfg->rate_burst = 100;
	cfg->max_body = 16384;
	cfg->http_threads = 4;
	cfg->http_per_client = 32;
	cfg->header_timeout_ms = 10000;
	cfg->body_timeout_ms = 30000;
	cfg->anon_rate_per_second = 20;
	cfg->anon_rate_burst = 40;
	cfg->approval_max_seconds = 7 * 86400;
	cfg->workers = 2;
	cfg->lease_ms = 30000;
	cfg->worker_poll_ms = 100;
	cfg->shutdown_seconds = 25;
	cfg->log_level = LOG_LEVEL_INFO;
	(void)gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(cfg->worker_id, sizeof(cfg->worker_id), "%.40s-%ld", host,
	    (long)getpid());
}


int
orch_config_load(struct orch_config *cfg, const char *path, char *err,
    size_t errlen)
{
	struct load ld;
	char *buf = NULL;
	size_t i;
	int rc;

	defaults(cfg);
	memset(&ld, 0, sizeof(ld));
	ld.cfg = cfg;
	ld.path = path;
	ld.err = err;
	ld.errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	if (read_file(&ld, &buf) != 0)
		goto out;
	ld.buf = buf;
	rc = ini_parse_stream(next_line, &ld, on_pair, &ld);
	if (rc == -2)
		fail(&ld, ERR_NOMEM, 0, "out of memory");
	else if (rc > 0)
		fail(&ld, ERR_MALFORMED, rc, "expected [section], key = value, "
		    "or a comment");
	for (i = 0; i < ARRAY_LEN(fields) && !ld.failed; i++)
		if (fields[i].required && !ld.seen[i])
			fail(&ld, ERR_MALFORMED, 0, "missing required key '%s' "
			    "in [%s]", fields[i].name, fields[i].section);
	if (ld.failed)
		goto out;
	if (strncmp(cfg->signer_url, "ipc:///", 7) != 0)
		fail(&ld, ERR_MALFORMED, ld.seen[2], "'socket' must be "
		    "ipc:///absolute/path (signerd checks the peer's uid)");
	else if (strncmp(cfg->rpc_url, "http://127.0.0.1:", 17) != 0 &&
	    strncmp(cfg->rpc_url, "http://localhost:", 17) != 0 &&
	    strncmp(cfg->rpc_url, "http://[::1]:", 13) != 0)
		fail(&ld, ERR_MALFORMED, ld.seen[4], "'rpc_url' must be "
		    "http:// on loopback (127.0.0.1, localhost or [::1])");
	else if (cfg->tokens_file[0] != '/')
		fail(&ld, ERR_MALFORMED, ld.seen[12], "'tokens' must be an "
		    "absolute path");
	else if (!pol_id_ok(cfg->worker_id, ORCH_WORKER_ID_MAX))
		fail(&ld, ERR_MALFORMED, ld.seen[17], "'id' must be 1..63 of "
		    "[A-Za-z0-9._:-]");
out:
	free(buf);
	return ld.failed;
}
