/*
 * bench_startup.c: jnl_open() time on a large journal (issue 12 item 3):
 * with a snapshot at the head (reads only what is after it) against a
 * full verification from seq 1, measured in the same run.
 *   cc -I. -D_GNU_SOURCE -std=c11 -O2 -o build/bench_startup \
 *       tests/bench/bench_startup.c build/libjournal.a build/libproto.a \
 *       build/libcommon.a -ljansson -lcrypto -lpthread
 *   build/bench_startup DIR [RUNS]
 * DIR: a journal with no snapshot (build/tools/jnlfill --to DIR ...).  It
 * writes a small snapshot at the head, times RUNS (default 3) opens from
 * it, removes it and times one full verification without JSON (the chain
 * and checkpoints) and one with it (what signerd runs with no snapshot).
 * Prints rows to paste.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "journal/internal.h"

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
	fprintf(stderr, "bench_startup: %s: %s\n", what, err_str(r));
	exit(1);
}

static int
count_replay(void *ctx, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos, const json_t *rec, char *why, size_t cap)
{
	(*(uint64_t *)ctx)++;
	return 0;
}

static int
restore_ok(void *ctx, uint64_t seq, const uint8_t hash[32], const void *blob,
    size_t len)
{
	return 0;
}

/* Opens dir once; *replayed the records handed to replay. */
static double
timed_open(const char *dir, uint64_t *replayed, uint64_t *head, int parse)
{
	struct jnl_config cfg;
	struct jnl_error e;
	struct jnl *j;
	char msg[512];
	double t0;
	int r;

	memset(&cfg, 0, sizeof(cfg));
	cfg.restore = restore_ok;
	/* Without a replay callback jnl_open parses no JSON. */
	cfg.replay = parse ? count_replay : NULL;
	cfg.ctx = replayed;
	*replayed = 0;
	t0 = now();
	if ((r = jnl_open(&j, &e, dir, &cfg)) != 0) {
		fprintf(stderr, "%s\n", jnl_error_format(msg, sizeof(msg), &e));
		die("jnl_open", r);
	}
	t0 = now() - t0;
	jnl_head(j, head, NULL);
	jnl_close(j);
	return t0;
}

static void
remove_snapshots(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		die(dir, ERR_IO);
	while ((de = readdir(dp)) != NULL)
		if (strncmp(de->d_name, "snap-", 5) == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (unlink(path) != 0)
				die(path, ERR_IO);
		}
	closedir(dp);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct jnl_error e;
	struct jnl *j;
	uint64_t replayed, head = 0;
	double t[16], full, chain;
	char state[4096];
	int i, runs = 3, r;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bench_startup DIR [RUNS]\n");
		return 2;
	}
	if (argc == 3 && ((runs = atoi(argv[2])) < 1 || runs > 16))
		die("RUNS (1..16)", ERR_INVALID_ARG);
	log_init("bench_startup", LOG_LEVEL_WARN);
	remove_snapshots(argv[1]);
	if ((r = jnl_open(&j, &e, argv[1], NULL)) != 0)
		die("jnl_open", r);
	memset(state, 0x5a, sizeof(state));
	if ((r = jnl_snapshot_write(j, state, sizeof(state))) != 0)
		die("snapshot", r);
	jnl_close(j);
	for (i = 0; i < runs; i++)
		t[i] = timed_open(argv[1], &replayed, &head, 1);
	qsort(t, (size_t)runs, sizeof(t[0]), cmp_double);
	remove_snapshots(argv[1]);
	chain = timed_open(argv[1], &replayed, &head, 0);
	full = timed_open(argv[1], &replayed, &head, 1);
	printf("startup from a snapshot at the head, %llu records: "
	    "median %.3f s (min %.3f, max %.3f, %d runs)\n",
	    (unsigned long long)head, t[runs / 2], t[0], t[runs - 1], runs);
	printf("startup by full verification (chain, checkpoints, JSON "
	    "replay of %llu records): %.3f s\n",
	    (unsigned long long)replayed, full);
	printf("startup by full verification, chain and checkpoints only "
	    "(no JSON): %.3f s\n", chain);
	printf("ratio snapshot/full: %.5f; snapshot/chain-only: %.5f\n",
	    t[runs / 2] / full, t[runs / 2] / chain);
	return 0;
}
