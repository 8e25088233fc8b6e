"""Skiff's Python client: the generated API (`skiff_api`) plus a hand-written
sign-in helper and a floating-seat session with a background heartbeat."""

from .auth import Session, SkiffError
from .seat import (
    Acquired,
    Lost,
    Offline,
    Renewed,
    Restored,
    SeatOptions,
    SeatSession,
    SeatsExhausted,
)
from .timing import ManualClock, SystemClock

__all__ = [
    "Acquired",
    "Lost",
    "ManualClock",
    "Offline",
    "Renewed",
    "Restored",
    "SeatOptions",
    "SeatSession",
    "SeatsExhausted",
    "Session",
    "SkiffError",
    "SystemClock",
]
