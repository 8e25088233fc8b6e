from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.role import Role

T = TypeVar("T", bound="MemberResponse")


@_attrs_define
class MemberResponse:
    """
    Attributes:
        email (str):
        full_name (str):
        joined_at (str): RFC 3339.
        role (Role): A member's role, ordered by power.
        user_id (str):
    """

    email: str
    full_name: str
    joined_at: str
    role: Role
    user_id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        full_name = self.full_name

        joined_at = self.joined_at

        role = self.role.value

        user_id = self.user_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "email": email,
                "full_name": full_name,
                "joined_at": joined_at,
                "role": role,
                "user_id": user_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        email = d.pop("email")

        full_name = d.pop("full_name")

        joined_at = d.pop("joined_at")

        role = Role(d.pop("role"))

        user_id = d.pop("user_id")

        member_response = cls(
            email=email,
            full_name=full_name,
            joined_at=joined_at,
            role=role,
            user_id=user_id,
        )

        member_response.additional_properties = d
        return member_response

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
