from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.role import Role

T = TypeVar("T", bound="AcceptResponse")


@_attrs_define
class AcceptResponse:
    """
    Attributes:
        email (str):
        org_id (str):
        role (Role): A member's role, ordered by power.
        user_id (str):
    """

    email: str
    org_id: str
    role: Role
    user_id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        org_id = self.org_id

        role = self.role.value

        user_id = self.user_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "email": email,
                "org_id": org_id,
                "role": role,
                "user_id": user_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        email = d.pop("email")

        org_id = d.pop("org_id")

        role = Role(d.pop("role"))

        user_id = d.pop("user_id")

        accept_response = cls(
            email=email,
            org_id=org_id,
            role=role,
            user_id=user_id,
        )

        accept_response.additional_properties = d
        return accept_response

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
