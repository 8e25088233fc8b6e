//! The Rust SDK's seat session against a real `skiff serve` child: it survives a
//! server restart (offline → restored), loses the seat after the offline grace
//! or when the license is suspended, and a second machine on a one-seat license
//! gets `SEATS_EXHAUSTED` — as a typed error on acquire, and as an event when a
//! running session finds its seat taken. Waiting is virtual (`ManualTime`): the
//! half-hour grace passes in milliseconds, the HTTP is real.

mod support;

use serde_json::Value;
use skiff_client::time::{ManualTime, Timer};
use skiff_client::{Client, LostReason, SeatEvent, SeatOptions, SeatState};
use std::sync::Arc;
use std::time::Duration;
use support::{PASSWORD, Server, Setup};
use tokio::sync::mpsc::UnboundedReceiver;

const LAPTOP: &str = "laptop-0001-aaaa";
const DESKTOP: &str = "desktop-0002-bbbb";
/// A bound on real time for one step of the session (a request, a wake-up).
const STEP: Duration = Duration::from_secs(20);

struct World {
    server: Server,
    setup: Setup,
    org: String,
    owner_token: String,
    license: Value,
    time: ManualTime,
    client: Client,
    _dir: tempfile::TempDir,
}

impl World {
    /// A server, an owner whose org holds a one-seat license, and a client on
    /// virtual time signed in as that owner.
    async fn new(email: &str) -> World {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(dir.path());
        let setup = Setup::new(&server.base);
        let (org, owner_token) = setup.verified_owner(email).await;
        let license = setup.licensed(&owner_token, "starter").await;
        assert_eq!(license["max_seats"], 1, "{license}");
        let time = ManualTime::new();
        let client = Client::builder(&server.base)
            .timer(Arc::new(time.clone()))
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        client.login(email, PASSWORD).await.unwrap();
        World {
            server,
            setup,
            org,
            owner_token,
            license,
            time,
            client,
            _dir: dir,
        }
    }

    fn key(&self) -> &str {
        self.license["key"].as_str().unwrap()
    }

    fn options(&self, hw: &str) -> SeatOptions {
        SeatOptions::new(self.key(), hw)
    }

    async fn seats_used(&self) -> i64 {
        let id = self.license["id"].as_str().unwrap();
        self.client.license(id).await.unwrap().seats_used
    }
}

/// Let the session run on virtual time until an event matches `want`; returns
/// every event seen, the match last. Time moves only while the session sleeps
/// and no event is waiting (it sends before it sleeps), so nothing happens past
/// the event asked for.
async fn until(
    time: &ManualTime,
    events: &mut UnboundedReceiver<SeatEvent>,
    want: impl Fn(&SeatEvent) -> bool,
) -> Vec<SeatEvent> {
    let mut seen = vec![];
    for _ in 0..200 {
        tokio::select! {
            biased;
            e = events.recv() => {
                let e = e.unwrap_or_else(|| panic!("the session ended; saw {seen:?}"));
                let done = want(&e);
                seen.push(e);
                if done {
                    return seen;
                }
            }
            asleep = time.until_sleeping(STEP) => {
                assert!(asleep, "the session neither slept nor sent the event; saw {seen:?}");
                if events.is_empty() {
                    time.wake_next(STEP).await;
                }
            }
        }
    }
    panic!("no matching event; saw {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_session_survives_a_server_restart() {
    let mut w = World::new("restart@acme.test").await;
    let mut seat = w.client.acquire(w.options(LAPTOP)).await.unwrap();
    let mut events = seat.take_events().unwrap();
    let first = events.try_recv().unwrap();
    assert!(
        matches!(
            &first,
            SeatEvent::Acquired {
                refreshed: false,
                ..
            }
        ),
        "{first:?}"
    );

    // A heartbeat renews the lease every 300 s the server asks for.
    let seen = until(&w.time, &mut events, |e| {
        matches!(e, SeatEvent::Renewed { .. })
    })
    .await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(w.time.slept()[0], Duration::from_secs(300));

    // The server goes away: three retries with growing, jittered backoff, then
    // offline mode, still licensed.
    w.server.stop();
    let t_stop = w.time.now();
    let seen = until(&w.time, &mut events, |e| {
        matches!(e, SeatEvent::Offline { .. })
    })
    .await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    let slept = w.time.slept();
    assert!(slept.len() >= 5, "{slept:?}");
    let backoffs = &slept[2..5];
    for (i, d) in backoffs.iter().enumerate() {
        let full = Duration::from_secs(1 << i);
        assert!(*d >= full / 2 && *d <= full, "retry {i} after {d:?}");
    }
    let SeatEvent::Offline { since, .. } = &seen[0] else {
        unreachable!()
    };
    assert_eq!(
        since.duration_since(t_stop).unwrap(),
        Duration::from_secs(300),
        "offline since the first failed heartbeat"
    );
    assert!(matches!(seat.state(), SeatState::Offline { .. }));
    assert!(seat.is_licensed());

    // Back within the grace: the next try (5 minutes on) restores the session.
    w.server.restart();
    let seen = until(&w.time, &mut events, |e| {
        matches!(e, SeatEvent::Restored { .. })
    })
    .await;
    assert_eq!(seen.len(), 1, "the same session goes on: {seen:?}");
    assert_eq!(*w.time.slept().last().unwrap(), Duration::from_secs(300));
    assert_eq!(seat.state(), SeatState::Active);
    until(&w.time, &mut events, |e| {
        matches!(e, SeatEvent::Renewed { .. })
    })
    .await;

    // Released: the seat is free at once.
    assert_eq!(w.seats_used().await, 1);
    seat.release().await.unwrap();
    assert_eq!(w.seats_used().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_ends_the_session_after_the_offline_grace() {
    let mut w = World::new("grace@acme.test").await;
    let mut seat = w.client.acquire(w.options(LAPTOP)).await.unwrap();
    let mut events = seat.take_events().unwrap();
    events.try_recv().unwrap();
    w.server.stop();
    let seen = until(&w.time, &mut events, |e| {
        matches!(e, SeatEvent::Lost { .. })
    })
    .await;
    let SeatEvent::Offline { since, .. } = seen[0] else {
        panic!("{seen:?}")
    };
    let SeatEvent::Lost {
        reason: LostReason::OfflineTooLong { since: lost_since },
    } = seen.last().unwrap()
    else {
        panic!("{seen:?}")
    };
    assert_eq!(*lost_since, since);
    assert_eq!(seen.len(), 2, "nothing between offline and lost: {seen:?}");
    // Tried every 5 minutes, the last try at 30 minutes after the first failure
    // (the retries took a few seconds of it).
    let slept = w.time.slept();
    assert_eq!(
        slept[slept.len() - 6..slept.len() - 1],
        [Duration::from_secs(300); 5]
    );
    assert!(
        slept[slept.len() - 1] < Duration::from_secs(300),
        "{slept:?}"
    );
    assert_eq!(
        w.time.now().duration_since(since).unwrap(),
        Duration::from_secs(30 * 60)
    );
    assert!(matches!(
        seat.state(),
        SeatState::Lost(LostReason::OfflineTooLong { .. })
    ));
    assert!(!seat.is_licensed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspended_license_ends_the_session() {
    let w = World::new("suspended@acme.test").await;
    let mut seat = w.client.acquire(w.options(LAPTOP)).await.unwrap();
    let mut events = seat.take_events().unwrap();
    events.try_recv().unwrap();
    // The third failed payment suspends the license and ends its sessions.
    for _ in 0..3 {
        w.setup.simulate(&w.owner_token, &w.org, "fail").await;
    }
    let seen = until(&w.time, &mut events, |e| {
        matches!(e, SeatEvent::Lost { .. })
    })
    .await;
    match &seen[..] {
        [
            SeatEvent::Lost {
                reason: LostReason::License { code, .. },
            },
        ] => assert_eq!(code, "SUSPENDED"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        seat.state(),
        SeatState::Lost(LostReason::License { .. })
    ));
    assert!(!seat.is_licensed());
    // Releasing a lost session is harmless.
    seat.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_machine_on_a_one_seat_license_gets_seats_exhausted() {
    let w = World::new("one-seat@acme.test").await;
    let mut laptop = w.client.acquire(w.options(LAPTOP)).await.unwrap();
    let mut events = laptop.take_events().unwrap();
    events.try_recv().unwrap();

    let err = match w.client.acquire(w.options(DESKTOP)).await {
        Err(e) => e,
        Ok(_) => panic!("a second seat on a one-seat license"),
    };
    assert!(err.is_seats_exhausted(), "{err}");
    assert_eq!(err.status(), Some(429));
    assert!(err.request_id().is_some_and(|id| !id.is_empty()));
    assert_eq!(err.api().unwrap().body["max_seats"], 1);

    // An admin unbinds the laptop; the desktop takes the seat; the laptop's
    // session learns it at its next heartbeat and says so — no panic.
    let (status, _) = w
        .setup
        .call(
            reqwest::Method::DELETE,
            &format!(
                "/api/v1/licenses/{}/machines/{LAPTOP}",
                w.license["id"].as_str().unwrap()
            ),
            Some(&w.owner_token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    // The desktop is another process: its own client, on real time.
    let other = Client::new(&w.server.base).unwrap();
    other.login("one-seat@acme.test", PASSWORD).await.unwrap();
    let desktop = other.acquire(w.options(DESKTOP)).await.unwrap();
    let seen = until(&w.time, &mut events, |e| {
        matches!(e, SeatEvent::SeatsExhausted { .. })
    })
    .await;
    assert_eq!(
        seen,
        [SeatEvent::SeatsExhausted {
            seats_used: Some(1),
            max_seats: Some(1)
        }]
    );
    assert!(matches!(laptop.state(), SeatState::Waiting { .. }));
    assert!(!laptop.is_licensed());

    // The desktop lets go: the laptop's next try (a minute on) takes the seat.
    desktop.release().await.unwrap();
    let seen = until(&w.time, &mut events, |e| {
        matches!(e, SeatEvent::Acquired { .. })
    })
    .await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    let slept = w.time.slept();
    let asked_again_after = if slept.ends_with(&[Duration::from_secs(300)]) {
        slept[slept.len() - 2]
    } else {
        slept[slept.len() - 1]
    };
    assert_eq!(asked_again_after, Duration::from_secs(60), "{slept:?}");
    assert_eq!(laptop.state(), SeatState::Active);
    laptop.release().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_session_releases_its_seat() {
    let w = World::new("drop@acme.test").await;
    let seat = w.client.acquire(w.options(LAPTOP)).await.unwrap();
    assert_eq!(w.seats_used().await, 1);
    drop(seat);
    // The release runs in the background, bounded; wait for it (bounded too).
    for _ in 0..100 {
        if w.seats_used().await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the dropped session still holds its seat");
}
