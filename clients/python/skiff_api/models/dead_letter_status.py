from enum import StrEnum


class DeadLetterStatus(StrEnum):
    HANDLER_FAILED = "handler_failed"
    RESOLVED = "resolved"
    UNRESOLVED = "unresolved"

    def __str__(self) -> str:
        return str(self.value)
