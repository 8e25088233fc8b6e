"""A floating seat held by a background thread, with the rules of the Rust SDK:
heartbeat every `heartbeat_interval`; a failed heartbeat retried 3 times with
exponential backoff and jitter; 410 (or a refused seat token) acquires again;
429 SEATS_EXHAUSTED on that is an event and a try every minute; an unreachable
server is offline mode for up to 30 minutes with a try every 5; Lost after that
or when the license cannot be used."""

from __future__ import annotations

import queue
import random
import threading
import weakref
from dataclasses import dataclass

import httpx

from skiff_api.api.licenses import acquire as acquire_api
from skiff_api.api.licenses import heartbeat as heartbeat_api
from skiff_api.api.licenses import release as release_api
from skiff_api.models.key_machine_body import KeyMachineBody
from skiff_api.models.session_body import SessionBody

from .auth import Session, SkiffError
from .timing import SystemClock


@dataclass
class SeatOptions:
    license_key: str
    hardware_id: str
    retries: int = 3
    retry_base: float = 1.0
    offline_grace: float = 30 * 60
    offline_retry: float = 5 * 60
    exhausted_retry: float = 60
    release_timeout: float = 5


@dataclass
class Acquired:
    session_id: str
    expires_at: str
    refreshed: bool


@dataclass
class Renewed:
    expires_at: str


@dataclass
class Offline:
    since: float
    error: str


@dataclass
class Restored:
    offline_for: float


@dataclass
class SeatsExhausted:
    seats_used: int | None
    max_seats: int | None


@dataclass
class Lost:
    reason: str
    """`offline_too_long`, `license`, `seats_exhausted`, `unauthorized`, `refused`."""
    code: str | None = None
    detail: str = ""


def backoff(base: float, attempt: int) -> float:
    """base * 2**attempt, jittered to a uniform 50-100 % of it."""
    full = base * (2**attempt)
    return full / 2 + random.uniform(0, full / 2)


@dataclass
class _Outcome:
    kind: str  # ok, gone, exhausted, transient, fatal
    value: object = None
    error: SkiffError | Exception | None = None
    lost: Lost | None = None


def _classify(call) -> _Outcome:
    try:
        return _Outcome("ok", call())
    except (httpx.TransportError, httpx.TimeoutException) as e:
        return _Outcome("transient", error=e)
    except SkiffError as e:
        if e.status >= 500 or e.code == "RATE_LIMITED":
            return _Outcome("transient", error=e)
        if e.code == "SEATS_EXHAUSTED":
            return _Outcome("exhausted", error=e)
        if e.status == 410 or (e.status == 401 and e.code == "INVALID_SEAT_TOKEN"):
            return _Outcome("gone", error=e)
        if e.status == 401:
            return _Outcome("fatal", lost=Lost("unauthorized", e.code, e.detail))
        if e.status in (403, 404):
            return _Outcome("fatal", lost=Lost("license", e.code, e.detail))
        return _Outcome("fatal", lost=Lost("refused", e.code, e.detail))


class _Stop(Exception):
    pass


class SeatSession:
    """A held seat. Use `SeatSession.acquire(...)`, read `events` (a queue), and
    `release()` on exit (or use it as a context manager)."""

    def __init__(self, session: Session, options: SeatOptions, clock, seat) -> None:
        self._api = session
        self._opts = options
        self._clock = clock
        # A one-item holder, shared with the exit-time release (which must not
        # hold the session itself).
        self._holder = [(seat.session_id, seat.signed_token)]
        self._interval = max(1, seat.heartbeat_interval)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.events: queue.Queue = queue.Queue()
        self.state = "active"
        self.events.put(Acquired(seat.session_id, seat.expires_at, seat.refreshed))
        self._thread = threading.Thread(target=self._run, name="skiff-seat", daemon=True)
        self._finalizer = weakref.finalize(self, _release_quietly, session, options, self._holder)
        self._thread.start()

    @property
    def _creds(self) -> tuple[str, str]:
        return self._holder[0]

    @_creds.setter
    def _creds(self, value: tuple[str, str]) -> None:
        self._holder[0] = value

    @classmethod
    def acquire(cls, session: Session, options: SeatOptions, clock=None) -> SeatSession:
        """Take a seat (raises SkiffError, code SEATS_EXHAUSTED when full)."""
        seat = _acquire(session, options)
        return cls(session, options, clock or SystemClock(), seat)

    @property
    def session_id(self) -> str:
        return self._creds[0]

    def is_licensed(self) -> bool:
        return self.state in ("active", "offline")

    def release(self) -> None:
        """Stop heartbeating and give the seat back (bounded)."""
        self._stop.set()
        self._thread.join(self._opts.release_timeout)
        self._finalizer.detach()
        self.state = "released" if not self.state.startswith("lost") else self.state
        _release(self._api, self._creds, self._opts.release_timeout)

    def __enter__(self) -> SeatSession:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    # -- the background thread ------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        if not self._clock.sleep(seconds, self._stop):
            raise _Stop

    def _emit(self, event) -> None:
        self.events.put(event)

    def _heartbeat(self) -> _Outcome:
        sid, token = self._creds
        return _classify(lambda: _heartbeat(self._api, sid, token))

    def _acquire(self) -> _Outcome:
        return _classify(lambda: _acquire(self._api, self._opts))

    def _take(self, seat) -> None:
        self._creds = (seat.session_id, seat.signed_token)
        self._interval = max(1, seat.heartbeat_interval)
        self._emit(Acquired(seat.session_id, seat.expires_at, seat.refreshed))

    def _run(self) -> None:
        try:
            while True:
                self._sleep(self._interval)
                self._beat()
        except _Stop:
            return
        except _LostError as e:
            self.state = "lost"
            self._emit(e.lost)

    def _beat(self) -> None:
        attempt, first_failure = 0, None
        while True:
            out = self._heartbeat()
            if out.kind == "transient" and first_failure is None:
                first_failure = self._clock.now()
            if out.kind == "ok":
                self._interval = max(1, out.value.heartbeat_interval)
                self._emit(Renewed(out.value.expires_at))
                return
            if out.kind == "gone":
                return self._acquire_again()
            if out.kind == "transient" and attempt < self._opts.retries:
                wait = getattr(out.error, "retry_after", None) or backoff(self._opts.retry_base, attempt)
                attempt += 1
                self._sleep(wait)
                continue
            if out.kind in ("transient", "exhausted"):
                return self._offline(first_failure or self._clock.now(), out.error)
            raise _LostError(out.lost)

    def _acquire_again(self) -> None:
        out = self._acquire()
        if out.kind == "ok":
            self.state = "active"
            self._take(out.value)
        elif out.kind == "exhausted":
            self._exhausted(out.error)
        elif out.kind == "transient":
            self._offline(self._clock.now(), out.error)
        elif out.kind == "gone":
            raise _LostError(Lost("refused", "SESSION_EXPIRED", "a fresh seat was refused at once"))
        else:
            raise _LostError(out.lost)

    def _exhausted(self, error: SkiffError) -> None:
        since = self._clock.now()
        self.state = "waiting"
        self._emit(SeatsExhausted(error.body.get("seats_used"), error.body.get("max_seats")))
        while True:
            elapsed = self._clock.now() - since
            if elapsed >= self._opts.offline_grace:
                raise _LostError(Lost("seats_exhausted", "SEATS_EXHAUSTED"))
            self._sleep(min(self._opts.exhausted_retry, self._opts.offline_grace - elapsed))
            out = self._acquire()
            if out.kind == "ok":
                self.state = "active"
                self._take(out.value)
                return
            if out.kind == "fatal":
                raise _LostError(out.lost)

    def _offline(self, since: float, error) -> None:
        self.state = "offline"
        self._emit(Offline(since, str(error)))
        while True:
            elapsed = self._clock.now() - since
            if elapsed >= self._opts.offline_grace:
                raise _LostError(Lost("offline_too_long"))
            self._sleep(min(self._opts.offline_retry, self._opts.offline_grace - elapsed))
            out = self._heartbeat()
            if out.kind == "gone":
                out = self._acquire()
                if out.kind == "ok":
                    self._take(out.value)
                elif out.kind == "exhausted":
                    self._emit(Restored(self._clock.now() - since))
                    return self._exhausted(out.error)
            if out.kind == "ok":
                if hasattr(out.value, "heartbeat_interval"):
                    self._interval = max(1, out.value.heartbeat_interval)
                self.state = "active"
                self._emit(Restored(self._clock.now() - since))
                return
            if out.kind == "fatal":
                raise _LostError(out.lost)


class _LostError(Exception):
    def __init__(self, lost: Lost) -> None:
        super().__init__(lost.reason)
        self.lost = lost


def _checked(response):
    if 200 <= response.status_code < 300:
        return response.parsed
    raise SkiffError.from_response(response)


def _acquire(session: Session, options: SeatOptions):
    body = KeyMachineBody(license_key=options.license_key, hardware_id=options.hardware_id)
    return _checked(acquire_api.sync_detailed(client=session.client(), body=body))


def _heartbeat(session: Session, session_id: str, token: str):
    body = SessionBody(session_id=session_id, signed_token=token)
    return _checked(heartbeat_api.sync_detailed(client=session.client(), body=body))


def _release(session: Session, creds, timeout: float) -> None:
    body = SessionBody(session_id=creds[0], signed_token=creds[1])
    client = session.client().with_timeout(httpx.Timeout(timeout))
    response = release_api.sync_detailed(client=client, body=body)
    if not 200 <= response.status_code < 300:
        raise SkiffError.from_response(response)


def _release_quietly(session: Session, options: SeatOptions, creds) -> None:
    try:
        _release(session, creds[0], options.release_timeout)
    except Exception:  # best effort, at garbage collection or exit
        pass


__all__ = [
    "Acquired",
    "Lost",
    "Offline",
    "Renewed",
    "Restored",
    "SeatOptions",
    "SeatSession",
    "SeatsExhausted",
    "backoff",
]
