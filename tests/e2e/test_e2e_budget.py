"""End to end, the budget cap (-max-hourly-spend, an addition; docs/SCHEDULER.md): real
executables, fake Arvados, fake EC2, OpenSSH rig workers.

BudgetCapE2E  MaxInstances 8, a cap of two instances' price, four containers that each need an
              instance of their own: at no point does the fake EC2 hold more than two instances
              (counted from its request log: successful RunInstances minus the distinct ids
              successfully terminated before each one); all four complete; the two waiting
              ones show the budget status in the management API; the two gauges show spend
              and cap, the spend never above the cap.
"""
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_env  # noqa: E402

# One VCPU each: a container of 1 VCPU fills an instance.
ONE_CPU = """      b1:
        ProviderType: t3.small
        VCPUs: 1
        RAM: 2GiB
        IncludedScratch: 10GB
        Price: 0.1
"""

SPEND = "arvados_dispatchcloud_hourly_spend_dollars"
CAP = "arvados_dispatchcloud_hourly_spend_cap_dollars"
GAUGE_RE = re.compile(r"^(arvados_dispatchcloud_hourly_spend(?:_cap)?_dollars) (\S+)$", re.M)


class BudgetCapE2E(e2e_env.E2ECase):
    def metrics(self):
        return {k: float(v) for k, v in GAUGE_RE.findall(self.env.metrics_text())}

    def max_live_instances(self):
        launched, gone, most = 0, set(), 0
        for e in sorted(self.ec2_requests(), key=lambda e: e["seq"]):
            if e.get("status") != 200:
                continue
            if e.get("action") == "RunInstances":
                launched += 1
                most = max(most, launched - len(gone))
            elif e.get("action") == "TerminateInstances":
                ids = e["params"].get("InstanceIds") or []
                gone.update([ids] if isinstance(ids, str) else ids)
        return most, launched

    def test_cap_two_instances(self):
        self.env = e2e_env.E2E(itypes=ONE_CPU, max_instances=8,
                               crunch_cfg={"duration": 4, "arvados": True})
        d = self.env.start_dispatcher(args=("-max-hourly-spend", "0.2"))
        d.wait_for(lambda e: e.get("msg") == "listening", 30)
        uuids = self.env.create(4, runtime_constraints={"vcpus": 1, "ram": 256 << 20})
        seen = {"budget": set(), "spend": []}

        def done():
            st, body = self.env.mgmt("GET", "containers")
            for c in (json.loads(body)["items"] or []) if st == 200 else []:
                if c["scheduling_status"].startswith("Waiting for budget: hourly spend $"):
                    self.assertRegex(c["scheduling_status"],
                                     r"^Waiting for budget: hourly spend \$0\.\d+ of cap \$0\.20\.  "
                                     r"Cluster is at its hourly spend cap and cannot start any "
                                     r"new instances right now\.$")
                    seen["budget"].add(c["container"]["uuid"])
            m = self.metrics()
            self.assertEqual(m.get(CAP), 0.2)
            seen["spend"].append(m.get(SPEND))
            recs = self.env.records(uuids)
            return all(r["state"] in e2e_env.FINAL for r in recs.values())
        self.env.wait(done, 150, "every container final")
        self.check_final({u: "Complete" for u in uuids})
        most, launched = self.max_live_instances()
        self.assertLessEqual(most, 2)
        self.assertGreaterEqual(launched, 2)
        # Two had to wait for the budget (status seen in the management API).
        self.assertGreaterEqual(len(seen["budget"]), 2, seen["budget"])
        self.assertTrue(all(s is not None and s <= 0.2 + 1e-9 for s in seen["spend"]), seen["spend"])
        self.assertIn(0.2, [round(s, 6) for s in seen["spend"]])
        self.wait_no_instance()


if __name__ == "__main__":
    unittest.main(verbosity=2)
