"""The Python seat session against a real server, on virtual time: it survives a
restart (offline -> restored), ends after the offline grace or on suspension, and
a second machine on a one-seat license is refused with SEATS_EXHAUSTED."""

from __future__ import annotations

import queue
import time

import pytest
from conftest import PASSWORD, call, owner_with_license

from skiff_client import (
    Acquired,
    Lost,
    ManualClock,
    Offline,
    Renewed,
    Restored,
    SeatOptions,
    SeatSession,
    SeatsExhausted,
    Session,
    SkiffError,
)

STEP = 20.0


def until(clock: ManualClock, events: queue.Queue, kind) -> list:
    """Run the session on virtual time until an event of `kind`; time moves only
    while it sleeps with no event waiting (it sends before it sleeps)."""
    seen = []
    deadline = time.monotonic() + STEP
    while time.monotonic() < deadline:
        try:
            e = events.get(timeout=0.02)
        except queue.Empty:
            if clock.until_sleeping(0.02) and events.empty():
                clock.wake_next(0.02)
                deadline = time.monotonic() + STEP
            continue
        seen.append(e)
        if isinstance(e, kind):
            return seen
    raise AssertionError(f"no {kind.__name__}; saw {seen}")


def start(server, email):
    org, token, license = owner_with_license(server.base, email)
    session = Session.login(server.base, email, PASSWORD)
    clock = ManualClock()
    return org, token, license, session, clock


def test_a_seat_session_survives_a_server_restart(server):
    _, token, lic, session, clock = start(server, "py-restart@acme.test")
    seat = SeatSession.acquire(session, SeatOptions(lic["key"], "laptop-0001-aaaa"), clock)
    assert isinstance(seat.events.get_nowait(), Acquired)
    assert len(until(clock, seat.events, Renewed)) == 1
    assert clock.slept[0] == 300

    server.stop()
    seen = until(clock, seat.events, Offline)
    assert len(seen) == 1
    for i, d in enumerate(clock.slept[2:5]):
        assert 2**i / 2 <= d <= 2**i, (i, d)
    assert seat.state == "offline" and seat.is_licensed()

    server.restart()
    seen = until(clock, seat.events, Restored)
    assert len(seen) == 1, seen
    assert seat.state == "active"
    assert call(server.base, "GET", f"/api/v1/licenses/{lic['id']}", token)["seats_used"] == 1
    seat.release()
    assert call(server.base, "GET", f"/api/v1/licenses/{lic['id']}", token)["seats_used"] == 0


def test_an_unreachable_server_ends_the_session_after_the_grace(server):
    _, _, lic, session, clock = start(server, "py-grace@acme.test")
    seat = SeatSession.acquire(session, SeatOptions(lic["key"], "laptop-0001-aaaa"), clock)
    seat.events.get_nowait()
    server.stop()
    seen = until(clock, seat.events, Lost)
    assert isinstance(seen[0], Offline) and len(seen) == 2, seen
    assert seen[-1].reason == "offline_too_long"
    assert clock.slept[-6:-1] == [300] * 5 and clock.slept[-1] < 300
    assert clock.now() - seen[0].since == 30 * 60
    assert not seat.is_licensed()


def test_a_suspended_license_ends_the_session(server):
    org, token, lic, session, clock = start(server, "py-suspended@acme.test")
    seat = SeatSession.acquire(session, SeatOptions(lic["key"], "laptop-0001-aaaa"), clock)
    seat.events.get_nowait()
    for _ in range(3):
        call(server.base, "POST", f"/api/v1/billing/simulator/orgs/{org}/fail", token)
    seen = until(clock, seat.events, Lost)
    assert [(e.reason, e.code) for e in seen] == [("license", "SUSPENDED")]


def test_a_second_machine_on_a_one_seat_license_gets_seats_exhausted(server):
    _, token, lic, session, clock = start(server, "py-one-seat@acme.test")
    laptop = SeatSession.acquire(session, SeatOptions(lic["key"], "laptop-0001-aaaa"), clock)
    laptop.events.get_nowait()
    with pytest.raises(SkiffError) as refused:
        SeatSession.acquire(session, SeatOptions(lic["key"], "desktop-0002-bbbb"), clock)
    assert (refused.value.status, refused.value.code) == (429, "SEATS_EXHAUSTED")
    assert refused.value.request_id

    # Unbound by an admin, its seat taken by the desktop: the laptop says so.
    call(server.base, "DELETE", f"/api/v1/licenses/{lic['id']}/machines/laptop-0001-aaaa", token, expect=(204,))
    desktop = SeatSession.acquire(session, SeatOptions(lic["key"], "desktop-0002-bbbb"), ManualClock())
    seen = until(clock, laptop.events, SeatsExhausted)
    assert seen == [SeatsExhausted(1, 1)]
    assert laptop.state == "waiting" and not laptop.is_licensed()
    desktop.release()
    seen = until(clock, laptop.events, Acquired)
    assert len(seen) == 1 and 60 in clock.slept[-2:]
    laptop.release()
