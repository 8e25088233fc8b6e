from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from typing_extensions import Self

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.retry_body import RetryBody


T = TypeVar("T", bound="DeadLetterTriggerBody")


@_attrs_define
class DeadLetterTriggerBody:
    """
    Attributes:
        script_id (str):
        retry (None | RetryBody | Unset):
    """

    script_id: str
    retry: None | RetryBody | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.retry_body import RetryBody

        script_id = self.script_id

        retry: dict[str, Any] | None | Unset
        if isinstance(self.retry, Unset):
            retry = UNSET
        elif isinstance(self.retry, RetryBody):
            retry = self.retry.to_dict()
        else:
            retry = self.retry

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "script_id": script_id,
            }
        )
        if retry is not UNSET:
            field_dict["retry"] = retry

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.retry_body import RetryBody

        d = dict(src_dict)
        script_id = d.pop("script_id")

        def _parse_retry(data: object) -> None | RetryBody | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                retry_type_1 = RetryBody.from_dict(data)

                return retry_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RetryBody | Unset, data)

        retry = _parse_retry(d.pop("retry", UNSET))

        dead_letter_trigger_body = cls(
            script_id=script_id,
            retry=retry,
        )

        return dead_letter_trigger_body
