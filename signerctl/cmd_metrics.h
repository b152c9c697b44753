/* cmd_metrics.h: signerctl metrics, signerd's counters as Prometheus text. */
#ifndef SIGNERCTL_CMD_METRICS_H
#define SIGNERCTL_CMD_METRICS_H

/* argv[0] is "metrics"; returns the process exit status. */
int cmd_metrics(int argc, char **argv);

#endif
