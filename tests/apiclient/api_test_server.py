#!/usr/bin/python3
"""A small HTTP(S) server for the API client tests (tests/apiclient).

It answers the way spec/arvados-api-server.md says the API server does where the client
cares (JSON bodies, {"errors": [...]} on failures, 204, 503) and echoes every request it gets,
so that the C tests can assert on the wire. It binds 127.0.0.1 on a free port and prints
"PORT <n>" on stdout once it accepts connections.

Routes (any method):
  /echo/...            200, the request as JSON: method, path, query, headers, body
  /arvados/v1/api_client_authorizations/current
                       200 {"uuid": ...} with the right bearer token, else 401
  /status/<code>       that status; errors bodies for >= 400, nothing for 204
  /malformed, /empty   200 with a broken / empty JSON body
  /bigint              200 with integers beyond 2^53
  /hang                never answers (until the server exits)
  /slow                counts concurrent requests, answers after 50 ms
  /stats, /reset       {"max_active": n, "total": n} / reset those
Options: --tls DIR (generate a self-signed certificate for 127.0.0.1 in DIR/cert.pem, and an
unrelated one in DIR/other.pem), --token T (the token /current accepts).
"""
import argparse
import json
import os
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"active": 0, "max_active": 0, "total": 0}
LOCK = threading.Lock()
STOP = threading.Event()
TOKEN = "unset"

ERRORS = {
    401: ["Not logged in"],
    403: ["#<ArvadosModel::PermissionDeniedError: locked by a different token>"],
    404: ["Path not found"],
    422: ["#<ArvadosModel::LockFailedError: cannot lock when Locked>",
          "State cannot change from Queued to Running"],
    500: ["PG::TRDeadlockDetected"],
    503: ["Service Unavailable"],
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the C test output is what matters
        pass

    def reply(self, code, obj=None, raw=None):
        body = raw if raw is not None else (b"" if obj is None else json.dumps(obj).encode())
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Request-Id", self.headers.get("X-Request-Id", ""))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error_reply(self, code):
        rid = self.headers.get("X-Request-Id", "")
        msgs = ["%s (%s)" % (m, rid) for m in ERRORS.get(code, ["error %d" % code])]
        self.reply(code, {"errors": msgs, "error_token": "1700000000+0badc0de"})

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        path, _, query = self.path.partition("?")
        if path.startswith("/echo"):
            self.reply(200, {
                "method": self.command, "path": path, "query": query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("latin-1"),
            })
        elif path == "/arvados/v1/api_client_authorizations/current":
            if self.headers.get("Authorization") == "Bearer " + TOKEN:
                self.reply(200, {"kind": "arvados#apiClientAuthorization",
                                 "uuid": "zzzzz-gj3su-000000000000000", "scopes": ["all"]})
            else:
                self.error_reply(401)
        elif path.startswith("/status/"):
            code = int(path[len("/status/"):])
            if code == 204:
                self.reply(204)
            elif code == 200:
                self.reply(200, {"ok": True})
            else:
                self.error_reply(code)
        elif path == "/malformed":
            self.reply(200, raw=b'{"items": [1, 2,')
        elif path == "/empty":
            self.reply(200, raw=b"")
        elif path == "/bigint":
            self.reply(200, raw=b'{"priority": 1152921504606846975, "neg": -9007199254740993,'
                                b' "small": 42, "nested": [{"p": 9223372036854775807}],'
                                b' "f": 1.5, "s": "123456789012345678901"}')
        elif path == "/hang":
            STOP.wait(120)
            self.close_connection = True
        elif path == "/slow":
            with LOCK:
                STATE["active"] += 1
                STATE["total"] += 1
                STATE["max_active"] = max(STATE["max_active"], STATE["active"])
            time.sleep(0.05)
            with LOCK:
                STATE["active"] -= 1
            self.reply(200, {"ok": True})
        elif path == "/stats":
            with LOCK:
                self.reply(200, {"max_active": STATE["max_active"], "total": STATE["total"]})
        elif path == "/reset":
            with LOCK:
                STATE.update(active=0, max_active=0, total=0)
            self.reply(200, {"ok": True})
        else:
            self.error_reply(404)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def make_cert(d, name):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", os.path.join(d, name + "-key.pem"),
                    "-out", os.path.join(d, name + ".pem")],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main():
    global TOKEN
    ap = argparse.ArgumentParser()
    ap.add_argument("--tls")
    ap.add_argument("--token", default="unset")
    a = ap.parse_args()
    TOKEN = a.token
    srv = Server(("127.0.0.1", 0), Handler)
    if a.tls:
        make_cert(a.tls, "cert")
        make_cert(a.tls, "other")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(a.tls, "cert.pem"), os.path.join(a.tls, "cert-key.pem"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("PORT %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever(poll_interval=0.1)
    finally:
        STOP.set()


if __name__ == "__main__":
    sys.exit(main())
