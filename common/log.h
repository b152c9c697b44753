/* log.h: one JSON object per line on stderr, with the calling function. */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Sets the program name put in every line and the lowest level printed. */
void log_init(const char *prog, enum log_level min_level);

/*
 * Writes {"ts":..,"level":..,"prog":..,"func":..,"msg":..} to stderr.  The
 * message is escaped for JSON.  Never pass a PIN, key or approval secret.
 */
void log_emit(enum log_level level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(...) log_emit(LOG_LEVEL_DEBUG, __func__, __VA_ARGS__)
#define log_info(...) log_emit(LOG_LEVEL_INFO, __func__, __VA_ARGS__)
#define log_warn(...) log_emit(LOG_LEVEL_WARN, __func__, __VA_ARGS__)
#define log_error(...) log_emit(LOG_LEVEL_ERROR, __func__, __VA_ARGS__)

#endif
