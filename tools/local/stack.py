"""The template's storage (tables, queues, buckets, topics) created in moto, and its functions' environments.

Driven by template.yaml alone: a table, queue or bucket added there is provisioned here unchanged.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


class TemplateLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML as CloudFormation reads it, with libyaml (the template is parsed at every start of the stack):
    short-form intrinsics (`!Ref`, `!Sub`, `!GetAtt A.B`...) in their long form, dates left as strings."""


def _intrinsic(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    if suffix == "GetAtt" and isinstance(node, yaml.ScalarNode):
        return {name: str(node.value).split(".", 1)}
    if isinstance(node, yaml.ScalarNode):
        return {name: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    assert isinstance(node, yaml.MappingNode)
    return {name: loader.construct_mapping(node, deep=True)}


TemplateLoader.add_multi_constructor("!", _intrinsic)
TemplateLoader.add_constructor("tag:yaml.org,2002:timestamp", TemplateLoader.construct_yaml_str)


def load_template(text: str) -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(text, Loader=TemplateLoader)  # noqa: S506 - a safe loader
    return template


ACCOUNT = "123456789012"


@dataclass
class Stack:
    session: Any
    template: dict[str, Any]
    region: str
    name: str = "dropshop-test"
    endpoint_url: str | None = None  # moto's server; None means the in-process mock (or real AWS)
    parameters: dict[str, str] = field(default_factory=dict)
    physical: dict[str, str] = field(default_factory=dict)  # logical id → name (tables, buckets) or URL (queues)
    arns: dict[str, str] = field(default_factory=dict)
    streams: dict[str, str] = field(default_factory=dict)  # table logical id → its stream's ARN
    # One client per service for every caller (a long-running stack's pollers and request threads); off for
    # tests, whose fault hooks must reach the clients made after they are registered.
    shared_clients: bool = False
    _clients: dict[str, Any] = field(default_factory=dict)
    _creating: threading.Lock = field(default_factory=threading.Lock)

    def client(self, service: str) -> Any:
        if not self.shared_clients:
            return self.session.client(service, endpoint_url=self.endpoint_url)
        with self._creating:  # a boto3 session may not make clients on several threads at once; clients are safe
            if service not in self._clients:
                self._clients[service] = self.session.client(service, endpoint_url=self.endpoint_url)
            return self._clients[service]

    @property
    def resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, Any]:
        return {name: r for name, r in self.resources.items() if r["Type"] == resource_type}

    def resolve(self, value: Any) -> Any:
        """Ref, Fn::GetAtt and Fn::Sub over parameters and provisioned resources."""
        if isinstance(value, dict) and len(value) == 1:
            ((function, argument),) = value.items()
            if function == "Ref":  # AWS::NoValue: the property is left out (None), as CloudFormation leaves it out
                return None if argument == "AWS::NoValue" else self._ref(argument)
            if function == "Fn::GetAtt":
                name, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
                return self._attribute(name, attribute)
            if function == "Fn::Sub":
                return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._sub(m.group(1))), argument)
            if function == "Fn::If":
                condition, when_true, when_false = argument
                return self.resolve(when_true if self.condition(condition) else when_false)
            if function == "Fn::Equals":
                left, right = self.resolve(argument)
                return left == right
            if function == "Fn::Not":
                (operand,) = self.resolve(argument)
                return not operand
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def timeout(self, function: str) -> float:
        """The function's Timeout in seconds (Globals, then its own; Lambda's default is 3)."""
        properties = self.template.get("Globals", {}).get("Function", {}) | self.resources[function]["Properties"]
        return float(properties.get("Timeout", 3))

    def environment(self, function: str) -> dict[str, str]:
        """The function's environment variables as the template sets them (Globals, then its own)."""
        merged = {
            **self.template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}),
            **self.resources[function]["Properties"].get("Environment", {}).get("Variables", {}),
        }
        return {key: str(self.resolve(value)) for key, value in merged.items()}

    def _ref(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        if name == "AWS::Region":
            return self.region
        if name == "AWS::AccountId":
            return ACCOUNT
        if name == "AWS::StackName":
            return self.name
        if name == "AWS::Partition":
            return "aws"
        if name == "AWS::URLSuffix":
            return "amazonaws.com"
        if name in self.physical:
            return self.physical[name]
        if self.resources.get(name, {}).get("Type") == "AWS::Serverless::Function":
            return name  # functions run here under their logical ids (AWS_LAMBDA_FUNCTION_NAME)
        function, _, attribute = name.partition(".")
        if attribute == "Alias" and self.resources.get(function, {}).get("Type") == "AWS::Serverless::Function":
            alias = self.template.get("Globals", {}).get("Function", {}).get("AutoPublishAlias")
            return f"{self._attribute(function, 'Arn')}:{alias}"  # SAM's `!Ref Function.Alias`: the alias ARN
        raise KeyError(f"{name} is neither a parameter nor a provisioned resource")

    def _attribute(self, name: str, attribute: str) -> str:
        if attribute == "Arn" and self.resources.get(name, {}).get("Type") == "AWS::Serverless::Function":
            return f"arn:aws:lambda:{self.region}:{ACCOUNT}:function:{name}"
        if attribute == "Arn":
            # Roles and the like are not provisioned here (moto enforces no IAM): a stand-in ARN will do.
            return self.arns.get(name) or f"arn:aws:local:{self.region}:{ACCOUNT}:{name}"
        if attribute == "QueueName":
            return self.physical[name].rsplit("/", 1)[-1]
        if attribute == "TopicName":
            return self.physical[name].rsplit(":", 1)[-1]
        if attribute == "StreamArn":
            return self.streams[name]
        raise KeyError(f"{name}.{attribute} is not provisioned here")

    def _sub(self, expression: str) -> str:
        return self._attribute(*expression.split(".", 1)) if "." in expression else self._ref(expression)


def provision(
    session: Any,
    *,
    name: str = "dropshop-test",
    endpoint_url: str | None = None,
    overrides: dict[str, str] | None = None,
) -> Stack:
    template = load_template(TEMPLATE.read_text())
    stack = Stack(session, template, session.region_name, name, endpoint_url)
    defaults = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    # A deploy must name a sender it can verify (the template's Rules); moto's SES verifies any address at once.
    local = {"SenderEmail": f"orders+{name}@dropshop.example"}
    stack.parameters = defaults | local | (overrides or {})
    _buckets(stack)
    _tables(stack)
    _queues(stack)
    _topics(stack)
    _user_pools(stack)
    _email_identities(stack)
    _websocket_apis(stack)
    return stack


def _physical_name(stack: Stack, logical: str) -> str:
    return f"{stack.name}-{logical}".lower()


def _buckets(stack: Stack) -> None:
    s3 = stack.client("s3")
    for name in stack.of_type("AWS::S3::Bucket"):
        bucket = _physical_name(stack, name)
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": stack.region})
        props = stack.resolve(stack.resources[name].get("Properties", {}))
        if "BucketEncryption" in props:  # CloudFormation's names for what the S3 API calls Rules
            rules = [
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                | ({"BucketKeyEnabled": rule["BucketKeyEnabled"]} if "BucketKeyEnabled" in rule else {})
                for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules})
        if "VersioningConfiguration" in props:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration=props["VersioningConfiguration"])
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=bucket, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        stack.physical[name] = bucket
        stack.arns[name] = f"arn:aws:s3:::{bucket}"


def _tables(stack: Stack) -> None:
    dynamodb = stack.client("dynamodb")
    for name, resource in stack.of_type("AWS::DynamoDB::Table").items():
        props = resource["Properties"]
        table = _physical_name(stack, name)
        request: dict[str, Any] = {
            "TableName": table,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in props:
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        description = dynamodb.create_table(**request)["TableDescription"]
        stack.physical[name] = table
        stack.arns[name] = description["TableArn"]
        if "LatestStreamArn" in description:
            stack.streams[name] = description["LatestStreamArn"]


def _queues(stack: Stack) -> None:
    sqs = stack.client("sqs")
    pending = dict(stack.of_type("AWS::SQS::Queue"))
    while pending:  # dead-letter targets first: a redrive policy names their ARN
        ready = {
            name: queue
            for name, queue in pending.items()
            if all(dependency in stack.arns for dependency in _redrive_targets(queue))
        }
        if not ready:
            raise ValueError(f"circular redrive policies among {sorted(pending)}")
        for name, queue in ready.items():
            props = queue.get("Properties", {})
            attributes = {
                key: str(stack.resolve(props[key]))
                for key in ("VisibilityTimeout", "MessageRetentionPeriod")
                if key in props
            }
            if "RedrivePolicy" in props:
                attributes["RedrivePolicy"] = json.dumps(stack.resolve(props["RedrivePolicy"]))
            url = sqs.create_queue(QueueName=_physical_name(stack, name), Attributes=attributes)["QueueUrl"]
            stack.physical[name] = url
            stack.arns[name] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            del pending[name]


def _topics(stack: Stack) -> None:
    """Topics and their subscriptions: moto delivers to SQS itself, filter policies and raw delivery included."""
    sns = stack.client("sns")
    for name, resource in stack.of_type("AWS::SNS::Topic").items():
        topic = stack.resolve(resource["Properties"].get("TopicName")) or _physical_name(stack, name)
        arn = sns.create_topic(Name=topic)["TopicArn"]
        stack.physical[name] = stack.arns[name] = arn
    for resource in stack.of_type("AWS::SNS::Subscription").values():
        if "Condition" in resource and not stack.condition(resource["Condition"]):
            continue
        props = stack.resolve(resource["Properties"])
        attributes = {
            key: json.dumps(props[key]) if isinstance(props[key], dict) else str(props[key]).lower()
            for key in ("FilterPolicy", "RawMessageDelivery")
            if key in props
        }
        if "FilterPolicyScope" in props:
            attributes["FilterPolicyScope"] = props["FilterPolicyScope"]
        sns.subscribe(
            TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"], Attributes=attributes
        )


def _email_identities(stack: Stack) -> None:
    """SES identities, verified at once (on AWS the address owner clicks a link first)."""
    ses = stack.client("ses")
    for name, resource in stack.of_type("AWS::SES::EmailIdentity").items():
        identity = stack.resolve(resource["Properties"]["EmailIdentity"])
        ses.verify_email_identity(EmailAddress=identity)
        stack.physical[name] = identity


def _websocket_apis(stack: Stack) -> None:
    """No AWS resource: the local stack serves WebSocket APIs itself. They get an id, as API Gateway gives."""
    for name in stack.of_type("AWS::ApiGatewayV2::Api"):
        stack.physical[name] = _physical_name(stack, name)


def _redrive_targets(queue: dict[str, Any]) -> list[str]:
    target = queue.get("Properties", {}).get("RedrivePolicy", {}).get("deadLetterTargetArn")
    if isinstance(target, dict) and "Fn::GetAtt" in target:
        argument = target["Fn::GetAtt"]
        return [argument.split(".")[0] if isinstance(argument, str) else argument[0]]
    return []


def _user_pools(stack: Stack) -> None:
    cognito = stack.client("cognito-idp")
    for name, resource in stack.of_type("AWS::Cognito::UserPool").items():
        props = resource["Properties"]
        # The triggers too: moto runs none, but moto's server runs the pre token generation one
        # (tools.local.token_trigger) for the pools whose configuration names it.
        configured = {key: stack.resolve(props[key]) for key in ("LambdaConfig", "UserPoolTier") if key in props}
        pool = cognito.create_user_pool(PoolName=stack.resolve(props["UserPoolName"]), **configured)["UserPool"]
        stack.physical[name], stack.arns[name] = pool["Id"], pool["Arn"]
    for resource in stack.of_type("AWS::Cognito::UserPoolResourceServer").values():
        cognito.create_resource_server(**stack.resolve(resource["Properties"]))
    for name, resource in stack.of_type("AWS::Cognito::UserPoolClient").items():
        # CloudFormation's properties are the API's parameters: OAuth flows, scopes and secret included.
        client = cognito.create_user_pool_client(**stack.resolve(resource["Properties"]))["UserPoolClient"]
        stack.physical[name] = client["ClientId"]
    for resource in stack.of_type("AWS::Cognito::UserPoolGroup").values():
        props = stack.resolve(resource["Properties"])
        cognito.create_group(
            UserPoolId=props["UserPoolId"], GroupName=props["GroupName"], Precedence=props["Precedence"]
        )
