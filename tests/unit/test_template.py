"""template.yaml: valid for cfn-lint and the SAM transform, and consistent with the code."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pynamodb.models import Model

from emulator.template import Schedule, load_template
from lifecycle.store import models
from tests.template_validator import load_validator

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]


def test_given_repository_template_when_validated_then_no_problem():
    assert load_validator().validate(ROOT / "template.yaml") == []


@pytest.mark.parametrize(
    ("original", "typo", "expected"),
    [
        ("            BatchSize: 10", "            BatchSizee: 10", "BatchSizee"),
        (
            "            FunctionResponseTypes:",
            "            FunctionResponseType:",
            "FunctionResponseType",
        ),
        (
            "            Schedule: !Ref DispatcherSchedule",
            "            Schedulee: !Ref DispatcherSchedule",
            "Schedulee",
        ),
        ("      CodeUri: functions/sender/", "      CodeUri: functions/sendr/", "sendr"),
    ],
)
def test_given_typo_in_sam_property_when_validated_then_fails_naming_it(
    tmp_path, original, typo, expected
):
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert original in text
    broken = tmp_path / "template.yaml"
    broken.write_text(text.replace(original, typo, 1), encoding="utf-8")
    problems = load_validator().validate(broken, base=ROOT)
    assert problems
    assert any(expected in problem for problem in problems)


TABLES = {name for name, r in RESOURCES.items() if r["Type"] == "AWS::DynamoDB::Table"}
MODELS: set[type[Model]] = {
    value
    for value in vars(models).values()
    if isinstance(value, type) and issubclass(value, Model) and value.__module__ == models.__name__
}

MODEL_LIST = sorted(MODELS, key=lambda model: model.__name__)


def _table_of(model: type[Model]) -> str | None:
    """The template table a model is bound to: its table variable in the functions' globals."""
    env_name = models._TABLE_ENV.get(model)
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    ref = variables.get(env_name) if env_name else None
    return ref.get("Ref") if isinstance(ref, dict) else None


def _keys(key_schema: list[Any]) -> dict[str, str]:
    return {k["KeyType"]: k["AttributeName"] for k in key_schema}


def _projection(projection: dict[str, Any]) -> tuple[str, list[str]]:
    return projection["ProjectionType"], sorted(projection.get("NonKeyAttributes", []))


def _template_shape(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "keys": _keys(properties["KeySchema"]),
        "attributes": {
            a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]
        },
        **{
            kind: {
                index["IndexName"]: (_keys(index["KeySchema"]), _projection(index["Projection"]))
                for index in properties.get(kind, [])
            }
            for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
        },
    }


def _model_shape(model: type[Model]) -> dict[str, Any]:
    schema: dict[str, Any] = dict(model._get_schema())
    return {
        "keys": _keys(schema["key_schema"]),
        "attributes": {
            a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]
        },
        **{
            kind: {
                index["index_name"]: (_keys(index["key_schema"]), _projection(index["projection"]))
                for index in schema[key]
            }
            for kind, key in (
                ("GlobalSecondaryIndexes", "global_secondary_indexes"),
                ("LocalSecondaryIndexes", "local_secondary_indexes"),
            )
        },
    }


def test_given_template_tables_and_models_when_paired_then_each_has_exactly_one_counterpart():
    assert set(models.ALL_MODELS) == MODELS, "every model must be in ALL_MODELS"
    pairs = {model.__name__: _table_of(model) for model in MODELS - set(models.SHARED_TABLE_MODELS)}
    unbound = sorted(name for name, table in pairs.items() if table is None)
    assert not unbound, f"models without a template table: {unbound}"
    tables = sorted(table for table in pairs.values() if table is not None)
    assert tables == sorted(TABLES), f"tables and models differ: {pairs}"


@pytest.mark.parametrize("model", MODEL_LIST, ids=[m.__name__ for m in MODEL_LIST])
def test_given_model_when_compared_with_its_table_then_keys_indexes_and_projections_match(model):
    table = _table_of(model)
    assert table in TABLES, f"{model.__name__} has no table in template.yaml"
    properties = RESOURCES[table]["Properties"]
    owner = models.SHARED_TABLE_MODELS.get(model)
    if owner is not None:  # another item type in the owner's table: the same keys
        assert _table_of(owner) == table
        assert _keys(properties["KeySchema"]) == _model_shape(model)["keys"]
        assert not set(_model_shape(model)["attributes"]) - set(_model_shape(owner)["attributes"])
        return
    assert _template_shape(properties) == _model_shape(model)
    ttl = properties.get("TimeToLiveSpecification")
    if ttl:
        attribute = model.get_attributes().get(ttl["AttributeName"])
        assert attribute is not None and attribute.attr_type == "N", ttl


def test_given_sender_when_template_read_then_queue_settings_are_safe():
    sender = RESOURCES["SenderFunction"]["Properties"]
    queue = RESOURCES["SendQueue"]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * sender["Timeout"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["SendDLQ", "Arn"]}
    event = sender["Events"]["SendQueue"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    globals_ = TEMPLATE["Globals"]["Function"]
    assert (globals_["Runtime"], globals_["Architectures"]) == ("python3.12", ["arm64"])


def test_given_every_function_when_template_read_then_handler_file_exists():
    for name, resource in RESOURCES.items():
        if resource["Type"] == "AWS::Serverless::Function":
            assert (ROOT / resource["Properties"]["CodeUri"] / "handler.py").is_file(), name


def test_given_orders_table_when_template_read_then_stream_has_both_images():
    spec = RESOURCES["OrdersTable"]["Properties"]["StreamSpecification"]
    assert spec == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


START = datetime(2027, 3, 13, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "days", "count", "first"),
    [
        ("rate(5 minutes)", 1, 288, START),
        ("rate(1 hour)", 2, 48, START),
        ("rate(1 day)", 3, 3, START),
        ("cron(0 0 * * ? *)", 3, 3, START),
        ("cron(30 9 * * ? *)", 2, 2, START.replace(hour=9, minute=30)),
        ("cron(*/15 1-2 * * ? *)", 1, 8, START.replace(hour=1)),
        ("cron(0 6,18 * * ? *)", 1, 2, START.replace(hour=6)),
    ],
)
def test_given_schedule_when_fire_times_listed_then_counts_match(expression, days, count, first):
    times = list(Schedule("F", expression).fire_times(START, START + timedelta(days=days)))
    assert len(times) == count
    assert times[0] == first


@pytest.mark.parametrize(
    "expression",
    [
        "rate(0 minutes)",
        "every 5 minutes",
        "cron(0 0 * * MON *)",
        "cron(0 25 * * ? *)",
        "cron(0 0 * *)",
        "cron(L 0 * * ? *)",
    ],
)
def test_given_unsupported_schedule_when_listed_then_value_error(expression):
    with pytest.raises(ValueError):
        list(Schedule("F", expression).fire_times(START, START + timedelta(days=1)))


def test_given_copy_without_functions_folder_when_validated_then_artifacts_reported(tmp_path):
    shutil.copy(ROOT / "template.yaml", tmp_path / "template.yaml")
    problems = load_validator().validate(tmp_path / "template.yaml")
    assert any("functions/planner/ is not a folder" in p for p in problems)
