//! Parsing the kernel command line: defaults, each option, and what is
//! refused.

use super::*;

#[test]
fn defaults() {
    let o = KernelOptions::parse("");
    assert_eq!(o.log, LogLevel::Info);
    assert_eq!(o.test, None);
    assert_eq!(o.problems().count(), 0);
}

#[test]
fn known_options() {
    let t = KernelOptions::parse("trace=sched,ipc trace.out=serial trace.ring=64");
    assert_eq!(t.trace, Some("sched,ipc"));
    assert_eq!(t.trace_out, Some("serial"));
    assert_eq!(t.trace_ring, Some("64"));
    assert_eq!(t.problems().count(), 0);
    let d = KernelOptions::parse("trace=a trace=b trace.out=");
    assert_eq!(d.trace, Some("b"));
    assert_eq!(
        d.problems().copied().collect::<std::vec::Vec<_>>(),
        [
            Problem::Duplicate("trace"),
            Problem::MissingValue("trace.out")
        ]
    );
    let o = KernelOptions::parse("  log=trace   test=panic ");
    assert_eq!(o.log, LogLevel::Trace);
    assert_eq!(o.test, Some("panic"));
    assert_eq!(o.problems().count(), 0);
}

#[test]
fn problems_are_reported_not_fatal() {
    let o = KernelOptions::parse("log=loud quiet test= log=warn test=a test=b");
    let p: Vec<_> = o.problems().copied().collect();
    assert_eq!(
        p,
        [
            Problem::BadValue {
                key: "log",
                value: "loud"
            },
            Problem::UnknownKey("quiet"),
            Problem::MissingValue("test"),
            Problem::Duplicate("log"),
            Problem::Duplicate("test"),
        ]
    );
    assert_eq!(o.log, LogLevel::Warn);
    assert_eq!(o.test, Some("b"));
}

#[test]
fn run_lists_programs_for_init() {
    let o = KernelOptions::parse("test=init run=hello,fault:null-read,,+spinner:100");
    let specs: Vec<_> = o.run_specs().collect();
    assert_eq!(specs, ["hello", "fault:null-read", "+spinner:100"]);
    assert_eq!(o.problems().count(), 0);
    assert_eq!(KernelOptions::parse("").run_specs().count(), 0);
    let p: Vec<_> = KernelOptions::parse("run= run=a run=b")
        .problems()
        .copied()
        .collect();
    assert_eq!(p, [Problem::MissingValue("run"), Problem::Duplicate("run")]);
}

#[test]
fn overflowing_problems_are_counted() {
    let o = KernelOptions::parse("a b c d e f g h i j");
    assert_eq!(o.problems().count(), MAX_PROBLEMS);
    assert_eq!(o.dropped_problems(), 2);
}

#[test]
fn levels_are_ordered_by_verbosity() {
    assert!(LogLevel::Error < LogLevel::Warn && LogLevel::Debug < LogLevel::Trace);
}

proptest::proptest! {
    #[test]
    fn arbitrary_input_never_panics(s in ".{0,300}") {
        let o = KernelOptions::parse(&s);
        proptest::prop_assert!(o.problems().count() <= MAX_PROBLEMS);
    }
}
