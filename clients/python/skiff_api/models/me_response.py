from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

if TYPE_CHECKING:
    from ..models.org_summary import OrgSummary


T = TypeVar("T", bound="MeResponse")


@_attrs_define
class MeResponse:
    """
    Attributes:
        created_at (str): RFC 3339.
        email (str):
        email_verified (bool):
        full_name (str):
        id (str):
        org (OrgSummary):
        platform_admin (bool): A platform operator (set only by `skiff admin grant`).
    """

    created_at: str
    email: str
    email_verified: bool
    full_name: str
    id: str
    org: OrgSummary
    platform_admin: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at

        email = self.email

        email_verified = self.email_verified

        full_name = self.full_name

        id = self.id

        org = self.org.to_dict()

        platform_admin = self.platform_admin

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "email": email,
                "email_verified": email_verified,
                "full_name": full_name,
                "id": id,
                "org": org,
                "platform_admin": platform_admin,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.org_summary import OrgSummary

        d = dict(src_dict)
        created_at = d.pop("created_at")

        email = d.pop("email")

        email_verified = d.pop("email_verified")

        full_name = d.pop("full_name")

        id = d.pop("id")

        org = OrgSummary.from_dict(d.pop("org"))

        platform_admin = d.pop("platform_admin")

        me_response = cls(
            created_at=created_at,
            email=email,
            email_verified=email_verified,
            full_name=full_name,
            id=id,
            org=org,
            platform_admin=platform_admin,
        )

        me_response.additional_properties = d
        return me_response

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
