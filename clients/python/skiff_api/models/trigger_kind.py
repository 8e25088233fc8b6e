from enum import StrEnum


class TriggerKind(StrEnum):
    CRON = "cron"
    DEAD_LETTER = "dead_letter"
    DOCS = "docs"
    FILES = "files"
    KV = "kv"
    PUBSUB = "pubsub"

    def __str__(self) -> str:
        return str(self.value)
