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

pub const USAGE: &str = "\
usage: cargo xtask trace <SCENARIO> [--categories SPEC] [--release] [options]
       cargo xtask trace --file <trace.bin> [options]
options: --explain THREAD [--from US] [--to US]   (THREAD: T<n>, T<n>.g<g> or a name)
         --out DIR                                 (default target/trace)";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    pub scenario: Option<String>,
    pub file: Option<PathBuf>,
    pub categories: Option<String>,
    pub explain: Option<String>,
    pub from: Option<f64>,
    pub to: Option<f64>,
    pub out: Option<PathBuf>,
    pub release: bool,
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

pub fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = args.iter();
    let number = |flag: &str, v: Option<&String>| -> Result<f64, String> {
        let v = v.ok_or(format!("{flag} needs microseconds"))?;
        v.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or(format!("{flag} {v}: expected microseconds since boot"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--release" => a.release = true,
            "--file" => a.file = Some(it.next().ok_or("--file needs a path")?.into()),
            "--categories" => {
                let spec = it
                    .next()
                    .ok_or("--categories needs a spec such as sched,ipc")?;
                check_spec(spec)?;
                a.categories = Some(spec.clone());
            }
            "--explain" => a.explain = Some(it.next().ok_or("--explain needs a thread")?.clone()),
            "--from" => a.from = Some(number("--from", it.next())?),
            "--to" => a.to = Some(number("--to", it.next())?),
            "--out" => a.out = Some(it.next().ok_or("--out needs a folder")?.into()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s if a.scenario.is_none() => a.scenario = Some(s.to_string()),
            s => return Err(format!("one scenario at a time (`{s}`)")),
        }
    }
    match (&a.scenario, &a.file) {
        (None, None) => return Err("name a scenario or give --file".into()),
        (Some(_), Some(_)) => return Err("a scenario or --file, not both".into()),
        (None, Some(_)) if a.categories.is_some() || a.release => {
            return Err("--categories and --release need a scenario to run".into());
        }
        _ => {}
    }
    if a.explain.is_none() && (a.from.is_some() || a.to.is_some()) {
        return Err("--from and --to go with --explain".into());
    }
    if let (Some(f), Some(t)) = (a.from, a.to)
        && f > t
    {
        return Err(format!("--from {f} is after --to {t}"));
    }
    Ok(a)
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
pub fn run(args: &[String]) -> Result<(), String> {
    let a = parse_args(args).map_err(|e| format!("{e}\n\n{USAGE}"))?;
    let (bin, name, verdict) = match (&a.scenario, &a.file) {
        (Some(name), _) => {
            let ok = run_scenario(name, &a)?;
            let dir = build::target_dir().join("qemu").join(name);
            (qemu::trace_path(&dir), name.clone(), ok)
        }
        (None, Some(file)) => (file.clone(), name_for(file), true),
        (None, None) => unreachable!("parse_args requires one"),
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

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_scenario_and_file_forms() {
        let a = parse_args(&args(
            "ipc-chain --categories sched,ipc --explain T3 --from 10 --to 20.5",
        ))
        .unwrap();
        assert_eq!(a.scenario.as_deref(), Some("ipc-chain"));
        assert_eq!(a.categories.as_deref(), Some("sched,ipc"));
        assert_eq!(a.explain.as_deref(), Some("T3"));
        assert_eq!((a.from, a.to), (Some(10.0), Some(20.5)));
        let f = parse_args(&args("--file x/trace.bin --out o")).unwrap();
        assert_eq!(f.file, Some(PathBuf::from("x/trace.bin")));
        assert_eq!(f.out, Some(PathBuf::from("o")));
    }

    #[test]
    fn refuses_bad_combinations() {
        for bad in [
            "",
            "a b",
            "a --file f",
            "--file f --categories all",
            "a --categories bogus",
            "a --from 3",
            "a --explain T1 --from 5 --to 1",
            "a --explain T1 --to x",
            "a --frobnicate",
        ] {
            assert!(parse_args(&args(bad)).is_err(), "{bad}");
        }
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
