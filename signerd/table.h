/*
 * table.h: a hash map from 32-byte digests to pointers, for the state that
 * clients name (nonces, queued request ids, pause ids, approval
 * signatures).  Keys are SHA-256 of the name (sd_table_key), so a client
 * choosing names cannot aim them at one probe chain.  Not thread-safe: the
 * owner's lock covers it.
 */
#ifndef SIGNERD_TABLE_H
#define SIGNERD_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define SD_TABLE_KEY_LEN 32

struct sd_table;

/* An empty table.  ERR_NOMEM. */
int sd_table_new(struct sd_table **out) WARN_UNUSED;

/* Frees the table, calling free_value (if not NULL) on every value. */
void sd_table_free(struct sd_table *t, void (*free_value)(void *));

/*
 * out = SHA-256(tag || 0x00 || data[0..len)): the key of a name in the
 * namespace tag ("nonce", "pause", ...), so equal bytes in two namespaces
 * never collide.
 */
void sd_table_key(uint8_t out[SD_TABLE_KEY_LEN], const char *tag,
    const void *data, size_t len);

/* The value stored under key, or NULL. */
void *sd_table_get(const struct sd_table *t,
    const uint8_t key[SD_TABLE_KEY_LEN]);

/* Stores value (not NULL) under key: 0, ERR_EXISTS, ERR_INVALID_ARG, ERR_NOMEM. */
int sd_table_put(struct sd_table *t, const uint8_t key[SD_TABLE_KEY_LEN],
    void *value) WARN_UNUSED;

/* Removes key and returns its value (the caller frees it), or NULL. */
void *sd_table_remove(struct sd_table *t, const uint8_t key[SD_TABLE_KEY_LEN]);

/* Number of entries. */
size_t sd_table_count(const struct sd_table *t);

/*
 * Iterates: start with *pos = 0; each call returns 1 with the next entry's
 * key and value, or 0 after the last.  The table must not change while
 * iterating.  The order is the table's, not insertion order.
 */
int sd_table_next(const struct sd_table *t, size_t *pos, const uint8_t **key,
    void **value);

/*
 * Every entry in ascending key order, so that what is written from a table
 * (snapshots) does not depend on the order entries went in: a live signerd
 * and a replay of its journal write the same bytes.  *keys and *values are
 * arrays of *n entries, valid until the table changes; free() both.
 * Returns 0 or ERR_NOMEM.
 */
int sd_table_sorted(const struct sd_table *t, const uint8_t ***keys,
    void ***values, size_t *n) WARN_UNUSED;

#endif
