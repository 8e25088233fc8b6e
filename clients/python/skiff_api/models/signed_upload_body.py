from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

if TYPE_CHECKING:
    from ..models.signed_upload_body_headers import SignedUploadBodyHeaders


T = TypeVar("T", bound="SignedUploadBody")


@_attrs_define
class SignedUploadBody:
    """Where and how to send the bytes of a signed upload.

    Attributes:
        expires_at (str): RFC 3339: the URL stops working then.
        headers (SignedUploadBodyHeaders):
        method (str):
        upload_url (str): Send the bytes here, with `method` and every header of `headers`.
    """

    expires_at: str
    headers: SignedUploadBodyHeaders
    method: str
    upload_url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        expires_at = self.expires_at

        headers = self.headers.to_dict()

        method = self.method

        upload_url = self.upload_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "expires_at": expires_at,
                "headers": headers,
                "method": method,
                "upload_url": upload_url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.signed_upload_body_headers import SignedUploadBodyHeaders

        d = dict(src_dict)
        expires_at = d.pop("expires_at")

        headers = SignedUploadBodyHeaders.from_dict(d.pop("headers"))

        method = d.pop("method")

        upload_url = d.pop("upload_url")

        signed_upload_body = cls(
            expires_at=expires_at,
            headers=headers,
            method=method,
            upload_url=upload_url,
        )

        signed_upload_body.additional_properties = d
        return signed_upload_body

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
