"""The events a browser may send, one pydantic model per type, told apart by `type`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

MAX_EVENTS_PER_BATCH = 100

Url = Annotated[str, Field(max_length=2048)]


class _Event(BaseModel):
    # Unknown fields are dropped, not rejected: older pages keep working while the schema grows.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    timestamp: datetime
    session_id: str | None = Field(default=None, alias="sessionId", max_length=128)
    url: Url | None = None


class ErrorEvent(_Event):
    type: Literal["error"]
    message: str = Field(min_length=1, max_length=2000)
    stack: str | None = Field(default=None, max_length=8000)
    source: Url | None = None
    line: int | None = Field(default=None, ge=0)
    column: int | None = Field(default=None, ge=0)


class ClickEvent(_Event):
    type: Literal["click"]
    target: str = Field(min_length=1, max_length=500)
    text: str | None = Field(default=None, max_length=200)


class NavigationEvent(_Event):
    type: Literal["navigation"]
    referrer: Url | None = None
    duration_ms: float | None = Field(default=None, alias="durationMs", ge=0)


class WebVitalEvent(_Event):
    type: Literal["web_vital"]
    name: Literal["LCP", "CLS", "INP", "FCP", "TTFB"]
    value: float = Field(ge=0)
    rating: Literal["good", "needs-improvement", "poor"] | None = None

    @property
    def unit(self) -> str:
        # CLS is a unitless layout-shift score; every other vital is a duration.
        return "None" if self.name == "CLS" else "Milliseconds"


class CustomEvent(_Event):
    type: Literal["custom"]
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    data: dict[str, Any] = Field(default_factory=dict)


AnyEvent = ErrorEvent | ClickEvent | NavigationEvent | WebVitalEvent | CustomEvent
telemetry_event: TypeAdapter[AnyEvent] = TypeAdapter(Annotated[AnyEvent, Field(discriminator="type")])
