"""fakearv_faults - fault injection rules and the request log.

Faults act where controller and the network would: before RailsAPI sees the request (status,
busy 503, delay, hang, dropped connection) or on the way back (malformed or truncated body,
after the request really took effect, as when a response is lost in transit).
"""
import random
import re
import threading
import time


class Faults:
	def __init__(self):
		self.mu = threading.Lock()
		self.rules = []
		self.next_id = 1
		self.released = threading.Event()   # set by reset: wakes hanging requests
		self.rngs = {}                      # rule id -> random.Random(seed) of a seeded rule

	def faults_add(self, spec):
		"""spec: match keys (method, route, path regex, uuid, form: a regex on the decoded query
		string and form body, e.g. to pick the mounts batches among the list requests) and one action (status, busy,
		delay, hang, drop, malformed, truncated), with times (default 1, null = forever) and
		probability (default 1; a rule with "seed" draws from its own generator seeded so, for
		a fault suite's reproducible runs)."""
		if not isinstance(spec, dict):
			raise ValueError("fault must be an object")
		actions = [k for k in ("status", "busy", "hang", "drop", "malformed", "truncated", "delay") if spec.get(k)]
		if not actions:
			raise ValueError("fault needs one of status, busy, hang, drop, malformed, truncated, delay")
		for k in ("path", "form"):
			if spec.get(k) is not None:
				re.compile(spec[k])
		rule = dict(spec)
		rule.setdefault("times", 1)
		rule.setdefault("probability", 1.0)
		rule["fired"] = 0
		with self.mu:
			rule["id"] = self.next_id
			self.next_id += 1
			self.rules.append(rule)
			if rule.get("seed") is not None:
				self.rngs[rule["id"]] = random.Random(rule["seed"])
		return rule

	def faults_match(self, method, route, path, uuid, form=""):
		"""The rule that fires for this request, if any (consumes one of its times). form is
		the request's decoded query string and form body, for a rule's "form" regex."""
		with self.mu:
			for r in self.rules:
				if r["times"] is not None and r["fired"] >= r["times"]:
					continue
				if r.get("method") and r["method"].upper() != method:
					continue
				if r.get("route") and r["route"] != route:
					continue
				if r.get("uuid") and r["uuid"] != uuid:
					continue
				if r.get("path") and not re.search(r["path"], path):
					continue
				if r.get("form") and not re.search(r["form"], form):
					continue
				if r["probability"] < 1.0 and \
						self.rngs.get(r["id"], random).random() >= r["probability"]:
					continue
				r["fired"] += 1
				return dict(r)
		return None

	def faults_list(self):
		with self.mu:
			return [dict(r) for r in self.rules]

	def faults_clear(self):
		with self.mu:
			self.rules = []
			self.rngs = {}
		self.released.set()
		self.released = threading.Event()


class RequestLog:
	"""Every API call, in arrival order (spec checklist 30)."""

	HEADERS = ("Authorization", "X-Request-Id", "Content-Type", "X-Http-Method-Override", "Accept",
		   "User-Agent")

	def __init__(self):
		self.mu = threading.Lock()
		self.entries = []
		self.seq = 0

	def log_start(self, **fields):
		with self.mu:
			self.seq += 1
			e = dict(fields)
			e["seq"] = self.seq
			e["time"] = time.time()
			e["status"] = None
			self.entries.append(e)
			return e

	def log_query(self, since=0, route=None, method=None, path=None):
		with self.mu:
			out = []
			for e in self.entries:
				if e["seq"] <= since:
					continue
				if route and e.get("route") != route:
					continue
				if method and e.get("method") != method:
					continue
				if path and not re.search(path, e.get("path", "")):
					continue
				out.append(dict(e))
			return out

	def log_count(self):
		"""{"routes": {route: n}, "mounts": n}: request counts without the entries (load
		tests); "mounts" counts the requests whose select names mounts (GETs and batches)."""
		with self.mu:
			routes, mounts = {}, 0
			for e in self.entries:
				routes[e.get("route")] = routes.get(e.get("route"), 0) + 1
				sel = (e.get("params") or {}).get("select")
				mounts += isinstance(sel, list) and "mounts" in sel
			return {"routes": routes, "mounts": mounts}

	def log_clear(self):
		with self.mu:
			self.entries = []
