"""The template as written, and as SAM translates it after `sam package` (local paths become S3 URIs)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"
Template = dict[str, Any]


class _NoNamedManagedPolicies:
    """The template names no managed policy by name, so the translator needs no IAM lookup."""

    @staticmethod
    def load() -> dict[str, str]:
        return {}


def load_template() -> Template:
    template: Template = yaml_parse(TEMPLATE_PATH.read_text())
    return template


def of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == resource_type}


def packaged(template: Template, layer_uri: str = "s3://artifacts/shared-layer.zip") -> Template:
    """What `sam package` would upload: every CodeUri/ContentUri replaced by an S3 location."""
    result = copy.deepcopy(template)
    for name, function in of_type(result, "AWS::Serverless::Function").items():
        function["Properties"]["CodeUri"] = f"s3://artifacts/{name}.zip"
    for layer in of_type(result, "AWS::Serverless::LayerVersion").values():
        layer["Properties"]["ContentUri"] = layer_uri
    return result


def translate(template: Template) -> Template:
    translated: Template = transform(copy.deepcopy(template), {}, _NoNamedManagedPolicies())
    return translated


@pytest.fixture(scope="session")
def template() -> Template:
    return load_template()


@pytest.fixture(scope="session")
def translated(template: Template) -> Template:
    return translate(packaged(template))


FUNCTIONS = sorted(of_type(load_template(), "AWS::Serverless::Function"))


def function_properties(template: Template, name: str) -> dict[str, Any]:
    """A function's properties with the template's Globals applied underneath, as SAM merges them."""
    merged = dict(template.get("Globals", {}).get("Function", {}))
    merged.update(template["Resources"][name]["Properties"])
    return merged


NO_VALUE = object()


def for_parameters(template: Template, **overrides: str) -> Template:
    """The template as CloudFormation would create it with these parameters: its conditions evaluated, resources
    (and outputs) under a false condition dropped, every Fn::If resolved, AWS::NoValue removed."""
    values = {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()} | overrides
    conditions: dict[str, bool] = {}

    def value(node: Any) -> Any:
        if isinstance(node, dict) and set(node) == {"Ref"} and node["Ref"] in values:
            return values[node["Ref"]]
        return node

    def truth(node: Any) -> bool:
        (function, args), *_ = node.items()
        if function == "Condition":
            return condition(args)
        if function == "Fn::Equals":
            return bool(value(args[0]) == value(args[1]))
        if function == "Fn::Not":
            return not truth(args[0])
        if function == "Fn::And":
            return all(truth(a) for a in args)
        if function == "Fn::Or":
            return any(truth(a) for a in args)
        raise ValueError(f"unsupported condition function {function}")

    def condition(name: str) -> bool:
        if name not in conditions:
            conditions[name] = truth(template["Conditions"][name])
        return conditions[name]

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, if_true, if_false = node["Fn::If"]
                return resolve(if_true if condition(name) else if_false)
            if node == {"Ref": "AWS::NoValue"}:
                return NO_VALUE
            resolved = {k: resolve(v) for k, v in node.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(node, list):
            return [v for v in (resolve(item) for item in node) if v is not NO_VALUE]
        return node

    result = copy.deepcopy(template)
    for section in ("Resources", "Outputs"):
        kept = {k: v for k, v in result.get(section, {}).items() if "Condition" not in v or condition(v["Condition"])}
        result[section] = {k: resolve(v) for k, v in kept.items()}
    return result


DEV = {"Stage": "dev"}
PROD = {"Stage": "prod"}
