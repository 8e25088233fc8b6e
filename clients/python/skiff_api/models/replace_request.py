from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from typing_extensions import Self

T = TypeVar("T", bound="ReplaceRequest")


@_attrs_define
class ReplaceRequest:
    """
    Attributes:
        blob (str): Base64 of the new ciphertext.
        checksum (str): Lowercase hex SHA-256 of the decoded bytes.
    """

    blob: str
    checksum: str

    def to_dict(self) -> dict[str, Any]:
        blob = self.blob

        checksum = self.checksum

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "blob": blob,
                "checksum": checksum,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        blob = d.pop("blob")

        checksum = d.pop("checksum")

        replace_request = cls(
            blob=blob,
            checksum=checksum,
        )

        return replace_request
