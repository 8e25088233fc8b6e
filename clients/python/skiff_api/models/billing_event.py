from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

if TYPE_CHECKING:
    from ..models.billing_event_detail import BillingEventDetail


T = TypeVar("T", bound="BillingEvent")


@_attrs_define
class BillingEvent:
    """
    Attributes:
        action (str): e.g. `SUBSCRIPTION_STARTED`, `PAYMENT_FAILED`, `SERVICE_SUSPENDED`.
        actor (str): `stripe` or `scheduler`.
        at (int): Unix seconds.
        detail (BillingEventDetail):
        event_id (str):
    """

    action: str
    actor: str
    at: int
    detail: BillingEventDetail
    event_id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        action = self.action

        actor = self.actor

        at = self.at

        detail = self.detail.to_dict()

        event_id = self.event_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "action": action,
                "actor": actor,
                "at": at,
                "detail": detail,
                "event_id": event_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.billing_event_detail import BillingEventDetail

        d = dict(src_dict)
        action = d.pop("action")

        actor = d.pop("actor")

        at = d.pop("at")

        detail = BillingEventDetail.from_dict(d.pop("detail"))

        event_id = d.pop("event_id")

        billing_event = cls(
            action=action,
            actor=actor,
            at=at,
            detail=detail,
            event_id=event_id,
        )

        billing_event.additional_properties = d
        return billing_event

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
