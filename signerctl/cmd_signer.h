/*
 * cmd_signer.h: signerctl commands that talk to signerd (sign, queue,
 * exposure, status, policy in cmd_signer.c; cancel, pause, unpause in
 * cmd_govern.c), and the option parsing and request files they share.
 */
#ifndef SIGNERCTL_CMD_SIGNER_H
#define SIGNERCTL_CMD_SIGNER_H

#include <stddef.h>

#include <jansson.h>

#include "proto/client.h"
#include "proto/msg.h"

/* argv[0] is the command name; returns the process exit status. */
int cmd_signer(int argc, char **argv);
int cmd_govern(int argc, char **argv);

#define CTL_DEFAULT_SOCKET "ipc:///run/signerd/signerd.sock"
#define CTL_TIMEOUT_MS 30000

/* The options of every command that talks to signerd. */
struct sopts {
	const char *socket;
	const char *request;	/* --request FILE (sign, queue) */
	const char *from;	/* --from 0x... (sign, queue) */
	const char *created_day;	/* --created-day N (sign, queue) */
	const char *asset;
	const char *date;
	const char *request_id;	/* --request-id (cancel) */
	const char *pause_id;	/* --pause-id (pause, unpause) */
	const char *approvals[PRT_APPROVALS_MAX];	/* --approval FILE ... */
	size_t napprovals;
	int json;
};

/*
 * Parses argv (argv[0] is the command) into o; help(cmd) prints the
 * command's --help.  Returns 0, CTL_EXIT_USAGE, or -1 after --help.
 */
int ctl_signer_parse(struct sopts *o, int argc, char **argv,
    void (*help)(const char *cmd));

/* "signerctl CMD: WHAT: error: transport detail" on stderr; CTL_EXIT_FAIL. */
int ctl_signer_fail(const char *cmd, const char *what, int r);

/* "signerctl CMD: MSG" and a pointer to --help; CTL_EXIT_USAGE. */
int ctl_signer_usage(const char *cmd, const char *msg);

/* Connects to url; prints the failure itself.  0 or CTL_EXIT_FAIL. */
int ctl_signer_connect(struct prt_client **c, const char *cmd,
    const char *url);

/*
 * Reads one approval object {"approver", "expiry", "signature" (hex)},
 * the form `signerctl approve` prints.  Returns 0, or -1 with *bad naming
 * the field at fault.
 */
int ctl_approval_from_json(struct prt_approval *a, const json_t *o,
    const char **bad);

/* The same from a file; err (errlen bytes) says what was wrong. */
int ctl_approval_load(struct prt_approval *a, const char *path, char *err,
    size_t errlen);

/* Prints {id_key: id, "result", "reason", "message"} for a reply header. */
int ctl_print_result(const char *id_key, const char *id,
    const struct prt_reply_hdr *hdr);

#endif
