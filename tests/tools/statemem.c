/*
 * statemem.c: signerd's request state (signerd/state.c) under a long
 * synthetic history, for `make bench` (issue 12, D55): what memory holds
 * once the window forgets, and how long a snapshot holds the state lock.
 * Not shipped.
 *
 *   statemem [--records N] [--per-day K] [--window W] [--out FILE]
 *
 * Replays N signed requests, K a UTC day, forgetting those older than the
 * window each day as signerd does, then prints one line of key=value
 * pairs: live requests, table bytes per live request, nonces held one by
 * one, RSS before, after the history and with a snapshot's buffers (MiB,
 * and the peak), and a snapshot's time under the lock (head: copy) and in
 * all (tail: sort and write).  --out writes the state blob (the fuzz
 * corpus's seed for fuzz/fuzz_state.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "signerd/state.h"

static double
rss_mib(const char *field)
{
	char line[256];
	double kib = 0;
	FILE *f;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, strlen(field)) == 0)
			kib = strtod(line + strlen(field), NULL);
	fclose(f);
	return kib / 1024;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static unsigned long long
num(const char *s, const char *what)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v == 0) {
		fprintf(stderr, "statemem: %s must be a positive integer\n",
		    what);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "records", required_argument, NULL, 'n' },
		{ "per-day", required_argument, NULL, 'k' },
		{ "window", required_argument, NULL, 'w' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long n = 10000000, k = 125000, window = 7, i;
	struct sd_nonce_ref ref = { { 0x11 }, 1, 0 };
	struct jnl_pos pos = { 1, 0 };
	struct sd_state_copy *copy;
	struct sd_state *st;
	struct prt_writer w;
	uint8_t content[32] = { 0 };
	double rss0, rss1, t0, t1, t2;
	uint32_t day = 20000, min_seg;
	char id[40];
	const char *out = NULL;
	FILE *f;
	u256 one;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': n = num(optarg, "--records"); break;
		case 'k': k = num(optarg, "--per-day"); break;
		case 'w': window = num(optarg, "--window"); break;
		case 'o': out = optarg; break;
		default: return 2;
		}
	}
	if (window > SD_RETENTION_DAYS_MAX) {
		fprintf(stderr, "statemem: --window is at most %d\n",
		    SD_RETENTION_DAYS_MAX);
		return 2;
	}
	rss0 = rss_mib("VmRSS:");
	u256_from_u64(&one, 1);
	if (sd_state_new(&st, 0) != 0)
		return 1;
	for (i = 0; i < n; i++) {
		if (i > 0 && i % k == 0) {
			day++;
			sd_state_prune(st, (int64_t)day - (int64_t)window);
		}
		snprintf(id, sizeof(id), "fill-%llu", i);
		memcpy(content, &i, sizeof(i));
		ref.nonce = i;
		/* ~1 KB records, 64 MiB segments. */
		pos.seg = (uint32_t)(i / 65536 + 1);
		pos.off = (uint32_t)(i % 65536 * 1024);
		if (sd_state_replay_signed(st, id, day, content, "ETH", day,
		    &one, &ref, &pos) != 0) {
			fprintf(stderr, "statemem: replay failed at %llu\n", i);
			return 1;
		}
	}
	rss1 = rss_mib("VmRSS:");
	prt_writer_init(&w, (size_t)1 << 31);
	t0 = now_ms();
	if (sd_state_serialize_head(st, &w, (int64_t)day - (int64_t)window,
	    &copy) != 0)
		return 1;
	t1 = now_ms();
	if (sd_state_serialize_tail(copy, &w, &min_seg) != 0)
		return 1;
	t2 = now_ms();
	printf("STATEMEM records=%llu per_day=%llu window=%llu live=%zu "
	    "table_bytes=%zu bytes_per_live=%.1f nonces_held=%zu "
	    "rss_before_mib=%.1f rss_mib=%.1f rss_snapshot_mib=%.1f "
	    "hwm_mib=%.1f "
	    "snapshot_lock_ms=%.1f snapshot_ms=%.1f snapshot_bytes=%zu\n",
	    n, k, window, sd_state_count(st), sd_state_table_bytes(st),
	    sd_state_count(st) ? (double)sd_state_table_bytes(st) /
	    (double)sd_state_count(st) : 0.0, sd_state_nonce_count(st), rss0,
	    rss1, rss_mib("VmRSS:"), rss_mib("VmHWM:"), t1 - t0, t2 - t0,
	    w.len);
	if (out != NULL && ((f = fopen(out, "wb")) == NULL ||
	    fwrite(w.p, 1, w.len, f) != w.len || fclose(f) != 0)) {
		fprintf(stderr, "statemem: cannot write %s\n", out);
		return 1;
	}
	prt_writer_free(&w);
	sd_state_free(st);
	return 0;
}
