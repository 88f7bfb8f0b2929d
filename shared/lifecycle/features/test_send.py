"""Test sends: one rendered message to a test address, really sent, marked ``test``.

The ledger item is marked ``test`` and left out of statistics.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from lifecycle.campaigns.model import Campaign
from lifecycle.messages.channels import channel_for
from lifecycle.messages.channels.base import Message
from lifecycle.pipeline.compose import render_sample
from lifecycle.pipeline.sender import SendDependencies
from lifecycle.store import ledger
from lifecycle.store.customers import get_customer

TEST_CUSTOMER: dict[str, Any] = {"customer_id": "test", "first_name": "Test", "locale": None}


def test_send(
    campaign: Campaign,
    channel: str,
    to: str,
    customer_id: str | None,
    deps: SendDependencies,
    now: datetime,
) -> dict[str, Any]:
    """Send one rendered message to a test address and record it as a test delivery."""
    customer = (get_customer(customer_id) if customer_id else None) or TEST_CUSTOMER
    rendered = render_sample(campaign, customer, channel, deps.key, deps.settings, now)
    labelled = (
        rendered
        if rendered.subject is None
        else replace(rendered, subject=f"[TEST] {rendered.subject}")
    )
    delivery = ledger.test_send_id(campaign.campaign_id, now, channel)
    message_id = channel_for(channel).send(
        deps,
        Message(
            rendered=labelled,
            sender=deps.settings.sender_email,
            to=to,
            to_name=None,
            local_date=now,
            unsubscribe_url=f"{deps.settings.public_base_url}/u/test",
            delivery_id=delivery,
            campaign_id=campaign.campaign_id,
            customer_id=str(customer["customer_id"]),
            occasion=campaign.occasion.type,
        ),
    )
    ledger.record_test_send(
        delivery,
        campaign_id=campaign.campaign_id,
        occasion=campaign.occasion.type,
        channel=channel,
        now=now,
        provider_message_id=message_id,
    )
    return {"delivery_id": delivery, "provider_message_id": message_id, **rendered.preview()}
