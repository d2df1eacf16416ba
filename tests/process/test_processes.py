"""Process tests: the real arvados-dispatch-cloud, cloudd and sshd-pool, no mocks.

Run as root (CI is): the helpers then switch to their own users, which these tests create
like the package would.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import time
import unittest

import adc_harness as h

HERE = os.path.dirname(os.path.abspath(__file__))


class ProcessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        h.ensure_role_users()

    def setUp(self):
        self.dir = h.tmpdir()
        self.key_path, self.key_text = h.make_key(self.dir, "ed25519")
        self.config, self.secrets = h.write_config(self.dir, key_text=self.key_text)
        self.d = None

    def tearDown(self):
        if self.d is not None:
            self.d.stop(signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, args=(), env=None, config=None):
        self.d = h.Dispatcher(config or self.config, args, env)
        return self.d

    def assert_no_secret_in(self, blob, what, names=("secret_access_key",)):
        """Neither the named config secrets nor any line of the private key are in blob.
        (assertTrue, not assertNotIn: a core dump is megabytes long.)"""
        for name in names:
            self.assertTrue(self.secrets[name].encode() not in blob, "%s found in %s" % (name, what))
        for line in self.key_text.strip().splitlines():
            if line.startswith("-----"):
                continue
            self.assertTrue(line.encode() not in blob, "private key line %r found in %s" % (line, what))


class TestStartup(ProcessTest):
    def test_three_sandboxed_processes(self):
        d = self.start()
        d.wait_ready()
        pids = d.helper_pids()
        self.assertEqual(h.proc_comm(d.proc.pid), "arvados-dispatc")
        self.assertEqual(h.proc_comm(pids["cloudd"]), "cloudd")
        self.assertEqual(h.proc_comm(pids["sshd-pool"]), "sshd-pool")
        for name, pid in pids.items():
            st = h.proc_status(pid)
            self.assertEqual(int(st["PPid"]), d.proc.pid, name)
            self.assertEqual(st["NoNewPrivs"].strip(), "1", name)
            self.assertEqual(st["Seccomp"].strip(), "2", name)
            if os.geteuid() == 0:
                uid = int(st["Uid"].split()[0])
                want = "arvados-cloudd" if name == "cloudd" else "arvados-sshd-pool"
                self.assertEqual(uid, int(subprocess.check_output(["id", "-u", want])), name)
                # A non-dumpable process's /proc files belong to root, not to its own uid.
                self.assertNotEqual(uid, 0)
                self.assertEqual(os.stat("/proc/%d/environ" % pid).st_uid, 0, name)
        # Exactly three processes: the helpers have no children of their own.
        for pid in pids.values():
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                kids = f.read().split()
            self.assertEqual(kids, [])

    def test_key_from_file_url_rsa_pem(self):
        path, text = h.make_key(self.dir, "rsa", "PEM")
        self.key_text = text
        config, self.secrets = h.write_config(self.dir, key_path=path)
        d = self.start(config=config)
        _, ready = d.wait_for(lambda e: e.get("msg") == "dispatch key loaded")
        self.assertEqual(ready["KeyType"], "ssh-rsa")
        d.wait_ready()

    def test_bad_key_is_reported_and_retried(self):
        config, _ = h.write_config(self.dir, key_text="-----BEGIN OPENSSH PRIVATE KEY-----\nnonsense\n-----END OPENSSH PRIVATE KEY-----")
        d = self.start(config=config)
        _, e = d.wait_for(lambda e: e.get("msg") == "helper misbehaved; killing it"
                          and e.get("Helper") == "sshd-pool")
        self.assertIn("DispatchPrivateKey", e["error"])
        d.wait_for(lambda e: e.get("msg") == "restarting helper" and e.get("Helper") == "sshd-pool")


def secrets_hex(n):
    import secrets
    return secrets.token_hex(n)


class FakeEC2:
    """tests/fake_ec2 over HTTPS with a throw-away CA (tests/ec2/mkca.sh) and one key."""

    def __init__(self, directory, key):
        root = os.path.dirname(os.path.dirname(HERE))
        cadir = os.path.join(directory, "ca")
        subprocess.run(["sh", os.path.join(root, "tests", "ec2", "mkca.sh"), cadir], check=True)
        self.ca = os.path.join(cadir, "ca.pem")
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(root, "tests", "fake_ec2", "fake_ec2.py"),
             "--port", "0", "--tls", os.path.join(cadir, "srv.pem"),
             os.path.join(cadir, "srv.key"), "--key", key],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.endpoint = json.loads(self.proc.stdout.readline())["endpoint"]

    def ctl(self, method, path):
        import ssl
        import urllib.request
        req = urllib.request.Request(self.endpoint + path, method=method)
        ctx = ssl.create_default_context(cafile=self.ca)
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return json.loads(r.read())

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def mapped_bytes(pid):
    """Total size of a process's mappings, what gcore would write at most."""
    total = 0
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            lo, hi = line.split()[0].split("-")
            total += int(hi, 16) - int(lo, 16)
    return total


class TestSecrets(ProcessTest):
    def test_core_of_parent_has_no_secret(self):
        # The release build: it is what operators run, and its heap scrubbing is the code under
        # test (an ASan build relies on ASan's free_fill instead, and its shadow memory would
        # make an 80 GB core).
        release = os.environ.get("ADC_RELEASE_BIN_DIR", h.BIN_DIR)
        self.assertTrue(os.path.exists(os.path.join(release, "arvados-dispatch-cloud")),
                        "no release build in %s (make test builds it)" % release)
        self.d = h.Dispatcher(self.config, bin_dir=release)
        d = self.d
        d.wait_ready()
        self.assertLess(mapped_bytes(d.proc.pid), 4 << 30,
                        "refusing to gcore a process this large (a sanitizer build?)")
        core = os.path.join(self.dir, "core")
        subprocess.run(["gcore", "-o", core, str(d.proc.pid)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open("%s.%d" % (core, d.proc.pid), "rb") as f:
            blob = f.read()
        # The core is real: it holds what the parent is allowed to hold (its own tokens).
        self.assertTrue(self.secrets["system_root_token"].encode() in blob)
        self.assertTrue(self.secrets["management_token"].encode() in blob)
        self.assert_no_secret_in(blob, "the parent's core dump")

    def test_env_credentials_move_to_cloudd(self):
        """AWS_SECRET_ACCESS_KEY given only in the dispatcher's environment: gone from the
        parent (environ, /proc/PID/environ, its core) but used by cloudd, whose start-up
        DescribeInstances (the worker pool's first sync) is accepted by fake_ec2 only when
        signed with that key."""
        release = os.environ.get("ADC_RELEASE_BIN_DIR", h.BIN_DIR)
        self.assertTrue(os.path.exists(os.path.join(release, "arvados-dispatch-cloud")),
                        "no release build in %s (make test builds it)" % release)
        akid = "AKIDENV" + secrets_hex(6).upper()
        sak = "ENVSAK" + secrets_hex(20)
        fake = FakeEC2(self.dir, "%s:%s" % (akid, sak))
        try:
            config, self.secrets = h.write_config(self.dir, key_text=self.key_text,
                                                  driver_keys=False)
            env = {"AWS_ACCESS_KEY_ID": akid, "AWS_SECRET_ACCESS_KEY": sak,
                   "AWS_CA_BUNDLE": fake.ca, "AWS_ENDPOINT_URL_EC2": fake.endpoint}
            self.d = h.Dispatcher(config, env=env, bin_dir=release)
            d = self.d
            d.wait_ready()
            d.wait_for(lambda e: e.get("msg") == "loaded initial instance list")
            reqs = fake.ctl("GET", "/_fake/requests?action=DescribeInstances")
            reqs = reqs.get("requests", reqs) if isinstance(reqs, dict) else reqs
            self.assertTrue(any(r.get("status") == 200 and
                                "Credential=%s/" % akid in json.dumps(r.get("headers"))
                                for r in reqs), reqs)
            with open("/proc/%d/environ" % d.proc.pid, "rb") as f:
                environ = f.read()
            self.assertTrue(sak.encode() not in environ)
            self.assertTrue(b"AWS_SECRET_ACCESS_KEY=" not in environ)
            self.assertLess(mapped_bytes(d.proc.pid), 4 << 30)
            core = os.path.join(self.dir, "core")
            subprocess.run(["gcore", "-o", core, str(d.proc.pid)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open("%s.%d" % (core, d.proc.pid), "rb") as f:
                blob = f.read()
            self.assertTrue(self.secrets["system_root_token"].encode() in blob)
            self.assertTrue(sak.encode() not in blob, "env secret key in the parent's core")
            self.assertTrue(sak[:24].encode() not in blob)
        finally:
            fake.stop()

    def test_no_secret_in_logs(self):
        d = self.start(["-insecure-no-sandbox"])  # loudest path: more log lines
        d.wait_ready()
        d.stop()
        self.assert_no_secret_in(d.log_text().encode(), "the log",
                                 ("secret_access_key", "management_token", "system_root_token"))


class TestRestart(ProcessTest):
    def test_kill_each_child(self):
        d = self.start()
        i, _ = d.wait_ready()
        for name in ("cloudd", "sshd-pool"):
            old = d.helper_pids()[name]
            mark = len(d.lines)
            t0 = time.monotonic()
            os.kill(old, signal.SIGKILL)
            d.wait_for(lambda e: e.get("msg") == "helper killed by signal"
                       and e.get("Helper") == name, start=mark)
            _, r = d.wait_for(lambda e: e.get("msg") == "restarting helper"
                              and e.get("Helper") == name, start=mark)
            self.assertEqual(r["DelayMs"], 1000)
            _, ready = d.wait_for(lambda e: e.get("msg") == "helper ready"
                                  and e.get("Helper") == name, start=mark)
            print("%s restarted and serving after %.2f s" % (name, time.monotonic() - t0))
            self.assertNotEqual(ready["HelperPID"], old)
            self.assertEqual(h.proc_status(ready["HelperPID"])["Seccomp"].strip(), "2")
        self.assertIsNone(d.proc.poll())

    def test_garbage_from_child_kills_it(self):
        env = {"ADC_GARBAGE_MARKER": os.path.join(self.dir, "garbage.marker"),
               "ADC_REAL_CLOUDD": os.path.join(h.BIN_DIR, "cloudd")}
        d = self.start(["-cloudd-path", os.path.join(HERE, "garbage_child.py")], env)
        _, closed = d.wait_for(lambda e: e.get("msg") == "helper channel closed"
                               and e.get("Helper") == "cloudd")
        bad_pid = int(open(env["ADC_GARBAGE_MARKER"]).read())
        self.assertEqual(closed["HelperPID"], bad_pid)
        d.wait_for(lambda e: e.get("msg") == "helper killed by signal"
                   and e.get("HelperPID") == bad_pid)
        _, ready = d.wait_for(lambda e: e.get("msg") == "helper ready" and e.get("Helper") == "cloudd")
        self.assertNotEqual(ready["HelperPID"], bad_pid)
        d.wait_ready()

    def test_sigterm_stops_everything(self):
        d = self.start()
        d.wait_ready()
        pids = list(d.helper_pids().values())
        t0 = time.monotonic()
        rc = d.stop(signal.SIGTERM)
        elapsed = time.monotonic() - t0
        print("SIGTERM to exit: %.2f s" % elapsed)
        self.assertEqual(rc, 0, d.log_text())
        for pid in pids:
            self.assertFalse(os.path.exists("/proc/%d" % pid) and
                             "zombie" not in open("/proc/%d/status" % pid).read(),
                             "helper %d still running" % pid)
        d.wait_for(lambda e: e.get("msg") == "dispatcher stopped")


class TestCommandLine(ProcessTest):
    def run_adc(self, *args):
        return subprocess.run([os.path.join(h.BIN_DIR, "arvados-dispatch-cloud")] + list(args),
                              capture_output=True, text=True, timeout=60)

    def test_version_help_and_usage_errors(self):
        r = self.run_adc("-version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^arvados-dispatch-cloud \d+\.\d+\.\d+ ")
        self.assertEqual(self.run_adc("--help").returncode, 0)
        r = self.run_adc("-bogus")
        self.assertEqual(r.returncode, 2)
        self.assertIn("flag provided but not defined: -bogus", r.stderr)
        self.assertEqual(self.run_adc("stray").returncode, 2)
        self.assertEqual(self.run_adc("-config").returncode, 2)
        self.assertEqual(self.run_adc("-pprof", ":6060", "-version").returncode, 0)

    def test_config_check(self):
        r = self.run_adc("config-check", "-config", self.config)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration OK", r.stdout)
        bad = os.path.join(self.dir, "bad.yml")
        with open(self.config) as f:
            text = f.read().replace("ImageID: ami-0123456789abcdef0",
                                    "ImageID: ami-0123456789abcdef0\n        TimeoutIdle: soon")
        with open(bad, "w") as f:
            f.write(text)
        line = text.splitlines().index("        TimeoutIdle: soon") + 1
        r = self.run_adc("config-check", "-config", bad)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, re.escape(bad) + r":%d:\d+: error: Clusters\.zzzzz\.Containers\.CloudVMs\.TimeoutIdle" % line)
        self.assertNotIn("configuration OK", r.stdout)
        # The dispatcher itself refuses to start on the same file, exit 1.
        self.assertEqual(self.run_adc("-config", bad).returncode, 1)

    def test_env_config_path(self):
        env = dict(os.environ, ARVADOS_CONFIG=self.config)
        r = subprocess.run([os.path.join(h.BIN_DIR, "arvados-dispatch-cloud"), "config-check"],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_insecure_no_sandbox_is_loud(self):
        d = self.start(["-insecure-no-sandbox"])
        d.wait_ready()
        self.assertTrue(any("WITHOUT their sandbox" in e.get("msg", "") for e in d.lines))
        for pid in d.helper_pids().values():
            self.assertEqual(h.proc_status(pid)["Seccomp"].strip(), "0")


if __name__ == "__main__":
    unittest.main()
