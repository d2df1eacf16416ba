#!/usr/bin/python3
"""The real dispatcher's story in a real journald: one container dispatched end to end (fake
Arvados, fake EC2, a rig worker) with the dispatcher's stderr handed to journald as systemd
would (JOURNAL_STREAM naming stderr, so journal output is on), then
`journalctl -D ... CONTAINER_UUID=<uuid>` and `INSTANCE_ID=<id>` must tell the container's and
the instance's whole story, in order.

Runs itself again under `unshare -m --propagation private` with a tmpfs on /run and a
journald of its own (testing.md section 7, as tests/log/journal_test.py). Needs root; a missing
unshare or journald is a failure, not a skip."""
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
JOURNALD = "/lib/systemd/systemd-journald"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def outer():
    if os.geteuid() != 0:
        print("skipped: needs root (the sshd rig, a mount namespace, journald)")
        sys.exit(0)
    if shutil.which("unshare") is None or not os.access(JOURNALD, os.X_OK) \
            or shutil.which("journalctl") is None:
        fail("unshare, %s or journalctl missing (scripts/install-deps.sh)" % JOURNALD)
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "/usr/bin/python3",
                        os.path.abspath(__file__), "--inner"])
    sys.exit(r.returncode)


def start_journald():
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
    # sshd (the rig) needs its privilege separation directory under /run
    for d in ("/run/systemd/journal", "/run/systemd/journald.conf.d", "/run/log/journal",
              "/run/sshd"):
        os.makedirs(d, exist_ok=True)
    with open("/run/systemd/journald.conf.d/test.conf", "w") as f:
        f.write("[Journal]\nStorage=volatile\nReadKMsg=no\nRateLimitBurst=0\n")
    jd = subprocess.Popen([JOURNALD], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1000):
        if os.path.exists("/run/systemd/journal/socket"):
            return jd
        if jd.poll() is not None:
            fail("journald exited with %d" % jd.returncode)
        time.sleep(0.01)
    jd.kill()
    fail("journald socket never appeared")


def journal(*match):
    subprocess.run(["journalctl", "--sync"], timeout=60)
    r = subprocess.run(["journalctl", "-D", "/run/log/journal", "--no-pager", "-o", "json"]
                       + list(match), capture_output=True, text=True, timeout=60)
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def in_order(entries, wanted, what):
    """Each message of wanted (or one of a tuple of alternatives) appears, in this order,
    among the entries' MESSAGEs."""
    msgs = [e.get("MESSAGE", "") for e in entries]
    pos = 0
    for w in wanted:
        alts = w if isinstance(w, tuple) else (w,)
        found = [msgs.index(a, pos) for a in alts if a in msgs[pos:]]
        if not found:
            fail("%s: %r missing or out of order; story:\n  %s" % (what, w, "\n  ".join(msgs)))
        pos = min(found) + 1


class Dispatcher:
    """arvados-dispatch-cloud with stderr on a file that JOURNAL_STREAM names."""

    def __init__(self, env, workdir):
        self.err_path = os.path.join(workdir, "stderr")
        self.err = open(self.err_path, "wb")
        st = os.fstat(self.err.fileno())
        e = dict(os.environ)
        e.update(env.env())
        e["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        bin_dir = os.environ.get("ADC_BIN_DIR") or os.path.join(HERE, "..", "..", "build", "bin")
        self.proc = subprocess.Popen([os.path.join(bin_dir, "arvados-dispatch-cloud"), "-config",
                                      env.config], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.err, env=e)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


def wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.3)
    fail("timed out waiting for " + what + "; journal:\n" + "\n".join(
        "%s %s" % (e.get("ADC_PROCESS"), e.get("MESSAGE")) for e in journal()[-60:]))


def inner():
    import e2e_env
    jd = start_journald()
    env = disp = None
    try:
        env = e2e_env.E2E(crunch_cfg={"duration": 2, "arvados": True})
        disp = Dispatcher(env, env.dir)
        wait(lambda: any(e.get("MESSAGE") == "listening"
                         for e in journal("SYSLOG_IDENTIFIER=arvados-dispatch-cloud")), 30,
             "listening in the journal")
        uuid, = env.create(1)
        wait(lambda: env.records([uuid])[uuid]["state"] == "Complete", 90, "Complete")
        wait(lambda: not env.ec2.live(), 60, "no instance left")
        wait(lambda: any(e.get("MESSAGE") == "instance disappeared in cloud"
                         for e in journal()), 30, "the instance gone from the pool")

        story = journal("CONTAINER_UUID=" + uuid)
        for e in story:
            if e.get("SYSLOG_IDENTIFIER") != "arvados-dispatch-cloud":
                fail("entry without our identifier: %r" % e)
        in_order(story, ["adding container to queue", "container locked",
                         "creating new instance", "crunch-run process started",
                         "crunch-run process ended",
                         # Complete seen by the poll before the run probe saw crunch-run
                         # end: the runner is killed (4.4) and the entry dropped by the
                         # poll; otherwise the scheduler forgets it as finished.
                         ("container finished -- dropping from queue",
                          "dropping container from queue")], "container " + uuid)
        started = [e for e in story if e["MESSAGE"] == "crunch-run process started"]
        iid = started[0].get("INSTANCE_ID", "")
        if not iid.startswith("i-"):
            fail("crunch-run process started without INSTANCE_ID: %r" % started[0])
        if started[0].get("INSTANCE_TYPE") != "m4" or not started[0].get("WORKER_STATE"):
            fail("per-worker fields missing: %r" % started[0])
        created = [e for e in story if e["MESSAGE"] == "creating new instance"][0]
        if created.get("INSTANCE_TYPE") != "m4":
            fail("creating new instance without INSTANCE_TYPE: %r" % created)

        inst = journal("INSTANCE_ID=" + iid)
        in_order(inst, ["instance appeared in cloud", "boot probe succeeded",
                        "instance booted; will try probeRunning",
                        "probes succeeded, instance is in service",
                        "crunch-run process started", "crunch-run process ended",
                        "shutdown worker", "instance disappeared in cloud"], "instance " + iid)
        for e in inst:
            for k in ("INSTANCE_TYPE", "WORKER_STATE"):
                if not e.get(k):
                    fail("%s without %s: %r" % (e.get("MESSAGE"), k, e))
        # Journal output replaces stderr; nothing fell back to it.
        disp.stop()
        with open(disp.err_path) as f:
            rest = f.read()
        if rest.strip():
            fail("entries written to stderr as well as (or instead of) the journal:\n" + rest[:2000])
        if not any(e.get("MESSAGE") == "shutting down on signal" for e in journal()):
            fail("the SIGTERM entry did not reach the journal")
        print("journal story: container %d entries, instance %s %d entries" % (
            len(story), iid, len(inst)))
    finally:
        if disp is not None:
            disp.stop()
        if env is not None:
            env.stop()
        jd.terminate()
        jd.wait()
    print("e2e_journal: OK")


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--inner":
        inner()
    else:
        outer()
