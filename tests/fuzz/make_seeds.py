#!/usr/bin/python3
"""make_seeds.py - write fuzz seeds taken from real answers of the project's faithful fakes
(tests/fuzz/README.md): fake_ec2 (botocore's own model writes its XML), fake_azure (AAD and ARM
JSON, checked against python3-azure's models) and fake_arvados (a container list page as the
queue asks for it). Run it by hand when a fake changes; the seeds are checked in:

    /usr/bin/python3 tests/fuzz/make_seeds.py

Everything listens on 127.0.0.1 and is stopped at the end.
"""
import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
SPEC = os.path.join(os.path.dirname(os.path.dirname(TESTS)), "..", "shared", "spec")


def start(argv):
    p = subprocess.Popen([sys.executable] + argv, stdout=subprocess.PIPE, text=True)
    return p, json.loads(p.stdout.readline())


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def http(method, url, body=None, headers=None):
    r = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(r) as a:
            return a.status, a.read(), a.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def ec2_seeds():
    import botocore.session
    from botocore.config import Config

    p, info = start([os.path.join(TESTS, "fake_ec2", "fake_ec2.py"), "--port", "0"])
    raw = {}
    try:
        s = botocore.session.get_session()
        c = s.create_client("ec2", region_name=info.get("region", "us-east-1"),
                            endpoint_url="http://127.0.0.1:%d" % info["port"],
                            aws_access_key_id="AKIDEXAMPLE",
                            aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                            config=Config(retries={"max_attempts": 1}))

        def keep(http_response, model, **kw):
            raw[model.name] = http_response.content
        c.meta.events.register("after-call.ec2.*", keep)
        subnet = info["subnets"][0]["id"]
        c.run_instances(ImageId="ami-0123456789abcdef0", InstanceType="m5.large", MinCount=2,
                        MaxCount=2, SubnetId=subnet,
                        TagSpecifications=[{"ResourceType": "instance", "Tags": [
                            {"Key": "InstanceSetID", "Value": "zzzzz-fuzz"},
                            {"Key": "InstanceType", "Value": "small"},
                            {"Key": "InstanceSecret", "Value": "0123456789abcdef"}]}])
        c.run_instances(ImageId="ami-0123456789abcdef0", InstanceType="m5.xlarge", MinCount=1,
                        MaxCount=1, SubnetId=subnet,
                        InstanceMarketOptions={"MarketType": "spot"})
        c.describe_instances(Filters=[{"Name": "instance-state-name",
                                       "Values": ["pending", "running"]}])
        out = os.path.join(TESTS, "ec2", "xml-corpus")
        write(out, "real-run-instances.xml", raw["RunInstances"])
        write(out, "real-describe-instances.xml", raw["DescribeInstances"])
        try:
            c.describe_spot_price_history(InstanceTypes=["m5.large"], MaxResults=5)
            write(out, "real-spot-prices.xml", raw["DescribeSpotPriceHistory"])
        except Exception as e:  # not every fake serves it
            print("make_seeds: spot prices: %s" % e, file=sys.stderr)
        try:
            c.terminate_instances(InstanceIds=["i-00000000000000000"])
        except Exception:
            pass
        write(out, "real-error.xml", raw["TerminateInstances"])
    finally:
        p.terminate()
        p.wait()


def azure_seeds():
    p, info = start([os.path.join(TESTS, "fake_azure", "fake_azure.py"), "--port", "0",
                     "--page-size", "1", "--lro-polls", "1", "--retry-after", "1"])
    ep = info["endpoint"]
    out = os.path.join(TESTS, "azure", "json-corpus")
    hdr_out = os.path.join(TESTS, "ec2", "header-corpus")
    try:
        st, tok, _ = http("POST", ep + "/tenant-1/oauth2/token", urllib.parse.urlencode({
            "grant_type": "client_credentials", "client_id": "client-1",
            "client_secret": "s3cr3t-client", "resource": info["resource"]}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})
        write(out, "real-token.json", tok)
        auth = {"Authorization": "Bearer " + json.loads(tok)["access_token"],
                "Content-Type": "application/json"}
        base = ep + "/subscriptions/sub-1/resourceGroups/rg1/providers/"
        subnet = ("/subscriptions/sub-1/resourceGroups/rg1/providers/Microsoft.Network/"
                  "virtualnetworks/vnet1/subnets/subnet1")
        for i in range(2):
            nic = {"location": "centralus", "tags": {"InstanceSetID": "zzzzz-fuzz"},
                   "properties": {"ipConfigurations": [{"name": "ip1", "properties": {
                       "subnet": {"id": subnet}, "privateIPAllocationMethod": "Dynamic"}}]}}
            st, body, h = http("PUT", base + "Microsoft.Network/networkInterfaces/compute-%d-nic"
                               "?api-version=2018-06-01" % i, json.dumps(nic).encode(), auth)
            nic_id = json.loads(body)["id"]
            st, op, h2 = http("GET", h["Azure-AsyncOperation"], None, auth)
            write(out, "real-async.json", op)
            if h2.get("Retry-After"):
                write(hdr_out, "real-retry-after", "Retry-After: %s\r\n" % h2["Retry-After"])
            vm = {"location": "centralus", "tags": {"InstanceSetID": "zzzzz-fuzz",
                                                    "InstanceType": "small"},
                  "properties": {"hardwareProfile": {"vmSize": "Standard_D2_v2"},
                                 "storageProfile": {"imageReference": {"id": "/subscriptions/sub-1/"
                                     "resourceGroups/rg1/providers/Microsoft.Compute/images/img1"},
                                     "osDisk": {"osType": "Linux", "name": "compute-%d-os" % i,
                                                "createOption": "FromImage"}},
                                 "networkProfile": {"networkInterfaces": [
                                     {"id": nic_id, "properties": {"primary": True}}]},
                                 "osProfile": {"computerName": "compute-%d" % i,
                                               "adminUsername": "crunch", "customData": "eA=="}}}
            st, body, _ = http("PUT", base + "Microsoft.Compute/virtualMachines/compute-%d"
                               "?api-version=2019-07-01" % i, json.dumps(vm).encode(), auth)
            if st >= 300:
                raise SystemExit("make_seeds: fake_azure refused the VM: %d %s" % (st, body))
        st, page, _ = http("GET", base + "Microsoft.Compute/virtualMachines?api-version=2019-07-01",
                           None, auth)
        write(out, "real-vm-page.json", page)
        st, page, _ = http("GET", base + "Microsoft.Network/networkInterfaces"
                           "?api-version=2018-06-01", None, auth)
        write(out, "real-nic-page.json", page)
        st, err, _ = http("GET", base + "Microsoft.Compute/virtualMachines/none"
                          "?api-version=2019-07-01", None, auth)
        write(out, "real-not-found.json", err)
        st, err, _ = http("GET", base + "Microsoft.Compute/virtualMachines?api-version=2019-07-01",
                          None, {"Authorization": "Bearer wrong"})
        write(out, "real-unauthorized.json", err)
    finally:
        p.terminate()
        p.wait()


def arvados_seeds():
    root = "fuzzseedroottoken0123456789"
    fixtures = os.path.join(SPEC, "containers-fixtures.yml")
    argv = [os.path.join(TESTS, "fake_arvados", "fake_arvados.py"), "--port", "0",
            "--token", root, "--cluster-id", "zzzzz"]
    if os.path.exists(fixtures):
        argv += ["--fixtures", fixtures]
    p, info = start(argv)
    try:
        q = urllib.parse.urlencode({
            "filters": json.dumps([["state", "in", ["Queued", "Locked", "Running"]]]),
            "select": json.dumps(["uuid", "state", "priority", "runtime_constraints",
                                  "container_image", "scheduling_parameters", "created_at",
                                  "mounts"]),
            "order": json.dumps(["uuid"]), "limit": "20", "count": "none"})
        st, page, _ = http("GET", info["url"] + "/arvados/v1/containers?" + q, None,
                           {"Authorization": "Bearer " + root})
        if st != 200:
            raise SystemExit("make_seeds: fake_arvados answered %d: %s" % (st, page))
        write(os.path.join(TESTS, "queue", "page-corpus"), "real-list-page.json", page)
    finally:
        p.terminate()
        p.wait()


def main():
    for f in (arvados_seeds, ec2_seeds, azure_seeds):
        f()
        print("make_seeds: %s done" % f.__name__, file=sys.stderr)


if __name__ == "__main__":
    main()
