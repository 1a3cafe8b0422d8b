//! The trace as text, one line per record: what `trace_log` and
//! `trace_absent` scenario checks search, and `<name>.log` next to the
//! JSON.
//!
//! # Line format (stable: scenarios match substrings of it)
//!
//! ```text
//! <µs> cpu<N> <thread> <describe>
//! 1234.567 cpu0 T3(init) ipc.call thread=4 endpoint=2 badge=0x0 len=1 word0=0x7 cause=9
//! ```
//!
//! - `<µs>`: microseconds since the boot TSC (the header's), exactly three
//!   decimals, `-` if before it; records are in timestamp order.
//! - `<thread>`: the record's thread field as [`super::threads::display`]
//!   writes it: `T<index>`, `.g<generation>` if not 0, `(name)` if a
//!   `trace.name` record named it; `idle` for 0.
//! - `<describe>`: exactly [`ferrous_trace::describe`]: the event name,
//!   `thread=<raw word>`, each argument as `name=value` (reasons, system
//!   calls and errors by name), and ` cause=<id>` if the causal id is not
//!   0.

use super::stream::Trace;
use super::threads;
use ferrous_trace::{ArgKind, Record, describe};
use std::fmt;

/// Nanoseconds from the boot TSC to `tsc` (negative before it).
pub fn ns(trace: &Trace, tsc: u64) -> i128 {
    (i128::from(tsc) - i128::from(trace.boot_tsc)) * 1_000_000_000 / i128::from(trace.tsc_hz)
}

/// Nanoseconds in `ticks` TSC ticks.
pub fn dur_ns(trace: &Trace, ticks: u64) -> i128 {
    i128::from(ticks) * 1_000_000_000 / i128::from(trace.tsc_hz)
}

/// Nanoseconds as microseconds with three decimals: `1234.567`, `-0.250`.
pub fn us(ns: i128) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let a = ns.unsigned_abs();
    format!("{sign}{}.{:03}", a / 1000, a % 1000)
}

/// Nanoseconds as fractional microseconds (JSON, arithmetic).
pub fn us_f64(ns: i128) -> f64 {
    ns as f64 / 1000.0
}

/// One record's line (format above).
pub fn line(trace: &Trace, r: &Record) -> String {
    format!(
        "{} cpu{} {} {}",
        us(ns(trace, r.timestamp)),
        r.cpu,
        threads::display(trace, r.thread),
        describe(r)
    )
}

/// An argument value as [`ferrous_trace::describe`] writes it.
pub fn arg(kind: ArgKind, value: u64) -> String {
    struct A(ArgKind, u64);
    impl fmt::Display for A {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.write(self.1, f)
        }
    }
    A(kind, value).to_string()
}

/// Every record's line, each ending in a newline.
pub fn render(trace: &Trace) -> String {
    let mut s = String::new();
    for r in &trace.records {
        s.push_str(&line(trace, r));
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::synth::{Synth, tw};
    use ferrous_trace::EventType;

    #[test]
    fn microseconds_have_three_decimals() {
        assert_eq!(us(0), "0.000");
        assert_eq!(us(1_234_567), "1234.567");
        assert_eq!(us(-250), "-0.250");
    }

    #[test]
    fn lines_name_threads_and_keep_describe() {
        let mut s = Synth::new(1);
        s.name(0, 3, 1, "init");
        s.rec(2_000, 0, tw(3), EventType::IpcCall, 9, [2, 0, 1, 7]);
        let t = s.decode();
        let text = render(&t);
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "2.000 cpu0 T3(init) ipc.call thread=4 endpoint=2 badge=0x0 len=1 word0=0x7 cause=9"
        );
    }
}
