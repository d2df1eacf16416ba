"""fakearv_fixtures - load RailsAPI's containers.yml test fixtures as the initial table.

The fixture file is ERB-templated YAML. Only the time expressions matter here
('<%= 2.minute.ago.to_fs(:db) %>'); other ERB (the secret_mounts_md5 digest) is dropped, as the
fake never stores or prints that column. Timestamps are kept as text so nanoseconds survive.
"""
import re
import time

import yaml

from fakearv_values import values_ts_from_ns, COLUMNS, SECRET_COLUMNS

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800,
	  "month": 2629746, "year": 31556952}
_ERB_RE = re.compile(r"<%=\s*(.*?)\s*%>")
_AGO_RE = re.compile(r"^(\d+)\.(second|minute|hour|day|week|month|year)s?\.ago(?:\.to_fs\(:db\)|\.to_s\(:db\))?$")


def _fixtures_erb(m):
	expr = m.group(1)
	a = _AGO_RE.match(expr)
	if a:
		ns = time.time_ns() - int(a.group(1)) * _UNITS[a.group(2)] * 1000000000
		return values_ts_from_ns(ns)
	return ""


class _Loader(yaml.SafeLoader):
	pass


# Keep timestamps as strings: PyYAML would cut them to microseconds.
_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def fixtures_load(path):
	"""Container records from a fixtures file, keyed by fixture name."""
	with open(path, encoding="utf-8") as f:
		text = _ERB_RE.sub(_fixtures_erb, f.read())
	doc = yaml.load(text, Loader=_Loader) or {}
	out = {}
	for name, rec in doc.items():
		if not isinstance(rec, dict):
			continue
		r = {}
		for k, v in rec.items():
			if k == "updated_at":
				k = "modified_at" if "modified_at" not in rec else None
			if k in COLUMNS or k in SECRET_COLUMNS:
				r[k] = v
		out[name] = r
	return out
