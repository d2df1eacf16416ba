/* test_api_params.c - parameter encoding (spec 2.2) and exact-integer JSON parsing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api_json.h"
#include "api_params.h"

static char *
encode(struct api_params *p)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(api_params_encode(p, &out, &len), 0);
	assert_int_equal(len, strlen(out));
	return out;
}

static void
test_each_type(void **state)
{
	struct api_params *p = api_params_new();
	cJSON *filters =
		cJSON_Parse("[[\"uuid\",\"=\",\"zzzzz-dz642-x\"],[\"priority\",\">\",\"0\"]]");
	cJSON *obj = cJSON_Parse("{\"state\":\"Cancelled\"}");
	cJSON *null = cJSON_CreateNull(), *f = cJSON_CreateNumber(1.5);
	cJSON *big = api_json_new_int64(INT64_C(1152921504606846976) + 1);
	char *s;

	(void)state;
	assert_int_equal(api_params_add_str(p, "s", "a b&c=d/\xc3\xa9~_.-"), 0);
	assert_int_equal(api_params_add_int(p, "i", -42), 0);
	assert_int_equal(api_params_add_int(p, "max", INT64_MAX), 0);
	assert_int_equal(api_params_add_bool(p, "yes", true), 0);
	assert_int_equal(api_params_add_bool(p, "no", false), 0);
	assert_int_equal(api_params_add_str(p, "nothing", NULL), 0);
	assert_int_equal(api_params_add_json(p, "jnull", null), 0);
	assert_int_equal(api_params_add_json(p, "filters", filters), 0);
	assert_int_equal(api_params_add_json(p, "container", obj), 0);
	assert_int_equal(api_params_add_json(p, "f", f), 0);
	assert_int_equal(api_params_add_json(p, "big", big), 0);
	s = encode(p);
	/* Sorted by name, as Go's url.Values.Encode; false and nulls omitted. */
	assert_string_equal(s, "big=1152921504606846977"
			       "&container=%7B%22state%22%3A%22Cancelled%22%7D"
			       "&f=1.5"
			       "&filters=%5B%5B%22uuid%22%2C%22%3D%22%2C%22zzzzz-dz642-x%22%5D%2C"
			       "%5B%22priority%22%2C%22%5Cu003e%22%2C%220%22%5D%5D"
			       "&i=-42"
			       "&max=9223372036854775807"
			       "&s=a+b%26c%3Dd%2F%C3%A9~_.-"
			       "&yes=true");
	free(s);
	cJSON_Delete(filters);
	cJSON_Delete(obj);
	cJSON_Delete(null);
	cJSON_Delete(f);
	cJSON_Delete(big);
	api_params_free(p);
}

static void
test_go_escape(void **state)
{
	char *s;

	(void)state;
	s = api_json_go_escape(
		strdup("[[\"a\",\"<\",\"x&y>\"],\"\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xaa\"]"));
	assert_string_equal(
		s, "[[\"a\",\"\\u003c\",\"x\\u0026y\\u003e\"],\"\\u2028\\u2029\xe2\x80\xaa\"]");
	free(s);
	s = api_json_go_escape(strdup("{\"plain\":1}"));
	assert_string_equal(s, "{\"plain\":1}");
	free(s);
	assert_null(api_json_go_escape(NULL));
}

/* From 1e15 on, cJSON's %1.15g would print a 16-digit integer as "1.12410455240422e+15" (a
 * priority seen on the management API); api_json_new_int64 keeps its digits. */
static void
test_int64_16_digits(void **state)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	(void)state;
	cJSON_AddItemToObject(o, "p", api_json_new_int64(INT64_C(1124104552404220)));
	cJSON_AddItemToObject(o, "q", api_json_new_int64(INT64_C(999999999999999)));
	cJSON_AddItemToObject(o, "n", api_json_new_int64(-INT64_C(1000000000000000)));
	s = api_json_print(o);
	assert_string_equal(
		s, "{\"p\":1124104552404220,\"q\":999999999999999,\"n\":-1000000000000000}");
	free(s);
	cJSON_Delete(o);
}

static void
test_empty_and_repeat(void **state)
{
	struct api_params *p = api_params_new();
	char *s;

	(void)state;
	s = encode(p);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(api_params_add_str(p, "b", "2"), 0);
	assert_int_equal(api_params_add_str(p, "a", "z"), 0);
	assert_int_equal(api_params_add_str(p, "b", "1"), 0);
	assert_int_equal(api_params_add_str(p, "e", ""), 0);
	s = encode(p);
	/* A repeated name keeps its values in call order. */
	assert_string_equal(s, "a=z&b=2&b=1&e=");
	free(s);
	assert_int_equal(api_params_add_str(p, "", "x"), -EINVAL);
	assert_int_equal(api_params_add_int(p, NULL, 1), -EINVAL);
	api_params_free(p);
}

static void
test_add_object(void **state)
{
	cJSON *o = cJSON_Parse("{\"limit\":1000,\"count\":\"none\",\"order\":[\"uuid\"],"
			       "\"distinct\":false,\"bypass_federation\":true,\"where\":null}");
	struct api_params *p = api_params_new();
	char *s;

	(void)state;
	assert_int_equal(api_params_add_object(p, o), 0);
	s = encode(p);
	assert_string_equal(s,
			    "bypass_federation=true&count=none&limit=1000&order=%5B%22uuid%22%5D");
	free(s);
	assert_int_equal(api_params_add_object(p, cJSON_GetObjectItem(o, "order")), -EINVAL);
	cJSON_Delete(o);
	api_params_free(p);
}

static void
test_json_exact_ints(void **state)
{
	const char *t = "{\"priority\": 1152921504606846975, \"neg\": -9007199254740993,"
			" \"small\": 42, \"nested\": [{\"p\": 9223372036854775807}], \"f\": 1.5,"
			" \"s\": \"-123 4e5 \\\" 99\", \"too\": 99999999999999999999}  \n";
	cJSON *j = NULL;
	int64_t v;

	(void)state;
	assert_int_equal(api_json_parse(t, strlen(t), &j, NULL), 0);
	assert_int_equal(api_json_get_int64(j, "priority", &v), 0);
	assert_true(v == INT64_C(1152921504606846975));
	assert_int_equal(api_json_get_int64(j, "neg", &v), 0);
	assert_true(v == INT64_C(-9007199254740993));
	assert_int_equal(api_json_get_int64(j, "small", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(api_json_get_int64(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "nested"), 0),
					    "p", &v),
			 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(api_json_get_int64(j, "f", &v), -ERANGE);
	assert_int_equal(api_json_get_int64(j, "s", &v), -EINVAL);
	assert_int_equal(api_json_get_int64(j, "too", &v), -ERANGE);
	assert_int_equal(api_json_get_int64(j, "absent", &v), -ENOENT);
	/* A duplicate keeps the exact text too. */
	cJSON *d = cJSON_Duplicate(j, 1);
	assert_int_equal(api_json_get_int64(d, "priority", &v), 0);
	assert_true(v == INT64_C(1152921504606846975));
	cJSON_Delete(d);
	cJSON_Delete(j);
}

/* Integers beyond 2^53 inside arrays and objects keep every digit on the wire. */
static void
test_exact_ints_in_json_params(void **state)
{
	const char *t = "{\"p\":[\"priority\",\">\",1152921504606846977],\"x\":1.25}";
	cJSON *j = NULL, *arr = cJSON_CreateArray();
	struct api_params *p = api_params_new();
	char *s;

	(void)state;
	assert_int_equal(api_json_parse(t, strlen(t), &j, NULL), 0);
	cJSON_AddItemToArray(arr, api_json_new_int64(INT64_MIN));
	cJSON_AddItemToArray(arr, cJSON_CreateNumber(12345));
	assert_int_equal(api_params_add_object(p, j), 0);
	assert_int_equal(api_params_add_json(p, "a", arr), 0);
	s = encode(p);
	assert_string_equal(
		s, "a=%5B-9223372036854775808%2C12345%5D"
		   "&p=%5B%22priority%22%2C%22%5Cu003e%22%2C1152921504606846977%5D&x=1.25");
	free(s);
	s = api_json_print(j);
	assert_string_equal(s, "{\"p\":[\"priority\",\">\",1152921504606846977],\"x\":1.25}");
	free(s);
	cJSON_Delete(j);
	cJSON_Delete(arr);
	api_params_free(p);
}

static void
test_json_rejects(void **state)
{
	static const char *const bad[] = { "", "{", "{\"a\":1} x", "[1,2,", "nul", "{\"a\":01x}" };
	const char nul[] = "{\"a\":1}\0{}";
	cJSON *j = (cJSON *)1;
	size_t where;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(api_json_parse(bad[i], strlen(bad[i]), &j, &where), -EBADMSG);
		assert_null(j);
	}
	assert_int_equal(api_json_parse(nul, sizeof(nul) - 1, &j, &where), -EBADMSG);
	assert_int_equal(where, 7);
	/* Not NUL-terminated: only len bytes are read. */
	assert_int_equal(api_json_parse("[1]garbage", 3, &j, NULL), 0);
	assert_int_equal(cJSON_GetArraySize(j), 1);
	cJSON_Delete(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_type),
		cmocka_unit_test(test_go_escape),
		cmocka_unit_test(test_int64_16_digits),
		cmocka_unit_test(test_empty_and_repeat),
		cmocka_unit_test(test_add_object),
		cmocka_unit_test(test_json_exact_ints),
		cmocka_unit_test(test_exact_ints_in_json_params),
		cmocka_unit_test(test_json_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
