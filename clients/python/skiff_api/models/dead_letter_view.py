from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.dead_letter_status import DeadLetterStatus
from ..models.trigger_kind import TriggerKind
from ..types import UNSET, Unset

T = TypeVar("T", bound="DeadLetterView")


@_attrs_define
class DeadLetterView:
    """
    Attributes:
        attempts (int):
        created_at (str):
        error (str): The last run's failure.
        event (Any): The event the failed runs carried.
        first_failure_at (str):
        id (str):
        last_failure_at (str):
        replays (int):
        script_id (str):
        status (DeadLetterStatus):
        trigger_id (str):
        trigger_kind (TriggerKind):
        handler_error (None | str | Unset):
        resolution (None | str | Unset):
        resolved_at (None | str | Unset):
    """

    attempts: int
    created_at: str
    error: str
    event: Any
    first_failure_at: str
    id: str
    last_failure_at: str
    replays: int
    script_id: str
    status: DeadLetterStatus
    trigger_id: str
    trigger_kind: TriggerKind
    handler_error: None | str | Unset = UNSET
    resolution: None | str | Unset = UNSET
    resolved_at: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempts = self.attempts

        created_at = self.created_at

        error = self.error

        event = self.event

        first_failure_at = self.first_failure_at

        id = self.id

        last_failure_at = self.last_failure_at

        replays = self.replays

        script_id = self.script_id

        status = self.status.value

        trigger_id = self.trigger_id

        trigger_kind = self.trigger_kind.value

        handler_error: None | str | Unset
        if isinstance(self.handler_error, Unset):
            handler_error = UNSET
        else:
            handler_error = self.handler_error

        resolution: None | str | Unset
        if isinstance(self.resolution, Unset):
            resolution = UNSET
        else:
            resolution = self.resolution

        resolved_at: None | str | Unset
        if isinstance(self.resolved_at, Unset):
            resolved_at = UNSET
        else:
            resolved_at = self.resolved_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempts": attempts,
                "created_at": created_at,
                "error": error,
                "event": event,
                "first_failure_at": first_failure_at,
                "id": id,
                "last_failure_at": last_failure_at,
                "replays": replays,
                "script_id": script_id,
                "status": status,
                "trigger_id": trigger_id,
                "trigger_kind": trigger_kind,
            }
        )
        if handler_error is not UNSET:
            field_dict["handler_error"] = handler_error
        if resolution is not UNSET:
            field_dict["resolution"] = resolution
        if resolved_at is not UNSET:
            field_dict["resolved_at"] = resolved_at

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        attempts = d.pop("attempts")

        created_at = d.pop("created_at")

        error = d.pop("error")

        event = d.pop("event")

        first_failure_at = d.pop("first_failure_at")

        id = d.pop("id")

        last_failure_at = d.pop("last_failure_at")

        replays = d.pop("replays")

        script_id = d.pop("script_id")

        status = DeadLetterStatus(d.pop("status"))

        trigger_id = d.pop("trigger_id")

        trigger_kind = TriggerKind(d.pop("trigger_kind"))

        def _parse_handler_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        handler_error = _parse_handler_error(d.pop("handler_error", UNSET))

        def _parse_resolution(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        resolution = _parse_resolution(d.pop("resolution", UNSET))

        def _parse_resolved_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        resolved_at = _parse_resolved_at(d.pop("resolved_at", UNSET))

        dead_letter_view = cls(
            attempts=attempts,
            created_at=created_at,
            error=error,
            event=event,
            first_failure_at=first_failure_at,
            id=id,
            last_failure_at=last_failure_at,
            replays=replays,
            script_id=script_id,
            status=status,
            trigger_id=trigger_id,
            trigger_kind=trigger_kind,
            handler_error=handler_error,
            resolution=resolution,
            resolved_at=resolved_at,
        )

        dead_letter_view.additional_properties = d
        return dead_letter_view

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
