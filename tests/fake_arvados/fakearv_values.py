"""fakearv_values - column types, timestamps and value helpers shared by the fake Arvados server.

Why a separate module: both the list engine (filters, order) and the update rules need to know
the type of each container column and how the real server compares and prints its values.
"""
import re
import time
import datetime

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1

# Public container columns and their types (discovery document, schemas.Container, plus the
# SDK types of spec section 2). Order is the order the fake emits them in.
COLUMNS = {
	"uuid": "string",
	"etag": "string",
	"owner_uuid": "string",
	"created_at": "datetime",
	"modified_at": "datetime",
	"modified_by_user_uuid": "string",
	"state": "string",
	"started_at": "datetime",
	"finished_at": "datetime",
	"log": "string",
	"environment": "hash",
	"cwd": "string",
	"command": "array",
	"output_path": "string",
	"mounts": "hash",
	"runtime_constraints": "hash",
	"output": "string",
	"container_image": "string",
	"progress": "float",
	"priority": "integer",
	"exit_code": "integer",
	"auth_uuid": "string",
	"locked_by_uuid": "string",
	"scheduling_parameters": "hash",
	"runtime_status": "hash",
	"runtime_user_uuid": "string",
	"runtime_auth_scopes": "array",
	"lock_count": "integer",
	"gateway_address": "string",
	"interactive_session_started": "boolean",
	"output_storage_classes": "array",
	"output_properties": "hash",
	"cost": "float",
	"subrequests_cost": "float",
	"output_glob": "array",
	"service": "boolean",
	"published_ports": "hash",
}

# Stored but never sent in any response (spec 2, checklist 10).
SECRET_COLUMNS = ("secret_mounts", "runtime_token")

# Columns the real server refuses in filters (spec 6.1).
UNFILTERABLE = ("secret_mounts_md5", "runtime_token", "gateway_address", "output_storage_classes", "secret_mounts")

_TS_RE = re.compile(
	r"^\s*(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9})\d*)?)?)?"
	r"\s*(Z|z|UTC|[+-]\d\d:?\d\d)?\s*$")


def values_now():
	"""Current time as the controller prints it: RFC 3339 UTC with 9 fractional digits."""
	return values_ts_from_ns(time.time_ns())


def values_ts_from_ns(ns):
	"""A time the controller stored: PostgreSQL keeps microseconds, so of the 9 digits it
	prints the last three are zeros (2024-05-01T12:00:00.123456000Z)."""
	sec, frac = divmod(ns, 1000000000)
	d = datetime.datetime.fromtimestamp(sec, datetime.timezone.utc)
	return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%06d000Z" % (frac // 1000)


def values_go_rfc3339nano(api_time):
	"""The controller's UTC time (9 fractional digits) as the reference dispatcher's management
	API shows it: Go decodes it into a time.Time and prints RFC3339Nano, the fraction's
	trailing zeros trimmed (the whole fraction when it is zero)."""
	m = re.fullmatch(r"(.{19})(?:\.(\d+))?Z", api_time)
	frac = (m.group(2) or "").rstrip("0")
	return m.group(1) + ("." + frac if frac else "") + "Z"


def values_parse_ts(s):
	"""Normalise a timestamp string to the 9-digit UTC form, or None if it is not one.

	The normal form sorts lexically in time order, which is what the filters and order need.
	Accepts RFC 3339, Rails' db form ('2016-01-11 11:11:11.111 Z') and bare dates.
	"""
	if not isinstance(s, str):
		return None
	m = _TS_RE.match(s)
	if not m:
		return None
	y, mo, d, h, mi, se, frac, zone = m.groups()
	try:
		dt = datetime.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(se or 0),
				       tzinfo=datetime.timezone.utc)
	except ValueError:
		return None
	if zone and zone not in ("Z", "z", "UTC"):
		sign = 1 if zone[0] == "+" else -1
		z = zone[1:].replace(":", "")
		dt -= sign * datetime.timedelta(hours=int(z[:2]), minutes=int(z[2:]))
	ns = int((frac or "0").ljust(9, "0"))
	return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%09dZ" % ns


def values_as_int64(v):
	"""Integer value of v as Rails would cast it for a bigint column, or None if it is not one.

	Accepts ints, integral floats and decimal strings; refuses bools and values outside int64.
	"""
	if isinstance(v, bool):
		return None
	if isinstance(v, float):
		if not v.is_integer():
			return None
		v = int(v)
	elif isinstance(v, str):
		if not re.fullmatch(r"\s*[-+]?\d+\s*", v):
			return None
		v = int(v)
	elif not isinstance(v, int):
		return None
	if v < INT64_MIN or v > INT64_MAX:
		return None
	return v


def _values_is_empty(x):
	return x is None or (isinstance(x, (list, dict)) and len(x) == 0)


def _values_same(a, b):
	"""JSON equality (Python's == says True == 1, JSON does not)."""
	if isinstance(a, bool) or isinstance(b, bool):
		return isinstance(a, bool) and isinstance(b, bool) and a == b
	if isinstance(a, dict) and isinstance(b, dict):
		return a.keys() == b.keys() and all(_values_same(a[k], b[k]) for k in a)
	if isinstance(a, list) and isinstance(b, list):
		return len(a) == len(b) and all(_values_same(x, y) for x, y in zip(a, b))
	return a == b


def values_empty_equiv(a, b):
	"""True when a -> b is 'not a change' for the whitelist (spec 4.5): equal values, or
	moving among null, [] and {}."""
	if _values_is_empty(a) and _values_is_empty(b):
		return True
	return _values_same(a, b)


def values_ruby_inspect(v):
	"""Ruby's #inspect of a JSON value, as it appears in the real validation messages."""
	if v is None:
		return "nil"
	if v is True:
		return "true"
	if v is False:
		return "false"
	if isinstance(v, str):
		return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
	if isinstance(v, (int, float)):
		return repr(v)
	if isinstance(v, list):
		return "[" + ", ".join(values_ruby_inspect(x) for x in v) + "]"
	if isinstance(v, dict):
		return "{" + ", ".join(values_ruby_inspect(k) + "=>" + values_ruby_inspect(x) for k, x in v.items()) + "}"
	return repr(v)


def values_humanize(attr):
	"""ActiveSupport's humanize: 'runtime_status' -> 'Runtime status'."""
	s = attr.replace("_", " ")
	return s[:1].upper() + s[1:]
