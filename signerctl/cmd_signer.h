/* cmd_signer.h: signerctl sign|exposure|status|policy, talking to signerd. */
#ifndef SIGNERCTL_CMD_SIGNER_H
#define SIGNERCTL_CMD_SIGNER_H

/* argv[0] is the command name; returns the process exit status. */
int cmd_signer(int argc, char **argv);

#endif
