"""The python3-azure models as the judge of every PUT body the fake receives.

check_body(kind, body) -> list of problems ("" when the body is what Azure's own SDK would
send): the body is deserialized into the model of the driver's API version
(azure.mgmt.compute.v2019_07_01 VirtualMachine, azure.mgmt.network.v2018_06_01
NetworkInterface), serialized again and the two JSON trees diffed. The models drop keys
they do not know, so a misspelt key shows up as "unknown property"; read-only attributes
(id, name, type, provisioningState...) are dropped by serialize() and show up as
"read-only property". Then the models' own validate() walks the required attributes.
"""
import importlib

_MODELS = {
    "vm": ("azure.mgmt.compute.v2019_07_01.models", "VirtualMachine"),
    "nic": ("azure.mgmt.network.v2018_06_01.models", "NetworkInterface"),
}
_cache = {}


def _model(kind):
    if kind not in _cache:
        mod, cls = _MODELS[kind]
        m = importlib.import_module(mod)
        _cache[kind] = (m, getattr(m, cls))
    return _cache[kind]


def _readonly_paths(cls, prefix, out, depth=0):
    """Wire paths ("properties.provisioningState") of read-only attributes, recursively."""
    if depth > 8 or not hasattr(cls, "_attribute_map"):
        return
    validation = getattr(cls, "_validation", {}) or {}
    mod = importlib.import_module(cls.__module__.rsplit(".", 1)[0])
    for attr, spec in cls._attribute_map.items():
        key = spec["key"].replace("\\.", "\0")
        wire = ".".join(k.replace("\0", ".") for k in key.split("."))
        path = prefix + wire
        if validation.get(attr, {}).get("readonly"):
            out.add(path)
            continue
        t = spec["type"].strip("[]{}")
        sub = getattr(mod, t, None)
        if isinstance(sub, type):
            _readonly_paths(sub, path + ".", out, depth + 1)


def _diff(a, b, path, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k not in b:
                out.append(("missing", path + k))
            else:
                _diff(a[k], b[k], path + k + ".", out)
        for k in b:
            if k not in a:
                out.append(("added", path + k))
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append(("changed", path.rstrip(".")))
        for x, y in zip(a, b):
            _diff(x, y, path, out)
    elif a != b and not (isinstance(a, (int, float)) and isinstance(b, (int, float)) and float(a) == float(b)):
        out.append(("changed", path.rstrip(".")))


def check_body(kind, body):
    """Problems with body (a parsed JSON object) as a PUT of kind "vm" or "nic"."""
    if not isinstance(body, dict):
        return ["the request body is not a JSON object"]
    _, cls = _model(kind)
    try:
        obj = cls.deserialize(body)
    except Exception as e:  # msrest DeserializationError and friends
        return ["cannot be deserialized into %s: %s" % (cls.__name__, e)]
    again = obj.serialize(keep_readonly=False)
    ro = set()
    _readonly_paths(cls, "", ro)
    problems = []
    diffs = []
    _diff(body, again, "", diffs)
    for how, path in diffs:
        if how == "missing":
            problems.append(("read-only property %s" if path in ro else "unknown property %s") % path)
        elif how == "changed":
            problems.append("property %s does not survive the model (wrong type or value)" % path)
    _required(obj, "", problems, 0)
    return problems


def _required(obj, path, problems, depth):
    """The models' required attributes, walked through the whole object tree."""
    if depth > 10:
        return
    if isinstance(obj, list):
        for x in obj:
            _required(x, path, problems, depth + 1)
        return
    if isinstance(obj, dict):
        for x in obj.values():
            _required(x, path, problems, depth + 1)
        return
    if not hasattr(obj, "_attribute_map"):
        return
    for attr, spec in obj._attribute_map.items():
        v = getattr(obj, attr, None)
        rule = (getattr(obj, "_validation", {}) or {}).get(attr, {})
        wire = path + spec["key"].replace("\\.", ".")
        if rule.get("required") and v is None:
            problems.append("required property missing: %s" % wire)
        if v is not None:
            _required(v, wire + ".", problems, depth + 1)


def models_available():
    try:
        _model("vm")
        _model("nic")
        return True
    except ImportError:
        return False
