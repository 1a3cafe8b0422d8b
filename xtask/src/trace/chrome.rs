//! Export to the Chrome trace-event JSON format, which Perfetto
//! (ui.perfetto.dev) and chrome://tracing open.
//!
//! - Timestamps are microseconds since the boot TSC (nanosecond
//!   precision).
//! - One process per CPU, `cpuN` (pid = tid = [`CPU_BASE`] + N), whose
//!   track has a slice per thread run (named like `T3(init)`); records
//!   with no thread (idle, boot) are instants there too.
//! - The `threads` process ([`THREADS_PID`]) has a track per thread (tid =
//!   the thread word, or [`REMAP_BASE`] + n for a word that does not fit
//!   in a u32 below [`CPU_BASE`]; the word is in the track's name):
//!   slices while blocked (named by the block reason) and while ready but
//!   not running (`ready`), with why in their args; an instant for every
//!   other record except `sched.switch`, `sched.idle` and `trace.name`.
//! - IPC flows: each causal chain with two or more records is a flow
//!   (`s`, `t`…, `f`, all named `ipc`, `id` = the causal id, `bp` = `e`);
//!   each of its records is a zero-length slice on its thread's track
//!   (`sched.wake` on the woken thread's) and the flow event right after
//!   it binds to it, so arrows run from thread to thread.
//! - `M` events name the processes and tracks.

use super::chains::{Chain, track_of};
use super::explain::why;
use super::model::{Off, Timeline};
use super::stream::Trace;
use super::text::{arg, ns, us_f64};
use super::threads::{display, label};
use ferrous_trace::{BlockReason, EventType, Record};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub const THREADS_PID: u64 = 1;
/// CPU N's process and track: pid = tid = `CPU_BASE + N`.
pub const CPU_BASE: u64 = 1_000_000;
/// Track ids for thread words too large for one.
pub const REMAP_BASE: u64 = 2_000_000;
/// The name (and category) of every flow event.
pub const FLOW_NAME: &str = "ipc";

struct Tracks {
    tids: BTreeMap<u64, u64>,
}

impl Tracks {
    fn new(words: &BTreeSet<u64>) -> Tracks {
        let mut tids = BTreeMap::new();
        let mut next = REMAP_BASE;
        for &w in words {
            let tid = if w < CPU_BASE {
                w
            } else {
                next += 1;
                next - 1
            };
            tids.insert(w, tid);
        }
        Tracks { tids }
    }

    /// `(pid, tid)` of a thread's track, or of the CPU's for thread 0.
    fn of(&self, thread: u64, cpu: u16) -> (u64, u64) {
        match self.tids.get(&thread) {
            Some(&tid) if thread != 0 => (THREADS_PID, tid),
            _ => (CPU_BASE + u64::from(cpu), CPU_BASE + u64::from(cpu)),
        }
    }
}

fn is_thread_arg(name: &str) -> bool {
    matches!(name, "thread" | "from" | "to" | "by")
}

/// A record's arguments by name, as `describe` prints them (threads as
/// `T<n>(name)`), plus its causal id and CPU.
fn record_args(trace: &Trace, r: &Record) -> Value {
    let mut m = Map::new();
    for (a, v) in r.event.args().iter().zip(r.args) {
        let text = if is_thread_arg(a.name) {
            display(trace, v)
        } else {
            arg(a.kind, v)
        };
        m.insert(a.name.into(), Value::String(text));
    }
    if r.causal != 0 {
        m.insert("causal".into(), json!(r.causal));
    }
    m.insert("cpu".into(), json!(r.cpu));
    m.insert("thread".into(), Value::String(display(trace, r.thread)));
    Value::Object(m)
}

/// Every thread word the trace mentions.
fn thread_words(trace: &Trace, tl: &Timeline) -> BTreeSet<u64> {
    let mut s = BTreeSet::new();
    for r in &trace.records {
        s.insert(r.thread);
        for (a, v) in r.event.args().iter().zip(r.args) {
            if is_thread_arg(a.name) {
                s.insert(v);
            }
        }
    }
    s.extend(trace.names.keys());
    s.extend(tl.runs.iter().map(|r| r.thread));
    s.remove(&0);
    s
}

/// The whole trace as a Chrome trace-event JSON document.
pub fn export(trace: &Trace, tl: &Timeline, chains: &[Chain]) -> Value {
    let words = thread_words(trace, tl);
    let tracks = Tracks::new(&words);
    let t = |tsc: u64| us_f64(ns(trace, tsc));
    // Durations from whole nanoseconds, not a difference of floats.
    let dur = |a: u64, b: u64| us_f64(ns(trace, b) - ns(trace, a));
    let mut meta = Vec::new();
    for &c in &tl.cpus {
        let id = CPU_BASE + u64::from(c);
        let name = format!("cpu{c}");
        meta.push(json!({"ph": "M", "name": "process_name", "pid": id, "tid": id, "args": {"name": name}}));
        meta.push(json!({"ph": "M", "name": "process_sort_index", "pid": id, "tid": id, "args": {"sort_index": c}}));
        meta.push(
            json!({"ph": "M", "name": "thread_name", "pid": id, "tid": id, "args": {"name": name}}),
        );
    }
    meta.push(json!({"ph": "M", "name": "process_name", "pid": THREADS_PID, "tid": 0, "args": {"name": "threads"}}));
    meta.push(json!({"ph": "M", "name": "process_sort_index", "pid": THREADS_PID, "tid": 0, "args": {"sort_index": 100_000}}));
    for (&w, &tid) in &tracks.tids {
        meta.push(json!({"ph": "M", "name": "thread_name", "pid": THREADS_PID, "tid": tid, "args": {"name": display(trace, w)}}));
        meta.push(json!({"ph": "M", "name": "thread_sort_index", "pid": THREADS_PID, "tid": tid, "args": {"sort_index": w as u32}}));
    }

    let mut events: Vec<(f64, Value)> = Vec::new();
    for r in &tl.runs {
        let (pid, tid) = tracks.of(0, r.cpu);
        let start = t(r.start);
        let mut args = json!({"thread": label(r.thread), "word": r.thread});
        if r.open {
            args["running at the end of the trace"] = json!(true);
        }
        events.push((
            start,
            json!({"ph": "X", "name": display(trace, r.thread), "cat": "running", "pid": pid, "tid": tid,
                   "ts": start, "dur": dur(r.start, r.end), "args": args}),
        ));
    }
    for iv in &tl.off {
        let (pid, tid) = tracks.of(iv.thread, 0);
        let start = t(iv.start);
        let (name, cat) = match iv.off {
            Off::Blocked { reason, .. } => (
                BlockReason::from_raw(reason).map_or("blocked".to_string(), |r| r.name().into()),
                "blocked",
            ),
            Off::Ready(_) => ("ready".to_string(), "ready"),
        };
        let mut args = json!({"why": why(trace, iv)});
        if let Off::Blocked { object, .. } = iv.off {
            args["object"] = json!(object);
        }
        if let super::model::Ended::Woken { by } = iv.ended {
            args["woken by"] = json!(if by == 0 {
                "kernel".to_string()
            } else {
                display(trace, by)
            });
        }
        events.push((
            start,
            json!({"ph": "X", "name": name, "cat": cat, "pid": pid, "tid": tid,
                   "ts": start, "dur": dur(iv.start, iv.end), "args": args}),
        ));
    }
    // Chain position of each record: (chain id, index, length).
    let mut in_chain: BTreeMap<usize, (u64, usize, usize)> = BTreeMap::new();
    for c in chains.iter().filter(|c| c.points.len() >= 2) {
        for (i, p) in c.points.iter().enumerate() {
            in_chain.insert(p.record, (c.id, i, c.points.len()));
        }
    }
    for (i, r) in trace.records.iter().enumerate() {
        let ts = t(r.timestamp);
        let cat = r.event.category().name();
        if let Some(&(id, at, len)) = in_chain.get(&i) {
            let (pid, tid) = tracks.of(track_of(r), r.cpu);
            events.push((
                ts,
                json!({"ph": "X", "name": r.event.name(), "cat": cat, "pid": pid, "tid": tid,
                       "ts": ts, "dur": 0, "args": record_args(trace, r)}),
            ));
            let ph = match at {
                0 => "s",
                _ if at + 1 == len => "f",
                _ => "t",
            };
            events.push((
                ts,
                json!({"ph": ph, "name": FLOW_NAME, "cat": FLOW_NAME, "id": id, "pid": pid, "tid": tid,
                       "ts": ts, "bp": "e"}),
            ));
            continue;
        }
        if matches!(
            r.event,
            EventType::SchedSwitch
                | EventType::SchedIdle
                | EventType::SchedBlock
                | EventType::SchedWake
                | EventType::SchedHandoff
                | EventType::TraceName
        ) {
            continue;
        }
        let (pid, tid) = tracks.of(r.thread, r.cpu);
        events.push((
            ts,
            json!({"ph": "i", "s": "t", "name": r.event.name(), "cat": cat, "pid": pid, "tid": tid,
                   "ts": ts, "args": record_args(trace, r)}),
        ));
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut all = meta;
    all.extend(events.into_iter().map(|(_, v)| v));
    json!({
        "traceEvents": all,
        "displayTimeUnit": "ns",
        "otherData": {
            "source": "cargo xtask trace (Ferrous)",
            "tsc_hz": trace.tsc_hz,
            "cpus": trace.cpus,
            "records": trace.records.len(),
            "lost": trace.lost_total,
            "undecodable": trace.undecodable,
            "truncated": trace.truncated,
        },
    })
}

/// The document as text: one event per line, so it greps and diffs.
pub fn to_text(doc: &Value) -> String {
    let mut s = String::from("{\"traceEvents\":[\n");
    if let Some(events) = doc["traceEvents"].as_array() {
        for (i, e) in events.iter().enumerate() {
            if i > 0 {
                s.push_str(",\n");
            }
            s.push_str(&e.to_string());
        }
    }
    s.push_str("\n]");
    if let Some(obj) = doc.as_object() {
        for (k, v) in obj.iter().filter(|(k, _)| k.as_str() != "traceEvents") {
            s.push(',');
            s.push_str(&Value::String(k.clone()).to_string());
            s.push(':');
            s.push_str(&v.to_string());
        }
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
#[path = "tests/chrome.rs"]
mod tests;
