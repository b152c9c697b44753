/* diff.c: field-by-field comparison of two policies, each change classed tighten or loosen. */
#include "policy/diff.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "policy/internal.h"

/*
 * Fail safe for fields added later: every field of the model must be
 * classified below.  A new field almost always changes these sizes, so the
 * build stops here until someone decides whether raising it tightens or
 * loosens (then updates the size).  A field that fits in padding slips
 * through: read this file when you add one.  LP64 only.
 */
#if defined(__LP64__)
_Static_assert(sizeof(struct pol_asset) == 648,
    "struct pol_asset changed: classify the new field in policy/diff.c");
_Static_assert(sizeof(struct pol_approver) == 64,
    "struct pol_approver changed: classify the new field in policy/diff.c");
_Static_assert(sizeof(struct pol_governance) == 280,
    "struct pol_governance changed: classify the new field in policy/diff.c");
#endif

#define NONE "(none)"
/* Room for a base path plus a suffix; report() cuts the result to fit. */
#define PATH_BUF (POL_CHANGE_PATH_MAX + 64)
#define SET_TEXT_MAX (POL_MAX_APPROVERS * (POL_APPROVER_NAME_MAX + 1) + 64)

struct dctx {
	void (*fn)(void *arg, const struct pol_change *c);
	void *arg;
	enum pol_change_class cls;	/* the largest class reported so far */
};

/* Copies printable ASCII of s into out, cut with "..." when too long. */
static void
copy_value(char out[POL_CHANGE_VALUE_MAX], const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < POL_CHANGE_VALUE_MAX - 1; i++) {
		unsigned char ch = (unsigned char)s[i];

		out[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	out[i] = '\0';
	if (s[i] != '\0')
		memcpy(out + POL_CHANGE_VALUE_MAX - 4, "...", 4);
}

static void report(struct dctx *d, enum pol_change_class cls,
    const char *old_value, const char *new_value, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Records one change at the path fmt names and hands it to the callback. */
static void
report(struct dctx *d, enum pol_change_class cls, const char *old_value,
    const char *new_value, const char *fmt, ...)
{
	struct pol_change c;
	va_list ap;
	int n;

	memset(&c, 0, sizeof(c));
	va_start(ap, fmt);
	n = vsnprintf(c.path, sizeof(c.path), fmt, ap);
	va_end(ap);
	/* Names are bounded, so this never happens; never pass a cut path silently. */
	if (n < 0 || (size_t)n >= sizeof(c.path))
		memcpy(c.path + sizeof(c.path) - 4, "...", 4);
	copy_value(c.old_value, old_value);
	copy_value(c.new_value, new_value);
	c.cls = cls;
	if (cls > d->cls)
		d->cls = cls;
	if (d->fn != NULL)
		d->fn(d->arg, &c);
}

/*
 * Which way a number moves the rules: a limit or threshold going up
 * loosens, an m, delay or confirmation count going up tightens, and a
 * number that names something (chain, decimals) loosens either way.
 */
enum up { UP_LOOSENS, UP_TIGHTENS, ANY_LOOSENS };

/* The class of a value that went up (cmp > 0) or down (cmp < 0). */
static enum pol_change_class
direction(int cmp, enum up up)
{
	if (up == ANY_LOOSENS)
		return POL_CHANGE_LOOSEN;
	if ((cmp > 0) == (up == UP_TIGHTENS))
		return POL_CHANGE_TIGHTEN;
	return POL_CHANGE_LOOSEN;
}

static void
diff_u256(struct dctx *d, const char *base, const char *field,
    const u256 *o, const u256 *n, enum up up)
{
	char os[U256_DEC_MAX], ns[U256_DEC_MAX];
	int cmp = u256_cmp(n, o);

	if (cmp == 0)
		return;
	u256_to_dec(os, sizeof(os), o);
	u256_to_dec(ns, sizeof(ns), n);
	report(d, direction(cmp, up), os, ns, "%s.%s", base, field);
}

static void
diff_u64(struct dctx *d, const char *base, const char *field, uint64_t o,
    uint64_t n, enum up up)
{
	char os[24], ns[24];

	if (o == n)
		return;
	snprintf(os, sizeof(os), "%" PRIu64, o);
	snprintf(ns, sizeof(ns), "%" PRIu64, n);
	report(d, direction(n > o ? 1 : -1, up), os, ns, "%s.%s",
	    base, field);
}

/* A field with no safe direction (chain, kind, key, ...): any change loosens. */
static void
diff_text(struct dctx *d, const char *base, const char *field, const char *o,
    const char *n)
{
	if (strcmp(o, n) != 0)
		report(d, POL_CHANGE_LOOSEN, o, n, "%s.%s", base, field);
}

/* "2 of alice,bob": an approver set as an operator reads it. */
static void
render_set(char out[SET_TEXT_MAX], const struct pol_policy *p, unsigned m,
    size_t n, const size_t *idx)
{
	size_t i, len;

	len = (size_t)snprintf(out, SET_TEXT_MAX, "%u of ", m);
	for (i = 0; i < n && len < SET_TEXT_MAX; i++)
		len += (size_t)snprintf(out + len, SET_TEXT_MAX - len, "%s%s",
		    i > 0 ? "," : "", pol_approver(p, idx[i])->name);
}

static int
set_has(const struct pol_policy *p, size_t n, const size_t *idx,
    const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(pol_approver(p, idx[i])->name, name) == 0)
			return 1;
	return 0;
}

/* Approver names of two policies, deduplicated and sorted. */
struct names {
	const char *v[2 * POL_MAX_APPROVERS];
	size_t n;
};

static void
names_add(struct names *u, const char *s)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (strcmp(u->v[i], s) == 0)
			return;
	if (u->n < ARRAY_LEN(u->v))
		u->v[u->n++] = s;
}

static int
cmp_name(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void
names_sort(struct names *u)
{
	qsort(u->v, u->n, sizeof(u->v[0]), cmp_name);
}

/*
 * Membership of an approver set, by name (indexes differ between two
 * files): "<path>[name]" for each name in one set only, by name.
 */
static void
diff_set(struct dctx *d, const char *path,
    const struct pol_policy *op, size_t on, const size_t *oidx,
    const struct pol_policy *np, size_t nn, const size_t *nidx,
    enum pol_change_class added, enum pol_change_class removed)
{
	struct names u;
	size_t i;
	int in_old, in_new;

	memset(&u, 0, sizeof(u));
	for (i = 0; i < on; i++)
		names_add(&u, pol_approver(op, oidx[i])->name);
	for (i = 0; i < nn; i++)
		names_add(&u, pol_approver(np, nidx[i])->name);
	names_sort(&u);
	for (i = 0; i < u.n; i++) {
		in_old = set_has(op, on, oidx, u.v[i]);
		in_new = set_has(np, nn, nidx, u.v[i]);
		if (in_old && !in_new)
			report(d, removed, "member", NONE, "%s[%s]", path,
			    u.v[i]);
		else if (!in_old && in_new)
			report(d, added, NONE, "member", "%s[%s]", path,
			    u.v[i]);
	}
}

static const char *
alg_name(enum pol_key_alg alg)
{
	return alg == POL_KEY_ED25519 ? "ed25519" : "p256";
}

/* "p256 SHA256:<hex of the DER key>": what `openssl pkey -pubin` hashes to. */
static void
render_key(char out[POL_CHANGE_VALUE_MAX], const struct pol_approver *a)
{
	uint8_t h[32];
	char hex[65];

	if (EVP_Digest(a->spki_der, a->spki_der_len, h, NULL, EVP_sha256(),
	    NULL) != 1) {
		snprintf(out, POL_CHANGE_VALUE_MAX, "%s key", alg_name(a->alg));
		return;
	}
	util_hex_encode(hex, h, sizeof(h));
	snprintf(out, POL_CHANGE_VALUE_MAX, "%s SHA256:%s", alg_name(a->alg),
	    hex);
}

static void
diff_approvers(struct dctx *d, const struct pol_policy *op,
    const struct pol_policy *np)
{
	const struct pol_approver *o, *n;
	char ov[POL_CHANGE_VALUE_MAX], nv[POL_CHANGE_VALUE_MAX];
	struct names u;
	size_t i, oi, ni;
	int ho, hn;

	memset(&u, 0, sizeof(u));
	for (i = 0; i < pol_approver_count(op); i++)
		names_add(&u, pol_approver(op, i)->name);
	for (i = 0; i < pol_approver_count(np); i++)
		names_add(&u, pol_approver(np, i)->name);
	names_sort(&u);
	for (i = 0; i < u.n; i++) {
		ho = pol_approver_by_name(op, u.v[i], &oi) == 0;
		hn = pol_approver_by_name(np, u.v[i], &ni) == 0;
		o = ho ? pol_approver(op, oi) : NULL;
		n = hn ? pol_approver(np, ni) : NULL;
		if (o != NULL)
			render_key(ov, o);
		if (n != NULL)
			render_key(nv, n);
		if (o != NULL && n == NULL) {
			/* One voter fewer can only make m harder to reach. */
			report(d, POL_CHANGE_TIGHTEN, ov, NONE, "approvers.%s",
			    u.v[i]);
		} else if (o == NULL && n != NULL) {
			report(d, POL_CHANGE_LOOSEN, NONE, nv, "approvers.%s",
			    u.v[i]);
		} else if (o->alg != n->alg ||
		    o->spki_der_len != n->spki_der_len ||
		    memcmp(o->spki_der, n->spki_der, o->spki_der_len) != 0) {
			/* Another key under a known name is a new voter. */
			report(d, POL_CHANGE_LOOSEN, ov, nv, "approvers.%s",
			    u.v[i]);
		} else if (strcmp(o->public_key_pem, n->public_key_pem) != 0) {
			/*
			 * Same key, other PEM text (line breaks, trailing
			 * space).  Harmless, but the model holds the text,
			 * and what is not classified loosens (fail safe).
			 */
			report(d, POL_CHANGE_LOOSEN, ov,
			    "same key, other PEM text",
			    "approvers.%s.public_key_pem", u.v[i]);
		}
	}
}

static void
render_governance(char out[SET_TEXT_MAX], const struct pol_policy *p,
    const struct pol_governance *g)
{
	size_t len;

	render_set(out, p, g->m, g->n, g->approvers);
	len = strlen(out);
	snprintf(out + len, SET_TEXT_MAX - len, ", delay %" PRIu32 " s",
	    g->delay);
}

/* Who governs is who approves the next change: any change of it loosens. */
static void
diff_governance(struct dctx *d, const struct pol_policy *op,
    const struct pol_policy *np)
{
	const struct pol_governance *o = pol_governance(op);
	const struct pol_governance *n = pol_governance(np);
	char ov[SET_TEXT_MAX], nv[SET_TEXT_MAX];

	if (o == NULL && n == NULL)
		return;
	if (o == NULL || n == NULL) {
		if (o != NULL)
			render_governance(ov, op, o);
		if (n != NULL)
			render_governance(nv, np, n);
		report(d, POL_CHANGE_LOOSEN, o != NULL ? ov : NONE,
		    n != NULL ? nv : NONE, "governance");
		return;
	}
	diff_set(d, "governance.approvers", op, o->n, o->approvers, np, n->n,
	    n->approvers, POL_CHANGE_LOOSEN, POL_CHANGE_LOOSEN);
	diff_u64(d, "governance", "m", o->m, n->m, UP_TIGHTENS);
	diff_u64(d, "governance", "delay", o->delay, n->delay, UP_TIGHTENS);
}

static void
render_approval(char out[SET_TEXT_MAX], const struct pol_policy *p,
    const struct pol_asset *a)
{
	char t[U256_DEC_MAX];
	size_t len;

	render_set(out, p, a->approval_m, a->approval_n, a->approval_approvers);
	u256_to_dec(t, sizeof(t), &a->approval_threshold);
	len = strlen(out);
	snprintf(out + len, SET_TEXT_MAX - len, " above %s", t);
}

static void
diff_approval(struct dctx *d, const char *base,
    const struct pol_policy *op, const struct pol_asset *o,
    const struct pol_policy *np, const struct pol_asset *n)
{
	char ov[SET_TEXT_MAX], nv[SET_TEXT_MAX], path[PATH_BUF];

	if (!o->has_approval && !n->has_approval)
		return;
	if (!o->has_approval || !n->has_approval) {
		if (o->has_approval)
			render_approval(ov, op, o);
		if (n->has_approval)
			render_approval(nv, np, n);
		report(d, n->has_approval ? POL_CHANGE_TIGHTEN :
		    POL_CHANGE_LOOSEN, o->has_approval ? ov : NONE,
		    n->has_approval ? nv : NONE, "%s.approval", base);
		return;
	}
	snprintf(path, sizeof(path), "%s.approval", base);
	diff_u256(d, path, "threshold", &o->approval_threshold,
	    &n->approval_threshold, UP_LOOSENS);
	diff_u64(d, path, "m", o->approval_m, n->approval_m, UP_TIGHTENS);
	snprintf(path, sizeof(path), "%s.approval.approvers", base);
	diff_set(d, path, op, o->approval_n, o->approval_approvers, np,
	    n->approval_n, n->approval_approvers, POL_CHANGE_LOOSEN,
	    POL_CHANGE_TIGHTEN);
}

static void
render_timelock(char out[POL_CHANGE_VALUE_MAX], const struct pol_asset *a)
{
	char t[U256_DEC_MAX];

	u256_to_dec(t, sizeof(t), &a->timelock_threshold);
	snprintf(out, POL_CHANGE_VALUE_MAX, "%" PRIu32 " s above %s",
	    a->timelock_delay, t);
}

static void
diff_timelock(struct dctx *d, const char *base, const struct pol_asset *o,
    const struct pol_asset *n)
{
	char ov[POL_CHANGE_VALUE_MAX], nv[POL_CHANGE_VALUE_MAX];
	char path[PATH_BUF];

	if (!o->has_timelock && !n->has_timelock)
		return;
	if (!o->has_timelock || !n->has_timelock) {
		if (o->has_timelock)
			render_timelock(ov, o);
		if (n->has_timelock)
			render_timelock(nv, n);
		report(d, n->has_timelock ? POL_CHANGE_TIGHTEN :
		    POL_CHANGE_LOOSEN, o->has_timelock ? ov : NONE,
		    n->has_timelock ? nv : NONE, "%s.timelock", base);
		return;
	}
	snprintf(path, sizeof(path), "%s.timelock", base);
	diff_u256(d, path, "threshold", &o->timelock_threshold,
	    &n->timelock_threshold, UP_LOOSENS);
	diff_u64(d, path, "delay_seconds", o->timelock_delay,
	    n->timelock_delay, UP_TIGHTENS);
}

static void
render_count(char out[POL_CHANGE_VALUE_MAX], const struct pol_asset *a)
{
	snprintf(out, POL_CHANGE_VALUE_MAX, "%zu address%s", a->allowlist_len,
	    a->allowlist_len == 1 ? "" : "es");
}

/* Both lists are sorted ascending (parse.c), so one merge walk finds both sides. */
static void
diff_allowlist(struct dctx *d, const char *base, const struct pol_asset *o,
    const struct pol_asset *n)
{
	char ov[POL_CHANGE_VALUE_MAX], nv[POL_CHANGE_VALUE_MAX];
	char addr[EVM_ADDR_STR];
	size_t i = 0, j = 0;
	int cmp;

	if (!o->has_allowlist && !n->has_allowlist)
		return;
	if (!o->has_allowlist || !n->has_allowlist) {
		if (o->has_allowlist)
			render_count(ov, o);
		if (n->has_allowlist)
			render_count(nv, n);
		report(d, n->has_allowlist ? POL_CHANGE_TIGHTEN :
		    POL_CHANGE_LOOSEN, o->has_allowlist ? ov : NONE,
		    n->has_allowlist ? nv : NONE, "%s.allowlist", base);
		return;
	}
	while (i < o->allowlist_len || j < n->allowlist_len) {
		if (i == o->allowlist_len)
			cmp = 1;
		else if (j == n->allowlist_len)
			cmp = -1;
		else
			cmp = memcmp(o->allowlist[i], n->allowlist[j],
			    EVM_ADDR_LEN);
		if (cmp == 0) {
			i++, j++;
		} else if (cmp < 0) {
			evm_addr_to_str(addr, o->allowlist[i++]);
			report(d, POL_CHANGE_TIGHTEN, "listed", NONE,
			    "%s.allowlist[%s]", base, addr);
		} else {
			evm_addr_to_str(addr, n->allowlist[j++]);
			report(d, POL_CHANGE_LOOSEN, NONE, "listed",
			    "%s.allowlist[%s]", base, addr);
		}
	}
}

static void
render_confirmations(char out[POL_CHANGE_VALUE_MAX], const struct pol_asset *a)
{
	if (a->finalized)
		snprintf(out, POL_CHANGE_VALUE_MAX, "finalized");
	else
		snprintf(out, POL_CHANGE_VALUE_MAX, "%" PRIu32,
		    a->confirmations);
}

/* Waiting for finalized counts as more than any number of blocks. */
static void
diff_confirmations(struct dctx *d, const char *base,
    const struct pol_asset *o, const struct pol_asset *n)
{
	char ov[POL_CHANGE_VALUE_MAX], nv[POL_CHANGE_VALUE_MAX];
	enum pol_change_class cls;

	if (o->finalized != n->finalized)
		cls = n->finalized ? POL_CHANGE_TIGHTEN : POL_CHANGE_LOOSEN;
	else if (o->confirmations != n->confirmations)
		cls = direction(n->confirmations > o->confirmations ? 1 : -1,
		    UP_TIGHTENS);
	else
		return;
	render_confirmations(ov, o);
	render_confirmations(nv, n);
	report(d, cls, ov, nv, "%s.confirmations", base);
}

static const char *
kind_name(enum pol_kind k)
{
	return k == POL_KIND_ERC20 ? "erc20" : "native";
}

static void
render_contract(char out[EVM_ADDR_STR], const struct pol_asset *a)
{
	if (a->kind == POL_KIND_ERC20)
		evm_addr_to_str(out, a->contract);
	else
		snprintf(out, EVM_ADDR_STR, "%s", NONE);
}

static void
diff_asset(struct dctx *d, const struct pol_policy *op,
    const struct pol_asset *o, const struct pol_policy *np,
    const struct pol_asset *n)
{
	char base[POL_CHANGE_PATH_MAX], oc[EVM_ADDR_STR], nc[EVM_ADDR_STR];

	snprintf(base, sizeof(base), "assets.%s", n->name);
	/* Where and what the asset is, and which key signs: no direction. */
	diff_u64(d, base, "chain_id", o->chain_id, n->chain_id, ANY_LOOSENS);
	diff_text(d, base, "kind", kind_name(o->kind), kind_name(n->kind));
	render_contract(oc, o);
	render_contract(nc, n);
	diff_text(d, base, "contract", oc, nc);
	diff_u64(d, base, "decimals", o->decimals, n->decimals, ANY_LOOSENS);
	diff_text(d, base, "key", o->key, n->key);

	diff_u256(d, base, "daily_limit", &o->daily_limit, &n->daily_limit,
	    UP_LOOSENS);
	diff_u256(d, base, "per_tx_limit", &o->per_tx_limit, &n->per_tx_limit,
	    UP_LOOSENS);
	diff_approval(d, base, op, o, np, n);
	diff_timelock(d, base, o, n);
	diff_allowlist(d, base, o, n);
	snprintf(base, sizeof(base), "assets.%s.fee_caps", n->name);
	diff_u256(d, base, "max_fee_per_gas", &o->max_fee_per_gas,
	    &n->max_fee_per_gas, UP_LOOSENS);
	diff_u256(d, base, "max_priority_fee_per_gas",
	    &o->max_priority_fee_per_gas, &n->max_priority_fee_per_gas, UP_LOOSENS);
	diff_u64(d, base, "gas_limit", o->gas_limit, n->gas_limit, UP_LOOSENS);
	snprintf(base, sizeof(base), "assets.%s", n->name);
	diff_confirmations(d, base, o, n);
}

/* "erc20 0x..., chain 1, key k": an added or removed asset. */
static void
render_asset(char out[POL_CHANGE_VALUE_MAX], const struct pol_asset *a)
{
	char c[EVM_ADDR_STR];

	if (a->kind == POL_KIND_ERC20) {
		evm_addr_to_str(c, a->contract);
		snprintf(out, POL_CHANGE_VALUE_MAX, "erc20 %s, chain %" PRIu64
		    ", key %s", c, a->chain_id, a->key);
	} else {
		snprintf(out, POL_CHANGE_VALUE_MAX, "native, chain %" PRIu64
		    ", key %s", a->chain_id, a->key);
	}
}

static void
diff_assets(struct dctx *d, const struct pol_policy *op,
    const struct pol_policy *np)
{
	const struct pol_asset *a;
	char v[POL_CHANGE_VALUE_MAX];
	size_t i, k;

	for (i = 0; i < pol_asset_count(np); i++) {
		a = pol_asset(np, i);
		if (pol_asset_by_name(op, a->name, &k) == 0) {
			diff_asset(d, op, pol_asset(op, k), np, a);
		} else {
			render_asset(v, a);
			report(d, POL_CHANGE_LOOSEN, NONE, v, "assets.%s",
			    a->name);
		}
	}
	for (i = 0; i < pol_asset_count(op); i++) {
		a = pol_asset(op, i);
		if (pol_asset_by_name(np, a->name, &k) == 0)
			continue;
		/* Nothing can be paid out of an asset that is gone. */
		render_asset(v, a);
		report(d, POL_CHANGE_TIGHTEN, v, NONE, "assets.%s", a->name);
	}
}

enum pol_change_class
pol_diff(const struct pol_policy *old, const struct pol_policy *new_,
    void (*fn)(void *arg, const struct pol_change *c), void *arg)
{
	struct dctx d;

	if (old == NULL || new_ == NULL)
		abort();	/* API misuse: a bug in the caller */
	memset(&d, 0, sizeof(d));
	d.fn = fn;
	d.arg = arg;
	d.cls = POL_CHANGE_NONE;
	/* A name, no rule: shown so a reviewer sees it, never a class. */
	if (strcmp(pol_policy_id(old), pol_policy_id(new_)) != 0)
		report(&d, POL_CHANGE_NONE, pol_policy_id(old),
		    pol_policy_id(new_), "policy_id");
	/*
	 * The genesis "paused" flag is where signerd starts, not a rule of a
	 * later version (pausing is signerd's state): not compared.
	 */
	diff_approvers(&d, old, new_);
	diff_governance(&d, old, new_);
	diff_assets(&d, old, new_);
	return d.cls;
}

const char *
pol_change_class_name(enum pol_change_class c)
{
	switch (c) {
	case POL_CHANGE_NONE:
		return "none";
	case POL_CHANGE_TIGHTEN:
		return "tighten";
	case POL_CHANGE_LOOSEN:
		return "loosen";
	}
	return "?";
}
