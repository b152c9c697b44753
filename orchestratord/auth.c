/* auth.c: the tokens file, constant-time bearer token lookup, roles and token buckets. */
#include "orchestratord/auth.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/secret_file.h"

#define HASH_LEN 32
#define LINE_MAX_LEN 512
#define RATE_MAX 100000

struct auth_entry {
	char name[AUTH_NAME_MAX + 1];
	enum auth_role role;
	uint8_t hash[HASH_LEN];
	struct auth_bucket bucket;	/* under auth.mu */
};

struct auth {
	pthread_mutex_t mu;
	size_t n;
	struct auth_entry *e;
};

static const char *const role_names[] = {
	[AUTH_ROLE_VIEWER] = "viewer",
	[AUTH_ROLE_SUBMITTER] = "submitter",
	[AUTH_ROLE_APPROVER] = "approver",
	[AUTH_ROLE_ADMIN] = "admin",
};

const char *
auth_role_name(enum auth_role role)
{
	if ((int)role < AUTH_ROLE_VIEWER || role > AUTH_ROLE_ADMIN)
		return "?";
	return role_names[role];
}

int
auth_role_allows(enum auth_role role, enum auth_perm perm)
{
	if (perm == AUTH_PERM_NONE || role == AUTH_ROLE_ADMIN)
		return 1;
	switch (perm) {
	case AUTH_PERM_READ:
		return role == AUTH_ROLE_VIEWER;
	case AUTH_PERM_SUBMIT:
		return role == AUTH_ROLE_SUBMITTER;
	case AUTH_PERM_APPROVE:
		return role == AUTH_ROLE_APPROVER;
	default:
		return 0;
	}
}

/* --- token buckets ------------------------------------------------------------ */

static int
clamp_rate(int v)
{
	return v < 1 ? 1 : v > RATE_MAX ? RATE_MAX : v;
}

void
auth_bucket_init(struct auth_bucket *b, int rate_per_second, int burst)
{
	memset(b, 0, sizeof(*b));
	b->rate = clamp_rate(rate_per_second);
	b->burst = clamp_rate(burst);
	b->milli = (int64_t)b->burst * 1000;
}

int
auth_bucket_take(struct auth_bucket *b, int64_t now_ms, int64_t *retry_ms)
{
	int64_t full = (int64_t)b->burst * 1000, elapsed, need;

	*retry_ms = 0;
	if (!b->started) {
		b->started = 1;
		b->last_ms = now_ms;
	}
	if (now_ms > b->last_ms) {
		/* rate tokens a second is rate thousandths a millisecond. */
		elapsed = now_ms - b->last_ms;
		need = full - b->milli;
		/* Compare before multiplying: a long idle time must not overflow. */
		if (elapsed >= (need + b->rate - 1) / b->rate)
			b->milli = full;
		else
			b->milli += elapsed * b->rate;
		b->last_ms = now_ms;
	}
	if (b->milli >= 1000) {
		b->milli -= 1000;
		return 1;
	}
	*retry_ms = (1000 - b->milli + b->rate - 1) / b->rate;
	return 0;
}

/* --- the tokens file ------------------------------------------------------------ */

static void auth_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
auth_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
auth_free(struct auth *a)
{
	if (a == NULL)
		return;
	if (a->e != NULL)
		util_wipe(a->e, a->n * sizeof(*a->e));
	free(a->e);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

static int
name_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > AUTH_NAME_MAX)
		return 0;
	/* Lower case only, as approver names: "Alice" cannot pose as "alice". */
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

static int
role_from(enum auth_role *out, const char *s, size_t n)
{
	int i;

	for (i = AUTH_ROLE_VIEWER; i <= AUTH_ROLE_ADMIN; i++) {
		if (strlen(role_names[i]) == n &&
		    memcmp(role_names[i], s, n) == 0) {
			*out = (enum auth_role)i;
			return 0;
		}
	}
	return ERR_NOT_FOUND;
}

/* Splits a line into at most max blank-separated fields. */
static size_t
split(const char *line, size_t len, const char **f, size_t *flen, size_t max)
{
	size_t i = 0, n = 0, start;

	for (;;) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			return n;
		start = i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		if (n == max)
			return max + 1;	/* one too many */
		f[n] = line + start;
		flen[n] = i - start;
		n++;
	}
}

/* Checks one non-comment line into e. */
static int
parse_line(struct auth_entry *e, const char *line, size_t len,
    const char *name, size_t lineno, char *err, size_t errlen)
{
	const char *f[3];
	size_t fl[3], i, nf;
	char hex[2 * HASH_LEN + 1];

	for (i = 0; i < len; i++) {
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
			auth_err(err, errlen, "%s:%zu: control character in "
			    "line", name, lineno);
			return ERR_MALFORMED;
		}
	}
	nf = split(line, len, f, fl, 3);
	if (nf != 3) {
		auth_err(err, errlen, "%s:%zu: expected NAME ROLE SHA256HEX",
		    name, lineno);
		return ERR_MALFORMED;
	}
	if (!name_ok(f[0], fl[0])) {
		auth_err(err, errlen, "%s:%zu: name must be 1..%d of a-z 0-9 "
		    "_ . -", name, lineno, AUTH_NAME_MAX);
		return ERR_MALFORMED;
	}
	memcpy(e->name, f[0], fl[0]);
	e->name[fl[0]] = '\0';
	if (role_from(&e->role, f[1], fl[1]) != 0) {
		auth_err(err, errlen, "%s:%zu: role of %s must be submitter, "
		    "approver, admin or viewer", name, lineno, e->name);
		return ERR_MALFORMED;
	}
	if (fl[2] != 2 * HASH_LEN) {
		auth_err(err, errlen, "%s:%zu: hash of %s must be 64 hex digits "
		    "(the SHA-256 of the token, as sha256sum prints it)", name,
		    lineno, e->name);
		return ERR_MALFORMED;
	}
	memcpy(hex, f[2], 2 * HASH_LEN);
	hex[2 * HASH_LEN] = '\0';
	/* A "0x" prefix leaves 62 digits: refused as the wrong length. */
	if (util_hex_decode(e->hash, HASH_LEN, hex) != 0) {
		auth_err(err, errlen, "%s:%zu: hash of %s is not hex", name,
		    lineno, e->name);
		return ERR_MALFORMED;
	}
	return 0;
}

int
auth_parse(struct auth **out, const char *text, size_t len, const char *name,
    int rate_per_second, int burst, char *err, size_t errlen)
{
	struct auth *a = NULL;
	struct auth_entry *e;
	const char *line, *nl;
	size_t off = 0, lineno = 0, llen, i, j;
	int r = ERR_NOMEM;

	*out = NULL;
	auth_err(err, errlen, "%s", "");
	if (len > AUTH_FILE_MAX) {
		auth_err(err, errlen, "%s: larger than %d bytes", name,
		    AUTH_FILE_MAX);
		return ERR_TOO_LARGE;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return ERR_NOMEM;
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a);
		return ERR_NOMEM;
	}
	if ((a->e = calloc(AUTH_MAX_ENTRIES, sizeof(*a->e))) == NULL)
		goto out;
	while (off < len) {
		line = text + off;
		nl = memchr(line, '\n', len - off);
		llen = nl != NULL ? (size_t)(nl - line) : len - off;
		off += llen + (nl != NULL);
		lineno++;
		r = ERR_MALFORMED;
		if (llen > LINE_MAX_LEN) {
			auth_err(err, errlen, "%s:%zu: line longer than %d "
			    "bytes", name, lineno, LINE_MAX_LEN);
			goto out;
		}
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		for (i = 0; i < llen && (line[i] == ' ' || line[i] == '\t'); i++)
			;
		if (i == llen || line[i] == '#')
			continue;
		if (a->n == AUTH_MAX_ENTRIES) {
			auth_err(err, errlen, "%s:%zu: more than %d tokens",
			    name, lineno, AUTH_MAX_ENTRIES);
			goto out;
		}
		e = &a->e[a->n];
		if ((r = parse_line(e, line, llen, name, lineno, err,
		    errlen)) != 0)
			goto out;
		/* One name, one token: a log line names exactly one caller. */
		for (j = 0; j < a->n; j++) {
			if (strcmp(a->e[j].name, e->name) == 0) {
				auth_err(err, errlen, "%s:%zu: duplicate name "
				    "%s", name, lineno, e->name);
				r = ERR_MALFORMED;
				goto out;
			}
			if (memcmp(a->e[j].hash, e->hash, HASH_LEN) == 0) {
				auth_err(err, errlen, "%s:%zu: %s has the same "
				    "token hash as %s", name, lineno, e->name,
				    a->e[j].name);
				r = ERR_MALFORMED;
				goto out;
			}
		}
		auth_bucket_init(&e->bucket, rate_per_second, burst);
		a->n++;
	}
	*out = a;
	a = NULL;
	r = 0;
out:
	auth_free(a);
	return r;
}

int
auth_load(struct auth **out, const char *path, int rate_per_second,
    int burst, char *err, size_t errlen)
{
	char *buf, why[160];
	size_t n = 0;
	int r;

	*out = NULL;
	if ((buf = malloc(AUTH_FILE_MAX)) == NULL)
		return ERR_NOMEM;
	/* The checks every secret file gets (common/secret_file.h). */
	if ((r = util_read_secret_file(path, buf, AUTH_FILE_MAX, &n, why,
	    sizeof(why))) != 0)
		auth_err(err, errlen, "tokens file %s: %s", path, why);
	else
		r = auth_parse(out, buf, n, path, rate_per_second, burst, err,
		    errlen);
	util_wipe(buf, AUTH_FILE_MAX);
	free(buf);
	return r;
}

size_t
auth_count(const struct auth *a)
{
	return a->n;
}

int
auth_lookup(const struct auth *a, const char *token, size_t len, size_t *idx)
{
	uint8_t hash[HASH_LEN];
	unsigned int hlen = 0;
	size_t i, found = 0, at = 0, mask;

	*idx = SIZE_MAX;
	if (len == 0 || len > AUTH_TOKEN_MAX)
		return ERR_NOT_FOUND;
	if (EVP_Digest(token, len, hash, &hlen, EVP_sha256(), NULL) != 1 ||
	    hlen != HASH_LEN)
		return ERR_NOT_FOUND;
	/*
	 * Every entry is compared, each in constant time, and the match is
	 * folded in with masks rather than a branch or an early return.
	 */
	for (i = 0; i < a->n; i++) {
		mask = (size_t)0 - (size_t)(util_ct_compare(hash, a->e[i].hash,
		    HASH_LEN) == 0);
		at = (at & ~mask) | (i & mask);
		found |= mask & 1;
	}
	util_wipe(hash, sizeof(hash));
	if (!found)
		return ERR_NOT_FOUND;
	*idx = at;
	return 0;
}

const char *
auth_name(const struct auth *a, size_t idx)
{
	if (idx >= a->n)
		abort();
	return a->e[idx].name;
}

enum auth_role
auth_role(const struct auth *a, size_t idx)
{
	if (idx >= a->n)
		abort();
	return a->e[idx].role;
}

int
auth_rate_take(struct auth *a, size_t idx, int64_t now_ms, int *retry_after_s)
{
	int64_t retry_ms;
	int ok;

	*retry_after_s = 0;
	if (idx >= a->n)
		abort();
	pthread_mutex_lock(&a->mu);
	ok = auth_bucket_take(&a->e[idx].bucket, now_ms, &retry_ms);
	pthread_mutex_unlock(&a->mu);
	if (!ok)
		*retry_after_s = (int)((retry_ms + 999) / 1000);
	return ok;
}

/* --- unauthenticated clients ------------------------------------------ */

#define CLIENT_WAYS 4
#define CLIENT_SETS (AUTH_CLIENTS_MAX / CLIENT_WAYS)

struct client_slot {
	uint8_t key[AUTH_CLIENT_KEY_MAX];
	size_t len;			/* 0: free */
	int64_t seen_ms;
	struct auth_bucket bucket;
};

struct auth_clients {
	pthread_mutex_t mu;
	int rate, burst;
	struct client_slot slot[CLIENT_SETS][CLIENT_WAYS];
};

int
auth_clients_new(struct auth_clients **out, int rate_per_second, int burst)
{
	struct auth_clients *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ERR_NOMEM;
	pthread_mutex_init(&c->mu, NULL);
	c->rate = rate_per_second;
	c->burst = burst;
	*out = c;
	return 0;
}

void
auth_clients_free(struct auth_clients *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* FNV-1a: spreads addresses over the sets; not a secret. */
static size_t
client_set(const uint8_t *key, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= key[i];
		h *= 16777619u;
	}
	return h % CLIENT_SETS;
}

int
auth_clients_take(struct auth_clients *c, const uint8_t *key, size_t len,
    int64_t now_ms, int *retry_after_s)
{
	struct client_slot *set, *e = NULL;
	int64_t retry_ms;
	size_t i;
	int ok;

	*retry_after_s = 0;
	if (len > AUTH_CLIENT_KEY_MAX)
		len = AUTH_CLIENT_KEY_MAX;
	pthread_mutex_lock(&c->mu);
	set = c->slot[client_set(key, len)];
	for (i = 0; i < CLIENT_WAYS; i++) {
		if (set[i].len == len && memcmp(set[i].key, key, len) == 0) {
			e = &set[i];
			break;
		}
	}
	if (e == NULL) {
		/* A free way, else the one seen least recently. */
		e = &set[0];
		for (i = 0; i < CLIENT_WAYS && e->len != 0; i++)
			if (set[i].len == 0 || set[i].seen_ms < e->seen_ms)
				e = &set[i];
		memset(e, 0, sizeof(*e));
		memcpy(e->key, key, len);
		e->len = len;
		auth_bucket_init(&e->bucket, c->rate, c->burst);
	}
	e->seen_ms = now_ms;
	ok = auth_bucket_take(&e->bucket, now_ms, &retry_ms);
	pthread_mutex_unlock(&c->mu);
	if (!ok)
		*retry_after_s = (int)((retry_ms + 999) / 1000);
	return ok;
}
