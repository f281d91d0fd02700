/* bench_sched: thousands of blocking-style bench connections on a few threads, as coroutines over epoll. */
#ifndef WP_BENCH_SCHED_H
#define WP_BENCH_SCHED_H

#include <stdbool.h>
#include <stddef.h>

typedef void (*bench_task_fn)(void *arg);

/* bench_sched_run runs task(args[i]) for every i as coroutines on the
 * calling thread, and returns when all have returned. A task is plain
 * blocking code: where a socket would block it calls bench_wait_io, and
 * the thread runs the other tasks meanwhile. */
void bench_sched_run(bench_task_fn task, void *const *args, size_t n);

/* bench_wait_io waits until |fd| is readable (or writable when |write|):
 * inside bench_sched_run by switching to the other tasks, elsewhere with
 * poll(). */
void bench_wait_io(int fd, bool write);

/* bench_sleep pauses the calling task (or thread, outside a scheduler). */
void bench_sleep(double seconds);

#endif
