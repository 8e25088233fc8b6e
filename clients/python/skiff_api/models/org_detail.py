from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

if TYPE_CHECKING:
    from ..models.member_view import MemberView
    from ..models.org_detail_subscription import OrgDetailSubscription
    from ..models.org_license import OrgLicense
    from ..models.profile_view import ProfileView
    from ..models.usage import Usage


T = TypeVar("T", bound="OrgDetail")


@_attrs_define
class OrgDetail:
    """An org's page.

    Attributes:
        created_at (int):
        id (str):
        licenses (list[OrgLicense]):
        members (list[MemberView]):
        name (str):
        profile (ProfileView): The service profile as it applies, with the hold.
        subscription (OrgDetailSubscription):
        usage (list[Usage]):
    """

    created_at: int
    id: str
    licenses: list[OrgLicense]
    members: list[MemberView]
    name: str
    profile: ProfileView
    subscription: OrgDetailSubscription
    usage: list[Usage]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at

        id = self.id

        licenses = []
        for licenses_item_data in self.licenses:
            licenses_item = licenses_item_data.to_dict()
            licenses.append(licenses_item)

        members = []
        for members_item_data in self.members:
            members_item = members_item_data.to_dict()
            members.append(members_item)

        name = self.name

        profile = self.profile.to_dict()

        subscription = self.subscription.to_dict()

        usage = []
        for usage_item_data in self.usage:
            usage_item = usage_item_data.to_dict()
            usage.append(usage_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "id": id,
                "licenses": licenses,
                "members": members,
                "name": name,
                "profile": profile,
                "subscription": subscription,
                "usage": usage,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.member_view import MemberView
        from ..models.org_detail_subscription import OrgDetailSubscription
        from ..models.org_license import OrgLicense
        from ..models.profile_view import ProfileView
        from ..models.usage import Usage

        d = dict(src_dict)
        created_at = d.pop("created_at")

        id = d.pop("id")

        licenses = []
        _licenses = d.pop("licenses")
        for licenses_item_data in _licenses:
            licenses_item = OrgLicense.from_dict(licenses_item_data)

            licenses.append(licenses_item)

        members = []
        _members = d.pop("members")
        for members_item_data in _members:
            members_item = MemberView.from_dict(members_item_data)

            members.append(members_item)

        name = d.pop("name")

        profile = ProfileView.from_dict(d.pop("profile"))

        subscription = OrgDetailSubscription.from_dict(d.pop("subscription"))

        usage = []
        _usage = d.pop("usage")
        for usage_item_data in _usage:
            usage_item = Usage.from_dict(usage_item_data)

            usage.append(usage_item)

        org_detail = cls(
            created_at=created_at,
            id=id,
            licenses=licenses,
            members=members,
            name=name,
            profile=profile,
            subscription=subscription,
            usage=usage,
        )

        org_detail.additional_properties = d
        return org_detail

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
