"""Tests that the fake Arvados API server refuses what the real one refuses
(shared/spec/arvados-api-server.md, section 7), and that its test hooks work."""
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakearv_testlib import FakeServer, ROOT, OTHER, USER  # noqa: E402

ROOT_UUID = "zzzzz-gj3su-000000000000000"
OTHER_UUID = "zzzzz-gj3su-otherdispatch01"
S = ["uuid", "state", "priority", "runtime_constraints", "container_image", "scheduling_parameters", "created_at"]
MAX_TEXT = "Failed to start container.  Cancelled after exceeding 'Containers.MaxDispatchAttempts' (lock_count=%d)"
FIXTURES = "/work/shared/spec/containers-fixtures.yml"
HERE = os.path.dirname(os.path.abspath(__file__))


class Base(unittest.TestCase):
	@classmethod
	def setUpClass(cls):
		cls.srv = FakeServer()

	@classmethod
	def tearDownClass(cls):
		cls.srv.stop()

	def setUp(self):
		self.srv.ctl("POST", "reset")

	def assertErr(self, r, status, text):
		self.assertEqual(r.status, status, r.raw)
		self.assertEqual(r.headers.get("Content-Type"), "application/json")
		self.assertIn(text, r.errtext())
		self.assertRegex(r.json["error_token"], r"^\d+\+[0-9a-f]{8}$")

	def lock(self, uuid, token=ROOT):
		return self.srv.api("POST", "containers/%s/lock" % uuid, token=token)

	def unlock(self, uuid, token=ROOT):
		return self.srv.api("POST", "containers/%s/unlock" % uuid, token=token)

	def put(self, uuid, attrs, token=ROOT, **params):
		params["container"] = attrs
		return self.srv.api("PUT", "containers/" + uuid, params, token=token)

	def get(self, uuid, token=ROOT, **params):
		return self.srv.api("GET", "containers/" + uuid, params, token=token)

	def ls(self, token=ROOT, **params):
		return self.srv.api("GET", "containers", params, token=token)


class TestAuth(Base):
	def test_missing_and_bad_token_401(self):
		c = self.srv.create()
		for tok in (None, "nosuchtoken", "v2/zzzzz-gj3su-otherdispatch01/wrongsecret",
			    "v2/zzzzz-gj3su-wronguuid000000/othersecret"):
			self.assertErr(self.get(c["uuid"], token=tok), 401, "Not logged in")
			self.assertErr(self.ls(token=tok), 401, "Not logged in")

	def test_token_sources(self):
		r = self.srv.raw("GET", "/arvados/v1/api_client_authorizations/current", headers={"Authorization": "OAuth2 " + ROOT})
		self.assertEqual(r.status, 200)
		r = self.srv.raw("GET", "/arvados/v1/api_client_authorizations/current?api_token=" + ROOT)
		self.assertEqual(r.status, 200)
		self.assertEqual(r.json["uuid"], ROOT_UUID)

	def test_current_matches_locked_by(self):
		for tok, want in ((ROOT, ROOT_UUID), (OTHER, OTHER_UUID)):
			cur = self.srv.api("GET", "api_client_authorizations/current", token=tok)
			self.assertEqual(cur.status, 200)
			self.assertEqual(cur.json["kind"], "arvados#apiClientAuthorization")
			self.assertEqual(cur.json["uuid"], want)
			self.assertEqual(cur.json["scopes"], ["all"])
			c = self.srv.create()
			r = self.lock(c["uuid"], token=tok)
			self.assertEqual(r.status, 200)
			self.assertEqual(r.json["locked_by_uuid"], want)

	def test_non_admin_sees_nothing(self):
		c = self.srv.create()
		r = self.ls(token=USER)
		self.assertEqual(r.status, 200)
		self.assertEqual(r.json["items"], [])
		self.assertEqual(r.json["items_available"], 0)
		self.assertErr(self.get(c["uuid"], token=USER), 404, "Path not found")
		self.assertErr(self.lock(c["uuid"], token=USER), 404, "Path not found")
		self.assertErr(self.unlock(c["uuid"], token=USER), 404, "Path not found")
		self.assertErr(self.put(c["uuid"], {"priority": 3}, token=USER), 404, "Path not found")

	def test_visible_but_not_writable_403(self):
		c = self.srv.create()
		self.srv.ctl("POST", "tokens", {"token": "viewer", "admin": False, "visible": [c["uuid"]]})
		self.assertEqual(self.get(c["uuid"], token="viewer").status, 200)
		self.assertEqual([i["uuid"] for i in self.ls(token="viewer").json["items"]], [c["uuid"]])
		self.assertEqual(self.lock(c["uuid"], token="viewer").status, 403)
		self.assertEqual(self.put(c["uuid"], {"priority": 3}, token="viewer").status, 403)
		r = self.srv.api("POST", "containers", {"container": {"command": ["x"]}}, token="viewer")
		self.assertEqual(r.status, 403)
		self.assertEqual(self.srv.api("DELETE", "containers/" + c["uuid"], token="viewer").status, 403)
		self.assertEqual(self.srv.rec(c["uuid"])["state"], "Queued")

	def test_routes(self):
		self.assertErr(self.srv.api("GET", "collections"), 404, "API endpoint not found")
		self.assertErr(self.get("zzzzz-dz642-nosuchcontainer"), 404, "Path not found")
		r = self.get("zzzzz-dz642-nosuchcontainer")
		# controller's prefix and Rails' request id are both there
		self.assertIn("404 Not Found", r.errtext())

	def test_request_id_echoed_and_in_errors(self):
		c = self.srv.create(priority=0)
		r = self.srv.api("POST", "containers/%s/lock" % c["uuid"], headers={"X-Request-Id": "req-abcdefghij0123456789"})
		self.assertEqual(r.headers["X-Request-Id"], "req-abcdefghij0123456789")
		self.assertIn("(req-abcdefghij0123456789)", r.errtext())
		r = self.srv.raw("GET", "/arvados/v1/containers", headers={"Authorization": "Bearer " + ROOT})
		self.assertRegex(r.headers["X-Request-Id"], r"^req-[0-9a-z]{1,20}$")


class TestLockUnlock(Base):
	def test_lock_queued(self):
		c = self.srv.create()
		r = self.lock(c["uuid"])
		self.assertEqual(r.status, 200, r.raw)
		self.assertEqual(set(r.json), {"kind", "etag", "uuid", "state", "priority", "auth_uuid", "locked_by_uuid"})
		self.assertEqual(r.json["state"], "Locked")
		self.assertEqual(r.json["priority"], c["priority"])
		self.assertEqual(r.json["locked_by_uuid"], ROOT_UUID)
		self.assertRegex(r.json["auth_uuid"], r"^zzzzz-gj3su-[0-9a-z]{15}$")
		self.assertEqual(self.srv.rec(c["uuid"])["lock_count"], 1)

	def test_lock_refusals(self):
		c = self.srv.create()
		self.assertEqual(self.lock(c["uuid"]).status, 200)
		self.assertErr(self.lock(c["uuid"]), 422, "#<ArvadosModel::LockFailedError: cannot lock when Locked>")
		self.assertErr(self.lock(c["uuid"], token=OTHER), 422, "cannot lock when Locked")
		self.assertEqual(self.put(c["uuid"], {"state": "Running"}).status, 200)
		self.assertErr(self.lock(c["uuid"]), 422, "cannot lock when Running")
		z = self.srv.create(priority=0)
		self.assertErr(self.lock(z["uuid"]), 422, "cannot lock when priority<=0")
		self.assertErr(self.put(z["uuid"], {"state": "Locked"}), 422, "cannot lock when priority<=0")
		self.assertEqual(self.srv.rec(z["uuid"])["lock_count"], 0)

	def test_runtime_token_lock_has_no_auth_uuid(self):
		c = self.srv.create(runtime_token="v2/zzzzz-gj3su-runtimetoken001/rtsecret")
		r = self.lock(c["uuid"])
		self.assertEqual(r.status, 200)
		self.assertIsNone(r.json["auth_uuid"])

	def test_concurrent_locks_exactly_one_wins(self):
		c = self.srv.create()
		out = []
		ts = [threading.Thread(target=lambda t=t: out.append(self.lock(c["uuid"], token=t).status))
		      for t in [ROOT, OTHER] * 4]
		for t in ts:
			t.start()
		for t in ts:
			t.join()
		self.assertEqual(sorted(out), [200] + [422] * 7)
		self.assertEqual(self.srv.rec(c["uuid"])["lock_count"], 1)

	def test_unlock_rules(self):
		c = self.srv.create()
		self.assertErr(self.unlock(c["uuid"]), 422, "#<ArvadosModel::InvalidStateTransitionError: cannot unlock when Queued>")
		self.lock(c["uuid"])
		self.assertErr(self.unlock(c["uuid"], token=OTHER), 403, "locked by a different token")
		self.assertErr(self.put(c["uuid"], {"state": "Queued"}, token=OTHER), 403, "locked by a different token")
		self.assertEqual(self.put(c["uuid"], {"runtime_status": {"warning": "w"}}).status, 200)
		tok = self.srv.ctl("GET", "containers/%s/token" % c["uuid"])["api_token"]
		r = self.unlock(c["uuid"])
		self.assertEqual(r.status, 200)
		self.assertEqual(set(r.json), {"kind", "etag", "uuid", "state", "priority", "auth_uuid", "locked_by_uuid"})
		self.assertEqual((r.json["state"], r.json["locked_by_uuid"], r.json["auth_uuid"]), ("Queued", None, None))
		self.assertEqual(self.srv.rec(c["uuid"])["runtime_status"], {})
		# the old container token is expired
		self.assertErr(self.srv.api("GET", "containers/current", token=tok), 401, "Not logged in")
		self.assertErr(self.unlock(c["uuid"]), 422, "cannot unlock when Queued")

	def test_max_dispatch_attempts_default_10(self):
		c = self.srv.create()
		for i in range(1, 10):
			self.assertEqual(self.lock(c["uuid"]).status, 200)
			r = self.unlock(c["uuid"])
			self.assertEqual(r.json["state"], "Queued", i)
		self.assertEqual(self.lock(c["uuid"]).status, 200)
		r = self.unlock(c["uuid"])
		self.assertEqual(r.status, 200)
		self.assertEqual(r.json["state"], "Cancelled")
		self.assertIn("priority", r.json)
		rec = self.srv.rec(c["uuid"])
		self.assertEqual(rec["runtime_status"], {"error": MAX_TEXT % 10})
		self.assertEqual(rec["lock_count"], 10)
		self.assertIsNotNone(rec["finished_at"])
		self.assertIsNone(rec["locked_by_uuid"])

	def test_max_dispatch_attempts_configurable_via_put(self):
		self.srv.ctl("POST", "config", {"max_dispatch_attempts": 2})
		c = self.srv.create()
		self.lock(c["uuid"])
		self.assertEqual(self.put(c["uuid"], {"state": "Queued"}).json["state"], "Queued")
		self.lock(c["uuid"])
		r = self.put(c["uuid"], {"state": "Queued"})
		self.assertEqual(r.status, 200)
		self.assertEqual(r.json["state"], "Cancelled")
		self.assertEqual(r.json["runtime_status"]["error"].encode(), (MAX_TEXT % 2).encode())

	def test_priority_zero_does_not_change_state(self):
		c = self.srv.create()
		self.lock(c["uuid"])
		self.srv.ctl("POST", "containers/%s/cancel_request" % c["uuid"])
		rec = self.get(c["uuid"]).json
		self.assertEqual((rec["state"], rec["priority"]), ("Locked", 0))
		self.assertEqual(self.unlock(c["uuid"]).json["state"], "Queued")
		self.assertErr(self.lock(c["uuid"]), 422, "cannot lock when priority<=0")
		r = self.ls(filters=[["state", "=", "Queued"], ["priority", ">", "0"]])
		self.assertEqual(r.json["items"], [])


class TestUpdate(Base):
	def test_illegal_transitions(self):
		c = self.srv.create()
		u = c["uuid"]
		self.assertErr(self.put(u, {"state": "Running"}), 422, "State cannot change from Queued to Running")
		self.assertErr(self.put(u, {"state": "Complete"}), 422, "State cannot change from Queued to Complete")
		self.assertErr(self.put(u, {"state": "Bogus"}), 422, "State cannot change from Queued to Bogus")
		self.assertEqual(self.put(u, {"state": "Queued"}).status, 200)  # no-op
		self.lock(u)
		self.assertErr(self.put(u, {"state": "Complete"}), 422, "State cannot change from Locked to Complete")
		self.put(u, {"state": "Running"})
		self.assertErr(self.put(u, {"state": "Queued"}), 422, "State cannot change from Running to Queued")
		self.assertErr(self.put(u, {"state": "Locked"}), 422, "State cannot change from Running to Locked")
		self.assertEqual(self.put(u, {"state": "Complete", "exit_code": 0}).status, 200)
		self.assertErr(self.put(u, {"state": "Running"}), 422, "State cannot change from Complete to Running")
		self.assertEqual(self.put(u, {"state": "Cancelled"}).status, 200)
		self.assertErr(self.put(u, {"state": "Queued"}), 422, "State cannot change from Cancelled to Queued")
		self.assertErr(self.put(u, {"state": "Complete"}), 422, "State cannot change from Cancelled to Complete")

	def test_whitelist_by_state(self):
		c = self.srv.create()
		u = c["uuid"]
		r = self.put(u, {"runtime_status": {"error": "x"}})
		self.assertErr(r, 422, """Runtime status cannot be modified in state 'Queued' ({}, {"error"=>"x"})""")
		self.assertErr(self.put(u, {"exit_code": 1}), 422, "Exit code cannot be modified in state 'Queued' (nil, 1)")
		self.assertEqual(self.put(u, {"priority": 7}).json["priority"], 7)
		# not a change: same value, or null <-> {} <-> []
		self.assertEqual(self.put(u, {"runtime_status": None, "output": None, "command": c["command"]}).status, 200)
		self.lock(u)
		self.assertErr(self.put(u, {"exit_code": 1}), 422, "Exit code cannot be modified in state 'Locked'")
		self.assertErr(self.put(u, {"output": "x+1"}), 422, "Output cannot be modified in state 'Locked'")
		self.assertErr(self.put(u, {"command": ["y"]}), 422, "Command cannot be modified in state 'Locked'")
		self.assertErr(self.put(u, {"auth_uuid": "zzzzz-gj3su-aaaaaaaaaaaaaaa"}), 422, "Auth uuid is readonly")
		self.assertErr(self.put(u, {"locked_by_uuid": OTHER_UUID}), 422, "can only change to " + ROOT_UUID)
		self.assertEqual(self.put(u, {"locked_by_uuid": ROOT_UUID}).status, 200)
		# a hash is replaced whole
		self.put(u, {"runtime_status": {"error": "a", "warning": "b"}})
		r = self.put(u, {"runtime_status": {"error": "c"}}, select=["uuid"])
		self.assertEqual(r.json, {"kind": "arvados#container", "etag": "", "uuid": u})
		self.assertEqual(self.srv.rec(u)["runtime_status"], {"error": "c"})
		self.assertErr(self.put(u, {"runtime_status": {"error": 5}}), 422, "Runtime status 'error' value must be a string")
		self.assertErr(self.put(u, {"runtime_status": {"activity": ["x"]}}), 422, "Runtime status 'activity' value must be a string")
		self.assertEqual(self.put(u, {"runtime_status": {"other": 5}}).status, 200)
		# another admin may not write progress fields, but may still cancel
		self.assertErr(self.put(u, {"runtime_status": {"error": "z"}}, token=OTHER), 422, "Runtime status cannot be modified")
		r = self.put(u, {"created_at": "2000-01-01T00:00:00Z", "modified_by_user_uuid": "x", "state": "Cancelled"}, token=OTHER)
		self.assertEqual(r.status, 200)
		self.assertEqual(r.json["created_at"], c["created_at"])
		self.assertIsNone(r.json["locked_by_uuid"])
		self.assertIsNone(r.json["auth_uuid"])
		self.assertIsNotNone(r.json["finished_at"])
		self.assertErr(self.put(u, {"log": "abc+1"}), 422, "Log cannot be modified in state 'Cancelled'")

	def test_unknown_attribute(self):
		c = self.srv.create()
		self.assertErr(self.put(c["uuid"], {"bogus": 1}), 422, "unknown attribute 'bogus'")

	def test_crunch_run_path(self):
		c = self.srv.create(secret_mounts={"/s": {"kind": "text", "content": "sekrit"}})
		u = c["uuid"]
		self.lock(u)
		# crunch-run gets the container token with the dispatcher's (lock holder's) token
		self.assertErr(self.srv.api("GET", "containers/%s/auth" % u, token=OTHER), 403, "Not locked by your token")
		auth = self.srv.api("GET", "containers/%s/auth" % u)
		self.assertEqual(auth.status, 200)
		ctok = auth.json["api_token"]
		self.assertEqual(auth.json["uuid"], self.srv.rec(u)["auth_uuid"])
		# the container token may not start it: only admins move Locked -> Running
		self.assertEqual(self.put(u, {"state": "Running"}, token=ctok).status, 403)
		r = self.put(u, {"state": "Running"})
		self.assertEqual(r.status, 200)
		self.assertIsNotNone(r.json["started_at"])
		self.assertEqual(r.json["locked_by_uuid"], ROOT_UUID)
		self.assertEqual(self.srv.api("GET", "containers/current", token=ctok).json["uuid"], u)
		sm = self.srv.api("GET", "containers/%s/secret_mounts" % u, token=ctok)
		self.assertEqual(sm.json, {"secret_mounts": {"/s": {"kind": "text", "content": "sekrit"}}})
		self.assertErr(self.srv.api("GET", "containers/%s/secret_mounts" % u), 403, "Token is not associated with this container.")
		self.assertErr(self.srv.api("GET", "containers/current"), 404, "Token is not associated with a container.")
		# own token: progress fields yes, priority and log no; another admin: no progress fields
		self.assertEqual(self.put(u, {"progress": 0.5, "runtime_status": {"activity": "x"}}, token=ctok).status, 200)
		self.assertErr(self.put(u, {"priority": 5}, token=ctok), 422, "Priority cannot be modified in state 'Running'")
		self.assertErr(self.put(u, {"exit_code": 3}, token=OTHER), 422, "Exit code cannot be modified in state 'Running'")
		r = self.put(u, {"state": "Complete", "exit_code": 0, "output": "d41d8cd98f00b204e9800998ecf8427e+0"}, token=ctok)
		self.assertEqual(r.status, 200, r.raw)
		self.assertEqual((r.json["state"], r.json["exit_code"]), ("Complete", 0))
		self.assertIsNone(r.json["locked_by_uuid"])
		self.assertIsNone(r.json["auth_uuid"])
		self.assertIsNotNone(r.json["finished_at"])
		rec = self.srv.rec(u)
		self.assertEqual(rec["secret_mounts"], {})
		# finalisation expired the container token
		self.assertErr(self.get(u, token=ctok), 401, "Not logged in")
		# a complete container is gone from 'mine' and found by uuid
		self.assertEqual(self.ls(filters=[["locked_by_uuid", "=", ROOT_UUID]]).json["items"], [])
		self.assertEqual(len(self.ls(filters=[["uuid", "in", [u]]]).json["items"]), 1)

	def test_root_token_completes_too(self):
		c = self.srv.create()
		u = c["uuid"]
		self.lock(u)
		self.put(u, {"state": "Running"})
		r = self.put(u, {"state": "Complete", "exit_code": 137})
		self.assertEqual((r.status, r.json["exit_code"]), (200, 137))

	def test_retry_on_cancel(self):
		c = self.srv.create(retry_on_cancel=True, priority=5)
		self.lock(c["uuid"])
		self.assertEqual(self.put(c["uuid"], {"state": "Cancelled"}).status, 200)
		new = self.srv.rec(c["uuid"])["_retried_as"]
		self.assertNotEqual(new, c["uuid"])
		n = self.get(new).json
		self.assertEqual((n["state"], n["priority"], n["lock_count"], n["command"]), ("Queued", 5, 0, c["command"]))
		# without the hook nothing is created
		d = self.srv.create(priority=5)
		self.put(d["uuid"], {"state": "Cancelled"})
		self.assertIsNone(self.srv.rec(d["uuid"])["_retried_as"])

	def test_admin_create_and_delete(self):
		r = self.srv.api("POST", "containers", {"container": {"command": ["true"], "priority": 3, "state": "Running"}})
		self.assertEqual(r.status, 200, r.raw)
		self.assertEqual((r.json["state"], r.json["priority"], r.json["lock_count"]), ("Queued", 3, 0))
		self.assertRegex(r.json["uuid"], r"^zzzzz-dz642-[0-9a-z]{15}$")
		self.assertEqual(self.srv.api("DELETE", "containers/" + r.json["uuid"]).status, 200)
		self.assertEqual(self.get(r.json["uuid"]).status, 404)

	def test_patch_and_json_body(self):
		c = self.srv.create()
		r = self.srv.raw("PATCH", "/arvados/v1/containers/" + c["uuid"], body=json.dumps({"container": {"priority": 9}}).encode(),
				 headers={"Authorization": "Bearer " + ROOT, "Content-Type": "application/json"})
		self.assertEqual((r.status, r.json["priority"]), (200, 9))
		# a JSON body without the resource key: top-level keys are the attributes
		r = self.srv.raw("PUT", "/arvados/v1/containers/" + c["uuid"], body=json.dumps({"priority": 11}).encode(),
				 headers={"Authorization": "Bearer " + ROOT, "Content-Type": "application/json"})
		self.assertEqual((r.status, r.json["priority"]), (200, 11))


class TestList(Base):
	def mk(self, n, **kw):
		return [self.srv.create(**kw) for _ in range(n)]

	def uuids(self, r):
		self.assertEqual(r.status, 200, r.raw)
		return [i["uuid"] for i in r.json["items"]]

	def test_filters(self):
		a = self.srv.create(priority=5)
		b = self.srv.create(priority=1 << 60)
		z = self.srv.create(priority=0)
		self.lock(a["uuid"])
		every = {a["uuid"], b["uuid"], z["uuid"]}
		f = lambda *fs: set(self.uuids(self.ls(filters=list(fs))))  # noqa: E731
		self.assertEqual(f(["priority", ">", "0"]), {a["uuid"], b["uuid"]})
		self.assertEqual(f(["priority", ">", 5]), {b["uuid"]})
		self.assertEqual(f(["priority", ">=", "5"]), {a["uuid"], b["uuid"]})
		self.assertEqual(f(["priority", "<", str(1 << 60)]), {a["uuid"], z["uuid"]})
		self.assertEqual(f(["priority", "<=", 1 << 60]), every)
		self.assertEqual(f(["priority", "=", "1152921504606846976"]), {b["uuid"]})
		self.assertEqual(f(["state", "=", "Queued"], ["priority", ">", "0"]), {b["uuid"]})
		self.assertEqual(f(["locked_by_uuid", "=", ROOT_UUID]), {a["uuid"]})
		# != matches NULL too
		self.assertEqual(f(["locked_by_uuid", "!=", ROOT_UUID]), {b["uuid"], z["uuid"]})
		self.assertEqual(f(["locked_by_uuid", "!=", "x"]), every)
		self.assertEqual(f(["locked_by_uuid", "=", None]), {b["uuid"], z["uuid"]})
		self.assertEqual(f(["locked_by_uuid", "!=", None]), {a["uuid"]})
		self.assertEqual(f(["uuid", "in", [a["uuid"], "zzzzz-dz642-notthereatall00"]]), {a["uuid"]})
		self.assertEqual(f(["uuid", "not in", [a["uuid"]]]), {b["uuid"], z["uuid"]})
		self.assertEqual(f(["locked_by_uuid", "not in", [ROOT_UUID]]), {b["uuid"], z["uuid"]})
		self.assertEqual(f(["locked_by_uuid", "not in", [ROOT_UUID, None]]), set())
		self.assertEqual(f(["locked_by_uuid", "in", [None]]), {b["uuid"], z["uuid"]})
		self.assertEqual(f(["priority", "in", [5, "0"]]), {a["uuid"], z["uuid"]})
		self.assertEqual(f(["state", "like", "Lo%"]), {a["uuid"]})
		self.assertEqual(f(["state", "like", "lo%"]), set())
		self.assertEqual(f(["state", "ilike", "lo_ked"]), {a["uuid"]})
		self.assertEqual(f(["uuid", "is_a", "arvados#container"]), every)
		self.assertEqual(f(["created_at", ">", "2000-01-01T00:00:00Z"]), every)
		self.assertEqual(f(["created_at", "<", "2000-01-01 00:00:00"]), set())
		self.assertEqual(f(["lock_count", ">", 0]), {a["uuid"]})
		self.assertEqual(f("(priority > lock_count)"), {a["uuid"], b["uuid"]})
		# the Go client's escaped '>' arrives as \u003e and is decoded
		r = self.srv.raw("GET", '/arvados/v1/containers?filters=%5B%5B%22priority%22%2C%22%5Cu003e%22%2C%225%22%5D%5D',
				 headers={"Authorization": "Bearer " + ROOT})
		self.assertEqual(self.uuids(r), [b["uuid"]])

	def test_filter_errors(self):
		self.srv.create()
		for fs, text in (([["foo", "=", "x"]], "Invalid attribute 'foo' in filter"),
				 ([["runtime_token", "=", "x"]], "Invalid attribute 'runtime_token' in filter"),
				 ([["gateway_address", "=", "x"]], "Invalid attribute 'gateway_address' in filter"),
				 ([["state", "~~", "x"]], "Invalid operator '~~'"),
				 ([["uuid", "in", "x"]], "Invalid operand type 'String' for 'in' operator"),
				 ([["priority", ">", "abc"]], "Invalid operand 'abc' for integer attribute 'priority'"),
				 ([["priority", ">", 1.5]], "for integer attribute 'priority'"),
				 ([["priority", ">", 1 << 64]], "for integer attribute 'priority'"),
				 ([["priority", "in", ["x"]]], "for integer attribute 'priority'"),
				 ([["created_at", ">", "yesterday"]], "for datetime attribute"),
				 ([["state", "="]], "Invalid element in filters array"),
				 ({"state": "Queued"}, 'Could not parse "filters" param as an array')):
			self.assertErr(self.ls(filters=fs), 422, text)

	def test_malformed_json_params_400(self):
		for q in ("filters=%5B%5B", "select=%5B%22uuid", "order=%5Bx", "where=%7Bx"):
			r = self.srv.raw("GET", "/arvados/v1/containers?" + q, headers={"Authorization": "Bearer " + ROOT})
			self.assertEqual(r.status, 400, q)
			self.assertIn("error decoding", r.errtext())
		c = self.srv.create()
		r = self.srv.raw("PUT", "/arvados/v1/containers/" + c["uuid"], body=b"container=%7B%22priority%22%3A",
				 headers={"Authorization": "Bearer " + ROOT, "Content-Type": "application/x-www-form-urlencoded"})
		self.assertEqual(r.status, 400)
		r = self.srv.raw("PUT", "/arvados/v1/containers/" + c["uuid"], body=b"{not json",
				 headers={"Authorization": "Bearer " + ROOT, "Content-Type": "application/json"})
		self.assertEqual(r.status, 400)

	def test_order(self):
		cs = self.mk(3, priority=7) + self.mk(2, priority=9)
		byuuid = sorted(c["uuid"] for c in cs)
		self.assertEqual(self.uuids(self.ls(order="uuid")), byuuid)
		self.assertEqual(self.uuids(self.ls(order="uuid desc")), byuuid[::-1])
		# ties broken by uuid desc when modified_at is not selected
		r = self.ls(order="priority desc", select=S)
		want = sorted([c for c in cs], key=lambda c: (-c["priority"], [-ord(ch) for ch in c["uuid"]]))
		self.assertEqual(self.uuids(r), [c["uuid"] for c in want])
		# unknown columns and directions are ignored; arrays accepted
		self.assertEqual(self.uuids(self.ls(order=["nosuch", "priority sideways", "uuid asc"])), byuuid)
		self.assertEqual(self.uuids(self.ls(order="priority asc, uuid desc")),
				 [c["uuid"] for c in sorted(cs, key=lambda c: (c["priority"], [-ord(ch) for ch in c["uuid"]]))])
		# an order column that is not selected is dropped: here the default uuid desc decides
		self.assertEqual(self.uuids(self.ls(order="priority asc", select=["uuid"])), byuuid[::-1])

	def test_limit_offset_count(self):
		cs = self.mk(105)
		r = self.ls()
		self.assertEqual((r.json["limit"], r.json["offset"], len(r.json["items"]), r.json["items_available"]), (100, 0, 100, 105))
		self.assertEqual(r.json["kind"], "arvados#containerList")
		r = self.ls(limit=10, offset=100, order="uuid")
		self.assertEqual(self.uuids(r), sorted(c["uuid"] for c in cs)[100:])
		self.assertEqual(r.json["items_available"], 105)
		r = self.ls(limit=0)
		self.assertEqual((r.json["items"], r.json["items_available"]), ([], 105))
		r = self.ls(count="none", limit=3)
		self.assertNotIn("items_available", r.json)
		self.assertEqual(len(r.json["items"]), 3)
		self.assertEqual(self.ls(count="").json["items_available"], 105)
		self.assertErr(self.ls(count="estimated"), 422, "count")
		self.assertErr(self.ls(limit="abc"), 422, "Invalid value for limit parameter")
		self.assertErr(self.ls(limit="-1"), 422, "Invalid value for limit parameter")
		self.assertErr(self.ls(offset="1x"), 422, "Invalid value for offset parameter")
		r = self.ls(limit=5000)
		self.assertEqual((r.json["limit"], len(r.json["items"])), (1000, 105))
		self.srv.ctl("POST", "config", {"max_items": 7})
		self.assertEqual(self.ls(limit=50).json["limit"], 7)

	def test_page_limit_and_uuid_paging(self):
		cs = self.mk(5)
		self.lock(cs[0]["uuid"])
		self.srv.ctl("POST", "config", {"page_limit": 2})
		r = self.ls(limit=1000, count="none")
		self.assertEqual((r.json["limit"], len(r.json["items"])), (2, 2))
		# the dispatcher's 'mine'-style loop: uuid > last until an empty page
		seen, fs = [], [["state", "in", ["Queued", "Locked"]]]
		while True:
			r = self.ls(filters=fs + ([["uuid", ">", seen[-1]]] if seen else []), order="uuid", limit=1000, count="none", select=S)
			if not r.json["items"]:
				break
			self.assertLessEqual(len(r.json["items"]), 2)
			seen += self.uuids(r)
		self.assertEqual(seen, sorted(c["uuid"] for c in cs))
		# a short page is only produced when more rows match
		r = self.ls(filters=[["uuid", "=", cs[1]["uuid"]]])
		self.assertEqual((r.json["limit"], len(r.json["items"])), (100, 1))

	def test_mounts_batch(self):
		"""The queue's mounts batch: uuid in [...], select uuid+mounts, limit = the batch size."""
		cs = self.mk(4)
		self.srv.ctl("PATCH", "containers/" + cs[1]["uuid"], {"mounts": {"/x": []}})
		self.srv.ctl("PATCH", "containers/" + cs[2]["uuid"], {"mounts": {"/t": {"kind": "tmp", "capacity": 5}}})
		asked = [c["uuid"] for c in cs[:3]] + ["zzzzz-dz642-000000000000000"]
		r = self.ls(filters=[["uuid", "in", asked]], select=["uuid", "mounts"], limit=4)
		self.assertEqual(r.status, 200, r.raw)
		self.assertEqual((r.json["limit"], r.json["offset"], r.json["items_available"]), (4, 0, 3))
		self.assertEqual(sorted(self.uuids(r)), sorted(asked[:3]))
		by = {i["uuid"]: i for i in r.json["items"]}
		self.assertEqual(set(by[asked[0]]), {"uuid", "mounts", "kind", "etag"})
		self.assertEqual(by[asked[1]]["mounts"], {"/x": []})          # raw, as stored
		self.assertEqual(by[asked[2]]["mounts"], {"/t": {"kind": "tmp", "capacity": 5}})
		r = self.ls(filters=[["uuid", "in", asked]], select=["uuid", "mounts"], limit=4, count="none")
		self.assertNotIn("items_available", r.json)
		# MaxIndexDatabaseRead counts the mounts column only: short pages when it is selected
		self.srv.ctl("POST", "config", {"mounts_page_limit": 2})
		r = self.ls(filters=[["uuid", "in", asked]], select=["uuid", "mounts"], limit=4, count="none")
		self.assertEqual((r.json["limit"], len(r.json["items"])), (2, 2))
		r = self.ls(filters=[["uuid", "in", asked]], select=S, limit=4, count="none")
		self.assertEqual((r.json["limit"], len(r.json["items"])), (4, 3))
		# the limit is still clamped to MaxItemsPerResponse, the default is 100
		self.srv.ctl("POST", "config", {"mounts_page_limit": 0, "max_items": 2})
		r = self.ls(filters=[["uuid", "in", asked]], select=["uuid", "mounts"], limit=4, count="none")
		self.assertEqual((r.json["limit"], len(r.json["items"])), (2, 2))

	def test_select(self):
		c = self.srv.create(runtime_token="v2/zzzzz-gj3su-runtimetoken002/x",
				    secret_mounts={"/s": {"kind": "text", "content": "y"}})
		r = self.ls(select=S)
		self.assertEqual(set(r.json["items"][0]), set(S) | {"kind", "etag"})
		r = self.get(c["uuid"], select=["mounts"])
		self.assertEqual(set(r.json), {"kind", "etag", "mounts"})
		self.assertEqual(r.json["mounts"], c["mounts"])
		self.assertErr(self.ls(select=["uuid", "nosuch"]), 422, "Invalid attribute 'nosuch' of Container in select parameter")
		self.assertErr(self.ls(select=["runtime_token"]), 422, "Invalid attribute 'runtime_token'")
		self.assertErr(self.get(c["uuid"], select=["secret_mounts"]), 422, "Invalid attribute 'secret_mounts'")
		# secrets never leave the server
		for body in (self.ls().raw, self.get(c["uuid"]).raw, self.lock(c["uuid"]).raw, self.put(c["uuid"], {"state": "Running"}).raw):
			self.assertNotIn(b"runtime_token", body)
			self.assertNotIn(b"secret_mounts", body)

	def test_method_override_and_form_body(self):
		cs = self.mk(25)
		batch = [c["uuid"] for c in cs[:20]]
		params = {"count": "none", "filters": [["uuid", "in", batch], ["uuid", ">", "zzzzz-dz642-000000000000000"]],
			  "order": "uuid", "select": S}
		from fakearv_testlib import testlib_encode
		body = testlib_encode(params)
		self.assertGreater(len(body), 1000)
		h = {"Authorization": "Bearer " + ROOT, "Content-Type": "application/x-www-form-urlencoded",
		     "X-Http-Method-Override": "GET"}
		r = self.srv.raw("POST", "/arvados/v1/containers", body=body.encode(), headers=h)
		self.assertEqual(self.uuids(r), sorted(batch))
		h.pop("X-Http-Method-Override")
		r = self.srv.raw("POST", "/arvados/v1/containers", body=(body + "&_method=GET").encode(), headers=h)
		self.assertEqual(self.uuids(r), sorted(batch))
		# query string and body merge; body wins
		r = self.srv.raw("POST", "/arvados/v1/containers?limit=1&order=uuid", body=b"_method=GET&limit=2", headers=h)
		self.assertEqual(len(r.json["items"]), 2)
		# JSON body with real arrays
		r = self.srv.raw("POST", "/arvados/v1/containers", body=json.dumps({"_method": "GET", "filters": [["uuid", "=", batch[0]]]}).encode(),
				 headers={"Authorization": "Bearer " + ROOT, "Content-Type": "application/json", "X-Http-Method-Override": "GET"})
		self.assertEqual(self.uuids(r), [batch[0]])
		e = self.srv.ctl("GET", "log?route=list")["items"]
		self.assertEqual([(x["method"], x["original_method"]) for x in e], [("GET", "POST")] * 4)

	def test_int64_literals(self):
		big = (1 << 62) + 12345
		c = self.srv.create(priority=big)
		r = self.get(c["uuid"], select=["priority", "lock_count", "exit_code"])
		self.assertIn(b'"priority":%d' % big, r.raw)
		self.assertIn(b'"lock_count":0', r.raw)
		self.assertEqual(r.json["priority"], big)
		p = self.srv.create()["priority"]
		self.assertIsInstance(p, int)
		self.assertGreater(p, 1 << 49)  # CR priority 1 << 50 minus creation ms

	def test_where(self):
		a = self.srv.create(priority=3)
		self.srv.create(priority=4)
		self.assertEqual(self.uuids(self.ls(where={"priority": 3})), [a["uuid"]])


class TestBulkAndKeyset(Base):
	def test_bulk_create_and_uuid_pages_match_the_general_path(self):
		r = self.srv.ctl("POST", "containers/bulk", {"count": 57, "fields": {"runtime_constraints": {"vcpus": 2}},
							 "uuids": True})
		self.assertEqual(r["count"], 57)
		self.assertEqual(len(set(r["uuids"])), 57)
		rec = self.srv.rec(r["uuids"][3])
		self.assertEqual((rec["state"], rec["runtime_constraints"]["vcpus"]), ("Queued", 2))
		self.assertGreater(rec["priority"], 0)
		self.srv.ctl("POST", "containers/%s/priority" % r["uuids"][5], {"priority": 0})
		self.srv.ctl("DELETE", "containers/" + r["uuids"][7])
		flt = [["state", "=", "Queued"], ["priority", ">", "0"]]
		seen, after = [], None
		while True:
			f = flt + ([["uuid", ">", after]] if after else [])
			page = self.srv.api("GET", "containers", {"filters": f, "order": "uuid", "limit": 10,
								"count": "none", "select": ["uuid"]}).json["items"]
			if not page:
				break
			seen += [c["uuid"] for c in page]
			after = page[-1]["uuid"]
		full = self.srv.api("GET", "containers", {"filters": flt, "order": "uuid", "limit": 1000,
							"select": ["uuid"]}).json
		self.assertEqual(seen, [c["uuid"] for c in full["items"]])
		self.assertEqual(len(seen), 55)
		self.assertEqual(seen, sorted(seen))
		bad = self.srv.raw("POST", "/_fake/containers/bulk", b'{"count": 1, "fields": {"nope": 1}}')
		self.assertEqual(bad.status, 400)

	def test_crunch_run_batch_applies_the_put_rules(self):
		a, b = self.srv.ctl("POST", "containers/bulk", {"count": 2, "uuids": True})["uuids"]
		self.assertEqual(self.lock(a).status, 200)
		r = self.srv.ctl("POST", "containers/crunch_run", {"uuids": [a, b], "exit_code": 3})
		self.assertEqual(r["done"], [a])
		self.assertEqual(list(r["errors"]), [b])  # Queued -> Running is refused, as by the PUT
		rec = self.srv.rec(a)
		self.assertEqual((rec["state"], rec["exit_code"]), ("Complete", 3))
		self.assertTrue(rec["started_at"] and rec["finished_at"])
		self.assertEqual(self.srv.rec(b)["state"], "Queued")


class TestFaultsAndLog(Base):
	def test_status_n_times(self):
		self.srv.ctl("POST", "faults", {"route": "list", "status": 500, "times": 2, "errors": ["boom"]})
		self.assertEqual(self.ls().status, 500)
		self.assertEqual(self.ls().json["errors"], ["boom"])
		self.assertEqual(self.ls().status, 200)
		self.assertEqual(self.srv.api("GET", "api_client_authorizations/current").status, 200)

	def test_busy_503_and_not_applied(self):
		c = self.srv.create()
		self.srv.ctl("POST", "faults", {"route": "lock", "busy": True})
		r = self.lock(c["uuid"])
		self.assertEqual((r.status, r.raw), (503, b""))
		self.assertEqual(self.srv.rec(c["uuid"])["state"], "Queued")
		self.assertEqual(self.lock(c["uuid"]).status, 200)

	def test_probability_and_forever(self):
		self.srv.ctl("POST", "faults", {"path": "/containers$", "status": 503, "probability": 0.0, "times": None})
		self.assertTrue(all(self.ls().status == 200 for _ in range(5)))
		self.srv.ctl("DELETE", "faults")
		f = self.srv.ctl("POST", "faults", {"method": "GET", "status": 502, "times": None})
		self.assertTrue(all(self.ls().status == 502 for _ in range(3)))
		self.assertEqual(self.srv.ctl("GET", "faults")["items"][0]["fired"], 3)
		self.assertEqual(f["times"], None)

	def test_seeded_probability_replays(self):
		"""A rule with a seed fails the same calls of the same sequence every time."""
		def pattern():
			self.srv.ctl("DELETE", "faults")
			self.srv.ctl("POST", "faults", {"route": "list", "status": 500, "probability": 0.5,
							"times": None, "seed": 7})
			return [self.ls().status for _ in range(16)]
		first = pattern()
		self.assertEqual(pattern(), first)
		self.assertEqual(set(first), {200, 500})

	def test_transitions(self):
		c = self.srv.create()
		self.lock(c["uuid"])
		self.put(c["uuid"], {"state": "Running"})
		self.put(c["uuid"], {"state": "Running"})  # the same state: no transition
		self.put(c["uuid"], {"state": "Complete", "exit_code": 0})
		t = self.srv.ctl("GET", "transitions?uuid=" + c["uuid"])["items"]
		self.assertEqual([(x["from"], x["to"]) for x in t],
				 [("Queued", "Locked"), ("Locked", "Running"), ("Running", "Complete")])
		self.assertEqual(t[0]["token_uuid"], "zzzzz-gj3su-000000000000000")
		self.assertEqual(self.srv.ctl("GET", "transitions?uuid=zzzzz-dz642-000000000000000")["items"], [])

	def test_malformed_and_truncated_take_effect(self):
		c = self.srv.create()
		self.srv.ctl("POST", "faults", {"route": "lock", "malformed": True})
		r = self.lock(c["uuid"])
		self.assertEqual(r.status, 200)
		self.assertIsNone(r.json)
		self.assertEqual(self.srv.rec(c["uuid"])["state"], "Locked")
		self.srv.ctl("POST", "faults", {"route": "unlock", "truncated": True})
		with self.assertRaises(http.client.IncompleteRead):
			self.unlock(c["uuid"])
		self.assertEqual(self.srv.rec(c["uuid"])["state"], "Queued")

	def test_drop_hang_delay(self):
		self.srv.ctl("POST", "faults", {"route": "list", "drop": True})
		with self.assertRaises((http.client.RemoteDisconnected, ConnectionResetError)):
			self.ls()
		self.srv.ctl("POST", "faults", {"route": "list", "hang": 30})
		with self.assertRaises(socket.timeout):
			self.srv.api("GET", "containers", timeout=0.5)
		self.srv.ctl("POST", "faults", {"route": "list", "delay": 0.05})
		self.assertEqual(self.ls().status, 200)
		self.assertEqual([e["fault"] is not None for e in self.srv.ctl("GET", "log?route=list")["items"]], [True, True, True])

	def test_request_log(self):
		c = self.srv.create()
		self.srv.api("GET", "api_client_authorizations/current")
		self.ls(filters=[["priority", ">", "0"]], order="priority desc", count="none", limit=1000, select=S)
		self.lock(c["uuid"])
		self.put(c["uuid"], {"runtime_status": {"error": "e"}}, select=["uuid"])
		self.lock(c["uuid"], token="bad")
		log = self.srv.ctl("GET", "log")["items"]
		self.assertEqual([(e["method"], e["route"], e["status"]) for e in log],
				 [("GET", "token_current", 200), ("GET", "list", 200), ("POST", "lock", 200),
				  ("PUT", "update", 200), ("POST", "lock", 401)])
		self.assertEqual(log[1]["params"]["filters"], [["priority", ">", "0"]])
		self.assertEqual(log[1]["params"]["order"], ["priority desc"])
		self.assertEqual(log[1]["query"]["filters"], '[["priority","\\u003e","0"]]')  # raw, as sent
		self.assertEqual(log[1]["token"], ROOT)
		self.assertEqual(log[1]["headers"]["Content-Type"], "application/x-www-form-urlencoded")
		self.assertRegex(log[1]["request_id"], r"^req-")
		self.assertEqual(log[3]["body"]["container"], '{"runtime_status":{"error":"e"}}')
		self.assertEqual(log[3]["params"]["container"], {"runtime_status": {"error": "e"}})
		self.assertEqual(log[2]["uuid"], c["uuid"])
		since = log[2]["seq"]
		self.assertEqual([e["seq"] for e in self.srv.ctl("GET", "log?since=%d" % since)["items"]], [log[3]["seq"], log[4]["seq"]])

	def test_reset(self):
		self.srv.create()
		self.ls()
		self.srv.ctl("POST", "faults", {"status": 500})
		self.srv.ctl("POST", "reset")
		self.assertEqual(self.ls().json["items"], [])
		self.assertEqual(len(self.srv.ctl("GET", "log")["items"]), 1)


class TestFixtures(Base):
	@classmethod
	def setUpClass(cls):
		cls.srv = FakeServer("--fixtures", FIXTURES, "--max-dispatch-attempts", "3")

	def test_loaded(self):
		r = self.ls(filters=[["state", "=", "Queued"], ["priority", ">", "0"]], order="priority desc", select=S)
		self.assertEqual(self.uuids(r), ["zzzzz-dz642-queuedcontainer"])
		self.assertEqual(r.json["items"][0]["created_at"], "2016-01-11T11:11:11.111111111Z")
		big = self.get("zzzzz-dz642-diagcompreq0001").json
		self.assertEqual(big["priority"], 562948349145881771)
		mine = self.ls(filters=[["locked_by_uuid", "=", ROOT_UUID]], order="uuid")
		self.assertEqual(self.uuids(mine), ["zzzzz-dz642-lockedcontainer"])
		self.assertEqual(self.unlock("zzzzz-dz642-lockedcontainer").json["state"], "Queued")
		rt = self.get("zzzzz-dz642-20isqbkl8xwnsao")
		self.assertNotIn(b"runtime_token", rt.raw)
		self.assertErr(self.unlock("zzzzz-dz642-20isqbkl8xwnsao"), 403, "locked by a different token")

	def test_max_dispatch_from_cli(self):
		u = "zzzzz-dz642-queuedcontainer"
		for _ in range(2):
			self.lock(u)
			self.assertEqual(self.unlock(u).json["state"], "Queued")
		self.lock(u)
		self.assertEqual(self.unlock(u).json["state"], "Cancelled")
		self.assertEqual(self.get(u).json["runtime_status"]["error"], MAX_TEXT % 3)

	uuids = TestList.uuids


class TestTLS(unittest.TestCase):
	def test_tls(self):
		if not shutil.which("openssl"):
			self.skipTest("openssl not installed")
		d = tempfile.mkdtemp()
		try:
			cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
			subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
					"-nodes", "-days", "2", "-subj", "/CN=localhost",
					"-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
					"-keyout", key, "-out", cert], check=True, capture_output=True)
			srv = FakeServer(tls=(cert, key))
			try:
				self.assertTrue(srv.info["url"].startswith("https://"))
				r = srv.api("GET", "api_client_authorizations/current")
				self.assertEqual((r.status, r.json["uuid"]), (200, ROOT_UUID))
				self.assertEqual(srv.api("GET", "containers", token=None).status, 401)
				# plain HTTP to the TLS port gets no HTTP answer
				c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
				with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
					c.request("GET", "/arvados/v1/containers")
					c.getresponse().read()
				c.close()
				# and a silent client does not block the others
				s = socket.create_connection(("127.0.0.1", srv.port))
				self.assertEqual(srv.api("GET", "containers").status, 200)
				s.close()
			finally:
				srv.stop()
		finally:
			shutil.rmtree(d)


class TestCli(unittest.TestCase):
	def test_refuses_non_loopback(self):
		r = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "fake_arvados.py"), "--port", "0", "--host", "0.0.0.0"],
				   capture_output=True, text=True, timeout=20)
		self.assertNotEqual(r.returncode, 0)
		self.assertIn("127.0.0.0/8", r.stderr)


if __name__ == "__main__":
	unittest.main()
