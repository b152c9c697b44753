/* server.h: signerd's listening socket, its contexts and its worker threads. */
#ifndef SIGNERD_SERVER_H
#define SIGNERD_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "signerd/signerd.h"

struct sd_server;

/*
 * Binds url (ipc:// socket file created with the given mode, then given
 * group gid unless it is (gid_t)-1) during the privileged phase.  NNG
 * drops a frame longer than max_message (at most PRT_MAX_MESSAGE) before
 * any of it is decoded.  No request is served until sd_server_start().
 * nworkers threads decide and sign (at most [hsm] sessions of them in
 * the HSM at once); ncontexts requests may be outstanding, each on an NNG
 * context of its own, answered from a completion callback once its record
 * is durable: so the records that share one fdatasync are bounded by the
 * clients waiting (up to ncontexts), not by nworkers.
 */
int sd_server_listen(struct sd_server **out, struct sd_ctx *sd,
    const char *url, unsigned mode, gid_t gid, size_t max_message,
    size_t nworkers, size_t ncontexts) WARN_UNUSED;

/* Starts the workers and the group-commit leader (after the sandbox is in
 * place: their threads are created under the seccomp filter). */
int sd_server_start(struct sd_server *srv) WARN_UNUSED;

/*
 * Stops accepting, waits for in-flight requests to be answered, closes the
 * socket and joins the workers.  NULL is ok.
 */
void sd_server_stop(struct sd_server *srv);

#endif
