/*
 * server.c: the NNG rep socket.  Each worker owns one context and handles
 * one request at a time; the peer's uid is checked on every request before
 * a byte of it is decoded (invariant 6: unknown peers change no state).
 */
#include "signerd/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "common/err.h"
#include "common/log.h"
#include "proto/msg.h"
#include "signerd/policy_change.h"
#include "signerd/badpeer.h"

struct worker {
	struct sd_server *srv;
	pthread_t thread;
	nng_ctx ctx;
	nng_aio *aio;
};

struct sd_server {
	struct sd_ctx *sd;
	nng_socket sock;
	nng_listener listener;
	struct worker *workers;
	size_t nworkers;
	pthread_mutex_t mu;
	pthread_cond_t idle;
	size_t busy;
};

typedef int (*handler_fn)(struct sd_ctx *, unsigned, const uint8_t *, size_t,
    struct prt_writer *);

/* One entry per request type; the type is peeked, then the handler decodes
 * the whole frame itself through the cursor. */
static const struct {
	uint16_t type;
	handler_fn fn;
	const char *name;
} handlers[] = {
	{ PRT_SIGN_REQ, sd_handle_sign, "sign" },
	{ PRT_EXPOSURE_REQ, sd_handle_exposure, "exposure" },
	{ PRT_STATUS_REQ, sd_handle_status, "status" },
	{ PRT_POLICY_REQ, sd_handle_policy, "policy" },
	{ PRT_QUEUE_REQ, sd_handle_queue, "queue" },
	{ PRT_CANCEL_REQ, sd_handle_cancel, "cancel" },
	{ PRT_PAUSE_REQ, sd_handle_pause, "pause" },
	{ PRT_UNPAUSE_REQ, sd_handle_unpause, "unpause" },
	{ PRT_GOV_PROPOSE_REQ, sd_handle_gov_propose, "policy-propose" },
	{ PRT_GOV_APPROVE_REQ, sd_handle_gov_approve, "policy-approve" },
	{ PRT_GOV_CANCEL_REQ, sd_handle_gov_cancel, "policy-cancel" },
	{ PRT_GOV_STATUS_REQ, sd_handle_gov_status, "policy-status" },
};

static int
peer_allowed(const struct sd_ctx *sd, int uid)
{
	size_t i;

	for (i = 0; i < sd->nallowed; i++)
		if ((int)sd->allowed_uids[i] == uid)
			return 1;
	return 0;
}

static int
error_reply(struct prt_writer *rep, int reason, const char *msg)
{
	struct prt_reply_hdr hdr;

	prt_reply_hdr_set(&hdr, reason, msg);
	return prt_encode_error_rep(rep, &hdr);
}

/*
 * Builds the reply to one request into rep.  A refusal here costs the
 * sender nothing (no uid of ours, no frame of ours), so it is counted and
 * journaled in aggregate (badpeer.h), never one durable record each.
 */
static void
dispatch(struct sd_server *srv, nng_msg *msg, struct prt_writer *rep)
{
	struct sd_ctx *sd = srv->sd;
	const uint8_t *body = nng_msg_body(msg);
	size_t len = nng_msg_len(msg), i;
	uint16_t version, type;
	char detail[160];
	uint64_t peer = UINT64_MAX;
	int uid = -1, r;

	/* Peer first: nothing from an unknown uid is decoded.  The kernel's
	 * SO_PEERCRED, not anything the client says, names the peer. */
	if (nng_pipe_get_uint64(nng_msg_get_pipe(msg), NNG_OPT_IPC_PEER_UID,
	    &peer) == 0 && peer <= INT32_MAX)
		uid = (int)peer;
	if (uid < 0 || !peer_allowed(sd, uid)) {
		snprintf(detail, sizeof(detail), "peer uid %d is not allowed "
		    "to use signerd", uid);
		sd_badpeer_note(sd, uid, POL_PEER_NOT_ALLOWED, detail);
		(void)error_reply(rep, POL_PEER_NOT_ALLOWED, detail);
		return;
	}
	if ((r = prt_peek_header(&version, &type, body, len)) != 0) {
		snprintf(detail, sizeof(detail), "frame refused from uid %d: "
		    "%s (this signerd speaks version %d)", uid, err_str(r),
		    PRT_VERSION);
		sd_badpeer_note(sd, uid, POL_MALFORMED_REQUEST, detail);
		(void)error_reply(rep, POL_MALFORMED_REQUEST, detail);
		return;
	}
	if (version != PRT_VERSION) {
		snprintf(detail, sizeof(detail), "frame refused from uid %d: "
		    "protocol version %u (this signerd speaks version %d)", uid,
		    version, PRT_VERSION);
		sd_badpeer_note(sd, uid, POL_BAD_VERSION, detail);
		(void)error_reply(rep, POL_BAD_VERSION, detail);
		return;
	}
	if (atomic_load(&sd->stopping)) {
		(void)error_reply(rep, POL_INTERNAL, "INTERNAL: signerd is "
		    "shutting down; retry after it restarts");
		return;
	}
	for (i = 0; i < ARRAY_LEN(handlers); i++) {
		if (handlers[i].type != type)
			continue;
		if ((r = handlers[i].fn(sd, (unsigned)uid, body, len, rep)) != 0) {
			log_error("%s handler failed: %s", handlers[i].name,
			    err_str(r));
			prt_writer_free(rep);
			prt_writer_init(rep, PRT_MAX_MESSAGE);
			(void)error_reply(rep, POL_INTERNAL,
			    "INTERNAL: request could not be handled");
		}
		return;
	}
	snprintf(detail, sizeof(detail), "unknown request type 0x%04x from uid "
	    "%d", type, uid);
	sd_badpeer_note(sd, uid, POL_MALFORMED_REQUEST, detail);
	(void)error_reply(rep, POL_MALFORMED_REQUEST, detail);
}

static int
is_sign_request(nng_msg *msg)
{
	uint16_t version, type;

	return prt_peek_header(&version, &type, nng_msg_body(msg),
	    nng_msg_len(msg)) == 0 && type == PRT_SIGN_REQ;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct sd_server *srv = w->srv;
	struct prt_writer rep;
	nng_msg *msg, *out;
	int r, gated;

	for (;;) {
		nng_ctx_recv(w->ctx, w->aio);
		nng_aio_wait(w->aio);
		if ((r = nng_aio_result(w->aio)) != 0) {
			if (r == NNG_ECLOSED || r == NNG_ECANCELED)
				break;
			log_warn("receive failed: %s", nng_strerror(r));
			continue;
		}
		msg = nng_aio_get_msg(w->aio);
		pthread_mutex_lock(&srv->mu);
		srv->busy++;
		pthread_mutex_unlock(&srv->mu);

		/* Invariant 9: a sign request holds the reply gate until its
		 * reply is sent, so a pause can wait for it (governance.c). */
		gated = is_sign_request(msg);
		if (gated)
			pthread_rwlock_rdlock(&srv->sd->reply_gate);
		prt_writer_init(&rep, PRT_MAX_MESSAGE);
		dispatch(srv, msg, &rep);
		if (prt_writer_error(&rep) != 0 || rep.len == 0 ||
		    nng_msg_alloc(&out, 0) != 0 ||
		    nng_msg_append(out, rep.p, rep.len) != 0) {
			/* No reply can be built: the client times out. */
			log_error("reply could not be built");
			nng_msg_free(msg);
		} else {
			nng_msg_free(msg);
			nng_aio_set_msg(w->aio, out);
			nng_ctx_send(w->ctx, w->aio);
			nng_aio_wait(w->aio);
			if ((r = nng_aio_result(w->aio)) != 0) {
				log_warn("send failed: %s", nng_strerror(r));
				nng_msg_free(out);
			}
		}
		prt_writer_free(&rep);
		if (gated)
			pthread_rwlock_unlock(&srv->sd->reply_gate);

		pthread_mutex_lock(&srv->mu);
		if (--srv->busy == 0)
			pthread_cond_broadcast(&srv->idle);
		pthread_mutex_unlock(&srv->mu);
	}
	return NULL;
}

int
sd_server_listen(struct sd_server **out, struct sd_ctx *sd, const char *url,
    unsigned mode, size_t nworkers)
{
	struct sd_server *srv;
	int r;

	*out = NULL;
	/* Counts the refusals dispatch() does not journal one by one. */
	if (sd->badpeer == NULL && sd_badpeer_new(&sd->badpeer) != 0) {
		log_error("out of memory");
		return ERR_NOMEM;
	}
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return ERR_NOMEM;
	srv->sd = sd;
	pthread_mutex_init(&srv->mu, NULL);
	pthread_cond_init(&srv->idle, NULL);
	if ((r = nng_rep0_open(&srv->sock)) != 0)
		goto fail;
	/* Oversize frames are dropped by NNG before any allocation. */
	if ((r = nng_socket_set_size(srv->sock, NNG_OPT_RECVMAXSZ,
	    PRT_MAX_MESSAGE)) != 0 ||
	    (r = nng_listener_create(&srv->listener, srv->sock, url)) != 0)
		goto fail;
	if (strncmp(url, "ipc://", 6) == 0 &&
	    (r = nng_listener_set_int(srv->listener, NNG_OPT_IPC_PERMISSIONS,
	    (int)mode)) != 0)
		goto fail;
	if ((r = nng_listener_start(srv->listener, 0)) != 0)
		goto fail;
	srv->nworkers = nworkers;
	*out = srv;
	log_info("listening on %s (mode %04o)", url, mode);
	return 0;
 fail:
	log_error("cannot listen on %s: %s", url, nng_strerror(r));
	nng_close(srv->sock);
	free(srv);
	return ERR_IO;
}

int
sd_server_start(struct sd_server *srv)
{
	size_t i;
	int r;

	if ((srv->workers = calloc(srv->nworkers, sizeof(*srv->workers))) ==
	    NULL)
		return ERR_NOMEM;
	for (i = 0; i < srv->nworkers; i++) {
		srv->workers[i].srv = srv;
		if ((r = nng_ctx_open(&srv->workers[i].ctx, srv->sock)) != 0 ||
		    (r = nng_aio_alloc(&srv->workers[i].aio, NULL, NULL)) != 0) {
			log_error("worker setup: %s", nng_strerror(r));
			return ERR_NOMEM;
		}
		if (pthread_create(&srv->workers[i].thread, NULL, worker_main,
		    &srv->workers[i]) != 0)
			return ERR_NOMEM;
	}
	return 0;
}

void
sd_server_stop(struct sd_server *srv)
{
	size_t i;

	if (srv == NULL)
		return;
	/* Stop accepting, let every in-flight request finish and reply,
	 * then close the socket, which ends the workers' receives. */
	atomic_store(&srv->sd->stopping, 1);
	nng_listener_close(srv->listener);
	pthread_mutex_lock(&srv->mu);
	while (srv->busy > 0)
		pthread_cond_wait(&srv->idle, &srv->mu);
	pthread_mutex_unlock(&srv->mu);
	/*
	 * Each worker's context, not the socket: closing it ends that
	 * worker's receive.  libnng 1.5's nng_close() can hang for good
	 * while pipes that were busy a moment ago are still being torn down
	 * (upstream nanomsg/nng#1543, #1813), which under load kept signerd
	 * from ever exiting after SIGTERM; the process ends right after
	 * this, which releases the socket.
	 */
	for (i = 0; srv->workers != NULL && i < srv->nworkers; i++) {
		nng_ctx_close(srv->workers[i].ctx);
		pthread_join(srv->workers[i].thread, NULL);
		nng_aio_free(srv->workers[i].aio);
	}
	free(srv->workers);
	pthread_mutex_destroy(&srv->mu);
	pthread_cond_destroy(&srv->idle);
	free(srv);
}
