"""fakearv_query - list parameters (filters, where, order, limit, offset, count, select) with
the semantics of RailsAPI's load_param.rb and record_filters.rb (spec section 6).

Everything here works on plain container dicts and raises ApiError(422) for what the real
server refuses; the caller evaluates each page against live data.
"""
import re
import functools

from fakearv_values import (COLUMNS, UNFILTERABLE, values_as_int64, values_parse_ts)
from fakearv_errors import errors_argument

SCALAR_TYPES = ("string", "integer", "float", "datetime", "boolean")
COMPARE_OPS = ("=", "!=", "<>", "<", "<=", ">", ">=")
ALL_OPS = COMPARE_OPS + ("in", "not in", "like", "ilike", "not like", "not ilike",
			 "is_a", "exists", "contains")
KIND_INFIX = {"arvados#container": "-dz642-"}


def _query_typename(v):
	"""Ruby class name of a JSON value, for error texts."""
	if v is None:
		return "NilClass"
	if isinstance(v, bool):
		return "TrueClass" if v else "FalseClass"
	if isinstance(v, int):
		return "Integer"
	if isinstance(v, float):
		return "Float"
	if isinstance(v, str):
		return "String"
	if isinstance(v, list):
		return "Array"
	return "Hash"


def _query_operand(attr, ctype, op, v):
	"""Cast one scalar operand to the column's type, as PostgreSQL would see it."""
	if v is None:
		return None
	if ctype == "integer":
		i = values_as_int64(v)
		if i is None:
			raise errors_argument("Invalid operand '%s' for integer attribute '%s'" % (v, attr))
		return i
	if ctype == "float":
		if isinstance(v, bool):
			raise errors_argument("Invalid operand '%s' for float attribute '%s'" % (v, attr))
		try:
			return float(v)
		except (TypeError, ValueError):
			raise errors_argument("Invalid operand '%s' for float attribute '%s'" % (v, attr))
	if ctype == "datetime":
		t = values_parse_ts(v)
		if t is None:
			raise errors_argument("Invalid operand '%s' for datetime attribute '%s'" % (v, attr))
		return t
	if ctype == "boolean":
		if isinstance(v, bool):
			return v
		if v in ("true", "t", "1"):
			return True
		if v in ("false", "f", "0"):
			return False
		raise errors_argument("Invalid operand '%s' for boolean attribute '%s'" % (v, attr))
	if not isinstance(v, str):
		raise errors_argument("Invalid operand type '%s' for '%s' operator" % (_query_typename(v), op))
	return v


def _query_key(ctype, v):
	"""Sort/compare key: strings byte-wise (PostgreSQL 'C' collation on UUIDs)."""
	if ctype == "string" and isinstance(v, str):
		return v.encode("utf-8")
	if ctype == "datetime" and isinstance(v, str):
		return values_parse_ts(v) or v
	return v


def _query_like_re(pattern, icase):
	out = []
	i = 0
	while i < len(pattern):
		ch = pattern[i]
		if ch == "\\" and i + 1 < len(pattern):
			out.append(re.escape(pattern[i + 1]))
			i += 2
			continue
		out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
		i += 1
	return re.compile("".join(out), re.S | (re.I if icase else 0))


def _query_compare(op, a, b):
	if op == "=":
		return a == b
	if op in ("!=", "<>"):
		return a != b
	if op == "<":
		return a < b
	if op == "<=":
		return a <= b
	if op == ">":
		return a > b
	return a >= b


_COLCMP_RE = re.compile(r"^\s*\(\s*([a-z_][a-z0-9_]*)\s*(<=|>=|<|>|=|!=)\s*([a-z_][a-z0-9_]*)\s*\)\s*$")


def _query_string_filter(f):
	"""The '(a > b)' form: compares two integer columns."""
	m = _COLCMP_RE.match(f)
	if not m or COLUMNS.get(m.group(1)) != "integer" or COLUMNS.get(m.group(3)) != "integer":
		raise errors_argument("Invalid element in filters array: %s" % f)
	a, op, b = m.groups()

	def pred(c):
		x, y = c.get(a), c.get(b)
		return x is not None and y is not None and _query_compare(op, x, y)
	return pred


def query_filter(f):
	"""Compile one filter triple into a predicate on a container dict."""
	if isinstance(f, str):
		return _query_string_filter(f)
	if not isinstance(f, list) or len(f) != 3:
		raise errors_argument("Invalid element in filters array: %s" % (f,))
	attr, op, operand = f
	if not isinstance(op, str) or op.lower() not in ALL_OPS:
		raise errors_argument("Invalid operator '%s'" % (op,))
	op = op.lower()
	if not isinstance(attr, str) or attr not in COLUMNS or attr in UNFILTERABLE:
		raise errors_argument("Invalid attribute '%s' in filter" % (attr,))
	ctype = COLUMNS[attr]

	if op == "is_a":
		kinds = operand if isinstance(operand, list) else [operand]
		if not all(isinstance(k, str) for k in kinds):
			raise errors_argument("Invalid operand type '%s' for 'is_a' operator" % _query_typename(operand))
		infixes = [KIND_INFIX.get(k) for k in kinds]
		return lambda c: any(i is not None and isinstance(c.get(attr), str) and i in c[attr] for i in infixes)

	if ctype not in SCALAR_TYPES:
		# jsonb and serialized-array columns: only the structural operators apply.
		if op == "exists" and ctype == "hash" and isinstance(operand, str):
			return lambda c: isinstance(c.get(attr), dict) and operand in c[attr]
		if op == "contains" and ctype == "array":
			want = operand if isinstance(operand, list) else [operand]
			if not all(isinstance(w, str) for w in want):
				raise errors_argument("Invalid operand type '%s' for 'contains' operator" % _query_typename(operand))
			return lambda c: isinstance(c.get(attr), list) and all(w in c[attr] for w in want)
		raise errors_argument("Invalid operator '%s' for attribute '%s'" % (op, attr))
	if op in ("exists", "contains"):
		raise errors_argument("Invalid attribute '%s' for '%s' operator" % (attr, op))

	if op in ("in", "not in"):
		if not isinstance(operand, list):
			raise errors_argument("Invalid operand type '%s' for '%s' operator" % (_query_typename(operand), op))
		has_null = any(x is None for x in operand)
		vals = set(_query_key(ctype, _query_operand(attr, ctype, op, x)) for x in operand if x is not None)
		if op == "in":
			return lambda c: (c.get(attr) is None and has_null) or \
				(c.get(attr) is not None and _query_key(ctype, c[attr]) in vals)
		# SQL 'NOT IN' plus Arvados' 'OR attr IS NULL' unless null was listed.
		return lambda c: (c.get(attr) is None and not has_null) or \
			(c.get(attr) is not None and _query_key(ctype, c[attr]) not in vals)

	if op in ("like", "ilike", "not like", "not ilike"):
		if ctype != "string" or not isinstance(operand, str):
			raise errors_argument("Invalid operand type '%s' for '%s' operator" % (_query_typename(operand), op))
		rx = _query_like_re(operand, "ilike" in op)
		neg = op.startswith("not")
		return lambda c: isinstance(c.get(attr), str) and (rx.fullmatch(c[attr]) is None) == neg

	if operand is None:
		if op == "=":
			return lambda c: c.get(attr) is None
		if op in ("!=", "<>"):
			return lambda c: c.get(attr) is not None
		raise errors_argument("Invalid operand type 'NilClass' for '%s' operator" % op)
	val = _query_key(ctype, _query_operand(attr, ctype, op, operand))
	if op in ("!=", "<>"):
		# Arvados adds 'OR attr IS NULL' so that != matches NULL rows too.
		return lambda c: c.get(attr) is None or _query_key(ctype, c[attr]) != val
	return lambda c: c.get(attr) is not None and _query_compare(op, _query_key(ctype, c[attr]), val)


def query_filters(filters, where):
	"""All filters (and the legacy where hash) ANDed into one predicate."""
	preds = []
	if filters is not None:
		if not isinstance(filters, list):
			raise errors_argument('Could not parse "filters" param as an array')
		preds += [query_filter(f) for f in filters]
	if where is not None:
		if not isinstance(where, dict):
			raise errors_argument('Could not parse "where" param as an object')
		for attr, v in where.items():
			preds.append(query_filter([attr, "in" if isinstance(v, list) else "=", v]))
	return lambda c: all(p(c) for p in preds)


def query_select(select):
	"""Validated select list, or None for 'all public fields'."""
	if select is None:
		return None
	if not isinstance(select, list):
		raise errors_argument('Could not parse "select" param as an array')
	for s in select:
		if not isinstance(s, str) or (s not in COLUMNS and s != "kind"):
			raise errors_argument("Invalid attribute '%s' of Container in select parameter" % (s,))
	return select


def query_order(order, select):
	"""Effective [(column, desc)] list: valid entries, then the defaults modified_at desc,
	uuid desc, stopping after uuid; with select, columns not selected are dropped."""
	if order is None:
		entries = []
	elif isinstance(order, str):
		entries = order.split(",")
	elif isinstance(order, list):
		entries = order
	else:
		raise errors_argument('Could not parse "order" param')
	out = []
	for e in entries + ["modified_at desc", "uuid desc"]:
		if not isinstance(e, str):
			continue
		parts = e.split()
		if not parts or len(parts) > 2:
			continue
		col = parts[0]
		if col.startswith("containers."):
			col = col[len("containers."):]
		if COLUMNS.get(col) not in SCALAR_TYPES:
			continue
		d = parts[1].lower() if len(parts) == 2 else "asc"
		if d not in ("asc", "desc"):
			continue
		if select is not None and col not in select:
			continue
		if any(col == c for c, _ in out):
			continue
		out.append((col, d == "desc"))
		if col == "uuid":
			break
	return out


def query_sort(items, order):
	"""Sort like PostgreSQL: NULLs last ascending, first descending."""
	def cmp(a, b):
		for col, desc in order:
			ctype = COLUMNS[col]
			x, y = a.get(col), b.get(col)
			if x is None and y is None:
				continue
			if x is None or y is None:
				r = 1 if x is None else -1  # NULL is larger than anything
			else:
				kx, ky = _query_key(ctype, x), _query_key(ctype, y)
				r = (kx > ky) - (kx < ky)
			if r:
				return -r if desc else r
		return 0
	return sorted(items, key=functools.cmp_to_key(cmp))


def query_nonneg_int(name, v, default):
	"""limit/offset: digits only (load_param.rb), else 422."""
	if v is None:
		return default
	if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
		return v
	if isinstance(v, str) and re.fullmatch(r"\d+", v):
		return int(v)
	raise errors_argument("Invalid value for %s parameter" % name)


def query_count(v):
	if v is None or v in ("", "exact"):
		return True
	if v == "none":
		return False
	raise errors_argument("count must be 'exact' or 'none'")
