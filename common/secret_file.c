/* secret_file.c: reads a secret from a file only its owner may read. */
#include "common/secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"

/* The checks run on the opened file, not the name (no race with a rename). */
static int
check_fd(int fd, const char *path, size_t cap, char *why, size_t whylen)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		return ERR_PERMISSION;
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, whylen, "owned by uid %u, not %u (the user "
		    "reading it)", (unsigned)st.st_uid, (unsigned)geteuid());
		return ERR_PERMISSION;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(why, whylen, "mode %04o; it must be 0600 or stricter "
		    "(chmod 600 %s)", (unsigned)(st.st_mode & 07777), path);
		return ERR_PERMISSION;
	}
	if (st.st_size < 0 || (size_t)st.st_size > cap) {
		snprintf(why, whylen, "larger than %zu bytes", cap);
		return ERR_TOO_LARGE;
	}
	return 0;
}

int
util_read_secret_file(const char *path, void *out, size_t cap, size_t *len,
    char *why, size_t whylen)
{
	unsigned char extra;
	ssize_t got;
	size_t n = 0;
	int fd, r = ERR_IO;

	*len = 0;
	/*
	 * O_NOFOLLOW: a symlink could point us at a file someone else
	 * controls.  O_NONBLOCK: a FIFO must not hang start-up before fstat
	 * refuses it.
	 */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP) {
			snprintf(why, whylen, "a symbolic link");
			return ERR_PERMISSION;
		}
		snprintf(why, whylen, "%s", strerror(errno));
		return ERR_IO;
	}
	if ((r = check_fd(fd, path, cap, why, whylen)) != 0)
		goto out;
	r = ERR_IO;
	while (n < cap) {
		got = read(fd, (unsigned char *)out + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(why, whylen, "%s", strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	/* A file that grew after fstat is refused, not cut. */
	if (n == cap && read(fd, &extra, 1) > 0) {
		snprintf(why, whylen, "larger than %zu bytes", cap);
		r = ERR_TOO_LARGE;
		goto out;
	}
	*len = n;
	r = 0;
out:
	if (r != 0)
		util_wipe(out, cap);
	close(fd);
	return r;
}
