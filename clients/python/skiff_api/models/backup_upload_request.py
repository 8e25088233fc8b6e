from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from typing_extensions import Self

T = TypeVar("T", bound="BackupUploadRequest")


@_attrs_define
class BackupUploadRequest:
    """
    Attributes:
        checksum (str): Lowercase hex SHA-256 of what will be uploaded.
        size (int): Exact size in bytes of what will be uploaded.
        timestamp (int): The client's timestamp of the snapshot, unix milliseconds.
        version (str): The client's version label, 1-64 printable characters.
    """

    checksum: str
    size: int
    timestamp: int
    version: str

    def to_dict(self) -> dict[str, Any]:
        checksum = self.checksum

        size = self.size

        timestamp = self.timestamp

        version = self.version

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "checksum": checksum,
                "size": size,
                "timestamp": timestamp,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        checksum = d.pop("checksum")

        size = d.pop("size")

        timestamp = d.pop("timestamp")

        version = d.pop("version")

        backup_upload_request = cls(
            checksum=checksum,
            size=size,
            timestamp=timestamp,
            version=version,
        )

        return backup_upload_request
