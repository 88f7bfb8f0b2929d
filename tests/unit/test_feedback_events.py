"""SES events as FeedbackFunction receives them (events/feedback/): parsed, or refused.

Also the template wiring they depend on: the configuration set every message uses, its event
destination, the rule and the queue in front of the function.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.template import load_template
from lifecycle.features.feedback import FeedbackEventError, delivery_of, parse_event
from tests.events import EVENTS, load_event

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted(p.stem for p in (EVENTS / "feedback").glob("*.json") if p.stem != "sqs_batch")
EXPECTED = {
    "send": "Send",
    "delivery": "Delivery",
    "bounce_permanent": "Bounce",
    "bounce_transient": "Bounce",
    "bounce_suppression_list": "Bounce",
    "complaint": "Complaint",
    "reject": "Reject",
    "delivery_delay": "DeliveryDelay",
}
DETAIL_TYPES = {
    "Send": "Email Sent",
    "Delivery": "Email Delivered",
    "Bounce": "Email Bounced",
    "Complaint": "Email Complaint Received",
    "Reject": "Email Rejected",
    "DeliveryDelay": "Email Delivery Delayed",
}


def test_given_fixture_folder_when_listed_then_every_subscribed_event_type_has_one():
    assert set(FIXTURES) == set(EXPECTED)


@pytest.mark.parametrize("name", FIXTURES)
def test_given_fixture_when_parsed_then_type_message_and_delivery_id_read(name):
    envelope = load_event(f"feedback/{name}.json")
    event = parse_event(envelope)
    assert event.event_type == EXPECTED[name]
    assert envelope["detail-type"] == DETAIL_TYPES[event.event_type]
    assert event.mail.message_id.endswith("-000000")
    ref = delivery_of(event)
    assert ref is not None
    assert (ref.delivery_id, ref.campaign_id, ref.customer_id) == (
        "bday-2027#c-001#2027#email",
        "bday-2027",
        "c-001",
    )


def test_given_bounce_fixtures_when_parsed_then_type_recipients_and_feedback_id():
    permanent = parse_event(load_event("feedback/bounce_permanent.json")).bounce
    transient = parse_event(load_event("feedback/bounce_transient.json")).bounce
    assert permanent is not None and transient is not None
    assert (permanent.bounce_type, transient.bounce_type) == ("Permanent", "Transient")
    assert [r.email_address for r in permanent.recipients] == ["ana@example.com"]
    assert permanent.feedback_id != transient.feedback_id


def test_given_sqs_batch_fixture_when_bodies_parsed_then_eventbridge_events_from_ses():
    batch = load_event("feedback/sqs_batch.json")
    types = [parse_event(record["body"]).event_type for record in batch["Records"]]
    assert types == ["Delivery", "Bounce", "Complaint"]
    assert all(r["eventSourceARN"].endswith(":lcm-FeedbackQueue") for r in batch["Records"])


def test_given_event_without_delivery_tag_when_read_then_foreign():
    envelope = load_event("feedback/delivery.json")
    del envelope["detail"]["mail"]["tags"]["delivery"]
    assert delivery_of(parse_event(envelope)) is None


def _without(envelope: dict[str, Any], *path: str) -> dict[str, Any]:
    node = envelope
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return envelope


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{", "body is not JSON"),
        ("[" * 100, "nested deeper"),
        ('{"source": "aws.ses", "detail": NaN}', "body is not JSON"),
        ("[]", "must be a JSON object"),
        (json.dumps({"source": "aws.sns"}), "source must be aws.ses"),
        (json.dumps({"source": "aws.ses"}), "detail"),
    ],
)
def test_given_malformed_body_when_parsed_then_feedback_event_error(body, message):
    with pytest.raises(FeedbackEventError, match=message):
        parse_event(body)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("bounce_permanent", ("detail", "bounce")),
        ("complaint", ("detail", "complaint")),
        ("delivery", ("detail", "mail", "messageId")),
        ("delivery", ("detail", "mail", "timestamp")),
        ("bounce_permanent", ("detail", "bounce", "feedbackId")),
        ("bounce_permanent", ("detail", "bounce", "bouncedRecipients")),
    ],
)
def test_given_event_missing_a_required_part_when_parsed_then_feedback_event_error(name, path):
    with pytest.raises(FeedbackEventError):
        parse_event(_without(load_event(f"feedback/{name}.json"), *path))


def test_given_event_type_not_subscribed_when_parsed_then_feedback_event_error():
    envelope = load_event("feedback/delivery.json")
    envelope["detail"]["eventType"] = "Click"
    with pytest.raises(FeedbackEventError, match="eventType"):
        parse_event(envelope)


def test_given_forged_tag_when_read_then_feedback_event_error():
    envelope = load_event("feedback/delivery.json")
    envelope["detail"]["mail"]["tags"]["delivery"] = ["bm90IG91cnM"]  # "not ours"
    with pytest.raises(FeedbackEventError, match=r"mail\.tags"):
        delivery_of(parse_event(envelope))


# ---------------------------------------------------------------- template wiring

TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def test_given_template_when_read_then_every_message_uses_the_configuration_set():
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["SES_CONFIGURATION_SET"] == {"Ref": "SendConfigurationSet"}
    assert RESOURCES["SendConfigurationSet"]["Type"] == "AWS::SES::ConfigurationSet"


def test_given_event_destination_when_read_then_feedback_events_go_to_the_default_bus():
    destination = RESOURCES["SendEventsToEventBridge"]["Properties"]
    assert destination["ConfigurationSetName"] == {"Ref": "SendConfigurationSet"}
    event_destination = destination["EventDestination"]
    assert event_destination["Enabled"] is True
    assert set(event_destination["MatchingEventTypes"]) == {
        "send",
        "reject",
        "bounce",
        "complaint",
        "delivery",
        "deliveryDelay",
    }
    bus = event_destination["EventBridgeDestination"]["EventBusArn"]["Fn::Sub"]
    assert bus.endswith(":event-bus/default")


def test_given_rule_when_read_then_this_configuration_sets_events_reach_the_queue():
    rule = RESOURCES["FeedbackRule"]["Properties"]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.ses"]
    assert set(pattern["detail-type"]) == set(DETAIL_TYPES.values())
    assert pattern["detail"]["mail"]["tags"]["ses:configuration-set"] == [
        {"Ref": "SendConfigurationSet"}
    ]
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["FeedbackQueue", "Arn"]}
    policy = RESOURCES["FeedbackQueuePolicy"]["Properties"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == {
        "Fn::GetAtt": ["FeedbackRule", "Arn"]
    }


def test_given_feedback_function_when_read_then_partial_batches_and_a_safe_queue():
    function = RESOURCES["FeedbackFunction"]["Properties"]
    queue = RESOURCES["FeedbackQueue"]["Properties"]
    event = function["Events"]["FeedbackQueue"]["Properties"]
    assert event["Queue"] == {"Fn::GetAtt": ["FeedbackQueue", "Arn"]}
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    timeout = function.get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"])
    assert queue["VisibilityTimeout"] >= 6 * timeout
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["FeedbackDLQ", "Arn"]}


@pytest.mark.parametrize(
    ("alarm", "metric", "threshold"),
    [
        ("SesBounceRateAlarm", "Reputation.BounceRate", 0.02),
        ("SesComplaintRateAlarm", "Reputation.ComplaintRate", 0.0008),
    ],
)
def test_given_reputation_alarms_when_read_then_account_metrics_under_ses_review_levels(
    alarm, metric, threshold
):
    properties = RESOURCES[alarm]["Properties"]
    assert (properties["Namespace"], properties["MetricName"]) == ("AWS/SES", metric)
    assert "Dimensions" not in properties  # the account, not one configuration set
    assert properties["Threshold"] == threshold
    assert properties["ComparisonOperator"] == "GreaterThanThreshold"
    assert properties["AlarmActions"] == [{"Ref": "AlarmTopic"}]
