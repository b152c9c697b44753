/*
 * cmd_policy.c: `signerctl policy propose|approve|cancel|status|text`, the
 * operator's side of governed policy changes (docs/governance.md).  signerd
 * decides everything; these commands relay files and approvals and print
 * what signerd answers: the version in force and the pending proposal.
 */
#include "signerctl/cmd_policy.h"

#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/err.h"
#include "common/util.h"
#include "policy/policy.h"
#include "proto/client.h"
#include "signerctl/cmd_audit.h"
#include "signerctl/cmd_signer.h"
#include "signerctl/ctl.h"

struct popts {
	const char *socket;
	const char *approvals[PRT_APPROVALS_MAX];
	size_t napprovals;
	const char *proposal;	/* --proposal HASH (default: the pending one) */
	const char *replaces;	/* --replaces HASH (default: the one in force) */
	const char *file;	/* the positional FILE */
	uint64_t expires;	/* --expires UNIX (text) */
	int cancel;		/* --cancel (text) */
	int json;
};

static void
help(const char *verb)
{
	if (strcmp(verb, "propose") == 0)
		printf("usage: signerctl policy propose FILE [--replaces HASH] "
		    "[--socket URL] [--json]\n\nProposes FILE, a whole policy "
		    "in the genesis format with a new policy_id, as\nthe next "
		    "version.  HASH is the SHA-256 of the version in force it "
		    "replaces\n(default: what signerd says is in force).  It "
		    "takes effect once m of the\ngovernance set approve it; a "
		    "change that loosens anything then waits the\ngovernance "
		    "delay (signerctl policy diff shows which it is).\n");
	else if (strcmp(verb, "approve") == 0)
		printf("usage: signerctl policy approve --approval FILE "
		    "[--approval FILE ...] [--proposal HASH]\n"
		    "       [--socket URL] [--json]\n\nRelays governance "
		    "approvals of the pending proposal (HASH, default the one\n"
		    "pending).  Each FILE is an approval over the text "
		    "`signerctl policy text`\nprints (docs/approvals.md).\n");
	else if (strcmp(verb, "cancel") == 0)
		printf("usage: signerctl policy cancel --approval FILE "
		    "[--proposal HASH] [--socket URL] [--json]\n\nCancels the "
		    "pending proposal with one governance approver's approval "
		    "over\nthe text `signerctl policy text --cancel` prints.  "
		    "A cancelled file can never\nbe proposed again under the "
		    "same version.\n");
	else if (strcmp(verb, "status") == 0)
		printf("usage: signerctl policy status [--socket URL] [--json]"
		    "\n\nThe version in force and the pending proposal: its "
		    "approvals and when it\ntakes effect.\n");
	else
		printf("usage: signerctl policy text [FILE | --proposal HASH] "
		    "[--cancel] [--expires UNIX]\n       [--socket URL]\n\n"
		    "Prints the approval text for the proposal (FILE, or HASH, "
		    "default the one\npending) naming the version in force: "
		    "the bytes an approver signs with\n`signerctl approve` or "
		    "openssl.  --cancel for a cancellation; --expires\ndefaults "
		    "to an hour from now.\n");
	printf("\n  --socket URL  signerd's socket (default $SIGNERD_SOCKET "
	    "or %s)\n  --json        print the result as JSON\n"
	    "Exit status: 0 done, 1 refused or failed, 2 usage.\n",
	    CTL_DEFAULT_SOCKET);
}

static int
usage(const char *verb, const char *msg)
{
	fprintf(stderr, "signerctl policy %s: %s\nTry 'signerctl policy %s "
	    "--help'.\n", verb, msg, verb);
	return CTL_EXIT_USAGE;
}

static int fail(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "signerctl policy %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return CTL_EXIT_FAIL;
}

/* 0, CTL_EXIT_USAGE, or -1 after --help. */
static int
parse(struct popts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "approval", required_argument, NULL, 'A' },
		{ "proposal", required_argument, NULL, 'P' },
		{ "replaces", required_argument, NULL, 'R' },
		{ "expires", required_argument, NULL, 'e' },
		{ "cancel", no_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *verb = argv[0];
	char *end;
	int ch;

	memset(o, 0, sizeof(*o));
	o->socket = getenv("SIGNERD_SOCKET") ? getenv("SIGNERD_SOCKET") :
	    CTL_DEFAULT_SOCKET;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': o->socket = optarg; break;
		case 'A':
			if (o->napprovals >= PRT_APPROVALS_MAX)
				return usage(verb, "too many --approval");
			o->approvals[o->napprovals++] = optarg;
			break;
		case 'P': o->proposal = optarg; break;
		case 'R': o->replaces = optarg; break;
		case 'e':
			o->expires = strtoull(optarg, &end, 10);
			if (optarg[0] < '1' || optarg[0] > '9' || *end != '\0')
				return usage(verb, "--expires wants unix "
				    "seconds");
			break;
		case 'c': o->cancel = 1; break;
		case 'j': o->json = 1; break;
		case 'h': help(verb); return -1;
		case ':': return usage(verb, "an option needs a value");
		default: return usage(verb, "unknown option");
		}
	}
	if (optind < argc)
		o->file = argv[optind++];
	if (optind < argc)
		return usage(verb, "one FILE at most");
	return 0;
}

static int
parse_hash(uint8_t out[32], const char *hex)
{
	size_t i;

	if (strlen(hex) != 64)
		return -1;
	for (i = 0; i < 64; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') ||
		    (hex[i] >= 'a' && hex[i] <= 'f')))
			return -1;
	return util_hex_decode(out, 32, hex) == 0 ? 0 : -1;
}

static int
read_policy_file(uint8_t **buf, size_t *len, const char *path,
    const char *verb)
{
	FILE *f;
	size_t n;

	*buf = NULL;
	*len = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return fail(verb, "cannot open %s", path);
	if ((*buf = malloc(PRT_POLICY_JSON_MAX + 1)) == NULL) {
		fclose(f);
		return fail(verb, "%s: out of memory", path);
	}
	n = fread(*buf, 1, PRT_POLICY_JSON_MAX + 1, f);
	if (ferror(f) || n == 0 || n > PRT_POLICY_JSON_MAX) {
		fclose(f);
		free(*buf);
		*buf = NULL;
		return fail(verb, "%s: unreadable, empty or larger than the "
		    "wire allows (60000 bytes)", path);
	}
	fclose(f);
	*len = n;
	return 0;
}

static void
iso_time(char *out, size_t cap, uint64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(out, cap, "-");
	else
		strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The state signerd answered with, as text or JSON; then the result. */
static int
print_state(const struct prt_gov_state *st, const struct prt_reply_hdr *hdr,
    int json)
{
	char h[65], ph[65], since[32], prop[32], eff[32];
	json_t *out, *pending = json_null(), *names;
	uint16_t i;

	if (hdr->result != 0) {
		out = json_pack("{s:i, s:s, s:s}", "result", hdr->result,
		    "reason", pol_reason_name(hdr->result), "message",
		    hdr->message);
		if (json) {
			(void)ctl_json_emit(out);
			return CTL_EXIT_FAIL;
		}
		json_decref(out);
		fprintf(stderr, "signerctl policy: refused: %s\n",
		    hdr->message);
		return CTL_EXIT_FAIL;
	}
	util_hex_encode(h, st->policy_hash, 32);
	util_hex_encode(ph, st->pending_hash, 32);
	iso_time(since, sizeof(since), st->since);
	iso_time(prop, sizeof(prop), st->proposed_at);
	iso_time(eff, sizeof(eff), st->effective_at);
	if (!json) {
		printf("in force   %s (version %" PRIu32 ", since %s)\n"
		    "hash       %s\n", st->policy_id, st->version, since, h);
		if (!st->pending) {
			printf("pending    none\n");
			return CTL_EXIT_OK;
		}
		printf("pending    %s (a %s, proposed %s)\nhash       %s\n"
		    "approvals  %u of %u:", st->pending_id,
		    st->change == PRT_GOV_LOOSEN ? "loosening" : "tightening",
		    prop, ph, st->napproved, st->needed);
		for (i = 0; i < st->napproved; i++)
			printf(" %s", st->approved[i]);
		printf("\neffective  %s\n", st->effective_at ? eff :
		    "once approved");
		return CTL_EXIT_OK;
	}
	if (st->pending) {
		names = json_array();
		for (i = 0; names != NULL && i < st->napproved; i++)
			json_array_append_new(names,
			    json_string(st->approved[i]));
		pending = json_pack("{s:s, s:s, s:s, s:s, s:o, s:i, s:o}",
		    "policy_id", st->pending_id, "policy_hash", ph, "change",
		    st->change == PRT_GOV_LOOSEN ? "loosen" : "tighten",
		    "proposed_at", prop, "approvals", names, "needed",
		    (int)st->needed, "effective_at", st->effective_at ?
		    json_string(eff) : json_null());
	}
	out = json_pack("{s:s, s:s, s:I, s:s, s:o}", "policy_id",
	    st->policy_id, "policy_hash", h, "version",
	    (json_int_t)st->version, "since", since, "pending", pending);
	return ctl_json_emit(out);
}

static int
load_approvals(struct prt_approval *out, const struct popts *o,
    const char *verb)
{
	char err[512];
	size_t i;

	for (i = 0; i < o->napprovals; i++)
		if (ctl_approval_load(&out[i], o->approvals[i], err,
		    sizeof(err)) != 0)
			return fail(verb, "%s", err);
	return 0;
}

/* The hash named by --proposal, or the pending proposal's. */
static int
proposal_hash(uint8_t out[32], const struct popts *o,
    const struct prt_gov_state *st, const char *verb)
{
	if (o->proposal != NULL) {
		if (parse_hash(out, o->proposal) != 0)
			return usage(verb, "--proposal wants 64 lowercase hex");
		return 0;
	}
	if (!st->pending)
		return fail(verb, "%s", "no proposal is pending");
	memcpy(out, st->pending_hash, 32);
	return 0;
}

static int
do_text(const struct popts *o, const struct prt_gov_state *st)
{
	struct pol_approval_msg msg;
	char text[POL_APPROVAL_TEXT_MAX], hex[65];
	uint8_t proposed[32], *buf;
	unsigned int mdlen = 32;
	size_t len;
	int r;

	memset(&msg, 0, sizeof(msg));
	if (o->file != NULL) {
		if ((r = read_policy_file(&buf, &len, o->file, "text")) != 0)
			return r;
		r = EVP_Digest(buf, len, proposed, &mdlen, EVP_sha256(),
		    NULL) == 1 ? 0 : -1;
		free(buf);
		if (r != 0)
			return fail("text", "%s", "SHA-256 failed");
	} else if ((r = proposal_hash(proposed, o, st, "text")) != 0) {
		return r;
	}
	msg.action = o->cancel ? POL_ACTION_POLICY_CANCEL : POL_ACTION_POLICY;
	snprintf(msg.policy_id, sizeof(msg.policy_id), "%s", st->policy_id);
	memcpy(msg.replaces, st->policy_hash, 32);
	memcpy(msg.proposed, proposed, 32);
	msg.expires = o->expires != 0 ? o->expires :
	    (uint64_t)time(NULL) + 3600;
	if (pol_approval_text(text, sizeof(text), &len, &msg) != 0) {
		util_hex_encode(hex, proposed, 32);
		return fail("text", "cannot build the text for %s", hex);
	}
	fwrite(text, 1, len, stdout);
	return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

int
cmd_policy_gov(int argc, char **argv)
{
	struct prt_gov_approve_req *ap = NULL;
	struct prt_gov_propose_req pr;
	struct prt_gov_cancel_req cr;
	struct prt_gov_state st;
	struct prt_reply_hdr hdr;
	struct prt_client *c = NULL;
	const char *verb = argv[0];
	uint8_t *doc = NULL;
	struct popts o;
	int r;

	if ((r = parse(&o, argc, argv)) != 0)
		return r < 0 ? CTL_EXIT_OK : r;
	if (strcmp(verb, "propose") == 0 && o.file == NULL)
		return usage(verb, "needs the policy FILE");
	if ((strcmp(verb, "approve") == 0 || strcmp(verb, "cancel") == 0) &&
	    (o.napprovals == 0 || (verb[0] == 'c' && o.napprovals != 1)))
		return usage(verb, verb[0] == 'c' ? "needs exactly one "
		    "--approval FILE" : "needs --approval FILE");
	if ((ap = calloc(1, sizeof(*ap))) == NULL)
		return fail(verb, "%s", "out of memory");
	memset(&pr, 0, sizeof(pr));
	memset(&cr, 0, sizeof(cr));
	if ((r = ctl_signer_connect(&c, "policy", o.socket)) != 0)
		goto out;
	/* Every verb starts from what is in force and pending right now. */
	if ((r = prt_client_gov_status(c, &st, &hdr)) != 0) {
		r = ctl_signer_fail("policy", "status", r);
		goto out;
	}
	if (hdr.result != 0 || strcmp(verb, "status") == 0) {
		r = print_state(&st, &hdr, o.json);
		goto out;
	}
	if (strcmp(verb, "text") == 0) {
		r = do_text(&o, &st);
		goto out;
	}
	if (strcmp(verb, "propose") == 0) {
		if ((r = read_policy_file(&doc, &pr.policy_len, o.file,
		    verb)) != 0)
			goto out;
		pr.policy = doc;
		if (o.replaces != NULL && parse_hash(pr.replaces,
		    o.replaces) != 0) {
			r = usage(verb, "--replaces wants 64 lowercase hex");
			goto out;
		}
		if (o.replaces == NULL)
			memcpy(pr.replaces, st.policy_hash, 32);
		r = prt_client_gov_propose(c, &pr, &st, &hdr);
	} else if (strcmp(verb, "approve") == 0) {
		if ((r = proposal_hash(ap->proposed, &o, &st, verb)) != 0 ||
		    (r = load_approvals(ap->approvals, &o, verb)) != 0)
			goto out;
		ap->napprovals = (uint16_t)o.napprovals;
		r = prt_client_gov_approve(c, ap, &st, &hdr);
	} else {
		if ((r = proposal_hash(cr.proposed, &o, &st, verb)) != 0 ||
		    (r = load_approvals(&cr.approval, &o, verb)) != 0)
			goto out;
		r = prt_client_gov_cancel(c, &cr, &st, &hdr);
	}
	if (r != 0) {
		r = ctl_signer_fail("policy", verb, r);
		goto out;
	}
	r = print_state(&st, &hdr, o.json);
out:
	prt_client_close(c);
	free(doc);
	free(ap);
	return r;
}

static void
group_help(FILE *out)
{
	fprintf(out, "usage: signerctl policy [show] [--socket URL]\n"
	    "       signerctl policy status [--socket URL] [--json]\n"
	    "       signerctl policy propose FILE [--replaces HASH] "
	    "[--socket URL] [--json]\n"
	    "       signerctl policy text [FILE | --proposal HASH] [--cancel] "
	    "[--expires UNIX]\n"
	    "       signerctl policy approve --approval FILE ... "
	    "[--proposal HASH] [--json]\n"
	    "       signerctl policy cancel --approval FILE [--proposal HASH] "
	    "[--json]\n"
	    "       signerctl policy diff OLD NEW [--json]\n"
	    "       signerctl policy history --journal DIR [--json]\n\n"
	    "show     print the policy in force\n"
	    "status   the version in force and the pending proposal\n"
	    "propose  propose FILE as the next version\n"
	    "text     print the approval text of the pending proposal\n"
	    "approve  relay governance approvals of the pending proposal\n"
	    "cancel   cancel the pending proposal (one governance approval)\n"
	    "diff     classify a change (tighten or loosen) field by field\n"
	    "history  every version, proposal, approval and cancellation in a "
	    "journal\n\nEach verb has --help; docs/governance.md explains the "
	    "flow.\nExit status: 0 done, 1 refused or failed, 2 usage.\n");
}

int
cmd_policy(int argc, char **argv)
{
	char *audit_argv[16];
	int i, n;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0)) {
			group_help(stdout);
			return CTL_EXIT_OK;
		}
		return cmd_signer(argc, argv);	/* show, as before */
	}
	if (strcmp(argv[1], "show") == 0) {
		argv[1] = argv[0];
		return cmd_signer(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "diff") == 0)
		return cmd_policy_diff(argc - 1, argv + 1);
	if (strcmp(argv[1], "history") == 0) {
		/* The auditors' listing, filtered (one implementation). */
		if (argc > 13)
			return usage("history", "too many arguments");
		for (i = 2; i < argc; i++)
			if (strcmp(argv[i], "--help") == 0 ||
			    strcmp(argv[i], "-h") == 0) {
				printf("usage: signerctl policy history --journal "
				    "DIR [--since SEQ|RFC3339] [--json]\n\n"
				    "Every policy version, proposal, approval "
				    "and cancellation in a journal,\nread "
				    "offline while the chain is checked: "
				    "`signerctl audit show --policy`.\n"
				    "Exit status: 0 listed, 1 the journal is "
				    "unreadable or broken, 2 usage.\n");
				return CTL_EXIT_OK;
			}
		audit_argv[0] = "audit";
		audit_argv[1] = "show";
		audit_argv[2] = "--policy";
		for (i = 2, n = 3; i < argc; i++)
			audit_argv[n++] = argv[i];
		audit_argv[n] = NULL;
		return cmd_audit(n, audit_argv);
	}
	if (strcmp(argv[1], "propose") == 0 || strcmp(argv[1], "approve") == 0 ||
	    strcmp(argv[1], "cancel") == 0 || strcmp(argv[1], "status") == 0 ||
	    strcmp(argv[1], "text") == 0)
		return cmd_policy_gov(argc - 1, argv + 1);
	fprintf(stderr, "signerctl policy: unknown command '%s'\nTry "
	    "'signerctl policy --help'.\n", argv[1]);
	return CTL_EXIT_USAGE;
}
