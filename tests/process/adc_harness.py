"""adc_harness.py - start arvados-dispatch-cloud as an operator would, and watch its log.

Used by the process tests and the demo. Runs /usr/bin/python3 with the standard library only.
"""
import json
import os
import secrets
import signal
import subprocess
import tempfile
import threading
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import system_users  # noqa: E402

BIN_DIR = os.environ.get("ADC_BIN_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "bin")

ROLE_USERS = ("arvados-cloudd", "arvados-sshd-pool")


def ensure_role_users():
    """The children switch to their own users when started as root; create them like the
    package's postinst does (once per machine, safe against tests running side by side)."""
    if os.geteuid() != 0:
        return
    for u in ROLE_USERS:
        system_users.ensure_system_user(u)


def make_key(directory, kind="ed25519", fmt=None):
    """A fresh dispatch key made by ssh-keygen; returns (path, text)."""
    path = os.path.join(directory, "dispatch_" + kind)
    cmd = ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "adc-test", "-f", path]
    if kind == "rsa":
        cmd += ["-b", "2048"]
    if fmt:
        cmd += ["-m", fmt]
    subprocess.run(cmd, check=True)
    with open(path) as f:
        return path, f.read()


def write_config(directory, key_text=None, key_path=None, driver="ec2", extra="", driver_keys=True):
    """A cluster config with distinctive random secrets; returns (path, secrets dict)."""
    s = {
        "secret_access_key": "SAK" + secrets.token_hex(20),
        "access_key_id": "AKID" + secrets.token_hex(8).upper(),
        "management_token": secrets.token_hex(20),
        "system_root_token": secrets.token_hex(25),
    }
    if key_path:
        key_yaml = "      DispatchPrivateKey: \"file://%s\"\n" % key_path
    else:
        key_yaml = "      DispatchPrivateKey: |\n" + "".join(
            "        %s\n" % line for line in key_text.strip().splitlines())
    text = (
        "Clusters:\n"
        "  zzzzz:\n"
        "    ManagementToken: %(management_token)s\n"
        "    SystemRootToken: %(system_root_token)s\n"
        "    Services:\n"
        "      Controller:\n"
        "        ExternalURL: \"https://127.0.0.1:1\"\n"
        "      DispatchCloud:\n"
        "        InternalURLs:\n"
        "          \"http://127.0.0.1:0\": {}\n"
        "    Containers:\n" % s
        + key_yaml
        + ("      CloudVMs:\n"
           "        Driver: %s\n"
           "        ImageID: ami-0123456789abcdef0\n"
           "        DeployRunnerBinary: \"\"\n"
           "        DriverParameters:\n" % driver)
        + ("          AccessKeyID: %s\n"
           "          SecretAccessKey: %s\n" % (s["access_key_id"], s["secret_access_key"])
           if driver_keys else "")
        + ("          Region: us-east-1\n"
           "    InstanceTypes:\n"
           "      t3small:\n"
           "        ProviderType: t3.small\n"
           "        VCPUs: 2\n"
           "        RAM: 2GiB\n"
           "        IncludedScratch: 16GB\n"
           "        Price: 0.02\n")
        + extra)
    path = os.path.join(directory, "config.yml")
    with open(path, "w") as f:
        f.write(text)
    return path, s


class Dispatcher:
    """A running arvados-dispatch-cloud with its JSON log collected line by line."""

    def __init__(self, config, args=(), env=None, bin_dir=None, new_session=False, prefix=()):
        """new_session: its own session, so a terminal's Ctrl-C reaches only the caller
        (the demo stops it in order). prefix: argv words before the executable's (a wrapper
        that execs it, so that the process is still the dispatcher)."""
        self.lines = []
        self.cond = threading.Condition()
        e = dict(os.environ)
        # cloudd lists the instance set at start-up: never towards the real EC2 (nothing here
        # may leave the machine); a closed loopback port unless a test names its fake.
        e.setdefault("AWS_ENDPOINT_URL_EC2", "https://127.0.0.1:1")
        e.setdefault("AWS_EC2_METADATA_DISABLED", "true")
        e.update(env or {})
        self.proc = subprocess.Popen(
            list(prefix)
            + [os.path.join(bin_dir or BIN_DIR, "arvados-dispatch-cloud"), "-config", config]
            + list(args),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=e,
            start_new_session=new_session)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            try:
                entry = json.loads(line)
            except ValueError:
                entry = {"msg": line, "raw": True}
            with self.cond:
                self.lines.append(entry)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, pred, timeout=30, start=0):
        """The first log entry from index start on that satisfies pred; AssertionError
        with the log on timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.lines)):
                    if pred(self.lines[i]):
                        return i, self.lines[i]
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    raise AssertionError("log entry not seen; log so far:\n" + self.log_text())
                self.cond.wait(min(left, 0.5))

    def wait_ready(self, timeout=30):
        return self.wait_for(lambda e: e.get("msg") == "dispatcher ready", timeout)

    def helper_pids(self, start=0):
        """Helper -> pid of the most recent 'helper ready' entries from start on."""
        out = {}
        with self.cond:
            for e in self.lines[start:]:
                if e.get("msg") == "helper ready":
                    out[e["Helper"]] = e["HelperPID"]
        return out

    def log_text(self):
        with self.cond:
            return "\n".join(json.dumps(e) for e in self.lines)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        return self.proc.returncode


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)


def proc_comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


def tmpdir():
    return tempfile.mkdtemp(prefix="adc-test-")
