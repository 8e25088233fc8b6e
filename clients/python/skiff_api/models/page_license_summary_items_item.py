from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..types import UNSET, Unset

T = TypeVar("T", bound="PageLicenseSummaryItemsItem")


@_attrs_define
class PageLicenseSummaryItemsItem:
    """A license as operators see it: the key masked (operators search by it, they do
    not need it shown), the owners' e-mail, the seat counter.

        Attributes:
            expires_at (int):
            held (bool):
            id (str):
            issued_at (int):
            key (str):
            max_seats (int): -1: unlimited.
            org_id (str):
            plan_id (str):
            seats_used (int): Seat items on the license (live, or expired and not yet reclaimed).
            status (str): As validation answers now (`suspended` while an operator holds it).
            org_name (None | str | Unset):
            owner_email (None | str | Unset):
    """

    expires_at: int
    held: bool
    id: str
    issued_at: int
    key: str
    max_seats: int
    org_id: str
    plan_id: str
    seats_used: int
    status: str
    org_name: None | str | Unset = UNSET
    owner_email: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        expires_at = self.expires_at

        held = self.held

        id = self.id

        issued_at = self.issued_at

        key = self.key

        max_seats = self.max_seats

        org_id = self.org_id

        plan_id = self.plan_id

        seats_used = self.seats_used

        status = self.status

        org_name: None | str | Unset
        if isinstance(self.org_name, Unset):
            org_name = UNSET
        else:
            org_name = self.org_name

        owner_email: None | str | Unset
        if isinstance(self.owner_email, Unset):
            owner_email = UNSET
        else:
            owner_email = self.owner_email

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "expires_at": expires_at,
                "held": held,
                "id": id,
                "issued_at": issued_at,
                "key": key,
                "max_seats": max_seats,
                "org_id": org_id,
                "plan_id": plan_id,
                "seats_used": seats_used,
                "status": status,
            }
        )
        if org_name is not UNSET:
            field_dict["org_name"] = org_name
        if owner_email is not UNSET:
            field_dict["owner_email"] = owner_email

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        expires_at = d.pop("expires_at")

        held = d.pop("held")

        id = d.pop("id")

        issued_at = d.pop("issued_at")

        key = d.pop("key")

        max_seats = d.pop("max_seats")

        org_id = d.pop("org_id")

        plan_id = d.pop("plan_id")

        seats_used = d.pop("seats_used")

        status = d.pop("status")

        def _parse_org_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        org_name = _parse_org_name(d.pop("org_name", UNSET))

        def _parse_owner_email(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        owner_email = _parse_owner_email(d.pop("owner_email", UNSET))

        page_license_summary_items_item = cls(
            expires_at=expires_at,
            held=held,
            id=id,
            issued_at=issued_at,
            key=key,
            max_seats=max_seats,
            org_id=org_id,
            plan_id=plan_id,
            seats_used=seats_used,
            status=status,
            org_name=org_name,
            owner_email=owner_email,
        )

        page_license_summary_items_item.additional_properties = d
        return page_license_summary_items_item

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
