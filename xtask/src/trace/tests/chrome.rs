use super::*;
use crate::trace::chains::chains;
use crate::trace::check::validate_json;
use crate::trace::model::build;
use crate::trace::synth::{CAUSAL, CLIENT, DRIVER, SERVER, ipc_chain};

fn exported() -> (String, Value) {
    let t = ipc_chain().decode();
    let doc = export(&t, &build(&t), &chains(&t));
    let text = to_text(&doc);
    let back: Value = serde_json::from_str(&text).expect("the text form is JSON");
    assert_eq!(events(&back).len(), events(&doc).len());
    assert_eq!(back["otherData"], doc["otherData"]);
    assert_eq!(
        text.lines().count(),
        events(&doc).len() + 2,
        "one event a line"
    );
    (text, doc)
}

fn events(doc: &Value) -> &Vec<Value> {
    doc["traceEvents"].as_array().unwrap()
}

#[test]
fn three_hop_chain_is_one_complete_flow_across_three_threads() {
    let (text, doc) = exported();
    let stats = validate_json(&text).unwrap();
    assert_eq!(stats.events, events(&doc).len());
    assert_eq!(stats.flows.len(), 1);
    let f = &stats.flows[0];
    assert_eq!((f.id, f.hops, f.tracks, f.complete), (CAUSAL, 6, 3, true));
    let flow: Vec<&Value> = events(&doc)
        .iter()
        .filter(|e| matches!(e["ph"].as_str(), Some("s" | "t" | "f")))
        .collect();
    let phases: String = flow.iter().map(|e| e["ph"].as_str().unwrap()).collect();
    assert_eq!(phases, "stttttf");
    let tids: Vec<u64> = flow.iter().map(|e| e["tid"].as_u64().unwrap()).collect();
    assert_eq!(
        tids,
        [CLIENT, SERVER, SERVER, DRIVER, DRIVER, SERVER, CLIENT]
    );
    for e in &flow {
        assert_eq!(e["bp"], "e");
        assert_eq!(e["name"], FLOW_NAME);
        assert_eq!(e["cat"], FLOW_NAME);
        assert_eq!(e["pid"], THREADS_PID);
    }
}

#[test]
fn each_flow_event_follows_a_zero_length_slice_on_its_track() {
    let (_, doc) = exported();
    let ev = events(&doc);
    for (i, e) in ev.iter().enumerate() {
        if !matches!(e["ph"].as_str(), Some("s" | "t" | "f")) {
            continue;
        }
        let m = &ev[i - 1];
        assert_eq!(m["ph"], "X", "{m}");
        assert_eq!(m["dur"], 0);
        assert_eq!(
            (&m["ts"], &m["pid"], &m["tid"]),
            (&e["ts"], &e["pid"], &e["tid"])
        );
        assert_eq!(m["args"]["causal"], CAUSAL);
    }
    // The last point is the client's wake-up, on the client's track.
    let last = ev.iter().rev().find(|e| e["ph"] == "f").unwrap();
    assert_eq!(last["tid"], CLIENT);
    assert_eq!(last["ts"], 1.41);
}

#[test]
fn cpu_tracks_threads_and_metadata() {
    let (_, doc) = exported();
    let ev = events(&doc);
    let named = |name: &str, pid: u64, tid: u64| {
        ev.iter().any(|e| {
            e["ph"] == "M" && e["pid"] == pid && e["tid"] == tid && e["args"]["name"] == name
        })
    };
    assert!(named("cpu0", CPU_BASE, CPU_BASE));
    assert!(named("cpu1", CPU_BASE + 1, CPU_BASE + 1));
    assert!(named("threads", THREADS_PID, 0));
    assert!(named("T1(client)", THREADS_PID, CLIENT));
    assert!(named("T3(driver)", THREADS_PID, DRIVER));
    let run = ev
        .iter()
        .find(|e| e["cat"] == "running" && e["pid"] == CPU_BASE + 1)
        .unwrap();
    assert_eq!(
        (
            run["name"].as_str(),
            run["ts"].as_f64(),
            run["dur"].as_f64()
        ),
        (Some("T2(server)"), Some(0.1), Some(0.06))
    );
    let blocked = ev
        .iter()
        .find(|e| e["cat"] == "blocked" && e["tid"] == CLIENT)
        .unwrap();
    assert_eq!(blocked["name"], "reply");
    assert_eq!(blocked["args"]["woken by"], "T2(server)");
    let ready = ev
        .iter()
        .find(|e| e["cat"] == "ready" && e["tid"] == CLIENT)
        .unwrap();
    assert_eq!(ready["ts"], 1.41);
    // Everything else is an instant: the syscalls and the preemption.
    let instants: Vec<&str> = ev
        .iter()
        .filter(|e| e["ph"] == "i")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(instants, ["syscall.exit", "syscall.exit", "sched.preempt"]);
    let exit = ev.iter().find(|e| e["ph"] == "i").unwrap();
    assert_eq!(exit["args"]["nr"], "debug_write");
    // Non-metadata events are in timestamp order.
    let ts: Vec<f64> = ev
        .iter()
        .filter(|e| e["ph"] != "M")
        .map(|e| e["ts"].as_f64().unwrap())
        .collect();
    assert!(ts.is_sorted());
}

#[test]
fn large_thread_words_get_small_track_ids() {
    let mut s = crate::trace::synth::Synth::new(1);
    let big = (3 << 32) | 5;
    s.switch(0, 0, 0, big, 0).switch(10, 0, big, 0, 1);
    let t = s.decode();
    let doc = export(&t, &build(&t), &chains(&t));
    let name = events(&doc)
        .iter()
        .find(|e| e["name"] == "thread_name" && e["args"]["name"] == "T4.g3")
        .unwrap();
    assert_eq!(name["tid"], REMAP_BASE);
}
