"""test_cloudtest_ec2.py - `arvados-dispatch-cloud cloudtest` against the fake EC2 (every
request checked against botocore's model and SigV4 signer) with real OpenSSH workers from the
sshd rig, started on the private IP the fake hands out with the instance secret from the
user data, as cloud-init would (tests/e2e/e2e_env.py):

  - a passing run with -command: exit 0; the instance secret is verified over SSH, the boot
    probe and the command run there; the instance is terminated at the end;
  - an instance left by an interrupted run (SIGKILL while paused by -pause-before-destroy):
    without -destroy-existing the next run refuses to start (exit 1, the reference's message)
    and creates nothing; with it, the old instance is destroyed first and the run passes.

Needs root (the sshd rig). /usr/bin/python3.
"""
import os
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import e2e_env  # noqa: E402

BIN_DIR = os.environ.get("ADC_BIN_DIR") or os.path.join(HERE, "..", "..", "build", "bin")
DISPATCHER = os.path.join(BIN_DIR, "arvados-dispatch-cloud")


@unittest.skipUnless(os.geteuid() == 0, "the sshd rig needs root")
class CloudtestEC2(unittest.TestCase):
    def setUp(self):
        self.env = e2e_env.E2E(timeout_booting="30s")

    def tearDown(self):
        self.env.stop()

    def argv(self, *args):
        return [DISPATCHER, "cloudtest", "-config", self.env.config] + list(args)

    def environ(self):
        return dict(os.environ, **self.env.env())

    def cloudtest(self, *args):
        r = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL, env=self.environ())
        self.assertNotIn(e2e_env.SAK, r.stdout + r.stderr)
        return r

    def test_pass_and_existing(self):
        r = self.cloudtest("-command", "echo ec2-$((6*7))")
        self.assertEqual(r.returncode, 0, r.stderr)
        for m in ("got instance list", "creating instance", "created instance",
                  "all expected tags are present", "boot probe succeeded",
                  "instance no longer appears in list"):
            self.assertIn('msg="%s"' % m, r.stderr)
        self.assertRegex(r.stderr, r'msg="remote command succeeded" .*stdout="ec2-42\\n"')
        self.assertRegex(r.stderr, r'msg="creating instance" .*InstanceType=m4 ProviderType=t3.xlarge '
                         r'ImageID=ami-0123456789abcdef0')
        insts = self.env.ec2.instances()
        self.assertEqual(len(insts), 1)
        self.assertEqual(self.env.ec2.live(), [], "the test instance was not terminated")
        tags = {t["Key"]: t["Value"] for t in insts[0].get("tags", [])} \
            if isinstance(insts[0].get("tags"), list) else insts[0].get("tags", {})
        self.assertEqual(tags.get("ArvadosInstanceSetID"), "zzzzz-zzzzz-zzzzzzcloudtest", insts[0])
        self.assertIn("ArvadosCloudTestPID", tags)  # TagKeyPrefix "Arvados"

        # An interrupted run leaves its instance behind.
        p = subprocess.Popen(self.argv("-pause-before-destroy"), stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             env=self.environ())
        err = ""
        deadline = time.monotonic() + 60
        while "Press Enter to continue: " not in err and time.monotonic() < deadline:
            err += p.stderr.read(1)
        self.assertIn("Press Enter to continue: ", err)
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stdin.close()
        p.stderr.close()
        self.assertEqual(len(self.env.ec2.live()), 1)

        r = self.cloudtest()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("cannot continue with existing instances -- clean up manually, use "
                      "-destroy-existing=true, or choose a different -instance-set-id", r.stderr)
        self.assertNotIn("creating instance", r.stderr)
        self.assertEqual(len(self.env.ec2.instances()), 2)

        r = self.cloudtest("-destroy-existing")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('msg="destroying existing instances"', r.stderr)
        self.assertEqual(self.env.ec2.live(), [])
        self.assertEqual(len(self.env.ec2.instances()), 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
