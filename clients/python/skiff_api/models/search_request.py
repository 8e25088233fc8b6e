from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from typing_extensions import Self

from ..types import UNSET, Unset

T = TypeVar("T", bound="SearchRequest")


@_attrs_define
class SearchRequest:
    """
    Attributes:
        top_k (int): 1 to 100.
        query_blob (None | str | Unset): Or a blob (base64) whose duplicates to find.
        vector (list[float] | None | Unset): The query embedding.
    """

    top_k: int
    query_blob: None | str | Unset = UNSET
    vector: list[float] | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        top_k = self.top_k

        query_blob: None | str | Unset
        if isinstance(self.query_blob, Unset):
            query_blob = UNSET
        else:
            query_blob = self.query_blob

        vector: list[float] | None | Unset
        if isinstance(self.vector, Unset):
            vector = UNSET
        elif isinstance(self.vector, list):
            vector = self.vector

        else:
            vector = self.vector

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "top_k": top_k,
            }
        )
        if query_blob is not UNSET:
            field_dict["query_blob"] = query_blob
        if vector is not UNSET:
            field_dict["vector"] = vector

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        top_k = d.pop("top_k")

        def _parse_query_blob(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        query_blob = _parse_query_blob(d.pop("query_blob", UNSET))

        def _parse_vector(data: object) -> list[float] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                vector_type_0 = cast(list[float], data)

                return vector_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[float] | None | Unset, data)

        vector = _parse_vector(d.pop("vector", UNSET))

        search_request = cls(
            top_k=top_k,
            query_blob=query_blob,
            vector=vector,
        )

        return search_request
