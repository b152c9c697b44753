/* privdrop.c: early process hygiene and the one-way switch to signerd's own user. */
#include "sandbox/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

/* getpwnam_r's buffer grows on ERANGE up to this; no passwd entry is larger. */
#define PW_BUF_MAX (1024 * 1024)

static int
no_core_dumps(void)
{
	const struct rlimit zero = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &zero) != 0) {
		log_error("setrlimit(RLIMIT_CORE, 0): %s", strerror(errno));
		return ERR_IO;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		log_error("prctl(PR_SET_DUMPABLE, 0): %s", strerror(errno));
		return ERR_IO;
	}
	return 0;
}

int
sbx_harden_early(void)
{
	int fd, r = ERR_IO;

	umask(077);
	/*
	 * A closed 0-2 would be reused by the next open(); if that were the
	 * journal, every log line would land in it.
	 */
	for (;;) {
		fd = open("/dev/null", O_RDWR);
		if (fd < 0) {
			log_error("open /dev/null: %s", strerror(errno));
			goto out;
		}
		if (fd > STDERR_FILENO) {
			close(fd);
			break;
		}
	}
	/* Inherited descriptors are capabilities we never asked for. */
	if (close_range(STDERR_FILENO + 1, ~0U, 0) != 0) {
		log_error("close_range: %s", strerror(errno));
		goto out;
	}
	/* The PIN is read before the drop: keep it out of cores and ptrace. */
	r = no_core_dumps();
out:
	return r;
}

/* Looks up user; on success *uid and *gid are set. */
static int
lookup_user(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *res = NULL;
	char *buf = NULL, *nbuf;
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t len = hint > 0 ? (size_t)hint : 4096;
	int e, r = ERR_NOT_FOUND;

	for (;;) {
		nbuf = realloc(buf, len);
		if (nbuf == NULL) {
			r = ERR_NOMEM;
			goto out;
		}
		buf = nbuf;
		e = getpwnam_r(user, &pw, buf, len, &res);
		if (e != ERANGE || len >= PW_BUF_MAX)
			break;
		len *= 2;
	}
	if (e != 0) {
		errno = e;
		log_error("getpwnam_r(%s): %s", user, strerror(e));
		r = ERR_IO;
		goto out;
	}
	if (res == NULL) {
		log_error("no such user '%s'", user);
		goto out;
	}
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	r = 0;
out:
	free(buf);
	return r;
}

/* As root: the id changes proper, each checked, in the order that works. */
static int
become(const char *user, uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[2];

	/* Groups first: after setresuid we no longer may change them. */
	if (setgroups(1, &gid) != 0) {
		log_error("setgroups(%s): %s", user, strerror(errno));
		return ERR_IO;
	}
	if (setresgid(gid, gid, gid) != 0) {
		log_error("setresgid(%lu): %s", (unsigned long)gid,
		    strerror(errno));
		return ERR_IO;
	}
	if (setresuid(uid, uid, uid) != 0) {
		log_error("setresuid(%lu): %s", (unsigned long)uid,
		    strerror(errno));
		return ERR_IO;
	}
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    ru != uid || eu != uid || su != uid ||
	    rg != gid || eg != gid || sg != gid ||
	    getgroups(2, groups) != 1 || groups[0] != gid) {
		log_error("ids did not change to %s as asked", user);
		return ERR_PERMISSION;
	}
	return 0;
}

int
sbx_drop_privileges(const char *user)
{
	uid_t uid = 0, ru, eu, su;
	gid_t gid = 0, rg, eg, sg;
	int r;

	if (user == NULL)
		abort();
	if ((r = lookup_user(user, &uid, &gid)) != 0)
		goto out;
	r = ERR_PERMISSION;
	/* A root group would still open root's group-readable files. */
	if (uid == 0 || gid == 0) {
		log_error("refusing to run as '%s': uid or gid 0", user);
		goto out;
	}
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0) {
		log_error("getresuid: %s", strerror(errno));
		r = ERR_IO;
		goto out;
	}
	if (eu == 0) {
		if ((r = become(user, uid, gid)) != 0)
			goto out;
	} else if (ru != uid || eu != uid || su != uid ||
	    rg != eg || eg != sg) {
		/* Unprivileged we cannot switch; only "already that user" is ok. */
		log_error("not root and not already '%s' (uid %lu)", user,
		    (unsigned long)uid);
		goto out;
	}
	/* Catches kept capabilities (e.g. SECBIT_NO_SETUID_FIXUP). */
	r = ERR_PERMISSION;
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0) {
		log_error("could regain root after dropping to '%s'", user);
		goto out;
	}
	r = ERR_IO;
	/* Per thread here; the seccomp TSYNC load extends it to every thread. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		log_error("prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
		goto out;
	}
	/* A uid change resets the dumpable flag, so set it again now. */
	r = no_core_dumps();
out:
	return r;
}
