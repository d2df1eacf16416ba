"""End to end, spot interruption notices (-spot-interruption-notices, an addition;
docs/POOL.md and docs/SCHEDULER.md "Spot interruption notices"): real executables, fake
Arvados, fake EC2 serving each instance's IMDSv2 (ec2_imds.py) on its private IP, OpenSSH rig
workers that reach their own instance's metadata at one URL (-instance-metadata-url
http://imds.adc.test:PORT; each worker's /etc/hosts gives that name its own address).

SpotNoticeE2E  One preemptible container runs on instance A; the run probe reads A's
               instance-action (404, with a token: the fake refuses a GET without one). The
               fake gives A a notice: the dispatcher logs it once with INSTANCE_ID, counts it,
               shows it in the management API, drains A, and creates a replacement B while A
               still runs (the fake's RunInstances log). A second container, which would fit
               beside the first on A, runs on another instance. Then A is reclaimed
               (Server.SpotInstanceTermination): its container is cancelled, the second
               completes, and no instance is left.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_env  # noqa: E402

SPOT4 = """      spot4:
        ProviderType: t3.xlarge
        VCPUs: 4
        RAM: 16GiB
        IncludedScratch: 100GB
        Price: 0.2
        Preemptible: true
"""
NOTICE_MSG = e2e_env.E2ECase.SPOT_NOTICE_MSG
COUNTER_RE = e2e_env.E2ECase.SPOT_COUNTER_RE


class SpotNoticeE2E(e2e_env.E2ECase):
    def run_instances_ok(self):
        return [e for e in self.ec2_requests("RunInstances") if e.get("status") == 200]

    def imds_requests(self, iid):
        return [r for r in self.env.ec2.ctl("GET", "imds")["requests"] if r["instance"] == iid]

    def state_of(self, iid):
        return next(i["state"] for i in self.env.ec2.instances() if i["id"] == iid)

    def test_notice_drains_and_replaces(self):
        self.env = e2e_env.E2E(itypes=SPOT4, imds=True, crunch_cfg={"duration": 600, "arvados": True})
        d = self.env.start_dispatcher(args=("-spot-interruption-notices",
                                            "-instance-metadata-url", self.env.imds_url))
        d.wait_for(lambda e: e.get("msg") == "listening", 30)
        first, = self.env.create(1, scheduling_parameters={"preemptible": True})
        a = self.wait_running_on(first)
        # The probe reads A's notice the IMDSv2 way: a token, then the GET with it (404: none).
        self.env.wait(lambda: any(r["method"] == "GET" and r["path"] == "/latest/meta-data/spot/instance-action"
                                  and r["status"] == 404 for r in self.imds_requests(a)),
                      30, "a spot check of A answered 404")
        self.assertTrue(all(r["status"] != 401 for r in self.imds_requests(a)), self.imds_requests(a))
        self.assertEqual(len(self.run_instances_ok()), 1)

        self.env.ec2.ctl("POST", "instances/%s/instance-action" % a,
                         {"action": "terminate", "time": "2026-12-06T12:00:00Z"})
        d.wait_for(lambda e: e.get("msg") == NOTICE_MSG and e.get("Instance") == a, 30)
        # The replacement, created while A still runs its container.
        self.env.wait(lambda: len(self.run_instances_ok()) >= 2, 30, "the replacement's RunInstances")
        self.assertEqual(self.state_of(a), "running")
        b_ids = {i["id"] for i in self.env.ec2.instances()} - {a}
        self.assertEqual(len(b_ids), 1, b_ids)
        notice = self.check_notice_view(a, first)
        self.assertEqual((notice["action"], notice["time"]), ("terminate", "2026-12-06T12:00:00Z"))
        self.assertNotIn("spot_interruption", self.env.mgmt_instances().get(next(iter(b_ids)), {}))

        # A second container would fit beside the first on A (4 VCPUs): it must go elsewhere.
        second = self.check_second_goes_elsewhere(a, first)

        # The cloud reclaims A; its container is cancelled (4.4), nothing is left behind.
        self.env.ec2.ctl("POST", "instances/%s/state" % a,
                         {"state": "terminated", "reason_code": "Server.SpotInstanceTermination"})
        self.wait_final([first, second], 90)
        self.check_final({first: "Cancelled", second: "Complete"})
        notices = [e for e in self.log_entries(NOTICE_MSG)]
        self.assertEqual(len(notices), 1, notices)
        self.assertEqual((notices[0].get("Action"), notices[0].get("Time")),
                         ("terminate", "2026-12-06T12:00:00Z"))
        text = self.env.metrics_text()
        self.assertEqual(dict(COUNTER_RE.findall(text)),
                         {"terminate": "1", "stop": "0", "hibernate": "0", "other": "0"})
        if subprocess.run(["which", "promtool"], capture_output=True).returncode == 0:
            r = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True)
            # 3: lint findings only (as test_e2e_dispatch: the reference's own names); 1 would be
            # a parse error.
            self.assertIn(r.returncode, (0, 3), r.stdout + r.stderr)
            self.assertNotIn(b"spot_interruptions", r.stdout + r.stderr)
        self.wait_no_instance()


if __name__ == "__main__":
    e2e_env.main()
