from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.status import Status
from ..types import UNSET, Unset

T = TypeVar("T", bound="LicenseView")


@_attrs_define
class LicenseView:
    """A license as its org's members see it.

    Attributes:
        expires_at (str):
        features (list[str]):
        hardware_ids (list[str]):
        id (str):
        issued_at (str):
        key (str):
        max_seats (int):
        org_id (str):
        plan_id (str):
        seats_used (int): Live sessions.
        status (Status): A license's stored status. `expired` by time is also derived on read from
            `expires_at` (see [`License::validity`]).
        tier (str):
        activated_at (None | str | Unset):
        deactivated_at (None | str | Unset):
        grace_period_ends_at (None | str | Unset):
        seats_remaining (int | None | Unset): `null` when unlimited.
        suspended_at (None | str | Unset):
    """

    expires_at: str
    features: list[str]
    hardware_ids: list[str]
    id: str
    issued_at: str
    key: str
    max_seats: int
    org_id: str
    plan_id: str
    seats_used: int
    status: Status
    tier: str
    activated_at: None | str | Unset = UNSET
    deactivated_at: None | str | Unset = UNSET
    grace_period_ends_at: None | str | Unset = UNSET
    seats_remaining: int | None | Unset = UNSET
    suspended_at: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        expires_at = self.expires_at

        features = self.features

        hardware_ids = self.hardware_ids

        id = self.id

        issued_at = self.issued_at

        key = self.key

        max_seats = self.max_seats

        org_id = self.org_id

        plan_id = self.plan_id

        seats_used = self.seats_used

        status = self.status.value

        tier = self.tier

        activated_at: None | str | Unset
        if isinstance(self.activated_at, Unset):
            activated_at = UNSET
        else:
            activated_at = self.activated_at

        deactivated_at: None | str | Unset
        if isinstance(self.deactivated_at, Unset):
            deactivated_at = UNSET
        else:
            deactivated_at = self.deactivated_at

        grace_period_ends_at: None | str | Unset
        if isinstance(self.grace_period_ends_at, Unset):
            grace_period_ends_at = UNSET
        else:
            grace_period_ends_at = self.grace_period_ends_at

        seats_remaining: int | None | Unset
        if isinstance(self.seats_remaining, Unset):
            seats_remaining = UNSET
        else:
            seats_remaining = self.seats_remaining

        suspended_at: None | str | Unset
        if isinstance(self.suspended_at, Unset):
            suspended_at = UNSET
        else:
            suspended_at = self.suspended_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "expires_at": expires_at,
                "features": features,
                "hardware_ids": hardware_ids,
                "id": id,
                "issued_at": issued_at,
                "key": key,
                "max_seats": max_seats,
                "org_id": org_id,
                "plan_id": plan_id,
                "seats_used": seats_used,
                "status": status,
                "tier": tier,
            }
        )
        if activated_at is not UNSET:
            field_dict["activated_at"] = activated_at
        if deactivated_at is not UNSET:
            field_dict["deactivated_at"] = deactivated_at
        if grace_period_ends_at is not UNSET:
            field_dict["grace_period_ends_at"] = grace_period_ends_at
        if seats_remaining is not UNSET:
            field_dict["seats_remaining"] = seats_remaining
        if suspended_at is not UNSET:
            field_dict["suspended_at"] = suspended_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        expires_at = d.pop("expires_at")

        features = cast(list[str], d.pop("features"))

        hardware_ids = cast(list[str], d.pop("hardware_ids"))

        id = d.pop("id")

        issued_at = d.pop("issued_at")

        key = d.pop("key")

        max_seats = d.pop("max_seats")

        org_id = d.pop("org_id")

        plan_id = d.pop("plan_id")

        seats_used = d.pop("seats_used")

        status = Status(d.pop("status"))

        tier = d.pop("tier")

        def _parse_activated_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        activated_at = _parse_activated_at(d.pop("activated_at", UNSET))

        def _parse_deactivated_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        deactivated_at = _parse_deactivated_at(d.pop("deactivated_at", UNSET))

        def _parse_grace_period_ends_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        grace_period_ends_at = _parse_grace_period_ends_at(
            d.pop("grace_period_ends_at", UNSET)
        )

        def _parse_seats_remaining(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        seats_remaining = _parse_seats_remaining(d.pop("seats_remaining", UNSET))

        def _parse_suspended_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        suspended_at = _parse_suspended_at(d.pop("suspended_at", UNSET))

        license_view = cls(
            expires_at=expires_at,
            features=features,
            hardware_ids=hardware_ids,
            id=id,
            issued_at=issued_at,
            key=key,
            max_seats=max_seats,
            org_id=org_id,
            plan_id=plan_id,
            seats_used=seats_used,
            status=status,
            tier=tier,
            activated_at=activated_at,
            deactivated_at=deactivated_at,
            grace_period_ends_at=grace_period_ends_at,
            seats_remaining=seats_remaining,
            suspended_at=suspended_at,
        )

        license_view.additional_properties = d
        return license_view

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
