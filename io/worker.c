/* worker: the event loop of one thread: ring setup, completion dispatch, tick, stop. */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "client.h"
#include "conn.h"
#include "handoff.h"
#include "listener.h"
#include "log.h"
#include "reload.h"
#include "server.h"

#define RING_ENTRIES 4096
#define RING_CQ_ENTRIES 32768
#define BUFRING_ENTRIES 1024  /* power of two */
#define BUFRING_BUF_SIZE 16384 /* one TLS record */
#define BUFRING_GROUP 1
#define TICK_MS 100

const char *ring_op_str(enum ring_op op)
{
	static const char *const names[RING_OP_COUNT] = {
		"none", "accept", "recv", "send", "connect", "link_timeout",
		"cancel", "close", "tick", "wake", "retry",
	};
	return (unsigned)op < RING_OP_COUNT ? names[op] : "unknown";
}

void worker_free_stats(struct worker *w)
{
	stats_cleanup(&w->stats);
	stats_cleanup(&w->published.stats);
	pthread_mutex_destroy(&w->published.lock);
	/* Closed only now: until every worker has joined, any may wake this one. */
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	w->wake_fd = -1;
}

/* refresh_gauges recounts what the pools hold; counters need no refresh. */
static void refresh_gauges(struct worker *w)
{
	struct worker_stats *s = &w->stats;
	for (size_t b = 0; b < s->n_backends; b++) {
		memset(s->backends[b].conns, 0, sizeof(s->backends[b].conns));
		s->backends[b].waiting = 0;
	}
	s->clients_waiting = s->clients_linked = 0;
	for (size_t i = 0; i < w->n_pools; i++) {
		const struct backend_pool *bp = w->pools[i];
		struct stats_backend *b = &s->backends[bp->backend_idx];
		for (size_t st = 0; st < POOL_CONN_STATE_COUNT; st++)
			b->conns[st] += bp->pool.counts[st];
		b->waiting += bp->pool.n_waiters;
		s->clients_waiting += bp->pool.n_waiters;
		s->clients_linked += bp->pool.counts[POOL_CONN_ACTIVE];
	}
	for (size_t l = 0; l < w->n_listeners; l++)
		s->listeners[l].workers_listening = w->listeners[l].fd >= 0 && !w->stopping;
	s->heartbeat_ms = w->now_ms;
}

/* publish copies the live statistics for the admin thread: one short,
 * uncontended lock per tick instead of atomics on every counter. */
static void publish(struct worker *w)
{
	refresh_gauges(w);
	pthread_mutex_lock(&w->published.lock);
	stats_copy(&w->published.stats, &w->stats);
	pthread_mutex_unlock(&w->published.lock);
}

void worker_stats_read(struct worker *w, struct worker_stats *into)
{
	pthread_mutex_lock(&w->published.lock);
	stats_merge(into, &w->published.stats);
	pthread_mutex_unlock(&w->published.lock);
}

uint64_t worker_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct io_uring_sqe *worker_sqe(struct worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);
	while (!sqe) {
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

static bool ring_setup(struct worker *w, char *why, size_t why_len)
{
	struct io_uring_params p = {
		/* SINGLE_ISSUER: only this thread submits, so the kernel skips
		 * locking. DEFER_TASKRUN: completion work runs when we wait,
		 * in batches, not by interrupting the loop. SUBMIT_ALL: one bad
		 * SQE does not stall the ones behind it. CQSIZE: room for a
		 * burst of multishot completions without overflow. */
		.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			 IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE,
		.cq_entries = RING_CQ_ENTRIES,
	};
	int res = io_uring_queue_init_params(RING_ENTRIES, &w->ring, &p);
	if (res < 0) {
		snprintf(why, why_len,
			 "io_uring setup failed: %s (warmpool needs Linux 6.1+ with io_uring "
			 "enabled: SINGLE_ISSUER, DEFER_TASKRUN)",
			 strerror(-res));
		return false;
	}
	if (!(p.features & IORING_FEAT_NODROP) || !(p.features & IORING_FEAT_FAST_POLL)) {
		snprintf(why, why_len, "io_uring lacks NODROP/FAST_POLL (kernel too old)");
		return false;
	}
	/* Each enter then skips the descriptor table lookup (fget/fput);
	 * without it (an old kernel) the ring works the same. */
	io_uring_register_ring_fd(&w->ring);
	if (!bufring_init(&w->bufs, &w->ring, BUFRING_ENTRIES, BUFRING_BUF_SIZE, BUFRING_GROUP,
			  &res)) {
		snprintf(why, why_len,
			 "io_uring provided-buffer ring unavailable: %s (needs Linux 5.19+)",
			 strerror(-res));
		return false;
	}
	return true;
}

bool worker_init(struct worker *w, struct runtime *rt, int id, char *why, size_t why_len)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->rt = rt;
	w->wake_fd = -1;
	kill_mailbox_init(&w->kills);
	w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	list_init(&w->handshaking);
	list_init(&w->conns);
	list_init(&w->rearm);
	stats_init(&w->stats, rt->cfg.n_backends, rt->cfg.n_listeners);
	stats_init(&w->published.stats, rt->cfg.n_backends, rt->cfg.n_listeners);
	pthread_mutex_init(&w->published.lock, NULL);
	w->now_ms = worker_clock_ms();
	atomic_store(&w->heartbeat_ms, w->now_ms);
	w->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (w->wake_fd < 0) {
		snprintf(why, why_len, "eventfd: %s", strerror(errno));
		return false;
	}
	w->n_listeners = rt->cfg.n_listeners;
	w->listeners = xcalloc(w->n_listeners, sizeof(*w->listeners));
	w->rr_current = xcalloc(w->n_listeners, sizeof(*w->rr_current));
	for (size_t i = 0; i < w->n_listeners; i++)
		w->rr_current[i] = xcalloc(rt->cfg.listeners[i].n_members, sizeof(int64_t));
	for (size_t i = 0; i < w->n_listeners; i++) {
		if (!listener_open(w, i, &w->listeners[i], why, why_len))
			return false;
	}
	return true;
}

static void arm_tick(struct worker *w)
{
	w->tick.tv_sec = 0;
	w->tick.tv_nsec = TICK_MS * 1000000LL;
	struct io_uring_sqe *sqe = worker_sqe(w);
	io_uring_prep_timeout(sqe, &w->tick, 0, 0);
	io_uring_sqe_set_data64(sqe, ring_ud(w, RING_OP_TICK));
}

void worker_retry_at(struct worker *w, uint64_t due_ms)
{
	/* A due time already past is not a timer's to meet: what holds the
	 * connect back then (connect_concurrency, a TLS burst waiting for
	 * tickets) ends with a completion, or the tick retries. */
	if (w->stopping || due_ms <= w->now_ms)
		return;
	if (w->retry_due_ms > w->now_ms && w->retry_due_ms <= due_ms)
		return;
	w->retry_due_ms = due_ms;
	uint64_t in_ms = due_ms - w->now_ms;
	w->retry.tv_sec = (long long)(in_ms / 1000);
	w->retry.tv_nsec = (long long)(in_ms % 1000) * 1000000LL;
	struct io_uring_sqe *sqe = worker_sqe(w);
	io_uring_prep_timeout(sqe, &w->retry, 0, 0);
	io_uring_sqe_set_data64(sqe, ring_ud(w, RING_OP_RETRY));
}

static void arm_wake(struct worker *w)
{
	struct io_uring_sqe *sqe = worker_sqe(w);
	io_uring_prep_read(sqe, w->wake_fd, &w->wake_value, sizeof(w->wake_value), 0);
	io_uring_sqe_set_data64(sqe, ring_ud(w, RING_OP_WAKE));
}

/* begin_stop closes the listeners and every connection; the loop ends when
 * the last connection is freed. */
static void begin_stop(struct worker *w)
{
	if (w->stopping)
		return;
	w->stopping = true;
	handoff_stop(w); /* connections lent to it are closed with the rest */
	for (size_t i = 0; i < w->n_listeners; i++)
		listener_close(&w->listeners[i]);
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &w->conns)
	{
		struct conn *c = list_entry(pos, struct conn, node);
		conn_close(c, LOG_DEBUG, "shutting down");
	}
}

/* begin_drain stops accepting and lets every client finish what it is
 * doing: clients at rest leave now, the others when they come to rest. */
static void begin_drain(struct worker *w)
{
	if (w->draining || w->stopping)
		return;
	w->draining = true;
	w->drain_deadline_ms = w->now_ms + (uint64_t)w->rt->cfg.drain_timeout_ms;
	for (size_t i = 0; i < w->n_listeners; i++)
		listener_close(&w->listeners[i]);
	struct list *pos, *tmp;
	list_for_each_safe(pos, tmp, &w->conns)
	{
		struct conn *c = list_entry(pos, struct conn, node);
		if (c->tag == 'c')
			client_drain(container_of(c, struct client, conn));
	}
}

/* check_drain ends a drain once the clients are gone or time is up. */
static void check_drain(struct worker *w)
{
	if (!w->draining || w->stopping)
		return;
	if (w->stats.clients == 0) {
		log_info("drained", "clients=0");
		begin_stop(w);
	} else if (w->now_ms >= w->drain_deadline_ms) {
		log_warn("drain timeout: closing the remaining clients", "clients=%llu",
			 (unsigned long long)w->stats.clients);
		begin_stop(w);
	}
}

/* check_requests acts on what other threads asked through the atomics. */
static void check_requests(struct worker *w)
{
	kill_take_requests(w);
	backend_take_leaving(w);
	if (atomic_exchange(&w->park, false))
		reload_park(w);
	if (atomic_load(&w->stop))
		begin_stop(w);
	else if (atomic_load(&w->drain))
		begin_drain(w);
	check_drain(w);
}

static void on_tick(struct worker *w)
{
	check_requests(w);
	if (w->stopping)
		return;
	client_check_handshakes(w);
	for (size_t i = 0; i < w->n_listeners; i++)
		listener_retry(&w->listeners[i]);
	backend_pools_tick(w);
	publish(w);
	arm_tick(w);
}

/* dispatch routes one completion by its operation kind. */
static void dispatch(struct worker *w, struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	void *obj = ring_ud_ptr(ud);
	switch (ring_ud_op(ud)) {
	case RING_OP_ACCEPT:
		listener_handle_accept(obj, cqe);
		break;
	case RING_OP_RECV:
		conn_handle_recv(obj, cqe);
		break;
	case RING_OP_SEND:
		conn_handle_send(obj, cqe);
		break;
	case RING_OP_CONNECT:
		server_handle_connect(obj, cqe);
		break;
	case RING_OP_LINK_TIMEOUT:
	case RING_OP_CANCEL:
	case RING_OP_CLOSE:
		conn_handle_done(obj, cqe);
		break;
	case RING_OP_TICK:
		on_tick(w);
		break;
	case RING_OP_RETRY:
		/* Several may be pending (an earlier one armed after a later
		 * one): a refill before its time opens nothing. */
		if (!w->stopping)
			backend_pools_refill(w);
		break;
	case RING_OP_WAKE:
		check_requests(w);
		if (!w->stopping) {
			backend_pools_refill(w);
			arm_wake(w);
		}
		break;
	case RING_OP_NONE:
	case RING_OP_COUNT:
		break;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	log_set_worker(w->id);
	/* A SINGLE_ISSUER ring belongs to the thread that creates it. */
	w->setup_ok = ring_setup(w, w->setup_error, sizeof(w->setup_error));
	if (w->setup_ok)
		publish(w); /* before "warmpool started": /status is whole from then on */
	sem_post(&w->setup_done);
	if (!w->setup_ok)
		return NULL;
	for (size_t i = 0; i < w->n_listeners; i++)
		listener_arm(&w->listeners[i]);
	arm_tick(w);
	arm_wake(w);
	backend_pools_prewarm(w);
	while (!w->stopping || w->n_conns > 0) {
		int res = io_uring_submit_and_wait(&w->ring, 1);
		if (res < 0 && res != -EINTR && res != -ETIME && res != -EBUSY) {
			log_error("io_uring_submit_and_wait failed", "error=\"%s\"", strerror(-res));
			break;
		}
		w->now_ms = worker_clock_ms();
		atomic_store_explicit(&w->heartbeat_ms, w->now_ms, memory_order_relaxed);
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&w->ring, head, cqe)
		{
			dispatch(w, cqe);
			seen++;
		}
		io_uring_cq_advance(&w->ring, seen);
		w->stats.ring_waits_total++;
		w->stats.ring_completions_total += seen;
		conn_submit_rearms(w);
	}
	io_uring_submit(&w->ring);
	publish(w); /* the final figures, for main's summary */
	atomic_store(&w->finished, true);
	return NULL;
}

bool worker_start(struct worker *w, char *why, size_t why_len)
{
	sem_init(&w->setup_done, 0, 0);
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		snprintf(why, why_len, "cannot start worker thread %d", w->id);
		return false;
	}
	w->started = true;
	sem_wait(&w->setup_done);
	if (!w->setup_ok)
		snprintf(why, why_len, "%s", w->setup_error);
	return w->setup_ok;
}

void worker_wake(struct worker *w)
{
	uint64_t one = 1;
	ssize_t unused = write(w->wake_fd, &one, sizeof(one));
	(void)unused;
}

void worker_request_stop(struct worker *w)
{
	atomic_store(&w->stop, true);
	worker_wake(w);
}

void worker_request_drain(struct worker *w)
{
	atomic_store(&w->drain, true);
	worker_wake(w);
}

void worker_request_park(struct worker *w)
{
	atomic_store(&w->park, true);
	worker_wake(w);
}

void worker_join(struct worker *w)
{
	if (w->started)
		pthread_join(w->thread, NULL);
	for (size_t i = 0; i < w->n_listeners; i++) {
		if (w->listeners[i].fd >= 0)
			close(w->listeners[i].fd);
	}
	for (size_t i = 0; i < w->n_pools; i++)
		backend_pool_free(w->pools[i]);
	xfree(w->pools);
	for (size_t i = 0; w->rr_current && i < w->n_listeners; i++)
		xfree(w->rr_current[i]);
	xfree(w->rr_current);
	xfree(w->listeners);
	/* The statistics stay for main's summary: worker_free_stats. */
	if (w->setup_ok) {
		bufring_cleanup(&w->bufs, &w->ring);
		io_uring_queue_exit(&w->ring);
	}
	kill_mailbox_cleanup(&w->kills);
	if (w->reserve_fd >= 0)
		close(w->reserve_fd);
}
