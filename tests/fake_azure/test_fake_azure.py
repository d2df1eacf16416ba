#!/usr/bin/python3
"""Tests of fake_azure.py over HTTPS with a test CA, with Azure's own Python SDK as the client.

The cross-check (TestAgainstSdk) drives the fake with azure.mgmt.compute's
ComputeManagementClient at api-version 2019-07-01 (list, create with its long-running-operation
poller, delete) and adal (the AAD v1 token library), so the fake cannot drift from what Azure's
SDK sends and expects. The other classes check that the fake refuses what Azure refuses.
"""
import email.utils
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import ssl

import adal
import azure.mgmt.compute.v2019_07_01.models as M
import azure.mgmt.network.v2018_06_01.models as N
from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.resource import ResourceManagementClient

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from free_ports import free_port  # noqa: E402

SUB, RG, LOC = "sub-1", "rg1", "centralus"
SUBNET = "/subscriptions/sub-1/resourceGroups/rg1/providers/Microsoft.Network/virtualnetworks/vnet1/subnets/subnet1"
IMAGE = "/subscriptions/sub-1/resourceGroups/rg1/providers/Microsoft.Compute/images/img1"


def make_ca(d):
    subprocess.run(["sh", os.path.join(HERE, "..", "ec2", "mkca.sh"), d], check=True)


class FakeCase(unittest.TestCase):
    @classmethod
    def extra_args(cls):
        return []

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="fake-azure-test-")
        make_ca(cls.dir)
        cls.ca = cls.dir + "/ca.pem"
        cls.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_azure.py"), "--port", "0",
                                     "--tls", cls.dir + "/srv.pem", cls.dir + "/srv.key", "--page-size", "2"]
                                    + cls.extra_args(), stdout=subprocess.PIPE, text=True)
        cls.info = json.loads(cls.proc.stdout.readline())
        cls.ep = cls.info["endpoint"]
        cls.ssl = ssl.create_default_context(cafile=cls.ca)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.ctl("POST", "/_fake/reset")

    def ctl(self, method, path, doc=None):
        return self.req(method, path, doc, auth=False)[1]

    def token(self, secret="s3cr3t-client"):
        ctx = adal.AuthenticationContext(self.ep + "/tenant-1", validate_authority=False, verify_ssl=self.ca)
        return ctx.acquire_token_with_client_credentials(self.info["resource"], "client-1", secret)

    def req(self, method, path, doc=None, auth=True, tok=None, raw=None):
        url = path if path.startswith("http") else self.ep + path
        data = raw if raw is not None else (json.dumps(doc).encode() if doc is not None else None)
        r = urllib.request.Request(url, data=data, method=method)
        r.add_header("Content-Type", "application/json; charset=utf-8")
        if auth:
            r.add_header("Authorization", "Bearer " + (tok or self.token()["accessToken"]))
        try:
            with urllib.request.urlopen(r, context=self.ssl) as a:
                body = a.read()
                return a.status, json.loads(body) if body else None, a.headers
        except urllib.error.HTTPError as e:
            body = e.read()
            return e.code, json.loads(body) if body else None, e.headers

    def nic_url(self, name, v="2018-06-01"):
        return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/networkInterfaces%s?api-version=%s" % (
            SUB, RG, "/" + name if name else "", v)

    def vm_url(self, name, v="2019-07-01"):
        return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines%s?api-version=%s" % (
            SUB, RG, "/" + name if name else "", v)

    def nic_body(self):
        return N.NetworkInterface(location=LOC, tags={"k": "v"}, ip_configurations=[
            N.NetworkInterfaceIPConfiguration(name="ip1", subnet=N.Subnet(id=SUBNET),
                                              private_ip_allocation_method="Dynamic")]).serialize()

    def wait(self, hdr, tok):
        for _ in range(20):
            st, doc, h = self.req("GET", hdr["Azure-AsyncOperation"], tok=tok)
            self.assertEqual(st, 200)
            if doc["status"] != "InProgress":
                return doc
        self.fail("operation never finished")


class TestAuthAndValidation(FakeCase):
    def test_token_and_refusals(self):
        tok = self.token()
        self.assertEqual(tok["tokenType"], "Bearer")
        with self.assertRaises(adal.AdalError) as e:
            self.token("wrong")
        self.assertIn("invalid_client", str(e.exception))
        st, doc, _ = self.req("GET", self.nic_url(""), auth=False)
        self.assertEqual((st, doc["error"]["code"]), (401, "AuthenticationFailed"))
        st, doc, _ = self.req("GET", self.nic_url(""), tok="bogus")
        self.assertEqual((st, doc["error"]["code"]), (401, "InvalidAuthenticationToken"))
        t = tok["accessToken"]
        self.ctl("POST", "/_fake/expire-tokens")
        st, doc, _ = self.req("GET", self.nic_url(""), tok=t)
        self.assertEqual((st, doc["error"]["code"]), (401, "ExpiredAuthenticationToken"))

    def test_api_version(self):
        st, doc, _ = self.req("GET", self.nic_url("", "2022-07-01"))
        self.assertEqual((st, doc["error"]["code"]), (400, "NoRegisteredProviderFound"))
        st, doc, _ = self.req("GET", self.vm_url("").split("?")[0])
        self.assertEqual((st, doc["error"]["code"]), (400, "MissingApiVersionParameter"))

    def test_put_bodies_judged_by_models(self):
        b = self.nic_body()
        b["name"] = "x"
        st, doc, _ = self.req("PUT", self.nic_url("a-nic"), b)
        self.assertEqual(st, 400)
        self.assertIn("read-only property name", doc["error"]["message"])
        b = self.nic_body()
        b["properties"]["ipConfigurations"][0]["properties"]["privateIpAllocationMethod"] = "Dynamic"
        st, doc, _ = self.req("PUT", self.nic_url("a-nic"), b)
        self.assertIn("unknown property properties.ipConfigurations.properties.privateIpAllocationMethod",
                      doc["error"]["message"])
        st, doc, _ = self.req("PUT", self.vm_url("v"), {"tags": {}})
        self.assertIn("required property missing: location", doc["error"]["message"])
        b = self.nic_body()
        b["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"] = SUBNET.replace("subnet1", "nope")
        st, doc, _ = self.req("PUT", self.nic_url("a-nic"), b)
        self.assertEqual((st, doc["error"]["code"]), (400, "InvalidResourceReference"))


class TestOperations(FakeCase):
    def test_nic_lro_paging_and_in_use(self):
        tok = self.token()["accessToken"]
        ips = set()
        for i in range(5):
            st, doc, h = self.req("PUT", self.nic_url("n%d-nic" % i), self.nic_body(), tok=tok)
            self.assertEqual(st, 201)
            self.assertEqual(doc["properties"]["provisioningState"], "Updating")
            self.assertEqual(self.wait(h, tok)["status"], "Succeeded")
            ips.add(doc["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"])
        self.assertEqual(len(ips), 5)
        self.assertTrue(all(ip.startswith("127.") for ip in ips))
        names, url, pages = [], self.nic_url(""), 0
        while url:
            st, doc, _ = self.req("GET", url, tok=tok)
            names += [n["name"] for n in doc["value"]]
            url = doc.get("nextLink")
            pages += 1
            if url:
                self.assertTrue(url.startswith(self.ep))
        self.assertEqual((pages, sorted(names)), (3, ["n%d-nic" % i for i in range(5)]))

    def test_faults(self):
        tok = self.token()["accessToken"]
        self.ctl("POST", "/_fake/faults", {"op": "nic_list", "status": 429, "code": "TooManyRequests",
                                           "retry_after": "7"})
        st, doc, h = self.req("GET", self.nic_url(""), tok=tok)
        self.assertEqual((st, h["Retry-After"]), (429, "7"))
        self.ctl("POST", "/_fake/faults", {"op": "nic_list", "status": 429, "code": "TooManyRequests",
                                           "retry_after": "date:30"})
        st, doc, h = self.req("GET", self.nic_url(""), tok=tok)
        self.assertTrue(h["Retry-After"].endswith("GMT"))
        st, doc, h = self.req("GET", self.nic_url(""), tok=tok)
        self.assertEqual(st, 200)
        self.ctl("POST", "/_fake/faults", {"op": "nic_put", "async": True, "code": "AllocationFailed",
                                           "message": "no capacity"})
        st, doc, h = self.req("PUT", self.nic_url("f-nic"), self.nic_body(), tok=tok)
        self.assertEqual(st, 201)
        op = self.wait(h, tok)
        self.assertEqual((op["status"], op["error"]["code"]), ("Failed", "AllocationFailed"))


class Cred:
    """An azure-core credential handing out a token of the fake's."""

    def __init__(self, tok):
        self.tok = tok

    def get_token(self, *scopes, **kw):
        return AccessToken(self.tok["accessToken"], int(time.time()) + 3000)


class TestAgainstSdk(FakeCase):
    """The real Azure SDK clients against the fake: list, create (LRO poller), delete;
    resource provider registration."""

    def test_provider_registration(self):
        """A namespace the subscription has not registered: every call under it is refused
        with 409 MissingSubscriptionRegistration naming it in details[0].target (where the Go
        SDK reads it) until ResourceManagementClient's providers.register (api-version
        2016-09-01, the Go SDK's) and a providers.get that reads Registered."""
        tok = self.token()
        self.ctl("POST", "/_fake/config", {"unregistered": ["Microsoft.Compute"], "register_polls": 1})
        st, doc, _ = self.req("GET", self.vm_url(None), tok=tok["accessToken"])
        self.assertEqual(st, 409)
        self.assertEqual(doc["error"]["code"], "MissingSubscriptionRegistration")
        self.assertEqual(doc["error"]["details"][0]["target"], "Microsoft.Compute")
        self.assertEqual(self.req("GET", self.nic_url(None), tok=tok["accessToken"])[0], 200)
        c = ResourceManagementClient(Cred(tok), SUB, base_url=self.ep, api_version="2016-09-01",
                                     connection_verify=self.ca)
        p = c.providers.register("Microsoft.Compute")
        self.assertEqual((p.namespace, p.registration_state), ("Microsoft.Compute", "Registering"))
        self.assertEqual(self.req("GET", self.vm_url(None), tok=tok["accessToken"])[0], 409)
        self.assertEqual(c.providers.get("Microsoft.Compute").registration_state, "Registered")
        self.assertEqual(self.req("GET", self.vm_url(None), tok=tok["accessToken"])[0], 200)

    def test_compute_client(self):
        tok = self.token()
        c = ComputeManagementClient(Cred(tok), SUB, base_url=self.ep, api_version="2019-07-01",
                                    connection_verify=self.ca)
        st, nic, h = self.req("PUT", self.nic_url("s1-nic"), self.nic_body(), tok=tok["accessToken"])
        self.assertEqual(st, 201)
        vm = M.VirtualMachine(
            location=LOC, tags={"a": "b"}, hardware_profile=M.HardwareProfile(vm_size="Standard_B1s"),
            storage_profile=M.StorageProfile(image_reference=M.ImageReference(id=IMAGE), os_disk=M.OSDisk(
                os_type="Linux", name="s1-os", create_option="FromImage")),
            network_profile=M.NetworkProfile(network_interfaces=[M.NetworkInterfaceReference(id=nic["id"],
                                                                                             primary=True)]),
            os_profile=M.OSProfile(computer_name="s1", admin_username="crunch", custom_data="eA=="),
            priority="Spot", eviction_policy="Delete", billing_profile=M.BillingProfile(max_price=-1))
        res = c.virtual_machines.begin_create_or_update(RG, "s1", vm, polling_interval=0).result()
        self.assertEqual((res.name, res.provisioning_state, res.tags), ("s1", "Succeeded", {"a": "b"}))
        self.assertEqual([v.name for v in c.virtual_machines.list(RG)], ["s1"])
        with self.assertRaises(HttpResponseError) as e:
            self.ctl("POST", "/_fake/faults", {"op": "vm_put", "status": 409, "code": "OperationNotAllowed",
                                               "message": "Operation results in exceeding approved Total Regional "
                                               "Cores quota."})
            c.virtual_machines.begin_create_or_update(RG, "s2", vm, polling_interval=0).result()
        self.assertIn("quota", str(e.exception))
        c.virtual_machines.begin_delete(RG, "s1", polling_interval=0).result()
        self.assertEqual(list(c.virtual_machines.list(RG)), [])
        self.assertEqual([(d.name, d.disk_state) for d in c.disks.list_by_resource_group(RG)],
                         [("s1-os", "Unattached")])
        st, _, _ = self.req("DELETE", self.nic_url("s1-nic"), tok=tok["accessToken"])
        self.assertEqual(st, 202)


class TestScheduledEvents(FakeCase):
    """The instance metadata service's Scheduled Events (azure_events.py) on a VM's private IP,
    as the dispatcher's spot check reads it with curl (sshd-pool/ops.c)."""
    NET = "127.0.%d." % (200 + os.getpid() % 50)

    @classmethod
    def extra_args(cls):
        cls.port = free_port(cls.NET + "1")
        return ["--nic-cidr", cls.NET + "0/24", "--events-port", str(cls.port)]

    def until(self, pred, what, guard=30):
        end = time.monotonic() + guard
        while time.monotonic() < end:
            v = pred()
            if v:
                return v
            time.sleep(0.05)
        self.fail("never: " + what)

    def events(self, ip, headers=None, method="GET", path="/metadata/scheduledevents?api-version=2020-07-01",
               doc=None):
        r = urllib.request.Request("http://%s:%d%s" % (ip, self.port, path), method=method,
                                   data=json.dumps(doc).encode() if doc is not None else None,
                                   headers=headers if headers is not None else {"Metadata": "true"})
        try:
            with urllib.request.urlopen(r, timeout=10) as a:
                body = a.read()
                return a.status, json.loads(body) if body else None
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def test_preempt_event(self):
        tok = self.token()["accessToken"]
        st, nic, h = self.req("PUT", self.nic_url("e1-nic"), self.nic_body(), tok=tok)
        self.assertEqual(self.wait(h, tok)["status"], "Succeeded")
        ip = nic["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"]
        vm = M.VirtualMachine(
            location=LOC, hardware_profile=M.HardwareProfile(vm_size="Standard_B1s"),
            storage_profile=M.StorageProfile(image_reference=M.ImageReference(id=IMAGE), os_disk=M.OSDisk(
                os_type="Linux", name="e1-os", create_option="FromImage")),
            network_profile=M.NetworkProfile(network_interfaces=[M.NetworkInterfaceReference(id=nic["id"])]),
            os_profile=M.OSProfile(computer_name="e1", admin_username="crunch"),
            priority="Spot", eviction_policy="Delete").serialize()
        st, _, h = self.req("PUT", self.vm_url("e1"), vm, tok=tok)
        self.assertEqual(st, 201)
        self.until(lambda: "e1" in self.ctl("GET", "/_fake/scheduled-events")["listening"], "e1's listener")
        # Refused as Azure refuses: no Metadata header, no or an unknown api-version, a proxy.
        self.assertEqual(self.events(ip, headers={}),
                         (400, {"error": "Bad request. Required metadata header not specified"}))
        self.assertEqual(self.events(ip, headers={"Metadata": "false"})[0], 400)
        self.assertEqual(self.events(ip, headers={"Metadata": "true", "X-Forwarded-For": "10.0.0.1"})[0], 400)
        self.assertEqual(self.events(ip, path="/metadata/scheduledevents")[0], 400)
        self.assertEqual(self.events(ip, path="/metadata/scheduledevents?api-version=2031-01-01")[0], 400)
        self.assertEqual(self.events(ip, path="/metadata/instance?api-version=2020-07-01")[0], 404)
        self.assertEqual(self.events(ip, method="DELETE")[0], 405)
        self.assertEqual(self.events(ip), (200, {"DocumentIncarnation": 1, "Events": []}))
        # A Preempt event: the Spot eviction, 30 s ahead, naming this VM.
        t0 = time.time()
        self.ctl("POST", "/_fake/vms/e1/scheduled-events", {"EventType": "Preempt"})
        st, doc = self.events(ip)
        self.assertEqual((st, doc["DocumentIncarnation"], len(doc["Events"])), (200, 2, 1))
        ev = doc["Events"][0]
        self.assertEqual((ev["EventType"], ev["ResourceType"], ev["Resources"], ev["EventStatus"]),
                         ("Preempt", "VirtualMachine", ["e1"], "Scheduled"))
        self.assertTrue(ev["NotBefore"].endswith(" GMT"), ev)
        nb = email.utils.parsedate_to_datetime(ev["NotBefore"]).timestamp()
        self.assertTrue(t0 + 28 <= nb <= time.time() + 31, (t0, nb))
        self.assertEqual(set(ev), {"EventId", "EventType", "ResourceType", "Resources", "EventStatus",
                                   "NotBefore", "Description", "EventSource", "DurationInSeconds"})
        # Approving it starts it: Started, NotBefore blank, a new incarnation.
        self.assertEqual(self.events(ip, method="POST", doc={"StartRequests": [{"EventId": ev["EventId"]}]})[0],
                         200)
        st, doc = self.events(ip)
        self.assertEqual((doc["DocumentIncarnation"], doc["Events"][0]["EventStatus"],
                          doc["Events"][0]["NotBefore"]), (3, "Started", ""))
        self.assertEqual(self.ctl("POST", "/_fake/vms/nope/scheduled-events", {"EventType": "Preempt"}),
                         {"error": "no VM nope"})
        reqs = self.ctl("GET", "/_fake/scheduled-events")["requests"]
        self.assertEqual([r["status"] for r in reqs if r["vm"] == "e1"][:3], [400, 400, 400])
        # The VM deleted: its listener closes.
        st, _, h = self.req("DELETE", self.vm_url("e1"), tok=tok)
        self.assertEqual(self.wait(h, tok)["status"], "Succeeded")
        self.until(lambda: "e1" not in self.ctl("GET", "/_fake/scheduled-events")["listening"], "no listener")


if __name__ == "__main__":
    unittest.main()
