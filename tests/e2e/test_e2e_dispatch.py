"""End to end: arvados-dispatch-cloud, cloudd and sshd-pool (the real executables) dispatch
containers from the fake Arvados API onto fake EC2 instances served by real OpenSSH workers.
Every scenario ends by checking that each container reached a final state exactly once and
that no instance is left."""
import json
import os
import signal
import subprocess
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_env  # noqa: E402

FINAL = e2e_env.FINAL


class E2ETest(e2e_env.E2ECase):
    def check_once(self, uuids, state="Complete"):
        """Each container final exactly once: its record, one finalising update in the API's
        request log, one fake container started for it over every worker."""
        recs = self.env.records(uuids)
        for u, r in recs.items():
            self.assertEqual(r["state"], state, u)
        log = self.env.arv.ctl("GET", "log?route=update")["items"]
        finals = {}
        for e in log:
            st = ((e.get("params") or {}).get("container") or {}).get("state")
            if e.get("status") == 200 and st in FINAL:
                finals[e["uuid"]] = finals.get(e["uuid"], 0) + 1
        started = self.env.watcher.started_counts()
        for u in uuids:
            if state == "Complete":
                self.assertEqual(finals.get(u), 1, "finalised %s times: %s" % (finals.get(u), u))
                self.assertEqual(started.get(u), 1, "started %s times: %s" % (started.get(u), u))
        self.assertEqual(self.env.watcher.errors, [])

    def test_20_containers_quota_4(self):
        """20 containers, MaxInstances 4: all complete, each run exactly once, and the fake
        cloud has no instance left after TimeoutIdle."""
        self.start()
        uuids = self.env.create(20)
        self.wait_final(uuids, 120)
        self.check_once(uuids)
        created = [i for i in self.env.ec2.instances()]
        self.assertLessEqual(len(created), 20)
        self.wait_no_instance()
        # Never more than 4 at once: the fake's request log has every RunInstances and
        # TerminateInstances; replay them. One TerminateInstances may name several instances
        # (the dispatcher batches the destroys of one pass), one RunInstances creates one.
        live = peak = 0
        reqs = self.env.ec2.ctl("GET", "requests")
        for r in reqs["requests"] if isinstance(reqs, dict) else reqs:
            if r.get("status") != 200:
                continue
            if r.get("action") == "RunInstances":
                live += 1
            elif r.get("action") == "TerminateInstances":
                live -= len(r["params"]["InstanceIds"])
            peak = max(peak, live)
        self.assertEqual(live, 0)  # every instance created was terminated: the count is right
        self.assertLessEqual(peak, 4)
        self.assertGreater(peak, 0)

    def test_unsatisfiable_is_cancelled(self):
        self.start()
        u, = self.env.create(1, runtime_constraints={"vcpus": 64, "ram": 1 << 30})
        ok, = self.env.create(1)
        recs = self.wait_final([u, ok], 60)
        self.assertEqual(recs[u]["state"], "Cancelled")
        self.assertEqual(recs[u]["runtime_status"].get("error"),
                         "constraints not satisfiable by any configured instance type")
        self.check_once([ok])
        self.wait_no_instance()

    def test_management_api_and_metrics(self):
        d = self.start()
        uuids = self.env.create(2, )
        port, tok = self.env.mgmt_port, "e2emanagementtoken0123456789"

        def get(path):
            req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                         headers={"Authorization": "Bearer " + tok})
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.read()

        def seen():
            items = [i for i in json.loads(get("/arvados/v1/dispatch/instances"))["items"] or []
                     if i["instance"]]  # pending creates have no id yet
            ctrs = json.loads(get("/arvados/v1/dispatch/containers"))["items"] or []
            return (items, ctrs) if items and {c["container"]["uuid"] for c in ctrs} >= set(uuids) else None
        items, ctrs = self.env.wait(seen, 60, "instances and containers in the management API")
        self.assertTrue(all(i["instance"].startswith("i-") for i in items))
        metrics = get("/metrics").decode()
        self.assertIn("arvados_dispatchcloud_instances_total", metrics)
        promtool = subprocess.run(["which", "promtool"], capture_output=True)
        if promtool.returncode == 0:
            r = subprocess.run(["promtool", "check", "metrics"], input=metrics.encode(),
                               capture_output=True)
            # The only findings allowed are the naming lints on the reference's own metric
            # names (spec 8: a drop-in replacement keeps them); anything else (a parse
            # error, a bad HELP/TYPE, a duplicate) fails.
            reference_names = {
                "arvados_dispatchcloud_boot_outcomes", "arvados_dispatchcloud_driver_operations",
                "arvados_dispatchcloud_instances_disappeared", "arvados_dispatchcloud_instances_total",
                "arvados_dispatchcloud_memory_bytes_total", "arvados_dispatchcloud_vcpus_total"}
            for line in (r.stdout + r.stderr).decode().splitlines():
                name, _, what = line.partition(" ")
                self.assertIn(name, reference_names, line)
                self.assertIn('"_total" suffix', what, line)
        self.wait_final(uuids, 60)
        self.check_once(uuids)
        self.wait_no_instance()
        self.assertIsNone(d.proc.poll())

    def test_sigkill_restart_adopts(self):
        """The dispatcher killed with SIGKILL mid-run and restarted adopts its instances and
        running containers: no double run, no lost container."""
        d = self.start(crunch_cfg={"duration": 6, "arvados": True})
        uuids = self.env.create(6)
        self.env.wait(lambda: sum(1 for r in self.env.records(uuids).values()
                                  if r["state"] == "Running") >= 2, 60, "containers running")
        d.proc.kill()
        d.proc.wait()
        # The helpers die with their parent (PR_SET_PDEATHSIG); start again.
        self.env.start_dispatcher()
        self.wait_final(uuids, 90)
        self.check_once(uuids)
        self.wait_no_instance()

    def test_kill_helpers_mid_run(self):
        """kill -9 of each helper mid-run: restarted, nothing lost; from inside the parent's
        own sandbox (docs/SANDBOX.md, "The parent"), whose policy each restart inherits."""
        d = self.start(crunch_cfg={"duration": 4, "arvados": True})
        with open("/proc/%d/status" % d.proc.pid) as f:
            st = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        self.assertEqual(st["Seccomp"].strip(), "2")
        self.assertEqual(st["NoNewPrivs"].strip(), "1")
        uuids = self.env.create(6)
        self.env.wait(lambda: any(r["state"] == "Running" for r in self.env.records(uuids).values()),
                      60, "a container running")
        for helper in ("cloudd", "sshd-pool"):
            pid = d.helper_pids().get(helper)
            self.assertIsNotNone(pid)
            os.kill(pid, signal.SIGKILL)
            d.wait_for(lambda e, h=helper, p=pid: e.get("msg") == "helper ready"
                       and e.get("Helper") == h and e.get("HelperPID") != p, 30)
        self.wait_final(uuids, 90)
        self.check_once(uuids)
        self.wait_no_instance()

    def test_never_booting_worker_is_destroyed(self):
        """No worker ever answers: each instance is destroyed after TimeoutBooting."""
        d = self.start(skip=("all",), timeout_booting="3s")
        u, = self.env.create(1)
        d.wait_for(lambda e: e.get("msg", "").startswith("new instance unresponsive"), 60)
        self.env.wait(lambda: any(i["state"] in ("terminated", "shutting-down")
                                  for i in self.env.ec2.instances()), 30, "an instance destroyed")
        self.env.arv.ctl("POST", "containers/%s/state" % u, {"state": "Cancelled"})
        self.wait_no_instance()
        self.assertEqual(self.env.watcher.started_counts(), {})

    def test_sigterm_stops_quickly_and_leaves_everything(self):
        d = self.start(crunch_cfg={"duration": 30, "arvados": True})
        uuids = self.env.create(1)
        self.env.wait(lambda: self.env.records(uuids)[uuids[0]]["state"] == "Running", 60, "running")
        t0 = time.monotonic()
        d.proc.send_signal(signal.SIGTERM)
        d.proc.wait(10)
        self.assertEqual(d.proc.returncode, 0)
        self.assertLess(time.monotonic() - t0, 5)  # 2 s target; a loose bound, not a figure
        self.assertEqual(len(self.env.ec2.live()), 1)  # no instance destroyed
        self.assertEqual(self.env.records(uuids)[uuids[0]]["state"], "Running")  # nor unlocked


if __name__ == "__main__":
    e2e_env.main()  # the scenarios side by side
