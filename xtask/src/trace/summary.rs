//! The text summary: what was recorded, where CPU time went, and what the
//! IPC chains looked like.

use super::chains::{Chain, longest};
use super::explain::percent;
use super::model::Timeline;
use super::stream::Trace;
use super::text::{arg, dur_ns, ns, us};
use super::threads::display;
use ferrous_trace::{ArgKind, EventType};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Rows in the system-call and thread tables.
const TOP: usize = 12;

/// Numbers the summary reports (tests check these).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Numbers {
    pub by_event: BTreeMap<&'static str, u64>,
    /// System call number → (calls, errors), from `syscall.exit`.
    pub syscalls: BTreeMap<u64, (u64, u64)>,
    /// Thread → ns on a CPU.
    pub cpu_ns: BTreeMap<u64, i128>,
    /// CPU → (switches, busy ns).
    pub per_cpu: BTreeMap<u16, (u64, i128)>,
    pub traced_ns: i128,
    pub chains: usize,
    pub longest_hops: usize,
}

pub fn numbers(trace: &Trace, tl: &Timeline, chains: &[Chain]) -> Numbers {
    let mut n = Numbers::default();
    for r in &trace.records {
        *n.by_event.entry(r.event.name()).or_default() += 1;
        if r.event == EventType::SyscallExit {
            let e = n.syscalls.entry(r.args[0]).or_default();
            e.0 += 1;
            e.1 += u64::from(r.args[1] != 0);
        }
    }
    for (&t, &ticks) in &tl.cpu_time() {
        n.cpu_ns.insert(t, dur_ns(trace, ticks));
    }
    let busy = tl.busy();
    for &c in &tl.cpus {
        let ticks = busy.get(&c).copied().unwrap_or(0);
        n.per_cpu.insert(
            c,
            (
                tl.switches.get(&c).copied().unwrap_or(0),
                dur_ns(trace, ticks),
            ),
        );
    }
    n.traced_ns = dur_ns(trace, tl.end - tl.start);
    n.chains = chains.len();
    n.longest_hops = longest(chains).map_or(0, Chain::hops);
    n
}

/// The summary text.
pub fn render(trace: &Trace, tl: &Timeline, chains: &[Chain]) -> String {
    let n = numbers(trace, tl, chains);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "trace: {} records, {} CPUs, {} µs traced (from {} to {} µs after boot), TSC {:.3} MHz",
        trace.records.len(),
        tl.cpus.len(),
        us(n.traced_ns),
        us(ns(trace, tl.start)),
        us(ns(trace, tl.end)),
        trace.tsc_hz as f64 / 1e6
    );
    match trace.end {
        Some(e) => {
            let got = trace.event_records();
            let _ = writeln!(
                s,
                "stream: complete; the kernel wrote {} records{}",
                e.written,
                if got == e.written {
                    String::new()
                } else {
                    format!(", {got} arrived")
                }
            );
        }
        None => {
            let _ = writeln!(
                s,
                "stream: TRUNCATED (no end block: the kernel stopped without finishing the trace)"
            );
        }
    }
    let per_cpu: Vec<String> = trace
        .lost_per_cpu
        .iter()
        .map(|(c, l)| format!("cpu{c} {l}"))
        .collect();
    let reported: u64 = trace.lost_per_cpu.values().sum();
    let _ = writeln!(
        s,
        "lost records: {}{}{}",
        trace.lost_total,
        if per_cpu.is_empty() {
            String::new()
        } else {
            format!(" ({})", per_cpu.join(", "))
        },
        if reported != trace.lost_total {
            format!("; trace.lost records report {reported}")
        } else {
            String::new()
        }
    );
    let _ = writeln!(s, "undecodable blocks: {}", trace.undecodable);
    for (block, why) in &trace.undecodable_examples {
        let _ = writeln!(s, "  block {block}: {why}");
    }
    for w in &trace.warnings {
        let _ = writeln!(s, "warning: {w}");
    }

    let _ = writeln!(s, "\nrecords by event:");
    let mut by_event: Vec<_> = n.by_event.iter().collect();
    by_event.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (e, c) in by_event {
        let _ = writeln!(s, "  {e:<18} {c:>9}");
    }

    let _ = writeln!(s, "\nsystem calls (from syscall.exit):");
    if n.syscalls.is_empty() {
        let _ = writeln!(
            s,
            "  none recorded (the syscall category is off by default)"
        );
    } else {
        let _ = writeln!(s, "  {:<22} {:>9} {:>9}", "call", "count", "errors");
        let mut calls: Vec<_> = n.syscalls.iter().collect();
        calls.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
        for (nr, (count, errors)) in calls.into_iter().take(TOP) {
            let _ = writeln!(
                s,
                "  {:<22} {count:>9} {errors:>9}",
                arg(ArgKind::Sysno, *nr)
            );
        }
    }

    let _ = writeln!(
        s,
        "\nCPU time by thread (% of the {} µs traced):",
        us(n.traced_ns)
    );
    if n.cpu_ns.is_empty() {
        let _ = writeln!(s, "  no sched.switch records");
    }
    let mut threads: Vec<_> = n.cpu_ns.iter().collect();
    threads.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (t, d) in threads.iter().take(TOP) {
        let _ = writeln!(
            s,
            "  {:<28} {:>14} µs {:>7}",
            display(trace, **t),
            us(**d),
            percent(**d, n.traced_ns)
        );
    }
    if threads.len() > TOP {
        let _ = writeln!(s, "  ... and {} more threads", threads.len() - TOP);
    }

    let _ = writeln!(s, "\nper CPU:");
    for (c, (switches, busy)) in &n.per_cpu {
        let _ = writeln!(
            s,
            "  cpu{c:<3} {switches:>7} context switches, busy {:>14} µs ({})",
            us(*busy),
            percent(*busy, n.traced_ns)
        );
    }

    let records: usize = chains.iter().map(|c| c.points.len()).sum();
    let messages: usize = chains.iter().map(|c| c.messages(trace)).sum();
    let _ = writeln!(
        s,
        "\nIPC causal chains: {} ({messages} messages, {records} records with a causal id)",
        n.chains
    );
    if let Some(c) = longest(chains) {
        let path: Vec<String> = c.threads().iter().map(|&t| display(trace, t)).collect();
        let _ = writeln!(
            s,
            "  longest: causal {} with {} hops across {} threads: {}",
            c.id,
            c.hops(),
            path.len(),
            path.join(" → ")
        );
        let mut hist: BTreeMap<usize, usize> = BTreeMap::new();
        for c in chains {
            *hist.entry(c.hops()).or_default() += 1;
        }
        let h: Vec<String> = hist
            .iter()
            .map(|(hops, n)| format!("{hops} hops: {n}"))
            .collect();
        let _ = writeln!(s, "  chains by length: {}", h.join(", "));
    }
    s
}

#[cfg(test)]
#[path = "tests/summary.rs"]
mod tests;
