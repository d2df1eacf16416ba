"""The fake Azure's instance metadata service, Scheduled Events only: a faithful subset for the
dispatcher's spot interruption notices with the azure driver (-spot-interruption-notices,
-instance-metadata-url; docs/AZURE_DRIVER.md).

With --events-port P, every VM that has a NIC with a private IP and is Creating, Updating or
Succeeded gets its own HTTP listener on <private IP>:P, closed when it leaves those states: as
on Azure, where a VM reaches its own metadata at 169.254.169.254, a worker of the test rig
reaches the listener of its own VM because its private IP is its own (the rig resolves the
name in -instance-metadata-url to that IP inside each worker). Which listener answered is how
the fake knows the VM, as the host does on Azure.

As Microsoft documents it ("Azure Metadata Service: Scheduled Events for Linux VMs"):
  GET /metadata/scheduledevents?api-version=V  with "Metadata: true"
      -> 200 {"DocumentIncarnation": n, "Events": [...]}, each event {"EventId",
         "EventType", "ResourceType": "VirtualMachine", "Resources": [VM names],
         "EventStatus": "Scheduled"|"Started", "NotBefore": RFC 1123 date or "" once started,
         "Description", "EventSource", "DurationInSeconds"}; the incarnation grows whenever
         the events change.
      without the header (or another value), or with X-Forwarded-For -> 400
         {"error": "Bad request. Required metadata header not specified"}
      without api-version, or an unknown one -> 400 (the message names the newest)
  POST /metadata/scheduledevents?api-version=V  {"StartRequests": [{"EventId": ...}]}
      -> 200, those events start (EventStatus Started, NotBefore "")
  any other path -> 404; other methods -> 405.
The control API (fake_azure.py) gives a VM an event: POST /_fake/vms/<name>/scheduled-events
{"EventType": "Preempt", "NotBefore": optional (default now + 30 s, Preempt's minimum
notice), "Resources": optional (default [name])}; GET /_fake/scheduled-events lists the
listeners and every request.
"""
import email.utils
import json
import os
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from address_listeners import AddressListeners  # noqa: E402

VERSIONS = ("2017-03-01", "2017-08-01", "2017-11-01", "2019-01-01", "2019-08-01", "2020-07-01")
NO_HEADER = {"error": "Bad request. Required metadata header not specified"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-IIS/10.0"

    def log_message(self, *a):
        pass

    def _reply(self, status, doc=None):
        self.server.owner.record(self.server.ident, self.command, self.path, status,
                                  self.headers.get("Metadata"))
        body = b"" if doc is None else json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _check(self):
        """None when the request may be answered, else the (status, doc) refusing it."""
        u = urllib.parse.urlsplit(self.path)
        if u.path != "/metadata/scheduledevents":
            return 404, {"error": "Not found"}
        if (self.headers.get("Metadata") or "").lower() != "true" or self.headers.get("X-Forwarded-For"):
            return 400, NO_HEADER
        v = urllib.parse.parse_qs(u.query).get("api-version")
        if not v:
            return 400, {"error": "Bad request. api-version was not specified in the request. For more "
                         "information refer to aka.ms/azureimds", "newest-versions": list(VERSIONS[-3:])}
        if v[0] not in VERSIONS:
            return 400, {"error": "Bad request. api-version is invalid or was not specified in the request.",
                         "newest-versions": list(VERSIONS[-3:])}
        return None

    def do_GET(self):
        bad = self._check()
        if bad:
            return self._reply(*bad)
        return self._reply(200, self.server.owner.document(self.server.ident))

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        bad = self._check()
        if bad:
            return self._reply(*bad)
        try:
            ids = [r["EventId"] for r in json.loads(body)["StartRequests"]]
        except (ValueError, KeyError, TypeError):
            return self._reply(400, {"error": "Bad request. Invalid StartRequests"})
        self.server.owner.start(self.server.ident, ids)
        return self._reply(200)

    def _not_allowed(self):
        self._reply(405, {"error": "Method not allowed"})

    do_PUT = do_DELETE = do_PATCH = do_HEAD = _not_allowed


class ScheduledEvents:
    def __init__(self, world, port):
        self.world, self.port = world, port
        self.lock = threading.Lock()
        self.docs = {}     # VM name (lower case) -> {"DocumentIncarnation", "Events"}
        self.log = []
        self.listeners = AddressListeners(port, _Handler, self, self._want)

    def _want(self):
        """One listener per live VM with a private IP: VM name (lower case) -> (name, IP)."""
        w = self.world
        with w.lock:
            out = {}
            for v in w.vms.values():
                if v["state"] not in ("Creating", "Updating", "Succeeded"):
                    continue
                nics = (v["properties"].get("networkProfile") or {}).get("networkInterfaces") or []
                nid = (nics[0].get("id") or "").lower() if nics else ""
                nic = next((n for n in w.nics.values() if n["id"].lower() == nid), None) if nid else None
                ip = nic["properties"]["ipConfigurations"][0]["properties"].get("privateIPAddress") if nic else None
                if ip:
                    out[v["name"].lower()] = (v["name"], ip)
            return out

    def document(self, vm):
        with self.lock:
            d = self.docs.get(vm.lower(), {"DocumentIncarnation": 1, "Events": []})
            return json.loads(json.dumps(d))

    def add(self, vm, ev):
        """The control API's event for VM vm: a JSON object with EventType at least."""
        kind = ev["EventType"]
        if kind not in ("Freeze", "Reboot", "Redeploy", "Preempt", "Terminate"):
            raise ValueError("EventType %r" % kind)
        nb = ev.get("NotBefore") or email.utils.formatdate(time.time() + 30, usegmt=True)
        e = {"EventId": str(uuid.uuid4()).upper(), "EventType": kind, "ResourceType": "VirtualMachine",
             "Resources": ev.get("Resources") or [vm], "EventStatus": "Scheduled", "NotBefore": nb,
             "Description": ev.get("Description", ""), "EventSource": ev.get("EventSource", "Platform"),
             "DurationInSeconds": -1 if kind in ("Preempt", "Terminate") else 5}
        with self.lock:
            d = self.docs.setdefault(vm.lower(), {"DocumentIncarnation": 1, "Events": []})
            d["Events"].append(e)
            d["DocumentIncarnation"] += 1
        return e

    def start(self, vm, ids):
        with self.lock:
            d = self.docs.get(vm.lower())
            hit = [e for e in (d["Events"] if d else []) if e["EventId"] in ids and e["EventStatus"] != "Started"]
            for e in hit:
                e["EventStatus"], e["NotBefore"] = "Started", ""
            if hit:
                d["DocumentIncarnation"] += 1

    def record(self, vm, method, path, status, metadata):
        with self.lock:
            self.log.append({"time": time.time(), "vm": vm, "method": method, "path": path,
                             "status": status, "metadata": metadata})

    def as_json(self):
        with self.lock:
            return {"port": self.port, "listening": self.listeners.listening(),
                    "requests": list(self.log)}

    def reset(self):
        with self.lock:
            self.docs, self.log = {}, []
