/* queue_intern.c - records shared by the entries whose content is the same: the selected
 * attributes (queue_rec.c) and the instance-type choice (queue_choice.c). A workflow's
 * thousands of containers usually ask for the same image, constraints and so the same types;
 * one record each would be 100-200 bytes a container (issue 16: 100,000 queued in 64 MB).
 * A chained hash by content (FNV-1a), each record counted by reference. */
#include "queue_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static struct queue_shared **
qi_bucket(struct queue_intern *set, uint64_t h)
{
	return &set->bucket[h & (set->cap - 1)];
}

/* Keep the chains short: at most one record per bucket on average. */
static int
qi_grow(struct queue_intern *set)
{
	size_t cap = set->cap ? set->cap * 2 : 64;
	struct queue_shared **b = calloc(cap, sizeof(*b));
	struct queue_intern old = *set;

	if (b == NULL)
		return -ENOMEM;
	set->bucket = b;
	set->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		for (struct queue_shared *r = old.bucket[i], *next; r != NULL; r = next) {
			struct queue_shared **head = qi_bucket(set, r->hash);

			next = r->next;
			r->next = *head;
			*head = r;
		}
	free(old.bucket);
	return 0;
}

struct queue_shared *
queue_intern(struct queue_intern *set, struct queue_shared *r, size_t off, uint32_t len)
{
	const char *content = (const char *)r + off;
	struct queue_shared **head;

	r->refs = 1;
	r->len = len;
	if (set == NULL)
		return r;
	r->hash = adc_fnv1a(ADC_FNV1A_INIT, content, len);
	if (set->cap != 0)
		for (struct queue_shared *o = *qi_bucket(set, r->hash); o != NULL; o = o->next)
			if (o->hash == r->hash && o->len == len &&
			    memcmp((const char *)o + off, content, len) == 0) {
				free(r);
				o->refs++;
				return o;
			}
	if (set->n >= set->cap && qi_grow(set) != 0) {
		free(r);
		return NULL;
	}
	head = qi_bucket(set, r->hash);
	r->set = set;
	r->next = *head;
	*head = r;
	set->n++;
	return r;
}

void
queue_unshare(struct queue_shared *r)
{
	struct queue_intern *set;

	if (r == NULL || --r->refs > 0)
		return;
	if ((set = r->set) != NULL) {
		struct queue_shared **pp = qi_bucket(set, r->hash);

		while (*pp != r)
			pp = &(*pp)->next;
		*pp = r->next;
		set->n--;
	}
	free(r);
}

void
queue_intern_free(struct queue_intern *set)
{
	free(set->bucket);
	set->bucket = NULL;
	set->cap = set->n = 0;
}
