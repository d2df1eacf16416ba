"""End to end, the dead-man's switch (-deadman-timeout, an addition; docs/POOL.md): real
executables, fake Arvados, fake EC2, OpenSSH rig workers that run their user data as
cloud-init would (so the watchdog the init command installs really runs on them), and whose
poweroff is a guest-initiated shutdown for the fake EC2.

DeadmanE2E  -deadman-timeout 6s (ProbeInterval 1s: the watchdog checks every second), two
            one-VCPU containers on two one-VCPU instances, TimeoutIdle 10m so that only the
            watchdog can end a VM:
            * heartbeat continues: with the dispatcher alive, the idle VM's watchdog checks for
              more than twice the timeout, every check finds the heartbeat fresh, nothing is
              powered off;
            * heartbeat stops (the dispatcher is killed and not restarted): the idle VM powers
              itself off and EC2 terminates it (RunInstances sent
              InstanceInitiatedShutdownBehavior=terminate), StateReason
              Client.InstanceInitiatedShutdown;
            * the VM whose fake container (the stub crunch-run's child, holding its lock) is
              alive reports "busy" and stays up however stale its heartbeat, and powers off
              only after the test kills that container.
"""
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_env  # noqa: E402

ONE_CPU = """      d1:
        ProviderType: t3.small
        VCPUs: 1
        RAM: 2GiB
        IncludedScratch: 10GB
        Price: 0.1
"""
TIMEOUT = 6  # seconds; the watchdog's period is a fifth of it, at least 1 s


def watchdog_state(w):
    """The worker's /var/run/arvados-deadman.state, parsed, or None before the first check."""
    try:
        with open(w.path("run", "arvados-deadman.state")) as f:
            return dict(kv.split("=", 1) for kv in f.read().split())
    except FileNotFoundError:
        return None


class DeadmanE2E(e2e_env.E2ECase):
    def instance(self, iid):
        return self.env.ec2.ctl("GET", "instances/" + iid)

    def test_heartbeat_stops(self):
        env = self.env = e2e_env.E2E(itypes=ONE_CPU, max_instances=2, timeout_idle="10m")
        short, long_ = env.create(2, runtime_constraints={"vcpus": 1, "ram": 256 << 20})
        # Created before the dispatcher starts, so every VM's stub knows both containers.
        env.watcher.set_crunch_cfg({"duration": 1, "arvados": True,
                                    "containers": {long_: {"duration": 600}}})
        d = env.start_dispatcher(args=("-deadman-timeout", "%ds" % TIMEOUT))
        d.wait_for(lambda e: e.get("msg") == "listening", 30)

        def placed():
            by = env.watcher.started_by_instance()
            where = {u: i for i, us in by.items() for u in us}
            done = env.records([short])[short]["state"] == "Complete"
            return where if done and long_ in where and short in where else None
        where = env.wait(placed, 120, "both containers started, the short one Complete")
        idle_iid, busy_iid = where[short], where[long_]
        self.assertNotEqual(idle_iid, busy_iid)
        workers = {iid: w for iid, w in env.watcher.by_ip.values()}
        w_idle, w_busy = workers[idle_iid], workers[busy_iid]
        for iid in (idle_iid, busy_iid):
            rc, out, err = env.watcher.init_results[iid]
            self.assertEqual(rc, 0, (out, err))
            self.assertEqual(self.instance(iid)["shutdown_behavior"], "terminate")

        # Heartbeat continues: checks spanning twice the timeout, each one fresh.
        def long_alive():
            st = watchdog_state(w_idle)
            if st is None:
                return False
            self.assertEqual(st["result"], "fresh", st)
            self.assertLess(int(st["heartbeat_age"]), TIMEOUT, st)
            return int(st["checks"]) >= 2 * TIMEOUT
        env.wait(long_alive, 120, "the idle VM's watchdog: checks over twice the timeout")
        for iid, w in ((idle_iid, w_idle), (busy_iid, w_busy)):
            self.assertIsNone(w.powered_off(), iid)
            self.assertEqual(self.instance(iid)["state"], "running", iid)

        # Heartbeat stops: the dispatcher is gone for good.
        d.stop(signal.SIGKILL)

        def terminated(iid):
            i = self.instance(iid)
            return i if i["state"] == "terminated" else None
        gone = env.wait(lambda: terminated(idle_iid), 60, "the idle VM powered off and terminated")
        self.assertEqual(gone["view"]["StateReason"]["Code"], "Client.InstanceInitiatedShutdown")
        self.assertIsNotNone(w_idle.powered_off())

        # The busy VM: stale heartbeat, live crunch-run: "busy" at two checks, still up.
        seen = []

        def busy_twice():
            st = watchdog_state(w_busy)
            if st and st["result"] == "busy" and st["checks"] not in seen:
                seen.append(st["checks"])
                self.assertGreaterEqual(int(st["heartbeat_age"]), TIMEOUT, st)
            return len(seen) >= 2
        env.wait(busy_twice, 60, "the busy VM's watchdog: stale heartbeat, crunch-run alive")
        self.assertIsNone(w_busy.powered_off())
        self.assertEqual(self.instance(busy_iid)["state"], "running")
        self.assertNotIn("exited", [e["event"] for e in w_busy.events() if e.get("uuid") == long_])

        # The container ends (killed here: its lock is released): now the VM powers off.
        with open(os.path.join(w_busy.lock_dir, "crunch-run-%s.lock" % long_)) as f:
            pid = json.loads(f.read().splitlines()[0])["PID"]
        killed = time.time()
        os.kill(pid, signal.SIGKILL)
        gone = env.wait(lambda: terminated(busy_iid), 60, "the busy VM powered off once its container ended")
        self.assertEqual(gone["view"]["StateReason"]["Code"], "Client.InstanceInitiatedShutdown")
        self.assertGreaterEqual(w_busy.powered_off(), killed)


if __name__ == "__main__":
    unittest.main(verbosity=2)
