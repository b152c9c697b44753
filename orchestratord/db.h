/* db.h: one PostgreSQL connection (libpq) with prepared statements and reconnects. */
#ifndef ORCH_DB_H
#define ORCH_DB_H

#include <stdint.h>

#include <libpq-fe.h>

#include "common/util.h"

/*
 * A connection is used by one thread at a time (libpq's rule); each worker,
 * the tracker and each HTTP request thread take their own from a pool
 * (db_pool_get / db_pool_put).  Statements are prepared by name on every
 * (re)connect from the table in store.c, so callers run only prepared
 * statements (no SQL built from input).
 */
struct db;
struct db_pool;

/* A prepared statement: name, SQL text, number of parameters. */
struct db_stmt {
	const char *name;
	const char *sql;
	int nparams;
};

/*
 * Opens a connection with conninfo (libpq keywords; a password comes from
 * PGPASSFILE, never argv) and prepares stmts (n of them; the array must
 * outlive the connection).  Returns 0 and *out, or ERR_IO (the reason in
 * db_last_error()).  The connection reconnects by itself in db_exec.
 */
int db_open(struct db **out, const char *conninfo,
    const struct db_stmt *stmts, size_t n) WARN_UNUSED;
void db_close(struct db *d);

/*
 * Runs prepared statement `name` with text parameters (NULL for SQL NULL;
 * db_execb: binary where formats[i] == 1, lens[i] bytes).  A connection
 * found broken is re-opened (and its statements re-prepared) before the
 * statement is sent; a connection lost during the statement gives ERR_IO
 * and is re-opened on the next call: the caller cannot know whether the
 * statement ran, so every caller's retry is idempotent (statements check
 * status and lease epoch).  Returns 0 and *res (PQclear it) for
 * PGRES_COMMAND_OK / PGRES_TUPLES_OK; ERR_EXISTS for a unique violation;
 * ERR_IO for a lost connection or server shutdown (retry later);
 * ERR_INTERNAL for any other SQL error.  db_last_error() has the text.
 */
int db_exec(struct db *d, PGresult **res, const char *name, int nparams,
    const char *const *params) WARN_UNUSED;
int db_execb(struct db *d, PGresult **res, const char *name, int nparams,
    const char *const *params, const int *lens, const int *formats)
    WARN_UNUSED;

/* Plain SQL without parameters (BEGIN, COMMIT, migrations). */
int db_exec_sql(struct db *d, PGresult **res, const char *sql) WARN_UNUSED;

/* 0 when the server answers a trivial query now. */
int db_ping(struct db *d) WARN_UNUSED;

/*
 * Statements this process has sent to PostgreSQL (every PQexecPrepared and
 * PQexec, retries included), for orchestratord_db_statements_total.
 */
uint64_t db_round_trips(void);

/* Text of this thread's last db error ("" if none). */
const char *db_last_error(void);

/*
 * A fixed set of n connections shared by threads; get blocks until one is
 * free (at most timeout_ms, then ERR_TIMEOUT).  Connections that cannot
 * connect now are opened lazily, so the pool comes up while PostgreSQL is
 * down and readyz says so.
 */
int db_pool_open(struct db_pool **out, const char *conninfo,
    const struct db_stmt *stmts, size_t nstmts, size_t n) WARN_UNUSED;
void db_pool_close(struct db_pool *p);
int db_pool_get(struct db_pool *p, struct db **d, int timeout_ms) WARN_UNUSED;
void db_pool_put(struct db_pool *p, struct db *d);

#endif
