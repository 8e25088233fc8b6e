from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from typing_extensions import Self

from ..models.script_kind import ScriptKind
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.script_body_sandbox_type_0 import ScriptBodySandboxType0


T = TypeVar("T", bound="ScriptBody")


@_attrs_define
class ScriptBody:
    """
    Attributes:
        name (str): `[A-Za-z0-9_-]{1,64}`, unique in the app (modules are imported by it).
        source (str): Rhai source, compiled when saved.
        kind (None | ScriptKind | Unset):
        sandbox (None | ScriptBodySandboxType0 | Unset): Tighter (or, up to the ceiling, looser) limits:
            `max_operations`,
            `max_string_size`, `max_array_size`, `max_map_size`, `max_call_levels`,
            `max_expr_depth`, `timeout_ms`, `max_output_bytes`.
        timeout_seconds (int | None | Unset): Shorthand for `sandbox.timeout_ms`.
    """

    name: str
    source: str
    kind: None | ScriptKind | Unset = UNSET
    sandbox: None | ScriptBodySandboxType0 | Unset = UNSET
    timeout_seconds: int | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.script_body_sandbox_type_0 import ScriptBodySandboxType0

        name = self.name

        source = self.source

        kind: None | str | Unset
        if isinstance(self.kind, Unset):
            kind = UNSET
        elif isinstance(self.kind, ScriptKind):
            kind = self.kind.value
        else:
            kind = self.kind

        sandbox: dict[str, Any] | None | Unset
        if isinstance(self.sandbox, Unset):
            sandbox = UNSET
        elif isinstance(self.sandbox, ScriptBodySandboxType0):
            sandbox = self.sandbox.to_dict()
        else:
            sandbox = self.sandbox

        timeout_seconds: int | None | Unset
        if isinstance(self.timeout_seconds, Unset):
            timeout_seconds = UNSET
        else:
            timeout_seconds = self.timeout_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "source": source,
            }
        )
        if kind is not UNSET:
            field_dict["kind"] = kind
        if sandbox is not UNSET:
            field_dict["sandbox"] = sandbox
        if timeout_seconds is not UNSET:
            field_dict["timeout_seconds"] = timeout_seconds

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.script_body_sandbox_type_0 import ScriptBodySandboxType0

        d = dict(src_dict)
        name = d.pop("name")

        source = d.pop("source")

        def _parse_kind(data: object) -> None | ScriptKind | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                kind_type_1 = ScriptKind(data)

                return kind_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ScriptKind | Unset, data)

        kind = _parse_kind(d.pop("kind", UNSET))

        def _parse_sandbox(data: object) -> None | ScriptBodySandboxType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                sandbox_type_0 = ScriptBodySandboxType0.from_dict(data)

                return sandbox_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ScriptBodySandboxType0 | Unset, data)

        sandbox = _parse_sandbox(d.pop("sandbox", UNSET))

        def _parse_timeout_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        timeout_seconds = _parse_timeout_seconds(d.pop("timeout_seconds", UNSET))

        script_body = cls(
            name=name,
            source=source,
            kind=kind,
            sandbox=sandbox,
            timeout_seconds=timeout_seconds,
        )

        return script_body
