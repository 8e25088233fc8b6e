from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.domain_status import DomainStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="DomainView")


@_attrs_define
class DomainView:
    """
    Attributes:
        created_at (str):
        host (str):
        status (DomainStatus):
        txt_name (str): Where the proof goes: a TXT record at this name …
        txt_value (str): … carrying this value.
        verified_at (None | str | Unset):
    """

    created_at: str
    host: str
    status: DomainStatus
    txt_name: str
    txt_value: str
    verified_at: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at

        host = self.host

        status = self.status.value

        txt_name = self.txt_name

        txt_value = self.txt_value

        verified_at: None | str | Unset
        if isinstance(self.verified_at, Unset):
            verified_at = UNSET
        else:
            verified_at = self.verified_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "host": host,
                "status": status,
                "txt_name": txt_name,
                "txt_value": txt_value,
            }
        )
        if verified_at is not UNSET:
            field_dict["verified_at"] = verified_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        created_at = d.pop("created_at")

        host = d.pop("host")

        status = DomainStatus(d.pop("status"))

        txt_name = d.pop("txt_name")

        txt_value = d.pop("txt_value")

        def _parse_verified_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        verified_at = _parse_verified_at(d.pop("verified_at", UNSET))

        domain_view = cls(
            created_at=created_at,
            host=host,
            status=status,
            txt_name=txt_name,
            txt_value=txt_value,
            verified_at=verified_at,
        )

        domain_view.additional_properties = d
        return domain_view

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
