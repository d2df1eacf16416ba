/* test_api_json_arena.c - large bodies parsed into an arena (api_json_arena.h): the values
 * are those of a malloc parse, exact integers still found in the text, and every chunk goes
 * back once the last node in it is freed, whatever the order and whatever was detached,
 * replaced or re-allocated meanwhile (LeakSanitizer checks the rest). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api_json.h"
#include "api_json_arena.h"

/* A list page like the API server's: n records, each with strings holding digits, quotes and
 * minus signs (the literal scan must skip them) and one priority beyond 2^53. */
static char *
page(int n, size_t *len)
{
	size_t cap = 256 + (size_t)n * 300, pos;
	char *t = malloc(cap);

	assert_non_null(t);
	pos = (size_t)snprintf(t, cap,
			       "{\"kind\":\"arvados#containerList\",\"limit\":%d,\"items\":[", n);
	for (int i = 0; i < n; i++)
		pos += (size_t)snprintf(
			t + pos, cap - pos,
			"%s{\"uuid\":\"zzzzz-dz642-%015d\",\"s\":\"-1 \\\"2\\\" 3e5\","
			"\"priority\":%lld,\"rc\":{\"ram\":%d,\"v\":[1,-2.5e3,0]}}",
			i ? "," : "", i, 9007199254740993LL + i, 1 << 20);
	pos += (size_t)snprintf(t + pos, cap - pos, "]}");
	assert_true(pos < cap);
	*len = pos;
	return t;
}

static void
check_page(const cJSON *root, int n)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(root, "items");
	int64_t v;

	assert_int_equal(cJSON_GetArraySize(items), n);
	for (int i = 0; i < n; i += n / 7 + 1) {
		const cJSON *it = cJSON_GetArrayItem(items, i);
		char uuid[32];

		snprintf(uuid, sizeof(uuid), "zzzzz-dz642-%015d", i);
		assert_string_equal(
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "uuid")), uuid);
		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "s")),
				    "-1 \"2\" 3e5");
		assert_int_equal(api_json_get_int64(it, "priority", &v), 0);
		assert_true(v == 9007199254740993LL + i);
		assert_int_equal(
			api_json_get_int64(cJSON_GetObjectItemCaseSensitive(it, "rc"), "ram", &v),
			0);
		assert_int_equal(v, 1 << 20);
	}
}

static void
test_page_in_arena(void **state)
{
	size_t len;
	char *t = page(200, &len);
	cJSON *root;

	(void)state;
	assert_true(len >= API_JSON_ARENA_MIN_TEXT);
	assert_int_equal(api_json_parse(t, len, &root, NULL), 0);
	assert_true(api_json_arena_chunks() >= 1);
	check_page(root, 200);
	cJSON_Delete(root);
	assert_int_equal(api_json_arena_chunks(), 0);
	free(t);
}

static void
test_small_body_uses_malloc(void **state)
{
	cJSON *root;
	const char *t = "{\"priority\":9007199254740993}";
	int64_t v;

	(void)state;
	assert_int_equal(api_json_parse(t, strlen(t), &root, NULL), 0);
	assert_int_equal(api_json_arena_chunks(), 0);
	assert_int_equal(api_json_get_int64(root, "priority", &v), 0);
	assert_true(v == 9007199254740993LL);
	cJSON_Delete(root);
}

/* "[0,0,0,...]": 64 bytes of node per 2 bytes of text, far beyond the first chunk's size. */
static void
test_dense_text_spills_into_more_chunks(void **state)
{
	size_t n = 40000, len = 2 * n + 1;
	char *t = malloc(len + 1);
	cJSON *root;

	(void)state;
	assert_non_null(t);
	t[0] = '[';
	for (size_t i = 0; i < n; i++) {
		t[1 + 2 * i] = (char)('0' + i % 10);
		t[2 + 2 * i] = i + 1 < n ? ',' : ']';
	}
	t[len] = '\0';
	assert_int_equal(api_json_parse(t, len, &root, NULL), 0);
	assert_true(api_json_arena_chunks() > 1);
	assert_int_equal(cJSON_GetArraySize(root), (int)n);
	assert_int_equal(cJSON_GetArrayItem(root, 39999)->valueint, 9);
	cJSON_Delete(root);
	assert_int_equal(api_json_arena_chunks(), 0);
	free(t);
}

/* A callback may keep a part of a body (api_client.h): the chunk outlives the rest. */
static void
test_detached_part_keeps_its_chunk(void **state)
{
	size_t len;
	char *t = page(150, &len);
	cJSON *root, *items, *kept;

	(void)state;
	assert_true(len >= API_JSON_ARENA_MIN_TEXT);
	assert_int_equal(api_json_parse(t, len, &root, NULL), 0);
	items = cJSON_GetObjectItemCaseSensitive(root, "items");
	kept = cJSON_DetachItemFromArray(items, 42);
	assert_true(api_json_arena_chunks() >= 1);
	cJSON_Delete(root);
	assert_true(api_json_arena_chunks() >= 1);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(kept, "uuid")),
			    "zzzzz-dz642-000000000000042");
	cJSON_Delete(kept);
	assert_int_equal(api_json_arena_chunks(), 0);
	free(t);
}

/* Edits after the parse allocate from malloc; the free hook tells the two apart. */
static void
test_edits_mix_malloc_and_arena(void **state)
{
	size_t len;
	char *t = page(150, &len);
	cJSON *root, *it;
	char *printed;

	(void)state;
	assert_int_equal(api_json_parse(t, len, &root, NULL), 0);
	it = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "items"), 3);
	assert_non_null(
		cJSON_SetValuestring(cJSON_GetObjectItemCaseSensitive(it, "uuid"),
				     "a much longer string than any uuid, so it is reallocated"));
	assert_true(cJSON_ReplaceItemInObjectCaseSensitive(it, "rc", cJSON_CreateString("new")));
	assert_non_null(cJSON_AddNumberToObject(it, "added", 7));
	cJSON_DeleteItemFromObjectCaseSensitive(it, "s");
	printed = api_json_print(it);
	assert_non_null(printed);
	assert_string_equal(
		printed, "{\"uuid\":\"a much longer string than any uuid, so it is "
			 "reallocated\",\"priority\":9007199254740996,\"rc\":\"new\",\"added\":7}");
	cJSON_free(printed);
	cJSON_Delete(root);
	assert_int_equal(api_json_arena_chunks(), 0);
	free(t);
}

/* Two bodies alive at once, freed in the order they were parsed and in reverse. */
static void
test_interleaved_trees(void **state)
{
	size_t len, n;
	char *t = page(150, &len);
	cJSON *a, *b;

	(void)state;
	for (int order = 0; order < 2; order++) {
		assert_int_equal(api_json_parse(t, len, &a, NULL), 0);
		n = api_json_arena_chunks();
		assert_int_equal(api_json_parse(t, len, &b, NULL), 0);
		assert_true(api_json_arena_chunks() > n);
		check_page(a, 150);
		check_page(b, 150);
		cJSON_Delete(order ? b : a);
		assert_true(api_json_arena_chunks() >= 1);
		cJSON_Delete(order ? a : b);
		assert_int_equal(api_json_arena_chunks(), 0);
	}
	free(t);
}

/* A large body that does not parse leaves no chunk behind; nor does a truncated one. */
static void
test_malformed_large_body(void **state)
{
	size_t len, where = 0;
	char *t = page(150, &len);
	cJSON *root = (cJSON *)t;

	(void)state;
	assert_int_equal(api_json_parse(t, len / 2, &root, &where), -EBADMSG);
	assert_null(root);
	assert_int_equal(api_json_arena_chunks(), 0);
	t[len - 1] = 'x';
	assert_int_equal(api_json_parse(t, len, &root, &where), -EBADMSG);
	assert_int_equal(where, len - 1);
	assert_int_equal(api_json_arena_chunks(), 0);
	free(t);
}

/* Far more bodies alive than the arena keeps chunks for: the rest come from malloc. */
static void
test_many_live_bodies_fall_back_to_malloc(void **state)
{
	size_t len;
	char *t = page(60, &len);
	cJSON *keep[48];

	(void)state;
	for (size_t i = 0; i < 48; i++) {
		assert_int_equal(api_json_parse(t, len, &keep[i], NULL), 0);
		assert_true(api_json_arena_chunks() <= 32);
	}
	for (size_t i = 0; i < 48; i++) {
		check_page(keep[i], 60);
		cJSON_Delete(keep[i]);
	}
	assert_int_equal(api_json_arena_chunks(), 0);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page_in_arena),
		cmocka_unit_test(test_small_body_uses_malloc),
		cmocka_unit_test(test_dense_text_spills_into_more_chunks),
		cmocka_unit_test(test_detached_part_keeps_its_chunk),
		cmocka_unit_test(test_edits_mix_malloc_and_arena),
		cmocka_unit_test(test_interleaved_trees),
		cmocka_unit_test(test_malformed_large_body),
		cmocka_unit_test(test_many_live_bodies_fall_back_to_malloc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
