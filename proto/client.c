/* client.c: typed signerd calls over an NNG req socket, a context a call. */
#include "proto/client.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "common/err.h"

/* NNG's redial back-off after a lost connection: first try, longest wait. */
#define RECONNECT_MIN_MS 50
#define RECONNECT_MAX_MS 1000

struct prt_client {
	nng_socket sock;
	nng_duration timeout;
	/*
	 * Connections the socket holds (NNG pipe events): 0 after a lost
	 * connection means NNG is redialing.  prt_client_close waits for
	 * that redial to finish, because libnng 1.5 leaks the connection and
	 * its dialer when a socket is closed while a redial is still in its
	 * SP handshake (the handshake's last step finds nobody to hand the
	 * pipe to; fixed upstream in nng fb03061d, after 1.5.2).
	 */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int pipes;
};

/* Per thread, because calls on one client may run in many threads. */
static _Thread_local char last_error[256];

const char *
prt_client_last_error(void)
{
	return last_error;
}

static int
map_nng(int rv)
{
	switch (rv) {
	case NNG_ETIMEDOUT:
		return ERR_TIMEOUT;
	case NNG_ENOMEM:
		return ERR_NOMEM;
	case NNG_EMSGSIZE:
		return ERR_TOO_LARGE;
	default:
		return ERR_IO;
	}
}

static int
nng_fail(const char *what, int rv)
{
	snprintf(last_error, sizeof(last_error), "%s: %s", what,
	    nng_strerror(rv));
	return map_nng(rv);
}

/* Names a failure that is ours rather than the transport's. */
static int
note(const char *what, int ret)
{
	if (ret != 0 && last_error[0] == '\0')
		snprintf(last_error, sizeof(last_error), "%s: %s", what,
		    err_str(ret));
	return ret;
}

/* Runs in an NNG thread for each connection added or removed. */
static void
on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct prt_client *cl = arg;

	pthread_mutex_lock(&cl->mu);
	/* NNG pairs every ADD_PRE with one REM_POST. */
	cl->pipes += ev == NNG_PIPE_EV_ADD_PRE ? 1 : -1;
	pthread_cond_broadcast(&cl->cv);
	pthread_mutex_unlock(&cl->mu);
}

static void
client_free(struct prt_client *cl)
{
	pthread_cond_destroy(&cl->cv);
	pthread_mutex_destroy(&cl->mu);
	free(cl);
}

int
prt_client_open(struct prt_client **c, const char *url, int timeout_ms)
{
	struct prt_client *cl;
	pthread_condattr_t ca;
	int rv, ret = ERR_IO;

	*c = NULL;
	last_error[0] = '\0';
	if (url == NULL || timeout_ms <= 0)
		return note("prt_client_open", ERR_INVALID_ARG);
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return note("prt_client_open", ERR_NOMEM);
	cl->timeout = timeout_ms;
	pthread_mutex_init(&cl->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cl->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((rv = nng_req0_open(&cl->sock)) != 0) {
		ret = nng_fail("nng_req0_open", rv);
		client_free(cl);
		return ret;
	}
	if ((rv = nng_pipe_notify(cl->sock, NNG_PIPE_EV_ADD_PRE, on_pipe,
	    cl)) != 0 || (rv = nng_pipe_notify(cl->sock,
	    NNG_PIPE_EV_REM_POST, on_pipe, cl)) != 0) {
		ret = nng_fail("nng_pipe_notify", rv);
		goto out;
	}
	/*
	 * The size limit is enforced by the transport as bytes arrive, so an
	 * oversized reply is dropped before it is buffered.  The socket
	 * timeouts cover synchronous use; calls set them on each aio.
	 */
	if ((rv = nng_socket_set_size(cl->sock, NNG_OPT_RECVMAXSZ,
	    PRT_MAX_MESSAGE)) != 0) {
		ret = nng_fail("NNG_OPT_RECVMAXSZ", rv);
		goto out;
	}
	if ((rv = nng_socket_set_ms(cl->sock, NNG_OPT_SENDTIMEO,
	    cl->timeout)) != 0 ||
	    (rv = nng_socket_set_ms(cl->sock, NNG_OPT_RECVTIMEO,
	    cl->timeout)) != 0) {
		ret = nng_fail("NNG_OPT_SENDTIMEO/RECVTIMEO", rv);
		goto out;
	}
	/*
	 * NNG redials a lost connection on its own; bound the back-off so a
	 * restarted signerd is reached again within a second.
	 */
	if ((rv = nng_socket_set_ms(cl->sock, NNG_OPT_RECONNMINT,
	    RECONNECT_MIN_MS)) != 0 ||
	    (rv = nng_socket_set_ms(cl->sock, NNG_OPT_RECONNMAXT,
	    RECONNECT_MAX_MS)) != 0) {
		ret = nng_fail("NNG_OPT_RECONNMINT/RECONNMAXT", rv);
		goto out;
	}
	if ((rv = nng_dial(cl->sock, url, NULL, 0)) != 0) {
		snprintf(last_error, sizeof(last_error), "nng_dial %s: %s",
		    url, nng_strerror(rv));
		ret = map_nng(rv);
		goto out;
	}
	*c = cl;
	cl = NULL;
	ret = 0;
out:
	if (cl != NULL) {
		/* A synchronous dial that failed leaves no redial behind. */
		nng_close(cl->sock);
		client_free(cl);
	}
	return ret;
}

/*
 * After a lost connection, waits until NNG's redial has connected (or,
 * with nobody listening, for one whole back-off: a refused connect has
 * no handshake to leak), so that nng_close never meets a handshake in
 * flight.  A client whose connection is up returns at once.
 */
static void
settle_redial(struct prt_client *c)
{
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += RECONNECT_MAX_MS / 1000;
	deadline.tv_nsec += (long)(RECONNECT_MAX_MS % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	while (c->pipes <= 0 &&
	    pthread_cond_timedwait(&c->cv, &c->mu, &deadline) == 0)
		;
	pthread_mutex_unlock(&c->mu);
}

void
prt_client_close(struct prt_client *c)
{
	if (c == NULL)
		return;
	settle_redial(c);
	/* Returns once every connection is gone, REM_POST callbacks run. */
	nng_close(c->sock);
	client_free(c);
}

/* One request/reply on a fresh context: *rep is the reply message. */
static int
exchange(struct prt_client *c, const uint8_t *req, size_t len,
    nng_msg **rep)
{
	nng_ctx ctx;
	nng_aio *aio = NULL;
	nng_msg *msg = NULL;
	int rv, ret;

	*rep = NULL;
	if ((rv = nng_ctx_open(&ctx, c->sock)) != 0)
		return nng_fail("nng_ctx_open", rv);
	/*
	 * No timed resend: a slow signer (fsync, HSM) must not receive the
	 * same request twice.  The caller's timeout bounds the wait instead.
	 */
	if ((rv = nng_ctx_set_ms(ctx, NNG_OPT_REQ_RESENDTIME,
	    NNG_DURATION_INFINITE)) != 0) {
		ret = nng_fail("NNG_OPT_REQ_RESENDTIME", rv);
		goto out;
	}
	if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
		ret = nng_fail("nng_aio_alloc", rv);
		goto out;
	}
	nng_aio_set_timeout(aio, c->timeout);
	if ((rv = nng_msg_alloc(&msg, len)) != 0) {
		ret = nng_fail("nng_msg_alloc", rv);
		goto out;
	}
	if (len > 0)
		memcpy(nng_msg_body(msg), req, len);
	nng_aio_set_msg(aio, msg);
	msg = NULL;
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		/* A failed send leaves the message with us. */
		msg = nng_aio_get_msg(aio);
		ret = nng_fail("send", rv);
		goto out;
	}
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	if ((rv = nng_aio_result(aio)) != 0) {
		ret = nng_fail("receive", rv);
		goto out;
	}
	msg = nng_aio_get_msg(aio);
	/* The transport enforces this; a transport that does not is caught. */
	if (nng_msg_len(msg) > PRT_MAX_MESSAGE) {
		ret = note("reply", ERR_TOO_LARGE);
		goto out;
	}
	*rep = msg;
	msg = NULL;
	ret = 0;
out:
	if (msg != NULL)
		nng_msg_free(msg);
	if (aio != NULL)
		nng_aio_free(aio);
	nng_ctx_close(ctx);
	return ret;
}

int
prt_client_call(struct prt_client *c, const uint8_t *req, size_t len,
    uint8_t **rep, size_t *replen)
{
	nng_msg *msg;
	size_t n;
	int ret;

	*rep = NULL;
	*replen = 0;
	last_error[0] = '\0';
	if ((ret = exchange(c, req, len, &msg)) != 0)
		return ret;
	n = nng_msg_len(msg);
	if ((*rep = malloc(n > 0 ? n : 1)) == NULL) {
		ret = note("reply", ERR_NOMEM);
	} else {
		if (n > 0)
			memcpy(*rep, nng_msg_body(msg), n);
		*replen = n;
	}
	nng_msg_free(msg);
	return ret;
}

/*
 * Sends the frame an encoder built in w (enc is the encoder's result) and
 * frees w.  On 0, *msg is the reply.
 */
static int
send_frame(struct prt_client *c, struct prt_writer *w, int enc,
    nng_msg **msg)
{
	*msg = NULL;
	last_error[0] = '\0';
	if (enc != 0)
		enc = note("encoding the request", enc);
	else
		enc = exchange(c, w->p, w->len, msg);
	prt_writer_free(w);
	return enc;
}

/*
 * A server that cannot attribute the frame to a request type of its
 * version answers with ERROR_REP instead of the typed reply.  Returns 1
 * and its decode result in *ret when msg is one.
 */
static int
error_reply(nng_msg *msg, struct prt_reply_hdr *hdr, int *ret)
{
	uint16_t version, type;

	if (prt_peek_header(&version, &type, nng_msg_body(msg),
	    nng_msg_len(msg)) != 0 || type != PRT_ERROR_REP)
		return 0;
	*ret = note("ERROR_REP",
	    prt_decode_error_rep(hdr, &version, nng_msg_body(msg),
	    nng_msg_len(msg)));
	return 1;
}

int
prt_client_sign(struct prt_client *c, const struct prt_sign_req *req,
    struct prt_sign_rep *rep, struct prt_reply_hdr *hdr)
{
	struct prt_writer w;
	nng_msg *msg;
	int ret;

	memset(rep, 0, sizeof(*rep));
	memset(hdr, 0, sizeof(*hdr));
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	ret = prt_encode_sign_req(&w, req);
	if ((ret = send_frame(c, &w, ret, &msg)) != 0)
		return ret;
	if (!error_reply(msg, hdr, &ret))
		ret = note("SIGN_REP", prt_decode_sign_rep(hdr, rep,
		    nng_msg_body(msg), nng_msg_len(msg)));
	nng_msg_free(msg);
	return ret;
}

int
prt_client_exposure(struct prt_client *c, const struct prt_exposure_req *req,
    struct prt_exposure_rep *rep, struct prt_reply_hdr *hdr)
{
	struct prt_writer w;
	nng_msg *msg;
	int ret;

	memset(rep, 0, sizeof(*rep));
	memset(hdr, 0, sizeof(*hdr));
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	ret = prt_encode_exposure_req(&w, req);
	if ((ret = send_frame(c, &w, ret, &msg)) != 0)
		return ret;
	if (!error_reply(msg, hdr, &ret))
		ret = note("EXPOSURE_REP", prt_decode_exposure_rep(hdr, rep,
		    nng_msg_body(msg), nng_msg_len(msg)));
	nng_msg_free(msg);
	return ret;
}

int
prt_client_status(struct prt_client *c, struct prt_status_rep *rep,
    struct prt_reply_hdr *hdr)
{
	struct prt_writer w;
	nng_msg *msg;
	int ret;

	memset(rep, 0, sizeof(*rep));
	memset(hdr, 0, sizeof(*hdr));
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	ret = prt_encode_status_req(&w);
	if ((ret = send_frame(c, &w, ret, &msg)) != 0)
		return ret;
	if (!error_reply(msg, hdr, &ret))
		ret = note("STATUS_REP", prt_decode_status_rep(hdr, rep,
		    nng_msg_body(msg), nng_msg_len(msg)));
	nng_msg_free(msg);
	return ret;
}

int
prt_client_queue(struct prt_client *c, const struct prt_sign_req *req,
    struct prt_queue_rep *rep, struct prt_reply_hdr *hdr)
{
	struct prt_writer w;
	nng_msg *msg;
	int ret;

	memset(rep, 0, sizeof(*rep));
	memset(hdr, 0, sizeof(*hdr));
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	ret = prt_encode_queue_req(&w, req);
	if ((ret = send_frame(c, &w, ret, &msg)) != 0)
		return ret;
	if (!error_reply(msg, hdr, &ret))
		ret = note("QUEUE_REP", prt_decode_queue_rep(hdr, rep,
		    nng_msg_body(msg), nng_msg_len(msg)));
	nng_msg_free(msg);
	return ret;
}

/* Sends a frame already encoded into w (enc: the encoder's result) and
 * reads the header-only reply of type. */
static int
ack_call(struct prt_client *c, struct prt_writer *w, int enc, uint16_t type,
    const char *what, struct prt_reply_hdr *hdr)
{
	nng_msg *msg;
	int ret;

	if ((ret = send_frame(c, w, enc, &msg)) != 0)
		return ret;
	if (!error_reply(msg, hdr, &ret))
		ret = note(what, prt_decode_ack_rep(hdr, type,
		    nng_msg_body(msg), nng_msg_len(msg)));
	nng_msg_free(msg);
	return ret;
}

int
prt_client_cancel(struct prt_client *c, const struct prt_cancel_req *req,
    struct prt_reply_hdr *hdr)
{
	struct prt_writer w;

	memset(hdr, 0, sizeof(*hdr));
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	return ack_call(c, &w, prt_encode_cancel_req(&w, req), PRT_CANCEL_REP,
	    "CANCEL_REP", hdr);
}

int
prt_client_pause(struct prt_client *c, const struct prt_pause_req *req,
    struct prt_reply_hdr *hdr)
{
	struct prt_writer w;

	memset(hdr, 0, sizeof(*hdr));
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	return ack_call(c, &w, prt_encode_pause_req(&w, req), PRT_PAUSE_REP,
	    "PAUSE_REP", hdr);
}

int
prt_client_unpause(struct prt_client *c, const struct prt_unpause_req *req,
    struct prt_reply_hdr *hdr)
{
	struct prt_writer w;

	memset(hdr, 0, sizeof(*hdr));
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	return ack_call(c, &w, prt_encode_unpause_req(&w, req),
	    PRT_UNPAUSE_REP, "UNPAUSE_REP", hdr);
}

int
prt_client_policy(struct prt_client *c, char **json, size_t *json_len,
    struct prt_reply_hdr *hdr)
{
	struct prt_policy_rep rep;
	struct prt_writer w;
	nng_msg *msg;
	int ret;

	*json = NULL;
	*json_len = 0;
	memset(hdr, 0, sizeof(*hdr));
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	ret = prt_encode_policy_req(&w);
	if ((ret = send_frame(c, &w, ret, &msg)) != 0)
		return ret;
	if (error_reply(msg, hdr, &ret))
		goto out;
	/* rep.json points into msg: copy it out before msg is freed. */
	if ((ret = note("POLICY_REP", prt_decode_policy_rep(hdr, &rep,
	    nng_msg_body(msg), nng_msg_len(msg)))) != 0 || hdr->result != 0)
		goto out;
	if ((*json = malloc(rep.json_len + 1)) == NULL) {
		memset(hdr, 0, sizeof(*hdr));
		ret = note("POLICY_REP", ERR_NOMEM);
		goto out;
	}
	if (rep.json_len > 0)
		memcpy(*json, rep.json, rep.json_len);
	(*json)[rep.json_len] = '\0';
	*json_len = rep.json_len;
out:
	nng_msg_free(msg);
	return ret;
}

/* The four governance calls: one reply layout (prt_decode_gov_rep). */
static int
gov_call(struct prt_client *c, struct prt_writer *w, int enc, uint16_t type,
    const char *what, struct prt_gov_state *st, struct prt_reply_hdr *hdr)
{
	nng_msg *msg;
	int ret;

	if ((ret = send_frame(c, w, enc, &msg)) != 0)
		return ret;
	if (!error_reply(msg, hdr, &ret))
		ret = note(what, prt_decode_gov_rep(hdr, type, st,
		    nng_msg_body(msg), nng_msg_len(msg)));
	nng_msg_free(msg);
	return ret;
}

int
prt_client_gov_propose(struct prt_client *c,
    const struct prt_gov_propose_req *req, struct prt_gov_state *st,
    struct prt_reply_hdr *hdr)
{
	struct prt_writer w;

	memset(st, 0, sizeof(*st));
	memset(hdr, 0, sizeof(*hdr));
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	return gov_call(c, &w, prt_encode_gov_propose_req(&w, req),
	    PRT_GOV_PROPOSE_REP, "GOV_PROPOSE_REP", st, hdr);
}

int
prt_client_gov_approve(struct prt_client *c,
    const struct prt_gov_approve_req *req, struct prt_gov_state *st,
    struct prt_reply_hdr *hdr)
{
	struct prt_writer w;

	memset(st, 0, sizeof(*st));
	memset(hdr, 0, sizeof(*hdr));
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	return gov_call(c, &w, prt_encode_gov_approve_req(&w, req),
	    PRT_GOV_APPROVE_REP, "GOV_APPROVE_REP", st, hdr);
}

int
prt_client_gov_cancel(struct prt_client *c,
    const struct prt_gov_cancel_req *req, struct prt_gov_state *st,
    struct prt_reply_hdr *hdr)
{
	struct prt_writer w;

	memset(st, 0, sizeof(*st));
	memset(hdr, 0, sizeof(*hdr));
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	return gov_call(c, &w, prt_encode_gov_cancel_req(&w, req),
	    PRT_GOV_CANCEL_REP, "GOV_CANCEL_REP", st, hdr);
}

int
prt_client_gov_status(struct prt_client *c, struct prt_gov_state *st,
    struct prt_reply_hdr *hdr)
{
	struct prt_writer w;

	memset(st, 0, sizeof(*st));
	memset(hdr, 0, sizeof(*hdr));
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	return gov_call(c, &w, prt_encode_gov_status_req(&w),
	    PRT_GOV_STATUS_REP, "GOV_STATUS_REP", st, hdr);
}

int
prt_client_metrics(struct prt_client *c, struct prt_metrics *m,
    struct prt_reply_hdr *hdr)
{
	struct prt_writer w;
	nng_msg *msg;
	int ret;

	memset(m, 0, sizeof(*m));
	memset(hdr, 0, sizeof(*hdr));
	prt_writer_init(&w, PRT_MAX_MESSAGE);
	ret = prt_encode_metrics_req(&w);
	if ((ret = send_frame(c, &w, ret, &msg)) != 0)
		return ret;
	if (!error_reply(msg, hdr, &ret))
		ret = note("METRICS_REP", prt_decode_metrics_rep(hdr, m,
		    nng_msg_body(msg), nng_msg_len(msg)));
	nng_msg_free(msg);
	return ret;
}
