from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.op import Op
from ..models.trigger_kind import TriggerKind
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.retry_policy import RetryPolicy


T = TypeVar("T", bound="TriggerView")


@_attrs_define
class TriggerView:
    """
    Attributes:
        created_at (str):
        id (str):
        kind (TriggerKind):
        retry (RetryPolicy): How a trigger's failed runs are retried.
        script_id (str):
        collection (None | str | Unset):
        next_run_at (None | str | Unset): RFC 3339: the next occurrence of a cron trigger.
        ops (list[Op] | Unset):
        schedule (None | str | Unset):
        timezone (None | str | Unset):
        topic (None | str | Unset):
    """

    created_at: str
    id: str
    kind: TriggerKind
    retry: RetryPolicy
    script_id: str
    collection: None | str | Unset = UNSET
    next_run_at: None | str | Unset = UNSET
    ops: list[Op] | Unset = UNSET
    schedule: None | str | Unset = UNSET
    timezone: None | str | Unset = UNSET
    topic: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at

        id = self.id

        kind = self.kind.value

        retry = self.retry.to_dict()

        script_id = self.script_id

        collection: None | str | Unset
        if isinstance(self.collection, Unset):
            collection = UNSET
        else:
            collection = self.collection

        next_run_at: None | str | Unset
        if isinstance(self.next_run_at, Unset):
            next_run_at = UNSET
        else:
            next_run_at = self.next_run_at

        ops: list[str] | Unset = UNSET
        if not isinstance(self.ops, Unset):
            ops = []
            for ops_item_data in self.ops:
                ops_item = ops_item_data.value
                ops.append(ops_item)

        schedule: None | str | Unset
        if isinstance(self.schedule, Unset):
            schedule = UNSET
        else:
            schedule = self.schedule

        timezone: None | str | Unset
        if isinstance(self.timezone, Unset):
            timezone = UNSET
        else:
            timezone = self.timezone

        topic: None | str | Unset
        if isinstance(self.topic, Unset):
            topic = UNSET
        else:
            topic = self.topic

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "id": id,
                "kind": kind,
                "retry": retry,
                "script_id": script_id,
            }
        )
        if collection is not UNSET:
            field_dict["collection"] = collection
        if next_run_at is not UNSET:
            field_dict["next_run_at"] = next_run_at
        if ops is not UNSET:
            field_dict["ops"] = ops
        if schedule is not UNSET:
            field_dict["schedule"] = schedule
        if timezone is not UNSET:
            field_dict["timezone"] = timezone
        if topic is not UNSET:
            field_dict["topic"] = topic

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.retry_policy import RetryPolicy

        d = dict(src_dict)
        created_at = d.pop("created_at")

        id = d.pop("id")

        kind = TriggerKind(d.pop("kind"))

        retry = RetryPolicy.from_dict(d.pop("retry"))

        script_id = d.pop("script_id")

        def _parse_collection(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        collection = _parse_collection(d.pop("collection", UNSET))

        def _parse_next_run_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        next_run_at = _parse_next_run_at(d.pop("next_run_at", UNSET))

        _ops = d.pop("ops", UNSET)
        ops: list[Op] | Unset = UNSET
        if _ops is not UNSET:
            ops = []
            for ops_item_data in _ops:
                ops_item = Op(ops_item_data)

                ops.append(ops_item)

        def _parse_schedule(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        schedule = _parse_schedule(d.pop("schedule", UNSET))

        def _parse_timezone(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        timezone = _parse_timezone(d.pop("timezone", UNSET))

        def _parse_topic(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        topic = _parse_topic(d.pop("topic", UNSET))

        trigger_view = cls(
            created_at=created_at,
            id=id,
            kind=kind,
            retry=retry,
            script_id=script_id,
            collection=collection,
            next_run_at=next_run_at,
            ops=ops,
            schedule=schedule,
            timezone=timezone,
            topic=topic,
        )

        trigger_view.additional_properties = d
        return trigger_view

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
