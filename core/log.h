/* log: logfmt lines on stderr, one event per line, level checked before formatting. */
#ifndef WP_LOG_H
#define WP_LOG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_DEBUG = 0,
	LOG_INFO = 1,
	LOG_WARN = 2,
	LOG_ERROR = 3,
};

const char *log_level_str(enum log_level level);
bool log_level_parse(const char *s, enum log_level *out_level);

extern _Atomic int log_min_level;

/* log_set_worker tags this thread's lines with worker=N (-1: none). */
void log_set_worker(int worker_id);

/* log_escape copies |s| into |out| (|out_len| bytes, NUL-terminated,
 * truncated) for use inside a quoted logfmt value: '"' and '\\' get a
 * backslash, other bytes below 0x20 and 0x7f become \xNN. For strings a
 * peer chose (user names, server messages). Returns |out|. */
const char *log_escape(char *out, size_t out_len, const char *s);

/* log_emit writes one line: ts, level, worker, msg="|msg|", then |fmt| which
 * should be further key=value pairs (may be NULL). Never pass secrets.
 * Control characters in the formatted pairs are written as \xNN, so that
 * no value can start a line of its own. */
void log_emit(enum log_level level, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_at(level, msg, ...)                                                  \
	do {                                                                     \
		if ((int)(level) >= atomic_load_explicit(&log_min_level, memory_order_relaxed)) \
			log_emit((level), (msg), __VA_ARGS__);                   \
	} while (0)

#define log_debug(msg, ...) log_at(LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) log_at(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_at(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_at(LOG_ERROR, msg, __VA_ARGS__)

#endif
