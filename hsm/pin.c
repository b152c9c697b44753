/* pin.c: read the user PIN from a private file or the environment, log in, and wipe it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "hsm/internal.h"

/* Copies a PIN of n bytes into pin after checking it is usable. */
static int
pin_store(char *pin, size_t cap, const char *src, size_t n, const char *what)
{
	if (n == 0) {
		hsm_error_set("%s is empty", what);
		return ERR_HSM_PIN_FILE;
	}
	if (n > HSM_PIN_MAX) {
		hsm_error_set("%s is longer than %d bytes", what, HSM_PIN_MAX);
		return ERR_HSM_PIN_FILE;
	}
	/* The PIN goes to C_Login with its length; a NUL would cut it short elsewhere. */
	if (memchr(src, '\0', n) != NULL) {
		hsm_error_set("%s contains a NUL byte", what);
		return ERR_HSM_PIN_FILE;
	}
	if (n + 1 > cap)
		return ERR_INVALID_ARG;
	memcpy(pin, src, n);
	pin[n] = '\0';
	return 0;
}

int
hsm_pin_read_file(char *pin, size_t cap, const char *path)
{
	char buf[HSM_PIN_MAX + 3];
	struct stat st;
	size_t n = 0;
	ssize_t got;
	int fd = -1, r = ERR_HSM_PIN_FILE;

	if (cap > 0)
		util_wipe(pin, cap);
	hsm_error_clear();
	/*
	 * O_NOFOLLOW: a symlink could point the appliance at a file someone
	 * else controls.  O_NONBLOCK: a FIFO must not hang us before fstat
	 * refuses it.  The checks run on the opened file, not the name.
	 */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK);
	if (fd < 0) {
		if (errno == ELOOP) {
			hsm_error_set("PIN file %s is a symbolic link", path);
			r = ERR_HSM_PIN_MODE;
		} else {
			hsm_error_set("PIN file %s: %s", path, strerror(errno));
		}
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		hsm_error_set("PIN file %s: %s", path, strerror(errno));
		goto out;
	}
	r = ERR_HSM_PIN_MODE;
	if (!S_ISREG(st.st_mode)) {
		hsm_error_set("PIN file %s is not a regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		hsm_error_set("PIN file %s is owned by uid %u, not %u", path,
		    (unsigned)st.st_uid, (unsigned)geteuid());
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		hsm_error_set("PIN file %s has mode %04o; it must be 0600 or "
		    "stricter", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	r = ERR_HSM_PIN_FILE;
	/* Read one byte more than a PIN may have, to tell "too long" apart. */
	while (n < sizeof(buf)) {
		got = read(fd, buf + n, sizeof(buf) - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			hsm_error_set("PIN file %s: %s", path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	/* Editors and echo add one newline; it is not part of the PIN. */
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	r = pin_store(pin, cap, buf, n, "PIN file");
out:
	util_wipe(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	return r;
}

int
hsm_pin_read_env(char *pin, size_t cap, const char *name)
{
	char *v;
	size_t n;
	int r;

	if (cap > 0)
		util_wipe(pin, cap);
	hsm_error_clear();
	v = getenv(name);
	if (v == NULL) {
		hsm_error_set("environment variable %s is not set", name);
		r = ERR_HSM_PIN_FILE;
		goto out;
	}
	n = strlen(v);
	r = pin_store(pin, cap, v, n, "PIN variable");
	/* Overwrite before unsetting: unsetenv only drops the pointer. */
	util_wipe(v, n);
	unsetenv(name);
out:
	return r;
}

int
hsm_pin_get(char *pin, size_t cap, const char *file, const char *env)
{
	if (file != NULL)
		return hsm_pin_read_file(pin, cap, file);
	if (env != NULL)
		return hsm_pin_read_env(pin, cap, env);
	hsm_error_set("no PIN file or PIN variable given");
	return ERR_INVALID_ARG;
}

int
hsm_login(struct hsm *h, const char *pin_file, const char *pin_env)
{
	char pin[HSM_PIN_MAX + 1];
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int r;

	hsm_error_clear();
	if ((r = hsm_pin_get(pin, sizeof(pin), pin_file, pin_env)) != 0)
		goto out;
	s = hsm_pool_take(h);
	rv = h->f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
	util_wipe(pin, sizeof(pin));
	hsm_pool_give(h, s);
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		r = hsm_fail("C_Login", rv);
		goto out;
	}
	h->logged_in = 1;
	r = 0;
out:
	util_wipe(pin, sizeof(pin));
	return r;
}
