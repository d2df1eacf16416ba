"""fakearv_control - the /_fake/ test API (no token; the dispatcher never calls it).

It plays the parts of Arvados the fake does not model: users submitting and cancelling
container requests, operators, and the test itself (faults, request log, reset).
"""
import copy
import re
import time
import urllib.parse

from fakearv_errors import ApiError
from fakearv_model import COMPLETE, CANCELLED, STATES, Token, model_copy
from fakearv_params import params_json
from fakearv_values import values_now, COLUMNS, SECRET_COLUMNS

_C = r"/_fake/containers/([^/]+)"


def control_cr_priority(cr_priority, created_ns=None):
	"""A container's priority as RailsAPI derives it from one container request
	(container_priority in structure.sql): CR priority << 50 minus CR creation time in ms."""
	if cr_priority <= 0:
		return 0
	ms = (created_ns or time.time_ns()) // 1000000
	return (cr_priority << 50) - ms


def control_cr_defaults(model):
	"""The fields RailsAPI fills in when a committed container request makes a container."""
	return {
		"owner_uuid": model.system_user,
		"command": ["echo", "hello"],
		"cwd": "/tmp",
		"output_path": "/tmp",
		"environment": {},
		"container_image": "fa3c1a9cb6783f85f2ecda037e07b8c3+167",
		"mounts": {"/tmp": {"kind": "tmp", "capacity": 1000000000}},
		"runtime_constraints": {
			"API": False, "keep_cache_disk": 0, "keep_cache_ram": 268435456,
			"ram": 268435456, "vcpus": 1,
			"gpu": {"stack": "", "driver_version": "", "hardware_target": [],
				"device_count": 0, "vram": 0}},
		"scheduling_parameters": {"partitions": [], "preemptible": False, "max_run_time": 0,
					  "supervisor": False},
		"runtime_user_uuid": model.cluster + "-tpzed-xurymjxw79nv3jz",
		"runtime_auth_scopes": ["all"],
		"output_storage_classes": ["default"],
		"output_glob": [],
		"output_properties": {},
		"secret_mounts": {},
	}


def _control_merge(base, extra):
	"""Nested dicts from extra are merged into base's (runtime_constraints: {ram: N} keeps vcpus)."""
	out = copy.deepcopy(base)
	for k, v in extra.items():
		if isinstance(v, dict) and isinstance(out.get(k), dict) and k in ("runtime_constraints", "scheduling_parameters"):
			out[k] = _control_merge(out[k], v)
		else:
			out[k] = copy.deepcopy(v)
	return out


class Control:
	def __init__(self, state, handler):
		self.state = state
		self.h = handler

	def control_handle(self, method, path, query, body):
		try:
			data = params_json(body.decode("utf-8")) if body else {}
			q = dict(urllib.parse.parse_qsl(query))
			status, out = self.control_route(method, path, q, data)
		except ApiError as e:
			status, out = e.status, {"errors": [e.message]}
		except (ValueError, KeyError, TypeError) as e:
			status, out = 400, {"errors": ["%s: %s" % (type(e).__name__, e)]}
		self.h.server_send(status, out)

	@staticmethod
	def _raw(c):
		return {k: v for k, v in c.items() if not k.startswith("_")} | \
			{"_retried_as": c.get("_retried_as")}

	def _get(self, uuid):
		c = self.state.model.containers.get(uuid)
		if c is None:
			raise ApiError(404, "no such container %s" % uuid)
		return c

	def control_route(self, method, path, q, data):
		st = self.state
		model = st.model
		if path == "/_fake/health":
			return 200, {"ok": True}
		if path == "/_fake/reset" and method == "POST":
			st.server_reset()
			return 200, {"ok": True}
		if path == "/_fake/config":
			if method == "POST":
				with model.mu:
					for k in ("max_dispatch_attempts", "page_limit", "mounts_page_limit", "max_items"):
						if k in data:
							setattr(model, k, int(data[k]))
					if "retry_on_cancel" in data:
						model.retry_on_cancel = bool(data["retry_on_cancel"])
			return 200, {"max_dispatch_attempts": model.max_dispatch_attempts, "page_limit": model.page_limit,
				     "mounts_page_limit": model.mounts_page_limit, "max_items": model.max_items, "retry_on_cancel": model.retry_on_cancel,
				     "cluster_id": model.cluster}
		if path == "/_fake/tokens" and method == "POST":
			t = model.model_add_token(data["token"], admin=bool(data.get("admin", False)),
						  uuid=data.get("uuid"), visible=data.get("visible"))
			return 200, t.record() | {"admin": t.admin}
		if path == "/_fake/faults":
			if method == "POST":
				return 200, st.faults.faults_add(data)
			if method == "DELETE":
				st.faults.faults_clear()
				return 200, {"ok": True}
			return 200, {"items": st.faults.faults_list()}
		if path == "/_fake/transitions":
			# Every state change the model made, in order (fault suites count Locked->Running).
			with model.mu:
				items = [dict(t) for t in model.transitions
					 if q.get("uuid") in (None, t["uuid"])]
			return 200, {"items": items}
		if path == "/_fake/log/count":
			return 200, st.log.log_count()
		if path == "/_fake/log":
			if method == "DELETE":
				st.log.log_clear()
				return 200, {"ok": True}
			items = st.log.log_query(since=int(q.get("since", 0)), route=q.get("route"),
						 method=q.get("method"), path=q.get("path"))
			return 200, {"items": items}
		if path == "/_fake/containers/bulk" and method == "POST":
			return 200, self.control_bulk(data)
		if path == "/_fake/containers/crunch_run" and method == "POST":
			return 200, self.control_crunch_run(data)
		if path == "/_fake/containers":
			if method == "POST":
				return 200, self.control_create(data)
			with model.mu:
				return 200, {"items": [self._raw(c) for c in sorted(model.containers.values(), key=lambda c: c["_serial"])]}
		m = re.fullmatch(_C + r"(/[a-z_]+)?", path)
		if not m:
			raise ApiError(404, "no such control endpoint %s %s" % (method, path))
		uuid, sub = m.group(1), m.group(2)
		with model.mu:
			c = self._get(uuid)
			if sub is None:
				if method == "GET":
					return 200, self._raw(c)
				if method == "DELETE":
					del model.containers[uuid]
					model.uuid_index = None
					return 200, {"ok": True}
				if method in ("PATCH", "PUT", "POST"):
					# raw write, no rules: lets tests plant any state or undecodable JSON
					for k, v in data.items():
						if k not in COLUMNS and k not in SECRET_COLUMNS and k != "_retry_on_cancel":
							raise ApiError(400, "unknown container field %s" % k)
						c[k] = copy.deepcopy(v)
					c["modified_at"] = values_now()
					return 200, self._raw(c)
			if sub == "/state" and method == "POST":
				if data.get("state") not in STATES:
					raise ApiError(400, "state must be one of %s" % (STATES,))
				attrs = {k: v for k, v in data.items() if k != "state"}
				model.model_force_state(uuid, data["state"], attrs)
				return 200, self._raw(c)
			if sub == "/priority" and method == "POST":
				if "cr_priority" in data:
					c["priority"] = control_cr_priority(int(data["cr_priority"]))
				else:
					c["priority"] = int(data["priority"])
				c["modified_at"] = values_now()
				return 200, self._raw(c)
			if sub == "/cancel_request" and method == "POST":
				# What RailsAPI does when the last CR is cancelled: priority 0, state untouched
				# (the dispatcher then unlocks or kills; spec 2.8, checklist 28).
				c["priority"] = 0
				c["modified_at"] = values_now()
				return 200, self._raw(c)
			if sub == "/token" and method == "GET":
				t = model.model_token_by_uuid(c.get("auth_uuid")) if c.get("auth_uuid") else None
				if t is None and c.get("runtime_token"):
					t = model.tokens.get(c["runtime_token"].split("/")[-1])
				if t is None:
					raise ApiError(404, "container %s has no live token" % uuid)
				return 200, t.record()
		raise ApiError(404, "no such control endpoint %s %s" % (method, path))

	def control_bulk(self, data):
		"""{"count": N, "fields": {...}, "cr_priority": n, "uuids": false}: N containers made
		as control_create makes one (the defaults merged once, records copied), for load
		tests. Priorities differ per container (creation time in ms goes into them)."""
		model = self.state.model
		n = int(data.get("count", 0))
		fields = dict(data.get("fields") or {})
		cr_priority = int(data.get("cr_priority", 1))
		if n < 0 or n > 1000000:
			raise ApiError(400, "count must be 0..1000000")
		for k in fields:
			if k not in COLUMNS and k not in SECRET_COLUMNS:
				raise ApiError(400, "unknown container field %s" % k)
		base = _control_merge(control_cr_defaults(model), fields)
		base["_retry_on_cancel"] = False
		uuids = []
		with model.mu:
			for i in range(n):
				rec = model_copy(base)
				if "priority" not in fields:
					rec["priority"] = control_cr_priority(cr_priority) - i
				uuids.append(model.model_insert(rec)["uuid"])
		out = {"count": n}
		if data.get("uuids"):
			out["uuids"] = uuids
		return out

	def control_crunch_run(self, data):
		"""{"uuids": [...], "exit_code": 0}: for each container, the two updates a crunch-run
		makes with the SystemRootToken (PUT state=Running, then state=Complete with exit_code),
		through the same rules as the API's PUT. For a light crunch-run stand-in
		(bench/e2e/bench_crunch_run.c) that would otherwise make two HTTPS calls per container.
		Returns {"done": [uuids], "errors": {uuid: message}} (a container cancelled or unlocked
		meanwhile is refused there, as the real PUT would refuse it)."""
		model = self.state.model
		code = int(data.get("exit_code", 0))
		tok = model.model_token_by_uuid(model.root_uuid) or \
			Token(model.root_uuid, "", True, model.system_user)
		done, errors = [], {}
		for uuid in data.get("uuids") or []:
			try:
				model.model_update(tok, uuid, {"state": "Running"}, {})
				model.model_update(tok, uuid, {"state": "Complete", "exit_code": code}, {})
				done.append(uuid)
			except ApiError as e:
				errors[uuid] = e.message
		return {"done": done, "errors": errors}

	def control_create(self, data):
		"""A container as a committed container request makes it. Any field may be given;
		cr_priority (default 1) sets a realistic int64 priority unless priority is given."""
		model = self.state.model
		data = dict(data)
		cr_priority = int(data.pop("cr_priority", 1))
		retry = bool(data.pop("retry_on_cancel", False))
		for k in data:
			if k not in COLUMNS and k not in SECRET_COLUMNS:
				raise ApiError(400, "unknown container field %s" % k)
		rec = _control_merge(control_cr_defaults(model), data)
		if "priority" not in data:
			rec["priority"] = control_cr_priority(cr_priority)
		rec["_retry_on_cancel"] = retry
		c = model.model_insert(rec)
		if c["state"] in (COMPLETE, CANCELLED) and not c.get("finished_at"):
			c["finished_at"] = values_now()
		return self._raw(c)
