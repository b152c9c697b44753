/*
 * cmd_metrics.c: `signerctl metrics`: signerd's counters (METRICS_REQ) as
 * Prometheus text on stdout, for node_exporter's textfile collector.
 * signerd has no network socket to scrape; this and orchestratord's GET
 * /metrics are how its counters reach Prometheus (docs/metrics.md).
 */
#include "signerctl/cmd_metrics.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/err.h"
#include "policy/policy.h"
#include "proto/client.h"
#include "proto/metrics.h"
#include "signerctl/cmd_signer.h"
#include "signerctl/ctl.h"

/* A scrape: a signerd that does not answer in time counts as down. */
#define METRICS_TIMEOUT_MS 5000
/* Far above the largest rendering (every list at its wire maximum). */
#define METRICS_TEXT_MAX (1024 * 1024)

static void
help(void)
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
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct prt_client *c = NULL;
	struct prt_metrics *m = NULL;
	struct prt_reply_hdr hdr;
	struct prt_writer w;
	const char *url;
	int ch, r, rc = CTL_EXIT_FAIL;

	url = getenv("SIGNERD_SOCKET") != NULL ? getenv("SIGNERD_SOCKET") :
	    CTL_DEFAULT_SOCKET;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			url = optarg;
			break;
		case 'h':
			help();
			return CTL_EXIT_OK;
		case ':':
			return ctl_signer_usage("metrics",
			    "an option needs a value");
		default:
			return ctl_signer_usage("metrics", "unknown option");
		}
	}
	if (optind != argc)
		return ctl_signer_usage("metrics", "unexpected argument");

	prt_writer_init(&w, METRICS_TEXT_MAX);
	if ((r = prt_client_open(&c, url, METRICS_TIMEOUT_MS)) != 0) {
		rc = ctl_signer_fail("metrics", url, r);
		goto out;
	}
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
