from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

T = TypeVar("T", bound="BackupCreated")


@_attrs_define
class BackupCreated:
    """
    Attributes:
        checksum (str):
        created_at (str): RFC 3339.
        id (str):
        size (int):
    """

    checksum: str
    created_at: str
    id: str
    size: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        checksum = self.checksum

        created_at = self.created_at

        id = self.id

        size = self.size

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "checksum": checksum,
                "created_at": created_at,
                "id": id,
                "size": size,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        checksum = d.pop("checksum")

        created_at = d.pop("created_at")

        id = d.pop("id")

        size = d.pop("size")

        backup_created = cls(
            checksum=checksum,
            created_at=created_at,
            id=id,
            size=size,
        )

        backup_created.additional_properties = d
        return backup_created

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
