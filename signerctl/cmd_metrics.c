/*
 * cmd_metrics.c: `signerctl metrics`: signerd's counters (METRICS_REQ) as
 * Prometheus text on stdout, for node_exporter's textfile collector.
 * signerd has no network socket to scrape; this and orchestratord's GET
 * /metrics are how its counters reach Prometheus (docs/metrics.md).
 */
#include "signerctl/cmd_metrics.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/err.h"
#include "policy/policy.h"
#include "proto/client.h"
#include "proto/metrics.h"
#include "signerctl/cmd_signer.h"
#include "signerctl/ctl.h"

/* Far above the largest rendering (every list at its wire maximum). */
#define METRICS_TEXT_MAX (1024 * 1024)

/* The verbs' shared parser calls it for --help (cmd: "metrics"). */
static void
help(const char *cmd)
{
	printf("usage: signerctl metrics [--socket URL]\n\n"
	    "Prints signerd's metrics in the Prometheus text format "
	    "(docs/metrics.md), for\nnode_exporter's textfile collector: "
	    "write them to a temporary file in its\ndirectory, then rename "
	    "it over the .prom file.  Nothing is printed unless\nthe whole "
	    "reply arrived.\n\n"
	    "  --socket URL  signerd's socket (default $SIGNERD_SOCKET or "
	    "%s)\n\n"
	    "Exit status: 0 printed, 1 signerd unreachable or refused, 2 "
	    "usage.\n", CTL_DEFAULT_SOCKET);
}

int
cmd_metrics(int argc, char **argv)
{
	struct prt_client *c = NULL;
	struct prt_metrics *m = NULL;
	struct prt_reply_hdr hdr;
	struct prt_writer w;
	struct sopts o;
	int r, rc = CTL_EXIT_FAIL;

	/* The signerd verbs' one parser: --socket, $SIGNERD_SOCKET, --help. */
	if ((r = ctl_signer_parse(&o, argc, argv, help)) != 0)
		return r < 0 ? CTL_EXIT_OK : r;
	prt_writer_init(&w, METRICS_TEXT_MAX);
	if ((rc = ctl_signer_connect(&c, "metrics", o.socket)) != 0)
		goto out;
	rc = CTL_EXIT_FAIL;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		rc = ctl_signer_fail("metrics", "METRICS", ERR_NOMEM);
		goto out;
	}
	if ((r = prt_client_metrics(c, m, &hdr)) != 0) {
		rc = ctl_signer_fail("metrics", "METRICS", r);
		goto out;
	}
	if (hdr.result != 0) {
		/* An older signerd names the request type it does not know. */
		fprintf(stderr, "signerctl metrics: signerd refused: %s (%s)\n",
		    hdr.message, hdr.result > 0 ? pol_reason_name(hdr.result) :
		    err_str(hdr.result));
		goto out;
	}
	if ((r = prt_metrics_text(&w, m)) != 0) {
		rc = ctl_signer_fail("metrics", "rendering", r);
		goto out;
	}
	/* All or nothing: a failed write must not look like a scrape. */
	if (fwrite(w.p, 1, w.len, stdout) != w.len || fflush(stdout) != 0) {
		perror("signerctl metrics: stdout");
		goto out;
	}
	rc = CTL_EXIT_OK;
out:
	prt_writer_free(&w);
	free(m);
	prt_client_close(c);
	return rc;
}
