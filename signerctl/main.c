/* main.c: signerctl, the security team's provisioning tool: the command table and dispatch. */
#include <stdio.h>
#include <string.h>

#include "common/version.h"
#include "signerctl/cmd_approve.h"
#include "signerctl/cmd_audit.h"
#include "signerctl/cmd_journal.h"
#include "signerctl/cmd_metrics.h"
#include "signerctl/cmd_policy.h"
#include "signerctl/cmd_signer.h"
#include "signerctl/ctl.h"

#define COMMON (OPT_MODULE | OPT_JSON)
#define USER_PIN (OPT_PIN_FILE | OPT_PIN_ENV)

const struct ctl_cmd ctl_cmds[] = {
	{ "token", "init", ctl_token_init,
	    COMMON | OPT_LABEL | OPT_SO_PIN_FILE | OPT_SO_PIN_ENV | USER_PIN,
	    OPT_LABEL | OPT_SO_PIN | OPT_PIN, NULL,
	    "--label LABEL --so-pin-file F --pin-file F",
	    "initialise a token in the first blank slot, with SO and user PINs" },
	{ "key", "generate", ctl_key_generate,
	    COMMON | OPT_TOKEN | USER_PIN | OPT_LABEL | OPT_TYPE,
	    OPT_TOKEN | OPT_PIN | OPT_LABEL, NULL,
	    "--token URI --pin-file F --label NAME [--type secp256k1|p256]",
	    "generate a sign-only key pair on the token" },
	{ "key", "list", ctl_key_list, COMMON | OPT_TOKEN | USER_PIN,
	    OPT_TOKEN | OPT_PIN, NULL,
	    "--token URI --pin-file F",
	    "list the token's EC keys with their safety attributes" },
	{ "key", "show", ctl_key_show, COMMON | USER_PIN, OPT_PIN, "URI",
	    "URI --pin-file F",
	    "show one key; the URI names its token and the key" },
};
const size_t ctl_ncmds = ARRAY_LEN(ctl_cmds);

/* Groups that parse their own verbs and options (argv[0] is the group). */
static const struct {
	const char *group;
	int (*run)(int argc, char **argv);
	const char *synopsis;
} own_parsers[] = {
	{ "sign", cmd_signer,
	    "signerctl sign [--socket URL] --request FILE\n"
	    "      ask signerd to sign a payout; prints its reply as JSON" },
	{ "queue", cmd_signer,
	    "signerctl queue [--socket URL] --request FILE\n"
	    "      queue a payout above its timelock threshold; prints the "
	    "earliest signing time" },
	{ "cancel", cmd_govern,
	    "signerctl cancel [--socket URL] --request-id ID --approval FILE\n"
	    "      cancel a queued payout for good (one approver's signature)" },
	{ "pause", cmd_govern,
	    "signerctl pause [--socket URL] --pause-id ID --approval FILE\n"
	    "      stop every payout now (break-glass: one approver's "
	    "signature)" },
	{ "unpause", cmd_govern,
	    "signerctl unpause [--socket URL] --pause-id ID --approval FILE "
	    "...\n"
	    "      lift the pause ID (m signatures of the governance set)" },
	{ "approve", cmd_approve,
	    "signerctl approve --key PEM|PKCS11-URI --intent FILE "
	    "[--approver NAME] [--pin-file F]\n"
	    "      sign an approval text (docs/approvals.md); prints the "
	    "approval as JSON" },
	{ "exposure", cmd_signer,
	    "signerctl exposure [--socket URL] --asset A [--date YYYY-MM-DD]\n"
	    "      signed total, daily limit and remainder for a UTC day" },
	{ "status", cmd_signer,
	    "signerctl status [--socket URL] [--json]\n"
	    "      signerd's version, policy, journal head and keys" },
	{ "metrics", cmd_metrics,
	    "signerctl metrics [--socket URL]\n"
	    "      signerd's metrics in Prometheus text format (for "
	    "node_exporter's\n      textfile collector)" },
	{ "policy", cmd_policy,
	    "signerctl policy [show|status|propose|approve|cancel|text|diff|"
	    "history] ...\n"
	    "      the policy in force, and governed changes to it "
	    "(signerctl policy --help)" },
	{ "anchor", cmd_anchor,
	    "signerctl anchor show|reset --token URI --pin-file F "
	    "[--label L] [--json] [--yes]\n"
	    "      the journal's rollback anchor on the token: print it, or "
	    "delete it\n      before a deliberate re-anchor (signerd -A); "
	    "reset needs --yes (signerctl anchor --help)" },
	{ "audit", cmd_audit,
	    "signerctl audit verify|show --journal DIR ...\n"
	    "      check or list the signed-action journal offline "
	    "(signerctl audit --help)" },
	{ "journal", cmd_journal,
	    "signerctl journal archive --journal DIR --archive ADIR "
	    "--pubkey PEM [--json]\n"
	    "      move segments a signed snapshot and checkpoint cover to "
	    "ADIR (signerctl journal --help)" },
};

static void
help(FILE *out, const char *group)
{
	size_t i;

	fprintf(out, "usage: signerctl COMMAND [options]\n"
	    "       signerctl --help | --version\n\ncommands:\n");
	for (i = 0; i < ctl_ncmds; i++) {
		if (group != NULL && strcmp(group, ctl_cmds[i].group) != 0)
			continue;
		fprintf(out, "  signerctl %s %s %s\n      %s\n",
		    ctl_cmds[i].group, ctl_cmds[i].verb, ctl_cmds[i].synopsis,
		    ctl_cmds[i].summary);
	}
	if (group != NULL && strcmp(group, "key") == 0)
		fprintf(out, "  signerctl key rotate --asset A --key NAME "
		    "--policy-id ID [--socket URL]\n      write the next "
		    "policy version with asset A signed by key NAME\n");
	for (i = 0; i < ARRAY_LEN(own_parsers); i++)
		if (group == NULL)
			fprintf(out, "  %s\n", own_parsers[i].synopsis);
	if (group == NULL)
		fprintf(out, "  signerctl key rotate --asset A --key NAME "
		    "--policy-id ID [--socket URL]\n      write the next "
		    "policy version with asset A signed by key NAME\n");
	fprintf(out, "\nkey and token commands also take:\n"
	    "  --module PATH    PKCS#11 module (default %s)\n"
	    "  --pin-env NAME   read the PIN from this environment variable "
	    "instead of --pin-file\n"
	    "  --json           print the result as JSON\n"
	    "  --help           describe the command\n"
	    "\nPINs are read from files of mode 0600 or from the environment, "
	    "never from the command line.\n"
	    "Exit status: 0 done, 1 failed, 2 wrong command line.\n",
	    HSM_DEFAULT_MODULE);
}

static int
is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 ||
	    strcmp(arg, "help") == 0;
}

int
main(int argc, char **argv)
{
	const struct ctl_cmd *c = NULL;
	struct ctl_opts o;
	size_t i;
	int known_group = 0, r;

	if (argc < 2) {
		help(stderr, NULL);
		return CTL_EXIT_USAGE;
	}
	if (is_help(argv[1])) {
		help(stdout, NULL);
		return CTL_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("signerctl %s\n", APP_VERSION);
		return CTL_EXIT_OK;
	}
	for (i = 0; i < ARRAY_LEN(own_parsers); i++)
		if (strcmp(argv[1], own_parsers[i].group) == 0)
			return own_parsers[i].run(argc - 1, argv + 1);
	/* key rotate talks to signerd: its own options (cmd_key_rotate.c). */
	if (argc > 2 && strcmp(argv[1], "key") == 0 &&
	    strcmp(argv[2], "rotate") == 0)
		return cmd_key_rotate(argc - 2, argv + 2);
	for (i = 0; i < ctl_ncmds; i++) {
		if (strcmp(argv[1], ctl_cmds[i].group) != 0)
			continue;
		known_group = 1;
		if (argc > 2 && strcmp(argv[2], ctl_cmds[i].verb) == 0)
			c = &ctl_cmds[i];
	}
	if (c == NULL) {
		if (known_group && argc > 2 && is_help(argv[2])) {
			help(stdout, argv[1]);
			return CTL_EXIT_OK;
		}
		if (known_group && argc > 2)
			fprintf(stderr, "signerctl: unknown command '%s %s'\n",
			    argv[1], argv[2]);
		else if (known_group)
			fprintf(stderr, "signerctl: '%s' needs a command\n",
			    argv[1]);
		else
			fprintf(stderr, "signerctl: unknown command '%s'\n",
			    argv[1]);
		fprintf(stderr, "Try 'signerctl --help'.\n");
		return CTL_EXIT_USAGE;
	}
	r = ctl_parse(&o, c, argc - 2, argv + 2);
	if (r == CTL_HELP_SHOWN)
		return CTL_EXIT_OK;
	if (r != 0)
		return r;
	return c->run(c, &o);
}
