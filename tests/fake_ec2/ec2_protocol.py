"""EC2 Query protocol, both directions, driven by botocore's service model.

Requests: the form body is turned back into the boto-style parameter dict by walking the
operation's input shape with the naming rules of botocore's EC2Serializer (queryName, else
capitalised locationName, else member name; lists flattened as X.N with 1-based N), then
checked with botocore.validate.ParamValidator.  Anything the model does not know is
UnknownParameter, as EC2 answers it.

Responses: a boto-style dict (model member names, e.g. {"Reservations": [...]}) is written as
XML by walking the output shape (locationName of each member, lists as <x><item>..</item></x>).
Keys the output shape does not know raise KeyError: the fake cannot send what EC2 would not.
"""
import base64
import binascii
import datetime
from xml.sax.saxutils import escape

import botocore.session
import botocore.validate
from botocore.utils import parse_timestamp

MODEL = botocore.session.get_session().get_service_model("ec2")
API_VERSION = MODEL.api_version
NS = "http://ec2.amazonaws.com/doc/%s/" % API_VERSION


class ApiError(Exception):
    """An EC2 error answer: HTTP status, code, message."""

    def __init__(self, code, message, status=400):
        super().__init__("%s: %s" % (code, message))
        self.code, self.message, self.status = code, message, status


class _Leaf(str):
    pass


def _query_name(shape, default):
    if "queryName" in shape.serialization:
        return shape.serialization["queryName"]
    if "name" in shape.serialization:
        n = shape.serialization["name"]
        return n[0].upper() + n[1:]
    return default


def _tree(params):
    """{'A.1.B': 'x'} -> {'A': {'1': {'B': _Leaf('x')}}}; a key both leaf and prefix is unknown."""
    root = {}
    for key, value in params.items():
        node, parts = root, key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if isinstance(node, _Leaf):
                raise ApiError("UnknownParameter", "The parameter %s is not recognized" % key)
        if parts[-1] in node or not all(parts):
            raise ApiError("UnknownParameter", "The parameter %s is not recognized" % key)
        node[parts[-1]] = _Leaf(value)
    return root


def _scalar(value, shape, path):
    t = shape.type_name
    bad = ApiError("InvalidParameterValue", "Value (%s) for parameter %s is invalid." % (value, path))
    try:
        if t in ("integer", "long"):
            return int(value, 10)
        if t in ("float", "double"):
            return float(value)
        if t == "boolean":
            if value.lower() not in ("true", "false"):
                raise bad
            return value.lower() == "true"
        if t == "timestamp":
            return parse_timestamp(value)
        if t == "blob":
            return base64.b64decode(value, validate=True)
    except (ValueError, binascii.Error, OverflowError):
        raise bad
    return str(value)


def _decode(node, shape, path):
    t = shape.type_name
    if t == "structure":
        if isinstance(node, _Leaf):
            raise ApiError("UnknownParameter", "The parameter %s is not recognized" % path)
        names = {_query_name(s, m): m for m, s in shape.members.items()}
        out = {}
        for k, v in node.items():
            sub = "%s.%s" % (path, k) if path else k
            if k not in names:
                raise ApiError("UnknownParameter", "The parameter %s is not recognized" % sub)
            out[names[k]] = _decode(v, shape.members[names[k]], sub)
        return out
    if t == "list":
        if isinstance(node, _Leaf):
            if node == "":
                return []
            raise ApiError("UnknownParameter", "The parameter %s is not recognized" % path)
        items = []
        for k, v in node.items():
            if not k.isdigit() or int(k) < 1:
                raise ApiError("UnknownParameter", "The parameter %s.%s is not recognized" % (path, k))
            items.append((int(k), _decode(v, shape.member, "%s.%s" % (path, k))))
        return [v for _, v in sorted(items, key=lambda kv: kv[0])]
    if t == "map":
        # No EC2 input uses a map (checked over all 576 operations of the model); the Query
        # protocol's map layout would be X.entry.N.key/value.  Rejecting keeps us honest.
        raise ApiError("UnknownParameter", "The parameter %s is not recognized" % path)
    if not isinstance(node, _Leaf):
        first = next(iter(node))
        raise ApiError("UnknownParameter", "The parameter %s.%s is not recognized" % (path, first))
    return _scalar(node, shape, path)


def protocol_decode(op, form):
    """form: {key: value} without Action/Version.  Returns validated boto-style params."""
    shape = op.input_shape
    if shape is None:
        if form:
            raise ApiError("UnknownParameter", "The parameter %s is not recognized" % next(iter(form)))
        return {}
    params = _decode(_tree(form), shape, "")
    report = botocore.validate.ParamValidator().validate(params, shape)
    if report.has_errors():
        for kind, name, extra in report._errors:
            if kind == "missing required field":
                raise ApiError("MissingParameter", "The request must contain the parameter %s" %
                    _query_name(shape.members.get(extra["required_name"], shape), extra["required_name"])
                    if name == "" else "The request must contain the parameter %s.%s" % (name, extra["required_name"]))
        raise ApiError("InvalidParameterValue", report.generate_report())
    return params


def _fmt_scalar(value, shape):
    t = shape.type_name
    if t == "boolean":
        return "true" if value else "false"
    if t == "timestamp":
        if isinstance(value, datetime.datetime):
            value = value.astimezone(datetime.timezone.utc)
            return value.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (value.microsecond // 1000)
        return str(value)
    if t == "blob":
        return base64.b64encode(value).decode()
    return escape(str(value))


def _encode(value, shape, name, out):
    t = shape.type_name
    if t == "structure":
        out.append("<%s>" % name)
        _encode_members(value, shape, out)
        out.append("</%s>" % name)
    elif t == "list":
        item = shape.member.serialization.get("name", "member")
        if not shape.serialization.get("flattened"):
            out.append("<%s>" % name)
        for v in value:
            _encode(v, shape.member, name if shape.serialization.get("flattened") else item, out)
        if not shape.serialization.get("flattened"):
            out.append("</%s>" % name)
    elif t == "map":
        raise KeyError("maps are not used in EC2 output shapes we send")
    else:
        out.append("<%s>%s</%s>" % (name, _fmt_scalar(value, shape), name))


def _encode_members(value, shape, out):
    for k in value:
        if k not in shape.members:
            raise KeyError("%s has no member %s" % (shape.name, k))
    for m, ms in shape.members.items():
        if value.get(m) is not None:
            _encode(value[m], ms, ms.serialization.get("name", m), out)


def protocol_encode(op, result, request_id):
    """The XML document for a successful answer of operation op."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<%sResponse xmlns="%s">' % (op.name, NS),
        "<requestId>%s</requestId>" % request_id]
    if op.output_shape is not None:
        _encode_members(result, op.output_shape, out)
    else:
        out.append("<return>true</return>")
    out.append("</%sResponse>" % op.name)
    return "".join(out)


def protocol_error(code, message, request_id):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>%s</Code>'
        "<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>"
        % (escape(code), escape(message), request_id))
