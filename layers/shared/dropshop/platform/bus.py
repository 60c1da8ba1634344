"""The one small bus: domain events go into the outbox in the same transaction as the change they announce;
the outbox table's stream relays them to the events topic; each consumer reads them from its own queue.

Delivery is at least once, so every event carries an id that consumers use to make a repeat harmless.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from dropshop.platform import aws
from dropshop.platform.clock import now_iso
from dropshop.platform.settings import settings

# Stream records live 24 h; outbox items outlive them by far, then TTL removes them (no relay follows).
OUTBOX_RETENTION_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class DomainEvent:
    type: str
    source: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: str = field(default_factory=now_iso)

    def to_json(self) -> str:
        envelope = {"id": self.id, "type": self.type, "source": self.source, "occurredAt": self.occurred_at}
        return json.dumps({**envelope, "data": self.data}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> DomainEvent:
        envelope = json.loads(text)
        return cls(
            type=envelope["type"],
            source=envelope["source"],
            data=envelope["data"],
            id=envelope["id"],
            occurred_at=envelope["occurredAt"],
        )


def outbox_put(event: DomainEvent, outbox_table: str) -> dict[str, Any]:
    """The TransactWriteItems entry that records `event`, to commit with the change it announces."""
    return {
        "Put": {
            "TableName": outbox_table,
            "Item": {
                "eventId": {"S": event.id},
                "eventType": {"S": event.type},
                "event": {"S": event.to_json()},
                "expiresAt": {"N": str(int(time.time()) + OUTBOX_RETENTION_SECONDS)},
            },
            "ConditionExpression": "attribute_not_exists(eventId)",
        }
    }


class EventPublisher:
    """Publishes relayed events to the topic; consumers' subscriptions filter on the `eventType` attribute."""

    def __init__(self, sns: Any, topic_arn: str) -> None:
        self._sns = sns
        self._topic_arn = topic_arn

    def publish(self, event: DomainEvent) -> None:
        self._sns.publish(
            TopicArn=self._topic_arn,
            Message=event.to_json(),
            MessageAttributes={
                "eventType": {"DataType": "String", "StringValue": event.type},
                "source": {"DataType": "String", "StringValue": event.source},
            },
        )


def publisher() -> EventPublisher:
    return EventPublisher(aws.client("sns"), settings().events_topic_arn)


def relay(outbox_entry: str) -> DomainEvent:
    """Publish an event read from the outbox's stream (the `event` attribute of a new outbox item)."""
    event = DomainEvent.from_json(outbox_entry)
    publisher().publish(event)
    return event
