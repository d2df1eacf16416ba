"""The container queue (dispatcherd/queue*.c, spec/dispatcher.md 2) against the real fake
Arvados API server: queue_driver runs the queue; the fake's request log shows every call."""
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import parallel_cases  # noqa: E402
from free_ports import free_port  # noqa: E402
from queue_testlib import Driver, FakeServer, ROOT, AUTH_UUID, write_config  # noqa: E402
from fakearv_values import values_go_rfc3339nano  # noqa: E402

SELECT = ["uuid", "state", "priority", "runtime_constraints", "container_image",
	  "scheduling_parameters", "created_at"]
MINE = [["locked_by_uuid", "=", AUTH_UUID]]
AVAIL = [["state", "=", "Queued"], ["priority", ">", "0"]]
ERR_MOUNTS = "error getting mounts from container record: json: cannot unmarshal array into Go "
ERR_UNSAT = "constraints not satisfiable by any configured instance type"
EBUSY = -16




class QueueTest(unittest.TestCase):
	fake_args = ()
	poll = "200ms"

	def setUp(self):
		self.tmp = tempfile.TemporaryDirectory()
		self.fake = FakeServer(*self.fake_args) if self.fake_args is not None else None
		self.drv = None

	def tearDown(self):
		try:
			if self.drv is not None:
				log = self.drv.logtext()
				rc = self.drv.quit()
				self.assertEqual(rc, 0, log[-2000:])
		finally:
			if self.fake is not None:
				self.fake.stop()
			self.tmp.cleanup()

	def start(self, url=None, poll=None, env=None):
		cfg = os.path.join(self.tmp.name, "config.yml")
		write_config(cfg, url or self.fake.info["url"], poll or self.poll)
		self.drv = Driver(cfg, env)
		return self.drv

	def log(self, uuid=None, **q):
		path = "log"
		if q:
			path += "?" + "&".join("%s=%s" % kv for kv in q.items())
		items = self.fake.ctl("GET", path)["items"]
		# only finished requests (params are filled in while a request runs)
		return [e for e in items if (uuid is None or e["uuid"] == uuid) and e.get("status") is not None]

	def dlog(self, **q):
		"""The dispatcher's requests (not the test's own)."""
		return [e for e in self.log(**q) if e["headers"].get("User-Agent") == "arvados-dispatch-cloud (C)"]

	def lines(self, msg):
		return [ln for ln in self.drv.loglines() if ln.get("msg") == msg]

	def assert_spec_calls(self, log):
		"""Every request is one of spec section 2's, with exactly its parameters."""
		for e in log:
			h = e["headers"]
			if h.get("User-Agent") != "arvados-dispatch-cloud (C)" or e["params"] is None:
				continue        # the test's own calls; answered by a fault rule
			self.assertEqual(h.get("Authorization"), "Bearer " + ROOT)
			self.assertEqual(h.get("Content-Type"), "application/x-www-form-urlencoded")
			self.assertRegex(h.get("X-Request-Id", ""), r"^req-[0-9a-z]{1,20}$")
			p, r, m = e["params"], e["route"], e["method"]
			if r == "token_current":
				self.assertEqual((m, p), ("GET", {}))
			elif r == "list":
				self.assertEqual(m, "GET")
				self.assertEqual(p["count"], "none")
				f = p["filters"]
				if p["select"] == ["uuid", "mounts"]:
					# a mounts batch: only the uuid filter, one page for all of them
					self.assertEqual(set(p), {"count", "filters", "limit", "select"})
					self.assertEqual((len(f), f[0][:2]), (1, ["uuid", "in"]))
					self.assertLessEqual(len(f[0][2]), 100)
					self.assertEqual(str(p["limit"]), str(len(f[0][2])))
					continue
				self.assertIn(p["order"], ("uuid", ["uuid"]))
				self.assertEqual(p["select"], SELECT)
				if f[0][0] == "uuid":
					self.assertEqual(f[0][1], "in")
					self.assertLessEqual(len(f[0][2]), 50)
					self.assertEqual(set(p), {"count", "filters", "order", "select"})
					rest = f[1:]
				else:
					self.assertEqual(str(p["limit"]), "1000")
					self.assertEqual(set(p), {"count", "filters", "limit", "order", "select"})
					self.assertIn(f[:len(MINE)] if f[0][0] == "locked_by_uuid" else f[:2], (MINE, AVAIL))
					rest = f[1:] if f[0][0] == "locked_by_uuid" else f[2:]
				self.assertLessEqual(len(rest), 1)
				for c in rest:
					self.assertEqual(c[:2], ["uuid", ">"])
			elif r == "get":
				self.assertEqual(m, "GET")
				self.assertIn(p, ({"select": ["mounts"]}, {"select": ["state"]}))
			elif r in ("lock", "unlock"):
				self.assertEqual((m, p, e["body"]), ("POST", {}, {}))
			elif r == "update":
				self.assertEqual(m, "PUT")
				c = p["container"]
				if c == {"state": "Cancelled"}:
					self.assertEqual(set(p), {"container"})
				else:
					self.assertEqual(list(c), ["runtime_status"])
					self.assertEqual(list(c["runtime_status"]), ["error"])
					self.assertEqual(p["select"], ["uuid"])
			else:
				self.fail("unexpected request %s %s" % (m, e["path"]))

	def mounts_requests(self, log):
		"""[(kind, uuids)] of the dispatcher's mounts fetches: "get" or "batch"."""
		out = []
		for e in log:
			sel = (e["params"] or {}).get("select")
			if e["route"] == "get" and sel == ["mounts"]:
				out.append(("get", [e["uuid"]]))
			elif e["route"] == "list" and sel == ["uuid", "mounts"]:
				out.append(("batch", e["params"]["filters"][0][2]))
		return out

	def polls_in(self, log):
		"""Split the request log into polls: each starts with the 'mine' list's first page."""
		out = []
		for e in log:
			if e["route"] == "list" and e["params"]["filters"] == MINE:
				out.append([])
			if out:
				out[-1].append(e)
		return out


class TestNormalPoll(QueueTest):
	def test_mirror_and_calls(self):
		f = self.fake
		a = f.create(cr_priority=3)["uuid"]
		big = f.create(runtime_constraints={"ram": 32 << 30, "vcpus": 8})["uuid"]
		sup = f.create(scheduling_parameters={"supervisor": True}, cr_priority=2)["uuid"]
		hold = f.create(priority=0)["uuid"]
		mine = f.create()["uuid"]
		f.ctl("POST", "containers/%s/state" % mine, {"state": "Locked"})
		self.assertEqual(f.rec(mine)["locked_by_uuid"], AUTH_UUID)
		other = f.create()["uuid"]
		f.api("POST", "containers/%s/lock" % other, token="v2/zzzzz-gj3su-otherdispatch01/othersecret")
		d = self.start()
		d.wait_polls(1)
		d.settle()
		ents = d.entries()
		self.assertEqual(set(ents), {a, big, sup, mine})
		for u, e in ents.items():
			self.assertEqual(e["priority"], f.rec(u)["priority"])
			self.assertEqual(e["state"], f.rec(u)["state"])
			self.assertEqual(e["fit"], "ok")
		self.assertEqual(ents[a]["instance_types"], ["small"])
		self.assertEqual(ents[big]["instance_types"], ["big"])
		self.assertTrue(ents[sup]["supervisor"])
		self.assertTrue(ents[mine]["locked_by_me"])
		self.assertFalse(ents[a]["locked_by_me"])
		order = [e["uuid"] for e in d.dump()["entries"]]
		prios = [ents[u]["priority"] for u in order]
		self.assertEqual(prios, sorted(prios, reverse=True))
		self.assertNotIn(hold, ents)
		self.assertNotIn(other, ents)

		log = self.dlog()
		self.assert_spec_calls(log)
		self.assertEqual(log[0]["route"], "token_current")
		self.assertEqual(sum(e["route"] == "token_current" for e in log), 1)
		mounts = sorted(u for _, us in self.mounts_requests(log) for u in us)
		self.assertEqual(mounts, sorted(ents))       # once per new container, never again
		polls = self.polls_in(log)
		self.assertGreaterEqual(len(polls), 2)
		for p in polls[1:-1]:
			lists = [e["params"]["filters"] for e in p if e["route"] == "list"]
			# one page each (short pages end a list: no extra empty-page request)
			self.assertEqual(lists, [MINE, AVAIL])
			self.assertEqual([e for e in p if e["route"] != "list"], [])
		# "mine" (one container: the reference's GET), then one batch for the other three
		self.assertEqual(sorted((k, len(us)) for k, us in self.mounts_requests(log)),
				 [("batch", 3), ("get", 1)])
		self.assertEqual(self.lines("adding container to queue").__len__(), 4)


class TestRecords(QueueTest):
	def test_records_shared(self):
		"""Containers whose selected attributes are the same share one record (queue_rec.c,
		issue 16's memory), and those whose instance-type choice is the same share one choice
		(queue_choice.c; another image of the same size, same constraints: same choice, the
		image's size counting in the scratch space it needs); each still shows its
		own uuid, state, priority and created_at, and a container whose constraints change
		gets a record and a choice of its own, then shares again when they change back."""
		f = self.fake
		same = [f.create(cr_priority=1 + i % 3)["uuid"] for i in range(20)]
		size = f.rec(same[0])["container_image"].split("+")[1]
		other = f.create(container_image="0123456789abcdef0123456789abcdef+" + size)["uuid"]
		d = self.start()
		d.wait_polls(1)
		d.settle()
		self.assertEqual(d.cmd("stats")["records"], 2)
		self.assertEqual(d.cmd("stats")["choices"], 1)
		ents = d.entries()
		for u in same + [other]:
			self.assertEqual(ents[u]["instance_types"], ["small"])
			c, rec = d.cmd("container " + u)["container"], f.rec(u)
			self.assertEqual(c["uuid"], u)
			self.assertEqual(c["priority"], rec["priority"])
			self.assertEqual(c["state"], rec["state"])
			self.assertEqual(c["container_image"], rec["container_image"])
			self.assertEqual(c["runtime_constraints"]["ram"], rec["runtime_constraints"]["ram"])
			self.assertTrue(rec["created_at"].endswith("000Z"), rec["created_at"])
			self.assertEqual(c["created_at"], values_go_rfc3339nano(rec["created_at"]))
		big = {"ram": 32 << 30, "vcpus": 8}
		f.ctl("PATCH", "containers/" + same[0], {"runtime_constraints": big})
		d.next_poll()
		self.assertEqual(d.cmd("stats")["records"], 3)
		self.assertEqual(d.cmd("stats")["choices"], 2)
		self.assertEqual(d.entries()[same[0]]["instance_types"], ["big"])
		self.assertEqual(d.entries()[same[1]]["instance_types"], ["small"])
		self.assertEqual(d.cmd("container " + same[0])["container"]["runtime_constraints"]["ram"],
				 32 << 30)
		for u in same[1:]:
			self.assertEqual(d.cmd("container " + u)["container"]["runtime_constraints"]["ram"],
					 f.rec(u)["runtime_constraints"]["ram"])
		f.ctl("PATCH", "containers/" + same[0],
		      {"runtime_constraints": f.rec(same[1])["runtime_constraints"]})
		d.next_poll()
		self.assertEqual(d.cmd("stats")["records"], 2)
		self.assertEqual(d.cmd("stats")["choices"], 1)
		for u in same + [other]:
			f.ctl("DELETE", "containers/" + u)
		d.next_poll()  # polled away, then reaped: the last references dropped
		self.assertEqual(d.cmd("stats")["count"], 0)
		self.assertEqual(d.cmd("stats")["records"], 0)
		self.assertEqual(d.cmd("stats")["choices"], 0)


class TestViewOrder(QueueTest):
	"""The view is kept in order between polls (queue_view.c: holes and a merge, no full
	sort): after priorities rise and fall, containers leave and new ones arrive, the dump
	(in view order) is still sorted by priority, then first seen, then uuid."""

	def assert_view_sorted(self, d, want):
		ents = d.dump()["entries"]
		self.assertEqual({e["uuid"] for e in ents}, want)
		keys = [(-int(e["priority"]), e["first_seen_ms"], e["uuid"]) for e in ents]
		self.assertEqual(keys, sorted(keys))

	def test_order_kept_through_changes(self):
		f = self.fake
		# equal priorities too, so that first_seen and uuid order ties
		uuids = [f.create(priority=100 + (i % 4))["uuid"] for i in range(16)]
		d = self.start(poll="300ms")
		d.wait_polls(1)
		d.settle()
		self.assert_view_sorted(d, set(uuids))
		for i, u in enumerate(uuids[:6]):  # up, down, and to a tie
			f.ctl("POST", "containers/%s/priority" % u, {"priority": (1000, 1, 101, 50, 103, 2)[i]})
		for u in uuids[6:9]:  # gone from the controller: dropped from the queue
			f.ctl("DELETE", "containers/%s" % u)
		new = [f.create(priority=(5000, 101, 1)[i])["uuid"] for i in range(3)]
		d.next_poll()
		d.next_poll()
		d.settle()
		self.assert_view_sorted(d, set(uuids[:6] + uuids[9:] + new))
		self.assertEqual(int(d.entries()[uuids[0]]["priority"]), 1000)


class TestPaging(QueueTest):
	fake_args = ("--page-limit", "3")

	def test_pages_by_uuid(self):
		uuids = [self.fake.create(cr_priority=1 + i % 3)["uuid"] for i in range(10)]
		d = self.start()
		d.wait_polls(1)
		d.settle()
		self.assertEqual(set(d.entries()), set(uuids))
		poll = self.polls_in(self.log(route="list"))[1]
		avail = [e for e in poll if e["params"]["filters"][:2] == AVAIL]
		self.assertEqual(len(avail), 4)             # 3 + 3 + 3 + 1
		after = [e["params"]["filters"][2][2] if len(e["params"]["filters"]) > 2 else "" for e in avail]
		self.assertEqual(after, ["", sorted(uuids)[2], sorted(uuids)[5], sorted(uuids)[8]])
		self.assertTrue(all("offset" not in e["params"] for e in poll))
		self.assert_spec_calls(self.log())

	def test_priority_changes_between_pages(self):
		uuids = [self.fake.create(cr_priority=1)["uuid"] for _ in range(30)]
		d = self.start(poll="300ms")
		d.wait_polls(1)
		d.settle()
		self.fake.ctl("POST", "config", {"page_limit": 4})
		self.fake.ctl("POST", "faults", {"route": "list", "delay": 0.15, "times": None})
		seq = self.log()[-1]["seq"]
		# wait for the next poll's first 'available' page, then reverse every priority
		while True:
			new = [e for e in self.log(route="list") if e["seq"] > seq and e["params"] and e["params"]["filters"][:2] == AVAIL]
			if new:
				break
			time.sleep(0.02)
		start = new[0]["seq"]
		changed = {}
		for i, u in enumerate(sorted(uuids)):
			p = (1000 + i) << 40
			self.fake.ctl("POST", "containers/%s/priority" % u, {"priority": p})
			changed[u] = p
		# the poll in flight ends: every container seen once, none lost
		while True:
			lst = [e for e in self.log(route="list") if e["seq"] >= start]
			if any(e["params"]["filters"] == MINE for e in lst):
				break
			time.sleep(0.05)
		pages = [e for e in lst if e["params"]["filters"][:2] == AVAIL]
		cursors = [e["params"]["filters"][2][2] for e in pages[1:]]
		self.assertEqual(cursors, sorted(set(cursors)))  # strictly increasing: no repeats
		self.assertGreaterEqual(len(pages), 8)
		ev = d.next_poll()
		self.assertEqual(ev["count"], 30)
		self.fake.ctl("DELETE", "faults")
		d.next_poll()
		ents = d.entries()
		self.assertEqual(set(ents), set(uuids))
		for u in uuids:
			self.assertEqual(ents[u]["priority"], changed[u])
		self.assertEqual(self.lines("dropping container from queue"), [])


class TestOps(QueueTest):
	fake_args = ("--max-dispatch-attempts", "3")

	def test_lock_count_for_spot_fallback(self):
		"""select_lock_count (-spot-fallback-after-attempts): the list calls select lock_count
		too and the entry keeps it; our lock counts one at once (its answer does not carry
		lock_count), the next poll brings the server's number. Without it: the 2.3 select."""
		u = self.fake.create()["uuid"]
		d = self.start(poll="1s", env={"QUEUE_DRIVER_SELECT_LOCK_COUNT": "1"})
		d.wait_polls(1)
		d.settle()
		self.assertEqual(d.entries()[u]["lock_count"], 0)
		for n in (1, 2):
			self.assertEqual(d.op("lock", u)["err"], 0)
			self.assertEqual(d.entries()[u]["lock_count"], n)   # before any poll
			self.assertEqual(d.op("unlock", u)["err"], 0)
			d.next_poll()
			self.assertEqual(d.entries()[u]["lock_count"], n)   # the server's
		sels = [e["params"]["select"] for e in self.log(route="list")]
		self.assertTrue(sels)
		self.assertTrue(all(s == SELECT + ["lock_count"] for s in sels if "mounts" not in s), sels)

	def test_lock_unlock_and_races(self):
		u = self.fake.create()["uuid"]
		d = self.start(poll="1s")
		d.wait_polls(1)
		d.settle()
		# one operation per container: the second is refused while the first runs. The lock is
		# held back 5 s so that the two commands below surely arrive while it is in flight,
		# even on a loaded machine (0.5 s was not enough under ctest -j2 with the e2e tests).
		self.fake.ctl("POST", "faults", {"route": "lock", "delay": 5})
		r1 = d.cmd("lock " + u)
		r2 = d.cmd("lock " + u)
		r3 = d.cmd("unlock " + u)
		self.assertEqual((r1["rc"], r2["rc"], r3["rc"]), (0, EBUSY, EBUSY))
		ev = d.wait_event(lambda e: e.get("event") == "op" and e["uuid"] == u)
		self.assertEqual(ev["err"], 0)
		e = d.entries()[u]
		self.assertEqual((e["state"], e["locked_by_me"]), ("Locked", True))   # before any poll
		self.assertEqual(len(self.log(route="lock")), 1)
		# lost race: another dispatcher locked it first
		v = self.fake.create()["uuid"]
		d.next_poll()
		d.settle()
		self.fake.api("POST", "containers/%s/lock" % v, token="v2/zzzzz-gj3su-otherdispatch01/othersecret")
		ev = d.op("lock", v)
		self.assertNotEqual(ev["err"], 0)
		self.assertIn("cannot lock when Locked", ev["error"])
		self.assertEqual(d.op("unlock", u)["err"], 0)
		self.assertEqual(d.entries()[u]["state"], "Queued")
		self.assertEqual(d.op("lock", "zzzzz-dz642-notinthequeue00")["rc"], -2)
		self.assert_spec_calls(self.log())

	def test_max_dispatch_attempts(self):
		u = self.fake.create()["uuid"]
		d = self.start()
		d.wait_polls(1)
		d.settle()
		for i in range(3):
			self.assertEqual(d.op("lock", u)["err"], 0)
			self.assertEqual(d.op("unlock", u)["err"], 0)
			st = d.entries()[u]["state"]
			self.assertEqual(st, "Queued" if i < 2 else "Cancelled")
		rec = self.fake.rec(u)
		self.assertEqual(rec["runtime_status"]["error"],
				 "Failed to start container.  Cancelled after exceeding "
				 "'Containers.MaxDispatchAttempts' (lock_count=3)")
		d.next_poll()
		self.assertNotIn(u, d.entries())
		self.assertEqual([ln["ContainerUUID"] for ln in self.lines("dropping container from queue")], [u])

	def test_cancel_and_runtime_error(self):
		u = self.fake.create()["uuid"]
		d = self.start()
		d.wait_polls(1)
		d.settle()
		self.assertEqual(d.op("lock", u)["err"], 0)
		self.assertEqual(d.op("rterr", u, "disk on fire")["err"], 0)
		self.assertEqual(self.fake.rec(u)["runtime_status"], {"error": "disk on fire"})
		self.assertEqual(d.op("cancel", u)["err"], 0)
		self.assertEqual(d.entries()[u]["state"], "Cancelled")
		self.assertEqual(self.fake.rec(u)["state"], "Cancelled")
		self.assert_spec_calls(self.log())


class TestMissing(QueueTest):
	def test_refetch_finished_and_deleted(self):
		a = self.fake.create()["uuid"]
		b = self.fake.create()["uuid"]
		d = self.start()
		d.wait_polls(1)
		d.settle()
		self.assertEqual(d.op("lock", a)["err"], 0)
		self.assertEqual(d.op("lock", b)["err"], 0)
		d.next_poll()
		self.fake.ctl("POST", "containers/%s/state" % a, {"state": "Running"})
		self.fake.ctl("POST", "containers/%s/state" % a, {"state": "Complete", "exit_code": 0})
		self.fake.ctl("DELETE", "containers/" + b)
		seq = self.log()[-1]["seq"]
		d.next_poll()
		log = [e for e in self.log() if e["seq"] > seq]
		ins = [e for e in log if e["route"] == "list" and e["params"]["filters"][0][:2] == ["uuid", "in"]]
		self.assertTrue(ins)
		self.assertEqual(sorted(ins[0]["params"]["filters"][0][2]), sorted([a, b]))
		self.assertEqual([ln["ContainerUUID"] for ln in self.lines("container not found by controller (deleted?)")], [b])
		d.next_poll()
		self.assertEqual(d.entries(), {})
		self.assertIn(a, [ln["ContainerUUID"] for ln in self.lines("dropping container from queue")])
		self.assert_spec_calls(self.log())

	def test_removed_entries_readable_until_reap(self):
		"""The scheduler loop keeps pointers into the entries of its last view (uuids and
		needs, not copies) while its decisions are carried out and until its next pass: an
		entry forgotten or polled away meanwhile must stay allocated until queue_reap. Under
		ASan, "held" reading a freed entry aborts the driver."""
		a = self.fake.create()["uuid"]
		b = self.fake.create()["uuid"]
		c = self.fake.create()["uuid"]
		d = self.start()
		d.wait_polls(1)
		d.settle()
		self.assertEqual(d.cmd("hold")["n"], 3)
		self.assertEqual(d.cmd("forget " + a)["rc"], 0)
		self.fake.ctl("DELETE", "containers/" + b)
		d.next_poll()
		d.next_poll()
		# a is still Queued on the server: the poll brought it back, as a new entry
		self.assertEqual(set(d.entries()), {a, c})
		held = d.cmd("held")
		self.assertEqual(sorted(held["uuids"]), sorted([a, b, c]))
		self.assertEqual(held["live"], [c])
		self.assertEqual(d.cmd("reap")["reply"], "reap")
		self.assertEqual(d.cmd("hold")["n"], 2)
		self.assertEqual(sorted(d.cmd("held")["live"]), sorted([a, c]))


class TestErrors(QueueTest):
	def test_503_backpressure(self):
		self.fake.create()
		d = self.start()
		d.wait_polls(1)
		self.assertEqual(d.cmd("stats")["last_503_ms"], 0)
		self.fake.ctl("POST", "faults", {"route": "list", "busy": True, "times": 3})
		before = time.time() * 1000
		d.wait_event(lambda e: e.get("event") == "poll" and not e["ok"])
		d.next_poll()
		self.assertGreaterEqual(d.cmd("stats")["last_503_ms"], before - 1000)
		self.assertEqual(len(self.lines("error updating queue")), 1)
		self.assertEqual(len(self.lines("queue poll succeeded again")), 1)

	def test_malformed_and_truncated(self):
		u = self.fake.create()["uuid"]
		d = self.start()
		d.wait_polls(1)
		d.settle()
		self.fake.ctl("POST", "faults", {"route": "list", "malformed": True, "times": 3})
		d.wait_event(lambda e: e.get("event") == "poll" and not e["ok"])
		d.next_poll()
		self.fake.ctl("POST", "faults", {"route": "list", "truncated": True, "times": 1})
		d.wait_event(lambda e: e.get("event") == "poll" and not e["ok"])
		d.next_poll()
		self.assertIn(u, d.entries())               # the mirror survived
		errs = self.lines("error updating queue")
		self.assertEqual(len(errs), 2, errs)        # one per condition, not per poll
		self.assertEqual(len(self.lines("queue poll succeeded again")), 2)

	def test_timeouts_and_hangups(self):
		self.fake.create()
		d = self.start()
		d.wait_polls(1)
		self.fake.ctl("POST", "faults", {"route": "list", "drop": True, "times": None})
		for _ in range(3):
			d.wait_event(lambda e: e.get("event") == "poll" and not e["ok"])
		self.fake.ctl("DELETE", "faults")
		d.next_poll()
		self.assertEqual(len(self.lines("error updating queue")), 1)

	def test_mounts_batch_failures(self):
		self.fake.ctl("POST", "faults", {"route": "list", "form": '"mounts"', "status": 500, "times": 2})
		us = [self.fake.create()["uuid"] for _ in range(5)]
		d = self.start()
		d.wait_polls(3)
		d.settle()
		self.assertEqual({u: d.entries()[u]["fit"] for u in us}, {u: "ok" for u in us})
		self.assertEqual(len(self.lines("error getting mounts")), 1)
		self.assertEqual(len(self.lines("getting mounts works again")), 1)
		log = self.dlog()
		reqs = self.mounts_requests(log)   # the answered ones: one batch of all five
		self.assertEqual([(k, sorted(x)) for k, x in reqs], [("batch", sorted(us))])
		self.assertEqual(sum(e["route"] == "list" and e.get("fault") is not None for e in log), 2)

	def test_mounts_fetch_failures(self):
		self.fake.ctl("POST", "faults", {"route": "get", "status": 500, "times": 4})
		u = self.fake.create()["uuid"]
		d = self.start()
		d.wait_polls(3)
		d.settle()
		self.assertEqual(d.entries()[u]["fit"], "ok")
		self.assertEqual(len(self.lines("error getting mounts")), 1)
		self.assertEqual(len(self.lines("getting mounts works again")), 1)


class TestMountsBatch(QueueTest):
	def test_requests_for_new_containers(self):
		"""250 new containers: 3 list requests (100, 100, 50), no GET."""
		self.fake.ctl("POST", "containers/bulk", {"count": 250})
		d = self.start()
		d.wait_polls(1)
		d.settle()
		ents = d.entries()
		self.assertEqual(len(ents), 250)
		self.assertEqual({e["fit"] for e in ents.values()}, {"ok"})
		log = self.dlog()
		self.assert_spec_calls(log)
		reqs = self.mounts_requests(log)
		self.assertEqual(sorted((k, len(us)) for k, us in reqs), [("batch", 50), ("batch", 100), ("batch", 100)])
		self.assertEqual(sorted(u for _, us in reqs for u in us), sorted(ents))

	def test_fallback_bad_mounts_and_tmp(self):
		"""A container the batch did not return gets its own GET; undecodable mounts cancel
		that container only; tmp mounts count towards the instance type, others do not."""
		f = self.fake
		gone = f.create()["uuid"]
		bad = f.create()["uuid"]
		f.ctl("PATCH", "containers/" + bad, {"mounts": {"/x": []}})
		tmp = f.create(mounts={"/tmp": {"kind": "tmp", "capacity": 1 << 40}})["uuid"]
		coll = f.create(mounts={"/in": {"kind": "collection", "capacity": 1 << 40,
						"portable_data_hash": "d41d8cd98f00b204e9800998ecf8427e+0"}})["uuid"]
		ok = f.create()["uuid"]
		# hold the batch at the server while the test deletes one of its containers
		f.ctl("POST", "faults", {"route": "list", "form": '"mounts"', "delay": 2})
		d = self.start(poll="4s")   # no poll drops it before the batch is answered
		deadline = time.time() + 20
		while not any(e.get("fault") for e in f.ctl("GET", "log")["items"]):
			self.assertLess(time.time(), deadline)
			time.sleep(0.05)
		f.ctl("DELETE", "containers/" + gone)
		deadline = time.time() + 30
		while gone in d.entries():
			self.assertLess(time.time(), deadline)
			time.sleep(0.1)
		d.settle()
		ents = d.entries()
		self.assertEqual(f.rec(bad)["state"], "Cancelled")
		self.assertEqual(f.rec(bad)["runtime_status"]["error"],
				 ERR_MOUNTS + "struct field Container.mounts./x of type arvados.Mount")
		self.assertEqual((f.rec(tmp)["state"], f.rec(tmp)["runtime_status"]), ("Cancelled", {"error": ERR_UNSAT}))
		self.assertEqual((ents[coll]["fit"], ents[ok]["fit"]), ("ok", "ok"))
		self.assertEqual(ents[coll]["instance_types"], ents[ok]["instance_types"])
		log = self.dlog()
		self.assert_spec_calls(log)
		reqs = self.mounts_requests(log)
		self.assertEqual(sorted(reqs[0][1]), sorted([gone, bad, tmp, coll, ok]))
		self.assertEqual(reqs[0][0], "batch")
		# the fallback: GETs for the one the batch left out, for no other
		self.assertGreaterEqual(len(reqs), 2)
		self.assertEqual({(k, tuple(us)) for k, us in reqs[1:]}, {("get", (gone,))})


class TestMountsBatchShortPages(QueueTest):
	fake_args = ("--mounts-page-limit", "7")

	def test_short_page_rebatched(self):
		"""The server cuts a batch's page short (MaxIndexDatabaseRead): the rest go in later
		batches, not in one GET each."""
		self.fake.ctl("POST", "containers/bulk", {"count": 20})
		d = self.start()
		d.wait_polls(1)
		d.settle()
		ents = d.entries()
		self.assertEqual({e["fit"] for e in ents.values()}, {"ok"})
		reqs = self.mounts_requests(self.dlog())
		self.assertEqual({k for k, _ in reqs}, {"batch"})
		self.assertEqual([len(us) for _, us in reqs], [20, 13, 6])


class TestServerDown(QueueTest):
	fake_args = None

	def test_down_then_up(self):
		port = free_port()
		d = self.start(url="http://127.0.0.1:%d" % port)
		for _ in range(2):
			d.wait_event(lambda e: e.get("event") == "poll" and not e["ok"], timeout=10)
		self.fake = FakeServer("--port", str(port))
		u = self.fake.create()["uuid"]
		d.wait_polls(1, timeout=20)
		d.settle()
		self.assertIn(u, d.entries())
		self.assertEqual(len(self.lines("error updating queue")), 1)
		self.assertEqual(len(self.lines("waiting 1.0s before retry")), 1)
		self.assertEqual(self.log()[0]["route"], "token_current")


class TestUnsatisfiable(QueueTest):
	def test_bad_mounts_cancelled(self):
		u = self.fake.create()["uuid"]
		self.fake.ctl("PATCH", "containers/" + u, {"mounts": {"/x": []}})
		ok = self.fake.create()["uuid"]
		d = self.start()
		d.wait_polls(1)
		d.settle()
		rec = self.fake.rec(u)
		self.assertEqual(rec["state"], "Cancelled")
		self.assertTrue(rec["runtime_status"]["error"].startswith(ERR_MOUNTS), rec["runtime_status"])
		self.assertEqual(rec["runtime_status"]["error"],
				 ERR_MOUNTS + "struct field Container.mounts./x of type arvados.Mount")
		calls = [(e["route"], e["params"].get("container")) for e in self.log(uuid=u) if e["route"] != "get"]
		self.assertEqual(calls, [("lock", None), ("update", {"runtime_status": {"error": rec["runtime_status"]["error"]}}),
					 ("update", {"state": "Cancelled"})])
		self.assertEqual(d.entries()[ok]["fit"], "ok")
		self.assert_spec_calls(self.log())

	def test_unsatisfiable_with_backoff(self):
		self.fake.ctl("POST", "faults", {"route": "lock", "status": 500, "times": None})
		u = self.fake.create(runtime_constraints={"ram": 1 << 40})["uuid"]
		d = self.start()
		d.wait_polls(1)
		# Failed attempts are retried after 1 s, 2 s, 4 s..., not at every 200 ms poll: each
		# attempt began at least that long after the one before it began. A bound that load
		# cannot break (a busy machine only stretches the gaps), so the polls run until three
		# attempts were made rather than for a fixed time.
		deadline = time.time() + 60
		while len(self.log(route="lock")) < 3:
			self.assertLess(time.time(), deadline)
			d.next_poll()
		times = sorted(e["time"] for e in self.log(route="lock"))
		for i, (a, b) in enumerate(zip(times, times[1:])):
			self.assertGreaterEqual(b - a, 2 ** i, times)
		e = d.entries()[u]
		self.assertEqual((e["fit"], e["fit_error"], e["instance_types"]), ("none", ERR_UNSAT, []))
		self.fake.ctl("DELETE", "faults")
		deadline = time.time() + 20
		while self.fake.rec(u)["state"] != "Cancelled":
			self.assertLess(time.time(), deadline)
			time.sleep(0.1)
		self.assertEqual(self.fake.rec(u)["runtime_status"], {"error": ERR_UNSAT})
		self.assertEqual(len(self.lines("cancel container with no suitable instance type")), 1)

	def test_unparsable_record(self):
		ok = self.fake.create()["uuid"]
		bad = self.fake.create()["uuid"]
		self.fake.ctl("PATCH", "containers/" + bad, {"runtime_constraints": {"ram": "lots", "vcpus": 1}})
		d = self.start()
		d.wait_polls(1)
		d.settle()
		self.assertEqual(d.entries()[ok]["fit"], "ok")
		rec = self.fake.rec(bad)
		self.assertEqual(rec["state"], "Cancelled")
		self.assertTrue(rec["runtime_status"]["error"].startswith(
			"error decoding container record: json: cannot unmarshal string into Go struct field"),
			rec["runtime_status"])
		self.assertEqual(d.cmd("stats")["polls_failed"], 0)

	def test_running_container_no_type_fits_is_kept(self):
		u = self.fake.create(runtime_constraints={"ram": 1 << 40})["uuid"]
		self.fake.ctl("POST", "containers/%s/state" % u, {"state": "Locked"})
		self.fake.ctl("POST", "containers/%s/state" % u, {"state": "Running"})
		d = self.start()
		d.wait_polls(1)
		d.settle()
		d.next_poll()
		e = d.entries()[u]
		self.assertEqual((e["state"], e["fit"], e["instance_types"]), ("Running", "none", []))
		self.assertEqual(e["fit_error"], ERR_UNSAT)
		self.assertEqual([x for x in self.log(uuid=u) if x["route"] != "get"], [])
		self.assertEqual(self.fake.rec(u)["state"], "Running")


if __name__ == "__main__":
	parallel_cases.main()  # the cases side by side: each has its own fake server and driver
