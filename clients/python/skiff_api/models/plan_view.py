from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

if TYPE_CHECKING:
    from ..models.entitlements_view import EntitlementsView
    from ..models.plan_view_features import PlanViewFeatures
    from ..models.price_view import PriceView


T = TypeVar("T", bound="PlanView")


@_attrs_define
class PlanView:
    """A plan of the catalog.

    Attributes:
        description (str):
        entitlements (EntitlementsView): Numeric limits; -1 = unlimited.
        features (PlanViewFeatures):
        id (str):
        interval (str): `month` or `year`.
        name (str):
        price (PriceView): A price in minor units.
        trial_days (int):
    """

    description: str
    entitlements: EntitlementsView
    features: PlanViewFeatures
    id: str
    interval: str
    name: str
    price: PriceView
    trial_days: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        description = self.description

        entitlements = self.entitlements.to_dict()

        features = self.features.to_dict()

        id = self.id

        interval = self.interval

        name = self.name

        price = self.price.to_dict()

        trial_days = self.trial_days

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "description": description,
                "entitlements": entitlements,
                "features": features,
                "id": id,
                "interval": interval,
                "name": name,
                "price": price,
                "trial_days": trial_days,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.entitlements_view import EntitlementsView
        from ..models.plan_view_features import PlanViewFeatures
        from ..models.price_view import PriceView

        d = dict(src_dict)
        description = d.pop("description")

        entitlements = EntitlementsView.from_dict(d.pop("entitlements"))

        features = PlanViewFeatures.from_dict(d.pop("features"))

        id = d.pop("id")

        interval = d.pop("interval")

        name = d.pop("name")

        price = PriceView.from_dict(d.pop("price"))

        trial_days = d.pop("trial_days")

        plan_view = cls(
            description=description,
            entitlements=entitlements,
            features=features,
            id=id,
            interval=interval,
            name=name,
            price=price,
            trial_days=trial_days,
        )

        plan_view.additional_properties = d
        return plan_view

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
