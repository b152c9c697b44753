/* http.c: the libmicrohttpd server in front of api.c: ids, logs, tokens, limits, graceful stop. */
#include "orchestratord/http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
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
#define CONN_TIMEOUT_S 30
/* Bytes of an oversized body read and dropped before hanging up. */
#define DISCARD_FACTOR 4

struct http_server {
	struct app *app;
	struct MHD_Daemon *d;
	uint16_t port;
	atomic_int inflight;		/* requests begun and not completed */
	atomic_uint_least64_t counter;	/* request ids */
	uint64_t id_base;
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
};

static int64_t
mono_ms(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000 + t->tv_nsec / 1000000;
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
	/* Draining: clients should take their next request elsewhere. */
	if (atomic_load(&app->stopping))
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
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		rq->s = s;
		clock_gettime(CLOCK_MONOTONIC, &rq->start);
		rq->method = method;
		rq->path = url;
		new_request_id(s, rq, c);
		*con_cls = rq;
		atomic_fetch_add(&s->inflight, 1);
		/* Refused on its headers: answered now, its body never read. */
		if (admit(s, c, rq, &rep) != 0)
			return respond(c, rq, &rep);
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
		if (rq->discarded > (size_t)s->app->cfg->max_body *
		    DISCARD_FACTOR) {
			log_request(rq, 0, "TOO_LARGE");
			rq->responded = 1;
			return MHD_NO;
		}
		return MHD_YES;
	}
	if (rq->too_large) {
		api_error(&rep, rq->request_id, 413, "TOO_LARGE", "body above "
		    "%d bytes", s->app->cfg->max_body);
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
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
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
	/* Ids from one run do not repeat those of the last one. */
	if (getrandom(&s->id_base, sizeof(s->id_base), 0) !=
	    (ssize_t)sizeof(s->id_base))
		s->id_base = (uint64_t)time(NULL) << 20;
	s->d = MHD_start_daemon(flags, cfg->http_port, NULL, NULL, on_request,
	    s,
	    /* First, so that MHD's messages about the other options reach it. */
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->http_threads > 0 ?
	    cfg->http_threads : 1),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONN_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_END);
	if (s->d == NULL) {
		log_error("cannot serve HTTP on %s:%u", cfg->http_host,
		    (unsigned)cfg->http_port);
		r = ERR_IO;
		goto out;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info != NULL ? info->port : cfg->http_port;
	*out = s;
	s = NULL;
	r = 0;
out:
	free(s);
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
	free(s);
}
