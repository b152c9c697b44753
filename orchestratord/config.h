/*
 * config.h: orchestratord's INI configuration (libinih), read once at
 * start-up and checked strictly: unknown sections or keys, duplicates,
 * bad values give "file:line: reason" and the daemon does not start.
 *
 *   [database] conninfo* (libpq keywords; no password: use PGPASSFILE),
 *              pool (HTTP connections, 1..64, 4)
 *   [signer]   socket* (ipc:///path), timeout_ms (100..600000, 10000)
 *   [evm]      rpc_url* (http://127.0.0.1:PORT or http://localhost:...),
 *              timeout_ms (100..600000, 5000), gas_margin_percent (0..500,
 *              20), bump_after_seconds (0 = never .. 86400, 120),
 *              max_bumps (0..20, 3), bump_percent (10..500, 25),
 *              poll_ms (50..60000, 500)
 *   [http]     listen (127.0.0.1:PORT, 127.0.0.1:8080), tokens* (0600 file,
 *              see auth.h), rate_per_second (1..100000, 50), rate_burst
 *              (1..100000, 100), max_body (256..1048576, 16384),
 *              threads (1..64, 4), max_connections_per_client (1..1024,
 *              32: open connections from one source address),
 *              header_timeout_ms (100..300000, 10000: a request's headers,
 *              or the next request on a kept-alive connection, must have
 *              arrived by then), body_timeout_ms (100..600000, 30000: its
 *              body, from the end of its headers), anon_rate_per_second
 *              (1..100000, 20) and anon_rate_burst (1..100000, 40): per
 *              source address, for requests without a valid token),
 *              approval_max_seconds (60..31536000, 604800: an approval's
 *              expiry at most this far ahead)
 *   [worker]   id (1..63 of [A-Za-z0-9._:-], hostname-pid), count (0..64,
 *              2), lease_ms (1000..3600000, 30000), poll_ms (10..60000,
 *              100), shutdown_seconds (1..300, 25)
 *   [process]  user (drop to this user after setup when started as root),
 *              log_level (debug, info, warn, error; info)
 *   [webhooks], [webhook:NAME]  push delivery of the outbox
 *              (webhook_config.h)
 * (* required.)
 */
#ifndef ORCH_CONFIG_H
#define ORCH_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "orchestratord/webhook_config.h"

#define ORCH_PATH_MAX 256
#define ORCH_WORKER_ID_MAX 63

struct orch_config {
	char conninfo[512];
	int db_pool;

	char signer_url[ORCH_PATH_MAX];
	int signer_timeout_ms;

	char rpc_url[ORCH_PATH_MAX];
	int rpc_timeout_ms;
	int gas_margin_percent;
	int bump_after_seconds;
	int max_bumps;
	int bump_percent;
	int evm_poll_ms;

	char http_host[64];	/* numeric loopback address */
	uint16_t http_port;	/* 0: pick a free port (tests) */
	char tokens_file[ORCH_PATH_MAX];
	int rate_per_second;
	int rate_burst;
	int max_body;
	int http_threads;
	int http_per_client;
	int header_timeout_ms;
	int body_timeout_ms;
	int anon_rate_per_second;
	int anon_rate_burst;
	int approval_max_seconds;

	char worker_id[ORCH_WORKER_ID_MAX + 1];
	int workers;
	int lease_ms;
	int worker_poll_ms;
	int shutdown_seconds;

	char user[64];		/* "" : do not drop */
	int log_level;		/* enum log_level */

	struct wh_config webhooks;	/* secrets inside: wh_config_wipe */
};

/*
 * Reads path into *cfg with defaults applied.  Returns 0, or ERR_MALFORMED
 * / ERR_IO / ERR_PERMISSION with "path:line: reason" in err.
 */
int orch_config_load(struct orch_config *cfg, const char *path, char *err,
    size_t errlen) WARN_UNUSED;

#endif
