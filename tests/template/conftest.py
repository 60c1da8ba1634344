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
