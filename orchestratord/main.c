/*
 * main.c: orchestratord, the payout state machine.  `migrate` applies the
 * schema; `serve` runs the HTTP API, the signing workers and the tracker
 * until SIGTERM.  It holds no keys: signerd decides every signature.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/err.h"
#include "common/log.h"
#include "common/version.h"
#include "orchestratord/app.h"
#include "orchestratord/auth.h"
#include "orchestratord/config.h"
#include "orchestratord/db.h"
#include "orchestratord/http.h"
#include "orchestratord/metrics.h"
#include "orchestratord/migrate.h"
#include "orchestratord/ready.h"
#include "orchestratord/signer.h"
#include "orchestratord/store.h"
#include "orchestratord/tracker.h"
#include "orchestratord/webhook.h"
#include "orchestratord/worker.h"
#include "sandbox/sandbox.h"

/* To stdout when asked for (-h, --help), else to stderr. */
static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: orchestratord migrate -c FILE   apply the SQL schema\n"
	    "       orchestratord serve -c FILE     run the API and workers\n"
	    "       orchestratord -h | --help       print this help\n"
	    "       orchestratord -V | --version    print the version\n"
	    "  -c FILE  configuration file (INI, orchestratord.conf(5))\n"
	    "Exit status: 0 done or stopped, 1 failed, 2 wrong command line "
	    "or\nconfiguration (orchestratord(8)).\n");
}

static int
is_arg(const char *arg, const char *short_opt, const char *long_opt)
{
	return strcmp(arg, short_opt) == 0 || strcmp(arg, long_opt) == 0;
}

/*
 * Sleeps ms unless SIGTERM or SIGINT arrives (1 then).  SIGHUP is taken
 * too, and only logged: there is nothing to reload (the policy follows
 * signerd by itself, D54; the config is read at start-up), and a HUP
 * that stopped the daemon with status 0 would leave it down under
 * systemd's Restart=on-failure.
 */
static int
wait_or_signal(const sigset_t *set, int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	int sig = sigtimedwait(set, NULL, &ts);

	if (sig == SIGHUP)
		log_info("SIGHUP ignored: the configuration is read at "
		    "start-up; restart orchestratord to change it");
	return sig == SIGTERM || sig == SIGINT;
}

/*
 * PostgreSQL or signerd may come up after us (or be restarting): retry
 * with a doubling delay up to 5 s until they answer or we are told to
 * stop.
 */
static int
backoff(const sigset_t *set, int *delay_ms)
{
	if (wait_or_signal(set, *delay_ms))
		return 1;
	*delay_ms = *delay_ms * 2 > 5000 ? 5000 : *delay_ms * 2;
	return 0;
}

static int
cmd_migrate(const struct orch_config *cfg)
{
	struct db *d = NULL;
	char err[512];
	int r;

	if ((r = db_open(&d, cfg->conninfo, NULL, 0)) != 0) {
		fprintf(stderr, "orchestratord migrate: %s\n", db_last_error());
		db_close(d);
		return 1;
	}
	r = orch_migrate(d, err, sizeof(err));
	db_close(d);
	if (r != 0) {
		fprintf(stderr, "orchestratord migrate: %s\n", err);
		return 1;
	}
	return 0;
}

static int
cmd_serve(struct orch_config *cfg)
{
	struct app app;
	struct http_server *http = NULL;
	struct workers *workers = NULL;
	struct tracker *tracker = NULL;
	struct webhooks *webhooks = NULL;
	struct db *d = NULL;
	sigset_t stop;
	char err[512];
	int delay, r, rc = 1;

	memset(&app, 0, sizeof(app));
	app.cfg = cfg;
	atomic_init(&app.stopping, 0);
	/*
	 * Every thread inherits this mask; only this one takes the stop
	 * signals, with sigtimedwait, so no handler runs inside a library.
	 */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	/*
	 * A lease shorter than one signer call plus one node call is taken
	 * over while its worker still waits: safe (epochs fence the stale
	 * worker, and the retry sends the same bytes) but wasteful.
	 */
	if (cfg->lease_ms <= cfg->signer_timeout_ms + cfg->rpc_timeout_ms)
		log_warn("worker lease_ms %d is not above signer timeout_ms + "
		    "evm timeout_ms (%d): a slow call's payout may be taken "
		    "over while it waits", cfg->lease_ms,
		    cfg->signer_timeout_ms + cfg->rpc_timeout_ms);
	if ((r = auth_load(&app.auth, cfg->tokens_file, cfg->rate_per_second,
	    cfg->rate_burst, err, sizeof(err))) != 0) {
		log_error("tokens: %s", err);
		goto out;
	}
	if ((r = metrics_new(&app.metrics)) != 0)
		goto out;

	/* The schema must be migrated by `orchestratord migrate` first. */
	for (delay = 100;;) {
		if (db_open(&d, cfg->conninfo, NULL, 0) == 0) {
			r = orch_schema_current(d, err, sizeof(err));
			if (r == 0)
				break;
			if (r != ERR_IO) {
				log_error("%s", err);
				goto out;
			}
		}
		log_warn("PostgreSQL: %s; retrying", db_last_error());
		db_close(d);
		d = NULL;
		if (backoff(&stop, &delay))
			goto stopped;
	}
	db_close(d);
	d = NULL;
	if ((r = db_pool_open(&app.pool, cfg->conninfo, store_stmts,
	    store_nstmts, (size_t)cfg->db_pool)) != 0) {
		log_error("database pool: %s", err_str(r));
		goto out;
	}
	for (delay = 100;;) {
		r = signer_open(&app.signer, cfg->signer_url,
		    cfg->signer_timeout_ms);
		if (r == 0)
			break;
		if (r != ERR_IO) {
			log_error("signerd: %s", err_str(r));
			goto out;
		}
		if (backoff(&stop, &delay))
			goto stopped;
	}

	/* Everything that needs root is open: become the daemon's user. */
	if (cfg->user[0] != '\0' && geteuid() == 0 &&
	    (r = sbx_drop_privileges(cfg->user)) != 0) {
		log_error("cannot become user %s: %s", cfg->user, err_str(r));
		goto out;
	}

	/* Before the API: /readyz answers from what the poller found. */
	if ((r = ready_start(&app.ready, cfg, app.signer)) != 0) {
		log_error("readiness poller: %s", err_str(r));
		goto out;
	}
	if ((r = http_start(&http, &app)) != 0) {
		log_error("http on %s:%u: %s", cfg->http_host, cfg->http_port,
		    err_str(r));
		goto out;
	}
	if ((r = workers_start(&workers, &app)) != 0 ||
	    (r = tracker_start(&tracker, &app)) != 0) {
		log_error("workers: %s", err_str(r));
		goto out;
	}
	if ((r = webhooks_start(&webhooks, &app)) != 0) {
		log_error("webhook workers: %s", err_str(r));
		goto out;
	}
	log_info("ready http=%s:%u worker=%s workers=%d", cfg->http_host,
	    http_port(http), cfg->worker_id, cfg->workers);

	while (!wait_or_signal(&stop, 1000))
		;
stopped:
	log_info("stopping: no new intake; finishing or releasing in-flight "
	    "payouts (at most %d s)", cfg->shutdown_seconds);
	rc = 0;
out:
	atomic_store(&app.stopping, 1);
	/* Intake first, then the workers finish or release what they hold. */
	http_stop(http);
	ready_stop(app.ready);
	workers_stop(workers);
	tracker_stop(tracker);
	webhooks_stop(webhooks);
	signer_close(app.signer);
	db_pool_close(app.pool);
	db_close(d);
	auth_free(app.auth);
	metrics_free(app.metrics);
	if (rc == 0)
		log_info("stopped");
	return rc;
}

int
main(int argc, char **argv)
{
	struct orch_config cfg;
	const char *cmd, *path = NULL;
	char err[512];
	int c, rc;

	log_init("orchestratord", LOG_LEVEL_INFO);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (argc == 2 && is_arg(argv[1], "-h", "--help")) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && is_arg(argv[1], "-V", "--version")) {
		printf("orchestratord %s\n", APP_VERSION);
		return 0;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "c:h")) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL || optind != argc ||
	    (strcmp(cmd, "migrate") != 0 && strcmp(cmd, "serve") != 0)) {
		usage(stderr);
		return 2;
	}
	if (orch_config_load(&cfg, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "orchestratord: %s\n", err);
		return 2;
	}
	log_init("orchestratord", (enum log_level)cfg.log_level);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "orchestratord: curl_global_init failed\n");
		return 1;
	}
	rc = strcmp(cmd, "migrate") == 0 ? cmd_migrate(&cfg) : cmd_serve(&cfg);
	wh_config_wipe(&cfg.webhooks);
	curl_global_cleanup();
	return rc;
}
