"""Scripted fault injection per Action (control API /_fake/faults).

A fault: {"action": "RunInstances" | "*", "code": "InsufficientInstanceCapacity" (optional:
without a code the fault only delays or hangs), "message": str (default: EC2's wording, with
{subnet}, {instance_type}, {az} filled from the request), "status": int (default from STATUS),
"count": N (default 1, -1 = until cleared), "delay": seconds, "hang": bool (hold the request
until the fault is cleared/reset or hang_timeout expires, then drop the connection),
"subnet": only RunInstances calls launching into that subnet, "instance_type": only
RunInstances calls for that instance type, "probability": P (default 1: a matching call gets
the fault with probability P; one that does not is left for the next fault and uses no count),
"seed": N (this fault draws from its own generator seeded with N, so a run can be replayed)}.
Each fault counts the calls it answered in "fired".
"""
import random
import threading

# HTTP status EC2 uses for each code of spec 2.6 and the common server errors.
STATUS = {
    "InsufficientInstanceCapacity": 500, "InsufficientAddressCapacity": 500,
    "InsufficientVolumeCapacity": 500, "InsufficientCapacity": 500, "InternalError": 500,
    "InternalFailure": 500, "Unavailable": 503, "ServiceUnavailable": 503,
    "RequestLimitExceeded": 503, "SlowDown": 503,
}

MESSAGES = {
    "InsufficientInstanceCapacity": "We currently do not have sufficient {instance_type} capacity in the "
        "Availability Zone you requested ({az}). Our system will be working on provisioning additional capacity.",
    "Unsupported": "Your requested instance type ({instance_type}) is not supported in your requested "
        "Availability Zone ({az}). Please retry your request by not specifying an Availability Zone.",
    "VcpuLimitExceeded": "You have requested more vCPU capacity than your current vCPU limit of 32 allows for "
        "the instance bucket that the specified instance type belongs to.",
    "InstanceLimitExceeded": "Your quota allows for 0 more running instance(s). You requested at least 1.",
    "MaxSpotInstanceCountExceeded": "Max spot instance count exceeded",
    "InsufficientFreeAddressesInSubnet": "The specified subnet does not have enough free addresses to "
        "satisfy the request.",
    "InsufficientAddressCapacity": "Not enough available addresses to satisfy your minimum request.",
    "InsufficientVolumeCapacity": "There is not enough capacity to fulfill your EBS volume provision request.",
    "InvalidSubnetID.NotFound": "The subnet ID '{subnet}' does not exist",
    "InvalidParameterValue": "Not enough free addresses in subnet {subnet} to satisfy the requested number "
        "of instances.",
    "RequestLimitExceeded": "Request limit exceeded.",
    "Unavailable": "The service is unavailable. Please try again shortly.",
    "InternalError": "An internal error has occurred",
}


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.items = []
        self.released = threading.Event()
        self.fired = {}
        self.rngs = []   # one per item: its own seeded generator, or the random module

    def add(self, spec):
        f = {"action": spec["action"], "code": spec.get("code"), "message": spec.get("message"),
            "status": int(spec.get("status", STATUS.get(spec.get("code"), 400))),
            "count": int(spec.get("count", 1)), "delay": float(spec.get("delay", 0)),
            "hang": bool(spec.get("hang", False)), "subnet": spec.get("subnet"),
            "instance_type": spec.get("instance_type"),
            "probability": float(spec.get("probability", 1.0)), "seed": spec.get("seed"), "fired": 0}
        rng = random.Random(f["seed"]) if f["seed"] is not None else random
        with self.lock:
            self.items.append(f)
            self.rngs.append(rng)
        return dict(f)

    def clear(self):
        with self.lock:
            self.items = []
            self.rngs = []
            # Wake every hanging request; later hangs get a fresh event.
            self.released.set()
            self.released = threading.Event()

    def take(self, action, subnet, instance_type=None):
        """The first matching fault (its count decremented) or None."""
        with self.lock:
            for f, rng in zip(self.items, self.rngs):
                if f["action"] not in (action, "*") or f["count"] == 0:
                    continue
                if f["subnet"] is not None and f["subnet"] != subnet:
                    continue
                if f["instance_type"] is not None and f["instance_type"] != instance_type:
                    continue
                if f["probability"] < 1.0 and rng.random() >= f["probability"]:
                    continue
                if f["count"] > 0:
                    f["count"] -= 1
                f["fired"] += 1
                self.fired[action] = self.fired.get(action, 0) + 1
                return dict(f, released=self.released)
            return None

    def message(self, f, ctx):
        text = f["message"] or MESSAGES.get(f["code"], "Injected fault %s" % f["code"])
        return text.format(**ctx) if not f["message"] else text

    def as_json(self):
        with self.lock:
            return {"faults": [dict(f) for f in self.items], "fired": dict(self.fired)}
