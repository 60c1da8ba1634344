"""Which OAuth scopes a user's access token carries: granted by groups (identity/model.py), written into the
pre token generation trigger's answer (identity/service.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dropshop.identity.model import GRANTABLE_SCOPES, SCOPES_BY_GROUP, access_token_scopes
from dropshop.identity.service import scope_tokens
from dropshop.platform.cognito_triggers import PreTokenGenerationV2TriggerEvent

PIPELINE_WRITE = "dropshop/pipeline.write"
EVENTS = Path(__file__).resolve().parents[2] / "events" / "pre_token_generation"

# Group names as Cognito allows them (any text up to 128 characters); near-misses of `admin` (dotless i, Cyrillic a).
NEAR_ADMIN = st.sampled_from(
    ["Admin", "ADMIN", " admin", "admin ", "admin\n", "adm\u0131n", "\u0430dmin", "admin\x00", "admins"]
)
GROUP = st.one_of(st.sampled_from(["customer", "admin"]), NEAR_ADMIN, st.text(max_size=128))


@given(groups=st.lists(GROUP, max_size=12))
@example(groups=[])
@example(groups=["customer", "admin", "admin"])
@example(groups=["Admin", " admin", "admin "])
def test_the_pipeline_scope_is_granted_exactly_when_admin_is_among_the_groups(groups: list[str]) -> None:
    scopes = access_token_scopes(groups)
    assert (PIPELINE_WRITE in scopes.granted) == ("admin" in groups)
    assert (PIPELINE_WRITE in scopes.withheld) == ("admin" not in groups)


@given(groups=st.lists(GROUP, max_size=12))
def test_every_grantable_scope_is_either_granted_or_withheld_never_both(groups: list[str]) -> None:
    scopes = access_token_scopes(groups)
    assert set(scopes.granted) | set(scopes.withheld) == GRANTABLE_SCOPES
    assert not set(scopes.granted) & set(scopes.withheld)
    assert scopes.granted == sorted(set(scopes.granted)), "each scope once, in a stable order"


@given(groups=st.lists(NEAR_ADMIN | st.sampled_from(["customer", "hacker", ""]), max_size=8))
def test_near_misses_of_admin_grant_nothing(groups: list[str]) -> None:
    assert access_token_scopes(groups).granted == []


def test_only_admin_grants_a_scope_and_it_is_the_pipelines() -> None:
    assert {"admin": frozenset({PIPELINE_WRITE})} == SCOPES_BY_GROUP


def _sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


@given(groups=st.lists(GROUP, max_size=6))
def test_the_trigger_answers_in_the_v2_shape_and_changes_nothing_else_of_the_event(groups: list[str]) -> None:
    event = _sample("admin-signs-in")
    event["request"]["groupConfiguration"]["groupsToOverride"] = groups
    sent = copy.deepcopy(event)

    answered = scope_tokens(PreTokenGenerationV2TriggerEvent(event)).raw_event

    access = answered["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    expected = access_token_scopes(groups)
    assert access == {"scopesToAdd": expected.granted, "scopesToSuppress": expected.withheld}
    details = answered["response"]["claimsAndScopeOverrideDetails"]
    assert details.keys() == {"accessTokenGeneration", "groupOverrideDetails"}
    # Cognito suppresses the groups when this is empty or null: the request's groups are kept as they came.
    assert details["groupOverrideDetails"] == sent["request"]["groupConfiguration"]
    assert {k: v for k, v in answered.items() if k != "response"} == {k: v for k, v in sent.items() if k != "response"}


@pytest.mark.parametrize("response", [None, [], "", {"claimsAndScopeOverrideDetails": None}, "absent"])
def test_an_event_without_a_usable_response_is_still_scoped(response: object) -> None:
    # Cognito sends {"claimsAndScopeOverrideDetails": null}; anything else gets an answer too, never a failed sign-in.
    event = _sample("customer-refreshes")
    event.pop("response")
    if response != "absent":
        event["response"] = response
    answered = scope_tokens(PreTokenGenerationV2TriggerEvent(event)).raw_event
    access = answered["response"]["claimsAndScopeOverrideDetails"]["accessTokenGeneration"]
    assert access == {"scopesToAdd": [], "scopesToSuppress": [PIPELINE_WRITE]}
