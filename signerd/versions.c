/* versions.c: policy versions in force, the pending proposal, and their snapshot form. */
#include "signerd/versions.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "signerd/sha256.h"

struct sd_gov {
	_Atomic(struct sd_version *) current;
	struct sd_version *all;		/* every version made, newest first */
	struct sd_gov_pending *pending;	/* NULL when none */
	struct sd_gov_pending spare;	/* what sd_gov_drop took away */
	/* ids of every version ever in force, for "never reuse an id" */
	char (*ids)[POL_ID_MAX + 1];
	size_t nids;
	uint8_t (*cancelled)[32];
	size_t ncancelled;
};

void
sd_version_free(struct sd_version *v)
{
	if (v == NULL)
		return;
	pol_verifier_free(v->verifier);
	pol_free(v->policy);
	free(v->text);
	free(v);
}

int
sd_gov_new(struct sd_gov **out)
{
	struct sd_gov *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return ERR_NOMEM;
	if ((g->cancelled = calloc(SD_GOV_CANCELLED_MAX,
	    sizeof(*g->cancelled))) == NULL) {
		free(g);
		return ERR_NOMEM;
	}
	atomic_init(&g->current, NULL);
	*out = g;
	return 0;
}

void
sd_gov_free(struct sd_gov *g)
{
	struct sd_version *v, *next;

	if (g == NULL)
		return;
	for (v = g->all; v != NULL; v = next) {
		next = v->older;
		sd_version_free(v);
	}
	free(g->pending);
	free(g->ids);
	free(g->cancelled);
	free(g);
}

int
sd_version_parse(struct sd_version **out, const uint8_t *text, size_t len,
    char *err, size_t errlen)
{
	struct sd_version *v;
	char perr[200];
	int r;

	*out = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return ERR_NOMEM;
	if ((v->text = malloc(len + 1)) == NULL) {
		free(v);
		return ERR_NOMEM;
	}
	memcpy(v->text, text, len);
	v->text[len] = '\0';
	v->len = len;
	if ((r = pol_parse(&v->policy, text, len, perr, sizeof(perr))) != 0) {
		snprintf(err, errlen, "%s", perr);
		goto fail;
	}
	if ((r = pol_verifier_new(&v->verifier, v->policy, perr,
	    sizeof(perr))) != 0) {
		snprintf(err, errlen, "approver keys: %s", perr);
		goto fail;
	}
	util_hex_encode(v->hex, pol_hash(v->policy), 32);
	*out = v;
	return 0;
fail:
	sd_version_free(v);
	return r;
}

static int
add_id(struct sd_gov *g, const char *id)
{
	char (*ids)[POL_ID_MAX + 1];

	if (sd_gov_id_used(g, id))
		return 0;
	if ((ids = realloc(g->ids, (g->nids + 1) * sizeof(*ids))) == NULL)
		return ERR_NOMEM;
	g->ids = ids;
	snprintf(g->ids[g->nids++], sizeof(*ids), "%s", id);
	return 0;
}

/* Links v into the list of versions kept until exit. */
static void
keep(struct sd_gov *g, struct sd_version *v)
{
	v->older = g->all;
	g->all = v;
}

void
sd_gov_genesis(struct sd_gov *g, struct sd_version *v, int64_t since)
{
	v->number = 1;
	v->since = since;
	keep(g, v);
	/* Genesis ids are few and short: a failure here is out of memory
	 * at start-up, where the next allocation fails too. */
	(void)add_id(g, pol_policy_id(v->policy));
	atomic_store_explicit(&g->current, v, memory_order_release);
}

const struct sd_version *
sd_gov_current(const struct sd_gov *g)
{
	return atomic_load_explicit(&((struct sd_gov *)g)->current,
	    memory_order_acquire);
}

struct sd_gov_pending *
sd_gov_pending(struct sd_gov *g)
{
	return g->pending;
}

int
sd_gov_id_used(const struct sd_gov *g, const char *id)
{
	size_t i;

	for (i = 0; i < g->nids; i++)
		if (strcmp(g->ids[i], id) == 0)
			return 1;
	return 0;
}

int
sd_gov_was_cancelled(const struct sd_gov *g, const uint8_t hash[32])
{
	size_t i;

	for (i = 0; i < g->ncancelled; i++)
		if (memcmp(g->cancelled[i], hash, 32) == 0)
			return 1;
	return 0;
}

int
sd_gov_propose(struct sd_gov *g, struct sd_version *v,
    enum pol_change_class change, int64_t t)
{
	struct sd_gov_pending *p;

	if (g->pending != NULL)
		return ERR_EXISTS;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ERR_NOMEM;
	v->number = 0;
	keep(g, v);
	p->v = v;
	p->change = change;
	p->proposed_at = t;
	g->pending = p;
	return 0;
}

int
sd_gov_drop(struct sd_gov *g, int cancelled)
{
	if (g->pending == NULL)
		return ERR_NOT_FOUND;
	if (cancelled) {
		if (g->ncancelled >= SD_GOV_CANCELLED_MAX)
			return ERR_TOO_LARGE;
		memcpy(g->cancelled[g->ncancelled++],
		    pol_hash(g->pending->v->policy), 32);
	}
	g->spare = *g->pending;
	free(g->pending);
	g->pending = NULL;
	return 0;
}

void
sd_gov_undrop(struct sd_gov *g, const struct sd_gov_pending *saved,
    int cancelled)
{
	if (g->pending != NULL || (g->pending = malloc(sizeof(*g->pending))) ==
	    NULL)
		return;
	*g->pending = *saved;
	if (cancelled && g->ncancelled > 0)
		g->ncancelled--;
}

int
sd_gov_activate(struct sd_gov *g, int64_t t)
{
	const struct sd_version *cur = sd_gov_current(g);
	struct sd_version *v;
	int r;

	if (g->pending == NULL)
		return ERR_NOT_FOUND;
	v = g->pending->v;
	if ((r = add_id(g, pol_policy_id(v->policy))) != 0)
		return r;
	v->number = cur->number + 1;
	v->since = t;
	g->spare = *g->pending;
	free(g->pending);
	g->pending = NULL;
	g->ncancelled = 0;
	atomic_store_explicit(&g->current, v, memory_order_release);
	return 0;
}

void
sd_gov_unactivate(struct sd_gov *g, const struct sd_gov_pending *saved,
    size_t ncancelled_before)
{
	struct sd_version *v = saved->v, *old;

	/* The version before is the newest one with a number. */
	for (old = g->all; old != NULL; old = old->older)
		if (old != v && old->number == v->number - 1)
			break;
	if (old == NULL)
		return;
	atomic_store_explicit(&g->current, old, memory_order_release);
	v->number = 0;
	v->since = 0;
	/* Its id stays "used": harmless, and a failed write stops signerd. */
	g->ncancelled = ncancelled_before;
	sd_gov_undrop(g, saved, 0);
}

size_t
sd_gov_ncancelled(const struct sd_gov *g)
{
	return g->ncancelled;
}

int64_t
sd_gov_effective_at(const struct sd_gov *g)
{
	const struct pol_governance *gov;
	const struct sd_gov_pending *p = g->pending;

	if (p == NULL || p->approved_at == 0)
		return 0;
	if (p->change != POL_CHANGE_LOOSEN)
		return p->approved_at;
	gov = pol_governance(sd_gov_current(g)->policy);
	/*
	 * approved_at is the second the last approval fell in (the one
	 * clock counts whole seconds): one more makes the wait at least the
	 * whole delay from any moment of that second.
	 */
	return p->approved_at + (gov != NULL ? (int64_t)gov->delay : 0) + 1;
}

/* --- snapshot section -------------------------------------------------- */

#define GOV_MAGIC 0x474f5631u	/* "GOV1" */

int
sd_gov_serialize(const struct sd_gov *g, struct prt_writer *w)
{
	const struct sd_version *cur = sd_gov_current(g);
	const struct sd_gov_pending *p = g->pending;
	size_t i;

	(void)prt_put_u32(w, GOV_MAGIC);
	/* A state before its genesis (unit tests) has no version at all. */
	(void)prt_put_u8(w, cur != NULL);
	if (cur == NULL)
		return prt_writer_error(w);
	(void)prt_put_lv(w, cur->text, cur->len);
	(void)prt_put_u32(w, cur->number);
	(void)prt_put_u64(w, (uint64_t)cur->since);
	(void)prt_put_u32(w, (uint32_t)g->nids);
	for (i = 0; i < g->nids; i++)
		(void)prt_put_string(w, g->ids[i]);
	(void)prt_put_u32(w, (uint32_t)g->ncancelled);
	for (i = 0; i < g->ncancelled; i++)
		(void)prt_put_bytes(w, g->cancelled[i], 32);
	(void)prt_put_u8(w, p != NULL);
	if (p != NULL) {
		(void)prt_put_lv(w, p->v->text, p->v->len);
		(void)prt_put_u8(w, (uint8_t)p->change);
		(void)prt_put_u64(w, (uint64_t)p->proposed_at);
		(void)prt_put_u64(w, (uint64_t)p->approved_at);
		(void)prt_put_u32(w, (uint32_t)p->napproved);
		for (i = 0; i < p->napproved; i++) {
			(void)prt_put_string(w, p->approved[i]);
			(void)prt_put_u64(w, p->expiry[i]);
		}
	}
	return prt_writer_error(w);
}

int
sd_gov_deserialize(struct sd_gov *g, struct prt_reader *rd, char *err,
    size_t errlen)
{
	char id[POL_ID_MAX + 1];
	struct sd_version *cur = NULL, *pv = NULL;
	struct sd_gov_pending *p = NULL;
	const uint8_t *text;
	uint64_t since, at;
	uint32_t magic, number, n, i, k;
	uint8_t has, change, has_cur;
	size_t idx;
	size_t len;
	int r;

	snprintf(err, errlen, "malformed governance section");
	if ((r = prt_get_u32(rd, &magic)) != 0)
		return r;
	if (magic != GOV_MAGIC)
		return ERR_MALFORMED;
	if ((r = prt_get_u8(rd, &has_cur)) != 0)
		return r;
	if (has_cur > 1 || (has_cur == 0 && sd_gov_current(g) != NULL))
		return ERR_MALFORMED;
	if (has_cur == 0) {
		err[0] = '\0';
		return 0;
	}
	if ((r = prt_get_lv(rd, &text, &len, POL_MAX_FILE)) != 0 ||
	    (r = prt_get_u32(rd, &number)) != 0 ||
	    (r = prt_get_u64(rd, &since)) != 0)
		return r;
	if (number == 0 || since > INT64_MAX)
		return ERR_MALFORMED;
	if ((r = sd_version_parse(&cur, text, len, err, errlen)) != 0)
		return r;
	cur->number = number;
	cur->since = (int64_t)since;
	keep(g, cur);
	if ((r = prt_get_u32(rd, &n)) != 0)
		return r;
	if (n > prt_remaining(rd))
		return ERR_TOO_LARGE;
	for (i = 0; i < n; i++) {
		if ((r = prt_get_string(rd, id, sizeof(id))) != 0)
			return r;
		if (!pol_id_ok(id, POL_ID_MAX))
			return ERR_MALFORMED;
		if ((r = add_id(g, id)) != 0)
			return r;
	}
	if (!sd_gov_id_used(g, pol_policy_id(cur->policy)))
		return ERR_MALFORMED;
	if ((r = prt_get_u32(rd, &n)) != 0)
		return r;
	if (n > SD_GOV_CANCELLED_MAX)
		return ERR_TOO_LARGE;
	for (i = 0; i < n; i++)
		if ((r = prt_get_bytes(rd, g->cancelled[i], 32)) != 0)
			return r;
	g->ncancelled = n;
	if ((r = prt_get_u8(rd, &has)) != 0)
		return r;
	if (has > 1)
		return ERR_MALFORMED;
	if (has) {
		if ((r = prt_get_lv(rd, &text, &len, POL_MAX_FILE)) != 0)
			return r;
		if ((r = sd_version_parse(&pv, text, len, err, errlen)) != 0)
			return r;
		keep(g, pv);
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return ERR_NOMEM;
		p->v = pv;
		if ((r = prt_get_u8(rd, &change)) != 0 ||
		    (r = prt_get_u64(rd, &at)) != 0)
			goto fail;
		p->change = change;
		p->proposed_at = (int64_t)at;
		if ((r = prt_get_u64(rd, &at)) != 0 ||
		    (r = prt_get_u32(rd, &n)) != 0)
			goto fail;
		p->approved_at = (int64_t)at;
		r = ERR_MALFORMED;
		/* As strict as the live path that stored it: a class signerd
		 * writes, approvers of the version in force, each once. */
		if ((change != POL_CHANGE_TIGHTEN &&
		    change != POL_CHANGE_LOOSEN) || n > POL_MAX_APPROVERS ||
		    p->proposed_at < 0 || p->approved_at < 0 ||
		    (p->approved_at != 0 && p->approved_at < p->proposed_at))
			goto fail;
		for (i = 0; i < n; i++) {
			if ((r = prt_get_string(rd, p->approved[i],
			    sizeof(p->approved[i]))) != 0 ||
			    (r = prt_get_u64(rd, &p->expiry[i])) != 0)
				goto fail;
			r = ERR_MALFORMED;
			if (pol_approver_by_name(cur->policy, p->approved[i],
			    &idx) != 0)
				goto fail;
			for (k = 0; k < i; k++)
				if (strcmp(p->approved[k], p->approved[i]) == 0)
					goto fail;
		}
		p->napproved = n;
		g->pending = p;
	}
	atomic_store_explicit(&g->current, cur, memory_order_release);
	err[0] = '\0';
	return 0;
fail:
	free(p);
	return r != 0 ? r : ERR_MALFORMED;
}
