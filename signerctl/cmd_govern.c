/*
 * cmd_govern.c: signerctl cancel, pause and unpause: an approver's signed
 * word (from `signerctl approve` or openssl, docs/approvals.md) relayed
 * to signerd, which checks it against the policy itself.
 */
#include "signerctl/cmd_signer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "policy/policy.h"
#include "signerctl/ctl.h"

static void
help(const char *cmd)
{
	if (strcmp(cmd, "cancel") == 0)
		printf("usage: signerctl cancel [--socket URL] --request-id ID "
		    "--approval FILE\n\nCancels a queued payout for good.  FILE "
		    "is one approval by any approver of the\npolicy over the "
		    "text \"action: cancel\" naming ID (docs/approvals.md).\n");
	else if (strcmp(cmd, "pause") == 0)
		printf("usage: signerctl pause [--socket URL] --pause-id ID "
		    "--approval FILE\n\nStops every payout at once.  ID names "
		    "this pause (new, never used before);\nFILE is one approval "
		    "by any approver over \"action: pause\" naming ID.\n");
	else
		printf("usage: signerctl unpause [--socket URL] --pause-id ID "
		    "--approval FILE [--approval FILE ...]\n\nLifts the pause "
		    "named ID (`signerctl status` shows it) with m approvals\n"
		    "of the governance set over \"action: unpause\" naming ID.\n");
	printf("\n  --socket URL  signerd's socket (default $SIGNERD_SOCKET "
	    "or %s)\nExit status: 0 done, 1 refused or failed, 2 usage.\n",
	    CTL_DEFAULT_SOCKET);
}

static int
load_approvals(struct prt_approval *out, const struct sopts *o,
    const char *cmd)
{
	char err[512];
	size_t i;

	for (i = 0; i < o->napprovals; i++) {
		if (ctl_approval_load(&out[i], o->approvals[i], err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "signerctl %s: %s\n", cmd, err);
			return CTL_EXIT_FAIL;
		}
	}
	return 0;
}

/* Copies an id the wire would refuse into out, or says why not. */
static int
copy_id(char *out, size_t cap, const char *id, const char *cmd,
    const char *opt)
{
	char msg[80];

	if (id == NULL || id[0] == '\0' || strlen(id) >= cap) {
		snprintf(msg, sizeof(msg), "missing or too long %s", opt);
		return ctl_signer_usage(cmd, msg);
	}
	memcpy(out, id, strlen(id) + 1);
	return 0;
}

int
cmd_govern(int argc, char **argv)
{
	struct prt_unpause_req *un = calloc(1, sizeof(*un));
	struct prt_cancel_req cancel;
	struct prt_pause_req pause;
	struct prt_client *c = NULL;
	struct prt_reply_hdr hdr;
	const char *cmd = argv[0];
	struct sopts o;
	int r;

	memset(&cancel, 0, sizeof(cancel));
	memset(&pause, 0, sizeof(pause));
	if (un == NULL) {
		r = ctl_signer_fail(cmd, "memory", ERR_NOMEM);
		goto out;
	}
	if ((r = ctl_signer_parse(&o, argc, argv, help)) != 0) {
		r = r < 0 ? CTL_EXIT_OK : r;
		goto out;
	}
	if (o.napprovals == 0 ||
	    (strcmp(cmd, "unpause") != 0 && o.napprovals != 1)) {
		r = ctl_signer_usage(cmd, strcmp(cmd, "unpause") == 0 ?
		    "needs --approval FILE (one per governance approver)" :
		    "needs exactly one --approval FILE");
		goto out;
	}
	if (strcmp(cmd, "cancel") == 0) {
		if ((r = copy_id(cancel.request_id, sizeof(cancel.request_id),
		    o.request_id, cmd, "--request-id")) != 0 ||
		    (r = load_approvals(&cancel.approval, &o, cmd)) != 0)
			goto out;
	} else if (strcmp(cmd, "pause") == 0) {
		if ((r = copy_id(pause.pause_id, sizeof(pause.pause_id),
		    o.pause_id, cmd, "--pause-id")) != 0 ||
		    (r = load_approvals(&pause.approval, &o, cmd)) != 0)
			goto out;
	} else {
		if ((r = copy_id(un->pause_id, sizeof(un->pause_id),
		    o.pause_id, cmd, "--pause-id")) != 0 ||
		    (r = load_approvals(un->approvals, &o, cmd)) != 0)
			goto out;
		un->napprovals = (uint16_t)o.napprovals;
	}
	if ((r = ctl_signer_connect(&c, cmd, o.socket)) != 0)
		goto out;
	if (strcmp(cmd, "cancel") == 0)
		r = prt_client_cancel(c, &cancel, &hdr);
	else if (strcmp(cmd, "pause") == 0)
		r = prt_client_pause(c, &pause, &hdr);
	else
		r = prt_client_unpause(c, un, &hdr);
	if (r != 0) {
		r = ctl_signer_fail(cmd, "request", r);
		goto out;
	}
	r = ctl_print_result(strcmp(cmd, "cancel") == 0 ? "request_id" :
	    "pause_id", strcmp(cmd, "cancel") == 0 ? cancel.request_id :
	    strcmp(cmd, "pause") == 0 ? pause.pause_id : un->pause_id, &hdr);
out:
	prt_client_close(c);
	free(un);
	return r;
}
