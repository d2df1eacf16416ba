#!/usr/bin/python3
"""fake_azure.py --port N [--tls CERT KEY] [options]

A fake Azure AD (v1 token endpoint) and Azure Resource Manager for tests of the C Azure
driver, on 127.0.0.1 (spec cloud-drivers.md 10.2). It refuses what Azure refuses: a missing,
unknown or expired bearer token, a wrong api-version, read-only or unknown properties in PUT
bodies (judged by python3-azure's models, azure_oracle.py), a subnet or NIC that does not
exist, a NIC in use. PUT and DELETE of VMs and NICs are long-running operations
(Azure-AsyncOperation polled InProgress K times, then Succeeded or Failed). Lists page with
an absolute nextLink. NICs get addresses in 127.0.0.0/8 only. /_fake/... is an unauthenticated
JSON control API (README.md). With --events-port, each VM's Scheduled Events (the instance
metadata service's, azure_events.py) on its private IP. Prints one JSON line with its address
when ready.
"""
import argparse
import base64
import email.utils
import ipaddress
import json
import os
import re
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import azure_oracle  # noqa: E402
from azure_events import ScheduledEvents  # noqa: E402

API = {"virtualMachines": "2019-07-01", "disks": "2019-07-01", "networkInterfaces": "2018-06-01",
    "operations": None}
PROVIDER = {"virtualMachines": "Microsoft.Compute", "disks": "Microsoft.Compute",
    "networkInterfaces": "Microsoft.Network"}


class ArmError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def now_iso(t=None):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t if t is not None else time.time())) + \
        ".%07dZ" % int(((t if t is not None else time.time()) % 1) * 1e7)


class Op:
    """One long-running operation: InProgress `left` more polls, then finish()."""

    def __init__(self, polls, finish, fail=None):
        self.id = str(uuid.uuid4())
        self.left = polls
        self.finish = finish  # called once under the world lock when it completes
        self.fail = fail      # (code, message) for an asynchronous failure
        self.status = "InProgress"
        self.polls = 0
        self.started = time.time()


class World:
    def __init__(self, a):
        self.a = a
        self.lock = threading.RLock()
        self.events = None  # ScheduledEvents with --events-port
        self.reset()

    def reset(self):
        self.vms, self.nics, self.disks, self.ops = {}, {}, {}, {}
        self.tokens = {}  # access token -> expiry (epoch s)
        self.token_count = 0
        net = ipaddress.ip_network(self.a.nic_cidr)
        self.free_ips = [str(h) for h in net.hosts()]
        self.faults = []
        self.log = []
        self.lro_polls = self.a.lro_polls
        self.page_size = self.a.page_size
        self.retry_after = self.a.retry_after
        self.token_ttl = self.a.token_ttl
        self.lro_seconds = self.a.lro_seconds
        # Resource provider namespaces not registered for the subscription (lower case ->
        # {"state", "polls"}): ARM refuses their calls with 409 MissingSubscriptionRegistration
        # until a register call and register_polls provider GETs.
        self.providers = {ns.lower(): {"name": ns, "state": "NotRegistered", "polls": 0}
                          for ns in self.a.unregistered}
        self.register_polls = self.a.register_polls
        self.vm_limit = 0  # > 0: a VM PUT beyond this many live VMs is a cores-quota 409

    def rid(self, rg, kind, name):
        return "/subscriptions/%s/resourceGroups/%s/providers/%s/%s/%s" % (
            self.a.subscription, rg, PROVIDER[kind], kind, name)

    def take_fault(self, op, body=None):
        for f in self.faults:
            if f["op"] not in (op, "any") or f["count"] == 0:
                continue
            if f.get("vm_size") and (body or {}).get("properties", {}).get("hardwareProfile", {}).get(
                    "vmSize") != f["vm_size"]:
                continue
            if f["count"] > 0:
                f["count"] -= 1
            f["used"] = f.get("used", 0) + 1
            return f
        return None

    def advance(self):
        """Operations nobody polls finish on their own after lro_seconds (as Azure's do)."""
        now = time.time()
        for op in self.ops.values():
            if op.status == "InProgress" and now - op.started >= self.lro_seconds:
                op.status = "Failed" if op.fail else "Succeeded"
                op.finish(op.fail)

    def alloc_ip(self):
        if not self.free_ips:
            raise ArmError(400, "SubnetIsFull", "Subnet has no more free addresses.")
        return self.free_ips.pop(0)


def _nic_view(w, n):
    return {"id": n["id"], "name": n["name"], "type": "Microsoft.Network/networkInterfaces",
        "location": n["location"], "tags": n["tags"], "etag": 'W/"%s"' % n["etag"],
        "properties": dict(n["properties"], provisioningState=n["state"], resourceGuid=n["guid"],
            **({"virtualMachine": {"id": n["vm"]}} if n.get("vm") else {}))}


def _vm_view(w, v):
    props = json.loads(json.dumps(v["properties"]))
    props["provisioningState"] = v["state"]
    props["vmId"] = v["guid"]
    prof = props.get("osProfile")
    if prof:
        prof.pop("customData", None)  # Azure never returns custom data
    disk = props.get("storageProfile", {}).get("osDisk")
    if disk is not None and "vhd" not in disk:
        disk["managedDisk"] = {"id": w.rid(v["rg"], "disks", disk.get("name", v["name"] + "-os")),
            "storageAccountType": "Standard_LRS"}
    return {"id": v["id"], "name": v["name"], "type": "Microsoft.Compute/virtualMachines",
        "location": v["location"], "tags": v["tags"], "properties": props}


def _disk_view(w, d):
    return {"id": d["id"], "name": d["name"], "type": "Microsoft.Compute/disks", "location": d["location"],
        "tags": d.get("tags", {}), "properties": {"diskState": d["diskState"], "timeCreated": d["timeCreated"],
            "provisioningState": "Succeeded", "osType": "Linux", "diskSizeGB": 30}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeARM"

    def log_message(self, *a):
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def _dispatch(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        w = self.server.world
        with w.lock:
            w.advance()
        if u.path.startswith("/_fake"):
            try:
                status, doc = control(w, method, u.path, q, body)
            except (ValueError, KeyError, TypeError) as e:
                status, doc = 400, {"error": "bad control request: %s" % e}
            return self._reply(status, doc)
        entry = {"time": time.time(), "method": method, "path": u.path, "query": u.query,
            "headers": {k: v for k, v in self.headers.items() if k.lower() != "authorization"},
            "auth": "bearer" if (self.headers.get("Authorization") or "").startswith("Bearer ") else None,
            "body": body.decode("utf-8", "replace")}
        try:
            if re.fullmatch(r"/[^/]+/oauth2/token", u.path):
                status, doc, hdr = self._token(w, u.path.split("/")[1], q, body)
            else:
                status, doc, hdr = self._arm(w, method, u.path, q, body, entry)
        except ArmError as e:
            status, doc, hdr = e.status, {"error": {"code": e.code, "message": e.message}}, e.headers
            if getattr(e, "details", None):
                doc["error"]["details"] = e.details
            entry["code"] = e.code
        entry["status"] = status
        with w.lock:
            entry["seq"] = len(w.log) + 1
            w.log.append(entry)
        self._reply(status, doc, hdr)

    def _reply(self, status, doc, hdr=None):
        data = b"" if doc is None else json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        for k, v in (hdr or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # --- AAD v1 client credentials ---
    def _token(self, w, tenant, q, body):
        a = w.a
        if q.get("api-version") not in (None, ["1.0"]):
            return 400, {"error": "invalid_request", "error_description": "AADSTS900561: unsupported "
                "api-version %s" % q.get("api-version")}, {}
        if "application/x-www-form-urlencoded" not in (self.headers.get("Content-Type") or ""):
            return 400, {"error": "invalid_request", "error_description": "form body required"}, {}
        f = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        f_hdr = {}
        fault = w.take_fault("token")
        if fault:
            return fault["status"], {"error": fault["code"], "error_description": fault["message"]}, f_hdr
        if tenant != a.tenant:
            return 400, {"error": "invalid_request", "error_description": "AADSTS90002: Tenant '%s' not found."
                % tenant}, {}
        if f.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "grant_type"}, {}
        if f.get("client_id") != a.client_id or f.get("client_secret") != a.client_secret:
            return 401, {"error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided."}, {}
        if f.get("resource") != self.server.resource:
            return 400, {"error": "invalid_resource", "error_description": "AADSTS500011: The resource "
                "principal named %s was not found." % f.get("resource")}, {}
        tok = secrets.token_urlsafe(48)
        with w.lock:
            ttl = w.token_ttl
            exp = int(time.time()) + ttl
            w.tokens[tok] = exp
            w.token_count += 1
        return 200, {"token_type": "Bearer", "expires_in": str(ttl), "ext_expires_in": str(ttl),
            "expires_on": str(exp), "not_before": str(exp - ttl), "resource": f["resource"],
            "access_token": tok}, {}

    # --- ARM ---
    def _auth(self, w):
        h = self.headers.get("Authorization")
        if not h:
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is "
                "missing.")
        if not h.startswith("Bearer "):
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is "
                "provided in an invalid format.")
        with w.lock:
            exp = w.tokens.get(h[7:])
        if exp is None:
            raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.")
        if exp <= time.time():
            raise ArmError(401, "ExpiredAuthenticationToken", "The access token expiry UTC time '%s' is earlier "
                "than current UTC time." % time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(exp)))

    def _registration(self, w, method, q, ns, action, entry):
        """POST .../providers/<ns>/register and GET .../providers/<ns> (api-version 2016-09-01,
        the Go SDK's, or 2016-02-01, the Python SDK's). A namespace registers after
        register_polls GETs following the POST."""
        if q.get("api-version") not in (["2016-09-01"], ["2016-02-01"]):  # the Go and Python SDKs' own
            raise ArmError(400, "InvalidApiVersionParameter", "The api-version '%s' is invalid for providers."
                % (q.get("api-version") or [""])[0])
        entry["op"] = opname = "provider_register" if action else "provider_get"
        if (action and method != "POST") or (not action and method != "GET"):
            raise ArmError(405, "MethodNotAllowed", method)
        fault = w.take_fault(opname)
        if fault:
            raise ArmError(fault["status"], fault["code"], fault["message"])
        with w.lock:
            p = w.providers.setdefault(ns.lower(), {"name": ns, "state": "Registered", "polls": 0})
            if action and p["state"] != "Registered":
                p["state"], p["polls"] = "Registering", w.register_polls
            elif not action and p["state"] == "Registering":
                p["polls"] -= 1
                if p["polls"] <= 0:
                    p["state"] = "Registered"
            return 200, {"id": "/subscriptions/%s/providers/%s" % (w.a.subscription, p["name"]),
                "namespace": p["name"], "registrationState": p["state"]}, {}

    def _registered(self, w, ns):
        with w.lock:
            p = w.providers.get(ns.lower())
            if p and p["state"] != "Registered":
                msg = ("The subscription is not registered to use namespace '%s'. See https://aka.ms/rps-not-found"
                       " for how to register subscriptions." % p["name"])
                e = ArmError(409, "MissingSubscriptionRegistration", msg)
                e.details = [{"code": "MissingSubscriptionRegistration", "target": p["name"], "message": msg}]
                raise e

    def _arm(self, w, method, path, q, body, entry):
        a = w.a
        self._auth(w)
        m = re.fullmatch(r"/subscriptions/([^/]+)/providers/([^/]+)(/register)?", path)
        if m:
            if m.group(1) != a.subscription:
                raise ArmError(404, "SubscriptionNotFound", "The subscription '%s' could not be found." % m.group(1))
            return self._registration(w, method, q, m.group(2), m.group(3), entry)
        m = re.search(r"/providers/(Microsoft\.[A-Za-z]+)/", path)
        if m:
            self._registered(w, m.group(1))
        m = re.fullmatch(r"/subscriptions/([^/]+)/providers/Microsoft\.(?:Compute|Network)/locations/([^/]+)"
                         r"/operations/([^/]+)", path)
        if m and method == "GET":
            return self._op_status(w, m.group(3))
        m = re.fullmatch(r"/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.Storage/"
                         r"storageAccounts/([^/]+)/listKeys", path)
        if m:
            return self._list_keys(w, method, q, *m.groups())
        m = re.fullmatch(r"/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/(Microsoft\.[A-Za-z]+)/"
                         r"(virtualMachines|networkInterfaces|disks)(?:/([^/]+))?", path, re.I)
        if not m:
            raise ArmError(404, "InvalidResourceType", "The resource type could not be found in the namespace "
                "for path %s" % path)
        sub, rg, prov, kind, name = m.groups()
        kind = {k.lower(): k for k in API}[kind.lower()]
        if sub != a.subscription:
            raise ArmError(404, "SubscriptionNotFound", "The subscription '%s' could not be found." % sub)
        if prov.lower() != PROVIDER[kind].lower():
            raise ArmError(404, "InvalidResourceType", "wrong provider %s for %s" % (prov, kind))
        av = q.get("api-version")
        if not av:
            raise ArmError(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) "
                "is required for all requests.")
        if av != [API[kind]]:
            raise ArmError(400, "NoRegisteredProviderFound", "No registered resource provider found for location "
                "'%s' and API version '%s' for type '%s'." % (a.location, av[0], kind))
        if rg.lower() not in [g.lower() for g in a.resource_groups]:
            raise ArmError(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % rg)
        entry["op"] = opname = "%s_%s" % ({"virtualMachines": "vm", "networkInterfaces": "nic",
            "disks": "disk"}[kind], "list" if name is None else method.lower())
        doc = None
        if body:
            try:
                doc = json.loads(body)
            except ValueError as e:
                raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                    "deserialized: %s" % e)
        fault = w.take_fault(opname, doc)
        if fault:
            entry["fault"] = fault["code"]
            if fault.get("delay"):
                time.sleep(fault["delay"])
            if not fault.get("async"):
                hdr = {}
                ra = fault.get("retry_after")
                if ra is not None:
                    hdr["Retry-After"] = email.utils.formatdate(time.time() + float(ra[5:]), usegmt=True) \
                        if str(ra).startswith("date:") else str(ra)
                raise ArmError(fault["status"], fault["code"], fault["message"], hdr)
        with w.lock:
            if name is None:
                if method != "GET":
                    raise ArmError(405, "MethodNotAllowed", "method %s not allowed on a collection" % method)
                return self._list(w, rg, kind, q)
            if kind == "networkInterfaces":
                return self._nic(w, method, rg, name, doc, fault)
            if kind == "virtualMachines":
                return self._vm(w, method, rg, name, doc, fault)
            return self._disk(w, method, rg, name)

    def _list_keys(self, w, method, q, sub, rg, acct):
        if method != "POST":
            raise ArmError(405, "MethodNotAllowed", method)
        if q.get("api-version") != ["2018-02-01"]:
            raise ArmError(400, "NoRegisteredProviderFound", "No registered resource provider found for API "
                "version '%s' for type 'storageAccounts'." % (q.get("api-version") or [""])[0])
        if sub != w.a.subscription or rg.lower() not in [g.lower() for g in w.a.resource_groups]:
            raise ArmError(404, "ResourceGroupNotFound", "Resource group '%s' could not be found." % rg)
        fault = w.take_fault("list_keys")
        if fault:
            raise ArmError(fault["status"], fault["code"], fault["message"])
        key = w.a.storage.get(acct)
        if key is None:
            raise ArmError(404, "StorageAccountNotFound", "The storage account %s was not found." % acct)
        return 200, {"keys": [{"keyName": "key1", "value": key, "permissions": "FULL"},
                              {"keyName": "key2", "value": key, "permissions": "FULL"}]}, {}

    def _lro(self, w, status, finish, fault, view, ns="Microsoft.Compute"):
        """The operation's status URL is under the resource's own provider, as Azure's are."""
        fail = (fault["code"], fault["message"]) if fault and fault.get("async") else None
        op = Op(w.lro_polls, finish, fail)
        w.ops[op.id] = op
        if op.left <= 0:
            self._complete(w, op)
        url = "%s/subscriptions/%s/providers/%s/locations/%s/operations/%s?api-version=%s" % (
            self.server.endpoint, w.a.subscription, ns, w.a.location, op.id,
            API["networkInterfaces"] if ns == "Microsoft.Network" else API["virtualMachines"])
        return status, view, {"Azure-AsyncOperation": url, "Retry-After": str(w.retry_after)}

    def _complete(self, w, op):
        op.status = "Failed" if op.fail else "Succeeded"
        op.finish(op.fail)

    def _op_status(self, w, opid):
        with w.lock:
            op = w.ops.get(opid)
            if op is None:
                raise ArmError(404, "OperationNotFound", "operation %s not found" % opid)
            op.polls += 1
            if op.status == "InProgress":
                if op.left > 0:
                    op.left -= 1
                if op.left <= 0:
                    self._complete(w, op)
            doc = {"status": op.status, "name": op.id, "startTime": now_iso()}
            if op.status == "Failed":
                doc["error"] = {"code": op.fail[0], "message": op.fail[1]}
            hdr = {"Retry-After": str(w.retry_after)} if op.status == "InProgress" else {}
            return 200, doc, hdr

    def _list(self, w, rg, kind, q):
        store = {"virtualMachines": w.vms, "networkInterfaces": w.nics, "disks": w.disks}[kind]
        view = {"virtualMachines": _vm_view, "networkInterfaces": _nic_view, "disks": _disk_view}[kind]
        items = [view(w, r) for r in store.values() if r["rg"].lower() == rg.lower()]
        items.sort(key=lambda r: r["name"])
        skip = int((q.get("$skiptoken") or ["0"])[0])
        page = items[skip:skip + w.page_size]
        doc = {"value": page}
        if skip + w.page_size < len(items):
            doc["nextLink"] = "%s%s?api-version=%s&$skiptoken=%d" % (
                self.server.endpoint, urllib.parse.urlsplit(self.path).path, API[kind], skip + w.page_size)
        return 200, doc, {}

    def _check_body(self, kind, doc):
        if doc is None:
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid: empty body.")
        problems = azure_oracle.check_body(kind, doc)
        if problems:
            raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be "
                "deserialized: " + "; ".join(problems))

    def _nic(self, w, method, rg, name, doc, fault):
        a = w.a
        key = name.lower()
        n = w.nics.get(key)
        if method == "GET":
            if n is None or n["rg"].lower() != rg.lower():
                raise ArmError(404, "ResourceNotFound", "The Resource 'Microsoft.Network/networkInterfaces/%s' "
                    "under resource group '%s' was not found." % (name, rg))
            return 200, _nic_view(w, n), {}
        if method == "DELETE":
            if n is None:
                return 204, None, {}
            if n.get("vm"):
                raise ArmError(400, "NicInUse", "Network Interface %s is used by existing resource %s. In order "
                    "to delete the network interface, it must be dissociated from the resource." % (n["id"],
                        n["vm"]))
            n["state"] = "Deleting"

            def fin(fail):
                if not fail:
                    w.nics.pop(key, None)
                    w.free_ips.append(n["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"])
            return self._lro(w, 202, fin, fault, None, ns="Microsoft.Network")
        if method != "PUT":
            raise ArmError(405, "MethodNotAllowed", method)
        self._check_body("nic", doc)
        if doc.get("location", "").lower() != a.location.lower():
            raise ArmError(400, "LocationNotAvailableForResourceType", "location %s" % doc.get("location"))
        ipcs = doc.get("properties", {}).get("ipConfigurations") or []
        if len(ipcs) != 1:
            raise ArmError(400, "InvalidRequestFormat", "exactly one ipConfiguration expected by this fake")
        sid = ipcs[0].get("properties", {}).get("subnet", {}).get("id", "")
        want = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualNetworks/%s/subnets/%s" % (
            a.subscription, a.network_resource_group, a.network, a.subnet)
        if sid.lower() != want.lower():
            raise ArmError(400, "InvalidResourceReference", "Resource %s referenced by resource %s was not "
                "found." % (sid, w.rid(rg, "networkInterfaces", name)))
        if n is not None:
            n["tags"] = doc.get("tags", {})
            return 200, _nic_view(w, n), {}
        props = json.loads(json.dumps(doc["properties"]))
        props["ipConfigurations"][0]["properties"]["privateIPAddress"] = w.alloc_ip()
        props["ipConfigurations"][0]["id"] = w.rid(rg, "networkInterfaces", name) + "/ipConfigurations/" + \
            props["ipConfigurations"][0]["name"]
        n = {"id": w.rid(rg, "networkInterfaces", name), "name": name, "rg": rg, "location": doc["location"],
            "tags": doc.get("tags", {}), "properties": props, "state": "Updating", "guid": str(uuid.uuid4()),
            "etag": str(uuid.uuid4()), "created": time.time()}
        w.nics[key] = n

        def fin(fail):
            n["state"] = "Failed" if fail else "Succeeded"
        return self._lro(w, 201, fin, fault, _nic_view(w, n), ns="Microsoft.Network")

    def _vm(self, w, method, rg, name, doc, fault):
        a = w.a
        key = name.lower()
        v = w.vms.get(key)
        if method == "GET":
            if v is None or v["rg"].lower() != rg.lower():
                raise ArmError(404, "ResourceNotFound", "The Resource 'Microsoft.Compute/virtualMachines/%s' "
                    "under resource group '%s' was not found." % (name, rg))
            return 200, _vm_view(w, v), {}
        if method == "DELETE":
            if v is None:
                return 204, None, {}
            v["state"] = "Deleting"

            def fin(fail):
                if fail:
                    v["state"] = "Failed"
                    return
                w.vms.pop(key, None)
                if v.get("vhd"):
                    self._vhd(w, v["vhd"], "release", v["lease"])
                for nic in w.nics.values():
                    if nic.get("vm", "").lower() == v["id"].lower():
                        nic.pop("vm")
                d = w.disks.get(v.get("disk", "").lower())
                if d:
                    d["diskState"] = "Unattached"
            return self._lro(w, 202, fin, fault, None)
        if method != "PUT":
            raise ArmError(405, "MethodNotAllowed", method)
        self._check_body("vm", doc)
        if doc.get("location", "").lower() != a.location.lower():
            raise ArmError(400, "LocationNotAvailableForResourceType", "location %s" % doc.get("location"))
        if v is not None:
            # An update: Azure keeps the properties not given and replaces the tags.
            if "tags" in doc:
                v["tags"] = doc["tags"]
            if doc.get("properties"):
                raise ArmError(409, "PropertyChangeNotAllowed", "this fake only updates tags of existing VMs")
            v["state"] = "Updating"

            def fin(fail):
                v["state"] = "Succeeded"
            return self._lro(w, 200, fin, fault, _vm_view(w, v))
        props = json.loads(json.dumps(doc.get("properties", {})))
        size = props.get("hardwareProfile", {}).get("vmSize")
        if size not in a.vm_sizes:
            raise ArmError(400, "InvalidParameter", "The value %s provided for the VM size is not valid." % size)
        live = [x for x in w.vms.values() if x["state"] not in ("Deleting", "Failed")]
        if w.vm_limit and len(live) >= w.vm_limit:
            raise ArmError(409, "OperationNotAllowed", "Operation could not be completed as it results in exceeding "
                "approved Total Regional Cores quota. Additional details - Deployment Model: Resource Manager, "
                "Location: %s, Current Limit: %d, Current Usage: %d, Additional Required: 2."
                % (a.location, 2 * w.vm_limit, 2 * len(live)))
        nics = props.get("networkProfile", {}).get("networkInterfaces") or []
        if len(nics) != 1:
            raise ArmError(400, "InvalidParameter", "exactly one network interface expected by this fake")
        nid = nics[0].get("id", "")
        nic = next((x for x in w.nics.values() if x["id"].lower() == nid.lower()), None)
        if nic is None:
            raise ArmError(400, "NotFound", "Resource %s not found." % nid)
        if nic.get("vm"):
            raise ArmError(400, "NicInUse", "Network interface %s is used by %s" % (nid, nic["vm"]))
        sp = props.get("storageProfile", {})
        img = sp.get("imageReference", {}).get("id")
        if img is not None:
            if not (re.fullmatch(r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/"
                                 r"images/[^/]+", img) or
                    re.fullmatch(r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/"
                                 r"galleries/[^/]+/images/[^/]+/versions/[^/]+", img)):
                raise ArmError(400, "InvalidParameter", "imageReference.id %s is not an image id" % img)
            if a.images and img.lower() not in [i.lower() for i in a.images]:
                raise ArmError(404, "NotFound", "The Image '%s' cannot be found in '%s' region." % (img,
                    a.location))
        elif "image" not in sp.get("osDisk", {}):
            raise ArmError(400, "InvalidParameter", "no image in storageProfile")
        osp = props.get("osProfile", {})
        cd = osp.get("customData")
        if cd is not None:
            try:
                base64.b64decode(cd, validate=True)
            except ValueError:
                raise ArmError(400, "InvalidParameter", "customData is not valid base64")
        if props.get("priority") == "Spot" and props.get("evictionPolicy") not in ("Delete", "Deallocate"):
            raise ArmError(400, "InvalidParameter", "evictionPolicy required for Spot")
        vid = w.rid(rg, "virtualMachines", name)
        disk_name = sp.get("osDisk", {}).get("name") or name + "-os"
        vhd = sp.get("osDisk", {}).get("vhd", {}).get("uri")
        lease = self._vhd(w, vhd, "create") if vhd else None
        v = {"id": vid, "name": name, "rg": rg, "location": doc["location"], "tags": doc.get("tags", {}),
            "properties": props, "state": "Creating", "guid": str(uuid.uuid4()), "created": time.time(),
            "disk": disk_name, "request": doc}
        w.vms[key] = v
        nic["vm"] = vid

        v["vhd"], v["lease"] = vhd, lease

        def fin(fail):
            v["state"] = "Failed" if fail else "Succeeded"
            if "vhd" not in sp.get("osDisk", {}):
                w.disks[disk_name.lower()] = {"id": w.rid(rg, "disks", disk_name), "name": disk_name, "rg": rg,
                    "location": v["location"], "diskState": "Attached", "timeCreated": now_iso()}
        return self._lro(w, 201, fin, fault, _vm_view(w, v))

    def _vhd(self, w, uri, what, lease_id=None):
        """The VM's OS disk as a page blob in the storage emulator (Azurite), leased while the
        VM exists, as Azure does; released when the VM is deleted."""
        from azure.storage.blob import BlobClient
        for acct, key in w.a.storage.items():
            base = w.a.blob_endpoint.rstrip("/")
            if uri.startswith(base + "/"):
                break
        else:
            raise ArmError(400, "InvalidParameter", "the VHD URI %s is not in a known storage account" % uri)
        bc = BlobClient.from_blob_url(uri, credential={"account_name": acct, "account_key": key})
        if what == "create":
            bc.create_page_blob(size=512)
            return bc.acquire_lease(lease_duration=-1).id
        from azure.storage.blob import BlobLeaseClient
        try:
            BlobLeaseClient(bc, lease_id=lease_id).release()
        except Exception as e:  # the blob may have been deleted meanwhile
            sys.stderr.write("fake_azure: releasing the lease of %s: %s\n" % (uri, e))

    def _disk(self, w, method, rg, name):
        d = w.disks.get(name.lower())
        if method == "GET":
            if d is None:
                raise ArmError(404, "ResourceNotFound", "disk %s not found" % name)
            return 200, _disk_view(w, d), {}
        if method == "DELETE":
            if d is None:
                return 204, None, {}
            if d["diskState"] != "Unattached":
                raise ArmError(409, "OperationNotAllowed", "Disk %s is attached to a VM." % name)
            w.disks.pop(name.lower())
            return 202, None, {}
        raise ArmError(405, "MethodNotAllowed", method)


def control(w, method, path, q, body):
    doc = json.loads(body) if body else {}
    parts = path.strip("/").split("/")[1:]
    with w.lock:
        if parts == ["reset"] and method == "POST":
            w.reset()
            if w.events:
                w.events.reset()
            return 200, {}
        if parts == ["scheduled-events"] and method == "GET":
            return (200, w.events.as_json()) if w.events else (404, {"error": "no --events-port"})
        if len(parts) == 3 and parts[0] == "vms" and parts[2] == "scheduled-events" and method == "POST":
            # An event for a VM (azure_events.py), e.g. {"EventType": "Preempt"}: a Spot eviction.
            if not w.events:
                return 404, {"error": "no --events-port"}
            if parts[1].lower() not in w.vms:
                return 404, {"error": "no VM %s" % parts[1]}
            return 200, w.events.add(w.vms[parts[1].lower()]["name"], doc)
        if parts == ["state"]:
            return 200, {"vms": [dict(_vm_view(w, v), request=v["request"]) for v in w.vms.values()],
                "nics": [_nic_view(w, n) for n in w.nics.values()],
                "disks": [_disk_view(w, d) for d in w.disks.values()],
                "tokens_issued": w.token_count}
        if parts == ["requests"]:
            if method == "DELETE":
                w.log = []
            return 200, {"requests": w.log}
        if parts == ["config"] and method == "POST":
            for k in ("lro_polls", "page_size", "retry_after", "token_ttl", "lro_seconds", "register_polls",
                      "vm_limit"):
                if k in doc:
                    setattr(w, k, doc[k])
            for ns in doc.get("unregistered", []):
                w.providers[ns.lower()] = {"name": ns, "state": "NotRegistered", "polls": 0}
            return 200, {}
        if parts == ["faults"]:
            if method == "DELETE":
                w.faults = []
            elif method == "POST":
                f = {"op": doc["op"], "status": int(doc.get("status", 400)), "code": doc.get("code", "Fault"),
                    "message": doc.get("message", doc.get("code", "injected fault")),
                    "retry_after": doc.get("retry_after"), "count": int(doc.get("count", 1)),
                    "async": bool(doc.get("async")), "vm_size": doc.get("vm_size"),
                    "delay": float(doc.get("delay", 0))}
                w.faults.append(f)
            return 200, {"faults": w.faults}
        if parts == ["expire-tokens"] and method == "POST":
            for t in w.tokens:
                w.tokens[t] = 0
            return 200, {}
        if parts == ["foreign"] and method == "POST":
            # A VM and a NIC someone else made in the group (no networkProfile on the VM).
            name = doc.get("name", "foreign-" + secrets.token_hex(4))
            rg = doc.get("resource_group", w.a.resource_groups[0])
            w.nics[(name + "-nic").lower()] = {"id": w.rid(rg, "networkInterfaces", name + "-nic"),
                "name": name + "-nic", "rg": rg, "location": w.a.location, "tags": doc.get("tags", {}),
                "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
                    "privateIPAddress": "127.0.9.9", "privateIPAllocationMethod": "Dynamic"}}]},
                "state": "Succeeded", "guid": str(uuid.uuid4()), "etag": "1", "created": time.time()}
            w.vms[name.lower()] = {"id": w.rid(rg, "virtualMachines", name), "name": name, "rg": rg,
                "location": w.a.location, "tags": doc.get("tags", {}), "properties": {
                    "hardwareProfile": {"vmSize": "Standard_B1s"}}, "state": "Succeeded",
                "guid": str(uuid.uuid4()), "created": time.time(), "request": None}
            return 200, {"name": name}
        if parts == ["disk"] and method == "POST":
            # A managed disk (e.g. one left by a crash): name, diskState, timeCreated.
            name, rg = doc["name"], doc.get("resource_group", w.a.resource_groups[0])
            w.disks[name.lower()] = {"id": w.rid(rg, "disks", name), "name": name, "rg": rg,
                "location": w.a.location, "diskState": doc.get("diskState", "Unattached"),
                "timeCreated": doc.get("timeCreated", now_iso())}
            return 200, {}
        if parts == ["nic"] and method == "POST":
            # A NIC with given tags and no VM (a dangling NIC, e.g. left by a crash).
            name, rg = doc["name"], doc.get("resource_group", w.a.resource_groups[0])
            w.nics[name.lower()] = {"id": w.rid(rg, "networkInterfaces", name), "name": name, "rg": rg,
                "location": w.a.location, "tags": doc.get("tags", {}),
                "properties": {"ipConfigurations": [{"name": "ip1", "properties": {
                    "privateIPAddress": w.alloc_ip(), "privateIPAllocationMethod": "Dynamic"}}]},
                "state": "Succeeded", "guid": str(uuid.uuid4()), "etag": "1", "created": time.time()}
            return 200, {}
    return 404, {"error": "no control route %s %s" % (method, path)}


def fake_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--tenant", default="tenant-1")
    p.add_argument("--client-id", default="client-1")
    p.add_argument("--client-secret", default="s3cr3t-client")
    p.add_argument("--subscription", default="sub-1")
    p.add_argument("--location", default="centralus")
    p.add_argument("--resource-group", dest="resource_groups", action="append")
    p.add_argument("--network-resource-group", default=None)
    p.add_argument("--network", default="vnet1")
    p.add_argument("--subnet", default="subnet1")
    p.add_argument("--image", dest="images", action="append", default=[], help="known image ids (default any)")
    p.add_argument("--vm-size", dest="vm_sizes", action="append")
    p.add_argument("--nic-cidr", default="127.0.2.0/24")
    p.add_argument("--allow-non-loopback", action="store_true")
    p.add_argument("--storage-account", action="append", default=[], metavar="NAME=KEY",
                   help="a storage account listKeys answers for (Azurite's account)")
    p.add_argument("--blob-endpoint", default="", help="the account's blob endpoint (Azurite, path style)")
    p.add_argument("--lro-polls", type=int, default=2)
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--retry-after", default="0")
    p.add_argument("--token-ttl", type=int, default=3600)
    p.add_argument("--lro-seconds", type=float, default=2.0, help="an unpolled operation finishes after this")
    p.add_argument("--unregistered", action="append", default=[], metavar="NAMESPACE",
                   help="a resource provider the subscription has not registered (e.g. Microsoft.Compute)")
    p.add_argument("--register-polls", type=int, default=1, help="provider GETs before a registration ends")
    p.add_argument("--events-port", type=int, default=0,
                   help="serve each VM's Scheduled Events on <its private IP>:PORT (azure_events.py)")
    a = p.parse_args(argv)
    a.resource_groups = a.resource_groups or ["rg1"]
    a.storage = dict(x.split("=", 1) for x in a.storage_account)
    a.network_resource_group = a.network_resource_group or a.resource_groups[0]
    a.vm_sizes = a.vm_sizes or ["Standard_B1s", "Standard_D1_v2", "Standard_D2_v2", "Standard_D4_v2"]
    if not a.allow_non_loopback and not ipaddress.ip_network(a.nic_cidr).subnet_of(
            ipaddress.ip_network("127.0.0.0/8")):
        sys.exit("fake_azure: --nic-cidr must be inside 127.0.0.0/8")
    return a


def main(argv):
    a = fake_args(argv)
    if not azure_oracle.models_available():
        sys.exit("fake_azure: python3-azure models are missing (scripts/install-deps.sh)")
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.world = World(a)
    srv.world.events = ScheduledEvents(srv.world, a.events_port) if a.events_port else None
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*a.tls)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    host, port = srv.server_address[:2]
    srv.endpoint = "%s://%s:%d" % ("https" if a.tls else "http", host, port)
    srv.resource = srv.endpoint + "/"
    print(json.dumps({"endpoint": srv.endpoint, "port": port, "resource": srv.resource, "tenant": a.tenant,
        "client_id": a.client_id, "subscription": a.subscription, "location": a.location,
        "events_port": a.events_port or None,
        "resource_groups": a.resource_groups, "environment": {"name": "AzureStackCloud",
            "resourceManagerEndpoint": srv.endpoint + "/", "activeDirectoryEndpoint": srv.endpoint + "/",
            "tokenAudience": srv.resource, "storageEndpointSuffix": "fake.invalid",
            **({"storageBlobEndpoint": a.blob_endpoint} if a.blob_endpoint else {})}}), flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
