from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.status import Status
from ..types import UNSET, Unset

T = TypeVar("T", bound="KeyStatus")


@_attrs_define
class KeyStatus:
    """`GET /licenses/{license_key}/status` answer.

    Attributes:
        code (str):
        expires_at (str):
        status (Status): A license's stored status. `expired` by time is also derived on read from
            `expires_at` (see [`License::validity`]).
        grace_period_ends_at (None | str | Unset):
    """

    code: str
    expires_at: str
    status: Status
    grace_period_ends_at: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        expires_at = self.expires_at

        status = self.status.value

        grace_period_ends_at: None | str | Unset
        if isinstance(self.grace_period_ends_at, Unset):
            grace_period_ends_at = UNSET
        else:
            grace_period_ends_at = self.grace_period_ends_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "expires_at": expires_at,
                "status": status,
            }
        )
        if grace_period_ends_at is not UNSET:
            field_dict["grace_period_ends_at"] = grace_period_ends_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        code = d.pop("code")

        expires_at = d.pop("expires_at")

        status = Status(d.pop("status"))

        def _parse_grace_period_ends_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        grace_period_ends_at = _parse_grace_period_ends_at(
            d.pop("grace_period_ends_at", UNSET)
        )

        key_status = cls(
            code=code,
            expires_at=expires_at,
            status=status,
            grace_period_ends_at=grace_period_ends_at,
        )

        key_status.additional_properties = d
        return key_status

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
