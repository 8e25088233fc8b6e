"""Time as the seat session sees it: the wall clock and interruptible sleeps,
injectable so tests drive the half-hour offline grace in milliseconds."""

from __future__ import annotations

import threading
import time


class SystemClock:
    """Real time."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float, stop: threading.Event) -> bool:
        """Sleep; False when `stop` was set first."""
        return not stop.wait(seconds)


class ManualClock:
    """Time that moves only when told: every sleep waits until `advance` or
    `wake_next` moves the clock past its deadline. HTTP still takes real time."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._cond = threading.Condition()
        self._deadlines: list[float] = []
        self.slept: list[float] = []

    def now(self) -> float:
        with self._cond:
            return self._now

    def sleep(self, seconds: float, stop: threading.Event) -> bool:
        with self._cond:
            self.slept.append(seconds)
            deadline = self._now + seconds
            self._deadlines.append(deadline)
            self._cond.notify_all()
            try:
                while self._now < deadline:
                    if stop.is_set():
                        return False
                    self._cond.wait(0.05)
            finally:
                self._deadlines.remove(deadline)
                self._cond.notify_all()
            return not stop.is_set()

    def advance(self, seconds: float) -> None:
        with self._cond:
            self._now += seconds
            self._cond.notify_all()

    def until_sleeping(self, within: float) -> bool:
        """Wait (real time) until something sleeps; False if nothing did."""
        end = time.monotonic() + within
        with self._cond:
            while not self._deadlines:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def wake_next(self, within: float) -> float | None:
        """Wait until something sleeps, then move the clock to the earliest
        deadline; returns how far it moved."""
        if not self.until_sleeping(within):
            return None
        with self._cond:
            by = max(0.0, min(self._deadlines) - self._now)
            self._now += by
            self._cond.notify_all()
            return by
