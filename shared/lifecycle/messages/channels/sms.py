"""SMS through Amazon SNS (``Publish`` to a phone number).

Opt-out (STOP) path: recipients reply STOP; SNS (or AWS End User Messaging) puts the number on
its opt-out list. Before every send we ask SNS whether the number opted out and, if so, record
the unsubscribe on the customer (``unsubscribed.sms``) and skip with reason ``unsubscribed``.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from lifecycle.messages.channels.email import ProviderError

PERMANENT_ERRORS = frozenset(
    {"InvalidParameter", "InvalidParameterValue", "OptedOut", "AuthorizationError"}
)


def opted_out(sns: Any, phone: str) -> bool:
    try:
        response = sns.check_if_phone_number_is_opted_out(phoneNumber=phone)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        raise ProviderError(f"SNS {code}", permanent=False) from exc
    return bool(response.get("isOptedOut"))


def send_sms(sns: Any, phone: str, text: str, *, transactional: bool = False) -> str:
    """Publish one SMS; return the SNS message id."""
    try:
        response = sns.publish(
            PhoneNumber=phone,
            Message=text,
            MessageAttributes={
                "AWS.SNS.SMS.SMSType": {
                    "DataType": "String",
                    "StringValue": "Transactional" if transactional else "Promotional",
                }
            },
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        raise ProviderError(f"SNS {code}", permanent=code in PERMANENT_ERRORS) from exc
    return str(response.get("MessageId", ""))
