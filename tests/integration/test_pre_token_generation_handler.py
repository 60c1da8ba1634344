"""The pre token generation trigger (V2_0), fed with events/pre_token_generation/*: Cognito's event in, the same
event back with the access token's scopes decided."""

from __future__ import annotations

import copy
from types import ModuleType
from typing import Any

import pytest

from tests.support.events import load_event
from tools.local.lambda_context import LambdaContext

PIPELINE_WRITE = "dropshop/pipeline.write"


@pytest.fixture(scope="module")
def trigger(load_handler: Any) -> ModuleType:
    module: ModuleType = load_handler("pre_token_generation")
    return module


def sample(name: str) -> dict[str, Any]:
    return load_event(f"pre_token_generation/{name}", USER_POOL_ID="eu-west-1_EXAMPLE", CLIENT_ID="example-client")


def test_an_admin_signing_in_gets_the_pipeline_scope_in_the_access_token_only(
    trigger: ModuleType, context: LambdaContext
) -> None:
    event = sample("admin-signs-in")
    sent = copy.deepcopy(event)

    answered = trigger.lambda_handler(event, context)

    assert answered == sent | {
        "response": {
            "claimsAndScopeOverrideDetails": {
                "accessTokenGeneration": {"scopesToAdd": [PIPELINE_WRITE], "scopesToSuppress": []},
                # An empty or null groupOverrideDetails suppresses the groups: the ID token keeps cognito:groups.
                "groupOverrideDetails": sent["request"]["groupConfiguration"],
            }
        }
    }


def test_a_customer_refreshing_has_the_pipeline_scope_suppressed(trigger: ModuleType, context: LambdaContext) -> None:
    answered = trigger.lambda_handler(sample("customer-refreshes"), context)

    access = answered["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    assert access == {"scopesToAdd": [], "scopesToSuppress": [PIPELINE_WRITE]}


def test_a_demoted_admin_refreshing_gets_what_their_current_groups_grant(
    trigger: ModuleType, context: LambdaContext
) -> None:
    event = sample("customer-refreshes")
    event["request"]["groupConfiguration"]["groupsToOverride"] = []  # removed from every group since sign-in

    access = trigger.lambda_handler(event, context)["response"]["claimsAndScopeOverrideDetails"]
    assert access["accessTokenGeneration"]["scopesToSuppress"] == [PIPELINE_WRITE]


def _without_groups(event: dict[str, Any]) -> None:
    del event["request"]["groupConfiguration"]


def _null_groups(event: dict[str, Any]) -> None:
    event["request"]["groupConfiguration"] = None


def _null_group_list(event: dict[str, Any]) -> None:
    event["request"]["groupConfiguration"]["groupsToOverride"] = None


def _without_response_or_groups(event: dict[str, Any]) -> None:
    del event["response"]
    del event["request"]["groupConfiguration"]


def _null_response_and_groups(event: dict[str, Any]) -> None:
    event["response"] = None
    event["request"]["groupConfiguration"] = None


@pytest.mark.parametrize(
    "damage",
    [_without_groups, _null_groups, _null_group_list, _without_response_or_groups, _null_response_and_groups],
    ids=lambda f: f.__name__,
)
def test_an_event_that_does_not_say_the_groups_grants_nothing_and_still_signs_in(
    trigger: ModuleType, context: LambdaContext, damage: Any
) -> None:
    # An admin's event with its groups (or its response) missing: a trigger that raised would fail every
    # sign-in; one that guessed might grant. No groups known grants nothing.
    event = sample("admin-signs-in")
    damage(event)

    answered = trigger.lambda_handler(event, context)

    access = answered["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    assert access == {"scopesToAdd": [], "scopesToSuppress": [PIPELINE_WRITE]}
    assert answered["triggerSource"] == event["triggerSource"]
