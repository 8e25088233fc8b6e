from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.status import Status
from ..types import UNSET, Unset

T = TypeVar("T", bound="ValidationLicense")


@_attrs_define
class ValidationLicense:
    """The license summary validation discloses to a key holder.

    Attributes:
        expires_at (str):
        max_seats (int):
        seats_used (int):
        status (Status): A license's stored status. `expired` by time is also derived on read from
            `expires_at` (see [`License::validity`]).
        tier (str):
        grace_period_ends_at (None | str | Unset):
    """

    expires_at: str
    max_seats: int
    seats_used: int
    status: Status
    tier: str
    grace_period_ends_at: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        expires_at = self.expires_at

        max_seats = self.max_seats

        seats_used = self.seats_used

        status = self.status.value

        tier = self.tier

        grace_period_ends_at: None | str | Unset
        if isinstance(self.grace_period_ends_at, Unset):
            grace_period_ends_at = UNSET
        else:
            grace_period_ends_at = self.grace_period_ends_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "expires_at": expires_at,
                "max_seats": max_seats,
                "seats_used": seats_used,
                "status": status,
                "tier": tier,
            }
        )
        if grace_period_ends_at is not UNSET:
            field_dict["grace_period_ends_at"] = grace_period_ends_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        expires_at = d.pop("expires_at")

        max_seats = d.pop("max_seats")

        seats_used = d.pop("seats_used")

        status = Status(d.pop("status"))

        tier = d.pop("tier")

        def _parse_grace_period_ends_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        grace_period_ends_at = _parse_grace_period_ends_at(
            d.pop("grace_period_ends_at", UNSET)
        )

        validation_license = cls(
            expires_at=expires_at,
            max_seats=max_seats,
            seats_used=seats_used,
            status=status,
            tier=tier,
            grace_period_ends_at=grace_period_ends_at,
        )

        validation_license.additional_properties = d
        return validation_license

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
