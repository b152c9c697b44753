/* pause.c: pause state: paused or not, the current pause id, and every pause id ever used. */
#include "signerd/pause.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "signerd/table.h"

struct sd_pause {
	struct sd_pause_state cur;
	struct sd_table *used;	/* key of id -> strdup'd id */
};

static void
id_key(uint8_t key[SD_TABLE_KEY_LEN], const char *id)
{
	sd_table_key(key, "pause", id, strlen(id));
}

static int
valid_id(const char *id)
{
	return id[0] != '\0' && strlen(id) <= POL_REQUEST_ID_MAX;
}

/* Remembers id as used; already used is fine. */
static int
mark_used(struct sd_pause *p, const char *id)
{
	uint8_t key[SD_TABLE_KEY_LEN];
	char *copy;
	int r;

	id_key(key, id);
	if (sd_table_get(p->used, key) != NULL)
		return 0;
	if ((copy = strdup(id)) == NULL)
		return ERR_NOMEM;
	if ((r = sd_table_put(p->used, key, copy)) != 0)
		free(copy);
	return r;
}

int
sd_pause_new(struct sd_pause **out, int genesis_paused)
{
	struct sd_pause *p;
	int r;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ERR_NOMEM;
	if ((r = sd_table_new(&p->used)) != 0 ||
	    (r = mark_used(p, SD_PAUSE_GENESIS)) != 0) {
		sd_pause_free(p);
		return r;
	}
	if (genesis_paused) {
		p->cur.paused = 1;
		strcpy(p->cur.id, SD_PAUSE_GENESIS);
	}
	*out = p;
	return 0;
}

void
sd_pause_free(struct sd_pause *p)
{
	if (p == NULL)
		return;
	sd_table_free(p->used, free);
	free(p);
}

void
sd_pause_get(const struct sd_pause *p, struct sd_pause_state *out)
{
	*out = p->cur;
}

int
sd_pause_active(const struct sd_pause *p)
{
	return p->cur.paused;
}

int
sd_pause_id_used(const struct sd_pause *p, const char *id)
{
	uint8_t key[SD_TABLE_KEY_LEN];

	id_key(key, id);
	return sd_table_get(p->used, key) != NULL;
}

int
sd_pause_set(struct sd_pause *p, const char *id, const char *by)
{
	int r;

	if (!valid_id(id) || strlen(by) > POL_APPROVER_NAME_MAX)
		return ERR_INVALID_ARG;
	/* One id, one pause: an unpause names exactly one (replay-proof). */
	if (sd_pause_id_used(p, id))
		return ERR_EXISTS;
	if ((r = mark_used(p, id)) != 0)
		return r;
	p->cur.paused = 1;
	memcpy(p->cur.id, id, strlen(id) + 1);
	memcpy(p->cur.by, by, strlen(by) + 1);
	return 0;
}

int
sd_pause_clear(struct sd_pause *p, const char *id)
{
	if (!p->cur.paused || strcmp(p->cur.id, id) != 0)
		return ERR_NOT_FOUND;
	memset(&p->cur, 0, sizeof(p->cur));
	return 0;
}

void
sd_pause_restore(struct sd_pause *p, const struct sd_pause_state *s)
{
	p->cur = *s;
}

int
sd_pause_serialize(const struct sd_pause *p, struct prt_writer *w)
{
	const uint8_t **keys;
	void **v;
	size_t i, n;

	if (sd_table_sorted(p->used, &keys, &v, &n) != 0)
		return ERR_NOMEM;
	(void)prt_put_u8(w, (uint8_t)(p->cur.paused != 0));
	(void)prt_put_string(w, p->cur.id);
	(void)prt_put_string(w, p->cur.by);
	(void)prt_put_u64(w, n);
	for (i = 0; i < n; i++)
		(void)prt_put_string(w, v[i]);
	free(keys);
	free(v);
	return prt_writer_error(w);
}

int
sd_pause_deserialize(struct sd_pause *p, struct prt_reader *rd)
{
	char id[POL_REQUEST_ID_MAX + 1];
	struct sd_pause_state s;
	uint64_t n, k;
	uint8_t paused;
	int r;

	memset(&s, 0, sizeof(s));
	if ((r = prt_get_u8(rd, &paused)) != 0 ||
	    (r = prt_get_string(rd, s.id, sizeof(s.id))) != 0 ||
	    (r = prt_get_string(rd, s.by, sizeof(s.by))) != 0 ||
	    (r = prt_get_u64(rd, &n)) != 0)
		return r;
	if (paused > 1 || (paused == 1) != (s.id[0] != '\0'))
		return ERR_MALFORMED;
	s.paused = paused;
	for (k = 0; k < n; k++) {
		if ((r = prt_get_string(rd, id, sizeof(id))) != 0)
			return r;
		if (!valid_id(id))
			return ERR_MALFORMED;
		if ((r = mark_used(p, id)) != 0)
			return r;
	}
	if (s.paused && !sd_pause_id_used(p, s.id))
		return ERR_MALFORMED;
	p->cur = s;
	return 0;
}
