/* metric: counters and fixed-bucket latency histograms, owned by one worker each. */
#ifndef WP_METRIC_H
#define WP_METRIC_H

#include <stddef.h>
#include <stdint.h>

/* Upper bounds of the buckets, in seconds: fine below 10 ms for handshakes
 * and queries, coarse up to 10 s for waits. The last bucket is +Inf. */
#define METRIC_HIST_BUCKETS 21
extern const double metric_hist_bounds[METRIC_HIST_BUCKETS - 1];

struct metric_hist {
	uint64_t buckets[METRIC_HIST_BUCKETS]; /* not cumulative */
	uint64_t count;
	double sum_seconds;
};

void metric_hist_observe(struct metric_hist *h, double seconds);
/* metric_hist_merge adds |from| into |into| (summing workers). */
void metric_hist_merge(struct metric_hist *into, const struct metric_hist *from);
/* metric_hist_quantile estimates the q-quantile (0..1) by linear
 * interpolation inside the bucket it falls in; 0 when empty. */
double metric_hist_quantile(const struct metric_hist *h, double q);

/* TLS handshakes of one worker towards one peer (backend or listener). */
struct metric_tls {
	uint64_t full;	   /* handshakes that did not resume */
	uint64_t resumed;  /* handshakes that resumed a session */
	uint64_t offered;  /* handshakes where a session was offered (client side) */
	uint64_t refused;  /* offered sessions the server did not accept */
	uint64_t failed;   /* handshakes that ended in an error */
	struct metric_hist full_seconds;
	struct metric_hist resumed_seconds;
};

void metric_tls_merge(struct metric_tls *into, const struct metric_tls *from);

#endif
