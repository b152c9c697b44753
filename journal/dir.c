/* dir.c: naming, listing and reading the files of a journal directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "journal/internal.h"

/* Parses exactly n decimal digits at s.  Returns -1 on a non-digit. */
static int
parse_digits(uint64_t *v, const char *s, size_t n)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return 0;
}

static int
cmp_u32_asc(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_u64_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x > y ? -1 : x < y;
}

/* Appends v to a growing array of elem-sized items. */
static int
push(void **arr, size_t *n, size_t *cap, const void *v, size_t elem)
{
	void *na;
	size_t ncap;

	if (*n == *cap) {
		ncap = *cap == 0 ? 16 : *cap * 2;
		if ((na = realloc(*arr, ncap * elem)) == NULL)
			return ERR_NOMEM;
		*arr = na;
		*cap = ncap;
	}
	memcpy((uint8_t *)*arr + *n * elem, v, elem);
	(*n)++;
	return 0;
}

int
jnl_dir_list(struct jnl_dir *d, struct jnl_error *err, int dirfd)
{
	size_t segcap = 0, snapcap = 0, nlen;
	struct dirent *de;
	const char *name;
	DIR *dp = NULL;
	uint64_t v;
	uint32_t segno;
	int fd, r = ERR_IO;

	memset(d, 0, sizeof(*d));
	if ((fd = dup(dirfd)) < 0 || (dp = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		r = jnl_err(err, ERR_IO, NULL, 0, 0, "listing the journal "
		    "directory: %s", strerror(errno));
		goto out;
	}
	rewinddir(dp);
	errno = 0;
	while ((de = readdir(dp)) != NULL) {
		name = de->d_name;
		nlen = strlen(name);
		if (strncmp(name, "seg-", 4) == 0) {
			/* Exactly seg-NNNNNNNN.jsonl: a look-alike could hide a
			 * segment from a reader that globs differently. */
			if (nlen != 18 || strcmp(name + 12, ".jsonl") != 0 ||
			    parse_digits(&v, name + 4, 8) != 0 || v == 0) {
				r = jnl_err(err, ERR_MALFORMED, name, 0, 0,
				    "not a segment name (seg-NNNNNNNN.jsonl, "
				    "from 1)");
				goto out;
			}
			segno = (uint32_t)v;
			if ((r = push((void **)&d->segs, &d->nsegs, &segcap,
			    &segno, sizeof(segno))) != 0)
				goto out;
		} else if (strncmp(name, "snap-", 5) == 0) {
			/* Temp files of an interrupted snapshot write. */
			if (nlen > 4 && strcmp(name + nlen - 4, ".tmp") == 0)
				continue;
			if (nlen != 29 || strcmp(name + 25, ".bin") != 0 ||
			    parse_digits(&v, name + 5, 20) != 0 || v == 0) {
				r = jnl_err(err, ERR_MALFORMED, name, 0, 0,
				    "not a snapshot name "
				    "(snap-<20 digits>.bin)");
				goto out;
			}
			if ((r = push((void **)&d->snaps, &d->nsnaps, &snapcap,
			    &v, sizeof(v))) != 0)
				goto out;
		}
		errno = 0;
	}
	if (errno != 0) {
		r = jnl_err(err, ERR_IO, NULL, 0, 0, "listing the journal "
		    "directory: %s", strerror(errno));
		goto out;
	}
	if (d->nsegs > 0)
		qsort(d->segs, d->nsegs, sizeof(*d->segs), cmp_u32_asc);
	if (d->nsnaps > 0)
		qsort(d->snaps, d->nsnaps, sizeof(*d->snaps), cmp_u64_desc);
	r = 0;
out:
	if (dp != NULL)
		closedir(dp);
	if (r != 0)
		jnl_dir_free(d);
	return r;
}

void
jnl_dir_free(struct jnl_dir *d)
{
	free(d->segs);
	free(d->snaps);
	memset(d, 0, sizeof(*d));
}

int
jnl_read_into(struct jnl_filebuf *fb, size_t *len, struct jnl_error *err,
    int dirfd, const char *name, uint64_t max)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd = -1, r = ERR_IO;

	*len = 0;
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		r = jnl_err(err, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO,
		    name, 0, 0, "open: %s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = jnl_err(err, ERR_IO, name, 0, 0, "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = jnl_err(err, ERR_TOO_LARGE, name, 0, 0, "file of %lld "
		    "bytes is larger than %llu", (long long)st.st_size,
		    (unsigned long long)max);
		goto out;
	}
	/* Reused across segments: fresh 64 MiB buffers cost more in page
	 * faults and zeroing than hashing their bytes does. */
	if ((size_t)st.st_size + 1 > fb->cap) {
		free(fb->p);
		fb->cap = 0;
		if ((fb->p = malloc((size_t)st.st_size + 1)) == NULL) {
			r = jnl_err(err, ERR_NOMEM, name, 0, 0,
			    "out of memory");
			goto out;
		}
		fb->cap = (size_t)st.st_size + 1;
	}
	/* Only the size seen now: a live writer may be appending, and a
	 * half-written line then reads as a torn tail. */
	while (got < (size_t)st.st_size) {
		n = read(fd, fb->p + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = jnl_err(err, ERR_IO, name, got, 0, "read: %s",
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

void
jnl_filebuf_free(struct jnl_filebuf *fb)
{
	free(fb->p);
	fb->p = NULL;
	fb->cap = 0;
}

int
jnl_read_file(uint8_t **buf, size_t *len, struct jnl_error *err, int dirfd,
    const char *name, uint64_t max)
{
	struct jnl_filebuf fb = { NULL, 0 };
	int r;

	*buf = NULL;
	if ((r = jnl_read_into(&fb, len, err, dirfd, name, max)) != 0) {
		jnl_filebuf_free(&fb);
		return r;
	}
	*buf = fb.p;
	return 0;
}

int
jnl_sync_dir(int dirfd)
{
	return fsync(dirfd) == 0 ? 0 : ERR_IO;
}

int
jnl_open_dir(int *dirfd, struct jnl_error *err, const char *dir)
{
	*dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return jnl_err(err, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO,
		    NULL, 0, 0, "journal directory %s: %s", dir,
		    strerror(errno));
	return 0;
}

int
jnl_dir_check_run(const struct jnl_dir *d, struct jnl_error *err)
{
	char want[40], have[40];
	size_t i;

	for (i = 1; i < d->nsegs; i++) {
		if (d->segs[i] == d->segs[i - 1] + 1)
			continue;
		snprintf(want, sizeof(want), JNL_SEG_NAME_FMT,
		    d->segs[i - 1] + 1);
		snprintf(have, sizeof(have), JNL_SEG_NAME_FMT, d->segs[i]);
		return jnl_err(err, ERR_MALFORMED, have, 0, 0,
		    "segment %s is missing (%s follows seg-%08u.jsonl)", want,
		    have, d->segs[i - 1]);
	}
	return 0;
}

int
jnl_seg_first_seq(uint64_t *seq, struct jnl_error *err, int dirfd,
    uint32_t seg_no)
{
	struct jnl_prefix pre;
	const char *reason;
	const uint8_t *nl;
	char name[40];
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd = -1, r;

	*seq = 0;
	snprintf(name, sizeof(name), JNL_SEG_NAME_FMT, seg_no);
	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		r = jnl_err(err, errno == ENOENT ? ERR_NOT_FOUND : ERR_IO,
		    name, 0, 0, "open: %s", strerror(errno));
		goto out;
	}
	if ((buf = malloc(JNL_LINE_MAX)) == NULL) {
		r = jnl_err(err, ERR_NOMEM, name, 0, 0, "out of memory");
		goto out;
	}
	/* One line is at most JNL_LINE_MAX bytes with its '\n'. */
	while (got < JNL_LINE_MAX) {
		n = pread(fd, buf + got, JNL_LINE_MAX - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = jnl_err(err, ERR_IO, name, got, 0, "read: %s",
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if ((nl = memchr(buf, '\n', got)) == NULL) {
		/* Empty, or a torn first line: no record here yet.  Longer
		 * than a line can be is the chain walk's to report. */
		r = got < JNL_LINE_MAX ? 0 : jnl_err(err, ERR_TOO_LARGE, name,
		    0, 0, "first line is longer than %d", JNL_LINE_MAX);
		goto out;
	}
	if ((r = jnl_fmt_prefix(&pre, &reason, buf, (size_t)(nl - buf))) !=
	    0) {
		r = jnl_err(err, ERR_MALFORMED, name, 0, 0, "first line: %s",
		    reason);
		goto out;
	}
	*seq = pre.seq;
	r = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}

int
jnl_write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}
