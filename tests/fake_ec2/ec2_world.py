"""The fake account's resources: subnets, security groups, instances, key pairs, spot prices.

All mutation happens under World.lock.  State transitions are computed lazily from
timestamps whenever a describe call (or the control API) looks at instances:
pending -> running after cfg["boot_delay"] s; shutting-down -> terminated and stopping ->
stopped after cfg["shutdown_delay"] s; terminated instances stay listed for
cfg["terminated_linger"] s (EC2 keeps them about an hour).
"""
import base64
import datetime
import hashlib
import ipaddress
import os
import threading

ACCOUNT = "123456789012"
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}

DEFAULT_CONFIG = {
    "boot_delay": 0.0, "shutdown_delay": 0.0, "terminated_linger": 3600.0,
    "page_size": None, "empty_last_token": False, "instance_limit": None, "max_skew": 900,
}


def world_now():
    return datetime.datetime.now(datetime.timezone.utc)


def world_hexid(prefix, n=17):
    return prefix + "-" + os.urandom(9).hex()[:n]


class Subnet:
    def __init__(self, sid, cidr, az, vpc):
        self.id, self.cidr, self.az, self.vpc = sid, cidr, az, vpc
        # AWS reserves the network address, the next three and the broadcast address.
        self.free = [str(a) for a in list(cidr.hosts())[3:]]
        self.tags = {}

    def take(self):
        return self.free.pop(0) if self.free else None

    def give(self, ip):
        self.free.append(ip)
        self.free.sort(key=lambda a: ipaddress.ip_address(a))

    def as_json(self):
        return {"id": self.id, "cidr": str(self.cidr), "availability_zone": self.az, "vpc_id": self.vpc,
            "free_addresses": len(self.free)}


class Instance:
    """One VM; `request` keeps the RunInstances parameters as parsed, for the control API."""

    def __init__(self, **kw):
        self.__dict__.update(kw)
        self.state_since = self.launch_time
        self.state_reason = None
        self.transition_reason = ""

    def set_state(self, state, now, reason=None):
        self.state, self.state_since = state, now
        if reason:
            self.state_reason = reason


class World:
    def __init__(self, region, cidrs, allow_non_loopback=False, config=None):
        self.lock = threading.RLock()
        self.region = region
        self.cidr_specs = list(cidrs)
        self.allow_non_loopback = allow_non_loopback
        self.initial_cfg = dict(DEFAULT_CONFIG, **(config or {}))
        self.extra_groups = {}
        self.reset()

    def reset(self):
        with self.lock:
            self.vpc = "vpc-" + hashlib.md5(self.region.encode()).hexdigest()[:17]
            self.cfg = dict(self.initial_cfg)
            self.groups = {"sg-" + hashlib.md5(b"default").hexdigest()[:17]: "default"}
            self.groups.update(self.extra_groups)
            self.subnets = {}
            for spec in self.cidr_specs:
                self.add_subnet(spec)
            self.instances = {}
            self.keypairs = {}
            self.spot_prices = []
            self.client_tokens = {}
            self.page_tokens = {}

    def add_subnet(self, spec):
        """spec: 'CIDR' or 'subnet-ID=CIDR'; ids are derived from the CIDR when not given."""
        sid, _, cidr = spec.rpartition("=")
        net = ipaddress.ip_network(cidr, strict=False)
        if not (net.version == 4 and net.subnet_of(LOOPBACK)) and not self.allow_non_loopback:
            raise ValueError("subnet %s is outside 127.0.0.0/8 (pass --allow-non-loopback)" % cidr)
        sid = sid or "subnet-" + hashlib.md5(str(net).encode()).hexdigest()[:17]
        az = self.region + "abcdef"[len(self.subnets) % 6]
        self.subnets[sid] = Subnet(sid, net, az, self.vpc)
        return self.subnets[sid]

    def add_group(self, gid, name):
        self.groups[gid] = name

    def default_subnet(self):
        return next(iter(self.subnets.values()), None)

    def advance(self, now=None):
        """Apply the time-driven state transitions (call with the lock held)."""
        now = now or world_now()
        c = self.cfg
        for inst in list(self.instances.values()):
            age = (now - inst.state_since).total_seconds()
            if inst.state == "pending" and age >= c["boot_delay"]:
                inst.set_state("running", now)
            elif inst.state == "shutting-down" and age >= c["shutdown_delay"]:
                self.finish_termination(inst, now)
            elif inst.state == "stopping" and age >= c["shutdown_delay"]:
                inst.set_state("stopped", now)
            elif inst.state == "terminated" and age >= c["terminated_linger"]:
                del self.instances[inst.id]

    def finish_termination(self, inst, now):
        inst.set_state("terminated", now)
        if inst.private_ip and inst.subnet_id in self.subnets:
            self.subnets[inst.subnet_id].give(inst.private_ip)
            inst.released_ip = inst.private_ip

    def current_spot_price(self, itype, az):
        best = None
        for p in self.spot_prices:
            if p["InstanceType"] == itype and p["AvailabilityZone"] == az and p["ProductDescription"] == "Linux/UNIX":
                if best is None or p["Timestamp"] > best["Timestamp"]:
                    best = p
        return float(best["SpotPrice"]) if best else None

    def set_spot_prices(self, prices, replace):
        items = []
        for p in prices:
            ts = p.get("timestamp")
            if ts is None:
                ts = world_now() - datetime.timedelta(seconds=float(p.get("age_seconds", 0)))
            else:
                ts = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
            items.append({"InstanceType": p["instance_type"], "AvailabilityZone": p["availability_zone"],
                "ProductDescription": p.get("product_description", "Linux/UNIX"),
                "SpotPrice": "%.6f" % float(p["price"]), "Timestamp": ts})
        with self.lock:
            if replace:
                self.spot_prices = []
            self.spot_prices.extend(items)
        return len(items)


def world_jsonable(v):
    """Parsed parameters and views -> JSON (bytes as base64, datetimes as ISO 8601)."""
    if isinstance(v, dict):
        return {k: world_jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [world_jsonable(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(v).decode()
    if isinstance(v, datetime.datetime):
        return v.isoformat()
    return v
