/* ec2_spot.c - quota groups, price normalisation and the spot price cache. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2_spot.h"
#include "rfc3339.h"

int
ec2_quota_group(const struct ec2_qg_entry *tab, size_t n, const char *provider_type,
		bool preemptible, char *buf, size_t len)
{
	size_t pl = strlen(provider_type), i0 = 0, best = 0;
	const char *group = NULL;
	char *lc = malloc(pl + 1);
	int w;

	if (!lc)
		return -ENOMEM;
	for (size_t i = 0; i <= pl; i++)
		lc[i] = (char)tolower((unsigned char)provider_type[i]);
	while (i0 < pl && lc[i0] >= 'a' && lc[i0] <= 'z')
		i0++;
	if (i0 == pl) {
		/* all lowercase letters (or empty): no group, even with -spot (2.9) */
		free(lc);
		w = snprintf(buf, len, "%s", "");
		return w < 0 || (size_t)w >= len ? -ENOSPC : 0;
	}
	/* prefixes lc[0:i] for i = i0 .. pl-1; the longest with a non-empty entry wins */
	for (size_t k = 0; k < n; k++) {
		size_t l = strlen(tab[k].prefix);

		if (l >= i0 && l < pl && tab[k].group[0] && strncmp(lc, tab[k].prefix, l) == 0 &&
		    l >= best) {
			best = l;
			group = tab[k].group;
		}
	}
	if (group)
		w = snprintf(buf, len, "%s%s", group, preemptible ? "-spot" : "");
	else
		w = snprintf(buf, len, "%.*s%s", (int)i0, lc, preemptible ? "-spot" : "");
	free(lc);
	return w < 0 || (size_t)w >= len ? -ENOSPC : 0;
}

static int
ec2_price_cmp(const void *a, const void *b)
{
	const struct drv_price *x = a, *y = b;

	return x->start_time < y->start_time ? 1 : x->start_time > y->start_time ? -1 : 0;
}

size_t
ec2_price_normalize(struct drv_price *p, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(p, n, sizeof(*p), ec2_price_cmp); /* newest first */
	/* Scan from the newest: drop the newer of two neighbours with equal time or price,
	 * so a run of equal prices keeps its oldest point (when the price took effect). */
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n &&
		    (p[i].start_time == p[i + 1].start_time || p[i].price == p[i + 1].price))
			continue;
		p[out++] = p[i];
	}
	return out;
}

static struct ec2_spot_key *
ec2_spot_find(const struct ec2_spot_cache *c, const char *type, const char *az)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->keys[i].type, type) == 0 && strcmp(c->keys[i].az, az) == 0)
			return &c->keys[i];
	return NULL;
}

bool
ec2_spot_stale(const struct ec2_spot_cache *c, const char *const *types, const char *const *azs,
	       size_t n, int64_t now, int64_t interval_s)
{
	for (size_t i = 0; i < n; i++) {
		struct ec2_spot_key *k = ec2_spot_find(c, types[i], azs[i]);

		if (!k || now - k->updated >= interval_s)
			return true;
	}
	return false;
}

int
ec2_spot_add(struct ec2_spot_cache *c, const char *type, const char *az, int64_t ts, double price,
	     int64_t now)
{
	struct ec2_spot_key *k = ec2_spot_find(c, type, az);
	struct drv_price *np;

	if (!k) {
		struct ec2_spot_key *nk = realloc(c->keys, (c->n + 1) * sizeof(*nk));

		if (!nk)
			return -ENOMEM;
		c->keys = nk;
		k = &c->keys[c->n];
		memset(k, 0, sizeof(*k));
		k->type = strdup(type);
		k->az = strdup(az);
		if (!k->type || !k->az) {
			free(k->type);
			free(k->az);
			return -ENOMEM;
		}
		c->n++;
	}
	np = realloc(k->prices, (k->n + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	k->prices = np;
	k->prices[k->n].start_time = ts;
	k->prices[k->n].price = price;
	k->n++;
	k->updated = now;
	return 0;
}

void
ec2_spot_finish(struct ec2_spot_cache *c, int64_t now, int64_t interval_s)
{
	size_t out = 0;

	for (size_t i = 0; i < c->n; i++) {
		struct ec2_spot_key *k = &c->keys[i];

		if (now - k->updated > 64 * interval_s) {
			free(k->type);
			free(k->az);
			free(k->prices);
			continue;
		}
		/* Normalising after each refresh keeps each list short (the reference re-appends
		 * and de-duplicates; 9 "spot price list re-appended"). */
		k->n = ec2_price_normalize(k->prices, k->n);
		c->keys[out++] = *k;
	}
	c->n = out;
}

int
ec2_spot_history(const struct ec2_spot_cache *c, const char *type, const char *az,
		 double ebs_hourly, struct drv_price **out, size_t *n)
{
	struct ec2_spot_key *k = ec2_spot_find(c, type, az);

	*out = NULL;
	*n = 0;
	if (!k || k->n == 0)
		return 0;
	*out = malloc(k->n * sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < k->n; i++) {
		(*out)[i] = k->prices[i];
		(*out)[i].price += ebs_hourly;
	}
	*n = k->n;
	return 0;
}

void
ec2_spot_free(struct ec2_spot_cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->keys[i].type);
		free(c->keys[i].az);
		free(c->keys[i].prices);
	}
	free(c->keys);
	c->keys = NULL;
	c->n = 0;
}

int64_t
ec2_parse_time(const char *s)
{
	int64_t ns;

	if (rfc3339_parse(s, &ns, NULL) != 0)
		return -1;
	return ns >= 0 ? ns / RFC3339_SECOND : (ns - (RFC3339_SECOND - 1)) / RFC3339_SECOND;
}
