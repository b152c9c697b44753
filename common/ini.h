/*
 * ini.h: the one INI loader of both daemons (D14, D60).  It reads a
 * trusted file (util_read_trusted_file), vets every line before libinih
 * sees it (printable ASCII and tab only, no line inih would split, no
 * "name: value", exact section headers, no key outside a section), runs
 * inih, and stores each "key = value" through a table of fields.
 * Unknown sections and keys, duplicate sections and keys, empty values,
 * bad values and missing required keys are errors naming "path:line".
 * Sections whose keys are not known in advance ([keys] in signerd,
 * [webhook:NAME] in orchestratord) go to a caller's hook.  The first
 * error ends the parse.
 *
 * A caller declares its table, calls ini_load, then runs its cross-field
 * checks with ini_field_line / ini_section_line / ini_fail, so every
 * message has one form.
 */
#ifndef COMMON_INI_H
#define COMMON_INI_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

/* inih keeps 50 bytes of a section name; ours must fit whole. */
#define INI_SECTION_NAME_MAX 48
#define INI_FIELDS_MAX 64
#define INI_SECTIONS_MAX 64
/* Our cap on a line; inih's buffer (200 in Debian's build) may be lower. */
#define INI_LINE_MAX 1024

/*
 * A value's parser or checker.  base is the struct the fields point
 * into; value is non-empty.  Returns 0, or -1 with why set (a reason
 * without the file, line or key: the loader adds them).
 */
typedef int (*ini_parse_fn)(void *base, const char *value, char *why,
    size_t whylen);

enum ini_kind {
	INI_STRING,	/* char[size] member, value copied (fn: optional check) */
	INI_STRDUP,	/* char * member, strdup'd (fn: optional check) */
	INI_INT,	/* int member, canonical decimal in [min, max] */
	INI_UINT,	/* unsigned member of size 2, 4 or 8, in [min, max] */
	INI_BOOL,	/* int member: "yes"/"true" 1, "no"/"false" 0 */
	INI_CUSTOM,	/* fn parses the value into base itself */
};

struct ini_field {
	const char *section, *name;
	enum ini_kind kind;
	size_t off;		/* of the member in base */
	size_t size;		/* sizeof the member */
	uint64_t min, max;	/* INI_INT, INI_UINT */
	ini_parse_fn fn;
	int required;
};

#define INI_MEMBER_SIZE(type, m) sizeof(((type *)0)->m)
#define INI_FIELD(type, sec, name, kind, m, lo, hi, fn, req) \
	{ sec, name, kind, offsetof(type, m), INI_MEMBER_SIZE(type, m), \
	  lo, hi, fn, req }

/*
 * Sections the table does not list: claims says whether a header names
 * one of the hook's (it sees only names of 1..INI_SECTION_NAME_MAX of
 * [A-Za-z0-9._:-]); pair gets each of their lines.  pair returns 0, or
 * an ERR_* code with why set to the whole reason (it knows its own
 * duplicates: line is where this pair is).
 */
struct ini_hook {
	int (*claims)(void *ctx, const char *section);
	int (*pair)(void *ctx, const char *section, const char *name,
	    const char *value, int line, char *why, size_t whylen);
	void *ctx;
};

struct ini_spec {
	const char *const *sections;	/* the table's sections */
	size_t nsections;
	const struct ini_field *fields;
	size_t nfields;			/* at most INI_FIELDS_MAX */
	size_t file_max;		/* largest file accepted, bytes */
	const struct ini_hook *hook;	/* NULL: no dynamic sections */
};

/* One load: the spec, where errors go, and what the parse saw. */
struct ini_load {
	const struct ini_spec *spec;
	void *base;
	const char *path;
	char *err;
	size_t errlen;
	int failed;			/* the first ERR_*, 0: none yet */
	int err_line;
	/* What was seen, for the caller's own checks. */
	int field_line[INI_FIELDS_MAX];	/* 0: not in the file */
	struct {
		char name[INI_SECTION_NAME_MAX + 1];
		int line;
	} section[INI_SECTIONS_MAX];
	size_t nsection;
	/* The parse in progress. */
	const char *buf;
	size_t len, off;
	int lineno;
	int cur;			/* index into section[], -1: none */
	int cur_hooked;			/* the current section is the hook's */
};

/*
 * Starts a load of path into base (whose defaults the caller has set).
 * err (errlen bytes, may be 0) gets "path:line: reason" or "path: reason".
 */
void ini_init(struct ini_load *ld, const struct ini_spec *spec, void *base,
    const char *path, char *err, size_t errlen);

/*
 * Reads path (a regular file of at most spec->file_max bytes, owned by
 * root or us, not writable by group or others) and parses it.
 * Returns 0; ERR_IO; ERR_PERMISSION; ERR_TOO_LARGE (file or line);
 * ERR_NOMEM; ERR_MALFORMED.  INI_STRDUP members set before a failure
 * stay set: the caller frees them.
 */
int ini_load(struct ini_load *ld) WARN_UNUSED;

/* ini_load's parse of len bytes already in memory (the fuzz harness). */
int ini_parse_buf(struct ini_load *ld, const char *buf, size_t len)
    WARN_UNUSED;

/* Records the first error: "path:line: reason" (line 0: "path: reason"). */
void ini_fail(struct ini_load *ld, int code, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The line of [section] name, 0 if the file has none. */
int ini_field_line(const struct ini_load *ld, const char *section,
    const char *name);

/* The line of the [section] header, 0 if the file has none. */
int ini_section_line(const struct ini_load *ld, const char *section);

/*
 * A canonical decimal (no sign, no leading zero) in [lo, hi]; why gets
 * "'x' is not a decimal number", "... leading zero" or "x is out of
 * range lo..hi".  For callers' own list and address parsers.
 */
int ini_parse_u64(uint64_t *out, const char *v, uint64_t lo, uint64_t hi,
    char *why, size_t whylen) WARN_UNUSED;

#endif
