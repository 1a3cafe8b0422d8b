//! `cargo xtask test`: the one test command. Lints, host tests, then every
//! QEMU scenario in tests/scenarios.toml; ends with `N passed, N failed`.

use crate::build::{self, Artifacts, UserProgram};
use crate::cli::Test;
use crate::esp::{self, EspTweaks};
use crate::qemu::{self, Machine, RunEnd, Serial, Tools};
use crate::scenario::{self, Scenario};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Lines of serial log shown when a scenario fails.
const TAIL_LINES: usize = 40;

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, name: &str, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            self.failures.push(name.to_string());
        }
    }
}

pub fn run(opts: &Test) -> Result<(), String> {
    let started = Instant::now();
    let mut tally = Tally::default();
    let tools = qemu::ensure_tools()?;
    if !opts.scenarios_only && !opts.campaigns {
        lint_and_host_tests(&build::user_programs()?, &mut tally);
    }
    println!("==> building kernel, loader and user programs");
    match build::build_all(opts.release) {
        Ok(art) => {
            run_scenarios(opts, &tools, &art, &mut tally)?;
            // Only on a full run: naming scenarios selects just those.
            if opts.scenarios.is_empty() && !opts.campaigns {
                bench_smoke(&tools, &art, &mut tally);
            }
        }
        Err(e) => {
            println!("  FAIL  build: {e}");
            tally.record("build", false);
        }
    }
    println!();
    if !tally.failures.is_empty() {
        println!("failed: {}", tally.failures.join(", "));
    }
    println!("test suite took {:.1}s", started.elapsed().as_secs_f64());
    println!("{} passed, {} failed", tally.passed, tally.failed);
    if tally.failed == 0 {
        Ok(())
    } else {
        Err(format!("{} failed", tally.failed))
    }
}

/// Runs a command quietly; prints its output only if it fails.
fn check(tally: &mut Tally, name: &str, cmd: &mut Command) -> Option<String> {
    let t = Instant::now();
    let out = cmd.stdin(Stdio::null()).output();
    let (ok, text) = match out {
        Ok(o) => (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        ),
        Err(e) => (false, format!("cannot start: {e}")),
    };
    println!(
        "  {}  {name} ({:.1}s)",
        if ok { "PASS" } else { "FAIL" },
        t.elapsed().as_secs_f64()
    );
    if !ok {
        println!("---- {}\n{text}----", build::describe(cmd));
    }
    tally.record(name, ok);
    ok.then_some(text)
}

/// Packages that build only for a bare-metal target: left out of the host
/// clippy and test steps, and linted each with its own target below.
fn bare_metal(programs: &[UserProgram]) -> impl Iterator<Item = &str> {
    ["ferrous-kernel", "ferrous-boot", USER_RT]
        .into_iter()
        .chain(programs.iter().map(|p| p.package.as_str()))
}

/// The user runtime, linted together with the user programs.
const USER_RT: &str = "ferrous-rt";

/// `cargo clippy -p ferrous-rt -p <each user program> --target
/// x86_64-unknown-none -- -D warnings`.
fn user_clippy(programs: &[UserProgram]) -> std::process::Command {
    let mut cmd = build::cargo();
    cmd.args(["clippy", "-p", USER_RT]);
    for p in programs {
        cmd.args(["-p", &p.package]);
    }
    cmd.args(["--target", build::USER_TARGET, "--", "-D", "warnings"]);
    cmd
}

fn lint_and_host_tests(programs: &[UserProgram], tally: &mut Tally) {
    println!("==> lints");
    check(
        tally,
        "cargo fmt --check",
        build::cargo().args(["fmt", "--all", "--check"]),
    );
    let mut host = build::cargo();
    host.args(["clippy", "--workspace", "--all-targets"]);
    for p in bare_metal(programs) {
        host.args(["--exclude", p]);
    }
    host.args(["--", "-D", "warnings"]);
    check(tally, "clippy (host crates)", &mut host);
    check(
        tally,
        "clippy (kernel, x86_64-unknown-none)",
        build::cargo().args([
            "clippy",
            "-p",
            "ferrous-kernel",
            "--target",
            build::KERNEL_TARGET,
            "--",
            "-D",
            "warnings",
        ]),
    );
    check(
        tally,
        "clippy (loader, x86_64-unknown-uefi)",
        build::cargo().args([
            "clippy",
            "-p",
            "ferrous-boot",
            "--target",
            build::LOADER_TARGET,
            "--",
            "-D",
            "warnings",
        ]),
    );

    check(
        tally,
        "clippy (user space, x86_64-unknown-none)",
        &mut user_clippy(programs),
    );

    println!("==> host tests");
    let mut cmd = build::cargo();
    cmd.args(["test", "--workspace"]);
    for p in bare_metal(programs) {
        cmd.args(["--exclude", p]);
    }
    let t = Instant::now();
    let out = cmd.stdin(Stdio::null()).output();
    let text = match out {
        Ok(o) => format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => format!("cannot start cargo test: {e}"),
    };
    let (passed, failed) = count_cargo_tests(&text);
    let ran_ok = text.contains("test result:") && !text.contains("error[") && failed == 0;
    println!(
        "  {}  host unit and property tests: {passed} passed, {failed} failed ({:.1}s)",
        if ran_ok { "PASS" } else { "FAIL" },
        t.elapsed().as_secs_f64()
    );
    if !ran_ok {
        println!("---- {}\n{text}----", build::describe(&cmd));
        if failed == 0 {
            tally.record("host tests (did not run)", false);
        }
    }
    tally.passed += passed;
    tally.failed += failed;
    if failed > 0 {
        tally.failures.push(format!("{failed} host tests"));
    }
}

/// Sums `test result: ok. N passed; M failed` lines.
pub fn count_cargo_tests(output: &str) -> (usize, usize) {
    let mut totals = (0, 0);
    for line in output.lines() {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            continue;
        };
        for part in rest.split([';', '.']) {
            let mut w = part.split_whitespace();
            if let (Some(n), Some(what)) = (w.next(), w.next()) {
                match (n.parse::<usize>(), what) {
                    (Ok(n), "passed") => totals.0 += n,
                    (Ok(n), "failed") => totals.1 += n,
                    _ => {}
                }
            }
        }
    }
    totals
}

fn run_scenarios(
    opts: &Test,
    tools: &Tools,
    art: &Artifacts,
    tally: &mut Tally,
) -> Result<(), String> {
    let scenarios = if opts.campaigns {
        load_campaigns()?
    } else {
        load_scenarios()?
    };
    let selected: Vec<&Scenario> = scenarios
        .iter()
        .filter(|s| opts.scenarios.is_empty() || opts.scenarios.contains(&s.name))
        .collect();
    if selected.is_empty() {
        return Err(format!("no scenario matches {:?}", opts.scenarios));
    }
    println!(
        "==> QEMU scenarios ({} of {})",
        selected.len(),
        scenarios.len()
    );
    let real_kernel = std::fs::read(&art.kernel).map_err(|e| format!("reading kernel: {e}"))?;
    for s in selected {
        let ok = run_one(tools, art, &real_kernel, s)?;
        tally.record(&format!("scenario {}", s.name), ok);
    }
    Ok(())
}

/// Every scenario in tests/scenarios.toml.
pub fn load_scenarios() -> Result<Vec<Scenario>, String> {
    load_file("scenarios.toml")
}

/// The long campaigns in tests/campaigns.toml (same format; run with
/// `cargo xtask test --campaigns`, never by the suite).
pub fn load_campaigns() -> Result<Vec<Scenario>, String> {
    load_file("campaigns.toml")
}

fn load_file(name: &str) -> Result<Vec<Scenario>, String> {
    let file = build::root().join("tests").join(name);
    let text =
        std::fs::read_to_string(&file).map_err(|e| format!("reading {}: {e}", file.display()))?;
    scenario::parse(&text).map_err(|e| format!("{}: {e}", file.display()))
}

/// Runs one scenario, prints its PASS/FAIL line (and why), `Ok(passed)`.
pub fn run_one(
    tools: &Tools,
    art: &Artifacts,
    real_kernel: &[u8],
    s: &Scenario,
) -> Result<bool, String> {
    let dir = build::target_dir().join("qemu").join(&s.name);
    let log_path = dir.join("serial.log");
    let tweaks = EspTweaks {
        kernel_bytes: s
            .broken_kernel
            .map(|k| scenario::break_kernel(k, real_kernel))
            .transpose()?,
        extra_conf: s.boot_conf.clone(),
    };
    let esp_dir = esp::prepare(&dir.join("esp"), art, &s.kernel_cmdline(), &tweaks)?;
    // A stale log from an earlier run would fake the boot-time marker.
    let _ = std::fs::remove_file(&log_path);
    let _ = std::fs::remove_file(qemu::trace_path(&dir));
    let mut cmd = qemu::command(
        tools,
        &Machine {
            smp: s.smp,
            mem: &s.mem,
            esp: &esp_dir,
            run_dir: &dir,
            serial: Serial::File(&log_path),
            gdb: false,
        },
    )?;
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", qemu::QEMU))?;
    let (end, kmain_at) = watch(&mut child, &log_path, Duration::from_secs(s.timeout))?;
    let elapsed = started.elapsed();
    let raw = std::fs::read(&log_path).unwrap_or_default();
    let log = scenario::strip_ansi(&String::from_utf8_lossy(&raw));
    let mut verdict = scenario::judge(s, end, &log);
    let traced = s
        .trace
        .is_some()
        .then(|| crate::trace::judge_run(&dir, &s.trace_expectations()));
    if let Some(t) = traced.as_ref().filter(|t| !t.why.is_empty()) {
        let mut why = verdict.err().unwrap_or_default();
        why.extend(t.why.iter().cloned());
        verdict = Err(why);
    }
    let boot_note = kmain_at
        .map(|t| format!(", kernel main at {:.1}s", t.as_secs_f64()))
        .unwrap_or_default();
    println!(
        "  {}  scenario {:<16} {:>5.1}s  {:?}{boot_note}",
        if verdict.is_ok() { "PASS" } else { "FAIL" },
        s.name,
        elapsed.as_secs_f64(),
        end,
    );
    if let Err(why) = verdict {
        println!("        scenario: {}", s.about);
        for w in &why {
            println!("        - {w}");
        }
        if let RunEnd::QemuError(_) = end {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            println!("        QEMU said: {}", err.trim());
        }
        println!(
            "        ---- last {TAIL_LINES} lines of {}",
            log_path.display()
        );
        let lines: Vec<&str> = log.lines().collect();
        for l in &lines[lines.len().saturating_sub(TAIL_LINES)..] {
            println!("        | {l}");
        }
        if let Some(t) = traced.filter(|t| !t.why.is_empty() && !t.text.is_empty()) {
            println!(
                "        ---- last {TAIL_LINES} lines of the decoded trace ({})",
                dir.join("trace.log").display()
            );
            let lines: Vec<&str> = t.text.lines().collect();
            for l in &lines[lines.len().saturating_sub(TAIL_LINES)..] {
                println!("        | {l}");
            }
        }
        return Ok(false);
    }
    Ok(true)
}

/// The Ferrous half of `cargo xtask bench --quick`: the benchmarks run and
/// every number is sane (never a timing threshold). One PASS/FAIL line.
fn bench_smoke(tools: &Tools, art: &Artifacts, tally: &mut Tally) {
    println!("==> bench smoke (the Ferrous half of `cargo xtask bench --quick`)");
    let t = Instant::now();
    let result = crate::bench::smoke(tools, art);
    let secs = t.elapsed().as_secs_f64();
    match &result {
        Ok(summary) => println!("  PASS  bench smoke: {summary} ({secs:.1}s)"),
        Err(why) => println!("  FAIL  bench smoke ({secs:.1}s)\n        - {why}"),
    }
    tally.record("bench smoke", result.is_ok());
}

/// Waits for QEMU (killing it after `limit`) while watching the serial log
/// for the moment the kernel reaches its main function.
fn watch(
    child: &mut std::process::Child,
    log: &std::path::Path,
    limit: Duration,
) -> Result<(RunEnd, Option<Duration>), String> {
    const MARK: &[u8] = b"kernel main reached";
    let start = Instant::now();
    let mut seen = None;
    loop {
        if seen.is_none()
            && std::fs::read(log).is_ok_and(|b| b.windows(MARK.len()).any(|w| w == MARK))
        {
            seen = Some(start.elapsed());
        }
        if let Some(end) = qemu::try_end(child)? {
            return Ok((end, seen));
        }
        if start.elapsed() >= limit {
            qemu::kill(child);
            return Ok((RunEnd::Timeout, seen));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::{bare_metal, count_cargo_tests, user_clippy};
    use crate::build;

    #[test]
    fn user_packages_are_linted_for_their_target_and_kept_off_the_host() {
        let programs = build::user_programs().unwrap();
        let args: Vec<String> = user_clippy(&programs)
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let args = args.join(" ");
        assert!(args.starts_with("clippy -p ferrous-rt -p ferrous-init -p ferrous-hello"));
        for p in &programs {
            assert!(
                args.contains(&format!(" -p {} ", p.package)),
                "{}",
                p.package
            );
        }
        assert!(args.ends_with("--target x86_64-unknown-none -- -D warnings"));
        let excluded: Vec<&str> = bare_metal(&programs).collect();
        for p in ["ferrous-kernel", "ferrous-boot", "ferrous-rt"]
            .into_iter()
            .chain(programs.iter().map(|p| p.package.as_str()))
        {
            assert!(excluded.contains(&p), "{p}");
        }
    }

    #[test]
    fn counts_cargo_test_summaries() {
        let out = "test result: ok. 13 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
                   running 2 tests\n\
                   test result: FAILED. 1 passed; 1 failed; 0 ignored\n";
        assert_eq!(count_cargo_tests(out), (14, 1));
        assert_eq!(count_cargo_tests("nothing here"), (0, 0));
    }
}
