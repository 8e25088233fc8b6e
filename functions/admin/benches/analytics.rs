//! `GET /api/v1/admin/analytics` over a large population on the embedded (SQLite)
//! store, through the admin function's real router: p50/p99/max of the answer.
//!
//! `cargo bench -p skiff-fn-admin --bench analytics`. `ANALYTICS_ORGS` (default
//! 10,000) orgs, each with an account, a subscription (80 % active, 10 % trialing,
//! 5 % past due, 5 % canceled, over the paid plans) and a license; `ANALYTICS_SEATS`
//! (default 100,000) live seat sessions spread over the active licenses;
//! `ANALYTICS_RUNS` (default 200) timed requests after 5 untimed ones, for the
//! figures the scheduler stored (what a request is served) and for `fresh=true`
//! (the figures computed for the request).

use http_body_util::BodyExt;
use skiff_billing::subscription::{Status, Subscription};
use skiff_core::ids::{OrgId, SubscriptionId, UserId};
use skiff_core::ports::store::{NewItem, Write};
use skiff_core::services::Services;
use skiff_identity::access_token::{self, Grant};
use skiff_identity::orgs::{self, Membership, Org};
use skiff_identity::users::{self, User};
use skiff_identity::{EmailAddress, Role, Scopes, signing_keys};
use skiff_licensing::hooks::Entitlement;
use skiff_licensing::keys::HardwareId;
use skiff_licensing::model::{LicenseRef, RequestMeta};
use skiff_licensing::{lifecycle, seats};
use std::time::{Duration, Instant};
use tower::ServiceExt;

#[global_allocator]
static ALLOCATOR: skiff_app::alloc::Allocator = skiff_app::alloc::Allocator;

/// The figures the scheduler stored, as every request is served.
const STORED: &str = "/api/v1/admin/analytics";
/// The figures computed for the request.
const FRESH: &str = "/api/v1/admin/analytics?fresh=true";

fn var(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An account with its org (one transaction, as sign-up writes it).
async fn account(s: &Services, i: usize, operator: bool) -> (UserId, OrgId) {
    let now = s.clock.unix();
    let (user_id, org_id) = (UserId::new(), OrgId::new());
    let user = User {
        id: user_id.clone(),
        email: EmailAddress::parse(&format!("owner{i}@bench.test")).unwrap(),
        full_name: format!("Owner {i}"),
        password_hash: "unused".into(),
        email_verified: true,
        created_at: now,
        platform_admin: operator,
        default_org: org_id.clone(),
        company: Some(format!("Company {i}")),
        suspended_at: None,
    };
    let org = Org {
        id: org_id.clone(),
        name: format!("Company {i}"),
        created_at: now,
        owners: 1,
    };
    let owner = Membership {
        org_id: org_id.clone(),
        user_id: user_id.clone(),
        role: Role::Owner,
        joined_at: now,
    };
    let mut writes = users::create_writes(&user).unwrap();
    writes.extend(orgs::create_writes(&org, &owner).unwrap());
    s.store.transact(writes).await.unwrap();
    (user_id, org_id)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let orgs_n = var("ANALYTICS_ORGS", 10_000);
    let seats_n = var("ANALYTICS_SEATS", 100_000);
    let runs = var("ANALYTICS_RUNS", 200);
    let dir = tempfile::tempdir().unwrap();
    let (embedded, _) = skiff_app::testing::embedded_services(dir.path()).await;
    let s = embedded.services;
    let catalog = skiff_billing::settings(&s).catalog.clone();
    let plans = ["starter", "pro", "enterprise"];

    let started = Instant::now();
    let mut open = vec![];
    for i in 0..orgs_n {
        let (_, org) = account(&s, i, false).await;
        let plan = catalog.get(plans[i % 3]).unwrap();
        let status = match i % 20 {
            0 | 1 => Status::Trialing,
            2 => Status::PastDue,
            3 => Status::Canceled,
            _ => Status::Active,
        };
        let now = s.clock.unix();
        let sub = Subscription {
            org_id: org.clone(),
            subscription_id: SubscriptionId::parse(&format!("sub_bench{i}")).unwrap(),
            customer_id: format!("cus_bench{i}"),
            plan_id: plan.id.clone(),
            status,
            quantity: 1 + (i % 2) as i64,
            current_period_end: now + 30 * 86_400,
            trial_end: Some(now - 86_400),
            failed_count: 0,
            grace_ends_at: None,
            suspended: false,
            cancel_at_period_end: false,
            ever_paid: status != Status::Trialing,
            canceled_at: (status == Status::Canceled).then_some(now - 86_400),
            cancel_reason: None,
            created_at: now,
            last_event_created: now,
            last_event_id: format!("evt_bench{i}"),
        };
        // What billing writes into its directory with each subscription change.
        s.store
            .transact(vec![Write::Put {
                item: NewItem::from_record(skiff_billing::keys::subscription_entry(&org), &sub)
                    .unwrap(),
                condition: None,
            }])
            .await
            .unwrap();
        let ent = Entitlement {
            org_id: org.clone(),
            plan_id: plan.id.clone(),
            tier: plan.id.clone(),
            features: plan.enabled_features(),
            max_seats: sub.seats(plan),
            expires_at: sub.current_period_end,
            subscription_id: sub.subscription_id.clone(),
        };
        let (license, _) = lifecycle::issue(s.store.as_ref(), s.clock.as_ref(), &ent, "BENCH")
            .await
            .unwrap();
        if status != Status::Canceled {
            open.push((license.reference(), license.max_seats));
        }
    }
    let populated_orgs = started.elapsed();

    // Seats: as many as asked, round-robin over the licenses with room.
    let started = Instant::now();
    let capacity: i64 = open.iter().map(|(_, m)| *m).sum();
    let seats_n = seats_n.min(capacity as usize);
    // Seats spread evenly: each license takes one more per round until enough.
    let mut slots: Vec<(LicenseRef, i64)> = vec![];
    let mut round = 0;
    while slots.len() < seats_n {
        for (lic, _) in open.iter().filter(|(_, max)| round < *max) {
            slots.push((lic.clone(), round));
            if slots.len() >= seats_n {
                break;
            }
        }
        round += 1;
    }
    let s2 = s.clone();
    let chunks: Vec<Vec<(LicenseRef, i64)>> = slots
        .chunks(slots.len().div_ceil(8))
        .map(<[_]>::to_vec)
        .collect();
    let tasks: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let s = s2.clone();
            tokio::spawn(async move {
                for (lic, k) in chunk {
                    let hw =
                        HardwareId::parse(&format!("machine-{}-{k:04}", lic.license_id)).unwrap();
                    seats::acquire(
                        s.store.as_ref(),
                        s.clock.as_ref(),
                        &lic,
                        &hw,
                        &RequestMeta::default(),
                    )
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let populated_seats = started.elapsed();

    let (op_user, op_org) = account(&s, orgs_n, true).await;
    let keys = signing_keys::current(&s.secrets).await.unwrap();
    let token = access_token::issue(
        &keys,
        &skiff_http::principal::audience(&s),
        s.clock.unix(),
        Grant {
            user: &op_user,
            org: &op_org,
            role: Role::Owner,
            scopes: &Scopes::all(),
            session: None,
        },
    );
    let app = skiff_fn_admin::router().with_state(s.clone());
    let request = |path: &str| {
        axum::http::Request::get(path)
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    // What the scheduler does each run: compute the figures and store them.
    skiff_admin::analytics::refresh_job(&s).await.unwrap();
    let mut figures = serde_json::Value::Null;
    for _ in 0..5 {
        let r = app.clone().oneshot(request(FRESH)).await.unwrap();
        assert_eq!(r.status(), 200);
        figures =
            serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
    }
    println!(
        "population: {orgs_n} orgs in {:.1} s, {} live seats in {:.1} s",
        populated_orgs.as_secs_f64(),
        figures["seats_in_use"],
        populated_seats.as_secs_f64()
    );
    println!(
        "figures: mrr {} arr {} active {} trialing {} past_due {} seats {}/{}",
        figures["mrr"],
        figures["arr"],
        figures["active_subscriptions"],
        figures["trialing"],
        figures["past_due"],
        figures["seats_in_use"],
        figures["seats_total"]
    );
    for path in [STORED, FRESH] {
        let mut latencies = vec![];
        for _ in 0..runs {
            let t = Instant::now();
            let r = app.clone().oneshot(request(path)).await.unwrap();
            assert_eq!(r.status(), 200);
            let _ = r.into_body().collect().await.unwrap();
            latencies.push(t.elapsed());
        }
        latencies.sort_unstable();
        let pct =
            |p: f64| latencies[((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1)];
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "GET {path} ({runs} requests): p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
            ms(pct(0.50)),
            ms(pct(0.99)),
            ms(*latencies.last().unwrap())
        );
    }
}
