//! The check log of the test programs (`captest`, `ipctest`, `tracetool`):
//! one line per check, `<program>: ok <what>` or
//! `<program>: FAIL <what>: <detail>`, then a summary line. Scenarios judge
//! these lines.

use crate::println;
use core::fmt::Debug;
use ferrous_abi::SysError;

pub struct Checks {
    program: &'static str,
    total: u32,
    failed: u32,
}

impl Checks {
    pub const fn new(program: &'static str) -> Checks {
        Checks {
            program,
            total: 0,
            failed: 0,
        }
    }

    pub fn check(&mut self, what: &str, ok: bool, detail: impl Debug) {
        self.total += 1;
        if ok {
            println!("{}: ok {what}", self.program);
        } else {
            self.failed += 1;
            println!("{}: FAIL {what}: {detail:?}", self.program);
        }
    }

    /// Passes if `got` is exactly the error `want`.
    pub fn expect<T: Debug>(&mut self, what: &str, got: Result<T, SysError>, want: SysError) {
        let ok = matches!(&got, Err(e) if *e == want);
        self.check(what, ok, (got, want));
    }

    /// Passes if `got` succeeded; returns its value.
    pub fn ok<T: Debug>(&mut self, what: &str, got: Result<T, SysError>) -> Option<T> {
        match got {
            Ok(v) => {
                self.check(what, true, ());
                Some(v)
            }
            Err(e) => {
                self.check(what, false, e);
                None
            }
        }
    }

    /// Prints `<program>: <label>: <n> checks, <f> failed` (or without the
    /// label if it is empty); returns the exit code: 0 only if all passed.
    pub fn finish(self, label: &str) -> i32 {
        if label.is_empty() {
            println!(
                "{}: {} checks, {} failed",
                self.program, self.total, self.failed
            );
        } else {
            println!(
                "{}: {label}: {} checks, {} failed",
                self.program, self.total, self.failed
            );
        }
        i32::from(self.failed != 0)
    }
}
