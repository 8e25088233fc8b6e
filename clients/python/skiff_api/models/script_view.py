from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..models.script_kind import ScriptKind

if TYPE_CHECKING:
    from ..models.script_view_sandbox import ScriptViewSandbox


T = TypeVar("T", bound="ScriptView")


@_attrs_define
class ScriptView:
    """
    Attributes:
        app_id (str):
        created_at (str):
        id (str):
        kind (ScriptKind):
        name (str):
        sandbox (ScriptViewSandbox): The limits the script asked for (the rest are the platform's defaults).
        source (str):
        updated_at (str):
        version (int):
    """

    app_id: str
    created_at: str
    id: str
    kind: ScriptKind
    name: str
    sandbox: ScriptViewSandbox
    source: str
    updated_at: str
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        app_id = self.app_id

        created_at = self.created_at

        id = self.id

        kind = self.kind.value

        name = self.name

        sandbox = self.sandbox.to_dict()

        source = self.source

        updated_at = self.updated_at

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "app_id": app_id,
                "created_at": created_at,
                "id": id,
                "kind": kind,
                "name": name,
                "sandbox": sandbox,
                "source": source,
                "updated_at": updated_at,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.script_view_sandbox import ScriptViewSandbox

        d = dict(src_dict)
        app_id = d.pop("app_id")

        created_at = d.pop("created_at")

        id = d.pop("id")

        kind = ScriptKind(d.pop("kind"))

        name = d.pop("name")

        sandbox = ScriptViewSandbox.from_dict(d.pop("sandbox"))

        source = d.pop("source")

        updated_at = d.pop("updated_at")

        version = d.pop("version")

        script_view = cls(
            app_id=app_id,
            created_at=created_at,
            id=id,
            kind=kind,
            name=name,
            sandbox=sandbox,
            source=source,
            updated_at=updated_at,
            version=version,
        )

        script_view.additional_properties = d
        return script_view

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
