from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from typing_extensions import Self

T = TypeVar("T", bound="ClaimDomain")


@_attrs_define
class ClaimDomain:
    """
    Attributes:
        host (str): `api.example.com` or `*.example.com`.
    """

    host: str

    def to_dict(self) -> dict[str, Any]:
        host = self.host

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "host": host,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        host = d.pop("host")

        claim_domain = cls(
            host=host,
        )

        return claim_domain
