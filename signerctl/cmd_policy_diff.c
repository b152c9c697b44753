/*
 * cmd_policy_diff.c: `signerctl policy diff OLD NEW [--json]`: which fields
 * a new policy version changes and whether it tightens (takes effect with
 * its last approval) or loosens (waits the governance delay).  Offline:
 * the classification is policy/diff.c, the same code signerd runs.
 */
#include "signerctl/cmd_policy.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "common/util.h"
#include "policy/diff.h"
#include "policy/policy.h"
#include "signerctl/ctl.h"

/* The changes pol_diff reported, in its order. */
struct changes {
	struct pol_change *v;
	size_t n, cap;
	int nomem;		/* a change was lost: report, never print a part */
};

static void
help(void)
{
	printf("usage: signerctl policy diff OLD NEW [--json]\n\n"
	    "Compares two policy files (the version in force and a proposed "
	    "one) and\nprints the class of the change, \"tighten\", "
	    "\"loosen\" or \"none\", on the\nfirst line, then one line per "
	    "changed field:\n\n  loosen   assets.ETH.daily_limit: 5000 -> "
	    "9000\n\nA change that only tightens takes effect with its last "
	    "approval; any other\nwaits the governance delay "
	    "(docs/governance.md).\n\n"
	    "  --json  one object: class, old_hash, new_hash (SHA-256 of "
	    "the files) and\n          changes [{path, old, new, class}]\n"
	    "Exit status: 0 compared (whatever the class), 1 a file is "
	    "unreadable or\nnot a valid policy, 2 usage.\n");
}

static int
usage(const char *msg)
{
	fprintf(stderr, "signerctl policy diff: %s\nTry 'signerctl policy "
	    "diff --help'.\n", msg);
	return CTL_EXIT_USAGE;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "signerctl policy diff: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return CTL_EXIT_FAIL;
}

/*
 * Reads and parses one policy file, at most POL_MAX_FILE bytes (what
 * pol_parse accepts).  CTL_EXIT_OK and *out, or CTL_EXIT_FAIL after
 * saying which file and why.
 */
static int
load(struct pol_policy **out, const char *path)
{
	uint8_t *buf = NULL;
	char err[512];
	FILE *f = NULL;
	size_t n;
	int r = CTL_EXIT_FAIL;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL) {
		r = fail("%s: cannot open", path);
		goto out;
	}
	/* One byte more than allowed, to tell "too large" from "exactly max". */
	if ((buf = malloc((size_t)POL_MAX_FILE + 1)) == NULL) {
		r = fail("%s: %s", path, err_str(ERR_NOMEM));
		goto out;
	}
	n = fread(buf, 1, (size_t)POL_MAX_FILE + 1, f);
	if (ferror(f)) {
		r = fail("%s: read error", path);
		goto out;
	}
	if (n > POL_MAX_FILE) {
		r = fail("%s: larger than %d bytes", path, POL_MAX_FILE);
		goto out;
	}
	if (pol_parse(out, buf, n, err, sizeof(err)) != 0) {
		r = fail("%s: %s", path, err);
		goto out;
	}
	r = CTL_EXIT_OK;
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return r;
}

static void
collect(void *arg, const struct pol_change *c)
{
	struct changes *cs = arg;
	struct pol_change *v;
	size_t cap;

	if (cs->nomem)
		return;
	if (cs->n == cs->cap) {
		cap = cs->cap ? cs->cap * 2 : 32;
		if ((v = reallocarray(cs->v, cap, sizeof(*v))) == NULL) {
			cs->nomem = 1;
			return;
		}
		cs->v = v;
		cs->cap = cap;
	}
	cs->v[cs->n++] = *c;
}

static int
print_text(enum pol_change_class cls, const struct changes *cs)
{
	size_t i;

	printf("%s\n", pol_change_class_name(cls));
	for (i = 0; i < cs->n; i++)
		printf("%-8s %s: %s -> %s\n",
		    pol_change_class_name(cs->v[i].cls), cs->v[i].path,
		    cs->v[i].old_value, cs->v[i].new_value);
	return fflush(stdout) == 0 && !ferror(stdout) ? CTL_EXIT_OK :
	    fail("writing the output failed");
}

static int
print_json(enum pol_change_class cls, const struct changes *cs,
    const struct pol_policy *old, const struct pol_policy *new_)
{
	char oh[65], nh[65];
	json_t *out = NULL, *list, *c;
	size_t i;

	util_hex_encode(oh, pol_hash(old), 32);
	util_hex_encode(nh, pol_hash(new_), 32);
	if ((list = json_array()) == NULL)
		return ctl_json_emit(NULL);
	for (i = 0; i < cs->n; i++) {
		c = json_pack("{s:s, s:s, s:s, s:s}", "path", cs->v[i].path,
		    "old", cs->v[i].old_value, "new", cs->v[i].new_value,
		    "class", pol_change_class_name(cs->v[i].cls));
		if (c == NULL || json_array_append_new(list, c) != 0) {
			json_decref(list);
			return ctl_json_emit(NULL);
		}
	}
	/* "o" hands list over (jansson releases it when json_pack fails). */
	out = json_pack("{s:s, s:s, s:s, s:o}", "class",
	    pol_change_class_name(cls), "old_hash", oh, "new_hash", nh,
	    "changes", list);
	return ctl_json_emit(out);
}

int
cmd_policy_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pol_policy *old = NULL, *new_ = NULL;
	struct changes cs;
	enum pol_change_class cls;
	int ch, json = 0, r = CTL_EXIT_FAIL;

	memset(&cs, 0, sizeof(cs));
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 'h':
			help();
			return CTL_EXIT_OK;
		case ':':
			return usage("an option needs a value");
		default:
			return usage("unknown option");
		}
	}
	if (argc - optind != 2)
		return usage("wants two files: OLD NEW");
	if ((r = load(&old, argv[optind])) != CTL_EXIT_OK ||
	    (r = load(&new_, argv[optind + 1])) != CTL_EXIT_OK)
		goto out;
	cls = pol_diff(old, new_, collect, &cs);
	if (cs.nomem) {
		r = fail("%s", err_str(ERR_NOMEM));
		goto out;
	}
	r = json ? print_json(cls, &cs, old, new_) : print_text(cls, &cs);
out:
	free(cs.v);
	pol_free(old);
	pol_free(new_);
	return r;
}
