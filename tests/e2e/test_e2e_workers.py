"""End to end, worker life (issue 6): hold, drain and kill through the management API; a
broken worker drained and replaced; the runner deployed with DeployRunnerBinary. The real
executables against fake Arvados, fake EC2 and OpenSSH rig workers. Each scenario ends with
every container final exactly once and no instance left after TimeoutIdle."""
import hashlib
import json
import os
import stat
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_env  # noqa: E402

WHOLE = {"vcpus": 3, "ram": 256 << 20}   # one container per m4 instance (4 VCPUs)
TIMEOUT_IDLE = 3.0                      # e2e_env's TimeoutIdle


class WorkersTest(e2e_env.E2ECase):
    def instance_of(self, uuids):
        """uuid -> instance id from the management API, once every uuid is on an instance."""
        def seen():
            out = {}
            for iid, v in self.env.mgmt_instances().items():
                for u in v["running_container_uuids"] or []:
                    out[u] = iid
            return out if set(uuids) <= set(out) else None
        return self.env.wait(seen, 60, "containers on instances in the management API")

    def live_ids(self):
        return {i["id"] for i in self.env.ec2.live()}

    def test_hold_drain_kill_via_management_api(self):
        """Three instances, each running one container. hold A: its container completes, A stays
        idle past TimeoutIdle and gets no new work; drain B: its container completes and B shuts
        down; kill C: destroyed at once, its Running container cancelled (spec 7.2). run A: A
        shuts down."""
        cfg = {"duration": 6, "arvados": True}
        self.start(crunch_cfg=cfg)
        a, b, c = self.env.create(3, runtime_constraints=WHOLE)
        # c is killed with its instance: long enough that it cannot complete first.
        self.env.watcher.set_crunch_cfg(dict(cfg, containers={c: {"duration": 60}}))
        self.env.wait(lambda: all(r["state"] == "Running" for r in self.env.records([a, b, c]).values()),
                      60, "three containers running")
        where = self.instance_of([a, b, c])
        ia, ib, ic = where[a], where[b], where[c]
        self.assertEqual(len({ia, ib, ic}), 3)

        self.assertEqual(self.env.mgmt("POST", "instances/hold")[0], 400)
        st, body = self.env.mgmt("POST", "instances/hold", instance_id="i-00000000000000000")
        self.assertEqual((st, json.loads(body)), (404, {"errors": ["requested instance does not exist"]}))
        self.assertEqual(self.env.mgmt("POST", "instances/hold", instance_id=ia)[0], 200)
        self.assertEqual(self.env.mgmt("POST", "instances/drain", instance_id=ib)[0], 200)
        self.assertEqual(self.env.mgmt("POST", "instances/kill", instance_id=ic, reason="e2e")[0], 200)
        views = self.env.mgmt_instances()
        self.assertEqual(views[ia]["idle_behavior"], "hold")
        self.assertEqual(views[ib]["idle_behavior"], "drain")
        self.assertEqual(views.get(ic, {"worker_state": "shutdown"})["worker_state"], "shutdown")

        recs = self.wait_final([a, b, c], 60)
        self.assertEqual([recs[u]["state"] for u in (a, b, c)], ["Complete", "Complete", "Cancelled"])
        self.env.wait(lambda: ib not in self.live_ids() and ic not in self.live_ids(), 30,
                      "drained and killed instances destroyed")
        # A is held: idle, and still there after TimeoutIdle and a few probes.
        self.env.wait(lambda: self.env.mgmt_instances()[ia]["worker_state"] == "idle", 30, "held A idle")
        idle_since = time.monotonic()
        x, = self.env.create(1, runtime_constraints=WHOLE)
        self.env.watcher.set_crunch_cfg(dict(cfg, containers={c: {"duration": 60}, x: {"duration": 1}}))
        self.wait_final([x], 60)
        time.sleep(max(0.0, idle_since + TIMEOUT_IDLE + 2 - time.monotonic()))
        self.assertIn(ia, self.live_ids())
        v = self.env.mgmt_instances()[ia]
        self.assertEqual((v["worker_state"], v["idle_behavior"]), ("idle", "hold"))
        started = self.env.watcher.started_by_instance()
        self.assertEqual(started.get(ia), [a])       # no new work on a held instance
        self.assertEqual(started.get(ib), [b])       # nor on a drained one
        self.assertNotIn(x, started.get(ic, []))
        self.assertEqual(self.env.mgmt("POST", "instances/run", instance_id=ia)[0], 200)
        self.env.wait(lambda: ia not in self.live_ids(), 30, "A shut down once it may run again")
        self.check_final({a: "Complete", b: "Complete", c: "Cancelled", x: "Complete"})
        self.wait_no_instance()

    def test_broken_worker_drained_and_replaced(self):
        """The first container makes its worker report `broken` (spec 5.7.4, 5.14): the worker
        is drained (its container still completes), later containers go to a new instance, and
        the broken one is destroyed."""
        self.start(crunch_cfg={"duration": 6, "arvados": True})
        u1, = self.env.create(1)
        self.env.watcher.set_crunch_cfg({"duration": 6, "arvados": True,
                                         "containers": {u1: {"set_broken": True}}})
        _, e = self.env.disp.wait_for(lambda e: e.get("msg") == "probe reported broken instance", 60)
        broken = e["Instance"]
        self.assertEqual(self.env.mgmt_instances()[broken]["idle_behavior"], "drain")
        more = self.env.create(2)
        self.wait_final([u1] + more, 90)
        self.env.wait(lambda: broken not in self.live_ids(), 30, "broken instance destroyed")
        started = self.env.watcher.started_by_instance()
        self.assertEqual(started.get(broken), [u1])
        others = [u for iid, us in started.items() if iid != broken for u in us]
        self.assertEqual(sorted(others), sorted(more))
        self.check_final({u: "Complete" for u in [u1] + more})
        self.wait_no_instance()

    def test_deploy_runner_binary(self):
        """DeployRunnerBinary is the stub crunch-run file and the workers have no crunch-run on
        their PATH: every worker gets <DeployRunnerDirectory>/crunch-run~<md5>, mode 0755, the
        file's exact bytes, and runs every container with it."""
        stub = os.path.join(e2e_env.SRC, "tests", "rig", "stub-crunch-run")
        with open(stub, "rb") as f:
            data = f.read()
        md5 = hashlib.md5(data).hexdigest()
        self.start(deploy_runner=stub, path_runner=False)
        uuids = self.env.create(3)
        self.wait_final(uuids, 90)
        self.check_final({u: "Complete" for u in uuids})
        workers = self.env.watcher.workers()
        self.assertTrue(workers)
        for w in workers:
            self.assertFalse(os.path.lexists(w.path("bin", "crunch-run")))
            p = w.path("deploy", "crunch-run~" + md5)   # /tmp/arvados-crunch-run inside the worker
            st = os.stat(p)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o755)
            with open(p, "rb") as f:
                self.assertEqual(f.read(), data)
            self.assertTrue(any("--list" in i["argv"] for i in w.invocations()))
        self.wait_no_instance()


if __name__ == "__main__":
    e2e_env.main()  # the scenarios side by side
