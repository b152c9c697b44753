/* trusted_file.c: reads a config file that decides what a daemon trusts. */
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"

int
util_read_trusted_file(const char *path, size_t max, char **buf, size_t *len,
    char *why, size_t whylen)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd, r = ERR_IO;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return ERR_IO;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		goto out;
	}
	r = ERR_PERMISSION;
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		goto out;
	}
	/* Whoever may write it decides what the daemon loads and trusts. */
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(why, whylen, "owned by uid %lu, not root or us",
		    (unsigned long)st.st_uid);
		goto out;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whylen, "writable by group or others (mode %04o)",
		    (unsigned int)(st.st_mode & 07777));
		goto out;
	}
	r = ERR_TOO_LARGE;
	if (st.st_size < 0 || (size_t)st.st_size > max) {
		snprintf(why, whylen, "larger than %zu bytes", max);
		goto out;
	}
	r = ERR_NOMEM;
	/* One byte more than allowed, to notice a file that grew meanwhile. */
	if ((*buf = malloc(max + 2)) == NULL) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (;;) {
		n = read(fd, *buf + got, max + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = ERR_IO;
			snprintf(why, whylen, "%s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			r = ERR_TOO_LARGE;
			snprintf(why, whylen, "larger than %zu bytes", max);
			goto out;
		}
	}
	(*buf)[got] = '\0';
	*len = got;
	r = 0;
out:
	if (r != 0) {
		free(*buf);
		*buf = NULL;
	}
	close(fd);
	return r;
}
