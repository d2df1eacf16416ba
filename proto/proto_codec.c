/*
 * proto_codec.c - the header parser, the message builder (wbuf) and the bounds-checked
 * payload getters (rbuf).
 *
 * Both sides keep a sticky error, as OpenSSH's sshbuf and smtpd's m_* do, so an encoder or
 * decoder can run a straight line of put/get calls and check once at the end. Everything
 * on the wire is network byte order and fixed width (no native size_t/time_t).
 */
#include "proto.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- byte order helpers (no alignment assumptions: payloads are byte streams) ---- */

static void
proto_be16_store(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
proto_be32_store(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t
proto_be16_load(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static uint32_t
proto_be32_load(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- header ---- */

int
proto_hdr_parse(const uint8_t *buf, size_t nbytes, struct proto_hdr *out)
{
	struct proto_hdr h;

	if (buf == NULL || nbytes < PROTO_HDR_LEN || nbytes > PROTO_MAX_MSG)
		return -EBADMSG;
	h.type = proto_be16_load(buf);
	h.flags = proto_be16_load(buf + 2);
	h.len = proto_be32_load(buf + 4);
	h.reqid = proto_be32_load(buf + 8);
	h.timeout_ms = proto_be32_load(buf + 12);
	if (h.len < PROTO_HDR_LEN || h.len > PROTO_MAX_MSG || h.len != nbytes)
		return -EBADMSG;
	if ((h.flags & ~PROTO_F_KNOWN) != 0)
		return -EBADMSG;
	if (out != NULL)
		*out = h;
	return 0;
}

/* ---- building ---- */

#define PROTO_WBUF_INITIAL 256u

/*
 * Grow to hold at least need bytes. A secret buffer is never realloc'd: realloc may move the
 * data and leave the old copy in freed memory, so we copy and wipe the old one ourselves.
 */
static int
proto_wbuf_grow(struct proto_wbuf *w, size_t need)
{
	size_t cap = w->cap ? w->cap : PROTO_WBUF_INITIAL;
	uint8_t *p;

	while (cap < need)
		cap *= 2;
	if (cap > PROTO_MAX_MSG)
		cap = PROTO_MAX_MSG;
	if (w->secret) {
		if ((p = malloc(cap)) == NULL)
			return -ENOMEM;
		if (w->data != NULL) {
			memcpy(p, w->data, w->len);
			adc_wipe(w->data, w->cap);
			free(w->data);
		}
	} else if ((p = realloc(w->data, cap)) == NULL) {
		return -ENOMEM;
	}
	w->data = p;
	w->cap = cap;
	return 0;
}

/* Reserve n bytes at the end; NULL (and the sticky error set) when that is impossible. */
static uint8_t *
proto_wbuf_reserve(struct proto_wbuf *w, size_t n)
{
	uint8_t *p;
	int r;

	if (w->err != 0)
		return NULL;
	if (w->data == NULL) {
		w->err = -EINVAL; /* not begun */
		return NULL;
	}
	if (n > PROTO_MAX_MSG || w->len + n > PROTO_MAX_MSG) {
		w->err = -EMSGSIZE;
		return NULL;
	}
	if (w->len + n > w->cap && (r = proto_wbuf_grow(w, w->len + n)) != 0) {
		w->err = r;
		return NULL;
	}
	p = w->data + w->len;
	w->len += n;
	return p;
}

int
proto_wbuf_begin(struct proto_wbuf *w, uint16_t type, uint16_t flags, uint32_t reqid,
		 uint32_t timeout_ms)
{
	uint8_t *h;

	memset(w, 0, sizeof(*w));
	if ((flags & ~PROTO_F_KNOWN) != 0)
		return w->err = -EINVAL;
	if ((w->data = malloc(PROTO_WBUF_INITIAL)) == NULL)
		return w->err = -ENOMEM;
	w->cap = PROTO_WBUF_INITIAL;
	h = proto_wbuf_reserve(w, PROTO_HDR_LEN);
	proto_be16_store(h, type);
	proto_be16_store(h + 2, flags);
	proto_be32_store(h + 4, 0);
	proto_be32_store(h + 8, reqid);
	proto_be32_store(h + 12, timeout_ms);
	return 0;
}

void
proto_put_u8(struct proto_wbuf *w, uint8_t v)
{
	uint8_t *p = proto_wbuf_reserve(w, 1);

	if (p != NULL)
		p[0] = v;
}

void
proto_put_u16(struct proto_wbuf *w, uint16_t v)
{
	uint8_t *p = proto_wbuf_reserve(w, 2);

	if (p != NULL)
		proto_be16_store(p, v);
}

void
proto_put_u32(struct proto_wbuf *w, uint32_t v)
{
	uint8_t *p = proto_wbuf_reserve(w, 4);

	if (p != NULL)
		proto_be32_store(p, v);
}

void
proto_put_u64(struct proto_wbuf *w, uint64_t v)
{
	uint8_t *p = proto_wbuf_reserve(w, 8);

	if (p != NULL) {
		proto_be32_store(p, (uint32_t)(v >> 32));
		proto_be32_store(p + 4, (uint32_t)v);
	}
}

void
proto_put_i32(struct proto_wbuf *w, int32_t v)
{
	proto_put_u32(w, (uint32_t)v);
}

void
proto_put_i64(struct proto_wbuf *w, int64_t v)
{
	proto_put_u64(w, (uint64_t)v);
}

/* NaN and Inf are refused here too, so that no encoder produces what decoders reject. */
void
proto_put_f64(struct proto_wbuf *w, double v)
{
	uint64_t bits;

	if (w->err == 0 && !isfinite(v)) {
		w->err = -EINVAL;
		return;
	}
	memcpy(&bits, &v, sizeof(bits));
	proto_put_u64(w, bits);
}

void
proto_put_bool(struct proto_wbuf *w, bool v)
{
	proto_put_u8(w, v ? 1 : 0);
}

void
proto_put_strn(struct proto_wbuf *w, const char *s, size_t n)
{
	/* The decoder refuses embedded NULs; refuse them when sending as well. */
	if (w->err == 0 && n > 0 && memchr(s, '\0', n) != NULL) {
		w->err = -EINVAL;
		return;
	}
	proto_put_bytes(w, s, n);
}

void
proto_put_str(struct proto_wbuf *w, const char *s)
{
	proto_put_strn(w, s, s != NULL ? strlen(s) : 0);
}

void
proto_put_bytes(struct proto_wbuf *w, const void *p, size_t n)
{
	uint8_t *d;

	if (w->err == 0 && n > PROTO_MAX_STR) {
		w->err = -EMSGSIZE;
		return;
	}
	proto_put_u32(w, (uint32_t)n);
	if (n == 0 || (d = proto_wbuf_reserve(w, n)) == NULL)
		return;
	memcpy(d, p, n);
}

int
proto_wbuf_end(struct proto_wbuf *w)
{
	if (w->err != 0)
		return w->err;
	if (w->data == NULL)
		return w->err = -EINVAL;
	proto_be32_store(w->data + 4, (uint32_t)w->len);
	return 0;
}

void
proto_wbuf_set_reqid(struct proto_wbuf *w, uint32_t reqid)
{
	if (w->data != NULL && w->len >= PROTO_HDR_LEN)
		proto_be32_store(w->data + 8, reqid);
}

void
proto_wbuf_set_timeout(struct proto_wbuf *w, uint32_t timeout_ms)
{
	if (w->data != NULL && w->len >= PROTO_HDR_LEN)
		proto_be32_store(w->data + 12, timeout_ms);
}

void
proto_wbuf_set_flags(struct proto_wbuf *w, uint16_t flags)
{
	if (w->data != NULL && w->len >= PROTO_HDR_LEN)
		proto_be16_store(w->data + 2, flags);
}

uint16_t
proto_wbuf_flags(const struct proto_wbuf *w)
{
	if (w->data == NULL || w->len < PROTO_HDR_LEN)
		return 0;
	return proto_be16_load(w->data + 2);
}

void
proto_wbuf_free(struct proto_wbuf *w)
{
	if (w == NULL)
		return;
	if (w->data != NULL) {
		if (w->secret)
			adc_wipe(w->data, w->cap);
		free(w->data);
	}
	memset(w, 0, sizeof(*w));
}

/* ---- reading ---- */

void
proto_rbuf_init(struct proto_rbuf *r, const struct proto_msg *m)
{
	r->p = m->payload;
	r->left = m->payload_len;
	r->err = 0;
}

/* Take n bytes; NULL (sticky -EBADMSG) when fewer remain or an earlier read failed. */
static const uint8_t *
proto_rbuf_take(struct proto_rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->err != 0)
		return NULL;
	if (n > r->left) {
		r->err = -EBADMSG;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

int
proto_get_u8(struct proto_rbuf *r, uint8_t *v)
{
	const uint8_t *p = proto_rbuf_take(r, 1);

	*v = p != NULL ? p[0] : 0;
	return r->err;
}

int
proto_get_u16(struct proto_rbuf *r, uint16_t *v)
{
	const uint8_t *p = proto_rbuf_take(r, 2);

	*v = p != NULL ? proto_be16_load(p) : 0;
	return r->err;
}

int
proto_get_u32(struct proto_rbuf *r, uint32_t *v)
{
	const uint8_t *p = proto_rbuf_take(r, 4);

	*v = p != NULL ? proto_be32_load(p) : 0;
	return r->err;
}

int
proto_get_u64(struct proto_rbuf *r, uint64_t *v)
{
	const uint8_t *p = proto_rbuf_take(r, 8);

	*v = p != NULL ? (uint64_t)proto_be32_load(p) << 32 | proto_be32_load(p + 4) : 0;
	return r->err;
}

int
proto_get_i32(struct proto_rbuf *r, int32_t *v)
{
	uint32_t u;

	proto_get_u32(r, &u);
	*v = (int32_t)u;
	return r->err;
}

int
proto_get_i64(struct proto_rbuf *r, int64_t *v)
{
	uint64_t u;

	proto_get_u64(r, &u);
	*v = (int64_t)u;
	return r->err;
}

int
proto_get_f64(struct proto_rbuf *r, double *v)
{
	uint64_t bits;
	double d;

	*v = 0;
	if (proto_get_u64(r, &bits) != 0)
		return r->err;
	memcpy(&d, &bits, sizeof(d));
	if (!isfinite(d))
		return r->err = -EBADMSG;
	*v = d;
	return 0;
}

int
proto_get_bool(struct proto_rbuf *r, bool *v)
{
	uint8_t b;

	*v = false;
	if (proto_get_u8(r, &b) != 0)
		return r->err;
	if (b > 1)
		return r->err = -EBADMSG;
	*v = b == 1;
	return 0;
}

/* The length prefix and the bytes of a string or blob, checked against max and what is left. */
static const uint8_t *
proto_rbuf_take_blob(struct proto_rbuf *r, size_t max, size_t *n)
{
	uint32_t len;

	*n = 0;
	if (proto_get_u32(r, &len) != 0)
		return NULL;
	if (len > max || len > r->left) {
		r->err = -EBADMSG;
		return NULL;
	}
	*n = len;
	return proto_rbuf_take(r, len);
}

int
proto_get_str(struct proto_rbuf *r, char **out, size_t max)
{
	const uint8_t *p;
	size_t n;
	char *s;

	*out = NULL;
	if ((p = proto_rbuf_take_blob(r, max, &n)) == NULL)
		return r->err;
	if (n > 0 && memchr(p, '\0', n) != NULL)
		return r->err = -EBADMSG;
	if ((s = malloc(n + 1)) == NULL)
		return r->err = -ENOMEM;
	memcpy(s, p, n);
	s[n] = '\0';
	*out = s;
	return 0;
}

int
proto_get_bytes(struct proto_rbuf *r, uint8_t **out, size_t *n, size_t max)
{
	const uint8_t *p;
	size_t len;

	*out = NULL;
	*n = 0;
	if ((p = proto_rbuf_take_blob(r, max, &len)) == NULL)
		return r->err;
	/* One byte more: a NUL after the bytes (not counted), so that text (a command's stdout
	 * and stderr) can be logged as it is; and malloc never sees 0. */
	if ((*out = malloc(len + 1)) == NULL)
		return r->err = -ENOMEM;
	if (len > 0)
		memcpy(*out, p, len);
	(*out)[len] = '\0';
	*n = len;
	return 0;
}

int
proto_end(struct proto_rbuf *r)
{
	if (r->err == 0 && r->left != 0)
		r->err = -EBADMSG;
	return r->err;
}

/* A string field bounded by max; an over-long one makes the whole message -EMSGSIZE. Shared
 * by every typed encoder (proto_msgs.c, proto_cloud.c, proto_ssh.c). */
void
proto_put_str_max(struct proto_wbuf *w, const char *s, size_t max)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (w->err == 0 && n > max) {
		w->err = -EMSGSIZE;
		return;
	}
	proto_put_strn(w, s, n);
}

/* End an encoded message; on failure the buffer is freed (wiped if secret). */
int
proto_encode_finish(struct proto_wbuf *w)
{
	int r = proto_wbuf_end(w);

	if (r != 0)
		proto_wbuf_free(w);
	return r;
}
