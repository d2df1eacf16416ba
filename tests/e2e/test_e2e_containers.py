"""End to end, container life (issue 6): a container cancelled while running is killed on its
worker; SupervisorFraction caps the supervisors running at once. The real executables against
fake Arvados, fake EC2 and OpenSSH rig workers. Each scenario ends with every container final
exactly once and no instance left after TimeoutIdle."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_env  # noqa: E402


class ContainersTest(e2e_env.E2ECase):
    def kills(self):
        """uuid -> signals sent by `crunch-run --kill <sig> <uuid>` over every worker."""
        out = {}
        for w in self.env.watcher.workers():
            for inv in w.invocations():
                argv = inv["argv"]
                for i, a in enumerate(argv[:-2]):
                    if a.lstrip("-") == "kill":
                        out.setdefault(argv[-1], []).append(int(argv[i + 1]))
        return out

    def events(self, uuid):
        return [e for w in self.env.watcher.workers() for e in w.events() if e.get("uuid") == uuid]

    def test_cancel_while_running_kills_the_runner(self):
        """Two running containers. The user cancels the first one's request (priority 0, state
        still Running): the dispatcher kills its runner (spec 4.4 `priority=0`) and, once the
        runner is gone, cancels the container. The second one is finalised Cancelled by the API
        (as when the request is cancelled server side): the dispatcher kills its runner too
        (`state=Cancelled`) and does not touch the record."""
        self.start(crunch_cfg={"duration": 60, "arvados": True})
        u1, u2 = self.env.create(2)
        self.env.wait(lambda: all(r["state"] == "Running" for r in self.env.records([u1, u2]).values()),
                      60, "two containers running")
        self.env.arv.ctl("POST", "containers/%s/cancel_request" % u1)
        self.env.arv.ctl("POST", "containers/%s/state" % u2, {"state": "Cancelled"})
        self.wait_final([u1, u2], 30)
        self.env.wait(lambda: all(any(e["event"] == "exited" for e in self.events(u)) for u in (u1, u2)),
                      30, "both fake containers exited")
        kills = self.kills()
        for u in (u1, u2):
            self.assertIn(15, kills.get(u, []), u)
            self.assertTrue(all(s == 15 for s in kills[u]), kills[u])   # SIGKILL is never used
            ev = self.events(u)
            self.assertIn(15, [e["signal"] for e in ev if e["event"] == "signal"])
            self.assertEqual([e["code"] for e in ev if e["event"] == "exited"], [143])
        self.check_final({u1: "Cancelled", u2: "Cancelled"}, outside={u2})
        self.assertEqual(self.env.records([u1])[u1]["priority"], 0)
        self.wait_no_instance()

    def test_supervisor_fraction(self):
        """SupervisorFraction 0.5 of MaxInstances 4: never more than 2 supervisor containers
        running at once (their fake containers' lifetimes never overlap by more than 2), the
        others wait with the exact 4.6 status; ordinary containers are not held back."""
        self.start(crunch_cfg={"duration": 2, "arvados": True},
                   extra_vm="        SupervisorFraction: 0.5\n")
        sup = self.env.create(5, scheduling_parameters={"supervisor": True})
        plain = self.env.create(2)

        def waiting():
            st, body = self.env.mgmt("GET", "containers")
            self.assertEqual(st, 200)
            items = json.loads(body)["items"] or []
            return [i for i in items if i["scheduling_status"].startswith("Waiting in workflow queue at position ")]
        w = self.env.wait(waiting, 30, "a supervisor waiting in the workflow queue")
        self.assertEqual(w[0]["scheduling_status"],
                         "Waiting in workflow queue at position 1.  Cluster is at capacity and cannot "
                         "start any new workflows right now.")
        self.assertIn(w[0]["container"]["uuid"], sup)
        self.wait_final(sup + plain, 90)
        self.check_final({u: "Complete" for u in sup + plain})
        # The stub records "exited" after it has set the container Complete: wait for it.
        self.env.wait(lambda: all(any(e["event"] == "exited" for e in self.events(u)) for u in sup),
                      30, "every supervisor's fake container exited")
        edges = []
        for u in sup:
            ev = self.events(u)
            start = [e["time"] for e in ev if e["event"] == "started"]
            end = [e["time"] for e in ev if e["event"] == "exited"]
            self.assertEqual((len(start), len(end)), (1, 1), u)
            edges += [(start[0], 1), (end[0], -1)]
        running = peak = 0
        for _, d in sorted(edges, key=lambda x: (x[0], x[1])):  # an exit before a start at a tie
            running += d
            peak = max(peak, running)
        self.assertEqual(peak, 2)
        self.wait_no_instance()


if __name__ == "__main__":
    e2e_env.main()  # the scenarios side by side
