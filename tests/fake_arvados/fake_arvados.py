#!/usr/bin/python3
"""fake_arvados.py - a faithful fake of the Arvados API server's containers API (controller +
RailsAPI as the cloud dispatcher sees them), for tests. See README.md and
shared/spec/arvados-api-server.md.

  /usr/bin/python3 fake_arvados.py --port N [--tls CERT KEY] [--token TOKEN ...]
      [--user-token TOKEN ...] [--cluster-id zzzzz] [--fixtures FILE]
      [--max-dispatch-attempts N] [--page-limit N] [--mounts-page-limit N]
      [--max-items-per-response N]
      [--retry-on-cancel]

When ready it prints one JSON line {"url":..., "host":..., "port":..., "tls":...} on stdout.
"""
import argparse
import json
import os
import random
import re
import ssl
import string
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakearv_errors import ApiError, errors_messages, errors_not_found  # noqa: E402
from fakearv_faults import Faults, RequestLog  # noqa: E402
from fakearv_model import Model  # noqa: E402
from fakearv_params import params_parse, params_token  # noqa: E402
from fakearv_fixtures import fixtures_load  # noqa: E402
from fakearv_control import Control  # noqa: E402

_UUID = r"([a-z0-9]{5}-dz642-[a-z0-9]{15})"
# (method, regex, route name); first match wins, so 'current' precedes the uuid routes.
ROUTES = [
	("GET", re.compile(r"^/arvados/v1/api_client_authorizations/current$"), "token_current"),
	("GET", re.compile(r"^/arvados/v1/containers$"), "list"),
	("POST", re.compile(r"^/arvados/v1/containers$"), "create"),
	("GET", re.compile(r"^/arvados/v1/containers/current$"), "current"),
	("GET", re.compile(r"^/arvados/v1/containers/%s$" % _UUID), "get"),
	("PUT", re.compile(r"^/arvados/v1/containers/%s$" % _UUID), "update"),
	("PATCH", re.compile(r"^/arvados/v1/containers/%s$" % _UUID), "update"),
	("DELETE", re.compile(r"^/arvados/v1/containers/%s$" % _UUID), "delete"),
	("POST", re.compile(r"^/arvados/v1/containers/%s/lock$" % _UUID), "lock"),
	("POST", re.compile(r"^/arvados/v1/containers/%s/unlock$" % _UUID), "unlock"),
	("POST", re.compile(r"^/arvados/v1/containers/%s/update_priority$" % _UUID), "update_priority"),
	("GET", re.compile(r"^/arvados/v1/containers/%s/auth$" % _UUID), "auth"),
	("GET", re.compile(r"^/arvados/v1/containers/%s/secret_mounts$" % _UUID), "secret_mounts"),
]
# A syntactically wrong uuid in a container path is still a container route (404 from Rails,
# not controller), so it gets 'Path not found'.
_ANY_CONTAINER = re.compile(r"^/arvados/v1/containers/[^/]+(/(lock|unlock|update_priority|auth|secret_mounts))?$")


def server_request_id():
	return "req-" + "".join(random.SystemRandom().choice(string.ascii_lowercase + string.digits)
				for _ in range(20))


def server_route(method, path):
	for m, rx, name in ROUTES:
		if m != method:
			continue
		g = rx.match(path)
		if g:
			return name, (g.group(1) if g.groups() else None)
	return None, None


class FakeState:
	"""Everything a handler needs; rebuilt in place by /_fake/reset."""

	def __init__(self, args):
		self.args = args
		self.faults = Faults()
		self.log = RequestLog()
		self.server_reset()

	def server_reset(self):
		a = self.args
		self.model = Model(cluster=a.cluster_id, max_dispatch_attempts=a.max_dispatch_attempts,
				   max_items=a.max_items_per_response, page_limit=a.page_limit,
				   mounts_page_limit=a.mounts_page_limit)
		self.model.retry_on_cancel = a.retry_on_cancel
		for i, t in enumerate(a.token):
			self.model.model_add_token(t, admin=True, root=(i == 0))
		for t in a.user_token:
			self.model.model_add_token(t, admin=False)
		if a.fixtures:
			for rec in fixtures_load(a.fixtures).values():
				self.model.model_insert(rec)
		self.faults.faults_clear()
		self.log.log_clear()


class Handler(BaseHTTPRequestHandler):
	protocol_version = "HTTP/1.1"
	server_version = "fake-arvados/1"
	# Headers and body go out as separate writes: with Nagle on, every keep-alive response
	# waits for the client's delayed ACK (40 ms), capping a client at ~25 requests/s per
	# connection.
	disable_nagle_algorithm = True

	def log_message(self, fmt, *args):
		if self.server.state.args.verbose:
			sys.stderr.write("fake_arvados: " + (fmt % args) + "\n")

	def do_GET(self):
		self.server_handle()

	do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

	# ---- plumbing -----------------------------------------------------------------------

	def server_send(self, status, body, request_id=None, ctype="application/json", close=False):
		if isinstance(body, (dict, list)):
			body = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
		# The log shows the status before the client can see the answer, so a client that reads
		# the log right after its call finds it complete.
		entry = getattr(self, "server_log_entry", None)
		if entry is not None:
			entry["status"] = status
		self.send_response(status)
		self.send_header("Content-Type", ctype)
		self.send_header("Content-Length", str(len(body)))
		if request_id:
			self.send_header("X-Request-Id", request_id)
		if close:
			self.send_header("Connection", "close")
			self.close_connection = True
		self.end_headers()
		if self.command != "HEAD":
			self.wfile.write(body)

	def server_error_body(self, err, path, request_id):
		return {"errors": errors_messages(err, path, request_id),
			"error_token": "%d+%08x" % (time.time(), random.getrandbits(32))}

	def server_read_body(self):
		n = int(self.headers.get("Content-Length") or 0)
		return self.rfile.read(n) if n > 0 else b""

	def server_handle(self):
		state = self.server.state
		url = urllib.parse.urlsplit(self.path)
		path = url.path
		body = self.server_read_body()
		if path.startswith("/_fake/"):
			return Control(state, self).control_handle(self.command, path, url.query, body)
		request_id = self.headers.get("X-Request-Id") or server_request_id()
		method = self.command
		override = self.headers.get("X-Http-Method-Override")
		if method == "POST" and override:
			method = override.upper()
		elif method == "POST" and b"_method=" in body:
			m = re.search(rb"(?:^|&)_method=([A-Za-z]+)", body)
			if m:
				method = m.group(1).decode().upper()
		route, uuid = server_route(method, path)
		entry = state.log.log_start(
			method=method, original_method=self.command, path=path, route=route, uuid=uuid,
			query=dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
			body=None, params=None, token=None, request_id=request_id,
			headers={h: self.headers.get(h) for h in RequestLog.HEADERS if self.headers.get(h) is not None},
			fault=None)
		self.server_log_entry = entry
		try:
			status = self.server_dispatch(state, entry, method, route, uuid, path, url.query, body, request_id)
		except (BrokenPipeError, ConnectionResetError):
			status = -1
			self.close_connection = True
		finally:
			self.server_log_entry = None
		entry["status"] = status
		entry["duration"] = time.time() - entry["time"]

	def server_dispatch(self, state, entry, method, route, uuid, path, query, body, request_id):
		"""Runs one API call; returns the status sent (0 when no response was sent)."""
		form = urllib.parse.unquote_plus(query) + "&" + urllib.parse.unquote_plus(
			body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or ""))
		fault = state.faults.faults_match(method, route or "", path, uuid, form)
		post = None
		if fault:
			entry["fault"] = fault["id"]
			if fault.get("delay"):
				state.faults.released.wait(float(fault["delay"]))
			if fault.get("hang"):
				hang = fault["hang"]
				state.faults.released.wait(3600 if hang is True else float(hang))
				self.close_connection = True
				return 0
			if fault.get("drop"):
				self.close_connection = True
				return 0
			if fault.get("busy"):
				# controller's request limiter: bare 503, empty body
				self.server_send(503, b"", request_id, ctype="text/plain; charset=utf-8")
				return 503
			if fault.get("status"):
				st = int(fault["status"])
				if "body" in fault:
					self.server_send(st, fault["body"].encode("utf-8"), request_id)
				else:
					msgs = fault.get("errors") or ["fake injected error %d" % st]
					self.server_send(st, {"errors": msgs, "error_token": "%d+%08x" % (
						time.time(), random.getrandbits(32))}, request_id)
				return st
			if fault.get("malformed") or fault.get("truncated"):
				post = fault
		try:
			if route is None:
				if _ANY_CONTAINER.match(path) and method in ("GET", "PUT", "PATCH", "DELETE", "POST"):
					raise errors_not_found()
				raise ApiError(404, "API endpoint not found", layer="controller")
			params, qp, bp = params_parse(query, self.headers, body,
						      attrs_key="container" if route in ("update", "create") else None)
			entry["params"] = params
			entry["body"] = bp
			presented = params_token(self.headers, params)
			entry["token"] = presented
			tok = state.model.model_auth(presented)
			entry["token_uuid"] = tok.uuid
			result = self.server_call(state.model, tok, route, uuid, params)
			status = 200
		except ApiError as err:
			status = err.status
			result = self.server_error_body(err, path, request_id)
		if post is None:
			self.server_send(status, result, request_id)
			return status
		data = json.dumps(result, separators=(",", ":")).encode("utf-8")
		if post.get("malformed"):
			self.server_send(status, data[: max(1, len(data) // 2)] + b"}}]", request_id)
			return status
		# truncated: promise the whole body, send half, hang up
		self.send_response(status)
		self.send_header("Content-Type", "application/json")
		self.send_header("Content-Length", str(len(data)))
		self.send_header("X-Request-Id", request_id)
		self.end_headers()
		self.wfile.write(data[: len(data) // 2])
		self.wfile.flush()
		self.close_connection = True
		return status

	@staticmethod
	def server_call(model, tok, route, uuid, params):
		if route == "token_current":
			return tok.record()
		if route == "list":
			return model.model_list(tok, params)
		if route == "get":
			return model.model_show(tok, uuid, params)
		if route == "lock":
			return model.model_lock(tok, uuid)
		if route == "unlock":
			return model.model_unlock(tok, uuid)
		if route == "update":
			return model.model_update(tok, uuid, params.get("container"), params)
		if route == "create":
			return model.model_create(tok, params.get("container"), params)
		if route == "delete":
			return model.model_delete(tok, uuid)
		if route == "auth":
			return model.model_auth_record(tok, uuid)
		if route == "secret_mounts":
			return model.model_secret_mounts(tok, uuid)
		if route == "current":
			return model.model_current(tok)
		if route == "update_priority":
			# no container requests are modelled: priority stays as it is
			return model.model_show(tok, uuid, {})
		raise errors_not_found()


class Server(ThreadingHTTPServer):
	daemon_threads = True
	allow_reuse_address = True

	def __init__(self, addr, state, tls_ctx):
		self.state = state
		self.tls_ctx = tls_ctx
		super().__init__(addr, Handler)

	def finish_request(self, request, client_address):
		# The TLS handshake runs here, in the connection's own thread, so one silent client
		# cannot stall accept() for everyone.
		if self.tls_ctx is not None:
			try:
				request.settimeout(30)
				request = self.tls_ctx.wrap_socket(request, server_side=True)
				request.settimeout(None)
			except (ssl.SSLError, OSError):
				return
		super().finish_request(request, client_address)

	def handle_error(self, request, client_address):
		if self.state.args.verbose:
			super().handle_error(request, client_address)


def server_args(argv):
	p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
	p.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1 (0: any free port)")
	p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (127.0.0.0/8 only)")
	p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS with this cert and key")
	p.add_argument("--token", action="append", default=[],
		       help="admin token; the first is the SystemRootToken (uuid <cluster>-gj3su-000000000000000)")
	p.add_argument("--user-token", action="append", default=[], help="non-admin token (sees no containers)")
	p.add_argument("--cluster-id", default="zzzzz")
	p.add_argument("--fixtures", help="containers.yml fixtures loaded as the initial table")
	p.add_argument("--max-dispatch-attempts", type=int, default=10)
	p.add_argument("--page-limit", type=int, default=0,
		       help="return at most N items per page when more match (emulates MaxIndexDatabaseRead)")
	p.add_argument("--mounts-page-limit", type=int, default=0,
		       help="the same, only for lists whose select includes mounts (or has no select): "
		       "MaxIndexDatabaseRead counts the mounts column only (Container.limit_index_columns_read)")
	p.add_argument("--max-items-per-response", type=int, default=1000)
	p.add_argument("--retry-on-cancel", action="store_true",
		       help="a cancelled container with priority > 0 gets a Queued replacement (spec 4.7)")
	p.add_argument("--verbose", action="store_true")
	a = p.parse_args(argv)
	if not a.host.startswith("127."):
		p.error("--host must be in 127.0.0.0/8")
	if not re.fullmatch(r"[a-z0-9]{5}", a.cluster_id):
		p.error("--cluster-id must be 5 lowercase alphanumerics")
	return a


def main(argv):
	args = server_args(argv)
	state = FakeState(args)
	ctx = None
	if args.tls:
		ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
		ctx.load_cert_chain(args.tls[0], args.tls[1])
	srv = Server((args.host, args.port), state, ctx)
	host, port = srv.server_address[:2]
	scheme = "https" if ctx else "http"
	print(json.dumps({"url": "%s://%s:%d" % (scheme, host, port), "host": host, "port": port,
			  "tls": bool(ctx), "pid": os.getpid()}), flush=True)
	try:
		srv.serve_forever(poll_interval=0.2)
	except KeyboardInterrupt:
		pass
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
