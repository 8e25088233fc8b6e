from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.profile_view_hold_type_0 import ProfileViewHoldType0


T = TypeVar("T", bound="ProfileView")


@_attrs_define
class ProfileView:
    """The service profile as it applies, with the hold.

    Attributes:
        mode (str):
        tier (str):
        trialing (bool):
        hold (None | ProfileViewHoldType0 | Unset):
        reason (None | str | Unset):
    """

    mode: str
    tier: str
    trialing: bool
    hold: None | ProfileViewHoldType0 | Unset = UNSET
    reason: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.profile_view_hold_type_0 import ProfileViewHoldType0

        mode = self.mode

        tier = self.tier

        trialing = self.trialing

        hold: dict[str, Any] | None | Unset
        if isinstance(self.hold, Unset):
            hold = UNSET
        elif isinstance(self.hold, ProfileViewHoldType0):
            hold = self.hold.to_dict()
        else:
            hold = self.hold

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "mode": mode,
                "tier": tier,
                "trialing": trialing,
            }
        )
        if hold is not UNSET:
            field_dict["hold"] = hold
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.profile_view_hold_type_0 import ProfileViewHoldType0

        d = dict(src_dict)
        mode = d.pop("mode")

        tier = d.pop("tier")

        trialing = d.pop("trialing")

        def _parse_hold(data: object) -> None | ProfileViewHoldType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                hold_type_0 = ProfileViewHoldType0.from_dict(data)

                return hold_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ProfileViewHoldType0 | Unset, data)

        hold = _parse_hold(d.pop("hold", UNSET))

        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))

        profile_view = cls(
            mode=mode,
            tier=tier,
            trialing=trialing,
            hold=hold,
            reason=reason,
        )

        profile_view.additional_properties = d
        return profile_view

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
