/* snapshot.c: state blobs tied to a journal position, written atomically (D2). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "journal/internal.h"

/*
 * File layout (big-endian): "JNLSNAP2" | u64 seq | 32-byte record hash |
 * u64 keep_from | u64 blob length | blob | SHA-256 of everything before
 * it.  The first format, "JNLSNAP1", lacks keep_from; it still reads, as
 * keep_from 1 (nothing may be archived on its word).
 */
static const char snap_magic_v1[8] = { 'J', 'N', 'L', 'S', 'N', 'A', 'P', '1' };
static const char snap_magic[8] = { 'J', 'N', 'L', 'S', 'N', 'A', 'P', '2' };
#define SNAP_OVERHEAD_V1 (8 + 8 + 32 + 8 + 32)
#define SNAP_OVERHEAD (SNAP_OVERHEAD_V1 + 8)
/* Newest two: one to restore, one to fall back to if it rots. */
#define SNAP_KEEP 2

/* Removes all but the newest SNAP_KEEP snapshots. */
static int
prune(int dirfd)
{
	struct jnl_dir d;
	char name[48];
	size_t i;
	int r, removed = 0;

	if ((r = jnl_dir_list(&d, NULL, dirfd)) != 0)
		return r;
	for (i = SNAP_KEEP; i < d.nsnaps; i++) {
		snprintf(name, sizeof(name), JNL_SNAP_NAME_FMT,
		    (unsigned long long)d.snaps[i]);
		if (unlinkat(dirfd, name, 0) != 0)
			log_warn("remove old snapshot %s: %s", name,
			    strerror(errno));
		else
			removed = 1;
	}
	jnl_dir_free(&d);
	return removed ? jnl_sync_dir(dirfd) : 0;
}

int
jnl_snapshot_write_at(struct jnl *j, uint64_t seq, const uint8_t hash[32],
    uint64_t keep_from, const void *blob, size_t len)
{
	char name[48], tmp[48] = "";
	struct jnl_hasher h;
	struct prt_writer w;
	uint8_t head[32], sum[32];
	uint64_t head_seq;
	int dirfd = jnl_dirfd(j), fd = -1, r;

	prt_writer_init(&w, JNL_SNAPSHOT_MAX + SNAP_OVERHEAD);
	memset(&h, 0, sizeof(h));
	jnl_head(j, &head_seq, head);
	if (head_seq == 0) {
		r = ERR_NOT_FOUND;
		goto out;
	}
	/* keep_from past seq + 1 would let the archive take records the
	 * snapshot does not reflect. */
	if (seq == 0 || seq > head_seq ||
	    (seq == head_seq && memcmp(hash, head, 32) != 0) ||
	    keep_from == 0 || keep_from > seq + 1) {
		r = ERR_INVALID_ARG;
		goto out;
	}
	if (len > JNL_SNAPSHOT_MAX) {
		r = ERR_TOO_LARGE;
		goto out;
	}
	if ((r = jnl_hasher_init(&h)) != 0)
		goto out;
	prt_put_bytes(&w, snap_magic, sizeof(snap_magic));
	prt_put_u64(&w, seq);
	prt_put_bytes(&w, hash, 32);
	prt_put_u64(&w, keep_from);
	prt_put_u64(&w, len);
	prt_put_bytes(&w, blob, len);
	if ((r = prt_writer_error(&w)) != 0 ||
	    (r = jnl_hash(&h, sum, w.p, w.len)) != 0)
		goto out;
	prt_put_bytes(&w, sum, 32);
	if ((r = prt_writer_error(&w)) != 0)
		goto out;

	/* Temp file, fsync, rename, directory fsync: a crash leaves either
	 * the old set of snapshots or the new one, never half a file. */
	snprintf(name, sizeof(name), JNL_SNAP_NAME_FMT,
	    (unsigned long long)seq);
	snprintf(tmp, sizeof(tmp), JNL_SNAP_NAME_FMT ".tmp",
	    (unsigned long long)seq);
	fd = openat(dirfd, tmp,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		log_error("create %s: %s", tmp, strerror(errno));
		r = ERR_IO;
		goto out;
	}
	if (jnl_write_all(fd, w.p, w.len) != 0 || fsync(fd) != 0) {
		log_error("write %s: %s", tmp, strerror(errno));
		r = ERR_IO;
		goto out;
	}
	close(fd);
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) != 0) {
		log_error("rename %s: %s", tmp, strerror(errno));
		r = ERR_IO;
		goto out;
	}
	if (jnl_sync_dir(dirfd) != 0) {
		log_error("fsync of the journal directory: %s",
		    strerror(errno));
		r = ERR_IO;
		goto out;
	}
	r = prune(dirfd);
out:
	if (fd >= 0) {
		close(fd);
		unlinkat(dirfd, tmp, 0);
	}
	jnl_hasher_free(&h);
	prt_writer_free(&w);
	return r;
}

int
jnl_snapshot_write(struct jnl *j, const void *blob, size_t len)
{
	uint8_t hash[32];
	uint64_t seq;

	jnl_head(j, &seq, hash);
	if (seq == 0)
		return ERR_NOT_FOUND;
	return jnl_snapshot_write_at(j, seq, hash, 1, blob, len);
}

int
jnl_snapshot_read(struct jnl_snapshot *snap, struct jnl_error *err,
    int dirfd, uint64_t seq)
{
	struct jnl_hasher h;
	struct prt_reader rd;
	const uint8_t *v;
	uint8_t sum[32], *data = NULL;
	uint64_t fseq, blen, keep_from = 1;
	char name[48];
	size_t len;
	int r, v1;

	memset(snap, 0, sizeof(*snap));
	memset(&h, 0, sizeof(h));
	snprintf(name, sizeof(name), JNL_SNAP_NAME_FMT,
	    (unsigned long long)seq);
	if ((r = jnl_read_file(&data, &len, err, dirfd, name,
	    JNL_SNAPSHOT_MAX + SNAP_OVERHEAD)) != 0)
		goto out;
	v1 = len >= sizeof(snap_magic_v1) &&
	    memcmp(data, snap_magic_v1, sizeof(snap_magic_v1)) == 0;
	if (len < (v1 ? SNAP_OVERHEAD_V1 : SNAP_OVERHEAD) || (!v1 &&
	    memcmp(data, snap_magic, sizeof(snap_magic)) != 0)) {
		r = jnl_err(err, ERR_MALFORMED, name, 0, seq,
		    "not a snapshot file (short or bad magic)");
		goto out;
	}
	/* The checksum first: any damage, wherever it is, reads as one. */
	if ((r = jnl_hasher_init(&h)) != 0 ||
	    (r = jnl_hash(&h, sum, data, len - 32)) != 0)
		goto out;
	if (memcmp(sum, data + len - 32, 32) != 0) {
		r = jnl_err(err, ERR_BAD_CHECKSUM, name, len - 32, seq,
		    "snapshot checksum mismatch");
		goto out;
	}
	prt_reader_init(&rd, data, len - 32);
	if ((r = prt_get_view(&rd, &v, sizeof(snap_magic))) != 0 ||
	    (r = prt_get_u64(&rd, &fseq)) != 0 ||
	    (r = prt_get_bytes(&rd, snap->hash, 32)) != 0 ||
	    (!v1 && (r = prt_get_u64(&rd, &keep_from)) != 0) ||
	    (r = prt_get_u64(&rd, &blen)) != 0 ||
	    blen != prt_remaining(&rd) ||
	    (r = prt_get_view(&rd, &snap->blob, (size_t)blen)) != 0 ||
	    (r = prt_end(&rd)) != 0 || fseq != seq) {
		r = jnl_err(err, ERR_MALFORMED, name, rd.off, seq,
		    "snapshot fields do not match its name or length");
		goto out;
	}
	/* A keep_from the writer could not have stored: the checksum holds,
	 * so this is a forgery or a bug, not rot. */
	if (keep_from == 0 || keep_from > seq + 1) {
		r = jnl_err(err, ERR_MALFORMED, name, 8 + 8 + 32, seq,
		    "snapshot keep_from %llu is outside 1..%llu",
		    (unsigned long long)keep_from,
		    (unsigned long long)seq + 1);
		goto out;
	}
	snap->seq = seq;
	snap->keep_from = keep_from;
	snap->len = (size_t)blen;
	snap->data = data;
	data = NULL;
	r = 0;
out:
	if (r != 0)
		memset(snap, 0, sizeof(*snap));
	jnl_hasher_free(&h);
	free(data);
	return r;
}

int
jnl_snapshot_stat(struct jnl_snapshot_info *info, struct jnl_error *err,
    const char *dir, uint64_t seq)
{
	struct jnl_snapshot snap;
	struct jnl_dir d;
	size_t i;
	int dirfd = -1, r;

	memset(info, 0, sizeof(*info));
	memset(&d, 0, sizeof(d));
	memset(&snap, 0, sizeof(snap));
	jnl_err(err, 0, NULL, 0, 0, "%s", "");
	if ((r = jnl_open_dir(&dirfd, err, dir)) != 0)
		goto out;
	if (seq != 0) {
		r = jnl_snapshot_read(&snap, err, dirfd, seq);
		goto out;
	}
	if ((r = jnl_dir_list(&d, err, dirfd)) != 0)
		goto out;
	r = jnl_err(err, ERR_NOT_FOUND, NULL, 0, 0, "no intact snapshot");
	for (i = 0; i < d.nsnaps && r != 0 && r != ERR_NOMEM; i++)
		r = jnl_snapshot_read(&snap, err, dirfd, d.snaps[i]);
	if (r != 0 && r != ERR_NOMEM)
		r = jnl_err(err, ERR_NOT_FOUND, NULL, 0, 0,
		    "no intact snapshot");
out:
	if (r == 0) {
		info->seq = snap.seq;
		memcpy(info->hash, snap.hash, 32);
		info->keep_from = snap.keep_from;
		info->len = snap.len;
	}
	jnl_snapshot_free(&snap);
	jnl_dir_free(&d);
	if (dirfd >= 0)
		close(dirfd);
	return r;
}

void
jnl_snapshot_free(struct jnl_snapshot *snap)
{
	free(snap->data);
	memset(snap, 0, sizeof(*snap));
}

void
jnl_remove_tmp(int dirfd, const char *prefix, const char *what)
{
	size_t n, plen = strlen(prefix);
	struct dirent *de;
	DIR *dp;
	int fd;

	if ((fd = dup(dirfd)) < 0)
		return;
	if ((dp = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	rewinddir(dp);
	while ((de = readdir(dp)) != NULL) {
		n = strlen(de->d_name);
		if (n >= plen + 4 && strncmp(de->d_name, prefix, plen) == 0 &&
		    strcmp(de->d_name + n - 4, ".tmp") == 0 &&
		    unlinkat(dirfd, de->d_name, 0) == 0)
			log_warn("removed %s left by an interrupted %s",
			    de->d_name, what);
	}
	closedir(dp);
}

void
jnl_snapshot_cleanup(int dirfd)
{
	jnl_remove_tmp(dirfd, "snap-", "snapshot write");
}
