/* sandboxed_signer.c: test tool that does what signerd does after its sandbox is up, to prove the seccomp allowlist is enough. */
/*
 * Before the sandbox, like signerd: HSM sessions and login, an NNG rep
 * socket listening on ipc://DIR/signer.sock, two worker threads, and the
 * journal in DIR/journal (jnl_open, with tiny segments so that appends
 * rotate them).  A client process (standing in for orchestratord) is
 * forked first and waits.  Then sbx_drop_privileges and sbx_apply_seccomp;
 * after that the client connects (so accept and SO_PEERCRED run under the
 * filter) and sends --count digests from two threads; the workers check
 * the peer uid, sign with hsm_sign and append a journal record (group
 * commit: write + fdatasync) before replying.  Then a thread started under
 * the filter writes three snapshots at three heads (the third prunes the
 * first: directory listing, unlinkat) and, with --audit-key, an HSM-signed
 * checkpoint; the process prints its own /proc/self/status Seccomp,
 * NoNewPrivs and Uid lines and closes everything.  Exit 0 only if all count signatures were made and
 * journaled and the client got every reply.
 *
 * Regenerating the allowlist: tests/tools/seccomp_trace.sh runs this with
 * --no-seccomp under strace -f and lists the calls the sandboxed process
 * (not the client) made after the "sandbox: up" marker.
 *
 * --forbidden CALL makes one disallowed call after the sandbox; the
 * process must then die of SIGSYS (exit status 159 in a shell).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "hsm/hsm.h"
#include "journal/journal.h"
#include "sandbox/sandbox.h"

#define NWORKERS 2
#define NCLIENTS 2
/* A side that died must fail the run, not hang it. */
#define TIMEOUT_MS 30000
/* Small segments, so that a test run rotates several. */
#define SEGMENT_MAX 8192

struct opts {
	const char *module;
	const char *token;
	const char *key;
	const char *audit_key;
	const char *pin_file;
	const char *dir;
	const char *user;
	const char *forbidden;
	const char *listen;	/* NULL: ipc://DIR/signer.sock */
	int no_seccomp;
	unsigned long count;
};

/* The sandboxed process's state, shared by its threads. */
struct server {
	struct hsm *hsm;
	struct hsm_key key;
	struct hsm_key audit;
	int have_audit;
	nng_socket rep;
	struct jnl *jnl;
	uid_t client_uid;
	int check_uid;		/* ipc only: tcp has no peer credentials */

	pthread_mutex_t mu;	/* everything below */
	pthread_cond_t cv;
	int go;			/* the sandbox is up (or setup failed) */
	int abort_run;
	unsigned long signed_by[NWORKERS];
	int failed;
};

struct worker {
	struct server *sv;
	int idx;
};

/* The client process's state: orchestratord's part, not sandboxed. */
struct client {
	nng_socket req;
	unsigned long n;
	int idx;
	int failed;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sandboxed_signer [--module PATH] --token URI --key URI\n"
	    "           [--audit-key URI] --pin-file FILE --dir DIR\n"
	    "           [--user NAME] [--count N]\n"
	    "           [--listen URL] [--no-seccomp]\n"
	    "           [--forbidden execve|socket|ptrace|fork|connect]\n"
	    "TEST ONLY: signs --count (100) digests over NNG in %d threads\n"
	    "under the signerd sandbox; DIR gets the socket, DIR/journal the\n"
	    "journal (both must be writable by the user).\n"
	    "--user defaults to nobody as root, else the current user.\n",
	    NWORKERS);
}

static void
report(const char *who, const char *what, int r)
{
	fprintf(stderr, "sandboxed_signer %s: %s: %s%s%s\n", who, what,
	    r < 0 ? err_str(r) : nng_strerror(r), r < 0 ? " " : "",
	    r < 0 ? hsm_last_error() : "");
}

static void
server_fail(struct server *sv, const char *what, int r)
{
	report("server", what, r);
	pthread_mutex_lock(&sv->mu);
	sv->failed = 1;
	pthread_mutex_unlock(&sv->mu);
}

/* Waits until main has the sandbox up; 0 to go on, -1 to quit. */
static int
wait_for_sandbox(struct server *sv)
{
	int quit;

	pthread_mutex_lock(&sv->mu);
	while (!sv->go)
		pthread_cond_wait(&sv->cv, &sv->mu);
	quit = sv->abort_run;
	pthread_mutex_unlock(&sv->mu);
	return quit ? -1 : 0;
}

/* One durable journal record per signature, before the reply (invariant 1). */
static int
journal_append(struct server *sv, int worker, const uint8_t sig[64])
{
	char hex[129];
	json_t *body;
	int r = ERR_NOMEM;

	util_hex_encode(hex, sig, 64);
	body = json_pack("{s:s, s:i, s:s}", "type", "test-signed", "worker",
	    worker, "sig", hex);
	if (body != NULL && (r = jnl_append(sv->jnl, NULL, NULL, body)) == 0) {
		pthread_mutex_lock(&sv->mu);
		sv->signed_by[worker]++;
		pthread_mutex_unlock(&sv->mu);
	}
	json_decref(body);
	return r;
}

/* Checks, signs, journals and answers one request; 1 when told to stop. */
static int
serve_one(struct worker *w, nng_ctx ctx, nng_aio *aio, nng_msg *msg)
{
	struct server *sv = w->sv;
	uint64_t peer_uid = 0;
	uint8_t sig[64];
	int stop = 0, r;

	/* signerd checks who sent it before reading it. */
	if (sv->check_uid)
		r = nng_pipe_get_uint64(nng_msg_get_pipe(msg),
		    NNG_OPT_IPC_PEER_UID, &peer_uid);
	else
		r = 0;
	if (r != 0) {
		server_fail(sv, "peer uid", r);
		goto out;
	}
	r = ERR_PERMISSION;
	if (sv->check_uid && peer_uid != sv->client_uid) {
		server_fail(sv, "peer uid", r);
		goto out;
	}
	if (nng_msg_len(msg) == 0) {
		stop = 1;
	} else if (nng_msg_len(msg) != 32) {
		r = ERR_MALFORMED;
		server_fail(sv, "request length", r);
		goto out;
	} else {
		if ((r = hsm_sign(sv->hsm, sig, &sv->key,
		    nng_msg_body(msg))) != 0) {
			server_fail(sv, "hsm_sign", r);
			goto out;
		}
		if ((r = journal_append(sv, w->idx, sig)) != 0) {
			server_fail(sv, "journal append", r);
			goto out;
		}
		nng_msg_clear(msg);
		if ((r = nng_msg_append(msg, sig, sizeof(sig))) != 0) {
			server_fail(sv, "reply", r);
			goto out;
		}
	}
	nng_aio_set_msg(aio, msg);
	msg = NULL;
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((r = nng_aio_result(aio)) != 0) {
		nng_msg_free(nng_aio_get_msg(aio));
		server_fail(sv, "send", r);
		goto out;
	}
	r = stop;
out:
	nng_msg_free(msg);
	return r;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *sv = w->sv;
	nng_aio *aio = NULL;
	nng_ctx ctx;
	int r, ctx_open = 0;

	if (wait_for_sandbox(sv) != 0)
		goto out;
	if ((r = nng_aio_alloc(&aio, NULL, NULL)) != 0 ||
	    (r = nng_ctx_open(&ctx, sv->rep)) != 0) {
		server_fail(sv, "worker setup", r);
		goto out;
	}
	ctx_open = 1;
	nng_aio_set_timeout(aio, TIMEOUT_MS);
	do {
		nng_ctx_recv(ctx, aio);
		nng_aio_wait(aio);
		if ((r = nng_aio_result(aio)) != 0) {
			server_fail(sv, "recv", r);
			goto out;
		}
	} while (serve_one(w, ctx, aio, nng_aio_get_msg(aio)) == 0);
out:
	if (ctx_open)
		nng_ctx_close(ctx);
	nng_aio_free(aio);
	return NULL;
}

static int
audit_sign(void *ctx, uint8_t rs[64], const uint8_t digest[32])
{
	struct server *sv = ctx;

	return hsm_sign(sv->hsm, rs, &sv->audit, digest);
}

/*
 * signerd's periodic work, in a thread started under the filter: three
 * snapshots at three heads (the third prunes the oldest) and a signed
 * checkpoint.
 */
static void *
housekeeping_main(void *arg)
{
	struct server *sv = arg;
	json_t *body = json_pack("{s:s}", "type", "test-housekeeping");
	char blob[64];
	int i, n, r = body == NULL ? ERR_NOMEM : 0;

	for (i = 0; i < 3 && r == 0; i++) {
		n = snprintf(blob, sizeof(blob), "snapshot %d", i);
		if ((r = jnl_append(sv->jnl, NULL, NULL, body)) == 0)
			r = jnl_snapshot_write(sv->jnl, blob, (size_t)n);
	}
	json_decref(body);
	if (r != 0) {
		server_fail(sv, "snapshot", r);
		return NULL;
	}
	if (sv->have_audit && (r = jnl_checkpoint(sv->jnl, audit_sign, sv))
	    != 0)
		server_fail(sv, "checkpoint", r);
	return NULL;
}

/* Prints our own seccomp, no_new_privs and uid lines: proof the filter is on. */
static void
report_status(void)
{
	char buf[4096], *line, *save = NULL;
	ssize_t n;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "Seccomp:", 8) == 0 ||
		    strncmp(line, "NoNewPrivs:", 11) == 0 ||
		    strncmp(line, "Uid:", 4) == 0)
			printf("%s\n", line);
}

/* One disallowed call; returning from here means the filter let it by. */
static int
do_forbidden(const char *what)
{
	static char *const argv[] = { "/bin/true", NULL };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (strcmp(what, "execve") == 0)
		syscall(SYS_execve, argv[0], argv, NULL);
	else if (strcmp(what, "socket") == 0)
		syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	else if (strcmp(what, "ptrace") == 0)
		syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
	else if (strcmp(what, "fork") == 0)
		(void)fork();
	else if (strcmp(what, "connect") == 0)
		syscall(SYS_connect, STDERR_FILENO, &sun, sizeof(sun));
	else
		return 2;
	fprintf(stderr, "sandboxed_signer: %s was not killed (%s)\n", what,
	    strerror(errno));
	return 3;
}

/* Sends one request on ctx; 0 if the reply has want bytes. */
static int
round_trip(nng_ctx ctx, nng_aio *aio, const void *req, size_t len,
    size_t want)
{
	nng_msg *msg = NULL;
	int r;

	if ((r = nng_msg_alloc(&msg, 0)) != 0 ||
	    (r = nng_msg_append(msg, req, len)) != 0)
		goto out;
	nng_aio_set_msg(aio, msg);
	nng_ctx_send(ctx, aio);
	nng_aio_wait(aio);
	if ((r = nng_aio_result(aio)) != 0)
		goto out;	/* msg is still ours */
	msg = NULL;
	nng_ctx_recv(ctx, aio);
	nng_aio_wait(aio);
	if ((r = nng_aio_result(aio)) != 0)
		goto out;
	msg = nng_aio_get_msg(aio);
	r = nng_msg_len(msg) == want ? 0 : NNG_EPROTO;
out:
	nng_msg_free(msg);
	return r;
}

/* count round trips (or stops, when c->idx < 0) on one context. */
static void *
client_main(void *arg)
{
	struct client *c = arg;
	nng_aio *aio = NULL;
	nng_ctx ctx;
	uint8_t digest[32];
	unsigned long i;
	int r, ctx_open = 0;

	if ((r = nng_aio_alloc(&aio, NULL, NULL)) != 0 ||
	    (r = nng_ctx_open(&ctx, c->req)) != 0)
		goto out;
	ctx_open = 1;
	nng_aio_set_timeout(aio, TIMEOUT_MS);
	for (i = 0; i < c->n; i++) {
		memset(digest, 0x5a, sizeof(digest));
		memcpy(digest, &i, sizeof(i));
		digest[31] = (uint8_t)c->idx;
		if (c->idx < 0)
			r = round_trip(ctx, aio, "", 0, 0);
		else
			r = round_trip(ctx, aio, digest, sizeof(digest), 64);
		if (r != 0)
			goto out;
	}
out:
	if (r != 0)
		report("client", "round trip", r);
	c->failed = r != 0;
	if (ctx_open)
		nng_ctx_close(ctx);
	nng_aio_free(aio);
	return NULL;
}

/*
 * The client process: waits for the server's go byte, connects, runs
 * NCLIENTS threads of requests, then stops every worker.  Writes 'k' to
 * result_fd on success.  EOF on go_fd means the server died: give up.
 */
static int
client_process(const char *url, unsigned long count, int go_fd,
    int result_fd)
{
	struct client c[NCLIENTS], stop;
	pthread_t t[NCLIENTS];
	char go;
	int i, n = 0, r = 1, req_open = 0;

	if (read(go_fd, &go, 1) != 1)
		goto out;
	if (nng_req0_open(&stop.req) != 0)
		goto out;
	req_open = 1;
	if (nng_dial(stop.req, url, NULL, 0) != 0)
		goto out;
	for (n = 0; n < NCLIENTS; n++) {
		c[n].req = stop.req;
		c[n].idx = n;
		c[n].n = count / NCLIENTS + (n == 0 ? count % NCLIENTS : 0);
		if (pthread_create(&t[n], NULL, client_main, &c[n]) != 0)
			goto out;
	}
	r = 0;
out:
	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		r |= c[i].failed;
	}
	if (req_open) {
		/* Stop the workers even after a failure, so the server ends. */
		stop.idx = -1;
		stop.n = NWORKERS;
		client_main(&stop);
		r |= stop.failed;
		nng_close(stop.req);
	}
	if (r == 0 && write(result_fd, "k", 1) != 1)
		r = 1;
	return r;
}

static int
parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "module", required_argument, NULL, 'm' },
		{ "token", required_argument, NULL, 't' },
		{ "key", required_argument, NULL, 'k' },
		{ "audit-key", required_argument, NULL, 'a' },
		{ "pin-file", required_argument, NULL, 'p' },
		{ "dir", required_argument, NULL, 'd' },
		{ "user", required_argument, NULL, 'u' },
		{ "count", required_argument, NULL, 'c' },
		{ "no-seccomp", no_argument, NULL, 'n' },
		{ "forbidden", required_argument, NULL, 'f' },
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->count = 100;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o->module = optarg; break;
		case 't': o->token = optarg; break;
		case 'k': o->key = optarg; break;
		case 'a': o->audit_key = optarg; break;
		case 'p': o->pin_file = optarg; break;
		case 'd': o->dir = optarg; break;
		case 'u': o->user = optarg; break;
		case 'n': o->no_seccomp = 1; break;
		case 'f': o->forbidden = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'c':
			errno = 0;
			o->count = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || o->count == 0 ||
			    o->count > 1000000)
				return -1;
			break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (optind != argc || o->token == NULL || o->key == NULL ||
	    o->pin_file == NULL || o->dir == NULL)
		return -1;
	return 0;
}

/* Everything signerd opens before its sandbox. */
static int
server_open(struct server *sv, const struct opts *o, const char *url)
{
	struct jnl_config jc = { .segment_max = SEGMENT_MAX };
	struct jnl_error je;
	char dir[512], msg[512];
	int r;

	if ((r = hsm_open(&sv->hsm, o->module, o->token, NWORKERS)) != 0 ||
	    (r = hsm_login(sv->hsm, o->pin_file, NULL)) != 0 ||
	    (r = hsm_key_find(sv->hsm, &sv->key, o->key)) != 0) {
		report("server", "hsm", r);
		goto out;
	}
	if (o->audit_key != NULL) {
		if ((r = hsm_key_find(sv->hsm, &sv->audit, o->audit_key))
		    != 0) {
			report("server", "audit key", r);
			goto out;
		}
		sv->have_audit = 1;
	}
	if ((r = nng_listen(sv->rep, url, NULL, 0)) != 0) {
		report("server", "listen", r);
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/journal", o->dir);
	if ((r = jnl_open(&sv->jnl, &je, dir, &jc)) != 0) {
		fprintf(stderr, "sandboxed_signer server: journal %s: %s\n",
		    dir, jnl_error_format(msg, sizeof(msg), &je));
		goto out;
	}
	r = 0;
out:
	return r;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct server sv;
	struct worker workers[NWORKERS];
	struct passwd *pw;
	pthread_t wt[NWORKERS], ht;
	char url[256], res;
	const char *user;
	int go[2] = { -1, -1 }, result[2] = { -1, -1 };
	int i, nw = 0, r, rc = 1, rep_open = 0;
	pid_t client;

	memset(&sv, 0, sizeof(sv));
	pthread_mutex_init(&sv.mu, NULL);
	pthread_cond_init(&sv.cv, NULL);
	log_init("sandboxed_signer", LOG_LEVEL_INFO);
	if (parse_opts(&o, argc, argv) != 0) {
		usage(stderr);
		return 2;
	}
	user = o.user;
	if (user == NULL && geteuid() == 0)
		user = "nobody";
	if (user == NULL && (pw = getpwuid(getuid())) != NULL)
		user = pw->pw_name;
	if (user == NULL) {
		fprintf(stderr, "sandboxed_signer: --user needed\n");
		return 2;
	}
	if ((r = sbx_harden_early()) != 0) {
		report("server", "harden", r);
		goto out;
	}
	if (o.listen != NULL)
		snprintf(url, sizeof(url), "%s", o.listen);
	else
		snprintf(url, sizeof(url), "ipc://%s/signer.sock", o.dir);
	sv.check_uid = strncmp(url, "ipc://", 6) == 0;

	/* Fork before any thread exists; the client is never sandboxed. */
	if (pipe2(go, O_CLOEXEC) != 0 || pipe2(result, O_CLOEXEC) != 0 ||
	    (client = fork()) < 0) {
		perror("sandboxed_signer: pipe/fork");
		goto out;
	}
	if (client == 0) {
		close(go[1]);
		close(result[0]);
		_exit(client_process(url, o.count, go[0], result[1]));
	}
	close(go[0]);
	close(result[1]);
	go[0] = result[1] = -1;
	sv.client_uid = getuid();

	if ((r = nng_rep0_open(&sv.rep)) != 0) {
		report("server", "rep open", r);
		goto out;
	}
	rep_open = 1;
	if (server_open(&sv, &o, url) != 0)
		goto out;
	/*
	 * jansson seeds its hash on the first json_object(), from
	 * /dev/urandom, with other threads spinning in sched_yield meanwhile.
	 * signerd has built JSON (policy, replay) long before its sandbox.
	 */
	json_object_seed(0);
	for (nw = 0; nw < NWORKERS; nw++) {
		workers[nw].sv = &sv;
		workers[nw].idx = nw;
		if (pthread_create(&wt[nw], NULL, worker_main, &workers[nw])
		    != 0) {
			server_fail(&sv, "pthread_create", ERR_INTERNAL);
			goto out;
		}
	}

	if ((r = sbx_drop_privileges(user)) != 0) {
		report("server", "drop privileges", r);
		goto out;
	}
	/* The marker tests/tools/seccomp_trace.sh cuts the trace at. */
	fprintf(stderr, "sandbox: up\n");
	if (!o.no_seccomp && (r = sbx_apply_seccomp()) != 0) {
		report("server", "seccomp", r);
		goto out;
	}
	if (o.forbidden != NULL)
		_exit(do_forbidden(o.forbidden));

	pthread_mutex_lock(&sv.mu);
	sv.go = 1;
	pthread_cond_broadcast(&sv.cv);
	pthread_mutex_unlock(&sv.mu);
	if (write(go[1], "g", 1) != 1)
		goto out;
	for (i = 0; i < nw; i++)
		pthread_join(wt[i], NULL);
	nw = 0;
	if (read(result[0], &res, 1) != 1) {
		fprintf(stderr, "sandboxed_signer: the client failed\n");
		goto out;
	}
	if (pthread_create(&ht, NULL, housekeeping_main, &sv) != 0)
		goto out;
	pthread_join(ht, NULL);
	report_status();
	if (!sv.failed &&
	    sv.signed_by[0] + sv.signed_by[1] == o.count) {
		printf("signed %lu digests (worker 0: %lu, worker 1: %lu)\n",
		    o.count, sv.signed_by[0], sv.signed_by[1]);
		rc = 0;
	}
out:
	/* Let workers still waiting for the sandbox go, and quit. */
	pthread_mutex_lock(&sv.mu);
	if (!sv.go)
		sv.abort_run = 1;
	sv.go = 1;
	pthread_cond_broadcast(&sv.cv);
	pthread_mutex_unlock(&sv.mu);
	if (rep_open)
		nng_close(sv.rep);	/* fails the workers' pending recvs */
	for (i = 0; i < nw; i++)
		pthread_join(wt[i], NULL);
	jnl_close(sv.jnl);
	hsm_close(sv.hsm);
	for (i = 0; i < 2; i++) {
		if (go[i] >= 0)
			close(go[i]);
		if (result[i] >= 0)
			close(result[i]);
	}
	pthread_cond_destroy(&sv.cv);
	pthread_mutex_destroy(&sv.mu);
	return rc;
}
