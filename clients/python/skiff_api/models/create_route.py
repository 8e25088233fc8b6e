from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from typing_extensions import Self

from ..models.dispatch import Dispatch
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateRoute")


@_attrs_define
class CreateRoute:
    """
    Attributes:
        method (str): GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY.
        path (str): `/exact`, `/with/:param` or `/prefix/*`.
        dispatch (Dispatch | None | Unset):
        host (None | str | Unset): Serve only at this host the app has claimed.
    """

    method: str
    path: str
    dispatch: Dispatch | None | Unset = UNSET
    host: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        method = self.method

        path = self.path

        dispatch: None | str | Unset
        if isinstance(self.dispatch, Unset):
            dispatch = UNSET
        elif isinstance(self.dispatch, Dispatch):
            dispatch = self.dispatch.value
        else:
            dispatch = self.dispatch

        host: None | str | Unset
        if isinstance(self.host, Unset):
            host = UNSET
        else:
            host = self.host

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "method": method,
                "path": path,
            }
        )
        if dispatch is not UNSET:
            field_dict["dispatch"] = dispatch
        if host is not UNSET:
            field_dict["host"] = host

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        method = d.pop("method")

        path = d.pop("path")

        def _parse_dispatch(data: object) -> Dispatch | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                dispatch_type_1 = Dispatch(data)

                return dispatch_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Dispatch | None | Unset, data)

        dispatch = _parse_dispatch(d.pop("dispatch", UNSET))

        def _parse_host(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        host = _parse_host(d.pop("host", UNSET))

        create_route = cls(
            method=method,
            path=path,
            dispatch=dispatch,
            host=host,
        )

        return create_route
