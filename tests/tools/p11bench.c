/* p11bench.c: raw C_Sign rate through hsm/'s session pool, the baseline `make bench` compares signerd's full sign path against (not shipped). */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "evm/ecsig.h"
#include "hsm/hsm.h"

/* A benchmark stops by itself: at --count signatures or this many seconds. */
#define DEFAULT_MAX_SECONDS 60
#define THREADS_MAX 64

struct opts {
	const char *module, *token, *key, *pin_file;
	long sessions, threads, count, max_seconds;
	int evm_finish;
};

struct bench {
	struct hsm *h;
	struct hsm_key key;
	const struct opts *o;
	uint8_t *digests;	/* count * 32 random bytes, made before timing */
	double *lat_ms;		/* per signature, indexed like digests */
	double deadline;
	atomic_long next;
	atomic_long done;
	atomic_long errors;
	/* Nanoseconds spent in evm_sig_finish, to show its share. */
	atomic_llong finish_ns;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: p11bench [--module PATH] --token URI --key URI "
	    "--pin-file FILE\n"
	    "           [--sessions S] [--threads T] [--count N] "
	    "[--max-seconds SEC] [--evm-finish]\n"
	    "Each of T threads signs random 32-byte digests with hsm_sign over\n"
	    "a pool of S sessions until N signatures or SEC seconds in all,\n"
	    "then prints one line:\n"
	    "  RAW sessions=S threads=T evm_finish=0|1 ok=K errors=E "
	    "seconds=X rate=R\n"
	    "      cpu_us=C finish_us=F p50_ms=A p99_ms=B\n"
	    "cpu_us is the process's CPU time (all threads) per signature.\n"
	    "--evm-finish also runs evm_sig_finish (low-S, recovery id, key\n"
	    "check) on each signature, as signerd does; finish_us is its mean.\n"
	    "TEST ONLY: no policy, no journal.\n");
}

/* CPU time of the whole process, all threads: user + system. */
static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fail(const char *what, int r)
{
	const char *p11 = hsm_last_error();

	fprintf(stderr, "p11bench: %s: %s (%s)%s%s\n", what, err_str(r),
	    err_name(r), p11[0] != '\0' ? ": " : "", p11);
}

static int
parse_num(long *out, const char *s, const char *name, long min, long max)
{
	char *end;
	long v;

	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "p11bench: --%s %s: want %ld..%ld\n", name, s,
		    min, max);
		return ERR_INVALID_ARG;
	}
	*out = v;
	return 0;
}

static int
parse_opts(struct opts *o, int argc, char **argv)
{
	enum { O_MODULE = 256, O_TOKEN, O_KEY, O_PIN_FILE, O_SESSIONS,
		O_THREADS, O_COUNT, O_MAX_SECONDS, O_EVM_FINISH, O_HELP };
	static const struct option longopts[] = {
		{ "module", required_argument, NULL, O_MODULE },
		{ "token", required_argument, NULL, O_TOKEN },
		{ "key", required_argument, NULL, O_KEY },
		{ "pin-file", required_argument, NULL, O_PIN_FILE },
		{ "sessions", required_argument, NULL, O_SESSIONS },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "count", required_argument, NULL, O_COUNT },
		{ "max-seconds", required_argument, NULL, O_MAX_SECONDS },
		{ "evm-finish", no_argument, NULL, O_EVM_FINISH },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c, r = 0;

	memset(o, 0, sizeof(*o));
	o->sessions = 1;
	o->threads = 1;
	o->count = 1000;
	o->max_seconds = DEFAULT_MAX_SECONDS;
	while (r == 0 &&
	    (c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_MODULE: o->module = optarg; break;
		case O_TOKEN: o->token = optarg; break;
		case O_KEY: o->key = optarg; break;
		case O_PIN_FILE: o->pin_file = optarg; break;
		case O_SESSIONS:
			r = parse_num(&o->sessions, optarg, "sessions", 1, 64);
			break;
		case O_THREADS:
			r = parse_num(&o->threads, optarg, "threads", 1,
			    THREADS_MAX);
			break;
		case O_COUNT:
			r = parse_num(&o->count, optarg, "count", 1, 10000000);
			break;
		case O_MAX_SECONDS:
			r = parse_num(&o->max_seconds, optarg, "max-seconds",
			    1, 3600);
			break;
		case O_EVM_FINISH: o->evm_finish = 1; break;
		case O_HELP: usage(stdout); exit(0);
		default: return ERR_INVALID_ARG;
		}
	}
	if (r != 0)
		return r;
	if (optind != argc || o->token == NULL || o->key == NULL ||
	    o->pin_file == NULL) {
		fprintf(stderr, "p11bench: --token, --key and --pin-file are "
		    "required\n");
		return ERR_INVALID_ARG;
	}
	return 0;
}

static void *
sign_loop(void *arg)
{
	struct bench *b = arg;
	const uint8_t *digest;
	uint8_t rs[64], r[32], s[32], y;
	double t0, t1;
	long i;
	int ret;

	while ((i = atomic_fetch_add(&b->next, 1)) < b->o->count) {
		digest = b->digests + 32 * (size_t)i;
		t0 = now_s();
		if (t0 > b->deadline)
			break;
		ret = hsm_sign(b->h, rs, &b->key, digest);
		if (ret == 0 && b->o->evm_finish) {
			t1 = now_s();
			ret = evm_sig_finish(r, s, &y, digest, rs, b->key.pub);
			atomic_fetch_add(&b->finish_ns,
			    (long long)((now_s() - t1) * 1e9));
		}
		b->lat_ms[i] = (now_s() - t0) * 1e3;
		if (ret != 0) {
			/* Counted, and the run goes on: a rate with errors
			 * in it is reported as such, not hidden. */
			if (atomic_fetch_add(&b->errors, 1) == 0)
				fail(b->o->evm_finish ? "hsm_sign or "
				    "evm_sig_finish" : "hsm_sign", ret);
			b->lat_ms[i] = -1;
			continue;
		}
		atomic_fetch_add(&b->done, 1);
	}
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Moves the successful latencies (failed and unrun ones are < 0) to the
 * front of lat, sorted; returns how many there are.
 */
static long
sort_successes(double *lat, long count)
{
	long i, n = 0;

	for (i = 0; i < count; i++)
		if (lat[i] >= 0)
			lat[n++] = lat[i];
	qsort(lat, (size_t)n, sizeof(double), cmp_double);
	return n;
}

static double
percentile(const double *sorted, long n, double p)
{
	long i = (long)(p * (double)n);

	return n == 0 ? 0 : sorted[i < n ? i : n - 1];
}

int
main(int argc, char **argv)
{
	pthread_t th[THREADS_MAX];
	struct opts o;
	struct bench b;
	double t0, c0, secs, cpu;
	long i, ok, n_lat, nth = 0;
	size_t len, got;
	ssize_t n;
	int r;

	memset(&b, 0, sizeof(b));
	if (parse_opts(&o, argc, argv) != 0) {
		usage(stderr);
		return 2;
	}
	log_init("p11bench", LOG_LEVEL_WARN);
	b.o = &o;
	len = 32 * (size_t)o.count;
	b.digests = malloc(len);
	b.lat_ms = malloc(sizeof(double) * (size_t)o.count);
	if (b.digests == NULL || b.lat_ms == NULL) {
		r = ERR_NOMEM;
		fail("malloc", r);
		goto out;
	}
	/* Fresh digests for every signature, drawn before the clock starts
	 * so the loop measures signing only. */
	for (got = 0; got < len; got += (size_t)n)
		if ((n = getrandom(b.digests + got, len - got, 0)) <= 0) {
			r = ERR_IO;
			fail("getrandom", r);
			goto out;
		}
	for (i = 0; i < o.count; i++)
		b.lat_ms[i] = -1;
	if ((r = hsm_open(&b.h, o.module, o.token, (size_t)o.sessions)) != 0) {
		fail("hsm_open", r);
		goto out;
	}
	if ((r = hsm_login(b.h, o.pin_file, NULL)) != 0) {
		fail("hsm_login", r);
		goto out;
	}
	if ((r = hsm_key_find(b.h, &b.key, o.key)) != 0) {
		fail("hsm_key_find", r);
		goto out;
	}
	if (o.evm_finish && b.key.type != HSM_KEY_SECP256K1) {
		r = ERR_HSM_KEY_TYPE;
		fail("--evm-finish needs a secp256k1 key", r);
		goto out;
	}

	c0 = cpu_s();
	t0 = now_s();
	b.deadline = t0 + (double)o.max_seconds;
	for (nth = 0; nth < o.threads; nth++)
		if (pthread_create(&th[nth], NULL, sign_loop, &b) != 0) {
			r = ERR_NOMEM;
			fail("pthread_create", r);
			break;
		}
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	secs = now_s() - t0;
	cpu = cpu_s() - c0;
	if (nth < o.threads)
		goto out;

	ok = atomic_load(&b.done);
	/* CPU per signature: on a box where a software token shares the
	 * cores, rate follows it, so it separates cost from noise. */
	printf("RAW sessions=%ld threads=%ld evm_finish=%d ok=%ld errors=%ld "
	    "seconds=%.3f rate=%.1f cpu_us=%.1f finish_us=%.1f ",
	    o.sessions, o.threads, o.evm_finish, ok, atomic_load(&b.errors),
	    secs, (double)ok / secs, ok > 0 ? cpu * 1e6 / (double)ok : 0.0,
	    ok > 0 ? (double)atomic_load(&b.finish_ns) / 1e3 / (double)ok :
	    0.0);
	n_lat = sort_successes(b.lat_ms, o.count);
	printf("p50_ms=%.3f p99_ms=%.3f\n", percentile(b.lat_ms, n_lat, 0.50),
	    percentile(b.lat_ms, n_lat, 0.99));
	r = atomic_load(&b.errors) == 0 && ok > 0 ? 0 : ERR_HSM;
out:
	hsm_close(b.h);
	free(b.digests);
	free(b.lat_ms);
	return r == 0 ? 0 : 1;
}
