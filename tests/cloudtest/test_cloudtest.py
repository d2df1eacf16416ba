"""test_cloudtest.py - `arvados-dispatch-cloud cloudtest` (spec cloud-drivers.md section 6)
against the loopback driver, through the real helpers (cloudd starts a private sshd on
127.0.0.1; sshd-pool logs in to it with the dispatch key):

  - a passing run: exit 0 and the reference's log lines in order (instance list, creating,
    created, login information, tags, the boot probe and -command as remote commands with
    their stdout, destroy, "instance no longer appears in list", "exiting");
  - a failing -command: exit 1, "shell command failed", and the instance still destroyed;
  - a boot probe that never succeeds: exit 1 after TimeoutBooting ("timed out"), destroyed;
  - an unknown -instance-type: exit 1 with the reference's message; a bad flag: exit 2;
    -help: exit 0;
  - nothing left behind (no sshd, no helper), and no secret in the log.

Needs root (the loopback instance logs the dispatcher in as root). /usr/bin/python3.
"""
import os
import re
import subprocess
import tempfile
import unittest

BIN_DIR = os.environ.get("ADC_BIN_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "bin")
DISPATCHER = os.path.join(BIN_DIR, "arvados-dispatch-cloud")

CONFIG = """Clusters:
  zzzzz:
    ManagementToken: %(mgmt)s
    SystemRootToken: %(root)s
    Services:
      Controller:
        ExternalURL: "https://127.0.0.1:1"
      DispatchCloud:
        InternalURLs:
          "http://127.0.0.1:0": {}
    Containers:
      DispatchPrivateKey: "file://%(key)s"
      CloudVMs:
        Driver: loopback
        BootProbeCommand: "%(probe)s"
        DeployRunnerBinary: ""
        SyncInterval: 1s
        ProbeInterval: 1s
        TimeoutBooting: %(booting)s
        ResourceTags:
          Owner: cloudtest-test
"""

PASS_ORDER = ["got instance list", "creating instance", "created instance",
              "showing login information", "all expected tags are present",
              "executing remote command", "remote command succeeded", "boot probe succeeded",
              "executing remote command", "remote command succeeded", "destroying instance",
              "instance no longer appears in list", "exiting"]


def msgs(log):
    out = []
    for line in log.splitlines():
        m = re.search(r' msg=("(?:[^"\\]|\\.)*"|\S+)', line)
        if m and line.startswith("time="):
            out.append(m.group(1).strip('"'))
    return out


def in_order(seq, want):
    i = 0
    for m in seq:
        if i < len(want) and m == want[i]:
            i += 1
    return i == len(want)


@unittest.skipUnless(os.geteuid() == 0, "the loopback instance needs root")
class CloudtestLoopback(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="adc-cloudtest-")
        self.key = os.path.join(self.dir, "key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.key],
                       check=True)
        self.run_dir = os.path.join(self.dir, "run")
        os.mkdir(self.run_dir, 0o700)
        self.secrets = ("m" * 32, "r" * 40)

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.dir])

    def config(self, probe="true", booting="30s"):
        path = os.path.join(self.dir, "config.yml")
        with open(path, "w") as f:
            f.write(CONFIG % {"mgmt": self.secrets[0], "root": self.secrets[1], "key": self.key,
                              "probe": probe, "booting": booting})
        return path

    def cloudtest(self, *args, probe="true", booting="30s", timeout=90):
        r = subprocess.run([DISPATCHER, "cloudtest", "-config", self.config(probe, booting)]
                           + list(args), capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL,
                           env=dict(os.environ, RUNTIME_DIRECTORY=self.run_dir))
        for s in self.secrets:
            self.assertNotIn(s, r.stdout + r.stderr)
        with open(self.key) as f:
            self.assertNotIn(f.read().splitlines()[1], r.stderr)
        left = subprocess.run(["pgrep", "-f", self.dir], capture_output=True, text=True)
        self.assertEqual(left.stdout, "", "processes left behind")
        return r

    def test_pass(self):
        r = self.cloudtest("-command", "echo hello-$((6*7))")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(in_order(msgs(r.stderr), PASS_ORDER), r.stderr)
        self.assertRegex(r.stderr, r'msg="remote command succeeded" .*Command="echo hello-\$\(\(6\*7\)\)" '
                         r'stdout="hello-42\\n"')
        self.assertRegex(r.stderr, r'msg="creating instance" .*InstanceType=localhost')
        self.assertRegex(r.stderr, r'msg="showing login information" .*Command="ssh -p\d+ root@127\.0\.0\.1"')
        self.assertNotIn("level=error", r.stderr)
        self.assertRegex(r.stderr, r"msg=exiting .*Failed=false")

    def test_command_fails(self):
        r = self.cloudtest("-command", "echo oops >&2; exit 3")
        self.assertEqual(r.returncode, 1, r.stderr)
        m = msgs(r.stderr)
        self.assertTrue(in_order(m, ["boot probe succeeded", "remote command failed",
                                     "shell command failed", "destroying instance",
                                     "instance no longer appears in list", "exiting"]), r.stderr)
        self.assertRegex(r.stderr, r'msg="remote command failed" .*stderr="[^"]*oops\\n".* ExitStatus=3')

    def test_boot_probe_times_out(self):
        r = self.cloudtest(probe="false", booting="3s")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertTrue(in_order(msgs(r.stderr), ["created instance", "boot probe failed",
                                                  "timed out", "destroying instance",
                                                  "instance no longer appears in list",
                                                  "exiting"]), r.stderr)

    def test_bad_instance_type(self):
        r = self.cloudtest("-instance-type", "nope")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn('level=error msg=fatal', r.stderr)
        self.assertIn('requested instance type \\"nope\\" is not configured', r.stderr)
        self.assertNotIn("creating instance", r.stderr)

    def test_key_refused_for_good(self):
        # A key sshd-pool cannot parse: refused for good at its init, so the test fails at
        # once, without a restart of the helper and without creating anything.
        with open(self.key, "w") as f:
            f.write("-----BEGIN OPENSSH PRIVATE KEY-----\nbm9uc2Vuc2U=\n"
                    "-----END OPENSSH PRIVATE KEY-----\n")
        r = self.cloudtest()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("Containers.DispatchPrivateKey", r.stderr)
        started = [l for l in r.stderr.splitlines()
                   if 'msg="helper started"' in l and "Helper=sshd-pool" in l]
        self.assertEqual(len(started), 1, r.stderr)
        self.assertNotIn("creating instance", r.stderr)
        self.assertRegex(r.stderr, r"msg=exiting .*Failed=true")

    def test_usage(self):
        r = self.cloudtest("-no-such-flag")
        self.assertEqual(r.returncode, 2)
        self.assertIn("flag provided but not defined: -no-such-flag", r.stderr)
        r = self.cloudtest("-help")
        self.assertEqual(r.returncode, 0)
        for f in ("-instance-set-id", "-image-id", "-instance-type", "-destroy-existing",
                  "-command", "-pause-before-destroy"):
            self.assertIn(f, r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
