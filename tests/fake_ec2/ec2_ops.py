"""The EC2 operations the Arvados driver uses (spec cloud-drivers.md 2.3-2.7, 10.1).

Each op_<Action>(world, params, ctx) runs with world.lock held and returns a boto-style
output dict (encoded to XML by ec2_protocol) or raises ApiError with EC2's code.
"""
import base64
import binascii
import re

from ec2_filters import filters_match, filters_page
from ec2_keys import KeyFormatError, keys_fingerprint
from ec2_protocol import MODEL, ApiError
from ec2_world import ACCOUNT, STATE_CODES, Instance, world_hexid, world_now

INSTANCE_TYPES = set(MODEL.shape_for("InstanceType").enum)
VOLUME_TYPES = set(MODEL.shape_for("VolumeType").enum)
# ParamValidator does not check enums: the values EC2 takes come from the model too.
SHUTDOWN_BEHAVIORS = set(MODEL.shape_for("ShutdownBehavior").enum)
TAGGABLE = {"instance", "volume", "network-interface", "spot-instances-request"}


def _state(name):
    return {"Code": STATE_CODES[name], "Name": name}


def _tags(d):
    return [{"Key": k, "Value": v} for k, v in d.items()] or None


def _check_tags(tags, have=None):
    merged = dict(have or {})
    seen = set()
    for t in tags:
        k = t["Key"]
        if k.lower().startswith("aws:"):
            raise ApiError("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
        if len(k) > 128 or len(t.get("Value", "")) > 256:
            raise ApiError("InvalidParameterValue", "Tag key or value too long: '%s'" % k[:140])
        if k in seen:
            raise ApiError("InvalidParameterValue", "Duplicate tag key '%s' specified." % k)
        seen.add(k)
        merged[k] = t.get("Value", "")
    if len(merged) > 50:
        raise ApiError("TagLimitExceeded", "The maximum number of Tags for a resource has been reached.")
    return merged


def ops_instance_view(w, i):
    sub = w.subnets.get(i.subnet_id)
    groups = [{"GroupId": g, "GroupName": w.groups.get(g, g)} for g in i.groups]
    dns = "ip-%s.ec2.internal" % i.private_ip.replace(".", "-") if i.private_ip and i.state != "terminated" else ""
    live = i.state != "terminated"
    v = {
        "AmiLaunchIndex": i.launch_index, "ImageId": i.image_id, "InstanceId": i.id,
        "InstanceType": i.instance_type, "KeyName": i.key_name, "LaunchTime": i.launch_time,
        "Monitoring": {"State": "disabled"},
        "Placement": {"AvailabilityZone": sub.az if sub else i.az, "GroupName": "", "Tenancy": "default"},
        "PrivateDnsName": dns, "PrivateIpAddress": i.private_ip if live else None, "ProductCodes": [],
        "PublicDnsName": "", "State": _state(i.state), "StateTransitionReason": i.transition_reason,
        "SubnetId": i.subnet_id if live else None, "VpcId": w.vpc if live else None, "Architecture": "x86_64",
        "BlockDeviceMappings": [{"DeviceName": d["DeviceName"], "Ebs": {"AttachTime": i.launch_time,
            "DeleteOnTermination": d["DeleteOnTermination"], "Status": "attached", "VolumeId": d["VolumeId"]}}
            for d in i.volumes] if live else [],
        "ClientToken": i.client_token or "", "EbsOptimized": False, "EnaSupport": True, "Hypervisor": "xen",
        "IamInstanceProfile": {"Arn": "arn:aws:iam::%s:instance-profile/%s" % (ACCOUNT, i.iam_profile),
            "Id": "AIPA" + i.id[2:19].upper()} if i.iam_profile else None,
        "InstanceLifecycle": i.lifecycle, "SpotInstanceRequestId": i.spot_request_id,
        "NetworkInterfaces": [{
            "Attachment": {"AttachTime": i.launch_time, "AttachmentId": "eni-attach-" + i.eni[4:],
                "DeleteOnTermination": i.eni_delete, "DeviceIndex": 0, "Status": "attached", "NetworkCardIndex": 0},
            "Description": "", "Groups": groups, "MacAddress": i.mac, "NetworkInterfaceId": i.eni,
            "OwnerId": ACCOUNT, "PrivateDnsName": dns, "PrivateIpAddress": i.private_ip,
            "PrivateIpAddresses": [{"Primary": True, "PrivateIpAddress": i.private_ip, "PrivateDnsName": dns}],
            "SourceDestCheck": True, "Status": "in-use", "SubnetId": i.subnet_id, "VpcId": w.vpc,
            "InterfaceType": "interface"}] if live and i.private_ip else [],
        "RootDeviceName": "/dev/xvda", "RootDeviceType": "ebs", "SecurityGroups": groups if live else [],
        "SourceDestCheck": True, "StateReason": i.state_reason, "Tags": _tags(i.tags),
        "VirtualizationType": "hvm",
        "MetadataOptions": {"State": "applied", "HttpTokens": i.metadata.get("HttpTokens", "optional"),
            "HttpPutResponseHopLimit": i.metadata.get("HttpPutResponseHopLimit", 1),
            "HttpEndpoint": i.metadata.get("HttpEndpoint", "enabled"), "HttpProtocolIpv6": "disabled",
            "InstanceMetadataTags": i.metadata.get("InstanceMetadataTags", "disabled")},
        "PlatformDetails": "Linux/UNIX", "UsageOperation": "RunInstances",
    }
    return v


def ops_subnet_of(w, params):
    """The subnet id a RunInstances call asks for (None if it names none)."""
    nis = params.get("NetworkInterfaces") or []
    return (nis[0].get("SubnetId") if nis else None) or params.get("SubnetId")


def _run_network(w, p):
    nis = p.get("NetworkInterfaces") or []
    if nis and (p.get("SubnetId") or p.get("SecurityGroupIds") or p.get("SecurityGroups")):
        raise ApiError("InvalidParameterCombination", "Network interfaces and an instance-level subnet ID or "
            "security groups may not be specified on the same request")
    ni = nis[0] if nis else {}
    if nis and ni.get("DeviceIndex") not in (0, None):
        raise ApiError("InvalidParameterValue", "Each network interface requires a device index of 0 for the "
            "primary interface")
    if ni.get("AssociatePublicIpAddress"):
        raise ApiError("InvalidParameterValue", "This fake never assigns public IP addresses")
    sid = ops_subnet_of(w, p)
    if sid is None:
        sub = w.default_subnet()
        if sub is None:
            raise ApiError("MissingInput", "No subnets found for the default VPC '%s'. Please specify a subnet." % w.vpc)
    elif sid not in w.subnets:
        raise ApiError("InvalidSubnetID.NotFound", "The subnet ID '%s' does not exist" % sid)
    else:
        sub = w.subnets[sid]
    groups = ni.get("Groups") or p.get("SecurityGroupIds") or []
    for g in groups:
        if g not in w.groups:
            raise ApiError("InvalidGroup.NotFound", "The security group '%s' does not exist in VPC '%s'" % (g, w.vpc))
    if not groups:
        groups = [next(iter(w.groups))]
    return sub, groups, ni.get("DeleteOnTermination", True)


def _run_checks(w, p):
    image = p.get("ImageId")
    if image is None:
        raise ApiError("MissingParameter", "The request must contain the parameter ImageId")
    if not re.fullmatch(r"ami-([0-9a-f]{8}|[0-9a-f]{17})", image):
        raise ApiError("InvalidAMIID.Malformed", 'Invalid id: "%s" (expecting "ami-...")' % image)
    itype = p.get("InstanceType", "m1.small")
    if itype not in INSTANCE_TYPES and not re.fullmatch(r"[a-z][a-z0-9-]*\.[a-z0-9-]+", itype):
        raise ApiError("InvalidParameterValue", "Invalid value '%s' for InstanceType." % itype)
    if p["MinCount"] < 1:
        raise ApiError("InvalidParameterValue", "Value (%d) for parameter minCount is invalid. "
            "Expecting a value greater than 0." % p["MinCount"])
    if p["MaxCount"] < p["MinCount"]:
        raise ApiError("InvalidParameterValue", "Value (%d) for parameter maxCount is invalid. "
            "Expecting a value greater than or equal to minCount." % p["MaxCount"])
    if p.get("LaunchTemplate"):
        raise ApiError("InvalidParameterValue", "LaunchTemplate is not supported by this fake")
    if p.get("KeyName") is not None and p["KeyName"] not in w.keypairs:
        raise ApiError("InvalidKeyPair.NotFound", "The key pair '%s' does not exist" % p["KeyName"])
    user_data = b""
    if p.get("UserData"):
        try:
            user_data = base64.b64decode(p["UserData"], validate=True)
        except (binascii.Error, ValueError):
            raise ApiError("InvalidParameterValue", "Invalid BASE64 encoding of user data.")
        if len(user_data) > 16384:
            raise ApiError("InvalidParameterValue", "User data is limited to 16384 bytes")
    md = p.get("MetadataOptions", {})
    if md.get("HttpTokens", "optional") not in ("optional", "required") or \
            md.get("HttpEndpoint", "enabled") not in ("enabled", "disabled"):
        raise ApiError("InvalidParameterValue", "Invalid MetadataOptions %r" % md)
    if p.get("InstanceInitiatedShutdownBehavior", "stop") not in SHUTDOWN_BEHAVIORS:
        raise ApiError("InvalidParameterValue", "Value (%s) for parameter instanceInitiatedShutdownBehavior "
            "is invalid. Expecting one of %s." % (p["InstanceInitiatedShutdownBehavior"],
                                                  ", ".join(sorted(SHUTDOWN_BEHAVIORS))))
    return itype, user_data


def _run_volumes(p):
    vols = [{"DeviceName": "/dev/xvda", "VolumeId": world_hexid("vol"), "DeleteOnTermination": True}]
    for m in p.get("BlockDeviceMappings", []):
        if "DeviceName" not in m:
            raise ApiError("MissingParameter", "The request must contain the parameter BlockDeviceMapping.DeviceName")
        ebs = m.get("Ebs")
        if ebs is None:
            continue
        if ebs.get("VolumeType", "gp2") not in VOLUME_TYPES:
            raise ApiError("InvalidParameterValue", "Value (%s) for parameter volumeType is invalid." % ebs["VolumeType"])
        if not 1 <= ebs.get("VolumeSize", 8) <= 16384:
            raise ApiError("InvalidParameterValue", "Volume of size %dGB is out of range" % ebs["VolumeSize"])
        vols.append({"DeviceName": m["DeviceName"], "VolumeId": world_hexid("vol"),
            "DeleteOnTermination": ebs.get("DeleteOnTermination", True)})
    return vols


def _run_spot(w, p, itype, az):
    mo = p.get("InstanceMarketOptions")
    if not mo:
        return None
    if mo.get("MarketType") != "spot":
        raise ApiError("InvalidParameterValue", "Value (%s) for parameter MarketType is invalid." % mo.get("MarketType"))
    max_price = mo.get("SpotOptions", {}).get("MaxPrice")
    cur = w.current_spot_price(itype, az)
    if max_price is not None:
        try:
            mp = float(max_price)
        except ValueError:
            raise ApiError("InvalidParameterValue", "Invalid value '%s' for MaxPrice" % max_price)
        if cur is not None and mp < cur:
            raise ApiError("SpotMaxPriceTooLow", "Your Spot request price of %s is lower than the minimum "
                "required Spot request fulfillment price of %s." % (max_price, cur))
    return "spot"


def _run_tags(p):
    tags = {}
    for spec in p.get("TagSpecifications", []):
        if spec.get("ResourceType") not in TAGGABLE:
            raise ApiError("InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation."
                % spec.get("ResourceType"))
        if spec["ResourceType"] == "instance":
            tags = _check_tags(spec.get("Tags", []), tags)
        else:
            _check_tags(spec.get("Tags", []))
    return tags


def op_RunInstances(w, p, ctx):
    token = p.get("ClientToken")
    if token is not None:
        if len(token) > 64:
            raise ApiError("InvalidParameterValue", "Value (%s) for parameter clientToken is invalid." % token)
        if token in w.client_tokens:
            prev_params, rid, ids = w.client_tokens[token]
            if prev_params != p:
                raise ApiError("IdempotentParameterMismatch", "Arguments on this idempotent request are "
                    "inconsistent with arguments used in previous request(s).")
            w.advance()
            return _reservation(w, rid, [w.instances[i] for i in ids if i in w.instances])
    itype, user_data = _run_checks(w, p)
    sub, groups, eni_delete = _run_network(w, p)
    vols = _run_volumes(p)
    lifecycle = _run_spot(w, p, itype, sub.az)
    tags = _run_tags(p)
    limit = w.cfg["instance_limit"]
    if limit is not None:
        live = sum(1 for i in w.instances.values() if i.state not in ("terminated", "shutting-down"))
        if live + p["MinCount"] > limit:
            raise ApiError("InstanceLimitExceeded", "Your quota allows for %d more running instance(s). "
                "You requested at least %d." % (max(0, limit - live), p["MinCount"]))
        count = min(p["MaxCount"], limit - live)
    else:
        count = p["MaxCount"]
    count = min(count, len(sub.free))
    if count < p["MinCount"]:
        raise ApiError("InsufficientFreeAddressesInSubnet", "The specified subnet does not have enough free "
            "addresses to satisfy the request.")
    rid, now, made = world_hexid("r"), world_now(), []
    for n in range(count):
        inst = Instance(id=world_hexid("i"), reservation_id=rid, image_id=p["ImageId"], instance_type=itype,
            launch_index=n, key_name=p.get("KeyName"), launch_time=now, state="pending", subnet_id=sub.id,
            az=sub.az, vpc=w.vpc, private_ip=sub.take(), groups=list(groups), eni=world_hexid("eni"), eni_delete=eni_delete,
            mac="06:" + ":".join(world_hexid("x", 10)[2:][k:k + 2] for k in range(0, 10, 2)),
            volumes=[dict(v, VolumeId=world_hexid("vol")) for v in vols], client_token=token,
            iam_profile=(p.get("IamInstanceProfile") or {}).get("Name"), lifecycle=lifecycle,
            spot_request_id=world_hexid("sir", 8) if lifecycle else None, tags=dict(tags),
            metadata=dict(p.get("MetadataOptions", {})), user_data=user_data, request=p,
            disable_api_termination=p.get("DisableApiTermination", False),
            shutdown_behavior=p.get("InstanceInitiatedShutdownBehavior", "stop"), released_ip=None)
        w.instances[inst.id] = inst
        made.append(inst)
    if token is not None:
        w.client_tokens[token] = (p, rid, [i.id for i in made])
    return _reservation(w, rid, made)


def _reservation(w, rid, insts):
    return {"ReservationId": rid, "OwnerId": ACCOUNT, "Groups": [],
        "Instances": [ops_instance_view(w, i) for i in insts]}


INSTANCE_FILTERS = {
    "instance-id": lambda i: [i.id], "instance-type": lambda i: [i.instance_type], "image-id": lambda i: [i.image_id],
    "key-name": lambda i: [i.key_name], "subnet-id": lambda i: [i.subnet_id], "vpc-id": lambda i: [i.vpc],
    "private-ip-address": lambda i: [i.private_ip], "availability-zone": lambda i: [i.az],
    "instance-state-name": lambda i: [i.state], "instance-state-code": lambda i: [STATE_CODES[i.state]],
    "instance-lifecycle": lambda i: [i.lifecycle], "client-token": lambda i: [i.client_token],
    "reservation-id": lambda i: [i.reservation_id], "spot-instance-request-id": lambda i: [i.spot_request_id],
    "iam-instance-profile.arn": lambda i: [i.iam_profile],
}


def _lookup(w, ids):
    bad = [x for x in ids if not re.fullmatch(r"i-([0-9a-f]{8}|[0-9a-f]{17})", x)]
    if bad:
        raise ApiError("InvalidInstanceID.Malformed", 'Invalid id: "%s"' % bad[0])
    missing = [x for x in ids if x not in w.instances]
    if len(missing) == 1:
        raise ApiError("InvalidInstanceID.NotFound", "The instance ID '%s' does not exist" % missing[0])
    if missing:
        raise ApiError("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist" % ", ".join(missing))
    return [w.instances[x] for x in ids]


def op_DescribeInstances(w, p, ctx):
    w.advance()
    ids = p.get("InstanceIds")
    insts = _lookup(w, ids) if ids else list(w.instances.values())
    insts = [i for i in insts if filters_match(i, p.get("Filters", []), INSTANCE_FILTERS)]
    page, token = filters_page(w, "DescribeInstances", p, insts, 5, 1000, "InstanceIds")
    groups = {}
    for i in page:
        groups.setdefault(i.reservation_id, []).append(i)
    return {"Reservations": [_reservation(w, r, l) for r, l in groups.items()], "NextToken": token}


STATUS_FILTERS = {
    "availability-zone": lambda i: [i.az], "instance-state-name": lambda i: [i.state],
    "instance-state-code": lambda i: [STATE_CODES[i.state]],
    "instance-status.status": lambda i: [_status(i)], "system-status.status": lambda i: [_status(i)],
}


def _status(i):
    return "ok" if i.state == "running" else "not-applicable" if i.state != "pending" else "initializing"


def op_DescribeInstanceStatus(w, p, ctx):
    w.advance()
    ids = p.get("InstanceIds")
    insts = _lookup(w, ids) if ids else list(w.instances.values())
    if not p.get("IncludeAllInstances"):
        insts = [i for i in insts if i.state == "running"]
    insts = [i for i in insts if filters_match(i, p.get("Filters", []), STATUS_FILTERS)]
    page, token = filters_page(w, "DescribeInstanceStatus", p, insts, 5, 1000, "InstanceIds")
    return {"InstanceStatuses": [{"AvailabilityZone": i.az, "InstanceId": i.id, "InstanceState": _state(i.state),
        "InstanceStatus": {"Status": _status(i), "Details": [{"Name": "reachability", "Status": "passed"}]},
        "SystemStatus": {"Status": _status(i), "Details": [{"Name": "reachability", "Status": "passed"}]}}
        for i in page], "NextToken": token}


def op_TerminateInstances(w, p, ctx):
    w.advance()
    insts = _lookup(w, p["InstanceIds"])
    for i in insts:
        if i.disable_api_termination:
            raise ApiError("OperationNotPermitted", "The instance '%s' may not be terminated. Modify its "
                "'disableApiTermination' instance attribute and try again." % i.id)
    out, now = [], world_now()
    for i in insts:
        prev = i.state
        if prev not in ("terminated", "shutting-down"):
            i.set_state("shutting-down", now, {"Code": "Client.UserInitiatedShutdown",
                "Message": "Client.UserInitiatedShutdown: User initiated shutdown"})
            i.transition_reason = "User initiated (%s)" % now.strftime("%Y-%m-%d %H:%M:%S GMT")
        out.append({"InstanceId": i.id, "PreviousState": _state(prev), "CurrentState": _state(i.state)})
    return {"TerminatingInstances": out}


def ops_guest_shutdown(w, i):
    """The guest powered itself off (poweroff inside the VM; the control API's guest-shutdown):
    EC2 applies InstanceInitiatedShutdownBehavior, stop (the default: stopping, then stopped,
    EBS kept and billed) or terminate (shutting-down, then terminated). Call with the lock held."""
    if i.state not in ("pending", "running"):
        return
    now = world_now()
    reason = {"Code": "Client.InstanceInitiatedShutdown",
              "Message": "Client.InstanceInitiatedShutdown: Instance initiated shutdown"}
    i.set_state("shutting-down" if i.shutdown_behavior == "terminate" else "stopping", now, reason)
    i.transition_reason = "User initiated (%s)" % now.strftime("%Y-%m-%d %H:%M:%S GMT")


def op_CreateTags(w, p, ctx):
    targets = []
    for r in p["Resources"]:
        if r.startswith("i-"):
            targets.append(_lookup(w, [r])[0])
        elif r.startswith("key-") and any(k.id == r for k in w.keypairs.values()):
            targets.append(next(k for k in w.keypairs.values() if k.id == r))
        elif r in w.subnets:
            targets.append(w.subnets[r])
        else:
            raise ApiError("InvalidID", "The ID '%s' is not valid" % r)
    merged = [_check_tags(p["Tags"], t.tags) for t in targets]
    for t, m in zip(targets, merged):
        t.tags = m
    return {}


class KeyPair:
    def __init__(self, name, material, ktype, fp, tags):
        self.id, self.name, self.material, self.type, self.fp = world_hexid("key"), name, material, ktype, fp
        self.tags, self.created = tags, world_now()


def op_ImportKeyPair(w, p, ctx):
    name = p["KeyName"]
    if name in w.keypairs:
        raise ApiError("InvalidKeyPair.Duplicate", "The keypair '%s' already exists." % name)
    try:
        ktype, fp = keys_fingerprint(p["PublicKeyMaterial"])
    except KeyFormatError as e:
        raise ApiError("InvalidKey.Format", str(e))
    tags = {}
    for spec in p.get("TagSpecifications", []):
        if spec.get("ResourceType") != "key-pair":
            raise ApiError("InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation."
                % spec.get("ResourceType"))
        tags = _check_tags(spec.get("Tags", []), tags)
    k = KeyPair(name, p["PublicKeyMaterial"], ktype, fp, tags)
    w.keypairs[name] = k
    return {"KeyFingerprint": fp, "KeyName": name, "KeyPairId": k.id, "Tags": _tags(tags)}


KEY_FILTERS = {"fingerprint": lambda k: [k.fp], "key-name": lambda k: [k.name], "key-pair-id": lambda k: [k.id],
    "key-type": lambda k: [k.type]}


def op_DescribeKeyPairs(w, p, ctx):
    keys = list(w.keypairs.values())
    for n in p.get("KeyNames", []):
        if n not in w.keypairs:
            raise ApiError("InvalidKeyPair.NotFound", "The key pair '%s' does not exist" % n)
    if p.get("KeyNames"):
        keys = [k for k in keys if k.name in p["KeyNames"]]
    for kid in p.get("KeyPairIds", []):
        if not any(k.id == kid for k in keys):
            raise ApiError("InvalidKeyPair.NotFound", "The key pair '%s' does not exist" % kid)
    if p.get("KeyPairIds"):
        keys = [k for k in keys if k.id in p["KeyPairIds"]]
    keys = [k for k in keys if filters_match(k, p.get("Filters", []), KEY_FILTERS)]
    return {"KeyPairs": [{"KeyPairId": k.id, "KeyFingerprint": k.fp, "KeyName": k.name, "KeyType": k.type,
        "Tags": _tags(k.tags), "CreateTime": k.created,
        "PublicKey": k.material.decode(errors="replace").strip() if p.get("IncludePublicKey") else None}
        for k in keys]}


SPOT_FILTERS = {"instance-type": lambda s: [s["InstanceType"]], "product-description": lambda s: [s["ProductDescription"]],
    "availability-zone": lambda s: [s["AvailabilityZone"]], "spot-price": lambda s: [s["SpotPrice"]],
    "timestamp": lambda s: [s["Timestamp"].strftime("%Y-%m-%dT%H:%M:%S.000Z")]}


class _SpotView:
    """Adapter so filters_match can read spot price dicts (they carry no tags)."""

    def __init__(self, d):
        self.d, self.tags = d, {}

    def __getitem__(self, k):
        return self.d[k]


def op_DescribeSpotPriceHistory(w, p, ctx):
    start, end = p.get("StartTime"), p.get("EndTime") or world_now()
    if start and start > end:
        raise ApiError("InvalidParameterValue", "The start time must be before the end time.")
    items = []
    for s in sorted(w.spot_prices, key=lambda s: s["Timestamp"], reverse=True):
        if (start and s["Timestamp"] < start) or s["Timestamp"] > end:
            continue
        if p.get("InstanceTypes") and s["InstanceType"] not in p["InstanceTypes"]:
            continue
        if p.get("ProductDescriptions") and s["ProductDescription"] not in p["ProductDescriptions"]:
            continue
        if p.get("AvailabilityZone") and s["AvailabilityZone"] != p["AvailabilityZone"]:
            continue
        if filters_match(_SpotView(s), p.get("Filters", []), SPOT_FILTERS):
            items.append(dict(s))
    page, token = filters_page(w, "DescribeSpotPriceHistory", p, items, 0, 1000)
    return {"SpotPriceHistory": page, "NextToken": token}


OPERATIONS = {name[3:]: fn for name, fn in globals().items() if name.startswith("op_")}
