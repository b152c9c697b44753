/* ctl.h: what the files of signerctl share: the command table, parsed options and output helpers. */
#ifndef SIGNERCTL_CTL_H
#define SIGNERCTL_CTL_H

#include <jansson.h>

#include "hsm/hsm.h"

/* Exit codes: 0 done, 1 the operation failed, 2 the command line is wrong. */
#define CTL_EXIT_OK 0
#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2
/* ctl_parse only: --help was given and printed. */
#define CTL_HELP_SHOWN (-1)

/* Options, as bits, so each command says which it takes and needs. */
enum {
	OPT_MODULE = 1 << 0,
	OPT_TOKEN = 1 << 1,
	OPT_PIN_FILE = 1 << 2,
	OPT_PIN_ENV = 1 << 3,
	OPT_SO_PIN_FILE = 1 << 4,
	OPT_SO_PIN_ENV = 1 << 5,
	OPT_LABEL = 1 << 6,
	OPT_TYPE = 1 << 7,
	OPT_JSON = 1 << 8,
	/* For "required": one of the file/env pair. */
	OPT_PIN = OPT_PIN_FILE | OPT_PIN_ENV,
	OPT_SO_PIN = OPT_SO_PIN_FILE | OPT_SO_PIN_ENV,
};

struct ctl_opts {
	const char *module;	/* NULL: HSM_DEFAULT_MODULE */
	const char *token;
	const char *pin_file;
	const char *pin_env;
	const char *so_pin_file;
	const char *so_pin_env;
	const char *label;
	const char *type;
	const char *uri;	/* the positional argument, if the command has one */
	int json;
};

struct ctl_cmd {
	const char *group;	/* "key" */
	const char *verb;	/* "generate" */
	int (*run)(const struct ctl_cmd *c, const struct ctl_opts *o);
	unsigned int allowed;	/* OPT_* bits */
	unsigned int required;	/* each OPT_* group here must be given */
	const char *positional;	/* name of the one positional argument, or NULL */
	const char *synopsis;
	const char *summary;
};

/* main.c: the dispatch table. */
extern const struct ctl_cmd ctl_cmds[];
extern const size_t ctl_ncmds;

/* opts.c: fills o from argv (argv[0] is the verb); 0, CTL_EXIT_USAGE or CTL_HELP_SHOWN. */
int ctl_parse(struct ctl_opts *o, const struct ctl_cmd *c, int argc,
    char **argv);
void ctl_cmd_help(const struct ctl_cmd *c);

/* cmd_token.c, cmd_key.c */
int ctl_token_init(const struct ctl_cmd *c, const struct ctl_opts *o);
int ctl_key_generate(const struct ctl_cmd *c, const struct ctl_opts *o);
int ctl_key_list(const struct ctl_cmd *c, const struct ctl_opts *o);
int ctl_key_show(const struct ctl_cmd *c, const struct ctl_opts *o);

/*
 * cmd_anchor.c: `signerctl anchor show|reset`; argv[0] is "anchor".
 * Returns the process exit status.
 */
int cmd_anchor(int argc, char **argv);

/* output.c */
/* "signerctl: WHAT: err_str (hsm_last_error)" on stderr; returns CTL_EXIT_FAIL. */
int ctl_fail(const char *what, int r);
/* "signerctl: GROUP VERB: MESSAGE" and a pointer to --help; CTL_EXIT_USAGE. */
int ctl_usage(const struct ctl_cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes one key as text (indented block) to stdout. */
void ctl_key_print(struct hsm *h, const struct hsm_key *k);
/* The JSON object of one key, or NULL when out of memory. */
json_t *ctl_key_json(struct hsm *h, const struct hsm_key *k);
/* Prints v on stdout and drops the reference; CTL_EXIT_FAIL if v is NULL. */
int ctl_json_emit(json_t *v);

/*
 * Opens the token named by uri with --module and logs in with --pin-file
 * or --pin-env (wiped after C_Login).  CTL_EXIT_OK, or the exit status
 * after printing why.
 */
struct hsm;
int ctl_open_token(struct hsm **h, const struct ctl_opts *o, const char *uri);

#endif
