/* fuzz_ini.c: libFuzzer harness for the shared INI loader (common/ini.c): vetting, inih, the table and the hook. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/ini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789._:-"

struct conf {
	char name[8];
	char *path;
	int count;
	uint16_t port;
	uint64_t bytes;
	int flag;
	int custom;
	int hooked;
};

static int
check_abs(void *base, const char *v, char *why, size_t whylen)
{
	if (v[0] == '/')
		return 0;
	snprintf(why, whylen, "not absolute");
	return -1;
}

static int
parse_custom(void *base, const char *v, char *why, size_t whylen)
{
	struct conf *c = base;

	c->custom = (int)strlen(v);
	return v[0] == 'x' ? -1 : 0;
}

/* The hook must only ever see a vetted, whole section name and a value. */
static int
claims(void *ctx, const char *section)
{
	size_t n = strlen(section);

	if (n == 0 || n > INI_SECTION_NAME_MAX ||
	    strspn(section, NAME_CHARS) != n)
		abort();
	return strncmp(section, "h", 1) == 0;
}

static int
pair(void *ctx, const char *section, const char *name, const char *value,
    int line, char *why, size_t whylen)
{
	struct conf *c = ctx;

	if (section[0] != 'h' || *value == '\0' || line <= 0 ||
	    strchr(value, '\n') != NULL)
		abort();
	c->hooked++;
	if (strcmp(name, "no") == 0) {
		snprintf(why, whylen, "no");
		return ERR_MALFORMED;
	}
	return 0;
}

static const char *const sections[] = { "a", "b" };

#define F(sec, name, kind, m, lo, hi, fn, req) \
	INI_FIELD(struct conf, sec, name, kind, m, lo, hi, fn, req)

static const struct ini_field fields[] = {
	F("a", "name", INI_STRING, name, 0, 0, NULL, 1),
	F("a", "path", INI_STRDUP, path, 0, 0, check_abs, 0),
	F("a", "flag", INI_BOOL, flag, 0, 0, NULL, 0),
	F("a", "c", INI_CUSTOM, custom, 0, 0, parse_custom, 0),
	F("b", "count", INI_INT, count, 1, 100, NULL, 0),
	F("b", "port", INI_UINT, port, 1, 65535, NULL, 0),
	F("b", "bytes", INI_UINT, bytes, 0, UINT64_MAX, NULL, 0),
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;
	struct ini_hook hook = { claims, pair, &c };
	struct ini_spec spec = { sections, 2, fields, ARRAY_LEN(fields), 4096,
		&hook };
	struct ini_load ld;
	char err[256];
	int r;

	memset(&c, 0, sizeof(c));
	c.port = 8080;
	ini_init(&ld, &spec, &c, "f.ini", err, sizeof(err));
	r = ini_parse_buf(&ld, (const char *)data, size);
	if (r != 0 && r != ERR_MALFORMED && r != ERR_TOO_LARGE &&
	    r != ERR_NOMEM)
		abort();
	/* Every refusal names the file; success says nothing. */
	if ((r != 0) != (strncmp(err, "f.ini", 5) == 0) ||
	    (r == 0 && err[0] != '\0'))
		abort();
	if (memchr(c.name, '\0', sizeof(c.name)) == NULL)
		abort();
	if (r == 0 && (c.name[0] == '\0' ||
	    (c.count != 0 && (c.count < 1 || c.count > 100)) ||
	    c.port == 0 || (c.path != NULL && c.path[0] != '/')))
		abort();
	free(c.path);
	return 0;
}
