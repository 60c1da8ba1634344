"""The HTTP API's SQS-SendMessage integration as API Gateway runs it: a signed SendMessage in SQS's query protocol,
whose answer is passed through to the caller as SQS gave it (200 and the XML `SendMessageResponse`).

API Gateway does not reshape an AWS service integration's response for HTTP APIs (there are no response mapping
templates there), and SQS answers the integration's query-protocol request in XML:
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-aws-services-reference.html
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-api-responses.html (the XML answer)
https://repost.aws/questions/QUaPE6RutbTwyDhG6ljJgZBA (the integration's caller gets that XML)
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

from tools.local.stack import Stack

QUERY_API_VERSION = "2012-11-05"


def send_message(stack: Stack, queue_url: str, body: str, attributes: str) -> tuple[str, bytes]:
    """SQS's answer (content type, body) to the integration's SendMessage; its refusal as a ClientError."""
    form: dict[str, str] = {"Action": "SendMessage", "Version": QUERY_API_VERSION, "MessageBody": body}
    for n, (name, value) in enumerate(json.loads(attributes or "{}").items(), start=1):
        form[f"MessageAttribute.{n}.Name"] = name
        form |= {f"MessageAttribute.{n}.Value.{field}": str(v) for field, v in value.items()}
    assert stack.endpoint_url is not None, "the HTTP API runs beside a moto server"
    url = stack.endpoint_url + urlsplit(queue_url).path  # moto's queue URLs name a host this machine may not
    data = urlencode(form).encode()
    signed = AWSRequest("POST", url, data=data, headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(stack.session.get_credentials(), "sqs", stack.region).add_auth(signed)  # as the integration's role
    headers = {name: str(value) for name, value in signed.headers.items()}
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - our moto server
            return answer.headers.get("Content-Type", "text/xml"), answer.read()
    except urllib.error.HTTPError as refused:
        raise ClientError(_error_of(refused.read()), "SendMessage") from None


def _error_of(document: bytes) -> Any:
    """botocore's error shape from SQS's XML ErrorResponse."""
    try:
        root = ElementTree.fromstring(document)  # noqa: S314 - our own moto server's answer
    except ElementTree.ParseError:
        return {"Error": {"Code": "InternalError", "Message": document.decode(errors="replace")[:200]}}
    found = {element.tag.rsplit("}", 1)[-1]: element.text or "" for element in root.iter()}
    return {"Error": {"Code": found.get("Code", "InternalError"), "Message": found.get("Message", "")}}
