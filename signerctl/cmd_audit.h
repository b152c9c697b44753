/* cmd_audit.h: `signerctl audit verify|show`, the auditors' view of the signed-action journal. */
#ifndef SIGNERCTL_CMD_AUDIT_H
#define SIGNERCTL_CMD_AUDIT_H

/*
 * Runs one audit command; argv[0] is "audit", argv[1] the verb:
 *
 *   audit verify --journal DIR --pubkey PEMFILE [--json]
 *       checks the whole journal offline (jnl_verify) and prints a
 *       summary, or the first bad record (segment, offset, seq, reason).
 *   audit show --journal DIR [--since RFC3339|SEQ] [--json]
 *       lists records (seq, ts, type, key fields) while checking the
 *       chain; --json prints the raw record lines instead.
 *
 * Returns the exit status: 0 verified / listed, 1 the journal failed
 * verification or could not be read, 2 wrong command line.
 */
int cmd_audit(int argc, char **argv);

/*
 * The audit public key (PEM) at path, or NULL after saying why on stderr
 * as "signerctl: WHO: ...".  Shared by every command that checks what the
 * audit key signed.
 */
struct evp_pkey_st;
struct evp_pkey_st *ctl_load_audit_pubkey(const char *path, const char *who);

#endif
