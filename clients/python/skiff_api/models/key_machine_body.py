from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..types import UNSET, Unset

T = TypeVar("T", bound="KeyMachineBody")


@_attrs_define
class KeyMachineBody:
    """
    Attributes:
        hardware_id (None | str | Unset):
        license_key (None | str | Unset):
    """

    hardware_id: None | str | Unset = UNSET
    license_key: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        hardware_id: None | str | Unset
        if isinstance(self.hardware_id, Unset):
            hardware_id = UNSET
        else:
            hardware_id = self.hardware_id

        license_key: None | str | Unset
        if isinstance(self.license_key, Unset):
            license_key = UNSET
        else:
            license_key = self.license_key

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if hardware_id is not UNSET:
            field_dict["hardware_id"] = hardware_id
        if license_key is not UNSET:
            field_dict["license_key"] = license_key

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_hardware_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        hardware_id = _parse_hardware_id(d.pop("hardware_id", UNSET))

        def _parse_license_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        license_key = _parse_license_key(d.pop("license_key", UNSET))

        key_machine_body = cls(
            hardware_id=hardware_id,
            license_key=license_key,
        )

        key_machine_body.additional_properties = d
        return key_machine_body

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
