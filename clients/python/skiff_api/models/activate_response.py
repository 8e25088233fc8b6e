from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.status import Status

T = TypeVar("T", bound="ActivateResponse")


@_attrs_define
class ActivateResponse:
    """`POST /licenses/activate` answer.

    Attributes:
        activated_at (str):
        hardware_id (str):
        license_id (str):
        newly_activated (bool): `false` when the machine was already bound (idempotent re-activation).
        status (Status): A license's stored status. `expired` by time is also derived on read from
            `expires_at` (see [`License::validity`]).
    """

    activated_at: str
    hardware_id: str
    license_id: str
    newly_activated: bool
    status: Status
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        activated_at = self.activated_at

        hardware_id = self.hardware_id

        license_id = self.license_id

        newly_activated = self.newly_activated

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "activated_at": activated_at,
                "hardware_id": hardware_id,
                "license_id": license_id,
                "newly_activated": newly_activated,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        activated_at = d.pop("activated_at")

        hardware_id = d.pop("hardware_id")

        license_id = d.pop("license_id")

        newly_activated = d.pop("newly_activated")

        status = Status(d.pop("status"))

        activate_response = cls(
            activated_at=activated_at,
            hardware_id=hardware_id,
            license_id=license_id,
            newly_activated=newly_activated,
            status=status,
        )

        activate_response.additional_properties = d
        return activate_response

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
