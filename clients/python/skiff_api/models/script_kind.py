from enum import StrEnum


class ScriptKind(StrEnum):
    ENDPOINT = "endpoint"
    MODULE = "module"

    def __str__(self) -> str:
        return str(self.value)
