"""e2e_env.py - the three real executables against the fakes: fake Arvados API (HTTPS),
fake EC2 (HTTPS, test CA), and real OpenSSH workers from the rig started on exactly the
private IPs the fake EC2 hands out, each with the instance secret from its user data (as
cloud-init would write it). Standard library only; /usr/bin/python3; needs root."""
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import ssl

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "rig"))
sys.path.insert(0, os.path.join(SRC, "tests", "fake_arvados"))
sys.path.insert(0, os.path.join(SRC, "tests", "process"))
import sshd_rig  # noqa: E402
import fakearv_testlib  # noqa: E402
import adc_harness  # noqa: E402

AKID, SAK = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
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


def free_port(addr="127.0.0.1"):
    s = socket.socket()
    s.bind((addr, 0))
    p = s.getsockname()[1]
    s.close()
    return p


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


class WorkerWatcher(threading.Thread):
    """Starts (or re-secrets) a rig worker on each private IP the fake EC2 gives an instance,
    as the instance's cloud-init would; every worker listens on the same SSH port."""

    def __init__(self, ec2, rig, port, crunch_cfg, skip=()):
        super().__init__(daemon=True)
        self.ec2, self.rig, self.port, self.cfg = ec2, rig, port, crunch_cfg
        self.skip = set(skip)          # instance ids never booted (TimeoutBooting tests)
        self.by_ip = {}                # ip -> (instance id, Worker)
        self.stopped = threading.Event()
        self.errors = []

    def run(self):
        while not self.stopped.is_set():
            try:
                self.scan()
            except Exception as e:  # kept for the test to report
                self.errors.append(repr(e))
            self.stopped.wait(0.2)

    def scan(self):
        for inst in self.ec2.instances():
            ip, iid = inst.get("private_ip"), inst["id"]
            if inst["state"] not in ("pending", "running") or not ip or iid in self.skip \
                    or "all" in self.skip:
                continue
            cur = self.by_ip.get(ip)
            if cur is not None and cur[0] == iid:
                continue
            m = SECRET_RE.search(inst.get("user_data") or "")
            if m is None:
                continue
            w = cur[1] if cur is not None else None
            if w is None:
                idx = int(ip.rsplit(".", 1)[1])
                w = sshd_rig.Worker(self.rig, idx, "openssh", ip, self.port)
                if os.path.exists(w.dir):
                    shutil.rmtree(w.dir)
                w._setup()
                self.rig.workers.append(w)
                w.set_secret(m.group(1))
                w.set_crunch_run_config(**self.cfg)
                w.start()
            else:
                w.set_secret(m.group(1))
            self.by_ip[ip] = (iid, w)

    def workers(self):
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


DEFAULT_ITYPES = """      m4:
        ProviderType: t3.xlarge
        VCPUs: 4
        RAM: 16GiB
        IncludedScratch: 100GB
        Price: 0.2
"""


def write_config(d, arv_port, mgmt_port, ssh_port, key_path, extra_vm="", max_instances=4,
                 timeout_booting="20s", itypes=DEFAULT_ITYPES, driver_extra=""):
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
        Driver: ec2
        ImageID: ami-0123456789abcdef0
        DeployRunnerBinary: ""
        SSHPort: "%(ssh)d"
        PollInterval: 1s
        SyncInterval: 2s
        ProbeInterval: 1s
        TimeoutIdle: 3s
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
%(itypes)s""" % {"root": fakearv_testlib.ROOT, "arv": arv_port, "mgmt": mgmt_port, "key": key_path,
       "ssh": ssh_port, "max": max_instances, "extra": extra_vm, "tb": timeout_booting, "akid": AKID, "sak": SAK,
       "itypes": itypes, "driver": driver_extra}
    path = os.path.join(d, "config.yml")
    with open(path, "w") as f:
        f.write(text)
    return path


class E2E:
    """Everything one scenario needs; stop() tears it down."""

    def __init__(self, crunch_cfg=None, extra_vm="", skip=(), timeout_booting="20s",
                 itypes=DEFAULT_ITYPES, driver_extra="", ec2_args=()):
        adc_harness.ensure_role_users()
        self.dir = tempfile.mkdtemp(prefix="adc-e2e-", dir="/var/tmp")
        os.chmod(self.dir, 0o755)
        make_ca(self.dir)
        self.key_path, _ = adc_harness.make_key(self.dir)
        os.chmod(self.key_path, 0o644)  # read by sshd-pool's own user
        self.arv = fakearv_testlib.FakeServer(tls=(self.dir + "/srv.pem", self.dir + "/srv.key"))
        self.arv.ssl_ctx = ssl.create_default_context(cafile=self.dir + "/ca.pem")
        self.ec2 = FakeEC2(self.dir, *ec2_args)
        self.ssh_port = free_port("127.0.1.4")
        self.mgmt_port = free_port()
        self.rig = sshd_rig.WorkerRig(os.path.join(self.dir, "rig"),
                                      authorized_keys=[self.key_path + ".pub"])
        self.watcher = WorkerWatcher(self.ec2, self.rig, self.ssh_port,
                                     crunch_cfg or {"duration": 2, "arvados": True}, skip)
        self.watcher.start()
        self.config = write_config(self.dir, self.arv.port, self.mgmt_port, self.ssh_port,
                                   self.key_path, extra_vm, timeout_booting=timeout_booting,
                                   itypes=itypes, driver_extra=driver_extra)
        self.disp = None

    def env(self):
        return {"AWS_ENDPOINT_URL_EC2": self.ec2.endpoint, "AWS_CA_BUNDLE": self.dir + "/ca.pem",
                "AWS_EC2_METADATA_DISABLED": "true"}

    def start_dispatcher(self):
        self.disp = adc_harness.Dispatcher(self.config, env=self.env(),
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
        raise AssertionError("timed out waiting for %s; dispatcher log tail:\n%s" % (
            what, "\n".join(self.disp.log_text().splitlines()[-60:]) if self.disp else ""))

    def log(self, **match):
        return self.arv.ctl("GET", "log")

    def stop(self):
        if self.disp is not None:
            self.disp.stop()
        self.watcher.stop()
        self.rig.stop()
        self.ec2.stop()
        self.arv.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
