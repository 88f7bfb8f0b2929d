"""Build moto resources from ``template.yaml`` and load the real handlers.

Tables, queues, the bucket and the secret are created from the template's own properties, so
the local runner and the tests break when the template and the code disagree.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT_ID = "123456789012"
LOCAL_API_ID = "local"
LOCAL_SIGNING_SECRET = "local-signing-secret-0123456789"  # noqa: S105 - moto only


# libyaml's parser when PyYAML has it (the same documents, several times faster).
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CfnLoader(_SafeLoader):
    """YAML loader turning CloudFormation short tags (!Ref, !Sub ...) into their long form."""


def _construct(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - YAML has no other node kinds
        raise yaml.YAMLError(f"unsupported node for !{tag_suffix}")
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct)


# Parsed templates by (path, modification time, size): every test deployment reads the same
# file, and parsing it costs more than creating its resources.
_PARSED: dict[tuple[str, int, int], dict[str, Any]] = {}


def load_template(path: Path) -> dict[str, Any]:
    """Load a CloudFormation/SAM template, short tags included (a fresh copy each call)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _PARSED:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader)  # noqa: S506
        if not isinstance(document, dict) or "Resources" not in document:
            raise ValueError(f"{path}: not a CloudFormation template")
        _PARSED.clear()
        _PARSED[key] = document
    return copy.deepcopy(_PARSED[key])


# ------------------------------------------------------------------------ schedules
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}


def _cron_field(text: str, low: int, high: int, name: str) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        step = 1
        part = item
        if "/" in item:
            part, step_text = item.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise ValueError(f"cron {name}: bad step in {text!r}")
            step = int(step_text)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            if not (first.isdigit() and last.isdigit()):
                raise ValueError(f"cron {name}: unsupported value {text!r}")
            start, end = int(first), int(last)
        elif part.isdigit():
            start = end = int(part)
            if step != 1:
                end = high
        else:
            raise ValueError(f"cron {name}: unsupported value {text!r}")
        if not (low <= start <= end <= high):
            raise ValueError(f"cron {name}: {text!r} outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


@dataclass(frozen=True)
class Schedule:
    """An EventBridge schedule of one function: ``rate(...)`` or ``cron(...)`` (UTC)."""

    function: str
    expression: str

    def fire_times(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Firing instants in ``[start, end)``; rates are aligned to 00:00 UTC of start's day."""
        rate = _RATE.match(self.expression)
        if rate:
            step = timedelta(seconds=int(rate.group(1)) * _UNIT[rate.group(2).rstrip("s")])
            if step <= timedelta(0):
                raise ValueError(f"{self.expression}: rate must be positive")
            moment = datetime.combine(start.date(), datetime.min.time(), UTC)
            while moment < end:
                if moment >= start:
                    yield moment
                moment += step
            return
        if not (self.expression.startswith("cron(") and self.expression.endswith(")")):
            raise ValueError(f"unsupported schedule expression {self.expression!r}")
        fields = self.expression[5:-1].split()
        if len(fields) != 6:
            raise ValueError(f"{self.expression}: cron needs 6 fields")
        minutes = _cron_field(fields[0], 0, 59, "minutes")
        hours = _cron_field(fields[1], 0, 23, "hours")
        days = _cron_field(fields[2], 1, 31, "day-of-month")
        months = _cron_field(fields[3], 1, 12, "month")
        if fields[4] not in ("*", "?"):
            raise ValueError(f"{self.expression}: only * or ? for day-of-week is supported")
        if fields[5] not in ("*", "?"):
            raise ValueError(f"{self.expression}: only * for year is supported")
        day = datetime.combine(start.date(), datetime.min.time(), UTC)
        while day < end:
            if day.day in days and day.month in months:
                for hour in sorted(hours):
                    for minute in sorted(minutes):
                        moment = day.replace(hour=hour, minute=minute)
                        if start <= moment < end:
                            yield moment
            day += timedelta(days=1)


# ------------------------------------------------------------------------ functions
@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    timeout: int
    events: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueConsumer:
    """An SQS event source mapping: ``function`` receives ``queue`` in batches."""

    queue: str
    function: str
    batch_size: int
    report_failures: bool


@dataclass(frozen=True)
class AsyncConfig:
    """Lambda's retries of a failed asynchronous invocation (schedules, EventBridge rules)."""

    max_retries: int
    max_age_seconds: int
    on_failure: str | None  # logical id of the SQS on-failure destination


@dataclass(frozen=True)
class StreamMapping:
    """A DynamoDB stream event source mapping's failure handling."""

    max_retries: int  # -1: until the record expires
    bisect: bool
    report_failures: bool
    on_failure: str | None


_HANDLERS: dict[Path, Callable[[dict[str, Any], Any], Any]] = {}


def load_handler(spec: FunctionSpec) -> Callable[[dict[str, Any], Any], Any]:
    """Import ``<code_dir>/<module>.py`` under a unique module name; return its handler."""
    module_name, attribute = spec.handler.rsplit(".", 1)
    path = (spec.code_dir / f"{module_name}.py").resolve()
    if path not in _HANDLERS:
        unique = f"lcm_fn_{spec.code_dir.name}_{module_name}"
        module_spec = importlib.util.spec_from_file_location(unique, path)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        _HANDLERS[path] = getattr(module, attribute)
    return _HANDLERS[path]


class FakeLambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    def __init__(
        self, function_name: str = "local", memory_limit_in_mb: int = 512, timeout_seconds: int = 30
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:{function_name}"
        )
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._timeout_ms = timeout_seconds * 1000

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


# ------------------------------------------------------------------------ deployment
class LocalDeployment:
    """The template's stateful resources, created in moto (call inside ``mock_aws()``)."""

    def __init__(
        self, template: dict[str, Any], root: Path, session: Any, parameters: dict[str, str]
    ) -> None:
        self.template = template
        self.root = root
        self.session = session
        self._clients: dict[str, Any] = {}  # one boto3 client per service (each costs ~0.1 s)
        self.region = session.region_name or "us-east-1"
        self.parameters = parameters
        self.physical: dict[str, str] = {}
        self.arns: dict[str, str] = {}
        self.functions: dict[str, FunctionSpec] = {}
        self.schedules: list[Schedule] = []
        self._stream_arns: dict[str, str] = {}

    @classmethod
    def create(
        cls,
        template_path: Path,
        *,
        session: Any,
        parameters: dict[str, str] | None = None,
        signing_secret: str = LOCAL_SIGNING_SECRET,
    ) -> LocalDeployment:
        template = load_template(template_path)
        values = {
            name: str(spec["Default"])
            for name, spec in template.get("Parameters", {}).items()
            if "Default" in spec
        }
        values.update(parameters or {})
        missing = sorted(set(template.get("Parameters", {})) - set(values))
        if missing:
            raise ValueError(f"parameters without value: {', '.join(missing)}")
        deployment = cls(template, template_path.parent, session, values)
        deployment._create_resources(signing_secret)
        deployment._read_functions()
        return deployment

    # -- intrinsic functions ------------------------------------------------------------
    def _pseudo(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::StackName": "lcm",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def _ref(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        if name in self._pseudo():
            return self._pseudo()[name]
        if name in self.physical:
            return self.physical[name]
        if name == "PublicApi" or self.template["Resources"].get(name, {}).get("Type") in (
            "AWS::Serverless::Api",
        ):
            return LOCAL_API_ID
        resource_type = self.template["Resources"].get(name, {}).get("Type", "")
        if resource_type:
            return f"lcm-{name}"
        raise KeyError(f"!Ref {name}: unknown")

    def _get_att(self, name: str, attribute: str) -> str:
        if attribute == "Arn":
            return self.arns.get(name, f"arn:aws:local:{self.region}:{ACCOUNT_ID}:{name}")
        if attribute == "QueueName":
            return self.physical[name].rsplit("/", 1)[-1]
        if attribute == "StreamArn":
            return self._stream_arns[name]
        raise KeyError(f"!GetAtt {name}.{attribute}: unsupported")

    def resolve(self, value: Any) -> Any:
        """Resolve Ref, GetAtt, Sub and Join against the local resources."""
        if isinstance(value, dict) and len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Fn::GetAtt":
                name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self._get_att(name, attribute)
            if key == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                resolved_vars = {k: self.resolve(v) for k, v in variables.items()}

                def replace(match: re.Match[str]) -> str:
                    token = match.group(1)
                    if token in resolved_vars:
                        return str(resolved_vars[token])
                    if "." in token:
                        name, attribute = token.split(".", 1)
                        return self._get_att(name, attribute)
                    return str(self._ref(token))

                return re.sub(r"\$\{([^}!]+)\}", replace, text)
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self.resolve(p)) for p in parts)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    # -- resources ---------------------------------------------------------------------
    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service)
        return self._clients[service]

    def _create_resources(self, signing_secret: str) -> None:
        resources = self.template["Resources"]
        order = sorted(
            resources,
            key=lambda n: (
                resources[n]["Type"] != "AWS::SQS::Queue"
                or "RedrivePolicy" in resources[n].get("Properties", {}),
                n,
            ),
        )
        for name in order:
            resource = resources[name]
            properties = resource.get("Properties", {})
            kind = resource["Type"]
            if kind == "AWS::DynamoDB::Table":
                self._create_table(name, properties)
            elif kind == "AWS::SQS::Queue":
                self._create_queue(name, properties)
            elif kind == "AWS::S3::Bucket":
                bucket = f"lcm-{name.lower()}"
                self._client("s3").create_bucket(Bucket=bucket)
                self.physical[name] = bucket
                self.arns[name] = f"arn:aws:s3:::{bucket}"
            elif kind == "AWS::SecretsManager::Secret":
                secret = self._client("secretsmanager").create_secret(
                    Name=f"lcm-{name}", SecretString=signing_secret
                )
                self.physical[name] = secret["ARN"]
                self.arns[name] = secret["ARN"]
        sender = self.parameters.get("SenderEmail")
        if sender:
            self._client("ses").verify_email_identity(EmailAddress=sender)
            self._client("sesv2").create_email_identity(EmailIdentity=sender)

    def _create_table(self, name: str, properties: dict[str, Any]) -> None:
        table = f"lcm-{name}"
        request: dict[str, Any] = {
            "TableName": table,
            "KeySchema": properties["KeySchema"],
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "BillingMode": properties.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if properties.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        if properties.get("StreamSpecification"):
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": properties["StreamSpecification"]["StreamViewType"],
            }
        client = self._client("dynamodb")
        description = client.create_table(**request)["TableDescription"]
        ttl = properties.get("TimeToLiveSpecification")
        if ttl:
            client.update_time_to_live(TableName=table, TimeToLiveSpecification=ttl)
        self.physical[name] = table
        self.arns[name] = description["TableArn"]
        if description.get("LatestStreamArn"):
            self._stream_arns[name] = description["LatestStreamArn"]

    def _create_queue(self, name: str, properties: dict[str, Any]) -> None:
        attributes: dict[str, str] = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
            if key in properties:
                attributes[key] = str(properties[key])
        if "RedrivePolicy" in properties:
            policy = self.resolve(properties["RedrivePolicy"])
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": policy["deadLetterTargetArn"],
                    "maxReceiveCount": str(policy["maxReceiveCount"]),
                }
            )
        sqs = self._client("sqs")
        url = sqs.create_queue(QueueName=f"lcm-{name}", Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.physical[name] = url
        self.arns[name] = arn

    def _read_functions(self) -> None:
        defaults = self.template.get("Globals", {}).get("Function", {})
        for name, resource in self.template["Resources"].items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            properties = resource["Properties"]
            events = properties.get("Events", {})
            self.functions[name] = FunctionSpec(
                logical_id=name,
                code_dir=self.root / properties["CodeUri"],
                handler=properties.get(
                    "Handler", defaults.get("Handler", "handler.lambda_handler")
                ),
                timeout=int(properties.get("Timeout", defaults.get("Timeout", 3))),
                events=events,
            )
            for event in events.values():
                if event.get("Type") in ("Schedule", "ScheduleV2"):
                    expression = self.resolve(event["Properties"]["Schedule"])
                    self.schedules.append(Schedule(function=name, expression=str(expression)))

    # -- queries -----------------------------------------------------------------------
    def function_environment(self, logical_id: str) -> dict[str, str]:
        defaults = self.template.get("Globals", {}).get("Function", {})
        variables = dict(defaults.get("Environment", {}).get("Variables", {}))
        own = self.template["Resources"][logical_id]["Properties"]
        variables.update(own.get("Environment", {}).get("Variables", {}))
        return {key: str(self.resolve(value)) for key, value in variables.items()}

    def queue_url(self, logical_id: str) -> str:
        return self.physical[logical_id]

    def _logical_of_arn(self, value: Any) -> str | None:
        arn = self.resolve(value)
        return next((name for name, known in self.arns.items() if known == arn), None)

    def sqs_consumers(self) -> list[QueueConsumer]:
        """The SQS event source mappings: which function consumes which queue, in batches of?"""
        consumers = []
        for logical_id, spec in self.functions.items():
            for event in spec.events.values():
                if event.get("Type") != "SQS":
                    continue
                properties = event["Properties"]
                queue = self._logical_of_arn(properties["Queue"])
                if queue is None:
                    raise ValueError(f"{logical_id}: SQS event of a queue not in the template")
                consumers.append(
                    QueueConsumer(
                        queue=queue,
                        function=logical_id,
                        batch_size=int(properties.get("BatchSize", 10)),
                        report_failures="ReportBatchItemFailures"
                        in properties.get("FunctionResponseTypes", []),
                    )
                )
        return consumers

    def async_config(self, logical_id: str) -> AsyncConfig:
        """How Lambda retries a failed asynchronous invocation (EventInvokeConfig, defaults)."""
        properties = self.template["Resources"][logical_id]["Properties"]
        config = properties.get("EventInvokeConfig") or {}
        on_failure = (config.get("DestinationConfig") or {}).get("OnFailure") or {}
        destination = None
        if on_failure.get("Type") == "SQS" and "Destination" in on_failure:
            destination = self._logical_of_arn(on_failure["Destination"])
        return AsyncConfig(
            max_retries=int(config.get("MaximumRetryAttempts", 2)),
            max_age_seconds=int(config.get("MaximumEventAgeInSeconds", 21_600)),
            on_failure=destination,
        )

    def stream_mapping(self, logical_id: str) -> StreamMapping:
        """The DynamoDB stream event source mapping of ``logical_id`` (retries, bisection)."""
        spec = self.functions[logical_id]
        for event in spec.events.values():
            if event.get("Type") == "DynamoDB":
                properties = event["Properties"]
                on_failure = (properties.get("DestinationConfig") or {}).get("OnFailure") or {}
                return StreamMapping(
                    max_retries=int(properties.get("MaximumRetryAttempts", -1)),
                    bisect=bool(properties.get("BisectBatchOnFunctionError", False)),
                    report_failures="ReportBatchItemFailures"
                    in properties.get("FunctionResponseTypes", []),
                    on_failure=self._logical_of_arn(on_failure["Destination"])
                    if on_failure.get("Destination")
                    else None,
                )
        raise KeyError(f"{logical_id} has no DynamoDB event source")

    def polled_queues(self, logical_id: str) -> list[str]:
        """Queues named in the function's own environment (not Globals): the ones it polls."""
        own = self.template["Resources"][logical_id]["Properties"]
        variables = own.get("Environment", {}).get("Variables", {})
        queues = []
        for value in variables.values():
            if isinstance(value, dict) and set(value) == {"Ref"}:
                target = self.template["Resources"].get(value["Ref"], {})
                if target.get("Type") == "AWS::SQS::Queue":
                    queues.append(str(value["Ref"]))
        return queues

    def table_stream_arn(self, logical_id: str) -> str:
        return self._stream_arns[logical_id]
