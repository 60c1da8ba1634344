"""The local stack reads template.yaml with libyaml (it does at every start): exactly as SAM CLI reads it."""

from __future__ import annotations

import pytest
from samcli.yamlhelper import yaml_parse

from tools.local.stack import TEMPLATE, load_template


def test_the_template_loads_as_sam_cli_reads_it() -> None:
    text = TEMPLATE.read_text()

    assert load_template(text) == yaml_parse(text)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a: !Ref Bucket", {"a": {"Ref": "Bucket"}}),
        ("a: !GetAtt Queue.Arn", {"a": {"Fn::GetAtt": ["Queue", "Arn"]}}),
        ("a: !GetAtt [Queue, Arn]", {"a": {"Fn::GetAtt": ["Queue", "Arn"]}}),
        ("a: !Sub '${AWS::StackName}-x'", {"a": {"Fn::Sub": "${AWS::StackName}-x"}}),
        ("a: !If [Prod, !Ref A, !Ref B]", {"a": {"Fn::If": ["Prod", {"Ref": "A"}, {"Ref": "B"}]}}),
        ("a: !Condition IsProd", {"a": {"Condition": "IsProd"}}),
        ("a: !Equals [!Ref Env, prod]", {"a": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}),
        ("Version: 2012-10-17", {"Version": "2012-10-17"}),
    ],
)
def test_short_form_intrinsics_and_dates_read_as_cloudformation_reads_them(source: str, expected: object) -> None:
    assert load_template(source) == expected
