"""The management API of the running dispatcher (real executables, fake Arvados, fake EC2,
rig workers), field by field against spec/dispatcher.md 7.2 and 5.1; the metrics of section
8 that the run must have fed; and the systemd notifications of spec 1.6 on a NOTIFY_SOCKET
this test owns. Needs root (the sshd rig)."""
import hashlib
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_env  # noqa: E402
from fakearv_values import values_go_rfc3339nano  # noqa: E402

TOKEN = "e2emanagementtoken0123456789"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")
UUID = re.compile(r"^[a-z0-9]{5}-dz642-[a-z0-9]{15}$")

# Spec 7.2 "container" object: every arvados.Container attribute with its JSON type. "time"
# is an RFC 3339 string; "null" a value that is null for what the dispatcher does not
# select; a tuple allows either.
S, I, B, F, T, N = "string", "int", "bool", "number", "time", "null"
CONTAINER = {
    "uuid": S, "etag": S, "created_at": T, "modified_by_user_uuid": S, "modified_at": T,
    "command": N, "container_image": S, "cwd": S, "environment": N, "locked_by_uuid": S,
    "lock_count": I, "mounts": N, "output": S, "output_path": S, "output_glob": N,
    "priority": I, "runtime_constraints": {
        "API": B, "ram": I, "vcpus": I, "keep_cache_ram": I, "keep_cache_disk": I,
        "gpu": {"stack": S, "driver_version": S, "hardware_target": ("list", N),
                "device_count": I, "vram": I}},
    "state": S, "scheduling_parameters": {
        "partitions": ("list", N), "preemptible": B, "max_run_time": I, "supervisor": B},
    "exit_code": I, "runtime_status": N, "started_at": N, "finished_at": N,
    "gateway_address": S, "interactive_session_started": B, "output_storage_classes": N,
    "runtime_user_uuid": S, "runtime_auth_scopes": N, "runtime_token": S, "auth_uuid": S,
    "log": S, "cost": F, "subrequests_cost": F, "service": B, "published_ports": N,
}
# 5.9 instance type object (no Scratch; a Name is allowed by 7.2, "harmless").
ITYPE = {"ProviderType": S, "VCPUs": I, "RAM": I, "IncludedScratch": I, "AddedScratch": I,
         "Price": F, "Preemptible": B,
         "GPU": {"Stack": S, "DriverVersion": S, "HardwareTarget": S, "DeviceCount": I, "VRAM": I}}
ENTRY = {"container": CONTAINER,
         "instance_resources": {"VCPUs": I, "RAM": I, "Scratch": I, "GPUs": I, "GPUVRAM": I},
         "instance_types": ("list", ITYPE), "first_seen_at": T, "scheduling_status": S}
# 5.1 instance view; running_container_uuids is [] rather than null when empty (design).
INSTANCE = {"instance": S, "address": S, "price": F, "arvados_instance_type": S,
            "provider_instance_type": S, "last_container_uuid": S, "last_busy": T,
            "running_container_uuids": ("list", S), "worker_state": S, "idle_behavior": S}


def check_shape(test, v, shape, path="$"):
    """v has exactly the fields of shape (no more, no fewer), each of its type."""
    if isinstance(shape, dict):
        test.assertIsInstance(v, dict, path)
        test.assertEqual(sorted(v), sorted(shape), "%s: fields differ" % path)
        for k, s in shape.items():
            check_shape(test, v[k], s, path + "." + k)
    elif isinstance(shape, tuple):
        if v is None and N in shape:
            return
        test.assertIsInstance(v, list, path)
        elem = shape[1] if shape[0] == "list" else None
        for i, x in enumerate(v):
            if elem not in (None, N):
                check_shape(test, x, elem, "%s[%d]" % (path, i))
    elif shape == S:
        test.assertIsInstance(v, str, path)
    elif shape == I:
        test.assertTrue(isinstance(v, int) and not isinstance(v, bool), "%s: %r" % (path, v))
    elif shape == F:
        test.assertTrue(isinstance(v, (int, float)) and not isinstance(v, bool), path)
    elif shape == B:
        test.assertIsInstance(v, bool, path)
    elif shape == T:
        test.assertIsInstance(v, str, path)
        test.assertRegex(v, RFC3339, path)
    elif shape == N:
        test.assertIsNone(v, path)
    else:
        raise ValueError(shape)


class MgmtE2E(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root (the sshd rig)")
        self.env = None

    def tearDown(self):
        if self.env is not None:
            self.env.stop()

    def req(self, method, path, token=TOKEN, data=None):
        h = {"Authorization": "Bearer " + token} if token is not None else {}
        r = urllib.request.Request("http://127.0.0.1:%d%s" % (self.env.mgmt_port, path),
                                   method=method, headers=h, data=data)
        try:
            with urllib.request.urlopen(r, timeout=10) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def get_json(self, path):
        st, h, body = self.req("GET", path)
        self.assertEqual(st, 200, body)
        self.assertTrue(h["Content-Type"].startswith("application/json"), h["Content-Type"])
        self.assertTrue(body.endswith(b"\n"))
        return json.loads(body)

    def error(self, method, path, status, message, token=TOKEN):
        st, h, body = self.req(method, path, token, data=b"" if method == "POST" else None)
        self.assertEqual(st, status, "%s %s: %r" % (method, path, body))
        if message is not None:
            self.assertEqual(json.loads(body), {"errors": [message]}, path)
        return body

    def test_routes_shapes_and_metrics(self):
        self.env = e2e_env.E2E(crunch_cfg={"duration": 12, "arvados": True})
        d = self.env.start_dispatcher()
        d.wait_for(lambda e: e.get("msg") == "listening", 30)
        gpu_rc = {"vcpus": 1, "ram": 256 << 20, "keep_cache_ram": 1 << 20, "API": True}
        run, = self.env.create(1, runtime_constraints=gpu_rc, container_image="d41d8cd98f00b204e9800998ecf8427e+0",
                               scheduling_parameters={"partitions": ["a", "b"], "max_run_time": 3600,
                                                      "preemptible": False})
        # Running on a worker, so that an instance has a running container.
        self.env.wait(lambda: self.env.records([run])[run]["state"] == "Running", 60, "running")

        def entries():
            items = self.get_json("/arvados/v1/dispatch/containers")["items"]
            return items if any(e["container"]["uuid"] == run and e["container"]["state"] == "Running"
                                for e in items) else None
        items = self.env.wait(entries, 30, "the container in the management API")
        for e in items:
            check_shape(self, e, ENTRY, "containers.items[]")
        ent, = [e for e in items if e["container"]["uuid"] == run]
        rec = self.env.records([run])[run]
        c = ent["container"]
        # The selected attributes carry the API's values.
        self.assertRegex(c["uuid"], UUID)
        self.assertEqual(c["state"], "Running")
        self.assertEqual(c["priority"], rec["priority"])
        self.assertEqual(c["container_image"], "d41d8cd98f00b204e9800998ecf8427e+0")
        self.assertEqual(c["runtime_constraints"]["ram"], 256 << 20)
        self.assertEqual(c["runtime_constraints"]["vcpus"], 1)
        self.assertEqual(c["runtime_constraints"]["keep_cache_ram"], 1 << 20)
        self.assertIs(c["runtime_constraints"]["API"], True)
        self.assertEqual(c["scheduling_parameters"]["partitions"], ["a", "b"])
        self.assertEqual(c["scheduling_parameters"]["max_run_time"], 3600)
        # the fake stores microseconds as PostgreSQL does: "...123456000Z" shown as "...123456Z"
        self.assertTrue(rec["created_at"].endswith("000Z"), rec["created_at"])
        self.assertEqual(c["created_at"], values_go_rfc3339nano(rec["created_at"]))
        self.assertEqual(c["locked_by_uuid"], rec["locked_by_uuid"])
        self.assertEqual(c["modified_at"], "0001-01-01T00:00:00Z")
        self.assertEqual([t["ProviderType"] for t in ent["instance_types"]], ["t3.xlarge"])
        self.assertEqual(ent["instance_types"][0]["RAM"], 16 << 30)
        self.assertGreaterEqual(ent["instance_resources"]["RAM"], 256 << 20)
        self.assertEqual(ent["instance_resources"]["VCPUs"], 1)

        one = self.get_json("/arvados/v1/dispatch/container?container_uuid=" + run)
        check_shape(self, one, ENTRY, "container")
        self.assertEqual(one["container"]["uuid"], run)

        insts = self.get_json("/arvados/v1/dispatch/instances")["items"]
        self.assertTrue(insts)
        for v in insts:
            check_shape(self, v, INSTANCE, "instances.items[]")
        busy = [v for v in insts if run in v["running_container_uuids"]]
        self.assertEqual(len(busy), 1, insts)
        v = busy[0]
        self.assertRegex(v["instance"], r"^i-[0-9a-f]+$")
        self.assertEqual((v["arvados_instance_type"], v["provider_instance_type"], v["price"]),
                         ("m4", "t3.xlarge", 0.2))
        self.assertEqual(v["worker_state"], "running")
        self.assertEqual(v["idle_behavior"], "run")
        self.assertEqual(v["last_container_uuid"], run)
        self.assertTrue(v["address"])

        # Auth, methods, unknown ids, missing parameters.
        routes = [("GET", "/arvados/v1/dispatch/containers"),
                  ("GET", "/arvados/v1/dispatch/container?container_uuid=" + run),
                  ("GET", "/arvados/v1/dispatch/instances"),
                  ("POST", "/arvados/v1/dispatch/containers/kill?container_uuid=" + run),
                  ("POST", "/arvados/v1/dispatch/instances/hold?instance_id=" + v["instance"]),
                  ("GET", "/metrics")]
        for method, path in routes:
            st, _, body = self.req(method, path, token=None, data=b"" if method == "POST" else None)
            self.assertEqual((st, body), (401, b"Unauthorized\n"), path)
            st, _, body = self.req(method, path, token="wrong" + TOKEN,
                                   data=b"" if method == "POST" else None)
            self.assertEqual((st, body), (403, b"Forbidden\n"), path)
        for method, path in [("POST", "/arvados/v1/dispatch/containers"),
                             ("POST", "/arvados/v1/dispatch/instances"),
                             ("GET", "/arvados/v1/dispatch/containers/kill"),
                             ("GET", "/arvados/v1/dispatch/instances/drain")]:
            st, h, _ = self.req(method, path, data=b"" if method == "POST" else None)
            self.assertEqual(st, 405, path)
            self.assertIn("Allow", h)
        self.assertEqual(self.req("GET", "/arvados/v1/dispatch/nosuch")[0], 404)
        missing = "zzzzz-dz642-000000000000000"
        self.error("GET", "/arvados/v1/dispatch/container?container_uuid=" + missing, 404,
                   "container not found")
        self.error("GET", "/arvados/v1/dispatch/container", 404, "container not found")
        self.error("POST", "/arvados/v1/dispatch/containers/kill?container_uuid=" + missing, 404,
                   "container not found")
        self.error("POST", "/arvados/v1/dispatch/containers/kill", 400,
                   "container_uuid parameter not provided")
        for act in ("hold", "drain", "run"):
            self.error("POST", "/arvados/v1/dispatch/instances/%s?instance_id=i-0000000000" % act,
                       404, "requested instance does not exist")
            self.error("POST", "/arvados/v1/dispatch/instances/" + act, 400,
                       "instance_id parameter not provided")
        self.error("POST", "/arvados/v1/dispatch/instances/kill?instance_id=i-0000000000", 404,
                   "instance not found")
        self.error("POST", "/arvados/v1/dispatch/instances/kill", 400,
                   "instance_id parameter not provided")
        # hold then run on the real instance: 200, empty body, and the view follows.
        for act, want in (("hold", "hold"), ("run", "run")):
            st, _, body = self.req("POST", "/arvados/v1/dispatch/instances/%s?instance_id=%s"
                                   % (act, v["instance"]), data=b"")
            self.assertEqual((st, body), (200, b""))
            now, = [x for x in self.get_json("/arvados/v1/dispatch/instances")["items"]
                    if x["instance"] == v["instance"]]
            self.assertEqual(now["idle_behavior"], want)

        # Metrics fed by this run (spec 8), read from the live /metrics.
        st, _, body = self.req("GET", "/metrics")
        self.assertEqual(st, 200)
        m = parse_metrics(body.decode())
        P = "arvados_dispatchcloud_"
        self.assertEqual(m.get((P + "queue_entries", (("instance_type", "m4"), ("state", "Running")))), 1.0,
                         {k: x for k, x in m.items() if k[0] == P + "queue_entries"})
        self.assertEqual(m[(P + "containers_running", ())], 1.0)
        self.assertEqual(m[(P + "instances_total", (("category", "inuse"), ("instance_type", "m4")))], 1.0)
        self.assertEqual(m[(P + "instances_price", (("category", "inuse"),))], 0.2)
        self.assertEqual(m[(P + "vcpus_total", (("category", "inuse"),))], 4.0)
        self.assertEqual(m[(P + "memory_bytes_total", (("category", "inuse"),))], float(16 << 30))
        self.assertGreaterEqual(m[(P + "driver_operations", (("error", "0"), ("operation", "Create")))], 1)
        self.assertGreaterEqual(m[(P + "driver_operations", (("error", "0"), ("operation", "List")))], 1)
        self.assertEqual(m[(P + "boot_outcomes", (("outcome", "success"),))], 1.0)
        self.assertGreaterEqual(m[(P + "instances_time_to_ssh_seconds_count", ())], 1)
        self.assertGreaterEqual(m[(P + "instances_time_to_ready_for_container_seconds_count", ())], 1)
        self.assertGreaterEqual(m[(P + "containers_time_from_queue_to_crunch_run_seconds_count", ())], 1)
        self.assertGreaterEqual(m[(P + "instances_run_probe_duration_seconds_count", (("outcome", "success"),))], 1)
        self.assertGreater(m[(P + "probe_age_seconds_max", ())], 0)
        self.assertGreaterEqual(m[("request_duration_seconds_count", (("code", "200"), ("method", "get")))], 1)
        self.assertEqual(m[(P + "at_quota", ())], 0.0)
        # 4 = MaxInstances reached? no: one container, one instance; max_concurrent is 0 (unlimited)
        # or the dynamic limit; it must be present either way.
        self.assertIn((P + "max_concurrent_containers", ()), m)
        self.assertIn((P + "last_503_time", ()), m)
        # Generic metrics: the config's digest and times, the version.
        with open(self.env.config, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        src = m[("arvados_config_source_timestamp_seconds", (("sha256", sha),))]
        self.assertAlmostEqual(src, os.stat(self.env.config).st_mtime, places=3)
        self.assertGreaterEqual(m[("arvados_config_load_timestamp_seconds", (("sha256", sha),))], src)
        self.assertEqual(len([k for k in m if k[0] == "arvados_version_running"]), 1)
        self.assertIsNone(d.proc.poll())
        # SIGTERM: exit 0 (under ASan, LeakSanitizer turns a leaked queue record into 1).
        self.assertEqual(d.stop(), 0, d.log_text()[-3000:])


def parse_metrics(text):
    """(name, sorted label pairs) -> value, for the text format the dispatcher renders."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        mm = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        assert mm, line
        labels = tuple(sorted(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', mm.group(3) or "")))
        out[(mm.group(1), labels)] = float(mm.group(4))
    return out


class NotifyE2E(unittest.TestCase):
    """sd_notify on a socket the test owns: READY=1 only once both helpers are initialised
    and the listener accepts connections, STATUS=, WATCHDOG=1, STOPPING=1 on SIGTERM."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root (the sshd rig)")
        self.env = None
        self.proc = None

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.env is not None:
            self.env.stop()

    def test_notify(self):
        self.env = e2e_env.E2E()
        d = tempfile.mkdtemp(prefix="adc-notify-", dir="/var/tmp")
        path = os.path.join(d, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        env = dict(os.environ)
        env.update(self.env.env())
        env.update({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
        env.pop("WATCHDOG_PID", None)
        env.pop("JOURNAL_STREAM", None)
        bin_dir = os.environ.get("ADC_BIN_DIR") or os.path.join(e2e_env.SRC, "build", "bin")
        self.proc = subprocess.Popen([os.path.join(bin_dir, "arvados-dispatch-cloud"), "-config",
                                      self.env.config], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        os.set_blocking(self.proc.stderr.fileno(), False)
        log, buf, msgs = [], b"", []

        def drain():
            nonlocal buf
            while True:
                try:
                    chunk = os.read(self.proc.stderr.fileno(), 65536)
                except BlockingIOError:
                    return
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    try:
                        log.append(json.loads(line))
                    except ValueError:
                        log.append({"msg": line.decode("utf-8", "replace")})

        ready_at = None
        deadline = time.monotonic() + 60
        while ready_at is None and time.monotonic() < deadline:
            r, _, _ = select.select([sock, self.proc.stderr], [], [], 1)
            if sock in r:
                m = sock.recv(4096).decode()
                msgs.append(m)
                if "READY=1" in m.split("\n"):
                    # Everything the dispatcher logged before sending READY=1 is already in
                    # the pipe: drain it, then check the listener while nothing else runs.
                    drain()
                    c = socket.create_connection(("127.0.0.1", self.env.mgmt_port), timeout=5)
                    c.close()
                    ready_at = len(log)
            if self.proc.stderr in r:
                drain()
            self.assertIsNone(self.proc.poll(), "dispatcher exited: %r" % log[-20:])
        self.assertIsNotNone(ready_at, "no READY=1; got %r" % msgs)
        before = [e.get("msg") for e in log[:ready_at]]
        self.assertIn("listening", before)
        self.assertIn("dispatcher ready", before)   # both helpers initialised
        helpers = {e.get("Helper"): e.get("HelperPID") for e in log[:ready_at]
                   if e.get("msg") == "helper ready"}
        self.assertEqual(set(helpers), {"cloudd", "sshd-pool"})
        # The helpers inherit the environment: WATCHDOG_USEC must not reach them (only the
        # main process pings the watchdog).
        for h, pid in helpers.items():
            with open("/proc/%d/environ" % pid, "rb") as f:
                names = [x.split(b"=", 1)[0] for x in f.read().split(b"\0")]
            self.assertNotIn(b"WATCHDOG_USEC", names, h)
        # READY=1 once, before any WATCHDOG=1 counted here; STATUS= with the summary.
        t_end = time.monotonic() + 3
        while time.monotonic() < t_end:
            if select.select([sock], [], [], 0.2)[0]:
                msgs.append(sock.recv(4096).decode())
            drain()
        lines = [l for m in msgs for l in m.split("\n") if l]
        self.assertEqual(lines.count("READY=1"), 1, lines)
        status = [l for l in lines if l.startswith("STATUS=")]
        self.assertTrue(status, lines)
        self.assertRegex(status[0], r"^STATUS=queued \d+, running \d+, instances \d+$")
        self.assertGreaterEqual(lines.count("WATCHDOG=1"), 3, lines)  # every 100 ms for 3 s
        # STOPPING=1 on SIGTERM, then exit 0.
        self.proc.send_signal(signal.SIGTERM)
        got_stopping = False
        t_end = time.monotonic() + 20
        while time.monotonic() < t_end and not got_stopping:
            if select.select([sock], [], [], 0.5)[0]:
                got_stopping = "STOPPING=1" in sock.recv(4096).decode().split("\n")
            drain()
        self.assertTrue(got_stopping)
        self.assertEqual(self.proc.wait(20), 0)
        sock.close()
        os.unlink(path)
        os.rmdir(d)


class UnitFileTest(unittest.TestCase):
    """systemd-analyze verify on the packaged unit, ExecStart pointed at the built binary:
    exit 0 is not enough (unknown keys only warn), so any stderr fails."""

    def test_verify(self):
        if subprocess.run(["which", "systemd-analyze"], capture_output=True).returncode != 0:
            self.fail("systemd-analyze missing (scripts/install-deps.sh installs systemd)")
        bin_dir = os.environ.get("ADC_BIN_DIR") or os.path.join(e2e_env.SRC, "build", "bin")
        binary = os.path.join(bin_dir, "arvados-dispatch-cloud")
        self.assertTrue(os.access(binary, os.X_OK), binary)
        with open(os.path.join(e2e_env.SRC, "packaging", "arvados-dispatch-cloud.service")) as f:
            unit = f.read()
        self.assertIn("ExecStart=/usr/bin/arvados-dispatch-cloud ", unit)
        d = tempfile.mkdtemp(prefix="adc-unit-")
        try:
            p = os.path.join(d, "arvados-dispatch-cloud.service")
            with open(p, "w") as f:
                f.write(unit.replace("ExecStart=/usr/bin/arvados-dispatch-cloud ",
                                     "ExecStart=%s " % binary))
            r = subprocess.run(["systemd-analyze", "verify", p], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual((r.returncode, r.stderr), (0, ""))
            # The check bites: an unknown key is reported on stderr.
            with open(p, "a") as f:
                f.write("[Service]\nBogusKey=1\n")
            r = subprocess.run(["systemd-analyze", "verify", p], capture_output=True, text=True,
                               timeout=60)
            self.assertIn("BogusKey", r.stderr)
        finally:
            for n in os.listdir(d):
                os.unlink(os.path.join(d, n))
            os.rmdir(d)


if __name__ == "__main__":
    unittest.main(verbosity=2)
