//! Judging a scenario by its trace (`trace_log`, `trace_absent`,
//! `trace_json`, `trace_flows`; see [`crate::scenario::Scenario`]), and
//! checking an exported JSON document the way a viewer would read it.

use super::chrome::FLOW_NAME;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// A flow (`s` … `f`) found in an exported document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    pub id: u64,
    /// Events in it (`s`, `t`…, `f`) minus one.
    pub hops: usize,
    /// Distinct (pid, tid) tracks it touches.
    pub tracks: usize,
    /// Has an `s` first and an `f` last.
    pub complete: bool,
}

/// What the JSON holds, once checked.
#[derive(Debug, Clone, Default)]
pub struct JsonStats {
    pub events: usize,
    pub flows: Vec<Flow>,
}

/// Parses an exported document and checks its shape: an object whose
/// `traceEvents` is an array of objects, each with a one-letter string
/// `ph` and integer `pid`/`tid`; all but metadata with a numeric `ts`;
/// `X` with a `dur` ≥ 0; flow events with an integer `id`. Returns the
/// flows, each from its `ipc` events in timestamp order.
pub fn validate_json(text: &str) -> Result<JsonStats, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let events = doc
        .get("traceEvents")
        .and_then(Value::as_array)
        .ok_or("no `traceEvents` array at the top level")?;
    // Per flow id: (ts, phase, (pid, tid)) of each of its events.
    type Step = (f64, char, (u64, u64));
    let mut flows: BTreeMap<u64, Vec<Step>> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        let bad = |what: &str| format!("traceEvents[{i}]: {what}: {e}");
        let ph = e
            .get("ph")
            .and_then(Value::as_str)
            .filter(|p| p.len() == 1)
            .ok_or_else(|| bad("no one-letter `ph`"))?;
        let pid = e
            .get("pid")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("no integer `pid`"))?;
        let tid = e
            .get("tid")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("no integer `tid`"))?;
        if ph == "M" {
            continue;
        }
        let ts = e
            .get("ts")
            .and_then(Value::as_f64)
            .ok_or_else(|| bad("no numeric `ts`"))?;
        if ph == "X"
            && !e
                .get("dur")
                .and_then(Value::as_f64)
                .is_some_and(|d| d >= 0.0)
        {
            return Err(bad("`X` without a `dur` ≥ 0"));
        }
        if matches!(ph, "s" | "t" | "f") {
            let id = e
                .get("id")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("flow without an integer `id`"))?;
            if e.get("name").and_then(Value::as_str) == Some(FLOW_NAME) {
                let c = ph.chars().next().unwrap_or('?');
                flows.entry(id).or_default().push((ts, c, (pid, tid)));
            }
        }
    }
    let flows = flows
        .into_iter()
        .map(|(id, mut ev)| {
            ev.sort_by(|a, b| a.0.total_cmp(&b.0));
            let tracks: BTreeSet<(u64, u64)> = ev.iter().map(|e| e.2).collect();
            let phases: Vec<char> = ev.iter().map(|e| e.1).collect();
            let complete = phases.first() == Some(&'s')
                && phases.last() == Some(&'f')
                && phases.len() >= 2
                && phases[1..phases.len() - 1].iter().all(|&p| p == 't');
            Flow {
                id,
                hops: ev.len().saturating_sub(1),
                tracks: tracks.len(),
                complete,
            }
        })
        .collect();
    Ok(JsonStats {
        events: events.len(),
        flows,
    })
}

/// What a scenario asks of its trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    /// Substrings the text form must contain.
    pub log: Vec<String>,
    /// Substrings it must not contain.
    pub absent: Vec<String>,
    /// Export the JSON and check it.
    pub json: bool,
    /// A complete flow with at least this many hops …
    pub flows: Option<u32>,
    /// … touching at least this many threads.
    pub flow_threads: u32,
}

/// Every way the decoded text and exported JSON miss `e`.
pub fn judge(e: &Expectations, text: &str, json: Option<&str>) -> Vec<String> {
    let mut why = Vec::new();
    for want in &e.log {
        if !text.contains(want.as_str()) {
            why.push(format!("trace lacks `{want}`"));
        }
    }
    for bad in &e.absent {
        if text.contains(bad.as_str()) {
            why.push(format!("trace contains `{bad}`"));
        }
    }
    if !(e.json || e.flows.is_some()) {
        return why;
    }
    let Some(json) = json else {
        why.push("no JSON export".into());
        return why;
    };
    match validate_json(json) {
        Err(err) => why.push(format!("exported JSON is malformed: {err}")),
        Ok(stats) => {
            if let Some(hops) = e.flows {
                let ok = stats.flows.iter().any(|f| {
                    f.complete && f.hops >= hops as usize && f.tracks >= e.flow_threads as usize
                });
                if !ok {
                    let best = stats
                        .flows
                        .iter()
                        .filter(|f| f.complete)
                        .max_by_key(|f| (f.tracks, f.hops));
                    why.push(format!(
                        "no complete IPC flow of ≥ {hops} hops across ≥ {} threads \
                         ({} events, {} flows; best: {})",
                        e.flow_threads,
                        stats.events,
                        stats.flows.len(),
                        best.map_or("none".into(), |f| format!(
                            "causal {} with {} hops across {} threads",
                            f.id, f.hops, f.tracks
                        ))
                    ));
                }
            }
        }
    }
    why
}

#[cfg(test)]
#[path = "tests/check.rs"]
mod tests;
