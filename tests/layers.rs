//! The crate arrows cargo can enforce, checked on the workspace's own metadata:
//! a function crate never depends on another function crate, and the shared
//! library depends on no function crate or on the local server. ARCHITECTURE.md
//! draws these arrows.

use serde_json::Value;
use std::process::Command;

/// A workspace package: its name, its directory relative to the workspace root,
/// and its path dependencies as (name, directory).
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

/// Every arrow that breaks the layering, in words.
fn violations(packages: &[Package]) -> Vec<String> {
    let is_function = |dir: &str| dir.starts_with("functions/");
    let mut out = vec![];
    for p in packages {
        for (dep, dep_dir) in &p.path_deps {
            if is_function(&p.dir) && is_function(dep_dir) {
                out.push(format!(
                    "function crate {} depends on function crate {dep}",
                    p.name
                ));
            }
            if p.dir == "shared" && (is_function(dep_dir) || dep_dir.starts_with("infra/")) {
                out.push(format!("the shared library depends on {dep}"));
            }
        }
    }
    out
}

#[test]
fn no_crate_breaks_the_layering() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let packages = packages(&metadata);
    let functions = packages
        .iter()
        .filter(|p| p.dir.starts_with("functions/"))
        .count();
    assert!(functions >= 5, "the function crates are found: {functions}");
    let broken = violations(&packages);
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_check_names_a_function_crate_that_depends_on_another() {
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
            "skiff-shared",
            "shared",
            &[("skiff-auth", "functions/auth")],
        ),
        pkg(
            "skiff-billing",
            "functions/billing",
            &[("skiff-shared", "shared")],
        ),
        pkg(
            "skiff-auth",
            "functions/auth",
            &[
                ("skiff-shared", "shared"),
                ("skiff-billing", "functions/billing"),
            ],
        ),
        pkg(
            "skiff-local",
            "infra/local",
            &[("skiff-auth", "functions/auth")],
        ),
    ];
    assert_eq!(
        violations(&packages),
        [
            "the shared library depends on skiff-auth",
            "function crate skiff-auth depends on function crate skiff-billing",
        ]
    );
}
