/*
 * http_listen.c - spec 1.4 with libcurl's URL parser (curl_url) and getaddrinfo.
 *
 * The reference test-binds, closes, and binds again later; here the test-bind socket is kept
 * and becomes the listener, so nothing can take the port in between.
 */
#include "http_listen.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define SVC "\"dispatch-cloud\""

char *
http_listen_normalize_url(const char *url)
{
	CURLU *u = curl_url();
	char *s = NULL, *out = NULL;
	if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
		out = strdup(s);
	curl_free(s);
	curl_url_cleanup(u);
	return out;
}

/* host and port (the scheme's default when absent) of url; 0 or -EINVAL. */
static int
url_host_port(const char *url, char **host, char **port, bool *https)
{
	CURLU *u = curl_url();
	char *h = NULL, *p = NULL, *sch = NULL;
	int rc = -EINVAL;
	if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &sch, 0) == CURLUE_OK) {
		size_t n = strlen(h);
		/* [::1] -> ::1 for getaddrinfo. */
		if (n >= 2 && h[0] == '[' && h[n - 1] == ']')
			*host = strndup(h + 1, n - 2);
		else
			*host = strdup(h);
		*port = strdup(p);
		*https = strcmp(sch, "https") == 0;
		rc = *host && *port ? 0 : -ENOMEM;
	}
	curl_free(h);
	curl_free(p);
	curl_free(sch);
	curl_url_cleanup(u);
	return rc;
}

static int
set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

/* Go's error texts are lower case ("address already in use"). */
static void
go_errno_text(int e, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(e));
	if (buf[0])
		buf[0] = (char)tolower((unsigned char)buf[0]);
}

/* Bind and listen on host:port. fd >= 0, or -errno with why filled. */
static int
bind_listen(const char *host, const char *port, char *why, size_t len)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM }, *res, *ai;
	int g = getaddrinfo(*host ? host : NULL, port, &hints, &res);
	if (g) {
		snprintf(why, len, "listen tcp %s:%s: lookup %s: %s", host, port, host,
			 gai_strerror(g));
		return -EINVAL;
	}
	/* Prefer IPv4, as Go's resolver does for "localhost". */
	for (ai = res; ai && ai->ai_family != AF_INET; ai = ai->ai_next)
		;
	if (!ai)
		ai = res;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1,
	    e = 0;
	if (fd < 0)
		e = errno;
	else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		 bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 512) < 0)
		e = errno;
	freeaddrinfo(res);
	if (e) {
		char t[128];
		go_errno_text(e, t, sizeof(t));
		snprintf(why, len, "listen tcp %s:%s: bind: %s", host, port, t);
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

static int
set_out(struct http_listen *out, const char *listen_url, const char *internal_url, int fd,
	bool https)
{
	out->listen_url = strdup(listen_url);
	out->internal_url = strdup(internal_url);
	out->fd = fd;
	out->https = https;
	if (!out->listen_url || !out->internal_url) {
		http_listen_free(out);
		return -ENOMEM;
	}
	return 0;
}

static const char *
listen_of(const struct cfg_internal_url *u)
{
	return u->listen_url && *u->listen_url ? u->listen_url : u->url;
}

/* The entry for $ARVADOS_SERVICE_INTERNAL_URL; NULL when none matches. */
static const struct cfg_internal_url *
match_env(const struct cfg_internal_url *urls, size_t n, const char *want)
{
	const struct cfg_internal_url *hit = NULL;
	for (size_t i = 0; !hit && i < n; i++) {
		char *a = http_listen_normalize_url(urls[i].url);
		if (a && strcmp(a, want) == 0)
			hit = &urls[i];
		free(a);
	}
	return hit;
}

static int
open_url(const char *listen_url, const char *internal_url, struct http_listen *out, char *err,
	 size_t errlen)
{
	char *host = NULL, *port = NULL, why[512];
	bool https = false;
	int rc = url_host_port(listen_url, &host, &port, &https);
	if (rc == 0 && (rc = bind_listen(host, port, why, sizeof(why))) < 0)
		snprintf(err, errlen, "could not enable the " SVC " service on this host: %s: %s",
			 listen_url, why);
	else if (rc < 0)
		snprintf(err, errlen, "cannot parse listen URL %s", listen_url);
	else
		rc = set_out(out, listen_url, internal_url, rc, https);
	free(host);
	free(port);
	return rc;
}

/* Step 1: $ARVADOS_SERVICE_INTERNAL_URL decides. */
static int
open_env(const struct cfg_internal_url *urls, size_t n, const char *env, struct http_listen *out,
	 char *err, size_t errlen)
{
	char *want = http_listen_normalize_url(env);
	if (!want) {
		snprintf(err, errlen, "$ARVADOS_SERVICE_INTERNAL_URL (\"%s\"): cannot parse", env);
		return -EINVAL;
	}
	const struct cfg_internal_url *hit = match_env(urls, n, want);
	int rc;
	if (hit) {
		rc = open_url(listen_of(hit), hit->url, out, err, errlen);
	} else {
		log_kv(LOG_LVL_WARN,
		       "possible configuration error: listening on $ARVADOS_SERVICE_INTERNAL_URL "
		       "even though configuration does not have a matching InternalURLs entry",
		       LF_STR("URL", want));
		rc = open_url(want, want, out, err, errlen);
	}
	free(want);
	return rc;
}

/* Step 2 and 3: the first entry that binds here. */
static int
open_any(const struct cfg_internal_url *urls, size_t n, struct http_listen *out, char *err,
	 size_t errlen)
{
	size_t used = (size_t)snprintf(err, errlen,
				       "could not enable the " SVC " service on this host: ");
	int nerr = 0;
	for (size_t i = 0; i < n; i++) {
		const char *lu = listen_of(&urls[i]);
		char *host = NULL, *port = NULL, why[512];
		bool https = false;
		int fd = url_host_port(lu, &host, &port, &https);
		if (fd == 0)
			fd = bind_listen(host, port, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "cannot parse URL");
		free(host);
		free(port);
		if (fd >= 0)
			return set_out(out, lu, urls[i].url, fd, https);
		/* Another host's address: not an error, just not this host's entry. */
		if (fd == -EADDRNOTAVAIL)
			continue;
		if (used < errlen)
			used += (size_t)snprintf(err + used, errlen - used, "%s%s: %s",
						 nerr++ ? "; " : "", lu, why);
	}
	if (!nerr)
		snprintf(err, errlen,
			 "configuration does not enable the " SVC " service on this host");
	return -EADDRNOTAVAIL;
}

/* Socket activation: the URL only tells http from https; pick the entry whose port is the
 * socket's, else the only entry, else plain http. */
static int
open_activated(const struct cfg_internal_url *urls, size_t n, const char *env,
	       struct http_listen *out, char *err, size_t errlen)
{
	int fd = SD_LISTEN_FDS_START;
	if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
		snprintf(err, errlen, "LISTEN_FDS: fd %d is not a listening stream socket", fd);
		return -EINVAL;
	}
	int rc = set_flags(fd);
	if (rc < 0) {
		snprintf(err, errlen, "LISTEN_FDS: fd %d: %s", fd, strerror(-rc));
		return rc;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char port[16] = "";
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, port, sizeof(port),
			    NI_NUMERICSERV);
	const char *lu = env && *env ? env : (n == 1 ? listen_of(&urls[0]) : NULL);
	for (size_t i = 0; !lu && i < n; i++) {
		char *h = NULL, *p = NULL;
		bool https;
		if (url_host_port(listen_of(&urls[i]), &h, &p, &https) == 0 && !strcmp(p, port))
			lu = listen_of(&urls[i]);
		free(h);
		free(p);
	}
	char *h = NULL, *p = NULL;
	bool https = false;
	if (lu && url_host_port(lu, &h, &p, &https) < 0)
		https = false;
	free(h);
	free(p);
	rc = set_out(out, lu ? lu : "", lu ? lu : "", fd, https);
	out->activated = true;
	return rc;
}

int
http_listen_open(const struct cfg_internal_url *urls, size_t n, const char *env_url,
		 struct http_listen *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	err[0] = 0;
	/* sd_listen_fds checks LISTEN_PID is ours; unset_environment so children do not inherit. */
	int nfds = sd_listen_fds(1);
	if (nfds > 0) {
		if (nfds > 1)
			log_kv(LOG_LVL_WARN, "systemd passed several sockets; using the first",
			       LF_INT("N", nfds));
		return open_activated(urls, n, env_url, out, err, errlen);
	}
	if (env_url && *env_url)
		return open_env(urls, n, env_url, out, err, errlen);
	return open_any(urls, n, out, err, errlen);
}

void
http_listen_free(struct http_listen *l)
{
	if (l->fd >= 0)
		close(l->fd);
	free(l->listen_url);
	free(l->internal_url);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

static int
read_pem(const char *what, const char *v, char **out, char *err, size_t errlen)
{
	if (!v || !*v) {
		snprintf(err, errlen,
			 "cannot enable TLS: TLS.Certificate and TLS.Key are not configured");
		return -EINVAL;
	}
	if (strncmp(v, "-----BEGIN", 10) == 0)
		return (*out = strdup(v)) ? 0 : -ENOMEM;
	const char *path = strncmp(v, "file://", 7) == 0 ? v + 7 : v;
	FILE *f = path[0] == '/' ? fopen(path, "re") : NULL;
	if (!f) {
		snprintf(err, errlen, "%s: cannot read %s: %s", what, path,
			 path[0] == '/' ? strerror(errno) : "not an absolute path or file:// URL");
		return -EINVAL;
	}
	char *buf = calloc(1, 1 << 20);
	size_t len = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	fclose(f);
	if (!buf)
		return -ENOMEM;
	buf[len] = 0;
	*out = buf;
	return 0;
}

int
http_listen_load_tls(const char *cert, const char *key, char **cert_pem, char **key_pem, char *err,
		     size_t errlen)
{
	*cert_pem = *key_pem = NULL;
	int rc = read_pem("TLS.Certificate", cert, cert_pem, err, errlen);
	if (rc == 0 && (rc = read_pem("TLS.Key", key, key_pem, err, errlen)) < 0) {
		free(*cert_pem);
		*cert_pem = NULL;
	}
	return rc;
}
