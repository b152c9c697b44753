/* test_seccomp.c: the sandbox in forked children: what it kills, what it lets through, and what /proc says afterwards. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/err.h"
#include "sandbox/sandbox.h"

/* A child stuck by a bug dies of SIGALRM instead of hanging the suite. */
#define CHILD_TIMEOUT 30

/* Distinct exit codes say which step of a child went wrong. */
enum { CHILD_OK = 0, CHILD_SETUP = 10, CHILD_NOT_KILLED = 11 };

/* Runs fn(arg) in a child and returns its wait status. */
static int
in_child(int (*fn)(void *), void *arg)
{
	pid_t pid;
	int status = -1;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(CHILD_TIMEOUT);
		_exit(fn(arg));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
assert_killed_by_sigsys(int status)
{
	if (WIFEXITED(status))
		fail_msg("child exited %d instead of dying of SIGSYS",
		    WEXITSTATUS(status));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void
assert_exited(int status, int code)
{
	if (WIFSIGNALED(status))
		fail_msg("child died of signal %d", WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), code);
}

/* --- forbidden calls ---------------------------------------------------- */

static int
do_execve(void *arg)
{
	static char *const argv[] = { "/bin/true", NULL };

	if (sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	syscall(SYS_execve, argv[0], argv, NULL);
	return CHILD_NOT_KILLED;
}

static int
do_socket_inet(void *arg)
{
	if (sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	return CHILD_NOT_KILLED;
}

static int
do_socket_unix_stream(void *arg)
{
	if (sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	/* Only the datagram socket syslog() wants is answered with EACCES. */
	syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	return CHILD_NOT_KILLED;
}

static int
do_ptrace(void *arg)
{
	if (sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
	return CHILD_NOT_KILLED;
}

static int
do_fork(void *arg)
{
	if (sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	/* glibc's fork is clone without CLONE_THREAD. */
	if (fork() == 0)
		_exit(0);
	return CHILD_NOT_KILLED;
}

static int
do_connect(void *arg)
{
	struct sockaddr sa = { .sa_family = AF_UNIX };

	if (sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	syscall(SYS_connect, STDERR_FILENO, &sa, sizeof(sa));
	return CHILD_NOT_KILLED;
}

static int
do_exec_mapping(void *arg)
{
	if (sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	/* No new code after the sandbox: an executable mapping dies. */
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	return CHILD_NOT_KILLED;
}

static int
do_exec_mprotect(void *arg)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
	return CHILD_NOT_KILLED;
}

static int
do_other_ioctl(void *arg)
{
	int n;

	if (sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	ioctl(STDIN_FILENO, FIONREAD, &n);
	return CHILD_NOT_KILLED;
}

static int
do_setuid(void *arg)
{
	if (sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	syscall(SYS_setuid, 0);
	return CHILD_NOT_KILLED;
}

static void
test_forbidden_calls_kill(void **state)
{
	static int (*const calls[])(void *) = {
		do_execve, do_socket_inet, do_socket_unix_stream, do_ptrace,
		do_fork, do_connect, do_exec_mapping, do_exec_mprotect,
		do_other_ioctl, do_setuid,
	};
	size_t i;

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		assert_killed_by_sigsys(in_child(calls[i], NULL));
}

/* --- other ABIs --------------------------------------------------------- */

#if defined(__x86_64__)
static int
do_x32(void *arg)
{
	if (sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	/* getpid through the x32 ABI: same arch token, bit 30 set. */
	syscall(0x40000000 | SYS_getpid);
	return CHILD_NOT_KILLED;
}

static int
do_i386(void *arg)
{
	long r;

	if (sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	/* getpid (20) through the 32-bit int 0x80 entry. */
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
	return CHILD_NOT_KILLED;
}
#endif

static void
test_other_abis_kill(void **state)
{
#if defined(__x86_64__)
	int status;

	assert_killed_by_sigsys(in_child(do_x32, NULL));
	status = in_child(do_i386, NULL);
	/* A kernel without ia32 emulation faults before seccomp runs. */
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
		skip();
	assert_killed_by_sigsys(status);
#else
	skip();
#endif
}

/* --- TSYNC: a thread started before the filter is filtered too ----------- */

static int tsync_pipe[2];

static void *
tsync_thread(void *arg)
{
	char c;

	/* Blocked here while main installs the filter. */
	if (read(tsync_pipe[0], &c, 1) != 1)
		return NULL;
	syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	return (void *)1;
}

static int
do_tsync(void *arg)
{
	pthread_t t;
	void *ret = NULL;

	if (pipe(tsync_pipe) != 0 ||
	    pthread_create(&t, NULL, tsync_thread, NULL) != 0)
		return CHILD_SETUP;
	if (sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	if (write(tsync_pipe[1], "x", 1) != 1)
		return CHILD_SETUP;
	pthread_join(t, &ret);
	return ret != NULL ? CHILD_NOT_KILLED : CHILD_SETUP;
}

static void
test_tsync_covers_existing_threads(void **state)
{
	assert_killed_by_sigsys(in_child(do_tsync, NULL));
}

/* --- what signerd needs keeps working ------------------------------------ */

static void *
noop_thread(void *arg)
{
	return arg;
}

/* Each step returns its own code, so a failure names the step. */
static int
do_allowed(void *arg)
{
	const char *dir = arg;
	char path[128], path2[128], buf[64];
	struct timespec ts;
	uint8_t rnd[16];
	pthread_t t;
	void *ret = NULL, *big;
	int fd;

	snprintf(path, sizeof(path), "%s/journal.tmp", dir);
	snprintf(path2, sizeof(path2), "%s/journal", dir);
	if (sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return 20;
	if (write(fd, "record\n", 7) != 7 || fdatasync(fd) != 0 ||
	    fsync(fd) != 0 || close(fd) != 0)
		return 21;
	/* renameat, as the journal's snapshots do. */
	if (renameat(AT_FDCWD, path, AT_FDCWD, path2) != 0)
		return 22;
	fd = open(path2, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf)) != 7 || close(fd) != 0)
		return 23;
	if (unlink(path2) != 0)
		return 24;
	/* The raw call, as glibc makes it when the vDSO cannot serve. */
	if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0)
		return 25;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return 26;
	if (getpid() <= 0)
		return 27;
	/* Large chunks: mmap, mremap on realloc, munmap. */
	if ((big = malloc(1 << 20)) == NULL ||
	    (big = realloc(big, 4 << 20)) == NULL)
		return 28;
	memset(big, 1, 4 << 20);
	free(big);
	/* A thread after the filter: clone3 gets ENOSYS, clone works. */
	if (pthread_create(&t, NULL, noop_thread, (void *)2) != 0 ||
	    pthread_join(t, &ret) != 0 || ret != (void *)2)
		return 29;
	/* stdio's terminal probe gets "not a terminal", not a kill. */
	errno = 0;
	if (isatty(STDOUT_FILENO) != 0 || errno != ENOTTY)
		return 30;
	/* SoftHSM's error paths call syslog(): refused, survived. */
	errno = 0;
	if (socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) != -1 ||
	    errno != EACCES)
		return 31;
	syslog(LOG_ERR, "test_seccomp: syslog under the filter");
	return CHILD_OK;
}

static void
test_allowed_calls_work(void **state)
{
	char dir[] = "/tmp/test_seccomp.XXXXXX";

	assert_non_null(mkdtemp(dir));
	assert_exited(in_child(do_allowed, dir), CHILD_OK);
	assert_int_equal(rmdir(dir), 0);
}

/* --- stopped and continued ---------------------------------------------- */

#define STOP_ROUNDS 5
#define STOP_WAIT_MS 1500	/* the child's timed wait: spans every round */

/*
 * Under the filter, waits in pthread_cond_timedwait (a futex wait with a
 * timeout, as NNG's timers and worker threads do) until a deadline, while
 * the parent stops and continues it.  On SIGCONT the kernel resumes that
 * wait through restart_syscall.
 */
static int
do_wait_through_stops(void *arg)
{
	int ready_fd = *(const int *)arg;
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	struct timespec deadline, now;
	int e = 0;

	if (sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += STOP_WAIT_MS / 1000;
	deadline.tv_nsec += (STOP_WAIT_MS % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	if (write(ready_fd, "r", 1) != 1)
		return 50;
	pthread_mutex_lock(&mu);
	while (e != ETIMEDOUT) {
		e = pthread_cond_timedwait(&cv, &mu, &deadline);
		if (e != 0 && e != ETIMEDOUT)
			return 51;
	}
	pthread_mutex_unlock(&mu);
	/* Woken by the timeout, not early. */
	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec < deadline.tv_sec)
		return 52;
	return CHILD_OK;
}

static void
test_stop_continue(void **state)
{
	struct timespec pause = { 0, 60 * 1000000L };
	int fds[2], status, i;
	pid_t pid;
	char c;

	/* Issue 15 item 6: SIGSTOP then SIGCONT killed signerd. */
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		alarm(CHILD_TIMEOUT);
		_exit(do_wait_through_stops(&fds[1]));
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	for (i = 0; i < STOP_ROUNDS; i++) {
		/* Let it get into its wait first. */
		nanosleep(&pause, NULL);
		assert_int_equal(kill(pid, SIGSTOP), 0);
		assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
		if (!WIFSTOPPED(status))
			fail_msg("round %d: child not stopped but %s %d", i,
			    WIFSIGNALED(status) ? "killed by signal" :
			    "exited", WIFSIGNALED(status) ? WTERMSIG(status) :
			    WEXITSTATUS(status));
		assert_int_equal(kill(pid, SIGCONT), 0);
		assert_int_equal(waitpid(pid, &status, WCONTINUED), pid);
		assert_true(WIFCONTINUED(status));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_exited(status, CHILD_OK);
}

/* --- early hardening ---------------------------------------------------- */

static int
do_harden_early(void *arg)
{
	struct rlimit rl;
	mode_t old;
	int fd = open("/dev/null", O_RDONLY);

	if (fd < 3)
		return CHILD_SETUP;
	/* With stdin closed, the hardening must put /dev/null there. */
	close(STDIN_FILENO);
	if (sbx_harden_early() != 0)
		return CHILD_SETUP;
	if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
		return 40;	/* inherited fd still open */
	if (fcntl(STDIN_FILENO, F_GETFD) == -1)
		return 41;	/* 0 left closed */
	old = umask(0);
	if (old != 077)
		return 42;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 43;
	if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_cur != 0 ||
	    rl.rlim_max != 0)
		return 44;
	return CHILD_OK;
}

static void
test_harden_early(void **state)
{
	assert_exited(in_child(do_harden_early, NULL), CHILD_OK);
}

/* --- privilege drop ------------------------------------------------------ */

/* The user to drop to: nobody as root, else ourselves. */
static const char *
target_user(void)
{
	struct passwd *pw;

	if (geteuid() == 0)
		return "nobody";
	pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_name : NULL;
}

static int
do_drop_bad_user(void *arg)
{
	if (sbx_drop_privileges("no-such-user-here") != ERR_NOT_FOUND)
		return 50;
	if (sbx_drop_privileges("root") != ERR_PERMISSION)
		return 51;
	/* Nothing changed: still the same ids. */
	return CHILD_OK;
}

static void
test_drop_refuses_bad_users(void **state)
{
	assert_exited(in_child(do_drop_bad_user, NULL), CHILD_OK);
}

static int
do_drop(void *arg)
{
	const char *user = arg;
	struct rlimit rl;
	gid_t groups[4];
	int n;

	if (sbx_drop_privileges(user) != 0)
		return CHILD_SETUP;
	if (getuid() == 0 || geteuid() == 0)
		return 60;
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
		return 61;	/* root regained */
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 62;
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 63;
	if (getrlimit(RLIMIT_CORE, &rl) != 0 || rl.rlim_max != 0)
		return 64;
	n = getgroups(4, groups);
	if (n != 1 || groups[0] != getgid())
		return 65;	/* root's supplementary groups kept */
	return CHILD_OK;
}

static int
do_drop_self(void *arg)
{
	if (sbx_drop_privileges(arg) != 0)
		return CHILD_SETUP;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		return 70;
	return CHILD_OK;
}

static int
do_drop_other(void *arg)
{
	/* Unprivileged, another user is out of reach: an error, not a skip. */
	return sbx_drop_privileges("nobody") == ERR_PERMISSION ? CHILD_OK : 80;
}

/*
 * As root: a real drop to nobody.  Unprivileged: only "already that user"
 * works, the id changes are skipped and the rest still happens.  (One test
 * for both, so that neither run reports a skip.)
 */
static void
test_drop(void **state)
{
	const char *me = target_user();

	assert_non_null(me);
	if (geteuid() == 0)
		assert_exited(in_child(do_drop, "nobody"), CHILD_OK);
	else
		assert_exited(in_child(do_drop_self, (void *)me), CHILD_OK);
	if (geteuid() != 0 && strcmp(me, "nobody") != 0)
		assert_exited(in_child(do_drop_other, NULL), CHILD_OK);
}

/* --- /proc after drop + filter, every thread ----------------------------- */

struct proc_child {
	int ready[2];	/* child -> parent: sandbox is up */
	int done[2];	/* parent -> child: checks finished */
	pthread_t t[2];
};

static void *
parked_thread(void *arg)
{
	struct proc_child *pc = arg;
	char c;

	/* Parked in read(2) until the parent has looked at /proc. */
	if (read(pc->done[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

static int
do_sandboxed_and_wait(void *arg)
{
	struct proc_child *pc = arg;
	const char *user = target_user();
	char c;

	close(pc->ready[0]);
	close(pc->done[1]);
	/* Threads before the drop, like NNG's. */
	if (user == NULL ||
	    pthread_create(&pc->t[0], NULL, parked_thread, pc) != 0 ||
	    pthread_create(&pc->t[1], NULL, parked_thread, pc) != 0)
		return CHILD_SETUP;
	if (sbx_drop_privileges(user) != 0 || sbx_apply_seccomp() != 0)
		return CHILD_SETUP;
	if (write(pc->ready[1], "r", 1) != 1)
		return CHILD_SETUP;
	/* EOF when the parent closes its end: the threads leave too. */
	if (read(pc->done[0], &c, 1) < 0)
		return CHILD_SETUP;
	pthread_join(pc->t[0], NULL);
	pthread_join(pc->t[1], NULL);
	return CHILD_OK;
}

/* Returns the value after "key:\t" in a status file, or NULL. */
static const char *
status_field(const char *status, const char *key, char *out, size_t cap)
{
	const char *p = status;
	size_t klen = strlen(key), n;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == status || p[-1] == '\n') && p[klen] == ':' &&
		    p[klen + 1] == '\t') {
			p += klen + 2;
			n = strcspn(p, "\n");
			if (n >= cap)
				n = cap - 1;
			memcpy(out, p, n);
			out[n] = '\0';
			return out;
		}
		p += klen;
	}
	return NULL;
}

/*
 * Checks one task; returns 0 for a task that has already exited.  A thread
 * joined with pthread_join can linger in /proc/PID/task for an instant as
 * a dead task whose filter is already released (Seccomp: 0): it runs
 * nothing, so it is not counted (seen once in CI under load, from the
 * warm-up thread sbx_apply_seccomp joins).
 */
static int
check_task_status(const char *path, int check_uid)
{
	char status[8192], v[128];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0 && errno == ENOENT)
		return 0;	/* reaped between readdir and open */
	assert_true(fd >= 0);
	n = read(fd, status, sizeof(status) - 1);
	close(fd);
	assert_true(n > 0);
	status[n] = '\0';
	assert_non_null(status_field(status, "State", v, sizeof(v)));
	if (v[0] == 'Z' || v[0] == 'X')
		return 0;
	assert_non_null(status_field(status, "Seccomp", v, sizeof(v)));
	assert_string_equal(v, "2");	/* SECCOMP_MODE_FILTER */
	assert_non_null(status_field(status, "NoNewPrivs", v, sizeof(v)));
	assert_string_equal(v, "1");
	if (!check_uid)
		return 1;
	/* real, effective, saved, fs: all nobody's, none root. */
	assert_non_null(status_field(status, "Uid", v, sizeof(v)));
	assert_string_equal(v, "65534\t65534\t65534\t65534");
	assert_non_null(status_field(status, "Gid", v, sizeof(v)));
	assert_string_equal(v, "65534\t65534\t65534\t65534");
	assert_non_null(status_field(status, "Groups", v, sizeof(v)));
	assert_string_equal(v, "65534 ");
	assert_non_null(status_field(status, "CapEff", v, sizeof(v)));
	assert_string_equal(v, "0000000000000000");
	assert_non_null(status_field(status, "CapPrm", v, sizeof(v)));
	assert_string_equal(v, "0000000000000000");
	return 1;
}

static void
test_proc_status_every_thread(void **state)
{
	struct proc_child pc;
	struct dirent *de;
	char taskdir[64], path[384], c;
	int status, nthreads = 0, as_root = geteuid() == 0;
	pid_t pid;
	DIR *d;

	assert_int_equal(pipe(pc.ready), 0);
	assert_int_equal(pipe(pc.done), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(CHILD_TIMEOUT);
		_exit(do_sandboxed_and_wait(&pc));
	}
	close(pc.ready[1]);
	close(pc.done[0]);
	if (read(pc.ready[0], &c, 1) != 1) {
		/* The child failed before the sandbox was up. */
		close(pc.done[1]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_exited(status, CHILD_OK);
		fail();
	}
	/* Read from outside: the sandbox lets the child list no directory. */
	snprintf(taskdir, sizeof(taskdir), "/proc/%d/task", (int)pid);
	d = opendir(taskdir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", taskdir,
		    de->d_name);
		nthreads += check_task_status(path, as_root);
	}
	closedir(d);
	close(pc.done[1]);
	close(pc.ready[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_exited(status, CHILD_OK);
	assert_int_equal(nthreads, 3);
	/* The uid part needs root to drop from; seccomp/NNP were checked. */
	if (!as_root)
		skip();
}

/* --- the filter as text --------------------------------------------------- */

static void
test_export(void **state)
{
	char path[] = "/tmp/test_seccomp_pfc.XXXXXX", *text;
	struct stat st;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(sbx_export_seccomp(fd), 0);
	assert_int_equal(fstat(fd, &st), 0);
	text = calloc(1, (size_t)st.st_size + 1);
	assert_non_null(text);
	assert_int_equal(pread(fd, text, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	/* Default kill, wrong architecture kill, no exec, no ptrace. */
	assert_non_null(strstr(text, "# default action\n  action "
	    "KILL_PROCESS;"));
	assert_non_null(strstr(text, "# invalid architecture action\n"
	    "action KILL_PROCESS;"));
	assert_null(strstr(text, "\"execve\""));
	assert_null(strstr(text, "\"ptrace\""));
	assert_null(strstr(text, "\"connect\""));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forbidden_calls_kill),
		cmocka_unit_test(test_other_abis_kill),
		cmocka_unit_test(test_tsync_covers_existing_threads),
		cmocka_unit_test(test_allowed_calls_work),
		cmocka_unit_test(test_stop_continue),
		cmocka_unit_test(test_harden_early),
		cmocka_unit_test(test_drop_refuses_bad_users),
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_proc_status_every_thread),
		cmocka_unit_test(test_export),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
