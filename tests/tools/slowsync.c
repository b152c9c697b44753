/*
 * slowsync.c: an LD_PRELOAD shim that makes fdatasync(2) and fsync(2)
 * take SLOWSYNC_MS milliseconds longer (test and bench only, never
 * shipped), so group commit can be judged as on a disk whose flush is
 * slow: what matters there is how many records share one flush.
 *
 *   LD_PRELOAD=build/tools/slowsync.so SLOWSYNC_MS=10 signerd ...
 *
 * The delay is a futex wait with a timeout, which signerd's seccomp filter
 * allows; the real call follows, so durability is unchanged.  SLOWSYNC_MS is read
 * once, range-checked (0..10000), and anything else means no delay.  At
 * exit it writes "slowsync: fdatasync=N fsync=M" to stderr (write(2) on
 * fd 2, allowed too), so a bench can divide records by flushes for any
 * signerd, old or new.
 *
 * SLOWSYNC_FAIL_FILE=PATH: while PATH exists (stat(2), i.e. newfstatat,
 * allowed), fdatasync fails with EIO without syncing: a disk that stops
 * flushing, for the journal-failure path (nothing may be acknowledged).
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef int (*sync_fn)(int);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static long delay_ms;
static const char *fail_file;
static sync_fn real_fdatasync, real_fsync;
static atomic_long n_fdatasync, n_fsync;

static void
init(void)
{
	const char *s = getenv("SLOWSYNC_MS");
	char *end;
	long v;

	real_fdatasync = (sync_fn)dlsym(RTLD_NEXT, "fdatasync");
	real_fsync = (sync_fn)dlsym(RTLD_NEXT, "fsync");
	fail_file = getenv("SLOWSYNC_FAIL_FILE");
	if (s == NULL)
		return;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == 0 && end != s && *end == '\0' && v >= 0 && v <= 10000)
		delay_ms = v;
}

/*
 * A timed wait on a condition variable nobody signals: a futex(2) with a
 * timeout, which signerd's seccomp filter allows (nanosleep is not).
 */
static void
delay(void)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	struct timespec until;

	if (delay_ms == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += delay_ms / 1000;
	until.tv_nsec += (delay_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&mu);
	while (pthread_cond_timedwait(&cv, &mu, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&mu);
}

/* Both wrappers are what the preload exports: no prototypes elsewhere. */
int fdatasync(int fd);
int fsync(int fd);

int
fdatasync(int fd)
{
	struct stat st;

	pthread_once(&once, init);
	if (real_fdatasync == NULL) {
		errno = ENOSYS;
		return -1;
	}
	atomic_fetch_add(&n_fdatasync, 1);
	delay();
	if (fail_file != NULL && stat(fail_file, &st) == 0) {
		errno = EIO;
		return -1;
	}
	return real_fdatasync(fd);
}

int
fsync(int fd)
{
	pthread_once(&once, init);
	if (real_fsync == NULL) {
		errno = ENOSYS;
		return -1;
	}
	atomic_fetch_add(&n_fsync, 1);
	delay();
	return real_fsync(fd);
}

__attribute__((destructor)) static void
report(void)
{
	char line[80];
	int n;

	if (atomic_load(&n_fdatasync) == 0 && atomic_load(&n_fsync) == 0)
		return;	/* a child that never flushed: nothing to say */
	n = snprintf(line, sizeof(line), "slowsync: fdatasync=%ld fsync=%ld\n",
	    atomic_load(&n_fdatasync), atomic_load(&n_fsync));
	if (n > 0 && (size_t)n < sizeof(line))
		(void)!write(2, line, (size_t)n);
}
