from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.validation_license import ValidationLicense


T = TypeVar("T", bound="ValidateResponse")


@_attrs_define
class ValidateResponse:
    """`POST /licenses/validate` answer (always 200 for a well-formed request).

    Attributes:
        code (str):
        detail (str):
        valid (bool):
        license_ (None | Unset | ValidationLicense):
    """

    code: str
    detail: str
    valid: bool
    license_: None | Unset | ValidationLicense = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.validation_license import ValidationLicense

        code = self.code

        detail = self.detail

        valid = self.valid

        license_: dict[str, Any] | None | Unset
        if isinstance(self.license_, Unset):
            license_ = UNSET
        elif isinstance(self.license_, ValidationLicense):
            license_ = self.license_.to_dict()
        else:
            license_ = self.license_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "detail": detail,
                "valid": valid,
            }
        )
        if license_ is not UNSET:
            field_dict["license"] = license_

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.validation_license import ValidationLicense

        d = dict(src_dict)
        code = d.pop("code")

        detail = d.pop("detail")

        valid = d.pop("valid")

        def _parse_license_(data: object) -> None | Unset | ValidationLicense:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                license_type_1 = ValidationLicense.from_dict(data)

                return license_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | ValidationLicense, data)

        license_ = _parse_license_(d.pop("license", UNSET))

        validate_response = cls(
            code=code,
            detail=detail,
            valid=valid,
            license_=license_,
        )

        validate_response.additional_properties = d
        return validate_response

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
