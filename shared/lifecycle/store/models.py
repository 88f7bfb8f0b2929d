"""PynamoDB models. Key schemas here must match ``template.yaml`` (tests check both).

Table names come from the environment (``CUSTOMERS_TABLE`` ...), read when the module is
imported: the Lambda environment and the local runner set them before that.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
)
from pynamodb.models import Model


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _table(env_name: str, default: str) -> str:
    return os.environ.get(env_name, default)


class ConsentAttribute(MapAttribute[str, Any]):
    email = BooleanAttribute(default=False)
    sms = BooleanAttribute(default=False)


# The customer indexes project keys only: a planner reads the ids under one key and fetches
# the customers behind them (BatchGetItem, lifecycle.store.customers), so a customer write
# that moves no index key (scores, consent, names, an import of the same birthday/country)
# writes no index at all, and one that moves a key writes a few bytes there, never the item.
class BirthdayIndex(GlobalSecondaryIndex["CustomerModel"]):
    """Sparse index: only customers with a birthday carry ``birthday_md`` ("MM-DD")."""

    class Meta:
        index_name = "by-birthday"
        projection = KeysOnlyProjection()

    birthday_md = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute(range_key=True)


class CountryIndex(GlobalSecondaryIndex["CustomerModel"]):
    """Customers by ``country_shard`` ("DE#7"): holiday planning fans out one task per shard."""

    class Meta:
        index_name = "by-country"
        projection = KeysOnlyProjection()

    country_shard = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute(range_key=True)


class EmailIndex(GlobalSecondaryIndex["CustomerModel"]):
    """Customers by lower-cased e-mail address (the console's lookup)."""

    class Meta:
        index_name = "by-email"
        projection = KeysOnlyProjection()

    email_key = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute(range_key=True)


class LastActiveIndex(GlobalSecondaryIndex["CustomerModel"]):
    """Customers by the local day of their last activity (inactivity reminders)."""

    class Meta:
        index_name = "by-last-active"
        projection = KeysOnlyProjection()

    last_active_day = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute(range_key=True)


class CustomerModel(Model):
    class Meta:
        table_name = _table("CUSTOMERS_TABLE", "Customers")
        region = _region()

    customer_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)
    birthday = UnicodeAttribute(null=True)
    birthday_md = UnicodeAttribute(null=True)
    consent = ConsentAttribute(default=dict)
    unsubscribed = MapAttribute[str, Any](null=True)  # channel -> ISO instant
    # channel -> {address: SHA-256 of the normalized address, reason: bounce|complaint, at}
    suppressed = MapAttribute[str, Any](null=True)
    # channel -> [topic, ...] switched off in the preference centre (lifecycle.rules.consent)
    topics_off = MapAttribute[str, Any](null=True)
    created_at = UnicodeAttribute(null=True)
    last_active_at = UnicodeAttribute(null=True)
    last_active_day = UnicodeAttribute(null=True)
    email_key = UnicodeAttribute(null=True)  # lower-cased email (by-email)
    country_shard = UnicodeAttribute(null=True)
    last_survey_at = UnicodeAttribute(null=True)
    last_survey_id = UnicodeAttribute(null=True)
    dates = MapAttribute[str, Any](null=True)  # name -> YYYY-MM-DD
    rfm = JSONAttribute(null=True)  # written by the RFM job (lifecycle.rules.segments)
    nps_group = UnicodeAttribute(null=True)  # from the latest NPS answer
    attributes = JSONAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)

    by_birthday = BirthdayIndex()
    by_country = CountryIndex()
    by_last_active = LastActiveIndex()
    by_email = EmailIndex()


class AnniversaryIndex(GlobalSecondaryIndex["CustomerDateModel"]):
    """Named dates by ``name#MM-DD`` and full date (the "date" occasion's candidates)."""

    class Meta:
        index_name = "by-anniversary"
        projection = KeysOnlyProjection()

    anniversary_key = UnicodeAttribute(hash_key=True)
    date = UnicodeAttribute(range_key=True)


class CustomerDateModel(Model):
    """One named date of one customer (``dates`` of the customer record)."""

    class Meta:
        table_name = _table("DATES_TABLE", "CustomerDates")
        region = _region()

    customer_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(range_key=True)
    date = UnicodeAttribute()
    anniversary_key = UnicodeAttribute()

    by_anniversary = AnniversaryIndex()


class CampaignModel(Model):
    """A campaign: indexed fields plus the validated JSON document in ``spec``."""

    class Meta:
        table_name = _table("CAMPAIGNS_TABLE", "Campaigns")
        region = _region()

    campaign_id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()
    occasion_type = UnicodeAttribute()
    spec = JSONAttribute()
    version = NumberAttribute(default=1)
    planned_through = UnicodeAttribute(null=True)  # last local date (YYYY-MM-DD) planned
    activated_at = UnicodeAttribute(null=True)  # when it last became active (UTC ISO)
    updated_at = UnicodeAttribute(null=True)


# The ledger's one index. Every write after the planner's put (the send, feedback, redaction)
# changes neither its keys nor its projected attributes, so an item costs one index write in
# its life (README "Cost per message"). A customer's deliveries need no index: the table's
# hash key is the customer.
class DeliveriesBySendTimeIndex(GlobalSecondaryIndex["DeliveryModel"]):
    """Deliveries in send order, spread over ``shards`` partitions: the dispatcher walks it
    with a cursor per partition; a campaign's statistics read it filtered by campaign."""

    class Meta:
        index_name = "by-send-time"
        projection = IncludeProjection(["campaign_id", "to_send"])

    shard = UnicodeAttribute(hash_key=True)
    slot = UnicodeAttribute(range_key=True)  # deliver_at#delivery_id: unique, in send order


class HistoryEntry(MapAttribute[str, Any]):
    at = UnicodeAttribute()
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)  # e.g. the campaign that outranked this one


class DeliveryModel(Model):
    """Delivery ledger: one item per (campaign, customer, occurrence)."""

    class Meta:
        table_name = _table("DELIVERIES_TABLE", "Deliveries")
        region = _region()

    customer_id = UnicodeAttribute(hash_key=True)
    delivery_id = UnicodeAttribute(range_key=True)
    campaign_id = UnicodeAttribute()
    occurrence = UnicodeAttribute()
    occasion = UnicodeAttribute()
    channel = UnicodeAttribute()
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    deliver_at = UnicodeAttribute()
    local_send_time = UnicodeAttribute()
    timezone = UnicodeAttribute()
    # Written once by the planner, never changed (they key the by-send-time index):
    shard = UnicodeAttribute(null=True)
    slot = UnicodeAttribute(null=True)
    to_send = BooleanAttribute(null=True)  # planned to be sent (absent: skipped when planned)
    coupon_code = UnicodeAttribute(null=True)
    offer_valid_until = UnicodeAttribute(null=True)
    context = JSONAttribute(null=True)  # occasion facts for the template (no PII)
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    lease_until = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    sent_at = UnicodeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    test = BooleanAttribute(default=False)
    history = ListAttribute[HistoryEntry](of=HistoryEntry, default=list)
    expires_at = NumberAttribute(null=True)  # TTL (epoch seconds)

    by_send_time = DeliveriesBySendTimeIndex()


class DispatchCursorModel(Model):
    """How far the dispatcher has handed over one partition of ``by-send-time`` (in the
    ledger's table, under a customer id no customer has: ids never contain '#')."""

    class Meta:
        table_name = _table("DELIVERIES_TABLE", "Deliveries")
        region = _region()

    customer_id = UnicodeAttribute(hash_key=True)  # "#dispatch"
    delivery_id = UnicodeAttribute(range_key=True)  # the shard
    cursor = UnicodeAttribute(null=True)  # the last slot handed over
    version = NumberAttribute(default=0)  # bumped by every move (concurrent firings)

    # What this process last read or wrote, per (table, shard): only dispatchers move a
    # cursor, and only forward, so a remembered one is never ahead of the table; a firing
    # elsewhere that moved it makes the next write fail, which forgets it
    # (lifecycle.store.dispatch_cursors.cursors).
    known: ClassVar[dict[tuple[str, str], tuple[str | None, int]]] = {}


class SuppressionModel(Model):
    """One e-mail address that bounced or complained (deliverability feedback).

    Keyed by the SHA-256 of the normalized address (the table holds no address in clear):
    ``suppressed`` once a permanent bounce, a complaint or repeated transient bounces
    arrived; until then ``transient`` lists the recent transient bounces.
    """

    class Meta:
        table_name = _table("SUPPRESSIONS_TABLE", "Suppressions")
        region = _region()

    address = UnicodeAttribute(hash_key=True)
    suppressed = BooleanAttribute(default=False)
    reason = UnicodeAttribute(null=True)  # bounce | complaint
    suppressed_at = UnicodeAttribute(null=True)
    transient = JSONAttribute(null=True)  # [{"at": ISO, "feedback_id": str}], newest last
    customer_ids = UnicodeSetAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)


class CampaignFeedbackModel(Model):
    """Per campaign: deliveries SES reported delivered, bounced and complained about.

    Counted in the same transaction as the ledger change they come from, so they never
    drift from the ledger; ``baseline_*`` are the counts at the last automatic pause
    (the complaint check counts from there).
    """

    class Meta:
        table_name = _table("FEEDBACK_TABLE", "CampaignFeedback")
        region = _region()

    campaign_id = UnicodeAttribute(hash_key=True)
    delivered = NumberAttribute(default=0)
    bounced = NumberAttribute(default=0)
    complained = NumberAttribute(default=0)
    baseline_delivered = NumberAttribute(default=0)
    baseline_complained = NumberAttribute(default=0)
    auto_paused_at = UnicodeAttribute(null=True)
    auto_pause_reason = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)


class ConsentEventModel(Model):
    """One change of a customer's consent: what (``changes``), when (``at``), how (``via``:
    one_click, page, api, import, sms_stop, complaint, bounce, undo) and the consent state
    before and after it (an undo restores ``before``). Deleted when the customer is erased.
    """

    class Meta:
        table_name = _table("CONSENT_EVENTS_TABLE", "ConsentEvents")
        region = _region()

    customer_id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)  # "<at>#<sequence>": sorts by time
    at = UnicodeAttribute()
    via = UnicodeAttribute()
    changes = JSONAttribute()  # [{"channel", "action", "topic"?}]
    before = JSONAttribute(null=True)
    after = JSONAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)  # the message whose link was used
    undoes = UnicodeAttribute(null=True)  # the event_id this change undid


class MessagingPolicyModel(Model):
    """The account's messaging policy (one item, ``policy_id`` "account"), versioned."""

    class Meta:
        table_name = _table("POLICY_TABLE", "MessagingPolicy")
        region = _region()

    policy_id = UnicodeAttribute(hash_key=True)
    document = JSONAttribute()
    version = NumberAttribute()
    updated_at = UnicodeAttribute(null=True)


class SendBudgetModel(Model):
    """Per customer: marketing occurrences counted per local day (lifecycle.rules.policy)."""

    class Meta:
        table_name = _table("BUDGETS_TABLE", "SendBudgets")
        region = _region()

    customer_id = UnicodeAttribute(hash_key=True)
    counted = JSONAttribute(default=dict)  # local day (YYYY-MM-DD) -> [occurrence id, ...]
    version = NumberAttribute(default=0)
    updated_at = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)  # TTL (epoch seconds)


class OrderItem(MapAttribute[str, Any]):
    sku = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    qty = NumberAttribute(default=1)
    price = NumberAttribute(null=True)


class OrdersByCustomerIndex(GlobalSecondaryIndex["OrderModel"]):
    class Meta:
        index_name = "by-customer"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class OrderModel(Model):
    """Orders are written by the shop; this system reads them and consumes their stream."""

    class Meta:
        table_name = _table("ORDERS_TABLE", "Orders")
        region = _region()

    order_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    delivered_at = UnicodeAttribute(null=True)
    items = ListAttribute[OrderItem](of=OrderItem, default=list)
    total = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)

    by_customer = OrdersByCustomerIndex()


class ResponsesByCustomerIndex(GlobalSecondaryIndex["SurveyResponseModel"]):
    class Meta:
        index_name = "by-customer"
        projection = KeysOnlyProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    survey_id = UnicodeAttribute(range_key=True)


class ResponsesByCampaignIndex(GlobalSecondaryIndex["SurveyResponseModel"]):
    class Meta:
        index_name = "by-campaign"
        projection = AllProjection()

    campaign_id = UnicodeAttribute(hash_key=True)
    survey_id = UnicodeAttribute(range_key=True)


class SurveyResponseModel(Model):
    """One response per survey (the survey's delivery id); a resubmission overwrites it."""

    class Meta:
        table_name = _table("RESPONSES_TABLE", "SurveyResponses")
        region = _region()

    survey_id = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute()
    score = NumberAttribute()
    comment = UnicodeAttribute(null=True)
    answered_at = UnicodeAttribute()
    first_answered_at = UnicodeAttribute()
    revisions = NumberAttribute(default=1)

    by_campaign = ResponsesByCampaignIndex()
    by_customer = ResponsesByCustomerIndex()


# Item types kept in another model's table (same keys, none of its indexes' attributes).
SHARED_TABLE_MODELS: dict[type[Model], type[Model]] = {DispatchCursorModel: DeliveryModel}

ALL_MODELS: tuple[type[Model], ...] = (
    CustomerModel,
    CampaignModel,
    CustomerDateModel,
    DeliveryModel,
    DispatchCursorModel,
    OrderModel,
    SurveyResponseModel,
    SuppressionModel,
    CampaignFeedbackModel,
    ConsentEventModel,
    MessagingPolicyModel,
    SendBudgetModel,
)
_TABLE_ENV = {
    CustomerModel: "CUSTOMERS_TABLE",
    CampaignModel: "CAMPAIGNS_TABLE",
    CustomerDateModel: "DATES_TABLE",
    DeliveryModel: "DELIVERIES_TABLE",
    DispatchCursorModel: "DELIVERIES_TABLE",
    OrderModel: "ORDERS_TABLE",
    SurveyResponseModel: "RESPONSES_TABLE",
    SuppressionModel: "SUPPRESSIONS_TABLE",
    CampaignFeedbackModel: "FEEDBACK_TABLE",
    MessagingPolicyModel: "POLICY_TABLE",
    SendBudgetModel: "BUDGETS_TABLE",
    ConsentEventModel: "CONSENT_EVENTS_TABLE",
}


def connection_of(model: type[Model]) -> Connection:
    """The model's own botocore connection, for a ``TransactWrite`` that starts from it: one
    client per process (dropped with the tables by :func:`configure_tables`) instead of a new
    client, and a new read of botocore's data files, per transaction."""
    return model._get_connection().connection


def configure_tables() -> None:
    """Re-read table names and region from the environment and drop cached connections.

    Lambda never needs this (the environment is fixed before import); the local runner and
    tests call it after they create tables.
    """
    for model, env_name in _TABLE_ENV.items():
        model.Meta.table_name = os.environ.get(env_name, model.Meta.table_name)
        model.Meta.region = _region()
        model._connection = None
    DispatchCursorModel.known.clear()  # the tables may be new
