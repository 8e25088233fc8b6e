from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.action import Action
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.audit_view_detail import AuditViewDetail


T = TypeVar("T", bound="AuditView")


@_attrs_define
class AuditView:
    """One audit entry as served.

    Attributes:
        action (Action): What happened.
        actor (str):
        at (str):
        detail (AuditViewDetail):
        id (str):
        license_id (str):
        ip (None | str | Unset):
        user_agent (None | str | Unset):
    """

    action: Action
    actor: str
    at: str
    detail: AuditViewDetail
    id: str
    license_id: str
    ip: None | str | Unset = UNSET
    user_agent: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        action = self.action.value

        actor = self.actor

        at = self.at

        detail = self.detail.to_dict()

        id = self.id

        license_id = self.license_id

        ip: None | str | Unset
        if isinstance(self.ip, Unset):
            ip = UNSET
        else:
            ip = self.ip

        user_agent: None | str | Unset
        if isinstance(self.user_agent, Unset):
            user_agent = UNSET
        else:
            user_agent = self.user_agent

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "action": action,
                "actor": actor,
                "at": at,
                "detail": detail,
                "id": id,
                "license_id": license_id,
            }
        )
        if ip is not UNSET:
            field_dict["ip"] = ip
        if user_agent is not UNSET:
            field_dict["user_agent"] = user_agent

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.audit_view_detail import AuditViewDetail

        d = dict(src_dict)
        action = Action(d.pop("action"))

        actor = d.pop("actor")

        at = d.pop("at")

        detail = AuditViewDetail.from_dict(d.pop("detail"))

        id = d.pop("id")

        license_id = d.pop("license_id")

        def _parse_ip(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ip = _parse_ip(d.pop("ip", UNSET))

        def _parse_user_agent(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        user_agent = _parse_user_agent(d.pop("user_agent", UNSET))

        audit_view = cls(
            action=action,
            actor=actor,
            at=at,
            detail=detail,
            id=id,
            license_id=license_id,
            ip=ip,
            user_agent=user_agent,
        )

        audit_view.additional_properties = d
        return audit_view

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
