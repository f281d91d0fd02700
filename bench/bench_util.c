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
static double thread_wakeups(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0; /* the thread ended between the listing and now */
	char line[256];
	unsigned long n = 0;
	while (fgets(line, sizeof(line), f) && sscanf(line, "voluntary_ctxt_switches: %lu", &n) != 1)
		;
	fclose(f);
	return (double)n;
}

double bench_process_wakeups(int pid)
{
	char path[300];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return NAN;
	double sum = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", pid, e->d_name);
		sum += thread_wakeups(path);
	}
	closedir(d);
	return sum;
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
