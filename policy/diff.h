/* diff.h: classifies a policy change as tightening (applies at once) or loosening (waits). */
#ifndef POLICY_DIFF_H
#define POLICY_DIFF_H

/*
 * "Tighten now, loosen later" (docs/governance.md): a new policy version
 * that only tightens takes effect as soon as governance approves it; any
 * other change waits the governance delay, during which any one governance
 * approver can cancel it.  This is the one place that decides which is
 * which, so signerd, orchestratord and signerctl agree.  Pure: no I/O.
 */

#include "policy/policy.h"

enum pol_change_class {
	POL_CHANGE_NONE = 0,	/* no rule changed (policy_id is no rule) */
	POL_CHANGE_TIGHTEN = 1,	/* only ever refuses more */
	POL_CHANGE_LOOSEN = 2,	/* may allow something the old one refused */
};

#define POL_CHANGE_PATH_MAX 96
#define POL_CHANGE_VALUE_MAX 128

/* One changed field. */
struct pol_change {
	/*
	 * The JSON path as in parse errors: "assets.ETH.daily_limit",
	 * "approvers.bob", "governance.m", an approver set's member
	 * "governance.approvers[bob]", an allowlist entry
	 * "assets.TUSD.allowlist[0x70997970C51812dc3A010C7d01b50e0d17dc79C8]".
	 */
	char path[POL_CHANGE_PATH_MAX];
	/*
	 * Short printable renderings, "(none)" when absent; a longer one is
	 * cut and ends in "...".
	 */
	char old_value[POL_CHANGE_VALUE_MAX];
	char new_value[POL_CHANGE_VALUE_MAX];
	enum pol_change_class cls;	/* TIGHTEN or LOOSEN (policy_id: NONE) */
};

/*
 * Compares the policy in force (old) with a proposed one (new_).  Calls
 * fn(arg, change) (fn may be NULL) for every changed field in a stable
 * order: policy_id, top-level approvers by name, governance, the assets in
 * new_'s file order, then the assets only old has, in old's order.  The
 * change passed to fn lives only during the call.
 *
 * Returns the class of the whole change: POL_CHANGE_LOOSEN if any field
 * loosens, else POL_CHANGE_TIGHTEN if any field tightens, else
 * POL_CHANGE_NONE (identical rules; policy_id and the genesis "paused"
 * flag do not count).  A field whose direction is unclear loosens.
 */
enum pol_change_class pol_diff(const struct pol_policy *old,
    const struct pol_policy *new_,
    void (*fn)(void *arg, const struct pol_change *c), void *arg);

/* "none", "tighten", "loosen"; "?" for a value not in the enum. */
const char *pol_change_class_name(enum pol_change_class c);

#endif
