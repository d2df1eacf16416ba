/*
 * test_log.c - the stderr sinks: JSON shape (parsed back with cJSON), the time format, level
 * filtering, text quoting, every field type, the journal auto-detection from $JOURNAL_STREAM.
 * stderr is captured by dup2'ing a pipe onto fd 2 around each emission.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cJSON.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

/* Runs fn with fd 2 redirected to a pipe; returns what was written (malloc'd). */
static char *
capture(void (*fn)(void))
{
	int p[2], saved = dup(2);
	static char buf[65536];
	ssize_t n, total = 0;

	assert_int_equal(pipe(p), 0);
	assert_true(saved >= 0);
	assert_int_equal(dup2(p[1], 2), 2);
	close(p[1]);
	fn();
	dup2(saved, 2);
	close(saved);
	while ((n = read(p[0], buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
		total += n;
	close(p[0]);
	buf[total] = '\0';
	return strdup(buf);
}

static void
setup_json(void)
{
	log_init("cloudd", LOG_FMT_JSON, LOG_LVL_INFO);
	log_set_journal(false);
	log_set_cluster_id("zzzzz");
}

static void
emit_all_types(void)
{
	setup_json();
	log_kv_err(LOG_LVL_WARN, "create failed", "quota \"exceeded\"",
		   LF_STR("ContainerUUID", "zzzzz-dz642-000000000000001"),
		   LF_INT("N", 9007199254740993LL), LF_DBL("Price", 0.25),
		   LF_BOOL("Preemptible", true), LF_STR("Empty", ""), LF_STR("Null", NULL));
}

static void
test_json_shape(void **state)
{
	(void)state;
	char *out = capture(emit_all_types);
	cJSON *o = cJSON_Parse(out), *it;
	const char *order[] = { "time",	       "level",		"msg",	"PID",
				"ClusterID",   "ContainerUUID", "N",	"Price",
				"Preemptible", "Empty",		"Null", "error" };
	int i = 0;

	assert_non_null(o);
	assert_int_equal(out[strlen(out) - 1], '\n');
	assert_non_null(strchr(out, '\n'));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1); /* exactly one line */
	cJSON_ArrayForEach(it, o)
	{
		assert_true(i < 12);
		assert_string_equal(it->string, order[i++]);
	}
	assert_int_equal(i, 12);
	assert_string_equal(cJSON_GetObjectItem(o, "level")->valuestring, "warn");
	assert_string_equal(cJSON_GetObjectItem(o, "msg")->valuestring, "create failed");
	assert_int_equal((int)cJSON_GetObjectItem(o, "PID")->valuedouble, (int)getpid());
	assert_string_equal(cJSON_GetObjectItem(o, "ClusterID")->valuestring, "zzzzz");
	assert_string_equal(cJSON_GetObjectItem(o, "error")->valuestring, "quota \"exceeded\"");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "Preemptible")));
	assert_true(cJSON_GetObjectItem(o, "Price")->valuedouble == 0.25);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "Null")));
	assert_string_equal(cJSON_GetObjectItem(o, "Empty")->valuestring, "");
	/* int64 beyond 2^53 is printed exactly, not rounded through a double */
	assert_non_null(strstr(out, "\"N\":9007199254740993"));
	cJSON_Delete(o);
	free(out);
}

static void
emit_one_info(void)
{
	setup_json();
	log_info("hello %d", 42);
}

static void
test_time_format(void **state)
{
	(void)state;
	char *out = capture(emit_one_info);
	cJSON *o = cJSON_Parse(out);
	regex_t re;

	assert_non_null(o);
	assert_int_equal(regcomp(&re,
				 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
				 "\\.[0-9]{9}Z$",
				 REG_EXTENDED | REG_NOSUB),
			 0);
	assert_int_equal(regexec(&re, cJSON_GetObjectItem(o, "time")->valuestring, 0, NULL, 0), 0);
	assert_string_equal(cJSON_GetObjectItem(o, "msg")->valuestring, "hello 42");
	regfree(&re);
	cJSON_Delete(o);
	free(out);
}

static void
emit_levels(void)
{
	setup_json();
	log_init("cloudd", LOG_FMT_JSON, LOG_LVL_WARN);
	log_debug("no-debug");
	log_info("no-info");
	log_warn("yes-warn");
	log_error("yes-error");
	log_kv(LOG_LVL_TRACE, "no-trace", LF_INT("x", 1));
	log_kv(LOG_LVL_FATAL, "yes-fatal", LF_INT("x", 1));
}

static void
test_level_filter(void **state)
{
	(void)state;
	char *out = capture(emit_levels);

	assert_null(strstr(out, "no-"));
	assert_non_null(strstr(out, "\"level\":\"warn\",\"msg\":\"yes-warn\""));
	assert_non_null(strstr(out, "\"level\":\"error\",\"msg\":\"yes-error\""));
	assert_non_null(strstr(out, "\"level\":\"fatal\",\"msg\":\"yes-fatal\""));
	log_init("t", LOG_FMT_JSON, LOG_LVL_WARN);
	assert_false(log_enabled(LOG_LVL_INFO));
	assert_true(log_enabled(LOG_LVL_ERROR));
	free(out);
}

static void
emit_text(void)
{
	log_init("sshd-pool", LOG_FMT_TEXT, LOG_LVL_TRACE);
	log_set_journal(false);
	log_set_cluster_id("zzzzz");
	log_kv_err(LOG_LVL_TRACE, "probe failed", "exit status 1", LF_STR("Instance", "i-123"),
		   LF_STR("stderr", "a \"b\"\nc\\d"), LF_STR("E", ""), LF_STR("eq", "k=v"),
		   LF_INT("N", -3), LF_DBL("D", 1.5), LF_BOOL("B", false));
}

static void
test_text_quoting(void **state)
{
	(void)state;
	char *out = capture(emit_text);
	regex_t re;

	assert_int_equal(regcomp(&re,
				 "^time=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{9}Z "
				 "level=trace msg=\"probe failed\" PID=[0-9]+ ClusterID=zzzzz ",
				 REG_EXTENDED | REG_NOSUB),
			 0);
	assert_int_equal(regexec(&re, out, 0, NULL, 0), 0);
	regfree(&re);
	assert_non_null(strstr(out, " Instance=i-123 stderr=\"a \\\"b\\\"\\nc\\\\d\" E=\"\" "
				    "eq=\"k=v\" N=-3 D=1.5 B=false error=\"exit status 1\"\n"));
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	free(out);
}

static void
test_parse(void **state)
{
	(void)state;
	assert_int_equal(log_level_parse("Trace"), LOG_LVL_TRACE);
	assert_int_equal(log_level_parse("info"), LOG_LVL_INFO);
	assert_int_equal(log_level_parse("warning"), LOG_LVL_WARN);
	assert_int_equal(log_level_parse("FATAL"), LOG_LVL_FATAL);
	assert_int_equal(log_level_parse("loud"), -1);
	assert_int_equal(log_level_parse(NULL), -1);
	assert_int_equal(log_format_parse("JSON"), LOG_FMT_JSON);
	assert_int_equal(log_format_parse("text"), LOG_FMT_TEXT);
	assert_int_equal(log_format_parse("xml"), -1);
}

static void
emit_big(void)
{
	static char big[200000];

	setup_json();
	memset(big, 'x', sizeof(big) - 1);
	log_kv(LOG_LVL_INFO, "big", LF_STR("stdout", big));
}

/* A line larger than the pipe buffer still arrives whole (written until done). */
static void
test_long_line(void **state)
{
	(void)state;
	int p[2], status;
	pid_t pid;
	char *buf = calloc(1, 300000);
	ssize_t n, total = 0;
	cJSON *o;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 2);
		close(p[0]);
		emit_big();
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], buf + total, 300000 - 1 - (size_t)total)) > 0)
		total += n;
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	o = cJSON_Parse(buf);
	assert_non_null(o);
	assert_int_equal(strlen(cJSON_GetObjectItem(o, "stdout")->valuestring), 199999);
	cJSON_Delete(o);
	free(buf);
}

static void
test_journal_stream_detection(void **state)
{
	(void)state;
	struct stat st;
	char v[64];

	assert_int_equal(fstat(2, &st), 0);
	unsetenv("JOURNAL_STREAM");
	log_init("t", LOG_FMT_JSON, LOG_LVL_INFO);
	assert_false(log_journal_enabled());
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
	log_init("t", LOG_FMT_JSON, LOG_LVL_INFO);
	assert_false(log_journal_enabled());
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	log_init("t", LOG_FMT_JSON, LOG_LVL_INFO);
	assert_true(log_journal_enabled());
	log_set_journal(false);
	assert_false(log_journal_enabled());
	unsetenv("JOURNAL_STREAM");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_level_filter),
		cmocka_unit_test(test_text_quoting),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_journal_stream_detection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
