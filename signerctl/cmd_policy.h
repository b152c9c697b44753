/* cmd_policy.h: `signerctl policy ...`, governed policy changes (docs/governance.md). */
#ifndef SIGNERCTL_CMD_POLICY_H
#define SIGNERCTL_CMD_POLICY_H

/*
 * `signerctl policy [VERB] ...`: argv[0] is "policy".  No verb or "show"
 * prints the policy in force (cmd_signer.c), "diff" compares two files
 * (cmd_policy_diff.c), "history" lists the versions from a journal
 * (cmd_audit.c), the rest talk to signerd (cmd_policy_gov).  Returns the
 * exit status.
 */
int cmd_policy(int argc, char **argv);

/*
 * `signerctl policy propose|approve|cancel|status|text`: argv[0] is the
 * verb.  Returns the exit status: 0 done, 1 refused or failed, 2 usage.
 */
int cmd_policy_gov(int argc, char **argv);

/* `signerctl policy diff OLD NEW [--json]` (cmd_policy_diff.c); argv[0] is "diff". */
int cmd_policy_diff(int argc, char **argv);

/*
 * `signerctl key rotate` (cmd_key_rotate.c): argv[0] is "rotate".  Writes
 * the next policy version with an asset's key replaced; exit status.
 */
int cmd_key_rotate(int argc, char **argv);

#endif
