/* proto_corpus_gen.c - write every sample encoding as a seed file: <dir>/<case>/seed-<i>,
 * and the headers of all of them under <dir>/hdr/. Run at build time for the fuzz targets. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "proto_cases.h"

static int
write_file(const char *dir, const char *sub, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	if (fwrite(p, 1, n, f) != n) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

int
main(int argc, char **argv)
{
	if (argc != 2 || (mkdir(argv[1], 0755) != 0 && errno != EEXIST)) {
		fprintf(stderr, "usage: proto_corpus_gen DIR\n");
		return 2;
	}
	for (size_t i = 0; i < proto_ncases; i++) {
		for (int s = 0; s < proto_cases[i].nsamples; s++) {
			struct proto_wbuf w;
			char name[64];

			if (proto_cases[i].sample(&w, s) != 0)
				return 1;
			snprintf(name, sizeof(name), "seed-%d", s);
			if (write_file(argv[1], proto_cases[i].name, name, w.data, w.len) != 0)
				return 1;
			snprintf(name, sizeof(name), "%s-%d", proto_cases[i].name, s);
			if (write_file(argv[1], "hdr", name, w.data, w.len) != 0)
				return 1;
			proto_wbuf_free(&w);
		}
	}
	return 0;
}
