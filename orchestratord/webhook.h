/*
 * webhook.h: push delivery of the outbox to the config's subscribers
 * (D59): threads that find new events, POST each one signed, retry with
 * backoff and move what keeps failing to the dead-letter list.
 *
 * Each POST carries the event as JSON ({"id", "event", "request_id",
 * "created_at", "payload"}, the shape of GET /v1/events) and
 *
 *   Orchestrator-Event-Id: 123          the outbox id (deduplicate by it)
 *   Orchestrator-Event: PayoutConfirmed
 *   Orchestrator-Attempt: 1
 *   Orchestrator-Timestamp: 1767225600  unix seconds when signed
 *   Orchestrator-Signature: sha256=HEX  HMAC-SHA256(secret, TIMESTAMP "."
 *                                       BODY), 64 lowercase hex
 *
 * Only a 2xx counts as delivered; redirects are not followed.
 */
#ifndef ORCH_WEBHOOK_H
#define ORCH_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

struct app;
struct webhooks;

#define WH_SIG_HEX 64

/*
 * The signature header's value without "sha256=": out receives 64
 * lowercase hex digits and a NUL.  timestamp is the decimal string sent
 * in Orchestrator-Timestamp.  Returns 0 or ERR_INTERNAL.
 */
int wh_sign(char out[WH_SIG_HEX + 1], const uint8_t *secret,
    size_t secret_len, const char *timestamp, const char *body,
    size_t body_len) WARN_UNUSED;

/*
 * Milliseconds to wait after the attempt-th failed attempt (1, 2, ...):
 * "full jitter", uniform in [0, min(max_ms, base_ms * 2^(attempt-1))],
 * picked by rnd (any 64 random bits).  Never overflows; attempt < 1 is
 * taken as 1.
 */
int wh_backoff_ms(int base_ms, int max_ms, int attempt, uint64_t rnd);

/*
 * Starts cfg->webhooks.workers threads when the config names at least one
 * subscriber (none otherwise: *out NULL, 0).  Each has its own PostgreSQL
 * connection and curl handle; the first also registers the subscribers
 * and fans new events out to them every poll_ms.  PostgreSQL down is
 * fine: they retry.  app must outlive them.  Returns 0, or ERR_NOMEM /
 * ERR_INTERNAL (nothing left running).
 */
int webhooks_start(struct webhooks **out, struct app *app) WARN_UNUSED;

/*
 * Stops them: a POST in flight is aborted and its delivery handed back
 * (it may still have arrived: receivers deduplicate by event id).  Waits
 * at most cfg->shutdown_seconds.  NULL is a no-op.
 */
void webhooks_stop(struct webhooks *w);

#endif
