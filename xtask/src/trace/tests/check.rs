use super::*;

fn doc(events: &str) -> String {
    format!("{{\"traceEvents\":[{events}]}}")
}

const FLOW3: &str = r#"
    {"ph":"X","pid":1,"tid":2,"ts":1,"dur":0},
    {"ph":"s","name":"ipc","cat":"ipc","id":7,"pid":1,"tid":2,"ts":1,"bp":"e"},
    {"ph":"t","name":"ipc","cat":"ipc","id":7,"pid":1,"tid":3,"ts":2,"bp":"e"},
    {"ph":"f","name":"ipc","cat":"ipc","id":7,"pid":1,"tid":4,"ts":3,"bp":"e"},
    {"ph":"s","name":"ipc","cat":"ipc","id":8,"pid":1,"tid":2,"ts":5,"bp":"e"},
    {"ph":"M","name":"thread_name","pid":1,"tid":2,"args":{"name":"x"}}
"#;

#[test]
fn flows_are_found_and_measured() {
    let s = validate_json(&doc(FLOW3)).unwrap();
    assert_eq!(s.events, 6);
    assert_eq!(
        s.flows,
        [
            Flow {
                id: 7,
                hops: 2,
                tracks: 3,
                complete: true
            },
            Flow {
                id: 8,
                hops: 0,
                tracks: 1,
                complete: false
            },
        ]
    );
}

#[test]
fn malformed_documents_are_refused() {
    for bad in [
        "nope".to_string(),
        "[]".to_string(),
        "{\"traceEvents\":{}}".to_string(),
        doc(r#"{"pid":1,"tid":1,"ts":0}"#),
        doc(r#"{"ph":"i","pid":"a","tid":1,"ts":0}"#),
        doc(r#"{"ph":"i","pid":1,"tid":1}"#),
        doc(r#"{"ph":"X","pid":1,"tid":1,"ts":0,"dur":-1}"#),
        doc(r#"{"ph":"s","pid":1,"tid":1,"ts":0,"id":"x"}"#),
    ] {
        assert!(validate_json(&bad).is_err(), "{bad}");
    }
}

#[test]
fn judge_checks_text_and_flows() {
    let text = "1.000 cpu0 T1(a) ipc.call thread=2\n";
    let mut e = Expectations {
        log: vec!["ipc.call".into()],
        absent: vec!["cap.denied".into()],
        ..Expectations::default()
    };
    assert!(judge(&e, text, None).is_empty());
    e.log.push("ipc.reply".into());
    e.absent.push("T1(a)".into());
    assert_eq!(
        judge(&e, text, None),
        ["trace lacks `ipc.reply`", "trace contains `T1(a)`"]
    );
    let e = Expectations {
        json: true,
        flows: Some(2),
        flow_threads: 3,
        ..Expectations::default()
    };
    let json = doc(FLOW3);
    assert!(judge(&e, "", Some(&json)).is_empty());
    let more = Expectations {
        flows: Some(3),
        ..e.clone()
    };
    let why = judge(&more, "", Some(&json));
    assert_eq!(why.len(), 1);
    assert!(
        why[0].contains("best: causal 7 with 2 hops across 3 threads"),
        "{why:?}"
    );
    let four = Expectations {
        flow_threads: 4,
        ..e.clone()
    };
    assert_eq!(judge(&four, "", Some(&json)).len(), 1);
    assert!(judge(&e, "", Some("{"))[0].contains("malformed"));
    assert_eq!(judge(&e, "", None), ["no JSON export"]);
}
