/*
 * webhook_config.h: the webhook sections of orchestratord's config (D59).
 *
 *   [webhooks]       max_attempts (1..100, 8), backoff_base_ms (10..3600000,
 *                    1000), backoff_max_ms (10..86400000, 600000; at least
 *                    the base), timeout_ms (100..60000, 10000: one POST,
 *                    connect included), workers (1..16, 1), poll_ms
 *                    (50..60000, 500: how often new events are looked for)
 *   [webhook:NAME]   url* (http:// or https://, a host, no user:password@,
 *                    at most 512 bytes), secret_file* (absolute path; same
 *                    checks as the tokens file: a regular file, not a
 *                    symbolic link, owned by the user reading it, no group
 *                    or other bits; one line of 16..256 bytes of printable
 *                    ASCII without spaces), events (comma-separated outbox
 *                    event names; default: every event)
 * NAME is 1..32 of [a-z0-9_-]; at most WH_SUBS_MAX subscribers.  The
 * secrets are read at load, kept in memory, and wiped by wh_config_wipe.
 */
#ifndef ORCH_WEBHOOK_CONFIG_H
#define ORCH_WEBHOOK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define WH_SUBS_MAX 16
#define WH_NAME_MAX 32
#define WH_URL_MAX 512
#define WH_FILE_MAX 256
#define WH_EVENTS_MAX 16
#define WH_EVENT_MAX 32
#define WH_SECRET_MIN 16
#define WH_SECRET_MAX 256

struct wh_subscriber {
	char name[WH_NAME_MAX + 1];
	char url[WH_URL_MAX + 1];
	char secret_file[WH_FILE_MAX];
	uint8_t secret[WH_SECRET_MAX];
	size_t secret_len;
	char events[WH_EVENTS_MAX][WH_EVENT_MAX + 1];
	size_t nevents;			/* 0: every event */
	int line_url, line_secret, line_events;	/* 0: not given */
};

struct wh_config {
	int max_attempts;
	int backoff_base_ms;
	int backoff_max_ms;
	int timeout_ms;
	int workers;
	int poll_ms;
	int seen[6];			/* line of each [webhooks] key */
	struct wh_subscriber subs[WH_SUBS_MAX];
	size_t nsubs;
};

/*
 * One "key = value" of the config file at line.  Returns ERR_NOT_FOUND
 * when section is neither "webhooks" nor "webhook:NAME" (not ours: the
 * caller goes on), 0 when stored, or ERR_MALFORMED with the reason in why
 * (no file or line: the caller adds them).  Call wh_config_check once
 * after the last pair.
 */
int wh_config_pair(struct wh_config *wc, const char *section,
    const char *name, const char *value, int line, char *why, size_t whylen)
    WARN_UNUSED;

/*
 * After the file: applies the defaults, checks what needs every key
 * (each subscriber has url and secret_file; backoff_base_ms <=
 * backoff_max_ms) and reads each secret file.  Returns 0, or ERR_MALFORMED,
 * ERR_PERMISSION, ERR_IO, ERR_TOO_LARGE with "line N: reason" or
 * "secret file PATH: reason" in why; on failure every secret read so far
 * is wiped.
 */
int wh_config_check(struct wh_config *wc, char *why, size_t whylen)
    WARN_UNUSED;

/* Wipes the secrets (at exit; idempotent). */
void wh_config_wipe(struct wh_config *wc);

/*
 * The URL rule of url above: 0, or -1 with the reason in why.  Exposed
 * for the tests.
 */
int wh_url_check(const char *url, char *why, size_t whylen) WARN_UNUSED;

/* 1 when name is an event the outbox writes (docs/api.md), else 0. */
int wh_event_known(const char *name);

#endif
