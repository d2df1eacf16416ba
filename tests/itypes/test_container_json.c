/* test_container_json.c - parsing the container record (fields, defaults, type errors). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "itypes_fixture.h"

/* Parse text into r; returns ctres_parse's code, error text in err. */
static int
parse(const char *text, struct ctres *r, char *err, size_t errlen, cJSON **tree)
{
	*tree = cJSON_Parse(text);
	assert_non_null(*tree);
	err[0] = '\0';
	return ctres_parse(*tree, r, err, errlen);
}

static void
test_full_record(void **state)
{
	const char *text =
		"{\"uuid\":\"zzzzz-dz642-000000000000001\",\"state\":\"Queued\","
		"\"container_image\":\"d5025c0f29f6eef304a7358afa82a822+342\","
		"\"runtime_constraints\":{\"API\":true,\"ram\":1073741824,\"vcpus\":4,"
		"\"keep_cache_ram\":5,\"keep_cache_disk\":6,"
		"\"gpu\":{\"stack\":\"cuda\",\"driver_version\":\"11.0\","
		"\"hardware_target\":[\"8.0\",\"9.0\"],\"device_count\":2,\"vram\":2000000000}},"
		"\"scheduling_parameters\":{\"preemptible\":true,\"partitions\":[]},"
		"\"mounts\":{\"/tmp\":{\"kind\":\"tmp\",\"capacity\":1000},"
		"\"/var/spool/cwl\":{\"kind\":\"tmp\",\"capacity\":24},"
		"\"/keep\":{\"kind\":\"collection\",\"capacity\":999999},"
		"\"stdout\":{\"kind\":\"file\",\"path\":\"/x\"}}}";
	struct ctres r;
	char err[256];
	cJSON *tree;

	(void)state;
	assert_int_equal(parse(text, &r, err, sizeof(err), &tree), 0);
	assert_int_equal(r.ram, 1073741824);
	assert_int_equal(r.vcpus, 4);
	assert_int_equal(r.keep_cache_ram, 5);
	assert_int_equal(r.keep_cache_disk, 6);
	assert_string_equal(r.container_image, "d5025c0f29f6eef304a7358afa82a822+342");
	assert_string_equal(r.gpu.stack, "cuda");
	assert_string_equal(r.gpu.driver_version, "11.0");
	assert_int_equal(r.gpu.n_hardware_target, 2);
	assert_string_equal(r.gpu.hardware_target[0], "8.0");
	assert_string_equal(r.gpu.hardware_target[1], "9.0");
	assert_int_equal(r.gpu.device_count, 2);
	assert_int_equal(r.gpu.vram, 2000000000);
	assert_true(r.preemptible);
	/* Only tmp mounts count. */
	assert_int_equal(r.tmp_capacity, 1024);
	assert_false(r.tmp_overflow);
	ctres_release(&r);
	cJSON_Delete(tree);
}

/* Missing objects, missing fields and nulls all give Go's zero values. */
static void
test_defaults(void **state)
{
	static const char *texts[] = {
		"{}",
		"{\"runtime_constraints\":null,\"scheduling_parameters\":null,\"mounts\":null,"
		"\"container_image\":null}",
		"{\"runtime_constraints\":{\"ram\":null,\"gpu\":null},"
		"\"scheduling_parameters\":{\"preemptible\":null},\"mounts\":{}}",
		"{\"runtime_constraints\":{\"gpu\":{\"stack\":null,\"hardware_target\":null,"
		"\"device_count\":null}},\"mounts\":{\"/a\":null,\"/b\":{}}}",
	};
	struct ctres r;
	char err[256];
	cJSON *tree;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		assert_int_equal(parse(texts[i], &r, err, sizeof(err), &tree), 0);
		assert_int_equal(r.ram, 0);
		assert_int_equal(r.vcpus, 0);
		assert_int_equal(r.keep_cache_ram, 0);
		assert_int_equal(r.keep_cache_disk, 0);
		assert_string_equal(r.gpu.stack, "");
		assert_string_equal(r.gpu.driver_version, "");
		assert_int_equal(r.gpu.n_hardware_target, 0);
		assert_null(r.gpu.hardware_target);
		assert_int_equal(r.gpu.device_count, 0);
		assert_string_equal(r.container_image, "");
		assert_false(r.preemptible);
		assert_int_equal(r.tmp_capacity, 0);
		ctres_release(&r);
		cJSON_Delete(tree);
	}
}

/* A null hardware_target element is "" (Go leaves the string zero). */
static void
test_null_target_element(void **state)
{
	struct ctres r;
	char err[256];
	cJSON *tree;

	(void)state;
	assert_int_equal(
		parse("{\"runtime_constraints\":{\"gpu\":{\"hardware_target\":[\"gfx1100\","
		      "null]}}}",
		      &r, err, sizeof(err), &tree),
		0);
	assert_int_equal(r.gpu.n_hardware_target, 2);
	assert_string_equal(r.gpu.hardware_target[1], "");
	ctres_release(&r);
	ctres_release(&r); /* idempotent */
	cJSON_Delete(tree);
}

/* Every field of the wrong type fails, and the message names it. */
static void
test_type_errors(void **state)
{
	static const struct {
		const char *text;
		int code;
		const char *msg;
	} cases[] = {
		{ "[]", CTRES_EFIELD,
		  "json: cannot unmarshal array into Go value of type arvados.Container" },
		{ "{\"container_image\":5}", CTRES_EFIELD,
		  "json: cannot unmarshal number into Go struct field Container.container_image of "
		  "type string" },
		{ "{\"runtime_constraints\":[]}", CTRES_EFIELD,
		  "json: cannot unmarshal array into Go struct field Container.runtime_constraints "
		  "of type arvados.RuntimeConstraints" },
		{ "{\"runtime_constraints\":{\"ram\":\"1GiB\"}}", CTRES_EFIELD,
		  "json: cannot unmarshal string into Go struct field "
		  "RuntimeConstraints.runtime_constraints.ram of type int64" },
		{ "{\"runtime_constraints\":{\"vcpus\":1.5}}", CTRES_EFIELD,
		  "json: cannot unmarshal number 1.5 into Go struct field "
		  "RuntimeConstraints.runtime_constraints.vcpus of type int" },
		{ "{\"runtime_constraints\":{\"keep_cache_ram\":true}}", CTRES_EFIELD,
		  "json: cannot unmarshal bool into Go struct field "
		  "RuntimeConstraints.runtime_constraints.keep_cache_ram of type int64" },
		{ "{\"runtime_constraints\":{\"keep_cache_disk\":1e19}}", CTRES_EFIELD,
		  "json: cannot unmarshal number 1e+19 into Go struct field "
		  "RuntimeConstraints.runtime_constraints.keep_cache_disk of type int64" },
		{ "{\"runtime_constraints\":{\"gpu\":\"cuda\"}}", CTRES_EFIELD,
		  "json: cannot unmarshal string into Go struct field "
		  "RuntimeConstraints.runtime_constraints.gpu of type "
		  "arvados.GPURuntimeConstraints" },
		{ "{\"runtime_constraints\":{\"gpu\":{\"stack\":1}}}", CTRES_EFIELD,
		  "json: cannot unmarshal number into Go struct field "
		  "GPURuntimeConstraints.runtime_constraints.gpu.stack of type string" },
		{ "{\"runtime_constraints\":{\"gpu\":{\"driver_version\":11.0}}}", CTRES_EFIELD,
		  "json: cannot unmarshal number into Go struct field "
		  "GPURuntimeConstraints.runtime_constraints.gpu.driver_version of type string" },
		{ "{\"runtime_constraints\":{\"gpu\":{\"hardware_target\":\"9.0\"}}}", CTRES_EFIELD,
		  "json: cannot unmarshal string into Go struct field "
		  "GPURuntimeConstraints.runtime_constraints.gpu.hardware_target of type "
		  "[]string" },
		{ "{\"runtime_constraints\":{\"gpu\":{\"hardware_target\":[9.0]}}}", CTRES_EFIELD,
		  "json: cannot unmarshal number into Go struct field "
		  "GPURuntimeConstraints.runtime_constraints.gpu.hardware_target of type string" },
		{ "{\"runtime_constraints\":{\"gpu\":{\"device_count\":\"1\"}}}", CTRES_EFIELD,
		  "json: cannot unmarshal string into Go struct field "
		  "GPURuntimeConstraints.runtime_constraints.gpu.device_count of type int" },
		{ "{\"runtime_constraints\":{\"gpu\":{\"vram\":{}}}}", CTRES_EFIELD,
		  "json: cannot unmarshal object into Go struct field "
		  "GPURuntimeConstraints.runtime_constraints.gpu.vram of type int64" },
		{ "{\"scheduling_parameters\":true}", CTRES_EFIELD,
		  "json: cannot unmarshal bool into Go struct field "
		  "Container.scheduling_parameters of type arvados.SchedulingParameters" },
		{ "{\"scheduling_parameters\":{\"preemptible\":1}}", CTRES_EFIELD,
		  "json: cannot unmarshal number into Go struct field "
		  "SchedulingParameters.scheduling_parameters.preemptible of type bool" },
		/* The mounts errors: these become "error getting mounts from container record: ..." */
		{ "{\"mounts\":{\"/tmp\":\"tmp\"}}", CTRES_EMOUNTS,
		  "json: cannot unmarshal string into Go struct field Container.mounts./tmp of "
		  "type arvados.Mount" },
		{ "{\"mounts\":{\"/tmp\":{\"kind\":\"tmp\"},\"/x\":[1]}}", CTRES_EMOUNTS,
		  "json: cannot unmarshal array into Go struct field Container.mounts./x of type "
		  "arvados.Mount" },
		{ "{\"mounts\":[]}", CTRES_EMOUNTS,
		  "json: cannot unmarshal array into Go struct field Container.mounts of type "
		  "map[string]arvados.Mount" },
		{ "{\"mounts\":{\"/tmp\":{\"kind\":\"tmp\",\"capacity\":\"1GiB\"}}}", CTRES_EMOUNTS,
		  "json: cannot unmarshal string into Go struct field Mount.mounts./tmp.capacity "
		  "of type int64" },
		{ "{\"mounts\":{\"/tmp\":{\"kind\":7}}}", CTRES_EMOUNTS,
		  "json: cannot unmarshal number into Go struct field Mount.mounts./tmp.kind of "
		  "type string" },
	};
	struct ctres r;
	char err[512];
	cJSON *tree;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].text, &r, err, sizeof(err), &tree);

		if (rc != cases[i].code || strcmp(err, cases[i].msg) != 0)
			fail_msg("%s: got %d \"%s\", want %d \"%s\"", cases[i].text, rc, err,
				 cases[i].code, cases[i].msg);
		/* Nothing to release after a failure: the array was freed and r reset. */
		assert_null(r.gpu.hardware_target);
		cJSON_Delete(tree);
	}
}

/* The error after a hardware_target array was allocated does not leak it (ASan checks). */
static void
test_error_after_targets(void **state)
{
	struct ctres r;
	char err[256];
	cJSON *tree;

	(void)state;
	assert_int_equal(parse("{\"runtime_constraints\":{\"gpu\":{\"hardware_target\":[\"a\"]}},"
			       "\"mounts\":{\"/tmp\":5}}",
			       &r, err, sizeof(err), &tree),
			 CTRES_EMOUNTS);
	assert_null(r.gpu.hardware_target);
	cJSON_Delete(tree);
	/* A NULL or short error buffer is allowed. */
	tree = cJSON_Parse("{\"runtime_constraints\":{\"ram\":\"x\"}}");
	assert_int_equal(ctres_parse(tree, &r, NULL, 0), CTRES_EFIELD);
	assert_int_equal(ctres_parse(tree, &r, err, 5), CTRES_EFIELD);
	assert_string_equal(err, "json");
	cJSON_Delete(tree);
}

/* Mounts fetched separately (select=["mounts"]) replace the tmp total. */
static void
test_parse_mounts(void **state)
{
	struct ctres r = fx_ctr(1, 1);
	char err[256];
	cJSON *m;

	(void)state;
	r.tmp_capacity = 999;
	m = cJSON_Parse(
		"{\"/tmp\":{\"kind\":\"tmp\",\"capacity\":2147483648},"
		"\"/t2\":{\"kind\":\"tmp\",\"capacity\":2147483648},\"/k\":{\"kind\":\"keep\"}}");
	assert_int_equal(ctres_parse_mounts(m, &r, err, sizeof(err)), 0);
	assert_int_equal(r.tmp_capacity, 4 * GiB);
	cJSON_Delete(m);
	assert_int_equal(ctres_parse_mounts(NULL, &r, err, sizeof(err)), 0);
	assert_int_equal(r.tmp_capacity, 0);
	/* Kind matching is exact: "TMP" is not tmp. */
	m = cJSON_Parse("{\"/tmp\":{\"kind\":\"TMP\",\"capacity\":5}}");
	assert_int_equal(ctres_parse_mounts(m, &r, err, sizeof(err)), 0);
	assert_int_equal(r.tmp_capacity, 0);
	cJSON_Delete(m);
	/* Two huge tmp mounts: the total overflows, which selection treats as unsatisfiable. */
	m = cJSON_Parse("{\"/a\":{\"kind\":\"tmp\",\"capacity\":9e18},"
			"\"/b\":{\"kind\":\"tmp\",\"capacity\":9e18}}");
	assert_int_equal(ctres_parse_mounts(m, &r, err, sizeof(err)), 0);
	assert_true(r.tmp_overflow);
	cJSON_Delete(m);
	m = cJSON_Parse("\"x\"");
	assert_int_equal(ctres_parse_mounts(m, &r, err, sizeof(err)), CTRES_EMOUNTS);
	assert_string_equal(err, "json: cannot unmarshal string into Go struct field "
				 "Container.mounts of type map[string]arvados.Mount");
	cJSON_Delete(m);
}

/* The parsed record feeds the 3.1 computation: the worked scratch example end to end. */
static void
test_parsed_scratch(void **state)
{
	struct cfg_containers cc = { 0 };
	struct res_vec need;
	struct ctres r;
	char err[256];
	cJSON *tree;

	(void)state;
	assert_int_equal(parse("{\"container_image\":\"d5025c0f29f6eef304a7358afa82a822+342\","
			       "\"runtime_constraints\":{\"ram\":95,\"vcpus\":1}}",
			       &r, err, sizeof(err), &tree),
			 0);
	assert_int_equal(ctres_need(&r, &cc, &need), 0);
	assert_int_equal(need.scratch, 805306368);
	assert_int_equal(need.ram, 100);
	ctres_release(&r);
	cJSON_Delete(tree);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_record),	    cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_null_target_element), cmocka_unit_test(test_type_errors),
		cmocka_unit_test(test_error_after_targets), cmocka_unit_test(test_parse_mounts),
		cmocka_unit_test(test_parsed_scratch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
