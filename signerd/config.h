/*
 * config.h: signerd's INI configuration, read once at start-up (as root,
 * before the sandbox) and checked strictly: a garbage config gets a clear
 * "file:line: reason" and signerd does not start (invariant 6).
 *
 *   [hsm]      module (default HSM_DEFAULT_MODULE), token*, pin_file*,
 *              sessions (1..64, 4), audit_key*
 *   [keys]     NAME = pkcs11 URI, 1..16 of them (NAME: 1..64 of
 *              [A-Za-z0-9._:-], as in the wire protocol and the policy)
 *   [journal]  dir*, segment_size (65536..1 GiB, 64 MiB),
 *              checkpoint_interval (seconds, 1..86400, 60),
 *              snapshot_interval (records, 0 = only at shutdown ..
 *              1000000000, 10000), retention_days (1..366, 7: how
 *              many UTC days a request may be retried or fee-bumped,
 *              D55)
 *   [policy]   genesis*
 *   [server]   listen* (ipc:///absolute/path or tcp://127.0.0.1:PORT),
 *              socket_mode (octal with a leading 0, nothing for others,
 *              0660), socket_group (a group name or gid: the ipc://
 *              socket's group, so its members may connect; none: the
 *              group signerd runs as), allowed_uids* (comma-separated
 *              uids or user names, 1..16), user*,
 *              workers (1..64, 4), contexts (1..1024, 64: requests
 *              outstanding at once), max_message (1024..PRT_MAX_MESSAGE,
 *              PRT_MAX_MESSAGE)
 * (* required.)  Paths must be absolute; URIs must start with "pkcs11:".
 * Unknown sections and keys, duplicates, empty values, control or
 * non-ASCII bytes, lines longer than the parser's buffer (about 200 bytes)
 * and "name: value" lines are errors.  Comments start a line with ';' or
 * '#', or follow a value after whitespace and ';'.  Whether the user
 * exists, the PIN file's mode and the URIs' tokens and keys are checked
 * later, by the code that uses them.
 */
#ifndef SIGNERD_CONFIG_H
#define SIGNERD_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/util.h"

#define SD_CONFIG_MAX_KEYS 16
#define SD_CONFIG_MAX_UIDS 16
#define SD_CONFIG_KEY_NAME_MAX 64
/* A config is a few hundred bytes; anything this big is not one. */
#define SD_CONFIG_FILE_MAX (64 * 1024)

struct sd_config_key {
	char *name;
	char *uri;
};

struct sd_config {
	/* [hsm] */
	char *module;
	char *token;
	char *pin_file;
	size_t sessions;
	char *audit_key;
	/* [keys], in file order */
	struct sd_config_key keys[SD_CONFIG_MAX_KEYS];
	size_t nkeys;
	/* [journal] */
	char *journal_dir;
	uint64_t segment_size;
	uint64_t checkpoint_interval;
	uint64_t snapshot_interval;
	uint32_t retention_days;	/* the request retention window, D55 */
	/* [policy] */
	char *genesis;
	/* [server] */
	char *listen;
	unsigned int socket_mode;
	gid_t socket_gid;	/* (gid_t)-1: not set */
	uid_t uids[SD_CONFIG_MAX_UIDS];
	size_t nuids;
	char *user;
	size_t workers;
	size_t contexts;	/* requests outstanding at once (issue 12) */
	size_t max_message;
};

/*
 * Reads and checks the config file at path.  The file must be a regular
 * file of at most SD_CONFIG_FILE_MAX bytes, owned by root or the effective
 * uid and not writable by group or others (it names the PKCS#11 module
 * that signerd loads as root).
 * Out: *cfg filled in (free with sd_config_free), or zeroed on failure;
 * err (errlen bytes, always NUL-terminated) gets "path:line: reason" or
 * "path: reason" on failure.
 * Returns 0; ERR_IO (cannot open or read); ERR_PERMISSION (owner/mode);
 * ERR_TOO_LARGE (file or line too long); ERR_NOMEM; ERR_MALFORMED
 * (anything else wrong with the contents).
 */
int sd_config_load(struct sd_config *cfg, const char *path, char *err,
    size_t errlen) WARN_UNUSED;

/* Frees what sd_config_load allocated and zeroes *cfg.  Safe on a zeroed cfg. */
void sd_config_free(struct sd_config *cfg);

#endif
