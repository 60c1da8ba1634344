"""The deploy hook's verdict on a pre token generation trigger's smoke answer: the smoke user is in no group,
so a version that scopes their token would hand the pipeline's scope to everyone."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from dropshop.identity.service import scope_tokens
from dropshop.operations.canary import smoke_event, verdict
from dropshop.platform.cognito_triggers import PreTokenGenerationV2TriggerEvent

SPEC = "cognito TokenGeneration_RefreshTokens"


def answered(access: dict[str, Any] | None) -> dict[str, Any]:
    event = copy.deepcopy(smoke_event(SPEC))
    event["response"] = {"claimsAndScopeOverrideDetails": {"accessTokenGeneration": access}}
    return event


def test_the_triggers_own_answer_to_the_smoke_user_passes() -> None:
    answer = scope_tokens(PreTokenGenerationV2TriggerEvent(smoke_event(SPEC))).raw_event

    assert verdict(SPEC, answer, None) is None


@pytest.mark.parametrize(
    "access",
    [
        {"scopesToAdd": ["dropshop/pipeline.write"], "scopesToSuppress": []},
        {"scopesToAdd": ["dropshop/pipeline.write"], "scopesToSuppress": ["dropshop/pipeline.write"]},
        {"scopesToAdd": [], "scopesToSuppress": []},
        None,
    ],
    ids=["grants", "grants-and-withholds", "withholds-nothing", "no-answer"],
)
def test_a_version_that_does_not_withhold_every_grantable_scope_from_the_smoke_user_stops_the_deployment(
    access: dict[str, Any] | None,
) -> None:
    reason = verdict(SPEC, answered(access), None)

    assert reason is not None
    assert "scoped the token of a user in no group" in reason
