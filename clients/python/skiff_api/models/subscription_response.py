from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..types import UNSET, Unset

T = TypeVar("T", bound="SubscriptionResponse")


@_attrs_define
class SubscriptionResponse:
    """
    Attributes:
        cancel_at_period_end (bool):
        failed_payment_count (int):
        plan_id (str):
        seats (int): Seats of the license (-1 = unlimited).
        status (str): `trialing|active|past_due|canceled|none`.
        current_period_end (int | None | Unset): Unix seconds.
        grace_ends_at (int | None | Unset):
        trial_end (int | None | Unset):
    """

    cancel_at_period_end: bool
    failed_payment_count: int
    plan_id: str
    seats: int
    status: str
    current_period_end: int | None | Unset = UNSET
    grace_ends_at: int | None | Unset = UNSET
    trial_end: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cancel_at_period_end = self.cancel_at_period_end

        failed_payment_count = self.failed_payment_count

        plan_id = self.plan_id

        seats = self.seats

        status = self.status

        current_period_end: int | None | Unset
        if isinstance(self.current_period_end, Unset):
            current_period_end = UNSET
        else:
            current_period_end = self.current_period_end

        grace_ends_at: int | None | Unset
        if isinstance(self.grace_ends_at, Unset):
            grace_ends_at = UNSET
        else:
            grace_ends_at = self.grace_ends_at

        trial_end: int | None | Unset
        if isinstance(self.trial_end, Unset):
            trial_end = UNSET
        else:
            trial_end = self.trial_end

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cancel_at_period_end": cancel_at_period_end,
                "failed_payment_count": failed_payment_count,
                "plan_id": plan_id,
                "seats": seats,
                "status": status,
            }
        )
        if current_period_end is not UNSET:
            field_dict["current_period_end"] = current_period_end
        if grace_ends_at is not UNSET:
            field_dict["grace_ends_at"] = grace_ends_at
        if trial_end is not UNSET:
            field_dict["trial_end"] = trial_end

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        cancel_at_period_end = d.pop("cancel_at_period_end")

        failed_payment_count = d.pop("failed_payment_count")

        plan_id = d.pop("plan_id")

        seats = d.pop("seats")

        status = d.pop("status")

        def _parse_current_period_end(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        current_period_end = _parse_current_period_end(
            d.pop("current_period_end", UNSET)
        )

        def _parse_grace_ends_at(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        grace_ends_at = _parse_grace_ends_at(d.pop("grace_ends_at", UNSET))

        def _parse_trial_end(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        trial_end = _parse_trial_end(d.pop("trial_end", UNSET))

        subscription_response = cls(
            cancel_at_period_end=cancel_at_period_end,
            failed_payment_count=failed_payment_count,
            plan_id=plan_id,
            seats=seats,
            status=status,
            current_period_end=current_period_end,
            grace_ends_at=grace_ends_at,
            trial_end=trial_end,
        )

        subscription_response.additional_properties = d
        return subscription_response

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
