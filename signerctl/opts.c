/* opts.c: one getopt_long parser for every command, checked against what each command takes. */
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "signerctl/ctl.h"

/* Every option once: its bit, where it lands, and its line in --help. */
struct opt_def {
	const char *name;
	unsigned int bit;
	size_t off;		/* of the const char * in struct ctl_opts */
	const char *arg;	/* NULL: a flag */
	const char *help;
};

#define O(m) offsetof(struct ctl_opts, m)
static const struct opt_def defs[] = {
	{ "module", OPT_MODULE, O(module), "PATH",
	    "PKCS#11 module (default " HSM_DEFAULT_MODULE ")" },
	{ "token", OPT_TOKEN, O(token), "URI",
	    "the token, as a PKCS#11 URI: pkcs11:token=LABEL" },
	{ "pin-file", OPT_PIN_FILE, O(pin_file), "F",
	    "user PIN from file F (regular, ours, mode 0600 or stricter)" },
	{ "pin-env", OPT_PIN_ENV, O(pin_env), "NAME",
	    "user PIN from environment variable NAME (wiped after reading)" },
	{ "so-pin-file", OPT_SO_PIN_FILE, O(so_pin_file), "F",
	    "security officer PIN from file F" },
	{ "so-pin-env", OPT_SO_PIN_ENV, O(so_pin_env), "NAME",
	    "security officer PIN from environment variable NAME" },
	{ "label", OPT_LABEL, O(label), "LABEL", "the token's or key's label" },
	{ "type", OPT_TYPE, O(type), "TYPE",
	    "secp256k1 (default; EVM payouts) or p256" },
	{ "json", OPT_JSON, 0, NULL, "print the result as JSON on stdout" },
};
#undef O

/* getopt_long's val for defs[i] is i + OPT_BASE; below it are getopt's own. */
#define OPT_BASE 256
#define OPT_HELP 'h'

void
ctl_cmd_help(const struct ctl_cmd *c)
{
	char flag[40];
	size_t i;

	printf("usage: signerctl %s %s %s\n\n%s.\n\noptions:\n", c->group,
	    c->verb, c->synopsis, c->summary);
	for (i = 0; i < ARRAY_LEN(defs); i++) {
		if (!(c->allowed & defs[i].bit))
			continue;
		snprintf(flag, sizeof(flag), "--%s%s%s", defs[i].name,
		    defs[i].arg != NULL ? " " : "",
		    defs[i].arg != NULL ? defs[i].arg : "");
		printf("  %-20s %s\n", flag, defs[i].help);
	}
	printf("  %-20s %s\n", "--help", "this text");
}

int
ctl_usage(const struct ctl_cmd *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "signerctl: %s %s: ", c->group, c->verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'signerctl %s %s --help'.\n", c->group, c->verb);
	return CTL_EXIT_USAGE;
}

/* "--pin-file or --pin-env" for the missing-option message. */
static void
names_of(char *out, size_t cap, unsigned int bits)
{
	size_t i, o = 0;
	int n;

	out[0] = '\0';
	for (i = 0; i < ARRAY_LEN(defs); i++) {
		if (!(bits & defs[i].bit))
			continue;
		n = snprintf(out + o, cap - o, "%s--%s", o > 0 ? " or " : "",
		    defs[i].name);
		if (n < 0 || (size_t)n >= cap - o)
			break;
		o += (size_t)n;
	}
}

int
ctl_parse(struct ctl_opts *o, const struct ctl_cmd *c, int argc, char **argv)
{
	static const unsigned int groups[] = {
		OPT_MODULE, OPT_TOKEN, OPT_PIN, OPT_SO_PIN, OPT_LABEL,
		OPT_TYPE, OPT_JSON,
	};
	struct option longopts[ARRAY_LEN(defs) + 2];
	unsigned int seen = 0, both;
	char names[80];
	const struct opt_def *d;
	size_t i;
	int ch;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < ARRAY_LEN(defs); i++) {
		longopts[i].name = defs[i].name;
		longopts[i].has_arg = defs[i].arg != NULL ? required_argument :
		    no_argument;
		longopts[i].flag = NULL;
		longopts[i].val = (int)(OPT_BASE + i);
	}
	longopts[i] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	longopts[i + 1] = (struct option){ NULL, 0, NULL, 0 };

	/* ':' first: a missing argument is ':' and we print the message. */
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (ch == OPT_HELP) {
			ctl_cmd_help(c);
			return CTL_HELP_SHOWN;
		}
		if (ch == ':')
			return ctl_usage(c, "%s needs a value", argv[optind - 1]);
		/* Up to any '=': a mistyped "--pin=..." must not echo a PIN. */
		if (ch < OPT_BASE || ch >= OPT_BASE + (int)ARRAY_LEN(defs))
			return ctl_usage(c, "unknown option %.*s",
			    (int)strcspn(argv[optind - 1], "="),
			    argv[optind - 1]);
		d = &defs[ch - OPT_BASE];
		if (!(c->allowed & d->bit))
			return ctl_usage(c, "--%s is not an option of this "
			    "command", d->name);
		if (seen & d->bit)
			return ctl_usage(c, "--%s given twice", d->name);
		seen |= d->bit;
		if (d->arg != NULL)
			*(const char **)(void *)((char *)o + d->off) = optarg;
		else
			o->json = 1;
	}
	for (i = 0; i < ARRAY_LEN(groups); i++) {
		both = seen & groups[i];
		if ((c->required & groups[i]) && both == 0) {
			names_of(names, sizeof(names), groups[i]);
			return ctl_usage(c, "missing %s", names);
		}
		/* A file and a variable for one PIN: which one was meant? */
		if (both != 0 && (both & (both - 1)) != 0) {
			names_of(names, sizeof(names), groups[i]);
			return ctl_usage(c, "give %s, not both", names);
		}
	}
	if (c->positional != NULL) {
		if (optind >= argc)
			return ctl_usage(c, "missing %s", c->positional);
		o->uri = argv[optind++];
	}
	/* Not echoed: a stray argument may be a PIN typed by mistake. */
	if (optind < argc)
		return ctl_usage(c, "%d unexpected argument(s)", argc - optind);
	return 0;
}
