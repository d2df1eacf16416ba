/* http_request.h - one request's life inside MHD: begin, body, dispatch, completion. */
#ifndef ADC_HTTP_REQUEST_H
#define ADC_HTTP_REQUEST_H

#include "http_internal.h"

/* MHD_OPTION_URI_LOG_CALLBACK: the request line is in; returns the request state. */
void *http_request_begin(void *cls, const char *uri, struct MHD_Connection *conn);
/* MHD_AccessHandlerCallback. */
enum MHD_Result
http_request_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
		    const char *version, const char *upload_data, size_t *upload_data_size,
		    void **con_cls);
/* MHD_OPTION_NOTIFY_COMPLETED: the `response` log entry, metrics, free. */
void http_request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			    enum MHD_RequestTerminationCode toe);

#endif
