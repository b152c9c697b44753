/* table.c: open addressing over SHA-256 keys, linear probing, backward-shift deletion. */
#include "signerd/table.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "signerd/sha256.h"

struct slot {
	uint8_t key[SD_TABLE_KEY_LEN];
	void *value;		/* NULL marks an empty slot */
};

struct sd_table {
	struct slot *slots;
	size_t cap;		/* power of two */
	size_t used;
};

int
sd_table_new(struct sd_table **out)
{
	struct sd_table *t;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ERR_NOMEM;
	t->cap = 64;
	if ((t->slots = calloc(t->cap, sizeof(*t->slots))) == NULL) {
		free(t);
		return ERR_NOMEM;
	}
	*out = t;
	return 0;
}

void
sd_table_free(struct sd_table *t, void (*free_value)(void *))
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; free_value != NULL && i < t->cap; i++)
		if (t->slots[i].value != NULL)
			free_value(t->slots[i].value);
	free(t->slots);
	free(t);
}

void
sd_table_key(uint8_t out[SD_TABLE_KEY_LEN], const char *tag, const void *data,
    size_t len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	/* SHA-256 cannot fail short of a broken libcrypto or no memory at
	 * all; a wrong key would silently break a rule, so stop instead. */
	if (md == NULL || EVP_DigestInit_ex(md, sd_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, tag, strlen(tag) + 1) != 1 ||
	    (len > 0 && EVP_DigestUpdate(md, data, len) != 1) ||
	    EVP_DigestFinal_ex(md, out, NULL) != 1)
		abort();
	EVP_MD_CTX_free(md);
}

static size_t
home(const struct sd_table *t, const uint8_t key[SD_TABLE_KEY_LEN])
{
	size_t h = 0, i;

	for (i = 0; i < sizeof(h); i++)
		h = h << 8 | key[i];
	return h & (t->cap - 1);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t
find(const struct sd_table *t, const uint8_t key[SD_TABLE_KEY_LEN])
{
	size_t i = home(t, key);

	while (t->slots[i].value != NULL &&
	    memcmp(t->slots[i].key, key, SD_TABLE_KEY_LEN) != 0)
		i = (i + 1) & (t->cap - 1);
	return i;
}

void *
sd_table_get(const struct sd_table *t, const uint8_t key[SD_TABLE_KEY_LEN])
{
	return t->slots[find(t, key)].value;
}

static int
grow(struct sd_table *t)
{
	struct sd_table bigger;
	size_t i, j;

	bigger.cap = t->cap * 2;
	bigger.used = t->used;
	if ((bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots))) == NULL)
		return ERR_NOMEM;
	for (i = 0; i < t->cap; i++) {
		if (t->slots[i].value == NULL)
			continue;
		j = find(&bigger, t->slots[i].key);
		bigger.slots[j] = t->slots[i];
	}
	free(t->slots);
	*t = bigger;
	return 0;
}

int
sd_table_put(struct sd_table *t, const uint8_t key[SD_TABLE_KEY_LEN],
    void *value)
{
	size_t i;
	int r;

	if (value == NULL)
		return ERR_INVALID_ARG;
	i = find(t, key);
	if (t->slots[i].value != NULL)
		return ERR_EXISTS;
	/* At most 70% full, so probe runs stay short. */
	if ((t->used + 1) * 10 > t->cap * 7) {
		if ((r = grow(t)) != 0)
			return r;
		i = find(t, key);
	}
	memcpy(t->slots[i].key, key, SD_TABLE_KEY_LEN);
	t->slots[i].value = value;
	t->used++;
	return 0;
}

void *
sd_table_remove(struct sd_table *t, const uint8_t key[SD_TABLE_KEY_LEN])
{
	size_t i = find(t, key), j, want;
	void *value = t->slots[i].value;

	if (value == NULL)
		return NULL;
	t->slots[i].value = NULL;
	t->used--;
	/* Shift later members of the probe run back into the hole, unless
	 * their home lies cyclically in (i, j]. */
	for (j = i;;) {
		j = (j + 1) & (t->cap - 1);
		if (t->slots[j].value == NULL)
			break;
		want = home(t, t->slots[j].key);
		if ((j > i && (want <= i || want > j)) ||
		    (j < i && want <= i && want > j)) {
			t->slots[i] = t->slots[j];
			t->slots[j].value = NULL;
			i = j;
		}
	}
	return value;
}

size_t
sd_table_count(const struct sd_table *t)
{
	return t->used;
}

int
sd_table_next(const struct sd_table *t, size_t *pos, const uint8_t **key,
    void **value)
{
	while (*pos < t->cap) {
		const struct slot *s = &t->slots[(*pos)++];

		if (s->value != NULL) {
			*key = s->key;
			*value = s->value;
			return 1;
		}
	}
	*key = NULL;
	*value = NULL;
	return 0;
}

static int
slot_cmp(const void *a, const void *b)
{
	const struct slot *const *x = a, *const *y = b;

	return memcmp((*x)->key, (*y)->key, SD_TABLE_KEY_LEN);
}

int
sd_table_sorted(const struct sd_table *t, const uint8_t ***keys,
    void ***values, size_t *n)
{
	const struct slot **v;
	size_t i, k = 0;

	*keys = NULL;
	*values = NULL;
	*n = 0;
	if ((v = calloc(t->used + 1, sizeof(*v))) == NULL ||
	    (*keys = calloc(t->used + 1, sizeof(**keys))) == NULL ||
	    (*values = calloc(t->used + 1, sizeof(**values))) == NULL) {
		free(v);
		free(*keys);
		*keys = NULL;
		return ERR_NOMEM;
	}
	for (i = 0; i < t->cap; i++)
		if (t->slots[i].value != NULL)
			v[k++] = &t->slots[i];
	qsort(v, k, sizeof(*v), slot_cmp);
	for (i = 0; i < k; i++) {
		(*keys)[i] = v[i]->key;
		(*values)[i] = v[i]->value;
	}
	free(v);
	*n = k;
	return 0;
}
