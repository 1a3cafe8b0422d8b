//! Causal chains: the records sharing one causal id, in timestamp order.
//! One chain is one request and everything done for it (client → server →
//! driver and back); a chain's *hops* are the steps between its records.
//!
//! Every record with a nonzero causal id is a point of its chain, on the
//! thread it happened in, except `sched.wake`, which is placed on the
//! woken thread (its first argument), so a reply's wake-up draws an arrow
//! back to the caller.

use super::stream::Trace;
use ferrous_trace::{EventType, Record};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    /// Index into `Trace::records`.
    pub record: usize,
    pub ts: u64,
    pub cpu: u16,
    /// The thread track it belongs on (0: the CPU's own track).
    pub thread: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub id: u64,
    pub points: Vec<Point>,
}

impl Chain {
    pub fn hops(&self) -> usize {
        self.points.len().saturating_sub(1)
    }

    /// Distinct threads the chain passes through, in order of first visit.
    pub fn threads(&self) -> Vec<u64> {
        let mut seen = Vec::new();
        for p in &self.points {
            if !seen.contains(&p.thread) {
                seen.push(p.thread);
            }
        }
        seen
    }

    /// Messages sent in the chain (`ipc.call` and `ipc.send`).
    pub fn messages(&self, trace: &Trace) -> usize {
        self.points
            .iter()
            .filter(|p| {
                matches!(
                    trace.records[p.record].event,
                    EventType::IpcCall | EventType::IpcSend
                )
            })
            .count()
    }
}

/// The thread track a chain point belongs on.
pub fn track_of(r: &Record) -> u64 {
    match r.event {
        EventType::SchedWake => r.args[0],
        // A handoff that delivered a message: the step is the thread that
        // got it (it stands in for that thread's `ipc.recv` or the
        // caller's reply).
        EventType::SchedHandoff => r.args[1],
        _ => r.thread,
    }
}

/// Every chain, by causal id.
pub fn chains(trace: &Trace) -> Vec<Chain> {
    let mut by_id: BTreeMap<u64, Vec<Point>> = BTreeMap::new();
    for (i, r) in trace.records.iter().enumerate() {
        if r.causal != 0 {
            by_id.entry(r.causal).or_default().push(Point {
                record: i,
                ts: r.timestamp,
                cpu: r.cpu,
                thread: track_of(r),
            });
        }
    }
    by_id
        .into_iter()
        .map(|(id, points)| Chain { id, points })
        .collect()
}

/// The chain with the most hops (the lowest id among equals).
pub fn longest(chains: &[Chain]) -> Option<&Chain> {
    chains
        .iter()
        .rev()
        .max_by_key(|c| (c.hops(), c.threads().len()))
}
