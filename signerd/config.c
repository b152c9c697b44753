/* config.c: signerd's INI config through libinih, with every line vetted before inih sees it. */
#include "signerd/config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "hsm/hsm.h"
#include "journal/journal.h"
#include "proto/msg.h"
#include "signerd/state.h"

/* Our own cap on a line; inih's buffer may make the real one smaller. */
#define LINE_MAX_OWN 1024
/* sizeof(sockaddr_un.sun_path) - 1: the longest ipc:// path NNG can bind. */
#define IPC_PATH_MAX 107
#define USER_NAME_MAX 32
#define URI_MAX 512
#define MAX_SESSIONS 64		/* hsm/ pools at most this many */
#define MAX_WORKERS 64
/* Requests outstanding at once: each holds a context and its buffers
 * until answered, so memory stays bounded whatever the clients do. */
#define MAX_CONTEXTS 1024

enum section { SEC_HSM, SEC_KEYS, SEC_JOURNAL, SEC_POLICY, SEC_SERVER,
	SEC_COUNT };

static const char *const section_names[SEC_COUNT] = {
	"hsm", "keys", "journal", "policy", "server",
};

enum kind { K_PATH, K_URI, K_NUM, K_MODE, K_LISTEN, K_UIDS, K_USER };

struct field {
	enum section sec;
	const char *name;
	enum kind kind;
	size_t off;		/* of the member in struct sd_config */
	size_t size;		/* K_NUM: sizeof the member */
	uint64_t min, max;	/* K_NUM */
	int required;
};

#define MEMBER_SIZE(m) sizeof(((struct sd_config *)0)->m)
#define STR(sec, name, m, kind, req) \
	{ sec, name, kind, offsetof(struct sd_config, m), 0, 0, 0, req }
#define NUM(sec, name, m, lo, hi) \
	{ sec, name, K_NUM, offsetof(struct sd_config, m), MEMBER_SIZE(m), \
	  lo, hi, 0 }
#define SPECIAL(sec, name, kind, req) { sec, name, kind, 0, 0, 0, 0, req }

/* Every key but [keys]' free-form names. */
static const struct field fields[] = {
	STR(SEC_HSM, "module", module, K_PATH, 0),
	STR(SEC_HSM, "token", token, K_URI, 1),
	STR(SEC_HSM, "pin_file", pin_file, K_PATH, 1),
	NUM(SEC_HSM, "sessions", sessions, 1, MAX_SESSIONS),
	STR(SEC_HSM, "audit_key", audit_key, K_URI, 1),
	STR(SEC_JOURNAL, "dir", journal_dir, K_PATH, 1),
	/* A segment must hold at least one record of the longest kind. */
	NUM(SEC_JOURNAL, "segment_size", segment_size, JNL_LINE_MAX,
	    JNL_SEGMENT_MAX_LIMIT),
	NUM(SEC_JOURNAL, "checkpoint_interval", checkpoint_interval, 1, 86400),
	NUM(SEC_JOURNAL, "snapshot_interval", snapshot_interval, 0,
	    1000000000),
	NUM(SEC_JOURNAL, "retention_days", retention_days, 1,
	    SD_RETENTION_DAYS_MAX),
	STR(SEC_POLICY, "genesis", genesis, K_PATH, 1),
	STR(SEC_SERVER, "listen", listen, K_LISTEN, 1),
	SPECIAL(SEC_SERVER, "socket_mode", K_MODE, 0),
	SPECIAL(SEC_SERVER, "allowed_uids", K_UIDS, 1),
	STR(SEC_SERVER, "user", user, K_USER, 1),
	NUM(SEC_SERVER, "workers", workers, 1, MAX_WORKERS),
	NUM(SEC_SERVER, "contexts", contexts, 1, MAX_CONTEXTS),
	/* Only lower than the protocol's own limit, never higher. */
	NUM(SEC_SERVER, "max_message", max_message, 1024, PRT_MAX_MESSAGE),
};

/* One load in progress: the file's bytes and where the parse stands. */
struct load {
	struct sd_config *cfg;
	const char *path;
	const char *buf;
	size_t len;
	size_t off;
	int lineno;			/* the line inih is working on */
	int section;			/* -1 before the first header */
	int section_line[SEC_COUNT];	/* 0: header not seen */
	int field_line[ARRAY_LEN(fields)];	/* 0: key not seen */
	int key_line[SD_CONFIG_MAX_KEYS];
	int failed;			/* an ERR_* once something is wrong */
	int err_line;			/* where (0: not at a line) */
	char *err;
	size_t errlen;
};

/* Records the first error as "path:line: reason" (line 0: "path: reason"). */
static void __attribute__((format(printf, 4, 5)))
fail(struct load *ld, int code, int line, const char *fmt, ...)
{
	char reason[384];
	va_list ap;

	if (ld->failed)
		return;
	ld->failed = code;
	ld->err_line = line;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (ld->errlen == 0)
		return;
	if (line > 0)
		snprintf(ld->err, ld->errlen, "%s:%d: %s", ld->path, line,
		    reason);
	else
		snprintf(ld->err, ld->errlen, "%s: %s", ld->path, reason);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Checks a section header line; s starts at '['. */
static void
vet_header(struct load *ld, const char *s, size_t n)
{
	const char *close = memchr(s, ']', n);
	size_t i, namelen;
	int sec = -1;

	if (close == NULL)
		return;		/* inih reports the missing ']' */
	namelen = (size_t)(close - s - 1);
	for (i = (size_t)(close - s) + 1; i < n && is_space(s[i]); i++)
		;
	if (i < n && s[i] != ';' && s[i] != '#') {
		fail(ld, ERR_MALFORMED, ld->lineno, "text after ']'");
		return;
	}
	for (i = 0; i < SEC_COUNT; i++)
		if (strlen(section_names[i]) == namelen &&
		    memcmp(section_names[i], s + 1, namelen) == 0)
			sec = (int)i;
	if (sec < 0) {
		fail(ld, ERR_MALFORMED, ld->lineno, "unknown section [%.*s]",
		    (int)(namelen > 64 ? 64 : namelen), s + 1);
		return;
	}
	if (ld->section_line[sec] != 0) {
		fail(ld, ERR_MALFORMED, ld->lineno, "duplicate section [%s] "
		    "(first at line %d)", section_names[sec],
		    ld->section_line[sec]);
		return;
	}
	ld->section = sec;
	ld->section_line[sec] = ld->lineno;
}

/* Checks a "key = value" line; s starts at the key. */
static void
vet_pair(struct load *ld, const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n);
	const char *colon = memchr(s, ':', n);

	/* inih also splits on ':'; one syntax is enough. */
	if (eq == NULL || (colon != NULL && colon < eq)) {
		fail(ld, ERR_MALFORMED, ld->lineno,
		    "expected [section], key = value, or a comment");
		return;
	}
	if (eq == s) {
		fail(ld, ERR_MALFORMED, ld->lineno, "no key before '='");
		return;
	}
	if (ld->section < 0)
		fail(ld, ERR_MALFORMED, ld->lineno,
		    "key outside any section");
}

/*
 * inih's line source.  Hands over one whole line per call (so inih's line
 * count is ours), refuses bytes and lengths inih would mishandle (it
 * splits a long line and parses the tail as a line of its own), strips
 * leading blanks (so no line is taken as a continuation of the previous
 * value) and checks section headers itself (inih never reports an empty
 * section).  NULL ends the parse, at the end or at the first error.
 */
static char *
next_line(char *str, int num, void *stream)
{
	struct load *ld = stream;
	const char *p, *nl, *s;
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
	limit = (size_t)num - 2 < LINE_MAX_OWN ? (size_t)num - 2 :
	    LINE_MAX_OWN;
	if (n > limit) {
		fail(ld, ERR_TOO_LARGE, ld->lineno,
		    "line longer than %zu bytes", limit);
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
	for (s = p; s < p + n && is_space(*s); s++)
		;
	n -= (size_t)(s - p);
	if (n > 0 && *s == '[')
		vet_header(ld, s, n);
	else if (n > 0 && *s != ';' && *s != '#')
		vet_pair(ld, s, n);
	if (ld->failed)
		return NULL;
	memcpy(str, s, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

/* Parses a canonical decimal number (no sign, no leading zero) in [lo, hi]. */
static int
parse_num(uint64_t *out, const char *v, uint64_t lo, uint64_t hi,
    char *why, size_t whylen)
{
	uint64_t x = 0;
	const char *p;

	*out = 0;
	if (*v == '\0' || strspn(v, "0123456789") != strlen(v)) {
		snprintf(why, whylen, "'%.40s' is not a decimal number", v);
		return -1;
	}
	if (v[0] == '0' && v[1] != '\0') {
		snprintf(why, whylen, "'%.40s' has a leading zero", v);
		return -1;
	}
	for (p = v; *p != '\0'; p++) {
		if (x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) {
			x = UINT64_MAX;
			break;
		}
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (x < lo || x > hi) {
		snprintf(why, whylen, "%.40s is out of range %llu..%llu", v,
		    (unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	*out = x;
	return 0;
}

static void
store_num(void *dst, size_t size, uint64_t v)
{
	uint32_t v32 = (uint32_t)v;

	if (size == sizeof(uint64_t))
		memcpy(dst, &v, sizeof(v));
	else
		memcpy(dst, &v32, sizeof(v32));
}

/* "ipc:///absolute/path" or "tcp://127.0.0.1:PORT"; nothing off-host. */
static int
check_listen(const char *v, char *why, size_t whylen)
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
		return parse_num(&port, v + 16, 1, 65535, why, whylen);
	snprintf(why, whylen, "must be ipc:///path or tcp://127.0.0.1:PORT "
	    "(loopback only)");
	return -1;
}

/* "0660": octal with its leading 0, and nothing for others. */
static int
parse_mode(unsigned int *out, const char *v, char *why, size_t whylen)
{
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
	*out = m;
	return 0;
}

/* "0, 998": 1..SD_CONFIG_MAX_UIDS distinct uids. */
static int
parse_uids(struct sd_config *cfg, const char *v, char *why, size_t whylen)
{
	char item[24];
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
		/* (uid_t)-1 means "no change" to the kernel: never a peer. */
		if (parse_num(&uid, item, 0, 4294967294u, why, whylen) != 0)
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

/* Debian's NAME_REGEX: [a-z_][a-z0-9_-]*, at most 32. */
static int
check_user(const char *v, char *why, size_t whylen)
{
	if (strlen(v) > USER_NAME_MAX ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(v) ||
	    v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
		snprintf(why, whylen, "'%.40s' is not a user name", v);
		return -1;
	}
	return 0;
}

static int
check_path(const char *v, char *why, size_t whylen)
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
check_uri(const char *v, char *why, size_t whylen)
{
	if (strncmp(v, "pkcs11:", 7) != 0 || strlen(v) > URI_MAX) {
		snprintf(why, whylen, "'%.40s' is not a pkcs11: URI", v);
		return -1;
	}
	return 0;
}

/* A [keys] line: the name as the policy and the wire protocol spell it. */
static void
add_key(struct load *ld, const char *name, const char *value)
{
	struct sd_config *cfg = ld->cfg;
	char why[128];
	size_t i, n = strlen(name);

	if (n > SD_CONFIG_KEY_NAME_MAX || strspn(name,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._:-") != n) {
		fail(ld, ERR_MALFORMED, ld->lineno, "bad key name '%.64s' in "
		    "[keys]: 1..%d of A-Z a-z 0-9 . _ : -", name,
		    SD_CONFIG_KEY_NAME_MAX);
		return;
	}
	for (i = 0; i < cfg->nkeys; i++)
		if (strcmp(cfg->keys[i].name, name) == 0) {
			fail(ld, ERR_MALFORMED, ld->lineno, "duplicate key "
			    "'%s' in [keys] (first at line %d)", name,
			    ld->key_line[i]);
			return;
		}
	if (cfg->nkeys == SD_CONFIG_MAX_KEYS) {
		fail(ld, ERR_MALFORMED, ld->lineno, "more than %d keys in "
		    "[keys]", SD_CONFIG_MAX_KEYS);
		return;
	}
	if (check_uri(value, why, sizeof(why)) != 0) {
		fail(ld, ERR_MALFORMED, ld->lineno, "bad value for '%s' in "
		    "[keys]: %s", name, why);
		return;
	}
	cfg->keys[cfg->nkeys].name = strdup(name);
	cfg->keys[cfg->nkeys].uri = strdup(value);
	ld->key_line[cfg->nkeys] = ld->lineno;
	cfg->nkeys++;
	if (cfg->keys[cfg->nkeys - 1].name == NULL ||
	    cfg->keys[cfg->nkeys - 1].uri == NULL)
		fail(ld, ERR_NOMEM, 0, "out of memory");
}

/* Parses value into the member f names; 0 or -1 with why set. */
static int
set_field(struct load *ld, const struct field *f, const char *value,
    char *why, size_t whylen)
{
	struct sd_config *cfg = ld->cfg;
	char **sp = (char **)((char *)cfg + f->off);
	uint64_t x;
	int r = -1;

	switch (f->kind) {
	case K_NUM:
		if ((r = parse_num(&x, value, f->min, f->max, why, whylen))
		    == 0)
			store_num((char *)cfg + f->off, f->size, x);
		return r;
	case K_MODE:
		return parse_mode(&cfg->socket_mode, value, why, whylen);
	case K_UIDS:
		return parse_uids(cfg, value, why, whylen);
	case K_PATH:
		r = check_path(value, why, whylen);
		break;
	case K_URI:
		r = check_uri(value, why, whylen);
		break;
	case K_LISTEN:
		r = check_listen(value, why, whylen);
		break;
	case K_USER:
		r = check_user(value, why, whylen);
		break;
	}
	if (r != 0)
		return r;
	if ((*sp = strdup(value)) == NULL) {
		fail(ld, ERR_NOMEM, 0, "out of memory");
		return -1;
	}
	return 0;
}

/* inih's callback: one key = value in a section vet_header accepted. */
static int
on_pair(void *user, const char *section, const char *name, const char *value)
{
	struct load *ld = user;
	const struct field *f = NULL;
	char why[192];
	size_t i;

	if (ld->failed || ld->section < 0)
		return 0;
	if (*value == '\0') {
		fail(ld, ERR_MALFORMED, ld->lineno, "empty value for '%.64s' "
		    "in [%s]", name, section_names[ld->section]);
		return 0;
	}
	if (ld->section == SEC_KEYS) {
		add_key(ld, name, value);
		return !ld->failed;
	}
	for (i = 0; i < ARRAY_LEN(fields); i++)
		if ((int)fields[i].sec == ld->section &&
		    strcmp(fields[i].name, name) == 0) {
			f = &fields[i];
			break;
		}
	if (f == NULL) {
		fail(ld, ERR_MALFORMED, ld->lineno, "unknown key '%.64s' in "
		    "[%s]", name, section_names[ld->section]);
		return 0;
	}
	if (ld->field_line[i] != 0) {
		fail(ld, ERR_MALFORMED, ld->lineno, "duplicate key '%s' in "
		    "[%s] (first at line %d)", name, section_names[ld->section],
		    ld->field_line[i]);
		return 0;
	}
	ld->field_line[i] = ld->lineno;
	if (set_field(ld, f, value, why, sizeof(why)) != 0) {
		fail(ld, ERR_MALFORMED, ld->lineno, "bad value for '%s' in "
		    "[%s]: %s", name, section_names[ld->section], why);
		return 0;
	}
	return 1;
}

/* After the parse: everything required is there. */
static void
check_required(struct load *ld)
{
	size_t i;
	int sec;

	for (i = 0; i < ARRAY_LEN(fields) && !ld->failed; i++) {
		sec = fields[i].sec;
		if (!fields[i].required || ld->field_line[i] != 0)
			continue;
		if (ld->section_line[sec] == 0)
			fail(ld, ERR_MALFORMED, 0, "missing section [%s] "
			    "(needs '%s')", section_names[sec], fields[i].name);
		else
			fail(ld, ERR_MALFORMED, ld->section_line[sec],
			    "missing required key '%s' in [%s]",
			    fields[i].name, section_names[sec]);
	}
	if (!ld->failed && ld->cfg->nkeys == 0) {
		if (ld->section_line[SEC_KEYS] == 0)
			fail(ld, ERR_MALFORMED, 0, "missing section [keys] "
			    "(needs at least one key)");
		else
			fail(ld, ERR_MALFORMED, ld->section_line[SEC_KEYS],
			    "[keys] names no key");
	}
}

/* Reads the whole file, checking what kind of file it is first. */
static int
read_file(struct load *ld, char **buf, size_t *len)
{
	char why[192];
	int r;

	/* It names the module signerd dlopen()s as root. */
	if ((r = util_read_trusted_file(ld->path, SD_CONFIG_FILE_MAX, buf, len,
	    why, sizeof(why))) != 0)
		fail(ld, r, 0, "%s", why);
	return r;
}

int
sd_config_load(struct sd_config *cfg, const char *path, char *err,
    size_t errlen)
{
	struct load ld;
	char *buf = NULL;
	int rc, r;

	if (cfg == NULL || path == NULL || (err == NULL && errlen > 0))
		abort();
	memset(cfg, 0, sizeof(*cfg));
	memset(&ld, 0, sizeof(ld));
	ld.cfg = cfg;
	ld.path = path;
	ld.err = err;
	ld.errlen = errlen;
	ld.section = -1;
	if (errlen > 0)
		err[0] = '\0';
	cfg->sessions = 4;
	cfg->segment_size = JNL_SEGMENT_MAX_DEFAULT;
	cfg->checkpoint_interval = 60;
	cfg->snapshot_interval = 10000;
	cfg->retention_days = SD_RETENTION_DAYS_DEFAULT;
	cfg->socket_mode = 0660;
	cfg->workers = 4;
	cfg->contexts = 64;
	cfg->max_message = PRT_MAX_MESSAGE;

	if ((r = read_file(&ld, &buf, &ld.len)) != 0)
		goto out;
	ld.buf = buf;
	rc = ini_parse_stream(next_line, &ld, on_pair, &ld);
	if (rc == -2) {
		fail(&ld, ERR_NOMEM, 0, "out of memory");
	} else if (rc > 0 && (!ld.failed || rc < ld.err_line)) {
		/* A syntax error only inih noticed (a header without its
		 * ']'), before any of ours: report the first. */
		ld.failed = 0;
		fail(&ld, ERR_MALFORMED, rc, "expected [section], "
		    "key = value, or a comment");
	}
	check_required(&ld);
	if (!ld.failed && cfg->module == NULL &&
	    (cfg->module = strdup(HSM_DEFAULT_MODULE)) == NULL)
		fail(&ld, ERR_NOMEM, 0, "out of memory");
	r = ld.failed;
out:
	free(buf);
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
