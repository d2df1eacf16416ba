/*
 * http_stream.c - responses whose body is written while it is sent (http_respond_stream).
 *
 * MHD asks the stream's reader for bytes as the socket takes them (64 KiB at a time), so a
 * large body never has to be whole in memory. When the reader has nothing yet, the connection
 * is suspended from inside the content reader (which MHD allows) rather than asked again on
 * every MHD_run, and http_stream_wake resumes it. The wait does not count against the request
 * deadline, like a deferred handler's: the writer, not the client, is behind.
 */
#include "http_internal.h"

#include <errno.h>
#include <stdlib.h>

int
http_respond_stream(struct http_response *w, unsigned status, const char *content_type,
		    uint64_t len, http_stream_read_fn read, void (*release)(void *cls), void *cls,
		    struct http_stream **out)
{
	struct http_stream *st = calloc(1, sizeof(*st));

	if (out != NULL)
		*out = st;
	if (st == NULL) {
		release(cls);
		http_respond_raw(w, 500, NULL, NULL, 0);
		return -ENOMEM;
	}
	*st = (struct http_stream){ .read = read, .release = release, .cls = cls, .len = len };
	http_respond_raw(w, status, content_type, NULL, 0); /* drops any earlier body */
	w->stream = st;
	return 0;
}

void
http_stream_drop(struct http_stream *st)
{
	if (st == NULL)
		return;
	st->release(st->cls);
	free(st);
}

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_stream *st = cls;
	long n;

	if (st->rq == NULL)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = st->read(st->cls, pos, buf, max);
	if (n == HTTP_STREAM_WAIT) {
		st->waiting = true;
		http_conn_suspend(st->rq->conn);
		return 0;
	}
	if (n == HTTP_STREAM_END)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	st->rq->resp.len += (size_t)n; /* respBytes in the response log entry */
	return (ssize_t)n;
}

static void
stream_free(void *cls)
{
	struct http_stream *st = cls;

	if (st->rq != NULL)
		st->rq->stream = NULL;
	http_stream_drop(st);
}

struct MHD_Response *
http_stream_response(struct http_request *rq)
{
	struct http_stream *st = rq->resp.stream;
	struct MHD_Response *r = MHD_create_response_from_callback(
		st->len == HTTP_STREAM_LEN_UNKNOWN ? MHD_SIZE_UNKNOWN : st->len, 64 * 1024,
		stream_read, st, stream_free);

	if (r == NULL)
		return NULL; /* the stream stays with rq->resp, dropped with it */
	rq->resp.stream = NULL;
	rq->resp.len = 0;
	st->rq = rq;
	rq->stream = st;
	return r;
}

void
http_stream_detach(struct http_request *rq)
{
	if (rq->stream != NULL)
		rq->stream->rq = NULL;
	rq->stream = NULL;
}

void
http_stream_wake(struct http_stream *st)
{
	if (st == NULL || !st->waiting || st->rq == NULL)
		return;
	st->waiting = false;
	http_conn_pause(st->rq->conn, false);
	MHD_resume_connection(st->rq->conn);
	http_server_kick(st->rq->srv);
}
