/* ec2_list.c - Instances: DescribeInstances with tag filters and paging, streamed per page
 * (2.5), then the spot price refresh (2.7) when spot instances were listed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ec2_driver.h"
#include "log.h"

struct ec2_lop {
	struct ec2_driver *d;
	struct drv_tags filter;
	drv_page_cb page;
	drv_done_cb done;
	void *arg;
	char *next_token;
	/* distinct spot (type, az) pairs seen, for the price refresh */
	char **sp_type, **sp_az;
	size_t n_sp;
	uint64_t *counts; /* per stats entry */
	uv_timer_t defer;
	struct drv_error early;
};

static void
ec2_lop_closed(uv_handle_t *h)
{
	struct ec2_lop *l = h->data;

	drv_tags_free(&l->filter);
	free(l->next_token);
	for (size_t i = 0; i < l->n_sp; i++) {
		free(l->sp_type[i]);
		free(l->sp_az[i]);
	}
	free(l->sp_type);
	free(l->sp_az);
	free(l->counts);
	free(l);
}

static void
ec2_lop_finish(struct ec2_lop *l, const struct drv_error *e)
{
	l->done(l->arg, e);
	uv_close((uv_handle_t *)&l->defer, ec2_lop_closed);
}

static void
ec2_lop_on_defer(uv_timer_t *t)
{
	struct ec2_lop *l = t->data;

	ec2_lop_finish(l, &l->early);
}

static void
ec2_lop_fail(struct ec2_lop *l, const char *text)
{
	drv_error_set(&l->early, DRV_ERR_OTHER, "%s", text);
	uv_timer_start(&l->defer, ec2_lop_on_defer, 0, 0);
}

static int
ec2_lop_note_spot(struct ec2_lop *l, const struct drv_instance *in)
{
	char **nt, **na;

	if (!in->spot || !in->az[0])
		return 0;
	for (size_t i = 0; i < l->n_sp; i++)
		if (strcmp(l->sp_type[i], in->provider_type) == 0 &&
		    strcmp(l->sp_az[i], in->az) == 0)
			return 0;
	nt = realloc(l->sp_type, (l->n_sp + 1) * sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	l->sp_type = nt;
	na = realloc(l->sp_az, (l->n_sp + 1) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	l->sp_az = na;
	nt[l->n_sp] = strdup(in->provider_type);
	na[l->n_sp] = strdup(in->az);
	if (!nt[l->n_sp] || !na[l->n_sp]) {
		free(nt[l->n_sp]);
		free(na[l->n_sp]);
		return -ENOMEM;
	}
	l->n_sp++;
	return 0;
}

static void
ec2_lop_count(struct ec2_lop *l, const struct drv_instance *in)
{
	struct ec2_driver *d = l->d;

	for (size_t i = 0; i < d->n_stats; i++) {
		if (strcmp(d->stats[i].subnet_id, in->subnet_id) == 0) {
			l->counts[i]++;
			return;
		}
	}
	/* instances in unconfigured subnets are counted under "" when that entry exists */
	for (size_t i = 0; i < d->n_stats; i++)
		if (!d->stats[i].subnet_id[0])
			l->counts[i]++;
}

/* One page: instances of every reservation, minus shutting-down/terminated ones (2.5.3). */
static int
ec2_lop_page(struct ec2_lop *l, const struct ec2_xnode *root)
{
	struct drv_instance *v = NULL, *nv;
	size_t n = 0;
	int rc = 0;
	const struct ec2_xnode *res = ec2_xml_path(root, "reservationSet/item");

	for (; res && !rc; res = ec2_xml_next(res)) {
		const struct ec2_xnode *it = ec2_xml_path(res, "instancesSet/item");

		for (; it && !rc; it = ec2_xml_next(it)) {
			const char *st = ec2_xml_text(it, "instanceState/name");

			if (st && (!strcmp(st, "shutting-down") || !strcmp(st, "terminated")))
				continue;
			nv = realloc(v, (n + 1) * sizeof(*v));
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			v = nv;
			rc = ec2_instance_parse(it, NULL, &v[n]);
			if (rc == -EINVAL) {
				rc = 0; /* an item without instanceId is skipped, not fatal */
				continue;
			}
			if (!rc) {
				ec2_lop_count(l, &v[n]);
				rc = ec2_lop_note_spot(l, &v[n]);
				n++;
			}
		}
	}
	if (!rc && n)
		l->page(l->arg, v, n);
	for (size_t i = 0; i < n; i++)
		drv_instance_free(&v[i]);
	free(v);
	return rc;
}

static void ec2_lop_send(struct ec2_lop *l);
static void ec2_spot_refresh(struct ec2_lop *l);

static void
ec2_lop_on_answer(void *arg, const struct ec2_reply *r)
{
	struct ec2_lop *l = arg;
	struct ec2_driver *d = l->d;
	const char *nt;
	struct drv_error e;

	if (r->err.cls != DRV_OK) {
		e = r->err;
		ec2_err_classify(&e, r->message, &d->bo_instances, ec2_wall_ms());
		ec2_lop_finish(l, &e);
		return;
	}
	if (ec2_lop_page(l, r->root) < 0) {
		drv_error_set(&e, DRV_ERR_OTHER, "DescribeInstances: out of memory");
		ec2_lop_finish(l, &e);
		return;
	}
	nt = ec2_xml_text(r->root, "nextToken");
	free(l->next_token);
	l->next_token = NULL;
	if (nt && *nt) { /* AWS may send an empty <nextToken/> on the last page (#22400) */
		l->next_token = strdup(nt);
		if (!l->next_token) {
			drv_error_set(&e, DRV_ERR_OTHER, "DescribeInstances: out of memory");
			ec2_lop_finish(l, &e);
			return;
		}
		ec2_lop_send(l);
		return;
	}
	ec2_backoff_reset(&d->bo_instances);
	for (size_t i = 0; i < d->n_stats; i++)
		d->stats[i].instances = l->counts[i];
	ec2_spot_refresh(l);
}

static void
ec2_lop_send(struct ec2_lop *l)
{
	struct ec2_query q;
	char mr[16];

	ec2_query_init(&q, "DescribeInstances");
	for (size_t i = 0; i < l->filter.n; i++) {
		char name[300];

		snprintf(name, sizeof(name), "tag:%s", l->filter.v[i].key);
		ec2_query_addf(&q, name, "Filter.%zu.Name", i + 1);
		ec2_query_addf(&q, l->filter.v[i].value, "Filter.%zu.Value.1", i + 1);
	}
	if (l->d->max_results > 0) {
		snprintf(mr, sizeof(mr), "%d", l->d->max_results);
		ec2_query_add(&q, "MaxResults", mr);
	}
	if (l->next_token)
		ec2_query_add(&q, "NextToken", l->next_token);
	if (ec2_query_done(&q) < 0 ||
	    ec2_call(l->d->cl, "DescribeInstances", &q, 0, ec2_lop_on_answer, l) < 0)
		ec2_lop_fail(l, "DescribeInstances: out of memory");
}

int
ec2_list(struct drv *dv, const struct drv_tags *filter, drv_page_cb page, drv_done_cb done,
	 void *arg)
{
	struct ec2_driver *d = (struct ec2_driver *)dv;
	struct ec2_lop *l;

	if (!page || !done)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->counts = calloc(d->n_stats, sizeof(*l->counts));
	if (!l->counts || drv_tags_copy(&l->filter, filter) < 0) {
		free(l->counts);
		free(l);
		return -ENOMEM;
	}
	l->d = d;
	l->page = page;
	l->done = done;
	l->arg = arg;
	uv_timer_init(d->loop, &l->defer);
	l->defer.data = l;
	ec2_lop_send(l);
	return 0;
}

/* --- spot price refresh (2.7); its errors are only logged, the list still succeeds --- */

static void
ec2_spot_done(struct ec2_lop *l)
{
	struct ec2_driver *d = l->d;

	ec2_spot_finish(&d->spot, (int64_t)time(NULL), d->p.spot_interval_s);
	d->spot_refreshing = false;
	ec2_lop_finish(l, NULL);
}

static void ec2_spot_send(struct ec2_lop *l);

static void
ec2_spot_on_answer(void *arg, const struct ec2_reply *r)
{
	struct ec2_lop *l = arg;
	struct ec2_driver *d = l->d;
	int64_t now = (int64_t)time(NULL);
	const char *nt;

	if (r->err.cls != DRV_OK) {
		log_kv_err(LOG_LVL_WARN, "error retrieving spot instance prices", r->err.text,
			   LF_STR("Action", "DescribeSpotPriceHistory"));
		ec2_spot_done(l);
		return;
	}
	for (const struct ec2_xnode *it = ec2_xml_path(r->root, "spotPriceHistorySet/item"); it;
	     it = ec2_xml_next(it)) {
		const char *ty = ec2_xml_text(it, "instanceType"),
			   *pr = ec2_xml_text(it, "spotPrice");
		const char *ts = ec2_xml_text(it, "timestamp"),
			   *az = ec2_xml_text(it, "availabilityZone");
		char *end;
		double price;
		int64_t t;

		if (!ty || !pr || !ts || !az)
			continue;
		price = strtod(pr, &end);
		t = ec2_parse_time(ts);
		if (end == pr || *end || t < 0)
			continue;
		ec2_spot_add(&d->spot, ty, az, t, price, now);
	}
	nt = ec2_xml_text(r->root, "nextToken");
	free(l->next_token);
	l->next_token = nt && *nt ? strdup(nt) : NULL;
	if (l->next_token)
		ec2_spot_send(l);
	else
		ec2_spot_done(l);
}

static void
ec2_spot_send(struct ec2_lop *l)
{
	struct ec2_driver *d = l->d;
	struct ec2_query q;
	char start[32];
	time_t st = time(NULL) - (time_t)(3 * d->p.spot_interval_s);
	struct tm tm;
	size_t nv = 0;

	gmtime_r(&st, &tm);
	strftime(start, sizeof(start), "%Y-%m-%dT%H:%M:%SZ", &tm);
	ec2_query_init(&q, "DescribeSpotPriceHistory");
	ec2_query_add(&q, "StartTime", start);
	ec2_query_add(&q, "Filter.1.Name", "instance-type");
	for (size_t i = 0; i < l->n_sp; i++) {
		bool dup = false;

		for (size_t j = 0; j < i; j++)
			dup = dup || strcmp(l->sp_type[i], l->sp_type[j]) == 0;
		if (!dup)
			ec2_query_addf(&q, l->sp_type[i], "Filter.1.Value.%zu", ++nv);
	}
	ec2_query_add(&q, "Filter.2.Name", "product-description");
	ec2_query_add(&q, "Filter.2.Value.1", "Linux/UNIX");
	if (l->next_token)
		ec2_query_add(&q, "NextToken", l->next_token);
	if (ec2_query_done(&q) < 0 ||
	    ec2_call(d->cl, "DescribeSpotPriceHistory", &q, 0, ec2_spot_on_answer, l) < 0) {
		d->spot_refreshing = false;
		ec2_lop_fail(l, "DescribeSpotPriceHistory: out of memory");
	}
}

static void
ec2_spot_refresh(struct ec2_lop *l)
{
	struct ec2_driver *d = l->d;

	if (!l->n_sp || d->p.spot_interval_s <= 0 || d->spot_refreshing ||
	    !ec2_spot_stale(&d->spot, (const char *const *)l->sp_type,
			    (const char *const *)l->sp_az, l->n_sp, (int64_t)time(NULL),
			    d->p.spot_interval_s)) {
		ec2_lop_finish(l, NULL);
		return;
	}
	d->spot_refreshing = true;
	free(l->next_token);
	l->next_token = NULL;
	ec2_spot_send(l);
}
