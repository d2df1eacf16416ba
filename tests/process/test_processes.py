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
        # The parent sandboxed itself after start-up (docs/SANDBOX.md, "The parent"), and
        # keeps root to start the helpers as their own users.
        st = h.proc_status(d.proc.pid)
        self.assertEqual(st["NoNewPrivs"].strip(), "1")
        self.assertEqual(st["Seccomp"].strip(), "2")
        # Its own check after the sandbox (boot_sandbox.c): the config file (in this test's
        # directory under /tmp) could not be opened any more, so nothing was logged.
        self.assertFalse([e for e in d.lines if "config file is still readable" in e.get("msg", "")])
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
        # GnuTLS (loaded by libcurl through librtmp, unused) is not initialized in cloudd
        # (main.c: 0.6 MB of its pages).
        with open("/proc/%d/environ" % pids["cloudd"], "rb") as f:
            self.assertIn(b"GNUTLS_NO_IMPLICIT_INIT=1", f.read().split(b"\0"))
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

    def fatal_lines(self, d):
        with d.cond:
            return [e for e in d.lines if e.get("level") == "fatal"]

    def assert_stops_with_one_fatal_line(self, d, helper, words):
        """A helper's init refused for good: exit status 1, no restart, one fatal line."""
        try:
            rc = d.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.fail("the dispatcher did not stop; log:\n" + d.log_text())
        d.reader.join(5)
        self.assertEqual(rc, 1, d.log_text())
        fatal = self.fatal_lines(d)
        self.assertEqual(len(fatal), 1, d.log_text())
        self.assertEqual(fatal[0].get("Helper"), helper)
        for w in words:
            self.assertIn(w, fatal[0]["msg"])
        msgs = [e.get("msg") for e in d.lines]
        self.assertNotIn("restarting helper", msgs)
        self.assertNotIn("dispatcher ready", msgs)
        self.assertIn("dispatcher stopped", msgs)
        self.assertNotIn("helper misbehaved; killing it", msgs)

    def test_bad_key_stops_the_dispatcher(self):
        config, _ = h.write_config(self.dir, key_text="-----BEGIN OPENSSH PRIVATE KEY-----\nnonsense\n-----END OPENSSH PRIVATE KEY-----")
        d = self.start(config=config)
        self.assert_stops_with_one_fatal_line(
            d, "sshd-pool", ["error parsing configured Containers.DispatchPrivateKey",
                             "no key found"])

    def test_bad_key_file_stops_the_dispatcher(self):
        # Given as file://: the parent never reads it, sshd-pool refuses it for good.
        path = os.path.join(self.dir, "not-a-key")
        with open(path, "w") as f:
            f.write("this is not a key\n")
        config, _ = h.write_config(self.dir, key_path=path)
        d = self.start(config=config)
        self.assert_stops_with_one_fatal_line(
            d, "sshd-pool", ["error parsing configured Containers.DispatchPrivateKey"])

    def test_driver_parameters_refused_stops_the_dispatcher(self):
        with open(self.config) as f:
            text = f.read().replace("          Region: us-east-1\n", "")
        with open(self.config, "w") as f:
            f.write(text)
        d = self.start()
        self.assert_stops_with_one_fatal_line(
            d, "cloudd", ["error initializing driver", "Region is required"])

    def test_transient_init_failure_restarts_with_backoff(self):
        # Test builds' hook: each sshd-pool start that removes a file from this directory
        # answers its init with a transient failure (PROTO_E_FAILED).
        fails = os.path.join(self.dir, "init-fails")
        os.mkdir(fails)
        for i in range(2):
            open(os.path.join(fails, str(i)), "w").close()
        d = self.start(env={"ADC_TEST_SSH_INIT_FAIL_DIR": fails})
        d.wait_ready(timeout=30)
        self.assertEqual(os.listdir(fails), [])
        delays = [e["DelayMs"] for e in d.lines
                  if e.get("msg") == "restarting helper" and e.get("Helper") == "sshd-pool"]
        self.assertEqual(delays, [1000, 2000], d.log_text())
        refused = [e for e in d.lines if e.get("msg") == "helper misbehaved; killing it"]
        self.assertEqual(len(refused), 2)
        self.assertIn("transient init failure", refused[0]["error"])
        self.assertEqual(self.fatal_lines(d), [])
        self.assertIsNone(d.proc.poll())


class TestLandlock(ProcessTest):
    """Kernels without Landlock: the test builds' hook ADC_TEST_NO_LANDLOCK=1 makes the probe
    answer 0, as on Debian 11's stock kernel."""

    def test_missing_landlock_warns_and_starts(self):
        d = self.start(env={"ADC_TEST_NO_LANDLOCK": "1"})
        d.wait_ready()
        warns = [e for e in d.lines if e.get("layer") == "landlock"]
        self.assertEqual(sorted(e.get("role") for e in warns),
                         ["cloudd", "dispatcher", "sshd-pool"], d.log_text())
        for e in warns:
            self.assertEqual(e["level"], "warn")
            self.assertIn("no Landlock", e["msg"])
        # The other layers stay, in the parent too.
        for name, pid in dict(d.helper_pids(), dispatcher=d.proc.pid).items():
            st = h.proc_status(pid)
            self.assertEqual(st["NoNewPrivs"].strip(), "1", name)
            self.assertEqual(st["Seccomp"].strip(), "2", name)

    def test_require_landlock_makes_it_fatal(self):
        d = self.start(["-require-landlock"], env={"ADC_TEST_NO_LANDLOCK": "1"})
        rc = d.proc.wait(30)
        d.reader.join(5)
        self.assertEqual(rc, 1, d.log_text())
        fatal = [e for e in d.lines if e.get("level") == "fatal"]
        self.assertEqual(len(fatal), 1, d.log_text())
        self.assertIn("Landlock", fatal[0]["msg"])
        self.assertEqual(fatal[0]["flag"], "-require-landlock")
        self.assertNotIn("helper started", [e.get("msg") for e in d.lines])

    def test_require_landlock_with_landlock(self):
        d = self.start(["-require-landlock"])
        d.wait_ready()
        self.assertFalse([e for e in d.lines if e.get("layer") == "landlock"])
        for name, pid in d.helper_pids().items():
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                self.assertIn(b"-require-landlock", f.read().split(b"\0"), name)
            self.assertEqual(h.proc_status(pid)["Seccomp"].strip(), "2", name)


def line_of(path, text):
    with open(path) as f:
        return f.read().splitlines().index(text) + 1


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
        # The restarts below happen from inside the parent's own sandbox.
        self.assertEqual(h.proc_status(d.proc.pid)["Seccomp"].strip(), "2")
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
        # A Python script cannot be executed inside the parent's sandbox (only the helper
        # files and the ELF interpreter can be, not /usr/bin/python3): this test is about
        # the channel, so it runs the parent without its sandbox.
        d = self.start(["-cloudd-path", os.path.join(HERE, "garbage_child.py"),
                        "-insecure-no-sandbox"], env)
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
        # -max-hourly-spend: dollars >= 0; anything else is a usage error.
        self.assertEqual(self.run_adc("-max-hourly-spend", "2.5", "-version").returncode, 0)
        self.assertEqual(self.run_adc("-max-hourly-spend=0", "-version").returncode, 0)
        for bad in ("-1", "lots", "1.5x", "inf", "nan", ""):
            r = self.run_adc("-max-hourly-spend", bad, "-version")
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn("invalid value \"%s\" for flag -max-hourly-spend" % bad, r.stderr)
        # -spot-interruption-notices is a boolean; -instance-metadata-url http://HOST[:PORT].
        for ok in (("-spot-interruption-notices",), ("-spot-interruption-notices=false",),
                   ("-instance-metadata-url", "http://169.254.169.254"),
                   ("-instance-metadata-url=http://imds.adc.test:8080",)):
            self.assertEqual(self.run_adc(*ok, "-version").returncode, 0, ok)
        self.assertEqual(self.run_adc("-spot-interruption-notices=maybe", "-version").returncode, 2)
        for bad in ("https://169.254.169.254", "http://x/latest", "http://$(id)", "169.254.169.254", ""):
            r = self.run_adc("-instance-metadata-url", bad, "-version")
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn("invalid value \"%s\" for flag -instance-metadata-url" % bad, r.stderr)

    def test_config_check(self):
        r = self.run_adc("config-check", "-config", self.config)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration OK", r.stdout)
        # -deadman-timeout (EC2 here): a duration, at least twice ProbeInterval (10 s).
        r = self.run_adc("config-check", "-config", self.config, "-deadman-timeout", "1h")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.run_adc("config-check", "-config", self.config, "-deadman-timeout", "19s")
        self.assertEqual(r.returncode, 1)
        self.assertIn("-deadman-timeout must be at least twice ProbeInterval (10s)", r.stderr)
        r = self.run_adc("config-check", "-config", self.config, "-deadman-timeout", "soon")
        self.assertEqual(r.returncode, 2)
        self.assertIn('invalid value "soon" for flag -deadman-timeout', r.stderr)
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

    def test_config_check_catches_startup_errors(self):
        """What start-up would refuse, config-check refuses first: key, file:line, why."""
        with open(self.config) as f:
            text = f.read()
        lines = text.splitlines()

        def check(name, new_text, key, words, anchor):
            path = os.path.join(self.dir, name + ".yml")
            with open(path, "w") as f:
                f.write(new_text)
            line = new_text.splitlines().index(anchor) + 1
            r = self.run_adc("config-check", "-config", path)
            self.assertEqual(r.returncode, 1, name + ": " + r.stdout + r.stderr)
            self.assertNotIn("configuration OK", r.stdout)
            self.assertRegex(r.stderr, re.escape(path) + r":%d:\d+: error: Clusters\.zzzzz\.%s: "
                             % (line, re.escape(key)), name)
            for w in words:
                self.assertIn(w, r.stderr, name)
            return path

        drv = "        Driver: ec2"
        self.assertIn(drv, lines)
        # Azure with EC2's DriverParameters: refused by the Azure driver's own check.
        az = check("azure", text.replace(drv, "        Driver: azure"),
                   "Containers.CloudVMs.DriverParameters",
                   ["Azure DriverParameters", "SubscriptionID is empty"],
                   "        DriverParameters:")
        # Azure DriverParameters (issue 13): each refusal of azure_params_check, reported at the
        # DriverParameters key and line, the words naming the key at fault; a complete set passes.
        i0, i1 = text.index("        DriverParameters:\n"), text.index("    InstanceTypes:\n")
        azp = ("        DriverParameters:\n          SubscriptionID: sub-1\n          TenantID: tenant-1\n"
               "          ClientID: client-1\n          ClientSecret: s3cr3t\n          ResourceGroup: zzzzz\n"
               "          Network: xxxxx\n          Subnet: xxxxx-subnet-private\n")

        def azure(extra):
            return text[:i0].replace(drv, "        Driver: azure") + azp + extra + text[i1:]
        for name, extra, words in (
                ("azgallery", "          SharedImageGalleryName: gal\n",
                 ["SharedImageGalleryName and SharedImageGalleryImageVersion", "SharedImageGalleryImageVersion is empty"]),
                ("azstorage", "          BlobContainer: vhds\n",
                 ["StorageAccount and BlobContainer", "StorageAccount is empty"]),
                ("azenv", "          CloudEnvironment: AzureMarsCloud\n", ["AzureMarsCloud", "AzurePublicCloud"])):
            check(name, azure(extra), "Containers.CloudVMs.DriverParameters", words, "        DriverParameters:")
        good = os.path.join(self.dir, "azgood.yml")
        with open(good, "w") as f:
            f.write(azure("          SharedImageGalleryName: gal\n          SharedImageGalleryImageVersion: 1.0.0\n"
                          "          CloudEnvironment: azurechinacloud\n"))
        r = self.run_adc("config-check", "-config", good)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("configuration OK", r.stdout)
        nosuch = check("nosuch", text.replace(drv, "        Driver: nosuchcloud"),
              "Containers.CloudVMs.Driver", ["unknown cloud driver", "nosuchcloud"],
              "        Driver: nosuchcloud")
        check("noregion", text.replace("          Region: us-east-1\n", ""),
              "Containers.CloudVMs.DriverParameters", ["Region is required"],
              "        DriverParameters:")
        rb = "        DeployRunnerBinary: \"\""
        missing = os.path.join(self.dir, "no-such-crunch-run")
        check("runner", text.replace(rb, "        DeployRunnerBinary: %s" % missing),
              "Containers.CloudVMs.DeployRunnerBinary", [missing, "No such file"],
              "        DeployRunnerBinary: %s" % missing)
        # The runner settings sshd-pool would refuse (its own check, ops.c).
        check("crcmd", text.replace("    Containers:\n", "    Containers:\n"
                                    "      CrunchRunCommand: \"crunch-run; rm -rf /\"\n"),
              "Containers.CrunchRunCommand", ["not a plain command name or path"],
              "      CrunchRunCommand: \"crunch-run; rm -rf /\"")
        check("deploydir", text.replace(rb, rb + "\n        DeployRunnerDirectory: relative/dir"),
              "Containers.CloudVMs.DeployRunnerDirectory", ["not a plain absolute path"],
              "        DeployRunnerDirectory: relative/dir")
        key_line = "      DispatchPrivateKey: |"
        body = [l for l in lines if l.startswith("        ") and lines.index(l) >
                lines.index(key_line) and not l.strip().startswith("-----")][0]
        check("badkey", text.replace(body, "        bm9uc2Vuc2U="),
              "Containers.DispatchPrivateKey", ["no key found"],
              "        -----BEGIN OPENSSH PRIVATE KEY-----")
        # A key given as file:// is read and parsed by config-check too.
        notkey = os.path.join(self.dir, "notkey")
        with open(notkey, "w") as f:
            f.write("nonsense\n")
        config, _ = h.write_config(self.dir, key_path=notkey)
        with open(config) as f:
            ftext = f.read()
        check("badkeyfile", ftext, "Containers.DispatchPrivateKey", ["no key found"],
              "      DispatchPrivateKey: \"file://%s\"" % notkey)
        # Start-up refuses an unknown driver the same way, before starting anything.
        r = self.run_adc("-config", nosuch)
        self.assertEqual(r.returncode, 1)
        out = r.stdout + r.stderr
        fatal = [json.loads(l) for l in out.splitlines() if '"fatal"' in l]
        self.assertEqual(len(fatal), 1, out)
        self.assertEqual(fatal[0]["key"], "Clusters.zzzzz.Containers.CloudVMs.Driver")
        self.assertEqual(fatal[0]["file"], nosuch)
        self.assertEqual(fatal[0]["line"], line_of(nosuch, "        Driver: nosuchcloud"))
        self.assertIn("unknown cloud driver", fatal[0]["msg"])
        self.assertNotIn("helper started", out)
        # DriverParameters are cloudd's secret: the parent does not read them at start-up, and
        # cloudd refuses them for good at its init: one fatal line, exit 1, no restart loop.
        r = self.run_adc("-config", az)
        self.assertEqual(r.returncode, 1)
        out = r.stdout + r.stderr
        fatal = [json.loads(l) for l in out.splitlines() if '"fatal"' in l]
        self.assertEqual(len(fatal), 1, out)
        self.assertIn("SubscriptionID is empty", fatal[0]["msg"], out)

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
