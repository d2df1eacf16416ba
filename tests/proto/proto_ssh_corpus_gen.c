/* proto_ssh_corpus_gen.c - every proto_ssh_cases sample as a seed file <dir>/<case>/seed-<i>
 * (as proto_corpus_gen.c does for proto_cases). Run at build time for the fuzz targets. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "proto_ssh_cases.h"

int
main(int argc, char **argv)
{
	char path[4096];

	if (argc != 2 || (mkdir(argv[1], 0755) != 0 && errno != EEXIST)) {
		fprintf(stderr, "usage: proto_ssh_corpus_gen DIR\n");
		return 2;
	}
	for (size_t i = 0; i < proto_ssh_ncases; i++) {
		snprintf(path, sizeof(path), "%s/%s", argv[1], proto_ssh_cases[i].name);
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return 1;
		for (int s = 0; s < proto_ssh_cases[i].nsamples; s++) {
			struct proto_wbuf w;
			FILE *f;

			if (proto_ssh_cases[i].sample(&w, s) != 0)
				return 1;
			snprintf(path, sizeof(path), "%s/%s/seed-%d", argv[1],
				 proto_ssh_cases[i].name, s);
			if ((f = fopen(path, "wb")) == NULL ||
			    fwrite(w.data, 1, w.len, f) != w.len || fclose(f) != 0)
				return 1;
			proto_wbuf_free(&w);
		}
	}
	return 0;
}
