"""A Lambda function in the style of the Python solution syncscope replaces: it
imports boto3, builds an SSM client at init and reads the filters parameter per
event. Served through the Lambda Runtime API like any custom runtime; the benchmark
measures its start-up (process start to the first `next` poll)."""
import json
import os
import urllib.request

import boto3

ssm = boto3.client("ssm")
API = os.environ["AWS_LAMBDA_RUNTIME_API"]


def handler(event):
    value = ssm.get_parameter(Name=os.environ["FILTERS_PARAMETER"])["Parameter"]["Value"]
    return {"bytes": len(value)}


while True:
    with urllib.request.urlopen(f"http://{API}/2018-06-01/runtime/invocation/next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.load(r)
    body = json.dumps(handler(event)).encode()
    urllib.request.urlopen(
        urllib.request.Request(
            f"http://{API}/2018-06-01/runtime/invocation/{request_id}/response", data=body, method="POST"
        )
    ).read()
