#!/usr/bin/python3
"""Issue 15, end to end: two real dispatchers (same config, as two hosts would have) against the
fake Arvados API, the fake EC2, OpenSSH rig workers and a real PostgreSQL server
(pg_fixture.py). Only the holder of advisory lock 10005 dispatches; the other stands by
(listening, /_health/ping, /metrics with arvados_dispatchcloud_active 0). SIGKILL of the
active one: the standby takes over within a stated bound and every container runs once."""
import os
import signal
import socket
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import e2e_env  # noqa: E402
import pg_fixture  # noqa: E402
import adc_harness  # noqa: E402
import unittest  # noqa: E402

# SIGKILL -> the kernel closes the lock connection -> the server frees the lock at once; the
# standby's next try comes within PGLOCK_RETRY_MS (5 s); then it adopts as after a restart.
TAKEOVER_BOUND_S = 5 + 2
ACTING = ("container locked", "creating new instance", "probes succeeded, instance is in service",
          "crunch-run process detected", "FixStaleLocks starting.")


class PgLockE2E(e2e_env.E2ECase):
    def setUp(self):
        super().setUp()
        self.pg = pg_fixture.PgServer().start()
        self.other = None

    def tearDown(self):
        # Each dispatcher still running stops cleanly on SIGTERM: exit 0, and (in the sanitizer
        # build) no AddressSanitizer, LeakSanitizer or UBSan report in its output.
        problems = []
        for d in (self.other, self.env.disp if self.env else None):
            if d is None or d.proc.poll() is not None:
                continue
            rc = d.stop()
            bad = [l for l in d.log_text().splitlines()
                   if "Sanitizer" in l or "runtime error:" in l]
            if rc != 0 or bad:
                problems.append((rc, bad[:20]))
        super().tearDown()
        self.pg.cleanup()
        self.assertEqual(problems, [])

    def start_pair(self, **kw):
        self.env = e2e_env.E2E(**kw)
        c = self.pg.conn()
        with open(self.env.config, "a") as f:  # a sibling of InstanceTypes under the cluster
            f.write("    PostgreSQL:\n      Connection:\n" +
                    "".join('        %s: "%s"\n' % kv for kv in c.items()))
        self.port_b = e2e_env.free_port()
        a = self.env.start_dispatcher()
        b = adc_harness.Dispatcher(self.env.config, env=dict(
            self.env.env(), ARVADOS_SERVICE_INTERNAL_URL="http://127.0.0.1:%d" % self.port_b),
            bin_dir=os.environ.get("ADC_BIN_DIR"))
        self.other = b
        for d in (a, b):
            d.wait_for(lambda e: e.get("msg") == "listening", 30)
        # One of them holds the lock; the other logs the holder.
        a.wait_for(lambda e: e.get("msg") in ("dispatcher active: holding the PostgreSQL "
                                              "advisory lock",
                                              "waiting for other process to release lock"), 20)
        b.wait_for(lambda e: e.get("msg") in ("dispatcher active: holding the PostgreSQL "
                                              "advisory lock",
                                              "waiting for other process to release lock"), 20)
        if self.is_active(a):
            return a, b, self.env.mgmt_port, self.port_b
        return b, a, self.port_b, self.env.mgmt_port

    @staticmethod
    def is_active(d):
        with d.cond:
            for e in reversed(d.lines):
                if e.get("msg", "").startswith("dispatcher active"):
                    return True
                if e.get("msg", "").startswith("dispatcher in standby"):
                    return False
        return False

    @staticmethod
    def acting(d, since=0):
        with d.cond:
            return [e for e in d.lines[since:] if e.get("msg") in ACTING]

    def get(self, port, path):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), headers={
            "Authorization": "Bearer " + e2e_env.E2E.MGMT_TOKEN})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()

    def gauge(self, port):
        _, text = self.get(port, "/metrics")
        for line in text.splitlines():
            if line.startswith("arvados_dispatchcloud_active "):
                return float(line.split()[1])
        raise AssertionError("no arvados_dispatchcloud_active in /metrics")

    def test_pair_one_dispatches_then_takeover_after_sigkill(self):
        act, sby, act_port, sby_port = self.start_pair(crunch_cfg={"duration": 8, "arvados": True})
        # The standby: listening, healthy, ready, a gauge at 0, the holder's address logged.
        _, w = sby.wait_for(lambda e: e.get("msg") == "waiting for other process to release lock", 10)
        self.assertRegex(w["DBClient"], r"^127\.0\.0\.1:\d+$")
        st, body = self.get(sby_port, "/_health/ping")
        self.assertEqual((st, '"OK"' in body), (200, True), body)
        self.assertEqual(self.gauge(sby_port), 0)
        self.assertEqual(self.gauge(act_port), 1)
        uuids = self.env.create(3)
        self.env.wait(lambda: all(r["state"] == "Running" for r in self.env.records(uuids).values()),
                      60, "three containers running")
        self.assertEqual(self.acting(sby), [], "the standby acted")
        self.assertTrue([e for e in self.acting(act) if e["msg"] == "container locked"])
        # SIGKILL the active one while its containers run.
        mark = len(sby.lines)
        t_kill = time.monotonic()
        act.proc.send_signal(signal.SIGKILL)
        act.proc.wait(10)
        act.reader.join(5)
        sby.wait_for(lambda e: e.get("msg", "").startswith("dispatcher active"),
                     TAKEOVER_BOUND_S + 5, start=mark)
        takeover = time.monotonic() - t_kill
        print("takeover after SIGKILL: %.2f s (bound %d s)" % (takeover, TAKEOVER_BOUND_S))
        self.assertLess(takeover, TAKEOVER_BOUND_S)
        self.assertEqual(self.gauge(sby_port), 1)
        self.env.disp = sby  # failure reports and the final checks read the survivor
        self.wait_final(uuids, 90)
        self.check_final({u: "Complete" for u in uuids})
        self.wait_no_instance(60)

    def test_lost_lock_stops_at_once(self):
        """The active one's lock session is terminated while the other waits: it stops acting
        at once (no create, no lock), only one of the two ever acts at a time, and every
        container still completes once."""
        act, sby, act_port, sby_port = self.start_pair(crunch_cfg={"duration": 3, "arvados": True})
        pid = self.pg.psql("select l.pid from pg_locks l where l.locktype = 'advisory' and "
                           "l.objid = 10005 and l.granted")
        ma = len(act.lines)
        t0 = time.monotonic()
        self.pg.psql("select pg_terminate_backend(%s)" % pid)
        act.wait_for(lambda e: e.get("msg", "").startswith("dispatcher in standby"), 5, start=ma)
        print("lost lock -> standby after %.0f ms" % ((time.monotonic() - t0) * 1000))
        # Someone holds it again within a retry interval; then work runs to the end.
        self.env.wait(lambda: self.is_active(act) or self.is_active(sby), 8, "an active one")
        uuids = self.env.create(2)
        self.wait_final(uuids, 90)
        self.check_final({u: "Complete" for u in uuids})
        # Never both: whoever stands by now did nothing since it last went to standby.
        idle = sby if self.is_active(act) else act
        with idle.cond:
            lines = list(idle.lines)
        went = [i for i, x in enumerate(lines) if x.get("msg", "").startswith("dispatcher in standby")]
        since = went[-1] if went else 0
        self.assertEqual([x for x in lines[since:] if x.get("msg") in ACTING], [])

    def start_one(self, notify_path=None, conn=None, prefix=(), **kw):
        self.env = e2e_env.E2E(**kw)
        c = dict(self.pg.conn(), **(conn or {}))
        with open(self.env.config, "a") as f:
            f.write("    PostgreSQL:\n      Connection:\n" +
                    "".join('        %s: "%s"\n' % kv for kv in c.items()))
        env = dict(self.env.env())
        if notify_path:
            env["NOTIFY_SOCKET"] = notify_path
        d = adc_harness.Dispatcher(self.env.config, env=env,
                                   bin_dir=os.environ.get("ADC_BIN_DIR"), prefix=prefix)
        self.env.disp = d
        d.wait_for(lambda e: e.get("msg") == "listening", 30)
        return d

    def test_slow_resolver_standby_answers(self):
        """PostgreSQL.Connection.host is a name whose DNS answer is held (fake_dns.py, in the
        dispatcher's own mount namespace): while the lookup is pending the dispatcher listens,
        answers /_health/ping and /metrics (gauge 0); once the answer comes it takes the lock
        at that address. Before the lookup moved off the loop, libpq's getaddrinfo blocked the
        loop at start-up: no `listening` until the answer."""
        if os.geteuid() != 0:
            self.skipTest("needs root for a mount namespace with its own resolv.conf")
        import fake_dns
        name = "slow.pglock.test"
        dns_ = fake_dns.FakeDns(self.pg.base, held=[name])
        self.addCleanup(dns_.close)
        d = self.start_one(conn={"host": name}, prefix=dns_.prefix(),
                           crunch_cfg={"duration": 2, "arvados": True})
        dns_.wait_lookups(name)
        status, body = self.get(self.env.mgmt_port, "/_health/ping")
        self.assertEqual(status, 200, body)
        self.assertEqual(self.gauge(self.env.mgmt_port), 0)
        self.assertNotIn(name, dns_.answered)  # all the above while the lookup was pending
        dns_.release()
        d.wait_for(lambda e: e.get("msg", "").startswith("dispatcher active"), 20)
        _, e = d.wait_for(lambda e: e.get("msg") == "resolved the PostgreSQL host name", 10)
        self.assertEqual((e["Host"], e["HostAddr"]), (name, "127.0.0.1"))

    def test_psql_holder_keeps_standby_ready(self):
        """The SLURM dispatcher's view (a psql session holding 10005): this one is ready
        (READY=1, STATUS names the holder), dispatches nothing while the containers wait,
        then takes over within a retry interval once psql lets go."""
        path = os.path.join(self.pg.base, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(0.5)
        holder = self.pg.holder()
        try:
            port = int(self.pg.psql("select a.client_port from pg_locks l join pg_stat_activity a "
                                    "on a.pid = l.pid where l.locktype = 'advisory' and "
                                    "l.objid = 10005 and l.granted"))
            d = self.start_one(notify_path=path, crunch_cfg={"duration": 2, "arvados": True})
            msgs = []
            want = "STATUS=standby: lock held by 127.0.0.1:%d" % port
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not ("READY=1" in msgs and want in msgs):
                try:
                    msgs.extend(sock.recv(4096).decode().split("\n"))
                except socket.timeout:
                    pass
            self.assertIn("READY=1", msgs)
            self.assertIn(want, msgs)
            self.assertEqual(self.gauge(self.env.mgmt_port), 0)
            uuids = self.env.create(2)
            time.sleep(6)  # more than a queue poll, a sync and a lock retry
            self.assertEqual(self.acting(d), [])
            self.assertEqual(self.ec2_requests("RunInstances"), [])
            self.assertTrue(all(r["state"] == "Queued"
                                for r in self.env.records(uuids).values()))
            t_rel = time.monotonic()
        finally:
            holder.stdin.close()
            holder.wait(10)
            sock.close()
        d.wait_for(lambda e: e.get("msg", "").startswith("dispatcher active"), 10)
        print("active %.2f s after psql let go" % (time.monotonic() - t_rel))
        self.wait_final(uuids, 90)
        self.check_final({u: "Complete" for u in uuids})

    def test_postgres_restart_resumes(self):
        """PostgreSQL restarted while containers run: the dispatcher stops acting at once,
        re-acquires when the server is back, resumes as after a restart (its workers probed
        again before anything is started) and every container runs exactly once."""
        d = self.start_one(crunch_cfg={"duration": 8, "arvados": True})
        d.wait_for(lambda e: e.get("msg", "").startswith("dispatcher active"), 20)
        uuids = self.env.create(2)
        self.env.wait(lambda: all(r["state"] == "Running"
                                  for r in self.env.records(uuids).values()),
                      60, "two containers running")
        mark = len(d.lines)
        creates_before = len(self.ec2_requests("RunInstances"))
        t0 = time.monotonic()
        self.pg.restart(down_s=2.0)
        i, _ = d.wait_for(lambda e: e.get("msg", "").startswith("dispatcher in standby"), 5,
                          start=mark)
        j, e = d.wait_for(lambda e: e.get("msg", "").startswith("dispatcher active"), 20,
                          start=i)
        self.assertTrue(e["Resumed"])
        print("postgres restart: active again after %.2f s" % (time.monotonic() - t0))
        with d.cond:
            between = [x for x in d.lines[i:j] if x.get("msg") in ACTING]
        self.assertEqual(between, [])
        self.wait_final(uuids, 90)
        self.check_final({u: "Complete" for u in uuids})
        # Resumed on the instances it had: nothing created after the restart.
        self.assertEqual(len(self.ec2_requests("RunInstances")), creates_before)


    def test_frozen_past_lease(self):
        """The active dispatcher frozen (SIGSTOP) for longer than its lease (5 s): its session,
        and the lock, stay alive on the server; on waking it does nothing before the lock is
        confirmed, then probes its workers again, and the container runs exactly once."""
        d = self.start_one(crunch_cfg={"duration": 12, "arvados": True})
        d.wait_for(lambda e: e.get("msg", "").startswith("dispatcher active"), 20)
        uuids = self.env.create(1)
        self.env.wait(lambda: all(r["state"] == "Running"
                                  for r in self.env.records(uuids).values()),
                      60, "the container running")
        mark = len(d.lines)
        d.proc.send_signal(signal.SIGSTOP)
        time.sleep(7)
        d.proc.send_signal(signal.SIGCONT)
        i, _ = d.wait_for(lambda e: e.get("msg") == "lock confirmed again after its lease ran "
                          "out: probing workers", 10, start=mark)
        with d.cond:
            before = [x for x in d.lines[mark:i] if x.get("msg") in ACTING]
        self.assertEqual(before, [])
        self.wait_final(uuids, 90)
        self.check_final({u: "Complete" for u in uuids})


if __name__ == "__main__":
    e2e_env.main()  # the scenarios side by side
