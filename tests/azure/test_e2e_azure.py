#!/usr/bin/python3
"""End to end on Azure: the three real executables (dispatcherd, cloudd with the azure driver,
sshd-pool) against the fake Arvados API, tests/fake_azure (AAD + ARM over HTTPS, reached
through CloudEnvironment AzureStackCloud and AZURE_ENVIRONMENT_FILEPATH; the test CA through
SSL_CERT_FILE) and real OpenSSH rig workers started on exactly the private IPs the fake's NICs
hand out (127.0.0.0/8), each with the instance secret from the VM's custom data, as cloud-init
would write it. Config shaped like the seed examples (seed001-azure-managed, -gallery, -vhd, seed000-azure).
Each scenario: every container Complete exactly once, then no VM, NIC or disk left after
TimeoutIdle. Needs root (the sshd rig)."""
import base64
import json
import os
import ssl
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))
import e2e_env  # noqa: E402
from e2e_env import adc_harness, fakearv_testlib, sshd_rig  # noqa: E402

COUNTER_RE = e2e_env.E2ECase.SPOT_COUNTER_RE
SET_ID_NOTE = "instance set id: the dispatcher derives it from its token"


class FakeAzure:
    """tests/fake_azure as the WorkerWatcher sees a cloud: instances() with id, private_ip,
    state and user_data (the VM's custom data, decoded)."""

    def __init__(self, d, *extra):
        self.ctx = ssl.create_default_context(cafile=d + "/ca.pem")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", "-B", os.path.join(SRC, "tests", "fake_azure", "fake_azure.py"),
             "--port", "0", "--tls", d + "/srv.pem", d + "/srv.key", "--resource-group", "zzzzz",
             "--network", "xxxxx", "--subnet", "xxxxx-subnet-private", "--network-resource-group", "yyyyy",
             "--resource-group", "yyyyy", "--vm-size", "Standard_D2s_v3", "--vm-size", "Standard_D4s_v3",
             "--retry-after", "0", "--lro-polls", "2"] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.info = json.loads(self.proc.stdout.readline())
        self.endpoint = self.info["endpoint"]
        self.env_file = d + "/azure-env.json"
        with open(self.env_file, "w") as f:
            json.dump(self.info["environment"], f)

    def ctl(self, method, path, data=None):
        req = urllib.request.Request(self.endpoint + "/_fake/" + path, method=method,
                                     data=json.dumps(data).encode() if data is not None else None,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def state(self):
        return self.ctl("GET", "state")

    def instances(self):
        st = self.state()
        ip_of = {n["id"].lower(): n["properties"]["ipConfigurations"][0]["properties"].get("privateIPAddress")
                 for n in st["nics"]}
        out = []
        for v in st["vms"]:
            req = v.get("request") or {}
            cd = ((req.get("properties") or {}).get("osProfile") or {}).get("customData")
            nics = (v["properties"].get("networkProfile") or {}).get("networkInterfaces") or [{}]
            ps = v["properties"]["provisioningState"]
            out.append({"id": v["id"], "private_ip": ip_of.get((nics[0].get("id") or "").lower()),
                        "state": {"Creating": "pending", "Succeeded": "running"}.get(ps, "terminated"),
                        "user_data": base64.b64decode(cd).decode() if cd else ""})
        return out

    def live(self):
        return [i for i in self.instances() if i["state"] in ("pending", "running")]

    def arm(self, method, path):
        """An ARM call as a client of the subscription (a client-credentials token first)."""
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": self.info["client_id"],
                                       "client_secret": "s3cr3t-client", "resource": self.info["resource"]})
        req = urllib.request.Request(self.endpoint + "/%s/oauth2/token" % self.info["tenant"], data=form.encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
            tok = json.loads(r.read())["access_token"]
        req = urllib.request.Request(self.endpoint + path, method=method, headers={"Authorization": "Bearer " + tok})
        with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
            return r.status

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()


AZ_TYPES = """      d2:
        ProviderType: Standard_D2s_v3
        VCPUs: 2
        RAM: 8GiB
        IncludedScratch: 16GB
        Price: 0.1
      d4:
        ProviderType: Standard_D4s_v3
        VCPUs: 4
        RAM: 16GiB
        IncludedScratch: 32GB
        Price: 0.14
"""


def write_config(d, arv_port, mgmt_port, ssh_port, key_path, image, extra_params, itypes=AZ_TYPES):
    text = """Clusters:
  zzzzz:
    ManagementToken: e2emanagementtoken0123456789
    SystemRootToken: %(root)s
    TLS:
      Insecure: true
    Services:
      Controller:
        ExternalURL: "https://127.0.0.1:%(arv)d"
      DispatchCloud:
        InternalURLs:
          "http://127.0.0.1:%(mgmt)d": {}
    Containers:
      DispatchPrivateKey: "file://%(key)s"
      StaleLockTimeout: 5s
      CloudVMs:
        Driver: azure
        ImageID: "%(image)s"
        DeployRunnerBinary: ""
        SSHPort: "%(ssh)d"
        PollInterval: 1s
        SyncInterval: 2s
        ProbeInterval: 1s
        TimeoutIdle: 3s
        TimeoutBooting: 30s
        TimeoutProbe: 10s
        TimeoutShutdown: 5s
        MaxInstances: 4
        BootProbeCommand: "true"
        DriverParameters:
          SubscriptionID: sub-1
          ClientID: client-1
          ClientSecret: s3cr3t-client
          TenantID: tenant-1
          CloudEnvironment: AzureStackCloud
          Location: centralus
          ResourceGroup: zzzzz
          NetworkResourceGroup: yyyyy
          Network: xxxxx
          Subnet: xxxxx-subnet-private
          ImageResourceGroup: yyyyy
%(extra)s          DeleteDanglingResourcesAfter: 20s
          AdminUsername: root
    InstanceTypes:
%(itypes)s""" % {"root": fakearv_testlib.ROOT, "arv": arv_port, "mgmt": mgmt_port, "key": key_path,
                 "ssh": ssh_port, "image": image, "extra": extra_params, "itypes": itypes}
    path = os.path.join(d, "config.yml")
    with open(path, "w") as f:
        f.write(text)
    return path


# A Spot size only (Azure's "priority": "Spot"), for the spot interruption notice scenario.
AZ_SPOT_TYPES = """      d4spot:
        ProviderType: Standard_D4s_v3
        VCPUs: 4
        RAM: 16GiB
        IncludedScratch: 32GB
        Price: 0.05
        Preemptible: true
"""
NOTICE_MSG = e2e_env.E2ECase.SPOT_NOTICE_MSG
AZ_API = "2019-07-01"

AZ_ACCT, AZ_KEY = "example", "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="
VHD_IMAGE = ("https://zzzzzzzz.blob.core.windows.net/system/Microsoft.Compute/Images/images/"
             "zzzzz-compute-osDisk.55555555-5555-5555-5555-555555555555.vhd")


class Azurite:
    """The Azure Storage emulator (npm, scripts/install-azurite.sh) on 127.0.0.1, telemetry off."""

    def __init__(self, d):
        exe = subprocess.run(["sh", os.path.join(SRC, "scripts", "install-azurite.sh")], check=True,
                             capture_output=True, text=True).stdout.strip()
        self.port = e2e_env.free_port()
        self.proc = subprocess.Popen([exe, "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--location",
                                      d + "/azurite", "--silent", "--disableTelemetry", "--skipApiVersionCheck"],
                                     env=dict(os.environ, AZURITE_ACCOUNTS=AZ_ACCT + ":" + AZ_KEY),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.endpoint = "http://127.0.0.1:%d/%s" % (self.port, AZ_ACCT)
        from azure.storage.blob import ContainerClient
        self.container = ContainerClient.from_container_url(
            self.endpoint + "/vhds", credential={"account_name": AZ_ACCT, "account_key": AZ_KEY})
        for _ in range(100):
            try:
                self.container.create_container()
                break
            except Exception:
                import time
                time.sleep(0.1)
        else:
            raise RuntimeError("Azurite did not start")

    def blobs(self):
        return [b.name for b in self.container.list_blobs()]

    def arm(self, method, path):
        """An ARM call as a client of the subscription (a client-credentials token first)."""
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": self.info["client_id"],
                                       "client_secret": "s3cr3t-client", "resource": self.info["resource"]})
        req = urllib.request.Request(self.endpoint + "/%s/oauth2/token" % self.info["tenant"], data=form.encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
            tok = json.loads(r.read())["access_token"]
        req = urllib.request.Request(self.endpoint + path, method=method, headers={"Authorization": "Bearer " + tok})
        with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
            return r.status

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


class AzureE2E(e2e_env.E2E):
    def _start(self, image="zzzzz-compute-image", extra_params="", crunch_cfg=None, vhd=False,
               fake_args=(), itypes=AZ_TYPES, events=False):
        """events: the fake serves each VM's Scheduled Events (azure_events.py) on its private
        IP, port self.events_port, and each worker resolves e2e_env.IMDS_HOST to its own
        address: -instance-metadata-url is then self.imds_url, as 169.254.169.254 on Azure."""
        adc_harness.ensure_role_users()
        self.dir = tempfile.mkdtemp(prefix="adc-e2e-azure-", dir="/var/tmp")
        os.chmod(self.dir, 0o755)
        e2e_env.make_ca(self.dir)
        self.key_path, _ = adc_harness.make_key(self.dir)
        os.chmod(self.key_path, 0o644)
        self.arv = fakearv_testlib.FakeServer(tls=(self.dir + "/srv.pem", self.dir + "/srv.key"))
        self.arv.ssl_ctx = ssl.create_default_context(cafile=self.dir + "/ca.pem")
        self.azurite = Azurite(self.dir) if vhd else None
        # The NICs' addresses: the block the rig leased, which no other running rig uses.
        self.rig = sshd_rig.WorkerRig(os.path.join(self.dir, "rig"), authorized_keys=[self.key_path + ".pub"])
        self.net = self.rig.address_prefix
        self.events_port = e2e_env.free_port(self.net + "5") if events else None
        if events:
            fake_args = tuple(fake_args) + ("--events-port", str(self.events_port))
            self.imds_url = "http://%s:%d" % (e2e_env.IMDS_HOST, self.events_port)
        self.ec2 = self.az = FakeAzure(self.dir, "--nic-cidr", self.net + "0/24",
                                       *(["--storage-account", AZ_ACCT + "=" + AZ_KEY, "--blob-endpoint",
                                          self.azurite.endpoint] if vhd else []), *fake_args)
        self.ssh_port = e2e_env.free_port(self.net + "4")
        self.mgmt_port = e2e_env.free_port()
        self.watcher = e2e_env.WorkerWatcher(self.az, self.rig, self.ssh_port,
                                             crunch_cfg or {"duration": 2, "arvados": True},
                                             host_names=(e2e_env.IMDS_HOST,) if events else ())
        self.watcher.start()
        self.config = write_config(self.dir, self.arv.port, self.mgmt_port, self.ssh_port, self.key_path,
                                   image, extra_params, itypes)

    def stop(self):
        try:
            super().stop()
        finally:
            if getattr(self, "azurite", None) is not None:  # None too before a start got there
                self.azurite.stop()

    def env(self):
        return {"AZURE_ENVIRONMENT_FILEPATH": self.az.env_file, "SSL_CERT_FILE": self.dir + "/ca.pem"}


class AzureDispatch(e2e_env.E2ECase):
    def start_azure(self, **kw):
        self.env = AzureE2E(**kw)
        d = self.env.start_dispatcher()
        d.wait_for(lambda e: e.get("msg") == "listening", 30)
        return d

    def run_two(self, **fields):
        uuids = self.env.create(2, **fields)
        self.wait_final(uuids, 120)
        self.check_final({u: "Complete" for u in uuids})
        # TimeoutIdle: every VM destroyed, and with it (this driver) its NIC and OS disk.
        self.env.wait(lambda: not self.env.az.state()["vms"], 60, "no VM left")
        self.env.wait(lambda: not self.env.az.state()["nics"], 30, "no NIC left")
        self.env.wait(lambda: not self.env.az.state()["disks"], 30, "no disk left")
        reqs = self.env.az.ctl("GET", "requests")["requests"]
        self.assertEqual([r for r in reqs if r.get("status") in (400, 401)], [])
        self.print_calls(reqs, len(uuids))
        return reqs

    def print_calls(self, reqs, n):
        """The calls of the run by kind, for docs/AZURE_DRIVER.md's "calls per container"."""
        kinds = {}
        for r in reqs:
            p, m = r["path"], r["method"]
            k = ("token" if p.endswith("/oauth2/token") else
                 "poll" if "/operations/" in p else
                 "NIC list" if m == "GET" and p.endswith("/networkInterfaces") else
                 "VM list" if m == "GET" and p.endswith("/virtualMachines") else
                 "disk list" if m == "GET" and p.endswith("/disks") else
                 "%s %s" % ("NIC" if "/networkInterfaces/" in p else "VM" if "/virtualMachines/" in p else
                            "disk" if "/disks/" in p else p.rsplit("/", 1)[-1], m))
            kinds[k] = kinds.get(k, 0) + 1
        sys.stderr.write("\n%s: %d containers, %d VM creates: %s\n" % (
            self.id(), n, sum(1 for r in reqs if r["method"] == "PUT" and '"hardwareProfile"' in r["body"]),
            ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))

    def test_managed_image_quota_learnt(self):
        """seed001-azure-managed: ImageResourceGroup + managed image name. Tokens live 303 s,
        inside the driver's 5-minute refresh margin after 3 s: refreshed during the run, and
        no call ever fails for an expired token (run_two: no 401).
        Quota learnt: the subscription's cores allow one VM (the fake's vm_limit: Azure's 409
        OperationNotAllowed "...exceeding approved Total Regional Cores quota"), two containers
        that need a whole VM each: the second VM PUT is refused, the pool learns the level (at
        quota until the instance count falls below 1), no VM create is sent again before a VM
        is deleted, and both containers Complete, one after the other on the one VM."""
        self.start_azure(fake_args=("--token-ttl", "303"))
        self.env.az.ctl("POST", "config", {"vm_limit": 1})
        reqs = self.run_two(runtime_constraints={"vcpus": 2, "ram": 256 << 20})
        self.assertGreaterEqual(self.env.az.state()["tokens_issued"], 2)
        quota = [e for e in self.log_entries("create failed") if e.get("isQuotaError")]
        self.assertTrue(quota)
        self.assertTrue(self.log_entries("quota error -- waiting for next instance shutdown"))
        creates = [r for r in reqs if r["method"] == "PUT" and '"hardwareProfile"' in r["body"]]
        self.assertEqual(len([r for r in creates if r["status"] == 201]), 1, creates)
        waiting, refused = False, 0
        for r in sorted(reqs, key=lambda r: r["seq"]):
            if r["method"] == "PUT" and '"hardwareProfile"' in r["body"]:
                self.assertFalse(waiting, "VM create sent after a quota error before any VM was deleted")
                if r.get("code") == "OperationNotAllowed":
                    refused += 1
                    waiting = True
            elif r["method"] == "DELETE" and "/virtualMachines/" in r["path"]:
                waiting = False
        self.assertGreaterEqual(refused, 1)
        puts = [json.loads(r["body"]) for r in reqs if r["method"] == "PUT" and "/virtualMachines/" in r["path"]
                and '"storageProfile"' in r["body"]]
        self.assertTrue(puts)
        for p in puts:
            self.assertEqual(p["properties"]["storageProfile"]["imageReference"]["id"],
                             "/subscriptions/sub-1/resourceGroups/yyyyy/providers/Microsoft.Compute/images/"
                             "zzzzz-compute-image")
            self.assertEqual(p["properties"]["osProfile"]["adminUsername"], "root")
            self.assertIn("ArvadosInstanceSecret", p["tags"])

    def test_gallery_image_async_failure(self):
        """seed001-azure-gallery: SharedImageGalleryName + SharedImageGalleryImageVersion.
        The first VM create fails asynchronously (AllocationFailed in the operation status, the
        VM left in state Failed holding its NIC): the driver deletes that VM and its NIC, the
        dispatcher takes it as a capacity error, the containers Complete on a later instance,
        and nothing is left (run_two: no VM, NIC or disk)."""
        self.start_azure(image="zzzzz-compute-def", extra_params="          SharedImageGalleryName: shared_image_gallery\n"
                         "          SharedImageGalleryImageVersion: 0.0.1\n")
        self.env.az.ctl("POST", "faults", {"op": "vm_put", "async": True, "code": "AllocationFailed", "count": 1,
                                           "message": "Allocation failed. We do not have sufficient capacity "
                                           "for the requested VM size in this region."})
        reqs = self.run_two()
        failed = [r for r in reqs if r.get("fault") == "AllocationFailed"]
        self.assertEqual(len(failed), 1)
        name = failed[0]["path"].rsplit("/", 1)[1]
        deletes = [r["path"] for r in reqs if r["method"] == "DELETE"]
        self.assertTrue(any(p.endswith("/virtualMachines/" + name) for p in deletes), deletes)
        self.assertTrue(any(p.endswith("/networkInterfaces/" + name + "-nic") for p in deletes), deletes)
        cap = [e for e in self.log_entries("create failed") if e.get("isCapacityError")]
        self.assertEqual(len(cap), 1)
        self.assertGreater(len([r for r in reqs if r["method"] == "PUT" and '"hardwareProfile"' in r["body"]
                                and r["status"] == 201]), 0)
        puts = [json.loads(r["body"]) for r in reqs if r["method"] == "PUT" and '"storageProfile"' in r["body"]]
        self.assertTrue(puts)
        self.assertTrue(all(p["properties"]["storageProfile"]["imageReference"]["id"].endswith(
            "/galleries/shared_image_gallery/images/zzzzz-compute-def/versions/0.0.1") for p in puts))


    def test_capacity_falls_back(self):
        """The cheapest size (Standard_D2s_v3) has no capacity (SkuNotAvailable, every time):
        a capacity error for that type, so the scheduler runs the containers on the next type
        within MaximumPriceFactor (d4, 1.4 times the price)."""
        self.start_azure()
        self.env.az.ctl("POST", "faults", {"op": "vm_put", "status": 409, "code": "SkuNotAvailable",
                                           "message": "The requested size for resource is currently not available",
                                           "vm_size": "Standard_D2s_v3", "count": -1})
        reqs = self.run_two()
        sizes = [json.loads(r["body"])["properties"]["hardwareProfile"]["vmSize"] for r in reqs
                 if r["method"] == "PUT" and '"hardwareProfile"' in r["body"]]
        self.assertIn("Standard_D2s_v3", sizes)
        ok = [r for r in reqs if r["method"] == "PUT" and '"hardwareProfile"' in r["body"] and r["status"] == 201]
        self.assertTrue(ok)
        self.assertTrue(all('"Standard_D4s_v3"' in r["body"] for r in ok))

    def test_sigkill_restart_adopts(self):
        """The dispatcher killed with SIGKILL mid-run and restarted finds its VMs again (by the
        InstanceSetID tag through the VM and NIC lists) and their running containers: each
        container Complete exactly once, nothing left."""
        d = self.start_azure(crunch_cfg={"duration": 6, "arvados": True})
        uuids = self.env.create(4)
        self.env.wait(lambda: sum(1 for r in self.env.records(uuids).values()
                                  if r["state"] == "Running") >= 2, 90, "containers running")
        vms_before = {v["id"] for v in self.env.az.state()["vms"]}
        d.proc.kill()
        d.proc.wait()
        self.env.start_dispatcher()
        self.wait_final(uuids, 120)
        self.check_final({u: "Complete" for u in uuids})
        created_after = [r for r in self.env.az.ctl("GET", "requests")["requests"]
                         if r["method"] == "PUT" and '"hardwareProfile"' in r["body"]
                         and any(v.rsplit("/", 1)[1] in r["path"] for v in vms_before)]
        self.assertEqual(len(created_after), len(vms_before))  # no VM of before was made again
        self.env.wait(lambda: not self.env.az.state()["vms"], 60, "no VM left")
        self.env.wait(lambda: not self.env.az.state()["nics"], 30, "no NIC left")

    def test_vhd_image(self):
        """seed000-azure / seed001-azure-vhd: an unmanaged VHD ImageID with StorageAccount and
        BlobContainer; the VHD blobs live in Azurite (SharedKey checked there) and none is left."""
        self.start_azure(image=VHD_IMAGE, extra_params="          StorageAccount: %s\n          BlobContainer: vhds\n"
                         % AZ_ACCT, vhd=True)
        reqs = self.run_two()
        puts = [json.loads(r["body"]) for r in reqs if r["method"] == "PUT" and '"storageProfile"' in r["body"]]
        self.assertTrue(puts)
        for p in puts:
            od = p["properties"]["storageProfile"]["osDisk"]
            self.assertEqual(od["image"]["uri"], VHD_IMAGE)
            self.assertTrue(od["vhd"]["uri"].startswith(self.env.azurite.endpoint + "/vhds/compute-"))
        self.env.wait(lambda: not self.env.azurite.blobs(), 30, "no VHD blob left")

    def test_spot_preempt_event_drains(self):
        """-spot-interruption-notices with the azure driver: the run probe of a Spot VM reads
        its Scheduled Events (Metadata: true, no 400 ever). One preemptible container runs on
        VM A; the fake gives A a Preempt event: the dispatcher logs it once with INSTANCE_ID,
        counts it ("preempt"), shows it in the management API, drains A and creates a
        replacement while A still runs. A second container, which would fit beside the first
        on A, runs elsewhere. Then Azure evicts A (policy Delete: the VM is deleted): its
        container is cancelled, the second completes, no VM is left."""
        self.env = AzureE2E(itypes=AZ_SPOT_TYPES, events=True, crunch_cfg={"duration": 600, "arvados": True})
        d = self.env.start_dispatcher(args=("-spot-interruption-notices", "-instance-metadata-url",
                                            self.env.imds_url))
        d.wait_for(lambda e: e.get("msg") == "listening", 30)
        az = self.env.az
        first, = self.env.create(1, scheduling_parameters={"preemptible": True})
        a = self.wait_running_on(first)
        name = a.rsplit("/", 1)[1]

        def event_reads(status):
            return [r for r in az.ctl("GET", "scheduled-events")["requests"]
                    if r["vm"] == name and r["method"] == "GET" and r["status"] == status]
        self.env.wait(lambda: event_reads(200), 30, "a Scheduled Events read of A")
        self.assertTrue(all(r["metadata"] == "true" and "api-version=2020-07-01" in r["path"]
                            for r in event_reads(200)), event_reads(200))
        self.assertEqual(len(az.state()["vms"]), 1)

        az.ctl("POST", "vms/%s/scheduled-events" % name, {"EventType": "Preempt"})
        d.wait_for(lambda e: e.get("msg") == NOTICE_MSG and e.get("Instance") == a, 30)
        # The replacement, created while A still runs its container.
        self.env.wait(lambda: len(az.state()["vms"]) >= 2, 30, "the replacement's VM")
        self.assertIn(a, [i["id"] for i in self.env.az.live()])
        notice = self.check_notice_view(a, first)
        self.assertEqual(notice["action"], "preempt")
        self.assertRegex(notice["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

        # A second container would fit beside the first on A (4 VCPUs): it must go elsewhere.
        second = self.check_second_goes_elsewhere(a, first)

        # Azure evicts A (evictionPolicy Delete): the VM is deleted; its container is cancelled.
        self.assertEqual(az.arm("DELETE", a + "?api-version=" + AZ_API), 202)
        self.wait_final([first, second], 90)
        self.check_final({first: "Cancelled", second: "Complete"})
        notices = self.log_entries(NOTICE_MSG)
        self.assertEqual(len(notices), 1, notices)
        self.assertEqual(notices[0].get("Action"), "preempt")
        self.assertEqual(notices[0].get("Instance"), a)
        text = self.env.metrics_text()
        self.assertEqual(dict(COUNTER_RE.findall(text)), {"preempt": "1"})
        self.assertEqual([r for r in az.ctl("GET", "scheduled-events")["requests"] if r["status"] == 400], [])
        self.env.wait(lambda: not az.state()["vms"], 60, "no VM left")

if __name__ == "__main__":
    e2e_env.main()  # the scenarios side by side
