/*
 * main.c: signerd start-up and shutdown.  Order matters: everything that
 * needs privileges or the file system (config, policy, HSM login, keys,
 * journal replay, the listening socket) happens first; then privileges are
 * dropped and the seccomp filter goes on; only then are requests served.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/version.h"
#include "sandbox/sandbox.h"
#include "signerd/anchor.h"
#include "signerd/badpeer.h"
#include "signerd/config.h"
#include "signerd/health.h"
#include "signerd/policy_change.h"
#include "signerd/server.h"
#include "signerd/setup.h"
#include "signerd/signerd.h"

/* To stdout with status 0 when asked for (-h), else to stderr with 2. */
static void
usage(FILE *to, int status)
{
	fprintf(to, "usage: signerd -c FILE [-f] [-A]\n"
	    "       signerd -h | -V\n"
	    "  -c, --config FILE  configuration file (INI, signerd.conf(5))\n"
	    "  -f, --foreground   stay in the foreground (default: detach)\n"
	    "  -A, --reanchor     accept the journal as it is and re-anchor the\n"
	    "                     HSM to it (deliberate: a restore or a new\n"
	    "                     token; journaled)\n"
	    "  -h, --help         print this help\n"
	    "  -V, --version      print the version\n"
	    "Exit status: 0 stopped, 1 failed, 2 wrong command line, 65 the\n"
	    "journal does not verify, 69 the token is unusable, 74 the journal\n"
	    "cannot be written, 78 the configuration is invalid (signerd(8)).\n");
	exit(status);
}

/* Leaves with the status that tells the supervisor what failed (D63). */
static void
fatal(enum sd_exit status, const char *what)
{
	log_error("%s", what);
	fprintf(stderr, "signerd: %s\n", what);
	exit(status);
}

static int
journal_lifecycle(struct sd_ctx *sd, const char *type)
{
	json_t *o;
	int r = ERR_NOMEM;

	/* The window is journaled: the verifier judges each signed
	 * record's created day by the window in force (D55). */
	if ((o = sd_record_new(sd, type)) != NULL &&
	    json_object_set_new(o, "version", json_string(SD_VERSION)) == 0 &&
	    json_object_set_new(o, "pid", json_integer(getpid())) == 0 &&
	    (strcmp(type, "started") != 0 || json_object_set_new(o,
	    "retention_days", json_integer(sd->retention_days)) == 0))
		r = sd_journal_record(sd, o, NULL, NULL);
	json_decref(o);
	if (r != 0)
		log_error("could not journal %s: %s", type, err_str(r));
	return r;
}

static void
checkpoint(struct sd_ctx *sd)
{
	int r;

	if ((r = jnl_checkpoint(sd->journal, sd_audit_sign, sd)) != 0 ||
	    (r = sd_anchor_advance(sd)) != 0) {
		log_error("checkpoint failed: %s (%s)", err_str(r),
		    hsm_last_error());
		/* The health tick asks the token whether it still works. */
		atomic_store(&sd->hsm_failed, 1);
	}
	sd_metrics_checkpoint(sd, r);
}

/* Runs every privileged step; on return the process is ready to sandbox. */
static void
setup(struct sd_ctx *sd, const struct sd_config *cfg, struct sd_server **srv,
    int reanchor)
{
	char err[512];
	EVP_PKEY *audit_pub = NULL;
	const struct sd_version *v;
	size_t i;
	int r;

	if ((r = sd_setup_policy(sd, cfg->genesis, err, sizeof(err))) != 0)
		fatal(sd_exit_status_of(r, SD_EXIT_CONFIG), err);
	/* A module that will not load (dlopen) is the config's; one that
	 * loads but whose C_Initialize fails, or a token that is not there
	 * (yet), is the HSM's: restarted until it is back. */
	if ((r = hsm_open(&sd->hsm, cfg->module, cfg->token, cfg->sessions)) !=
	    0) {
		snprintf(err, sizeof(err), "HSM %s token %s: %s %s",
		    cfg->module, cfg->token, err_str(r), hsm_last_error());
		fatal(r == ERR_HSM_MODULE && hsm_last_rv() == 0 ?
		    SD_EXIT_CONFIG : sd_exit_status_of(r, SD_EXIT_HSM), err);
	}
	if ((r = hsm_login(sd->hsm, cfg->pin_file, NULL)) != 0) {
		snprintf(err, sizeof(err), "HSM login with PIN file %s: %s %s",
		    cfg->pin_file, err_str(r), hsm_last_error());
		fatal(sd_exit_status_of(r, SD_EXIT_HSM), err);
	}
	for (i = 0; i < cfg->nkeys; i++)
		if ((r = sd_setup_key(sd, cfg->keys[i].name, cfg->keys[i].uri,
		    err, sizeof(err))) != 0)
			fatal(sd_exit_status_of(r, SD_EXIT_CONFIG), err);
	if ((r = sd_setup_audit_key(sd, cfg->audit_key, &audit_pub, err,
	    sizeof(err))) != 0)
		fatal(sd_exit_status_of(r, SD_EXIT_CONFIG), err);
	if (sd_state_new(&sd->state, pol_paused(sd->genesis->policy)) != 0)
		fatal(SD_EXIT_FAILURE, "out of memory");
	/* The state keeps every version from here on (versions.h). */
	sd_gov_genesis(sd_state_gov(sd->state), sd->genesis, 0);
	sd->retention_days = cfg->retention_days;
	/* A journal that cannot be read or written is the disk's (74); one
	 * another process holds is nobody's fault (1); one that does not
	 * verify needs a person (65). */
	if ((r = sd_setup_journal(sd, cfg->journal_dir, cfg->segment_size,
	    audit_pub, reanchor, err, sizeof(err))) != 0)
		fatal(r == ERR_IO ? SD_EXIT_JOURNAL_IO : r == ERR_EXISTS ?
		    SD_EXIT_FAILURE : sd_exit_status_of(r, SD_EXIT_JOURNAL_BAD),
		    err);
	if (sd_setup_journal_owner(cfg->journal_dir, cfg->user, err,
	    sizeof(err)) != 0)
		fatal(SD_EXIT_JOURNAL_IO, err);
	/* The version in force (from the journal) names only keys we hold. */
	v = sd_version_now(sd);
	for (i = 0; i < pol_asset_count(v->policy); i++)
		if (sd_key_index(sd, pol_asset(v->policy, i)->key) < 0) {
			snprintf(err, sizeof(err), "policy %s asset %s uses key "
			    "'%s', which is not in [keys] of the config",
			    pol_policy_id(v->policy),
			    pol_asset(v->policy, i)->name,
			    pol_asset(v->policy, i)->key);
			fatal(SD_EXIT_CONFIG, err);
		}
	for (i = 0; i < cfg->nuids && i < SD_MAX_UIDS; i++)
		sd->allowed_uids[i] = cfg->uids[i];
	sd->nallowed = i;
	sd->snapshot_interval = cfg->snapshot_interval;
	if (sd_server_listen(srv, sd, cfg->listen, cfg->socket_mode,
	    cfg->socket_gid, cfg->max_message, cfg->workers, cfg->contexts) !=
	    0)
		fatal(SD_EXIT_FAILURE, "cannot listen; see the previous line");
}

int
main(int argc, char **argv)
{
	struct sd_config cfg;
	struct sd_ctx sd;
	struct sd_server *srv = NULL;
	struct timespec tick = { 1, 0 };
	const char *conf = NULL;
	char err[512];
	sigset_t sigs;
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "reanchor", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	time_t last_checkpoint;
	enum sd_exit status = SD_EXIT_STOPPED;
	int ch, foreground = 0, reanchor = 0, sig;

	while ((ch = getopt_long(argc, argv, "c:fAhV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'A':
			reanchor = 1;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		case 'V':
			printf("signerd %s\n", APP_VERSION);
			return 0;
		default:
			usage(stderr, SD_EXIT_USAGE);
		}
	}
	if (conf == NULL || optind != argc)
		usage(stderr, SD_EXIT_USAGE);
	log_init("signerd", LOG_LEVEL_INFO);
	if (sbx_harden_early() != 0)
		fatal(SD_EXIT_FAILURE, "early hardening failed");
	memset(&cfg, 0, sizeof(cfg));
	if (sd_config_load(&cfg, conf, err, sizeof(err)) != 0)
		fatal(SD_EXIT_CONFIG, err);
	/* Detach before any thread exists: fork() and threads do not mix. */
	if (!foreground && daemon(0, 1) != 0)
		fatal(SD_EXIT_FAILURE, "cannot detach");

	/* Every thread inherits this mask; the main thread takes the signals
	 * synchronously with sigtimedwait(). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&sd, 0, sizeof(sd));
	{
		pthread_rwlockattr_t attr;

		/* Writer preference: a snapshot must not starve under load. */
		pthread_rwlockattr_init(&attr);
		pthread_rwlockattr_setkind_np(&attr,
		    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&sd.commit_lock, &attr);
		pthread_rwlockattr_destroy(&attr);
	}
	pthread_mutex_init(&sd.order_mu, NULL);
	/* Writer preference (sd_gate): a pause must not starve under load. */
	sd_gate_init(&sd.reply_gate);
	setup(&sd, &cfg, &srv, reanchor);
	/* Ready only once the journal takes records and the HSM the anchor. */
	if (journal_lifecycle(&sd, "started") != 0)
		fatal(SD_EXIT_JOURNAL_IO, "the started record could not be "
		    "journaled");
	/* From its own started record on, the journal is at this window. */
	sd.replay_retention = sd.retention_days;

	if (sbx_drop_privileges(cfg.user) != 0)
		fatal(SD_EXIT_FAILURE, "dropping privileges failed");
	if (sbx_apply_seccomp() != 0)
		fatal(SD_EXIT_FAILURE, "installing the seccomp filter failed");
	/* As the user that keeps writing it: a root-owned anchor object
	 * would be invisible to signerd after the drop. */
	if (sd_anchor_advance(&sd) != 0)
		fatal(SD_EXIT_HSM, "the journal anchor could not be written "
		    "to the HSM");
	if (sd_server_start(srv) != 0)
		fatal(SD_EXIT_FAILURE, "cannot start workers");
	log_info("ready: policy %s (version %u), %zu keys, %zu workers, "
	    "journal %s", pol_policy_id(sd_version_now(&sd)->policy),
	    sd_version_now(&sd)->number, sd.nkeys, cfg.workers,
	    cfg.journal_dir);

	last_checkpoint = sd.hsm_probed = time(NULL);
	for (;;) {
		sig = sigtimedwait(&sigs, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig < 0 && errno != EAGAIN && errno != EINTR)
			fatal(SD_EXIT_FAILURE, "sigtimedwait failed");
		/* A broken journal or token is mended by a restart only. */
		if ((status = sd_health_tick(&sd, time(NULL))) !=
		    SD_EXIT_STOPPED)
			break;
		if (cfg.checkpoint_interval > 0 &&
		    time(NULL) - last_checkpoint >=
		    (time_t)cfg.checkpoint_interval) {
			checkpoint(&sd);
			last_checkpoint = time(NULL);
		}
		sd_maybe_snapshot(&sd, 0);
		sd_prune_tick(&sd);
		sd_badpeer_tick(&sd);
		/* A loosening takes effect once its delay is over (D51);
		 * a failure is logged, and signerd fails closed. */
		if (sd_policy_activate_due(&sd) != 0)
			log_error("the due policy version was not activated");
	}

	log_info("stopping: finishing in-flight requests");
	sd_server_stop(srv);
	/* A journal that failed a write takes nothing more (jnl_append);
	 * a token that stopped answering cannot sign a checkpoint. */
	if (status != SD_EXIT_JOURNAL_IO) {
		sd_badpeer_finish(&sd);
		(void)journal_lifecycle(&sd, "stopped");
		if (status != SD_EXIT_HSM)
			checkpoint(&sd);
		sd_maybe_snapshot(&sd, 1);
	}
	jnl_close(sd.journal);
	hsm_close(sd.hsm);
	sd_state_free(sd.state);
	EVP_PKEY_free(sd.audit_pub);
	sd_config_free(&cfg);
	if (status != SD_EXIT_STOPPED)
		log_error("stopped with status %d for the supervisor to "
		    "restart signerd (D63)", (int)status);
	else
		log_info("stopped");
	return (int)status;
}
