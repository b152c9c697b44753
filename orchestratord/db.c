/* db.c: a libpq connection that re-opens itself, and a small pool of them. */
#include "orchestratord/db.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"

struct db {
	PGconn *conn;		/* NULL or broken: re-opened before use */
	char *conninfo;
	const struct db_stmt *stmts;
	size_t nstmts;
};

struct db_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t n;
	struct db **conns;
	int *busy;
};

static _Thread_local char last_error[512];

/* Statements sent by this process, retries included (metrics, bench). */
static _Atomic uint64_t round_trips;

uint64_t
db_round_trips(void)
{
	return atomic_load_explicit(&round_trips, memory_order_relaxed);
}

static void
set_error(const char *what, const char *detail)
{
	size_t len;

	snprintf(last_error, sizeof(last_error), "%s: %s", what,
	    detail != NULL && *detail != '\0' ? detail : "unknown error");
	/* libpq messages end in a newline; log lines must not. */
	len = strlen(last_error);
	while (len > 0 && (last_error[len - 1] == '\n' ||
	    last_error[len - 1] == '\r'))
		last_error[--len] = '\0';
}

const char *
db_last_error(void)
{
	return last_error;
}

/*
 * A server that restarted closed our socket long ago (after sending a
 * termination notice); libpq notices only when it next reads, after our
 * statement went out.  Between statements we expect nothing from the
 * server (we use no LISTEN), so a readable idle socket means the session
 * is over: re-open before sending, so a request that was never at risk
 * does not fail.  A false alarm costs one reconnect.
 */
static int
idle_socket_readable(PGconn *conn)
{
	struct pollfd pfd;

	pfd.fd = PQsocket(conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	return pfd.fd < 0 || poll(&pfd, 1, 0) != 0;
}

/* Connects and prepares every statement; on failure the conn is dropped. */
static int
db_connect(struct db *d)
{
	PGresult *res;
	size_t i;

	if (d->conn != NULL && PQstatus(d->conn) == CONNECTION_OK &&
	    !idle_socket_readable(d->conn))
		return 0;
	if (d->conn != NULL) {
		PQfinish(d->conn);
		d->conn = NULL;
	}
	d->conn = PQconnectdb(d->conninfo);
	if (d->conn == NULL) {
		set_error("connect", "out of memory");
		return ERR_NOMEM;
	}
	if (PQstatus(d->conn) != CONNECTION_OK) {
		set_error("connect", PQerrorMessage(d->conn));
		PQfinish(d->conn);
		d->conn = NULL;
		return ERR_IO;
	}
	for (i = 0; i < d->nstmts; i++) {
		res = PQprepare(d->conn, d->stmts[i].name, d->stmts[i].sql,
		    d->stmts[i].nparams, NULL);
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
			set_error(d->stmts[i].name, res != NULL ?
			    PQresultErrorMessage(res) : PQerrorMessage(d->conn));
			PQclear(res);
			/*
			 * A missing table means the schema is not migrated:
			 * still a broken connection for our purposes.
			 */
			PQfinish(d->conn);
			d->conn = NULL;
			return ERR_IO;
		}
		PQclear(res);
	}
	return 0;
}

int
db_open(struct db **out, const char *conninfo, const struct db_stmt *stmts,
    size_t n)
{
	struct db *d;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return ERR_NOMEM;
	if ((d->conninfo = strdup(conninfo)) == NULL) {
		free(d);
		return ERR_NOMEM;
	}
	d->stmts = stmts;
	d->nstmts = n;
	*out = d;
	/* A database that is down now is not an error: we connect later. */
	return db_connect(d);
}

void
db_close(struct db *d)
{
	if (d == NULL)
		return;
	if (d->conn != NULL)
		PQfinish(d->conn);
	free(d->conninfo);
	free(d);
}

/*
 * Maps a result to our codes.  Connection trouble, server shutdown and
 * serialization failures are ERR_IO: the caller retries later.
 */
static int
classify(struct db *d, PGresult *res, const char *what)
{
	const char *state;
	ExecStatusType st;

	if (res == NULL) {
		set_error(what, PQerrorMessage(d->conn));
		return ERR_IO;
	}
	st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	set_error(what, PQresultErrorMessage(res));
	if (PQstatus(d->conn) != CONNECTION_OK)
		return ERR_IO;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (state == NULL)
		return ERR_IO;
	if (strcmp(state, "23505") == 0)	/* unique_violation */
		return ERR_EXISTS;
	if (strncmp(state, "08", 2) == 0 ||	/* connection exception */
	    strncmp(state, "57P", 3) == 0 ||	/* shutdown, cannot connect */
	    strcmp(state, "40001") == 0 ||	/* serialization failure */
	    strcmp(state, "40P01") == 0 ||	/* deadlock detected */
	    strcmp(state, "26000") == 0)	/* statement not prepared */
		return ERR_IO;
	return ERR_INTERNAL;
}

/*
 * 1 when the server itself said it ended the session (SQLSTATE 57P01
 * admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now): the
 * statement did not commit, so sending it again cannot do it twice.  A
 * connection that merely vanished has no SQLSTATE and is not retried.
 */
static int
server_ended_session(const PGresult *res)
{
	const char *state;

	if (res == NULL)
		return 0;
	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	return state != NULL && strncmp(state, "57P", 3) == 0;
}

int
db_execb(struct db *d, PGresult **res, const char *name, int nparams,
    const char *const *params, const int *lens, const int *formats)
{
	int attempt, r = ERR_IO, retry;

	*res = NULL;
	for (attempt = 0; attempt < 2; attempt++) {
		if ((r = db_connect(d)) != 0)
			return r;
		atomic_fetch_add_explicit(&round_trips, 1,
		    memory_order_relaxed);
		*res = PQexecPrepared(d->conn, name, nparams, params, lens,
		    formats, 0);
		if ((r = classify(d, *res, name)) == 0)
			return 0;
		retry = r == ERR_IO && server_ended_session(*res);
		PQclear(*res);
		*res = NULL;
		if (r == ERR_IO) {
			/* Re-opened on the next call (or the retry). */
			PQfinish(d->conn);
			d->conn = NULL;
		}
		if (!retry)
			break;
	}
	return r;
}

int
db_exec(struct db *d, PGresult **res, const char *name, int nparams,
    const char *const *params)
{
	return db_execb(d, res, name, nparams, params, NULL, NULL);
}

int
db_exec_sql(struct db *d, PGresult **res, const char *sql)
{
	int r;

	*res = NULL;
	if ((r = db_connect(d)) != 0)
		return r;
	atomic_fetch_add_explicit(&round_trips, 1, memory_order_relaxed);
	*res = PQexec(d->conn, sql);
	if ((r = classify(d, *res, "sql")) != 0) {
		PQclear(*res);
		*res = NULL;
		if (r == ERR_IO && PQstatus(d->conn) != CONNECTION_OK) {
			PQfinish(d->conn);
			d->conn = NULL;
		}
	}
	return r;
}

int
db_ping(struct db *d)
{
	PGresult *res;
	int r;

	r = db_exec_sql(d, &res, "SELECT 1");
	PQclear(res);
	return r;
}

int
db_pool_open(struct db_pool **out, const char *conninfo,
    const struct db_stmt *stmts, size_t nstmts, size_t n)
{
	struct db_pool *p;
	size_t i;
	int r;

	*out = NULL;
	if (n == 0)
		return ERR_INVALID_ARG;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ERR_NOMEM;
	p->conns = calloc(n, sizeof(*p->conns));
	p->busy = calloc(n, sizeof(*p->busy));
	if (p->conns == NULL || p->busy == NULL) {
		db_pool_close(p);
		return ERR_NOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->n = n;
	for (i = 0; i < n; i++) {
		r = db_open(&p->conns[i], conninfo, stmts, nstmts);
		/* Down now is fine (opened lazily); out of memory is not. */
		if (p->conns[i] == NULL) {
			db_pool_close(p);
			return r;
		}
	}
	*out = p;
	return 0;
}

void
db_pool_close(struct db_pool *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; p->conns != NULL && i < p->n; i++)
		db_close(p->conns[i]);
	if (p->conns != NULL && p->busy != NULL) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
	}
	free(p->conns);
	free(p->busy);
	free(p);
}

int
db_pool_get(struct db_pool *p, struct db **d, int timeout_ms)
{
	struct timespec deadline;
	size_t i;
	int r = 0;

	*d = NULL;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->mu);
	for (;;) {
		for (i = 0; i < p->n; i++) {
			if (!p->busy[i]) {
				p->busy[i] = 1;
				*d = p->conns[i];
				goto out;
			}
		}
		if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) != 0) {
			r = ERR_TIMEOUT;
			set_error("pool", "no free database connection");
			goto out;
		}
	}
out:
	pthread_mutex_unlock(&p->mu);
	return r;
}

void
db_pool_put(struct db_pool *p, struct db *d)
{
	size_t i;

	if (d == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	for (i = 0; i < p->n; i++) {
		if (p->conns[i] == d) {
			p->busy[i] = 0;
			break;
		}
	}
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}
