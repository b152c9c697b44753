/* client.h: the signerd client (signerctl, orchestratord) over NNG req/rep. */
#ifndef PROTO_CLIENT_H
#define PROTO_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "proto/msg.h"

struct prt_client;

/*
 * Connects a req socket to url (e.g. "ipc:///run/signerd/sock").  A call
 * then waits at most timeout_ms (> 0) to hand its request over and as
 * long again for the reply.  Replies above PRT_MAX_MESSAGE are refused by
 * the transport.  The dial is synchronous:
 * a signer that is not listening fails here (ERR_IO) rather than later.
 * Returns 0 and *c, ERR_INVALID_ARG, ERR_NOMEM or ERR_IO.
 */
int prt_client_open(struct prt_client **c, const char *url, int timeout_ms)
    WARN_UNUSED;

/*
 * Closes the socket; no call may be in progress.  After a lost connection
 * it first lets NNG's redial finish (at most about a second, when nobody
 * answers), because closing during a redial's handshake leaks it in
 * libnng 1.5.  NULL is a no-op.
 */
void prt_client_close(struct prt_client *c);

/*
 * Typed calls.  Each may run concurrently with any other on the same
 * client (one NNG context per call).  Returns 0 when a well-formed reply
 * arrived: the outcome is then in hdr->result, and the reply payload is
 * filled only when hdr->result is 0.  A server refusal carried by an
 * ERROR_REP (other version, unknown type) also returns 0 with its result
 * in hdr (e.g. ERR_BAD_VERSION).  Otherwise returns a negative ERR_*:
 * ERR_TIMEOUT, ERR_IO (see prt_client_last_error), ERR_NOMEM, or the
 * decoder's code for a reply that does not parse (ERR_MALFORMED, ...).
 *
 * A call sends its request once: NNG's timed resend is off, and a
 * connection lost before the reply (signerd restarting, or a reply above
 * PRT_MAX_MESSAGE, which NNG answers by dropping the connection) fails the
 * call with ERR_IO.  The outcome is then unknown: a caller that retries
 * must reuse the request id, which signerd treats as the same request.
 * The socket redials on its own, so the client stays usable.
 */
int prt_client_sign(struct prt_client *c, const struct prt_sign_req *req,
    struct prt_sign_rep *rep, struct prt_reply_hdr *hdr) WARN_UNUSED;
int prt_client_exposure(struct prt_client *c,
    const struct prt_exposure_req *req, struct prt_exposure_rep *rep,
    struct prt_reply_hdr *hdr) WARN_UNUSED;
int prt_client_status(struct prt_client *c, struct prt_status_rep *rep,
    struct prt_reply_hdr *hdr) WARN_UNUSED;

/* QUEUE_REQ: req has the SIGN_REQ fields; rep->earliest on success. */
int prt_client_queue(struct prt_client *c, const struct prt_sign_req *req,
    struct prt_queue_rep *rep, struct prt_reply_hdr *hdr) WARN_UNUSED;

/* CANCEL_REQ, PAUSE_REQ, UNPAUSE_REQ: the outcome is hdr alone. */
int prt_client_cancel(struct prt_client *c, const struct prt_cancel_req *req,
    struct prt_reply_hdr *hdr) WARN_UNUSED;
int prt_client_pause(struct prt_client *c, const struct prt_pause_req *req,
    struct prt_reply_hdr *hdr) WARN_UNUSED;
int prt_client_unpause(struct prt_client *c,
    const struct prt_unpause_req *req, struct prt_reply_hdr *hdr) WARN_UNUSED;

/*
 * On success with hdr->result 0, *json is a malloc'd NUL-terminated copy
 * of the policy text (free() it) and *json_len its length; else NULL, 0.
 */
int prt_client_policy(struct prt_client *c, char **json, size_t *json_len,
    struct prt_reply_hdr *hdr) WARN_UNUSED;

/*
 * Governance (GOV_*_REQ): every reply carries the state after the request
 * (the version in force and the pending proposal), filled in *st when
 * hdr->result is 0.
 */
int prt_client_gov_propose(struct prt_client *c,
    const struct prt_gov_propose_req *req, struct prt_gov_state *st,
    struct prt_reply_hdr *hdr) WARN_UNUSED;
int prt_client_gov_approve(struct prt_client *c,
    const struct prt_gov_approve_req *req, struct prt_gov_state *st,
    struct prt_reply_hdr *hdr) WARN_UNUSED;
int prt_client_gov_cancel(struct prt_client *c,
    const struct prt_gov_cancel_req *req, struct prt_gov_state *st,
    struct prt_reply_hdr *hdr) WARN_UNUSED;
int prt_client_gov_status(struct prt_client *c, struct prt_gov_state *st,
    struct prt_reply_hdr *hdr) WARN_UNUSED;

/*
 * METRICS_REQ: signerd's counters, filled in *m when hdr->result is 0.
 * struct prt_metrics is large (about 60 KiB): callers allocate it.
 */
int prt_client_metrics(struct prt_client *c, struct prt_metrics *m,
    struct prt_reply_hdr *hdr) WARN_UNUSED;

/*
 * Sends len raw bytes (not checked: tests use it for malformed frames) and
 * returns the raw reply as a malloc'd *rep of *replen bytes (free() it).
 */
int prt_client_call(struct prt_client *c, const uint8_t *req, size_t len,
    uint8_t **rep, size_t *replen) WARN_UNUSED;

/*
 * Text of the last transport failure in the calling thread ("nng_dial
 * ipc:///...: Connection refused"), or "" if none.  Static per thread.
 */
const char *prt_client_last_error(void);

#endif
