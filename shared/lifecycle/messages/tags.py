"""SES message tags: the delivery id of every e-mail, reversibly encoded.

SES copies a message's tags into every event it publishes about it (``mail.tags``: name ->
list of values), which is how deliverability feedback finds its ledger item. Tag names and
values may only contain ASCII letters, digits, ``_`` and ``-``, values at most 256 of them;
a delivery id (``campaign#customer#occurrence#channel``) has ``#`` and whatever the order id
or customer id brought (``.``, ``:``, ``@``, ``+``). So the id is encoded as base64url of its
UTF-8 bytes without padding (exactly that alphabet) and split into 256-character values:
``delivery``, ``delivery_2``, ``delivery_3`` ... (one tag for ids up to 192 bytes, eleven for
the longest DynamoDB key, 2048 bytes).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from typing import Any

DELIVERY_TAG = "delivery"
TAG_VALUE_MAX = 256
MAX_DELIVERY_TAGS = 11  # 2048 bytes (the largest DynamoDB key) -> 2731 characters
_VALUE = re.compile(r"^[A-Za-z0-9_-]{1,256}\Z")


class TagError(ValueError):
    """A delivery tag that is not one this system wrote (bad alphabet, bytes or shape)."""


def _name(index: int) -> str:
    return DELIVERY_TAG if index == 0 else f"{DELIVERY_TAG}_{index + 1}"


def delivery_tags(delivery_id: str) -> list[dict[str, str]]:
    """The SES ``EmailTags`` carrying ``delivery_id`` (``[{"Name", "Value"}, ...]``)."""
    encoded = base64.urlsafe_b64encode(delivery_id.encode("utf-8")).decode("ascii").rstrip("=")
    chunks = [encoded[i : i + TAG_VALUE_MAX] for i in range(0, len(encoded), TAG_VALUE_MAX)]
    if not chunks or len(chunks) > MAX_DELIVERY_TAGS:
        raise TagError(f"a delivery id of {len(delivery_id.encode())} bytes cannot be tagged")
    return [{"Name": _name(i), "Value": chunk} for i, chunk in enumerate(chunks)]


def _first(values: Any) -> str | None:
    if isinstance(values, str):
        return values
    if isinstance(values, Sequence) and values and isinstance(values[0], str):
        return values[0]
    return None


def delivery_id_from_tags(tags: Mapping[str, Any]) -> str | None:
    """The delivery id in an SES event's ``mail.tags``; None when it has no delivery tag.

    Raises
    ------
    TagError
        The tag is there but is not a value :func:`delivery_tags` wrote.
    """
    first = _first(tags.get(DELIVERY_TAG))
    if first is None:
        return None
    parts = [first]
    for index in range(1, MAX_DELIVERY_TAGS):
        value = _first(tags.get(_name(index)))
        if value is None:
            break
        parts.append(value)
    if any(not _VALUE.match(part) for part in parts) or any(
        len(part) != TAG_VALUE_MAX for part in parts[:-1]
    ):
        raise TagError("delivery tag has characters or lengths this system never writes")
    encoded = "".join(parts)
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        delivery_id = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise TagError("delivery tag is not base64url of UTF-8 text") from exc
    if delivery_tags(delivery_id) != [{"Name": _name(i), "Value": p} for i, p in enumerate(parts)]:
        raise TagError("delivery tag is not in canonical form")
    if delivery_id.count("#") < 3 or any(not part for part in delivery_id.split("#")):
        raise TagError("delivery tag does not hold campaign#customer#occurrence#channel")
    return delivery_id
