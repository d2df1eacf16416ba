"""EC2 describe-call filters and paging.

Filters: AND across Filter.N, OR across its Value.M; values may use EC2's wildcards
(`*` any run, `?` one character).  An unknown filter name is InvalidParameterValue, as EC2.
Paging: NextToken is an opaque server-side token bound to the operation and the other
parameters; a token from elsewhere is InvalidParameterValue.
"""
import os
import re

from ec2_protocol import ApiError


def _glob(pattern):
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z")


def filters_match(obj, filters, extractors):
    """extractors: {name: fn(obj) -> list of str}; 'tag:' names use obj.tags."""
    for f in filters:
        name = f["Name"]
        if name.startswith("tag:"):
            have = [obj.tags[name[4:]]] if name[4:] in obj.tags else []
        elif name == "tag-key":
            have = list(obj.tags)
        elif name == "tag-value":
            have = list(obj.tags.values())
        elif name in extractors:
            have = [str(x) for x in extractors[name](obj) if x is not None]
        else:
            raise ApiError("InvalidParameterValue", "The filter '%s' is invalid" % name)
        pats = [_glob(v) for v in f.get("Values", [])]
        if not any(p.match(h) for p in pats for h in have):
            return False
    return True


def filters_page(world, op, params, items, lo, hi, ids_key=None):
    """Slice items per MaxResults/NextToken with EC2's constraints; returns (page, next_token)."""
    limit = params.get("MaxResults")
    if limit is not None:
        if ids_key and params.get(ids_key):
            raise ApiError("InvalidParameterCombination",
                "The parameter %s cannot be used with the parameter maxResults" % ids_key)
        if limit < lo or limit > hi:
            raise ApiError("InvalidParameterValue",
                "Value ( %d ) for parameter maxResults is invalid. Expecting a value between %d and %d." % (limit, lo, hi))
    elif world.cfg["page_size"]:
        limit = int(world.cfg["page_size"])
    key = (op, repr(sorted((k, repr(v)) for k, v in params.items() if k not in ("NextToken", "MaxResults"))))
    start = 0
    if params.get("NextToken"):
        saved = world.page_tokens.get(params["NextToken"])
        if saved is None or saved[0] != key:
            raise ApiError("InvalidParameterValue", "Invalid value '%s' for nextToken" % params["NextToken"])
        start = saved[1]
    if not limit:
        limit = len(items) + 1
    page = items[start:start + limit]
    if start + limit < len(items):
        token = os.urandom(24).hex()
        world.page_tokens[token] = (key, start + limit)
        return page, token
    return page, ("" if world.cfg["empty_last_token"] else None)
