from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.app_role import AppRole

T = TypeVar("T", bound="AppView")


@_attrs_define
class AppView:
    """
    Attributes:
        created_at (str): RFC 3339.
        id (str):
        name (str):
        role (AppRole): A member's role in one app, ordered by power.
        slug (str):
        updated_at (str):
    """

    created_at: str
    id: str
    name: str
    role: AppRole
    slug: str
    updated_at: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at

        id = self.id

        name = self.name

        role = self.role.value

        slug = self.slug

        updated_at = self.updated_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "id": id,
                "name": name,
                "role": role,
                "slug": slug,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        created_at = d.pop("created_at")

        id = d.pop("id")

        name = d.pop("name")

        role = AppRole(d.pop("role"))

        slug = d.pop("slug")

        updated_at = d.pop("updated_at")

        app_view = cls(
            created_at=created_at,
            id=id,
            name=name,
            role=role,
            slug=slug,
            updated_at=updated_at,
        )

        app_view.additional_properties = d
        return app_view

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
