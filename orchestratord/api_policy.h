/*
 * api_policy.h: GET /v1/policy, signerd's policy version in force and the
 * change pending in governance, as signerd's GOV_STATUS says now:
 *
 *   {"policy_id", "policy_hash", "version", "since",
 *    "pending": null or {"policy_id", "policy_hash",
 *                        "change": "tighten" | "loosen", "proposed_at",
 *                        "approvals": [names], "needed",
 *                        "effective_at": null or time}}
 *
 * Hashes are SHA-256 of the policy file in lowercase hex; times are the
 * API's (RFC 3339, UTC, milliseconds).  503 UNAVAILABLE when signerd does
 * not answer.  docs/api.md.
 */
#ifndef ORCH_API_POLICY_H
#define ORCH_API_POLICY_H

#include "orchestratord/api.h"
#include "proto/msg.h"

/* The handler, in api.c's route table. */
void api_policy_get(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep);

/*
 * The reply body for st: a new reference, or NULL when out of memory.
 * No I/O.
 */
struct json_t *api_policy_json(const struct prt_gov_state *st);

#endif
