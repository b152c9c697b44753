/* test_writer.c: appends, group commit across threads, rotation, and failure on a bad write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include "common/err.h"
#include "common/log.h"
#include "journal/journal.h"
#include "jnl_test.h"

#define THREADS 8
#define PER_THREAD 200

struct replay_log {
	uint64_t n;
	uint64_t seqs[4096];
	int bad;
};

static int
collect(void *ctx, uint64_t seq, const uint8_t hash[32],
    const struct jnl_pos *pos, const json_t *rec, char *why, size_t cap)
{
	struct replay_log *rl = ctx;
	char want[32];

	if (rl->n < 4096)
		rl->seqs[rl->n] = seq;
	rl->n++;
	/* Records come back with the caller's fields and the prefix's. */
	snprintf(want, sizeof(want), "req-%llu", (unsigned long long)seq);
	if (json_integer_value(json_object_get(rec, "seq")) != (json_int_t)seq ||
	    strcmp(json_string_value(json_object_get(rec, "request")), want) != 0)
		rl->bad++;
	return 0;
}

static void
test_append_reopen_replay(void **state)
{
	char dir[PATH_MAX];
	struct jnl_config cfg;
	struct replay_log *rl = calloc(1, sizeof(*rl));
	struct jnl_error e;
	struct jnl *j;
	uint8_t h1[32], h2[32], head[32];
	uint64_t seq, hs;
	json_t *b;
	uint64_t i;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	jnl_head(j, &hs, head);
	assert_int_equal(hs, 0);
	b = t_body(1);
	assert_int_equal(jnl_append(j, &seq, h1, b), 0);
	json_decref(b);
	assert_int_equal(seq, 1);
	assert_int_equal(t_append_n(j, 2, 9), 0);
	jnl_head(j, &hs, head);
	assert_int_equal(hs, 10);
	jnl_close(j);

	/* Reopen: the chain continues and replay sees every record once. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.replay = collect;
	cfg.ctx = rl;
	assert_int_equal(jnl_open(&j, &e, dir, &cfg), 0);
	assert_int_equal(rl->n, 10);
	assert_int_equal(rl->bad, 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(rl->seqs[i], i + 1);
	jnl_head(j, &hs, head);
	assert_int_equal(hs, 10);
	b = t_body(11);
	assert_int_equal(jnl_append(j, &seq, h2, b), 0);
	json_decref(b);
	assert_int_equal(seq, 11);
	jnl_close(j);
	t_rm_rf(dir);
	free(rl);
}

static void
test_append_rejects_bad_bodies(void **state)
{
	char dir[PATH_MAX];
	struct jnl_error e;
	struct jnl *j;
	uint8_t hash[32];
	uint64_t seq = 7, hs;
	json_t *b;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	b = json_pack("{s:s, s:i}", "type", "signed", "seq", 3);
	assert_int_equal(jnl_append(j, &seq, hash, b), ERR_INVALID_ARG);
	assert_int_equal(seq, 0);
	json_decref(b);
	b = json_pack("{s:s}", "type", "checkpoint");
	assert_int_equal(jnl_append(j, &seq, hash, b), ERR_INVALID_ARG);
	json_decref(b);
	/* A refused body takes no seq. */
	assert_int_equal(t_append_n(j, 1, 1), 0);
	jnl_head(j, &hs, hash);
	assert_int_equal(hs, 1);
	jnl_close(j);
	t_rm_rf(dir);
}

static void
test_single_writer_lock(void **state)
{
	char dir[PATH_MAX];
	struct jnl_error e;
	struct jnl *j, *j2 = (struct jnl *)1;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	/* Two writers would fork the chain. */
	assert_int_equal(jnl_open(&j2, &e, dir, NULL), ERR_EXISTS);
	assert_null(j2);
	assert_int_equal(e.code, ERR_EXISTS);
	jnl_close(j);
	assert_int_equal(jnl_open(&j2, &e, dir, NULL), 0);
	jnl_close(j2);
	t_rm_rf(dir);
}

struct worker {
	pthread_t t;
	struct jnl *j;
	int id;
	int err;
	uint64_t seq[PER_THREAD];
	uint8_t hash[PER_THREAD][32];
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	json_t *b;
	int i, r;

	for (i = 0; i < PER_THREAD; i++) {
		b = t_body(w->id * 1000 + i);
		r = jnl_append(w->j, &w->seq[i], w->hash[i], b);
		json_decref(b);
		if (r != 0 && w->err == 0)
			w->err = r;
	}
	return NULL;
}

static void
test_group_commit_threads(void **state)
{
	char dir[PATH_MAX];
	struct worker *w = calloc(THREADS, sizeof(*w));
	uint8_t (*byseq)[32] = calloc(THREADS * PER_THREAD + 1, 32);
	char *seen = calloc(THREADS * PER_THREAD + 1, 1);
	struct jnl_reader *rd;
	struct jnl_record rec;
	struct jnl_stats st;
	struct jnl_error e;
	struct jnl *j;
	uint64_t s, n = 0;
	int i, k;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	for (i = 0; i < THREADS; i++) {
		w[i].j = j;
		w[i].id = i;
		assert_int_equal(pthread_create(&w[i].t, NULL, worker_run,
		    &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(w[i].t, NULL);
	jnl_stats(j, &st);
	jnl_close(j);

	/* Every seq 1..1600 handed out exactly once. */
	for (i = 0; i < THREADS; i++) {
		assert_int_equal(w[i].err, 0);
		for (k = 0; k < PER_THREAD; k++) {
			s = w[i].seq[k];
			assert_true(s >= 1 && s <= THREADS * PER_THREAD);
			assert_int_equal(seen[s], 0);
			seen[s] = 1;
			memcpy(byseq[s], w[i].hash[k], 32);
			/* A thread's own records are in its call order. */
			if (k > 0)
				assert_true(s > w[i].seq[k - 1]);
		}
	}
	assert_int_equal(st.appends, THREADS * PER_THREAD);
	assert_int_equal(st.fdatasyncs, st.batches);
	assert_true(st.fdatasyncs < THREADS * PER_THREAD);
	assert_true(st.max_batch > 1);
	print_message("# %d appends in %llu fdatasyncs (largest batch %llu)\n",
	    THREADS * PER_THREAD, (unsigned long long)st.fdatasyncs,
	    (unsigned long long)st.max_batch);

	/* The chain holds and each caller got its record's real hash. */
	assert_int_equal(jnl_reader_open(&rd, &e, dir), 0);
	while (jnl_reader_next(rd, &rec, &e) == 1) {
		n++;
		assert_int_equal(rec.seq, n);
		assert_memory_equal(rec.hash, byseq[n], 32);
	}
	assert_int_equal(n, THREADS * PER_THREAD);
	jnl_reader_close(rd);
	t_rm_rf(dir);
	free(w);
	free(byseq);
	free(seen);
}

static void
test_rotation(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct jnl_config cfg;
	struct replay_log *rl = calloc(1, sizeof(*rl));
	struct jnl_stats st;
	struct jnl_error e;
	struct jnl *j;
	struct stat sb;
	uint64_t hs;
	unsigned n;

	t_mkdtemp(dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.segment_max = 2048;
	assert_int_equal(jnl_open(&j, &e, dir, &cfg), 0);
	assert_int_equal(t_append_n(j, 1, 100), 0);
	jnl_stats(j, &st);
	jnl_close(j);
	assert_true(st.rotations >= 5);
	for (n = 1; n <= st.rotations + 1; n++) {
		t_seg_path(path, dir, n);
		assert_int_equal(stat(path, &sb), 0);
		assert_true(sb.st_size > 0 && sb.st_size <= 2048);
	}
	t_seg_path(path, dir, n);
	assert_int_not_equal(stat(path, &sb), 0);

	/* Reopen: seq runs on across segment boundaries, appends continue
	 * in the newest segment. */
	cfg.replay = collect;
	cfg.ctx = rl;
	assert_int_equal(jnl_open(&j, &e, dir, &cfg), 0);
	assert_int_equal(rl->n, 100);
	assert_int_equal(rl->bad, 0);
	assert_int_equal(t_append_n(j, 101, 20), 0);
	jnl_head(j, &hs, NULL);
	assert_int_equal(hs, 120);
	jnl_close(j);
	t_rm_rf(dir);
	free(rl);
}

struct fail_worker {
	pthread_t t;
	struct jnl *j;
	int r;
};

static void *
fail_run(void *arg)
{
	struct fail_worker *w = arg;
	json_t *b = t_body(99);

	w->r = jnl_append(w->j, NULL, NULL, b);
	json_decref(b);
	return NULL;
}

static void
test_write_failure_is_permanent(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct fail_worker fw[4];
	struct rlimit old, lim;
	struct jnl_stats st;
	struct jnl_error e;
	struct jnl *j;
	struct stat sb;
	uint64_t hs;
	int i;

	t_mkdtemp(dir);
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	assert_int_equal(t_append_n(j, 1, 5), 0);
	t_seg_path(path, dir, 1);
	assert_int_equal(stat(path, &sb), 0);

	/* A file size limit makes the next write short, then EFBIG: a real
	 * write failure without a fault-injection hook. */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)sb.st_size + 10;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (i = 0; i < 4; i++) {
		fw[i].j = j;
		assert_int_equal(pthread_create(&fw[i].t, NULL, fail_run,
		    &fw[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(fw[i].t, NULL);
		/* Never pretend durability: every waiter learns. */
		assert_int_equal(fw[i].r, ERR_IO);
	}
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	/* The limit is gone, yet the journal stays failed. */
	assert_int_equal(t_append_n(j, 6, 1), ERR_IO);
	jnl_stats(j, &st);
	assert_true(st.failed);
	assert_int_equal(st.appends, 5);
	jnl_head(j, &hs, NULL);
	assert_int_equal(hs, 5);
	jnl_close(j);

	/* Reopen drops the partial line and goes on from seq 5. */
	assert_int_equal(jnl_open(&j, &e, dir, NULL), 0);
	jnl_head(j, &hs, NULL);
	assert_int_equal(hs, 5);
	assert_int_equal(t_append_n(j, 6, 1), 0);
	jnl_head(j, &hs, NULL);
	assert_int_equal(hs, 6);
	jnl_close(j);
	t_rm_rf(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_reopen_replay),
		cmocka_unit_test(test_append_rejects_bad_bodies),
		cmocka_unit_test(test_single_writer_lock),
		cmocka_unit_test(test_group_commit_threads),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_write_failure_is_permanent),
	};

	log_init("test_writer", LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
