/* migrate.c: applies the compiled-in SQL migrations, each once, in order. */
#include "orchestratord/migrate.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/util.h"
#include "orchestratord/db.h"

/* Any fixed number: serialises concurrent `orchestratord migrate` runs. */
#define MIGRATE_LOCK "SELECT pg_advisory_lock(7242190301)"
#define MIGRATE_UNLOCK "SELECT pg_advisory_unlock(7242190301)"

static void
sha256_hex(char out[65], const char *p, size_t len)
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL);
	util_hex_encode(out, md, sizeof(md));
}

/* Literal text for SQL from our own constants (names and hex only). */
static int
is_plain(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '_' || *s == '.'))
			return 0;
	return 1;
}

/*
 * Looks name up: 1 and its recorded hash, 0 when not applied, or an error.
 */
static int
recorded(struct db *d, const char *name, char hash[65], char *err,
    size_t errlen)
{
	char sql[256];
	PGresult *res;
	int r;

	snprintf(sql, sizeof(sql),
	    "SELECT sha256 FROM schema_migrations WHERE name = '%s'", name);
	if ((r = db_exec_sql(d, &res, sql)) != 0) {
		snprintf(err, errlen, "%s", db_last_error());
		return r;
	}
	r = PQntuples(res) == 1;
	if (r)
		snprintf(hash, 65, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return r;
}

static int
apply(struct db *d, const struct orch_migration *m, const char *hash,
    char *err, size_t errlen)
{
	char sql[256];
	PGresult *res = NULL;
	int r;

	if ((r = db_exec_sql(d, &res, "BEGIN")) != 0)
		goto fail;
	PQclear(res);
	if ((r = db_exec_sql(d, &res, m->sql)) != 0)
		goto fail;
	PQclear(res);
	snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations (name, "
	    "sha256) VALUES ('%s', '%s')", m->name, hash);
	if ((r = db_exec_sql(d, &res, sql)) != 0)
		goto fail;
	PQclear(res);
	if ((r = db_exec_sql(d, &res, "COMMIT")) != 0)
		goto fail;
	PQclear(res);
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", m->name, db_last_error());
	if (db_exec_sql(d, &res, "ROLLBACK") == 0)
		PQclear(res);
	return r == ERR_IO ? ERR_IO : ERR_INTERNAL;
}

int
orch_migrate(struct db *d, char *err, size_t errlen)
{
	char want[65], have[65];
	PGresult *res = NULL;
	size_t i;
	int r;

	err[0] = '\0';
	if ((r = db_exec_sql(d, &res, MIGRATE_LOCK)) != 0) {
		snprintf(err, errlen, "%s", db_last_error());
		return r;
	}
	PQclear(res);
	r = db_exec_sql(d, &res, "CREATE TABLE IF NOT EXISTS schema_migrations "
	    "(name text PRIMARY KEY, sha256 text NOT NULL, "
	    "applied_at timestamptz NOT NULL DEFAULT now())");
	if (r != 0) {
		snprintf(err, errlen, "%s", db_last_error());
		goto out;
	}
	PQclear(res);
	for (i = 0; i < orch_nmigrations; i++) {
		const struct orch_migration *m = &orch_migrations[i];

		if (!is_plain(m->name)) {
			snprintf(err, errlen, "%s: bad migration name", m->name);
			r = ERR_INTERNAL;
			goto out;
		}
		sha256_hex(want, m->sql, m->len);
		if ((r = recorded(d, m->name, have, err, errlen)) < 0)
			goto out;
		if (r == 1) {
			if (strcmp(have, want) != 0) {
				snprintf(err, errlen, "%s was applied with "
				    "sha256 %.12s... but this build has %.12s...: "
				    "applied migrations must never change; add a "
				    "new one", m->name, have, want);
				r = ERR_INTERNAL;
				goto out;
			}
			printf("migrate: %s already applied\n", m->name);
			continue;
		}
		if ((r = apply(d, m, want, err, errlen)) != 0)
			goto out;
		printf("migrate: %s applied\n", m->name);
	}
	r = 0;
out:
	if (db_exec_sql(d, &res, MIGRATE_UNLOCK) == 0)
		PQclear(res);
	return r;
}

int
orch_schema_current(struct db *d, char *err, size_t errlen)
{
	char want[65], have[65];
	size_t i;
	int r;

	err[0] = '\0';
	for (i = 0; i < orch_nmigrations; i++) {
		const struct orch_migration *m = &orch_migrations[i];

		if (!is_plain(m->name))
			return ERR_INTERNAL;
		sha256_hex(want, m->sql, m->len);
		r = recorded(d, m->name, have, err, errlen);
		if (r < 0) {
			/* No schema_migrations table at all: not migrated. */
			snprintf(err, errlen, "the database is not migrated "
			    "(run orchestratord migrate): %s", db_last_error());
			return ERR_NOT_FOUND;
		}
		if (r == 0) {
			snprintf(err, errlen, "migration %s is not applied "
			    "(run orchestratord migrate)", m->name);
			return ERR_NOT_FOUND;
		}
		if (strcmp(have, want) != 0) {
			snprintf(err, errlen, "migration %s differs from the "
			    "applied one", m->name);
			return ERR_INTERNAL;
		}
	}
	return 0;
}
