/* bench_util: what every scenario measures with: clocks, /proc readings, quantiles. */
#ifndef WP_BENCH_UTIL_H
#define WP_BENCH_UTIL_H

#include <stddef.h>

/* process_cpu reads utime + stime of |pid| (all its threads), in seconds;
 * NAN when it cannot be read. */
double bench_process_cpu(int pid);
/* bench_process_wakeups sums the voluntary context switches of every thread
 * of |pid|: each is a sleep, so each is a wake-up; NAN when unreadable. */
double bench_process_wakeups(int pid);
/* process_rss reads the resident set of |pid| in bytes; NAN when unreadable. */
double bench_process_rss(int pid);
/* bench_json_number formats |v| for JSON, or null when it was not
 * measured (NAN). */
const char *bench_json_number(double v, char *buf, size_t len);
/* bench_quantile sorts |v| in place and returns its q-quantile (0 when empty). */
double bench_quantile(double *v, size_t n, double q);

#endif
