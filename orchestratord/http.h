/*
 * http.h: orchestratord's HTTP server (libmicrohttpd): request ids, one
 * log line per request, bearer tokens, roles, rate limits and body limits
 * in front of api.c's handlers.
 *
 * For every request, in this order (the first that fails answers):
 *   frame        400 BAD_REQUEST, connection closed: ambiguous framing
 *                (Content-Length with Transfer-Encoding, two that differ,
 *                a coding other than chunked), a control byte or NUL in
 *                the request line or a header (also %-encoded in the
 *                URI), a second Authorization, Host, Content-Type or
 *                X-Request-Id (frame_check in http.c)
 *   route        404 NOT_FOUND, 405 METHOD_NOT_ALLOWED (with Allow)
 *   token        401 UNAUTHENTICATED (WWW-Authenticate: Bearer) unless the
 *                endpoint is /healthz or /readyz; a request without a
 *                valid token (those two, a 401, a 404 or 405) first takes
 *                from its client's bucket (per source address,
 *                anon_rate_*): 429 RATE_LIMITED when empty
 *   rate         429 RATE_LIMITED with Retry-After (per token, auth.h)
 *   role         403 FORBIDDEN
 *   stopping     503 UNAVAILABLE for every POST once app->stopping is set
 *   body         413 TOO_LARGE above cfg->max_body (from Content-Length
 *                before any byte is read, else as soon as the count
 *                passes it: nothing more is buffered), 415
 *                UNSUPPORTED_MEDIA_TYPE unless a POST body is
 *                application/json
 * Everything up to the body is decided from the headers, so a request
 * that is refused there is answered without reading its body (and its
 * connection closed).  A chunked body over max_body is read and dropped
 * up to 1 MiB and answered 413; past that the 413 is written and the
 * connection closed.
 *
 * Connections: at most cfg->http_per_client from one source address, 256
 * in all; a request's headers must arrive within cfg->header_timeout_ms
 * (also the next request's, on a kept-alive connection) and its body
 * within cfg->body_timeout_ms of them, or the connection is closed.
 *
 * Each request has an id: the client's X-Request-Id when it is 1..64 of
 * [A-Za-z0-9._:-], else 16 hex digits from a random start and a counter.
 * It comes back in the X-Request-Id header and in error bodies, and is in
 * the request's log line: {"method", "path", "status", "request_id", "ms",
 * "caller" (the token's name), "error"} as the message of one common/log.h
 * line.  Tokens, bodies and signatures are never logged.
 */
#ifndef ORCH_HTTP_H
#define ORCH_HTTP_H

#include <stdint.h>

#include "common/util.h"
#include "orchestratord/app.h"

struct http_server;

/*
 * Binds cfg->http_host:cfg->http_port (a numeric IPv4 or IPv6 address;
 * port 0 lets the kernel pick, see http_port) and serves with
 * cfg->http_threads threads (an epoll thread pool: a handler blocked on
 * PostgreSQL or signerd holds one of them).  app must outlive the server.
 * Returns 0 and *out, ERR_INVALID_ARG (a host that is no numeric address),
 * ERR_IO (bind or start failed; logged) or ERR_NOMEM.
 */
int http_start(struct http_server **out, struct app *app) WARN_UNUSED;

/* The port actually bound. */
uint16_t http_port(const struct http_server *s);

/*
 * Stops accepting connections, lets requests in flight finish (at most
 * cfg->shutdown_seconds), then closes everything and frees s.  Set
 * app->stopping first so that requests arriving on open connections in
 * between are refused.  NULL is a no-op.
 */
void http_stop(struct http_server *s);

#endif
