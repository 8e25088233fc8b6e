//! Apps: create, read, rename, move to another slug, delete (with everything in
//! them), and their members.

use crate::access::{self, Actor, AppRole, Membership};
use crate::error::{ScriptsError, ScriptsResult};
use crate::keys;
use crate::model::{App, Slug};
use serde::{Deserialize, Serialize};
use skiff_core::Services;
use skiff_core::ids::{AppId, OrgId, UserId};
use skiff_core::ports::store::{
    Change, Cmp, Condition, Item, ItemStore, Key, NewItem, Query, StoreError, Write, filtered_page,
};

/// The global claim of a slug (see [`keys::slug`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlugClaim {
    pub org_id: OrgId,
    pub app_id: AppId,
    /// Bumped whenever the app's routes change: route tables cached per process
    /// are compared with it on every request.
    #[serde(default)]
    pub routes_version: i64,
}

/// Create an app; the caller (an org owner or admin) is its `app_admin`.
pub async fn create(
    services: &Services,
    actor: &Actor,
    name: String,
    slug: Slug,
) -> ScriptsResult<App> {
    if !actor.is_org_admin() || !actor.can_write || actor.bound_app.is_some() {
        return Err(ScriptsError::OrgAdminRequired);
    }
    let now = services.clock.unix();
    let app = App {
        id: AppId::new(),
        org_id: actor.org_id.clone(),
        name,
        slug: slug.clone(),
        created_at: now,
        updated_at: now,
    };
    let claim = SlugClaim {
        org_id: app.org_id.clone(),
        app_id: app.id.clone(),
        routes_version: 0,
    };
    let result = services
        .store
        .transact(vec![
            Write::Put {
                item: NewItem::from_record(keys::slug(slug.as_str()), &claim)?,
                condition: Some(Condition::Absent),
            },
            Write::Put {
                item: NewItem::from_record(keys::app(&app.org_id, &app.id), &app)?,
                condition: Some(Condition::Absent),
            },
        ])
        .await;
    match result {
        Ok(()) => Ok(app),
        Err(StoreError::ConditionFailed { index: Some(0) }) => {
            Err(ScriptsError::SlugTaken(slug.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Read an app of the caller's org by id or slug (no role check).
async fn find(store: &dyn ItemStore, org: &OrgId, app_ref: &str) -> ScriptsResult<Option<App>> {
    let id = match AppId::parse(app_ref) {
        Ok(id) => id,
        Err(_) => {
            let Ok(slug) = Slug::parse(app_ref) else {
                return Ok(None);
            };
            match store.get(&keys::slug(slug.as_str())).await? {
                Some(item) => {
                    let claim: SlugClaim = item.parse()?;
                    if &claim.org_id != org {
                        return Ok(None);
                    }
                    claim.app_id
                }
                None => return Ok(None),
            }
        }
    };
    Ok(store
        .get(&keys::app(org, &id))
        .await?
        .map(|i| i.parse())
        .transpose()?)
}

/// The app `app_ref` (id or slug) with the caller's role in it, if it is at
/// least `needed`: 404 when the caller has no role there, 403 when too little.
pub async fn require(
    store: &dyn ItemStore,
    actor: &Actor,
    app_ref: &str,
    needed: AppRole,
) -> ScriptsResult<(App, AppRole)> {
    let app = find(store, &actor.org_id, app_ref)
        .await?
        .ok_or(ScriptsError::NotFound("app"))?;
    let role = access::role_in(store, actor, &app.id)
        .await?
        .ok_or(ScriptsError::NotFound("app"))?;
    if role < needed {
        return Err(ScriptsError::Forbidden { needed });
    }
    Ok((app, role))
}

/// [`require`] by id (scripts name their app by id).
pub async fn require_id(
    store: &dyn ItemStore,
    actor: &Actor,
    app: &AppId,
    needed: AppRole,
) -> ScriptsResult<(App, AppRole)> {
    require(store, actor, app.as_str(), needed).await
}

/// One page of the apps the caller has a role in, with that role.
pub async fn page(
    store: &dyn ItemStore,
    actor: &Actor,
    limit: usize,
    position: Option<String>,
) -> ScriptsResult<(Vec<(App, AppRole)>, Option<String>)> {
    let query = Query::partition(keys::apps_pk(&actor.org_id))
        .prefix(keys::APP_PREFIX)
        .after(position);
    // Members see the apps they were granted (reading each grant is one get);
    // a page may so be short.
    let mut pending = vec![];
    let (apps, next) = filtered_page(store, query, limit, |item| {
        let app: App = item.parse()?;
        Ok(actor.reaches(&app.id).then_some(app))
    })
    .await?;
    for app in apps {
        if let Some(role) = access::role_in(store, actor, &app.id).await? {
            pending.push((app, role));
        }
    }
    Ok((pending, next))
}

/// Rename an app and/or move it to another slug (`app_admin`).
pub async fn update(
    services: &Services,
    actor: &Actor,
    app_ref: &str,
    name: Option<String>,
    slug: Option<Slug>,
) -> ScriptsResult<App> {
    let store = services.store.as_ref();
    let (mut app, _) = require(store, actor, app_ref, AppRole::AppAdmin).await?;
    let now = services.clock.unix();
    let old_slug = app.slug.clone();
    if let Some(name) = name {
        app.name = name;
    }
    let mut writes = vec![];
    if let Some(slug) = slug.filter(|s| *s != old_slug) {
        let old = store
            .get(&keys::slug(old_slug.as_str()))
            .await?
            .ok_or(ScriptsError::NotFound("app"))?;
        let claim: SlugClaim = old.parse()?;
        writes.push(Write::Put {
            item: NewItem::from_record(keys::slug(slug.as_str()), &claim)?,
            condition: Some(Condition::Absent),
        });
        writes.push(Write::Delete {
            key: keys::slug(old_slug.as_str()),
            condition: Some(Condition::VersionIs(old.version)),
        });
        app.slug = slug;
    }
    app.updated_at = now;
    writes.push(Write::Put {
        item: NewItem::from_record(keys::app(&app.org_id, &app.id), &app)?,
        condition: Some(Condition::Exists),
    });
    match store.transact(writes).await {
        Ok(()) => Ok(app),
        Err(StoreError::ConditionFailed { index: Some(0) }) if app.slug != old_slug => {
            Err(ScriptsError::SlugTaken(app.slug.to_string()))
        }
        Err(e) if e.is_condition_failed() => Err(ScriptsError::NotFound("app")),
        Err(e) => Err(e.into()),
    }
}

/// Delete an app (`app_admin`). With scripts left, only with `force`, which
/// removes its scripts, routes, logs, domains, members and triggers too.
pub async fn delete(
    services: &Services,
    actor: &Actor,
    app_ref: &str,
    force: bool,
) -> ScriptsResult<()> {
    let store = services.store.as_ref();
    let (app, _) = require(store, actor, app_ref, AppRole::AppAdmin).await?;
    let scripts = crate::scripts::names(store, &app.org_id, &app.id).await?;
    if !scripts.is_empty() && !force {
        return Err(ScriptsError::HasScripts {
            script_count: scripts.len(),
        });
    }
    // The slug first, so the app's public routes stop answering at once.
    store.delete(&keys::slug(app.slug.as_str()), None).await?;
    for (_, script_id) in scripts {
        crate::scripts::remove(services, &app, &script_id).await?;
    }
    crate::hooks::app_deleted(services, &app).await?;
    delete_partition(store, &keys::app_pk(&app.org_id, &app.id), |item| {
        // Hosts the app claimed are global items beside its own records.
        item.key
            .sk
            .strip_prefix(keys::DOMAIN_PREFIX)
            .map(keys::host)
    })
    .await?;
    store.delete(&keys::app(&app.org_id, &app.id), None).await?;
    tracing::info!(app = %app.id, "app deleted");
    Ok(())
}

/// Delete every item of a partition (and, per item, one companion key), in
/// transactions of bounded size.
pub(crate) async fn delete_partition(
    store: &dyn ItemStore,
    pk: &str,
    companion: impl Fn(&Item) -> Option<Key>,
) -> Result<usize, StoreError> {
    let mut deleted = 0;
    loop {
        let page = store.query(Query::partition(pk).limit(40)).await?;
        if page.items.is_empty() {
            return Ok(deleted);
        }
        let mut writes = vec![];
        for item in &page.items {
            writes.push(Write::Delete {
                key: item.key.clone(),
                condition: None,
            });
            if let Some(k) = companion(item) {
                writes.push(Write::Delete {
                    key: k,
                    condition: None,
                });
            }
        }
        deleted += page.items.len();
        store.transact(writes).await?;
    }
}

/// The members an app has been granted (org owners and admins are implicit).
pub async fn members(
    store: &dyn ItemStore,
    actor: &Actor,
    app_ref: &str,
    limit: usize,
    position: Option<String>,
) -> ScriptsResult<(Vec<Membership>, Option<String>)> {
    let (app, _) = require(store, actor, app_ref, AppRole::Viewer).await?;
    let page = store
        .query(
            Query::partition(keys::app_pk(&app.org_id, &app.id))
                .prefix(keys::MEMBER_PREFIX)
                .limit(limit)
                .after(position),
        )
        .await?;
    let members = page
        .items
        .iter()
        .map(|i| i.parse())
        .collect::<Result<_, _>>()?;
    Ok((members, page.next))
}

/// Grant (or change) a member's role in an app (`app_admin`); the user must be
/// a member of the org.
pub async fn set_member(
    services: &Services,
    actor: &Actor,
    app_ref: &str,
    user: &UserId,
    role: AppRole,
) -> ScriptsResult<Membership> {
    let store = services.store.as_ref();
    let (app, _) = require(store, actor, app_ref, AppRole::AppAdmin).await?;
    if skiff_identity::orgs::membership(store, &app.org_id, user)
        .await?
        .is_none()
    {
        return Err(ScriptsError::NotFound("member of the organization"));
    }
    let membership = Membership {
        user_id: user.clone(),
        role,
        added_at: services.clock.unix(),
    };
    store
        .put(
            NewItem::from_record(keys::member(&app.org_id, &app.id, user), &membership)?,
            None,
        )
        .await?;
    Ok(membership)
}

/// Take a member's role in an app away (`app_admin`).
pub async fn remove_member(
    services: &Services,
    actor: &Actor,
    app_ref: &str,
    user: &UserId,
) -> ScriptsResult<()> {
    let store = services.store.as_ref();
    let (app, _) = require(store, actor, app_ref, AppRole::AppAdmin).await?;
    match store
        .delete(
            &keys::member(&app.org_id, &app.id, user),
            Some(Condition::Exists),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.is_condition_failed() => Err(ScriptsError::NotFound("app member")),
        Err(e) => Err(e.into()),
    }
}

/// Bump the app's route-table version (in the slug claim), checked against the
/// version the caller read, so two concurrent route changes cannot both pass
/// their overlap check.
pub(crate) fn bump_routes(slug: &Slug, seen: i64) -> Write {
    Write::Update {
        key: keys::slug(slug.as_str()),
        changes: vec![Change::set("routes_version", seen + 1)],
        condition: Some(Condition::attr("routes_version", Cmp::Eq, seen)),
    }
}

/// The slug claim of an app (public lookups start here).
pub async fn claim(store: &dyn ItemStore, slug: &str) -> Result<Option<SlugClaim>, StoreError> {
    store
        .get(&keys::slug(slug))
        .await?
        .map(|i| i.parse())
        .transpose()
}
