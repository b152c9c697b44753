/* webhook.c: the webhook workers: fan new outbox events out, claim due deliveries, POST them signed. */
#include "orchestratord/webhook.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "common/err.h"
#include "common/log.h"
#include "orchestratord/api.h"
#include "orchestratord/app.h"
#include "orchestratord/db.h"
#include "orchestratord/metrics.h"
#include "orchestratord/store.h"

#define WH_BATCH 4			/* deliveries claimed per statement */
#define WH_RESPONSE_MAX 65536		/* response bytes read, then dropped */
#define WH_TROUBLE_MS 1000		/* after a database error */
#define WH_NAP_SLICE_MS 100		/* how soon a nap sees a stop */
#define WH_ERROR_MAX 200		/* last_error text kept */

struct whthread {
	struct webhooks *w;
	pthread_t th;
	int index, started;
	struct db *db;
	CURL *h;
	char id[ORCH_WORKER_ID_MAX + 16];
	char curl_err[CURL_ERROR_SIZE];
	size_t got;			/* response bytes this POST */
};

struct webhooks {
	struct app *app;
	const struct wh_config *wc;
	atomic_int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* webhooks_stop wakes naps */
	char subs[WH_SUBS_MAX * (WH_NAME_MAX + 1) + 3];	/* text[] literal */
	char events[WH_SUBS_MAX][WH_EVENTS_MAX * (WH_EVENT_MAX + 1) + 3];
	size_t n;
	struct whthread t[];
};

/* One claimed delivery (columns of wh_claim). */
struct claimed {
	char subscriber[WH_NAME_MAX + 1];
	int64_t event_id;
	int attempt;
	char event[WH_EVENT_MAX + 1];
	char request_id[PRT_REQUEST_ID_MAX + 1];
	char *payload;			/* malloc'd jsonb text */
	int64_t created_ms;
};

/* --- pure parts (unit-tested) ------------------------------------------ */

int
wh_sign(char out[WH_SIG_HEX + 1], const uint8_t *secret, size_t secret_len,
    const char *timestamp, const char *body, size_t body_len)
{
	unsigned char md[WH_SIG_HEX / 2];
	char digest[] = "SHA256";
	OSSL_PARAM params[2];
	EVP_MAC_CTX *c = NULL;
	EVP_MAC *mac;
	size_t mdlen = 0;
	int ok = 0;

	out[0] = '\0';
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return ERR_INTERNAL;
	params[0] = OSSL_PARAM_construct_utf8_string("digest", digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	/* The signed text is TIMESTAMP "." BODY, fed in three pieces. */
	ok = (c = EVP_MAC_CTX_new(mac)) != NULL &&
	    EVP_MAC_init(c, secret, secret_len, params) == 1 &&
	    EVP_MAC_update(c, (const unsigned char *)timestamp,
	    strlen(timestamp)) == 1 &&
	    EVP_MAC_update(c, (const unsigned char *)".", 1) == 1 &&
	    EVP_MAC_update(c, (const unsigned char *)body, body_len) == 1 &&
	    EVP_MAC_final(c, md, &mdlen, sizeof(md)) == 1 &&
	    mdlen == sizeof(md);
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(mac);
	if (!ok)
		return ERR_INTERNAL;
	util_hex_encode(out, md, sizeof(md));
	util_wipe(md, sizeof(md));
	return 0;
}

int
wh_backoff_ms(int base_ms, int max_ms, int attempt, uint64_t rnd)
{
	uint64_t cap = base_ms > 0 ? (uint64_t)base_ms : 1;
	int i;

	if (max_ms < 1)
		max_ms = 1;
	/* Doubling stops at max_ms: no shift can overflow. */
	for (i = 1; i < attempt && cap < (uint64_t)max_ms; i++)
		cap *= 2;
	if (cap > (uint64_t)max_ms)
		cap = (uint64_t)max_ms;
	return (int)(rnd % (cap + 1));
}

/* --- threads ------------------------------------------------------------ */

static int
stopping(const struct webhooks *w)
{
	return atomic_load(&w->stop) || atomic_load(&w->app->stopping);
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleeps ms, or less when told to stop. */
static void
nap(struct webhooks *w, int ms)
{
	struct timespec until;
	double end = mono_s() + ms / 1e3, left;
	long ns;

	pthread_mutex_lock(&w->mu);
	while (!stopping(w) && (left = end - mono_s()) > 0) {
		if (left > WH_NAP_SLICE_MS / 1e3)
			left = WH_NAP_SLICE_MS / 1e3;
		clock_gettime(CLOCK_MONOTONIC, &until);
		ns = until.tv_nsec + (long)(left * 1e9);
		until.tv_sec += ns / 1000000000L;
		until.tv_nsec = ns % 1000000000L;
		(void)pthread_cond_timedwait(&w->cv, &w->mu, &until);
	}
	pthread_mutex_unlock(&w->mu);
}

/* "{a,b}": names are [a-z0-9_-] and event names letters, so no quoting. */
static void
text_array(char *out, size_t cap, const char *const *items, size_t n,
    size_t stride)
{
	size_t i, len;

	len = (size_t)snprintf(out, cap, "{");
	for (i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s",
		    i > 0 ? "," : "", items[0] + i * stride);
	if (len < cap)
		snprintf(out + len, cap - len, "}");
}

static int
exec(struct whthread *t, PGresult **res, const char *stmt, int n,
    const char *const *params)
{
	int r;

	if ((r = db_exec(t->db, res, stmt, n, params)) != 0)
		log_warn("webhook %s: %s: %s", t->id, stmt, db_last_error());
	return r;
}

static int
register_all(struct whthread *t)
{
	const struct wh_config *wc = t->w->wc;
	const char *params[1];
	PGresult *res;
	size_t i;

	for (i = 0; i < wc->nsubs; i++) {
		params[0] = wc->subs[i].name;
		if (exec(t, &res, "wh_register", 1, params) != 0)
			return -1;
		PQclear(res);
	}
	return 0;
}

/* New events of every subscriber into delivery rows. */
static int
fan_out(struct whthread *t)
{
	const struct wh_config *wc = t->w->wc;
	const char *params[2];
	PGresult *res;
	size_t i;

	for (i = 0; i < wc->nsubs; i++) {
		params[0] = wc->subs[i].name;
		params[1] = wc->subs[i].nevents > 0 ? t->w->events[i] : NULL;
		if (exec(t, &res, "wh_fanout", 2, params) != 0)
			return -1;
		PQclear(res);
	}
	return 0;
}

static const struct wh_subscriber *
find_sub(const struct wh_config *wc, const char *name)
{
	size_t i;

	for (i = 0; i < wc->nsubs; i++)
		if (strcmp(wc->subs[i].name, name) == 0)
			return &wc->subs[i];
	return NULL;
}

/* The JSON body: the event as GET /v1/events shows it. */
static char *
make_body(const struct claimed *c)
{
	json_error_t jerr;
	json_t *o, *payload;
	char *body = NULL;

	if ((o = json_object()) == NULL)
		return NULL;
	if ((payload = json_loads(c->payload, 0, &jerr)) == NULL)
		payload = json_string(c->payload);
	if (json_object_set_new(o, "id", json_integer(c->event_id)) == 0 &&
	    json_object_set_new(o, "event", json_string(c->event)) == 0 &&
	    json_object_set_new(o, "request_id", json_string(c->request_id)) ==
	    0 && json_object_set_new(o, "created_at",
	    api_json_time_ms(c->created_ms)) == 0 &&
	    json_object_set_new(o, "payload", payload) == 0)
		body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return body;
}

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct whthread *t = arg;
	size_t n = size * nmemb;

	/* The answer is not read, only bounded: 0 aborts the transfer. */
	if (n > WH_RESPONSE_MAX - t->got)
		return 0;
	t->got += n;
	return n;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	struct whthread *t = arg;

	return stopping(t->w);
}

static struct curl_slist *
headers(const struct claimed *c, const char *ts, const char *sig)
{
	struct curl_slist *h = NULL, *n;
	char line[160];
	size_t i;
	const char *fixed[] = { "Content-Type: application/json",
	    "Expect:", "Accept:" };

	for (i = 0; i < ARRAY_LEN(fixed) + 5; i++) {
		if (i < ARRAY_LEN(fixed))
			snprintf(line, sizeof(line), "%s", fixed[i]);
		else if (i == ARRAY_LEN(fixed))
			snprintf(line, sizeof(line), "Orchestrator-Event-Id: %"
			    PRId64, c->event_id);
		else if (i == ARRAY_LEN(fixed) + 1)
			snprintf(line, sizeof(line), "Orchestrator-Event: %s",
			    c->event);
		else if (i == ARRAY_LEN(fixed) + 2)
			snprintf(line, sizeof(line), "Orchestrator-Attempt: %d",
			    c->attempt);
		else if (i == ARRAY_LEN(fixed) + 3)
			snprintf(line, sizeof(line),
			    "Orchestrator-Timestamp: %s", ts);
		else
			snprintf(line, sizeof(line),
			    "Orchestrator-Signature: sha256=%s", sig);
		if ((n = curl_slist_append(h, line)) == NULL) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = n;
	}
	return h;
}

enum outcome { OUT_DELIVERED, OUT_FAILED, OUT_STOPPED };

/*
 * One POST.  The result is DELIVERED for a 2xx, STOPPED when the process
 * is stopping (not an attempt), else FAILED with the reason in err and
 * the HTTP status in *http (0: none).
 */
static enum outcome
post(struct whthread *t, const struct wh_subscriber *s,
    const struct claimed *c, const char *body, long *http, char *err,
    size_t errlen)
{
	const struct wh_config *wc = t->w->wc;
	struct curl_slist *h = NULL;
	char ts[24], sig[WH_SIG_HEX + 1];
	CURLcode cr;
	enum outcome o = OUT_FAILED;

	*http = 0;
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	if (wh_sign(sig, s->secret, s->secret_len, ts, body, strlen(body)) !=
	    0 || (h = headers(c, ts, sig)) == NULL) {
		snprintf(err, errlen, "cannot sign or build headers");
		goto out;
	}
	t->got = 0;
	t->curl_err[0] = '\0';
	curl_easy_reset(t->h);
	/*
	 * No redirects (a 3xx is a failure: the URL is the one the config
	 * checked), http/https only, no proxy from the environment, every
	 * phase bounded by timeout_ms.
	 */
	if (curl_easy_setopt(t->h, CURLOPT_URL, s->url) != CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_TIMEOUT_MS, (long)wc->timeout_ms) !=
	    CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)wc->timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_USERAGENT, "orchestratord") !=
	    CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body)) !=
	    CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_WRITEFUNCTION, on_data) !=
	    CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_WRITEDATA, t) != CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_XFERINFOFUNCTION, on_progress) !=
	    CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_XFERINFODATA, t) != CURLE_OK ||
	    curl_easy_setopt(t->h, CURLOPT_ERRORBUFFER, t->curl_err) !=
	    CURLE_OK) {
		snprintf(err, errlen, "curl setup failed");
		goto out;
	}
	cr = curl_easy_perform(t->h);
	(void)curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, http);
	if (cr == CURLE_ABORTED_BY_CALLBACK) {
		o = OUT_STOPPED;
		goto out;
	}
	/* A 2xx whose answer is too long to read still arrived. */
	if ((cr == CURLE_OK || cr == CURLE_WRITE_ERROR) && *http >= 200 &&
	    *http <= 299) {
		o = OUT_DELIVERED;
		goto out;
	}
	if (cr == CURLE_OK && *http >= 300 && *http <= 399)
		snprintf(err, errlen, "HTTP %ld (redirects are not followed)",
		    *http);
	else if (cr == CURLE_OK)
		snprintf(err, errlen, "HTTP %ld", *http);
	else
		snprintf(err, errlen, "%.*s", (int)(errlen - 1),
		    t->curl_err[0] != '\0' ? t->curl_err :
		    curl_easy_strerror(cr));
out:
	curl_slist_free_all(h);
	return o;
}

/* Ends the attempt in the database (and the metrics). */
static void
finish(struct whthread *t, const struct claimed *c, enum outcome o,
    long http, const char *err)
{
	const struct wh_config *wc = t->w->wc;
	const char *params[8], *what;
	char ev[24], att[16], code[16], delay[16];
	PGresult *res;
	uint64_t rnd = 0;

	snprintf(ev, sizeof(ev), "%" PRId64, c->event_id);
	snprintf(att, sizeof(att), "%d", c->attempt);
	snprintf(code, sizeof(code), "%ld", http);
	params[0] = c->subscriber;
	params[1] = ev;
	params[2] = t->id;
	params[3] = att;
	if (o == OUT_STOPPED) {
		if (exec(t, &res, "wh_release", 4, params) == 0)
			PQclear(res);
		return;
	}
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = (uint64_t)time(NULL) * 2654435761u;
	snprintf(delay, sizeof(delay), "%d", wh_backoff_ms(wc->backoff_base_ms,
	    wc->backoff_max_ms, c->attempt, rnd));
	what = o == OUT_DELIVERED ? "delivered" : c->attempt >=
	    wc->max_attempts ? "dead" : "retry";
	params[4] = what;
	params[5] = http > 0 ? code : NULL;
	params[6] = o == OUT_DELIVERED ? NULL : err;
	params[7] = delay;
	if (exec(t, &res, "wh_finish", 8, params) != 0)
		return;
	if (PQntuples(res) == 0)
		log_warn("webhook %s: %s event %" PRId64 ": lease lost; another "
		    "worker has it", t->id, c->subscriber, c->event_id);
	PQclear(res);
	if (o == OUT_DELIVERED) {
		metrics_webhook(t->w->app->metrics, MW_DELIVERED, c->subscriber);
		return;
	}
	metrics_webhook(t->w->app->metrics, MW_FAILED, c->subscriber);
	if (strcmp(what, "dead") == 0) {
		metrics_webhook(t->w->app->metrics, MW_DEAD, c->subscriber);
		log_warn("webhook %s event %" PRId64 " (%s): dead after %d "
		    "attempts: %s", c->subscriber, c->event_id, c->request_id,
		    c->attempt, err);
	} else {
		log_info("webhook %s event %" PRId64 ": attempt %d failed: %s; "
		    "retry in %s ms", c->subscriber, c->event_id, c->attempt,
		    err, delay);
	}
}

static void
deliver(struct whthread *t, const struct claimed *c)
{
	const struct wh_subscriber *s = find_sub(t->w->wc, c->subscriber);
	enum outcome o = OUT_FAILED;
	char err[WH_ERROR_MAX + 1] = "", *body = NULL;
	long http = 0;

	if (stopping(t->w))
		o = OUT_STOPPED;
	else if (s == NULL)
		snprintf(err, sizeof(err), "no such subscriber");
	else if ((body = make_body(c)) == NULL)
		snprintf(err, sizeof(err), "cannot build the body");
	else
		o = post(t, s, c, body, &http, err, sizeof(err));
	finish(t, c, o, http, err);
	free(body);
}

/* Claims up to WH_BATCH due deliveries into c; returns how many, or -1. */
static int
claim(struct whthread *t, struct claimed c[WH_BATCH])
{
	const struct wh_config *wc = t->w->wc;
	const char *params[4];
	char lease[16], lim[8];
	PGresult *res;
	int i, n;

	/* The lease covers every POST of the batch, each at most timeout_ms. */
	snprintf(lease, sizeof(lease), "%d", WH_BATCH * wc->timeout_ms +
	    10000);
	snprintf(lim, sizeof(lim), "%d", WH_BATCH);
	params[0] = t->id;
	params[1] = t->w->subs;
	params[2] = lease;
	params[3] = lim;
	if (exec(t, &res, "wh_claim", 4, params) != 0)
		return -1;
	n = PQntuples(res) < WH_BATCH ? PQntuples(res) : WH_BATCH;
	for (i = 0; i < n; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		snprintf(c[i].subscriber, sizeof(c[i].subscriber), "%s",
		    PQgetvalue(res, i, 0));
		c[i].event_id = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		c[i].attempt = (int)strtol(PQgetvalue(res, i, 2), NULL, 10);
		snprintf(c[i].event, sizeof(c[i].event), "%s",
		    PQgetvalue(res, i, 3));
		snprintf(c[i].request_id, sizeof(c[i].request_id), "%s",
		    PQgetvalue(res, i, 4));
		c[i].payload = strdup(PQgetvalue(res, i, 5));
		c[i].created_ms = strtoll(PQgetvalue(res, i, 6), NULL, 10);
	}
	PQclear(res);
	return n;
}

static void *
webhook_main(void *arg)
{
	struct whthread *t = arg;
	struct webhooks *w = t->w;
	struct claimed c[WH_BATCH];
	double next_fan = 0;
	int registered = t->index != 0, n, i;

	while (!stopping(w)) {
		if (!registered) {
			if (register_all(t) != 0) {
				nap(w, WH_TROUBLE_MS);
				continue;
			}
			registered = 1;
		}
		/* The first thread finds new events for every thread. */
		if (t->index == 0 && mono_s() >= next_fan) {
			if (fan_out(t) != 0) {
				nap(w, WH_TROUBLE_MS);
				continue;
			}
			next_fan = mono_s() + w->wc->poll_ms / 1e3;
		}
		if ((n = claim(t, c)) < 0) {
			nap(w, WH_TROUBLE_MS);
			continue;
		}
		for (i = 0; i < n; i++) {
			if (c[i].payload == NULL)
				c[i].payload = strdup("null");
			deliver(t, &c[i]);
			free(c[i].payload);
		}
		if (n == 0)
			nap(w, w->wc->poll_ms);
	}
	return NULL;
}

static void
webhooks_free(struct webhooks *w)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		db_close(w->t[i].db);
		if (w->t[i].h != NULL)
			curl_easy_cleanup(w->t[i].h);
	}
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

/* The text[] literals the statements take, made once. */
static void
literals(struct webhooks *w)
{
	const struct wh_config *wc = w->wc;
	const char *first;
	size_t i;

	first = wc->subs[0].name;
	text_array(w->subs, sizeof(w->subs), &first, wc->nsubs,
	    sizeof(wc->subs[0]));
	for (i = 0; i < wc->nsubs; i++) {
		first = wc->subs[i].events[0];
		text_array(w->events[i], sizeof(w->events[i]), &first,
		    wc->subs[i].nevents, sizeof(wc->subs[i].events[0]));
	}
}

int
webhooks_start(struct webhooks **out, struct app *app)
{
	const struct orch_config *cfg = app->cfg;
	const struct wh_config *wc = &cfg->webhooks;
	pthread_condattr_t ca;
	struct webhooks *w;
	struct whthread *t;
	size_t i;
	int r = ERR_NOMEM;

	*out = NULL;
	if (wc->nsubs == 0)
		return 0;
	if (wc->workers < 1 || wc->workers > 64)
		return ERR_INVALID_ARG;
	if ((w = calloc(1, sizeof(*w) + (size_t)wc->workers *
	    sizeof(w->t[0]))) == NULL)
		return ERR_NOMEM;
	w->app = app;
	w->wc = wc;
	atomic_init(&w->stop, 0);
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	literals(w);
	w->n = (size_t)wc->workers;
	for (i = 0; i < w->n; i++) {
		t = &w->t[i];
		t->w = w;
		t->index = (int)i;
		snprintf(t->id, sizeof(t->id), "%s/webhook-%d", cfg->worker_id,
		    (int)i);
		/* PostgreSQL down now is fine: db_exec connects later. */
		if (((r = db_open(&t->db, cfg->conninfo, store_stmts,
		    store_nstmts)) != 0 && r != ERR_IO) ||
		    (t->h = curl_easy_init()) == NULL) {
			r = r != 0 && r != ERR_IO ? r : ERR_NOMEM;
			goto fail;
		}
	}
	for (i = 0; i < w->n; i++) {
		if (pthread_create(&w->t[i].th, NULL, webhook_main, &w->t[i]) !=
		    0) {
			r = ERR_NOMEM;
			goto fail;
		}
		w->t[i].started = 1;
	}
	log_info("webhooks: %zu subscriber(s), %zu worker(s)", wc->nsubs, w->n);
	*out = w;
	return 0;
fail:
	webhooks_stop(w);
	return r;
}

void
webhooks_stop(struct webhooks *w)
{
	struct timespec deadline;
	int stragglers = 0;
	size_t i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	atomic_store(&w->stop, 1);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += w->app->cfg->shutdown_seconds;
	for (i = 0; i < w->n; i++) {
		if (!w->t[i].started)
			continue;
		if (pthread_timedjoin_np(w->t[i].th, NULL, &deadline) != 0) {
			log_error("webhook worker %s did not stop in time; left "
			    "running (its lease runs out)", w->t[i].id);
			stragglers++;
		}
	}
	if (stragglers == 0)
		webhooks_free(w);
}
