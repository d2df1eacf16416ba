"""fakearv_params - request parameters as controller decodes them (router/request.go).

Query string and urlencoded body are merged (body wins); a JSON body (Content-Type
application/json, or no Content-Type) adds its keys. Form values that look like JSON ('[', '{',
'"') are decoded as JSON, "null" and "" mean null; undecodable JSON is a 400.
"""
import json
import re
import urllib.parse

from fakearv_errors import errors_bad_request

# limit/offset stay text so that Rails' own digits-only check (422) applies.
RAW_PARAMS = ("limit", "offset")
_AUTH_RE = re.compile(r"^(?:OAuth2|Bearer) ([!-~]+)$")


def _params_reject_constant(name):
	raise ValueError("invalid JSON literal %s" % name)


def params_json(text):
	"""Strict JSON (no NaN/Infinity, as Go's decoder), full \\uXXXX support."""
	return json.loads(text, parse_constant=_params_reject_constant)


def params_guess(k, v):
	if k in RAW_PARAMS:
		return v
	if v in ("null", ""):
		return None
	if v[:1] in ("[", "{", '"'):
		try:
			return params_json(v)
		except ValueError as e:
			raise errors_bad_request("error decoding %r parameter: %s" % (k, e))
	return v


def _params_form(text):
	out = {}
	for k, v in urllib.parse.parse_qsl(text, keep_blank_values=True, errors="strict"):
		out[k] = v
	return out


def params_parse(query, headers, body, attrs_key=None):
	"""Returns (params, query_params, body_params): params decoded and merged; the other two
	are the raw decoded name/value pairs, for the request log."""
	try:
		qp = _params_form(query)
	except UnicodeDecodeError:
		raise errors_bad_request("invalid UTF-8 in query string")
	ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
	bp = {}
	jp = None
	if body:
		if ctype == "application/x-www-form-urlencoded":
			try:
				bp = _params_form(body.decode("utf-8"))
			except UnicodeDecodeError:
				raise errors_bad_request("invalid UTF-8 in form body")
		elif ctype in ("application/json", ""):
			try:
				jp = params_json(body.decode("utf-8"))
			except (UnicodeDecodeError, ValueError) as e:
				raise errors_bad_request("error decoding JSON body: %s" % e)
			if not isinstance(jp, dict):
				raise errors_bad_request("JSON body must be an object")
	params = {}
	for src in (qp, bp):
		for k, v in src.items():
			params[k] = params_guess(k, v)
	if jp is not None:
		for k, v in jp.items():
			params[k] = params_guess(k, v) if isinstance(v, str) else v
		if attrs_key and params.get(attrs_key) is None:
			params[attrs_key] = {k: v for k, v in jp.items() if k != attrs_key}
	if isinstance(params.get("order"), str):
		params["order"] = params["order"].split(",") if params["order"] else None
	logged_body = bp if jp is None else jp
	return params, qp, logged_body


def params_token(headers, params):
	"""The presented token: Authorization 'Bearer|OAuth2 <tok>', else api_token/oauth_token."""
	m = _AUTH_RE.match(headers.get("Authorization") or "")
	if m:
		return m.group(1)
	for k in ("api_token", "oauth_token"):
		if isinstance(params.get(k), str) and params[k]:
			return params[k]
	return None
