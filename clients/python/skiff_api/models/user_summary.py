from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.user_status import UserStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="UserSummary")


@_attrs_define
class UserSummary:
    """An account as operators see it (never its password hash).

    Attributes:
        created_at (int):
        email (str):
        email_verified (bool):
        full_name (str):
        id (str):
        platform_admin (bool):
        status (UserStatus): Where an account stands.
        company (None | str | Unset):
        suspended_at (int | None | Unset):
    """

    created_at: int
    email: str
    email_verified: bool
    full_name: str
    id: str
    platform_admin: bool
    status: UserStatus
    company: None | str | Unset = UNSET
    suspended_at: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at

        email = self.email

        email_verified = self.email_verified

        full_name = self.full_name

        id = self.id

        platform_admin = self.platform_admin

        status = self.status.value

        company: None | str | Unset
        if isinstance(self.company, Unset):
            company = UNSET
        else:
            company = self.company

        suspended_at: int | None | Unset
        if isinstance(self.suspended_at, Unset):
            suspended_at = UNSET
        else:
            suspended_at = self.suspended_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "email": email,
                "email_verified": email_verified,
                "full_name": full_name,
                "id": id,
                "platform_admin": platform_admin,
                "status": status,
            }
        )
        if company is not UNSET:
            field_dict["company"] = company
        if suspended_at is not UNSET:
            field_dict["suspended_at"] = suspended_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        created_at = d.pop("created_at")

        email = d.pop("email")

        email_verified = d.pop("email_verified")

        full_name = d.pop("full_name")

        id = d.pop("id")

        platform_admin = d.pop("platform_admin")

        status = UserStatus(d.pop("status"))

        def _parse_company(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        company = _parse_company(d.pop("company", UNSET))

        def _parse_suspended_at(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        suspended_at = _parse_suspended_at(d.pop("suspended_at", UNSET))

        user_summary = cls(
            created_at=created_at,
            email=email,
            email_verified=email_verified,
            full_name=full_name,
            id=id,
            platform_admin=platform_admin,
            status=status,
            company=company,
            suspended_at=suspended_at,
        )

        user_summary.additional_properties = d
        return user_summary

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
