//! The crate arrows of ARCHITECTURE.md, checked on the workspace's own metadata
//! (what each crate declares) and on `cargo tree` (what each domain crate links):
//!
//! - the core depends on no other workspace crate;
//! - the adapters depend only on the core;
//! - a domain crate depends only on the core and on other domains, and links no
//!   HTTP framework, adapter, AWS SDK or SQLite, directly or not;
//! - the HTTP crate depends only on the core and on identity (for the principal);
//! - the wiring crate depends on no function crate and not on the local server;
//! - a function crate never depends on another function crate;
//! - a client crate (`clients/`) depends only on other client crates and links
//!   no server crate, web framework, adapter, AWS SDK or SQLite.
//!
//! Dev-dependencies are not arrows of the product (a test may boot the wiring).

use serde_json::Value;
use std::process::Command;

/// Where a workspace crate sits, by its directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Core,
    Adapters,
    Domain,
    Http,
    App,
    Function,
    Client,
    Other,
}

fn layer(dir: &str) -> Layer {
    match dir {
        "crates/core" => Layer::Core,
        "crates/adapters" => Layer::Adapters,
        "crates/http" => Layer::Http,
        "crates/app" => Layer::App,
        d if d.starts_with("domains/") => Layer::Domain,
        d if d.starts_with("functions/") => Layer::Function,
        d if d.starts_with("clients/") => Layer::Client,
        _ => Layer::Other,
    }
}

/// A workspace package: its name, its directory relative to the workspace root,
/// and the workspace crates it depends on (normal and build dependencies) as
/// (name, directory).
struct Package {
    name: String,
    dir: String,
    path_deps: Vec<(String, String)>,
}

fn relative(root: &str, path: &str) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .trim_start_matches('/')
        .to_owned()
}

fn packages(metadata: &Value) -> Vec<Package> {
    let root = metadata["workspace_root"].as_str().expect("workspace_root");
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let manifest = p["manifest_path"].as_str().expect("manifest_path");
            let dir = relative(root, manifest.trim_end_matches("/Cargo.toml"));
            let path_deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].as_str() != Some("dev"))
                .filter_map(|d| {
                    let path = d["path"].as_str()?;
                    Some((d["name"].as_str()?.to_owned(), relative(root, path)))
                })
                .collect();
            Package {
                name: p["name"].as_str().expect("name").to_owned(),
                dir,
                path_deps,
            }
        })
        .collect()
}

/// Every declared arrow that breaks the layering, in words.
fn violations(packages: &[Package]) -> Vec<String> {
    let mut out = vec![];
    for p in packages {
        let from = layer(&p.dir);
        for (dep, dep_dir) in &p.path_deps {
            let to = layer(dep_dir);
            let allowed = match from {
                Layer::Core => false,
                Layer::Adapters => to == Layer::Core,
                Layer::Domain => matches!(to, Layer::Core | Layer::Domain),
                Layer::Http => to == Layer::Core || dep_dir == "domains/identity",
                Layer::App => !matches!(to, Layer::Function | Layer::Other),
                Layer::Function => !matches!(to, Layer::Function | Layer::Client | Layer::Other),
                Layer::Client => to == Layer::Client,
                Layer::Other => true,
            };
            if !allowed {
                out.push(format!("{} ({from:?}) depends on {dep} ({to:?})", p.name));
            }
        }
    }
    out
}

/// Packages no domain crate may link, even through another crate.
const FORBIDDEN_IN_DOMAINS: &[&str] = &[
    "axum",
    "lambda_http",
    "lambda_runtime",
    "skiff-adapters",
    "skiff-http",
    "skiff-app",
    "aws-config",
    "rusqlite",
    "lettre",
];

/// The forbidden packages in a `cargo tree --prefix none` listing.
fn forbidden_in(tree: &str) -> Vec<String> {
    let mut found: Vec<String> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| FORBIDDEN_IN_DOMAINS.contains(name) || name.starts_with("aws-sdk-"))
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

fn cargo(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn workspace() -> Vec<Package> {
    let metadata: Value = serde_json::from_str(&cargo(&[
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--offline",
    ]))
    .expect("metadata JSON");
    packages(&metadata)
}

#[test]
fn no_crate_breaks_the_layering() {
    let packages = workspace();
    let count = |l: Layer| packages.iter().filter(|p| layer(&p.dir) == l).count();
    assert!(count(Layer::Function) >= 5, "the function crates are found");
    assert!(count(Layer::Domain) >= 3, "the domain crates are found");
    let broken = violations(&packages);
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn no_domain_crate_links_http_or_an_adapter() {
    for p in workspace()
        .iter()
        .filter(|p| layer(&p.dir) == Layer::Domain)
    {
        let tree = cargo(&[
            "tree",
            "-p",
            &p.name,
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ]);
        assert!(tree.contains(&p.name), "cargo tree lists {}", p.name);
        let found = forbidden_in(&tree);
        assert!(found.is_empty(), "{} links {found:?}", p.name);
    }
}

#[test]
fn a_client_sdk_links_no_server_crate() {
    let clients: Vec<_> = workspace()
        .into_iter()
        .filter(|p| layer(&p.dir) == Layer::Client)
        .collect();
    assert!(!clients.is_empty(), "the client crates are found");
    let client_names: Vec<&str> = clients.iter().map(|p| p.name.as_str()).collect();
    for p in &clients {
        let tree = cargo(&[
            "tree",
            "-p",
            &p.name,
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ]);
        assert!(tree.contains(&p.name), "cargo tree lists {}", p.name);
        let mut found = forbidden_in(&tree);
        found.extend(
            tree.lines()
                .filter_map(|l| l.split_whitespace().next())
                .filter(|name| name.starts_with("skiff-") && !client_names.contains(name))
                .map(str::to_owned),
        );
        assert!(found.is_empty(), "{} links {found:?}", p.name);
    }
}

#[test]
fn the_checks_name_the_arrows_they_refuse() {
    let pkg = |name: &str, dir: &str, deps: &[(&str, &str)]| Package {
        name: name.into(),
        dir: dir.into(),
        path_deps: deps
            .iter()
            .map(|(n, d)| (n.to_string(), d.to_string()))
            .collect(),
    };
    let packages = [
        pkg(
            "skiff-core",
            "crates/core",
            &[("skiff-billing", "domains/billing")],
        ),
        pkg(
            "skiff-billing",
            "domains/billing",
            &[
                ("skiff-core", "crates/core"),
                ("skiff-identity", "domains/identity"),
                ("skiff-adapters", "crates/adapters"),
            ],
        ),
        pkg(
            "skiff-fn-auth",
            "functions/auth",
            &[
                ("skiff-http", "crates/http"),
                ("skiff-fn-billing", "functions/billing"),
            ],
        ),
        pkg(
            "skiff-app",
            "crates/app",
            &[("skiff-fn-auth", "functions/auth")],
        ),
        pkg(
            "skiff-local",
            "infra/local",
            &[("skiff-fn-auth", "functions/auth")],
        ),
        pkg(
            "skiff-cli",
            "clients/cli",
            &[
                ("skiff-client", "clients/rust"),
                ("skiff-core", "crates/core"),
            ],
        ),
    ];
    assert_eq!(
        violations(&packages),
        [
            "skiff-core (Core) depends on skiff-billing (Domain)",
            "skiff-billing (Domain) depends on skiff-adapters (Adapters)",
            "skiff-fn-auth (Function) depends on skiff-fn-billing (Function)",
            "skiff-app (App) depends on skiff-fn-auth (Function)",
            "skiff-cli (Client) depends on skiff-core (Core)",
        ]
    );
    let tree =
        "skiff-billing v0.1.0\nserde v1.0.0\naxum v0.8.4\naws-sdk-s3 v1.0.0\naxum v0.8.4 (*)\n";
    assert_eq!(forbidden_in(tree), ["aws-sdk-s3", "axum"]);
}
