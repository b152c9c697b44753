/* cmd_journal.h: `signerctl journal archive`, moving covered segments out of the live journal. */
#ifndef SIGNERCTL_CMD_JOURNAL_H
#define SIGNERCTL_CMD_JOURNAL_H

/*
 * Runs one journal command; argv[0] is "journal", argv[1] the verb:
 *
 *   journal archive --journal DIR --archive ADIR --pubkey PEMFILE [--json]
 *       moves the segments a believed snapshot and a signed checkpoint
 *       cover from DIR to ADIR (jnl_archive), and prints what moved.
 *
 * Returns the exit status: 0 done (also when nothing could move), 1 the
 * journal failed its checks or could not be moved, 2 wrong command line.
 */
int cmd_journal(int argc, char **argv);

#endif
