"""End to end, cloud errors (issue 6): a capacity error on the cheapest type falls back to the
next candidate within MaximumPriceFactor; a quota error is learnt and creates stop at that level
until an instance shuts down. The real executables against fake Arvados, fake EC2 (errors
injected through its control API) and OpenSSH rig workers. Each scenario ends with every
container final exactly once and no instance left after TimeoutIdle."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_env  # noqa: E402

# Candidates of a 1-VCPU container, cheapest first: small (0.15), then m4 (0.2 <= 1.5 x 0.15);
# big (0.5) is beyond MaximumPriceFactor (1.5, the default) and must never be used.
THREE_TYPES = """      small:
        ProviderType: t3.large
        VCPUs: 2
        RAM: 8GiB
        IncludedScratch: 50GB
        Price: 0.15
""" + e2e_env.M4_TYPE + """      big:
        ProviderType: t3.2xlarge
        VCPUs: 8
        RAM: 32GiB
        IncludedScratch: 200GB
        Price: 0.5
"""


class CloudErrorsTest(e2e_env.E2ECase):
    def test_capacity_error_falls_back_to_next_candidate(self):
        """InsufficientInstanceCapacity for the cheapest type only: one refused create, a
        type-specific capacity hold, and every container runs on the next candidate (m4), never
        on a type beyond MaximumPriceFactor."""
        self.start(itypes=THREE_TYPES)
        self.env.ec2.ctl("POST", "faults", {"action": "RunInstances", "code": "InsufficientInstanceCapacity",
                                            "instance_type": "t3.large", "count": -1})
        uuids = self.env.create(4)
        self.wait_final(uuids, 90)
        self.check_final({u: "Complete" for u in uuids})
        runs = self.ec2_requests("RunInstances")
        self.assertEqual(runs[0]["params"]["InstanceType"], "t3.large")
        self.assertEqual(runs[0]["code"], "InsufficientInstanceCapacity")
        refused = [r for r in runs if r["status"] != 200]
        # The capacity hold (1 minute) keeps the refused type out of later creates.
        self.assertEqual(len(refused), 1, [(r["params"]["InstanceType"], r["code"]) for r in runs])
        made = [r["params"]["InstanceType"] for r in runs if r["status"] == 200]
        self.assertTrue(made)
        self.assertEqual(set(made), {"t3.xlarge"})
        held = self.log_entries("capacity error -- pausing instance create calls")
        self.assertEqual(len(held), 1)
        self.assertIs(held[0].get("isInstanceTypeSpecific"), True, held[0])
        self.wait_no_instance()

    def test_quota_error_learnt(self):
        """InstanceLimitExceeded beyond 2 live instances (the fake's instance limit), containers
        that need a whole instance each: the dispatcher learns the level, sends no create
        between a quota error and the next instance shutdown, and still finishes every container
        exactly once."""
        self.start()
        self.env.ec2.ctl("POST", "config", {"instance_limit": 2})
        uuids = self.env.create(5, runtime_constraints={"vcpus": 3, "ram": 256 << 20})
        self.wait_final(uuids, 120)
        self.check_final({u: "Complete" for u in uuids})
        self.assertTrue(self.log_entries("quota error -- waiting for next instance shutdown"))
        # Replay the cloud calls in order: a quota error must be followed by a terminate before
        # any further create; and the fake never had more than 2 instances.
        live = peak = 0
        errors = 0
        waiting = False
        for r in self.ec2_requests():
            if r.get("action") == "RunInstances":
                self.assertFalse(waiting, "create sent after a quota error before any shutdown")
                if r.get("code") == "InstanceLimitExceeded":
                    errors += 1
                    waiting = True
                elif r.get("status") == 200:
                    live += 1
            elif r.get("action") == "TerminateInstances" and r.get("status") == 200:
                live -= len(r["params"]["InstanceIds"])
                waiting = False
            peak = max(peak, live)
        self.assertGreaterEqual(errors, 1)
        self.assertEqual(peak, 2)
        self.wait_no_instance()


if __name__ == "__main__":
    e2e_env.main()  # the scenarios side by side
