/* proto_cloud_corpus_gen.c - every cloud-verb sample encoding as a seed file:
 * <dir>/<case>/seed-<i>. Run at build time for the fuzz_proto_cloud_* targets. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "proto_cloud_cases.h"

int
main(int argc, char **argv)
{
	char path[4096];

	if (argc != 2 || (mkdir(argv[1], 0755) != 0 && errno != EEXIST)) {
		fprintf(stderr, "usage: proto_cloud_corpus_gen DIR\n");
		return 2;
	}
	for (size_t i = 0; i < proto_cloud_ncases; i++) {
		snprintf(path, sizeof(path), "%s/%s", argv[1], proto_cloud_cases[i].name);
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return 1;
		for (int s = 0; s < proto_cloud_cases[i].nsamples; s++) {
			struct proto_wbuf w;
			FILE *f;

			if (proto_cloud_cases[i].sample(&w, s) != 0)
				return 1;
			snprintf(path, sizeof(path), "%s/%s/seed-%d", argv[1],
				 proto_cloud_cases[i].name, s);
			if ((f = fopen(path, "wb")) == NULL || fwrite(w.data, 1, w.len, f) != w.len)
				return 1;
			fclose(f);
			proto_wbuf_free(&w);
		}
	}
	return 0;
}
