/* migrate.h: the versioned SQL migrations compiled into orchestratord. */
#ifndef ORCH_MIGRATE_H
#define ORCH_MIGRATE_H

#include <stddef.h>

#include "common/util.h"

struct db;

/* One orchestratord/migrations/NNN_name.sql file (scripts/embed_sql.sh). */
struct orch_migration {
	const char *name;	/* "001_payouts.sql": applied in name order */
	const char *sql;
	size_t len;
};

extern const struct orch_migration orch_migrations[];
extern const size_t orch_nmigrations;

/*
 * Applies every migration not yet recorded in schema_migrations, each in
 * its own transaction, in order, under an advisory lock so two migrators
 * cannot interleave.  A recorded migration whose SHA-256 differs from the
 * compiled one stops everything (someone edited an applied file).  Prints
 * one line per migration applied or already present to stdout.  Returns
 * 0, ERR_IO (no database) or ERR_INTERNAL (a migration failed; the
 * message says which and why in err).
 */
int orch_migrate(struct db *d, char *err, size_t errlen) WARN_UNUSED;

/* 0 when every compiled migration is applied (serve checks at start). */
int orch_schema_current(struct db *d, char *err, size_t errlen) WARN_UNUSED;

#endif
