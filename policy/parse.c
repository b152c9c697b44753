/* parse.c: genesis policy JSON to struct pol_policy, refusing anything ambiguous or unknown. */
#include "policy/internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/err.h"

#define PATH_LEN 192	/* longest path: assets.<16>.approval.approvers[NNNN] */
#define SHOWN_LEN 40	/* an untrusted name as shown in a message */
#define PEM_BEGIN "-----BEGIN PUBLIC KEY-----"

struct pctx {
	char *err;
	size_t errlen;
	struct pol_policy *p;
	/* Parsed approver keys, compared to catch one key under two names. */
	EVP_PKEY *keys[POL_MAX_APPROVERS];
};

/* Charsets of the names in the file; see docs/policy-format.md. */
enum charset { CS_ASSET, CS_APPROVER, CS_KEY, CS_POLICY_ID };

static int fail(struct pctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error as "path: message"; always ERR_MALFORMED. */
static int
fail(struct pctx *c, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->errlen == 0 || c->err[0] != '\0')
		return ERR_MALFORMED;
	n = snprintf(c->err, c->errlen, "%s: ",
	    path[0] != '\0' ? path : "top level");
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return ERR_MALFORMED;
}

/*
 * Copies a name from the file into out for a message: printable ASCII, at
 * most 32 characters, so a hostile key cannot forge log lines.
 */
static const char *
shown(char out[SHOWN_LEN], const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < 32; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[i] = ch >= 0x20 && ch < 0x7f && ch != '\'' ? (char)ch : '?';
	}
	if (s[i] != '\0')
		memcpy(out + i, "...", 4);
	else
		out[i] = '\0';
	return out;
}

/* Marks a path cut at PATH_LEN; names are bounded, so this never happens. */
static void
truncated(char out[PATH_LEN], int n)
{
	if (n < 0 || n >= PATH_LEN)
		memcpy(out + PATH_LEN - 4, "...", 4);
}

/* Paths read like jq's: "assets.ETH.approval.m"; the root is "". */
static void
subpath(char out[PATH_LEN], const char *path, const char *key)
{
	if (path[0] == '\0')
		truncated(out, snprintf(out, PATH_LEN, "%s", key));
	else
		truncated(out, snprintf(out, PATH_LEN, "%s.%s", path, key));
}

static void
subindex(char out[PATH_LEN], const char *path, size_t i)
{
	truncated(out, snprintf(out, PATH_LEN, "%s[%zu]", path, i));
}

static int
charset_ok(const char *s, enum charset cs)
{
	size_t i, max;
	const char *punct;
	int lower;

	switch (cs) {
	case CS_ASSET:
		max = POL_ASSET_NAME_MAX, punct = "", lower = 0;
		break;
	case CS_APPROVER:
		max = POL_APPROVER_NAME_MAX, punct = "_.-", lower = 1;
		break;
	case CS_KEY:
		max = POL_KEY_NAME_MAX, punct = "_.-", lower = 1;
		break;
	default:
		max = POL_ID_MAX, punct = "_.:-", lower = 1;
		break;
	}
	for (i = 0; s[i] != '\0'; i++) {
		char ch = s[i];

		if (i >= max)
			return 0;
		if (ch >= '0' && ch <= '9')
			continue;
		/* Approver names are lower case so "Alice" cannot pose as "alice". */
		if (ch >= 'A' && ch <= 'Z' && cs != CS_APPROVER)
			continue;
		if (ch >= 'a' && ch <= 'z' && lower)
			continue;
		if (strchr(punct, ch) == NULL)
			return 0;
	}
	return i > 0;
}

/* Rejects any member of obj not in allowed[]: a typo must not drop a rule. */
static int
check_fields(struct pctx *c, const char *path, json_t *obj,
    const char *const *allowed, size_t n)
{
	const char *key;
	json_t *v;
	char show[SHOWN_LEN];
	size_t i;

	json_object_foreach(obj, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (i == n)
			return fail(c, path, "unknown field '%s'", shown(show, key));
	}
	return 0;
}

/* Fetches a required member; *v is NULL on error. */
static int
need(struct pctx *c, const char *path, json_t *obj, const char *key,
    json_t **v)
{
	*v = json_object_get(obj, key);
	if (*v == NULL)
		return fail(c, path, "missing field '%s'", key);
	return 0;
}

static int
need_object(struct pctx *c, const char *path, json_t *v)
{
	return json_is_object(v) ? 0 : fail(c, path, "must be an object");
}

/* invariant 2 rests on exact amounts: decimal strings only (decision D4). */
static int
parse_amount(struct pctx *c, const char *path, json_t *v, u256 *out)
{
	int r;

	u256_from_u64(out, 0);
	if (!json_is_string(v))
		return fail(c, path,
		    "not a decimal amount (write it as a string of base units)");
	r = u256_from_dec(out, json_string_value(v));
	if (r == ERR_NONCANONICAL)
		return fail(c, path, "not a decimal amount (leading zero)");
	if (r == ERR_OVERFLOW)
		return fail(c, path, "amount exceeds 2^256-1");
	if (r != 0)
		return fail(c, path, "not a decimal amount");
	return 0;
}

static int
amount_field(struct pctx *c, const char *path, json_t *obj, const char *key,
    u256 *out)
{
	char sub[PATH_LEN];
	json_t *v;
	int r;

	u256_from_u64(out, 0);
	if ((r = need(c, path, obj, key, &v)) != 0)
		return r;
	subpath(sub, path, key);
	return parse_amount(c, sub, v, out);
}

static int
parse_uint(struct pctx *c, const char *path, json_t *v, uint64_t min,
    uint64_t max, uint64_t *out)
{
	json_int_t i;

	*out = 0;
	if (!json_is_integer(v))
		return fail(c, path, "must be an integer in %" PRIu64 "..%"
		    PRIu64, min, max);
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i < min || (uint64_t)i > max)
		return fail(c, path, "must be an integer in %" PRIu64 "..%"
		    PRIu64, min, max);
	*out = (uint64_t)i;
	return 0;
}

static int
uint_field(struct pctx *c, const char *path, json_t *obj, const char *key,
    uint64_t min, uint64_t max, uint64_t *out)
{
	char sub[PATH_LEN];
	json_t *v;
	int r;

	*out = 0;
	if ((r = need(c, path, obj, key, &v)) != 0)
		return r;
	subpath(sub, path, key);
	return parse_uint(c, sub, v, min, max, out);
}

static int
name_field(struct pctx *c, const char *path, json_t *obj, const char *key,
    enum charset cs, char *out, size_t cap)
{
	static const char *const want[] = {
		[CS_ASSET] = "1..16 of A-Z 0-9",
		[CS_APPROVER] = "1..32 of a-z 0-9 _ . -",
		[CS_KEY] = "1..64 of A-Z a-z 0-9 _ . -",
		[CS_POLICY_ID] = "1..64 of A-Z a-z 0-9 _ . : -",
	};
	char sub[PATH_LEN];
	const char *s;
	json_t *v;
	int r;

	out[0] = '\0';
	if ((r = need(c, path, obj, key, &v)) != 0)
		return r;
	subpath(sub, path, key);
	if (!json_is_string(v))
		return fail(c, sub, "must be a string (%s)", want[cs]);
	s = json_string_value(v);
	if (!charset_ok(s, cs) || strlen(s) >= cap)
		return fail(c, sub, "bad name (want %s)", want[cs]);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/*
 * Addresses in the policy must carry their EIP-55 checksum: a mistyped
 * recipient or contract would otherwise be a valid, unspendable address.
 */
static int
parse_addr(struct pctx *c, const char *path, json_t *v,
    uint8_t out[EVM_ADDR_LEN])
{
	static const uint8_t zero[EVM_ADDR_LEN];
	uint8_t tmp[EVM_ADDR_LEN];
	const char *s;
	int r;

	memset(out, 0, EVM_ADDR_LEN);
	if (!json_is_string(v))
		return fail(c, path, "must be a string \"0x\" + 40 hex digits");
	s = json_string_value(v);
	r = evm_addr_from_str(out, s, 0);
	if (r == ERR_BAD_CHECKSUM) {
		if (evm_addr_from_str(tmp, s, 1) == 0)
			return fail(c, path,
			    "missing EIP-55 checksum (write the mixed-case form)");
		return fail(c, path, "bad EIP-55 checksum");
	}
	if (r != 0)
		return fail(c, path, "not an address (want \"0x\" + 40 hex digits)");
	if (memcmp(out, zero, EVM_ADDR_LEN) == 0)
		return fail(c, path, "the zero address is not allowed");
	return 0;
}

/*
 * Checks that text is exactly one PEM public key (P-256 or Ed25519) and
 * fills the approver's algorithm and DER form.  *key receives the key.
 */
static int
parse_pem(struct pctx *c, const char *path, const char *pem, size_t len,
    struct pol_approver *a, EVP_PKEY **key)
{
	BIO *bio = NULL;
	EVP_PKEY *k = NULL;
	unsigned char *der = NULL, *data = NULL;
	const unsigned char *dp;
	char *name = NULL, *header = NULL, group[64], rest[64];
	uint8_t *copy = NULL;
	size_t glen;
	long dlen = 0;
	int derlen, n, i, r = ERR_MALFORMED;

	*key = NULL;
	if (len == 0 || len > POL_MAX_PEM) {
		r = fail(c, path, "must be 1..%d bytes", POL_MAX_PEM);
		goto out;
	}
	/* PEM readers skip text before BEGIN; we want nothing hidden there. */
	if (strncmp(pem, PEM_BEGIN, strlen(PEM_BEGIN)) != 0) {
		r = fail(c, path, "must start with \"" PEM_BEGIN "\"");
		goto out;
	}
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	/*
	 * The block, then d2i_PUBKEY on exactly its bytes.  Not
	 * PEM_read_bio_PUBKEY: it ignores bytes after the DER (one key, many
	 * spellings) and tries OpenSSL 3.0's decoders for every format and
	 * key type, half of what the policy fuzz harness spent.  Headers
	 * (encrypted PEM) never apply to a public key.
	 */
	if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1 ||
	    strcmp(name, "PUBLIC KEY") != 0 || header[0] != '\0') {
		r = fail(c, path, "not a PEM public key");
		goto out;
	}
	dp = data;
	if ((k = d2i_PUBKEY(NULL, &dp, dlen)) == NULL || dp != data + dlen) {
		r = fail(c, path, "not a PEM public key");
		goto out;
	}
	while ((n = BIO_read(bio, rest, sizeof(rest))) > 0) {
		for (i = 0; i < n; i++) {
			if (rest[i] != '\n' && rest[i] != '\r' &&
			    rest[i] != ' ' && rest[i] != '\t') {
				r = fail(c, path, "text after the PEM block");
				goto out;
			}
		}
	}
	if (EVP_PKEY_is_a(k, "ED25519")) {
		a->alg = POL_KEY_ED25519;
	} else if (EVP_PKEY_is_a(k, "EC") &&
	    EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &glen) == 1 &&
	    strcmp(group, "prime256v1") == 0) {
		a->alg = POL_KEY_P256;
	} else {
		r = fail(c, path, "must be a P-256 or Ed25519 public key");
		goto out;
	}
	if ((derlen = i2d_PUBKEY(k, &der)) <= 0 ||
	    (copy = malloc((size_t)derlen)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	memcpy(copy, der, (size_t)derlen);
	a->spki_der = copy;
	a->spki_der_len = (size_t)derlen;
	copy = NULL;
	*key = k;
	k = NULL;
	r = 0;
out:
	/* Leave nothing in OpenSSL's per-thread error queue for others. */
	ERR_clear_error();
	free(copy);
	OPENSSL_free(der);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	EVP_PKEY_free(k);
	BIO_free(bio);
	return r;
}

static int
parse_approver(struct pctx *c, const char *name, json_t *v)
{
	static const char *const fields[] = { "public_key_pem" };
	struct pol_policy *p = c->p;
	struct pol_approver *a = &p->approvers[p->n_approvers];
	char path[PATH_LEN], sub[PATH_LEN], show[SHOWN_LEN];
	json_t *pem;
	char *text;
	size_t i;
	int r;

	if (!charset_ok(name, CS_APPROVER))
		return fail(c, "approvers", "bad approver name '%s' (want 1..32 "
		    "of a-z 0-9 _ . -)", shown(show, name));
	subpath(path, "approvers", name);
	if ((r = need_object(c, path, v)) != 0 ||
	    (r = check_fields(c, path, v, fields, ARRAY_LEN(fields))) != 0 ||
	    (r = need(c, path, v, "public_key_pem", &pem)) != 0)
		return r;
	subpath(sub, path, "public_key_pem");
	if (!json_is_string(pem))
		return fail(c, sub, "must be a string");
	memcpy(a->name, name, strlen(name) + 1);
	if ((r = parse_pem(c, sub, json_string_value(pem),
	    json_string_length(pem), a, &c->keys[p->n_approvers])) != 0)
		return r;
	/* Counted now so pol_free releases the DER even if a check fails. */
	p->n_approvers++;
	if ((text = strdup(json_string_value(pem))) == NULL)
		return ERR_NOMEM;
	a->public_key_pem = text;
	/* One person, one vote: the same key under two names is two votes. */
	for (i = 0; i + 1 < p->n_approvers; i++)
		if (EVP_PKEY_eq(c->keys[i], c->keys[p->n_approvers - 1]) == 1)
			return fail(c, "approvers", "duplicate public key for "
			    "%s and %s", p->approvers[i].name, name);
	return 0;
}

static int
parse_approvers(struct pctx *c, json_t *obj)
{
	const char *name;
	json_t *v;
	int r;

	if (obj == NULL)
		return 0;
	if ((r = need_object(c, "approvers", obj)) != 0)
		return r;
	if (json_object_size(obj) > POL_MAX_APPROVERS)
		return fail(c, "approvers", "more than %d approvers",
		    POL_MAX_APPROVERS);
	json_object_foreach(obj, name, v) {
		if ((r = parse_approver(c, name, v)) != 0)
			return r;
	}
	return 0;
}

/*
 * An approver set: "m" and "approvers" (1..32 distinct known names), with
 * 1 <= m <= the number listed.  Used by asset approvals and governance.
 */
static int
parse_approver_set(struct pctx *c, const char *path, json_t *v,
    unsigned *m_out, size_t *n_out, size_t idx_out[POL_MAX_APPROVERS])
{
	char sub[PATH_LEN], item[PATH_LEN], show[SHOWN_LEN];
	json_t *list, *e, *m;
	size_t i, j, idx;
	json_int_t mv;
	int r;

	*m_out = 0;
	*n_out = 0;
	if ((r = need(c, path, v, "m", &m)) != 0 ||
	    (r = need(c, path, v, "approvers", &list)) != 0)
		return r;
	subpath(sub, path, "approvers");
	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > POL_MAX_APPROVERS)
		return fail(c, sub, "must be a list of 1..%d approver names",
		    POL_MAX_APPROVERS);
	json_array_foreach(list, i, e) {
		subindex(item, sub, i);
		if (!json_is_string(e))
			return fail(c, item, "must be an approver name");
		if (pol_approver_by_name(c->p, json_string_value(e), &idx) != 0)
			return fail(c, item, "unknown approver '%s'",
			    shown(show, json_string_value(e)));
		/* One person, one vote (invariant 4: M distinct approvers). */
		for (j = 0; j < i; j++)
			if (idx_out[j] == idx)
				return fail(c, item, "duplicate approver '%s'",
				    c->p->approvers[idx].name);
		idx_out[i] = idx;
		*n_out = i + 1;
	}
	subpath(sub, path, "m");
	if (!json_is_integer(m))
		return fail(c, sub, "must be an integer");
	mv = json_integer_value(m);
	if (mv < 1)
		return fail(c, sub, "must be at least 1");
	if ((uint64_t)mv > *n_out)
		return fail(c, sub, "%lld exceeds the %zu approvers",
		    (long long)mv, *n_out);
	*m_out = (unsigned)mv;
	return 0;
}

static int
parse_approval(struct pctx *c, const char *path, json_t *v,
    struct pol_asset *a)
{
	static const char *const fields[] = { "threshold", "m", "approvers" };
	int r;

	if ((r = need_object(c, path, v)) != 0 ||
	    (r = check_fields(c, path, v, fields, ARRAY_LEN(fields))) != 0 ||
	    (r = amount_field(c, path, v, "threshold",
	    &a->approval_threshold)) != 0 ||
	    (r = parse_approver_set(c, path, v, &a->approval_m,
	    &a->approval_n, a->approval_approvers)) != 0)
		return r;
	a->has_approval = 1;
	return 0;
}

/*
 * Any one approver may pause signerd (break-glass); only m of the
 * governance set may lift a pause.  So a policy that lists approvers must
 * say who governs, or a single approver could stop payouts for good.
 * The same set approves new policy versions; "delay" is how long one that
 * loosens waits (docs/governance.md).
 */
static int
parse_governance(struct pctx *c, json_t *v)
{
	static const char *const fields[] = { "m", "approvers", "delay" };
	struct pol_governance *g = &c->p->governance;
	json_t *d;
	uint64_t delay;
	int r;

	if (v == NULL) {
		if (c->p->n_approvers == 0)
			return 0;
		return fail(c, "governance", "missing (required when approvers "
		    "are listed: any approver can pause, governance unpauses)");
	}
	if ((r = need_object(c, "governance", v)) != 0 ||
	    (r = check_fields(c, "governance", v, fields,
	    ARRAY_LEN(fields))) != 0 ||
	    (r = parse_approver_set(c, "governance", v, &g->m, &g->n,
	    g->approvers)) != 0)
		return r;
	/* No default: how long a loosening waits is a decision, not ours. */
	if ((d = json_object_get(v, "delay")) == NULL)
		return fail(c, "governance.delay", "missing (seconds a loosening "
		    "policy change waits; docs/governance.md)");
	if ((r = parse_uint(c, "governance.delay", d, 1, POL_MAX_DELAY_SECONDS,
	    &delay)) != 0)
		return r;
	g->delay = (uint32_t)delay;
	c->p->has_governance = 1;
	return 0;
}

static int
parse_timelock(struct pctx *c, const char *path, json_t *v,
    struct pol_asset *a)
{
	static const char *const fields[] = { "threshold", "delay_seconds" };
	uint64_t delay;
	int r;

	if ((r = need_object(c, path, v)) != 0 ||
	    (r = check_fields(c, path, v, fields, ARRAY_LEN(fields))) != 0 ||
	    (r = amount_field(c, path, v, "threshold",
	    &a->timelock_threshold)) != 0 ||
	    (r = uint_field(c, path, v, "delay_seconds", 1,
	    POL_MAX_DELAY_SECONDS, &delay)) != 0)
		return r;
	a->timelock_delay = (uint32_t)delay;
	a->has_timelock = 1;
	return 0;
}

struct sorted_addr {
	uint8_t addr[EVM_ADDR_LEN];
	size_t index;
};

static int
cmp_sorted_addr(const void *x, const void *y)
{
	const struct sorted_addr *a = x, *b = y;
	int d = memcmp(a->addr, b->addr, EVM_ADDR_LEN);

	if (d != 0)
		return d;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* The allowlist is kept sorted so pol_recipient_allowed can bsearch it. */
static int
parse_allowlist(struct pctx *c, const char *path, json_t *v,
    struct pol_asset *a)
{
	struct sorted_addr *tmp = NULL;
	char item[PATH_LEN];
	json_t *e;
	size_t i, n;
	int r = ERR_MALFORMED;

	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > POL_MAX_ALLOWLIST) {
		r = fail(c, path, "must be a list of 1..%d addresses (omit it "
		    "to allow any recipient)", POL_MAX_ALLOWLIST);
		goto out;
	}
	n = json_array_size(v);
	if ((tmp = calloc(n, sizeof(*tmp))) == NULL ||
	    (a->allowlist = calloc(n, sizeof(*a->allowlist))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	json_array_foreach(v, i, e) {
		subindex(item, path, i);
		if ((r = parse_addr(c, item, e, tmp[i].addr)) != 0)
			goto out;
		tmp[i].index = i;
	}
	qsort(tmp, n, sizeof(*tmp), cmp_sorted_addr);
	for (i = 0; i < n; i++) {
		if (i > 0 && memcmp(tmp[i].addr, tmp[i - 1].addr,
		    EVM_ADDR_LEN) == 0) {
			subindex(item, path, tmp[i].index);
			r = fail(c, item, "duplicate of entry %zu",
			    tmp[i - 1].index);
			goto out;
		}
		memcpy(a->allowlist[i], tmp[i].addr, EVM_ADDR_LEN);
	}
	a->allowlist_len = n;
	a->has_allowlist = 1;
	r = 0;
out:
	free(tmp);
	return r;
}

static int
parse_fee_caps(struct pctx *c, const char *path, json_t *v,
    struct pol_asset *a)
{
	static const char *const fields[] = {
		"max_fee_per_gas", "max_priority_fee_per_gas", "gas_limit",
	};
	char sub[PATH_LEN];
	int r;

	if ((r = need_object(c, path, v)) != 0 ||
	    (r = check_fields(c, path, v, fields, ARRAY_LEN(fields))) != 0 ||
	    (r = amount_field(c, path, v, "max_fee_per_gas",
	    &a->max_fee_per_gas)) != 0 ||
	    (r = amount_field(c, path, v, "max_priority_fee_per_gas",
	    &a->max_priority_fee_per_gas)) != 0 ||
	    (r = uint_field(c, path, v, "gas_limit", POL_MIN_GAS_LIMIT,
	    POL_MAX_GAS_LIMIT, &a->gas_limit)) != 0)
		return r;
	subpath(sub, path, "max_fee_per_gas");
	if (u256_is_zero(&a->max_fee_per_gas))
		return fail(c, sub, "must be greater than zero");
	/* A valid EIP-1559 tx never has priority fee above max fee. */
	subpath(sub, path, "max_priority_fee_per_gas");
	if (u256_cmp(&a->max_priority_fee_per_gas, &a->max_fee_per_gas) > 0)
		return fail(c, sub, "exceeds max_fee_per_gas");
	return 0;
}

static int
parse_confirmations(struct pctx *c, const char *path, json_t *v,
    struct pol_asset *a)
{
	json_int_t i;

	if (json_is_string(v) && strcmp(json_string_value(v), "finalized") == 0) {
		a->finalized = 1;
		return 0;
	}
	if (json_is_integer(v)) {
		i = json_integer_value(v);
		if (i >= 1 && i <= POL_MAX_CONFIRMATIONS) {
			a->confirmations = (uint32_t)i;
			return 0;
		}
	}
	return fail(c, path, "must be an integer in 1..%d or \"finalized\"",
	    POL_MAX_CONFIRMATIONS);
}

static int
parse_asset(struct pctx *c, const char *name, json_t *v)
{
	static const char *const fields[] = {
		"chain_id", "kind", "contract", "decimals", "key",
		"daily_limit", "per_tx_limit", "approval", "timelock",
		"allowlist", "fee_caps", "confirmations",
	};
	struct pol_policy *p = c->p;
	struct pol_asset *a = &p->assets[p->n_assets];
	char path[PATH_LEN], sub[PATH_LEN], show[SHOWN_LEN];
	json_t *f;
	const char *kind;
	uint64_t u;
	int r;

	if (!charset_ok(name, CS_ASSET))
		return fail(c, "assets", "bad asset name '%s' (want 1..16 of "
		    "A-Z 0-9)", shown(show, name));
	memcpy(a->name, name, strlen(name) + 1);
	/* Counted now so pol_free releases the allowlist if a check fails. */
	p->n_assets++;
	subpath(path, "assets", name);
	if ((r = need_object(c, path, v)) != 0 ||
	    (r = check_fields(c, path, v, fields, ARRAY_LEN(fields))) != 0 ||
	    (r = uint_field(c, path, v, "chain_id", 1, INT64_MAX,
	    &a->chain_id)) != 0 ||
	    (r = need(c, path, v, "kind", &f)) != 0)
		return r;

	subpath(sub, path, "kind");
	kind = json_is_string(f) ? json_string_value(f) : "";
	if (strcmp(kind, "native") == 0)
		a->kind = POL_KIND_NATIVE;
	else if (strcmp(kind, "erc20") == 0)
		a->kind = POL_KIND_ERC20;
	else
		return fail(c, sub, "must be \"native\" or \"erc20\"");

	subpath(sub, path, "contract");
	f = json_object_get(v, "contract");
	if (a->kind == POL_KIND_NATIVE && f != NULL)
		return fail(c, sub, "only allowed with kind \"erc20\"");
	if (a->kind == POL_KIND_ERC20 &&
	    ((r = need(c, path, v, "contract", &f)) != 0 ||
	    (r = parse_addr(c, sub, f, a->contract)) != 0))
		return r;

	if ((r = uint_field(c, path, v, "decimals", 0, POL_MAX_DECIMALS,
	    &u)) != 0 ||
	    (r = name_field(c, path, v, "key", CS_KEY, a->key,
	    sizeof(a->key))) != 0 ||
	    (r = amount_field(c, path, v, "daily_limit",
	    &a->daily_limit)) != 0 ||
	    (r = amount_field(c, path, v, "per_tx_limit",
	    &a->per_tx_limit)) != 0)
		return r;
	a->decimals = (unsigned)u;
	subpath(sub, path, "daily_limit");
	if (u256_is_zero(&a->daily_limit))
		return fail(c, sub, "must be greater than zero");
	subpath(sub, path, "per_tx_limit");
	if (u256_is_zero(&a->per_tx_limit))
		return fail(c, sub, "must be greater than zero");
	if (u256_cmp(&a->per_tx_limit, &a->daily_limit) > 0)
		return fail(c, sub, "exceeds daily_limit");

	subpath(sub, path, "approval");
	if ((f = json_object_get(v, "approval")) != NULL &&
	    (r = parse_approval(c, sub, f, a)) != 0)
		return r;
	subpath(sub, path, "timelock");
	if ((f = json_object_get(v, "timelock")) != NULL &&
	    (r = parse_timelock(c, sub, f, a)) != 0)
		return r;
	subpath(sub, path, "allowlist");
	if ((f = json_object_get(v, "allowlist")) != NULL &&
	    (r = parse_allowlist(c, sub, f, a)) != 0)
		return r;
	if ((r = need(c, path, v, "fee_caps", &f)) != 0)
		return r;
	subpath(sub, path, "fee_caps");
	if ((r = parse_fee_caps(c, sub, f, a)) != 0 ||
	    (r = need(c, path, v, "confirmations", &f)) != 0)
		return r;
	subpath(sub, path, "confirmations");
	return parse_confirmations(c, sub, f, a);
}

/*
 * Checks across assets: intent derivation maps (chain, contract) to exactly
 * one asset, and no allowlist sends tokens into a token contract.
 */
static int
check_assets(struct pctx *c)
{
	const struct pol_policy *p = c->p;
	const struct pol_asset *a, *b;
	char path[PATH_LEN], item[PATH_LEN];
	size_t i, j, k;

	for (i = 0; i < p->n_assets; i++) {
		a = &p->assets[i];
		subpath(path, "assets", a->name);
		for (j = 0; j < i; j++) {
			b = &p->assets[j];
			if (a->chain_id != b->chain_id || a->kind != b->kind)
				continue;
			if (a->kind == POL_KIND_NATIVE)
				return fail(c, path, "a second native asset on "
				    "chain %" PRIu64 " (assets.%s)",
				    a->chain_id, b->name);
			if (memcmp(a->contract, b->contract, EVM_ADDR_LEN) == 0)
				return fail(c, path, "same chain_id and contract "
				    "as assets.%s", b->name);
		}
		for (k = 0; k < a->allowlist_len; k++) {
			for (j = 0; j < p->n_assets; j++) {
				b = &p->assets[j];
				if (b->kind != POL_KIND_ERC20 ||
				    memcmp(a->allowlist[k], b->contract,
				    EVM_ADDR_LEN) != 0)
					continue;
				subpath(item, path, "allowlist");
				return fail(c, item, "lists the token contract "
				    "of assets.%s", b->name);
			}
		}
	}
	return 0;
}

static int
parse_assets(struct pctx *c, json_t *obj)
{
	const char *name;
	json_t *v;
	int r;

	if ((r = need_object(c, "assets", obj)) != 0)
		return r;
	if (json_object_size(obj) == 0)
		return fail(c, "assets", "no assets");
	if (json_object_size(obj) > POL_MAX_ASSETS)
		return fail(c, "assets", "more than %d assets", POL_MAX_ASSETS);
	json_object_foreach(obj, name, v) {
		if ((r = parse_asset(c, name, v)) != 0)
			return r;
	}
	return check_assets(c);
}

static int
parse_root(struct pctx *c, json_t *root)
{
	static const char *const fields[] = {
		"policy_id", "paused", "approvers", "governance", "assets",
	};
	json_t *v;
	int r;

	if ((r = need_object(c, "", root)) != 0 ||
	    (r = check_fields(c, "", root, fields, ARRAY_LEN(fields))) != 0 ||
	    (r = name_field(c, "", root, "policy_id", CS_POLICY_ID,
	    c->p->policy_id, sizeof(c->p->policy_id))) != 0)
		return r;
	if ((v = json_object_get(root, "paused")) != NULL) {
		if (!json_is_boolean(v))
			return fail(c, "paused", "must be true or false");
		c->p->paused = json_is_true(v);
	}
	/* Approvers first: assets and governance refer to them by name. */
	if ((r = parse_approvers(c, json_object_get(root, "approvers"))) != 0 ||
	    (r = need(c, "", root, "assets", &v)) != 0 ||
	    (r = parse_assets(c, v)) != 0)
		return r;
	return parse_governance(c, json_object_get(root, "governance"));
}

int
pol_parse(struct pol_policy **out, const uint8_t *json, size_t len,
    char *err, size_t errlen)
{
	struct pctx c;
	json_error_t jerr;
	json_t *root = NULL;
	size_t i;
	int r = ERR_MALFORMED;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.err = err;
	c.errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	if (len > POL_MAX_FILE) {
		r = ERR_TOO_LARGE;
		fail(&c, "", "file larger than %d bytes", POL_MAX_FILE);
		goto out;
	}
	if ((c.p = calloc(1, sizeof(*c.p))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	/* Auditors recompute this with sha256sum over the same bytes. */
	if (EVP_Digest(json, len, c.p->hash, NULL, EVP_sha256(), NULL) != 1) {
		r = ERR_INTERNAL;
		goto out;
	}
	/* A duplicate key would let a reader and signerd see different rules. */
	root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		r = fail(&c, "json", "line %d column %d: %s", jerr.line,
		    jerr.column, jerr.text);
		goto out;
	}
	if ((r = parse_root(&c, root)) != 0)
		goto out;
	*out = c.p;
	c.p = NULL;
	r = 0;
out:
	if (r != 0)
		fail(&c, "", "%s", err_str(r));	/* no-op when a message is set */
	for (i = 0; i < POL_MAX_APPROVERS; i++)
		EVP_PKEY_free(c.keys[i]);
	ERR_clear_error();
	json_decref(root);
	pol_free(c.p);
	return r;
}
