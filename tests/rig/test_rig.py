#!/usr/bin/python3
"""Tests of the SSH test rig (sshd_rig.py, stub-crunch-run) with the real OpenSSH client.

StubTest runs stub-crunch-run locally (no SSH, no root). RigTest starts 3 OpenSSH workers and
1 dropbear worker and drives them with `ssh` exactly as strictly as the dispatcher would
(pinned host keys, key-only auth). UserRigTest checks the unprivileged remote user mode.
SharedKeyRigTest checks the bench options (shared host keys, another crunch-run, addresses past
worker 250).
"""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import sshd_rig  # noqa: E402

STUB = os.path.join(HERE, "stub-crunch-run")
UUID1 = "zzzzz-dz642-rigtest00000001"
UUID2 = "zzzzz-dz642-rigtest00000002"
PAYLOAD = {"Env": {"ARVADOS_API_HOST": "127.0.0.1:1", "GatewayAddress": "127.0.1.1:0"},
           "KeepBuffers": 0, "EC2SpotCheck": False, "Cluster": None}


class StubTest(unittest.TestCase):
    """The stub's contract, run directly with a temporary lock dir."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="adc-stub-")
        self.lock = os.path.join(self.dir, "lock")
        os.mkdir(self.lock)
        self.env = dict(os.environ, ADC_WORKER_DIR=self.dir, ADC_LOCK_DIR=self.lock)

    def tearDown(self):
        # Kill leftover fake containers (their PIDs are in the lock files).
        for name in os.listdir(self.lock):
            if name.endswith(".lock") and name != "crunch-run-all.lock":
                try:
                    with open(os.path.join(self.lock, name)) as f:
                        os.kill(json.loads(f.read())["PID"], 9)
                except (OSError, ValueError, KeyError):
                    pass
        shutil.rmtree(self.dir)

    def cr(self, *args, stdin=b""):
        p = subprocess.run([STUB] + list(args), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.env, timeout=20)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def config(self, **cfg):
        os.makedirs(os.path.join(self.dir, "crunch-run"), exist_ok=True)
        with open(os.path.join(self.dir, "crunch-run", "config.json"), "w") as f:
            json.dump(cfg, f)

    def wait_for(self, pred, what, timeout=10):
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                self.fail("timed out waiting for " + what)
            time.sleep(0.05)

    def test_detach_twice_refused(self):
        self.config(duration=30)
        rc, out, _ = self.cr("--detach", "--stdin-config", UUID1, stdin=json.dumps(PAYLOAD).encode())
        self.assertEqual(rc, 0)
        self.assertEqual(json.loads(out)["UUID"], UUID1)
        rc, out, err = self.cr("--detach", "--stdin-config", UUID1, stdin=b"{}")
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        self.assertIn("detach: lock", err)
        with open(os.path.join(self.dir, "crunch-run", "payload-%s.json" % UUID1)) as f:
            self.assertEqual(json.load(f), PAYLOAD)  # the refused one did not clobber it

    def test_broken_prices_and_unknown_kill(self):
        open(os.path.join(self.lock, "crunch-run-broken"), "w").close()
        prices = [{"StartTime": "2024-01-02T03:04:05Z", "Price": 0.125}]
        rc, out, _ = self.cr("--list", "--stdin-prices", stdin=json.dumps(prices).encode())
        self.assertEqual((rc, out), (0, "broken\n"))
        with open(os.path.join(self.lock, "crunch-run-prices.json")) as f:
            self.assertEqual(json.load(f), prices)
        self.assertEqual(self.cr("--kill", "15", UUID2)[0], 0)  # no lock file: nothing to do

    def test_stale_lock_and_abandoned_lock(self):
        self.config(duration=0.1, stale_seconds=30)
        self.assertEqual(self.cr("--detach", "--stdin-config", UUID1, stdin=b"{}")[0], 0)
        self.wait_for(lambda: any(e["event"] == "exited" for e in self.events()), "container exit")
        self.assertEqual(self.cr("--list")[1], UUID1 + " stale\n")
        # The lock holder goes away: the lock file is abandoned and --list removes it.
        holder = [e["pid"] for e in self.events() if e["event"] == "stale-holder"][0]
        os.kill(holder, 9)
        self.wait_for(lambda: not sshd_rig_pid_alive(holder), "stale holder death")
        self.assertEqual(self.cr("--list")[1], "")
        self.assertFalse(os.path.exists(os.path.join(self.lock, "crunch-run-%s.lock" % UUID1)))

    def test_unkillable(self):
        self.config(duration=30, ignore_term=True)
        self.assertEqual(self.cr("--detach", "--stdin-config", UUID1, stdin=b"{}")[0], 0)
        rc, _, err = self.cr("--kill", "15", UUID1)
        self.assertEqual(rc, 1)
        self.assertIn("still alive", err)
        self.assertEqual(self.cr("--list")[1], UUID1 + "\n")

    def test_container_ends_by_itself(self):
        self.config(duration=0.2, exit_code=3)
        self.assertEqual(self.cr("--detach", "--stdin-config", UUID1, stdin=b"{}")[0], 0)
        self.wait_for(lambda: any(e["event"] == "exited" for e in self.events()), "container exit")
        self.wait_for(lambda: self.cr("--list")[1] == "", "lock release")
        self.assertEqual([e["code"] for e in self.events() if e["event"] == "exited"], [3])

    def events(self):
        try:
            with open(os.path.join(self.dir, "crunch-run", "events.jsonl")) as f:
                return [json.loads(x) for x in f if x.strip()]
        except FileNotFoundError:
            return []


def sshd_rig_pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class SSHMixin:
    @classmethod
    def make_rig(cls, **kw):
        cls.tmp = tempfile.mkdtemp(prefix="adc-rig-test-")
        os.chmod(cls.tmp, 0o755)  # an unprivileged remote user must reach its worker dir
        cls.key = os.path.join(cls.tmp, "id_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", cls.key], check=True)
        cls.rig = sshd_rig.WorkerRig(os.path.join(cls.tmp, "rig"), [cls.key + ".pub"], **kw)

    @classmethod
    def tearDownClass(cls):
        cls.rig.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def ssh(self, w, command, stdin=b"", known_hosts=None, timeout=30):
        """Run command on worker w with the real OpenSSH client, host key pinned."""
        kh = known_hosts or self.rig.write_known_hosts(os.path.join(self.tmp, "known_hosts"))
        argv = ["ssh", "-F", "/dev/null", "-i", self.key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "UserKnownHostsFile=" + kh, "-o", "GlobalKnownHostsFile=/dev/null",
                "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=2", "-o", "LogLevel=ERROR",
                "-p", str(w.port), "%s@%s" % (self.rig.user, w.address), command]
        p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def assert_ok(self, w, command, stdin=b""):
        rc, out, err = self.ssh(w, command, stdin)
        self.assertEqual(rc, 0, "%s on %s: %s" % (command, w.id, err))
        return out


@unittest.skipUnless(os.geteuid() == 0, "the rig needs root")
class RigTest(SSHMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.make_rig()
        cls.w1, cls.w2, cls.w3 = cls.rig.start(3)
        cls.db, = cls.rig.start(0, dropbear=1)

    def test_secret_per_worker(self):
        seen = set()
        for w in self.rig.workers:
            out = self.assert_ok(w, "cat /var/run/arvados-instance-secret")
            self.assertEqual(out, w.secret)
            seen.add(out)
        self.assertEqual(len(seen), 4)
        # The secret of a changed worker is served right away (the bind mount is live).
        self.w2.set_secret("changed-secret")
        self.assertEqual(self.assert_ok(self.w2, "sudo cat /var/run/arvados-instance-secret"), "changed-secret")

    def test_environment(self):
        for w in (self.w1, self.db):
            out = self.assert_ok(w, 'echo "$ADC_WORKER_ID $ADC_WORKER_DIR"; command -v crunch-run sudo')
            self.assertEqual(out.splitlines(), ["%s %s" % (w.id, w.dir), "/usr/local/sbin/crunch-run",
                                                "/usr/local/sbin/sudo"])

    def lifecycle(self, w):
        w.set_crunch_run_config(duration=60)
        self.assertEqual(self.assert_ok(w, "crunch-run --list"), "")
        out = self.assert_ok(w, "sudo crunch-run --detach --stdin-config '--runtime-engine=docker' '%s'" % UUID1,
                             json.dumps(PAYLOAD).encode())
        info = json.loads(out)
        self.assertEqual(info["UUID"], UUID1)
        self.assertEqual(w.payload(UUID1), PAYLOAD)
        prices = [{"StartTime": "2024-01-02T03:04:05Z", "Price": 0.5}]
        self.assertEqual(self.assert_ok(w, "crunch-run --list --stdin-prices", json.dumps(prices).encode()),
                         UUID1 + "\n")
        self.assertEqual(w.prices(), prices)
        self.assertEqual(self.assert_ok(w, "sudo crunch-run --kill 15 %s" % UUID1), "")
        self.assertIn({"uuid": UUID1, "signal": 15},
                      [{"uuid": e["uuid"], "signal": e.get("signal")} for e in w.events() if e["pid"] == info["PID"]])
        self.assertEqual(self.assert_ok(w, "crunch-run --list"), "")
        argvs = [i["argv"] for i in w.invocations()]
        self.assertIn(["--detach", "--stdin-config", "--runtime-engine=docker", UUID1], argvs)
        self.assertIn(["--kill", "15", UUID1], argvs)

    def test_lifecycle_openssh(self):
        self.lifecycle(self.w1)
        # Another worker saw none of it: its /var/lock and records are its own.
        self.assertEqual(self.w2.invocations(), [])

    def test_lifecycle_dropbear(self):
        self.assertEqual(self.assert_ok(self.db, "cat /var/run/arvados-instance-secret"), self.db.secret)
        self.lifecycle(self.db)

    def test_deploy_snippet(self):
        # The runner deployment command of spec 5.8, verbatim; the deploy dir is per worker.
        path = "/tmp/arvados-crunch-run/crunch-run~0123"
        cmd = ('set -e; dstdir="/tmp/arvados-crunch-run/"; dstfile="%s"; mkdir -p "$dstdir"; touch "$dstfile"; '
               'chmod 0755 "$dstdir" "$dstfile"; cat >"$dstfile"' % path)
        self.assert_ok(self.w3, cmd, b"binary")
        self.assertEqual(self.assert_ok(self.w3, "md5sum " + path),
                         "%s  %s\n" % (hashlib.md5(b"binary").hexdigest(), path))
        rc, _, _ = self.ssh(self.w1, "md5sum " + path)
        self.assertNotEqual(rc, 0)

    def test_freeze(self):
        self.w2.freeze()
        try:
            rc, _, err = self.ssh(self.w2, "true")
            self.assertEqual(rc, 255, err)
            self.assertIn("timed out", err)
        finally:
            self.w2.thaw()
        self.assert_ok(self.w2, "true")

    def test_restart_keeps_key_and_containers(self):
        w = self.w3
        w.set_crunch_run_config(duration=60)
        key = w.host_key_pub()
        self.assert_ok(w, "crunch-run --detach --stdin-config %s" % UUID2, b"{}")
        w.kill()
        rc, _, err = self.ssh(w, "true")
        self.assertEqual(rc, 255, err)
        w.start()
        self.assertEqual(w.host_key_pub(), key)
        self.assertEqual(self.assert_ok(w, "crunch-run --list"), UUID2 + "\n")
        self.assert_ok(w, "crunch-run --kill 15 %s" % UUID2)

    def test_port_taken_by_another_listener(self):
        """A worker whose port another process listens on (on its address, or on 0.0.0.0) is
        not "up" because a connect succeeds there: its own server fails to bind, and start()
        says so, naming the other listener (issue 18: a fake's metadata listener took an e2e
        worker's SSH port; the rig went on as if sshd were up, before its namespace was set)."""
        for host in (self.w2.address, "0.0.0.0"):
            w = self.w2
            w.kill()
            other = socket.socket()
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                other.bind((host, w.port))
                other.listen(8)
                with self.assertRaisesRegex(sshd_rig.RigError, r"server exited with 255 \(%s:%d is taken by "
                                            r"another listener: pid %d\)" % (w.address, w.port, os.getpid())):
                    w.start()
            finally:
                other.close()
            w.start()
            self.assert_ok(w, "true")

    def test_rotate_host_key(self):
        w = self.w1
        old = self.rig.write_known_hosts(os.path.join(self.tmp, "known_hosts.old"))
        oldkey = w.host_key_pub()
        w.rotate_host_key()
        self.assertNotEqual(w.host_key_pub(), oldkey)
        rc, _, err = self.ssh(w, "true", known_hosts=old)
        self.assertEqual(rc, 255)
        self.assertIn("Host key verification failed", err)
        self.assert_ok(w, "true")  # with the current known_hosts
        rc, _, err = self.ssh(self.w2, "true", known_hosts=old)  # the others are unchanged
        self.assertEqual(rc, 0, err)


@unittest.skipUnless(os.geteuid() == 0, "the rig needs root")
class UserRigTest(SSHMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.make_rig(user="adc-rig-test", first_index=101)
        cls.rig.start(1, dropbear=1)

    def test_untraversable_base_dir_refused(self):
        private = tempfile.mkdtemp(prefix="adc-rig-private-")  # mode 0700
        try:
            with self.assertRaisesRegex(sshd_rig.RigError, "cannot traverse"):
                sshd_rig.WorkerRig(os.path.join(private, "rig"), [self.key + ".pub"], user="adc-rig-test")
        finally:
            shutil.rmtree(private)

    def test_unreachable_crunch_run_named(self):
        # A checkout under a 0700 directory (e.g. /root): refused at once, naming the directory and
        # the fix, instead of every command failing later with "crunch-run: Permission denied".
        private = tempfile.mkdtemp(prefix="adc-rig-checkout-")  # mode 0700
        try:
            stub = os.path.join(private, "stub-crunch-run")
            shutil.copy(sshd_rig.STUB, stub)
            with self.assertRaisesRegex(sshd_rig.RigError, r"adc-rig-test cannot run crunch-run .*: %s is mode 700\. "
                                        r".*chmod o\+x %s" % (private, private)):
                sshd_rig.WorkerRig(os.path.join(self.tmp, "rig-unreachable"), [self.key + ".pub"],
                                   user="adc-rig-test", crunch_run=stub)
        finally:
            shutil.rmtree(private)

    def test_unprivileged_user(self):
        for w in self.rig.workers:
            out = self.assert_ok(w, "id -un; sudo cat /var/run/arvados-instance-secret")
            self.assertEqual(out, "adc-rig-test\n" + w.secret)
            w.set_crunch_run_config(duration=60)
            self.assert_ok(w, "sudo crunch-run --detach --stdin-config '%s'" % UUID1, b"{}")
            self.assertEqual(self.assert_ok(w, "sudo crunch-run --list"), UUID1 + "\n")
            self.assert_ok(w, "sudo crunch-run --kill 15 '%s'" % UUID1)
            self.assertEqual(self.assert_ok(w, "sudo crunch-run --list"), "")


class AddressTest(unittest.TestCase):
    """Workers 1..250 keep their <prefix><i> address; past 250 they spread over the next /24s;
    each rig leases a block of its own."""

    def test_addresses(self):
        a = sshd_rig.rig_address
        self.assertEqual([a("127.0.1.", i) for i in (1, 2, 250)], ["127.0.1.1", "127.0.1.2", "127.0.1.250"])
        self.assertEqual([a("127.0.1.", i) for i in (251, 500, 501, 1000)],
                         ["127.0.2.1", "127.0.2.250", "127.0.3.1", "127.0.4.250"])
        self.assertEqual(len({a("127.0.1.", i) for i in range(1, 2001)}), 2000)
        with self.assertRaises(sshd_rig.RigError):
            a("127.0.255.", 251)
        with self.assertRaises(sshd_rig.RigError):
            a("10.0.0.", 251)  # never leaves 127.0.0.0/8

    def test_leases(self):
        """Rigs that run at the same time (in one test run or in two) get address blocks of their
        own; a block is free again once its holder lets go (or exits)."""
        held = [sshd_rig.rig_lease_net() for _ in range(3)]
        try:
            prefixes = [p for p, _ in held]
            self.assertEqual(len(set(prefixes)), 3, prefixes)
            for p in prefixes:
                self.assertRegex(p, r"^127\.(1[0-9][0-9])\.1\.$")
            n = prefixes[0].split(".")[1]
            free = os.open(os.path.join(sshd_rig.NET_LEASE_DIR, n), os.O_RDWR)
            try:
                with self.assertRaises(BlockingIOError):  # what another rig's lease attempt meets
                    sshd_rig.fcntl.flock(free, sshd_rig.fcntl.LOCK_EX | sshd_rig.fcntl.LOCK_NB)
                os.close(held[0][1])
                held[0] = (None, None)
                sshd_rig.fcntl.flock(free, sshd_rig.fcntl.LOCK_EX | sshd_rig.fcntl.LOCK_NB)
            finally:
                os.close(free)
        finally:
            for _, fd in held:
                if fd is not None:
                    os.close(fd)


@unittest.skipUnless(os.geteuid() == 0, "the rig needs root")
class SharedKeyRigTest(SSHMixin, unittest.TestCase):
    """The bench options: one host key per server kind, another crunch-run, a worker past 250."""

    @classmethod
    def setUpClass(cls):
        cls.make_rig(first_index=250, shared_host_key=True, crunch_run="/bin/echo")
        cls.rig.start(1, dropbear=2)

    def test_shared_key_then_rotation(self):
        o, d1, d2 = self.rig.workers
        n = self.rig.address_prefix.split(".")[1]  # the rig's own leased block, 127.<n>.0.0/16
        self.assertEqual(self.rig.address_prefix, "127.%s.1." % n)
        self.assertEqual((o.address, d1.address, d2.address),
                         ("127.%s.1.250" % n, "127.%s.2.1" % n, "127.%s.2.2" % n))
        self.assertEqual(d1.host_key_pub(), d2.host_key_pub())
        self.assertNotEqual(o.host_key_pub(), d1.host_key_pub())  # one key per kind
        for w in self.rig.workers:
            self.assertEqual(self.assert_ok(w, "crunch-run --list"), "--list\n")
        old = self.rig.write_known_hosts(os.path.join(self.tmp, "known_hosts.old"))
        d2.rotate_host_key()
        self.assertNotEqual(d2.host_key_pub(), d1.host_key_pub())
        rc, _, err = self.ssh(d2, "true", known_hosts=old)
        self.assertEqual(rc, 255)
        self.assertIn("Host key verification failed", err)
        rc, _, err = self.ssh(d1, "true", known_hosts=old)  # the shared copy of d1 is untouched
        self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
