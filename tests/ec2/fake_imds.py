#!/usr/bin/python3
"""fake_imds.py --port N [--tls C K (ignored: IMDS is plain HTTP)] --cred AKID:SECRET:TOKEN ...
[--lifetime S]

A tiny IMDSv2 for the EC2 driver's credential tests: PUT /latest/api/token (needs the TTL
header), then with X-aws-ec2-metadata-token the role list and the role's credentials. Each
credentials GET hands out the next --cred in turn, expiring --lifetime seconds from now.
GET /_fake/count says how many credentials were handed out. Binds 127.0.0.1 only.
"""
import argparse
import datetime
import json
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROLE = "arvados-dispatch-role"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls", nargs=2)
    ap.add_argument("--cred", action="append", required=True)
    ap.add_argument("--lifetime", type=float, default=3600)
    a = ap.parse_args()
    state = {"n": 0, "tokens": set(), "lock": threading.Lock()}

    class H(BaseHTTPRequestHandler):
        def reply(self, code, body, ctype="text/plain"):
            b = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(b)))
            self.end_headers()
            self.wfile.write(b)

        def do_PUT(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/latest/api/token" or not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.reply(400, "bad token request")
            t = secrets.token_hex(16)
            with state["lock"]:
                state["tokens"].add(t)
            self.reply(200, t)

        def do_GET(self):
            if self.path == "/_fake/count":
                return self.reply(200, json.dumps({"count": state["n"]}), "application/json")
            if self.headers.get("X-aws-ec2-metadata-token") not in state["tokens"]:
                return self.reply(401, "IMDSv2 token required")
            base = "/latest/meta-data/iam/security-credentials/"
            if self.path == base:
                return self.reply(200, ROLE + "\n")
            if self.path != base + ROLE:
                return self.reply(404, "not found")
            with state["lock"]:
                akid, secret, token = a.cred[state["n"] % len(a.cred)].split(":")
                state["n"] += 1
            exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=a.lifetime)
            self.reply(200, json.dumps({"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": akid,
                                        "SecretAccessKey": secret, "Token": token,
                                        "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ")}),
                       "application/json")

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
    print(json.dumps({"endpoint": "http://127.0.0.1:%d" % srv.server_address[1]}), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
