/* log.c: JSON log lines; one write(2) per line so threads do not interleave. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

static const char *log_prog = "signer";
static enum log_level log_min = LOG_LEVEL_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
log_init(const char *prog, enum log_level min_level)
{
	log_prog = prog;
	log_min = min_level;
}

void
log_emit(enum log_level level, const char *func, const char *fmt, ...)
{
	char msg[1024], esc[2048], line[3072], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	util_json_escape(esc, sizeof(esc), msg);

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line),
	    "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"prog\":\"%s\","
	    "\"func\":\"%s\",\"msg\":\"%s\"}\n",
	    ts, now.tv_nsec / 1000000, level_names[level], log_prog, func, esc);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* Best effort: there is nowhere to report a failed log write. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}
