"""fakearv_errors - the error the fake raises, and how the real stack words it.

RailsAPI renders an exception as its Ruby inspect form ('#<ArgumentError: ...>') or, for a
validation failure, as the bare validation text; controller keeps the status. The fake keeps
the two layers apart so the bodies look like the real ones (spec 5.3).
"""


class ApiError(Exception):
	"""status: HTTP status; message: the text Rails would put in errors[];
	layer: 'rails' (gets controller's prefix) or 'controller' (no prefix)."""

	def __init__(self, status, message, layer="rails"):
		super().__init__(message)
		self.status = status
		self.message = message
		self.layer = layer


def errors_exc(status, ruby_class, text):
	"""An error rendered from a Ruby exception (render_error's e.inspect)."""
	return ApiError(status, "#<%s: %s>" % (ruby_class, text))


def errors_argument(text):
	"""Bad parameters: ArgumentError, rendered 422 by Rails."""
	return errors_exc(422, "ArgumentError", text)


def errors_lock_failed(text):
	return errors_exc(422, "ArvadosModel::LockFailedError", text)


def errors_invalid_transition(text):
	return errors_exc(422, "ArvadosModel::InvalidStateTransitionError", text)


def errors_permission(text):
	return errors_exc(403, "ArvadosModel::PermissionDeniedError", text)


def errors_validation(messages):
	"""A failed validation: Rails sends errors.full_messages, one string each."""
	if isinstance(messages, str):
		messages = [messages]
	e = ApiError(422, messages[0])
	e.messages = list(messages)
	return e


def errors_not_found():
	return ApiError(404, "Path not found")


def errors_not_logged_in():
	return ApiError(401, "Not logged in")


def errors_forbidden():
	return ApiError(403, "Forbidden")


def errors_bad_request(text):
	"""Controller refuses requests it cannot parse (router.loadRequestParams) with 400."""
	return ApiError(400, text, layer="controller")


REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
	   422: "Unprocessable Entity", 500: "Internal Server Error", 502: "Bad Gateway",
	   503: "Service Unavailable", 504: "Gateway Timeout"}


def errors_messages(err, path, request_id):
	"""The errors[] array for err as the client sees it through controller: Rails appends
	the request id, controller prefixes the internal URL and status."""
	msgs = getattr(err, "messages", [err.message])
	if err.layer != "rails":
		return list(msgs)
	prefix = "//railsapi.internal%s: %d %s: " % (path, err.status, REASONS.get(err.status, "Error"))
	return [prefix + "%s (%s)" % (m, request_id) for m in msgs]
