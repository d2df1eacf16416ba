"""e2e_env.py - the three real executables against the fakes: fake Arvados API (HTTPS),
fake EC2 (HTTPS, test CA), and real OpenSSH workers from the rig started on exactly the
private IPs the fake EC2 hands out, each running its user data as cloud-init would (the
instance secret, the dead-man's switch's watchdog, any InstanceInitCommand). A worker's
poweroff (the rig's shim) is a guest-initiated shutdown for the fake EC2. Standard library
only; /usr/bin/python3; needs root."""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import ssl
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "rig"))
sys.path.insert(0, os.path.join(SRC, "tests", "fake_arvados"))
sys.path.insert(0, os.path.join(SRC, "tests", "process"))
sys.path.insert(0, os.path.join(SRC, "tests", "support"))
import parallel_cases  # noqa: E402
from free_ports import free_port  # noqa: E402,F401 (e2e_env.free_port for the tests)
import sshd_rig  # noqa: E402
import fakearv_testlib  # noqa: E402
import adc_harness  # noqa: E402

AKID, SAK = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
# The name of the instance metadata service in -instance-metadata-url: each rig worker's own
# /etc/hosts gives it that worker's address (E2E(imds=True)). ".test" is reserved (RFC 2606).
IMDS_HOST = "imds.adc.test"
SECRET_RE = re.compile(r'echo -n "([0-9a-f]+)" >/var/run/arvados-instance-secret')


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


def make_ca(d):
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-days", "2", "-subj", "/CN=e2e test CA", "-keyout", d + "/ca.key", "-out", d + "/ca.pem"])
    run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-subj", "/CN=localhost", "-keyout", d + "/srv.key", "-out", d + "/srv.csr"])
    with open(d + "/ext", "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run(["openssl", "x509", "-req", "-in", d + "/srv.csr", "-CA", d + "/ca.pem", "-CAkey",
         d + "/ca.key", "-CAcreateserial", "-days", "2", "-extfile", d + "/ext", "-out", d + "/srv.pem"])


class FakeEC2:
    def __init__(self, d, *extra):
        self.ctx = ssl.create_default_context(cafile=d + "/ca.pem")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", "-B", os.path.join(SRC, "tests", "fake_ec2", "fake_ec2.py"),
             "--port", "0", "--tls", d + "/srv.pem", d + "/srv.key", "--key", AKID + ":" + SAK] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.info = json.loads(self.proc.stdout.readline())
        self.endpoint = self.info["endpoint"]

    def ctl(self, method, path, data=None):
        req = urllib.request.Request(self.endpoint + "/_fake/" + path, method=method,
                                     data=json.dumps(data).encode() if data is not None else None,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def instances(self):
        v = self.ctl("GET", "instances")
        return v["instances"] if isinstance(v, dict) else v

    def live(self):
        return [i for i in self.instances() if i["state"] not in ("terminated", "shutting-down")]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()


class WorkerWatcher(threading.Thread):
    """Starts (or re-secrets) a rig worker on each private IP the fake EC2 gives an instance,
    as the instance's cloud-init would; every worker listens on the same SSH port."""

    def __init__(self, ec2, rig, port, crunch_cfg, skip=(), path_runner=True, host_names=(),
                 server="openssh"):
        super().__init__(daemon=True)
        self.host_names = host_names   # names each worker's /etc/hosts gives its own address
        self.server = server            # the workers' SSH server: "openssh" or "dropbear"
        self.ec2, self.rig, self.port, self.cfg = ec2, rig, port, crunch_cfg
        self.skip = set(skip)          # instance ids never booted (TimeoutBooting tests)
        self.path_runner = path_runner  # False: no crunch-run on the workers' PATH (deploy test)
        self.by_ip = {}                # ip -> (instance id, Worker)
        self.history = []              # {"iid", "ip", "worker", "t0", "t1"}: each VM's lifetime
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.errors = []
        self.restarts = []             # (iid, ip, time, sshd exit status) of sshd restarts
        self.guest_shutdowns = {}      # iid -> time its VM ran poweroff
        self.init_results = {}         # iid -> (exit status, stdout, stderr) of its user data

    def run(self):
        while not self.stopped.is_set():
            try:
                self.scan()
            except Exception as e:  # kept for the test to report
                self.errors.append(repr(e))
            self.stopped.wait(0.2)

    def scan(self):
        # A VM that powered itself off (the rig's poweroff shim ran): the hypervisor tells EC2,
        # which applies the instance's InstanceInitiatedShutdownBehavior.
        for iid, w in [(v[0], v[1]) for v in list(self.by_ip.values())]:
            if iid not in self.guest_shutdowns and w.powered_off() is not None:
                self.guest_shutdowns[iid] = w.powered_off()
                self.ec2.ctl("POST", "instances/%s/guest-shutdown" % iid)
        insts = self.ec2.instances()
        # A terminated VM is powered off: its sshd and every process in it (fake containers
        # included) go away, as on a real cloud; a container must not finish on a dead VM.
        for inst in insts:
            cur = self.by_ip.get(inst.get("private_ip"))
            if cur is not None and cur[0] == inst["id"] and inst["state"] not in ("pending", "running"):
                self.power_off(cur[1])
        for inst in insts:
            ip, iid = inst.get("private_ip"), inst["id"]
            if inst["state"] not in ("pending", "running") or not ip or iid in self.skip \
                    or "all" in self.skip:
                continue
            cur = self.by_ip.get(ip)
            if cur is not None and cur[0] == iid:
                if cur[1].proc is not None and cur[1].proc.poll() is not None:
                    # The VM's sshd died under it (seen once, cause unknown: another rig's
                    # namespace sweep hitting a reused namespace id?): a real VM keeps its
                    # sshd, so start it again, and say so in failure reports.
                    self.restarts.append((iid, ip, time.time(), cur[1].proc.returncode))
                    cur[1].start()
                continue
            m = SECRET_RE.search(inst.get("user_data") or "")
            if m is None:
                continue
            w = cur[1] if cur is not None else None
            if w is None:
                idx = int(ip.rsplit(".", 1)[1])
                w = sshd_rig.Worker(self.rig, idx, self.server, ip, self.port)
                if os.path.exists(w.dir):
                    shutil.rmtree(w.dir)
                w._setup()
                self.rig.workers.append(w)
            else:
                # A new VM on an address a terminated one had: fresh /run (locks, broken
                # marker, secret) and fresh deploy directory; the stub's records are kept.
                self.power_off(w)
                if os.path.exists(w.path("powered-off")):
                    os.unlink(w.path("powered-off"))
                for d in (w.lock_dir, w.path("deploy")):
                    for name in os.listdir(d):
                        p = os.path.join(d, name)
                        if os.path.isdir(p) and not os.path.islink(p):
                            shutil.rmtree(p)
                        else:
                            os.unlink(p)
            if not self.path_runner and os.path.lexists(w.path("bin", "crunch-run")):
                os.unlink(w.path("bin", "crunch-run"))
            w.set_secret(m.group(1))
            cfg = self.cfg
            w.set_crunch_run_config(**cfg)
            w.set_host_names(self.host_names)
            try:
                w.start()
                r = w.run_init(self.user_data(inst))
            except Exception:
                # Next scan tries this VM again from the start: nothing of this try may be left
                # running on its address (a server left listening made every later try "up"
                # at once, before its namespace was set up).
                self.power_off(w)
                raise
            self.init_results[iid] = (r.returncode, r.stdout, r.stderr)
            with self.lock:
                self.by_ip[ip] = (iid, w)
                self.history.append({"iid": iid, "ip": ip, "worker": w, "t0": time.time(), "t1": None})
            # set_crunch_cfg while this VM was set up did not see it (not in by_ip yet).
            if self.cfg is not cfg:
                w.set_crunch_run_config(**self.cfg)

    @staticmethod
    def user_data(inst):
        """The VM's user data, bytes, from the cloud's instance list: the fake EC2 lists it
        exactly (base64), the fake Azure's adapter as decoded text (its custom data)."""
        if inst.get("user_data_base64") is not None:
            return base64.b64decode(inst["user_data_base64"])
        return (inst.get("user_data") or "").encode()

    def power_off(self, w):
        if w.proc is None and not w.namespaces:
            return
        w.kill(signal.SIGTERM)
        sshd_rig._kill_namespaces(w.namespaces)
        w.release_namespaces()  # their ids may be reused once these are gone
        w.proc = None
        with self.lock:
            for h in self.history:
                if h["worker"] is w and h["t1"] is None:
                    h["t1"] = time.time()

    def set_crunch_cfg(self, cfg):
        """New behaviour for the fake containers, on the workers already up and the next ones."""
        self.cfg = cfg
        for w in self.workers():
            w.set_crunch_run_config(**cfg)

    def started_by_instance(self):
        """instance id -> [uuids of fake containers started on that VM]."""
        out = {}
        with self.lock:
            hist = list(self.history)
        for h in hist:
            for e in h["worker"].events():
                if e.get("event") == "started" and e["time"] >= h["t0"] and \
                        (h["t1"] is None or e["time"] <= h["t1"]):
                    out.setdefault(h["iid"], []).append(e["uuid"])
        return out

    def workers(self):
        with self.lock:
            return [w for _, w in self.by_ip.values()]

    def started_counts(self):
        """uuid -> how many fake containers were started for it, over every worker."""
        n = {}
        for w in self.workers():
            for e in w.events():
                if e.get("event") == "started":
                    n[e["uuid"]] = n.get(e["uuid"], 0) + 1
        return n

    def stop(self):
        self.stopped.set()
        self.join(5)


M4_TYPE = """      m4:
        ProviderType: t3.xlarge
        VCPUs: 4
        RAM: 16GiB
        IncludedScratch: 100GB
        Price: 0.2
"""


def write_config(d, arv_port, mgmt_port, ssh_port, key_path, extra_vm="", max_instances=4,
                 timeout_booting="20s", itypes=M4_TYPE, extra_containers="", deploy_runner="",
                 driver_extra="", timeout_idle="3s"):
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
%(xc)s      CloudVMs:
        Driver: ec2
        ImageID: ami-0123456789abcdef0
        DeployRunnerBinary: "%(deploy)s"
        SSHPort: "%(ssh)d"
        PollInterval: 1s
        SyncInterval: 2s
        ProbeInterval: 1s
        TimeoutIdle: %(ti)s
        TimeoutBooting: %(tb)s
        TimeoutProbe: 10s
        TimeoutShutdown: 5s
        MaxInstances: %(max)d
        BootProbeCommand: "true"
%(extra)s        DriverParameters:
          AccessKeyID: %(akid)s
          SecretAccessKey: %(sak)s
          Region: us-east-1
          AdminUsername: root
%(driver)s    InstanceTypes:
%(itypes)s""" % {"itypes": itypes, "xc": extra_containers, "deploy": deploy_runner,
       "root": fakearv_testlib.ROOT, "arv": arv_port, "mgmt": mgmt_port, "key": key_path,
       "ssh": ssh_port, "max": max_instances, "extra": extra_vm, "tb": timeout_booting, "akid": AKID, "sak": SAK,
       "driver": driver_extra, "ti": timeout_idle}
    path = os.path.join(d, "config.yml")
    with open(path, "w") as f:
        f.write(text)
    return path


class E2E:
    """Everything one scenario needs; stop() tears it down. E2E(**kw) starts it all with
    _start(**kw) (a subclass for another cloud overrides _start); what a start that fails half
    way had started is stopped."""

    def __init__(self, **kw):
        self.dir = self.disp = None
        try:
            self._start(**kw)
        except BaseException:
            # What was started before the failure would outlive the test (and hold ctest).
            try:
                self.stop()
            except Exception:  # noqa: BLE001 - the start's own failure is the one to report
                pass
            raise

    def _start(self, crunch_cfg=None, extra_vm="", skip=(), timeout_booting="20s",
               max_instances=4, itypes=M4_TYPE, extra_containers="", deploy_runner="",
               path_runner=True, driver_extra="", ec2_args=(), subnet_id=None,
               timeout_idle="3s", imds=False, crunch_run=None, ssh_server="openssh"):
        """subnet_id: the fake EC2's subnet gets this id (else the fake makes one up). The
        subnet is the block of addresses the rig leased (sshd_rig.rig_lease_net), so that
        scenarios running at the same time never share a worker address. imds: the fake EC2
        serves each instance's metadata (ec2_imds.py) on its private IP, port self.imds_port,
        and each worker resolves IMDS_HOST to its own address: -instance-metadata-url is then
        self.imds_url, the same for every worker, as 169.254.169.254 is on EC2. crunch_run: the
        workers' crunch-run (absolute path; default the rig's recording stub). ssh_server: the
        workers' SSH server, "openssh" or "dropbear" (tests/rig/README.md)."""
        adc_harness.ensure_role_users()
        self.dir = tempfile.mkdtemp(prefix="adc-e2e-", dir="/var/tmp")
        os.chmod(self.dir, 0o755)
        make_ca(self.dir)
        self.key_path, _ = adc_harness.make_key(self.dir)
        os.chmod(self.key_path, 0o644)  # read by sshd-pool's own user
        self.arv = fakearv_testlib.FakeServer(tls=(self.dir + "/srv.pem", self.dir + "/srv.key"))
        self.arv.ssl_ctx = ssl.create_default_context(cafile=self.dir + "/ca.pem")
        self.rig = sshd_rig.WorkerRig(os.path.join(self.dir, "rig"),
                                      authorized_keys=[self.key_path + ".pub"],
                                      crunch_run=crunch_run or sshd_rig.STUB)
        self.net = self.rig.address_prefix  # "127.<n>.1.": the subnet is <net>0/24
        cidr = self.net + "0/24"
        self.ssh_port = free_port(self.net + "4")
        self.imds_port = free_port(self.net + "5") if imds else None
        if imds:
            ec2_args = tuple(ec2_args) + ("--imds-port", str(self.imds_port))
            self.imds_url = "http://%s:%d" % (IMDS_HOST, self.imds_port)
        self.ec2 = FakeEC2(self.dir, "--subnet-cidr", (subnet_id + "=" + cidr) if subnet_id else cidr,
                           *ec2_args)
        self.mgmt_port = free_port()
        self.watcher = WorkerWatcher(self.ec2, self.rig, self.ssh_port,
                                     crunch_cfg or {"duration": 2, "arvados": True}, skip,
                                     path_runner=path_runner,
                                     host_names=(IMDS_HOST,) if imds else (), server=ssh_server)
        self.watcher.start()
        self.config = write_config(self.dir, self.arv.port, self.mgmt_port, self.ssh_port,
                                   self.key_path, extra_vm, max_instances=max_instances,
                                   timeout_booting=timeout_booting, itypes=itypes,
                                   extra_containers=extra_containers, deploy_runner=deploy_runner,
                                   driver_extra=driver_extra, timeout_idle=timeout_idle)

    def env(self):
        return {"AWS_ENDPOINT_URL_EC2": self.ec2.endpoint, "AWS_CA_BUNDLE": self.dir + "/ca.pem",
                "AWS_EC2_METADATA_DISABLED": "true"}

    def start_dispatcher(self, args=()):
        self.disp = adc_harness.Dispatcher(self.config, args=args, env=self.env(),
                                           bin_dir=os.environ.get("ADC_BIN_DIR"))
        return self.disp

    def containers(self):
        return self.arv.ctl("GET", "containers")

    def records(self, uuids):
        return {u: self.arv.ctl("GET", "containers/" + u) for u in uuids}

    def create(self, n, **fields):
        fields.setdefault("runtime_constraints", {"vcpus": 1, "ram": 256 << 20})
        fields.setdefault("state", "Queued")
        return [self.arv.ctl("POST", "containers", dict(fields))["uuid"] for _ in range(n)]

    def wait(self, pred, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            v = pred()
            if v:
                return v
            time.sleep(0.3)
        raise AssertionError("timed out waiting for %s; VMs %s, sshd restarts %s, watcher errors %s; "
                             "dispatcher log tail:\n%s" % (
                                 what, [(h["iid"], h["ip"], h["t0"], h["t1"]) for h in self.watcher.history],
                                 self.watcher.restarts, self.watcher.errors,
                                 "\n".join(self.disp.log_text().splitlines()[-60:]) if self.disp else ""))

    def log(self, **match):
        return self.arv.ctl("GET", "log")

    MGMT_TOKEN = "e2emanagementtoken0123456789"

    def mgmt(self, method, path, **params):
        """A management API call (spec 7.2) with the token; parameters in the query string.
        Returns (status, body bytes); an HTTP error status is returned, not raised."""
        url = "http://127.0.0.1:%d/arvados/v1/dispatch/%s" % (self.mgmt_port, path)
        if params:
            url += "?" + urllib.parse.urlencode(params)
        req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None,
                                     headers={"Authorization": "Bearer " + self.MGMT_TOKEN})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def metrics_text(self):
        """The management API's /metrics, as text."""
        req = urllib.request.Request("http://127.0.0.1:%d/metrics" % self.mgmt_port,
                                     headers={"Authorization": "Bearer " + self.MGMT_TOKEN})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read().decode()

    def mgmt_instances(self):
        st, body = self.mgmt("GET", "instances")
        assert st == 200, (st, body)
        return {i["instance"]: i for i in json.loads(body)["items"] or [] if i["instance"]}

    def stop(self):
        """Every part is stopped even when one of them fails to stop (a dispatcher that did not
        exit in time must not leave the fakes and the rig's sshd running: their open pipes would
        hold ctest until its timeout); the first failure is raised at the end."""
        first = None
        parts = [getattr(self, n, None) for n in ("disp", "watcher", "rig", "ec2", "arv")]
        for part in parts:
            if part is None:
                continue
            try:
                part.stop()
            except Exception as e:  # noqa: BLE001 - re-raised below, after the rest is stopped
                first = first or e
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
        if first is not None:
            raise first


FINAL = ("Complete", "Cancelled")


class E2ECase(unittest.TestCase):
    """Helpers of every scenario (no test of its own). Each scenario ends with check_final():
    every container final exactly once, then wait_no_instance() (TimeoutIdle shut them down)."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root (the sshd rig)")
        self.env = None

    def tearDown(self):
        if self.env is not None:
            keep = os.environ.get("ADC_E2E_LOG_DIR")  # for debugging: the dispatcher's log
            try:
                if keep and self.env.disp is not None:
                    with open(os.path.join(keep, self.id() + ".log"), "w") as f:
                        f.write(self.env.disp.log_text() + "\n")
            finally:
                self.env.stop()

    def start(self, **kw):
        self.env = E2E(**kw)
        d = self.env.start_dispatcher()
        d.wait_for(lambda e: e.get("msg") == "listening", 30)
        return d

    def wait_final(self, uuids, timeout):
        def done():
            recs = self.env.records(uuids)
            return recs if all(r["state"] in FINAL for r in recs.values()) else None
        return self.env.wait(done, timeout, "every container final")

    def wait_no_instance(self, timeout=40):
        self.env.wait(lambda: not self.env.ec2.live(), timeout, "no instance left")

    def final_updates(self):
        """uuid -> number of successful API updates that finalised it (crunch-run's Complete,
        the dispatcher's cancel)."""
        finals = {}
        for e in self.env.arv.ctl("GET", "log?route=update")["items"]:
            st = ((e.get("params") or {}).get("container") or {}).get("state")
            if e.get("status") == 200 and st in FINAL:
                finals[e["uuid"]] = finals.get(e["uuid"], 0) + 1
        return finals

    def check_final(self, expect, outside=()):
        """expect: uuid -> final state. Each container is in that state and was finalised
        exactly once through the API (those in outside: never, a test finalised them through
        the fake's control API); a Complete one was started exactly once over every worker, any
        other at most once."""
        recs = self.env.records(list(expect))
        finals = self.final_updates()
        started = self.env.watcher.started_counts()
        for u, state in expect.items():
            self.assertEqual(recs[u]["state"], state, u)
            self.assertEqual(finals.get(u, 0), 0 if u in outside else 1,
                             "finalised %s times: %s" % (finals.get(u), u))
            if state == "Complete":
                self.assertEqual(started.get(u), 1, "started %s times: %s" % (started.get(u), u))
            else:
                self.assertLessEqual(started.get(u, 0), 1, "started %s times: %s" % (started.get(u), u))
        self.assertEqual(self.env.watcher.errors, [])

    def ec2_requests(self, action=None):
        v = self.env.ec2.ctl("GET", "requests" + ("?action=" + action if action else ""))
        return v["requests"] if isinstance(v, dict) else v

    # ---- spot interruption notices (test_e2e_spot.py, tests/azure/test_e2e_azure.py)

    SPOT_NOTICE_MSG = "spot interruption notice: draining instance"
    SPOT_COUNTER_RE = re.compile(
        r'^arvados_dispatchcloud_spot_interruptions_total\{action="(\w+)"\} (\S+)$', re.M)

    def wait_running_on(self, uuid, timeout=90):
        """The instance id whose running list has uuid, once the API says it is Running."""
        def running_on():
            for iid, v in self.env.mgmt_instances().items():
                if uuid in v["running_container_uuids"] and \
                        self.env.records([uuid])[uuid]["state"] == "Running":
                    return iid
            return None
        return self.env.wait(running_on, timeout, "%s running" % uuid)

    def check_notice_view(self, iid, running):
        """The management API shows instance iid's notice, drained, still running `running`
        (its lists may be up to 1 s stale, docs/MANAGEMENT_API.md: waited for). Returns the
        notice."""
        view = self.env.wait(lambda: (lambda v: v if "spot_interruption" in v else None)(
            self.env.mgmt_instances()[iid]), 30, "the notice in the instance list")
        self.assertEqual(view["idle_behavior"], "drain")
        self.assertEqual(view["running_container_uuids"], [running])
        return view["spot_interruption"]

    def check_second_goes_elsewhere(self, noticed, first):
        """A second preemptible container, which would fit beside `first` on the noticed
        instance, completes on another one. Returns its uuid."""
        self.env.watcher.set_crunch_cfg({"duration": 2, "arvados": True})
        second, = self.env.create(1, scheduling_parameters={"preemptible": True})
        self.env.wait(lambda: self.env.records([second])[second]["state"] == "Complete", 120,
                      "the second container complete")
        started = self.env.watcher.started_by_instance()
        self.assertEqual(started.get(noticed), [first])
        self.assertIn(second, sum((v for k, v in started.items() if k != noticed), []))
        return second

    def log_entries(self, msg):
        with self.env.disp.cond:
            return [e for e in self.env.disp.lines if e.get("msg") == msg]


def main():
    """unittest.main for a file of scenarios, run side by side (tests/support/parallel_cases.py,
    ADC_CASE_JOBS at once, default 3): a scenario has its own fakes, ports, directories and
    rig, whose address block no other rig uses (sshd_rig.rig_lease_net), and spends most of
    its time waiting for the dispatcher's timers, so running several costs little more."""
    parallel_cases.main()
