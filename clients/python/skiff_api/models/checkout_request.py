from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

T = TypeVar("T", bound="CheckoutRequest")


@_attrs_define
class CheckoutRequest:
    """
    Attributes:
        cancel_url (str): Where it returns when the customer gives up (an allowed origin).
        plan_id (str): A paid plan of the catalog.
        success_url (str): Where the payment page returns after payment (an allowed origin).
    """

    cancel_url: str
    plan_id: str
    success_url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cancel_url = self.cancel_url

        plan_id = self.plan_id

        success_url = self.success_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cancel_url": cancel_url,
                "plan_id": plan_id,
                "success_url": success_url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        cancel_url = d.pop("cancel_url")

        plan_id = d.pop("plan_id")

        success_url = d.pop("success_url")

        checkout_request = cls(
            cancel_url=cancel_url,
            plan_id=plan_id,
            success_url=success_url,
        )

        checkout_request.additional_properties = d
        return checkout_request

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
