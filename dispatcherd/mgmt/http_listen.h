/*
 * http_listen.h - where the management server listens (spec/dispatcher.md 1.4) and the socket
 * it listens on: a socket handed over by systemd socket activation (LISTEN_FDS), or one bound
 * here to the address chosen from Services.DispatchCloud.InternalURLs.
 */
#ifndef ADC_HTTP_LISTEN_H
#define ADC_HTTP_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct http_listen {
	char *listen_url; /* the URL listened on (ListenURL, else the internal URL) */
	char *internal_url;
	bool https;
	int fd;		/* listening, non-blocking, close-on-exec; -1 after handing over */
	bool activated; /* fd came from systemd */
};

/*
 * Choose and open the listener. env_url is $ARVADOS_SERVICE_INTERNAL_URL (NULL/"" when unset).
 * On failure returns a negative errno and writes the error text to err, for the 1.4 cases
 * exactly: `could not enable the "dispatch-cloud" service on this host: <a>; <b>` and
 * `configuration does not enable the "dispatch-cloud" service on this host`.
 */
int http_listen_open(const struct cfg_internal_url *urls, size_t n, const char *env_url,
		     struct http_listen *out, char *err, size_t errlen);
void http_listen_free(struct http_listen *l);

/* Read TLS.Certificate / TLS.Key: "file:///path", an absolute path, or inline PEM. The key
 * buffer is the caller's to wipe (adc_free_secret_str). 0 or -errno with err filled. */
int http_listen_load_tls(const char *cert, const char *key, char **cert_pem, char **key_pem,
			 char *err, size_t errlen);

/* Normalise a URL as the config does (path "" -> "/"); malloc'd, NULL when unparsable. */
char *http_listen_normalize_url(const char *url);

#endif
