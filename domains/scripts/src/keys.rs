//! Item keys of scripts. Tenant items sit in partitions that start with the org
//! id; the only global items are the claims on names that are unique across the
//! deployment (app slugs, hosts), which the public routes look up.

use skiff_core::ids::{AppId, ExecutionId, OrgId, RouteId, ScriptId, UserId};
use skiff_core::ports::store::{IndexKey, Key};

/// The org's apps.
pub fn apps_pk(org: &OrgId) -> String {
    format!("{org}#SCRIPTS")
}

pub const APP_PREFIX: &str = "APP#";

pub fn app(org: &OrgId, app: &AppId) -> Key {
    Key::new(apps_pk(org), format!("{APP_PREFIX}{app}"))
}

/// Everything of one app: members, script names, routes, domains (and, later,
/// triggers). Deleting the app empties it.
pub fn app_pk(org: &OrgId, app: &AppId) -> String {
    format!("{org}#APP#{app}")
}

pub const MEMBER_PREFIX: &str = "MEMBER#";

pub fn member(org: &OrgId, app: &AppId, user: &UserId) -> Key {
    Key::new(app_pk(org, app), format!("{MEMBER_PREFIX}{user}"))
}

pub const SCRIPT_NAME_PREFIX: &str = "SCRIPTNAME#";

/// A script's name within its app (unique): points at the script.
pub fn script_name(org: &OrgId, app: &AppId, name: &str) -> Key {
    Key::new(app_pk(org, app), format!("{SCRIPT_NAME_PREFIX}{name}"))
}

pub const ROUTE_PREFIX: &str = "ROUTE#";

pub fn route(org: &OrgId, app: &AppId, route: &RouteId) -> Key {
    Key::new(app_pk(org, app), format!("{ROUTE_PREFIX}{route}"))
}

pub const DOMAIN_PREFIX: &str = "DOMAIN#";

/// The app's record of a host it claims.
pub fn app_domain(org: &OrgId, app: &AppId, host: &str) -> Key {
    Key::new(app_pk(org, app), format!("{DOMAIN_PREFIX}{host}"))
}

/// A script, by id (what `/scripts/{id}` reads).
pub fn script(org: &OrgId, script: &ScriptId) -> Key {
    Key::new(format!("{org}#SCRIPT#{script}"), "SCRIPT")
}

/// The index entry listing an app's scripts by name.
pub fn script_index(org: &OrgId, app: &AppId, name: &str) -> IndexKey {
    IndexKey::new(format!("{org}#APP#{app}#SCRIPTS"), name)
}

pub fn scripts_index_pk(org: &OrgId, app: &AppId) -> String {
    format!("{org}#APP#{app}#SCRIPTS")
}

/// A script's execution logs, newest last by execution id (UUIDv7).
pub fn logs_pk(org: &OrgId, script: &ScriptId) -> String {
    format!("{org}#SCRIPT#{script}#LOG")
}

pub fn log(org: &OrgId, script: &ScriptId, execution: &ExecutionId) -> Key {
    Key::new(logs_pk(org, script), execution.to_string())
}

/// The global claim of a slug: which org and app it names, and the version of
/// the app's route table (what the public routes read first).
pub fn slug(slug: &str) -> Key {
    Key::new(format!("APPSLUG#{slug}"), "APPSLUG")
}

/// The global claim of a host.
pub fn host(host: &str) -> Key {
    Key::new(format!("HOST#{host}"), "HOST")
}
