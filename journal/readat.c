/* readat.c: one record read back by its position, for a reader that keeps positions instead of records. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "journal/internal.h"

int
jnl_read_line(int dirfd, const struct jnl_pos *pos, char *buf, size_t cap,
    size_t *len, uint8_t hash[32])
{
	char name[40];
	const char *nl;
	unsigned int hlen = 0;
	ssize_t n;
	size_t got = 0;
	int fd;

	*len = 0;
	if (pos->seg == 0 || pos->seg > JNL_SEG_NUM_MAX || cap < 2)
		return ERR_INVALID_ARG;
	snprintf(name, sizeof(name), JNL_SEG_NAME_FMT, pos->seg);
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? ERR_NOT_FOUND : ERR_IO;
	/* A line is at most JNL_LINE_MAX bytes: read until its '\n'. */
	while (got < cap) {
		n = pread(fd, buf + got, cap - got, (off_t)pos->off + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((nl = memchr(buf + got, '\n', (size_t)n)) != NULL) {
			got = (size_t)(nl - buf);
			close(fd);
			if (got == 0)
				return ERR_MALFORMED;
			if (EVP_Digest(buf, got, hash, &hlen, EVP_sha256(),
			    NULL) != 1 || hlen != 32)
				return ERR_INTERNAL;
			buf[got] = '\0';
			*len = got;
			return 0;
		}
		got += (size_t)n;
	}
	close(fd);
	/* No '\n' within cap bytes, or the file ends first: not a record. */
	return got >= cap ? ERR_TOO_LARGE : ERR_MALFORMED;
}
