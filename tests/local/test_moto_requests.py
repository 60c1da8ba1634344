"""moto's server as the local stack runs it counts the requests it answers by operation (tools/local/moto_requests.py):
what the pipeline benchmark reads for the requests per 1,000 records of functions running in other processes."""

from __future__ import annotations

import json
import urllib.request

import boto3

from tools.local.moto_server import moto_server


def test_each_request_is_counted_under_its_service_and_operation() -> None:
    with moto_server() as endpoint:
        session = boto3.session.Session(
            region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        s3, sqs, dynamodb = (session.client(s, endpoint_url=endpoint) for s in ("s3", "sqs", "dynamodb"))
        s3.create_bucket(Bucket="data", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_object(Bucket="data", Key="incoming/a.json", Body=b"[]")
        s3.get_object(Bucket="data", Key="incoming/a.json", Range="bytes=0-0")["Body"].read()
        s3.head_object(Bucket="data", Key="incoming/a.json")
        s3.list_object_versions(Bucket="data")
        s3.delete_objects(Bucket="data", Delete={"Objects": [{"Key": "incoming/a.json"}]})
        queue = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message_batch(QueueUrl=queue, Entries=[{"Id": "1", "MessageBody": "x"}])
        dynamodb.list_tables()

        with urllib.request.urlopen(f"{endpoint}/_local/requests", timeout=10) as answer:  # noqa: S310 - our moto
            counts = json.loads(answer.read())

    assert {name: n for name, n in counts.items() if not name.startswith("other.")} == {
        "S3.PutBucket": 1,
        "S3.PutObject": 1,
        "S3.GetObject": 1,
        "S3.HeadObject": 1,
        "S3.ListObjectVersions": 1,
        "S3.DeleteObjects": 1,
        "SQS.CreateQueue": 1,
        "SQS.SendMessageBatch": 1,
        "DynamoDB.ListTables": 1,
    }
