/*
 * health.h: when signerd must leave so that its supervisor restarts it
 * (D63).  signerd fails closed on a broken journal or token, but it cannot
 * mend either in place: a journal handle that failed a write never trusts
 * itself again (durability is never assumed), and the user PIN was wiped
 * after login, so only a new process can log in again.  So it leaves with
 * a status that names the failure, and systemd restarts it with a delay
 * until the disk or the token is back.
 */
#ifndef SIGNERD_HEALTH_H
#define SIGNERD_HEALTH_H

#include <stddef.h>
#include <time.h>

#include "signerd/signerd.h"

/* signerd's exit statuses (signerd(8) EXIT STATUS; sysexits.h values). */
enum sd_exit {
	SD_EXIT_STOPPED = 0,	/* SIGTERM or SIGINT */
	SD_EXIT_FAILURE = 1,	/* anything not below: restarted */
	SD_EXIT_USAGE = 2,	/* wrong command line: not restarted */
	SD_EXIT_JOURNAL_BAD = 65,	/* does not verify: a person looks */
	SD_EXIT_HSM = 69,	/* the token is unusable: restarted */
	SD_EXIT_JOURNAL_IO = 74,	/* cannot be written: restarted */
	SD_EXIT_CONFIG = 78,	/* config, policy or key invalid */
};

/* How often a running signerd asks the token whether it still works. */
#define SD_HSM_PROBE_SECONDS 5

/*
 * Whether the token can sign now: a pooled session answers, the token is
 * the one opened, and every payout key's handle still works.  On failure
 * writes a sentence to why.  Returns 0 or the hsm/ error.
 */
int sd_hsm_usable(struct sd_ctx *sd, char *why, size_t cap);

/*
 * The exit status for an error of a start-up step whose own failures
 * mean dflt: a token that cannot be reached is SD_EXIT_HSM whatever the
 * step; a wrong PIN, URI or key is SD_EXIT_CONFIG (restarting would only
 * spend the token's PIN tries); out of memory is SD_EXIT_FAILURE.
 */
enum sd_exit sd_exit_status_of(int err, enum sd_exit dflt);

/*
 * Called by the main thread once a second.  Returns SD_EXIT_STOPPED (0)
 * while signerd can go on, or the status to leave with: SD_EXIT_JOURNAL_IO
 * once an append failed, SD_EXIT_HSM once the token stopped answering
 * (probed after a failed HSM call, and every SD_HSM_PROBE_SECONDS).
 * Logs why.
 */
enum sd_exit sd_health_tick(struct sd_ctx *sd, time_t now);

#endif
