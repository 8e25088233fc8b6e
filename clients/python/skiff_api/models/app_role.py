from enum import StrEnum


class AppRole(StrEnum):
    APP_ADMIN = "app_admin"
    EDITOR = "editor"
    VIEWER = "viewer"

    def __str__(self) -> str:
        return str(self.value)
