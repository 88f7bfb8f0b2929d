"""Orders data access: the shop writes orders; we read them and their stream images."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from pynamodb.exceptions import DoesNotExist

from lifecycle.rules.orders import Order
from lifecycle.store.models import OrderModel

__all__ = ["Order", "all_orders", "from_stream_image", "get_order", "orders_since"]

_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def from_document(document: Mapping[str, Any]) -> Order:
    items = [
        {
            "sku": str(i.get("sku")),
            "name": i.get("name"),
            "qty": i.get("qty", 1),
            "price": i.get("price"),
        }
        for i in document.get("items") or []
        if isinstance(i, Mapping) and i.get("sku")
    ]
    return Order(
        order_id=str(document["order_id"]),
        customer_id=str(document["customer_id"]),
        status=str(document.get("status", "")),
        created_at=str(document.get("created_at", "")),
        delivered_at=document.get("delivered_at"),
        items=items,
        total=document.get("total"),
        currency=document.get("currency"),
    )


def from_stream_image(image: Mapping[str, Any] | None) -> Order | None:
    """An order from a stream record's DynamoDB-JSON image (None when absent)."""
    if not image:
        return None
    document = _plain({key: _deserializer.deserialize(value) for key, value in image.items()})
    return from_document(document)


def _from_model(model: OrderModel) -> Order:
    return from_document(
        _plain(
            model.attribute_values
            | {
                "items": [item.as_dict() for item in model.items or []],
            }
        )
    )


def get_order(order_id: str) -> Order | None:
    try:
        return _from_model(OrderModel.get(order_id, consistent_read=True))
    except DoesNotExist:
        return None


def all_orders(since: str) -> Iterator[Order]:
    """Orders created after ``since`` (a filtered Scan: for the daily RFM job only)."""
    for model in OrderModel.scan(OrderModel.created_at > since):
        yield _from_model(model)


def orders_since(customer_id: str, created_after: str) -> list[Order]:
    """The customer's orders created after ``created_after`` (a Query on ``by-customer``)."""
    return [
        _from_model(model)
        for model in OrderModel.by_customer.query(
            customer_id, OrderModel.created_at > created_after
        )
    ]
