//! Cold-start and size meter: starts each Lambda binary against a local Runtime API
//! emulator and times spawn → first `/next` poll, the init a cold start pays before
//! the first event, both as wall time and as the CPU time the process spent to get
//! there (steady even while other work shares the machine). Prints a markdown table
//! with sizes and each median's ratio to the bare `lambda_http` baseline.
//!
//! Usage: `coldstart [--runs N] [--baseline PATH] [--timeout-secs S] [--env K=V]... BINARY...`
//! (`scripts/coldstart.sh` builds everything and starts moto). `AWS_ENDPOINT_URL`
//! must name the AWS emulator the functions are configured against. Each child
//! sees only the Lambda and Skiff variables of `skiff_coldstart::env`, so the
//! caller's environment cannot change what is measured; `--env` adds or replaces
//! one, for experiments (another backend, another CA bundle).

use skiff_coldstart::env::function_env;
use skiff_coldstart::report::{Row, table};
use skiff_coldstart::runtime_api::{Event, RuntimeApi};
use skiff_coldstart::stats::summarize;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

const USAGE: &str =
    "usage: coldstart [--runs N] [--baseline PATH] [--timeout-secs S] [--env K=V]... BINARY...";

struct Args {
    runs: usize,
    baseline: PathBuf,
    timeout: Duration,
    extra_env: Vec<(String, String)>,
    binaries: Vec<PathBuf>,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coldstart: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args = parse_args(std::env::args().skip(1))?;
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .map_err(|_| "AWS_ENDPOINT_URL is not set: run scripts/coldstart.sh, which starts moto")?;
    let api = RuntimeApi::start().map_err(|e| format!("runtime API emulator: {e}"))?;
    let scratch = std::env::temp_dir().join(format!("skiff-coldstart-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let result = measure_all(&args, &api, &endpoint, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    let (baseline, rows) = result?;
    println!(
        "{} runs each, {} cores, AWS endpoint {endpoint}\n",
        args.runs,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    print!("{}", table(&baseline, &rows));
    Ok(())
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let sibling = std::env::current_exe()
        .map_err(|e| format!("current executable: {e}"))?
        .with_file_name("hello");
    let mut args = Args {
        runs: 15,
        baseline: sibling,
        timeout: Duration::from_secs(20),
        extra_env: vec![],
        binaries: vec![],
    };
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| it.next().ok_or(format!("{flag} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--runs" => {
                args.runs = value("--runs")?
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or("--runs must be a positive integer")?;
            }
            "--baseline" => args.baseline = value("--baseline")?.into(),
            "--timeout-secs" => {
                let secs: u64 = value("--timeout-secs")?
                    .parse()
                    .map_err(|_| "--timeout-secs must be an integer")?;
                args.timeout = Duration::from_secs(secs);
            }
            "--env" => {
                let pair = value("--env")?;
                let (k, v) = pair.split_once('=').ok_or("--env takes KEY=VALUE")?;
                args.extra_env.push((k.to_owned(), v.to_owned()));
            }
            "-h" | "--help" => return Err(USAGE.into()),
            flag if flag.starts_with("--") => return Err(format!("unknown flag {flag}\n{USAGE}")),
            _ => args.binaries.push(arg.into()),
        }
    }
    if args.binaries.is_empty() {
        return Err(USAGE.into());
    }
    Ok(args)
}

/// The runs go round-robin over the binaries, so a slow spell of this shared
/// machine spreads over all of them instead of skewing one.
fn measure_all(
    args: &Args,
    api: &RuntimeApi,
    endpoint: &str,
    scratch: &Path,
) -> Result<(Row, Vec<Row>), String> {
    let all: Vec<&Path> = std::iter::once(args.baseline.as_path())
        .chain(args.binaries.iter().map(PathBuf::as_path))
        .collect();
    for bin in &all {
        if !bin.is_file() {
            return Err(format!("{}: no such binary", bin.display()));
        }
    }
    // One untimed start each first, so no timed run reads the binary from disk.
    for bin in &all {
        time_init(api, bin, endpoint, &args.extra_env, scratch, args.timeout)?;
    }
    let mut walls = vec![Vec::with_capacity(args.runs); all.len()];
    let mut cpus = walls.clone();
    for run in 1..=args.runs {
        eprintln!("coldstart: run {run}/{}", args.runs);
        for ((bin, walls), cpus) in all.iter().zip(&mut walls).zip(&mut cpus) {
            let init = time_init(api, bin, endpoint, &args.extra_env, scratch, args.timeout)?;
            walls.push(init.wall);
            cpus.push(init.cpu);
        }
    }
    let mut rows = Vec::with_capacity(all.len());
    for ((bin, walls), cpus) in all.iter().zip(&walls).zip(&cpus) {
        let (stripped_bytes, gzip_bytes) = sizes(bin, scratch)?;
        rows.push(Row {
            name: name_of(bin),
            init: summarize(walls).ok_or("no runs")?,
            cpu: summarize(cpus).ok_or("no runs")?,
            stripped_bytes,
            gzip_bytes,
        });
    }
    let baseline = rows.remove(0);
    Ok((baseline, rows))
}

fn name_of(bin: &Path) -> String {
    bin.file_name().map_or_else(
        || bin.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// What one cold start cost.
struct Init {
    /// Spawn → the first `/next` poll.
    wall: Duration,
    /// CPU time of the process's threads up to that poll.
    cpu: Duration,
}

/// One cold start: spawn → the first `/next` poll. The process is killed after.
fn time_init(
    api: &RuntimeApi,
    bin: &Path,
    endpoint: &str,
    extra_env: &[(String, String)],
    scratch: &Path,
    timeout: Duration,
) -> Result<Init, String> {
    let name = name_of(bin);
    let mut vars = function_env(&name, &api.addr().to_string(), endpoint);
    for (k, v) in extra_env {
        vars.retain(|(key, _)| key != k);
        vars.push((k.clone(), v.clone()));
    }
    let log_path = scratch.join(format!("{name}.log"));
    let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let log2 = log.try_clone().map_err(|e| e.to_string())?;
    api.drain();
    let start = Instant::now();
    let mut child = Command::new(bin)
        .env_clear()
        .envs(vars)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .spawn()
        .map_err(|e| format!("{name}: cannot start {}: {e}", bin.display()))?;
    let ready = await_first_poll(api, &mut child, start, timeout).and_then(|wall| {
        let cpu = cpu_time(child.id())?;
        Ok(Init { wall, cpu })
    });
    let _ = child.kill();
    let _ = child.wait();
    ready.map_err(|why| {
        let output = std::fs::read_to_string(&log_path).unwrap_or_default();
        format!("{name}: {why}\n--- its stdout and stderr ---\n{output}")
    })
}

fn await_first_poll(
    api: &RuntimeApi,
    child: &mut Child,
    start: Instant,
    timeout: Duration,
) -> Result<Duration, String> {
    loop {
        match api.recv_timeout(Duration::from_millis(5)) {
            Ok(Event::Next(at)) => return Ok(at.saturating_duration_since(start)),
            Ok(Event::InitError { error_type, body }) => {
                return Err(format!("posted init/error ({error_type}): {body}"));
            }
            Ok(Event::Unexpected(request)) => {
                return Err(format!(
                    "unexpected request before the first poll: {request}"
                ));
            }
            Err(RecvTimeoutError::Disconnected) => return Err("the emulator stopped".into()),
            Err(RecvTimeoutError::Timeout) => {}
        }
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("exited ({status}) before polling for an event"));
        }
        if start.elapsed() > timeout {
            return Err(format!("no poll for an event within {timeout:?}"));
        }
    }
}

/// The CPU time the live threads of a process have run, from the scheduler's
/// per-thread nanosecond counters (`/proc/<pid>/task/<tid>/schedstat`). The
/// process is parked on its held `/next` request when this is read, so nothing
/// after init is counted.
fn cpu_time(pid: u32) -> Result<Duration, String> {
    let tasks = format!("/proc/{pid}/task");
    let mut total = 0u64;
    for task in std::fs::read_dir(&tasks).map_err(|e| format!("{tasks}: {e}"))? {
        let path = task.map_err(|e| e.to_string())?.path().join("schedstat");
        // A thread may have ended since the directory was read.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let ns: u64 = text
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{}: unreadable", path.display()))?;
        total += ns;
    }
    Ok(Duration::from_nanos(total))
}

/// The stripped size (release binaries are stripped already; stripping a copy
/// makes sure) and that copy's `gzip -9` size.
fn sizes(bin: &Path, scratch: &Path) -> Result<(u64, u64), String> {
    let copy = scratch.join("stripped");
    std::fs::copy(bin, &copy).map_err(|e| format!("copy {}: {e}", bin.display()))?;
    let status = Command::new("strip")
        .arg("--strip-all")
        .arg(&copy)
        .status()
        .map_err(|e| format!("strip: {e}"))?;
    if !status.success() {
        return Err(format!("strip {}: {status}", bin.display()));
    }
    let stripped = std::fs::metadata(&copy).map_err(|e| e.to_string())?.len();
    let mut gzip = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(&copy)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("gzip: {e}"))?;
    let mut out = gzip.stdout.take().ok_or("gzip: no stdout")?;
    let gzipped = std::io::copy(&mut out, &mut std::io::sink()).map_err(|e| e.to_string())?;
    let status = gzip.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("gzip {}: {status}", bin.display()));
    }
    Ok((stripped, gzipped))
}
