from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

T = TypeVar("T", bound="EntitlementsView")


@_attrs_define
class EntitlementsView:
    """Numeric limits; -1 = unlimited.

    Attributes:
        backup_gb (int):
        max_memories (int):
        max_scripts (int):
        max_seats (int):
        rate_limit_per_min (int):
        storage_gb (int):
    """

    backup_gb: int
    max_memories: int
    max_scripts: int
    max_seats: int
    rate_limit_per_min: int
    storage_gb: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        backup_gb = self.backup_gb

        max_memories = self.max_memories

        max_scripts = self.max_scripts

        max_seats = self.max_seats

        rate_limit_per_min = self.rate_limit_per_min

        storage_gb = self.storage_gb

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "backup_gb": backup_gb,
                "max_memories": max_memories,
                "max_scripts": max_scripts,
                "max_seats": max_seats,
                "rate_limit_per_min": rate_limit_per_min,
                "storage_gb": storage_gb,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        backup_gb = d.pop("backup_gb")

        max_memories = d.pop("max_memories")

        max_scripts = d.pop("max_scripts")

        max_seats = d.pop("max_seats")

        rate_limit_per_min = d.pop("rate_limit_per_min")

        storage_gb = d.pop("storage_gb")

        entitlements_view = cls(
            backup_gb=backup_gb,
            max_memories=max_memories,
            max_scripts=max_scripts,
            max_seats=max_seats,
            rate_limit_per_min=rate_limit_per_min,
            storage_gb=storage_gb,
        )

        entitlements_view.additional_properties = d
        return entitlements_view

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
