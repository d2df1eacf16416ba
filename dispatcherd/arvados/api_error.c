/* api_error.c - see api_error.h. */
#include "api_error.h"
#include "api_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
api_error_status_text(long status)
{
	static const struct {
		long code;
		const char *text;
	} t[] = {
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 408, "Request Timeout" },
		{ 409, "Conflict" },
		{ 410, "Gone" },
		{ 413, "Payload Too Large" },
		{ 422, "Unprocessable Entity" },
		{ 423, "Locked" },
		{ 429, "Too Many Requests" },
		{ 500, "Internal Server Error" },
		{ 501, "Not Implemented" },
		{ 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
		{ 200, "OK" },
		{ 201, "Created" },
		{ 202, "Accepted" },
		{ 204, "No Content" },
		{ 301, "Moved Permanently" },
		{ 302, "Found" },
		{ 303, "See Other" },
		{ 304, "Not Modified" },
		{ 307, "Temporary Redirect" },
		{ 308, "Permanent Redirect" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].code == status)
			return t[i].text;
	return "";
}

/* The server's messages joined by "; ", or NULL when the body has no errors array. */
static char *
api_error_messages(const char *body, size_t len)
{
	cJSON *root = NULL, *errs, *e;
	size_t need = 1;
	char *out;

	if (body == NULL || len == 0 || api_json_parse(body, len, &root, NULL) != 0)
		return NULL;
	errs = cJSON_GetObjectItemCaseSensitive(root, "errors");
	if (!cJSON_IsArray(errs) || cJSON_GetArraySize(errs) == 0) {
		cJSON_Delete(root);
		return NULL;
	}
	cJSON_ArrayForEach(e, errs) need += (cJSON_IsString(e) ? strlen(e->valuestring) : 6) + 2;
	out = malloc(need);
	if (out != NULL) {
		out[0] = '\0';
		cJSON_ArrayForEach(e, errs)
		{
			if (out[0] != '\0')
				strcat(out, "; ");
			strcat(out, cJSON_IsString(e) ? e->valuestring : "(?)");
		}
	}
	cJSON_Delete(root);
	return out;
}

char *
api_error_http(const char *what, long status, const char *body, size_t len)
{
	char *msgs = api_error_messages(body, len), *out = NULL;
	const char *st = api_error_status_text(status);
	int n;

	n = asprintf(&out, "request failed: %s: %ld%s%s: %s", what, status, st[0] ? " " : "", st,
		     msgs != NULL ? msgs : "(no error details in the response)");
	free(msgs);
	return n < 0 ? NULL : out;
}

int
api_error_curl_code(CURLcode res)
{
	switch (res) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -ECONNREFUSED;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return -EKEYREJECTED;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
		return -ECONNABORTED;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return -ECONNRESET;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return -EFBIG;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static const char *
api_error_kind(int code)
{
	switch (code) {
	case -ECONNREFUSED:
		return "connection failed";
	case -EKEYREJECTED:
		return "TLS certificate verification failed";
	case -ECONNABORTED:
		return "TLS failure";
	case -ECONNRESET:
		return "connection lost";
	case -EFBIG:
		return "response too large";
	case -ENOMEM:
		return "out of memory";
	default:
		return "transport error";
	}
}

char *
api_error_transport(const char *what, CURLcode res, const char *errbuf)
{
	int code = api_error_curl_code(res);
	const char *detail = (errbuf != NULL && errbuf[0] != '\0') ? errbuf
								   : curl_easy_strerror(res);
	char *out = NULL;
	int n;

	if (code == -ETIMEDOUT)
		n = asprintf(&out, "request failed: %s: timed out: %s", what, detail);
	else
		n = asprintf(&out, "request failed: %s: %s: %s", what, api_error_kind(code),
			     detail);
	return n < 0 ? NULL : out;
}
