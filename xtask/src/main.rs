//! `cargo xtask`: build, run, test and debug Ferrous. Host-only.
//!
//! ```text
//! cargo xtask build [--release]
//! cargo xtask run   [--release] [--smp N] [--mem SIZE] [-- KERNEL CMDLINE...]
//! cargo xtask test  [--release] [--scenarios-only] [SCENARIO...]
//! cargo xtask gdb   [--release] [--launch] [-- KERNEL CMDLINE...]
//! cargo xtask bench [--icount] [--quick] [--rounds N] [--mem SIZE]
//! cargo xtask trace SCENARIO [--categories SPEC] [--release] [--explain THREAD [--from US] [--to US]] [--out DIR]
//! cargo xtask trace --file TRACE.BIN [--explain THREAD [--from US] [--to US]] [--out DIR]
//! ```

#![forbid(unsafe_code)]

mod bench;
mod bench_cpio;
mod bench_linux;
mod bench_parse;
mod bench_report;
mod build;
mod docs;
mod esp;
mod qemu;
mod scenario;
mod test;
mod toolchain;
mod trace;

use std::process::ExitCode;

/// Options shared by the commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub release: bool,
    pub smp: u32,
    pub mem: String,
    pub launch_gdb: bool,
    pub scenarios_only: bool,
    /// bench: run both guests with `-icount shift=0`.
    pub icount: bool,
    /// bench: one round, smaller iteration counts.
    pub quick: bool,
    /// bench: rounds (Ferrous then Linux in each); default 3, or 1 with --quick.
    pub rounds: Option<u32>,
    /// Words after `--` (kernel command line) or positional filters (test).
    pub rest: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            release: false,
            smp: 1,
            mem: "512M".into(),
            launch_gdb: false,
            scenarios_only: false,
            icount: false,
            quick: false,
            rounds: None,
            rest: Vec::new(),
        }
    }
}

pub fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--release" => o.release = true,
            "--launch" => o.launch_gdb = true,
            "--scenarios-only" => o.scenarios_only = true,
            "--icount" => o.icount = true,
            "--quick" => o.quick = true,
            "--rounds" => {
                let v = it.next().ok_or("--rounds needs a number")?;
                o.rounds = Some(
                    v.parse()
                        .ok()
                        .filter(|n| (1..=100).contains(n))
                        .ok_or(format!("--rounds {v}: expected 1..=100"))?,
                );
            }
            "--smp" => {
                let v = it.next().ok_or("--smp needs a number")?;
                o.smp = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=255).contains(n))
                    .ok_or(format!("--smp {v}: expected 1..=255"))?;
            }
            "--mem" => {
                let v = it.next().ok_or("--mem needs a size such as 512M")?;
                let digits = v.strip_suffix(['M', 'G', 'm', 'g']).unwrap_or(v);
                if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                    return Err(format!("--mem {v}: expected a size such as 512M or 1G"));
                }
                o.mem = v.clone();
            }
            "--" => {
                o.rest.extend(it.by_ref().cloned());
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s => o.rest.push(s.to_string()),
        }
    }
    Ok(o)
}

const USAGE: &str = "usage: cargo xtask <command> [options]

commands:
  build   build the kernel and the UEFI loader
  run     boot Ferrous in QEMU with the serial console on this terminal
          --smp N, --mem SIZE, --release, then `-- <kernel command line>`
  test    the whole test suite: fmt, clippy, host tests, QEMU scenarios
          --release, --scenarios-only, [SCENARIO names to run only those]
  gdb     start QEMU paused with a gdb stub on :1234 and print the gdb command
          --launch starts gdb too; -- <kernel command line>
  bench   Ferrous' micro-benchmarks next to a Linux guest on the same QEMU machine
          --icount (deterministic -icount shift=0), --quick, --rounds N, --mem SIZE
  trace   run a scenario with the kernel trace streamed to COM2 and decode it:
          target/trace/NAME.json (Perfetto), NAME.txt (summary), NAME.log (records)
          SCENARIO [--categories SPEC (default all)] [--release], or --file TRACE.BIN;
          --explain THREAD [--from US] [--to US], --out DIR
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    if matches!(cmd.as_str(), "help" | "--help" | "-h") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    // Every command builds for the bare-metal targets: complete the toolchain
    // first (rustup does not always add what rust-toolchain.toml names).
    if let Err(e) = toolchain::ensure() {
        eprintln!("xtask: {e}");
        return ExitCode::FAILURE;
    }
    // `trace` has options of its own.
    if cmd == "trace" {
        return match trace::run(rest) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let opts = match parse_options(rest) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("xtask: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match cmd.as_str() {
        "build" => build::build_all(opts.release).map(|_| ()),
        "run" => qemu::run_interactive(&opts),
        "gdb" => qemu::run_gdb(&opts),
        "test" => test::run(&opts),
        "bench" => bench::run(&opts),
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn options_parse() {
        let o = parse_options(&args("--release --smp 4 --mem 1G -- log=debug test=boot")).unwrap();
        assert!(o.release);
        assert_eq!(o.smp, 4);
        assert_eq!(o.mem, "1G");
        assert_eq!(o.rest, ["log=debug", "test=boot"]);
    }

    #[test]
    fn bad_options_are_refused() {
        assert!(parse_options(&args("--smp 0")).is_err());
        assert!(parse_options(&args("--smp")).is_err());
        assert!(parse_options(&args("--mem lots")).is_err());
        assert!(parse_options(&args("--mem 1MG")).is_err());
        assert!(parse_options(&args("--mem G")).is_err());
        assert_eq!(parse_options(&args("--mem 512m")).unwrap().mem, "512m");
        assert!(parse_options(&args("--frobnicate")).is_err());
    }

    #[test]
    fn bench_options_parse() {
        let o = parse_options(&args("--icount --quick --rounds 5 --mem 1G")).unwrap();
        assert!(o.icount && o.quick);
        assert_eq!(o.rounds, Some(5));
        assert_eq!(o.mem, "1G");
        let d = parse_options(&[]).unwrap();
        assert!(!d.icount && !d.quick);
        assert_eq!(d.rounds, None);
        assert!(parse_options(&args("--rounds 0")).is_err());
        assert!(parse_options(&args("--rounds")).is_err());
        assert!(parse_options(&args("--rounds x")).is_err());
    }

    #[test]
    fn positional_words_are_filters() {
        let o = parse_options(&args("boot panic")).unwrap();
        assert_eq!(o.rest, ["boot", "panic"]);
    }
}
