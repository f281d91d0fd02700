/* metric: histogram arithmetic. */
#include "metric.h"

const double metric_hist_bounds[METRIC_HIST_BUCKETS - 1] = {
	0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003,
	0.005,	0.0075,	 0.01,	 0.025,	  0.05,	 0.1,	 0.25,	0.5,
	1.0,	2.5,	 5.0,	 10.0,
};

void metric_hist_observe(struct metric_hist *h, double seconds)
{
	size_t i = 0;
	while (i < METRIC_HIST_BUCKETS - 1 && seconds > metric_hist_bounds[i])
		i++;
	h->buckets[i]++;
	h->count++;
	h->sum_seconds += seconds;
}

void metric_hist_merge(struct metric_hist *into, const struct metric_hist *from)
{
	for (size_t i = 0; i < METRIC_HIST_BUCKETS; i++)
		into->buckets[i] += from->buckets[i];
	into->count += from->count;
	into->sum_seconds += from->sum_seconds;
}

double metric_hist_quantile(const struct metric_hist *h, double q)
{
	if (h->count == 0)
		return 0;
	double rank = q * (double)h->count;
	uint64_t seen = 0;
	for (size_t i = 0; i < METRIC_HIST_BUCKETS; i++) {
		if (h->buckets[i] == 0 || (double)(seen + h->buckets[i]) < rank) {
			seen += h->buckets[i];
			continue;
		}
		double lo = i == 0 ? 0 : metric_hist_bounds[i - 1];
		double hi = i < METRIC_HIST_BUCKETS - 1 ? metric_hist_bounds[i] : lo * 2;
		double within = (rank - (double)seen) / (double)h->buckets[i];
		return lo + (hi - lo) * within;
	}
	return metric_hist_bounds[METRIC_HIST_BUCKETS - 2];
}

void metric_tls_merge(struct metric_tls *into, const struct metric_tls *from)
{
	into->full += from->full;
	into->resumed += from->resumed;
	into->offered += from->offered;
	into->refused += from->refused;
	into->failed += from->failed;
	metric_hist_merge(&into->full_seconds, &from->full_seconds);
	metric_hist_merge(&into->resumed_seconds, &from->resumed_seconds);
}
