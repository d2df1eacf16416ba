"""test_demo.py - `make demo` run non-interactively (scripts/demo.sh --once), as a newcomer
would run it, against the binaries in $ADC_BIN_DIR: every demo container reaches Complete with
the output and exit code its command gives on this machine, "Hello, Crunch!" is printed, the
demo crunch-run kept its locks in /var/lock and ran from the configured deploy directory (the
loopback instance runs commands unconfined, as the reference), and nothing this run started is
left (no sshd, dispatcher, helper, crunch-run or fake server).
Needs root, as the demo does. /usr/bin/python3, standard library only."""
import json
import os
import re
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))

# What each command prints here, worked out by the test itself.
UNAME = os.uname()
EXPECT = {
    "hello": ("Hello, Crunch!\n", 0),
    "uname": ("%s %s %s %s %s GNU/Linux\n" % (UNAME.sysname, UNAME.nodename, UNAME.release,
                                              UNAME.version, UNAME.machine), 0),
    "sleep": ("done\n", 0),
    "fails": ("", 1),
    "env": ("hi from root on %s\n" % UNAME.nodename, 0),
}


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cmdlines_naming(text):
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % p, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in cmd:
            out.append((int(p), cmd))
    return out


@unittest.skipUnless(os.geteuid() == 0, "the demo needs root")
class DemoTest(unittest.TestCase):
    def test_demo_once(self):
        with tempfile.TemporaryDirectory() as d:
            summary = os.path.join(d, "summary.json")
            log = os.path.join(d, "dispatcher.log")
            env = dict(os.environ, DEMO_SECONDS="240", DEMO_LOG_FILE=log)
            r = subprocess.run([os.path.join(SRC, "scripts", "demo.sh"), "--once", "--summary", summary],
                               env=env, capture_output=True, text=True, timeout=300)
            # A failure report carries the dispatcher's own log too (a container that did not
            # end Complete was seen once in a loaded suite run: its cause is in that log).
            out = r.stdout + r.stderr
            if os.path.exists(log):
                with open(log) as f:
                    out += "\n--- the dispatcher's log ---\n" + f.read()
            self.assertEqual(r.returncode, 0, out)
            with open(summary) as f:
                got = {c["label"]: c for c in json.load(f)}
        self.assertEqual(set(got), set(EXPECT), out)
        for label, (stdout, code) in EXPECT.items():
            c = got[label]
            self.assertEqual(c["state"], "Complete", (label, out))
            self.assertEqual(c["exit_code"], code, (label, out))
            self.assertEqual(c["stdout"], stdout, (label, out))
        self.assertEqual(got["fails"]["stderr"], "this one fails\n")
        # The loopback instance runs commands as the reference does (unconfined): the demo
        # crunch-run kept its locks in /var/lock, as the real one, and ran from the configured
        # DeployRunnerDirectory (<work>/deploy, a plain directory outside cloudd's private
        # one; no symlink into it).
        work = re.search(r"demo: work directory (\S+)", out).group(1)
        for label, c in got.items():
            self.assertEqual(c["lock_file"], "/var/lock/crunch-run-%s.lock" % c["uuid"], (label, out))
            self.assertEqual(os.path.dirname(c["runner"]), os.path.join(work, "deploy"), (label, out))
            self.assertFalse(os.path.exists(c["lock_file"]), (label, out))
        self.assertIn("stdout | Hello, Crunch!", out)
        self.assertRegex(out, r"curl -sS -H 'Authorization: Bearer [0-9a-f]{40}' "
                              r"http://127\.0\.0\.1:\d+/arvados/v1/dispatch/instances")
        # The instance was destroyed through the management API, and the dispatcher ran the
        # runner it deployed (no Docker, no crunch-run installed here).
        self.assertIn("destroying instance localhost through the management API", out)
        # Nothing from this run is left running: the processes it named, and any process whose
        # command line names its work directory (sshd -f <dir>/..., crunch-run~<md5>).
        work = re.search(r"demo: work directory (\S+)", out).group(1)
        self.assertFalse(os.path.exists(work), out)
        self.assertEqual(cmdlines_naming(work), [])
        pids = [int(p) for p in re.findall(r"pid (\d+)", out)]
        self.assertGreaterEqual(len(pids), 4, out)  # fake server, dispatcher and its two helpers
        for pid in pids:
            self.assertFalse(alive(pid), "pid %d still running\n%s" % (pid, out))


if __name__ == "__main__":
    unittest.main()
