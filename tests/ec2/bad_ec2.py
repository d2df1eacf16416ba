#!/usr/bin/python3
"""bad_ec2.py --port N --tls CERT KEY - answers every POST / with a broken EC2 answer.

GET /_fake/mode?m=NAME picks the answer (see MODES); POST / (any body, no signature check)
gets it. For the EC2 driver's malformed/truncated/oversized XML tests. Binds 127.0.0.1.
"""
import argparse
import json
import ssl
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NS = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"'
MODES = {
    "malformed": (200, "<DescribeInstancesResponse %s><reservationSet><item></reservationSet>" % NS),
    "truncated": (200, "<DescribeInstancesResponse %s><reservationSet><item><instancesSet><item><instanceId>i-1" % NS),
    "notxml": (200, "this is not XML at all"),
    "empty": (200, ""),
    "html500": (500, "<html><body><h1>500 Internal Server Error</h1></body></html>"),
    "empty503": (503, ""),
    "doctype": (200, '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
                     '<DescribeInstancesResponse>&lol2;</DescribeInstancesResponse>'),
    "deep": (200, "<a>" * 5000 + "</a>" * 5000),
    "oversized": (200, "<DescribeInstancesResponse %s><requestId>%s</requestId></DescribeInstancesResponse>" % (NS, "x" * (2 << 20))),
    "error": (400, "<Response><Errors><Error><Code>InvalidParameterValue</Code><Message>bad &amp; worse</Message></Error></Errors><RequestID>r</RequestID></Response>"),
    "noinstance": (200, "<RunInstancesResponse %s><requestId>r</requestId><instancesSet/></RunInstancesResponse>" % NS),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls", nargs=2, required=True)
    a = ap.parse_args()
    state = {"mode": "malformed"}

    class H(BaseHTTPRequestHandler):
        def reply(self, code, body, ctype="text/xml;charset=UTF-8"):
            b = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(b)))
            self.end_headers()
            self.wfile.write(b)

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            m = urllib.parse.parse_qs(u.query).get("m", [""])[0]
            if u.path != "/_fake/mode" or m not in MODES:
                return self.reply(404, json.dumps({"error": "unknown"}), "application/json")
            state["mode"] = m
            self.reply(200, json.dumps({"mode": m}), "application/json")

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            code, body = MODES[state["mode"]]
            self.reply(code, body)

        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", a.port), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*a.tls)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(json.dumps({"endpoint": "https://127.0.0.1:%d" % srv.server_address[1]}), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
