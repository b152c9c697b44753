/*
 * server.c: the NNG rep socket.  Many contexts, each with an aio whose
 * callback hands a received request to a few worker threads and ends it
 * once its reply is sent; a sign request's reply is sent by the
 * group-commit leader once its record is durable (sd_commit_async), so no
 * thread waits for an fdatasync per request.  The peer's uid is checked on
 * every request before a byte of it is decoded (invariant 6: unknown
 * peers change no state).
 */
#include "signerd/server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "common/err.h"
#include "common/log.h"
#include "proto/msg.h"
#include "signerd/policy_change.h"
#include "signerd/badpeer.h"

/*
 * One outstanding request: its context and its aio, whose callback runs
 * when a receive or a send completes.  There are [server] contexts of
 * them, so that many requests can be outstanding, whatever the number of
 * worker threads; a request whose record waits for its fdatasync holds
 * its context, not a thread (sd_commit_async).
 */
struct sd_rpc {
	struct sd_server *srv;
	nng_ctx ctx;
	nng_aio *aio;
	nng_msg *msg;		/* the request, until dispatched */
	int sending;		/* the aio carries the reply */
	int gated;		/* holds sd->reply_gate until sent */
	struct sd_rpc *next;	/* in the ready queue */
};

struct sd_server {
	struct sd_ctx *sd;
	nng_socket sock;
	nng_listener listener;
	struct sd_rpc *reqs;
	size_t nreqs;
	pthread_t *workers;
	size_t nworkers, nstarted;
	pthread_t leader;
	int leader_started;
	pthread_mutex_t mu;
	pthread_cond_t ready;	/* a request is queued, or stopping */
	pthread_cond_t idle;	/* busy fell to 0 */
	/* Under mu. */
	struct sd_rpc *qhead, *qtail;	/* received, not dispatched */
	size_t busy;		/* received, not yet answered */
	int stop_workers;
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
	{ PRT_METRICS_REQ, sd_handle_metrics, "metrics" },
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
 * Builds the reply to one request into rep, or returns SD_REPLY_LATER when
 * the handler kept req to answer once its record is durable.  A refusal
 * here costs the sender nothing (no uid of ours, no frame of ours), so it
 * is counted and journaled in aggregate (badpeer.h), never one durable
 * record each.
 */
static int
dispatch(struct sd_server *srv, struct sd_rpc *req, struct prt_writer *rep)
{
	struct sd_ctx *sd = srv->sd;
	const uint8_t *body = nng_msg_body(req->msg);
	size_t len = nng_msg_len(req->msg), i;
	uint16_t version, type;
	const char *name;
	char detail[160];
	uint64_t peer = UINT64_MAX;
	int uid = -1, r;

	/* Peer first: nothing from an unknown uid is decoded.  The kernel's
	 * SO_PEERCRED, not anything the client says, names the peer. */
	if (nng_pipe_get_uint64(nng_msg_get_pipe(req->msg),
	    NNG_OPT_IPC_PEER_UID, &peer) == 0 && peer <= INT32_MAX)
		uid = (int)peer;
	if (uid < 0 || !peer_allowed(sd, uid)) {
		snprintf(detail, sizeof(detail), "peer uid %d is not allowed "
		    "to use signerd", uid);
		sd_badpeer_note(sd, uid, POL_PEER_NOT_ALLOWED, detail);
		return error_reply(rep, POL_PEER_NOT_ALLOWED, detail);
	}
	if ((r = prt_peek_header(&version, &type, body, len)) != 0) {
		snprintf(detail, sizeof(detail), "frame refused from uid %d: "
		    "%s (this signerd speaks version %d)", uid, err_str(r),
		    PRT_VERSION);
		sd_badpeer_note(sd, uid, POL_MALFORMED_REQUEST, detail);
		return error_reply(rep, POL_MALFORMED_REQUEST, detail);
	}
	if (version != PRT_VERSION) {
		snprintf(detail, sizeof(detail), "frame refused from uid %d: "
		    "protocol version %u (this signerd speaks version %d)", uid,
		    version, PRT_VERSION);
		sd_badpeer_note(sd, uid, POL_BAD_VERSION, detail);
		return error_reply(rep, POL_BAD_VERSION, detail);
	}
	if (atomic_load(&sd->stopping))
		return error_reply(rep, POL_INTERNAL, "INTERNAL: signerd is "
		    "shutting down; retry after it restarts");
	name = "sign";
	if (type == PRT_SIGN_REQ) {
		if ((r = sd_handle_sign(sd, req, (unsigned)uid, body, len,
		    rep)) == SD_REPLY_LATER)
			return r;
	} else {
		for (i = 0; i < ARRAY_LEN(handlers); i++)
			if (handlers[i].type == type)
				break;
		if (i == ARRAY_LEN(handlers)) {
			snprintf(detail, sizeof(detail), "unknown request type "
			    "0x%04x from uid %d", type, uid);
			sd_badpeer_note(sd, uid, POL_MALFORMED_REQUEST, detail);
			return error_reply(rep, POL_MALFORMED_REQUEST, detail);
		}
		name = handlers[i].name;
		r = handlers[i].fn(sd, (unsigned)uid, body, len, rep);
	}
	if (r != 0) {
		log_error("%s handler failed: %s", name, err_str(r));
		prt_writer_free(rep);
		prt_writer_init(rep, PRT_MAX_MESSAGE);
		(void)error_reply(rep, POL_INTERNAL,
		    "INTERNAL: request could not be handled");
	}
	return 0;
}

static int
is_sign_request(nng_msg *msg)
{
	uint16_t version, type;

	return prt_peek_header(&version, &type, nng_msg_body(msg),
	    nng_msg_len(msg)) == 0 && type == PRT_SIGN_REQ;
}

/* The request is answered (or cannot be): its context receives again. */
static void
rpc_done(struct sd_rpc *req)
{
	struct sd_server *srv = req->srv;

	if (req->gated) {
		req->gated = 0;
		sd_gate_leave(&srv->sd->reply_gate);
	}
	pthread_mutex_lock(&srv->mu);
	if (--srv->busy == 0)
		pthread_cond_broadcast(&srv->idle);
	pthread_mutex_unlock(&srv->mu);
	req->sending = 0;
	nng_ctx_recv(req->ctx, req->aio);
}

void
sd_rpc_reply(struct sd_rpc *req, const struct prt_writer *rep)
{
	nng_msg *out;

	/* Built straight into the message: one copy, one allocation. */
	if (prt_writer_error(rep) != 0 || rep->len == 0 ||
	    nng_msg_alloc(&out, rep->len) != 0) {
		/* No reply can be built: the client times out. */
		log_error("reply could not be built");
		rpc_done(req);
		return;
	}
	memcpy(nng_msg_body(out), rep->p, rep->len);
	req->sending = 1;
	nng_aio_set_msg(req->aio, out);
	nng_ctx_send(req->ctx, req->aio);
}

/*
 * The aio's callback (an NNG thread): a receive hands the request to the
 * workers; a sent reply ends it.  Nothing here blocks for long.
 */
static void
rpc_cb(void *arg)
{
	struct sd_rpc *req = arg;
	struct sd_server *srv = req->srv;
	int r = nng_aio_result(req->aio);

	if (req->sending) {
		if (r != 0) {
			log_warn("send failed: %s", nng_strerror(r));
			nng_msg_free(nng_aio_get_msg(req->aio));
		}
		rpc_done(req);
		return;
	}
	if (r != 0) {
		if (r == NNG_ECLOSED || r == NNG_ECANCELED)
			return;
		log_warn("receive failed: %s", nng_strerror(r));
		nng_ctx_recv(req->ctx, req->aio);
		return;
	}
	req->msg = nng_aio_get_msg(req->aio);
	req->next = NULL;
	pthread_mutex_lock(&srv->mu);
	srv->busy++;
	if (srv->qtail != NULL)
		srv->qtail->next = req;
	else
		srv->qhead = req;
	srv->qtail = req;
	pthread_cond_signal(&srv->ready);
	pthread_mutex_unlock(&srv->mu);
}

/* One request on a worker thread: decide, sign, queue, or answer. */
static void
handle(struct sd_server *srv, struct sd_rpc *req)
{
	struct prt_writer rep;
	int r;

	/* Invariant 9: a sign request holds the reply gate until its reply
	 * is sent, so a pause can wait for it (governance.c). */
	req->gated = is_sign_request(req->msg);
	if (req->gated)
		sd_gate_enter(&srv->sd->reply_gate);
	prt_writer_init(&rep, PRT_MAX_MESSAGE);
	r = dispatch(srv, req, &rep);
	/* Every handler decodes the whole frame before it returns. */
	nng_msg_free(req->msg);
	req->msg = NULL;
	if (r != SD_REPLY_LATER)
		sd_rpc_reply(req, &rep);
	prt_writer_free(&rep);
}

static void *
worker_main(void *arg)
{
	struct sd_server *srv = arg;
	struct sd_rpc *req;

	for (;;) {
		pthread_mutex_lock(&srv->mu);
		while (srv->qhead == NULL && !srv->stop_workers)
			pthread_cond_wait(&srv->ready, &srv->mu);
		if ((req = srv->qhead) == NULL) {
			pthread_mutex_unlock(&srv->mu);
			break;
		}
		if ((srv->qhead = req->next) == NULL)
			srv->qtail = NULL;
		pthread_mutex_unlock(&srv->mu);
		handle(srv, req);
	}
	return NULL;
}

/* --- the reply gate (signerd.h) ------------------------------------------ */

void
sd_gate_init(struct sd_gate *g)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
}

void
sd_gate_enter(struct sd_gate *g)
{
	pthread_mutex_lock(&g->mu);
	/* Writer-preferring: a waiting pause goes first. */
	while (g->closers > 0)
		pthread_cond_wait(&g->cv, &g->mu);
	g->holders++;
	pthread_mutex_unlock(&g->mu);
}

void
sd_gate_leave(struct sd_gate *g)
{
	pthread_mutex_lock(&g->mu);
	if (--g->holders == 0)
		pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

void
sd_gate_close(struct sd_gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->closers++;
	while (g->holders > 0 || g->closed)
		pthread_cond_wait(&g->cv, &g->mu);
	g->closed = 1;
	pthread_mutex_unlock(&g->mu);
}

void
sd_gate_open(struct sd_gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->closed = 0;
	g->closers--;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

int
sd_server_listen(struct sd_server **out, struct sd_ctx *sd, const char *url,
    unsigned mode, gid_t gid, size_t max_message, size_t nworkers,
    size_t ncontexts)
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
	pthread_mutex_init(&sd->batch_mu, NULL);
	pthread_cond_init(&sd->batch_cv, NULL);
	pthread_mutex_init(&srv->mu, NULL);
	pthread_cond_init(&srv->ready, NULL);
	pthread_cond_init(&srv->idle, NULL);
	if ((r = nng_rep0_open(&srv->sock)) != 0)
		goto fail;
	/* Oversize frames are dropped by NNG before any allocation: the
	 * config's max_message, never above the protocol's own limit. */
	if ((r = nng_socket_set_size(srv->sock, NNG_OPT_RECVMAXSZ,
	    max_message < PRT_MAX_MESSAGE ? max_message : PRT_MAX_MESSAGE)) !=
	    0 ||
	    (r = nng_listener_create(&srv->listener, srv->sock, url)) != 0)
		goto fail;
	if (strncmp(url, "ipc://", 6) == 0 &&
	    (r = nng_listener_set_int(srv->listener, NNG_OPT_IPC_PERMISSIONS,
	    (int)mode)) != 0)
		goto fail;
	if ((r = nng_listener_start(srv->listener, 0)) != 0)
		goto fail;
	/*
	 * Until this chown the socket has signerd's own group: the mode
	 * already shuts others out, so the window only admits fewer.  The
	 * path is signerd's own directory's (RuntimeDirectory=); a symlink
	 * there is not followed.
	 */
	if (strncmp(url, "ipc://", 6) == 0 && gid != (gid_t)-1 &&
	    fchownat(AT_FDCWD, url + 6, (uid_t)-1, gid,
	    AT_SYMLINK_NOFOLLOW) != 0) {
		log_error("cannot give %s to group %lu: %s (signerd must be "
		    "root or a member of socket_group)", url + 6,
		    (unsigned long)gid, strerror(errno));
		nng_close(srv->sock);
		free(srv);
		return ERR_PERMISSION;
	}
	srv->nworkers = nworkers;
	/* At least one context per worker, or a worker could never work. */
	srv->nreqs = ncontexts > nworkers ? ncontexts : nworkers;
	*out = srv;
	if (gid != (gid_t)-1)
		log_info("listening on %s (mode %04o, group %lu)", url, mode,
		    (unsigned long)gid);
	else
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
	struct sd_rpc *req;
	size_t i;
	int r;

	if ((srv->reqs = calloc(srv->nreqs, sizeof(*srv->reqs))) == NULL ||
	    (srv->workers = calloc(srv->nworkers, sizeof(*srv->workers))) ==
	    NULL)
		return ERR_NOMEM;
	for (i = 0; i < srv->nreqs; i++) {
		req = &srv->reqs[i];
		req->srv = srv;
		if ((r = nng_aio_alloc(&req->aio, rpc_cb, req)) != 0 ||
		    (r = nng_ctx_open(&req->ctx, srv->sock)) != 0) {
			log_error("context setup: %s", nng_strerror(r));
			return ERR_NOMEM;
		}
	}
	if (pthread_create(&srv->leader, NULL, sd_commit_leader_main,
	    srv->sd) != 0)
		return ERR_NOMEM;
	srv->leader_started = 1;
	for (; srv->nstarted < srv->nworkers; srv->nstarted++)
		if (pthread_create(&srv->workers[srv->nstarted], NULL,
		    worker_main, srv) != 0)
			return ERR_NOMEM;
	for (i = 0; i < srv->nreqs; i++)
		nng_ctx_recv(srv->reqs[i].ctx, srv->reqs[i].aio);
	return 0;
}

/* How well group commit grouped: the batches of this run, for the log. */
static void
log_journal_stats(struct sd_ctx *sd)
{
	struct jnl_stats st;

	jnl_stats(sd->journal, &st);
	log_info("journal: %llu records in %llu fdatasyncs, at most %llu in "
	    "one", (unsigned long long)st.appends,
	    (unsigned long long)st.fdatasyncs,
	    (unsigned long long)st.max_batch);
}

/* The longest a stop waits for in-flight requests to be answered. */
#define DRAIN_MAX_SECONDS 10

/* Waits until no request is in flight, or DRAIN_MAX_SECONDS. */
static void
drain(struct sd_server *srv)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += DRAIN_MAX_SECONDS;
	pthread_mutex_lock(&srv->mu);
	while (srv->busy > 0 && pthread_cond_timedwait(&srv->idle, &srv->mu,
	    &until) == 0)
		;
	if (srv->busy > 0)
		log_warn("stopping with %zu requests unanswered after %d s",
		    srv->busy, DRAIN_MAX_SECONDS);
	pthread_mutex_unlock(&srv->mu);
}

void
sd_server_stop(struct sd_server *srv)
{
	size_t i;

	if (srv == NULL)
		return;
	/*
	 * Refuse new requests (dispatch), let every in-flight one finish
	 * and reply (the leader makes the queued records durable and
	 * answers), and only then close the listener: closing it closes
	 * every connection it accepted, and the replies still on their way
	 * to them were lost (a request signed and journaled, its client told
	 * nothing).  Refusals keep arriving meanwhile, so the wait for an
	 * idle moment is bounded.
	 */
	atomic_store(&srv->sd->stopping, 1);
	drain(srv);
	pthread_mutex_lock(&srv->mu);
	srv->stop_workers = 1;
	pthread_cond_broadcast(&srv->ready);
	pthread_mutex_unlock(&srv->mu);
	for (i = 0; i < srv->nstarted; i++)
		pthread_join(srv->workers[i], NULL);
	if (srv->leader_started) {
		jnl_lead_stop(srv->sd->journal);
		pthread_join(srv->leader, NULL);
	}
	/*
	 * Each context, not the socket: closing it ends its receive.
	 * libnng 1.5's nng_close() can hang for good while pipes that were
	 * busy a moment ago are still being torn down (upstream
	 * nanomsg/nng#1543, #1813), which under load kept signerd from ever
	 * exiting after SIGTERM; the process ends right after this, which
	 * releases the socket.  nng_aio_free() waits for a running callback.
	 */
	for (i = 0; srv->reqs != NULL && i < srv->nreqs; i++) {
		if (srv->reqs[i].aio == NULL)
			continue;
		nng_ctx_close(srv->reqs[i].ctx);
		nng_aio_free(srv->reqs[i].aio);
	}
	nng_listener_close(srv->listener);
	log_journal_stats(srv->sd);
	free(srv->reqs);
	free(srv->workers);
	pthread_mutex_destroy(&srv->mu);
	pthread_cond_destroy(&srv->ready);
	pthread_cond_destroy(&srv->idle);
	free(srv);
}
