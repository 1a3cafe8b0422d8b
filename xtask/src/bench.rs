//! `cargo xtask bench`: Ferrous' in-guest micro-benchmarks next to a Linux
//! guest booted on the same QEMU machine, alternating the two each round.
//! See docs/BENCHMARKS.md.
//!
//! Ferrous boots once per kernel benchmark test (`test=mm-bench`,
//! `test=sched-bench`, ...: every `test=*-bench` of tests/scenarios.toml);
//! Linux runs bench/linux/fbench.c as /init (bench_linux.rs). Both print
//! `bench <name>: median ...` lines (bench_parse.rs); the host adds the wall
//! time from QEMU start to the kernel's `ready:` line or to Linux's /init.
//! The table, JSON and SVG come from bench_report.rs. Nothing here ever
//! fails on a timing: only on a guest that does not run its benchmarks.

use crate::bench_linux::{self, LinuxGuest};
use crate::bench_parse::{self, Metric};
use crate::bench_report::{self, BootRecord, Config, Report, RunRecord, Side};
use crate::build::{self, Artifacts};
use crate::cli::Bench;
use crate::esp::{self, EspTweaks};
use crate::qemu::{self, LinuxMachine, Machine, RunEnd, Serial, Tools};
use crate::scenario;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

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
    let log = scenario::strip_ansi(&String::from_utf8_lossy(&raw));
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

/// The kernel's benchmark tests: every `test=NAME` with NAME ending in
/// `-bench` that a one-CPU scenario of tests/scenarios.toml runs (today
/// `mm-bench`, `sched-bench`, `user-bench`, `cap-bench` and `ipc-bench`),
/// so a new benchmark test with a scenario is picked up without a change
/// here.
pub fn ferrous_bench_tests(scenarios_toml: &str) -> Result<Vec<String>, String> {
    let mut tests: Vec<String> = Vec::new();
    for s in scenario::parse(scenarios_toml)? {
        if s.smp != 1 || s.broken_kernel.is_some() || !s.boot_conf.is_empty() {
            continue;
        }
        for w in s.cmdline.split_whitespace() {
            if let Some(t) = w.strip_prefix("test=")
                && t.ends_with("-bench")
                && !tests.iter().any(|x| x == t)
            {
                tests.push(t.to_string());
            }
        }
    }
    if tests.is_empty() {
        return Err("tests/scenarios.toml runs no `test=*-bench` kernel test".into());
    }
    Ok(tests)
}

fn read_bench_tests() -> Result<Vec<String>, String> {
    let file = build::root().join("tests").join("scenarios.toml");
    let text = fs::read_to_string(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    ferrous_bench_tests(&text).map_err(|e| format!("{}: {e}", file.display()))
}

/// Lays out one ESP per benchmark test under `dir/<test>/esp`.
fn prepare_ferrous(dir: &Path, art: &Artifacts, tests: &[String]) -> Result<(), String> {
    for t in tests {
        let cmdline = format!("test={t}");
        esp::prepare(
            &dir.join(t).join("esp"),
            art,
            &cmdline,
            &EspTweaks::default(),
        )?;
    }
    Ok(())
}

/// Ferrous' share of a round: one boot per benchmark test (ESPs prepared by
/// [`prepare_ferrous`]). Boot values come from the first boot.
fn ferrous_run(
    tools: &Tools,
    dir: &Path,
    tests: &[String],
    mem: &str,
    icount: bool,
    logs: &Path,
    round: u32,
) -> Result<(RunRecord, Vec<String>), String> {
    let mut metrics: Vec<Metric> = Vec::new();
    let mut problems = Vec::new();
    let mut boots = Vec::new();
    let mut first_args = Vec::new();
    for t in tests {
        let run_dir = dir.join(t);
        let log_path = logs.join(format!("ferrous-{t}-{round}.log"));
        let mut cmd = qemu::command(
            tools,
            &Machine {
                smp: SMP,
                mem,
                esp: &run_dir.join("esp"),
                run_dir: &run_dir,
                serial: Serial::File(&log_path),
                gdb: false,
            },
        )?;
        if icount {
            cmd.args(qemu::ICOUNT_ARGS);
        }
        if first_args.is_empty() {
            first_args = args_of(&cmd);
        }
        let limit = if icount {
            2 * FERROUS_TIMEOUT
        } else {
            FERROUS_TIMEOUT
        };
        let b = boot(cmd, &log_path, FERROUS_MARK, limit)?;
        let mut found = bench_parse::parse_log(&b.log);
        if b.end != RunEnd::Pass {
            problems.push(format!("test={t}: QEMU ended with {:?}, not Pass", b.end));
        }
        match b.mark_at {
            Some(at) => found.push(Metric::value("boot-qemu-to-ready", "ms", millis(at))),
            None => problems.push(format!("test={t}: no `ready:` line")),
        }
        if !found.iter().any(|m| !m.name.starts_with("boot-")) {
            problems.push(format!("test={t}: no `bench <name>: median ...` line"));
        }
        for m in found {
            if !metrics.iter().any(|o| o.name == m.name) {
                metrics.push(m);
            }
        }
        boots.push(BootRecord {
            cmdline: format!("test={t}"),
            end: format!("{:?}", b.end),
            wall_seconds: b.wall.as_secs_f64(),
            serial_log: log_path.display().to_string(),
        });
    }
    Ok((
        RunRecord {
            round,
            side: Side::Ferrous,
            ok: problems.is_empty(),
            boots,
            problems,
            metrics,
        },
        first_args,
    ))
}

/// One Linux boot running fbench as /init.
fn linux_run(
    tools: &Tools,
    guest: &LinuxGuest,
    opts: &Bench,
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
            boots: vec![BootRecord {
                cmdline: append,
                end: format!("{:?}", b.end),
                wall_seconds: b.wall.as_secs_f64(),
                serial_log: log_path.display().to_string(),
            }],
            problems,
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

/// Prints one line per run, and on failure the reasons plus the tail of
/// each boot's serial log that did not pass.
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
    let wall: f64 = r.boots.iter().map(|b| b.wall_seconds).sum();
    let ends: Vec<&str> = r.boots.iter().map(|b| b.end.as_str()).collect();
    println!(
        "  {}  round {}/{rounds} {side:<8} {wall:>6.1}s  {} boot(s): {}{boot}, {} metrics",
        if r.ok { "ok  " } else { "FAIL" },
        r.round,
        r.boots.len(),
        ends.join(" "),
        r.metrics.len()
    );
    if r.ok {
        return;
    }
    for p in &r.problems {
        println!("        - {p}");
    }
    for b in r.boots.iter().filter(|b| b.end != "Pass") {
        let log = fs::read(&b.serial_log).unwrap_or_default();
        let log = scenario::strip_ansi(&String::from_utf8_lossy(&log));
        let lines: Vec<&str> = log.lines().collect();
        println!("        ---- last {TAIL_LINES} lines of {}", b.serial_log);
        for l in &lines[lines.len().saturating_sub(TAIL_LINES)..] {
            println!("        | {l}");
        }
        let stderr = Path::new(&b.serial_log).with_extension("stderr");
        let err = fs::read_to_string(&stderr).unwrap_or_default();
        if !err.trim().is_empty() {
            println!("        QEMU said: {}", err.trim());
        }
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

pub fn run(opts: &Bench) -> Result<(), String> {
    let started = Instant::now();
    let rounds = opts.rounds.unwrap_or(if opts.quick { 1 } else { 3 });
    let mode = if opts.icount { "icount" } else { "tcg" };
    let tag = if opts.quick {
        format!("{mode}-quick")
    } else {
        mode.to_string()
    };
    // The commit being measured: taken before the build, as others may
    // commit while the bench runs.
    let git_commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let git_dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let tools = qemu::ensure_tools()?;
    println!("==> building Ferrous (release profile)");
    let art = build::build_all(true)?;
    println!(
        "==> preparing the Linux peer under {}",
        bench_linux::dir().display()
    );
    let guest = bench_linux::prepare()?;
    let tests = read_bench_tests()?;
    let bench_dir = build::target_dir().join("bench");
    let ferrous_dir = bench_dir.join("ferrous");
    prepare_ferrous(&ferrous_dir, &art, &tests)?;
    let logs = bench_dir.join("logs");
    fs::create_dir_all(&logs).map_err(|e| format!("creating {}: {e}", logs.display()))?;
    println!(
        "==> {rounds} round(s), {} mode{}, -m {}; in each: Ferrous ({}), then Linux (fbench)",
        if opts.icount {
            "icount (-icount shift=0: deterministic, 1 ns per instruction)"
        } else {
            "plain TCG (host time)"
        },
        if opts.quick { ", quick" } else { "" },
        opts.mem,
        tests
            .iter()
            .map(|t| format!("test={t}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut runs = Vec::new();
    let (mut ferrous_args, mut linux_args, mut uname) = (Vec::new(), Vec::new(), String::new());
    for round in 1..=rounds {
        let (r, a) = ferrous_run(
            &tools,
            &ferrous_dir,
            &tests,
            &opts.mem,
            opts.icount,
            &logs,
            round,
        )?;
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
        git_commit,
        git_dirty,
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
        ferrous_cmdlines: tests.iter().map(|t| format!("test={t}")).collect(),
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
        "Ferrous {}{} (release; {}) | Linux {} | host {}",
        report.config.git_commit.get(..12).unwrap_or("?"),
        if report.config.git_dirty {
            " + local changes"
        } else {
            ""
        },
        report.config.ferrous_cmdlines.join(", "),
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
/// per kernel benchmark test; every number printed must be there, non-zero
/// and have its median between its minimum and maximum. Never a timing
/// limit. Returns a one-line summary.
pub fn smoke(tools: &Tools, art: &Artifacts) -> Result<String, String> {
    let tests = read_bench_tests()?;
    let dir: PathBuf = build::target_dir().join("qemu").join("bench-smoke");
    prepare_ferrous(&dir, art, &tests)?;
    let (r, _) = ferrous_run(tools, &dir, &tests, "512M", false, &dir, 1)?;
    let mut problems = r.problems.clone();
    if !r.metrics.iter().any(|m| m.name == "boot-kernel-to-ready") {
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
            "{} boot(s) ({}): {benches} benchmarks and {} boot values, \
             all non-zero with min <= median <= max",
            r.boots.len(),
            tests.join(", "),
            r.metrics.len() - benches
        ))
    } else {
        Err(format!(
            "{} (serial logs in {})",
            problems.join("; "),
            dir.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_tests_come_from_one_cpu_scenarios() {
        let toml = r#"
            [[scenario]]
            name = "boot"
            cmdline = "test=boot"
            expect = "pass"

            [[scenario]]
            name = "mm-bench"
            cmdline = "log=info test=mm-bench"
            expect = "pass"

            [[scenario]]
            name = "mm-bench-64m"
            cmdline = "test=mm-bench"
            mem = "64M"
            expect = "pass"

            [[scenario]]
            name = "ipc-bench-smp4"
            cmdline = "test=ipc-bench"
            smp = 4
            expect = "pass"

            [[scenario]]
            name = "sched-bench"
            cmdline = "test=sched-bench"
            expect = "pass"
        "#;
        assert_eq!(
            ferrous_bench_tests(toml).unwrap(),
            ["mm-bench", "sched-bench"]
        );
        let none = "[[scenario]]\nname = 'boot'\ncmdline = 'test=boot'\nexpect = 'pass'\n";
        assert!(ferrous_bench_tests(none).is_err());
    }

    #[test]
    fn the_real_scenario_file_has_the_mm_benchmarks() {
        let tests = read_bench_tests().unwrap();
        assert!(tests.iter().any(|t| t == "mm-bench"), "{tests:?}");
    }
}
