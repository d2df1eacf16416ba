"""demo_cluster.py - the local cluster of `make demo`: start and stop its pieces.

  fake Arvados API    tests/fake_arvados/fake_arvados.py, HTTPS on 127.0.0.1 with a
                      self-signed certificate made here (the config says TLS.Insecure)
  dispatcher          build/bin/arvados-dispatch-cloud (or $ADC_BIN_DIR) with
                      Containers.CloudVMs.Driver: loopback and the synthesised `localhost`
                      type; cloudd starts a private sshd on 127.0.0.1 for the one instance
  demo crunch-run     scripts/demo-crunch-run, given as DeployRunnerBinary: the dispatcher
                      copies it to the instance over SSH and runs it there

Everything lives in one temporary directory (`Cluster.dir`); stop() ends every process this
run started and removes the directory. Standard library only; /usr/bin/python3.

The deploy directory is a plain directory of the demo's own (<dir>/deploy), and the demo
crunch-run keeps its lock files in /var/lock as the real one does: the loopback instance runs
commands unconfined, as the reference does (docs/SANDBOX.md, "cloudd -driver loopback").
"""
import glob
import json
import os
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "process"))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
if not os.environ.get("ADC_BIN_DIR"):
    os.environ["ADC_BIN_DIR"] = os.path.join(ROOT, "build", "bin")
import adc_harness as h  # noqa: E402
from free_ports import free_port  # noqa: E402
from machine_lock import LOOPBACK_LOCK, machine_lock  # noqa: E402

CRUNCH_RUN = os.path.join(ROOT, "scripts", "demo-crunch-run")
FAKE_ARVADOS = os.path.join(ROOT, "tests", "fake_arvados", "fake_arvados.py")


def cluster_self_signed(d):
    """A throw-away certificate for 127.0.0.1; returns (cert, key)."""
    cert, key = os.path.join(d, "api.pem"), os.path.join(d, "api.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                    "/CN=fake arvados (make demo)", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


CONFIG = """Clusters:
  zzzzz:
    ManagementToken: %(mgmt_token)s
    SystemRootToken: %(root_token)s
    SystemLogs:
      LogLevel: %(log_level)s
    TLS:
      Insecure: true          # the fake API's certificate is self-signed
    Services:
      Controller:
        ExternalURL: "https://127.0.0.1:%(api_port)d"
      DispatchCloud:
        InternalURLs:
          "http://127.0.0.1:%(mgmt_port)d": {}
    Containers:
      DispatchPrivateKey: "file://%(key)s"
      CloudVMs:
        Driver: loopback      # one instance: this machine, through cloudd's private sshd
        BootProbeCommand: "true"
        DeployRunnerBinary: "%(runner)s"
        DeployRunnerDirectory: "%(deploy)s"
        MaxInstances: 1
        PollInterval: %(poll)s
        SyncInterval: 2s
        ProbeInterval: 1s
        TimeoutIdle: %(idle)s
        TimeoutBooting: 60s
    # No InstanceTypes: with the loopback driver the dispatcher makes one, "localhost",
    # from this host's CPUs, memory and /tmp.
"""


class Cluster:
    def __init__(self, idle="30s", poll="1s"):
        # 0700 (mkdtemp's mode): the dispatch key in it logs in to the loopback sshd, as root
        # when the demo runs as root.
        self.dir = tempfile.mkdtemp(prefix="adc-demo-")
        self.idle = idle
        self.poll = poll        # PollInterval: the demo's 1 s; the reference's default is 10 s
        self.fake = None
        self.disp = None
        self.disp_rc = None     # its exit status once stopped (0 after SIGTERM)
        # Held from start_dispatcher to stop: another loopback dispatcher on this machine
        # would kill our containers, whose locks it sees in /var/lock (machine_lock.py).
        self.loopback_lock = machine_lock(LOOPBACK_LOCK, waiting=lambda: print(
            "demo: waiting for another loopback dispatcher on this machine to stop (%s)"
            % LOOPBACK_LOCK, flush=True))
        self.mgmt_port = free_port()
        self.mgmt_token = secrets.token_hex(20)
        self.root_token = secrets.token_hex(25)
        self.deploy = os.path.join(self.dir, "deploy")
        self.run_dir = os.path.join(self.dir, "run")
        os.mkdir(self.run_dir, 0o700)

    # ---- start ------------------------------------------------------------------------

    def start_fake(self):
        cert, key = cluster_self_signed(self.dir)
        self.fake = subprocess.Popen(
            ["/usr/bin/python3", "-B", FAKE_ARVADOS, "--port", "0", "--tls", cert, key,
             "--token", self.root_token],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            start_new_session=True)
        info = json.loads(self.fake.stdout.readline() or "null")
        if not info:
            raise RuntimeError("the fake Arvados API server did not start")
        self.api_port = info["port"]
        self.api_url = info["url"]
        self.ctx = ssl.create_default_context(cafile=cert)
        return info

    def write_config(self):
        key, _ = h.make_key(self.dir, "ed25519")   # 0600; the dispatcher opens it as root
        path = os.path.join(self.dir, "config.yml")
        with open(path, "w") as f:
            f.write(CONFIG % {"mgmt_token": self.mgmt_token, "root_token": self.root_token,
                              "api_port": self.api_port, "mgmt_port": self.mgmt_port, "key": key,
                              "runner": CRUNCH_RUN, "deploy": self.deploy, "idle": self.idle,
                              "poll": self.poll,
                              "log_level": os.environ.get("DEMO_LOG_LEVEL") or "info"})
        self.config = path
        return path

    def start_dispatcher(self, timeout=60):
        h.ensure_role_users()
        self.loopback_lock.acquire()
        # Own sessions (also the fake's): a Ctrl-C on the terminal goes to the whole
        # foreground process group, and the demo wants to stop them itself, in order.
        self.disp = h.Dispatcher(self.config, env={"RUNTIME_DIRECTORY": self.run_dir},
                                 new_session=True)
        self.disp.wait_ready(timeout)
        return self.disp

    # ---- talk to the fake and to the management API -------------------------------------

    def fake_call(self, method, path, body=None):
        req = urllib.request.Request(self.api_url + "/_fake/" + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def run_container(self, command, timeout=90):
        """Queue one small container with `command` at the fake API and wait until it is
        final (Complete or Cancelled) or the timeout passes; its last record."""
        uuid = self.fake_call("POST", "containers", {
            "state": "Queued", "command": command,
            "container_image": "arvados/jobs:latest", "output_path": "/out",
            "mounts": {"/out": {"kind": "tmp", "capacity": 1000}},
            "runtime_constraints": {"vcpus": 1, "ram": 1048576}})["uuid"]
        deadline = time.monotonic() + timeout
        rec = {"uuid": uuid}
        while time.monotonic() < deadline:
            rec = self.fake_call("GET", "containers/" + uuid)
            if rec.get("state") in ("Complete", "Cancelled"):
                break
            time.sleep(0.2)
        return rec

    def mgmt_url(self, path=""):
        return "http://127.0.0.1:%d%s" % (self.mgmt_port, path)

    def mgmt(self, method, path, params=None):
        data = urllib.parse.urlencode(params).encode() if params else None
        req = urllib.request.Request(self.mgmt_url(path), method=method, data=data,
                                     headers={"Authorization": "Bearer " + self.mgmt_token})
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        return json.loads(body) if body.strip() else None

    def instances(self):
        return self.mgmt("GET", "/arvados/v1/dispatch/instances")["items"] or []

    # ---- stop -------------------------------------------------------------------------

    def kill_instances(self, timeout=20, say=print):
        """Destroy every instance through the management API and wait until the dispatcher
        lists none (the loopback driver stops its sshd before it answers). A failed call is
        said and tried again until the deadline; at the deadline, what is still listed is
        said. False if the dispatcher is not running or an instance is still listed.

        An instance already asked for is asked again when it is listed in a state other than
        shutdown a second after: the loopback driver gives every instance the same ID
        ("localhost"), and the dispatcher may create a new one at once, as the reference
        does. The runners of a killed instance are abandoned, not exited (spec 5.10), so a
        container its queue still shows Locked (the container finished between two polls)
        gets a new instance, and crunch-run is started there too, until the next poll says
        Complete."""
        if self.disp is None or self.disp.proc.poll() is not None:
            return False
        deadline = time.monotonic() + timeout
        asked, items = {}, None
        while time.monotonic() < deadline and self.disp.proc.poll() is None:
            try:
                items = self.instances()
            except OSError as e:
                say("demo: instances: %s" % e)
                time.sleep(0.2)
                continue
            if not items:
                return True
            now = time.monotonic()
            for i in items:
                iid = i.get("instance")
                if not iid or (iid in asked and (i.get("worker_state") == "shutdown"
                                                 or now - asked[iid] < 1)):
                    continue
                if iid in asked:
                    say("demo: instance %s is listed again (%s): a new instance with the same ID"
                        % (iid, i.get("worker_state")))
                say("demo: destroying instance %s through the management API" % iid)
                try:
                    self.mgmt("POST", "/arvados/v1/dispatch/instances/kill",
                              {"instance_id": iid, "reason": "make demo is stopping"})
                    asked[iid] = now
                except OSError as e:
                    say("demo: instances/kill: %s" % e)
            time.sleep(0.2)
        if self.disp.proc.poll() is not None:
            say("demo: the dispatcher exited (status %s) with instances listed: %s"
                % (self.disp.proc.returncode, json.dumps(items)))
        else:
            say("demo: still listed after %g s: %s" % (timeout, json.dumps(items)))
        return False

    def supervisor_locks(self):
        """{lock file: PID} of the demo crunch-run's supervisors from this run: their lock
        files are in /var/lock (as the real crunch-run's), and a PID is ours when its command
        line names the deploy directory. A destroyed loopback instance stops its sshd, but a
        container still running was detached from it and would live on."""
        out = {}
        for path in glob.glob("/var/lock/crunch-run-*.lock"):
            try:
                with open(path) as f:
                    pid = int(json.loads(f.readline())["PID"])
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    if self.deploy.encode() in f.read():
                        out[path] = pid
            except (OSError, ValueError, KeyError, TypeError):
                pass
        return out

    def supervisor_pids(self):
        return list(self.supervisor_locks().values())

    def leftovers(self):
        """Processes whose command line names this run's directory (sshd's -f <config>,
        deployed crunch-runs, their commands' cwd aside) or that this run started."""
        mine = {os.getpid()}
        out = []
        for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
            if pid in mine:
                continue
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            except OSError:
                continue
            if self.dir in cmd:
                out.append((pid, cmd.strip()))
        return out

    def wait_leftovers(self, timeout=3):
        """leftovers(), once they had up to timeout seconds to end: a command the dispatcher
        started on the loopback instance just before it stopped ends on its own (a probe's
        `crunch-run --list`; a `crunch-run --kill`, which waits up to 1 s for its supervisor,
        as the real one does), and on a loaded machine that takes a moment."""
        left = self.leftovers()
        until = time.monotonic() + timeout
        while left and time.monotonic() < until:
            time.sleep(0.1)
            left = self.leftovers()
        return left

    def stop(self, say=print):
        self.kill_instances(say=say)
        locks = self.supervisor_locks()
        for pid in locks.values():
            try:
                os.kill(pid, signal.SIGTERM)  # it kills its command's process group
            except OSError:
                pass
        if self.disp is not None:
            self.disp_rc = rc = self.disp.stop(signal.SIGTERM)
            # DEMO_LOG_FILE: keep the dispatcher's whole JSON log (the work directory goes).
            if os.environ.get("DEMO_LOG_FILE"):
                with open(os.environ["DEMO_LOG_FILE"], "w") as f:
                    f.write(self.disp.log_text() + "\n")
            say("demo: dispatcher stopped (exit status %d)" % rc)
        for path, pid in locks.items():
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline and os.path.exists("/proc/%d" % pid):
                time.sleep(0.05)
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.unlink(path)  # its supervisor removes it when it ends normally
            except OSError:
                pass
        if self.fake is not None and self.fake.poll() is None:
            self.fake.terminate()
            try:
                self.fake.wait(10)
            except subprocess.TimeoutExpired:
                self.fake.kill()
                self.fake.wait()
            say("demo: fake Arvados API server stopped")
        for f in (self.fake and self.fake.stdout, self.disp and self.disp.proc.stdout):
            if f is not None:
                f.close()
        self.loopback_lock.release()
        shutil.rmtree(self.dir, ignore_errors=True)
        say("demo: removed %s" % self.dir)
