/* config.c: signerd's config: its table of fields and [keys], read by common/ini.c (D14, D60). */
#include "signerd/config.h"

#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/ini.h"
#include "hsm/hsm.h"
#include "journal/journal.h"
#include "proto/msg.h"
#include "signerd/state.h"

/* sizeof(sockaddr_un.sun_path) - 1: the longest ipc:// path NNG can bind. */
#define IPC_PATH_MAX 107
#define USER_NAME_MAX 32
#define URI_MAX 512
#define MAX_SESSIONS 64		/* hsm/ pools at most this many */
#define MAX_WORKERS 64
/* Requests outstanding at once: each holds a context and its buffers
 * until answered, so memory stays bounded whatever the clients do. */
#define MAX_CONTEXTS 1024

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* "ipc:///absolute/path" or "tcp://127.0.0.1:PORT"; nothing off-host. */
static int
check_listen(void *base, const char *v, char *why, size_t whylen)
{
	uint64_t port;

	if (strncmp(v, "ipc://", 6) == 0) {
		if (v[6] != '/') {
			snprintf(why, whylen, "ipc:// needs an absolute path");
			return -1;
		}
		if (strlen(v + 6) > IPC_PATH_MAX) {
			snprintf(why, whylen, "ipc path longer than %d bytes",
			    IPC_PATH_MAX);
			return -1;
		}
		return 0;
	}
	if (strncmp(v, "tcp://127.0.0.1:", 16) == 0)
		return ini_parse_u64(&port, v + 16, 1, 65535, why, whylen);
	snprintf(why, whylen, "must be ipc:///path or tcp://127.0.0.1:PORT "
	    "(loopback only)");
	return -1;
}

/* "0660": octal with its leading 0, and nothing for others. */
static int
parse_mode(void *base, const char *v, char *why, size_t whylen)
{
	struct sd_config *cfg = base;
	unsigned int m = 0;
	size_t i;

	if (v[0] != '0' || strlen(v) != 4 ||
	    strspn(v, "01234567") != strlen(v)) {
		snprintf(why, whylen, "'%.40s' is not an octal mode like 0660",
		    v);
		return -1;
	}
	for (i = 1; i < 4; i++)
		m = m * 8 + (unsigned int)(v[i] - '0');
	/* Any local user could connect; the peer uid check is the only gate. */
	if ((m & 007) != 0) {
		snprintf(why, whylen, "%s gives access to every local user", v);
		return -1;
	}
	cfg->socket_mode = m;
	return 0;
}

/* Debian's NAME_REGEX: [a-z_][a-z0-9_-]*, at most 32. */
static int
is_name(const char *v)
{
	return strlen(v) <= USER_NAME_MAX && v[0] != '\0' &&
	    strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(v) &&
	    v[0] != '-' && !(v[0] >= '0' && v[0] <= '9');
}

/*
 * A uid or gid as a number, or a user or group name looked up now (as
 * root, at start-up): the socket's peers and group are fixed for the
 * process's life.  (uid_t)-1 means "no change" to the kernel: never one.
 */
static int
parse_id(uint64_t *id, const char *v, int group, char *why, size_t whylen)
{
	const struct passwd *pw;
	const struct group *gr;

	if (v[0] >= '0' && v[0] <= '9')
		return ini_parse_u64(id, v, 0, 4294967294u, why, whylen);
	if (!is_name(v)) {
		snprintf(why, whylen, "'%.40s' is neither a number nor a %s "
		    "name", v, group ? "group" : "user");
		return -1;
	}
	if (group ? (gr = getgrnam(v)) == NULL : (pw = getpwnam(v)) == NULL) {
		snprintf(why, whylen, "no %s named '%s'", group ? "group" :
		    "user", v);
		return -1;
	}
	*id = group ? (uint64_t)gr->gr_gid : (uint64_t)pw->pw_uid;
	return 0;
}

/* socket_group: the group of the ipc:// socket, a name or a number. */
static int
parse_group(void *base, const char *v, char *why, size_t whylen)
{
	struct sd_config *cfg = base;
	uint64_t gid;

	if (parse_id(&gid, v, 1, why, whylen) != 0)
		return -1;
	cfg->socket_gid = (gid_t)gid;
	return 0;
}

/* "0, 998, orchestrator": 1..SD_CONFIG_MAX_UIDS distinct uids or names. */
static int
parse_uids(void *base, const char *v, char *why, size_t whylen)
{
	struct sd_config *cfg = base;
	char item[USER_NAME_MAX + 1];
	const char *p = v, *end;
	uint64_t uid;
	size_t n, i, k = 0;

	for (;;) {
		while (is_space(*p))
			p++;
		end = p + strcspn(p, ",");
		n = (size_t)(end - p);
		while (n > 0 && is_space(p[n - 1]))
			n--;
		if (n == 0 || n >= sizeof(item)) {
			snprintf(why, whylen, "empty or overlong uid in list");
			return -1;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (parse_id(&uid, item, 0, why, whylen) != 0)
			return -1;
		if (k == SD_CONFIG_MAX_UIDS) {
			snprintf(why, whylen, "more than %d uids",
			    SD_CONFIG_MAX_UIDS);
			return -1;
		}
		for (i = 0; i < k; i++)
			if (cfg->uids[i] == (uid_t)uid) {
				snprintf(why, whylen, "uid %s listed twice",
				    item);
				return -1;
			}
		cfg->uids[k++] = (uid_t)uid;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	cfg->nuids = k;
	return 0;
}

static int
check_user(void *base, const char *v, char *why, size_t whylen)
{
	if (!is_name(v)) {
		snprintf(why, whylen, "'%.40s' is not a user name", v);
		return -1;
	}
	return 0;
}

static int
check_path(void *base, const char *v, char *why, size_t whylen)
{
	if (v[0] != '/') {
		snprintf(why, whylen, "'%.40s' is not an absolute path", v);
		return -1;
	}
	if (strlen(v) >= PATH_MAX) {
		snprintf(why, whylen, "path too long");
		return -1;
	}
	return 0;
}

static int
check_uri(void *base, const char *v, char *why, size_t whylen)
{
	if (strncmp(v, "pkcs11:", 7) != 0 || strlen(v) > URI_MAX) {
		snprintf(why, whylen, "'%.40s' is not a pkcs11: URI", v);
		return -1;
	}
	return 0;
}

static const char *const sections[] = {
	"hsm", "journal", "policy", "server",	/* [keys]: keys_hook */
};

#define F(sec, name, kind, m, lo, hi, fn, req) \
	INI_FIELD(struct sd_config, sec, name, kind, m, lo, hi, fn, req)
#define STR(sec, name, m, fn, req) F(sec, name, INI_STRDUP, m, 0, 0, fn, req)
#define NUM(sec, name, m, lo, hi) F(sec, name, INI_UINT, m, lo, hi, NULL, 0)
#define CUSTOM(sec, name, m, fn, req) \
	F(sec, name, INI_CUSTOM, m, 0, 0, fn, req)

/* Every key but [keys]' free-form names. */
static const struct ini_field fields[] = {
	STR("hsm", "module", module, check_path, 0),
	STR("hsm", "token", token, check_uri, 1),
	STR("hsm", "pin_file", pin_file, check_path, 1),
	NUM("hsm", "sessions", sessions, 1, MAX_SESSIONS),
	STR("hsm", "audit_key", audit_key, check_uri, 1),
	STR("journal", "dir", journal_dir, check_path, 1),
	/* A segment must hold at least one record of the longest kind. */
	NUM("journal", "segment_size", segment_size, JNL_LINE_MAX,
	    JNL_SEGMENT_MAX_LIMIT),
	NUM("journal", "checkpoint_interval", checkpoint_interval, 1, 86400),
	NUM("journal", "snapshot_interval", snapshot_interval, 0, 1000000000),
	NUM("journal", "retention_days", retention_days, 1,
	    SD_RETENTION_DAYS_MAX),
	STR("policy", "genesis", genesis, check_path, 1),
	STR("server", "listen", listen, check_listen, 1),
	CUSTOM("server", "socket_mode", socket_mode, parse_mode, 0),
	CUSTOM("server", "socket_group", socket_gid, parse_group, 0),
	CUSTOM("server", "allowed_uids", uids, parse_uids, 1),
	STR("server", "user", user, check_user, 1),
	NUM("server", "workers", workers, 1, MAX_WORKERS),
	NUM("server", "contexts", contexts, 1, MAX_CONTEXTS),
	/* Only lower than the protocol's own limit, never higher. */
	NUM("server", "max_message", max_message, 1024, PRT_MAX_MESSAGE),
};

/* [keys]: names not known in advance, so the loader's hook. */
struct keys {
	struct sd_config *cfg;
	int line[SD_CONFIG_MAX_KEYS];
};

static int
keys_claims(void *ctx, const char *section)
{
	return strcmp(section, "keys") == 0;
}

/* A [keys] line: the name as the policy and the wire protocol spell it. */
static int
keys_pair(void *ctx, const char *section, const char *name,
    const char *value, int line, char *why, size_t whylen)
{
	struct keys *k = ctx;
	struct sd_config *cfg = k->cfg;
	char reason[128];
	size_t i, n = strlen(name);

	if (n > SD_CONFIG_KEY_NAME_MAX || strspn(name,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._:-") != n) {
		snprintf(why, whylen, "bad key name '%.64s' in [keys]: 1..%d "
		    "of A-Z a-z 0-9 . _ : -", name, SD_CONFIG_KEY_NAME_MAX);
		return ERR_MALFORMED;
	}
	for (i = 0; i < cfg->nkeys; i++)
		if (strcmp(cfg->keys[i].name, name) == 0) {
			snprintf(why, whylen, "duplicate key '%s' in [keys] "
			    "(first at line %d)", name, k->line[i]);
			return ERR_MALFORMED;
		}
	if (cfg->nkeys == SD_CONFIG_MAX_KEYS) {
		snprintf(why, whylen, "more than %d keys in [keys]",
		    SD_CONFIG_MAX_KEYS);
		return ERR_MALFORMED;
	}
	if (check_uri(cfg, value, reason, sizeof(reason)) != 0) {
		snprintf(why, whylen, "bad value for '%s' in [keys]: %s", name,
		    reason);
		return ERR_MALFORMED;
	}
	cfg->keys[cfg->nkeys].name = strdup(name);
	cfg->keys[cfg->nkeys].uri = strdup(value);
	k->line[cfg->nkeys] = line;
	cfg->nkeys++;
	if (cfg->keys[cfg->nkeys - 1].name == NULL ||
	    cfg->keys[cfg->nkeys - 1].uri == NULL)
		return ERR_NOMEM;
	return 0;
}

static void
defaults(struct sd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sessions = 4;
	cfg->segment_size = JNL_SEGMENT_MAX_DEFAULT;
	cfg->checkpoint_interval = 60;
	cfg->snapshot_interval = 10000;
	cfg->retention_days = SD_RETENTION_DAYS_DEFAULT;
	cfg->socket_mode = 0660;
	cfg->socket_gid = (gid_t)-1;	/* the group signerd creates it with */
	cfg->workers = 4;
	cfg->contexts = 64;
	cfg->max_message = PRT_MAX_MESSAGE;
}

/* After the table's own checks: at least one key. */
static void
check_keys(struct ini_load *ld, const struct sd_config *cfg)
{
	int line = ini_section_line(ld, "keys");

	if (cfg->nkeys != 0)
		return;
	if (line == 0)
		ini_fail(ld, ERR_MALFORMED, 0, "missing section [keys] "
		    "(needs at least one key)");
	else
		ini_fail(ld, ERR_MALFORMED, line, "[keys] names no key");
}

int
sd_config_load(struct sd_config *cfg, const char *path, char *err,
    size_t errlen)
{
	static const struct ini_spec spec_tmpl = {
		sections, ARRAY_LEN(sections), fields, ARRAY_LEN(fields),
		SD_CONFIG_FILE_MAX, NULL,
	};
	struct keys keys;
	struct ini_hook hook = { keys_claims, keys_pair, &keys };
	struct ini_spec spec = spec_tmpl;
	struct ini_load ld;
	int r;

	if (cfg == NULL || path == NULL || (err == NULL && errlen > 0))
		abort();
	defaults(cfg);
	memset(&keys, 0, sizeof(keys));
	keys.cfg = cfg;
	spec.hook = &hook;
	ini_init(&ld, &spec, cfg, path, err, errlen);
	/* It names the module signerd dlopen()s as root: a trusted file. */
	if (ini_load(&ld) == 0)
		check_keys(&ld, cfg);
	if (!ld.failed && cfg->module == NULL &&
	    (cfg->module = strdup(HSM_DEFAULT_MODULE)) == NULL)
		ini_fail(&ld, ERR_NOMEM, 0, "out of memory");
	r = ld.failed;
	if (r != 0)
		sd_config_free(cfg);
	return r;
}

void
sd_config_free(struct sd_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	free(cfg->module);
	free(cfg->token);
	free(cfg->pin_file);
	free(cfg->audit_key);
	for (i = 0; i < cfg->nkeys; i++) {
		free(cfg->keys[i].name);
		free(cfg->keys[i].uri);
	}
	free(cfg->journal_dir);
	free(cfg->genesis);
	free(cfg->listen);
	free(cfg->user);
	memset(cfg, 0, sizeof(*cfg));
}
