#!/usr/bin/python3
"""populate.py ENDPOINT CA N TAGKEY TAGVALUE - launch N instances in fake_ec2 with boto3
(an independent client), MaxCount 1000 per call, each tagged TAGKEY=TAGVALUE. Prints N."""
import sys

import boto3
from botocore.config import Config

endpoint, ca, n, key, value = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=endpoint, verify=ca,
                   aws_access_key_id="AKIDEXAMPLE",
                   aws_secret_access_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                   config=Config(retries={"max_attempts": 1}))
done = 0
while done < n:
    count = min(1000, n - done)
    r = ec2.run_instances(ImageId="ami-0a1b2c3d4e5f60004", InstanceType="t3.micro", MinCount=count,
                          MaxCount=count, TagSpecifications=[{"ResourceType": "instance",
                          "Tags": [{"Key": key, "Value": value}]}])
    done += len(r["Instances"])
print(done)
