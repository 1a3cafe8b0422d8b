//! The command line: one options struct per command, parsed by clap.
//!
//! Every option a command uses means what it meant to the hand-written
//! parser this replaces: the words after `--` of `run` and `gdb` are the
//! kernel command line (words before `--` that are not options count too),
//! and `test`'s words name scenarios. What a command accepted but ignored
//! (`build --smp 4`, `bench --release`, words after `build`) is now refused.

use crate::trace;
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser};
use std::ffi::OsString;

/// Build, run, test and debug Ferrous (`cargo xtask <COMMAND> --help` for a
/// command's options).
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    arg_required_else_help = true,
    after_help = "Examples:
  cargo xtask run --smp 4 --mem 1G -- log=debug run=hello
  cargo xtask test --scenarios-only boot panic
  cargo xtask trace ipc-chain --categories sched,ipc --explain T3"
)]
pub enum Cli {
    /// Build the kernel, the UEFI loader and the user programs
    Build(Build),
    /// Boot Ferrous in QEMU with the serial console on this terminal
    Run(Run),
    /// The whole test suite: fmt, clippy, host tests, QEMU scenarios
    #[command(
        after_help = "Runs fmt, clippy and the host tests, then the QEMU scenarios of \
                      tests/scenarios.toml and, on a full run, a bench smoke run; ends \
                      with `N passed, N failed`."
    )]
    Test(Test),
    /// Start QEMU paused with a gdb stub on :1234 and print the gdb command
    Gdb(Gdb),
    /// Ferrous' micro-benchmarks next to a Linux guest on the same QEMU machine
    #[command(
        after_help = "Ferrous is built with the release profile; the logs and the \
                      report are written under target/bench."
    )]
    Bench(Bench),
    /// Run a scenario with the kernel trace streamed to COM2 and decode it
    #[command(
        after_help = "Writes target/trace/NAME.json (Perfetto/Chrome), NAME.txt \
                      (summary) and NAME.log (one line per record); NAME is the \
                      scenario's, or the capture's for --file."
    )]
    Trace(trace::cmd::Args),
}

/// `cargo xtask build`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct Build {
    /// Build with the release profile
    #[arg(long)]
    pub release: bool,
}

/// The QEMU machine of `run` and `gdb`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct Guest {
    /// Number of CPUs (1..=255)
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=255))]
    pub smp: u32,
    /// Guest memory, a size such as 512M or 1G
    #[arg(long, value_name = "SIZE", default_value = DEFAULT_MEM, value_parser = parse_mem)]
    pub mem: String,
}

/// `--mem` when not given.
const DEFAULT_MEM: &str = "512M";

/// `cargo xtask run`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct Run {
    /// Boot the release profile
    #[arg(long)]
    pub release: bool,
    #[command(flatten)]
    pub guest: Guest,
    /// Kernel command line, after `--` (e.g. `-- log=debug run=hello`)
    #[arg(value_name = "KERNEL CMDLINE")]
    pub cmdline: Vec<String>,
}

/// `cargo xtask test`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct Test {
    /// Build and boot the release profile
    #[arg(long)]
    pub release: bool,
    /// Only the QEMU scenarios: no fmt, clippy or host tests
    #[arg(long)]
    pub scenarios_only: bool,
    /// Run the long campaigns of tests/campaigns.toml (all, or those
    /// named) instead of the suite's scenarios; no fmt, clippy or host tests
    #[arg(long)]
    pub campaigns: bool,
    /// Run only these scenarios (names from tests/scenarios.toml, or from
    /// tests/campaigns.toml with --campaigns)
    #[arg(value_name = "SCENARIO")]
    pub scenarios: Vec<String>,
}

/// `cargo xtask gdb`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct Gdb {
    /// Boot the release profile
    #[arg(long)]
    pub release: bool,
    /// Start gdb too (the serial console goes to target/qemu/gdb/serial.log)
    #[arg(long)]
    pub launch: bool,
    #[command(flatten)]
    pub guest: Guest,
    /// Kernel command line, after `--`
    #[arg(value_name = "KERNEL CMDLINE")]
    pub cmdline: Vec<String>,
}

/// `cargo xtask bench`.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct Bench {
    /// Run both guests with `-icount shift=0` (deterministic, 1 ns per instruction)
    #[arg(long)]
    pub icount: bool,
    /// One round, smaller iteration counts
    #[arg(long)]
    pub quick: bool,
    /// Rounds, Ferrous then Linux in each (1..=100; default 3, or 1 with --quick)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub rounds: Option<u32>,
    /// Memory of both guests, a size such as 512M or 1G
    #[arg(long, value_name = "SIZE", default_value = DEFAULT_MEM, value_parser = parse_mem)]
    pub mem: String,
}

/// `--mem`: digits with an optional M or G (either case).
fn parse_mem(v: &str) -> Result<String, String> {
    let digits = v.strip_suffix(['M', 'G', 'm', 'g']).unwrap_or(v);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("expected a size such as 512M or 1G".into());
    }
    Ok(v.to_string())
}

/// Parses a command line (`args[0]` is the program), with the checks that
/// relate values of several options (which clap's attributes cannot say).
pub fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = Cli::try_parse_from(args)?;
    let (name, checked) = match &cli {
        Cli::Trace(a) => ("trace", a.check()),
        _ => return Ok(cli),
    };
    match checked {
        Ok(()) => Ok(cli),
        Err(e) => {
            let mut cmd = Cli::command();
            cmd.build(); // names the subcommands `cargo xtask NAME` in the usage
            let sub = cmd
                .find_subcommand_mut(name)
                .expect("every command is a subcommand");
            Err(sub.error(ErrorKind::ValueValidation, e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(s: &str) -> Result<Cli, clap::Error> {
        parse(std::iter::once("xtask").chain(s.split_whitespace()))
    }

    fn run(s: &str) -> Result<Run, clap::Error> {
        match parse_line(&format!("run {s}"))? {
            Cli::Run(r) => Ok(r),
            other => panic!("{other:?}"),
        }
    }

    fn bench(s: &str) -> Result<Bench, clap::Error> {
        match parse_line(&format!("bench {s}"))? {
            Cli::Bench(b) => Ok(b),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn options_parse() {
        let o = run("--release --smp 4 --mem 1G -- log=debug test=boot").unwrap();
        assert!(o.release);
        assert_eq!(o.guest.smp, 4);
        assert_eq!(o.guest.mem, "1G");
        assert_eq!(o.cmdline, ["log=debug", "test=boot"]);
        let d = run("").unwrap();
        assert!(!d.release);
        assert_eq!((d.guest.smp, d.guest.mem.as_str()), (1, "512M"));
        assert!(d.cmdline.is_empty());
    }

    #[test]
    fn bad_options_are_refused() {
        assert!(run("--smp 0").is_err());
        assert!(run("--smp 256").is_err());
        assert!(run("--smp").is_err());
        assert!(run("--mem lots").is_err());
        assert!(run("--mem 1MG").is_err());
        assert!(run("--mem G").is_err());
        assert_eq!(run("--mem 512m").unwrap().guest.mem, "512m");
        assert!(run("--frobnicate").is_err());
        // Errors name the option and what it expects.
        let e = run("--smp 0").unwrap_err().to_string();
        assert!(e.contains("--smp") && e.contains("1..=255"), "{e}");
        let e = run("--mem lots").unwrap_err().to_string();
        assert!(e.contains("--mem") && e.contains("512M or 1G"), "{e}");
    }

    #[test]
    fn bench_options_parse() {
        let o = bench("--icount --quick --rounds 5 --mem 1G").unwrap();
        assert!(o.icount && o.quick);
        assert_eq!(o.rounds, Some(5));
        assert_eq!(o.mem, "1G");
        let d = bench("").unwrap();
        assert!(!d.icount && !d.quick);
        assert_eq!(d.rounds, None);
        assert_eq!(d.mem, "512M");
        assert!(bench("--rounds 0").is_err());
        assert!(bench("--rounds 101").is_err());
        assert!(bench("--rounds").is_err());
        assert!(bench("--rounds x").is_err());
        let e = bench("--rounds 0").unwrap_err().to_string();
        assert!(e.contains("--rounds") && e.contains("1..=100"), "{e}");
    }

    #[test]
    fn positional_words_are_filters() {
        let Cli::Test(t) = parse_line("test boot panic").unwrap() else {
            panic!()
        };
        assert_eq!(t.scenarios, ["boot", "panic"]);
        assert!(!t.release && !t.scenarios_only);
        let Cli::Test(t) = parse_line("test --release --scenarios-only -- boot").unwrap() else {
            panic!()
        };
        assert!(t.release && t.scenarios_only);
        assert_eq!(t.scenarios, ["boot"]);
    }

    /// The kernel command line may also come without `--`, and options may
    /// follow the words before it, as the hand-written parser allowed.
    #[test]
    fn kernel_command_line_with_or_without_dashes() {
        let o = run("log=debug --smp 2").unwrap();
        assert_eq!(o.cmdline, ["log=debug"]);
        assert_eq!(o.guest.smp, 2);
        let o = run("-- log=debug --smp 2").unwrap();
        assert_eq!(o.cmdline, ["log=debug", "--smp", "2"]);
        assert_eq!(o.guest.smp, 1);
    }

    #[test]
    fn gdb_and_build_options_parse() {
        let Cli::Gdb(g) = parse_line("gdb --release --launch --smp 2 -- log=trace").unwrap() else {
            panic!()
        };
        assert!(g.release && g.launch);
        assert_eq!(g.guest.smp, 2);
        assert_eq!(g.cmdline, ["log=trace"]);
        let Cli::Build(b) = parse_line("build --release").unwrap() else {
            panic!()
        };
        assert!(b.release);
        assert!(parse_line("build --smp 2").is_err());
        assert!(parse_line("frobnicate").is_err());
    }

    #[test]
    fn help_is_not_an_error_but_no_command_is() {
        for line in ["help", "--help", "-h", "help test", "test --help"] {
            let e = parse_line(line).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::DisplayHelp, "{line}");
            assert_eq!(e.exit_code(), 0, "{line}");
        }
        let e = parse_line("").unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn the_command_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
