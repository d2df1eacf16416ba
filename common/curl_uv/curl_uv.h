/*
 * curl_uv.h - libcurl's multi interface driven by a libuv loop (the structure of curl's
 * docs/examples/multi-uv.c, with every error handled): CURLMOPT_SOCKETFUNCTION keeps one
 * uv_poll_t per socket curl is interested in, CURLMOPT_TIMERFUNCTION one uv_timer_t, and
 * finished transfers are collected with curl_multi_info_read after each socket action.
 * Nothing blocks the loop.
 */
#ifndef ADC_CURL_UV_H
#define ADC_CURL_UV_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <uv.h>

struct curl_uv;
struct curl_uv_xfer;

/* Called once per finished transfer, after the easy handle has left the multi handle: the
 * callback owns the easy again. It may add transfers or close the curl_uv. */
typedef void (*curl_uv_done_fn)(struct curl_uv_xfer *x, CURLcode result);

/* One transfer; embed it in the caller's request. curl_uv sets CURLOPT_PRIVATE to it. */
struct curl_uv_xfer {
	CURL *easy;
	curl_uv_done_fn done;
	void *arg;
};

/* 0 or -ENOMEM / -EIO (curl or libuv refused). */
int curl_uv_new(uv_loop_t *loop, struct curl_uv **out);

/* Start x->easy. 0, or -EIO/-ENOMEM (then x is untouched and not started). */
int curl_uv_add(struct curl_uv *cu, struct curl_uv_xfer *x);
/* Abandon a transfer before it finished; done is not called. The caller owns the easy. */
void curl_uv_remove(struct curl_uv *cu, struct curl_uv_xfer *x);

/*
 * Append n bytes of an answer to the NUL-terminated buffer *buf (*len bytes used, *cap
 * allocated), growing it by doubling from 4 KiB, never beyond max bytes of content: the body
 * of every CURLOPT_WRITEFUNCTION here. false (nothing appended) when the content would pass
 * max or memory runs out; the write callback then returns 0 and curl fails the transfer.
 */
bool curl_uv_append(char **buf, size_t *len, size_t *cap, size_t max, const char *data, size_t n);

/* Tear down: every transfer must have finished or been removed. The multi handle is cleaned
 * up now; the libuv handles close asynchronously, and closed (if not NULL) is called with arg
 * once the last is gone, after which the loop holds nothing of ours. Safe inside a done
 * callback. */
void curl_uv_close(struct curl_uv *cu, void (*closed)(void *arg), void *arg);

#endif
