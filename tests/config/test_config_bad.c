/*
 * test_config_bad.c - every file tests/config/bad/NAME.yml must fail to load with an error at the
 * position and key path its first line announces:
 *     # expect-error: LINE:COLUMN KEY.PATH      ("-" as the key: a YAML syntax error)
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

struct bad_expect {
	int line, column;
	char key[256];
};

static int
bad_read_expect(const char *path, struct bad_expect *e)
{
	FILE *f = fopen(path, "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "# expect-error: %d:%d %255s", &e->line, &e->column, e->key);
	fclose(f);
	return n == 3 ? 0 : -1;
}

static bool
bad_matches(const struct cfg_diag *d, const struct bad_expect *e)
{
	bool key_ok = strcmp(e->key, "-") == 0 ? d->key_path == NULL
					       : d->key_path && strcmp(d->key_path, e->key) == 0;
	return d->is_error && key_ok && d->line == e->line && d->column == e->column;
}

/* true when path fails as announced; otherwise says why on stderr. */
static bool
bad_check_one(const char *path)
{
	struct bad_expect e;
	struct cfg_diags d = { 0 };
	struct cfg_cluster *c;
	bool found = false;

	if (bad_read_expect(path, &e) < 0) {
		fprintf(stderr, "%s: no expect-error line\n", path);
		return false;
	}
	c = cfg_load(path, &d);
	for (size_t i = 0; i < d.n; i++)
		found |= bad_matches(&d.v[i], &e);
	if (c || !found) {
		fprintf(stderr, "%s: expected error at %d:%d %s; got:\n", path, e.line, e.column,
			e.key);
		for (size_t i = 0; i < d.n; i++) {
			char *s = cfg_diag_format(&d.v[i]);
			fprintf(stderr, "  %s\n", s);
			free(s);
		}
	}
	found = found && !c && d.nerrors > 0;
	cfg_free(c);
	cfg_diags_free(&d);
	return found;
}

static void
test_bad_files(void **state)
{
	char path[1024];
	struct dirent *de;
	DIR *dir = opendir(CFG_TEST_DIR "/bad");
	int n = 0, failed = 0;

	(void)state;
	assert_non_null(dir);
	while ((de = readdir(dir))) {
		size_t len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".yml"))
			continue;
		snprintf(path, sizeof(path), "%s/bad/%s", CFG_TEST_DIR, de->d_name);
		failed += !bad_check_one(path);
		n++;
	}
	closedir(dir);
	assert_int_equal(failed, 0);
	assert_true(n >= 30);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
