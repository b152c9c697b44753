/* internal.h: the policy struct, shared by the policy/ sources only (callers see it opaque). */
#ifndef POLICY_INTERNAL_H
#define POLICY_INTERNAL_H

#include "policy/policy.h"

struct pol_policy {
	uint8_t hash[32];
	char policy_id[POL_ID_MAX + 1];
	int paused;
	size_t n_approvers;
	struct pol_approver approvers[POL_MAX_APPROVERS];
	int has_governance;
	struct pol_governance governance;
	size_t n_assets;
	struct pol_asset assets[POL_MAX_ASSETS];
};

#endif
