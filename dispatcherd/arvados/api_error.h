/*
 * api_error.h - error texts and codes for failed API requests.
 *
 * Texts follow the reference's TransactionError ("request failed: <url>: <status>: <errors
 * joined by "; ">"), with the method in front of the URL. URLs here never carry a query
 * string, and nothing here ever sees the token.
 */
#ifndef ADC_API_ERROR_H
#define ADC_API_ERROR_H

#include <stddef.h>
#include <curl/curl.h>

/* "Not Found" for 404 etc.; "" when unknown. */
const char *api_error_status_text(long status);

/* The text for an HTTP status other than 200/204; body is the response (may be NULL, need not
 * be NUL-terminated): its "errors" array is appended when it has one. NULL on ENOMEM. */
char *api_error_http(const char *what, long status, const char *body, size_t len);

/* The negative errno for a transport failure: -ETIMEDOUT, -ECONNREFUSED (could not connect
 * or resolve), -EKEYREJECTED (TLS certificate not trusted), -ECONNABORTED (other TLS failure),
 * -ECONNRESET (connection lost), -EFBIG (response too large), else -EIO. */
int api_error_curl_code(CURLcode res);

/* The text for a transport failure: what failed, then curl's detail (errbuf, may be ""). */
char *api_error_transport(const char *what, CURLcode res, const char *errbuf);

#endif
