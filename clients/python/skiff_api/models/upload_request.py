from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from typing_extensions import Self

T = TypeVar("T", bound="UploadRequest")


@_attrs_define
class UploadRequest:
    """
    Attributes:
        checksum (str): Lowercase hex SHA-256 of what will be uploaded.
        size (int): Exact size in bytes of what will be uploaded.
        table (str):
    """

    checksum: str
    size: int
    table: str

    def to_dict(self) -> dict[str, Any]:
        checksum = self.checksum

        size = self.size

        table = self.table

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "checksum": checksum,
                "size": size,
                "table": table,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        checksum = d.pop("checksum")

        size = d.pop("size")

        table = d.pop("table")

        upload_request = cls(
            checksum=checksum,
            size=size,
            table=table,
        )

        return upload_request
