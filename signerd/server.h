/* server.h: signerd's listening socket and its worker threads. */
#ifndef SIGNERD_SERVER_H
#define SIGNERD_SERVER_H

#include <stddef.h>

#include "signerd/signerd.h"

struct sd_server;

/*
 * Binds url (ipc:// socket file created with the given mode) during the
 * privileged phase.  No request is served until sd_server_start().
 */
int sd_server_listen(struct sd_server **out, struct sd_ctx *sd,
    const char *url, unsigned mode, size_t nworkers) WARN_UNUSED;

/* Starts the workers (after the sandbox is in place). */
int sd_server_start(struct sd_server *srv) WARN_UNUSED;

/*
 * Stops accepting, waits for in-flight requests to be answered, closes the
 * socket and joins the workers.  NULL is ok.
 */
void sd_server_stop(struct sd_server *srv);

#endif
