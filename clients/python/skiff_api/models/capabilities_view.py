from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

T = TypeVar("T", bound="CapabilitiesView")


@_attrs_define
class CapabilitiesView:
    """
    Attributes:
        admin_mutations_enabled (bool):
        archive_export_enabled (bool):
        self_service_export_enabled (bool):
        writes_enabled (bool):
    """

    admin_mutations_enabled: bool
    archive_export_enabled: bool
    self_service_export_enabled: bool
    writes_enabled: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        admin_mutations_enabled = self.admin_mutations_enabled

        archive_export_enabled = self.archive_export_enabled

        self_service_export_enabled = self.self_service_export_enabled

        writes_enabled = self.writes_enabled

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "admin_mutations_enabled": admin_mutations_enabled,
                "archive_export_enabled": archive_export_enabled,
                "self_service_export_enabled": self_service_export_enabled,
                "writes_enabled": writes_enabled,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        admin_mutations_enabled = d.pop("admin_mutations_enabled")

        archive_export_enabled = d.pop("archive_export_enabled")

        self_service_export_enabled = d.pop("self_service_export_enabled")

        writes_enabled = d.pop("writes_enabled")

        capabilities_view = cls(
            admin_mutations_enabled=admin_mutations_enabled,
            archive_export_enabled=archive_export_enabled,
            self_service_export_enabled=self_service_export_enabled,
            writes_enabled=writes_enabled,
        )

        capabilities_view.additional_properties = d
        return capabilities_view

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
