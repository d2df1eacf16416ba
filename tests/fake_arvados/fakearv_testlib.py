"""fakearv_testlib - start fake_arvados.py as a subprocess and talk to it like the Go client
(form-encoded parameters, JSON text for arrays and objects, Bearer token, X-Request-Id)."""
import http.client
import json
import os
import random
import ssl
import string
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = "rootsecret0123456789"
OTHER = "v2/zzzzz-gj3su-otherdispatch01/othersecret"
USER = "usersecret"


class Reply:
	def __init__(self, status, headers, raw):
		self.status = status
		self.headers = headers
		self.raw = raw
		try:
			self.json = json.loads(raw) if raw else None
		except ValueError:
			self.json = None

	def errtext(self):
		return " ".join(self.json["errors"]) if self.json and "errors" in self.json else ""


def testlib_go_json(v):
	"""JSON text as Go's encoder writes it (<, >, & escaped)."""
	return json.dumps(v, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def testlib_encode(params):
	"""url.Values as the Go SDK builds them from a params struct (spec 5.2)."""
	vals = []
	for k in sorted(params):
		v = params[k]
		if v is None or v is False:
			continue
		if v is True:
			v = "true"
		elif isinstance(v, (list, dict)):
			v = testlib_go_json(v)
		vals.append((k, str(v)))
	return urllib.parse.urlencode(vals)


class FakeServer:
	def __init__(self, *extra, tls=None):
		cmd = ["/usr/bin/python3", "-B", os.path.join(HERE, "fake_arvados.py"), "--port", "0",
		       "--token", ROOT, "--token", OTHER, "--user-token", USER] + list(extra)
		if tls:
			cmd += ["--tls", tls[0], tls[1]]
		self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=sys.stderr, text=True)
		line = self.proc.stdout.readline()
		if not line:
			self.proc.wait(5)
			raise RuntimeError("fake_arvados did not start")
		self.info = json.loads(line)
		self.port = self.info["port"]
		self.ssl_ctx = None
		if tls:
			self.ssl_ctx = ssl.create_default_context(cafile=tls[0])

	def stop(self):
		self.proc.terminate()
		self.proc.wait(10)
		self.proc.stdout.close()

	def conn(self, timeout=10):
		if self.ssl_ctx:
			return http.client.HTTPSConnection("localhost", self.port, timeout=timeout, context=self.ssl_ctx)
		return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

	def raw(self, method, path, body=None, headers=None, timeout=10):
		c = self.conn(timeout)
		try:
			c.request(method, path, body=body, headers=headers or {})
			r = c.getresponse()
			data = r.read()
			return Reply(r.status, r.headers, data)
		finally:
			c.close()

	def api(self, method, path, params=None, token=ROOT, headers=None, timeout=10):
		"""One call the way the dispatcher's client makes it."""
		h = {"Content-Type": "application/x-www-form-urlencoded",
		     "X-Request-Id": "req-" + "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(20))}
		if token is not None:
			h["Authorization"] = "Bearer " + token
		h.update(headers or {})
		q = testlib_encode(params or {})
		body = None
		if method == "GET":
			if q:
				path += "?" + q
		else:
			body = q.encode()
		return self.raw(method, "/arvados/v1/" + path, body, h, timeout)

	def ctl(self, method, path, data=None):
		body = json.dumps(data).encode() if data is not None else None
		r = self.raw(method, "/_fake/" + path, body, {"Content-Type": "application/json"})
		if r.status != 200:
			raise AssertionError("control %s %s -> %d %s" % (method, path, r.status, r.raw))
		return r.json

	def create(self, **fields):
		return self.ctl("POST", "containers", fields)

	def rec(self, uuid):
		return self.ctl("GET", "containers/" + uuid)
