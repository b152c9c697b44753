/* secret_file.h: reads a file that holds a secret only its owner may read. */
#ifndef COMMON_SECRET_FILE_H
#define COMMON_SECRET_FILE_H

#include <stddef.h>

#include "common/util.h"

/*
 * Reads the secret file path into out (cap bytes) with the checks the
 * orchestratord tokens file gets (orchestratord/auth.c): opened with
 * O_NOFOLLOW (a symbolic link is refused), a regular file, owned by the
 * effective uid, no group or other permission bits, at most cap bytes.
 * *len receives the byte count.  Returns 0, or ERR_IO, ERR_PERMISSION or
 * ERR_TOO_LARGE with the reason in why; on failure out holds nothing
 * (wiped).  The caller wipes out when done.
 */
int util_read_secret_file(const char *path, void *out, size_t cap,
    size_t *len, char *why, size_t whylen) WARN_UNUSED;

#endif
