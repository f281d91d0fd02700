/* bench_sched: thousands of blocking-style bench connections on a few threads, as coroutines over epoll. */
#include "bench_sched.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* Stacks are reserved, not committed: a task touches a few pages of it
 * (TLS handshakes are the deepest), so 10,000 tasks stay small. */
#define STACK_SIZE (256u << 10)

struct coro {
	ucontext_t ctx;
	void *stack;
	bench_task_fn task;
	void *arg;
	bool done;
	struct coro *next_ready;
};

struct sched {
	ucontext_t main;
	struct coro *current;
	struct coro *ready_head, *ready_tail;
	int epfd;
};

static __thread struct sched *this_sched;

static void make_ready(struct sched *s, struct coro *c)
{
	c->next_ready = NULL;
	if (s->ready_tail)
		s->ready_tail->next_ready = c;
	else
		s->ready_head = c;
	s->ready_tail = c;
}

static struct coro *take_ready(struct sched *s)
{
	struct coro *c = s->ready_head;
	if (c) {
		s->ready_head = c->next_ready;
		if (!s->ready_head)
			s->ready_tail = NULL;
	}
	return c;
}

/* trampoline: makecontext passes ints only, so the pointer comes in two. */
static void trampoline(unsigned hi, unsigned lo)
{
	struct coro *c = (struct coro *)(((uintptr_t)hi << 32) | (uintptr_t)lo);
	c->task(c->arg);
	c->done = true; /* uc_link returns to the scheduler */
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void coro_start(struct sched *s, struct coro *c)
{
	c->stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (c->stack == MAP_FAILED || getcontext(&c->ctx) < 0)
		die("warmpool-bench: coroutine");
	c->ctx.uc_stack = (stack_t){.ss_sp = c->stack, .ss_size = STACK_SIZE};
	c->ctx.uc_link = &s->main;
	uintptr_t p = (uintptr_t)c;
	makecontext(&c->ctx, (void (*)(void))trampoline, 2, (unsigned)(p >> 32), (unsigned)p);
	make_ready(s, c);
}

void bench_sched_run(bench_task_fn task, void *const *args, size_t n)
{
	struct sched s = {.epfd = epoll_create1(EPOLL_CLOEXEC)};
	struct coro *coros = calloc(n, sizeof(*coros));
	if (s.epfd < 0 || (n && !coros))
		die("warmpool-bench: scheduler");
	this_sched = &s;
	for (size_t i = 0; i < n; i++) {
		coros[i] = (struct coro){.task = task, .arg = args[i]};
		coro_start(&s, &coros[i]);
	}
	size_t live = n;
	struct epoll_event ev[256];
	while (live > 0) {
		struct coro *c;
		while ((c = take_ready(&s))) {
			s.current = c;
			swapcontext(&s.main, &c->ctx);
			s.current = NULL;
			if (c->done) {
				munmap(c->stack, STACK_SIZE);
				live--;
			}
		}
		int got = live ? epoll_wait(s.epfd, ev, 256, -1) : 0;
		if (got < 0 && errno != EINTR)
			die("warmpool-bench: epoll_wait");
		for (int i = 0; i < got; i++)
			make_ready(&s, ev[i].data.ptr);
	}
	this_sched = NULL;
	close(s.epfd);
	free(coros);
}

void bench_wait_io(int fd, bool write)
{
	struct sched *s = this_sched;
	if (!s || !s->current) {
		struct pollfd p = {.fd = fd, .events = write ? POLLOUT : POLLIN};
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
		return;
	}
	/* One shot: the task is woken once, then re-arms at its next wait. A
	 * closed descriptor left epoll by itself, hence ADD after ENOENT. */
	struct epoll_event ev = {.events = (write ? EPOLLOUT : EPOLLIN) | EPOLLONESHOT,
				 .data.ptr = s->current};
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 &&
	    (errno != ENOENT || epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0))
		die("warmpool-bench: epoll_ctl");
	struct coro *me = s->current;
	swapcontext(&me->ctx, &s->main);
}

void bench_sleep(double seconds)
{
	struct timespec ts = {.tv_sec = (time_t)seconds,
			      .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9)};
	if (!this_sched || !this_sched->current) {
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		return;
	}
	/* A timer descriptor turns the sleep into one more wait on epoll. */
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	struct itimerspec when = {.it_value = ts};
	if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec == 0)
		when.it_value.tv_nsec = 1; /* zero would disarm it */
	if (fd < 0 || timerfd_settime(fd, 0, &when, NULL) < 0)
		die("warmpool-bench: timerfd");
	bench_wait_io(fd, false);
	close(fd);
}
