"""What DynamoDB does and moto does not, injected into real (moto) calls through botocore's event hooks, as
tests/support/faults.py does for throttling."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

BATCH_WRITE_REQUESTS = 25


class StaleReads:
    """DynamoDB's eventually consistent reads "might not reflect the results of a recently completed write"
    (developer guide, Read consistency:
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html); moto's
    always do. A BatchGetItem that does not ask for ConsistentRead sees none of the items, as a replica that has not
    caught up yet. The first call's keys all come back as UnprocessedKeys, with no Responses for the table, as
    BatchGetItem may answer under throttling (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html)."""

    def __init__(self, dynamodb: Any) -> None:
        self.calls = 0
        self._requests: list[dict[str, Any]] = []
        dynamodb.meta.events.register("provide-client-params.dynamodb.BatchGetItem", self._remember)
        dynamodb.meta.events.register("after-call.dynamodb.BatchGetItem", self._answer)

    def _remember(self, params: dict[str, Any], **_: Any) -> None:
        self._requests.append(params["RequestItems"])

    def _answer(self, parsed: dict[str, Any], **_: Any) -> None:
        requested = self._requests.pop()
        self.calls += 1
        if self.calls == 1:
            parsed["Responses"] = {}
            parsed["UnprocessedKeys"] = requested
            return
        for table, request in requested.items():
            if not request.get("ConsistentRead"):
                parsed["Responses"][table] = []


def enforce_batch_write_limit(dynamodb: Any) -> None:
    """BatchWriteItem takes "as many as 25 put or delete requests" and refuses a call with more
    (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html); moto takes them."""

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if sum(len(requests) for requests in params["RequestItems"].values()) > BATCH_WRITE_REQUESTS:
            too_many = "Too many items requested for the BatchWriteItem call"
            raise ClientError({"Error": {"Code": "ValidationException", "Message": too_many}}, "BatchWriteItem")

    dynamodb.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", refuse)
