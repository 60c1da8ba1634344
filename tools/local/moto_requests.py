"""The AWS requests moto's server answers, counted by operation, for benchmarks of the local stack.

`GET /_local/requests` answers {"DynamoDB.BatchWriteItem": n, "S3.GetObject": n, ...} since the server started.
Functions run in worker processes, so their botocore calls cannot be counted from the stack's process: they are
counted where they arrive. Every caller is counted (the stack's own pollers and the bench too); which operations
are the functions' is the reader's to say (tools/pipeline_bench.py).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

CONTROL_PATH = "/_local/requests"
# JSON protocols name the operation in X-Amz-Target: "DynamoDB_20120810.PutItem", "AmazonSQS.SendMessageBatch".
SERVICES = {"DynamoDB_20120810": "DynamoDB", "DynamoDBStreams_20120810": "DynamoDBStreams", "AmazonSQS": "SQS"}

App = Callable[..., Iterable[bytes]]


class RequestCounts:
    """WSGI middleware around moto's app."""

    def __init__(self, app: App) -> None:
        self._app = app
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == CONTROL_PATH:
            with self._lock:
                body = json.dumps(dict(self._counts)).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        operation = _operation(environ)
        with self._lock:
            self._counts[operation] += 1
        return self._app(environ, start_response)


def _operation(environ: dict[str, Any]) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if "." in target:
        prefix, name = target.split(".", 1)
        return f"{SERVICES.get(prefix, prefix)}.{name}"
    if "s3" in environ.get("HTTP_AUTHORIZATION", "").split("/"):  # SigV4's credential scope names the service
        return f"S3.{_s3_operation(environ)}"
    return f"other.{environ.get('REQUEST_METHOD', '')}"


def _s3_operation(environ: dict[str, Any]) -> str:
    """S3's REST operations the stack's callers use, from the method, the query and whether a key is named."""
    method = str(environ.get("REQUEST_METHOD", ""))
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    on_object = "/" in environ.get("PATH_INFO", "/").strip("/")  # path-style, as on 127.0.0.1: /bucket/key
    if method == "GET":
        if "versions" in query:
            return "ListObjectVersions"
        return "GetObject" if on_object else "ListObjects"
    if method == "HEAD":
        return "HeadObject" if on_object else "HeadBucket"
    if method == "PUT":
        return "UploadPart" if "uploadId" in query else "PutObject" if on_object else "PutBucket"
    if method == "POST":
        if "delete" in query:
            return "DeleteObjects"
        return "CreateMultipartUpload" if "uploads" in query else "CompleteMultipartUpload"
    if method == "DELETE":
        return "DeleteObject"
    return method
