from enum import StrEnum


class Backoff(StrEnum):
    CONSTANT = "constant"
    EXPONENTIAL = "exponential"
    LINEAR = "linear"

    def __str__(self) -> str:
        return str(self.value)
