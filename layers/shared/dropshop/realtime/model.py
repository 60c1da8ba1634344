"""WebSocket connections and what is pushed over them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from dropshop.identity.model import Principal
from dropshop.platform.model import ApiModel

# API Gateway closes a WebSocket after two hours; TTL removes what $disconnect missed soon after.
CONNECTION_LIFETIME_SECONDS = 2 * 3600 + 300
# An order's last pushed stage outlives any delivery SQS could still make (14 days at most) by far.
PUSHED_LIFETIME_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class Connection:
    connection_id: str
    user_id: str
    username: str
    connected_at: str
    expires_at: int
    groups: list[str] = field(default_factory=list)

    @property
    def principal(self) -> Principal:
        return Principal(user_id=self.user_id, username=self.username, groups=self.groups)


@dataclass(frozen=True)
class PushClaim:
    """The right to push an order's change: to every socket of its audience, or (`owed`, a redelivery of a push the
    network cut short) to those of them the failed attempt did not reach."""

    owed: frozenset[str] | None = None

    def recipients(self, audience: set[str]) -> list[str]:
        return sorted(audience if self.owed is None else audience & self.owed)


class Subscribe(ApiModel):
    """The `subscribe` route's message: {"action": "subscribe", "orderId": "..."}."""

    action: str
    order_id: str = Field(min_length=1, max_length=64)


class OrderStatusMessage(ApiModel):
    """What a browser receives: an order's status (answered to `subscribe`, then pushed on every change). `stage`
    grows along the life cycle: a page that got a message of a later stage (the answer to its `subscribe`, say)
    ignores one of an earlier stage."""

    type: str = "orderStatus"
    order_id: str
    status: str
    previous: str | None = None
    at: str
    stage: int

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)

    @classmethod
    def from_event(cls, data: dict[str, Any], at: str, stage: int) -> OrderStatusMessage:
        return cls(order_id=data["orderId"], status=data["status"], previous=data.get("previous"), at=at, stage=stage)
