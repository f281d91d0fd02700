/* bench_util: /proc readings and quantiles. */
#include "bench_util.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* process_cpu reads utime + stime of |pid| (all its threads), in seconds. */
double bench_process_cpu(int pid)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return NAN;
	size_t n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = '\0';
	const char *p = strrchr(line, ')');
	unsigned long utime = 0, stime = 0;
	/* After "pid (comm)": state, then fields 4..13, then utime and stime. */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
			 &stime) != 2)
		return NAN;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* thread_wakeups reads voluntary_ctxt_switches from one status file. */
static bool thread_wakeups(const char *path, unsigned long *out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false; /* the thread ended between the listing and now */
	char line[256];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "voluntary_ctxt_switches: %lu", out) == 1;
	fclose(f);
	return found;
}

static bool wakeups_add(struct bench_wakeups *w, size_t *cap, int tid, unsigned long count)
{
	if (w->n == *cap) {
		size_t grown = *cap ? *cap * 2 : 64;
		int *tid_grown = realloc(w->tid, grown * sizeof(*w->tid));
		if (tid_grown)
			w->tid = tid_grown;
		unsigned long *count_grown = realloc(w->count, grown * sizeof(*w->count));
		if (count_grown)
			w->count = count_grown;
		if (!tid_grown || !count_grown)
			return false;
		*cap = grown;
	}
	w->tid[w->n] = tid;
	w->count[w->n] = count;
	w->n++;
	return true;
}

bool bench_wakeups_read(struct bench_wakeups *out, int pid)
{
	*out = (struct bench_wakeups){0};
	char path[300];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return false;
	size_t cap = 0;
	bool ok = true;
	struct dirent *e;
	while (ok && (e = readdir(d))) {
		unsigned long count;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", pid, e->d_name);
		if (thread_wakeups(path, &count))
			ok = wakeups_add(out, &cap, atoi(e->d_name), count);
	}
	closedir(d);
	return ok;
}

double bench_wakeups_since(const struct bench_wakeups *before, int pid)
{
	struct bench_wakeups now;
	double sum = NAN;
	if (bench_wakeups_read(&now, pid)) {
		sum = 0;
		for (size_t i = 0; i < now.n; i++) {
			unsigned long then = 0;
			for (size_t j = 0; j < before->n; j++)
				if (before->tid[j] == now.tid[i])
					then = before->count[j];
			/* A recycled id of a thread that ended reads lower: from zero. */
			sum += (double)(now.count[i] >= then ? now.count[i] - then : now.count[i]);
		}
	}
	bench_wakeups_cleanup(&now);
	return sum;
}

void bench_wakeups_cleanup(struct bench_wakeups *w)
{
	free(w->tid);
	free(w->count);
	*w = (struct bench_wakeups){0};
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_quantile(double *v, size_t n, double q)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i];
}

double bench_process_rss(int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/statm", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return NAN;
	unsigned long size, resident;
	int n = fscanf(f, "%lu %lu", &size, &resident);
	fclose(f);
	return n == 2 ? (double)resident * (double)sysconf(_SC_PAGESIZE) : NAN;
}

const char *bench_json_number(double v, char *buf, size_t len)
{
	if (isnan(v))
		return "null";
	snprintf(buf, len, "%.2f", v);
	return buf;
}
