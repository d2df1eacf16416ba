#!/usr/bin/python3
"""fake_ec2.py --port N [--tls CERT KEY] [--region us-east-1] [--throttle] [--subnet-cidr 127.0.1.0/24 ...]

A fake EC2 Query API (version 2016-11-15) for tests of the C EC2 driver, on 127.0.0.1.
Every request is SigV4-verified and validated against botocore's EC2 model; answers are
XML written from the model's output shapes.  /_fake/... is an unsigned JSON control API
(see README.md).  Prints one JSON line with its address when ready.
"""
import argparse
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ec2_auth import AuthError, auth_verify  # noqa: E402
from ec2_control import control_handle  # noqa: E402
from ec2_faults import Faults  # noqa: E402
from ec2_imds import Imds  # noqa: E402
from ec2_ops import OPERATIONS, ops_subnet_of  # noqa: E402
from ec2_protocol import API_VERSION, MODEL, ApiError, protocol_decode, protocol_encode, protocol_error  # noqa: E402
from ec2_throttle import Throttle  # noqa: E402
from ec2_world import World, world_jsonable  # noqa: E402

DEFAULT_KEY = "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


class Fake:
    """Everything one server instance owns; handlers reach it through server.fake."""

    def __init__(self, args):
        self.keys = {}
        for spec in args.key or [DEFAULT_KEY]:
            akid, secret, *token = spec.split(":", 2)
            self.keys[akid] = {"secret": secret, "token": token[0] if token else None}
        self.region = args.region
        self.world = World(args.region, args.subnet_cidr or ["127.0.1.0/24"], args.allow_non_loopback, {
            "boot_delay": args.boot_delay, "shutdown_delay": args.shutdown_delay,
            "terminated_linger": args.terminated_linger, "page_size": args.page_size,
            "empty_last_token": args.empty_last_token, "instance_limit": args.instance_limit,
            "max_skew": args.max_skew, "hang_timeout": args.hang_timeout})
        for g in args.security_group or []:
            gid, _, name = g.partition("=")
            self.world.extra_groups[gid] = name or gid
        self.world.reset()
        self.faults = Faults()
        self.throttle = Throttle(args.throttle)
        self.log_lock = threading.Lock()
        self.log = []
        self.imds = Imds(self.world, args.imds_port) if args.imds_port else None

    def record(self, entry):
        with self.log_lock:
            entry["seq"] = len(self.log) + 1
            self.log.append(entry)

    def reset(self):
        self.world.reset()
        self.faults.clear()
        self.throttle.reset()
        with self.log_lock:
            self.log = []
        if self.imds:
            self.imds.reset()


def _check_envelope(form):
    action = form.pop("Action", None)
    version = form.pop("Version", None)
    if not action:
        raise ApiError("MissingAction", "The request must contain the parameter Action")
    if action not in MODEL.operation_names:
        raise ApiError("InvalidAction", "The action %s is not valid for this web service." % action)
    if not version:
        raise ApiError("MissingParameter", "The request must contain the parameter Version")
    if version != API_VERSION:
        raise ApiError("NoSuchVersion", "The requested version (%s) of service AmazonEC2 does not exist" % version)
    return action


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AmazonEC2"

    def log_message(self, *a):
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self._dispatch("GET")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method):
        body = self._body()
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/_fake/") or path == "/_fake":
            status, doc = control_handle(self.server.fake, method, self.path, body)
            return self._reply(status, json.dumps(doc, default=str).encode(), "application/json")
        if method != "POST" or path != "/":
            return self._reply(400, protocol_error("InvalidAction", "Only POST / is supported", uuid.uuid4()).encode())
        self._ec2(body)

    def _ec2(self, body):
        fake, rid = self.server.fake, str(uuid.uuid4())
        entry = {"time": time.time(), "method": "POST", "path": self.path, "headers": dict(self.headers.items()),
            "body": body.decode("utf-8", "replace"), "request_id": rid, "action": None, "params": None}
        try:
            status, xml = self._ec2_answer(fake, body, rid, entry)
        except _Hang:
            entry.update(status=None, code="hang")
            fake.record(entry)
            self.close_connection = True
            return
        fake.record(entry)
        self._reply(status, xml.encode())
        # The fake's own time on the call, answer written (benchmarks subtract it to show the
        # dispatcher's share of a wait).
        entry["duration"] = time.time() - entry["time"]

    def _ec2_answer(self, fake, body, rid, entry):
        try:
            try:
                auth_verify(fake.keys, fake.region, "POST", self.path, self.headers, body, fake.world.cfg["max_skew"])
            except AuthError as e:
                raise ApiError(e.code, e.message, e.status)
            form = dict(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            action = entry["action"] = _check_envelope(form)
            op = MODEL.operation_model(action)
            params = protocol_decode(op, form)
            entry["params"] = world_jsonable(params)
            if action not in OPERATIONS:
                raise ApiError("InvalidAction", "The action %s is not implemented by this fake" % action)
            if params.get("DryRun"):
                raise ApiError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412)
            self._fault(fake, action, params)
            if not fake.throttle.admit(action, params):
                raise ApiError("RequestLimitExceeded", "Request limit exceeded.", 503)
            with fake.world.lock:
                result = OPERATIONS[action](fake.world, params, None)
            entry.update(status=200, code=None)
            return 200, protocol_encode(op, result, rid)
        except ApiError as e:
            entry.update(status=e.status, code=e.code, message=e.message)
            return e.status, protocol_error(e.code, e.message, rid)
        except UnicodeDecodeError:
            entry.update(status=400, code="MalformedQueryString")
            return 400, protocol_error("MalformedQueryString", "The request body is not valid UTF-8", rid)

    def _fault(self, fake, action, params):
        subnet = ops_subnet_of(fake.world, params) if action == "RunInstances" else None
        if action == "RunInstances" and subnet is None:
            sub = fake.world.default_subnet()
            subnet = sub.id if sub else None
        run = action == "RunInstances"
        mo = params.get("InstanceMarketOptions") if run else None
        market = ("spot" if isinstance(mo, dict) and mo.get("MarketType") == "spot" else "on-demand") if run else None
        f = fake.faults.take(action, subnet, params.get("InstanceType", "m1.small") if run else None, market)
        if f is None:
            return
        if f["delay"]:
            time.sleep(f["delay"])
        if f["hang"]:
            f["released"].wait(fake.world.cfg["hang_timeout"])
            raise _Hang()
        if f["code"]:
            sub = fake.world.subnets.get(subnet)
            ctx = {"subnet": subnet or "", "instance_type": params.get("InstanceType", "m1.small"),
                "az": sub.az if sub else fake.region + "a"}
            raise ApiError(f["code"], fake.faults.message(f, ctx), f["status"])

    def _reply(self, status, data, ctype="text/xml;charset=UTF-8"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Hang(Exception):
    pass


def fake_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--throttle", action="store_true", help="enable AWS's token buckets")
    p.add_argument("--subnet-cidr", nargs="+", action="extend", metavar="[ID=]CIDR")
    p.add_argument("--allow-non-loopback", action="store_true", help="allow subnets outside 127.0.0.0/8")
    p.add_argument("--key", action="append", metavar="AKID:SECRET[:TOKEN]")
    p.add_argument("--security-group", action="append", metavar="ID[=NAME]")
    p.add_argument("--boot-delay", type=float, default=0.0, help="seconds pending before running")
    p.add_argument("--shutdown-delay", type=float, default=0.0, help="seconds in shutting-down/stopping")
    p.add_argument("--terminated-linger", type=float, default=3600.0, help="seconds terminated stay listed")
    p.add_argument("--page-size", type=int, default=None, help="default page size when MaxResults is absent")
    p.add_argument("--empty-last-token", action="store_true", help="send <nextToken/> on last pages")
    p.add_argument("--instance-limit", type=int, default=None, help="InstanceLimitExceeded above this")
    p.add_argument("--max-skew", type=float, default=900, help="RequestExpired beyond this X-Amz-Date skew")
    p.add_argument("--hang-timeout", type=float, default=300, help="longest a hang fault holds a request")
    p.add_argument("--imds-port", type=int, default=0,
                   help="serve each instance's IMDSv2 on <its private IP>:PORT (ec2_imds.py)")
    return p.parse_args(argv)


def fake_info(fake, srv, tls):
    host, port = srv.server_address[:2]
    return {"address": host, "port": port, "endpoint": "%s://%s:%d" % ("https" if tls else "http", host, port),
        "region": fake.region, "vpc_id": fake.world.vpc, "keys": sorted(fake.keys),
        "subnets": [s.as_json() for s in fake.world.subnets.values()], "security_groups": fake.world.groups,
        "imds_port": fake.imds.port if fake.imds else None}


def main(argv):
    args = fake_args(argv)
    try:
        fake = Fake(args)
    except ValueError as e:
        sys.exit("fake_ec2: %s" % e)
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.fake = fake
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*args.tls)
        # Handshake in the handler thread, so a silent client cannot stall accept().
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    fake.info = fake_info(fake, srv, args.tls)
    print(json.dumps(fake.info), flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
