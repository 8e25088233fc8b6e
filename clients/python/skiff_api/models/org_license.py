from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

T = TypeVar("T", bound="OrgLicense")


@_attrs_define
class OrgLicense:
    """A license of the org with its live seat use.

    Attributes:
        expires_at (int):
        held (bool):
        id (str):
        max_seats (int): -1: unlimited.
        plan_id (str):
        seats_in_use (int): Live sessions now.
        status (str):
    """

    expires_at: int
    held: bool
    id: str
    max_seats: int
    plan_id: str
    seats_in_use: int
    status: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        expires_at = self.expires_at

        held = self.held

        id = self.id

        max_seats = self.max_seats

        plan_id = self.plan_id

        seats_in_use = self.seats_in_use

        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "expires_at": expires_at,
                "held": held,
                "id": id,
                "max_seats": max_seats,
                "plan_id": plan_id,
                "seats_in_use": seats_in_use,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        expires_at = d.pop("expires_at")

        held = d.pop("held")

        id = d.pop("id")

        max_seats = d.pop("max_seats")

        plan_id = d.pop("plan_id")

        seats_in_use = d.pop("seats_in_use")

        status = d.pop("status")

        org_license = cls(
            expires_at=expires_at,
            held=held,
            id=id,
            max_seats=max_seats,
            plan_id=plan_id,
            seats_in_use=seats_in_use,
            status=status,
        )

        org_license.additional_properties = d
        return org_license

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
