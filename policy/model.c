/* model.c: read-only accessors of a parsed policy, and pol_free. */
#include "policy/internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

void
pol_free(struct pol_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n_approvers; i++) {
		free((void *)p->approvers[i].public_key_pem);
		free((void *)p->approvers[i].spki_der);
	}
	for (i = 0; i < p->n_assets; i++)
		free(p->assets[i].allowlist);
	free(p);
}

const uint8_t *
pol_hash(const struct pol_policy *p)
{
	return p->hash;
}

const char *
pol_policy_id(const struct pol_policy *p)
{
	return p->policy_id;
}

int
pol_paused(const struct pol_policy *p)
{
	return p->paused;
}

const struct pol_governance *
pol_governance(const struct pol_policy *p)
{
	return p->has_governance ? &p->governance : NULL;
}

size_t
pol_asset_count(const struct pol_policy *p)
{
	return p->n_assets;
}

const struct pol_asset *
pol_asset(const struct pol_policy *p, size_t index)
{
	if (index >= p->n_assets)
		abort();	/* API misuse: a bug in the caller */
	return &p->assets[index];
}

int
pol_asset_by_name(const struct pol_policy *p, const char *name, size_t *index)
{
	size_t i;

	*index = SIZE_MAX;
	for (i = 0; i < p->n_assets; i++) {
		if (strcmp(p->assets[i].name, name) == 0) {
			*index = i;
			return 0;
		}
	}
	return ERR_NOT_FOUND;
}

size_t
pol_approver_count(const struct pol_policy *p)
{
	return p->n_approvers;
}

const struct pol_approver *
pol_approver(const struct pol_policy *p, size_t index)
{
	if (index >= p->n_approvers)
		abort();	/* API misuse: a bug in the caller */
	return &p->approvers[index];
}

int
pol_approver_by_name(const struct pol_policy *p, const char *name,
    size_t *index)
{
	size_t i;

	*index = SIZE_MAX;
	for (i = 0; i < p->n_approvers; i++) {
		if (strcmp(p->approvers[i].name, name) == 0) {
			*index = i;
			return 0;
		}
	}
	return ERR_NOT_FOUND;
}
