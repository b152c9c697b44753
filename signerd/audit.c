/*
 * audit.c: `signerctl audit verify` runs signerd's own verifier (replay.c)
 * over a whole journal, offline, with no HSM: the policy comes from the
 * journal's genesis record and the keys' addresses from the records, so
 * an auditor and a starting signerd reach the same verdict (invariant 8).
 */
#include "signerd/audit.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "signerd/setup.h"

int
sd_audit_verify(const char *dir, EVP_PKEY *audit_pub,
    struct jnl_verify_result *res)
{
	struct sd_ctx *sd;
	int r;

	if ((sd = calloc(1, sizeof(*sd))) == NULL)
		return ERR_NOMEM;
	sd->auditing = 1;
	sd->audit_pub = audit_pub;
	r = jnl_verify_replay(dir, audit_pub, sd_replay_record, sd, res);
	sd_state_free(sd->state);
	sd_approvers_free(sd->approvers);
	pol_free(sd->policy);
	free(sd);
	return r;
}
