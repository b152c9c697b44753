/* seccomp.c: signerd's system call allowlist, one table, one reason per call. */
#include "sandbox/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"

#if defined(__SANITIZE_ADDRESS__)
#define SBX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SBX_ASAN 1
#endif
#endif
#ifdef SBX_ASAN
#include <sanitizer/lsan_interface.h>
#endif

struct sbx_rule {
	int nr;
	const char *name;
	const char *who;	/* why signerd cannot do without it */
};

#define ALLOW(sc, who) { SCMP_SYS(sc), #sc, who }

/*
 * Everything signerd does once the sandbox is up: NNG I/O on the socket it
 * already listens on, PKCS#11 signing in SoftHSM2 (whose file backend
 * re-reads and locks the token's object files on every operation), journal
 * appends, rotation, snapshots and checkpoints, malloc and threads.  The
 * evidence is tests/tools/seccomp_trace.sh: strace -f of
 * tests/tools/sandboxed_signer (which does all of that, with the real
 * journal and hsm layers) after the point where the filter goes on, and
 * the same cut of an strace of signerd itself under load, snapshots and a
 * SIGTERM stop.  Calls marked "by construction" are in neither trace but
 * are reached by paths they do not take; each says which.
 */
static const struct sbx_rule allowlist[] = {
	/* I/O on descriptors opened before the sandbox, or by openat below. */
	ALLOW(read, "SoftHSM reads token object files; NNG reads its eventfd"),
	ALLOW(pread64, "journal: jnl_read_at reads a signed record back by "
	    "its position (a retry's transaction, not kept in memory)"),
	ALLOW(write, "journal appends; log lines on stderr; NNG eventfd wake-ups"),
	ALLOW(close, "SoftHSM closes token files; NNG closes finished pipes"),
	ALLOW(lseek, "journal rewinds its directory listing; stdio seeks"),
	ALLOW(openat, "SoftHSM re-opens token object files on each C_Sign; "
	    "journal opens new segments and snapshot temp files"),
	ALLOW(newfstatat, "fstat() in glibc stdio under SoftHSM's object file reads"),
	ALLOW(fdatasync, "journal: a record is durable before its signature "
	    "leaves (invariant 1)"),
	ALLOW(fsync, "journal snapshots: file and directory fsync around rename"),
	ALLOW(renameat, "journal snapshots: atomic replace of the snapshot file"),
	ALLOW(unlinkat, "journal: removes superseded snapshots and segments"),
	ALLOW(ftruncate, "SoftHSM rewrites a token object file in place when "
	    "it creates the journal-anchor object (each checkpoint)"),
	ALLOW(dup, "journal snapshots: a private copy of the directory fd "
	    "to list it (fdopendir) when pruning old snapshots"),
	ALLOW(getdents64, "journal snapshots: readdir() of that listing"),
	ALLOW(unlink, "NNG removes the ipc socket path when the listener closes; "
	    "SoftHSM removes the old journal-anchor object's files"),

	/* NNG's poller and the connections it accepts. */
	ALLOW(epoll_wait, "NNG poller thread"),
	ALLOW(epoll_ctl, "NNG poller: (re)arms and removes connection fds"),
	ALLOW(accept, "NNG listener: each new orchestratord connection"),
	ALLOW(readv, "NNG: receives frames"),
	ALLOW(sendmsg, "NNG: sends frames (MSG_NOSIGNAL)"),
	ALLOW(shutdown, "NNG: closes a connection"),

	/* Threads and locks. */
	ALLOW(futex, "every mutex and condition variable (NNG, SoftHSM, ours)"),
	ALLOW(rt_sigprocmask, "glibc blocks signals around thread creation/exit"),
	ALLOW(rt_sigtimedwait, "signerd's main thread: waits for SIGTERM, "
	    "waking each second for checkpoints and snapshots"),
	ALLOW(set_robust_list, "glibc: start of each new thread"),
	ALLOW(rseq, "glibc: start of each new thread"),
	ALLOW(exit, "a thread ends"),
	ALLOW(exit_group, "the process ends"),
	ALLOW(rt_sigreturn, "by construction: return from a signal handler "
	    "(SIGTERM for shutdown); a kill here would make shutdown a crash"),
	/*
	 * A stop signal (SIGSTOP, SIGTSTP, a debugger, a cgroup freeze, a
	 * container pause) interrupts every thread's blocking call; on
	 * SIGCONT the kernel resumes a call with a timeout (a futex wait in
	 * pthread_cond_timedwait, NNG's timers) by making the thread call
	 * restart_syscall itself.  Without it a stop and continue kills
	 * signerd (issue 15; tests/integration/sandbox.sh and
	 * tests/sandbox/test_seccomp.c stop and continue it).  It only
	 * resumes a call the filter already let through.
	 */
	ALLOW(restart_syscall, "resumes an interrupted futex wait after "
	    "SIGSTOP then SIGCONT"),

	/* Memory. */
	ALLOW(munmap, "free() of large chunks; thread stacks and arenas"),
	ALLOW(madvise, "glibc returns a finished thread's stack"),
	ALLOW(brk, "by construction: malloc grows the main arena"),
	ALLOW(mremap, "by construction: realloc() of a chunk of 128 KiB or "
	    "more (a large message buffer)"),

	/* Identity, time and randomness. */
	ALLOW(getpid, "SoftHSM and OpenSSL's RNG check for fork on each call"),
	ALLOW(getrandom, "OpenSSL reseeds its DRBG (ECDSA nonces); NNG ids"),
	ALLOW(clock_gettime, "by construction: the vDSO falls back to the "
	    "syscall when the clocksource cannot be read from user space (some "
	    "VMs); NNG timers, log timestamps"),
};

#ifdef SBX_ASAN
/*
 * SANITIZE=address builds only (never a release build): what the ASan
 * runtime itself calls, from the same strace of an ASan-built
 * sandboxed_signer.  LeakSanitizer's exit-time check needs ptrace and a
 * non-thread clone, which no filter of ours allows; sbx_apply_seccomp runs
 * that check just before the filter goes on instead.
 */
static const struct sbx_rule asan_extra[] = {
	ALLOW(sched_yield, "ASan allocator spin locks"),
	ALLOW(sigaltstack, "ASan: alternate signal stack of each new thread"),
	ALLOW(gettid, "ASan thread registry"),
	ALLOW(sched_getaffinity, "ASan: new thread start"),
};
#endif

/* One argument test: (arg & mask) == want. */
struct sbx_cmp {
	unsigned int arg;
	uint64_t mask;
	uint64_t want;
};

struct sbx_arg_rule {
	int nr;
	const char *name;
	uint32_t action;
	unsigned int ncmp;
	struct sbx_cmp cmp[2];
	const char *who;
};

#define INT_ARG 0xffffffffULL	/* int arguments: ignore the upper half */
#define SOCK_TYPE_MASK 0xfULL	/* type without SOCK_CLOEXEC/NONBLOCK */

/*
 * Calls allowed (or refused with an errno) only with some arguments.  The
 * rules for one call are alternatives; anything else is killed.
 */
static const struct sbx_arg_rule arg_rules[] = {
	{ SCMP_SYS(mmap), "mmap", SCMP_ACT_ALLOW, 1,
	    { { 2, PROT_EXEC, 0 } },
	    "malloc arenas, thread stacks; never executable: no new code "
	    "after the sandbox" },
	{ SCMP_SYS(mprotect), "mprotect", SCMP_ACT_ALLOW, 1,
	    { { 2, PROT_EXEC, 0 } },
	    "malloc arena growth, thread stack set-up; never executable" },
	{ SCMP_SYS(clone), "clone", SCMP_ACT_ALLOW, 1,
	    { { 0, CLONE_THREAD, CLONE_THREAD } },
	    "pthread_create (after clone3's ENOSYS); threads only, no fork" },
	/*
	 * glibc's qsort asks sysinfo for the machine's memory before it
	 * mallocs a buffer for a large array (signerd sorts its state for a
	 * snapshot); on ENOSYS it simply uses malloc.  Nothing else of ours
	 * needs it, and it would tell a compromised signerd nothing useful.
	 */
	{ SCMP_SYS(sysinfo), "sysinfo", SCMP_ACT_ERRNO(ENOSYS), 0, { { 0 } },
	    "glibc qsort's memory probe (snapshots sort the state)" },
	/*
	 * clone3's flags live in memory a filter cannot read, so it cannot
	 * be told apart from fork; glibc falls back to clone on ENOSYS.
	 */
	{ SCMP_SYS(clone3), "clone3", SCMP_ACT_ERRNO(ENOSYS), 0, { { 0 } },
	    "pthread_create tries it first" },
	{ SCMP_SYS(fcntl), "fcntl", SCMP_ACT_ALLOW, 1,
	    { { 1, INT_ARG, F_SETLK } }, "SoftHSM unlocks a token file" },
	{ SCMP_SYS(fcntl), "fcntl", SCMP_ACT_ALLOW, 1,
	    { { 1, INT_ARG, F_SETLKW } }, "SoftHSM read-locks a token file" },
	{ SCMP_SYS(fcntl), "fcntl", SCMP_ACT_ALLOW, 1,
	    { { 1, INT_ARG, F_GETFL } }, "fdopen() of SoftHSM's token files" },
	{ SCMP_SYS(fcntl), "fcntl", SCMP_ACT_ALLOW, 1,
	    { { 1, INT_ARG, F_SETFL } },
	    "NNG makes an accepted connection non-blocking" },
	{ SCMP_SYS(fcntl), "fcntl", SCMP_ACT_ALLOW, 1,
	    { { 1, INT_ARG, F_SETFD } },
	    "NNG sets close-on-exec on an accepted connection" },
	{ SCMP_SYS(getsockopt), "getsockopt", SCMP_ACT_ALLOW, 2,
	    { { 1, INT_ARG, SOL_SOCKET }, { 2, INT_ARG, SO_PEERCRED } },
	    "NNG_OPT_IPC_PEER_UID: who sent a request, before reading it" },
	{ SCMP_SYS(setsockopt), "setsockopt", SCMP_ACT_ALLOW, 2,
	    { { 1, INT_ARG, IPPROTO_TCP }, { 2, INT_ARG, TCP_NODELAY } },
	    "NNG tcp listener (listen = tcp://127.0.0.1): each accepted "
	    "connection" },
	{ SCMP_SYS(setsockopt), "setsockopt", SCMP_ACT_ALLOW, 2,
	    { { 1, INT_ARG, SOL_SOCKET }, { 2, INT_ARG, SO_KEEPALIVE } },
	    "NNG tcp listener: each accepted connection" },
	/*
	 * glibc stdio asks whether a character device (stdout on /dev/null
	 * or a terminal) is a terminal before it picks a buffering mode;
	 * "no" is a safe answer, a kill is not.
	 */
	{ SCMP_SYS(ioctl), "ioctl", SCMP_ACT_ERRNO(ENOTTY), 1,
	    { { 1, INT_ARG, TCGETS } }, "isatty() in glibc stdio" },
	/*
	 * SoftHSM logs its errors with syslog(), which opens a datagram
	 * socket to /dev/log (seen with a wrong PIN); refusing it keeps an
	 * HSM failure an error reply instead of a SIGSYS crash.  Every other
	 * socket() kills.
	 */
	{ SCMP_SYS(socket), "socket", SCMP_ACT_ERRNO(EACCES), 2,
	    { { 0, INT_ARG, AF_UNIX }, { 1, SOCK_TYPE_MASK, SOCK_DGRAM } },
	    "syslog() in SoftHSM's error paths" },
};

static int
add_arg_rule(scmp_filter_ctx ctx, const struct sbx_arg_rule *ar)
{
	struct scmp_arg_cmp cmp[2];
	unsigned int i;
	int e;

	for (i = 0; i < ar->ncmp; i++) {
		cmp[i].arg = ar->cmp[i].arg;
		cmp[i].op = SCMP_CMP_MASKED_EQ;
		cmp[i].datum_a = ar->cmp[i].mask;
		cmp[i].datum_b = ar->cmp[i].want;
	}
	e = seccomp_rule_add_array(ctx, ar->action, ar->nr, ar->ncmp, cmp);
	if (e != 0)
		log_error("seccomp_rule_add(%s): %s", ar->name, strerror(-e));
	return e;
}

/* Builds the filter; *out is the caller's to release. */
static int
build(scmp_filter_ctx *out)
{
	scmp_filter_ctx ctx = NULL;
	size_t i;
	int e, r = ERR_INTERNAL;

	*out = NULL;
	/* KILL_PROCESS needs API level 3 (libseccomp 2.4, Linux 4.14). */
	if (seccomp_api_get() < 3) {
		log_error("libseccomp API level %u < 3: no KILL_PROCESS",
		    seccomp_api_get());
		goto out;
	}
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	/*
	 * Architecture check first: seccomp_init put exactly the native ABI
	 * in the filter, and a call made through another ABI (int 0x80, x32)
	 * numbers syscalls differently, so it must die rather than be
	 * matched against this table.  With only x86_64 in the filter,
	 * libseccomp also sends x32 numbers (bit 30) to the bad-arch action.
	 */
	if (seccomp_arch_exist(ctx, seccomp_arch_native()) != 0 ||
	    (e = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS)) != 0) {
		log_error("seccomp: native architecture setup failed");
		goto out;
	}
	/* NNG's and SoftHSM's threads exist already; filter them too. */
	if ((e = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0 ||
	    (e = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) != 0) {
		log_error("seccomp_attr_set: %s", strerror(-e));
		goto out;
	}
	for (i = 0; i < ARRAY_LEN(allowlist); i++) {
		e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowlist[i].nr, 0);
		if (e != 0) {
			log_error("seccomp_rule_add(%s): %s", allowlist[i].name,
			    strerror(-e));
			goto out;
		}
	}
	for (i = 0; i < ARRAY_LEN(arg_rules); i++)
		if (add_arg_rule(ctx, &arg_rules[i]) != 0)
			goto out;
#ifdef SBX_ASAN
	for (i = 0; i < ARRAY_LEN(asan_extra); i++) {
		e = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, asan_extra[i].nr, 0);
		if (e != 0) {
			log_error("seccomp_rule_add(%s): %s", asan_extra[i].name,
			    strerror(-e));
			goto out;
		}
	}
#endif
	*out = ctx;
	ctx = NULL;
	r = 0;
out:
	seccomp_release(ctx);
	return r;
}

static void *
idle_thread(void *arg)
{
	return arg;
}

/*
 * Lazy first-use work in glibc, done now while it is still allowed:
 * a process's first pthread_create installs the SIGCANCEL/SIGSETXID
 * handlers (rt_sigaction), and the first localtime_r (syslog() in
 * SoftHSM's error paths) reads /etc/localtime.
 */
static int
prime_libc(void)
{
	pthread_t t;

	tzset();
	if (pthread_create(&t, NULL, idle_thread, NULL) != 0 ||
	    pthread_join(t, NULL) != 0) {
		log_error("cannot start a thread");
		return ERR_INTERNAL;
	}
	return 0;
}

int
sbx_apply_seccomp(void)
{
	scmp_filter_ctx ctx = NULL;
	int e, r;

	if ((r = build(&ctx)) != 0 || (r = prime_libc()) != 0)
		goto out;
	r = ERR_INTERNAL;
#ifdef SBX_ASAN
	/* Leaks so far are reported now; the check at exit is then skipped. */
	__lsan_do_leak_check();
#endif
	if ((e = seccomp_load(ctx)) != 0) {
		log_error("seccomp_load: %s", strerror(-e));
		goto out;
	}
	r = 0;
out:
	seccomp_release(ctx);
	return r;
}

int
sbx_export_seccomp(int fd)
{
	scmp_filter_ctx ctx = NULL;
	int r;

	if ((r = build(&ctx)) != 0)
		goto out;
	r = seccomp_export_pfc(ctx, fd) == 0 ? 0 : ERR_INTERNAL;
out:
	seccomp_release(ctx);
	return r;
}
