"""The restart double-run case of docs/SCHEDULER.md ("Restart safety"), made deterministic.

A container is Locked and started on worker W, but its crunch-run is slow to move it to
Running (the stub's running_delay). The dispatcher is killed with SIGKILL and W is frozen
(every process of the VM SIGSTOPped) across the restart, so the new dispatcher adopts W as an
`unknown` worker that cannot be probed. A dispatcher that trusted the lock alone would unlock
the container when StaleLockTimeout passes, or start it on another worker at its first pass:
the container would then run twice once W is thawed. The product must leave it alone until W
has been probed; then it finds the container on W, and the container runs exactly once.

Real executables, the fake API server and fake EC2, real OpenSSH workers (tests/e2e's harness).
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import e2e_env  # noqa: E402


WHOLE = {"vcpus": 3, "ram": 256 << 20}   # one container per instance (4 VCPUs)


class RestartDoubleRun(e2e_env.E2ECase):
    def started_on(self, uuid):
        """The rig workers on which a fake container for uuid was started."""
        return [w for w in self.env.watcher.workers()
                if any(e.get("event") == "started" and e["uuid"] == uuid for e in w.events())]

    def instance_at(self, w):
        return self.env.watcher.by_ip.get(w.address, (None,))[0]

    def test_locked_on_frozen_worker_across_restart(self):
        # u runs on W, slow to reach Running; v runs briefly on B, which then stays idle
        # (TimeoutIdle 60 s): after the restart B is a probed idle worker where a wrong
        # dispatcher would start u. TimeoutBooting is long enough that the frozen, unprobed W
        # is not shut down while frozen (that would end u legitimately). StaleLockTimeout: 5 s.
        d = self.start(crunch_cfg={"duration": 2, "arvados": True}, timeout_booting="90s",
                       timeout_idle="60s")
        u, v = self.env.create(2, runtime_constraints=WHOLE)
        self.env.watcher.set_crunch_cfg({"duration": 2, "arvados": True, "containers": {
            u: {"running_delay": 12}, v: {"duration": 0.5}}})
        w, = self.env.wait(lambda: self.started_on(u), 60, "u started on a worker")
        b, = self.env.wait(lambda: self.started_on(v), 60, "v started on a worker")
        self.assertIsNot(w, b)
        ib = self.instance_at(b)
        self.env.wait(lambda: self.env.records([v])[v]["state"] == "Complete" and
                      self.env.mgmt_instances()[ib]["worker_state"] == "idle", 60, "B idle")
        d.proc.kill()
        d.proc.wait()
        w.freeze_vm()
        try:
            # The scenario holds only if Running was still to come when W froze.
            self.assertEqual(self.env.records([u])[u]["state"], "Locked")
            d = self.env.start_dispatcher()
            d.wait_for(lambda e: e.get("msg") == "FixStaleLocks finished, starting scheduling.", 60)
            # Scheduling has begun with W unknown and B probed and idle. A wrong dispatcher has
            # unlocked u by now (stale lock), or starts it on B at its next pass.
            self.env.wait(lambda: self.env.mgmt_instances().get(ib, {}).get("worker_state") == "idle",
                          60, "B idle after the restart")
            time.sleep(3)  # 3 PollIntervals with B idle: passes that must leave u alone
            self.assertEqual(self.started_on(u), [w], "u started on another worker while W was unknown")
            rec = self.env.records([u])[u]
            self.assertEqual((rec["state"], rec["lock_count"]), ("Locked", 1),
                             "u was unlocked or relocked while its worker was unknown")
        finally:
            w.thaw()
        self.wait_final([u], 90)
        self.check_final({u: "Complete", v: "Complete"})
        trans = self.env.arv.ctl("GET", "transitions?uuid=" + u)["items"]
        self.assertEqual([(t["from"], t["to"]) for t in trans],
                         [("Queued", "Locked"), ("Locked", "Running"), ("Running", "Complete")])
        for iid in self.env.mgmt_instances():  # no need to wait for TimeoutIdle (60 s here)
            self.assertEqual(self.env.mgmt("POST", "instances/drain", instance_id=iid)[0], 200)
        self.wait_no_instance()


if __name__ == "__main__":
    unittest.main(verbosity=2)
