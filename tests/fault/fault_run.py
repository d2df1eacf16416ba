#!/usr/bin/python3
"""fault_run.py - the fault suite (issue 12, docs/RELIABILITY.md): N containers dispatched by the
real executables (arvados-dispatch-cloud, cloudd, sshd-pool) against the fake API server, the
fake EC2 and real OpenSSH workers (tests/e2e's harness, e2e_env), while

* a random one of the three processes gets SIGKILL at random moments (a killed dispatcher is
  started again by this script, as systemd's Restart=always would; a killed helper is started
  again by the dispatcher itself);
* the API server answers 500, a busy 503, drops the connection after a few seconds, or does not
  answer until the client's timeout, on a fraction of calls (fake_arvados fault rules);
* the cloud answers throttling, 5xx, capacity and quota errors on a fraction of calls
  (fake_ec2 faults);
* a worker's network is cut for a few seconds (its sshd and every SSH session SIGSTOPped:
  established connections go silent, new ones get no banner).

Then it checks: every container Complete, none Cancelled, each run exactly once (one
Locked->Running transition in the fake API server's own transition log, and one copy of the
fake container that reached Running over every worker), and no instance left in the fake
cloud once the queue is empty and TimeoutIdle has passed. It prints a table of what it did and
found, and exits 1 when anything was lost, run twice, cancelled or leaked.

Every random choice of this script comes from one seeded generator (--seed; the seed is printed
first), and each fault rule of the fakes draws from a generator seeded from it. The schedule of
kills and cuts is tied to progress (the k-th kill happens when a given number of containers are
final), so a replay with the same seed does the same things at the same stages; the exact
interleaving with the processes' own timers is not reproducible.

Needs root (the sshd rig). Standard library only; /usr/bin/python3.
"""
import argparse
import json
import os
import random
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import e2e_env  # noqa: E402

PROCESSES = ("dispatcherd", "cloudd", "sshd-pool")

# Two instance types, both candidates for every container (MaximumPriceFactor 1.5 by default):
# a capacity hold on one type leaves the other, as a real cluster configured this way would.
ITYPES = e2e_env.M4_TYPE + """      m5:
        ProviderType: m5.xlarge
        VCPUs: 4
        RAM: 16GiB
        IncludedScratch: 100GB
        Price: 0.22
"""

# Share of each kind in the fault rate. API: 500, a busy 503 (controller's request limiter),
# the connection closed after DROP_AFTER s with no answer, no answer until past the client's
# own timeout (30 s for single-object calls). The stub crunch-run retries as the Go SDK does.
API_KINDS = (("api 500", 0.35, {"status": 500}),
             ("api 503 busy", 0.35, {"busy": True}),
             ("api dropped", 0.25, {"hang": 3}),
             ("api timeout", 0.05, {"hang": 35}))
# Cloud: throttling and server errors on any call; capacity and quota errors on RunInstances.
EC2_KINDS = (("ec2 throttled", 0.35, {"action": "*", "code": "RequestLimitExceeded"}),
             ("ec2 5xx", 0.35, {"action": "*", "code": "InternalError"}),
             ("ec2 capacity", 0.15, {"action": "RunInstances", "code": "InsufficientInstanceCapacity"}),
             ("ec2 quota", 0.15, {"action": "RunInstances", "code": "InstanceLimitExceeded"}))


class FaultRun:
    def __init__(self, args):
        self.a = args
        self.rng = random.Random(args.seed)
        self.kills = {p: 0 for p in PROCESSES}
        self.unexpected_exits = []   # (time, exit status) of dispatcher exits we did not cause
        self.cuts = 0
        self.dispatchers = []        # every dispatcher run, for the logs
        self.stop = threading.Event()
        self.lock = threading.Lock()  # one kill or restart at a time
        self.n_final = 0
        self.errors = []
        self.env = None

    # ---- set-up ------------------------------------------------------------------------

    def setup(self):
        a = self.a
        self.env = e2e_env.E2E(crunch_cfg={"duration": 1, "arvados": True}, max_instances=a.max_instances,
                               itypes=ITYPES, timeout_booting="20s")
        fields = {"runtime_constraints": {"vcpus": 1, "ram": 256 << 20}, "state": "Queued"}
        self.uuids = self.env.arv.ctl("POST", "containers/bulk",
                                      {"count": a.containers, "fields": fields, "uuids": True})["uuids"]
        per = {u: {"duration": round(self.rng.uniform(0.5, a.max_duration), 2)} for u in self.uuids}
        self.env.watcher.set_crunch_cfg({"duration": 1, "arvados": True, "containers": per})
        self.api_rules, self.ec2_rules = {}, []
        for kind, share, spec in API_KINDS:
            rule = self.env.arv.ctl("POST", "faults", dict(spec, times=None, seed=self.rng.getrandbits(32),
                                                           probability=a.fault_rate * share))
            self.api_rules[rule["id"]] = kind
        for kind, share, spec in EC2_KINDS:
            self.env.ec2.ctl("POST", "faults", dict(spec, count=-1, seed=self.rng.getrandbits(32),
                                                    probability=a.fault_rate * share))
            self.ec2_rules.append(kind)

    def start_dispatcher(self):
        d = self.env.start_dispatcher()
        self.dispatchers.append(d)
        return d

    # ---- what goes wrong ---------------------------------------------------------------

    def thresholds(self, n):
        """n progress marks (numbers of final containers) at which to act, spread over the run."""
        return sorted(self.rng.randrange(0, max(1, self.a.containers)) for _ in range(n))

    def wait_progress(self, mark):
        while not self.stop.is_set() and self.n_final < mark:
            self.stop.wait(0.2)
        return not self.stop.is_set()

    def killer(self):
        for mark in self.thresholds(self.a.kills):
            if not self.wait_progress(mark):
                return
            self.stop.wait(self.rng.uniform(0, 2))
            victim = self.rng.choice(PROCESSES)
            try:
                self.kill(victim)
            except Exception as e:  # reported, the run goes on
                self.errors.append("kill %s: %r" % (victim, e))

    def kill(self, victim):
        with self.lock:
            d = self.env.disp
            if victim == "dispatcherd":
                d.proc.kill()
                d.proc.wait()
                self.kills[victim] += 1
                self.start_dispatcher()
                return
        # A helper: the newest one the current dispatcher started (wait for it after a restart).
        try:
            d.wait_for(lambda e: e.get("msg") == "helper ready" and e.get("Helper") == victim, 60)
        except AssertionError:
            if d.proc.poll() is not None:
                return  # the dispatcher went away meanwhile (and its helpers with it)
            raise
        pid = d.helper_pids().get(victim)
        with self.lock:
            if d is not self.env.disp or d.proc.poll() is not None:
                return
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            self.kills[victim] += 1
        # The next kill of it waits for the restarted one (a real kill needs a live process).
        try:
            d.wait_for(lambda e: e.get("msg") == "helper ready" and e.get("Helper") == victim
                       and e.get("HelperPID") != pid, 60)
        except AssertionError:
            if d.proc.poll() is None:
                raise

    def cutter(self):
        for mark in self.thresholds(self.a.cuts):
            if not self.wait_progress(mark):
                return
            workers = [w for w in self.env.watcher.workers() if w.running]
            if not workers:
                continue
            w = self.rng.choice(workers)
            secs = self.rng.uniform(2, self.a.max_cut)
            try:
                w.freeze(sessions=True)
                self.cuts += 1
                self.stop.wait(secs)
            finally:
                w.thaw()

    def watch_dispatcher(self):
        """A dispatcher that exits by itself is started again after RestartSec=1, as systemd
        does (packaging/arvados-dispatch-cloud.service); each such exit is reported."""
        while not self.stop.is_set():
            with self.lock:
                d = self.env.disp
                rc = d.proc.poll()
                if rc is not None:
                    tail = d.log_text().splitlines()[-20:]
                    self.unexpected_exits.append({"time": time.time(), "status": rc, "log_tail": tail})
            if rc is not None:
                self.stop.wait(1)
                with self.lock:
                    self.start_dispatcher()
            self.stop.wait(0.3)

    # ---- the run -----------------------------------------------------------------------

    def records(self):
        # The suite's own look at the fake API server: on a loaded machine the fake (which
        # serves the dispatcher and every stub crunch-run too) can take longer than the
        # control client's 10 s, which is no finding about the product: look again.
        for attempt in range(6):
            try:
                return {c["uuid"]: c for c in self.env.arv.ctl("GET", "containers")["items"]}
            except (TimeoutError, ConnectionError) as e:
                if attempt == 5:
                    raise
                print("fault suite: reading the fake API server's records: %r, again" % e, flush=True)
                time.sleep(2)

    def run(self):
        t0 = time.monotonic()
        self.setup()
        self.start_dispatcher()
        threads = [threading.Thread(target=f, daemon=True) for f in (self.killer, self.cutter, self.watch_dispatcher)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + self.a.guard
        final = {}
        while time.monotonic() < deadline:
            recs = self.records()
            final = {u: recs[u]["state"] for u in self.uuids if recs[u]["state"] in e2e_env.FINAL}
            self.n_final = len(final)
            if len(final) == len(self.uuids):
                break
            # Each look reads every record: spare the fake API server the dispatcher talks to.
            time.sleep(max(0.5, len(self.uuids) / 250))
        t_final = time.monotonic() - t0
        self.stop.set()
        for t in threads:
            t.join(120)
        # The dispatcher keeps running (with the fakes' faults still on): once the queue is
        # empty every instance must go after TimeoutIdle (3 s) + TimeoutShutdown.
        live_deadline = time.monotonic() + self.a.idle_guard
        while time.monotonic() < live_deadline and self.env.ec2.live():
            time.sleep(0.5)
        leaked = [i["id"] for i in self.env.ec2.live()]
        return self.report(final, leaked, t_final, time.monotonic() - t0)

    def report(self, final, leaked, t_final, t_all):
        recs = self.records()
        trans = self.env.arv.ctl("GET", "transitions")["items"]
        running = {}
        for t in trans:
            if t["from"] == "Locked" and t["to"] == "Running":
                running[t["uuid"]] = running.get(t["uuid"], 0) + 1
        # Copies of the fake container that really ran (their PUT Running was accepted), over
        # every worker: a second copy's PUT is a no-op Running->Running in the API.
        ran, started = {}, self.env.watcher.started_counts()
        for w in self.env.watcher.workers():
            for e in w.events():
                if e.get("event") == "api" and e["attrs"].get("state") == "Running":
                    ran[e["uuid"]] = ran.get(e["uuid"], 0) + 1
        lost = [u for u in self.uuids if u not in final]
        cancelled = [u for u in self.uuids if recs[u]["state"] == "Cancelled"]
        twice = sorted(u for u in self.uuids if running.get(u, 0) > 1 or ran.get(u, 0) > 1)
        never = [u for u in self.uuids if recs[u]["state"] == "Complete" and running.get(u, 0) != 1]
        api_faults = {k: 0 for _, k in self.api_rules.items()}
        for r in self.env.arv.ctl("GET", "faults")["items"]:
            api_faults[self.api_rules[r["id"]]] += r["fired"]
        ec2 = self.env.ec2.ctl("GET", "faults")
        ec2_faults = {k: f["fired"] for k, f in zip(self.ec2_rules, ec2["faults"])}
        api_calls = sum(self.env.arv.ctl("GET", "log/count")["routes"].values())
        reqs = self.env.ec2.ctl("GET", "requests")
        ec2_calls = len(reqs["requests"] if isinstance(reqs, dict) else reqs)
        rows = [("seed", self.a.seed), ("containers", len(self.uuids))]
        rows += [("kills of %s" % p, self.kills[p]) for p in PROCESSES]
        rows += [("dispatcher exits not caused by a kill", len(self.unexpected_exits)),
                 ("worker network cuts", self.cuts), ("API calls", api_calls)]
        rows += [("  faults: %s" % k, v) for k, v in api_faults.items()]
        rows += [("EC2 calls", ec2_calls)]
        rows += [("  faults: %s" % k, v) for k, v in ec2_faults.items()]
        rows += [("lost (not final%s)" % (" when the guard expired" if lost else ""), len(lost)), ("cancelled", len(cancelled)),
                 ("run twice", len(twice)), ("Complete without one Locked->Running", len(never)),
                 ("started on a worker more than once (killed before Running)",
                  sum(1 for u in self.uuids if started.get(u, 0) > 1 and u not in twice)),
                 ("instances leaked", len(leaked)),
                 ("instances created", len(self.env.ec2.instances())),
                 ("wall time, all final (s)", "%.0f" % t_final), ("wall time, total (s)", "%.0f" % t_all)]
        w = max(len(k) for k, _ in rows)
        print("| %-*s | %s |" % (w, "fault suite", "figure"))
        print("|%s|---:|" % ("-" * (w + 2)))
        for k, v in rows:
            print("| %-*s | %s |" % (w, k, v))
        bad = {"lost": lost, "cancelled": cancelled, "run twice": twice, "no single Locked->Running": never,
               "leaked": leaked, "harness errors": self.errors + self.env.watcher.errors,
               "unexpected dispatcher exits": self.unexpected_exits}
        failed = {k: v for k, v in bad.items() if v}
        if failed:
            print("FAILED (seed %d): %s" % (self.a.seed, json.dumps(failed, indent=1)[:20000]))
            for u in (lost + cancelled + twice + never)[:5]:
                print(u, json.dumps(recs[u].get("runtime_status")), [t for t in trans if t["uuid"] == u])
        self.save_logs()
        return not failed

    def save_logs(self):
        d = self.a.log_dir
        if not d:
            return
        os.makedirs(d, exist_ok=True)
        for i, disp in enumerate(self.dispatchers):
            with open(os.path.join(d, "dispatcher-%03d.log" % i), "w") as f:
                f.write(disp.log_text() + "\n")
        print("dispatcher logs in %s" % d)

    def close(self):
        if self.env is not None:
            self.env.stop()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--containers", type=int, default=20)
    p.add_argument("--kills", type=int, default=5, help="SIGKILLs, each of a random one of the three processes")
    p.add_argument("--fault-rate", type=float, default=0.1, help="fraction of API and of EC2 calls that fail")
    p.add_argument("--cuts", type=int, default=None, help="worker network cuts (default: kills/2, at least 1)")
    p.add_argument("--max-cut", type=float, default=6.0, help="longest cut, s (under TimeoutProbe, 10 s)")
    p.add_argument("--max-duration", type=float, default=3.0, help="longest fake container, s")
    p.add_argument("--max-instances", type=int, default=4)
    p.add_argument("--seed", type=int, default=None, help="replay a run (default: a new random seed)")
    p.add_argument("--guard", type=float, default=None, help="give up waiting for every container, s")
    p.add_argument("--idle-guard", type=float, default=120.0, help="give up waiting for no instance, s")
    p.add_argument("--log-dir", default=os.environ.get("ADC_FAULT_LOG_DIR"),
                   help="keep every dispatcher's log here")
    a = p.parse_args(argv)
    if os.geteuid() != 0:
        print("fault suite: needs root (the sshd rig)")
        return 77
    if a.seed is None:
        a.seed = random.SystemRandom().getrandbits(31)
    if a.cuts is None:
        a.cuts = max(1, a.kills // 2)
    if a.guard is None:
        a.guard = 300 + 3 * a.containers
    print("fault suite seed: %d (replay: %s --seed %d --containers %d --kills %d --fault-rate %g)" % (
        a.seed, sys.argv[0], a.seed, a.containers, a.kills, a.fault_rate), flush=True)
    run = FaultRun(a)
    try:
        ok = run.run()
    finally:
        run.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
