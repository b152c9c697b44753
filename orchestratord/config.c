/* config.c: orchestratord's config: its table of fields and cross-field checks, read by common/ini.c (D60). */
#include "orchestratord/config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/ini.h"
#include "common/log.h"
#include "policy/policy.h"

#define CONFIG_FILE_MAX 65536

/* "127.0.0.1:PORT" or "[::1]:PORT": loopback only, by design. */
static int
parse_listen(void *base, const char *v, char *why, size_t whylen)
{
	struct orch_config *cfg = base;
	const char *colon = strrchr(v, ':');
	char reason[96];
	uint64_t port;

	if (colon == NULL || ini_parse_u64(&port, colon + 1, 0, 65535, reason,
	    sizeof(reason)) != 0)
		goto bad;
	if ((size_t)(colon - v) == strlen("127.0.0.1") &&
	    strncmp(v, "127.0.0.1", 9) == 0)
		snprintf(cfg->http_host, sizeof(cfg->http_host), "127.0.0.1");
	else if ((size_t)(colon - v) == 5 && strncmp(v, "[::1]", 5) == 0)
		snprintf(cfg->http_host, sizeof(cfg->http_host), "::1");
	else
		goto bad;
	cfg->http_port = (uint16_t)port;
	return 0;
bad:
	snprintf(why, whylen, "must be 127.0.0.1:PORT or [::1]:PORT "
	    "(loopback only)");
	return -1;
}

static int
parse_level(void *base, const char *v, char *why, size_t whylen)
{
	struct orch_config *cfg = base;

	if (strcmp(v, "debug") == 0)
		cfg->log_level = LOG_LEVEL_DEBUG;
	else if (strcmp(v, "info") == 0)
		cfg->log_level = LOG_LEVEL_INFO;
	else if (strcmp(v, "warn") == 0)
		cfg->log_level = LOG_LEVEL_WARN;
	else if (strcmp(v, "error") == 0)
		cfg->log_level = LOG_LEVEL_ERROR;
	else {
		snprintf(why, whylen, "must be debug, info, warn or error");
		return -1;
	}
	return 0;
}

/* signerd checks the peer's uid, which only a unix socket carries. */
static int
check_socket(void *base, const char *v, char *why, size_t whylen)
{
	if (strncmp(v, "ipc:///", 7) == 0)
		return 0;
	snprintf(why, whylen, "must be ipc:///absolute/path (signerd checks "
	    "the peer's uid)");
	return -1;
}

static int
check_rpc_url(void *base, const char *v, char *why, size_t whylen)
{
	if (strncmp(v, "http://127.0.0.1:", 17) == 0 ||
	    strncmp(v, "http://localhost:", 17) == 0 ||
	    strncmp(v, "http://[::1]:", 13) == 0)
		return 0;
	snprintf(why, whylen, "must be http:// on loopback (127.0.0.1, "
	    "localhost or [::1])");
	return -1;
}

static int
check_absolute(void *base, const char *v, char *why, size_t whylen)
{
	if (v[0] == '/')
		return 0;
	snprintf(why, whylen, "must be an absolute path");
	return -1;
}

static int
check_worker_id(void *base, const char *v, char *why, size_t whylen)
{
	if (pol_id_ok(v, ORCH_WORKER_ID_MAX))
		return 0;
	snprintf(why, whylen, "must be 1..63 of [A-Za-z0-9._:-]");
	return -1;
}

static const char *const sections[] = {
	"database", "signer", "evm", "http", "worker", "process",
};

#define F(sec, name, kind, m, lo, hi, fn, req) \
	INI_FIELD(struct orch_config, sec, name, kind, m, lo, hi, fn, req)
#define STR(sec, name, m, fn, req) F(sec, name, INI_STRING, m, 0, 0, fn, req)
#define INT(sec, name, m, lo, hi) F(sec, name, INI_INT, m, lo, hi, NULL, 0)

static const struct ini_field fields[] = {
	STR("database", "conninfo", conninfo, NULL, 1),
	INT("database", "pool", db_pool, 1, 64),
	STR("signer", "socket", signer_url, check_socket, 1),
	INT("signer", "timeout_ms", signer_timeout_ms, 100, 600000),
	STR("evm", "rpc_url", rpc_url, check_rpc_url, 1),
	INT("evm", "timeout_ms", rpc_timeout_ms, 100, 600000),
	INT("evm", "gas_margin_percent", gas_margin_percent, 0, 500),
	INT("evm", "bump_after_seconds", bump_after_seconds, 0, 86400),
	INT("evm", "max_bumps", max_bumps, 0, 20),
	INT("evm", "bump_percent", bump_percent, 10, 500),
	INT("evm", "poll_ms", evm_poll_ms, 50, 60000),
	F("http", "listen", INI_CUSTOM, http_port, 0, 0, parse_listen, 0),
	STR("http", "tokens", tokens_file, check_absolute, 1),
	INT("http", "rate_per_second", rate_per_second, 1, 100000),
	INT("http", "rate_burst", rate_burst, 1, 100000),
	INT("http", "max_body", max_body, 256, 1048576),
	INT("http", "threads", http_threads, 1, 64),
	INT("http", "max_connections_per_client", http_per_client, 1, 1024),
	INT("http", "header_timeout_ms", header_timeout_ms, 100, 300000),
	INT("http", "body_timeout_ms", body_timeout_ms, 100, 600000),
	INT("http", "anon_rate_per_second", anon_rate_per_second, 1, 100000),
	INT("http", "anon_rate_burst", anon_rate_burst, 1, 100000),
	INT("http", "approval_max_seconds", approval_max_seconds, 60,
	    31536000),
	STR("worker", "id", worker_id, check_worker_id, 0),
	INT("worker", "count", workers, 0, 64),
	INT("worker", "lease_ms", lease_ms, 1000, 3600000),
	INT("worker", "poll_ms", worker_poll_ms, 10, 60000),
	INT("worker", "shutdown_seconds", shutdown_seconds, 1, 300),
	STR("process", "user", user, NULL, 0),
	F("process", "log_level", INI_CUSTOM, log_level, 0, 0, parse_level, 0),
};

/*
 * Sections whose names the table cannot list ([webhooks], [webhook:NAME]:
 * orchestratord/webhook_config.c) reach these two; each such section's
 * keys are its owner's to check, duplicates included.
 */
static int
dynamic_claims(void *ctx, const char *section)
{
	return strcmp(section, "webhooks") == 0 ||
	    strncmp(section, "webhook:", 8) == 0;
}

static int
dynamic_pair(void *ctx, const char *section, const char *name,
    const char *value, int line, char *why, size_t whylen)
{
	struct orch_config *cfg = ctx;

	return wh_config_pair(&cfg->webhooks, section, name, value, line, why,
	    whylen);
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

/* What no single key shows: the default worker id comes from the host name. */
static void
cross_checks(struct ini_load *ld, struct orch_config *cfg)
{
	char why[256];
	int r;

	if (ini_field_line(ld, "worker", "id") == 0 &&
	    !pol_id_ok(cfg->worker_id, ORCH_WORKER_ID_MAX))
		ini_fail(ld, ERR_MALFORMED, 0, "the default worker id '%s' "
		    "(host name and pid) is not 1..63 of [A-Za-z0-9._:-]: set "
		    "[worker] id", cfg->worker_id);
	/* Last: it reads the webhook secrets (and wipes them on failure). */
	if (!ld->failed && (r = wh_config_check(&cfg->webhooks, why,
	    sizeof(why))) != 0)
		ini_fail(ld, r, 0, "%s", why);
}

int
orch_config_load(struct orch_config *cfg, const char *path, char *err,
    size_t errlen)
{
	static const struct ini_spec spec_tmpl = {
		sections, ARRAY_LEN(sections), fields, ARRAY_LEN(fields),
		CONFIG_FILE_MAX, NULL,
	};
	struct ini_hook hook = { dynamic_claims, dynamic_pair, cfg };
	struct ini_spec spec = spec_tmpl;
	struct ini_load ld;

	defaults(cfg);
	spec.hook = &hook;
	/* It names the database and the tokens file: root's or ours only. */
	ini_init(&ld, &spec, cfg, path, err, errlen);
	if (ini_load(&ld) == 0)
		cross_checks(&ld, cfg);
	return ld.failed;
}
