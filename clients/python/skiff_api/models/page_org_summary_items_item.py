from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..types import UNSET, Unset

T = TypeVar("T", bound="PageOrgSummaryItemsItem")


@_attrs_define
class PageOrgSummaryItemsItem:
    """An org as the list shows it.

    Attributes:
        created_at (int):
        held (bool):
        id (str):
        mode (str): As it applies now: a held org is `read_only`.
        name (str):
        plan (str): The plan (the service profile's tier).
        subscription_status (str): `none` when the org never subscribed.
        reason (None | str | Unset):
    """

    created_at: int
    held: bool
    id: str
    mode: str
    name: str
    plan: str
    subscription_status: str
    reason: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at

        held = self.held

        id = self.id

        mode = self.mode

        name = self.name

        plan = self.plan

        subscription_status = self.subscription_status

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "held": held,
                "id": id,
                "mode": mode,
                "name": name,
                "plan": plan,
                "subscription_status": subscription_status,
            }
        )
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        created_at = d.pop("created_at")

        held = d.pop("held")

        id = d.pop("id")

        mode = d.pop("mode")

        name = d.pop("name")

        plan = d.pop("plan")

        subscription_status = d.pop("subscription_status")

        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))

        page_org_summary_items_item = cls(
            created_at=created_at,
            held=held,
            id=id,
            mode=mode,
            name=name,
            plan=plan,
            subscription_status=subscription_status,
            reason=reason,
        )

        page_org_summary_items_item.additional_properties = d
        return page_org_summary_items_item

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
