from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from typing_extensions import Self

T = TypeVar("T", bound="CreateRequest")


@_attrs_define
class CreateRequest:
    """
    Attributes:
        blob (str): Base64 of the ciphertext.
        checksum (str): Lowercase hex SHA-256 of the decoded bytes.
        table (str): `[a-z0-9_-]{1,64}`.
    """

    blob: str
    checksum: str
    table: str

    def to_dict(self) -> dict[str, Any]:
        blob = self.blob

        checksum = self.checksum

        table = self.table

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "blob": blob,
                "checksum": checksum,
                "table": table,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        blob = d.pop("blob")

        checksum = d.pop("checksum")

        table = d.pop("table")

        create_request = cls(
            blob=blob,
            checksum=checksum,
            table=table,
        )

        return create_request
