from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from typing_extensions import Self

from ..models.op import Op
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.retry_body import RetryBody


T = TypeVar("T", bound="DataTriggerBody")


@_attrs_define
class DataTriggerBody:
    """A data trigger: `{script_id, collection, ops?, retry?}`.

    Attributes:
        collection (str): `*`, `prefix*` or a collection name.
        script_id (str): An endpoint script of the app.
        ops (list[Op] | Unset): `insert`, `update`, `delete`; empty or absent: any.
        retry (None | RetryBody | Unset):
    """

    collection: str
    script_id: str
    ops: list[Op] | Unset = UNSET
    retry: None | RetryBody | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        from ..models.retry_body import RetryBody

        collection = self.collection

        script_id = self.script_id

        ops: list[str] | Unset = UNSET
        if not isinstance(self.ops, Unset):
            ops = []
            for ops_item_data in self.ops:
                ops_item = ops_item_data.value
                ops.append(ops_item)

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
                "collection": collection,
                "script_id": script_id,
            }
        )
        if ops is not UNSET:
            field_dict["ops"] = ops
        if retry is not UNSET:
            field_dict["retry"] = retry

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.retry_body import RetryBody

        d = dict(src_dict)
        collection = d.pop("collection")

        script_id = d.pop("script_id")

        _ops = d.pop("ops", UNSET)
        ops: list[Op] | Unset = UNSET
        if _ops is not UNSET:
            ops = []
            for ops_item_data in _ops:
                ops_item = Op(ops_item_data)

                ops.append(ops_item)

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

        data_trigger_body = cls(
            collection=collection,
            script_id=script_id,
            ops=ops,
            retry=retry,
        )

        return data_trigger_body
