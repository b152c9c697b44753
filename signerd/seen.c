/* seen.c: SHA-256 of each accepted approval signature -> what it approved. */
#include "signerd/seen.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "signerd/table.h"

struct sd_seen {
	struct sd_table *sigs;	/* key of signature -> strdup'd label */
};

int
sd_seen_new(struct sd_seen **out)
{
	struct sd_seen *s;
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ERR_NOMEM;
	if ((r = sd_table_new(&s->sigs)) != 0) {
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

void
sd_seen_free(struct sd_seen *s)
{
	if (s == NULL)
		return;
	sd_table_free(s->sigs, free);
	free(s);
}

/* Stored with its key, so a snapshot can carry the key without the sig. */
struct entry {
	uint8_t key[SD_TABLE_KEY_LEN];
	uint64_t expiry;
	char label[SD_SEEN_LABEL_MAX + 1];
};

static int
put_key(struct sd_seen *s, const uint8_t key[SD_TABLE_KEY_LEN],
    const char *label, uint64_t expiry)
{
	struct entry *e;
	int r;

	if (strlen(label) > SD_SEEN_LABEL_MAX)
		return ERR_INVALID_ARG;
	if (sd_table_get(s->sigs, key) != NULL)
		return 0;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return ERR_NOMEM;
	memcpy(e->key, key, SD_TABLE_KEY_LEN);
	e->expiry = expiry;
	memcpy(e->label, label, strlen(label) + 1);
	if ((r = sd_table_put(s->sigs, key, e)) != 0)
		free(e);
	return r;
}

int
sd_seen_add(struct sd_seen *s, const uint8_t *sig, size_t len,
    const char *label, uint64_t expiry)
{
	uint8_t key[SD_TABLE_KEY_LEN];

	sd_table_key(key, "approval-sig", sig, len);
	return put_key(s, key, label, expiry);
}

void
sd_seen_prune(struct sd_seen *s, int64_t now)
{
	uint8_t (*gone)[SD_TABLE_KEY_LEN] = NULL;
	const struct entry *e;
	const uint8_t *k;
	void *v;
	size_t pos = 0, n = 0, i;

	if (now <= 0)
		return;
	while (sd_table_next(s->sigs, &pos, &k, &v))
		n += ((const struct entry *)v)->expiry < (uint64_t)now;
	/* Out of memory: keep them; they only cost memory. */
	if (n == 0 || (gone = calloc(n, sizeof(*gone))) == NULL)
		return;
	pos = 0;
	i = 0;
	while (i < n && sd_table_next(s->sigs, &pos, &k, &v)) {
		e = v;
		if (e->expiry < (uint64_t)now)
			memcpy(gone[i++], k, SD_TABLE_KEY_LEN);
	}
	for (i = 0; i < n; i++)
		free(sd_table_remove(s->sigs, gone[i]));
	free(gone);
}

const char *
sd_seen_find(const struct sd_seen *s, const uint8_t *sig, size_t len)
{
	uint8_t key[SD_TABLE_KEY_LEN];
	const struct entry *e;

	sd_table_key(key, "approval-sig", sig, len);
	e = sd_table_get(s->sigs, key);
	return e != NULL ? e->label : NULL;
}

size_t
sd_seen_count(const struct sd_seen *s)
{
	return sd_table_count(s->sigs);
}

int
sd_seen_serialize(const struct sd_seen *s, struct prt_writer *w)
{
	const struct entry *e;
	const uint8_t **keys;
	void **v;
	size_t i, n;

	if (sd_table_sorted(s->sigs, &keys, &v, &n) != 0)
		return ERR_NOMEM;
	(void)prt_put_u64(w, n);
	for (i = 0; i < n; i++) {
		e = v[i];
		(void)prt_put_bytes(w, e->key, SD_TABLE_KEY_LEN);
		(void)prt_put_u64(w, e->expiry);
		(void)prt_put_string(w, e->label);
	}
	free(keys);
	free(v);
	return prt_writer_error(w);
}

int
sd_seen_deserialize(struct sd_seen *s, struct prt_reader *rd)
{
	uint8_t key[SD_TABLE_KEY_LEN];
	char label[SD_SEEN_LABEL_MAX + 1];
	uint64_t n, k, expiry;
	int r;

	if (sd_table_count(s->sigs) != 0)
		return ERR_INVALID_ARG;
	if ((r = prt_get_u64(rd, &n)) != 0)
		return r;
	for (k = 0; k < n; k++) {
		if ((r = prt_get_bytes(rd, key, sizeof(key))) != 0 ||
		    (r = prt_get_u64(rd, &expiry)) != 0 ||
		    (r = prt_get_string(rd, label, sizeof(label))) != 0 ||
		    (r = put_key(s, key, label, expiry)) != 0)
			return r;
	}
	return 0;
}
