"""End to end, the spot to on-demand fallback (-spot-fallback-price-factor, an addition;
docs/SCHEDULER.md): real executables, fake Arvados, fake EC2, OpenSSH rig workers.

SpotFallbackE2E  one on-demand type b1 ($0.10) and its preemptible twin b1.preemptible ($0.05,
                 PreemptiblePriceFactor 0.5); the fake EC2 answers InsufficientInstanceCapacity
                 to every spot RunInstances. A preemptible container: one spot create refused,
                 then an on-demand b1 created (no InstanceMarketOptions), the container Complete
                 on that instance, its scheduling_status in the management API saying it fell
                 back and why, and the dispatcher's log line. -spot-fallback-after-attempts is
                 given too (not reached), so the list calls select lock_count against the fake. The on-demand
                 RunInstances is delayed 3 s (a fault without a code) so that the waiting
                 status is seen.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_env  # noqa: E402

ONE_CPU = """      b1:
        ProviderType: t3.small
        VCPUs: 1
        RAM: 2GiB
        IncludedScratch: 10GB
        Price: 0.1
"""

FELL_BACK = ("Waiting for a b1 instance to boot and be ready to accept work.  Fell back from "
             "preemptible to non-preemptible instance types because every eligible preemptible "
             "instance type (b1.preemptible) is at capacity.")


class SpotFallbackE2E(e2e_env.E2ECase):
    def test_spot_at_capacity_runs_on_demand(self):
        self.env = e2e_env.E2E(itypes=ONE_CPU, crunch_cfg={"duration": 2, "arvados": True},
                               extra_containers="      PreemptiblePriceFactor: 0.5\n")
        self.env.ec2.ctl("POST", "faults", {"action": "RunInstances", "market": "spot",
                                            "code": "InsufficientInstanceCapacity", "count": -1})
        # The on-demand create takes 3 s, so that the waiting status is there to be seen.
        self.env.ec2.ctl("POST", "faults", {"action": "RunInstances", "market": "on-demand",
                                            "delay": 3})
        d = self.env.start_dispatcher(args=("-spot-fallback-price-factor", "3",
                                            "-spot-fallback-after-attempts", "5"))
        d.wait_for(lambda e: e.get("msg") == "listening", 30)
        [uuid] = self.env.create(1, scheduling_parameters={"preemptible": True})
        seen = set()

        def done():
            st, body = self.env.mgmt("GET", "containers")
            for c in (json.loads(body)["items"] or []) if st == 200 else []:
                seen.add(c["scheduling_status"])
            return self.env.records([uuid])[uuid]["state"] in e2e_env.FINAL
        self.env.wait(done, 90, "the container final")
        self.check_final({uuid: "Complete"})
        self.assertIn(FELL_BACK, seen)
        runs = self.ec2_requests("RunInstances")
        spot = [r for r in runs if (r["params"].get("InstanceMarketOptions") or {}).get("MarketType") == "spot"]
        ondemand = [r for r in runs if not r["params"].get("InstanceMarketOptions")]
        self.assertTrue(spot)
        self.assertTrue(all(r["code"] == "InsufficientInstanceCapacity" for r in spot), spot)
        self.assertEqual([(r["status"], r["params"]["InstanceType"]) for r in ondemand],
                         [(200, "t3.small")])
        # It ran on that on-demand instance.
        [iid] = [i for i, us in self.env.watcher.started_by_instance().items() if uuid in us]
        inst = [i for i in self.env.ec2.instances() if i["id"] == iid]
        self.assertEqual([(i["instance_type"], i["lifecycle"]) for i in inst], [("t3.small", None)])
        fell = self.log_entries("falling back from preemptible to non-preemptible instance types")
        self.assertEqual([(e.get("ContainerUUID"), e.get("Reason")) for e in fell],
                         [(uuid, "every eligible preemptible instance type is at capacity")])
        # With -spot-fallback-after-attempts the list calls select lock_count too.
        lists = self.env.arv.ctl("GET", "log?route=list")["items"]
        self.assertTrue(lists)
        self.assertTrue(all("lock_count" in e["params"]["select"] for e in lists),
                        [e["params"].get("select") for e in lists])
        self.wait_no_instance()


if __name__ == "__main__":
    unittest.main(verbosity=2)
