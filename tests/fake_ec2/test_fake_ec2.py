#!/usr/bin/python3
"""Tests of fake_ec2.py with boto3 (and raw SigV4 requests) over HTTPS with a test CA.

Every successful answer is parsed by botocore's EC2 parser (through boto3, and explicitly in
test_raw_response_parses), so a response that does not fit the output shape fails here.
"""
import base64
import datetime
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

import boto3
import botocore.parsers
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, ReadTimeoutError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from free_ports import free_port  # noqa: E402

AKID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TMP_AKID, TMP_SECRET, TMP_TOKEN = "ASIATEMPORARYKEY0001", "tempsecret", "session-token-1"
SUBNET2 = "subnet-0000000000000beef"
SG = "sg-0123456789abcdef0"
AMI = "ami-0123456789abcdef0"
MODEL = botocore.session.get_session().get_service_model("ec2")
NO_RETRY = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


def make_ca(d):
    """A test CA and a server certificate for 127.0.0.1/localhost signed by it."""
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
         "-subj", "/CN=fake-ec2 test CA", "-keyout", d + "/ca.key", "-out", d + "/ca.pem"])
    run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
         "-keyout", d + "/srv.key", "-out", d + "/srv.csr"])
    with open(d + "/ext", "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run(["openssl", "x509", "-req", "-in", d + "/srv.csr", "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key",
         "-CAcreateserial", "-days", "2", "-extfile", d + "/ext", "-out", d + "/srv.pem"])


def start_fake(d, *extra):
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_ec2.py"), "--port", "0",
                          "--tls", d + "/srv.pem", d + "/srv.key", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line:
        raise RuntimeError("fake_ec2 did not start: " + p.stderr.read())
    return p, json.loads(line)


class FakeCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="fake-ec2-test-")
        make_ca(cls.dir)
        cls.ca = cls.dir + "/ca.pem"
        cls.proc, cls.info = start_fake(
            cls.dir, "--subnet-cidr", "127.0.1.0/24", SUBNET2 + "=127.0.2.0/28",
            "--key", "%s:%s" % (AKID, SECRET), "--key", "%s:%s:%s" % (TMP_AKID, TMP_SECRET, TMP_TOKEN),
            "--security-group", SG + "=arvados")
        cls.endpoint = cls.info["endpoint"]
        cls.subnet1 = cls.info["subnets"][0]["id"]
        cls.ssl = ssl.create_default_context(cafile=cls.ca)

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait()
        cls.proc.stdout.close()
        cls.proc.stderr.close()
        shutil.rmtree(cls.dir)

    def setUp(self):
        self.ctl("POST", "reset")
        self.clients = []
        self.ec2 = self.client()

    def tearDown(self):
        for c in self.clients:
            c.close()

    def client(self, akid=AKID, secret=SECRET, token=None, config=NO_RETRY, region="us-east-1"):
        c = boto3.client("ec2", region_name=region, endpoint_url=self.endpoint, verify=self.ca,
                         aws_access_key_id=akid, aws_secret_access_key=secret, aws_session_token=token, config=config)
        self.clients.append(c)
        return c

    def ctl(self, method, path, doc=None):
        req = urllib.request.Request(self.endpoint + "/_fake/" + path, method=method,
                                     data=json.dumps(doc).encode() if doc is not None else None)
        with urllib.request.urlopen(req, context=self.ssl) as r:
            return json.load(r)

    def raw(self, params, akid=AKID, secret=SECRET, token=None, region="us-east-1", tamper=None, date=None,
            sign=True):
        """POST a form signed with botocore's SigV4 primitives; returns (status, body text)."""
        body = urllib.parse.urlencode(params)
        host = urllib.parse.urlsplit(self.endpoint).netloc
        amz_date = (date or datetime.datetime.utcnow()).strftime("%Y%m%dT%H%M%SZ")
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Host": host,
                   "X-Amz-Date": amz_date}
        if token:
            headers["X-Amz-Security-Token"] = token
        if sign:
            req = AWSRequest(method="POST", url=self.endpoint + "/", data=body, headers=dict(headers))
            req.context["timestamp"] = amz_date
            signer = SigV4Auth(Credentials(akid, secret, token), "ec2", region)
            sig = signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
            headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=%s, Signature=%s" % (
                signer.scope(req), signer.signed_headers(signer.headers_to_sign(req)), sig)
        if tamper:
            body = tamper(body)
        c = http.client.HTTPSConnection(host, context=self.ssl, timeout=30)
        c.request("POST", "/", body=body, headers=headers)
        r = c.getresponse()
        out = r.status, r.read().decode()
        c.close()
        return out

    def assertApiError(self, code, fn, *a, status=None, **kw):
        with self.assertRaises(ClientError) as cm:
            fn(*a, **kw)
        self.assertEqual(cm.exception.response["Error"]["Code"], code, cm.exception.response["Error"])
        if status is not None:
            self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
        return cm.exception.response["Error"]["Message"]

    def launch(self, count=1, tags=None, subnet=None, **kw):
        ni = {"DeviceIndex": 0, "AssociatePublicIpAddress": False, "DeleteOnTermination": True}
        if subnet:
            ni["SubnetId"] = subnet
        args = dict(ImageId=AMI, InstanceType="t2.micro", MinCount=1, MaxCount=count, NetworkInterfaces=[ni],
                    TagSpecifications=[{"ResourceType": "instance",
                                        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {"a": "b"}).items()]}])
        args.update(kw)
        return self.ec2.run_instances(**args)["Instances"]

    def listed(self, **kw):
        out = []
        for page in self.ec2.get_paginator("describe_instances").paginate(**kw):
            out += [i for r in page["Reservations"] for i in r["Instances"]]
        return out


class TestOperations(FakeCase):
    def test_run_instances_stores_every_parameter(self):
        init = "#!/bin/sh\numask 0177 && echo -n secret >/var/run/arvados-instance-secret\n"
        self.ec2.import_key_pair(KeyName="kp", PublicKeyMaterial=self.keypair("rsa")[0])
        inst = self.ec2.run_instances(
            ImageId=AMI, InstanceType="m5.large", MinCount=1, MaxCount=1, KeyName="kp", UserData=init,
            NetworkInterfaces=[{"DeviceIndex": 0, "AssociatePublicIpAddress": False, "DeleteOnTermination": True,
                                "SubnetId": SUBNET2, "Groups": [SG]}],
            DisableApiTermination=False, InstanceInitiatedShutdownBehavior="terminate",
            TagSpecifications=[{"ResourceType": "instance", "Tags": [
                {"Key": "ArvadosInstanceSetID", "Value": "zzzzz-zzzzz-zzzzzzzzzzzzzzz"},
                {"Key": "ArvadosInstanceSecret", "Value": "secret"}]}],
            MetadataOptions={"HttpEndpoint": "enabled", "HttpTokens": "required"},
            BlockDeviceMappings=[{"DeviceName": "/dev/xvdt", "Ebs": {"VolumeSize": 20, "VolumeType": "gp3",
                                                                     "DeleteOnTermination": True}}],
            InstanceMarketOptions={"MarketType": "spot", "SpotOptions": {
                "MaxPrice": "0.02", "InstanceInterruptionBehavior": "terminate"}},
            IamInstanceProfile={"Name": "arvados-worker"}, ClientToken="tok-1")["Instances"][0]
        self.assertRegex(inst["InstanceId"], r"^i-[0-9a-f]{17}$")
        self.assertEqual(inst["State"], {"Code": 0, "Name": "pending"})
        self.assertEqual(inst["SubnetId"], SUBNET2)
        self.assertRegex(inst["PrivateIpAddress"], r"^127\.0\.2\.([4-9]|1[0-4])$")
        self.assertEqual(inst["InstanceLifecycle"], "spot")
        self.assertEqual(inst["Placement"]["AvailabilityZone"], "us-east-1b")
        self.assertEqual({t["Key"]: t["Value"] for t in inst["Tags"]}["ArvadosInstanceSecret"], "secret")
        self.assertEqual(inst["MetadataOptions"]["HttpTokens"], "required")
        self.assertEqual([g["GroupId"] for g in inst["SecurityGroups"]], [SG])
        stored = self.ctl("GET", "instances/" + inst["InstanceId"])
        self.assertEqual(stored["user_data"], init)
        self.assertEqual(stored["key_name"], "kp")
        self.assertEqual(stored["iam_instance_profile"], "arvados-worker")
        self.assertEqual(stored["client_token"], "tok-1")
        self.assertEqual(stored["shutdown_behavior"], "terminate")
        req = stored["request"]
        self.assertEqual(req["InstanceMarketOptions"]["SpotOptions"]["MaxPrice"], "0.02")
        self.assertEqual(req["BlockDeviceMappings"][0]["Ebs"], {"VolumeSize": 20, "VolumeType": "gp3",
                                                                "DeleteOnTermination": True})
        self.assertEqual(req["NetworkInterfaces"][0]["AssociatePublicIpAddress"], False)
        self.assertEqual(req["MetadataOptions"], {"HttpEndpoint": "enabled", "HttpTokens": "required"})
        self.assertEqual(base64.b64decode(req["UserData"]).decode(), init)

    def test_refuses_non_loopback_subnets(self):
        p = subprocess.run([sys.executable, os.path.join(HERE, "fake_ec2.py"), "--subnet-cidr", "10.1.0.0/24"],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("outside 127.0.0.0/8", p.stderr)

    def test_run_instances_rejections(self):
        self.assertApiError("InvalidSubnetID.NotFound", self.launch, subnet="subnet-0123456789abcdef0")
        self.assertApiError("InvalidKeyPair.NotFound", self.launch, KeyName="nope")
        self.assertApiError("InvalidAMIID.Malformed", self.launch, ImageId="image-1")
        self.assertApiError("InvalidParameterValue", self.launch, MinCount=2)   # MaxCount 1 < MinCount
        self.assertApiError("InvalidParameterCombination", self.launch, SubnetId=self.subnet1)
        self.assertApiError("InvalidGroup.NotFound", self.launch, count=1, NetworkInterfaces=[
            {"DeviceIndex": 0, "Groups": ["sg-00000000000000bad"]}])
        self.assertApiError("DryRunOperation", self.launch, DryRun=True, status=412)
        self.assertEqual(self.ctl("GET", "instances")["instances"], [])

    def test_addresses_come_from_the_subnet_and_run_out(self):
        got = self.launch(count=11, subnet=SUBNET2)
        self.assertEqual(sorted(int(i["PrivateIpAddress"].split(".")[3]) for i in got), list(range(4, 15)))
        self.assertApiError("InsufficientFreeAddressesInSubnet", self.launch, subnet=SUBNET2)
        self.ec2.terminate_instances(InstanceIds=[got[0]["InstanceId"]])
        self.listed()  # terminated now (shutdown delay 0): the address is free again
        self.assertEqual(self.launch(subnet=SUBNET2)[0]["PrivateIpAddress"], got[0]["PrivateIpAddress"])

    def test_client_token_idempotency(self):
        a = self.launch(ClientToken="same")[0]
        b = self.launch(ClientToken="same")[0]
        self.assertEqual(a["InstanceId"], b["InstanceId"])
        self.assertEqual(len(self.ctl("GET", "instances")["instances"]), 1)
        self.assertApiError("IdempotentParameterMismatch", self.launch, ClientToken="same", InstanceType="t3.small")
        self.assertNotEqual(self.launch(ClientToken="other")[0]["InstanceId"], a["InstanceId"])

    def test_describe_filters(self):
        a = self.launch(tags={"ArvadosInstanceSetID": "mine", "ArvadosInstanceType": "small"})[0]["InstanceId"]
        b = self.launch(tags={"ArvadosInstanceSetID": "mine"})[0]["InstanceId"]
        c = self.launch(tags={"ArvadosInstanceSetID": "foreign"})[0]["InstanceId"]
        self.ec2.terminate_instances(InstanceIds=[b])

        def ids(filters):
            return sorted(i["InstanceId"] for i in self.listed(Filters=filters))
        self.assertEqual(ids([{"Name": "tag:ArvadosInstanceSetID", "Values": ["mine"]}]), sorted([a, b]))
        self.assertEqual(ids([{"Name": "tag:ArvadosInstanceSetID", "Values": ["mine", "foreign"]},
                              {"Name": "instance-state-name", "Values": ["running"]}]), sorted([a, c]))
        self.assertEqual(ids([{"Name": "tag-key", "Values": ["ArvadosInstanceType"]}]), [a])
        self.assertEqual(ids([{"Name": "tag:ArvadosInstanceSetID", "Values": ["for*"]}]), [c])
        self.assertEqual(ids([{"Name": "instance-id", "Values": [a, c]}]), sorted([a, c]))
        self.assertEqual([i["State"]["Name"] for i in self.listed(InstanceIds=[b])], ["terminated"])
        self.assertApiError("InvalidParameterValue", self.listed, Filters=[{"Name": "bogus", "Values": ["x"]}])
        self.assertApiError("InvalidInstanceID.NotFound", self.listed, InstanceIds=["i-0123456789abcdef0"])

    def test_paging_describe_instances(self):
        made = {i["InstanceId"] for i in self.launch(count=12)}
        seen, pages, token = [], [], None
        while True:
            kw = {"MaxResults": 5, **({"NextToken": token} if token else {})}
            r = self.ec2.describe_instances(**kw)
            pages.append(sum(len(x["Instances"]) for x in r["Reservations"]))
            seen += [i["InstanceId"] for x in r["Reservations"] for i in x["Instances"]]
            token = r.get("NextToken")
            if not token:
                break
        self.assertEqual(pages, [5, 5, 2])
        self.assertNotIn("NextToken", r)
        self.assertEqual(sorted(seen), sorted(made))
        self.assertApiError("InvalidParameterValue", self.ec2.describe_instances, MaxResults=4)
        self.assertApiError("InvalidParameterCombination", self.ec2.describe_instances, MaxResults=5,
                            InstanceIds=[seen[0]])
        self.assertApiError("InvalidParameterValue", self.ec2.describe_instances, NextToken="forged")
        self.ctl("POST", "config", {"empty_last_token": True, "page_size": 7})
        r = self.ec2.describe_instances()
        self.assertEqual(sum(len(x["Instances"]) for x in r["Reservations"]), 7)
        last = self.ec2.describe_instances(NextToken=r["NextToken"])
        self.assertEqual(last["NextToken"], "")
        self.assertEqual(len(self.listed()), 12)

    def test_state_lifecycle(self):
        self.ctl("POST", "config", {"boot_delay": 3600})
        slow = self.launch()[0]["InstanceId"]
        self.assertEqual(self.listed(InstanceIds=[slow])[0]["State"]["Name"], "pending")
        self.ctl("POST", "config", {"boot_delay": 0, "shutdown_delay": 3600})
        self.assertEqual(self.listed(InstanceIds=[slow])[0]["State"]["Name"], "running")
        r = self.ec2.terminate_instances(InstanceIds=[slow])["TerminatingInstances"][0]
        self.assertEqual((r["PreviousState"]["Name"], r["CurrentState"]["Name"]), ("running", "shutting-down"))
        self.assertEqual(self.listed()[0]["State"]["Name"], "shutting-down")
        self.ctl("POST", "config", {"shutdown_delay": 0})
        gone = self.listed()[0]
        self.assertEqual(gone["State"], {"Code": 48, "Name": "terminated"})
        self.assertNotIn("PrivateIpAddress", gone)
        self.assertEqual(gone["StateReason"]["Code"], "Client.UserInitiatedShutdown")
        self.ctl("POST", "config", {"terminated_linger": 0})
        self.assertEqual(self.listed(), [])

    def test_guest_shutdown_follows_shutdown_behavior(self):
        """A poweroff inside the VM (control API guest-shutdown): stopped by default, terminated
        with InstanceInitiatedShutdownBehavior=terminate; a value outside botocore's enum is
        refused."""
        stop = self.launch()[0]["InstanceId"]
        term = self.launch(InstanceInitiatedShutdownBehavior="terminate")[0]["InstanceId"]
        self.assertApiError("InvalidParameterValue", self.launch, InstanceInitiatedShutdownBehavior="hibernate")
        for i in (stop, term):
            self.ctl("POST", "instances/%s/guest-shutdown" % i)
        got = {i["InstanceId"]: i for i in self.listed(InstanceIds=[stop, term])}
        self.assertEqual(got[stop]["State"]["Name"], "stopped")
        self.assertEqual(got[term]["State"]["Name"], "terminated")
        for i in (stop, term):
            self.assertEqual(got[i]["StateReason"]["Code"], "Client.InstanceInitiatedShutdown")
        self.assertIn("PrivateIpAddress", got[stop])  # a stopped instance keeps its address
        self.assertNotIn("PrivateIpAddress", got[term])

    def test_control_set_state_spot_interruption(self):
        i = self.launch(InstanceMarketOptions={"MarketType": "spot"})[0]["InstanceId"]
        self.ctl("POST", "instances/%s/state" % i, {"state": "terminated",
                                                   "reason_code": "Server.SpotInstanceTermination"})
        got = self.listed()[0]
        self.assertEqual((got["State"]["Name"], got["StateReason"]["Code"], got["InstanceLifecycle"]),
                         ("terminated", "Server.SpotInstanceTermination", "spot"))

    def test_terminate_many_and_unknown(self):
        ids = [i["InstanceId"] for i in self.launch(count=3)]
        r = self.ec2.terminate_instances(InstanceIds=ids)["TerminatingInstances"]
        self.assertEqual(sorted(x["InstanceId"] for x in r), sorted(ids))
        msg = self.assertApiError("InvalidInstanceID.NotFound", self.ec2.terminate_instances,
                                  InstanceIds=[ids[0], "i-0123456789abcdef0", "i-0123456789abcdef1"])
        self.assertIn("i-0123456789abcdef1", msg)
        self.assertApiError("InvalidInstanceID.Malformed", self.ec2.terminate_instances, InstanceIds=["vm-1"])
        locked = self.launch(DisableApiTermination=True)[0]["InstanceId"]
        self.assertApiError("OperationNotPermitted", self.ec2.terminate_instances, InstanceIds=[locked])

    def test_create_tags_merges(self):
        i = self.launch(tags={"ArvadosInstanceType": "a", "ArvadosIdleBehavior": "run"})[0]["InstanceId"]
        self.ec2.create_tags(Resources=[i], Tags=[{"Key": "ArvadosIdleBehavior", "Value": "hold"},
                                                  {"Key": "new", "Value": ""}])
        tags = {t["Key"]: t["Value"] for t in self.listed()[0]["Tags"]}
        self.assertEqual(tags, {"ArvadosInstanceType": "a", "ArvadosIdleBehavior": "hold", "new": ""})
        self.assertApiError("InvalidInstanceID.NotFound", self.ec2.create_tags, Resources=["i-0123456789abcdef0"],
                            Tags=[{"Key": "k", "Value": "v"}])
        self.assertApiError("TagLimitExceeded", self.ec2.create_tags, Resources=[i],
                            Tags=[{"Key": "k%d" % n, "Value": "v"} for n in range(50)])

    def keypair(self, kind):
        d = tempfile.mkdtemp(dir=self.dir)
        run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", d + "/k"] + (["-b", "2048"] if kind == "rsa" else []))
        with open(d + "/k.pub", "rb") as f:
            return f.read(), d + "/k.pub"

    def test_key_pairs(self):
        pub, path = self.keypair("rsa")
        der = subprocess.run("ssh-keygen -e -m PEM -f %s | openssl rsa -RSAPublicKey_in -outform DER" % path,
                             shell=True, check=True, capture_output=True).stdout
        md5 = run(["openssl", "md5", "-c"], input=der).stdout.decode().split("= ")[1].strip()
        r = self.ec2.import_key_pair(KeyName="arvados-dispatch-keypair-" + md5, PublicKeyMaterial=pub)
        self.assertEqual(r["KeyFingerprint"], md5)
        sha1 = "00:" * 19 + "00"
        found = self.ec2.describe_key_pairs(Filters=[{"Name": "fingerprint", "Values": [md5, sha1]}])["KeyPairs"]
        self.assertEqual([k["KeyName"] for k in found], ["arvados-dispatch-keypair-" + md5])
        self.assertEqual(self.ec2.describe_key_pairs(Filters=[{"Name": "fingerprint", "Values": [sha1]}])["KeyPairs"],
                         [])
        self.assertApiError("InvalidKeyPair.Duplicate", self.ec2.import_key_pair,
                            KeyName="arvados-dispatch-keypair-" + md5, PublicKeyMaterial=pub)
        self.assertApiError("InvalidKey.Format", self.ec2.import_key_pair, KeyName="bad", PublicKeyMaterial=b"junk")
        edpub, edpath = self.keypair("ed25519")
        fp = run(["ssh-keygen", "-l", "-f", edpath]).stdout.decode().split()[1]
        self.assertEqual(self.ec2.import_key_pair(KeyName="ed", PublicKeyMaterial=edpub)["KeyFingerprint"], fp + "=")
        self.assertApiError("InvalidKeyPair.NotFound", self.ec2.describe_key_pairs, KeyNames=["nope"])

    def test_spot_price_history(self):
        self.ctl("POST", "spot-prices", {"prices": [
            {"instance_type": "t2.micro", "availability_zone": "us-east-1a", "price": 0.005, "age_seconds": 540},
            {"instance_type": "t2.micro", "availability_zone": "us-east-1a", "price": 0.015, "age_seconds": 300},
            {"instance_type": "t2.micro", "availability_zone": "us-east-1a", "price": 0.01, "age_seconds": 120},
            {"instance_type": "t2.micro", "availability_zone": "us-east-1a", "price": 0.5, "age_seconds": 86400},
            {"instance_type": "m5.large", "availability_zone": "us-east-1a", "price": 0.04, "age_seconds": 60},
            {"instance_type": "t2.micro", "availability_zone": "us-east-1a", "price": 0.9, "age_seconds": 60,
             "product_description": "Windows"}]})
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
        flt = [{"Name": "instance-type", "Values": ["t2.micro"]},
               {"Name": "product-description", "Values": ["Linux/UNIX"]}]
        r = self.ec2.describe_spot_price_history(StartTime=start, Filters=flt, MaxResults=2)
        self.assertEqual([p["SpotPrice"] for p in r["SpotPriceHistory"]], ["0.010000", "0.015000"])
        r2 = self.ec2.describe_spot_price_history(StartTime=start, Filters=flt, MaxResults=2, NextToken=r["NextToken"])
        self.assertEqual([p["SpotPrice"] for p in r2["SpotPriceHistory"]], ["0.005000"])
        self.assertNotIn("NextToken", r2)
        all_ = self.ec2.describe_spot_price_history(InstanceTypes=["t2.micro"])["SpotPriceHistory"]
        self.assertEqual(len(all_), 5)
        self.assertEqual(all_[0]["AvailabilityZone"], "us-east-1a")
        self.assertApiError("SpotMaxPriceTooLow", self.launch, InstanceMarketOptions={
            "MarketType": "spot", "SpotOptions": {"MaxPrice": "0.001"}})

    def test_describe_instance_status(self):
        a = self.launch()[0]["InstanceId"]
        b = self.launch(subnet=SUBNET2)[0]["InstanceId"]
        self.ctl("POST", "instances/%s/state" % b, {"state": "stopped"})
        st = self.ec2.describe_instance_status(IncludeAllInstances=True)["InstanceStatuses"]
        self.assertEqual({s["InstanceId"]: s["AvailabilityZone"] for s in st}, {a: "us-east-1a", b: "us-east-1b"})
        st = self.ec2.describe_instance_status()["InstanceStatuses"]
        self.assertEqual([s["InstanceId"] for s in st], [a])

    def test_raw_response_parses_with_output_shape(self):
        self.launch(count=2)
        for action, params in [("DescribeInstances", {}), ("DescribeKeyPairs", {}),
                               ("DescribeInstanceStatus", {"IncludeAllInstances": "true"}),
                               ("DescribeSpotPriceHistory", {})]:
            status, body = self.raw({"Action": action, "Version": "2016-11-15", **params})
            self.assertEqual(status, 200, body)
            self.assertIn('xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"', body)
            op = MODEL.operation_model(action)
            parsed = botocore.parsers.create_parser("ec2").parse(
                {"body": body.encode(), "headers": {}, "status_code": 200}, op.output_shape)
            self.assertNotIn("Error", parsed)
            self.assertRegex(parsed["ResponseMetadata"]["RequestId"], "^[0-9a-f-]{36}$")
        status, body = self.raw({"Action": "DescribeInstances", "Version": "2016-11-15"})
        self.assertEqual(len(botocore.parsers.create_parser("ec2").parse(
            {"body": body.encode(), "headers": {}, "status_code": 200},
            MODEL.operation_model("DescribeInstances").output_shape)["Reservations"][0]["Instances"]), 2)


class TestAuthAndValidation(FakeCase):
    DI = {"Action": "DescribeInstances", "Version": "2016-11-15"}

    def test_spec_signature_vector(self):
        sys.path.insert(0, HERE)
        from ec2_auth import AuthError, auth_verify
        hdrs = {"Host": "ec2.us-east-1.amazonaws.com", "X-Amz-Date": "20240101T000000Z",
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/ec2/aws4_request, "
                "SignedHeaders=content-type;host;x-amz-date, "
                "Signature=dfab1f85e5f30dbf64d67ff4fb29822ebb07ccf268425aa9ad3f342625b5b9ad"}
        body = b"Action=DescribeInstances&Version=2016-11-15"
        now = datetime.datetime(2024, 1, 1, 0, 1, tzinfo=datetime.timezone.utc)
        keys = {AKID: {"secret": SECRET}}
        self.assertEqual(auth_verify(keys, "us-east-1", "POST", "/", hdrs, body, 900, now), AKID)
        with self.assertRaises(AuthError) as cm:
            auth_verify({AKID: {"secret": SECRET + "x"}}, "us-east-1", "POST", "/", hdrs, body, 900, now)
        self.assertEqual((cm.exception.status, cm.exception.code), (403, "SignatureDoesNotMatch"))
        with self.assertRaises(AuthError) as cm:
            auth_verify(keys, "us-east-1", "POST", "/", hdrs, body + b"&DryRun=true", 900, now)
        self.assertEqual(cm.exception.code, "SignatureDoesNotMatch")

    def test_bad_secret_and_unknown_key(self):
        self.assertApiError("SignatureDoesNotMatch", self.client(secret="wrong").describe_instances, status=403)
        self.assertApiError("AuthFailure", self.client(akid="AKIDUNKNOWN").describe_instances, status=401)
        self.assertEqual(self.client().describe_instances()["Reservations"], [])

    def test_bad_signature_raw(self):
        status, body = self.raw(self.DI)
        self.assertEqual(status, 200, body)
        status, body = self.raw(self.DI, tamper=lambda b: b + "&DryRun=true")
        self.assertEqual(status, 403)
        self.assertIn("<Code>SignatureDoesNotMatch</Code>", body)
        self.assertRegex(body, "<RequestID>[0-9a-f-]{36}</RequestID>")
        status, body = self.raw(self.DI, sign=False)
        self.assertEqual((status, "<Code>MissingAuthenticationToken</Code>" in body), (401, True))
        status, body = self.raw(self.DI, region="us-west-2")
        self.assertEqual((status, "<Code>SignatureDoesNotMatch</Code>" in body), (403, True))
        old = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
        status, body = self.raw(self.DI, date=old)
        self.assertEqual((status, "<Code>RequestExpired</Code>" in body), (400, True))

    def test_session_token(self):
        self.assertEqual(self.client(TMP_AKID, TMP_SECRET, TMP_TOKEN).describe_instances()["Reservations"], [])
        self.assertApiError("AuthFailure", self.client(TMP_AKID, TMP_SECRET, "other").describe_instances, status=401)
        self.assertApiError("AuthFailure", self.client(TMP_AKID, TMP_SECRET).describe_instances, status=401)
        self.assertApiError("AuthFailure", self.client(AKID, SECRET, TMP_TOKEN).describe_instances, status=401)

    def test_unknown_and_misspelled_parameters(self):
        run_form = {"Action": "RunInstances", "Version": "2016-11-15", "ImageId": AMI, "InstanceType": "t2.micro",
                    "MinCount": "1", "MaxCount": "1"}
        for bad, code in [({"ImageID": AMI}, "UnknownParameter"),
                          ({"NetworkInterface.1.SubnetID": SUBNET2}, "UnknownParameter"),
                          ({"TagSpecification.1.Tags.1.Key": "k"}, "UnknownParameter"),
                          ({"InstanceId.1": "i-0123456789abcdef0"}, "UnknownParameter"),
                          ({"MinCount": "one"}, "InvalidParameterValue"),
                          ({"DisableApiTermination": "maybe"}, "InvalidParameterValue")]:
            status, body = self.raw({**run_form, **bad})
            self.assertEqual(status, 400, bad)
            self.assertIn("<Code>%s</Code>" % code, body, bad)
        form = dict(run_form)
        del form["MaxCount"]
        status, body = self.raw(form)
        self.assertIn("<Code>MissingParameter</Code>", body)
        self.assertIn("MaxCount", body)
        self.assertEqual(self.ctl("GET", "instances")["instances"], [])
        status, body = self.raw({"Action": "DescribeInstancez", "Version": "2016-11-15"})
        self.assertEqual((status, "<Code>InvalidAction</Code>" in body), (400, True))
        status, body = self.raw({"Action": "DescribeInstances", "Version": "2014-01-01"})
        self.assertEqual((status, "<Code>NoSuchVersion</Code>" in body), (400, True))
        status, body = self.raw(run_form)
        self.assertEqual(status, 200, body)


class TestFaultsAndThrottling(FakeCase):
    CODES = [("InsufficientInstanceCapacity", 500, "requested"), ("Unsupported", 400, "requested instance type"),
             ("VcpuLimitExceeded", 400, "vCPU"), ("InstanceLimitExceeded", 400, "quota"),
             ("MaxSpotInstanceCountExceeded", 400, "spot"), ("InsufficientFreeAddressesInSubnet", 400, "subnet"),
             ("InsufficientVolumeCapacity", 500, "EBS"), ("InsufficientAddressCapacity", 500, "addresses"),
             ("InvalidSubnetID.NotFound", 400, "subnet-"), ("InvalidParameterValue", 400, " subnet "),
             ("RequestLimitExceeded", 503, "limit"), ("Throttling", 400, "Injected")]

    def test_each_error_code_with_status(self):
        for code, status, text in self.CODES:
            self.ctl("POST", "faults", {"action": "RunInstances", "code": code})
            msg = self.assertApiError(code, self.launch, status=status)
            self.assertIn(text.lower(), msg.lower(), code)
        self.assertEqual(len(self.launch()), 1)  # each fault fired once
        fired = self.ctl("GET", "faults")["fired"]["RunInstances"]
        self.assertEqual(fired, len(self.CODES))

    def test_per_instance_type_fault(self):
        self.ctl("POST", "faults", {"action": "RunInstances", "code": "InsufficientInstanceCapacity",
                                    "instance_type": "t2.micro", "count": -1})
        self.assertApiError("InsufficientInstanceCapacity", self.launch, status=500)
        self.assertEqual(self.launch(InstanceType="t3.small")[0]["InstanceType"], "t3.small")
        self.ctl("DELETE", "faults")

    def test_per_market_fault(self):
        """Spot capacity out, on-demand capacity there: only the spot requests fail."""
        self.ctl("POST", "faults", {"action": "RunInstances", "code": "InsufficientInstanceCapacity",
                                    "market": "spot", "count": -1})
        self.assertApiError("InsufficientInstanceCapacity", self.launch, status=500,
                            InstanceMarketOptions={"MarketType": "spot"})
        self.assertEqual(len(self.launch()), 1)
        self.ctl("DELETE", "faults")

    def test_per_subnet_and_counted_faults(self):
        self.ctl("POST", "faults", {"action": "RunInstances", "code": "InsufficientFreeAddressesInSubnet",
                                    "subnet": self.subnet1, "count": -1})
        self.assertApiError("InsufficientFreeAddressesInSubnet", self.launch, subnet=self.subnet1)
        self.assertApiError("InsufficientFreeAddressesInSubnet", self.launch)   # default subnet is subnet1
        self.assertEqual(self.launch(subnet=SUBNET2)[0]["SubnetId"], SUBNET2)
        self.ctl("DELETE", "faults")
        self.ctl("POST", "faults", {"action": "DescribeInstances", "code": "RequestLimitExceeded", "count": 2})
        self.assertApiError("RequestLimitExceeded", self.ec2.describe_instances, status=503)
        self.assertApiError("RequestLimitExceeded", self.ec2.describe_instances, status=503)
        self.assertEqual(len(self.listed()), 1)
        self.ctl("POST", "faults", {"action": "*", "code": "InternalError", "message": "boom"})
        self.assertEqual(self.assertApiError("InternalError", self.ec2.describe_key_pairs, status=500), "boom")
        log = self.ctl("GET", "requests?action=DescribeInstances")["requests"]
        self.assertEqual([e["code"] for e in log], ["RequestLimitExceeded", "RequestLimitExceeded", None])

    def test_probability_seed_and_fired(self):
        """A fault with probability fails that share of matching calls (the same ones again with
        the same seed); the calls it lets through meet the next fault; each counts its own."""
        def pattern():
            self.ctl("DELETE", "faults")
            self.ctl("POST", "faults", {"action": "DescribeKeyPairs", "code": "RequestLimitExceeded",
                                        "count": -1, "probability": 0.5, "seed": 3})
            self.ctl("POST", "faults", {"action": "*", "code": "InternalError", "count": -1})
            out = []
            for _ in range(12):
                try:
                    self.ec2.describe_key_pairs()
                except ClientError as e:
                    out.append(e.response["Error"]["Code"])
            return out, [f["fired"] for f in self.ctl("GET", "faults")["faults"]]
        first, fired = pattern()
        self.assertEqual(pattern(), (first, fired))
        self.assertEqual(len(first), 12)
        self.assertEqual(set(first), {"RequestLimitExceeded", "InternalError"})
        self.assertEqual(fired, [first.count("RequestLimitExceeded"), first.count("InternalError")])
        self.ctl("DELETE", "faults")

    def test_hang_and_delay(self):
        self.ctl("POST", "faults", {"action": "DescribeInstances", "delay": 0.2})
        self.assertEqual(self.listed(), [])
        self.ctl("POST", "faults", {"action": "TerminateInstances", "hang": True})
        impatient = self.client(config=Config(retries={"total_max_attempts": 1}, read_timeout=1))
        with self.assertRaises(ReadTimeoutError):
            impatient.terminate_instances(InstanceIds=["i-0123456789abcdef0"])
        self.ctl("DELETE", "faults")
        self.assertApiError("InvalidInstanceID.NotFound", self.ec2.terminate_instances,
                            InstanceIds=["i-0123456789abcdef0"])

    def burst(self, n, fn):
        ok = limited = 0
        for _ in range(n):
            try:
                fn()
                ok += 1
            except ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "RequestLimitExceeded")
                self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 503)
                limited += 1
        return ok, limited

    def test_published_buckets(self):
        self.ctl("POST", "throttle", {"enabled": True})
        t0 = time.monotonic()
        ok, limited = self.burst(20, lambda: self.launch())
        elapsed = time.monotonic() - t0
        # Bucket 5 + 2/s: the first 5 always pass; at most 5 + 2/s * elapsed (+1 partial) can.
        self.assertGreaterEqual(ok, 5)
        self.assertLessEqual(ok, 5 + 2 * elapsed + 1)
        state = self.ctl("GET", "throttle")
        self.assertEqual(state["throttled"].get("RunInstances", 0), limited)
        self.assertEqual(state["calls"]["RunInstances"], 20)
        b = state["buckets"]
        self.assertEqual((b["RunInstances"]["capacity"], b["RunInstances"]["refill_per_second"]), (5, 2.0))
        self.assertEqual(b["RunInstances:resource"]["capacity"], 1000)
        self.ec2.describe_instances(Filters=[{"Name": "tag:a", "Values": ["b"]}])
        self.ec2.describe_instances()
        self.ec2.create_tags(Resources=[self.listed()[0]["InstanceId"]], Tags=[{"Key": "k", "Value": "v"}])
        self.ec2.terminate_instances(InstanceIds=[self.listed()[0]["InstanceId"]])
        b = self.ctl("GET", "throttle")["buckets"]
        for name, cap, refill in [("DescribeInstances", 100, 20), ("DescribeInstances:unfiltered", 50, 10),
                                  ("CreateTags", 200, 10), ("TerminateInstances", 100, 5),
                                  ("TerminateInstances:resource", 1000, 20)]:
            self.assertEqual((b[name]["capacity"], b[name]["refill_per_second"]), (cap, refill), name)

    def test_buckets_without_refill_are_exact(self):
        self.ctl("POST", "throttle", {"enabled": True, "buckets": {
            "RunInstances": {"capacity": 3, "refill_per_second": 0},
            "DescribeInstances:unfiltered": {"capacity": 2, "refill_per_second": 0}}})
        self.assertEqual(self.burst(6, lambda: self.launch()), (3, 3))
        self.assertEqual(self.burst(4, lambda: self.ec2.describe_instances()), (2, 2))
        filtered = self.burst(4, lambda: self.ec2.describe_instances(Filters=[{"Name": "tag:a", "Values": ["b"]}]))
        self.assertEqual(filtered, (4, 0))
        self.ctl("POST", "throttle", {"buckets": {
            "RunInstances": {"capacity": 100, "refill_per_second": 0},
            "RunInstances:resource": {"capacity": 10, "refill_per_second": 0}}})
        self.assertEqual(len(self.launch(count=6)), 6)
        self.assertEqual(self.burst(1, lambda: self.launch(count=6)), (0, 1))
        self.assertEqual(len(self.launch(count=4)), 4)
        self.assertEqual(self.ctl("GET", "throttle")["throttled"]["RunInstances"], 4)


def pyenv_python():
    """The first python3 on PATH if it is not this interpreter and can import moto."""
    exe = shutil.which("python3")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "-c", "import moto, sys; print(sys.executable)"], capture_output=True,
                             text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


class TestAgainstMoto(FakeCase):
    """The same boto3 calls against moto's server and the fake give equivalent results."""

    @classmethod
    def setUpClass(cls):
        cls.moto_py = pyenv_python()
        if not cls.moto_py:
            raise unittest.SkipTest("moto is not importable by the first python3 on PATH; cross-check skipped")
        super().setUpClass()
        cls.moto_port = free_port()
        cls.moto = subprocess.Popen([cls.moto_py, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(cls.moto_port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", cls.moto_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "moto", None):
            cls.moto.terminate()
            cls.moto.wait()
        super().tearDownClass()

    def scenario(self, ec2, subnet, ami, pub, check_token):
        """The driver's call sequence; returns a normalised transcript."""
        out = {}
        fp = ec2.import_key_pair(KeyName="kp", PublicKeyMaterial=pub)["KeyFingerprint"]
        out["found"] = [k["KeyName"] for k in ec2.describe_key_pairs(
            Filters=[{"Name": "fingerprint", "Values": [fp]}])["KeyPairs"]]
        out["fp"] = fp
        launch = dict(
            ImageId=ami, InstanceType="t2.micro", MinCount=1, MaxCount=1, KeyName="kp", UserData="#!/bin/sh\ntrue\n",
            NetworkInterfaces=[{"DeviceIndex": 0, "AssociatePublicIpAddress": False, "DeleteOnTermination": True,
                                "SubnetId": subnet}],
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "ArvadosInstanceSetID", "Value": "x"}]}],
            MetadataOptions={"HttpEndpoint": "enabled", "HttpTokens": "required"},
            InstanceMarketOptions={"MarketType": "spot", "SpotOptions": {"MaxPrice": "0.02",
                                                                          "InstanceInterruptionBehavior": "terminate"}},
            BlockDeviceMappings=[{"DeviceName": "/dev/xvdt", "Ebs": {"VolumeSize": 20, "VolumeType": "gp2",
                                                                     "DeleteOnTermination": True}}],
            ClientToken="ct-1")
        inst = ec2.run_instances(**launch)["Instances"][0]
        iid = inst["InstanceId"]
        out["run"] = (inst["State"]["Name"], inst["InstanceType"], inst.get("InstanceLifecycle"),
                      inst["SubnetId"] == subnet, inst["PrivateIpAddress"].startswith("127.0.1."),
                      sorted((t["Key"], t["Value"]) for t in inst.get("Tags", [])), inst["KeyName"])
        if check_token:
            # moto ignores ClientToken (it launches a second instance); EC2 and the fake do not.
            again = ec2.run_instances(**launch)["Instances"][0]["InstanceId"]
            self.assertEqual(again, iid)
        ec2.create_tags(Resources=[iid], Tags=[{"Key": "ArvadosIdleBehavior", "Value": "run"}])
        listed = [i for r in ec2.describe_instances(Filters=[{"Name": "tag:ArvadosInstanceSetID", "Values": ["x"]}])[
            "Reservations"] for i in r["Instances"]]
        out["listed"] = [(i["InstanceId"] == iid, i["State"]["Name"], i.get("InstanceLifecycle"),
                          sorted((t["Key"], t["Value"]) for t in i.get("Tags", []))) for i in listed]
        out["none"] = ec2.describe_instances(Filters=[{"Name": "tag:ArvadosInstanceSetID", "Values": ["y"]}])[
            "Reservations"]
        st = ec2.describe_instance_status(IncludeAllInstances=True)["InstanceStatuses"]
        out["status"] = [(s["InstanceId"] == iid, s["InstanceState"]["Name"]) for s in st]
        t = ec2.terminate_instances(InstanceIds=[iid])["TerminatingInstances"][0]
        out["terminate"] = (t["PreviousState"]["Name"], t["CurrentState"]["Name"])
        out["errors"] = []
        for fn, kw in [(ec2.terminate_instances, {"InstanceIds": ["i-0123456789abcdef0"]}),
                       (ec2.import_key_pair, {"KeyName": "kp", "PublicKeyMaterial": pub}),
                       (ec2.run_instances, {"ImageId": ami, "MinCount": 1, "MaxCount": 1,
                                            "SubnetId": "subnet-0123456789abcdef0"})]:
            try:
                fn(**kw)
                out["errors"].append(None)
            except ClientError as e:
                out["errors"].append(e.response["Error"]["Code"])
        return out

    def test_same_calls_same_results(self):
        pub, _ = TestOperations.keypair(self, "rsa")
        moto = boto3.client("ec2", region_name="us-east-1", endpoint_url="http://127.0.0.1:%d" % self.moto_port,
                            aws_access_key_id=AKID, aws_secret_access_key=SECRET, config=NO_RETRY)
        self.clients.append(moto)
        vpc = moto.create_vpc(CidrBlock="127.0.0.0/16")["Vpc"]["VpcId"]
        msub = moto.create_subnet(VpcId=vpc, CidrBlock="127.0.1.0/24")["Subnet"]["SubnetId"]
        ami = next(i["ImageId"] for i in moto.describe_images()["Images"]
                   if len(i["ImageId"]) in (12, 21))
        got_moto = self.scenario(moto, msub, ami, pub, False)
        got_fake = self.scenario(self.ec2, self.subnet1, AMI, pub, True)
        self.maxDiff = None
        self.assertEqual(got_fake, got_moto)



IMDS_NET = "127.0.77.0/28"  # the first address handed out is .4 (EC2 reserves three)


class TestImds(FakeCase):
    """--imds-port: each running instance's IMDSv2 on its own private IP (ec2_imds.py)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="fake-ec2-test-")
        make_ca(cls.dir)
        cls.ca = cls.dir + "/ca.pem"
        cls.imds_port = free_port("127.0.77.4")
        cls.proc, cls.info = start_fake(cls.dir, "--subnet-cidr", IMDS_NET, "--key", "%s:%s" % (AKID, SECRET),
                                        "--imds-port", str(cls.imds_port))
        cls.endpoint = cls.info["endpoint"]
        cls.ssl = ssl.create_default_context(cafile=cls.ca)

    def imds(self, ip, method, path, headers=None):
        """(status, body) of one request to the instance at ip; waits for its listener."""
        deadline = time.monotonic() + 20
        while True:
            c = http.client.HTTPConnection(ip, self.imds_port, timeout=10)
            try:
                c.request(method, path, headers=headers or {})
                r = c.getresponse()
                return r.status, r.read().decode()
            except ConnectionRefusedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
            finally:
                c.close()

    def token(self, ip, ttl="60"):
        st, tok = self.imds(ip, "PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
        self.assertEqual(st, 200)
        return tok

    def test_token_required_and_notice(self):
        a, b = self.launch(2)
        ipa, ipb = a["PrivateIpAddress"], b["PrivateIpAddress"]
        self.assertEqual((ipa, ipb), ("127.0.77.4", "127.0.77.5"))
        self.assertEqual(self.info["imds_port"], self.imds_port)
        # IMDSv2 required: no token, a bad one, or another instance's is 401.
        path = "/latest/meta-data/spot/instance-action"
        self.assertEqual(self.imds(ipa, "GET", path)[0], 401)
        self.assertEqual(self.imds(ipa, "GET", path, {"X-aws-ec2-metadata-token": "forged"})[0], 401)
        tb = self.token(ipb)
        self.assertEqual(self.imds(ipa, "GET", path, {"X-aws-ec2-metadata-token": tb})[0], 401)
        # A token needs its TTL (1..21600) and no X-Forwarded-For.
        self.assertEqual(self.imds(ipa, "PUT", "/latest/api/token")[0], 400)
        self.assertEqual(self.imds(ipa, "PUT", "/latest/api/token",
                                   {"X-aws-ec2-metadata-token-ttl-seconds": "21601"})[0], 400)
        self.assertEqual(self.imds(ipa, "PUT", "/latest/api/token",
                                   {"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "x"})[0], 403)
        self.assertEqual(self.imds(ipa, "POST", "/latest/api/token")[0], 405)
        ta = {"X-aws-ec2-metadata-token": self.token(ipa)}
        self.assertEqual(self.imds(ipa, "GET", "/latest/meta-data/instance-id", ta), (200, a["InstanceId"]))
        st, body = self.imds(ipa, "GET", path, ta)
        self.assertEqual(st, 404)
        self.assertIn("404 - Not Found", body)
        # A notice, in EC2's format, on that instance only.
        self.ctl("POST", "instances/%s/instance-action" % a["InstanceId"],
                 {"action": "terminate", "time": "2026-12-06T12:00:00Z"})
        self.assertEqual(self.imds(ipa, "GET", path, ta),
                         (200, '{"action": "terminate", "time": "2026-12-06T12:00:00Z"}'))
        self.assertEqual(self.imds(ipa, "GET", "/latest/meta-data/spot/termination-time", ta),
                         (200, "2026-12-06T12:00:00Z"))
        self.assertEqual(self.imds(ipb, "GET", path, {"X-aws-ec2-metadata-token": tb})[0], 404)
        self.assertEqual(self.ctl("GET", "instances/" + a["InstanceId"])["instance_action"]["action"], "terminate")
        # Withdrawn; and without a time the notice is two minutes ahead.
        self.ctl("DELETE", "instances/%s/instance-action" % a["InstanceId"])
        self.assertEqual(self.imds(ipa, "GET", path, ta)[0], 404)
        n = self.ctl("POST", "instances/%s/instance-action" % b["InstanceId"], {"action": "stop"})["instance_action"]
        self.assertEqual(n["action"], "stop")
        self.assertRegex(n["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        log = self.ctl("GET", "imds")["requests"]
        self.assertIn({"instance": a["InstanceId"], "method": "GET", "path": path, "status": 401},
                      [{k: e[k] for k in ("instance", "method", "path", "status")} for e in log])
        # A terminated instance's metadata service goes with it.
        self.ec2.terminate_instances(InstanceIds=[a["InstanceId"]])
        deadline = time.monotonic() + 20
        while a["InstanceId"] in self.ctl("GET", "imds")["listening"]:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        c = http.client.HTTPConnection(ipa, self.imds_port, timeout=5)
        with self.assertRaises(ConnectionRefusedError):
            c.request("GET", path)
        c.close()


if __name__ == "__main__":
    unittest.main()
