/* http.c: the libmicrohttpd server in front of api.c: ids, logs, tokens, limits, graceful stop. */
#include "orchestratord/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/err.h"
#include "common/log.h"
#include "orchestratord/api.h"

#define CONN_MEMORY (64 * 1024)	/* per connection: headers and read buffer */
#define CONN_LIMIT 256
#define CONN_TIMEOUT_S 30	/* idle, e.g. a reply nobody reads */
#define SWEEP_MS 100		/* how often deadlines are looked at */
#define SUMMARY_MS 10000	/* refused and cut connections: one line */
/*
 * Bytes of an oversized body read and dropped, so that a chunked body
 * (whose size shows only as it comes) still gets its 413: the larger of
 * this and 4 x max_body.  Past it the 413 is written and the connection
 * closed at once.
 */
#define DISCARD_MIN (1024 * 1024)

/* Where a connection is, for its deadline (sweeper()). */
enum conn_phase {
	PH_HEADERS,		/* waiting for a request's headers */
	PH_BODY,		/* headers in, reading the body */
	PH_HANDLING,		/* answering: no deadline of ours */
};

/* One TCP connection, from accept to close (MHD's socket context). */
struct http_conn {
	struct http_conn *prev, *next;	/* s->conns, under s->conns_mu */
	MHD_socket fd;
	enum conn_phase phase;		/* under s->conns_mu */
	int64_t since_ms;		/* the phase began; under s->conns_mu */
	int cut;			/* shut down by the sweeper */
	/* The current request line's raw URI (uri_logged), MHD's buffer. */
	const char *uri;
	size_t uri_len;
	int uri_bad;			/* a control byte, %-encoded or not */
};

struct http_server {
	struct app *app;
	struct MHD_Daemon *d;
	uint16_t port;
	atomic_int inflight;		/* requests begun and not completed */
	atomic_uint_least64_t counter;	/* request ids */
	uint64_t id_base;
	struct auth_clients *anon;	/* rates of requests without a token */
	pthread_mutex_t conns_mu;
	pthread_cond_t sweep_cv;	/* http_stop wakes the sweeper */
	struct http_conn *conns;	/* every open connection */
	int sweep_stop;			/* under conns_mu */
	int sweeping;			/* the sweeper thread runs */
	pthread_t sweeper;
	atomic_int refused;		/* over a connection limit (mhd_log) */
};

/* One request, from its headers to its completion. */
struct http_req {
	struct http_server *s;
	struct timespec start;
	char request_id[API_REQUEST_ID_MAX + 1];
	const char *method;		/* MHD's, valid for the request */
	const char *path;
	char caller[AUTH_NAME_MAX + 1];	/* the token's name, "" if none */
	struct api_call call;
	int routed;
	struct api_arg args[API_ARGS_MAX];
	size_t nargs;
	int too_many_args;
	int wants_body;
	uint8_t *body;
	size_t len, cap;		/* len counts dropped bytes too */
	int too_large;
	size_t discarded;
	int responded;
	int close;			/* answer with Connection: close */
	struct http_conn *conn;
};

static int64_t
mono_ms(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000 + t->tv_nsec / 1000000;
}

static int64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return mono_ms(&t);
}

static void
new_request_id(struct http_server *s, struct http_req *rq,
    struct MHD_Connection *c)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "X-Request-Id");
	uint64_t n;
	size_t i;

	/* A client's id ties our log to its own; only a safe charset. */
	if (h != NULL) {
		for (i = 0; h[i] != '\0' && i <= API_REQUEST_ID_MAX; i++) {
			char ch = h[i];

			if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' &&
			    ch <= 'z') || (ch >= '0' && ch <= '9') ||
			    ch == '.' || ch == '_' || ch == ':' || ch == '-'))
				break;
		}
		if (i > 0 && i <= API_REQUEST_ID_MAX && h[i] == '\0') {
			memcpy(rq->request_id, h, i + 1);
			return;
		}
	}
	n = s->id_base + atomic_fetch_add(&s->counter, 1);
	snprintf(rq->request_id, sizeof(rq->request_id), "%016llx",
	    (unsigned long long)n);
}

static void
log_request(const struct http_req *rq, int status, const char *code)
{
	char path[200], epath[420], method[16], line[800];
	struct timespec now;
	double ms;
	size_t i;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (double)(now.tv_sec - rq->start.tv_sec) * 1e3 +
	    (double)(now.tv_nsec - rq->start.tv_nsec) / 1e6;
	/* The path is the client's: printable ASCII only, then escaped. */
	snprintf(path, sizeof(path), "%s", rq->path != NULL ? rq->path : "");
	snprintf(method, sizeof(method), "%s", rq->method != NULL ?
	    rq->method : "");
	for (i = 0; path[i] != '\0'; i++)
		if (path[i] < 0x20 || path[i] >= 0x7f)
			path[i] = '?';
	for (i = 0; method[i] != '\0'; i++)
		if (method[i] <= 0x20 || method[i] >= 0x7f || method[i] == '"' ||
		    method[i] == '\\')
			method[i] = '?';
	util_json_escape(epath, sizeof(epath), path);
	snprintf(line, sizeof(line), "{\"method\":\"%s\",\"path\":\"%s\","
	    "\"status\":%d,\"request_id\":\"%s\",\"ms\":%.3f,\"caller\":\"%s\""
	    "%s%s%s}", method, epath, status, rq->request_id, ms, rq->caller,
	    code != NULL ? ",\"error\":\"" : "", code != NULL ? code : "",
	    code != NULL ? "\"" : "");
	if (status >= 500 || status == 0)
		log_warn("%s", line);
	else
		log_info("%s", line);
}

static enum MHD_Result
respond(struct MHD_Connection *c, struct http_req *rq, struct api_reply *rep)
{
	struct app *app = rq->s->app;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char retry[16];

	rq->responded = 1;
	resp = MHD_create_response_from_buffer(rep->len,
	    rep->body != NULL ? rep->body : (char *)"", rep->body != NULL ?
	    MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		api_reply_free(rep);
		log_request(rq, 0, "NO_MEMORY");
		return MHD_NO;
	}
	/* MHD owns the body now. */
	rep->body = NULL;
	if (rep->content_type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    rep->content_type);
	MHD_add_response_header(resp, "X-Request-Id", rq->request_id);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (rep->retry_after > 0) {
		snprintf(retry, sizeof(retry), "%d", rep->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
		    retry);
	}
	if (rep->www_authenticate)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		    "Bearer realm=\"orchestratord\"");
	if (rep->allow != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rep->allow);
	/*
	 * Draining: clients should take their next request elsewhere.  A
	 * request refused on its framing leaves bytes that are no request.
	 */
	if (atomic_load(&app->stopping) || rq->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	ret = MHD_queue_response(c, (unsigned)rep->status, resp);
	MHD_destroy_response(resp);
	metrics_http(app->metrics, rep->status);
	log_request(rq, rep->status, rep->code);
	return ret;
}

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct http_req *rq = cls;

	if (rq->nargs == API_ARGS_MAX) {
		rq->too_many_args = 1;
		return MHD_NO;
	}
	rq->args[rq->nargs].key = key;
	rq->args[rq->nargs].value = value;
	rq->nargs++;
	return MHD_YES;
}

/* --- connections and their deadlines ---------------------------------- */

static void
conn_phase(struct http_server *s, struct http_conn *conn,
    enum conn_phase phase)
{
	if (conn == NULL)
		return;
	pthread_mutex_lock(&s->conns_mu);
	conn->phase = phase;
	conn->since_ms = now_ms();
	pthread_mutex_unlock(&s->conns_mu);
}

static struct http_conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/*
 * MHD tells of each connection when it is accepted and when it is gone
 * (CLOSED comes before MHD closes the socket, so the sweeper never sees a
 * descriptor number that another connection may have taken).
 */
static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	const union MHD_ConnectionInfo *ci;
	struct http_conn *conn = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		/* Without one, on_request hangs up: no deadline, no request. */
		if (ci == NULL || (conn = calloc(1, sizeof(*conn))) == NULL)
			return;
		conn->fd = ci->connect_fd;
		pthread_mutex_lock(&s->conns_mu);
		conn->phase = PH_HEADERS;
		conn->since_ms = now_ms();
		conn->next = s->conns;
		if (s->conns != NULL)
			s->conns->prev = conn;
		s->conns = conn;
		pthread_mutex_unlock(&s->conns_mu);
		*socket_context = conn;
		return;
	}
	if (conn == NULL)
		return;
	pthread_mutex_lock(&s->conns_mu);
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		s->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	pthread_mutex_unlock(&s->conns_mu);
	free(conn);
	*socket_context = NULL;
}

/*
 * Slow clients: a connection whose request headers (or, on a kept-alive
 * connection, whose next request) have not all arrived within
 * header_timeout_ms, or whose body has not within body_timeout_ms of its
 * headers, is shut down; MHD then sees the end of the stream and closes
 * it.  MHD's own timeout counts idle time only: one byte every few
 * seconds would hold a connection for ever.
 */
static void *
sweeper(void *arg)
{
	struct http_server *s = arg;
	const struct orch_config *cfg = s->app->cfg;
	struct http_conn *conn;
	struct timespec until;
	int64_t now, limit, summary = now_ms() + SUMMARY_MS;
	int cut = 0, refused;

	pthread_mutex_lock(&s->conns_mu);
	while (!s->sweep_stop) {
		now = now_ms();
		for (conn = s->conns; conn != NULL; conn = conn->next) {
			limit = conn->phase == PH_HEADERS ?
			    cfg->header_timeout_ms : conn->phase == PH_BODY ?
			    cfg->body_timeout_ms : 0;
			if (limit == 0 || conn->cut ||
			    now - conn->since_ms <= limit)
				continue;
			(void)shutdown(conn->fd, SHUT_RDWR);
			conn->cut = 1;
			cut++;
		}
		/* Under attack these come by the hundred: one line a while. */
		if (now >= summary) {
			refused = atomic_exchange(&s->refused, 0);
			if (cut > 0 || refused > 0)
				log_warn("http: in the last %d s, %d connection(s) "
				    "closed for sending no complete request in "
				    "time, %d refused over the connection limits",
				    SUMMARY_MS / 1000, cut, refused);
			cut = 0;
			summary = now + SUMMARY_MS;
		}
		now += SWEEP_MS;
		until.tv_sec = (time_t)(now / 1000);
		until.tv_nsec = (long)(now % 1000) * 1000000L;
		(void)pthread_cond_timedwait(&s->sweep_cv, &s->conns_mu,
		    &until);
	}
	pthread_mutex_unlock(&s->conns_mu);
	return NULL;
}

/* --- framing and bytes: what MHD lets through ---------------------------- */

static int
is_ctl(unsigned char ch)
{
	return ch < 0x20 || ch == 0x7f;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* A raw URI: no control byte, written or %-encoded (%00 cuts a path). */
static int
uri_ok(const char *uri, size_t len)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (is_ctl((unsigned char)uri[i]) || uri[i] == ' ')
			return 0;
		if (uri[i] != '%' || i + 2 >= len || (hi = hexval(uri[i +
		    1])) < 0 || (lo = hexval(uri[i + 2])) < 0)
			continue;
		if (is_ctl((unsigned char)(hi * 16 + lo)))
			return 0;
	}
	return 1;
}

/*
 * The URI log callback: the request line's URI as the client sent it,
 * before MHD splits the query and decodes %XX in place (cutting the path
 * at a decoded NUL).  Judged now, kept with the connection for
 * frame_check.
 */
static void *
uri_logged(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct http_conn *conn = conn_of(c);

	if (conn != NULL) {
		conn->uri = uri;
		conn->uri_len = strlen(uri);
		conn->uri_bad = !uri_ok(uri, conn->uri_len);
	}
	return NULL;
}

/* What one pass over the headers found (frame_header). */
struct frame {
	uintptr_t next;		/* where the next line must start, +1 or +2 */
	int layout_ok;
	int ctl;		/* a control byte in a name or value */
	int n_cl, n_te, n_auth, n_host, n_ct, n_id;
	int cl_bad;		/* not digits, or two that differ */
	const char *cl, *te;
	size_t cl_len, te_len;
};

/* Just past a line's end: its CRLF or LF. */
static int
line_gap(uintptr_t from, uintptr_t to)
{
	return to > from && to - from <= 2;
}

/* Value without trailing blanks (MHD strips only the leading ones). */
static size_t
trimmed(const char *v, size_t n)
{
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return n;
}

static int
hdr_is(const char *key, size_t ks, const char *name)
{
	return ks == strlen(name) && strncasecmp(key, name, ks) == 0;
}

static enum MHD_Result
frame_header(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t ks, const char *v, size_t vs)
{
	struct frame *f = cls;
	uintptr_t k = (uintptr_t)key, val = (uintptr_t)v;
	size_t i, n;

	if (v == NULL)
		v = "";
	/* Each line right after the last one's end; its value after ':'. */
	if (!line_gap(f->next, k) || val < k + ks + 1)
		f->layout_ok = 0;
	f->next = val + vs;
	for (i = 0; i < ks; i++)
		if (is_ctl((unsigned char)key[i]))
			f->ctl = 1;
	for (i = 0; i < vs; i++)
		if (is_ctl((unsigned char)v[i]) && v[i] != '\t')
			f->ctl = 1;
	n = trimmed(v, vs);
	if (hdr_is(key, ks, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
		if (n == 0 || strspn(v, "0123456789") < n ||
		    (f->n_cl > 0 && (n != f->cl_len || memcmp(v, f->cl, n) !=
		    0)))
			f->cl_bad = 1;
		f->cl = v;
		f->cl_len = n;
		f->n_cl++;
	} else if (hdr_is(key, ks, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
		f->te = v;
		f->te_len = n;
		f->n_te++;
	} else if (hdr_is(key, ks, MHD_HTTP_HEADER_AUTHORIZATION))
		f->n_auth++;
	else if (hdr_is(key, ks, MHD_HTTP_HEADER_HOST))
		f->n_host++;
	else if (hdr_is(key, ks, MHD_HTTP_HEADER_CONTENT_TYPE))
		f->n_ct++;
	else if (hdr_is(key, ks, "X-Request-Id"))
		f->n_id++;
	return MHD_YES;
}

/*
 * The request's bytes and framing, before anything reads a header: 400
 * (connection closed) for
 *   - a control byte in the URI (also %-encoded: %00 would cut the path
 *     or a query value short), in a header name or value (HTAB aside);
 *   - a NUL hidden in the request line or a header.  MHD 0.9 parses the
 *     header block in place and ends each string at its first NUL, so
 *     "Bearer good\0junk" would read as "Bearer good".  What was cut
 *     shows as bytes no string accounts for: every part must start right
 *     after the previous one ends (one space in the request line, a
 *     line break between lines) and the block end right after the last;
 *     a line MHD moved elsewhere (obs-fold) is refused the same way;
 *   - Content-Length together with Transfer-Encoding, two Content-Lengths
 *     that differ or one that is not digits, a Transfer-Encoding other
 *     than exactly "chunked" (RFC 9112 6.1, 6.3: the body's length is
 *     unknown, and the bytes after it must not be read as a request);
 *   - more than one Authorization, Host, Content-Type or X-Request-Id.
 */
static int
frame_check(struct MHD_Connection *c, struct http_req *rq,
    const char *version, struct api_reply *rep)
{
	const union MHD_ConnectionInfo *ci;
	struct http_conn *conn = rq->conn;
	const char *why = NULL;
	uintptr_t base = (uintptr_t)rq->method, end;
	struct frame f;

	memset(&f, 0, sizeof(f));
	f.layout_ok = 1;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (conn->uri == NULL || conn->uri_bad) {
		why = "a control byte in the request target";
		goto out;
	}
	if (ci == NULL || (uintptr_t)conn->uri != base + strlen(rq->method) +
	    1 || (uintptr_t)version != (uintptr_t)conn->uri + conn->uri_len +
	    1) {
		why = "a NUL or stray byte in the request line";
		goto out;
	}
	end = base + ci->header_size;
	f.next = (uintptr_t)version + strlen(version);
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, frame_header, &f);
	/* The last line's break, then the empty line's. */
	if (!f.layout_ok || end < f.next + 2 || end > f.next + 4)
		why = "a NUL or stray byte in a header";
	else if (f.ctl)
		why = "a control byte in a header";
	else if (f.n_te > 0 && f.n_cl > 0)
		why = "both Content-Length and Transfer-Encoding";
	else if (f.n_te > 1 || (f.n_te == 1 && (f.te_len != 7 ||
	    strncasecmp(f.te, "chunked", 7) != 0)))
		why = "a Transfer-Encoding other than chunked";
	else if (f.cl_bad)
		why = "Content-Length not one decimal number";
	else if (f.n_auth > 1)
		why = "more than one Authorization header";
	else if (f.n_host > 1)
		why = "more than one Host header";
	else if (f.n_ct > 1)
		why = "more than one Content-Type header";
	else if (f.n_id > 1)
		why = "more than one X-Request-Id header";
out:
	if (why == NULL)
		return 0;
	api_error(rep, rq->request_id, 400, "BAD_REQUEST", "malformed "
	    "request: %s", why);
	return ERR_MALFORMED;
}

/*
 * A request that carries no valid token (an open endpoint, a 401, a
 * 404): one from its client's bucket, by source address.  Returns 1, or
 * 0 with a 429 in rep.
 */
static int
anon_take(struct http_server *s, struct MHD_Connection *c,
    struct http_req *rq, struct api_reply *rep)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	uint8_t key[AUTH_CLIENT_KEY_MAX];
	size_t len = 1;
	int retry;

	memset(key, 0, sizeof(key));
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci != NULL ? ci->client_addr : NULL;
	if (sa != NULL && sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		len = 5;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    16);
		len = 17;
	}
	if (auth_clients_take(s->anon, key, len, now_ms(), &retry))
		return 1;
	api_error(rep, rq->request_id, 429, "RATE_LIMITED", "too many "
	    "requests without a valid token from this client; retry in %d s",
	    retry);
	rep->retry_after = retry;
	return 0;
}

/* application/json, with or without parameters (charset=utf-8). */
static int
is_json(const char *ct)
{
	static const char want[] = "application/json";

	if (ct == NULL)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, sizeof(want) - 1) != 0)
		return 0;
	ct += sizeof(want) - 1;
	return *ct == '\0' || *ct == ';' || *ct == ' ' || *ct == '\t';
}

/* The bearer token's entry, or a 401 in rep. */
static int
authenticate(struct http_server *s, struct MHD_Connection *c,
    struct http_req *rq, size_t *idx, struct api_reply *rep)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	size_t len;

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
		if (!anon_take(s, c, rq, rep))
			return ERR_PERMISSION;
		api_error(rep, rq->request_id, 401, "UNAUTHENTICATED", "a "
		    "bearer token is required (Authorization: Bearer TOKEN)");
		rep->www_authenticate = 1;
		return ERR_PERMISSION;
	}
	h += 7;
	while (*h == ' ')
		h++;
	len = strlen(h);
	while (len > 0 && (h[len - 1] == ' ' || h[len - 1] == '\t'))
		len--;
	if (auth_lookup(s->app->auth, h, len, idx) != 0) {
		/* Guessing tokens costs the guesser's budget, not ours. */
		if (!anon_take(s, c, rq, rep))
			return ERR_PERMISSION;
		api_error(rep, rq->request_id, 401, "UNAUTHENTICATED", "the "
		    "bearer token is not valid");
		rep->www_authenticate = 1;
		return ERR_PERMISSION;
	}
	return 0;
}

/*
 * Everything decided from the request line and headers: route, token,
 * rate, role, stopping, body size and type.  Returns 0 to go on reading
 * the body, or an error with the reply in rep.
 */
static int
admit(struct http_server *s, struct MHD_Connection *c, struct http_req *rq,
    struct api_reply *rep)
{
	const struct orch_config *cfg = s->app->cfg;
	const char *allow, *cl;
	struct timespec now;
	enum auth_perm perm;
	unsigned long long n;
	char *end;
	size_t idx;
	int retry, r;

	r = api_route(&rq->call, &allow, rq->method, rq->path);
	if (r != 0 && !anon_take(s, c, rq, rep))
		return r;
	if (r == ERR_NOT_FOUND) {
		api_error(rep, rq->request_id, 404, "NOT_FOUND", "no such "
		    "endpoint");
		return r;
	}
	if (r != 0) {
		api_error(rep, rq->request_id, 405, "METHOD_NOT_ALLOWED",
		    "%s is not allowed here (allowed: %s)", rq->method, allow);
		rep->allow = allow;
		return r;
	}
	rq->routed = 1;
	perm = api_perm(&rq->call);
	if (perm == AUTH_PERM_NONE && !anon_take(s, c, rq, rep))
		return ERR_PERMISSION;
	if (perm != AUTH_PERM_NONE) {
		if ((r = authenticate(s, c, rq, &idx, rep)) != 0)
			return r;
		snprintf(rq->caller, sizeof(rq->caller), "%s",
		    auth_name(s->app->auth, idx));
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!auth_rate_take(s->app->auth, idx, mono_ms(&now), &retry)) {
			api_error(rep, rq->request_id, 429, "RATE_LIMITED",
			    "too many requests for %s; retry in %d s",
			    rq->caller, retry);
			rep->retry_after = retry;
			return ERR_PERMISSION;
		}
		if (!auth_role_allows(auth_role(s->app->auth, idx), perm)) {
			api_error(rep, rq->request_id, 403, "FORBIDDEN", "%s "
			    "(role %s) may not %s %s", rq->caller,
			    auth_role_name(auth_role(s->app->auth, idx)),
			    rq->method, rq->path);
			return ERR_PERMISSION;
		}
	}
	rq->wants_body = api_wants_body(&rq->call);
	if (rq->wants_body && atomic_load(&s->app->stopping)) {
		api_error(rep, rq->request_id, 503, "UNAVAILABLE", "shutting "
		    "down; not taking requests");
		rep->retry_after = 1;
		return ERR_UNSUPPORTED;
	}
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL) {
		n = strtoull(cl, &end, 10);
		if (end != cl && n > (unsigned long long)cfg->max_body) {
			api_error(rep, rq->request_id, 413, "TOO_LARGE", "body "
			    "above %d bytes", cfg->max_body);
			rq->too_large = 1;
			return ERR_TOO_LARGE;
		}
	}
	if (rq->wants_body && !is_json(MHD_lookup_connection_value(c,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		api_error(rep, rq->request_id, 415, "UNSUPPORTED_MEDIA_TYPE",
		    "the body must be Content-Type: application/json");
		return ERR_UNSUPPORTED;
	}
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, rq);
	if (rq->too_many_args) {
		api_error(rep, rq->request_id, 400, "BAD_REQUEST", "more than "
		    "%d query parameters", API_ARGS_MAX);
		return ERR_MALFORMED;
	}
	return 0;
}

/* Buffers body bytes up to max_body; past it, only counts them. */
static void
absorb(struct http_req *rq, const char *data, size_t n)
{
	size_t max = (size_t)rq->s->app->cfg->max_body, cap;
	uint8_t *nb;

	if (rq->too_large) {
		rq->discarded += n;
		return;
	}
	if (n > max - rq->len) {
		/* 413 before buffering more: what is held goes now. */
		rq->too_large = 1;
		free(rq->body);
		rq->body = NULL;
		rq->cap = 0;
		rq->discarded += n;
		return;
	}
	if (!rq->wants_body) {
		rq->len += n;		/* a GET's body is read and ignored */
		return;
	}
	if (rq->len + n > rq->cap) {
		cap = rq->cap == 0 ? 1024 : rq->cap;
		while (cap < rq->len + n)
			cap *= 2;
		if (cap > max)
			cap = max;
		if ((nb = realloc(rq->body, cap)) == NULL) {
			/* Memory is short: answer as if it were too large. */
			rq->too_large = 1;
			free(rq->body);
			rq->body = NULL;
			rq->cap = 0;
			return;
		}
		rq->body = nb;
		rq->cap = cap;
	}
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
}

/*
 * A body past the discard bound: MHD 0.9 cannot queue a reply once the
 * body is being read, so the 413 is written to the socket here (MHD has
 * written nothing for this request) and the connection closed after it.
 */
static void
cut_too_large(struct http_server *s, struct MHD_Connection *c,
    struct http_req *rq)
{
	const union MHD_ConnectionInfo *ci;
	struct api_reply rep;
	char head[512];
	int n;

	memset(&rep, 0, sizeof(rep));
	rq->responded = 1;
	api_error(&rep, rq->request_id, 413, "TOO_LARGE", "body above %d "
	    "bytes", s->app->cfg->max_body);
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	n = snprintf(head, sizeof(head), "HTTP/1.1 413 Content Too Large\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	    "X-Request-Id: %s\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n", rep.len, rq->request_id);
	if (ci != NULL && n > 0 && (size_t)n < sizeof(head) &&
	    send(ci->connect_fd, head, (size_t)n, MSG_NOSIGNAL |
	    MSG_DONTWAIT) == n && rep.body != NULL)
		(void)send(ci->connect_fd, rep.body, rep.len, MSG_NOSIGNAL |
		    MSG_DONTWAIT);
	if (ci != NULL)
		(void)shutdown(ci->connect_fd, SHUT_WR);
	metrics_http(s->app->metrics, 413);
	log_request(rq, 413, "TOO_LARGE");
	api_reply_free(&rep);
}

static size_t
discard_max(const struct http_server *s)
{
	size_t four = (size_t)s->app->cfg->max_body * 4;

	return four > DISCARD_MIN ? four : DISCARD_MIN;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_server *s = cls;
	struct http_req *rq = *con_cls;
	struct api_request areq;
	struct api_reply rep;

	memset(&rep, 0, sizeof(rep));
	if (rq == NULL) {
		/* No connection record: no deadline could hold it; hang up. */
		if (conn_of(c) == NULL ||
		    (rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		rq->s = s;
		rq->conn = conn_of(c);
		clock_gettime(CLOCK_MONOTONIC, &rq->start);
		rq->method = method;
		rq->path = url;
		new_request_id(s, rq, c);
		*con_cls = rq;
		atomic_fetch_add(&s->inflight, 1);
		conn_phase(s, rq->conn, PH_BODY);
		/* Refused on its headers: answered now, its body never read. */
		if (frame_check(c, rq, version, &rep) != 0 ||
		    admit(s, c, rq, &rep) != 0) {
			rq->close = 1;
			conn_phase(s, rq->conn, PH_HANDLING);
			return respond(c, rq, &rep);
		}
		return MHD_YES;
	}
	if (rq->responded) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		absorb(rq, upload_data, *upload_data_size);
		*upload_data_size = 0;
		/* A client that keeps sending past the limit is cut off. */
		if (rq->discarded > discard_max(s)) {
			cut_too_large(s, c, rq);
			return MHD_NO;
		}
		return MHD_YES;
	}
	conn_phase(s, rq->conn, PH_HANDLING);
	if (rq->too_large) {
		api_error(&rep, rq->request_id, 413, "TOO_LARGE", "body above "
		    "%d bytes", s->app->cfg->max_body);
		rq->close = 1;
		return respond(c, rq, &rep);
	}
	memset(&areq, 0, sizeof(areq));
	areq.request_id = rq->request_id;
	areq.args = rq->args;
	areq.nargs = rq->nargs;
	if (rq->wants_body) {
		/* An empty body is "" to the JSON parser: a 400 BAD_JSON. */
		areq.body = rq->body != NULL ? rq->body : (const uint8_t *)"";
		areq.body_len = rq->len;
	}
	api_handle(s->app, &rq->call, &areq, &rep);
	return respond(c, rq, &rep);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct http_req *rq = *con_cls;

	if (rq == NULL)
		return;
	if (!rq->responded)
		log_request(rq, 0, "ABORTED");
	/* A kept-alive connection waits for its next request's headers. */
	conn_phase(s, rq->conn, PH_HEADERS);
	if (rq->conn != NULL)
		rq->conn->uri = NULL;
	free(rq->body);
	free(rq);
	*con_cls = NULL;
	atomic_fetch_sub(&s->inflight, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *s = cls;
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	/*
	 * A connection over the limits, or one its client (or our sweeper)
	 * closed: routine, and by the hundred under attack.  Counted into
	 * the sweeper's summary, or debug only.
	 */
	if (strncmp(msg, "Server reached connection limit", 31) == 0) {
		atomic_fetch_add(&s->refused, 1);
		return;
	}
	if (strstr(msg, "detected connection closure") != NULL) {
		log_debug("microhttpd: %s", msg);
		return;
	}
	log_warn("microhttpd: %s", msg);
}

int
http_start(struct http_server **out, struct app *app)
{
	const struct orch_config *cfg = app->cfg;
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	const union MHD_DaemonInfo *info;
	pthread_condattr_t ca;
	struct http_server *s;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC |
	    MHD_USE_ERROR_LOG;
	int r;

	*out = NULL;
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, cfg->http_host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(cfg->http_port);
	} else if (inet_pton(AF_INET6, cfg->http_host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(cfg->http_port);
		flags |= MHD_USE_IPv6;
	} else {
		log_error("http host %s is not a numeric address",
		    cfg->http_host);
		return ERR_INVALID_ARG;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ERR_NOMEM;
	s->app = app;
	atomic_init(&s->inflight, 0);
	atomic_init(&s->counter, 0);
	atomic_init(&s->refused, 0);
	pthread_mutex_init(&s->conns_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->sweep_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (auth_clients_new(&s->anon, cfg->anon_rate_per_second,
	    cfg->anon_rate_burst) != 0) {
		r = ERR_NOMEM;
		goto out;
	}
	/* Ids from one run do not repeat those of the last one. */
	if (getrandom(&s->id_base, sizeof(s->id_base), 0) !=
	    (ssize_t)sizeof(s->id_base))
		s->id_base = (uint64_t)time(NULL) << 20;
	s->d = MHD_start_daemon(flags, cfg->http_port, NULL, NULL, on_request,
	    s,
	    /* First, so that MHD's messages about the other options reach it. */
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->http_threads > 0 ?
	    cfg->http_threads : 1),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
	    /* One client cannot take every connection (issue 15). */
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->http_per_client,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_logged, s,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_END);
	if (s->d == NULL) {
		log_error("cannot serve HTTP on %s:%u", cfg->http_host,
		    (unsigned)cfg->http_port);
		r = ERR_IO;
		goto out;
	}
	if (pthread_create(&s->sweeper, NULL, sweeper, s) != 0) {
		MHD_stop_daemon(s->d);
		r = ERR_NOMEM;
		goto out;
	}
	s->sweeping = 1;
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info != NULL ? info->port : cfg->http_port;
	*out = s;
	s = NULL;
	r = 0;
out:
	if (s != NULL) {
		auth_clients_free(s->anon);
		pthread_cond_destroy(&s->sweep_cv);
		pthread_mutex_destroy(&s->conns_mu);
		free(s);
	}
	return r;
}

uint16_t
http_port(const struct http_server *s)
{
	return s->port;
}

void
http_stop(struct http_server *s)
{
	struct timespec now, until, tick = { 0, 10 * 1000 * 1000 };
	MHD_socket fd;

	if (s == NULL)
		return;
	/* No new connections; open ones finish what they are doing. */
	fd = MHD_quiesce_daemon(s->d);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += s->app->cfg->shutdown_seconds > 0 ?
	    s->app->cfg->shutdown_seconds : 1;
	for (;;) {
		if (atomic_load(&s->inflight) == 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > until.tv_sec || (now.tv_sec == until.tv_sec &&
		    now.tv_nsec >= until.tv_nsec)) {
			log_warn("http: %d request(s) still in flight; closing",
			    atomic_load(&s->inflight));
			break;
		}
		nanosleep(&tick, NULL);
	}
	MHD_stop_daemon(s->d);
	/* MHD's threads may use the listening socket until they are gone. */
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	pthread_mutex_lock(&s->conns_mu);
	s->sweep_stop = 1;
	pthread_cond_broadcast(&s->sweep_cv);
	pthread_mutex_unlock(&s->conns_mu);
	if (s->sweeping)
		pthread_join(s->sweeper, NULL);
	auth_clients_free(s->anon);
	pthread_cond_destroy(&s->sweep_cv);
	pthread_mutex_destroy(&s->conns_mu);
	free(s);
}
