//! `cargo xtask trace`: run a scenario with tracing on (or read a capture)
//! and write the JSON, the summary and the decoded records.

use super::explain::{Window, explain};
use super::stream::Trace;
use super::threads;
use super::{chains, chrome, model, summary, text};
use crate::build;
use crate::qemu;
use std::path::{Path, PathBuf};

/// Categories traced when neither `--categories` nor the scenario's
/// `trace` field says.
pub const DEFAULT_SPEC: &str = "all";

/// The `trace=` spec for a run: `--categories`, else the scenario's own
/// `trace`, else [`DEFAULT_SPEC`].
pub fn spec_for(categories: Option<&str>, scenario: Option<&str>) -> String {
    categories.or(scenario).unwrap_or(DEFAULT_SPEC).to_string()
}

/// `cargo xtask trace`: `SCENARIO` or `--file`, and what to do with the
/// trace.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct Args {
    /// The scenario to run (a name from tests/scenarios.toml)
    #[arg(required_unless_present = "file", conflicts_with = "file")]
    pub scenario: Option<String>,
    /// Decode this capture instead of running a scenario
    #[arg(long, value_name = "TRACE.BIN")]
    pub file: Option<PathBuf>,
    /// Categories to trace, e.g. sched,ipc or -mem [default: the
    /// scenario's own, else all]
    #[arg(long, value_name = "SPEC", conflicts_with = "file",
          allow_hyphen_values = true, value_parser = parse_categories)]
    pub categories: Option<String>,
    /// Build and boot the release profile
    #[arg(long, conflicts_with = "file")]
    pub release: bool,
    /// Explain where this thread's time went: T<n>, T<n>.g<g> or a name
    #[arg(long, value_name = "THREAD")]
    pub explain: Option<String>,
    /// With --explain: from this time (microseconds since boot)
    #[arg(long, value_name = "US", requires = "explain",
          allow_hyphen_values = true, value_parser = parse_us)]
    pub from: Option<f64>,
    /// With --explain: up to this time (microseconds since boot)
    #[arg(long, value_name = "US", requires = "explain",
          allow_hyphen_values = true, value_parser = parse_us)]
    pub to: Option<f64>,
    /// Folder for the outputs [default: target/trace]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

impl Args {
    /// What clap's attributes cannot say: the window must not end before
    /// it starts.
    pub fn check(&self) -> Result<(), String> {
        if let (Some(f), Some(t)) = (self.from, self.to)
            && f > t
        {
            return Err(format!("--from {f} is after --to {t}"));
        }
        Ok(())
    }
}

/// Checks a `trace=` value before it goes on a command line: it must
/// parse and be one word.
pub fn check_spec(spec: &str) -> Result<(), String> {
    if spec.chars().any(char::is_whitespace) {
        return Err(format!("trace spec `{spec}` must not contain spaces"));
    }
    ferrous_trace::parse_spec(spec)
        .map(|_| ())
        .map_err(|e| format!("trace spec `{spec}`: {e}"))
}

/// `--categories`.
fn parse_categories(spec: &str) -> Result<String, String> {
    check_spec(spec).map(|()| spec.to_string())
}

/// `--from` and `--to`.
fn parse_us(v: &str) -> Result<f64, String> {
    v.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or("expected microseconds since boot".into())
}

/// The name outputs are written under for a capture file: its stem, or
/// its folder's name for `trace.bin` (`target/qemu/NAME/trace.bin`).
pub fn name_for(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "trace".into());
    if stem == "trace"
        && let Some(dir) = file.parent().and_then(Path::file_name)
    {
        return dir.to_string_lossy().into_owned();
    }
    stem
}

/// Files written by [`write_outputs`].
pub struct Outputs {
    pub json: PathBuf,
    pub summary: PathBuf,
    pub records: PathBuf,
    pub summary_text: String,
}

/// Exports `trace` as `<dir>/<name>.json` (Chrome
/// trace events), `<name>.txt` (summary) and `<name>.log` (one line per
/// record, [`text`]'s format).
pub fn write_outputs(trace: &Trace, dir: &Path, name: &str) -> Result<Outputs, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let tl = model::build(trace);
    let ch = chains::chains(trace);
    let json = chrome::to_text(&chrome::export(trace, &tl, &ch));
    let summary_text = summary::render(trace, &tl, &ch);
    let out = Outputs {
        json: dir.join(format!("{name}.json")),
        summary: dir.join(format!("{name}.txt")),
        records: dir.join(format!("{name}.log")),
        summary_text,
    };
    let write = |p: &Path, s: &str| {
        std::fs::write(p, s).map_err(|e| format!("writing {}: {e}", p.display()))
    };
    write(&out.json, &json)?;
    write(&out.summary, &out.summary_text)?;
    write(&out.records, &text::render(trace))?;
    Ok(out)
}

/// `cargo xtask trace ...`.
pub fn run(a: &Args) -> Result<(), String> {
    let (bin, name, verdict) = match (&a.scenario, &a.file) {
        (Some(name), _) => {
            let ok = run_scenario(name, a)?;
            let dir = build::target_dir().join("qemu").join(name);
            (qemu::trace_path(&dir), name.clone(), ok)
        }
        (None, Some(file)) => (file.clone(), name_for(file), true),
        (None, None) => unreachable!("the command line requires one"),
    };
    let trace = Trace::read(&bin)?;
    let out_dir = a
        .out
        .clone()
        .unwrap_or_else(|| build::target_dir().join("trace"));
    let out = write_outputs(&trace, &out_dir, &name)?;
    println!("{}", out.summary_text);
    if let Some(who) = &a.explain {
        let thread = threads::parse(&trace, who)?;
        let tl = model::build(&trace);
        println!(
            "{}",
            explain(&trace, &tl, thread, Window::from_us(a.from, a.to))
        );
    }
    println!("xtask: Perfetto/Chrome JSON {}", out.json.display());
    println!("xtask: summary           {}", out.summary.display());
    println!("xtask: records           {}", out.records.display());
    if verdict {
        Ok(())
    } else {
        Err(format!(
            "scenario `{name}` failed (its trace is decoded above)"
        ))
    }
}

/// Runs scenario `name` with `trace.out=serial trace=SPEC`; `Ok(passed)`.
fn run_scenario(name: &str, a: &Args) -> Result<bool, String> {
    let scenarios = crate::test::load_scenarios()?;
    let mut s = scenarios
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("no scenario `{name}` in tests/scenarios.toml"))?;
    s.trace = Some(spec_for(a.categories.as_deref(), s.trace.as_deref()));
    let tools = qemu::ensure_tools()?;
    let art = build::build_all(a.release)?;
    let real_kernel = std::fs::read(&art.kernel).map_err(|e| format!("reading kernel: {e}"))?;
    println!("==> scenario {name} with `{}`", s.kernel_cmdline());
    crate::test::run_one(&tools, &art, &real_kernel, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_args(s: &str) -> Result<Args, clap::Error> {
        let line = std::iter::once("xtask")
            .chain(std::iter::once("trace"))
            .chain(s.split_whitespace());
        match crate::cli::parse(line)? {
            crate::cli::Cli::Trace(a) => Ok(a),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_scenario_and_file_forms() {
        let a = parse_args("ipc-chain --categories sched,ipc --explain T3 --from 10 --to 20.5")
            .unwrap();
        assert_eq!(a.scenario.as_deref(), Some("ipc-chain"));
        assert_eq!(a.categories.as_deref(), Some("sched,ipc"));
        assert_eq!(a.explain.as_deref(), Some("T3"));
        assert_eq!((a.from, a.to), (Some(10.0), Some(20.5)));
        assert!(!a.release);
        let f = parse_args("--file x/trace.bin --out o").unwrap();
        assert_eq!(f.file, Some(PathBuf::from("x/trace.bin")));
        assert_eq!(f.out, Some(PathBuf::from("o")));
        assert_eq!(f.scenario, None);
        // Values that start with a dash: a category spec that removes
        // one, a time before the first record.
        let a = parse_args("boot --release --categories -mem --explain init --from -5").unwrap();
        assert_eq!(a.categories.as_deref(), Some("-mem"));
        assert_eq!(a.from, Some(-5.0));
        assert!(a.release);
    }

    #[test]
    fn refuses_bad_combinations() {
        for bad in [
            "",
            "a b",
            "a --file f",
            "--file f --categories all",
            "--file f --release",
            "a --categories bogus",
            "a --from 3",
            "a --explain T1 --from 5 --to 1",
            "a --explain T1 --to x",
            "a --explain T1 --to inf",
            "a --frobnicate",
        ] {
            assert!(parse_args(bad).is_err(), "{bad}");
        }
        let e = parse_args("a --explain T1 --from 5 --to 1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--from 5 is after --to 1"), "{e}");
        assert!(check_spec("sched, ipc").is_err());
        assert!(check_spec("-mem").is_ok());
    }

    #[test]
    fn spec_precedence() {
        assert_eq!(spec_for(Some("ipc"), Some("sched")), "ipc");
        assert_eq!(spec_for(None, Some("sched")), "sched");
        assert_eq!(spec_for(None, None), "all");
    }

    #[test]
    fn capture_names() {
        assert_eq!(name_for(Path::new("target/qemu/ipc/trace.bin")), "ipc");
        assert_eq!(name_for(Path::new("/tmp/run3.bin")), "run3");
    }
}
