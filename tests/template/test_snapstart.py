"""SnapStart, proven on the template as SAM translates it: the API functions in prod only, and only when asked."""

from __future__ import annotations

from typing import Any

from tests.template.conftest import Template, of_type

API_FUNCTIONS = {
    "SessionFunction",
    "TelemetryFunction",
    "FilesApiFunction",
    "ProductsFunction",
    "OrdersFunction",
    "WebSocketFunction",
}


def snapstart_when(translated: Template, condition_holds: bool) -> dict[str, Any]:
    """Each function's SnapStart setting once CloudFormation has evaluated UseSnapStart."""
    settings = {}
    for name, function in of_type(translated, "AWS::Lambda::Function").items():
        value = function["Properties"].get("SnapStart")
        if value is not None:
            condition, when_true, when_false = value["Fn::If"]
            assert condition == "UseSnapStart"
            value = when_true if condition_holds else when_false
            if value == {"Ref": "AWS::NoValue"}:
                continue
        if value is not None:
            settings[name] = value
    return settings


def test_the_api_functions_resume_from_snapshots_of_published_versions_when_enabled(translated: Template) -> None:
    enabled = snapstart_when(translated, condition_holds=True)
    assert enabled == {name: {"ApplyOn": "PublishedVersions"} for name in API_FUNCTIONS}
    assert snapstart_when(translated, condition_holds=False) == {}


def test_snapstart_needs_both_the_prod_stage_and_the_parameter(translated: Template) -> None:
    assert translated["Parameters"]["SnapStart"]["Default"] == "Disabled"
    assert translated["Conditions"]["UseSnapStart"] == {
        "Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": [{"Ref": "SnapStart"}, "Enabled"]}]
    }
    assert translated["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}


def test_snapstart_functions_use_nothing_snapstart_refuses(translated: Template) -> None:
    # Lambda refuses SnapStart with provisioned concurrency, EFS, or more than 512 MB of ephemeral storage.
    for name, function in of_type(translated, "AWS::Lambda::Function").items():
        if name not in API_FUNCTIONS:
            continue
        properties = function["Properties"]
        assert "FileSystemConfigs" not in properties, name
        assert properties.get("EphemeralStorage", {"Size": 512})["Size"] <= 512, name
    for alias in of_type(translated, "AWS::Lambda::Alias").values():
        assert "ProvisionedConcurrencyConfig" not in alias["Properties"]
