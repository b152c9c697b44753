/* webhook_config.c: the [webhooks] and [webhook:NAME] config sections, checked at load. */
#include "orchestratord/webhook_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/secret_file.h"

/* The outbox's event names (docs/api.md): a misspelt filter is refused. */
static const char *const known_events[] = {
	"PayoutRequestCreated", "PayoutRequestApproved", "RiskCheckRejected",
	"PayoutRequestRejected", "PayoutCancelled", "PayoutQueued",
	"PayoutSubmitted", "PayoutReorged", "PayoutConfirmed", "PayoutFailed",
};

/* [webhooks]: name, member, bounds, default; index = wc->seen index. */
static const struct {
	const char *name;
	size_t off;
	long min, max, def;
} knobs[] = {
	{ "max_attempts", offsetof(struct wh_config, max_attempts), 1, 100,
	  8 },
	{ "backoff_base_ms", offsetof(struct wh_config, backoff_base_ms), 10,
	  3600000, 1000 },
	{ "backoff_max_ms", offsetof(struct wh_config, backoff_max_ms), 10,
	  86400000, 600000 },
	{ "timeout_ms", offsetof(struct wh_config, timeout_ms), 100, 60000,
	  10000 },
	{ "workers", offsetof(struct wh_config, workers), 1, 16, 1 },
	{ "poll_ms", offsetof(struct wh_config, poll_ms), 50, 60000, 500 },
};

static int __attribute__((format(printf, 3, 4)))
bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return ERR_MALFORMED;
}

int
wh_event_known(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(known_events); i++)
		if (strcmp(known_events[i], name) == 0)
			return 1;
	return 0;
}

/* A canonical decimal in [lo, hi] (config.c's rule). */
static int
parse_long(long *out, const char *v, long lo, long hi)
{
	char *end;
	long x;

	if (v[0] < '0' || v[0] > '9' || (v[0] == '0' && v[1] != '\0'))
		return -1;
	errno = 0;
	x = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

static int
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* "[v6]" or a name / IPv4 of [A-Za-z0-9.-], then an optional ":port". */
static int
check_authority(const char *a, size_t n, char *why, size_t whylen)
{
	size_t i = 0, h;
	long port;
	char digits[8];

	if (n > 0 && a[0] == '[') {
		for (i = 1; i < n && a[i] != ']'; i++)
			if (!((a[i] >= '0' && a[i] <= '9') ||
			    (a[i] >= 'a' && a[i] <= 'f') ||
			    (a[i] >= 'A' && a[i] <= 'F') || a[i] == ':' ||
			    a[i] == '.'))
				return bad(why, whylen, "bad IPv6 literal");
		if (i == n || i == 1)
			return bad(why, whylen, "bad IPv6 literal");
		h = ++i;
	} else {
		while (i < n && host_char(a[i]))
			i++;
		h = i;
	}
	if (h == 0)
		return bad(why, whylen, "no host");
	if (i == n)
		return 0;
	if (a[i] != ':' || n - i - 1 == 0 || n - i - 1 >= sizeof(digits))
		return bad(why, whylen, "bad character in host or port");
	memcpy(digits, a + i + 1, n - i - 1);
	digits[n - i - 1] = '\0';
	if (parse_long(&port, digits, 1, 65535) != 0)
		return bad(why, whylen, "port must be 1..65535");
	return 0;
}

int
wh_url_check(const char *url, char *why, size_t whylen)
{
	const char *a, *p;
	size_t len = strnlen(url, WH_URL_MAX + 1), n;

	if (len > WH_URL_MAX)
		return bad(why, whylen, "longer than %d bytes", WH_URL_MAX);
	if (strncmp(url, "http://", 7) == 0)
		a = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		a = url + 8;
	else
		return bad(why, whylen, "scheme must be http:// or https://");
	/* Printable, no spaces or quotes: it goes into a request line. */
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("\"<>\\^`{|}", *p) != NULL)
			return bad(why, whylen, "character 0x%02x not allowed",
			    (unsigned char)*p);
	n = strcspn(a, "/?#");
	/* Credentials in a URL end up in logs and error messages. */
	if (memchr(a, '@', n) != NULL)
		return bad(why, whylen, "no user:password@ in the URL (the "
		    "signature authenticates us)");
	if (a[n] == '#' || strchr(a + n, '#') != NULL)
		return bad(why, whylen, "no #fragment");
	return check_authority(a, n, why, whylen);
}

static int
set_knob(struct wh_config *wc, const char *name, const char *value, int line,
    char *why, size_t whylen)
{
	size_t i;
	long x;

	for (i = 0; i < ARRAY_LEN(knobs); i++) {
		if (strcmp(knobs[i].name, name) != 0)
			continue;
		if (wc->seen[i])
			return bad(why, whylen, "duplicate key '%s' in "
			    "[webhooks] (first at line %d)", name, wc->seen[i]);
		if (parse_long(&x, value, knobs[i].min, knobs[i].max) != 0)
			return bad(why, whylen, "'%s' must be a whole number "
			    "from %ld to %ld", name, knobs[i].min,
			    knobs[i].max);
		wc->seen[i] = line;
		*(int *)(void *)((char *)wc + knobs[i].off) = (int)x;
		return 0;
	}
	return bad(why, whylen, "unknown key '%.64s' in [webhooks]", name);
}

/* The subscriber of section "webhook:NAME", added at its first key. */
static int
subscriber(struct wh_config *wc, struct wh_subscriber **out,
    const char *name, char *why, size_t whylen)
{
	size_t i, n = strlen(name);

	for (i = 0; i < wc->nsubs; i++)
		if (strcmp(wc->subs[i].name, name) == 0) {
			*out = &wc->subs[i];
			return 0;
		}
	if (n == 0 || n > WH_NAME_MAX || strspn(name,
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
		return bad(why, whylen, "a webhook name must be 1..%d of "
		    "[a-z0-9_-]", WH_NAME_MAX);
	if (wc->nsubs == WH_SUBS_MAX)
		return bad(why, whylen, "more than %d webhooks", WH_SUBS_MAX);
	*out = &wc->subs[wc->nsubs++];
	memcpy((*out)->name, name, n + 1);
	return 0;
}

/* "A, B,C": each a known event, none twice. */
static int
set_events(struct wh_subscriber *s, const char *value, char *why,
    size_t whylen)
{
	const char *p = value;
	char ev[WH_EVENT_MAX + 1];
	size_t n, i;

	while (*p != '\0') {
		p += strspn(p, " \t");
		n = strcspn(p, ", \t");
		if (n == 0 || n > WH_EVENT_MAX)
			return bad(why, whylen, "'events' must be event names "
			    "separated by commas");
		memcpy(ev, p, n);
		ev[n] = '\0';
		if (!wh_event_known(ev))
			return bad(why, whylen, "unknown event '%s' (see "
			    "docs/api.md)", ev);
		for (i = 0; i < s->nevents; i++)
			if (strcmp(s->events[i], ev) == 0)
				return bad(why, whylen, "event '%s' named "
				    "twice", ev);
		if (s->nevents == WH_EVENTS_MAX)
			return bad(why, whylen, "more than %d events",
			    WH_EVENTS_MAX);
		memcpy(s->events[s->nevents++], ev, n + 1);
		p += n;
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		if (*p != ',' || *++p == '\0')
			return bad(why, whylen, "'events' must be event names "
			    "separated by commas");
	}
	return 0;
}

static int
set_sub_key(struct wh_subscriber *s, const char *name, const char *value,
    int line, char *why, size_t whylen)
{
	int *seen;

	if (strcmp(name, "url") == 0)
		seen = &s->line_url;
	else if (strcmp(name, "secret_file") == 0)
		seen = &s->line_secret;
	else if (strcmp(name, "events") == 0)
		seen = &s->line_events;
	else
		return bad(why, whylen, "unknown key '%.64s' in [webhook:%s]",
		    name, s->name);
	if (*seen)
		return bad(why, whylen, "duplicate key '%s' in [webhook:%s] "
		    "(first at line %d)", name, s->name, *seen);
	if (seen == &s->line_url) {
		if (wh_url_check(value, why, whylen) != 0) {
			char reason[160];

			snprintf(reason, sizeof(reason), "%s", why);
			return bad(why, whylen, "'url': %s", reason);
		}
		memcpy(s->url, value, strlen(value) + 1);
	} else if (seen == &s->line_secret) {
		if (value[0] != '/' || strlen(value) >= sizeof(s->secret_file))
			return bad(why, whylen, "'secret_file' must be an "
			    "absolute path of at most %zu bytes",
			    sizeof(s->secret_file) - 1);
		memcpy(s->secret_file, value, strlen(value) + 1);
	} else if (set_events(s, value, why, whylen) != 0) {
		s->nevents = 0;
		return ERR_MALFORMED;
	}
	*seen = line;
	return 0;
}

int
wh_config_pair(struct wh_config *wc, const char *section, const char *name,
    const char *value, int line, char *why, size_t whylen)
{
	struct wh_subscriber *s = NULL;
	int r;

	if (strcmp(section, "webhooks") == 0)
		return set_knob(wc, name, value, line, why, whylen);
	if (strncmp(section, "webhook:", 8) != 0)
		return ERR_NOT_FOUND;
	if ((r = subscriber(wc, &s, section + 8, why, whylen)) != 0)
		return r;
	return set_sub_key(s, name, value, line, why, whylen);
}

/* One line of printable ASCII without spaces; the newline is not part. */
static int
read_secret(struct wh_subscriber *s, char *why, size_t whylen)
{
	char reason[192];
	size_t n = 0, i;
	int r;

	if ((r = util_read_secret_file(s->secret_file, s->secret,
	    sizeof(s->secret), &n, reason, sizeof(reason))) != 0) {
		snprintf(why, whylen, "secret file %s: %s", s->secret_file,
		    reason);
		return r;
	}
	if (n > 0 && s->secret[n - 1] == '\n')
		n--;
	if (n > 0 && s->secret[n - 1] == '\r')
		n--;
	for (i = 0; i < n; i++)
		if (s->secret[i] <= 0x20 || s->secret[i] >= 0x7f)
			break;
	if (i < n || n < WH_SECRET_MIN) {
		util_wipe(s->secret, sizeof(s->secret));
		snprintf(why, whylen, "secret file %s: must hold one line of "
		    "%d..%d printable characters without spaces (e.g. "
		    "openssl rand -hex 32)", s->secret_file, WH_SECRET_MIN,
		    WH_SECRET_MAX);
		return ERR_MALFORMED;
	}
	util_wipe(s->secret + n, sizeof(s->secret) - n);
	s->secret_len = n;
	return 0;
}

int
wh_config_check(struct wh_config *wc, char *why, size_t whylen)
{
	struct wh_subscriber *s;
	size_t i;
	int r = 0;

	for (i = 0; i < ARRAY_LEN(knobs); i++)
		if (!wc->seen[i])
			*(int *)(void *)((char *)wc + knobs[i].off) =
			    (int)knobs[i].def;
	if (wc->backoff_base_ms > wc->backoff_max_ms)
		return bad(why, whylen, "line %d: [webhooks] backoff_base_ms "
		    "%d is above backoff_max_ms %d", wc->seen[1] ? wc->seen[1] :
		    wc->seen[2], wc->backoff_base_ms, wc->backoff_max_ms);
	for (i = 0; i < wc->nsubs && r == 0; i++) {
		s = &wc->subs[i];
		if (!s->line_url || !s->line_secret)
			r = bad(why, whylen, "[webhook:%s] needs url and "
			    "secret_file", s->name);
		else
			r = read_secret(s, why, whylen);
	}
	if (r != 0)
		wh_config_wipe(wc);
	return r;
}

void
wh_config_wipe(struct wh_config *wc)
{
	size_t i;

	for (i = 0; i < WH_SUBS_MAX; i++) {
		util_wipe(wc->subs[i].secret, sizeof(wc->subs[i].secret));
		wc->subs[i].secret_len = 0;
	}
}
