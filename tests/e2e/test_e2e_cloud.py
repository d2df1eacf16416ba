"""End to end, what the dispatcher learns from cloudd beyond the pool's calls (real
executables, fake Arvados, fake EC2, OpenSSH rig workers):

QuotaGroupE2E  a capacity error the driver marks quota-group specific (VcpuLimitExceeded,
               cloud-drivers.md 2.6) holds creates for every type of that group (spec 5.5,
               cloud-drivers.md 2.9) and only those; and the EC2 metrics of spec 8
               (ec2_instance_starts_total{subnet_id,success}, ec2_instances{subnet_id}) on the
               live /metrics, fed by cloudd's counters.
SpotPricesE2E  a preemptible instance's run probe is `crunch-run --list --stdin-prices` with
               the spot price history of its type and zone on stdin (spec 5.7.3, 5.15,
               cloud-drivers.md 2.7).
"""
import datetime
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_env  # noqa: E402

SUBNET = "subnet-0e2e0000000000001"

# Two types of the "standard" quota group (t, m) and one of the "inf" group. Prices are far
# apart, so that no type is another's alternative within MaximumPriceFactor (1.5).
QG_ITYPES = """      small:
        ProviderType: t3.small
        VCPUs: 1
        RAM: 2GiB
        IncludedScratch: 10GB
        Price: 0.02
      medium:
        ProviderType: m5.large
        VCPUs: 2
        RAM: 8GiB
        IncludedScratch: 10GB
        Price: 0.1
      big:
        ProviderType: inf1.xlarge
        VCPUs: 4
        RAM: 16GiB
        IncludedScratch: 10GB
        Price: 0.5
"""

SPOT_ITYPES = """      spot4:
        ProviderType: t3.xlarge
        VCPUs: 4
        RAM: 16GiB
        IncludedScratch: 100GB
        Price: 0.2
        Preemptible: true
"""

METRIC_RE = re.compile(r'^(arvados_dispatchcloud_ec2_\w+)\{([^}]*)\} (\S+)$', re.M)


class Base(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root (the sshd rig)")
        self.env = None

    def tearDown(self):
        if self.env is not None:
            self.env.stop()

    def start(self, **kw):
        self.env = e2e_env.E2E(**kw)
        d = self.env.start_dispatcher()
        d.wait_for(lambda e: e.get("msg") == "listening", 30)
        return d

    def run_instances(self):
        reqs = self.env.ec2.ctl("GET", "requests?action=RunInstances")["requests"]
        return [(r["params"].get("InstanceType"), r.get("status"), r.get("code")) for r in reqs]

    def ec2_metrics(self):
        text = self.env.metrics_text()
        out = {}
        for name, labels, value in METRIC_RE.findall(text):
            lv = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', labels)))
            out[(name, lv)] = float(value)
        return out


class QuotaGroupE2E(Base):
    def test_group_hold_and_ec2_metrics(self):
        # t and m share a group through the driver's table; inf is its own base group.
        d = self.start(itypes=QG_ITYPES, driver_extra=(
            "          SubnetID: %s\n          InstanceTypeQuotaGroups: {t: standard, m: standard}\n"
            % SUBNET),
                       subnet_id=SUBNET)
        # The first RunInstances meets a vCPU quota of its group (t3.small: "standard").
        self.env.ec2.ctl("POST", "faults", {"action": "RunInstances", "code": "VcpuLimitExceeded",
                                            "count": 1})
        x, = self.env.create(1, runtime_constraints={"vcpus": 1, "ram": 256 << 20})
        _, hold = d.wait_for(lambda e: e.get("msg") == "capacity error -- pausing instance create calls", 60)
        t_hold = time.monotonic()
        self.assertEqual(hold.get("capKey"), "standard", hold)
        self.assertTrue(hold.get("isInstanceQuotaGroupSpecific"), hold)
        self.assertFalse(hold.get("isInstanceTypeSpecific"), hold)
        self.assertEqual(self.run_instances(), [("t3.small", 400, "VcpuLimitExceeded")])

        # Within the 1-minute hold: m5.large (same group) must wait, inf1.xlarge must not.
        y, = self.env.create(1, runtime_constraints={"vcpus": 2, "ram": 1 << 30})
        z, = self.env.create(1, runtime_constraints={"vcpus": 4, "ram": 4 << 30})
        self.env.wait(lambda: any(t == "inf1.xlarge" and s == 200 for t, s, _ in self.run_instances()),
                      40, "a RunInstances for the other group's type")
        self.env.wait(lambda: self.env.records([z])[z]["state"] == "Running", 60, "z running")
        # z has been scheduled, created, booted and started: many passes in which y was
        # eligible for m5.large only, all inside the hold.
        types = [t for t, _, _ in self.run_instances()]
        self.assertNotIn("m5.large", types)
        self.assertEqual(types.count("t3.small"), 1, types)
        # Validity of the check above, not a figure: it only means something inside the hold.
        self.assertLess(time.monotonic() - t_hold, 55, "too slow to observe the 1-minute hold")

        # EC2 metrics: one failed start and one good start in SUBNET; the gauge follows
        # the fake's listing.
        ok = (("subnet_id", SUBNET), ("success", "1"))
        fail = (("subnet_id", SUBNET), ("success", "0"))
        starts = "arvados_dispatchcloud_ec2_instance_starts_total"

        def metrics_settled():
            m = self.ec2_metrics()
            live = [i for i in self.env.ec2.live() if i["subnet_id"] == SUBNET]
            good = sum(1 for t, s, _ in self.run_instances() if s == 200)
            if m.get((starts, ok)) == good and m.get(("arvados_dispatchcloud_ec2_instances",
                                                      (("subnet_id", SUBNET),))) == len(live):
                return m
            return None
        m = self.env.wait(metrics_settled, 30, "ec2 metrics equal to the fake's view")
        self.assertEqual(m.get((starts, fail)), 1.0)
        self.assertGreaterEqual(m[(starts, ok)], 1.0)
        self.assertEqual({k[1] for k in m if k[0] == starts}, {ok, fail})

        # cloudd restarted: its counters start again from zero, ours keep counting.
        pid = d.helper_pids().get("cloudd")
        os.kill(pid, 9)
        d.wait_for(lambda e, p=pid: e.get("msg") == "helper ready" and e.get("Helper") == "cloudd"
                   and e.get("HelperPID") != p, 30)
        m2 = self.env.wait(metrics_settled, 30, "ec2 metrics after a cloudd restart")
        self.assertEqual(m2.get((starts, fail)), 1.0)
        self.assertGreaterEqual(m2[(starts, ok)], m[(starts, ok)])
        for u in (x, y):
            self.env.arv.ctl("POST", "containers/%s/state" % u, {"state": "Cancelled"})


class SpotPricesE2E(Base):
    def test_stdin_prices(self):
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        t1, t2 = now - datetime.timedelta(seconds=600), now - datetime.timedelta(seconds=300)
        iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
        self.start(itypes=SPOT_ITYPES, driver_extra="          SpotPriceUpdateInterval: 1h\n",
                   crunch_cfg={"duration": 20, "arvados": True})
        az = self.env.ec2.info["subnets"][0]["availability_zone"]
        self.env.ec2.ctl("POST", "spot-prices", {"replace": True, "prices": [
            {"instance_type": "t3.xlarge", "availability_zone": az, "price": 0.05, "timestamp": iso(t1)},
            {"instance_type": "t3.xlarge", "availability_zone": az, "price": 0.07, "timestamp": iso(t2)},
            # the same price again later: normalised away (the oldest point of a run stays)
            {"instance_type": "t3.xlarge", "availability_zone": az, "price": 0.07,
             "timestamp": iso(now - datetime.timedelta(seconds=60))},
            # another type and another zone: not this instance's history
            {"instance_type": "m5.large", "availability_zone": az, "price": 0.01, "timestamp": iso(t2)},
            {"instance_type": "t3.xlarge", "availability_zone": az[:-1] + "z", "price": 0.09,
             "timestamp": iso(t2)},
        ]})
        u, = self.env.create(1, scheduling_parameters={"preemptible": True})

        def probed():
            for w in self.env.watcher.workers():
                for inv in w.invocations():
                    if "--list" in inv["argv"] and "--stdin-prices" in inv["argv"]:
                        return inv
            return None
        inv = self.env.wait(probed, 90, "a run probe with --stdin-prices")
        self.assertEqual(inv["argv"], ["--list", "--stdin-prices"])
        self.assertEqual(json.loads(inv["stdin"]), [
            {"StartTime": iso(t2), "Price": 0.07}, {"StartTime": iso(t1), "Price": 0.05}])
        # The instance is a spot one, and every probe without prices came before the first
        # with them (prices only ever arrive with a list, never go away).
        self.assertEqual(self.env.ec2.instances()[0]["lifecycle"], "spot")
        w = next(w for w in self.env.watcher.workers() if inv in w.invocations())
        lists = [i for i in w.invocations() if "--list" in i["argv"]]
        first = next(k for k, i in enumerate(lists) if "--stdin-prices" in i["argv"])
        self.assertTrue(all("--stdin-prices" in i["argv"] for i in lists[first:]))
        self.assertEqual(self.env.records([u])[u]["scheduling_parameters"].get("preemptible"), True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
