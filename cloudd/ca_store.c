/* ca_store.c - see ca_store.h. */
#include "ca_store.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

struct ca_buf {
	uint8_t *p;
	size_t len, max;
};

static const char *
ca_env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v ? v : NULL;
}

void
ca_sources_default(struct ca_sources *s)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	memset(s, 0, sizeof(*s));
	s->aws_ca_bundle = ca_env("AWS_CA_BUNDLE");
	s->ssl_cert_file = ca_env("SSL_CERT_FILE");
	s->ssl_cert_dir = ca_env("SSL_CERT_DIR");
	if (v != NULL && v->age >= CURLVERSION_SEVENTH) {
		s->curl_cainfo = v->cainfo;
		s->curl_capath = v->capath;
	}
}

/* Appends the regular file at path (and a newline). 0 or -errno. */
static int
ca_append_file(struct ca_buf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;
	struct stat st;
	uint8_t *np;
	size_t want, got = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EISDIR;
		goto out;
	}
	want = (size_t)st.st_size;
	if (want > b->max || b->len + want + 2 > b->max) {
		r = -EFBIG;
		goto out;
	}
	if ((np = realloc(b->p, b->len + want + 2)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	b->p = np;
	while (got < want) {
		ssize_t n = read(fd, b->p + b->len + got, want - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break; /* shrank under us: keep what was there */
		got += (size_t)n;
	}
	b->len += got;
	b->p[b->len++] = '\n';
	b->p[b->len] = 0;
out:
	close(fd);
	return r;
}

/* OpenSSL's hashed-directory names: 8 hex digits, ".", a decimal suffix (CRLs are ".rN"). */
static int
ca_hashed_name(const char *n)
{
	for (int i = 0; i < 8; i++)
		if (!isxdigit((unsigned char)n[i]))
			return 0;
	if (n[8] != '.' || !isdigit((unsigned char)n[9]))
		return 0;
	for (const char *c = n + 9; *c; c++)
		if (!isdigit((unsigned char)*c))
			return 0;
	return 1;
}

/* The hashed certificates of one directory, in name order. 0 or -errno (with *bad naming
 * the file that failed, when one did). */
static int
ca_append_dir(struct ca_buf *b, const char *dir, char *bad, size_t badlen)
{
	struct dirent **names = NULL;
	char path[4096];
	int n = scandir(dir, &names, NULL, alphasort), r = 0;

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		if (r == 0 && ca_hashed_name(names[i]->d_name)) {
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name) >=
			    sizeof(path))
				r = -ENAMETOOLONG;
			else
				r = ca_append_file(b, path);
			/* A dangling link is skipped, as OpenSSL skips it. */
			if (r == -ENOENT)
				r = 0;
			if (r != 0)
				snprintf(bad, badlen, "%s", path);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

/* Each directory of a ':'-separated list; a missing one is skipped, as OpenSSL skips it, but
 * -ENOENT when none of them exists. */
static int
ca_append_dirs(struct ca_buf *b, const char *list, const char *var, char *err, size_t errlen)
{
	char *copy = strdup(list), *save = NULL, bad[4096];
	int r = copy ? 0 : -ENOMEM, found = 0;

	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; r == 0 && d != NULL;
	     d = strtok_r(NULL, ":", &save)) {
		bad[0] = 0;
		r = ca_append_dir(b, d, bad, sizeof(bad));
		if (r == -ENOENT && bad[0] == 0) {
			r = 0;
			continue;
		}
		found++;
		if (r != 0)
			snprintf(err, errlen, "cannot read the CA certificates of %s %s: %s", var,
				 bad[0] ? bad : d, strerror(-r));
	}
	free(copy);
	if (r == 0 && found == 0) {
		snprintf(err, errlen, "%s %s: no such directory", var, list);
		r = -ENOENT;
	}
	return r;
}

static void
ca_from(char *from, size_t fromlen, const char *what, const char *path)
{
	size_t l = strlen(from);

	if (l < fromlen)
		snprintf(from + l, fromlen - l, "%s%s %s", l ? ", " : "", what, path);
}

int
ca_store_load(const struct ca_sources *s, uint8_t **pem, size_t *len, size_t max, char *from,
	      size_t fromlen, char *err, size_t errlen)
{
	struct ca_buf b = { .max = max };
	int r = 0;

	*pem = NULL;
	*len = 0;
	if (fromlen)
		from[0] = 0;
	if (errlen)
		err[0] = 0;
	if (s->aws_ca_bundle != NULL) {
		if ((r = ca_append_file(&b, s->aws_ca_bundle)) != 0)
			snprintf(err, errlen, "cannot read AWS_CA_BUNDLE %s: %s", s->aws_ca_bundle,
				 strerror(-r));
		else
			ca_from(from, fromlen, "AWS_CA_BUNDLE", s->aws_ca_bundle);
		goto out;
	}
	if (s->ssl_cert_file != NULL) {
		if ((r = ca_append_file(&b, s->ssl_cert_file)) != 0) {
			snprintf(err, errlen, "cannot read SSL_CERT_FILE %s: %s", s->ssl_cert_file,
				 strerror(-r));
			goto out;
		}
		ca_from(from, fromlen, "SSL_CERT_FILE", s->ssl_cert_file);
	} else if (s->curl_cainfo != NULL) {
		r = ca_append_file(&b, s->curl_cainfo);
		if (r != 0 && r != -ENOENT) {
			snprintf(err, errlen, "cannot read the default CA bundle %s: %s",
				 s->curl_cainfo, strerror(-r));
			goto out;
		}
		if (r == 0)
			ca_from(from, fromlen, "default bundle", s->curl_cainfo);
		r = 0;
	}
	if (s->ssl_cert_dir != NULL) {
		if ((r = ca_append_dirs(&b, s->ssl_cert_dir, "SSL_CERT_DIR", err, errlen)) != 0)
			goto out;
		ca_from(from, fromlen, "SSL_CERT_DIR", s->ssl_cert_dir);
	} else if (b.len == 0 && s->curl_capath != NULL) {
		r = ca_append_dirs(&b, s->curl_capath, "the default CA path", err, errlen);
		if (r == -ENOENT) {
			r = 0;
			err[0] = 0;
		} else if (r == 0 && b.len > 0) {
			ca_from(from, fromlen, "default path", s->curl_capath);
		}
	}
out:
	if (r != 0) {
		free(b.p);
		return r;
	}
	*pem = b.p;
	*len = b.len;
	return 0;
}
