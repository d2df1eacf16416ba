"""The unsigned JSON control API under /_fake/ (see README.md for the full list).

control_handle(fake, method, path, body) -> (status, JSON-able document).
"""
import json
import time
import urllib.parse

from ec2_ops import ops_guest_shutdown, ops_instance_view
from ec2_world import DEFAULT_CONFIG, STATE_CODES, world_jsonable, world_now


def _instance_json(w, i):
    return world_jsonable({
        "id": i.id, "state": i.state, "private_ip": i.private_ip, "subnet_id": i.subnet_id,
        "availability_zone": i.az, "instance_type": i.instance_type, "image_id": i.image_id,
        "key_name": i.key_name, "tags": i.tags, "lifecycle": i.lifecycle, "client_token": i.client_token,
        "user_data": i.user_data.decode("utf-8", "replace"), "user_data_base64": i.user_data,
        "security_groups": i.groups, "metadata_options": i.metadata, "iam_instance_profile": i.iam_profile,
        "block_devices": i.volumes, "disable_api_termination": i.disable_api_termination,
        "shutdown_behavior": i.shutdown_behavior, "launch_time": i.launch_time, "request": i.request,
        "view": ops_instance_view(w, i), "instance_action": getattr(i, "instance_action", None)})


def _instances(fake, method, parts, doc):
    w = fake.world
    with w.lock:
        w.advance()
        if not parts:
            return 200, {"instances": [_instance_json(w, i) for i in w.instances.values()]}
        inst = w.instances.get(parts[0])
        if inst is None:
            return 404, {"error": "no instance %s" % parts[0]}
        if method == "POST" and parts[1:] == ["guest-shutdown"]:
            ops_guest_shutdown(w, inst)
            w.advance()
            return 200, _instance_json(w, inst)
        if parts[1:] == ["instance-action"] and method in ("POST", "DELETE"):
            # A spot interruption notice, in EC2's format, served by the instance's IMDS
            # (ec2_imds.py); DELETE withdraws it.
            if method == "DELETE":
                inst.instance_action = None
            else:
                when = doc.get("time") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 120))
                inst.instance_action = {"action": doc.get("action", "terminate"), "time": when}
            return 200, _instance_json(w, inst)
        if method == "POST" and parts[1:] == ["state"]:
            state = doc["state"]
            if state not in STATE_CODES:
                return 400, {"error": "unknown state %s" % state}
            reason = {"Code": doc["reason_code"], "Message": doc.get("reason_message", doc["reason_code"])} \
                if doc.get("reason_code") else None
            if state == "terminated":
                w.finish_termination(inst, world_now())
                inst.state_reason = reason or inst.state_reason
            else:
                inst.set_state(state, world_now(), reason)
        return 200, _instance_json(w, inst)


def _requests(fake, method, query):
    with fake.log_lock:
        if method == "DELETE":
            fake.log = []
            return 200, {"requests": []}
        action = query.get("action", [None])[0]
        return 200, {"requests": [e for e in fake.log if action is None or e.get("action") == action]}


def _config(fake, method, doc):
    w = fake.world
    with w.lock:
        for k, v in doc.items():
            if k not in DEFAULT_CONFIG and k != "hang_timeout":
                return 400, {"error": "unknown config key %s" % k}
            w.cfg[k] = v
        return 200, dict(w.cfg)


def _subnets(fake, method, doc):
    w = fake.world
    with w.lock:
        if method == "POST":
            try:
                w.add_subnet(doc["spec"])
            except ValueError as e:
                return 400, {"error": str(e)}
        return 200, {"subnets": [s.as_json() for s in w.subnets.values()]}


def control_handle(fake, method, path, body):
    u = urllib.parse.urlsplit(path)
    parts = [p for p in u.path.split("/") if p][1:]
    query = urllib.parse.parse_qs(u.query)
    try:
        doc = json.loads(body) if body else {}
    except ValueError:
        return 400, {"error": "body is not JSON"}
    what, rest = (parts[0] if parts else "info"), parts[1:]
    try:
        if what == "info":
            return 200, fake.info
        if what == "instances":
            return _instances(fake, method, rest, doc)
        if what == "keypairs":
            with fake.world.lock:
                return 200, {"keypairs": [{"name": k.name, "id": k.id, "fingerprint": k.fp, "type": k.type,
                    "tags": k.tags, "material": k.material.decode("utf-8", "replace")}
                    for k in fake.world.keypairs.values()]}
        if what == "faults":
            if method == "POST":
                return 200, fake.faults.add(doc)
            if method == "DELETE":
                fake.faults.clear()
            return 200, fake.faults.as_json()
        if what == "requests":
            return _requests(fake, method, query)
        if what == "imds" and method == "GET":
            return (200, fake.imds.as_json()) if fake.imds else (404, {"error": "no --imds-port"})
        if what == "reset" and method == "POST":
            fake.reset()
            return 200, {"reset": True}
        if what == "spot-prices":
            if method == "POST":
                fake.world.set_spot_prices(doc.get("prices", []), doc.get("replace", False))
            with fake.world.lock:
                return 200, {"prices": world_jsonable(fake.world.spot_prices)}
        if what == "throttle":
            if method == "POST":
                fake.throttle.configure(doc)
            return 200, fake.throttle.as_json()
        if what == "config":
            return _config(fake, method, doc) if method == "POST" else (200, dict(fake.world.cfg))
        if what == "subnets":
            return _subnets(fake, method, doc)
        if what == "security-groups" and method == "POST":
            with fake.world.lock:
                fake.world.add_group(doc["id"], doc.get("name", doc["id"]))
                return 200, {"security_groups": fake.world.groups}
    except (KeyError, TypeError, ValueError) as e:
        return 400, {"error": "bad control request: %r" % (e,)}
    return 404, {"error": "no control endpoint %s %s" % (method, u.path)}
