/*
 * webhook_rx.c: a scripted webhook receiver for the tests (not installed).
 *
 *   webhook_rx DIR [PORT]   listens on 127.0.0.1:PORT (default: a port
 *                           the kernel picks), written to DIR/port once
 *                           listening
 *
 * Each request to any path but /_control takes the next scripted action,
 * or the default one (ok at start), logs one JSON line to DIR/log
 * ({"n", "action", "path", "id", "event", "attempt", "ts", "sig"}) and
 * keeps its body as DIR/body-N, before acting:
 *   ok     200
 *   500    500
 *   sleep  waits 3 s (WEBHOOK_RX_SLEEP seconds), then 200: past the
 *          sender's timeout
 *   close  closes the connection without answering
 *   302    302 to /redirected (a sender that follows it shows up in the
 *          log with that path)
 * POST /_control with a body of words scripts it: each action word is
 * queued; "default=ACTION" sets the default.  One thread per connection,
 * so a sleeping answer does not hold up the next request.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HDR_MAX 16384
#define BODY_MAX (1024 * 1024)
#define QUEUE_MAX 256

static const char *dir;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char queue[QUEUE_MAX][8];
static size_t qhead, qlen;
static char def_action[8] = "ok";
static unsigned long served;

static int
valid_action(const char *a)
{
	return strcmp(a, "ok") == 0 || strcmp(a, "500") == 0 ||
	    strcmp(a, "sleep") == 0 || strcmp(a, "close") == 0 ||
	    strcmp(a, "302") == 0;
}

static void
send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0 && (w = send(fd, p, n, MSG_NOSIGNAL)) > 0) {
		p += w;
		n -= (size_t)w;
	}
}

static void
reply(int fd, const char *status, const char *extra)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "HTTP/1.1 %s\r\n%sContent-Length: 2\r\n"
	    "Connection: close\r\n\r\nok", status, extra);
	send_all(fd, buf, strlen(buf));
}

/* The value of header name in hdr (names case-insensitive), into out. */
static void
header(char *out, size_t cap, const char *hdr, const char *name)
{
	const char *p = hdr;
	size_t n = strlen(name), i;

	out[0] = '\0';
	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			while (*p == ' ')
				p++;
			for (i = 0; i + 1 < cap && p[i] != '\r' &&
			    p[i] != '\0' && p[i] != '"' && p[i] != '\\'; i++)
				out[i] = p[i];
			out[i] = '\0';
			return;
		}
	}
}

static void
control(int fd, const char *body)
{
	char word[32];
	const char *p = body;
	int n;

	pthread_mutex_lock(&mu);
	while (sscanf(p, "%31s%n", word, &n) == 1) {
		p += n;
		if (strncmp(word, "default=", 8) == 0 &&
		    valid_action(word + 8))
			snprintf(def_action, sizeof(def_action), "%.7s",
			    word + 8);
		else if (valid_action(word) && qlen < QUEUE_MAX)
			snprintf(queue[(qhead + qlen++) % QUEUE_MAX],
			    sizeof(queue[0]), "%.7s", word);
	}
	pthread_mutex_unlock(&mu);
	reply(fd, "200 OK", "");
}

/* Takes the next action and logs the request under it. */
static void
record(char action[8], const char *path, const char *hdr, const char *body,
    size_t blen)
{
	char id[32], ev[64], att[16], ts[32], sig[96], name[512];
	unsigned long n;
	FILE *f;

	header(id, sizeof(id), hdr, "Orchestrator-Event-Id");
	header(ev, sizeof(ev), hdr, "Orchestrator-Event");
	header(att, sizeof(att), hdr, "Orchestrator-Attempt");
	header(ts, sizeof(ts), hdr, "Orchestrator-Timestamp");
	header(sig, sizeof(sig), hdr, "Orchestrator-Signature");
	pthread_mutex_lock(&mu);
	if (qlen > 0) {
		memcpy(action, queue[qhead], 8);
		qhead = (qhead + 1) % QUEUE_MAX;
		qlen--;
	} else {
		memcpy(action, def_action, 8);
	}
	n = ++served;
	snprintf(name, sizeof(name), "%s/body-%lu", dir, n);
	if ((f = fopen(name, "w")) != NULL) {
		fwrite(body, 1, blen, f);
		fclose(f);
	}
	snprintf(name, sizeof(name), "%s/log", dir);
	if ((f = fopen(name, "a")) != NULL) {
		fprintf(f, "{\"n\":%lu,\"action\":\"%s\",\"path\":\"%s\","
		    "\"id\":\"%s\",\"event\":\"%s\",\"attempt\":\"%s\","
		    "\"ts\":\"%s\",\"sig\":\"%s\"}\n", n, action, path, id, ev,
		    att, ts, sig);
		fclose(f);
	}
	pthread_mutex_unlock(&mu);
}

/* Reads one request: headers into hdr, the body (malloc'd) into *body. */
static int
read_request(int fd, char *hdr, char **body, size_t *blen)
{
	size_t got = 0, want, have;
	char len[24], *end;
	ssize_t r;

	for (;;) {
		if (got == HDR_MAX - 1)
			return -1;
		if ((r = recv(fd, hdr + got, HDR_MAX - 1 - got, 0)) <= 0)
			return -1;
		got += (size_t)r;
		hdr[got] = '\0';
		if ((end = strstr(hdr, "\r\n\r\n")) != NULL)
			break;
	}
	header(len, sizeof(len), hdr, "Content-Length");
	want = (size_t)strtoul(len, NULL, 10);
	if (want > BODY_MAX || (*body = malloc(want + 1)) == NULL)
		return -1;
	have = got - (size_t)(end + 4 - hdr);
	if (have > want)
		have = want;
	memcpy(*body, end + 4, have);
	while (have < want) {
		if ((r = recv(fd, *body + have, want - have, 0)) <= 0)
			return -1;
		have += (size_t)r;
	}
	(*body)[want] = '\0';
	*blen = want;
	end[2] = '\0';		/* hdr keeps its last header's CRLF */
	return 0;
}

static void *
serve(void *arg)
{
	int fd = (int)(long)arg;
	char *hdr = malloc(HDR_MAX), *body = NULL, path[256] = "", action[8];
	size_t blen = 0;
	const char *sleep_s = getenv("WEBHOOK_RX_SLEEP");

	if (hdr == NULL || read_request(fd, hdr, &body, &blen) != 0)
		goto out;
	if (sscanf(hdr, "%*s %255s", path) != 1)
		goto out;
	if (strcmp(path, "/_control") == 0) {
		control(fd, body);
		goto out;
	}
	record(action, path, hdr, body, blen);
	if (strcmp(action, "ok") == 0) {
		reply(fd, "200 OK", "");
	} else if (strcmp(action, "500") == 0) {
		reply(fd, "500 Internal Server Error", "");
	} else if (strcmp(action, "302") == 0) {
		reply(fd, "302 Found", "Location: /redirected\r\n");
	} else if (strcmp(action, "sleep") == 0) {
		sleep(sleep_s != NULL ? (unsigned)atoi(sleep_s) : 3);
		reply(fd, "200 OK", "");
	}
	/* close: nothing at all */
out:
	free(hdr);
	free(body);
	close(fd);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char name[512], tmp[520];
	pthread_t th;
	FILE *f;
	int s, c, one = 1;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: webhook_rx DIR [PORT]\n");
		return 2;
	}
	dir = argv[1];
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(argc == 3 ? (unsigned short)atoi(argv[2]) : 0);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(s, 64) != 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &sl) != 0) {
		perror("webhook_rx");
		return 1;
	}
	snprintf(name, sizeof(name), "%s/port", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	if ((f = fopen(tmp, "w")) == NULL)
		return 1;
	fprintf(f, "%u\n", ntohs(sa.sin_port));
	fclose(f);
	if (rename(tmp, name) != 0)
		return 1;
	for (;;) {
		if ((c = accept(s, NULL, NULL)) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pthread_create(&th, NULL, serve, (void *)(long)c) != 0) {
			close(c);
			continue;
		}
		pthread_detach(th);
	}
}
