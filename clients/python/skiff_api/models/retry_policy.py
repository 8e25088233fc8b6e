from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.backoff import Backoff

T = TypeVar("T", bound="RetryPolicy")


@_attrs_define
class RetryPolicy:
    """How a trigger's failed runs are retried.

    Attributes:
        backoff (Backoff):
        base_delay_ms (int): The first retry's delay (100 ms to 15 min).
        max_attempts (int): Runs in all, the first included (1 to 20).
    """

    backoff: Backoff
    base_delay_ms: int
    max_attempts: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        backoff = self.backoff.value

        base_delay_ms = self.base_delay_ms

        max_attempts = self.max_attempts

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "backoff": backoff,
                "base_delay_ms": base_delay_ms,
                "max_attempts": max_attempts,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        backoff = Backoff(d.pop("backoff"))

        base_delay_ms = d.pop("base_delay_ms")

        max_attempts = d.pop("max_attempts")

        retry_policy = cls(
            backoff=backoff,
            base_delay_ms=base_delay_ms,
            max_attempts=max_attempts,
        )

        retry_policy.additional_properties = d
        return retry_policy

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
