/* cmd_approve.h: signerctl approve, an approver's signature over an approval text. */
#ifndef SIGNERCTL_CMD_APPROVE_H
#define SIGNERCTL_CMD_APPROVE_H

/* argv[0] is "approve"; returns the process exit status. */
int cmd_approve(int argc, char **argv);

#endif
