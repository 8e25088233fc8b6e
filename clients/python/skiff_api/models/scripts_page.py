from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.script_view import ScriptView


T = TypeVar("T", bound="ScriptsPage")


@_attrs_define
class ScriptsPage:
    """
    Attributes:
        scripts (list[ScriptView]):
        next_cursor (None | str | Unset):
    """

    scripts: list[ScriptView]
    next_cursor: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        scripts = []
        for scripts_item_data in self.scripts:
            scripts_item = scripts_item_data.to_dict()
            scripts.append(scripts_item)

        next_cursor: None | str | Unset
        if isinstance(self.next_cursor, Unset):
            next_cursor = UNSET
        else:
            next_cursor = self.next_cursor

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "scripts": scripts,
            }
        )
        if next_cursor is not UNSET:
            field_dict["next_cursor"] = next_cursor

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.script_view import ScriptView

        d = dict(src_dict)
        scripts = []
        _scripts = d.pop("scripts")
        for scripts_item_data in _scripts:
            scripts_item = ScriptView.from_dict(scripts_item_data)

            scripts.append(scripts_item)

        def _parse_next_cursor(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        next_cursor = _parse_next_cursor(d.pop("next_cursor", UNSET))

        scripts_page = cls(
            scripts=scripts,
            next_cursor=next_cursor,
        )

        scripts_page.additional_properties = d
        return scripts_page

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
