//! The kernel command line: space-separated `key=value` words and bare flags.
//!
//! | key          | meaning                                              |
//! |--------------|------------------------------------------------------|
//! | `log=LEVEL`  | most verbose level printed: error, warn, info, debug, trace |
//! | `trace=SPEC` | trace categories: `default`, `all`, `none`, a list such as `sched,ipc`, or removals from the default such as `-ipc` |
//! | `trace.out=serial` | stream the binary trace to the second serial port |
//! | `trace.ring=N` | records per CPU trace ring (a power of two) |
//! | `test=NAME`  | run the named in-kernel test scenario, then exit QEMU |
//! | `run=SPEC,…` | user programs for init to run (`name`, `name:arg`, `+name` in the background) |
//!
//! Unknown keys and bad values are not fatal (a typo must not stop a boot)
//! but are reported as [`Problem`]s so the kernel logs them.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

use core::fmt;

/// Log verbosity, most severe first; same names as the `log` crate's levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error = 1,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn parse(s: &str) -> Option<LogLevel> {
        Some(match s {
            "error" => LogLevel::Error,
            "warn" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            "trace" => LogLevel::Trace,
            _ => return None,
        })
    }
}

/// Something on the command line the kernel did not accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem<'a> {
    UnknownKey(&'a str),
    BadValue { key: &'a str, value: &'a str },
    MissingValue(&'a str),
    Duplicate(&'a str),
}

impl fmt::Display for Problem<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnknownKey(k) => write!(f, "unknown option `{k}` ignored"),
            Problem::BadValue { key, value } => {
                write!(f, "bad value `{value}` for `{key}` ignored")
            }
            Problem::MissingValue(k) => write!(f, "option `{k}` needs a value"),
            Problem::Duplicate(k) => write!(f, "option `{k}` given twice; the last one wins"),
        }
    }
}

/// Most problems reported from one command line; the rest are counted.
pub const MAX_PROBLEMS: usize = 8;

/// The parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelOptions<'a> {
    pub log: LogLevel,
    pub test: Option<&'a str>,
    /// Comma-separated program specs for init (see [`KernelOptions::run_specs`]).
    pub run: Option<&'a str>,
    /// `trace=SPEC`: trace categories (checked by the kernel's trace
    /// crate, which owns the names).
    pub trace: Option<&'a str>,
    /// `trace.out=serial`: where the binary trace goes.
    pub trace_out: Option<&'a str>,
    /// `trace.ring=N`: records per CPU ring.
    pub trace_ring: Option<&'a str>,
    problems: [Option<Problem<'a>>; MAX_PROBLEMS],
    dropped_problems: usize,
}

impl<'a> KernelOptions<'a> {
    pub const DEFAULT_LOG: LogLevel = LogLevel::Info;

    pub fn parse(cmdline: &'a str) -> KernelOptions<'a> {
        let mut opts = KernelOptions {
            log: Self::DEFAULT_LOG,
            test: None,
            run: None,
            trace: None,
            trace_out: None,
            trace_ring: None,
            problems: [None; MAX_PROBLEMS],
            dropped_problems: 0,
        };
        let (mut seen_log, mut seen_test, mut seen_run) = (false, false, false);
        let mut seen_trace = [false; 3];
        for word in cmdline.split_ascii_whitespace() {
            let (key, value) = match word.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (word, None),
            };
            match (key, value) {
                (
                    "log" | "test" | "run" | "trace" | "trace.out" | "trace.ring",
                    None | Some(""),
                ) => opts.report(Problem::MissingValue(key)),
                ("trace" | "trace.out" | "trace.ring", Some(v)) => {
                    let (i, slot) = match key {
                        "trace" => (0, &mut opts.trace),
                        "trace.out" => (1, &mut opts.trace_out),
                        _ => (2, &mut opts.trace_ring),
                    };
                    *slot = Some(v);
                    if core::mem::replace(&mut seen_trace[i], true) {
                        opts.report(Problem::Duplicate(key));
                    }
                }
                ("run", Some(v)) => {
                    if core::mem::replace(&mut seen_run, true) {
                        opts.report(Problem::Duplicate(key));
                    }
                    opts.run = Some(v);
                }
                ("log", Some(v)) => {
                    if core::mem::replace(&mut seen_log, true) {
                        opts.report(Problem::Duplicate(key));
                    }
                    match LogLevel::parse(v) {
                        Some(level) => opts.log = level,
                        None => opts.report(Problem::BadValue { key, value: v }),
                    }
                }
                ("test", Some(v)) => {
                    if core::mem::replace(&mut seen_test, true) {
                        opts.report(Problem::Duplicate(key));
                    }
                    opts.test = Some(v);
                }
                _ => opts.report(Problem::UnknownKey(key)),
            }
        }
        opts
    }

    fn report(&mut self, p: Problem<'a>) {
        match self.problems.iter_mut().find(|s| s.is_none()) {
            Some(slot) => *slot = Some(p),
            None => self.dropped_problems += 1,
        }
    }

    /// The program specs of `run=`, in order, empty ones skipped.
    pub fn run_specs(&self) -> impl Iterator<Item = &'a str> {
        self.run.unwrap_or("").split(',').filter(|s| !s.is_empty())
    }

    /// Problems found, in command-line order.
    pub fn problems(&self) -> impl Iterator<Item = &Problem<'a>> {
        self.problems.iter().flatten()
    }

    /// Problems beyond [`MAX_PROBLEMS`] that were counted but not kept.
    pub fn dropped_problems(&self) -> usize {
        self.dropped_problems
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn defaults() {
        let o = KernelOptions::parse("");
        assert_eq!(o.log, LogLevel::Info);
        assert_eq!(o.test, None);
        assert_eq!(o.problems().count(), 0);
    }

    #[test]
    fn known_options() {
        let t = KernelOptions::parse("trace=sched,ipc trace.out=serial trace.ring=64");
        assert_eq!(t.trace, Some("sched,ipc"));
        assert_eq!(t.trace_out, Some("serial"));
        assert_eq!(t.trace_ring, Some("64"));
        assert_eq!(t.problems().count(), 0);
        let d = KernelOptions::parse("trace=a trace=b trace.out=");
        assert_eq!(d.trace, Some("b"));
        assert_eq!(
            d.problems().copied().collect::<std::vec::Vec<_>>(),
            [
                Problem::Duplicate("trace"),
                Problem::MissingValue("trace.out")
            ]
        );
        let o = KernelOptions::parse("  log=trace   test=panic ");
        assert_eq!(o.log, LogLevel::Trace);
        assert_eq!(o.test, Some("panic"));
        assert_eq!(o.problems().count(), 0);
    }

    #[test]
    fn problems_are_reported_not_fatal() {
        let o = KernelOptions::parse("log=loud quiet test= log=warn test=a test=b");
        let p: Vec<_> = o.problems().copied().collect();
        assert_eq!(
            p,
            [
                Problem::BadValue {
                    key: "log",
                    value: "loud"
                },
                Problem::UnknownKey("quiet"),
                Problem::MissingValue("test"),
                Problem::Duplicate("log"),
                Problem::Duplicate("test"),
            ]
        );
        assert_eq!(o.log, LogLevel::Warn);
        assert_eq!(o.test, Some("b"));
    }

    #[test]
    fn run_lists_programs_for_init() {
        let o = KernelOptions::parse("test=init run=hello,fault:null-read,,+spinner:100");
        let specs: Vec<_> = o.run_specs().collect();
        assert_eq!(specs, ["hello", "fault:null-read", "+spinner:100"]);
        assert_eq!(o.problems().count(), 0);
        assert_eq!(KernelOptions::parse("").run_specs().count(), 0);
        let p: Vec<_> = KernelOptions::parse("run= run=a run=b")
            .problems()
            .copied()
            .collect();
        assert_eq!(p, [Problem::MissingValue("run"), Problem::Duplicate("run")]);
    }

    #[test]
    fn overflowing_problems_are_counted() {
        let o = KernelOptions::parse("a b c d e f g h i j");
        assert_eq!(o.problems().count(), MAX_PROBLEMS);
        assert_eq!(o.dropped_problems(), 2);
    }

    #[test]
    fn levels_are_ordered_by_verbosity() {
        assert!(LogLevel::Error < LogLevel::Warn && LogLevel::Debug < LogLevel::Trace);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_input_never_panics(s in ".{0,300}") {
            let o = KernelOptions::parse(&s);
            proptest::prop_assert!(o.problems().count() <= MAX_PROBLEMS);
        }
    }
}
