//! `skiff backup` and `skiff restore` of a data dir of about 1 GB: MB/s and the peak
//! resident memory of each, run as the real `skiff` binary in a child process
//! (peak RSS from the kernel's accounting of waited-for children).
//!
//! `cargo bench -p skiff-local --bench backup`. `BACKUP_BENCH_MB` (default 1024)
//! sets the size: about 40 % in the item store (items of 8 KiB through the store
//! port, as the server writes them), the rest in 1 MiB blobs through the
//! filesystem blob store.

use bytes::Bytes;
use skiff_core::ports::blobs::BlobKey;
use skiff_core::ports::store::{Key, NewItem, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Bytes under `path`; a file the running server removes mid-walk (SQLite's
/// journal) counts as gone.
fn dir_bytes(path: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(path).unwrap() {
        let entry = entry.unwrap();
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        total += if meta.is_dir() {
            dir_bytes(&entry.path())
        } else {
            meta.len()
        };
    }
    total
}

/// Run `skiff <args>`; its wall time and peak RSS (KiB), from `wait4` on that child.
fn run(args: &[&str]) -> (f64, i64) {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_skiff"))
        .args(args)
        .env("SKIFF_LOG", "warn")
        .spawn()
        .expect("skiff runs");
    let pid = child.id() as libc::pid_t;
    // SAFETY: wait4 writes only the status and the rusage it is given; the child is
    // reaped here, so `child` is never waited on again.
    let (status, usage) = unsafe {
        let mut status = 0;
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::wait4(pid, &mut status, 0, &mut usage), pid);
        (status, usage)
    };
    std::mem::forget(child);
    let secs = started.elapsed().as_secs_f64();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "skiff {args:?} failed"
    );
    (secs, usage.ru_maxrss)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mb: u64 = std::env::var("BACKUP_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    let started = Instant::now();
    {
        let (embedded, _) = skiff_app::testing::embedded_services(&data).await;
        let s = embedded.services;
        let item_bytes = mb * 1024 * 1024 * 2 / 5;
        let filler = "x".repeat(8 * 1024);
        let items = item_bytes / (8 * 1024);
        for batch in 0..items.div_ceil(50) {
            let writes = (0..50)
                .map(|i| Write::Put {
                    item: NewItem::new(Key::new(
                        format!("BENCH#{}", batch % 100),
                        format!("{batch:08}#{i:02}"),
                    ))
                    .attr("data", filler.as_str()),
                    condition: None,
                })
                .collect();
            s.store.transact(writes).await.unwrap();
        }
        let blob = Bytes::from(vec![0xA5u8; 1024 * 1024]);
        let blobs = (mb * 1024 * 1024 - item_bytes) / (1024 * 1024);
        for i in 0..blobs {
            let key = BlobKey::parse(format!("org_bench/backups/{i:06}.bin")).unwrap();
            s.blobs
                .put(&key, blob.clone(), "application/octet-stream")
                .await
                .unwrap();
        }
    }
    let size = dir_bytes(&data) as f64 / 1e6;
    println!(
        "data dir: {size:.0} MB (populated in {:.0} s)",
        started.elapsed().as_secs_f64()
    );
    let to = work.path().join("backup");
    let data_arg = data.display().to_string();
    let to_arg = to.display().to_string();
    let (secs, rss) = run(&["backup", "--data-dir", &data_arg, "--to", &to_arg]);
    println!(
        "skiff backup:  {:.1} s, {:.0} MB/s, peak RSS {:.1} MB",
        secs,
        size / secs,
        rss as f64 / 1024.0
    );
    let restored = work.path().join("restored").display().to_string();
    let (secs, rss_after) = run(&["restore", "--from", &to_arg, "--data-dir", &restored]);
    println!(
        "skiff restore: {:.1} s, {:.0} MB/s (every part hashed before it is written, and as it is), peak RSS {:.1} MB",
        secs,
        size / secs,
        rss_after as f64 / 1024.0
    );
}
