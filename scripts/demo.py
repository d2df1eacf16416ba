#!/usr/bin/python3
"""demo.py - `make demo`: a whole Arvados-like cluster on this machine, from one command.

It starts the fake Arvados API server, the dispatcher with the loopback cloud driver (one
instance: this machine, reached through a private sshd started by cloudd) and a demo
crunch-run that the dispatcher deploys over SSH (scripts/demo_cluster.py says how). Then it
submits a few containers, the example of the Arvados install guide (`echo "Hello, Crunch!"`)
first, shows each container's state and the instance's state (from the management API) as
they change, and prints each container's output and exit code when it completes.

  scripts/demo.sh [--once] [--summary FILE]

  --once          stop by itself once every container has finished (DEMO_ONCE=1 too)
  --summary FILE  write the containers' final records there as JSON (for tests)
  DEMO_SECONDS=N  stop after N seconds at most
  DEMO_LOG_FILE=F write the dispatcher's JSON log to F when it stops

Without --once it keeps running after the containers finish, so the management API can be
tried (the curl line it prints), until Ctrl-C. Stopping destroys the instance through the
management API, stops the dispatcher (SIGTERM) and the fake API server, and removes the
temporary directory. Needs root (scripts/demo.sh re-runs itself through sudo).
"""
import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import demo_cluster  # noqa: E402
from demo_cluster import h  # noqa: E402

# (label, command, extra fields). The first is the install guide's example container.
CONTAINERS = [
    ("hello", ["echo", "Hello, Crunch!"], {}),
    ("uname", ["uname", "-a"], {}),
    ("sleep", ["sh", "-c", "sleep 2; echo done"], {}),
    ("fails", ["sh", "-c", "echo 'this one fails' >&2; exit 1"], {}),
    ("env", ["sh", "-c", 'echo "$GREETING from $(id -un) on $(uname -n)"'],
     {"environment": {"GREETING": "hi"}}),
]
FINAL = ("Complete", "Cancelled")
# The API server's transitions (spec arvados-api-server.md 4.1): a log entry that would break
# them (a no-op update, entries read out of order) is not a change of state.
NEXT = {"Queued": ("Locked", "Cancelled"), "Locked": ("Queued", "Running", "Cancelled"),
        "Running": ("Complete", "Cancelled"), "Complete": ("Cancelled",), "Cancelled": ()}


class Stop(Exception):
    pass


def on_signal(sig, _frame):
    raise Stop(signal.Signals(sig).name)


class Clock:
    def __init__(self):
        self.t0 = time.monotonic()

    def say(self, what, text):
        print("%7.1fs  %-10s %s" % (time.monotonic() - self.t0, what, text), flush=True)


def show_process(pid, role):
    st = h.proc_status(pid)
    uid = int(st["Uid"].split()[0])
    try:
        user = subprocess.check_output(["id", "-nu", str(uid)], text=True).strip()
    except subprocess.CalledProcessError:
        user = str(uid)
    print("  %-22s pid %-7d user %-18s NoNewPrivs %s  Seccomp %s" % (
        role, pid, user, st["NoNewPrivs"].strip(), st["Seccomp"].strip()))


def submit(cl):
    uuids, labels = [], {}
    for label, cmd, extra in CONTAINERS:
        # The install guide's container request, as the API server turns it into a container.
        fields = {"state": "Queued", "command": cmd, "container_image": "arvados/jobs:latest",
                  "output_path": "/out", "mounts": {"/out": {"kind": "tmp", "capacity": 1000}},
                  "runtime_constraints": {"vcpus": 1, "ram": 1048576}}
        fields.update(extra)
        uuid = cl.fake_call("POST", "containers", fields)["uuid"]
        uuids.append(uuid)
        labels[uuid] = label
        print("  %-6s %s  %s" % (label, uuid, shlex.join(cmd)))
    return uuids, labels


def show_result(rec):
    rs = rec.get("runtime_status") or {}
    print("           exit code %s" % rec.get("exit_code"))
    for key, name in (("demoStdout", "stdout"), ("demoStderr", "stderr")):
        text = rs.get(key) or ""
        for line in text.rstrip("\n").splitlines():
            print("           %s | %s" % (name, line))
    if rs.get("error"):
        print("           error  | %s" % rs["error"])


def instance_text(i, labels):
    text = i.get("worker_state", "?")
    if i.get("idle_behavior") not in (None, "run"):
        text += " (%s)" % i["idle_behavior"]
    if i.get("running_container_uuids"):
        text += ": " + ", ".join(sorted(labels.get(u, u) for u in i["running_container_uuids"]))
    return text


class Watch:
    """Prints what changed since the last look: containers (from the API server) and
    instances (from the dispatcher's management API)."""

    def __init__(self, cl, uuids, labels, clock):
        self.cl, self.uuids, self.labels, self.clock = cl, uuids, labels, clock
        self.states, self.records, self.inst = {}, {}, {}
        self.seq = 0
        self.shown = set()
        self.logged = 0
        self.seen = set()
        for u in uuids:
            self.moved(u, "Queued")  # as submitted

    def moved(self, u, state, force=False):
        if state != self.states.get(u) and (force or state in NEXT.get(self.states.get(u), NEXT)):
            self.states[u] = state
            self.clock.say("container", "%-6s %s  %s" % (self.labels[u], u, state))
        if state in FINAL and u not in self.shown:
            if self.records.get(u, {}).get("state") not in FINAL:
                self.records[u] = self.cl.fake_call("GET", "containers/" + u)
            self.shown.add(u)
            show_result(self.records[u])

    def step(self):
        # The dispatcher's errors, as they come (its whole log is JSON on its stdout).
        lines = self.cl.disp.lines
        for e in lines[self.logged:len(lines)]:
            if e.get("level") in ("error", "fatal"):
                self.clock.say("dispatcher", "%s: %s %s" % (e["level"], e.get("msg"), e.get("error", "")))
        self.logged = len(lines)
        # The records first, then the fake's request log: it gives every transition up to
        # them, even those shorter than a poll (lock, unlock, the state in each update).
        for u in self.uuids:
            self.records[u] = self.cl.fake_call("GET", "containers/" + u)
        # Entries are logged as requests finish, so a lower seq can come late: look back a
        # little and skip what was seen.
        for e in self.cl.fake_call("GET", "log?since=%d" % max(0, self.seq - 200))["items"]:
            if e.get("seq", 0) in self.seen:
                continue
            self.seen.add(e.get("seq", 0))
            self.seq = max(self.seq, e.get("seq", 0))
            u = e.get("uuid")
            if u not in self.labels or e.get("status") != 200:
                continue
            if e.get("route") == "lock":
                self.moved(u, "Locked")
            elif e.get("route") == "unlock":
                self.moved(u, "Queued")
            elif e.get("route") == "update":
                c = (e.get("params") or {}).get("container")
                self.moved(u, c.get("state") if isinstance(c, dict) else None)
        # What the log does not say (a cancel by the server): the records were read before
        # the log, so only a state further on than the one shown is news.
        rank = {"Queued": 0, "Locked": 1, "Running": 2, "Complete": 3, "Cancelled": 3}
        for u in self.uuids:
            st = self.records[u]["state"]
            if rank.get(st, 0) > rank.get(self.states.get(u), 0):
                self.moved(u, st, force=True)
        try:
            items = self.cl.instances()
        except OSError:
            items = []
        now = {}
        for i in items:
            iid = i.get("instance") or "(being created)"
            now[iid] = instance_text(i, self.labels)
            if self.inst.get(iid) != now[iid]:
                addr = (" at " + i["address"]) if i.get("address") else ""
                self.clock.say("instance", "%s%s: %s" % (iid, addr, now[iid]))
        for iid in self.inst:
            if iid not in now:
                self.clock.say("instance", "%s: gone" % iid)
        self.inst = now

    def done(self):
        return len(self.states) == len(self.uuids) and all(
            s in FINAL for s in self.states.values())


def print_mgmt(cl):
    print("\ndemo: the management API is at %s, token %s; try:" % (cl.mgmt_url(), cl.mgmt_token))
    print("  curl -sS -H 'Authorization: Bearer %s' %s" % (
        cl.mgmt_token, cl.mgmt_url("/arvados/v1/dispatch/instances")))
    print("  (also /arvados/v1/dispatch/containers and /metrics)\n")


def write_summary(path, watch):
    out = []
    for u in watch.uuids:
        rec = watch.records.get(u, {})
        rs = rec.get("runtime_status") or {}
        out.append({"label": watch.labels[u], "uuid": u, "command": rec.get("command"),
                    "state": rec.get("state"), "exit_code": rec.get("exit_code"),
                    "stdout": rs.get("demoStdout"), "stderr": rs.get("demoStderr"),
                    "lock_file": rs.get("demoLockFile"), "runner": rs.get("demoRunner")})
    with open(path, "w") as f:
        json.dump(out, f, indent=1)


def run(cl, args, clock, deadline):
    info = cl.start_fake()
    print("demo: fake Arvados API server at %s (pid %d)" % (info["url"], info["pid"]))
    cl.write_config()
    print("demo: starting %s/arvados-dispatch-cloud -config %s" % (h.BIN_DIR, cl.config))
    d = cl.start_dispatcher()
    pids = d.helper_pids()
    print("demo: the dispatcher is up (loopback driver, instance type \"localhost\"); "
          "its processes:")
    show_process(d.proc.pid, "dispatcherd (parent)")
    show_process(pids["cloudd"], "cloudd (cloud driver)")
    show_process(pids["sshd-pool"], "sshd-pool (SSH key)")
    print("demo: work directory %s" % cl.dir)
    print_mgmt(cl)
    print("demo: submitting %d containers:" % len(CONTAINERS))
    uuids, labels = submit(cl)
    print()
    watch = Watch(cl, uuids, labels, clock)
    announced = False
    try:
        while deadline is None or time.monotonic() < deadline:
            watch.step()
            if watch.done() and not announced:
                announced = True
                ok = sum(1 for u in uuids if watch.records[u].get("exit_code") == 0)
                print("\ndemo: all %d containers finished (%d with exit code 0)." % (len(uuids), ok))
                if args.once:
                    break
                print_mgmt(cl)
                print("demo: still running (the idle instance is shut down after TimeoutIdle, "
                      "%s); Ctrl-C to stop.\n" % cl.idle)
            if d.proc.poll() is not None:
                print("demo: the dispatcher exited (status %d); its log:\n%s" % (
                    d.proc.returncode, d.log_text()))
                return 1
            time.sleep(0.5)
        else:
            print("\ndemo: DEMO_SECONDS is over")
    finally:
        if args.summary:
            write_summary(args.summary, watch)
    return 0 if watch.done() else 1


def main():
    p = argparse.ArgumentParser(description="a local Arvados cluster around the dispatcher")
    p.add_argument("--once", action="store_true", default=os.environ.get("DEMO_ONCE") == "1",
                   help="stop once every container has finished")
    p.add_argument("--summary", help="write the containers' final records to this JSON file")
    args = p.parse_args()
    if os.geteuid() != 0:
        print("demo: needs root (the dispatcher's helpers switch users; the loopback instance "
              "is this machine): run `sudo make demo`", file=sys.stderr)
        return 1
    if not os.access(os.path.join(h.BIN_DIR, "arvados-dispatch-cloud"), os.X_OK):
        print("demo: no %s/arvados-dispatch-cloud; run `make` first" % h.BIN_DIR, file=sys.stderr)
        return 1
    secs = float(os.environ.get("DEMO_SECONDS", "0") or 0)
    clock = Clock()
    deadline = clock.t0 + secs if secs > 0 else None
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    cl = demo_cluster.Cluster()
    rc = 1
    try:
        rc = run(cl, args, clock, deadline)
    except Stop as e:
        print("\ndemo: %s, stopping" % e)
    except Exception as e:  # a start-up failure: say what, then clean up as always
        print("demo: %s: %s" % (type(e).__name__, e), file=sys.stderr)
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        print("\ndemo: cleaning up")
        cl.stop()
        if cl.disp_rc not in (None, 0):
            rc = 1  # e.g. a sanitizer's report in a test build
        left = cl.wait_leftovers()
        for pid, cmd in left:
            print("demo: still running: pid %d %s" % (pid, cmd))
        if left:
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
