/*
 * config_loopback.c - the one instance type the loopback driver runs on: this host.
 * VCPUs = online CPUs, RAM = MemTotal, IncludedScratch = size of the temp dir's filesystem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "config_internal.h"

static int64_t
loopback_memtotal(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	long long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : (int64_t)kb * 1024;
}

static int64_t
loopback_tmp_size(void)
{
	const char *dir = getenv("TMPDIR");
	struct statvfs st;

	if (!dir || !*dir)
		dir = "/tmp";
	if (statvfs(dir, &st) < 0)
		return -1;
	return (int64_t)st.f_blocks * (int64_t)st.f_frsize;
}

int
cfg_loopback_type(struct cfg_instance_type *t)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(t, 0, sizeof(*t));
	t->name = strdup("localhost");
	t->provider_type = strdup("localhost");
	t->gpu.driver_version = strdup("");
	t->gpu.hardware_target = strdup("");
	t->vcpus = ncpu > 0 ? ncpu : 1;
	t->ram = loopback_memtotal();
	t->included_scratch = loopback_tmp_size();
	t->scratch = t->included_scratch;
	t->price = 1.0;
	if (!t->name || !t->provider_type || !t->gpu.driver_version || !t->gpu.hardware_target ||
	    t->ram < 0 || t->included_scratch < 0) {
		cfg_itype_free(t);
		return -1;
	}
	return 0;
}
