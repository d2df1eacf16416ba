/*
 * metrics_process.c - the standard process_* metrics (the names the Go and Python clients'
 * process collectors use), read from /proc/self at scrape time. The reference registers no
 * process collector; these are an addition (docs/MANAGEMENT_API.md), harmless to dashboards.
 */
#include "metrics_catalog.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const struct {
	enum metric_type type;
	const char *name, *help;
} proc_fams[] = {
	{ METRIC_COUNTER, "process_cpu_seconds_total",
	  "Total user and system CPU time spent in seconds." },
	{ METRIC_GAUGE, "process_resident_memory_bytes", "Resident memory size in bytes." },
	{ METRIC_GAUGE, "process_virtual_memory_bytes", "Virtual memory size in bytes." },
	{ METRIC_GAUGE, "process_open_fds", "Number of open file descriptors." },
	{ METRIC_GAUGE, "process_max_fds", "Maximum number of open file descriptors." },
	{ METRIC_GAUGE, "process_start_time_seconds",
	  "Start time of the process since unix epoch in seconds." },
};

static double
boot_time(void)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[256];
	double bt = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lf", &bt) == 1)
			break;
	if (f)
		fclose(f);
	return bt;
}

/* utime, stime, starttime (clock ticks), vsize (bytes), rss (pages) from /proc/self/stat. */
static int
read_stat(unsigned long long *ut, unsigned long long *st, unsigned long long *start,
	  unsigned long long *vsize, long long *rss)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "re");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* The command name may hold spaces and parentheses: fields start after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	int got = sscanf(
		p + 2,
		"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
		"%llu %llu %lld",
		ut, st, start, vsize, rss);
	return got == 5 ? 0 : -EINVAL;
}

static double
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	double n = 0;
	if (!d)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n > 3 ? n - 3 : 0; /* ".", ".." and the directory's own fd */
}

static void
process_collect(void *ctx, struct metrics_registry *r)
{
	(void)ctx;
	unsigned long long ut, st, start, vsize;
	long long rss;
	double tck = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
	struct rlimit rl;
	if (read_stat(&ut, &st, &start, &vsize, &rss) == 0) {
		struct metric_family *cpu = metrics_find(r, "process_cpu_seconds_total");
		double now = (double)(ut + st) / tck, was = metrics_value(cpu, NULL);
		if (now > was)
			metrics_add(cpu, NULL, now - was);
		metrics_set(metrics_find(r, "process_resident_memory_bytes"), NULL,
			    (double)rss * page);
		metrics_set(metrics_find(r, "process_virtual_memory_bytes"), NULL, (double)vsize);
		metrics_set(metrics_find(r, "process_start_time_seconds"), NULL,
			    boot_time() + (double)start / tck);
	}
	metrics_set(metrics_find(r, "process_open_fds"), NULL, open_fds());
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		metrics_set(metrics_find(r, "process_max_fds"), NULL,
			    rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur);
}

int
metrics_process_register(struct metrics_registry *r)
{
	for (size_t i = 0; i < sizeof(proc_fams) / sizeof(proc_fams[0]); i++) {
		struct metric_family *f = metrics_register(r, proc_fams[i].type, proc_fams[i].name,
							   proc_fams[i].help, 0, NULL);
		if (!f)
			return -errno;
		if (metrics_touch(f, NULL) < 0)
			return -ENOMEM;
	}
	return metrics_on_collect(r, process_collect, NULL);
}
