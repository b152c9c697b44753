/* cmd_anchor.c: signerctl anchor show and anchor reset, the journal's rollback anchor on the token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "signerctl/ctl.h"

static int anchor_show(const struct ctl_cmd *c, const struct ctl_opts *o);
static int anchor_reset(const struct ctl_cmd *c, const struct ctl_opts *o);

#define ANCHOR_OPTS (OPT_MODULE | OPT_JSON | OPT_TOKEN | OPT_PIN_FILE | \
	OPT_PIN_ENV | OPT_LABEL)

/*
 * Parsed by ctl_parse like every key and token command, so PINs come only
 * from --pin-file or --pin-env; --yes, which only reset takes, is taken
 * out of argv before (cmd_anchor).
 */
static const struct ctl_cmd anchor_cmds[] = {
	{ "anchor", "show", anchor_show, ANCHOR_OPTS, OPT_TOKEN | OPT_PIN,
	    NULL, "--token URI --pin-file F [--label L] [--json]",
	    "print the journal's rollback anchor on the token: the seq and "
	    "hash of the last checkpoint signerd anchored, or that there is "
	    "none" },
	{ "anchor", "reset", anchor_reset, ANCHOR_OPTS, OPT_TOKEN | OPT_PIN,
	    NULL, "--token URI --pin-file F [--label L] --yes",
	    "delete the rollback anchor, with signerd stopped: the way out "
	    "of an anchor signerd cannot read (several objects, another "
	    "format); then start signerd once with -A to re-anchor" },
};

/* The anchor as read: present or not, and parsed when present. */
struct anchor {
	const char *label;
	int present;
	uint64_t seq;
	char hash[65];
};

static const char *
label_of(const struct ctl_opts *o)
{
	return o->label != NULL ? o->label : HSM_ANCHOR_LABEL;
}

/* Opens the token and logs in (the anchor is private); prints failures. */
/*
 * Reads and parses the anchor.  0 with a->present 0 or 1; otherwise the
 * ERR_* (ERR_EXISTS for several objects, ERR_MALFORMED or ERR_BAD_VERSION
 * for a value that is not a v1 anchor), reported by the caller.
 */
static int
anchor_get(struct hsm *h, struct anchor *a, const char *label)
{
	uint8_t buf[HSM_ANCHOR_MAX], hash[32];
	size_t len;
	int r;

	memset(a, 0, sizeof(*a));
	a->label = label;
	r = hsm_anchor_read(h, label, buf, sizeof(buf), &len);
	if (r == ERR_NOT_FOUND)
		return 0;
	if (r != 0)
		return r;
	if ((r = hsm_anchor_text_parse(&a->seq, hash, buf, len)) != 0)
		return r;
	util_hex_encode(a->hash, hash, sizeof(hash));
	a->present = 1;
	return 0;
}

/* Says why the anchor could not be read, in words a reviewer acts on. */
static int
anchor_fail(int r, const char *label)
{
	if (r == ERR_MALFORMED || r == ERR_BAD_VERSION) {
		fprintf(stderr, "signerctl: the journal anchor \"%s\" is not a "
		    "v1 anchor (\"%s v1 SEQ HASH\"): %s\n", label,
		    HSM_ANCHOR_APPLICATION, err_str(r));
		return CTL_EXIT_FAIL;
	}
	return ctl_fail("reading the journal anchor", r);
}

static json_t *
anchor_json(const struct anchor *a)
{
	if (!a->present)
		return json_pack("{s:s, s:b}", "label", a->label, "present", 0);
	/* JSON integers are int64: a larger seq is not printed wrong. */
	if (a->seq > (uint64_t)INT64_MAX)
		return NULL;
	return json_pack("{s:s, s:b, s:I, s:s}", "label", a->label,
	    "present", 1, "seq", (json_int_t)a->seq, "hash", a->hash);
}

static void
anchor_print(const struct anchor *a, const char *token)
{
	if (!a->present) {
		printf("no anchor \"%s\" on %s (signerd has not anchored a "
		    "journal on this token)\n", a->label, token);
		return;
	}
	printf("journal anchor \"%s\" on %s\n", a->label, token);
	printf("  seq   %llu\n", (unsigned long long)a->seq);
	printf("  hash  %s\n", a->hash);
}

static int
anchor_show(const struct ctl_cmd *c, const struct ctl_opts *o)
{
	struct hsm *h = NULL;
	struct anchor a;
	int r;

	if ((r = ctl_open_token(&h, o, o->token)) != CTL_EXIT_OK)
		goto out;
	if ((r = anchor_get(h, &a, label_of(o))) != 0) {
		r = anchor_fail(r, label_of(o));
		goto out;
	}
	if (o->json) {
		r = ctl_json_emit(anchor_json(&a));
		goto out;
	}
	anchor_print(&a, o->token);
	r = CTL_EXIT_OK;
out:
	hsm_close(h);
	return r;
}

/* Without --yes: what reset would delete, and how to go on. */
static int
reset_dry_run(const struct ctl_cmd *c, const struct ctl_opts *o,
    struct hsm *h)
{
	const char *label = label_of(o);
	struct anchor a;
	int r;

	r = anchor_get(h, &a, label);
	if (r == 0 && !a.present) {
		fprintf(stderr, "signerctl: anchor reset: there is no anchor "
		    "\"%s\" on %s; nothing to delete\n", label, o->token);
		return CTL_EXIT_FAIL;
	}
	fprintf(stderr, "signerctl: anchor reset: not done without --yes.\n");
	if (r == 0)
		fprintf(stderr, "It would delete the journal anchor \"%s\" on "
		    "%s (seq %llu, hash %s).\n", label, o->token,
		    (unsigned long long)a.seq, a.hash);
	else
		fprintf(stderr, "It would delete every journal anchor object "
		    "\"%s\" on %s (reading it: %s).\n", label, o->token,
		    err_str(r));
	fprintf(stderr, "Without an anchor signerd takes an empty journal "
	    "for a first start and refuses any other until it is started "
	    "once with -A, which journals the re-anchor and anchors the "
	    "head again.\n"
	    "Do this only for a deliberate re-anchor, with signerd stopped; "
	    "run again with --yes.\n");
	return CTL_EXIT_USAGE;
}

static int
anchor_reset_run(const struct ctl_cmd *c, const struct ctl_opts *o, int yes)
{
	const char *label = label_of(o);
	struct hsm *h = NULL;
	struct anchor a;
	int r, got;

	if ((r = ctl_open_token(&h, o, o->token)) != CTL_EXIT_OK)
		goto out;
	if (!yes) {
		r = reset_dry_run(c, o, h);
		goto out;
	}
	/* What is deleted is printed: the re-anchor's record of the old. */
	got = anchor_get(h, &a, label);
	if ((r = hsm_anchor_delete(h, label)) != 0) {
		r = ctl_fail("deleting the journal anchor", r);
		goto out;
	}
	if (o->json) {
		r = ctl_json_emit(json_pack("{s:s, s:b, s:o*}", "label", label,
		    "deleted", 1, "previous", got == 0 ? anchor_json(&a) :
		    NULL));
		goto out;
	}
	if (got == 0)
		printf("deleted journal anchor \"%s\" on %s (was seq %llu, "
		    "hash %s)\n", label, o->token, (unsigned long long)a.seq,
		    a.hash);
	else
		printf("deleted every journal anchor object \"%s\" on %s "
		    "(they did not read as one anchor: %s)\n", label,
		    o->token, err_str(got));
	r = CTL_EXIT_OK;
out:
	hsm_close(h);
	return r;
}

/* Through the table, which carries no --yes: only ever the dry run. */
static int
anchor_reset(const struct ctl_cmd *c, const struct ctl_opts *o)
{
	return anchor_reset_run(c, o, 0);
}

static void
anchor_help(FILE *out)
{
	size_t i;

	fprintf(out, "usage:\n");
	for (i = 0; i < ARRAY_LEN(anchor_cmds); i++)
		fprintf(out, "  signerctl anchor %s %s\n      %s.\n",
		    anchor_cmds[i].verb, anchor_cmds[i].synopsis,
		    anchor_cmds[i].summary);
	fprintf(out, "\n--label defaults to \"%s\", the label signerd uses.\n"
	    "Try 'signerctl anchor show --help'.\n", HSM_ANCHOR_LABEL);
}

int
cmd_anchor(int argc, char **argv)
{
	const struct ctl_cmd *c = NULL;
	struct ctl_opts o;
	char **args = NULL;
	int i, n = 0, yes = 0, r;

	if (argc < 2) {
		anchor_help(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		anchor_help(stdout);
		return CTL_EXIT_OK;
	}
	for (i = 0; i < (int)ARRAY_LEN(anchor_cmds); i++)
		if (strcmp(argv[1], anchor_cmds[i].verb) == 0)
			c = &anchor_cmds[i];
	if (c == NULL) {
		fprintf(stderr, "signerctl: unknown command 'anchor %s'\n"
		    "Try 'signerctl anchor --help'.\n", argv[1]);
		return CTL_EXIT_USAGE;
	}
	/* argv[1..] without --yes: ctl_parse sees argv[0] as the verb. */
	if ((args = calloc((size_t)argc, sizeof(*args))) == NULL)
		return ctl_fail("parsing the command line", ERR_NOMEM);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--yes") == 0) {
			yes++;
			continue;
		}
		args[n++] = argv[i];
	}
	if (yes > 0 && c->run != anchor_reset) {
		r = ctl_usage(c, "--yes is not an option of this command");
		goto out;
	}
	if (yes > 1) {
		r = ctl_usage(c, "--yes given twice");
		goto out;
	}
	r = ctl_parse(&o, c, n, args);
	if (r == CTL_HELP_SHOWN) {
		if (c->run == anchor_reset)
			printf("  %-20s %s\n", "--yes",
			    "really delete it (without: say what would go)");
		r = CTL_EXIT_OK;
		goto out;
	}
	if (r != 0)
		goto out;
	r = c->run == anchor_reset ? anchor_reset_run(c, &o, yes) :
	    c->run(c, &o);
out:
	free(args);
	return r;
}
