from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.session_view import SessionView


T = TypeVar("T", bound="SessionsPage")


@_attrs_define
class SessionsPage:
    """`GET /licenses/{id}/sessions` answer.

    Attributes:
        active (list[SessionView]): Live sessions on this page, newest first.
        past (list[SessionView]): Ended sessions (and expired ones not yet reclaimed) on this page.
        next_cursor (None | str | Unset): Pass as `cursor` for the next page; absent on the last one.
    """

    active: list[SessionView]
    past: list[SessionView]
    next_cursor: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        active = []
        for active_item_data in self.active:
            active_item = active_item_data.to_dict()
            active.append(active_item)

        past = []
        for past_item_data in self.past:
            past_item = past_item_data.to_dict()
            past.append(past_item)

        next_cursor: None | str | Unset
        if isinstance(self.next_cursor, Unset):
            next_cursor = UNSET
        else:
            next_cursor = self.next_cursor

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "active": active,
                "past": past,
            }
        )
        if next_cursor is not UNSET:
            field_dict["next_cursor"] = next_cursor

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.session_view import SessionView

        d = dict(src_dict)
        active = []
        _active = d.pop("active")
        for active_item_data in _active:
            active_item = SessionView.from_dict(active_item_data)

            active.append(active_item)

        past = []
        _past = d.pop("past")
        for past_item_data in _past:
            past_item = SessionView.from_dict(past_item_data)

            past.append(past_item)

        def _parse_next_cursor(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        next_cursor = _parse_next_cursor(d.pop("next_cursor", UNSET))

        sessions_page = cls(
            active=active,
            past=past,
            next_cursor=next_cursor,
        )

        sessions_page.additional_properties = d
        return sessions_page

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
