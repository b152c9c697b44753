/*
 * sandbox.h: how signerd gives up what it does not need once its HSM
 * sessions, socket and journal are open: its user, its ability to gain
 * privileges, core dumps, and every system call outside one allowlist.
 *
 * Order (OpenSMTPD ca.c, OpenSSH sandbox-seccomp-filter.c):
 *   sbx_harden_early()          first thing in main()
 *   ... open HSM sessions, listen, open the journal ...
 *   sbx_drop_privileges(user)   fatal on error
 *   sbx_apply_seccomp()         fatal on error
 * Each returns 0 or a negative ERR_* and logs the reason; a caller that
 * gets an error must exit, never continue unsandboxed.
 */
#ifndef SANDBOX_SANDBOX_H
#define SANDBOX_SANDBOX_H

#include "common/util.h"

/*
 * Sets umask 077, makes sure fds 0-2 are open (on /dev/null if they were
 * closed, so that a later open cannot become "stderr" and receive log
 * lines), closes every other inherited fd, disables core dumps and marks
 * the process non-dumpable so that the PIN read before the drop cannot
 * leak through a core file or ptrace by the same uid.
 * Returns 0, or ERR_IO with errno preserved.
 */
int sbx_harden_early(void) WARN_UNUSED;

/*
 * Becomes user for good.  As root: resolves user (must not be uid 0), then
 * setgroups(1, {gid}), setresgid(gid x3), setresuid(uid x3), and checks
 * that setuid(0)/setgid(0) now fail.  Not root: user must already be the
 * real, effective and saved uid, and the id changes are skipped.  Either
 * way it then sets PR_SET_NO_NEW_PRIVS, RLIMIT_CORE 0 and PR_SET_DUMPABLE 0
 * (a uid change resets dumpable, so this comes after it).
 * Returns 0, ERR_NOT_FOUND (no such user), ERR_PERMISSION (user is root,
 * or not root and not already user, or root could be regained), or ERR_IO
 * (a call failed; errno preserved).
 */
int sbx_drop_privileges(const char *user) WARN_UNUSED;

/*
 * Installs the allowlist filter on every thread of the process (TSYNC, so
 * threads NNG started earlier are covered): native architecture only
 * (other ABIs, x32 included, are killed), anything not listed kills the
 * whole process with SIGSYS.  Implies PR_SET_NO_NEW_PRIVS on all threads.
 * Call after sbx_drop_privileges().  Returns 0, ERR_NOMEM, or
 * ERR_INTERNAL (the filter could not be built or loaded).
 */
int sbx_apply_seccomp(void) WARN_UNUSED;

/*
 * Writes the filter as libseccomp pseudo-code (PFC) to fd without loading
 * it, for review and for the tests that check the architecture guard.
 * Returns 0 or ERR_INTERNAL.
 */
int sbx_export_seccomp(int fd) WARN_UNUSED;

#endif
