/* queue_spec.c - the part of a container record the instance-type choice depends on:
 * a hash of it (so that an unchanged record costs no recomputation), and a compact copy of
 * the parsed requirements kept only while the container's mounts are being fetched (so that
 * the list page's JSON tree can be freed at once). */
#include "queue_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static uint64_t
queue_spec_walk(uint64_t h, const cJSON *v)
{
	unsigned char t;

	if (v == NULL)
		return adc_fnv1a(h, "\0", 1);
	t = (unsigned char)(v->type & 0xff);
	h = adc_fnv1a(h, &t, 1);
	if (v->string != NULL)
		h = adc_fnv1a(h, v->string, strlen(v->string) + 1);
	if (cJSON_IsString(v))
		h = adc_fnv1a(h, v->valuestring, strlen(v->valuestring) + 1);
	else if (cJSON_IsNumber(v)) {
		/* api_json keeps the exact text of big integers in valuestring */
		if (v->valuestring != NULL)
			h = adc_fnv1a(h, v->valuestring, strlen(v->valuestring) + 1);
		h = adc_fnv1a(h, &v->valuedouble, sizeof(v->valuedouble));
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		for (const cJSON *c = v->child; c != NULL; c = c->next)
			h = queue_spec_walk(h, c);
		h = adc_fnv1a(h, "}", 1);
	}
	return h;
}

uint64_t
queue_spec_hash(const cJSON *record)
{
	static const char *const keys[] = { "runtime_constraints", "container_image",
					    "scheduling_parameters" };
	uint64_t h = ADC_FNV1A_INIT;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		h = queue_spec_walk(h, cJSON_GetObjectItemCaseSensitive(record, keys[i]));
	return h;
}

/* One allocation: the struct, the hardware_target pointers, then the strings. */
void *
queue_spec_save(const struct ctres *r)
{
	size_t n = sizeof(struct ctres) + r->gpu.n_hardware_target * sizeof(char *);
	size_t ls = strlen(r->gpu.stack) + 1, ld = strlen(r->gpu.driver_version) + 1;
	size_t li = strlen(r->container_image) + 1;
	struct ctres *c;
	char *p;

	n += ls + ld + li;
	for (size_t i = 0; i < r->gpu.n_hardware_target; i++)
		n += strlen(r->gpu.hardware_target[i]) + 1;
	if ((c = malloc(n)) == NULL)
		return NULL;
	*c = *r;
	c->gpu.hardware_target = (const char **)(c + 1);
	p = (char *)(c->gpu.hardware_target + r->gpu.n_hardware_target);
	c->gpu.stack = memcpy(p, r->gpu.stack, ls);
	p += ls;
	c->gpu.driver_version = memcpy(p, r->gpu.driver_version, ld);
	p += ld;
	c->container_image = memcpy(p, r->container_image, li);
	p += li;
	for (size_t i = 0; i < r->gpu.n_hardware_target; i++) {
		size_t l = strlen(r->gpu.hardware_target[i]) + 1;

		c->gpu.hardware_target[i] = memcpy(p, r->gpu.hardware_target[i], l);
		p += l;
	}
	return c;
}

const struct ctres *
queue_spec_get(const void *saved)
{
	return saved;
}
