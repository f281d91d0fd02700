/* bench_util: what every scenario measures with: clocks, /proc readings, quantiles. */
#ifndef WP_BENCH_UTIL_H
#define WP_BENCH_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* process_cpu reads utime + stime of |pid| (all its threads), in seconds;
 * NAN when it cannot be read. */
double bench_process_cpu(int pid);
/* The voluntary context switches of each thread of a process at one moment
 * (each is a sleep, so each is a wake-up), by thread id. A thread that ends
 * takes its count with it, so a later reading is compared thread by thread,
 * never as two sums (a server that ends per-connection threads would read
 * fewer wake-ups than none). */
struct bench_wakeups {
	size_t n;
	int *tid;
	unsigned long *count;
};

/* bench_wakeups_read fills |out| with the threads of |pid| now; false when
 * they cannot be read. |out| is released with bench_wakeups_cleanup either
 * way. */
bool bench_wakeups_read(struct bench_wakeups *out, int pid);
/* bench_wakeups_since returns the wake-ups of |pid|'s threads since
 * |before|: for each thread alive now, its count less its count then (a
 * thread started since counts from zero); NAN when unreadable. */
double bench_wakeups_since(const struct bench_wakeups *before, int pid);
void bench_wakeups_cleanup(struct bench_wakeups *w);
/* process_rss reads the resident set of |pid| in bytes; NAN when unreadable. */
double bench_process_rss(int pid);
/* bench_json_number formats |v| for JSON, or null when it was not
 * measured (NAN). */
const char *bench_json_number(double v, char *buf, size_t len);
/* bench_quantile sorts |v| in place and returns its q-quantile (0 when empty). */
double bench_quantile(double *v, size_t n, double q);

#endif
