from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

T = TypeVar("T", bound="PublicKeyInfo")


@_attrs_define
class PublicKeyInfo:
    """The public key in the forms clients use.

    Attributes:
        alg (str):
        kid (str):
        public_key (str): The 32-byte raw public key, standard base64.
        public_key_hex (str): The same, hex.
        public_key_pem (str): SubjectPublicKeyInfo PEM (`openssl pkey -pubin` reads it).
    """

    alg: str
    kid: str
    public_key: str
    public_key_hex: str
    public_key_pem: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        alg = self.alg

        kid = self.kid

        public_key = self.public_key

        public_key_hex = self.public_key_hex

        public_key_pem = self.public_key_pem

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "alg": alg,
                "kid": kid,
                "public_key": public_key,
                "public_key_hex": public_key_hex,
                "public_key_pem": public_key_pem,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        alg = d.pop("alg")

        kid = d.pop("kid")

        public_key = d.pop("public_key")

        public_key_hex = d.pop("public_key_hex")

        public_key_pem = d.pop("public_key_pem")

        public_key_info = cls(
            alg=alg,
            kid=kid,
            public_key=public_key,
            public_key_hex=public_key_hex,
            public_key_pem=public_key_pem,
        )

        public_key_info.additional_properties = d
        return public_key_info

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
