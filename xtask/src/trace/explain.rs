//! `--explain THREAD`: when a thread was not running, and why.

use super::model::{Ended, Off, OffInterval, ReadyCause, Timeline};
use super::stream::Trace;
use super::text::{ns, us};
use super::threads::display;
use ferrous_trace::BlockReason;
use std::collections::BTreeMap;
use std::fmt::Write;

/// A time window in nanoseconds since boot; `None` is open-ended.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    pub from: Option<i128>,
    pub to: Option<i128>,
}

impl Window {
    /// From `--from` / `--to` in microseconds.
    pub fn from_us(from: Option<f64>, to: Option<f64>) -> Window {
        let ns = |us: f64| (us * 1000.0).round() as i128;
        Window {
            from: from.map(ns),
            to: to.map(ns),
        }
    }

    /// `[start, end]` cut to the window; `None` if outside it.
    fn clip(&self, start: i128, end: i128) -> Option<(i128, i128)> {
        let s = self.from.map_or(start, |f| start.max(f));
        let e = self.to.map_or(end, |t| end.min(t));
        (s < e || (s == e && start == end && self.contains(start))).then_some((s, e))
    }

    fn contains(&self, t: i128) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t <= e)
    }
}

/// An off interval cut to the window, in ns since boot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clipped {
    pub start: i128,
    pub end: i128,
    pub interval: OffInterval,
}

/// `thread`'s off intervals overlapping the window, in start order.
pub fn intervals(trace: &Trace, tl: &Timeline, thread: u64, w: Window) -> Vec<Clipped> {
    let mut v: Vec<Clipped> = tl
        .off
        .iter()
        .filter(|iv| iv.thread == thread)
        .filter_map(|iv| {
            let (start, end) = w.clip(ns(trace, iv.start), ns(trace, iv.end))?;
            Some(Clipped {
                start,
                end,
                interval: *iv,
            })
        })
        .collect();
    v.sort_by_key(|c| (c.start, c.end));
    v
}

fn who(trace: &Trace, by: u64, nobody: &str) -> String {
    if by == 0 {
        nobody.to_string()
    } else {
        display(trace, by)
    }
}

/// What a blocked thread waited for: `endpoint_recv 12`, `join T4(x)`.
fn blocked_on(trace: &Trace, reason: u64, object: u64) -> String {
    let name = match BlockReason::from_raw(reason) {
        Some(r) => r.name().to_string(),
        None if reason == 0 => return "blocked (reason not recorded)".into(),
        None => format!("reason#{reason}"),
    };
    match (BlockReason::from_raw(reason), object) {
        (_, 0) => format!("blocked on {name}"),
        (Some(BlockReason::Join), t) => format!("blocked on {name} {}", display(trace, t)),
        (_, o) => format!("blocked on {name} {o}"),
    }
}

/// Why a thread was not running over `iv`, in words.
pub fn why(trace: &Trace, iv: &OffInterval) -> String {
    match iv.off {
        Off::Blocked { reason, object } => {
            let what = blocked_on(trace, reason, object);
            let until = match iv.ended {
                Ended::Woken { by } => format!("until woken by {}", who(trace, by, "the kernel")),
                Ended::Ran { cpu } => format!("until it ran again on cpu{cpu} (no wake recorded)"),
                Ended::Exited => "until it exited".into(),
                Ended::TraceEnd => "still blocked when the trace ends".into(),
            };
            format!("{what}, {until}")
        }
        Off::Ready(cause) => {
            let what = match cause {
                ReadyCause::Woken { by } => format!(
                    "ready (woken by {}), waiting for a CPU",
                    who(trace, by, "the kernel")
                ),
                ReadyCause::Preempted { by: 0 } => "time slice ended, waiting for a CPU".into(),
                ReadyCause::Preempted { by } => {
                    format!("preempted by {}, waiting for a CPU", display(trace, by))
                }
                ReadyCause::Yielded => "yielded, waiting for a CPU".into(),
                ReadyCause::Spawned => "created, waiting for its first CPU".into(),
                ReadyCause::Descheduled => {
                    "switched away (no reason recorded), waiting for a CPU".into()
                }
            };
            match iv.ended {
                Ended::TraceEnd => format!("{what} (still waiting when the trace ends)"),
                Ended::Exited => format!("{what} (exited before it ran)"),
                _ => what,
            }
        }
    }
}

/// The totals line an interval counts toward.
fn kind(iv: &OffInterval) -> String {
    match iv.off {
        Off::Blocked { reason, .. } => match BlockReason::from_raw(reason) {
            Some(r) => format!("blocked on {}", r.name()),
            None => "blocked (other)".into(),
        },
        Off::Ready(ReadyCause::Woken { .. }) => "ready after a wake".into(),
        Off::Ready(ReadyCause::Preempted { by: 0 }) => "ready after its time slice".into(),
        Off::Ready(ReadyCause::Preempted { .. }) => "ready after preemption".into(),
        Off::Ready(ReadyCause::Yielded) => "ready after a yield".into(),
        Off::Ready(ReadyCause::Spawned) => "ready after creation".into(),
        Off::Ready(ReadyCause::Descheduled) => "ready (reason not recorded)".into(),
    }
}

/// The `--explain` report.
pub fn explain(trace: &Trace, tl: &Timeline, thread: u64, w: Window) -> String {
    let name = display(trace, thread);
    let (t0, t1) = (ns(trace, tl.start), ns(trace, tl.end));
    let (from, to) = (w.from.unwrap_or(t0), w.to.unwrap_or(t1));
    let mut s = String::new();
    let _ = writeln!(s, "{name} from {} to {} µs:", us(from), us(to));
    let seen = trace.records.iter().any(|r| {
        r.thread == thread
            || (r.event.args().iter().zip(r.args))
                .any(|(a, v)| v == thread && matches!(a.name, "thread" | "from" | "to" | "by"))
    });
    if !seen {
        let _ = writeln!(s, "  {name} does not appear in the trace");
        return s;
    }
    let span = (to - from).max(0);
    let mut ran = 0i128;
    let mut slices = 0;
    let mut cpus: Vec<u16> = Vec::new();
    for r in tl.runs.iter().filter(|r| r.thread == thread) {
        if let Some((a, b)) = w.clip(ns(trace, r.start), ns(trace, r.end)) {
            ran += b - a;
            slices += 1;
            if !cpus.contains(&r.cpu) {
                cpus.push(r.cpu);
            }
        }
    }
    cpus.sort_unstable();
    let cpu_list: Vec<String> = cpus.iter().map(|c| format!("cpu{c}")).collect();
    let _ = writeln!(
        s,
        "  ran {} µs ({}) in {}{}",
        us(ran),
        percent(ran, span),
        plural(slices, "slice"),
        if cpu_list.is_empty() {
            String::new()
        } else {
            format!(" on {}", cpu_list.join(", "))
        }
    );
    let list = intervals(trace, tl, thread, w);
    if list.is_empty() {
        let _ = writeln!(s, "  no interval off the CPU in this window");
        return s;
    }
    let _ = writeln!(s, "  not running:");
    let _ = writeln!(
        s,
        "    {:>12} {:>12} {:>12}  why",
        "from µs", "to µs", "for µs"
    );
    let mut totals: BTreeMap<String, (i128, usize)> = BTreeMap::new();
    for c in &list {
        let _ = writeln!(
            s,
            "    {:>12} {:>12} {:>12}  {}",
            us(c.start),
            us(c.end),
            us(c.end - c.start),
            why(trace, &c.interval)
        );
        let e = totals.entry(kind(&c.interval)).or_default();
        e.0 += c.end - c.start;
        e.1 += 1;
    }
    let _ = writeln!(s, "  totals:");
    let mut totals: Vec<_> = totals.into_iter().collect();
    totals.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    for (k, (d, n)) in totals {
        let _ = writeln!(
            s,
            "    {k:<30} {:>12} µs ({}) in {}",
            us(d),
            percent(d, span),
            plural(n, "interval")
        );
    }
    s
}

/// `1 slice`, `2 slices`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `part` as a percentage of `whole`, one decimal.
pub fn percent(part: i128, whole: i128) -> String {
    if whole <= 0 {
        return "-".into();
    }
    format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

#[cfg(test)]
#[path = "tests/explain.rs"]
mod tests;
