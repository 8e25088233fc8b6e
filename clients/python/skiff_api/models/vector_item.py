from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from typing_extensions import Self

from ..types import UNSET, Unset

T = TypeVar("T", bound="VectorItem")


@_attrs_define
class VectorItem:
    """
    Attributes:
        blob (str): Base64 of the item's ciphertext (at most 64 KiB decoded).
        checksum (str): Lowercase hex SHA-256 of the decoded blob.
        id (str): 1-512 printable ASCII characters, unique per user.
        vector (list[float] | None | Unset): The client's embedding; without it, a 32-dimension vector derived from the
            blob's SHA-256, which finds exact duplicates only.
    """

    blob: str
    checksum: str
    id: str
    vector: list[float] | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        blob = self.blob

        checksum = self.checksum

        id = self.id

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
                "blob": blob,
                "checksum": checksum,
                "id": id,
            }
        )
        if vector is not UNSET:
            field_dict["vector"] = vector

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        blob = d.pop("blob")

        checksum = d.pop("checksum")

        id = d.pop("id")

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

        vector_item = cls(
            blob=blob,
            checksum=checksum,
            id=id,
            vector=vector,
        )

        return vector_item
