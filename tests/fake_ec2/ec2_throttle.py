"""AWS EC2 API throttling: token buckets per action, as published by AWS.

Request buckets (capacity, refill per second), one bucket per action:
  RunInstances 5 + 2/s; TerminateInstances 100 + 5/s (the issue's figures);
  other mutating actions (CreateTags, ImportKeyPair, ...) 200 + 10/s;
  non-mutating Describe* calls 100 + 20/s, but 50 + 10/s when called "unfiltered and
  unpaginated" (no Filters, no ids, no MaxResults), AWS's separate category.
Resource buckets (tokens = instances): RunInstances 1000 + 2/s, TerminateInstances 1000 + 20/s.
An empty bucket answers RequestLimitExceeded (HTTP 503).  Tokens are only taken when every
bucket the call needs has enough, so a throttled call costs nothing (as AWS).
"""
import threading
import time

MUTATING = (200, 10.0)
DESCRIBE = (100, 20.0)
UNFILTERED = (50, 10.0)
REQUEST = {"RunInstances": (5, 2.0), "TerminateInstances": (100, 5.0)}
RESOURCE = {"RunInstances": (1000, 2.0), "TerminateInstances": (1000, 20.0)}


class _Bucket:
    def __init__(self, capacity, refill):
        self.capacity, self.refill = capacity, refill
        self.tokens, self.stamp = float(capacity), time.monotonic()

    def level(self, now):
        # a bucket made after `now` was taken must not lose tokens: a call needing the whole
        # capacity (TerminateInstances of 1000 ids) is admitted by a full bucket, as by AWS
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.refill)
            self.stamp = now
        return self.tokens

    def as_json(self, now):
        return {"capacity": self.capacity, "refill_per_second": self.refill, "tokens": self.level(now)}


class Throttle:
    def __init__(self, enabled=False):
        self.lock = threading.Lock()
        self.initially_enabled = enabled
        self.reset()

    def reset(self):
        """Back to the command line's settings: full buckets, no overrides, zero counters."""
        with self.lock:
            self.enabled, self.overrides = self.initially_enabled, {}
            self.buckets, self.calls, self.throttled = {}, {}, {}

    def _params(self, name):
        if name in self.overrides:
            o = self.overrides[name]
            return o["capacity"], o["refill_per_second"]
        action, _, kind = name.partition(":")
        if kind == "resource":
            return RESOURCE[action]
        if kind == "unfiltered":
            return UNFILTERED
        if action in REQUEST:
            return REQUEST[action]
        return DESCRIBE if action.startswith("Describe") else MUTATING

    def _bucket(self, name):
        if name not in self.buckets:
            self.buckets[name] = _Bucket(*self._params(name))
        return self.buckets[name]

    @staticmethod
    def bucket_names(action, params):
        """Buckets (and token cost) a call of action with params draws on."""
        if action.startswith("Describe"):
            narrowed = any(k in params for k in ("Filters", "MaxResults", "NextToken")) or any(
                k.endswith("Ids") or k.endswith("Names") for k in params)
            return [(action if narrowed else action + ":unfiltered", 1)]
        names = [(action, 1)]
        if action == "RunInstances":
            names.append(("RunInstances:resource", int(params.get("MaxCount", 1))))
        elif action == "TerminateInstances":
            names.append(("TerminateInstances:resource", len(params.get("InstanceIds", []))))
        return names

    def admit(self, action, params):
        """Count the call; return False (and count it throttled) if a bucket is short."""
        with self.lock:
            self.calls[action] = self.calls.get(action, 0) + 1
            if not self.enabled:
                return True
            now = time.monotonic()
            need = [(self._bucket(n), c) for n, c in self.bucket_names(action, params)]
            if all(b.level(now) >= c for b, c in need):
                for b, c in need:
                    b.tokens -= c
                return True
            self.throttled[action] = self.throttled.get(action, 0) + 1
            return False

    def configure(self, cfg):
        """Control API: {"enabled": bool, "buckets": {name: {capacity, refill_per_second}}, "refill": bool}."""
        with self.lock:
            if "enabled" in cfg:
                self.enabled = bool(cfg["enabled"])
            for name, o in cfg.get("buckets", {}).items():
                self.overrides[name] = {"capacity": float(o["capacity"]),
                    "refill_per_second": float(o["refill_per_second"])}
                self.buckets.pop(name, None)
            if cfg.get("refill"):
                self.buckets = {}
            if cfg.get("reset_counters"):
                self.calls, self.throttled = {}, {}

    def as_json(self):
        with self.lock:
            now = time.monotonic()
            return {"enabled": self.enabled, "calls": dict(self.calls), "throttled": dict(self.throttled),
                "buckets": {n: b.as_json(now) for n, b in self.buckets.items()}}
