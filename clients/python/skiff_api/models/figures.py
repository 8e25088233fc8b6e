from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

T = TypeVar("T", bound="Figures")


@_attrs_define
class Figures:
    """The figures at one instant.

    Attributes:
        active_subscriptions (int):
        arr (int): Annual run rate: 12 × `mrr`.
        as_of (int): Unix seconds the figures are of.
        churn_rate_30d (float): 0–1.
        currency (str): ISO 4217, lowercase (the catalog's).
        license_utilization (float): Live sessions / seats of active licenses, 0–1.
        mrr (int): Monthly recurring revenue, in minor units of `currency`.
        new_signups_this_month (int):
        past_due (int):
        seats_in_use (int):
        seats_total (int):
        trial_conversion_rate (float): 0–1.
        trialing (int):
    """

    active_subscriptions: int
    arr: int
    as_of: int
    churn_rate_30d: float
    currency: str
    license_utilization: float
    mrr: int
    new_signups_this_month: int
    past_due: int
    seats_in_use: int
    seats_total: int
    trial_conversion_rate: float
    trialing: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        active_subscriptions = self.active_subscriptions

        arr = self.arr

        as_of = self.as_of

        churn_rate_30d = self.churn_rate_30d

        currency = self.currency

        license_utilization = self.license_utilization

        mrr = self.mrr

        new_signups_this_month = self.new_signups_this_month

        past_due = self.past_due

        seats_in_use = self.seats_in_use

        seats_total = self.seats_total

        trial_conversion_rate = self.trial_conversion_rate

        trialing = self.trialing

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "active_subscriptions": active_subscriptions,
                "arr": arr,
                "as_of": as_of,
                "churn_rate_30d": churn_rate_30d,
                "currency": currency,
                "license_utilization": license_utilization,
                "mrr": mrr,
                "new_signups_this_month": new_signups_this_month,
                "past_due": past_due,
                "seats_in_use": seats_in_use,
                "seats_total": seats_total,
                "trial_conversion_rate": trial_conversion_rate,
                "trialing": trialing,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        active_subscriptions = d.pop("active_subscriptions")

        arr = d.pop("arr")

        as_of = d.pop("as_of")

        churn_rate_30d = d.pop("churn_rate_30d")

        currency = d.pop("currency")

        license_utilization = d.pop("license_utilization")

        mrr = d.pop("mrr")

        new_signups_this_month = d.pop("new_signups_this_month")

        past_due = d.pop("past_due")

        seats_in_use = d.pop("seats_in_use")

        seats_total = d.pop("seats_total")

        trial_conversion_rate = d.pop("trial_conversion_rate")

        trialing = d.pop("trialing")

        figures = cls(
            active_subscriptions=active_subscriptions,
            arr=arr,
            as_of=as_of,
            churn_rate_30d=churn_rate_30d,
            currency=currency,
            license_utilization=license_utilization,
            mrr=mrr,
            new_signups_this_month=new_signups_this_month,
            past_due=past_due,
            seats_in_use=seats_in_use,
            seats_total=seats_total,
            trial_conversion_rate=trial_conversion_rate,
            trialing=trialing,
        )

        figures.additional_properties = d
        return figures

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
