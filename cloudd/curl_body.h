/*
 * curl_body.h - HTTP requests on the loop whose answers are collected in memory, over the one
 * libcurl-on-libuv driver (common/curl_uv/curl_uv.h; nothing blocks the loop).
 *
 * cu_start() takes an easy handle the caller configured (URL, method, headers, timeouts,
 * TLS) and runs it; the answer body is collected in memory up to max_body bytes (a longer
 * answer fails with CURLE_FILESIZE_EXCEEDED-like code CU_TOO_LARGE) and handed to the
 * callback. curl_body owns the easy handle and the header list from cu_start on, success or
 * failure, and frees them after the callback.
 */
#ifndef ADC_CURL_BODY_H
#define ADC_CURL_BODY_H

#include <stddef.h>
#include <curl/curl.h>
#include <uv.h>

#define CU_TOO_LARGE (-2)

struct cu;

struct cu_result {
	int curl_code;	  /* CURLE_OK, a CURLcode, or CU_TOO_LARGE */
	long http_status; /* 0 when no answer */
	const char *body; /* NUL-terminated; never NULL */
	size_t body_len;
	const char *error;    /* human text for a transport failure ("" when none) */
	double retry_after_s; /* Retry-After header in seconds, -1 when absent */
	CURL *easy;	      /* the finished handle, for curl_easy_header() in the callback */
};

typedef void (*cu_done_cb)(void *arg, const struct cu_result *r);

/* 0 or -ENOMEM. *out is freed with cu_free once the loop has no request in flight. */
int cu_new(uv_loop_t *loop, struct cu **out);
/* Closes libuv handles; the loop must run afterwards to finish closing them. */
void cu_free(struct cu *c);
/* 0, or negative errno (the easy handle and headers are freed, cb not called). */
int cu_start(struct cu *c, CURL *easy, struct curl_slist *headers, size_t max_body, cu_done_cb cb,
	     void *arg);
/* The seconds of one raw header line (len bytes, not NUL-terminated) if it is a Retry-After
 * in the seconds form, else -1 (tests/ec2/fuzz_http_headers.c). */
double cu_retry_after(const char *line, size_t len);
/* Requests in flight. */
size_t cu_active(const struct cu *c);

#endif
