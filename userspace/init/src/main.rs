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
//!   the background, and a leading `!` (after any `+`) also grants it
//!   init's trace capability, in slot 5: trusted to read the kernel's
//!   trace and to inject faults (`fault_inject`), which tests need.
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
use ferrous_rt::abi::{ExitStatus, Grant, Handle, PAGE_SIZE, Rights, SysError, initial};
use ferrous_rt::{println, sys};

ferrous_rt::entry!(main);

/// A program to run, from one `r:` entry.
struct Spec {
    /// The spec without the `+`, as the log names it.
    text: &'static [u8],
    name: &'static [u8],
    arg: &'static [u8],
    background: bool,
    /// `!`: also gets the trace capability (slot 5).
    trusted: bool,
}

impl Spec {
    fn parse(entry: &'static [u8]) -> Spec {
        let (background, text) = match entry.strip_prefix(b"+") {
            Some(rest) => (true, rest),
            None => (false, entry),
        };
        let (trusted, text) = match text.strip_prefix(b"!") {
            Some(rest) => (true, rest),
            None => (false, text),
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
            trusted,
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

/// A running program: its process capability and the memory it was made
/// from.
#[derive(Clone, Copy)]
struct Child {
    process: Handle,
    memory: Handle,
}

/// Most memory one program gets: a quarter of what init has left, at most
/// this much.
const CHILD_MEMORY: u64 = 256 << 20;

/// Starts `module` with its own memory and the conventional slots: 1 the
/// console, 2 its own address space, 3 its memory, 4 its own module (so it
/// can start copies of itself), and for a trusted program 5 the trace
/// capability (grants fill slots 1, 2, ... in order).
fn start(module: Handle, arg: &[u8], trusted: bool) -> Result<Child, SysError> {
    let left = sys::memory_info(initial::MEMORY)?;
    let bytes = (left / 4).min(CHILD_MEMORY) & !(PAGE_SIZE - 1);
    let memory = sys::memory_split(initial::MEMORY, bytes)?;
    let all = Rights::ALL;
    let grants = [
        Grant::new(initial::CONSOLE, all),
        Grant::child_space(sys::SPACE_RIGHTS),
        Grant::new(memory, all),
        Grant::new(module, all),
        Grant::new(initial::TRACE, all),
    ];
    let grants = if trusted { &grants[..] } else { &grants[..4] };
    match sys::spawn(module, memory, arg, grants) {
        Ok(process) => Ok(Child { process, memory }),
        Err(e) => {
            let _ = sys::cap_delete(memory);
            Err(e)
        }
    }
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
    let mut background: Vec<(Spec, Child)> = Vec::new();
    for spec in specs() {
        let Some(module) = module_handle(spec.name) else {
            println!("init: no module {}", Text(spec.name));
            failed += 1;
            continue;
        };
        match start(module, spec.arg, spec.trusted) {
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

/// Waits for `child` to end, reports how, and deletes its capabilities
/// (its memory returns to init's). `false` if the wait failed.
fn finish(spec: &Spec, child: Child) -> bool {
    let result = sys::wait(child.process, sys::WAIT_FOREVER);
    let _ = sys::cap_delete(child.process);
    let _ = sys::cap_delete(child.memory);
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
        Ok(Some(ExitStatus::Killed)) => {
            println!("init: {spec} was killed");
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
