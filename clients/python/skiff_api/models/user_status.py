from enum import StrEnum


class UserStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    UNVERIFIED = "unverified"

    def __str__(self) -> str:
        return str(self.value)
