/*
 * bench_journal.c: appends/s with 1 and 8 threads (group commit) and
 * jnl_open() time on a large journal with and without a snapshot.
 *   cc -I. -D_GNU_SOURCE -std=c11 -O2 -o build/bench_journal \
 *       tests/bench/bench_journal.c build/libjournal.a build/libproto.a \
 *       build/libcommon.a -ljansson -lcrypto -lpthread
 *   build/bench_journal [DIR] [RECORDS]     (default $TMPDIR, 1000000)
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "journal/internal.h"

#define APPEND_THREADS 8

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, int r)
{
	fprintf(stderr, "bench_journal: %s: %s\n", what, err_str(r));
	exit(1);
}

/* A record about the size of signerd's "signed" records. */
static json_t *
body(uint64_t i)
{
	char req[32];

	snprintf(req, sizeof(req), "req-%llu", (unsigned long long)i);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s,s], s:s}",
	    "type", "signed", "ts", "2026-11-22T10:00:00Z", "request", req,
	    "policy", "9f2c4e1a6b0d3c5e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6",
	    "to", "0x52908400098527886E0F7030069857D2E4169EE7",
	    "amount", "1500000000000000000",
	    "tx", "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060",
	    "approvals", "alice", "bob", "chain", "1");
}

struct appender {
	pthread_t t;
	struct jnl *j;
	int n;
	uint64_t base;
};

static void *
append_run(void *arg)
{
	struct appender *a = arg;
	json_t *b;
	int i, r;

	for (i = 0; i < a->n; i++) {
		b = body(a->base + (uint64_t)i);
		if ((r = jnl_append(a->j, NULL, NULL, b)) != 0)
			die("jnl_append", r);
		json_decref(b);
	}
	return NULL;
}

/* Appends total records from nthreads threads into a fresh journal. */
static void
bench_appends(const char *base, int nthreads, int total)
{
	struct appender a[APPEND_THREADS];
	char dir[PATH_MAX + 32];
	struct jnl_stats st;
	struct jnl_error e;
	struct jnl *j;
	double t0, dt;
	int i, r;

	snprintf(dir, sizeof(dir), "%s/append-%d", base, nthreads);
	if ((r = jnl_open(&j, &e, dir, NULL)) != 0)
		die("jnl_open", r);
	t0 = now();
	for (i = 0; i < nthreads; i++) {
		a[i].j = j;
		a[i].n = total / nthreads;
		a[i].base = (uint64_t)i * 1000000;
		pthread_create(&a[i].t, NULL, append_run, &a[i]);
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(a[i].t, NULL);
	dt = now() - t0;
	jnl_stats(j, &st);
	jnl_close(j);
	printf("append %d thread(s): %llu records in %.2f s = %.0f appends/s, "
	    "%llu fdatasyncs (%.1f records per sync, largest batch %llu), "
	    "%.2f ms per append\n", nthreads,
	    (unsigned long long)st.appends, dt, (double)st.appends / dt,
	    (unsigned long long)st.fdatasyncs,
	    (double)st.appends / (double)st.fdatasyncs,
	    (unsigned long long)st.max_batch,
	    dt * 1000.0 * nthreads / (double)st.appends);
}

/* Writes n records straight into 64 MiB segments: the bytes jnl_append
 * would write, without n fdatasyncs. */
static void
generate(const char *dir, uint64_t n)
{
	struct jnl_hasher h;
	struct prt_writer w;
	uint8_t prev[32] = { 0 }, hash[32];
	char path[PATH_MAX + 64];
	unsigned seg = 1;
	uint64_t i;
	size_t len;
	char *text;
	json_t *b;
	FILE *f = NULL;
	int r;

	if (jnl_hasher_init(&h) != 0)
		die("hasher", ERR_NOMEM);
	prt_writer_init(&w, JNL_SEGMENT_MAX_DEFAULT + JNL_LINE_MAX);
	for (i = 1; i <= n; i++) {
		b = body(i);
		if ((r = jnl_fmt_body(&text, &len, b, 0)) != 0 ||
		    (r = jnl_fmt_line(&w, hash, &h, i, prev, text, len)) != 0)
			die("format", r);
		memcpy(prev, hash, 32);
		free(text);
		json_decref(b);
		if (w.len + JNL_LINE_MAX > JNL_SEGMENT_MAX_DEFAULT || i == n) {
			snprintf(path, sizeof(path), "%s/" JNL_SEG_NAME_FMT, dir,
			    seg++);
			if ((f = fopen(path, "w")) == NULL ||
			    fwrite(w.p, 1, w.len, f) != w.len || fclose(f) != 0)
				die(path, ERR_IO);
			prt_writer_free(&w);
			prt_writer_init(&w, JNL_SEGMENT_MAX_DEFAULT +
			    JNL_LINE_MAX);
		}
	}
	prt_writer_free(&w);
	jnl_hasher_free(&h);
}

static int
count_replay(void *ctx, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos, const json_t *rec, char *why, size_t cap)
{
	(*(uint64_t *)ctx)++;
	return 0;
}

static int
restore_blob(void *ctx, uint64_t seq, const uint8_t hash[32],
    const void *blob, size_t len)
{
	return 0;
}

static double
timed_open(const char *dir, int replay, uint64_t *replayed)
{
	struct jnl_config cfg;
	struct jnl_error e;
	struct jnl *j;
	double t0;
	char msg[512];
	int r;

	memset(&cfg, 0, sizeof(cfg));
	*replayed = 0;
	if (replay) {
		cfg.replay = count_replay;
		cfg.restore = restore_blob;
		cfg.ctx = replayed;
	}
	t0 = now();
	if ((r = jnl_open(&j, &e, dir, &cfg)) != 0) {
		fprintf(stderr, "%s\n", jnl_error_format(msg, sizeof(msg), &e));
		die("jnl_open", r);
	}
	t0 = now() - t0;
	jnl_close(j);
	return t0;
}

static void
bench_open(const char *base, uint64_t n)
{
	char dir[PATH_MAX + 32], state[4096];
	struct jnl_error e;
	uint64_t replayed;
	struct jnl *j;
	double t0, dt;
	int r;

	snprintf(dir, sizeof(dir), "%s/open", base);
	if (mkdir(dir, 0700) != 0)
		die(dir, ERR_IO);
	t0 = now();
	generate(dir, n);
	printf("generated %llu records in %.1f s\n", (unsigned long long)n,
	    now() - t0);
	/* Warm the page cache so every run reads the same way. */
	timed_open(dir, 0, &replayed);
	dt = timed_open(dir, 0, &replayed);
	printf("open, hash chain only (no callbacks): %.2f s\n", dt);
	dt = timed_open(dir, 1, &replayed);
	printf("open, no snapshot (chain + JSON replay of %llu): %.2f s\n",
	    (unsigned long long)replayed, dt);
	if ((r = jnl_open(&j, &e, dir, NULL)) != 0)
		die("jnl_open", r);
	memset(state, 0x5a, sizeof(state));
	if ((r = jnl_snapshot_write(j, state, sizeof(state))) != 0)
		die("snapshot", r);
	jnl_close(j);
	dt = timed_open(dir, 1, &replayed);
	printf("open, snapshot at the head (chain + replay of %llu): %.2f s\n",
	    (unsigned long long)replayed, dt);
}

int
main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	char base[PATH_MAX];
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
	char cmd[PATH_MAX + 16];

	log_init("bench_journal", LOG_LEVEL_ERROR);
	snprintf(base, sizeof(base), "%s/bench_journal.XXXXXX",
	    argc > 1 ? argv[1] : tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(base) == NULL)
		die(base, ERR_IO);
	printf("journal benchmark in %s\n", base);
	bench_appends(base, 1, 2000);
	bench_appends(base, APPEND_THREADS, 16000);
	bench_open(base, n);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (getenv("BENCH_KEEP") != NULL)
		return 0;
	return system(cmd) == 0 ? 0 : 1;
}
