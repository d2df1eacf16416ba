/* cloudc.c - see cloudc.h. One context per request; the channel's reply callback decodes
 * each answer part and calls the caller's callback. */
#include "cloudc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

struct cloudc_req {
	uint16_t ans_type;
	void *cb, *done;
	void *arg;
	bool failed; /* a bad part: later parts are dropped */
	/* list and destroy: what the parts added up to so far (capped, see cloudc_over_cap) */
	size_t parts_bytes, parts_items, max_items;
	/* destroy: outcomes gathered over the parts */
	char **ids;
	struct proto_cloud_err *errs;
	size_t n;
};

/* A failure that did not come from cloudd's answer. */
static void
cloudc_err_local(struct proto_cloud_err *e, int32_t status)
{
	static char *texts[] = {
		[PROTO_E_RETRY] = "cloudd went away while the request was in flight; retry",
		[PROTO_E_TIMEOUT] = "cloudd did not answer in time",
		[PROTO_E_INVALID] = "malformed answer from cloudd",
		[PROTO_E_FAILED] = "request failed",
	};

	memset(e, 0, sizeof(*e));
	e->status = status;
	e->cls = PROTO_CLOUD_OTHER;
	e->text = status >= 0 && status <= PROTO_E_FAILED && texts[status] ? texts[status] : "";
	e->instance_type = e->quota_group = e->code = "";
}

static void
cloudc_req_free(struct cloudc_req *q)
{
	for (size_t i = 0; i < q->n; i++) {
		free(q->ids[i]);
		proto_cloud_err_free(&q->errs[i]);
	}
	free(q->ids);
	free(q->errs);
	free(q);
}

/* Deliver the terminal failure of a request in its callback's shape. */
static void
cloudc_fail(struct cloudc_req *q, int32_t status)
{
	struct proto_cloud_err e;

	cloudc_err_local(&e, status);
	switch (q->ans_type) {
	case PROTO_CLOUD_CREATE_ANS:
		((cloudc_create_cb)q->cb)(q->arg, &e, NULL);
		break;
	case PROTO_CLOUD_LIST_ANS:
		((cloudc_done_cb)q->done)(q->arg, &e);
		break;
	case PROTO_CLOUD_DESTROY_ANS:
		((cloudc_destroy_cb)q->cb)(q->arg, &e, 0, NULL, NULL);
		break;
	case PROTO_CLOUD_TAGS_ANS:
		((cloudc_done_cb)q->cb)(q->arg, &e);
		break;
	case PROTO_CLOUD_PRICES_ANS:
		((cloudc_prices_cb)q->cb)(q->arg, &e, NULL, 0);
		break;
	case PROTO_CLOUD_STATS_ANS:
		((cloudc_stats_cb)q->cb)(q->arg, &e, NULL, 0);
		break;
	default:
		((cloudc_qgroup_cb)q->cb)(q->arg, &e, NULL);
		break;
	}
}

static int
cloudc_destroy_gather(struct cloudc_req *q, struct proto_cloud_destroy_ans *a)
{
	char **ids = realloc(q->ids, (q->n + a->n + 1) * sizeof(*ids));
	struct proto_cloud_err *errs;

	if (ids == NULL)
		return -ENOMEM;
	q->ids = ids;
	errs = realloc(q->errs, (q->n + a->n + 1) * sizeof(*errs));
	if (errs == NULL)
		return -ENOMEM;
	q->errs = errs;
	for (uint32_t i = 0; i < a->n; i++) {
		q->ids[q->n] = a->ids[i];
		q->errs[q->n++] = a->errs[i];
		a->ids[i] = NULL;
		memset(&a->errs[i], 0, sizeof(a->errs[i]));
	}
	return 0;
}

/* A streamed answer past its bounds: a list of more than PROTO_MAX_LIST_INSTANCES instances
 * or PROTO_MAX_LIST_BYTES, a destroy answering more ids than were asked. Checked on the
 * item count each part declares before anything of it is copied. */
static bool
cloudc_over_cap(struct cloudc_req *q, const struct proto_msg *m, size_t items)
{
	q->parts_bytes += m->payload_len;
	q->parts_items += items;
	return q->parts_bytes > PROTO_MAX_LIST_BYTES || q->parts_items > q->max_items;
}

/* One answer part. Returns true when the request is finished (callback delivered); -EPROTO
 * through *violation when cloudd broke the protocol (the caller closes the channel). */
static bool
cloudc_part(struct cloudc_req *q, const struct proto_msg *m, bool last, bool *violation)
{
	int rc = -EBADMSG;

	switch (q->ans_type) {
	case PROTO_CLOUD_CREATE_ANS: {
		struct proto_cloud_create_ans a;
		if ((rc = proto_cloud_create_ans_decode(m, &a)) == 0) {
			((cloudc_create_cb)q->cb)(q->arg, &a.err,
						  a.err.status == PROTO_OK ? &a.inst : NULL);
			proto_cloud_create_ans_free(&a);
		}
		break;
	}
	case PROTO_CLOUD_LIST_ANS: {
		struct proto_cloud_list_ans a;
		if ((rc = proto_cloud_list_ans_decode(m, &a)) == 0) {
			if (cloudc_over_cap(q, m, a.n)) {
				proto_cloud_list_ans_free(&a);
				*violation = true;
				return false;
			}
			if (a.n > 0)
				((cloudc_part_cb)q->cb)(q->arg, a.insts, a.n);
			if (last)
				((cloudc_done_cb)q->done)(q->arg, &a.err);
			proto_cloud_list_ans_free(&a);
		}
		break;
	}
	case PROTO_CLOUD_DESTROY_ANS: {
		struct proto_cloud_destroy_ans a;
		if ((rc = proto_cloud_destroy_ans_decode(m, &a)) == 0) {
			if (cloudc_over_cap(q, m, a.n)) {
				proto_cloud_destroy_ans_free(&a);
				*violation = true;
				return false;
			}
			rc = cloudc_destroy_gather(q, &a);
			if (rc == 0 && last)
				((cloudc_destroy_cb)q->cb)(q->arg, &a.err, q->n, q->ids, q->errs);
			proto_cloud_destroy_ans_free(&a);
		}
		break;
	}
	case PROTO_CLOUD_TAGS_ANS: {
		struct proto_cloud_err e;
		if ((rc = proto_cloud_err_ans_decode(m, &e)) == 0) {
			((cloudc_done_cb)q->cb)(q->arg, &e);
			proto_cloud_err_free(&e);
		}
		break;
	}
	case PROTO_CLOUD_PRICES_ANS: {
		struct proto_cloud_prices_ans a;
		if ((rc = proto_cloud_prices_ans_decode(m, &a)) == 0) {
			((cloudc_prices_cb)q->cb)(q->arg, &a.err, a.v, a.n);
			proto_cloud_prices_ans_free(&a);
		}
		break;
	}
	case PROTO_CLOUD_STATS_ANS: {
		struct proto_cloud_stats_ans a;
		if ((rc = proto_cloud_stats_ans_decode(m, &a)) == 0) {
			((cloudc_stats_cb)q->cb)(q->arg, &a.err, a.v, a.n);
			proto_cloud_stats_ans_free(&a);
		}
		break;
	}
	default: {
		struct proto_cloud_qgroup_ans a;
		if ((rc = proto_cloud_qgroup_ans_decode(m, &a)) == 0) {
			((cloudc_qgroup_cb)q->cb)(q->arg, &a.err, a.group);
			proto_cloud_qgroup_ans_free(&a);
		}
		break;
	}
	}
	if (rc != 0) {
		log_kv_err(LOG_LVL_ERROR, "malformed answer from cloudd", strerror(-rc),
			   LF_STR("Type", proto_type_str(m->hdr.type)));
		q->failed = true;
		cloudc_fail(q, PROTO_E_INVALID);
		return true;
	}
	/* Only list and destroy stream (the channel refuses PROTO_F_MORE elsewhere); any
	 * other answer is delivered once, whatever its flags say. */
	return last || !proto_type_streams(q->ans_type);
}

static void
cloudc_reply_cb(struct proto_chan *ch, int status, const struct proto_msg *m, void *arg)
{
	struct cloudc_req *q = arg;
	bool last = m == NULL || (m->hdr.flags & PROTO_F_MORE) == 0, violation = false;

	if (m != NULL && m->fd >= 0)
		close(m->fd);
	if (q->failed) {
		/* Already reported; wait for the end of the stream to free. */
	} else if (status != PROTO_OK || m == NULL) {
		cloudc_fail(q, status == PROTO_OK ? PROTO_E_INVALID : status);
	} else if (cloudc_part(q, m, last, &violation)) {
		q->failed = true; /* delivered: drop anything that still comes */
	}
	if (violation) {
		log_kv(LOG_LVL_ERROR, "streamed answer from cloudd over its bounds",
		       LF_STR("Type", proto_type_str(m->hdr.type)),
		       LF_INT("Bytes", (int64_t)q->parts_bytes),
		       LF_INT("Items", (int64_t)q->parts_items));
		if (!last) {
			/* Still pending: closing fails it with PROTO_E_RETRY, which calls back
			 * here once more (and frees q); q must not be touched after. */
			proto_chan_close(ch, -EPROTO, "streamed answer over its bounds");
			return;
		}
		cloudc_fail(q, PROTO_E_INVALID);
		cloudc_req_free(q);
		proto_chan_close(ch, -EPROTO, "streamed answer over its bounds");
		return;
	}
	if (last)
		cloudc_req_free(q);
}

/* Queue an encoded request (w consumed in every case). */
static int
cloudc_send_n(struct child *c, struct proto_wbuf *w, int enc_rc, uint32_t timeout_ms,
	      uint16_t ans_type, void *cb, void *done, void *arg, size_t max_items)
{
	struct proto_chan *ch = child_chan(c);
	struct cloudc_req *q;
	int64_t r;

	if (enc_rc != 0)
		return enc_rc == -ENOMEM ? -ENOMEM : -EINVAL;
	if (ch == NULL) {
		proto_wbuf_free(w);
		return -EAGAIN;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		proto_wbuf_free(w);
		return -ENOMEM;
	}
	q->ans_type = ans_type;
	q->max_items = ans_type == PROTO_CLOUD_DESTROY_ANS ? max_items : PROTO_MAX_LIST_INSTANCES;
	q->cb = cb;
	q->done = done;
	q->arg = arg;
	r = proto_chan_request(ch, w, -1, timeout_ms ? timeout_ms : 60000, cloudc_reply_cb, q);
	if (r < 0) {
		free(q);
		return r == -EPIPE ? -EAGAIN : (int)r;
	}
	return 0;
}

static int
cloudc_send(struct child *c, struct proto_wbuf *w, int enc_rc, uint32_t timeout_ms,
	    uint16_t ans_type, void *cb, void *done, void *arg)
{
	return cloudc_send_n(c, w, enc_rc, timeout_ms, ans_type, cb, done, arg, 0);
}

int
cloudc_create(struct child *c, const struct proto_cloud_create *req, uint32_t timeout_ms,
	      cloudc_create_cb cb, void *arg)
{
	struct proto_wbuf w;
	int rc = proto_cloud_create_encode(&w, 0, timeout_ms, req);

	return cloudc_send(c, &w, rc, timeout_ms, PROTO_CLOUD_CREATE_ANS, (void *)cb, NULL, arg);
}

int
cloudc_list(struct child *c, const struct proto_cloud_tags *filter, uint32_t timeout_ms,
	    cloudc_part_cb part, cloudc_done_cb done, void *arg)
{
	struct proto_cloud_list l = { .filter = *filter };
	struct proto_wbuf w;
	int rc = proto_cloud_list_encode(&w, 0, timeout_ms, &l);

	return cloudc_send(c, &w, rc, timeout_ms, PROTO_CLOUD_LIST_ANS, (void *)part, (void *)done,
			   arg);
}

int
cloudc_destroy(struct child *c, const char *const *ids, size_t n, uint32_t timeout_ms,
	       cloudc_destroy_cb cb, void *arg)
{
	struct proto_cloud_destroy d = { (char **)ids, (uint32_t)n };
	struct proto_wbuf w;
	int rc;

	if (n == 0 || n > PROTO_MAX_DESTROY_IDS)
		return -EINVAL;
	rc = proto_cloud_destroy_encode(&w, 0, timeout_ms, &d);
	/* one outcome per id asked: more is a violation (the gathering copies each) */
	return cloudc_send_n(c, &w, rc, timeout_ms, PROTO_CLOUD_DESTROY_ANS, (void *)cb, NULL, arg,
			     n);
}

int
cloudc_set_tags(struct child *c, const char *id, const struct proto_cloud_tags *tags,
		uint32_t timeout_ms, cloudc_done_cb cb, void *arg)
{
	struct proto_cloud_tags_req t = { (char *)id, *tags };
	struct proto_wbuf w;
	int rc = proto_cloud_tags_encode(&w, 0, timeout_ms, &t);

	return cloudc_send(c, &w, rc, timeout_ms, PROTO_CLOUD_TAGS_ANS, (void *)cb, NULL, arg);
}

int
cloudc_price_history(struct child *c, const struct proto_cloud_prices *req, uint32_t timeout_ms,
		     cloudc_prices_cb cb, void *arg)
{
	struct proto_wbuf w;
	int rc = proto_cloud_prices_encode(&w, 0, timeout_ms, req);

	return cloudc_send(c, &w, rc, timeout_ms, PROTO_CLOUD_PRICES_ANS, (void *)cb, NULL, arg);
}

int
cloudc_quota_group(struct child *c, const struct proto_cloud_itype *itype, uint32_t timeout_ms,
		   cloudc_qgroup_cb cb, void *arg)
{
	struct proto_cloud_qgroup g = { *itype };
	struct proto_wbuf w;
	int rc = proto_cloud_qgroup_encode(&w, 0, timeout_ms, &g);

	return cloudc_send(c, &w, rc, timeout_ms, PROTO_CLOUD_QGROUP_ANS, (void *)cb, NULL, arg);
}

int
cloudc_stats(struct child *c, uint32_t timeout_ms, cloudc_stats_cb cb, void *arg)
{
	struct proto_wbuf w;
	int rc = proto_cloud_stats_encode(&w, 0, timeout_ms);

	return cloudc_send(c, &w, rc, timeout_ms, PROTO_CLOUD_STATS_ANS, (void *)cb, NULL, arg);
}
