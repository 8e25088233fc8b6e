from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.capabilities_view import CapabilitiesView
    from ..models.entitlements_view import EntitlementsView


T = TypeVar("T", bound="ServiceProfileView")


@_attrs_define
class ServiceProfileView:
    """
    Attributes:
        capabilities (CapabilitiesView):
        entitlements (EntitlementsView): Numeric limits; -1 = unlimited.
        features (list[str]):
        mode (str): `active`, `read_only` or `archived`.
        tier (str): The plan id (`free`, `starter`, `pro`, `enterprise`).
        trialing (bool):
        upgrade_url (str):
        reason (None | str | Unset): Why the mode is not `active`: `payment_failed`, `trial_expired`, `canceled`,
            `operator_hold`.
    """

    capabilities: CapabilitiesView
    entitlements: EntitlementsView
    features: list[str]
    mode: str
    tier: str
    trialing: bool
    upgrade_url: str
    reason: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        capabilities = self.capabilities.to_dict()

        entitlements = self.entitlements.to_dict()

        features = self.features

        mode = self.mode

        tier = self.tier

        trialing = self.trialing

        upgrade_url = self.upgrade_url

        reason: None | str | Unset
        if isinstance(self.reason, Unset):
            reason = UNSET
        else:
            reason = self.reason

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "capabilities": capabilities,
                "entitlements": entitlements,
                "features": features,
                "mode": mode,
                "tier": tier,
                "trialing": trialing,
                "upgrade_url": upgrade_url,
            }
        )
        if reason is not UNSET:
            field_dict["reason"] = reason

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.capabilities_view import CapabilitiesView
        from ..models.entitlements_view import EntitlementsView

        d = dict(src_dict)
        capabilities = CapabilitiesView.from_dict(d.pop("capabilities"))

        entitlements = EntitlementsView.from_dict(d.pop("entitlements"))

        features = cast(list[str], d.pop("features"))

        mode = d.pop("mode")

        tier = d.pop("tier")

        trialing = d.pop("trialing")

        upgrade_url = d.pop("upgrade_url")

        def _parse_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        reason = _parse_reason(d.pop("reason", UNSET))

        service_profile_view = cls(
            capabilities=capabilities,
            entitlements=entitlements,
            features=features,
            mode=mode,
            tier=tier,
            trialing=trialing,
            upgrade_url=upgrade_url,
            reason=reason,
        )

        service_profile_view.additional_properties = d
        return service_profile_view

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
