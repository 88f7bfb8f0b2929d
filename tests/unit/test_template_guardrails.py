"""template.yaml guardrails: every failure path ends in a queue with an alarm, least privilege.

* every dead-letter queue (name ends with DLQ) and every function's Errors metric has an alarm
  on the one AlarmTopic; every queue something dead-letters into is named ...DLQ;
* every asynchronously invoked function (S3, schedules, EventBridge rules) has an on-failure
  destination, and every EventBridge rule (SAM events and AWS::Events::Rule targets) a
  dead-letter queue its queue policy lets it use;
* ``sns:Publish`` only to phone numbers, only where SMS is sent; no ``DynamoDBCrudPolicy``
  unless the function needs Scan, DeleteItem, PutItem and UpdateItem on that table;
* the template check includes cfn-lint's informational rules and fails on them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.template import load_template
from tests.template_validator import load_validator

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def _of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


FUNCTIONS = _of_type("AWS::Serverless::Function")
QUEUES = _of_type("AWS::SQS::Queue")
ALARMS = _of_type("AWS::CloudWatch::Alarm")
DLQS = sorted(name for name in QUEUES if name.endswith("DLQ"))

# Lambda invokes these event sources asynchronously (retries, then on-failure destination).
ASYNC_EVENTS = frozenset(
    {"S3", "SNS", "Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent"}
)
# These create an EventBridge rule or schedule, which can fail to invoke the function at all.
EVENTBRIDGE_EVENTS = frozenset({"Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent"})


def _events(function: str) -> dict[str, dict[str, Any]]:
    events: dict[str, dict[str, Any]] = FUNCTIONS[function]["Properties"].get("Events", {})
    return events


ASYNC_FUNCTIONS = sorted(
    name for name in FUNCTIONS if any(e["Type"] in ASYNC_EVENTS for e in _events(name).values())
)
RULE_EVENTS = sorted(
    (name, event)
    for name in FUNCTIONS
    for event, spec in _events(name).items()
    if spec["Type"] in EVENTBRIDGE_EVENTS
)
# Rules written as AWS::Events::Rule (e.g. SES events to a queue): (rule, target Id).
RULES = _of_type("AWS::Events::Rule")
RULE_TARGETS = sorted(
    (name, str(target["Id"]))
    for name, rule in RULES.items()
    for target in rule["Properties"].get("Targets", [])
)


def _rule_target(rule: str, target_id: str) -> dict[str, Any]:
    targets = RULES[rule]["Properties"]["Targets"]
    return next(t for t in targets if str(t["Id"]) == target_id)


def _queue_of(arn: Any) -> str | None:
    """The queue logical id of ``!GetAtt Queue.Arn`` (None for anything else)."""
    if isinstance(arn, dict) and list(arn) == ["Fn::GetAtt"] and arn["Fn::GetAtt"][1] == "Arn":
        name = str(arn["Fn::GetAtt"][0])
        return name if name in QUEUES else None
    return None


def _sqs_alarms(queue: str) -> list[dict[str, Any]]:
    return [
        a["Properties"]
        for a in ALARMS.values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
        and a["Properties"].get("Dimensions")
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    ]


def _errors_alarms(function: str) -> list[dict[str, Any]]:
    return [
        a["Properties"]
        for a in ALARMS.values()
        if a["Properties"].get("Namespace") == "AWS/Lambda"
        and a["Properties"].get("MetricName") == "Errors"
        and a["Properties"].get("Dimensions")
        == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    ]


def _assert_fires_on_first_occurrence(alarm: dict[str, Any]) -> None:
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == 1
    assert alarm.get("DatapointsToAlarm", 1) == 1
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    assert len(alarm["AlarmDescription"]) > 80, "say what to do, not only what happened"


# ---------------------------------------------------------------- alarms


def test_given_template_when_read_then_one_alarm_topic_with_optional_email_subscription():
    assert RESOURCES["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    assert TEMPLATE["Parameters"]["AlarmEmail"]["Default"] == ""
    assert TEMPLATE["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    subscriptions = _of_type("AWS::SNS::Subscription")
    assert [s.get("Condition") for s in subscriptions.values()] == ["HasAlarmEmail"]
    (subscription,) = subscriptions.values()
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def test_given_template_when_read_then_every_alarm_notifies_the_alarm_topic():
    assert ALARMS
    for name, alarm in ALARMS.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name


def test_given_template_when_read_then_dlqs_include_the_known_failure_queues():
    expected = {"PlanDLQ", "SendDLQ", "OrdersStreamDLQ", "ImportDLQ", "EventsDLQ"}
    assert expected <= set(DLQS)


@pytest.mark.parametrize("queue", DLQS)
def test_given_dlq_when_template_read_then_one_alarm_on_visible_messages(queue):
    alarms = _sqs_alarms(queue)
    assert len(alarms) == 1, f"{queue}: {len(alarms)} alarms"
    (alarm,) = alarms
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Statistic"] == "Maximum"
    _assert_fires_on_first_occurrence(alarm)
    assert queue in alarm["AlarmDescription"]


def _dead_letter_targets() -> Iterator[tuple[str, Any]]:
    """Every ARN something dead-letters into: redrive, destinations, rule DLQs."""
    for name, queue in QUEUES.items():
        redrive = queue.get("Properties", {}).get("RedrivePolicy")
        if redrive:
            yield f"{name} redrive", redrive["deadLetterTargetArn"]
    for name, function in FUNCTIONS.items():
        config = function["Properties"].get("EventInvokeConfig", {})
        on_failure = config.get("DestinationConfig", {}).get("OnFailure")
        if on_failure:
            yield f"{name} EventInvokeConfig", on_failure["Destination"]
        for event, spec in _events(name).items():
            properties = spec.get("Properties", {})
            on_failure = properties.get("DestinationConfig", {}).get("OnFailure")
            if on_failure:
                yield f"{name}.{event} DestinationConfig", on_failure["Destination"]
            if "DeadLetterConfig" in properties:
                yield f"{name}.{event} DeadLetterConfig", properties["DeadLetterConfig"]["Arn"]
    for rule, target_id in RULE_TARGETS:
        target = _rule_target(rule, target_id)
        if "DeadLetterConfig" in target:
            yield f"{rule}.{target_id} DeadLetterConfig", target["DeadLetterConfig"]["Arn"]


def test_given_failure_paths_when_listed_then_each_ends_in_a_queue_named_dlq():
    targets = list(_dead_letter_targets())
    assert len(targets) >= 10
    for where, arn in targets:
        queue = _queue_of(arn)
        assert queue is not None, f"{where}: {arn} is not a queue of this template"
        assert queue in DLQS, f"{where}: {queue} is not named ...DLQ, so it has no alarm test"


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_given_function_when_template_read_then_one_errors_alarm(function):
    alarms = _errors_alarms(function)
    assert len(alarms) == 1, f"{function}: {len(alarms)} Errors alarms"
    (alarm,) = alarms
    assert alarm["Statistic"] == "Sum"
    _assert_fires_on_first_occurrence(alarm)
    assert function in alarm["AlarmDescription"]


# ---------------------------------------------------------------- asynchronous invocations


def test_given_async_functions_when_listed_then_the_known_ones_are_found():
    known = {"ImporterFunction", "PlannerFunction", "RfmFunction", "DispatcherFunction"}
    assert known | {"UsageFunction"} <= set(ASYNC_FUNCTIONS)


@pytest.mark.parametrize("function", ASYNC_FUNCTIONS)
def test_given_async_function_when_it_fails_then_lambda_sends_the_event_to_a_dlq(function):
    config = FUNCTIONS[function]["Properties"].get("EventInvokeConfig")
    assert config, f"{function} is invoked asynchronously but has no EventInvokeConfig"
    assert "MaximumRetryAttempts" in config, "choose the retries, do not inherit them"
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure["Type"] == "SQS"
    assert _queue_of(on_failure["Destination"]) in DLQS


def test_given_importer_when_template_read_then_two_retries_then_import_dlq():
    config = FUNCTIONS["ImporterFunction"]["Properties"]["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    destination = config["DestinationConfig"]["OnFailure"]["Destination"]
    assert _queue_of(destination) == "ImportDLQ"


@pytest.mark.parametrize(("function", "event"), RULE_EVENTS)
def test_given_eventbridge_event_when_template_read_then_retry_policy_and_dlq(function, event):
    properties = _events(function)[event]["Properties"]
    assert set(properties["RetryPolicy"]) == {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"}
    config = properties["DeadLetterConfig"]
    assert set(config) == {"Arn"}, "Type: SQS would make SAM create one unalarmed queue per rule"
    assert _queue_of(config["Arn"]) in DLQS


@pytest.mark.parametrize(("rule", "target_id"), RULE_TARGETS)
def test_given_rule_resource_target_when_template_read_then_retry_policy_and_dlq(rule, target_id):
    target = _rule_target(rule, target_id)
    assert set(target["RetryPolicy"]) == {"MaximumRetryAttempts", "MaximumEventAgeInSeconds"}
    assert set(target["DeadLetterConfig"]) == {"Arn"}
    assert _queue_of(target["DeadLetterConfig"]["Arn"]) in DLQS


def test_given_rule_dlqs_when_template_read_then_queue_policy_lets_exactly_those_rules_send():
    users: dict[str, set[str]] = {}
    for function, event in RULE_EVENTS:
        queue = _queue_of(_events(function)[event]["Properties"]["DeadLetterConfig"]["Arn"])
        assert queue is not None
        users.setdefault(queue, set()).add(f"{function}{event}")  # SAM's rule logical id
    for rule, target_id in RULE_TARGETS:
        queue = _queue_of(_rule_target(rule, target_id)["DeadLetterConfig"]["Arn"])
        assert queue is not None
        users.setdefault(queue, set()).add(rule)
    policies = _of_type("AWS::SQS::QueuePolicy")
    for queue, rules in users.items():
        statements = [
            statement
            for policy in policies.values()
            if policy["Properties"]["Queues"] == [{"Ref": queue}]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        ]
        assert len(statements) == 1, f"{queue}: one statement for EventBridge expected"
        (statement,) = statements
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Action"] == "sqs:SendMessage"
        assert statement["Resource"] == {"Fn::GetAtt": [queue, "Arn"]}
        sources = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
        assert {s["Fn::GetAtt"][0] for s in sources} == rules


# ---------------------------------------------------------------- least privilege


def _statements(function: str) -> Iterator[dict[str, Any]]:
    for policy in FUNCTIONS[function]["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            yield from policy["Statement"]


def _listed(statement: dict[str, Any], key: str) -> list[Any]:
    value = statement.get(key, [])
    return list(value) if isinstance(value, list) else [value]


def _grants(statement: dict[str, Any], action: str) -> bool:
    return statement.get("Effect") == "Allow" and any(
        fnmatch.fnmatchcase(action.lower(), str(pattern).lower())
        for pattern in _listed(statement, "Action")
    )


SMS_SENDERS = {"SenderFunction", "CampaignApiFunction"}  # sends, test sends
PHONE_NUMBERS_ONLY = "arn:*:sns:*:*:*"


def test_given_policies_when_read_then_sns_publish_only_to_phone_numbers_and_only_by_sms_senders():
    publishers = set()
    for function in FUNCTIONS:
        for statement in _statements(function):
            if not _grants(statement, "sns:Publish"):
                continue
            publishers.add(function)
            assert "*" not in _listed(statement, "Resource"), f"{function}: Publish on *"
            if "NotResource" in statement:
                assert "Resource" not in statement
                assert _listed(statement, "NotResource") == [PHONE_NUMBERS_ONLY], function
                assert _listed(statement, "Action") == ["sns:Publish"], function
    assert publishers == SMS_SENDERS


def test_given_policies_when_read_then_no_statement_allows_everything_of_a_service():
    for function in FUNCTIONS:
        for statement in _statements(function):
            for action in _listed(statement, "Action"):
                assert "*" not in str(action), f"{function}: {action}"


# A function may get DynamoDBCrudPolicy on a table only when it calls Scan, DeleteItem, PutItem
# and UpdateItem on that table; no function does (the API has no UpdateItem on campaigns).
CRUD_ALLOWED: set[tuple[str, str]] = set()
STORE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:BatchGetItem",
}


def test_given_policies_when_read_then_crud_policy_only_where_every_crud_action_is_needed():
    crud = {
        (function, str(policy["DynamoDBCrudPolicy"]["TableName"]["Ref"]))
        for function in FUNCTIONS
        for policy in FUNCTIONS[function]["Properties"].get("Policies", [])
        if isinstance(policy, dict) and "DynamoDBCrudPolicy" in policy
    }
    assert crud == CRUD_ALLOWED


def _table_of(resource: Any) -> str | None:
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return str(resource["Fn::GetAtt"][0])
    if isinstance(resource, dict) and isinstance(resource.get("Fn::Sub"), str):
        text = resource["Fn::Sub"]
        if text.startswith("${") and ".Arn}/index/" in text:
            return text[2 : text.index(".Arn}")]
    return None


def test_given_dynamodb_statements_when_read_then_store_actions_on_template_tables_only():
    tables = set(_of_type("AWS::DynamoDB::Table"))
    for function in FUNCTIONS:
        for statement in _statements(function):
            actions = {
                str(a) for a in _listed(statement, "Action") if str(a).startswith("dynamodb:")
            }
            if not actions:
                continue
            assert actions <= STORE_ACTIONS, f"{function}: {actions - STORE_ACTIONS}"
            for resource in _listed(statement, "Resource"):
                assert _table_of(resource) in tables, f"{function}: {resource}"


def test_given_sender_when_template_read_then_opt_out_check_is_its_only_star_grant():
    star = [
        _listed(statement, "Action")
        for statement in _statements("SenderFunction")
        if "*" in _listed(statement, "Resource")
    ]
    assert star == [["sns:CheckIfPhoneNumberIsOptedOut"]]  # no resource-level permission


# ---------------------------------------------------------------- cfn-lint, informational


def test_given_template_check_when_cfn_lint_runs_then_informational_rules_are_included():
    arguments = list(load_validator().CFN_LINT_ARGS)
    assert arguments[arguments.index("--include-checks") + 1] == "I"


def test_given_stateful_resource_without_deletion_policy_when_validated_then_i3011_fails(tmp_path):
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    original = "  ImportDLQ:\n    Type: AWS::SQS::Queue\n    DeletionPolicy: Delete\n"
    assert original in text
    broken = tmp_path / "template.yaml"
    broken.write_text(
        text.replace(original, "  ImportDLQ:\n    Type: AWS::SQS::Queue\n", 1), encoding="utf-8"
    )
    problems = load_validator().validate(broken, base=ROOT)
    assert any("I3011" in problem for problem in problems), problems
