//! `init`: the first user process. It runs the programs the kernel command
//! line names (`run=`) and reports how each one ended.
//!
//! Its arguments, from the kernel, are NUL-terminated entries:
//!
//! - `m:<module name>` for each boot module, in boot-configuration order:
//!   the i-th one is in handle slot `FIRST_MODULE + i` (16 + i);
//! - `r:<spec>` for each program to run, in order. A spec is `name` or
//!   `name:argument` (the argument bytes are everything after the first
//!   colon, passed to the program as they are); a leading `+` starts it in
//!   the background.
//!
//! Foreground programs run one after the other: spawn, then wait without a
//! time-out. Background programs are spawned when their turn comes and
//! waited for, in order, after the last foreground one. Exit codes are
//! reported, not judged: scenarios check them in the log.
//!
//! The log (`<spec>` without the `+`):
//!
//! ```text
//! init: starting, <n> modules, <k> programs
//! init: nothing to run                             (k = 0; then exit 0)
//! init: <spec> started in the background           (+ specs)
//! init: <spec> exited with code <c>
//! init: <spec> ended by exception <vector>
//! init: no module <name>                           (a failure)
//! init: cannot start <spec>: <error>               (a failure)
//! init: waiting for <spec> failed: <error>         (a failure)
//! init: done, <k> programs, <f> failed
//! ```
//!
//! Exit code 0, also when a program could not be started: failures are
//! counted on the `done` line, and scenarios judge the log.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;
use core::fmt;
use ferrous_rt::abi::{ExitStatus, Handle, initial};
use ferrous_rt::{println, sys};

ferrous_rt::entry!(main);

/// A program to run, from one `r:` entry.
struct Spec {
    /// The spec without the `+`, as the log names it.
    text: &'static [u8],
    name: &'static [u8],
    arg: &'static [u8],
    background: bool,
}

impl Spec {
    fn parse(entry: &'static [u8]) -> Spec {
        let (background, text) = match entry.strip_prefix(b"+") {
            Some(rest) => (true, rest),
            None => (false, entry),
        };
        let (name, arg) = match text.iter().position(|&b| b == b':') {
            Some(i) => (&text[..i], &text[i + 1..]),
            None => (text, &[][..]),
        };
        Spec {
            text,
            name,
            arg,
            background,
        }
    }
}

fn modules() -> impl Iterator<Item = &'static [u8]> {
    ferrous_rt::args().filter_map(|a| a.strip_prefix(b"m:"))
}

fn specs() -> impl Iterator<Item = Spec> {
    ferrous_rt::args()
        .filter_map(|a| a.strip_prefix(b"r:"))
        .map(Spec::parse)
}

/// The handle of the first boot module called `name`.
fn module_handle(name: &[u8]) -> Option<Handle> {
    let i = modules().position(|m| m == name)?;
    Some(Handle(initial::FIRST_MODULE.0 + u32::try_from(i).ok()?))
}

fn main() -> i32 {
    let programs = specs().count();
    println!(
        "init: starting, {} modules, {programs} programs",
        modules().count()
    );
    if programs == 0 {
        println!("init: nothing to run");
        return 0;
    }
    let mut failed = 0u32;
    let mut background: Vec<(Spec, Handle)> = Vec::new();
    for spec in specs() {
        let Some(module) = module_handle(spec.name) else {
            println!("init: no module {}", Text(spec.name));
            failed += 1;
            continue;
        };
        match sys::spawn(module, spec.arg) {
            Err(e) => {
                println!("init: cannot start {}: {e}", Text(spec.text));
                failed += 1;
            }
            Ok(child) if spec.background => {
                println!("init: {} started in the background", Text(spec.text));
                background.push((spec, child));
            }
            Ok(child) => {
                if !finish(&spec, child) {
                    failed += 1;
                }
            }
        }
    }
    for (spec, child) in &background {
        if !finish(spec, *child) {
            failed += 1;
        }
    }
    println!("init: done, {programs} programs, {failed} failed");
    0
}

/// Waits for `child` to end, reports how, and closes its handle. `false`
/// if the wait failed.
fn finish(spec: &Spec, child: Handle) -> bool {
    let result = sys::wait(child, sys::WAIT_FOREVER);
    let _ = sys::handle_close(child);
    let spec = Text(spec.text);
    match result {
        Ok(Some(ExitStatus::Exited { code })) => {
            println!("init: {spec} exited with code {code}");
            true
        }
        Ok(Some(ExitStatus::Faulted { vector })) => {
            println!("init: {spec} ended by exception {vector}");
            true
        }
        Ok(None) => {
            println!("init: {spec} ended with a status this init does not know");
            true
        }
        Err(e) => {
            println!("init: waiting for {spec} failed: {e}");
            false
        }
    }
}

/// Bytes from the command line, shown as text (invalid UTF-8 as U+FFFD).
struct Text<'a>(&'a [u8]);

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_str("\u{fffd}")?;
            }
        }
        Ok(())
    }
}
