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
mod tests;
