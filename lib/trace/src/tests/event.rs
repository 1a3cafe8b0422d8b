//! The catalogue: numbers and names are unique and round-trip, every
//! event's arguments are named, and the crate docs list every event.

use crate::event::*;
use std::collections::BTreeSet;
use std::string::{String, ToString};
use std::vec::Vec;

/// `from_raw` and `from_name` invert `as` and `name`, names are unique,
/// and 0 is not assigned.
macro_rules! check_numbered {
    ($ty:ty, $repr:ty) => {{
        let mut names = BTreeSet::new();
        for &v in <$ty>::ALL {
            assert_eq!(<$ty>::from_raw(v as $repr), Some(v));
            assert_eq!(<$ty>::from_name(v.name()), Some(v));
            assert_eq!(v.to_string(), v.name());
            assert!(names.insert(v.name()), "{} named twice", v.name());
        }
        assert_eq!(<$ty>::from_name("nonsense"), None);
    }};
}

#[test]
fn numbers_and_names_round_trip() {
    check_numbered!(Category, u8);
    check_numbered!(EventType, u16);
    check_numbered!(SwitchReason, u64);
    check_numbered!(BlockReason, u64);
    check_numbered!(DenyReason, u64);
    check_numbered!(FaultCause, u64);
}

#[test]
fn zero_is_never_an_event_or_reason() {
    assert_eq!(EventType::from_raw(0), None);
    assert_eq!(SwitchReason::from_raw(0), None);
    assert_eq!(BlockReason::from_raw(0), None);
    assert_eq!(DenyReason::from_raw(0), None);
    assert_eq!(FaultCause::from_raw(0), None);
}

#[test]
fn event_names_are_category_dot_verb() {
    for e in EventType::ALL {
        let (category, verb) = e.name().split_once('.').unwrap();
        // `trace=CATEGORY` shows exactly the events named CATEGORY.*.
        assert_eq!(
            category,
            e.category().name(),
            "{e} is not named after its category"
        );
        for part in [category, verb] {
            assert!(!part.is_empty(), "{e}");
            assert!(
                part.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{e}"
            );
        }
    }
}

#[test]
fn arguments_are_named_once() {
    for e in EventType::ALL {
        let names: BTreeSet<_> = e.args().iter().map(|a| a.name).collect();
        assert_eq!(names.len(), e.args().len(), "{e} repeats an argument");
        assert!(e.args().len() <= MAX_ARGS);
    }
}

#[test]
fn event_numbers_sit_in_their_category_block() {
    for &e in EventType::ALL {
        let block = (e as u16) / 16;
        let expected = match e.category() {
            Category::Sched => 0,
            Category::Syscall => 1,
            Category::Ipc => 2,
            Category::Cap => 3,
            Category::Mem => 4,
            Category::Fault => 5,
            Category::Irq => 6,
            Category::Process => 7,
            Category::Trace => 8,
        };
        assert_eq!(block, expected, "{e} is outside its category's block");
    }
}

#[test]
fn every_category_has_events() {
    for &c in Category::ALL {
        assert!(
            EventType::ALL.iter().any(|e| e.category() == c),
            "no events in {c}"
        );
    }
}

#[test]
fn the_issue_events_exist() {
    for name in [
        "sched.switch",
        "sched.block",
        "sched.wake",
        "sched.preempt",
        "sched.migrate",
        "syscall.enter",
        "syscall.exit",
        "ipc.send",
        "ipc.recv",
        "ipc.reply",
        "ipc.call",
        "ipc.signal",
        "ipc.wait",
        "cap.denied",
        "cap.revoke",
        "fault.page",
        "mem.oom",
        "irq.enter",
        "process.spawn",
        "process.exit",
        "process.thread_start",
        "process.thread_exit",
        "process.limit",
        "trace.lost",
    ] {
        assert!(EventType::from_name(name).is_some(), "{name} missing");
    }
}

#[test]
fn categories_sets() {
    assert_eq!(Categories::ALL.bits(), 0x1ff);
    assert_eq!(Categories::ALL.iter().count(), Category::ALL.len());
    assert!(!Categories::DEFAULT.contains(Category::Syscall));
    assert!(!Categories::DEFAULT.contains(Category::Irq));
    assert!(Categories::DEFAULT.contains(Category::Trace));
    assert_eq!(Categories::from_bits(1 << 9), None);
    assert_eq!(Categories::from_bits_truncate(u32::MAX), Categories::ALL);
    let s = Category::Sched.bit() | Category::Irq.bit();
    assert_eq!(s.to_string(), "sched,irq");
    assert_eq!((s - Category::Irq.bit()).to_string(), "sched");
    assert_eq!(Categories::NONE.to_string(), "none");
    assert_eq!(Categories::ALL.to_string(), "all");
    assert_eq!(std::format!("{s:?}"), "Categories(sched,irq)");
    assert_eq!(Categories::from(Category::Ipc), Category::Ipc.bit());
}

/// The table rows of the crate docs: `(name, category, argument names)`.
fn documented_events() -> Vec<(String, String, Vec<String>)> {
    include_str!("../lib.rs")
        .lines()
        .filter_map(|l| l.strip_prefix("//! | `"))
        .filter_map(|row| {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let name = cells[0].strip_suffix('`')?;
            EventType::ALL.iter().find(|e| e.name() == name)?;
            let args = cells[2]
                .split(',')
                .map(|a| a.trim().split([' ', '(']).next().unwrap().to_string())
                .filter(|a| a != "—")
                .collect();
            Some((String::from(name), cells[1].to_string(), args))
        })
        .collect()
}

#[test]
fn crate_docs_list_every_event_with_its_arguments() {
    let documented = documented_events();
    assert_eq!(documented.len(), EventType::ALL.len(), "{documented:?}");
    for (e, (name, category, args)) in EventType::ALL.iter().zip(&documented) {
        assert_eq!(e.name(), name, "docs list events in catalogue order");
        assert_eq!(e.category().name(), category, "{e}");
        let expected: Vec<&str> = e.args().iter().map(|a| a.name).collect();
        assert_eq!(args, &expected, "{e}");
    }
}
