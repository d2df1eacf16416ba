/* test_metrics.c - the registry and its two renderings, without a server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "metrics_catalog.h"

static char *
render(struct metrics_registry *r)
{
	char *t = NULL;
	size_t len = 0;
	assert_int_equal(metrics_render_text(r, &t, &len), 0);
	assert_int_equal(strlen(t), len);
	return t;
}

static void
test_escaping_and_sorting(void **state)
{
	(void)state;
	struct metrics_registry *r = metrics_new();
	const char *lb[] = { "instance", "state" };
	struct metric_family *g = metrics_register(r, METRIC_GAUGE, "zz_gauge",
						   "help with \\ and\nnewline", 2, lb);
	struct metric_family *c = metrics_register(r, METRIC_COUNTER, "aa_counter", "a counter", 0,
						   NULL);
	assert_non_null(g);
	assert_non_null(c);
	const char *v1[] = { "b\"q\\x\ny", "idle" }, *v2[] = { "a", "running" };
	assert_int_equal(metrics_set(g, v1, 2.5), 0);
	assert_int_equal(metrics_set(g, v2, 1e21), 0);
	assert_int_equal(metrics_add(c, NULL, 3), 0);
	char *t = render(r);
	const char *want = "# HELP aa_counter a counter\n"
			   "# TYPE aa_counter counter\n"
			   "aa_counter 3\n"
			   "# HELP zz_gauge help with \\\\ and\\nnewline\n"
			   "# TYPE zz_gauge gauge\n"
			   "zz_gauge{instance=\"a\",state=\"running\"} 1e+21\n"
			   "zz_gauge{instance=\"b\\\"q\\\\x\\ny\",state=\"idle\"} 2.5\n";
	assert_string_equal(t, want);
	free(t);
	metrics_free(r);
}

static void
test_rules(void **state)
{
	(void)state;
	struct metrics_registry *r = metrics_new();
	const char *bad[] = { "__x" }, *dup[] = { "a", "a" }, *q[] = { "quantile" },
		   *ok[] = { "a" };
	assert_null(metrics_register(r, METRIC_GAUGE, "9starts_with_digit", "", 0, NULL));
	assert_null(metrics_register(r, METRIC_GAUGE, "has-dash", "", 0, NULL));
	assert_null(metrics_register(r, METRIC_GAUGE, "x", "", 1, bad));
	assert_null(metrics_register(r, METRIC_GAUGE, "x", "", 2, dup));
	assert_null(metrics_register(r, METRIC_SUMMARY, "x", "", 1, q));
	struct metric_family *f = metrics_register(r, METRIC_COUNTER, "x", "", 1, ok);
	assert_non_null(f);
	/* Same shape again: the same family; another shape: EEXIST. */
	assert_ptr_equal(metrics_register(r, METRIC_COUNTER, "x", "", 1, ok), f);
	errno = 0;
	assert_null(metrics_register(r, METRIC_GAUGE, "x", "", 1, ok));
	assert_int_equal(errno, EEXIST);
	const char *v[] = { "1" };
	assert_int_equal(metrics_add(f, v, -1), -EINVAL); /* counters never go down */
	assert_int_equal(metrics_add(f, v, NAN), -EINVAL);
	assert_int_equal(metrics_set(f, v, 1), -EINVAL);    /* set is for gauges */
	assert_int_equal(metrics_add(f, NULL, 1), -EINVAL); /* label values required */
	assert_int_equal(metrics_add(f, v, 2), 0);
	assert_true(metrics_value(f, v) == 2);
	metrics_free(r);
}

static void
test_format_double(void **state)
{
	(void)state;
	char b[40];
	metrics_format_double(0, b, sizeof(b));
	assert_string_equal(b, "0");
	metrics_format_double(0.1, b, sizeof(b));
	assert_string_equal(b, "0.1");
	metrics_format_double(1.0 / 3, b, sizeof(b));
	assert_true(strtod(b, NULL) == 1.0 / 3);
	metrics_format_double(INFINITY, b, sizeof(b));
	assert_string_equal(b, "+Inf");
	metrics_format_double(-INFINITY, b, sizeof(b));
	assert_string_equal(b, "-Inf");
	metrics_format_double(NAN, b, sizeof(b));
	assert_string_equal(b, "NaN");
	metrics_format_double(1234567, b, sizeof(b));
	assert_string_equal(b, "1234567");
}

static void
test_summary(void **state)
{
	(void)state;
	struct metrics_registry *r = metrics_new();
	struct metric_family *s = metrics_register(r, METRIC_SUMMARY, "s_seconds", "s", 0, NULL);
	assert_int_equal(metrics_touch(s, NULL), 0);
	char *t = render(r);
	assert_non_null(strstr(t, "s_seconds{quantile=\"0.5\"} NaN\n"));
	assert_non_null(strstr(t, "s_seconds_count 0\n"));
	free(t);
	for (int i = 1; i <= 100; i++)
		assert_int_equal(metrics_observe(s, NULL, i), 0);
	t = render(r);
	assert_non_null(strstr(t, "s_seconds{quantile=\"0.5\"} 50\n"));
	assert_non_null(strstr(t, "s_seconds{quantile=\"0.9\"} 90\n"));
	assert_non_null(strstr(t, "s_seconds{quantile=\"0.99\"} 99\n"));
	assert_non_null(strstr(t, "s_seconds_sum 5050\n"));
	assert_non_null(strstr(t, "s_seconds_count 100\n"));
	free(t);
	metrics_free(r);
}

static void
test_zero_all_and_clear(void **state)
{
	(void)state;
	struct metrics_registry *r = metrics_new();
	const char *lb[] = { "instance" };
	struct metric_family *g = metrics_register(r, METRIC_GAUGE, "g", "g", 1, lb);
	const char *a[] = { "a" }, *b[] = { "b" };
	metrics_set(g, a, 4);
	metrics_set(g, b, 5);
	assert_int_equal(metrics_zero_all(g), 0);
	assert_true(metrics_value(g, a) == 0 && metrics_value(g, b) == 0);
	assert_int_equal(metrics_family_series(g), 2);
	metrics_clear(g);
	assert_int_equal(metrics_family_series(g), 0);
	assert_true(isnan(metrics_value(g, a)));
	char *t = render(r);
	assert_string_equal(t, ""); /* a family without series is not rendered */
	free(t);
	metrics_free(r);
}

static void
test_catalog(void **state)
{
	(void)state;
	struct metrics_registry *r = metrics_new();
	const char *types[] = { "m5large", "t3small" };
	struct metrics_catalog_init in = { .version = "0.1.0",
					   .config_sha256 = "abc",
					   .config_source_time = 1,
					   .config_load_time = 2,
					   .instance_types = types,
					   .n_instance_types = 2,
					   .max_concurrent_requests = 64,
					   .max_queued_requests = 128,
					   .max_gateway_tunnels = 1000,
					   .ec2 = true,
					   .process = true };
	assert_int_equal(metrics_catalog_register(r, &in), 0);
	char *t = render(r);
	static const char *const must[] = {
		"# TYPE arvados_dispatchcloud_containers_running "
		"gauge\narvados_dispatchcloud_containers_running 0\n",
		"arvados_dispatchcloud_driver_operations{operation=\"SetTags\",error=\"1\"} 0\n",
		"arvados_dispatchcloud_boot_outcomes{outcome=\"disappeared\"} 0\n",
		"arvados_dispatchcloud_instances_disappeared{state=\"shutdown\"} 0\n",
		"arvados_dispatchcloud_instances_total{category=\"hold\",instance_type=\"t3small\"}"
		" 0\n",
		"# TYPE arvados_dispatchcloud_instances_time_to_ssh_seconds summary\n",
		"arvados_dispatchcloud_at_quota 0\n",
		"arvados_version_running{version=\"0.1.0\"} 1\n",
		"arvados_config_load_timestamp_seconds{sha256=\"abc\"} 2\n",
		"arvados_max_concurrent_requests{queue=\"api\"} 64\n",
		"arvados_queued_requests{queue=\"tunnel\",priority=\"high\"} 0\n",
		"# TYPE process_cpu_seconds_total counter\n",
		"process_max_fds ",
	};
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		if (!strstr(t, must[i]))
			fail_msg("missing from /metrics: %s", must[i]);
	}
	/* All 8 driver_operations series exist. */
	assert_int_equal(
		metrics_family_series(metrics_find(r, "arvados_dispatchcloud_driver_operations")),
		8);
	/* process_open_fds is read at scrape time, so it is positive. */
	assert_true(metrics_value(metrics_find(r, "process_open_fds"), NULL) > 0);
	free(t);
	/* Registering twice is a no-op, not an error. */
	assert_int_equal(metrics_catalog_register(r, &in), 0);
	char *t2 = render(r);
	assert_non_null(strstr(t2, "arvados_dispatchcloud_containers_running 0\n"));
	free(t2);
	metrics_free(r);
}

static void
test_json(void **state)
{
	(void)state;
	struct metrics_registry *r = metrics_new();
	const char *lb[] = { "k" }, *v[] = { "x" };
	metrics_set(metrics_register(r, METRIC_GAUGE, "g", "gh", 1, lb), v, 7);
	metrics_touch(metrics_register(r, METRIC_SUMMARY, "s", "sh", 0, NULL), NULL);
	cJSON *a = metrics_render_json(r);
	char *s = cJSON_PrintUnformatted(a);
	assert_string_equal(s,
			    "[{\"name\":\"g\",\"help\":\"gh\",\"type\":\"GAUGE\",\"metric\":[{"
			    "\"label\":[{\"name\":\"k\","
			    "\"value\":\"x\"}],\"gauge\":{\"value\":7}}]},{\"name\":\"s\",\"help\":"
			    "\"sh\",\"type\":"
			    "\"SUMMARY\",\"metric\":[{\"summary\":{\"sampleCount\":\"0\","
			    "\"sampleSum\":0,\"quantile\":"
			    "[{\"quantile\":0.5,\"value\":\"NaN\"},{\"quantile\":0.9,\"value\":"
			    "\"NaN\"},{\"quantile\":"
			    "0.95,\"value\":\"NaN\"},{\"quantile\":0.99,\"value\":\"NaN\"}]}}]}]");
	cJSON_free(s);
	cJSON_Delete(a);
	metrics_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping_and_sorting),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_format_double),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_zero_all_and_clear),
		cmocka_unit_test(test_catalog),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
