/* log: logfmt writer shared by all threads (one write(2) per line). */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

_Atomic int log_min_level = LOG_INFO;
static _Thread_local int log_worker = -1;

static const char *const level_names[] = {
	[LOG_DEBUG] = "debug",
	[LOG_INFO] = "info",
	[LOG_WARN] = "warn",
	[LOG_ERROR] = "error",
};

const char *log_level_str(enum log_level level)
{
	if ((unsigned)level < sizeof(level_names) / sizeof(level_names[0]))
		return level_names[level];
	return "unknown";
}

bool log_level_parse(const char *s, enum log_level *out_level)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out_level = (enum log_level)i;
			return true;
		}
	}
	return false;
}

void log_set_worker(int worker_id)
{
	log_worker = worker_id;
}

const char *log_escape(char *out, size_t out_len, const char *s)
{
	size_t n = 0;
	for (; *s && n + 5 <= out_len; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			out[n++] = '\\';
			out[n++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			n += (size_t)snprintf(out + n, out_len - n, "\\x%02x", ch);
		} else {
			out[n++] = (char)ch;
		}
	}
	if (out_len > 0)
		out[n < out_len ? n : out_len - 1] = '\0';
	return out;
}

/* escape_controls rewrites control characters of |s| (|len| bytes) into
 * |out| as \xNN; returns the bytes written (at most |out_len|). */
static size_t escape_controls(char *out, size_t out_len, const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 4 < out_len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f)
			n += (size_t)snprintf(out + n, out_len - n, "\\x%02x", ch);
		else
			out[n++] = (char)ch;
	}
	return n;
}

void log_emit(enum log_level level, const char *msg, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line),
			 "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, log_level_str(level));
	if (log_worker >= 0)
		n += snprintf(line + n, sizeof(line) - n, " worker=%d", log_worker);
	n += snprintf(line + n, sizeof(line) - n, " msg=\"%s\"", msg);
	if (fmt && (size_t)n < sizeof(line) - 2) {
		char pairs[sizeof(line)];
		va_list ap;
		va_start(ap, fmt);
		int len = vsnprintf(pairs, sizeof(pairs), fmt, ap);
		va_end(ap);
		if (len > (int)sizeof(pairs) - 1)
			len = (int)sizeof(pairs) - 1;
		line[n++] = ' ';
		if (len > 0)
			n += (int)escape_controls(line + n, sizeof(line) - (size_t)n, pairs, (size_t)len);
	}
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t unused = write(STDERR_FILENO, line, (size_t)n);
	(void)unused;
}
