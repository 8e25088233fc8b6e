from enum import StrEnum


class RunStatus(StrEnum):
    ERROR = "error"
    LIMIT_EXCEEDED = "limit_exceeded"
    OK = "ok"
    TIMEOUT = "timeout"

    def __str__(self) -> str:
        return str(self.value)
