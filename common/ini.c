/* ini.c: both daemons' INI loader: every line vetted, then libinih, then a table of fields (D60). */
#include "common/ini.h"

#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789._:-"

void
ini_init(struct ini_load *ld, const struct ini_spec *spec, void *base,
    const char *path, char *err, size_t errlen)
{
	/* A table that does not fit is a bug in the caller, not bad input. */
	if (ld == NULL || spec == NULL || base == NULL || path == NULL ||
	    (err == NULL && errlen > 0) || spec->nfields > INI_FIELDS_MAX)
		abort();
	memset(ld, 0, sizeof(*ld));
	ld->spec = spec;
	ld->base = base;
	ld->path = path;
	ld->err = err;
	ld->errlen = errlen;
	ld->cur = -1;
	if (errlen > 0)
		err[0] = '\0';
}

void
ini_fail(struct ini_load *ld, int code, int line, const char *fmt, ...)
{
	char reason[384];
	va_list ap;

	if (ld->failed)
		return;
	ld->failed = code;
	ld->err_line = line;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (ld->errlen == 0)
		return;
	if (line > 0)
		snprintf(ld->err, ld->errlen, "%s:%d: %s", ld->path, line,
		    reason);
	else
		snprintf(ld->err, ld->errlen, "%s: %s", ld->path, reason);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static int
table_has_section(const struct ini_spec *spec, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < spec->nsections; i++)
		if (strlen(spec->sections[i]) == n &&
		    memcmp(spec->sections[i], s, n) == 0)
			return 1;
	return 0;
}

/*
 * Whether the hook owns [s] (n bytes).  It only ever sees a name inih
 * keeps whole and that has no blank or comment character inih would
 * read differently from us.
 */
static int
hook_claims(struct ini_load *ld, const char *s, size_t n)
{
	const struct ini_hook *h = ld->spec->hook;
	char name[INI_SECTION_NAME_MAX + 1];
	size_t i;

	if (h == NULL || n == 0 || n > INI_SECTION_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (strchr(NAME_CHARS, s[i]) == NULL)
			return 0;
	memcpy(name, s, n);
	name[n] = '\0';
	return h->claims(h->ctx, name) != 0;
}

static int
section_index(const struct ini_load *ld, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < ld->nsection; i++)
		if (strlen(ld->section[i].name) == n &&
		    memcmp(ld->section[i].name, s, n) == 0)
			return (int)i;
	return -1;
}

/* Checks a section header line; s starts at '['. */
static void
vet_header(struct ini_load *ld, const char *s, size_t n)
{
	const char *close = memchr(s, ']', n);
	size_t i, namelen;
	int known, hooked, dup;

	if (close == NULL)
		return;		/* inih reports the missing ']' */
	namelen = (size_t)(close - s - 1);
	for (i = (size_t)(close - s) + 1; i < n && is_space(s[i]); i++)
		;
	if (i < n && s[i] != ';' && s[i] != '#') {
		ini_fail(ld, ERR_MALFORMED, ld->lineno, "text after ']'");
		return;
	}
	known = table_has_section(ld->spec, s + 1, namelen);
	hooked = !known && hook_claims(ld, s + 1, namelen);
	if (!known && !hooked) {
		ini_fail(ld, ERR_MALFORMED, ld->lineno,
		    "unknown section [%.*s]", (int)(namelen > 64 ? 64 :
		    namelen), s + 1);
		return;
	}
	/* Both kinds of name fit: the table's are short, the hook's vetted. */
	if ((dup = section_index(ld, s + 1, namelen)) >= 0) {
		ini_fail(ld, ERR_MALFORMED, ld->lineno, "duplicate section "
		    "[%s] (first at line %d)", ld->section[dup].name,
		    ld->section[dup].line);
		return;
	}
	if (ld->nsection == INI_SECTIONS_MAX ||
	    namelen > INI_SECTION_NAME_MAX) {
		ini_fail(ld, ERR_MALFORMED, ld->lineno, "more than %d "
		    "sections, or a section name longer than %d bytes",
		    INI_SECTIONS_MAX, INI_SECTION_NAME_MAX);
		return;
	}
	memcpy(ld->section[ld->nsection].name, s + 1, namelen);
	ld->section[ld->nsection].name[namelen] = '\0';
	ld->section[ld->nsection].line = ld->lineno;
	ld->cur = (int)ld->nsection++;
	ld->cur_hooked = hooked;
}

/* Checks a "key = value" line; s starts at the key. */
static void
vet_pair(struct ini_load *ld, const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n);
	const char *colon = memchr(s, ':', n);

	/* inih also splits on ':'; one syntax is enough. */
	if (eq == NULL || (colon != NULL && colon < eq)) {
		ini_fail(ld, ERR_MALFORMED, ld->lineno,
		    "expected [section], key = value, or a comment");
		return;
	}
	if (eq == s) {
		ini_fail(ld, ERR_MALFORMED, ld->lineno, "no key before '='");
		return;
	}
	if (ld->cur < 0)
		ini_fail(ld, ERR_MALFORMED, ld->lineno,
		    "key outside any section");
}

/* Refuses every byte but printable ASCII and tab. */
static int
vet_bytes(struct ini_load *ld, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 && c != '\t') || c >= 0x7f) {
			ini_fail(ld, ERR_MALFORMED, ld->lineno, "control or "
			    "non-ASCII byte 0x%02x in column %zu", c, i + 1);
			return -1;
		}
	}
	return 0;
}

/*
 * inih's line source.  Hands over one whole line per call (so inih's line
 * count is ours), refuses bytes and lengths inih would mishandle (it
 * splits a long line and parses the tail as a line of its own), strips
 * leading blanks (so no line is taken as a continuation of the previous
 * value) and checks section headers itself (inih never reports an empty
 * section).  NULL ends the parse, at the end or at the first error.
 */
static char *
next_line(char *str, int num, void *stream)
{
	struct ini_load *ld = stream;
	const char *p, *nl, *s;
	size_t n, limit;

	if (ld->failed || ld->off >= ld->len || num < 3)
		return NULL;
	p = ld->buf + ld->off;
	nl = memchr(p, '\n', ld->len - ld->off);
	n = nl != NULL ? (size_t)(nl - p) : ld->len - ld->off;
	ld->off += n + (nl != NULL);
	ld->lineno++;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	limit = (size_t)num - 2 < INI_LINE_MAX ? (size_t)num - 2 :
	    INI_LINE_MAX;
	if (n > limit) {
		ini_fail(ld, ERR_TOO_LARGE, ld->lineno,
		    "line longer than %zu bytes", limit);
		return NULL;
	}
	if (vet_bytes(ld, p, n) != 0)
		return NULL;
	for (s = p; s < p + n && is_space(*s); s++)
		;
	n -= (size_t)(s - p);
	if (n > 0 && *s == '[')
		vet_header(ld, s, n);
	else if (n > 0 && *s != ';' && *s != '#')
		vet_pair(ld, s, n);
	if (ld->failed)
		return NULL;
	memcpy(str, s, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

int
ini_parse_u64(uint64_t *out, const char *v, uint64_t lo, uint64_t hi,
    char *why, size_t whylen)
{
	uint64_t x = 0;
	const char *p;
	int over = 0;

	*out = 0;
	if (*v == '\0' || strspn(v, "0123456789") != strlen(v)) {
		snprintf(why, whylen, "'%.40s' is not a decimal number", v);
		return -1;
	}
	if (v[0] == '0' && v[1] != '\0') {
		snprintf(why, whylen, "'%.40s' has a leading zero", v);
		return -1;
	}
	for (p = v; *p != '\0' && !over; p++) {
		/* Saturating would let 2^64 pass a bound of UINT64_MAX. */
		if (x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			over = 1;
		else
			x = x * 10 + (uint64_t)(*p - '0');
	}
	if (over || x < lo || x > hi) {
		snprintf(why, whylen, "%.40s is out of range %llu..%llu", v,
		    (unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	*out = x;
	return 0;
}

/* Stores x in an unsigned member of 2, 4 or 8 bytes (the table's bounds fit it). */
static void
store_uint(void *dst, size_t size, uint64_t x)
{
	uint16_t v16 = (uint16_t)x;
	uint32_t v32 = (uint32_t)x;

	if (size == sizeof(uint64_t))
		memcpy(dst, &x, sizeof(x));
	else if (size == sizeof(uint32_t))
		memcpy(dst, &v32, sizeof(v32));
	else if (size == sizeof(uint16_t))
		memcpy(dst, &v16, sizeof(v16));
	else
		abort();	/* a table bug */
}

static int
parse_bool(int *out, const char *v, char *why, size_t whylen)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
		*out = 0;
	else {
		snprintf(why, whylen, "'%.40s' is not yes, no, true or false",
		    v);
		return -1;
	}
	return 0;
}

/* Copies a checked string into its member; -1 with why, or ERR_NOMEM. */
static int
store_string(struct ini_load *ld, const struct ini_field *f, char *dst,
    const char *v, char *why, size_t whylen)
{
	char *copy;

	if (f->fn != NULL && f->fn(ld->base, v, why, whylen) != 0)
		return -1;
	if (f->kind == INI_STRING) {
		if (strlen(v) >= f->size) {
			snprintf(why, whylen, "longer than %zu bytes",
			    f->size - 1);
			return -1;
		}
		memcpy(dst, v, strlen(v) + 1);
		return 0;
	}
	if ((copy = strdup(v)) == NULL)
		return ERR_NOMEM;
	memcpy(dst, &copy, sizeof(copy));
	return 0;
}

/* Parses v into the member f names: 0, -1 with why set, or ERR_NOMEM. */
static int
set_field(struct ini_load *ld, const struct ini_field *f, const char *v,
    char *why, size_t whylen)
{
	char *dst = (char *)ld->base + f->off;
	uint64_t x;
	int i;

	switch (f->kind) {
	case INI_STRING:
	case INI_STRDUP:
		return store_string(ld, f, dst, v, why, whylen);
	case INI_INT:
		if (ini_parse_u64(&x, v, f->min, f->max, why, whylen) != 0)
			return -1;
		i = (int)x;
		memcpy(dst, &i, sizeof(i));
		return 0;
	case INI_UINT:
		if (ini_parse_u64(&x, v, f->min, f->max, why, whylen) != 0)
			return -1;
		store_uint(dst, f->size, x);
		return 0;
	case INI_BOOL:
		if (parse_bool(&i, v, why, whylen) != 0)
			return -1;
		memcpy(dst, &i, sizeof(i));
		return 0;
	case INI_CUSTOM:
		return f->fn(ld->base, v, why, whylen) == 0 ? 0 : -1;
	}
	abort();
}

/* A key of a section the hook claimed. */
static int
hook_pair(struct ini_load *ld, const char *section, const char *name,
    const char *value)
{
	const struct ini_hook *h = ld->spec->hook;
	char why[320] = "";
	int r;

	r = h->pair(h->ctx, section, name, value, ld->lineno, why,
	    sizeof(why));
	if (r == ERR_NOMEM)
		ini_fail(ld, r, 0, "out of memory");
	else if (r != 0)
		ini_fail(ld, r, ld->lineno, "%s", why);
	return r == 0;
}

/* inih's callback: one key = value in a section vet_header accepted. */
static int
on_pair(void *user, const char *inih_section, const char *name,
    const char *value)
{
	struct ini_load *ld = user;
	const struct ini_field *f = NULL;
	const char *section;
	char why[320];
	size_t i;
	int r;

	(void)inih_section;	/* vet_header's record is the one we trust */
	if (ld->failed || ld->cur < 0)
		return 0;
	section = ld->section[ld->cur].name;
	if (*value == '\0') {
		ini_fail(ld, ERR_MALFORMED, ld->lineno, "empty value for "
		    "'%.64s' in [%s]", name, section);
		return 0;
	}
	if (ld->cur_hooked)
		return hook_pair(ld, section, name, value);
	for (i = 0; i < ld->spec->nfields && f == NULL; i++)
		if (strcmp(ld->spec->fields[i].section, section) == 0 &&
		    strcmp(ld->spec->fields[i].name, name) == 0)
			f = &ld->spec->fields[i];
	if (f == NULL) {
		ini_fail(ld, ERR_MALFORMED, ld->lineno, "unknown key '%.64s' "
		    "in [%s]", name, section);
		return 0;
	}
	i = (size_t)(f - ld->spec->fields);
	if (ld->field_line[i] != 0) {
		ini_fail(ld, ERR_MALFORMED, ld->lineno, "duplicate key '%s' in "
		    "[%s] (first at line %d)", name, section,
		    ld->field_line[i]);
		return 0;
	}
	ld->field_line[i] = ld->lineno;
	why[0] = '\0';
	if ((r = set_field(ld, f, value, why, sizeof(why))) == ERR_NOMEM)
		ini_fail(ld, ERR_NOMEM, 0, "out of memory");
	else if (r != 0)
		ini_fail(ld, ERR_MALFORMED, ld->lineno, "bad value for '%s' in "
		    "[%s]: %s", name, section, why);
	return r == 0;
}

int
ini_section_line(const struct ini_load *ld, const char *section)
{
	int i = section_index(ld, section, strlen(section));

	return i < 0 ? 0 : ld->section[i].line;
}

int
ini_field_line(const struct ini_load *ld, const char *section,
    const char *name)
{
	size_t i;

	for (i = 0; i < ld->spec->nfields; i++)
		if (strcmp(ld->spec->fields[i].section, section) == 0 &&
		    strcmp(ld->spec->fields[i].name, name) == 0)
			return ld->field_line[i];
	return 0;
}

/* After the parse: everything required is there, pointing at its section. */
static void
check_required(struct ini_load *ld)
{
	const struct ini_field *f;
	size_t i;
	int line;

	for (i = 0; i < ld->spec->nfields && !ld->failed; i++) {
		f = &ld->spec->fields[i];
		if (!f->required || ld->field_line[i] != 0)
			continue;
		if ((line = ini_section_line(ld, f->section)) == 0)
			ini_fail(ld, ERR_MALFORMED, 0, "missing section [%s] "
			    "(needs '%s')", f->section, f->name);
		else
			ini_fail(ld, ERR_MALFORMED, line, "missing required "
			    "key '%s' in [%s]", f->name, f->section);
	}
}

int
ini_parse_buf(struct ini_load *ld, const char *buf, size_t len)
{
	int rc;

	ld->buf = buf;
	ld->len = len;
	ld->off = 0;
	rc = ini_parse_stream(next_line, ld, on_pair, ld);
	if (rc == -2) {
		ini_fail(ld, ERR_NOMEM, 0, "out of memory");
	} else if (rc > 0 && (!ld->failed || rc < ld->err_line)) {
		/* A syntax error only inih noticed (a header without its
		 * ']'), before any of ours: report the first. */
		ld->failed = 0;
		ini_fail(ld, ERR_MALFORMED, rc, "expected [section], "
		    "key = value, or a comment");
	}
	check_required(ld);
	ld->buf = NULL;
	return ld->failed;
}

int
ini_load(struct ini_load *ld)
{
	char why[192], *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = util_read_trusted_file(ld->path, ld->spec->file_max, &buf,
	    &len, why, sizeof(why))) != 0)
		ini_fail(ld, r, 0, "%s", why);
	else
		r = ini_parse_buf(ld, buf, len);
	free(buf);
	return r;
}
