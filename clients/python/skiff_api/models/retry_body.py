from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from typing_extensions import Self

from ..models.backoff import Backoff

T = TypeVar("T", bound="RetryBody")


@_attrs_define
class RetryBody:
    """
    Attributes:
        backoff (Backoff):
        base_delay_ms (int): 100 to 900000.
        max_attempts (int): Runs in all, the first included (1 to 20).
    """

    backoff: Backoff
    base_delay_ms: int
    max_attempts: int

    def to_dict(self) -> dict[str, Any]:
        backoff = self.backoff.value

        base_delay_ms = self.base_delay_ms

        max_attempts = self.max_attempts

        field_dict: dict[str, Any] = {}

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

        retry_body = cls(
            backoff=backoff,
            base_delay_ms=base_delay_ms,
            max_attempts=max_attempts,
        )

        return retry_body
