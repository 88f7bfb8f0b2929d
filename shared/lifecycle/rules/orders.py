"""An order as the shop recorded it (read from the Orders table or its stream)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    status: str
    created_at: str
    delivered_at: str | None
    items: list[dict[str, Any]]
    total: float | None = None
    currency: str | None = None

    def public(self) -> dict[str, Any]:
        """What templates may show (no customer data)."""
        return {
            "order_id": self.order_id,
            "created_at": self.created_at,
            "delivered_at": self.delivered_at,
            "total": self.total,
            "currency": self.currency,
            "items": self.items,
        }
