from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.run_status import RunStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.log_line import LogLine
    from ..models.request_summary import RequestSummary


T = TypeVar("T", bound="LogView")


@_attrs_define
class LogView:
    """
    Attributes:
        duration_ms (int):
        execution_id (str):
        logs (list[LogLine]):
        request (RequestSummary): What started a run, and the request's shape (never its body or headers'
            values: they may carry secrets).
        script_id (str):
        started_at (str):
        status (RunStatus):
        error (None | str | Unset):
        status_code (int | None | Unset):
    """

    duration_ms: int
    execution_id: str
    logs: list[LogLine]
    request: RequestSummary
    script_id: str
    started_at: str
    status: RunStatus
    error: None | str | Unset = UNSET
    status_code: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        duration_ms = self.duration_ms

        execution_id = self.execution_id

        logs = []
        for logs_item_data in self.logs:
            logs_item = logs_item_data.to_dict()
            logs.append(logs_item)

        request = self.request.to_dict()

        script_id = self.script_id

        started_at = self.started_at

        status = self.status.value

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        status_code: int | None | Unset
        if isinstance(self.status_code, Unset):
            status_code = UNSET
        else:
            status_code = self.status_code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "duration_ms": duration_ms,
                "execution_id": execution_id,
                "logs": logs,
                "request": request,
                "script_id": script_id,
                "started_at": started_at,
                "status": status,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if status_code is not UNSET:
            field_dict["status_code"] = status_code

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.log_line import LogLine
        from ..models.request_summary import RequestSummary

        d = dict(src_dict)
        duration_ms = d.pop("duration_ms")

        execution_id = d.pop("execution_id")

        logs = []
        _logs = d.pop("logs")
        for logs_item_data in _logs:
            logs_item = LogLine.from_dict(logs_item_data)

            logs.append(logs_item)

        request = RequestSummary.from_dict(d.pop("request"))

        script_id = d.pop("script_id")

        started_at = d.pop("started_at")

        status = RunStatus(d.pop("status"))

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_status_code(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        status_code = _parse_status_code(d.pop("status_code", UNSET))

        log_view = cls(
            duration_ms=duration_ms,
            execution_id=execution_id,
            logs=logs,
            request=request,
            script_id=script_id,
            started_at=started_at,
            status=status,
            error=error,
            status_code=status_code,
        )

        log_view.additional_properties = d
        return log_view

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
