"""The instance metadata service of the fake's instances: a faithful IMDSv2 subset, for the
dispatcher's spot interruption notices (-spot-interruption-notices, -instance-metadata-url).

With --imds-port P, every instance that has a private IP and is pending or running gets its
own HTTP listener on <private IP>:P, closed when it leaves those states: as on EC2, where an
instance reaches its own metadata at one fixed address, a worker of the test rig reaches the
listener of its own instance because its private IP is its own (the rig resolves the name in
the -instance-metadata-url to that IP inside each worker: sshd_rig.Worker(hosts=...)). Which
listener answered is how the fake knows the instance, as the hypervisor does on EC2.

IMDSv2 in "required" mode (HttpTokens=required):
  PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds in 1..21600 -> 200, a token
      (text/plain) valid for that long on this instance only; without the header, or out of
      range -> 400; with X-Forwarded-For -> 403 (EC2 refuses tokens through proxies).
  GET /latest/meta-data/...  without a valid token -> 401.
      spot/instance-action     -> 200 {"action": ..., "time": ...} once the control API gave
                                  the instance a notice, else 404
      spot/termination-time    -> 200 the time, for a "terminate" notice, else 404
      instance-id              -> 200 the instance id
      anything else            -> 404
  Other methods -> 405.
Every request is logged (GET /_fake/imds).
"""
import json
import os
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from address_listeners import AddressListeners  # noqa: E402
import free_ports  # noqa: E402

NOT_FOUND = b"""<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>404 - Not Found</title>
 </head>
 <body>
  <h1>404 - Not Found</h1>
 </body>
</html>
"""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EC2ws"

    def log_message(self, *a):
        pass

    def _reply(self, status, body=b"", ctype="text/plain"):
        self.server.owner.record(self.server.ident, self.command, self.path, status)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        if self.path != "/latest/api/token":
            return self._reply(404, NOT_FOUND, "text/html")
        if self.headers.get("X-Forwarded-For"):
            return self._reply(403)
        try:
            ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", ""))
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= 21600:
            return self._reply(400)
        tok = self.server.owner.new_token(self.server.ident, ttl)
        self.send_response(200)
        self.send_header("X-aws-ec2-metadata-token-ttl-seconds", str(ttl))
        self.server.owner.record(self.server.ident, "PUT", self.path, 200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(tok)))
        self.end_headers()
        self.wfile.write(tok.encode())

    def do_GET(self):
        imds, iid = self.server.owner, self.server.ident
        if not imds.token_ok(iid, self.headers.get("X-aws-ec2-metadata-token")):
            return self._reply(401)
        if self.path == "/latest/meta-data/instance-id":
            return self._reply(200, iid.encode())
        action = imds.action(iid)
        if self.path == "/latest/meta-data/spot/instance-action" and action:
            return self._reply(200, json.dumps(action).encode())
        if self.path == "/latest/meta-data/spot/termination-time" and action and \
                action["action"] == "terminate":
            return self._reply(200, action["time"].encode())
        return self._reply(404, NOT_FOUND, "text/html")

    def _not_allowed(self):
        self._reply(405)

    do_POST = do_DELETE = do_PATCH = do_HEAD = _not_allowed


class Imds:
    def __init__(self, world, port):
        self.world, self.port = world, port
        self.lock = threading.Lock()
        self.tokens = {}   # token -> (instance id, expiry)
        self.log = []
        self.listeners = AddressListeners(port, _Handler, self, self._want)

    def _want(self):
        """One listener per pending or running instance with a private IP."""
        with self.world.lock:
            return {i.id: (i.id, i.private_ip) for i in self.world.instances.values()
                    if i.state in ("pending", "running") and i.private_ip}

    def new_token(self, iid, ttl):
        tok = secrets.token_urlsafe(40)
        with self.lock:
            self.tokens[tok] = (iid, time.monotonic() + ttl)
        return tok

    def token_ok(self, iid, tok):
        with self.lock:
            t = self.tokens.get(tok or "")
        return t is not None and t[0] == iid and time.monotonic() < t[1]

    def action(self, iid):
        with self.world.lock:
            inst = self.world.instances.get(iid)
            return getattr(inst, "instance_action", None) if inst else None

    def record(self, iid, method, path, status):
        with self.lock:
            self.log.append({"time": time.time(), "instance": iid, "method": method, "path": path,
                             "status": status})

    def as_json(self):
        with self.lock:
            return {"port": self.port, "listening": self.listeners.listening(),
                    "requests": list(self.log)}

    def reset(self):
        with self.lock:
            self.tokens, self.log = {}, []


def imds_free_port(ip="127.0.0.1"):
    return free_ports.free_port(ip)
