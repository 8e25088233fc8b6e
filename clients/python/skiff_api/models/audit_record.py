from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.audit_record_detail import AuditRecordDetail


T = TypeVar("T", bound="AuditRecord")


@_attrs_define
class AuditRecord:
    """One entry, whichever domain wrote it.

    Attributes:
        action (str):
        actor (str):
        at (int):
        detail (AuditRecordDetail):
        domain (str): `identity`, `billing`, `licensing` or `admin`.
        id (str):
        org_id (None | str | Unset):
        target (None | str | Unset): What it happened to: a user, org, license or message id, or the payment
            provider's event id.
    """

    action: str
    actor: str
    at: int
    detail: AuditRecordDetail
    domain: str
    id: str
    org_id: None | str | Unset = UNSET
    target: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        action = self.action

        actor = self.actor

        at = self.at

        detail = self.detail.to_dict()

        domain = self.domain

        id = self.id

        org_id: None | str | Unset
        if isinstance(self.org_id, Unset):
            org_id = UNSET
        else:
            org_id = self.org_id

        target: None | str | Unset
        if isinstance(self.target, Unset):
            target = UNSET
        else:
            target = self.target

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "action": action,
                "actor": actor,
                "at": at,
                "detail": detail,
                "domain": domain,
                "id": id,
            }
        )
        if org_id is not UNSET:
            field_dict["org_id"] = org_id
        if target is not UNSET:
            field_dict["target"] = target

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.audit_record_detail import AuditRecordDetail

        d = dict(src_dict)
        action = d.pop("action")

        actor = d.pop("actor")

        at = d.pop("at")

        detail = AuditRecordDetail.from_dict(d.pop("detail"))

        domain = d.pop("domain")

        id = d.pop("id")

        def _parse_org_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        org_id = _parse_org_id(d.pop("org_id", UNSET))

        def _parse_target(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        target = _parse_target(d.pop("target", UNSET))

        audit_record = cls(
            action=action,
            actor=actor,
            at=at,
            detail=detail,
            domain=domain,
            id=id,
            org_id=org_id,
            target=target,
        )

        audit_record.additional_properties = d
        return audit_record

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
