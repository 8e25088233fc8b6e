from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.dispatch import Dispatch
from ..models.method import Method
from ..types import UNSET, Unset

T = TypeVar("T", bound="RouteView")


@_attrs_define
class RouteView:
    """
    Attributes:
        created_at (str):
        dispatch (Dispatch): Whether a route answers in the request (`sync`) or queues the run and answers
            202 with the execution id (`async`).
        id (str):
        method (Method):
        path (str):
        script_id (str):
        host (None | str | Unset):
    """

    created_at: str
    dispatch: Dispatch
    id: str
    method: Method
    path: str
    script_id: str
    host: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at

        dispatch = self.dispatch.value

        id = self.id

        method = self.method.value

        path = self.path

        script_id = self.script_id

        host: None | str | Unset
        if isinstance(self.host, Unset):
            host = UNSET
        else:
            host = self.host

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "dispatch": dispatch,
                "id": id,
                "method": method,
                "path": path,
                "script_id": script_id,
            }
        )
        if host is not UNSET:
            field_dict["host"] = host

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        created_at = d.pop("created_at")

        dispatch = Dispatch(d.pop("dispatch"))

        id = d.pop("id")

        method = Method(d.pop("method"))

        path = d.pop("path")

        script_id = d.pop("script_id")

        def _parse_host(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        host = _parse_host(d.pop("host", UNSET))

        route_view = cls(
            created_at=created_at,
            dispatch=dispatch,
            id=id,
            method=method,
            path=path,
            script_id=script_id,
            host=host,
        )

        route_view.additional_properties = d
        return route_view

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
