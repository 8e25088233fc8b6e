from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from typing_extensions import Self

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.retry_body import RetryBody


T = TypeVar("T", bound="CronTriggerBody")


@_attrs_define
class CronTriggerBody:
    """
    Attributes:
        schedule (str): Six fields: second minute hour day-of-month month day-of-week.
        script_id (str):
        retry (None | RetryBody | Unset):
        timezone (None | str | Unset): An IANA time zone (default `UTC`).
    """

    schedule: str
    script_id: str
    retry: None | RetryBody | Unset = UNSET
    timezone: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.retry_body import RetryBody

        schedule = self.schedule

        script_id = self.script_id

        retry: dict[str, Any] | None | Unset
        if isinstance(self.retry, Unset):
            retry = UNSET
        elif isinstance(self.retry, RetryBody):
            retry = self.retry.to_dict()
        else:
            retry = self.retry

        timezone: None | str | Unset
        if isinstance(self.timezone, Unset):
            timezone = UNSET
        else:
            timezone = self.timezone

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "schedule": schedule,
                "script_id": script_id,
            }
        )
        if retry is not UNSET:
            field_dict["retry"] = retry
        if timezone is not UNSET:
            field_dict["timezone"] = timezone

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.retry_body import RetryBody

        d = dict(src_dict)
        schedule = d.pop("schedule")

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

        def _parse_timezone(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        timezone = _parse_timezone(d.pop("timezone", UNSET))

        cron_trigger_body = cls(
            schedule=schedule,
            script_id=script_id,
            retry=retry,
            timezone=timezone,
        )

        return cron_trigger_body
