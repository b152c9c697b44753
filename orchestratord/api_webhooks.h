/*
 * api_webhooks.h: the webhook dead-letter endpoints (D59), admin only:
 *
 *   GET  /v1/webhooks/{name}/dead?after=&first=   dead letters, by event id
 *   POST /v1/webhooks/{name}/replay               {"event_id": N} or
 *                                                 {"all": true}: pending
 *                                                 again, attempts from 0
 *
 * {name} must be a [webhook:NAME] of the config (else 404).
 */
#ifndef ORCH_API_WEBHOOKS_H
#define ORCH_API_WEBHOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "orchestratord/api.h"

void api_webhooks_dead(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep);
void api_webhooks_replay(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep);

/*
 * The replay body: exactly one of {"event_id": 1..2^53} and {"all":
 * true}, no other field.  Returns 0 with *event_id (0 for all), or
 * ERR_MALFORMED with the reason in why.
 */
int api_webhooks_replay_body(int64_t *event_id, char *why, size_t whylen,
    const uint8_t *body, size_t len) WARN_UNUSED;

#endif
