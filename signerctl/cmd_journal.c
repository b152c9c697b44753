/* cmd_journal.c: `signerctl journal archive`, run beside a live signerd or with it stopped. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "journal/journal.h"
#include "signerctl/cmd_audit.h"
#include "signerctl/cmd_journal.h"
#include "signerctl/ctl.h"
#include "signerd/audit.h"

struct journal_opts {
	const char *journal;
	const char *archive;
	const char *pubkey;
	int json;
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: signerctl journal archive --journal DIR --archive ADIR "
	    "--pubkey PEMFILE [--json]\n\n"
	    "archive  move the oldest segments of the journal DIR into ADIR\n"
	    "         (created with mode 0700 if missing): those at or before\n"
	    "         the newest snapshot signed by the audit key (PEM, EC\n"
	    "         P-256), before the oldest record signerd may still read\n"
	    "         back (the snapshot's keep_from), and at or before the\n"
	    "         head of a checkpoint that key signed; never the newest\n"
	    "         segment.  The chain of DIR is verified first and must\n"
	    "         join the last segment of ADIR.  Safe while signerd runs;\n"
	    "         a rerun after a crash finishes an interrupted move.\n"
	    "         signerd then needs DIR only; `signerctl audit verify`\n"
	    "         needs both.\n\n"
	    "Exit status: 0 done (also when nothing could move), 1 failed, "
	    "2 wrong command line.\n");
}

static int
bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "signerctl: journal: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'signerctl journal --help'.\n");
	return CTL_EXIT_USAGE;
}

/* argv[2..]: "--opt VALUE", "--opt=VALUE", "--json".  0, -1 (help), 2. */
static int
parse(struct journal_opts *o, int argc, char **argv)
{
	static const struct {
		const char *name;
		size_t off;
	} slots[] = {
		{ "--journal", offsetof(struct journal_opts, journal) },
		{ "--archive", offsetof(struct journal_opts, archive) },
		{ "--pubkey", offsetof(struct journal_opts, pubkey) },
	};
	const char *arg, *val, *eq, **slot;
	size_t nlen, k;
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 2; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			usage(stdout);
			return -1;
		}
		if (strcmp(arg, "--json") == 0) {
			o->json = 1;
			continue;
		}
		eq = strchr(arg, '=');
		nlen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		slot = NULL;
		for (k = 0; k < ARRAY_LEN(slots); k++)
			if (strlen(slots[k].name) == nlen &&
			    strncmp(arg, slots[k].name, nlen) == 0)
				slot = (const char **)((char *)o +
				    slots[k].off);
		if (slot == NULL)
			return bad_usage("unknown option %.*s", (int)nlen, arg);
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return bad_usage("%s needs a value", arg);
		if (*slot != NULL)
			return bad_usage("%.*s given twice", (int)nlen, arg);
		if (val[0] == '\0')
			return bad_usage("%.*s is empty", (int)nlen, arg);
		*slot = val;
	}
	if (o->journal == NULL || o->archive == NULL || o->pubkey == NULL)
		return bad_usage("archive needs --journal DIR, --archive ADIR "
		    "and --pubkey PEMFILE");
	return 0;
}

static int
print_json(const struct journal_opts *o, const struct jnl_archive_result *res)
{
	json_t *v;

	v = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I}", "journal", o->journal, "archive", o->archive,
	    "snapshot_seq", (json_int_t)res->snapshot_seq,
	    "keep_from", (json_int_t)res->keep_from,
	    "signed_seq", (json_int_t)res->signed_seq,
	    "segments_moved", (json_int_t)res->segments_moved,
	    "first_moved", (json_int_t)res->first_moved,
	    "last_moved", (json_int_t)res->last_moved,
	    "records_moved", (json_int_t)res->records_moved,
	    "first_seq", (json_int_t)res->first_seq,
	    "last_seq", (json_int_t)res->last_seq,
	    "leftovers", (json_int_t)res->leftovers);
	return ctl_json_emit(v);
}

static void
print_text(const struct journal_opts *o, const struct jnl_archive_result *res)
{
	if (res->leftovers > 0)
		printf("finished %llu segment(s) an interrupted run had "
		    "already copied\n", (unsigned long long)res->leftovers);
	if (res->snapshot_seq == 0) {
		printf("nothing moved: no snapshot in %s is signed by the "
		    "audit key (or the journal has one segment)\n",
		    o->journal);
		return;
	}
	if (res->segments_moved == 0) {
		printf("nothing moved: snapshot at seq %llu, keep_from %llu, "
		    "signed up to seq %llu; no segment but the newest is "
		    "wholly before all three\n",
		    (unsigned long long)res->snapshot_seq,
		    (unsigned long long)res->keep_from,
		    (unsigned long long)res->signed_seq);
		return;
	}
	printf("moved seg-%08u.jsonl .. seg-%08u.jsonl (%llu segments, "
	    "records %llu..%llu) to %s\n", res->first_moved, res->last_moved,
	    (unsigned long long)res->segments_moved,
	    (unsigned long long)res->first_seq,
	    (unsigned long long)res->last_seq, o->archive);
	printf("covered by: snapshot at seq %llu (keep_from %llu), "
	    "checkpoints signed up to seq %llu\n",
	    (unsigned long long)res->snapshot_seq,
	    (unsigned long long)res->keep_from,
	    (unsigned long long)res->signed_seq);
}

static int
archive_cmd(int argc, char **argv)
{
	struct journal_opts o;
	struct jnl_archive_result res;
	struct jnl_error err;
	EVP_PKEY *pub = NULL;
	char msg[400];
	int r;

	if ((r = parse(&o, argc, argv)) != 0)
		return r < 0 ? CTL_EXIT_OK : r;
	if (mkdir(o.archive, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "signerctl: journal archive: mkdir %s: %s\n",
		    o.archive, strerror(errno));
		return CTL_EXIT_FAIL;
	}
	if ((pub = ctl_load_audit_pubkey(o.pubkey, "journal archive")) == NULL)
		return CTL_EXIT_FAIL;
	r = sd_audit_archive(o.journal, o.archive, pub, &res, &err);
	EVP_PKEY_free(pub);
	if (r != 0) {
		fprintf(stderr, "signerctl: journal archive: %s\n",
		    jnl_error_format(msg, sizeof(msg), &err));
		return CTL_EXIT_FAIL;
	}
	if (o.json)
		return print_json(&o, &res);
	print_text(&o, &res);
	return CTL_EXIT_OK;
}

int
cmd_journal(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
	}
	if (strcmp(argv[1], "archive") == 0)
		return archive_cmd(argc, argv);
	return bad_usage("unknown command '%s'", argv[1]);
}
