from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

T = TypeVar("T", bound="AppKeyView")


@_attrs_define
class AppKeyView:
    """
    Attributes:
        app_id (str):
        created_at (str):
        id (str):
        name (str):
        prefix (str):
        scopes (list[str]):
        secret (str): The key itself, shown this once only.
    """

    app_id: str
    created_at: str
    id: str
    name: str
    prefix: str
    scopes: list[str]
    secret: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        app_id = self.app_id

        created_at = self.created_at

        id = self.id

        name = self.name

        prefix = self.prefix

        scopes = self.scopes

        secret = self.secret

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "app_id": app_id,
                "created_at": created_at,
                "id": id,
                "name": name,
                "prefix": prefix,
                "scopes": scopes,
                "secret": secret,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        app_id = d.pop("app_id")

        created_at = d.pop("created_at")

        id = d.pop("id")

        name = d.pop("name")

        prefix = d.pop("prefix")

        scopes = cast(list[str], d.pop("scopes"))

        secret = d.pop("secret")

        app_key_view = cls(
            app_id=app_id,
            created_at=created_at,
            id=id,
            name=name,
            prefix=prefix,
            scopes=scopes,
            secret=secret,
        )

        app_key_view.additional_properties = d
        return app_key_view

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
