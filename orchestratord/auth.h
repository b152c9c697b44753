/*
 * auth.h: bearer tokens, roles and per-token rate limits of the HTTP API.
 *
 * The tokens file (config [http] tokens) lists one caller a line:
 *
 *     # NAME  ROLE       SHA-256 of the token, hex
 *     alice   approver   9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
 *
 * NAME is 1..32 of [a-z0-9_.-]; ROLE one of submitter, approver, admin,
 * viewer; fields are separated by spaces or tabs; '#' starts a comment
 * line; blank lines are fine.  Only the hash is stored, so the file does
 * not hand out tokens, but it decides who may move money: it must be a
 * regular file (not a symbolic link) owned by the effective user that
 * reads it (root when orchestratord starts as root: it is read before the
 * privilege drop), with no group or other permission bits.  Duplicate
 * names or hashes are refused with file:line.
 *
 * An operator makes a token and its line with:
 *
 *     tok=$(openssl rand -hex 32)
 *     printf '%s %s %s\n' alice approver \
 *         "$(printf %s "$tok" | sha256sum | cut -d' ' -f1)" >> tokens
 *
 * hands $tok to alice (who sends "Authorization: Bearer $tok"), and
 * restarts orchestratord.
 *
 * What each role may do (auth_role_allows):
 *   submitter  POST /v1/payouts
 *   approver   POST /v1/payouts/{id}/approvals, /reject, /cancel
 *   viewer     every GET, /metrics included (not the admin-only ones)
 *   admin      everything; alone: /v1/webhooks/... (dead letters)
 * /healthz and /readyz need no token.
 */
#ifndef ORCH_AUTH_H
#define ORCH_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define AUTH_NAME_MAX 32
#define AUTH_MAX_ENTRIES 1024
#define AUTH_TOKEN_MAX 512	/* longer bearer tokens are refused unhashed */
#define AUTH_FILE_MAX (1024 * 1024)

enum auth_role {
	AUTH_ROLE_VIEWER = 1,
	AUTH_ROLE_SUBMITTER,
	AUTH_ROLE_APPROVER,
	AUTH_ROLE_ADMIN,
};

/* What an endpoint needs (api.c's route table names one per endpoint). */
enum auth_perm {
	AUTH_PERM_NONE = 0,	/* no token: /healthz, /readyz */
	AUTH_PERM_READ,		/* GETs and /metrics */
	AUTH_PERM_SUBMIT,	/* POST /v1/payouts */
	AUTH_PERM_APPROVE,	/* approvals, reject, cancel */
	AUTH_PERM_ADMIN,	/* webhook dead letters (admin role only) */
};

/* "viewer", ...; "?" for a value not in the enum. */
const char *auth_role_name(enum auth_role role);

/* 1 when role may do perm (the table above), else 0. */
int auth_role_allows(enum auth_role role, enum auth_perm perm);

/*
 * A token bucket: rate_per_second tokens flow in, at most burst are held,
 * one request takes one.  Integer arithmetic in thousandths of a token, so
 * tests can drive it with an injected clock (now_ms, any monotonic
 * milliseconds) and get exact answers.  A clock that steps back adds
 * nothing and takes nothing back.
 */
struct auth_bucket {
	int64_t milli;		/* tokens held, x1000 */
	int64_t last_ms;	/* when milli was last refilled */
	int rate;		/* tokens per second, >= 1 */
	int burst;		/* most tokens held, >= 1 */
	int started;		/* 0: full, clock not read yet */
};

/* A full bucket; rate and burst are clamped to 1..100000. */
void auth_bucket_init(struct auth_bucket *b, int rate_per_second, int burst);

/*
 * Takes one token at now_ms: returns 1, or 0 when the bucket is empty
 * with *retry_ms the wait until one token is there (>= 1).
 */
int auth_bucket_take(struct auth_bucket *b, int64_t now_ms, int64_t *retry_ms);

struct auth;

/*
 * Reads and checks the tokens file at path (see above) and gives every
 * entry a full bucket of rate_per_second / burst.  Returns 0 and *out, or
 * ERR_PERMISSION (not a regular file, a symbolic link, another owner, a
 * group or other bit), ERR_IO (cannot read it), ERR_TOO_LARGE (above
 * AUTH_FILE_MAX), ERR_MALFORMED (a bad line), ERR_NOMEM; err says why,
 * with "path:line: " for a bad line.  A file with no entry is fine (every
 * request then gets 401).
 */
int auth_load(struct auth **out, const char *path, int rate_per_second,
    int burst, char *err, size_t errlen) WARN_UNUSED;

/*
 * The parser behind auth_load, on len bytes of text; name is used in
 * messages ("name:line: reason").
 */
int auth_parse(struct auth **out, const char *text, size_t len,
    const char *name, int rate_per_second, int burst, char *err,
    size_t errlen) WARN_UNUSED;

/* NULL is a no-op. */
void auth_free(struct auth *a);

size_t auth_count(const struct auth *a);

/*
 * Finds the entry of a presented bearer token (len bytes): SHA-256 of it
 * compared with every entry's hash in constant time, never stopping at
 * the first match, so timing tells nothing about which entry or how much
 * of a hash matched.  Returns 0 and *idx, or ERR_NOT_FOUND (also for an
 * empty token or one above AUTH_TOKEN_MAX).
 */
int auth_lookup(const struct auth *a, const char *token, size_t len,
    size_t *idx) WARN_UNUSED;

/* Entry idx < auth_count(a): its name and role. */
const char *auth_name(const struct auth *a, size_t idx);
enum auth_role auth_role(const struct auth *a, size_t idx);

/*
 * Takes one request from entry idx's bucket at now_ms (monotonic ms).
 * Returns 1, or 0 with *retry_after_s (whole seconds, >= 1) for the
 * Retry-After header.  Thread-safe.
 */
int auth_rate_take(struct auth *a, size_t idx, int64_t now_ms,
    int *retry_after_s);

/*
 * Rate limits for requests without a valid token (/healthz, /readyz, a
 * 401, a 404), one bucket per client: the caller's key, e.g. its source
 * address bytes (at most AUTH_CLIENT_KEY_MAX).  Without it anyone could
 * probe tokens or flood the unauthenticated endpoints at line rate.  At
 * most AUTH_CLIENTS_MAX clients are remembered; beyond that the least
 * recently seen of a slot's set is forgotten (its next request starts
 * with a full bucket).  Thread-safe.
 */
#define AUTH_CLIENT_KEY_MAX 17	/* family byte + an IPv6 address */
#define AUTH_CLIENTS_MAX 1024

struct auth_clients;

/* Returns 0 and *out, or ERR_NOMEM.  rate and burst as auth_bucket_init. */
int auth_clients_new(struct auth_clients **out, int rate_per_second,
    int burst) WARN_UNUSED;

/* NULL is a no-op. */
void auth_clients_free(struct auth_clients *c);

/*
 * Takes one request from key's bucket at now_ms (monotonic ms): returns
 * 1, or 0 with *retry_after_s (whole seconds, >= 1).  A key longer than
 * AUTH_CLIENT_KEY_MAX is cut to it.
 */
int auth_clients_take(struct auth_clients *c, const uint8_t *key,
    size_t len, int64_t now_ms, int *retry_after_s);

#endif
