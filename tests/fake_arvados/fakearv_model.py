"""fakearv_model - the container table, tokens and the RailsAPI rules (spec sections 3 and 4).

One lock (Model.mu) serialises every read and write, which gives the row-lock behaviour of the
real lock/unlock/update calls: of two racing locks exactly one succeeds.
"""
import bisect
import copy
import functools
import itertools
import hashlib
import random
import string
import threading
import time

from fakearv_values import (COLUMNS, SECRET_COLUMNS, values_now, values_parse_ts, values_as_int64,
			    values_empty_equiv, values_ruby_inspect, values_humanize)
from fakearv_errors import (ApiError, errors_lock_failed, errors_invalid_transition, errors_permission,
			    errors_validation, errors_not_found, errors_forbidden, errors_argument)
from fakearv_query import (query_filters, query_select, query_order, query_sort, query_nonneg_int,
			   query_count)

QUEUED, LOCKED, RUNNING, COMPLETE, CANCELLED = "Queued", "Locked", "Running", "Complete", "Cancelled"
STATES = (QUEUED, LOCKED, RUNNING, COMPLETE, CANCELLED)
FINAL = (COMPLETE, CANCELLED)

TRANSITIONS = {
	QUEUED: (LOCKED, CANCELLED),
	LOCKED: (QUEUED, RUNNING, CANCELLED),
	RUNNING: (COMPLETE, CANCELLED),
	COMPLETE: (CANCELLED,),
	CANCELLED: (),
}

PROGRESS = ("progress", "runtime_status", "subrequests_cost", "cost", "log", "output",
	    "output_properties", "exit_code")
LOCK_RESPONSE_FIELDS = ("uuid", "state", "priority", "auth_uuid", "locked_by_uuid")
RUNTIME_STATUS_STRING_KEYS = ("error", "errorDetail", "warning", "warningDetail", "activity",
			      "preemptionNotice")
DROPPED_ON_UPDATE = ("created_at", "modified_at", "modified_by_user_uuid", "modified_by_client_uuid",
		     "kind", "etag", "href")
MAX_DISPATCH_TEXT = ("Failed to start container.  Cancelled after exceeding "
		     "'Containers.MaxDispatchAttempts' (lock_count=%d)")

_ALNUM = string.ascii_lowercase + string.digits
_IMMUTABLE = (str, int, float, bool, type(None))


def model_copy(v):
	"""copy.deepcopy for JSON values (dicts, lists, scalars), without its memo and dispatch:
	a 1,000-record list page spent three quarters of its time in copy.deepcopy."""
	t = type(v)
	if t is dict:
		return {k: x if type(x) in _IMMUTABLE else model_copy(x) for k, x in v.items()}
	if t is list:
		return [x if type(x) in _IMMUTABLE else model_copy(x) for x in v]
	if t in _IMMUTABLE:
		return v
	return copy.deepcopy(v)


@functools.lru_cache(maxsize=64)
def _model_public_keys(select):
	"""The columns a select list keeps, in the order the fake emits them."""
	return tuple(k for k in COLUMNS if k in select)


def model_random_id(n=15):
	return "".join(random.SystemRandom().choice(_ALNUM) for _ in range(n))


class Token:
	"""One api_client_authorization. container_uuid is set for a container's own token."""

	def __init__(self, uuid, secret, admin, owner_uuid, container_uuid=None, visible=None,
		     scopes=None, expires_at=None, api_token=None):
		self.uuid = uuid
		self.secret = secret
		self.api_token = api_token or secret
		self.admin = admin
		self.owner_uuid = owner_uuid
		self.container_uuid = container_uuid
		self.visible = set(visible or ())
		self.scopes = scopes or ["all"]
		self.expires_at = expires_at
		self.expired = False
		self.created_at = values_now()

	def record(self):
		return {"kind": "arvados#apiClientAuthorization", "etag": "", "uuid": self.uuid,
			"api_token": self.api_token, "owner_uuid": self.owner_uuid, "scopes": self.scopes,
			"expires_at": self.expires_at, "created_at": self.created_at,
			"modified_at": self.created_at, "modified_by_user_uuid": self.owner_uuid}


class Model:
	def __init__(self, cluster="zzzzz", max_dispatch_attempts=10, max_items=1000, page_limit=0,
		     mounts_page_limit=0):
		self.mu = threading.RLock()
		self.cluster = cluster
		self.root_uuid = cluster + "-gj3su-000000000000000"
		self.system_user = cluster + "-tpzed-000000000000000"
		self.max_dispatch_attempts = max_dispatch_attempts
		self.max_items = max_items
		self.page_limit = page_limit
		self.mounts_page_limit = mounts_page_limit
		self.retry_on_cancel = False
		self.containers = {}
		self.uuid_index = None  # sorted uuids for keyset pages; None = rebuild
		self.tokens = {}        # secret -> Token
		self.serial = 0         # insertion order, the heap order of a fresh table
		self.transitions = []   # every state change: {uuid, from, to, time, token_uuid}

	# ---- tokens -------------------------------------------------------------------------

	def model_add_token(self, token, admin=True, uuid=None, visible=None, root=False, owner_uuid=None):
		"""Register a token given as a bare secret or 'v2/<uuid>/<secret>'."""
		with self.mu:
			if token.startswith("v2/"):
				parts = token.split("/")
				if len(parts) < 3:
					raise ValueError("bad v2 token %r" % token)
				uuid, secret = parts[1], parts[2]
			else:
				secret = token
				if uuid is None:
					uuid = self.root_uuid if root else \
						self.cluster + "-gj3su-" + hashlib.md5(secret.encode()).hexdigest()[:15]
			owner = owner_uuid or (self.system_user if admin else self.cluster + "-tpzed-" + model_random_id())
			t = Token(uuid, secret, admin, owner, visible=visible)
			self.tokens[secret] = t
			return t

	def model_auth(self, presented):
		"""The Token for a presented token string, or raise 401 (spec 3)."""
		from fakearv_errors import errors_not_logged_in
		if not presented:
			raise errors_not_logged_in()
		with self.mu:
			if presented.startswith("v2/"):
				parts = presented.split("/")
				if len(parts) < 3:
					raise errors_not_logged_in()
				t = self.tokens.get(parts[2])
				if t is None or t.uuid != parts[1]:
					raise errors_not_logged_in()
			else:
				t = self.tokens.get(presented)
			if t is None or t.expired:
				raise errors_not_logged_in()
			return t

	def _model_container_token(self, c):
		"""The fresh auth_uuid token a lock creates (for runtime_user_uuid)."""
		secret = model_random_id(49)
		uuid = self.cluster + "-gj3su-" + model_random_id()
		t = Token(uuid, secret, False, c.get("runtime_user_uuid") or self.system_user,
			  container_uuid=c["uuid"], scopes=list(c.get("runtime_auth_scopes") or ["all"]),
			  api_token="v2/%s/%s" % (uuid, secret))
		self.tokens[secret] = t
		return t

	def _model_expire_auth(self, c):
		for t in self.tokens.values():
			if c.get("auth_uuid") and t.uuid == c["auth_uuid"]:
				t.expired = True
				t.expires_at = values_now()

	def model_token_by_uuid(self, uuid):
		with self.mu:
			for t in self.tokens.values():
				if t.uuid == uuid and not t.expired:
					return t
			return None

	def _model_is_own(self, tok, c):
		"""The container's own token: its auth_uuid token or its runtime_token."""
		if tok.container_uuid != c["uuid"]:
			return False
		if c.get("auth_uuid") and tok.uuid == c["auth_uuid"]:
			return True
		rt = c.get("runtime_token")
		return bool(rt) and rt.split("/")[-1] == tok.secret

	def _model_visible(self, tok, c):
		return tok.admin or c["uuid"] in tok.visible or tok.container_uuid == c["uuid"]

	# ---- records ------------------------------------------------------------------------

	def model_defaults(self):
		"""Column defaults of a bare row (the database's defaults)."""
		now = values_now()
		return {"uuid": None, "etag": "", "owner_uuid": self.system_user, "created_at": now,
			"modified_at": now, "modified_by_user_uuid": self.system_user, "state": QUEUED,
			"started_at": None, "finished_at": None, "log": None, "environment": {},
			"cwd": ".", "command": [], "output_path": "", "mounts": {},
			"runtime_constraints": {}, "output": None, "container_image": "",
			"progress": None, "priority": 0, "exit_code": None, "auth_uuid": None,
			"locked_by_uuid": None, "scheduling_parameters": {}, "runtime_status": {},
			"runtime_user_uuid": "", "runtime_auth_scopes": [], "lock_count": 0,
			"gateway_address": "", "interactive_session_started": False,
			"output_storage_classes": ["default"], "output_properties": {}, "cost": 0.0,
			"subrequests_cost": 0.0, "output_glob": [], "service": False,
			"published_ports": {}, "secret_mounts": {}, "runtime_token": None}

	def model_new_uuid(self):
		while True:
			u = "%s-dz642-%s" % (self.cluster, model_random_id())
			if u not in self.containers:
				return u

	def model_insert(self, rec):
		"""Insert a record as is (after defaults); registers its own tokens. Returns it."""
		with self.mu:
			c = self.model_defaults()
			c.update(rec)
			if not c.get("uuid"):
				c["uuid"] = self.model_new_uuid()
			for k in ("created_at", "modified_at", "started_at", "finished_at"):
				if isinstance(c.get(k), str):
					c[k] = values_parse_ts(c[k]) or c[k]
			self.serial += 1
			c["_serial"] = self.serial
			self.containers[c["uuid"]] = c
			self.uuid_index = None
			self._model_register_own_tokens(c)
			return c

	def _model_register_own_tokens(self, c):
		if c.get("auth_uuid") and c["state"] in (LOCKED, RUNNING) and \
				self.model_token_by_uuid(c["auth_uuid"]) is None:
			secret = model_random_id(49)
			self.tokens[secret] = Token(c["auth_uuid"], secret, False,
						    c.get("runtime_user_uuid") or self.system_user,
						    container_uuid=c["uuid"],
						    api_token="v2/%s/%s" % (c["auth_uuid"], secret))
		rt = c.get("runtime_token")
		if rt and rt.startswith("v2/") and len(rt.split("/")) >= 3:
			_, tu, secret = rt.split("/")[:3]
			if secret not in self.tokens:
				self.tokens[secret] = Token(tu, secret, False, c.get("runtime_user_uuid") or "",
							    container_uuid=c["uuid"], api_token=rt)

	@staticmethod
	def model_public(c, select=None):
		"""The record as the API prints it: never secrets; select keeps only the listed keys
		plus kind and etag (which controller always adds). A copy: it is printed after the
		lock is released."""
		out = {"kind": "arvados#container", "etag": c.get("etag", "")}
		for k in COLUMNS if select is None else _model_public_keys(tuple(select)):
			v = c.get(k)
			out[k] = v if type(v) in _IMMUTABLE else model_copy(v)
		return out

	def _model_get(self, tok, uuid):
		c = self.containers.get(uuid)
		if c is None or not self._model_visible(tok, c):
			raise errors_not_found()
		return c

	# ---- API operations -----------------------------------------------------------------

	def model_list(self, tok, params):
		with self.mu:
			pred = query_filters(params.get("filters"), params.get("where"))
			select = query_select(params.get("select"))
			order = query_order(params.get("order"), select)
			limit = min(query_nonneg_int("limit", params.get("limit"), 100), self.max_items)
			offset = query_nonneg_int("offset", params.get("offset"), 0)
			want_count = query_count(params.get("count"))
			cand = self._model_uuid_in(params.get("filters"))
			if order == [("uuid", False)] and not want_count and cand is None:
				rest = self._model_keyset_rows(tok, pred, params.get("filters"), offset + limit)[offset:]
				rows = None
			else:
				rows = [c for c in sorted(self.containers.values() if cand is None else cand,
							  key=lambda c: c["_serial"])
					if self._model_visible(tok, c) and pred(c)]
				rows = query_sort(rows, order)
				rest = rows[offset:]
			page_limit = self.page_limit
			if self.mounts_page_limit and (select is None or "mounts" in select):
				page_limit = min(page_limit or self.mounts_page_limit, self.mounts_page_limit)
			if page_limit and limit > page_limit and len(rest) > page_limit:
				# like limit_database_read: a short page, with the reduced limit echoed
				limit = page_limit
			page = rest[:limit]
			out = {"kind": "arvados#containerList", "etag": "", "self_link": "",
			       "offset": offset, "limit": limit,
			       "items": [self.model_public(c, select) for c in page]}
			if want_count:
				out["items_available"] = len(rows)
			return out

	def _model_uuid_in(self, filters):
		"""With a ["uuid","in",[...]] filter, the containers it names (as PostgreSQL would
		find them through the uuid index), else None. Every filter is still applied to
		them, so the rows are those of the general path; a request naming 100 of 100,000
		containers costs O(100), as a batch of mounts fetches does on a real server."""
		for f in filters if isinstance(filters, list) else []:
			if isinstance(f, list) and len(f) == 3 and f[0] == "uuid" and f[1] == "in" \
					and isinstance(f[2], list) and all(isinstance(u, str) for u in f[2]):
				return [self.containers[u] for u in set(f[2]) if u in self.containers]
		return None

	def _model_keyset_rows(self, tok, pred, filters, want):
		"""The first `want` rows in uuid order, found by walking a sorted uuid index from the
		bound of a ["uuid",">",X] filter: a page of a large table costs O(page), not
		O(table), as an index scan in PostgreSQL would. Same rows as the general path (every
		filter is still applied); only used when the order is exactly uuid asc and no count
		is wanted."""
		if self.uuid_index is None:
			self.uuid_index = sorted(self.containers, key=lambda u: u.encode("utf-8"))
		lo = 0
		for f in filters if isinstance(filters, list) else []:
			if isinstance(f, list) and len(f) == 3 and f[0] == "uuid" and f[1] in (">", ">=") \
					and isinstance(f[2], str):
				i = bisect.bisect_left(self.uuid_index, f[2])
				lo = max(lo, i)
		out = []
		for u in itertools.islice(self.uuid_index, lo, None):
			c = self.containers.get(u)
			if c is not None and self._model_visible(tok, c) and pred(c):
				out.append(c)
				if len(out) > want:
					break
		return out

	def model_show(self, tok, uuid, params):
		with self.mu:
			select = query_select(params.get("select"))
			return self.model_public(self._model_get(tok, uuid), select)

	def model_lock(self, tok, uuid):
		with self.mu:
			c = self._model_get(tok, uuid)
			if not tok.admin:
				raise errors_forbidden()
			if c["state"] != QUEUED:
				raise errors_lock_failed("cannot lock when %s" % c["state"])
			if c["priority"] <= 0:
				raise errors_lock_failed("cannot lock when priority<=0")
			self._model_apply(c, tok, {"state": LOCKED})
			return self.model_public(c, LOCK_RESPONSE_FIELDS)

	def model_unlock(self, tok, uuid):
		with self.mu:
			c = self._model_get(tok, uuid)
			if not tok.admin:
				raise errors_forbidden()
			if c["state"] != LOCKED:
				raise errors_invalid_transition("cannot unlock when %s" % c["state"])
			if c["locked_by_uuid"] != tok.uuid:
				raise errors_permission("locked by a different token")
			self._model_apply(c, tok, {"state": QUEUED})
			return self.model_public(c, LOCK_RESPONSE_FIELDS)

	def model_update(self, tok, uuid, attrs, params):
		with self.mu:
			select = query_select(params.get("select"))
			c = self._model_get(tok, uuid)
			if not isinstance(attrs, dict):
				raise errors_argument("No container hash provided with request")
			attrs = dict(attrs)
			for k in DROPPED_ON_UPDATE:
				attrs.pop(k, None)
			if attrs.get("uuid", uuid) != uuid:
				raise errors_validation("Uuid cannot be modified")
			attrs.pop("uuid", None)
			for k in attrs:
				if k not in COLUMNS and k not in SECRET_COLUMNS:
					raise ApiError(422, "#<ActiveModel::UnknownAttributeError: unknown attribute '%s' for Container.>" % k)
			own = self._model_is_own(tok, c)
			if not tok.admin and not (own and c["state"] == RUNNING):
				raise errors_forbidden()
			self._model_validate(c, tok, own, attrs)
			self._model_apply(c, tok, attrs)
			return self.model_public(c, select)

	def model_create(self, tok, attrs, params):
		with self.mu:
			if not tok.admin:
				raise errors_forbidden()
			if not isinstance(attrs, dict):
				raise errors_argument("No container hash provided with request")
			rec = {k: v for k, v in attrs.items() if k in COLUMNS or k in SECRET_COLUMNS}
			for k in DROPPED_ON_UPDATE + ("uuid", "state", "lock_count", "locked_by_uuid", "auth_uuid"):
				rec.pop(k, None)
			rec["modified_by_user_uuid"] = tok.owner_uuid
			c = self.model_insert(rec)
			return self.model_public(c, query_select(params.get("select")))

	def model_delete(self, tok, uuid):
		with self.mu:
			c = self._model_get(tok, uuid)
			if not tok.admin:
				raise errors_forbidden()
			del self.containers[uuid]
			self.uuid_index = None
			return self.model_public(c)

	def model_auth_record(self, tok, uuid):
		"""containers/{uuid}/auth: only for the lock holder (crunch-run with the dispatcher token)."""
		with self.mu:
			c = self._model_get(tok, uuid)
			if not c.get("locked_by_uuid") or c["locked_by_uuid"] != tok.uuid:
				raise errors_permission("Not locked by your token")
			if c.get("runtime_token"):
				t = self.tokens.get(c["runtime_token"].split("/")[-1])
			else:
				t = self.model_token_by_uuid(c.get("auth_uuid"))
			if t is None:
				raise errors_not_found()
			return t.record()

	def model_current(self, tok):
		with self.mu:
			c = self.containers.get(tok.container_uuid or "")
			if c is None or not self._model_is_own(tok, c):
				raise ApiError(404, "Token is not associated with a container.")
			return self.model_public(c)

	def model_secret_mounts(self, tok, uuid):
		with self.mu:
			c = self._model_get(tok, uuid)
			if not self._model_is_own(tok, c):
				raise errors_permission("Token is not associated with this container.")
			return {"secret_mounts": copy.deepcopy(c.get("secret_mounts") or {})}

	# ---- update rules (spec 4.1, 4.5, 4.6) ---------------------------------------------

	def _model_permitted(self, c, tok, own, new_state):
		old = c["state"]
		p = set()
		if new_state == QUEUED:
			p |= {"priority"}
		elif new_state == LOCKED:
			p |= {"priority", "runtime_status", "log", "lock_count"}
		elif new_state == RUNNING:
			p |= {"priority", "output_properties", "gateway_address"} | set(PROGRESS)
			if old != RUNNING:
				p.add("started_at")
			if not c.get("interactive_session_started"):
				p.add("interactive_session_started")
		elif new_state == COMPLETE:
			if old == RUNNING:
				p |= {"finished_at"} | set(PROGRESS)
		elif new_state == CANCELLED:
			if old == RUNNING:
				p |= {"finished_at"} | set(PROGRESS)
			elif old in (QUEUED, LOCKED):
				p |= {"finished_at", "log", "runtime_status", "cost"}
		if own and c["state"] == RUNNING:
			p.add("finished_at")
			p.discard("log")
			p.discard("priority")
		elif tok.admin and c.get("locked_by_uuid") and c["locked_by_uuid"] != tok.uuid:
			p -= set(PROGRESS)
		return p

	def _model_validate(self, c, tok, own, attrs):
		old = c["state"]
		new = attrs.get("state", old)
		if new not in STATES:
			raise errors_validation("State cannot change from %s to %s" % (old, new))
		if new != old:
			if new not in TRANSITIONS[old]:
				raise errors_validation("State cannot change from %s to %s" % (old, new))
			if old == QUEUED and new == LOCKED:
				prio = values_as_int64(attrs.get("priority", c["priority"]))
				if prio is None or prio <= 0:
					raise errors_lock_failed("cannot lock when priority<=0")
			if old == LOCKED and new == QUEUED and c["locked_by_uuid"] != tok.uuid:
				raise errors_permission("locked by a different token")

		errs = []
		if "auth_uuid" in attrs and attrs["auth_uuid"] != c.get("auth_uuid"):
			errs.append("Auth uuid is readonly")
		if "locked_by_uuid" in attrs:
			if new == LOCKED and old == QUEUED:
				expect = tok.uuid
			elif new in (LOCKED, RUNNING):
				expect = c.get("locked_by_uuid")
			else:
				expect = None
			if attrs["locked_by_uuid"] != expect:
				errs.append("Locked by uuid can only change to %s" % (expect if expect is not None else "nil"))
		permitted = self._model_permitted(c, tok, own, new)
		for k, v in attrs.items():
			if k in ("state", "auth_uuid", "locked_by_uuid"):
				continue
			if values_empty_equiv(c.get(k), v):
				continue
			if k not in permitted:
				errs.append("%s cannot be modified in state '%s' (%s, %s)" % (
					values_humanize(k), new, values_ruby_inspect(c.get(k)), values_ruby_inspect(v)))
		for k in ("priority", "lock_count", "exit_code"):
			if k in attrs and attrs[k] is not None and values_as_int64(attrs[k]) is None:
				errs.append("%s is not a number" % values_humanize(k))
		if "priority" in attrs and values_as_int64(attrs["priority"]) is not None \
				and values_as_int64(attrs["priority"]) < 0:
			errs.append("Priority must be greater than or equal to 0")
		if "runtime_status" in attrs:
			rs = attrs["runtime_status"]
			if rs is not None and not isinstance(rs, dict):
				errs.append("Runtime status must be a hash")
			else:
				for k in RUNTIME_STATUS_STRING_KEYS:
					if rs and k in rs and not isinstance(rs[k], str):
						errs.append("Runtime status '%s' value must be a string" % k)
		for k in ("started_at", "finished_at"):
			if attrs.get(k) is not None and values_parse_ts(attrs[k]) is None:
				errs.append("%s is not a valid time" % values_humanize(k))
		if errs:
			raise errors_validation(errs)

	def _model_apply(self, c, tok, attrs):
		"""Write attrs (already validated) and run the transition's side effects."""
		old = c["state"]
		for k, v in attrs.items():
			if k in ("priority", "lock_count", "exit_code") and v is not None:
				v = values_as_int64(v)
			elif k in ("started_at", "finished_at") and v is not None:
				v = values_parse_ts(v)
			elif k == "runtime_status" and v is None:
				v = {}
			c[k] = copy.deepcopy(v)  # hashes are replaced whole, never merged
		new = c["state"]
		if new != old:
			self._model_transition(c, tok, old, new, attrs)
		c["modified_at"] = values_now()
		c["modified_by_user_uuid"] = tok.owner_uuid

	def _model_transition(self, c, tok, old, new, attrs):
		self.transitions.append({"uuid": c["uuid"], "from": old, "to": new, "time": time.time(),
					 "token_uuid": tok.uuid})
		if new == LOCKED:
			c["lock_count"] = (c.get("lock_count") or 0) + 1
			c["locked_by_uuid"] = tok.uuid
			c["auth_uuid"] = None if c.get("runtime_token") else self._model_container_token(c).uuid
		elif new == QUEUED:
			c["locked_by_uuid"] = None
			self._model_expire_auth(c)
			c["auth_uuid"] = None
			c["runtime_status"] = {}
			if c["lock_count"] >= self.max_dispatch_attempts:
				c["state"] = CANCELLED
				c["runtime_status"] = {"error": MAX_DISPATCH_TEXT % c["lock_count"]}
				self._model_finalise(c, {}, old)
		elif new == RUNNING:
			if not attrs.get("started_at"):
				c["started_at"] = values_now()
		elif new in FINAL and old not in FINAL:
			self._model_finalise(c, attrs, old)

	def _model_finalise(self, c, attrs, old):
		if not attrs.get("finished_at"):
			c["finished_at"] = values_now()
		c["locked_by_uuid"] = None
		self._model_expire_auth(c)
		c["auth_uuid"] = None
		saved = (copy.deepcopy(c.get("secret_mounts") or {}), c.get("runtime_token"))
		c["secret_mounts"] = {}
		c["runtime_token"] = None
		if c["state"] == CANCELLED and (self.retry_on_cancel or c.get("_retry_on_cancel")) \
				and c["priority"] > 0:
			self._model_retry(c, saved)

	def _model_retry(self, c, saved):
		"""The 4.7 hook: what a live CR would do, a fresh Queued copy with the same priority."""
		keep = ("owner_uuid", "command", "cwd", "environment", "output_path", "mounts",
			"runtime_constraints", "container_image", "priority", "scheduling_parameters",
			"runtime_user_uuid", "runtime_auth_scopes", "output_storage_classes", "output_glob",
			"service", "published_ports")
		rec = {k: copy.deepcopy(c.get(k)) for k in keep}
		rec["secret_mounts"], rec["runtime_token"] = saved
		rec["_retry_on_cancel"] = c.get("_retry_on_cancel", False)
		n = self.model_insert(rec)
		c["_retried_as"] = n["uuid"]

	# ---- test hooks ---------------------------------------------------------------------

	def model_force_state(self, uuid, state, attrs=None, as_token=None):
		"""Move a container to state with the real side effects, bypassing every check."""
		with self.mu:
			c = self.containers.get(uuid)
			if c is None:
				raise errors_not_found()
			tok = as_token or self.model_token_by_uuid(self.root_uuid) or \
				Token(self.root_uuid, "", True, self.system_user)
			a = dict(attrs or {})
			a["state"] = state
			self._model_apply(c, tok, a)
			return c
