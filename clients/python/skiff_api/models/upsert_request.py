from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from typing_extensions import Self

if TYPE_CHECKING:
    from ..models.vector_item import VectorItem


T = TypeVar("T", bound="UpsertRequest")


@_attrs_define
class UpsertRequest:
    """
    Attributes:
        vectors (list[VectorItem]): 1 to 500 items.
    """

    vectors: list[VectorItem]

    def to_dict(self) -> dict[str, Any]:
        vectors = []
        for vectors_item_data in self.vectors:
            vectors_item = vectors_item_data.to_dict()
            vectors.append(vectors_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "vectors": vectors,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.vector_item import VectorItem

        d = dict(src_dict)
        vectors = []
        _vectors = d.pop("vectors")
        for vectors_item_data in _vectors:
            vectors_item = VectorItem.from_dict(vectors_item_data)

            vectors.append(vectors_item)

        upsert_request = cls(
            vectors=vectors,
        )

        return upsert_request
