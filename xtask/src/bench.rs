//! `cargo xtask bench`: Ferrous' in-guest micro-benchmarks next to a Linux
//! guest booted on the same QEMU machine, alternating the two each round.
//! See docs/BENCHMARKS.md.
//!
//! Ferrous runs `test=mm-bench` (kernel/src/ktest/mm.rs); Linux runs
//! bench/linux/fbench.c as /init (bench_linux.rs). Both print
//! `bench <name>: median ...` lines (bench_parse.rs); the host adds the wall
//! time from QEMU start to the kernel's `ready:` line or to Linux's /init.
//! The table, JSON and SVG come from bench_report.rs. Nothing here ever
//! fails on a timing: only on a guest that does not run its benchmarks.

use crate::Options;
use crate::bench_linux::{self, LinuxGuest};
use crate::bench_parse::{self, Metric};
use crate::bench_report::{self, Config, Report, RunRecord, Side};
use crate::build::{self, Artifacts};
use crate::esp::{self, EspTweaks};
use crate::qemu::{self, LinuxMachine, Machine, RunEnd, Serial, Tools};
use crate::scenario;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

const FERROUS_CMDLINE: &str = "test=mm-bench";
/// The kernel's `ready: N TSC cycles after kernel entry` line.
const FERROUS_MARK: &str = "TSC cycles after kernel entry";
/// fbench's first line, printed as /init starts.
const LINUX_MARK: &str = "linux init reached";
const LINUX_DONE: &str = "bench-linux-ready";
const FERROUS_TIMEOUT: Duration = Duration::from_secs(120);
const LINUX_TIMEOUT: Duration = Duration::from_secs(180);
const SMP: u32 = 1;
/// Serial-log lines shown when a run fails.
const TAIL_LINES: usize = 30;

/// How one QEMU run went.
struct Boot {
    end: RunEnd,
    /// Host time from spawning QEMU until the marker line was in the log.
    mark_at: Option<Duration>,
    wall: Duration,
    log: String,
}

/// Starts QEMU, polls the serial log for `mark` (every 5 ms until it is
/// seen), and waits for the end, killing QEMU after `limit`.
fn boot(mut cmd: Command, log_path: &Path, mark: &str, limit: Duration) -> Result<Boot, String> {
    // A stale log would fake the marker.
    let _ = fs::remove_file(log_path);
    let stderr_path = log_path.with_extension("stderr");
    let stderr = fs::File::create(&stderr_path)
        .map_err(|e| format!("creating {}: {e}", stderr_path.display()))?;
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", qemu::QEMU))?;
    let mark = mark.as_bytes();
    let mut mark_at = None;
    let end = loop {
        if mark_at.is_none()
            && fs::read(log_path).is_ok_and(|b| b.windows(mark.len()).any(|w| w == mark))
        {
            mark_at = Some(start.elapsed());
        }
        if let Some(end) = qemu::try_end(&mut child)? {
            break end;
        }
        if start.elapsed() >= limit {
            qemu::kill(&mut child);
            break RunEnd::Timeout;
        }
        let nap = if mark_at.is_none() { 5 } else { 50 };
        std::thread::sleep(Duration::from_millis(nap));
    };
    let wall = start.elapsed();
    let raw = fs::read(log_path).unwrap_or_default();
    let mut log = scenario::strip_ansi(&String::from_utf8_lossy(&raw));
    if end != RunEnd::Pass {
        let err = fs::read_to_string(&stderr_path).unwrap_or_default();
        if !err.trim().is_empty() {
            log.push_str(&format!("\n[QEMU stderr]\n{}", err.trim()));
        }
    }
    Ok(Boot {
        end,
        mark_at,
        wall,
        log,
    })
}

fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

/// One Ferrous boot with `test=mm-bench` (ESP already prepared in `dir`).
fn ferrous_run(
    tools: &Tools,
    dir: &Path,
    mem: &str,
    icount: bool,
    log_path: &Path,
    round: u32,
) -> Result<(RunRecord, Vec<String>), String> {
    let esp = dir.join("esp");
    let mut cmd = qemu::command(
        tools,
        &Machine {
            smp: SMP,
            mem,
            esp: &esp,
            run_dir: dir,
            serial: Serial::File(log_path),
            gdb: false,
        },
    )?;
    if icount {
        cmd.args(qemu::ICOUNT_ARGS);
    }
    let args = args_of(&cmd);
    let limit = if icount {
        2 * FERROUS_TIMEOUT
    } else {
        FERROUS_TIMEOUT
    };
    let b = boot(cmd, log_path, FERROUS_MARK, limit)?;
    let mut metrics = bench_parse::parse_log(&b.log);
    let mut problems = Vec::new();
    if b.end != RunEnd::Pass {
        problems.push(format!("QEMU ended with {:?}, not Pass", b.end));
    }
    match b.mark_at {
        Some(t) => metrics.push(Metric::value("boot-qemu-to-ready", "ms", millis(t))),
        None => problems.push("no `ready:` line".into()),
    }
    if !metrics.iter().any(|m| !m.name.starts_with("boot-")) {
        problems.push("no `bench <name>: median ...` line".into());
    }
    Ok((
        RunRecord {
            round,
            side: Side::Ferrous,
            ok: problems.is_empty(),
            end: format!("{:?}", b.end),
            wall_seconds: b.wall.as_secs_f64(),
            problems,
            serial_log: log_path.display().to_string(),
            metrics,
        },
        args,
    ))
}

/// One Linux boot running fbench as /init.
fn linux_run(
    tools: &Tools,
    guest: &LinuxGuest,
    opts: &Options,
    log_path: &Path,
    round: u32,
) -> Result<(RunRecord, Vec<String>, String), String> {
    let run_dir = log_path.parent().ok_or("log path has no folder")?;
    let append = bench_linux::append(opts.quick);
    let mut cmd = qemu::linux_command(
        tools,
        &LinuxMachine {
            smp: SMP,
            mem: &opts.mem,
            kernel: &guest.kernel,
            initrd: &guest.initrd,
            append: &append,
            run_dir,
            serial: Serial::File(log_path),
        },
    )?;
    if opts.icount {
        cmd.args(qemu::ICOUNT_ARGS);
    }
    let args = args_of(&cmd);
    let limit = if opts.icount {
        2 * LINUX_TIMEOUT
    } else {
        LINUX_TIMEOUT
    };
    let b = boot(cmd, log_path, LINUX_MARK, limit)?;
    let mut metrics = bench_parse::parse_log(&b.log);
    let mut problems = Vec::new();
    if b.end != RunEnd::Pass {
        problems.push(format!("QEMU ended with {:?}, not Pass", b.end));
    }
    if !b.log.contains(LINUX_DONE) {
        problems.push(format!("no `{LINUX_DONE}` line"));
    }
    for l in b.log.lines().filter(|l| l.starts_with("fbench: error")) {
        problems.push(l.to_string());
    }
    match b.mark_at {
        Some(t) => metrics.push(Metric::value("boot-qemu-to-init", "ms", millis(t))),
        None => problems.push(format!("no `{LINUX_MARK}` line")),
    }
    let uname = bench_parse::line_after(&b.log, "linux kernel:")
        .unwrap_or("")
        .to_string();
    Ok((
        RunRecord {
            round,
            side: Side::Linux,
            ok: problems.is_empty(),
            end: format!("{:?}", b.end),
            wall_seconds: b.wall.as_secs_f64(),
            problems,
            serial_log: log_path.display().to_string(),
            metrics,
        },
        args,
        uname,
    ))
}

fn args_of(cmd: &Command) -> Vec<String> {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// Prints one line per run, and the reasons plus the log's tail on failure.
fn report_run(r: &RunRecord, rounds: u32) {
    let side = match r.side {
        Side::Ferrous => "Ferrous",
        Side::Linux => "Linux",
    };
    let boot = r
        .metrics
        .iter()
        .find(|m| m.unit == "ms" && m.name.starts_with("boot-qemu-"))
        .map(|m| format!(", ready at {:.2}s", m.median as f64 / 1000.0))
        .unwrap_or_default();
    println!(
        "  {}  round {}/{rounds} {side:<8} {:>6.1}s  {}{boot}, {} metrics",
        if r.ok { "ok  " } else { "FAIL" },
        r.round,
        r.wall_seconds,
        r.end,
        r.metrics.len()
    );
    if r.ok {
        return;
    }
    for p in &r.problems {
        println!("        - {p}");
    }
    let log = fs::read(&r.serial_log).unwrap_or_default();
    let log = scenario::strip_ansi(&String::from_utf8_lossy(&log));
    let lines: Vec<&str> = log.lines().collect();
    println!("        ---- last {TAIL_LINES} lines of {}", r.serial_log);
    for l in &lines[lines.len().saturating_sub(TAIL_LINES)..] {
        println!("        | {l}");
    }
}

fn git(args: &[&str]) -> Option<String> {
    let o = Command::new("git")
        .args(args)
        .current_dir(build::root())
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

fn host_cpu() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn prepare_ferrous_esp(dir: &Path, art: &Artifacts) -> Result<(), String> {
    esp::prepare(
        &dir.join("esp"),
        art,
        FERROUS_CMDLINE,
        &EspTweaks::default(),
    )
    .map(|_| ())
}

pub fn run(opts: &Options) -> Result<(), String> {
    let started = Instant::now();
    let rounds = opts.rounds.unwrap_or(if opts.quick { 1 } else { 3 });
    let mode = if opts.icount { "icount" } else { "tcg" };
    let tag = if opts.quick {
        format!("{mode}-quick")
    } else {
        mode.to_string()
    };
    let tools = qemu::ensure_tools()?;
    println!("==> building Ferrous (release profile)");
    let art = build::build_all(true)?;
    println!(
        "==> preparing the Linux peer under {}",
        bench_linux::dir().display()
    );
    let guest = bench_linux::prepare()?;
    let bench_dir = build::target_dir().join("bench");
    let ferrous_dir = bench_dir.join("ferrous");
    prepare_ferrous_esp(&ferrous_dir, &art)?;
    let logs = bench_dir.join("logs");
    fs::create_dir_all(&logs).map_err(|e| format!("creating {}: {e}", logs.display()))?;
    println!(
        "==> {rounds} round(s), {} mode{}, -m {}, Ferrous then Linux in each",
        if opts.icount {
            "icount (-icount shift=0: deterministic, 1 ns per instruction)"
        } else {
            "plain TCG (host time)"
        },
        if opts.quick { ", quick" } else { "" },
        opts.mem
    );
    let mut runs = Vec::new();
    let (mut ferrous_args, mut linux_args, mut uname) = (Vec::new(), Vec::new(), String::new());
    for round in 1..=rounds {
        let log = logs.join(format!("ferrous-{round}.log"));
        let (r, a) = ferrous_run(&tools, &ferrous_dir, &opts.mem, opts.icount, &log, round)?;
        report_run(&r, rounds);
        runs.push(r);
        ferrous_args = a;
        let log = logs.join(format!("linux-{round}.log"));
        let (r, a, u) = linux_run(&tools, &guest, opts, &log, round)?;
        report_run(&r, rounds);
        runs.push(r);
        linux_args = a;
        if !u.is_empty() {
            uname = u;
        }
    }

    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (date, stamp) = bench_report::utc(secs);
    let config = Config {
        date,
        git_commit: git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into()),
        git_dirty: git(&["status", "--porcelain", "--untracked-files=no"])
            .is_some_and(|s| !s.is_empty()),
        qemu: qemu::version(&tools),
        machine: "q35".into(),
        cpu: "max".into(),
        accel: "tcg".into(),
        memory: opts.mem.clone(),
        smp: SMP,
        mode: mode.into(),
        icount: opts.icount.then(|| qemu::ICOUNT_ARGS.join(" ")),
        quick: opts.quick,
        rounds,
        host_cpu: host_cpu(),
        ferrous_profile: "release".into(),
        ferrous_cmdline: FERROUS_CMDLINE.into(),
        linux_kernel: file_name(&guest.kernel),
        linux_uname: uname,
        linux_packages: vec![guest.kernel_deb.clone(), guest.busybox_deb.clone()],
        linux_append: bench_linux::append(opts.quick),
        qemu_args_ferrous: ferrous_args,
        qemu_args_linux: linux_args,
    };
    let table = bench_report::rows(&runs);
    let failed: Vec<String> = runs
        .iter()
        .filter(|r| !r.ok)
        .map(|r| format!("{:?} round {}", r.side, r.round))
        .collect();
    let report = Report {
        schema: 1,
        config,
        table,
        runs,
    };
    println!();
    println!(
        "mode: {} | {} | -machine q35 -cpu max -m {} -smp {SMP} | median of {rounds} round(s){}",
        if opts.icount {
            "icount (-icount shift=0)"
        } else {
            "plain TCG"
        },
        report.config.qemu,
        opts.mem,
        if opts.quick { ", quick" } else { "" }
    );
    println!(
        "Ferrous {} (release, {FERROUS_CMDLINE}) | Linux {} | host {}",
        report.config.git_commit.get(..12).unwrap_or("?"),
        report.config.linux_kernel,
        report.config.host_cpu
    );
    println!();
    print!("{}", bench_report::table_text(&report.table));
    let (json, svg) = bench_report::write(&report, &bench_dir, &tag, &stamp)?;
    println!();
    println!("JSON: {}", json.display());
    println!("SVG:  {}", svg.display());
    println!("bench took {:.1}s", started.elapsed().as_secs_f64());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("runs failed: {}", failed.join(", ")))
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The Ferrous half of `bench --quick`, for `cargo xtask test`: one boot
/// with `test=mm-bench`; every number it prints must be there, non-zero and
/// have its median between its minimum and maximum. Never a timing limit.
/// Returns a one-line summary.
pub fn smoke(tools: &Tools, art: &Artifacts) -> Result<String, String> {
    let dir: PathBuf = build::target_dir().join("qemu").join("bench-smoke");
    prepare_ferrous_esp(&dir, art)?;
    let log = dir.join("serial.log");
    let (r, _) = ferrous_run(tools, &dir, "512M", false, &log, 1)?;
    let mut problems = r.problems.clone();
    let boot_ready = r.metrics.iter().any(|m| m.name == "boot-kernel-to-ready");
    if !boot_ready {
        problems.push("no boot-kernel-to-ready value".into());
    }
    for m in &r.metrics {
        if let Err(e) = m.check_sane() {
            problems.push(e);
        }
    }
    if problems.is_empty() {
        let benches = r
            .metrics
            .iter()
            .filter(|m| !m.name.starts_with("boot-"))
            .count();
        Ok(format!(
            "{benches} benchmarks and {} boot values, all non-zero with min <= median <= max",
            r.metrics.len() - benches
        ))
    } else {
        Err(format!(
            "{} (serial log: {})",
            problems.join("; "),
            log.display()
        ))
    }
}
