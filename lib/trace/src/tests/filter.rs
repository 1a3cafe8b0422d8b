//! `trace=` values and the run-time switch.

use crate::event::{Categories, Category};
use crate::filter::*;
use std::string::ToString;

fn cats(list: &[Category]) -> Categories {
    list.iter().fold(Categories::NONE, |s, c| s | c.bit())
}

#[test]
fn names_add_categories() {
    use Category::*;
    assert_eq!(parse_spec("sched,ipc,cap"), Ok(cats(&[Sched, Ipc, Cap])));
    assert_eq!(parse_spec("irq"), Ok(cats(&[Irq])));
    assert_eq!(parse_spec(" sched , ipc "), Ok(cats(&[Sched, Ipc])));
    assert_eq!(parse_spec("ipc,ipc"), Ok(cats(&[Ipc])));
}

#[test]
fn all_none_default() {
    assert_eq!(parse_spec("all"), Ok(Categories::ALL));
    assert_eq!(parse_spec("none"), Ok(Categories::NONE));
    assert_eq!(parse_spec("default"), Ok(Categories::DEFAULT));
    assert_eq!(
        parse_spec("default,syscall"),
        Ok(Categories::DEFAULT | Category::Syscall.bit())
    );
    assert_eq!(parse_spec("all,none,irq"), Ok(Category::Irq.bit()));
}

#[test]
fn removals() {
    assert_eq!(
        parse_spec("all,-irq"),
        Ok(Categories::ALL - Category::Irq.bit())
    );
    assert_eq!(
        parse_spec("-mem"),
        Ok(Categories::DEFAULT - Category::Mem.bit()),
        "a list starting with a removal starts from the defaults"
    );
    assert_eq!(parse_spec("sched,-sched"), Ok(Categories::NONE));
    assert_eq!(
        parse_spec("all,-default"),
        Ok(cats(&[Category::Syscall, Category::Irq]))
    );
    assert_eq!(parse_spec("-all"), Ok(Categories::NONE));
}

#[test]
fn errors_name_the_word() {
    assert_eq!(parse_spec(""), Err(SpecError::Empty));
    assert_eq!(parse_spec("  "), Err(SpecError::Empty));
    assert_eq!(parse_spec("sched,,ipc"), Err(SpecError::EmptyWord));
    assert_eq!(parse_spec("sched,"), Err(SpecError::EmptyWord));
    assert_eq!(parse_spec("-"), Err(SpecError::EmptyWord));
    assert_eq!(
        parse_spec("sched,ipcc"),
        Err(SpecError::UnknownName("ipcc"))
    );
    assert_eq!(parse_spec("-none"), Err(SpecError::UnknownName("-none")));
    assert_eq!(parse_spec("Sched"), Err(SpecError::UnknownName("Sched")));
    assert_eq!(
        SpecError::UnknownName("ipcc").to_string(),
        "unknown trace category `ipcc` (known: sched syscall ipc cap mem fault irq process trace all none default)"
    );
    assert_eq!(SpecError::Empty.to_string(), "empty trace category list");
    assert_eq!(
        SpecError::EmptyWord.to_string(),
        "empty word in trace category list"
    );
}

#[test]
fn filter_switches_categories() {
    let f = Filter::new(Category::Sched.bit());
    assert!(f.enabled(Category::Sched));
    assert!(!f.enabled(Category::Irq));
    f.enable(Category::Irq.bit());
    assert!(f.enabled(Category::Irq));
    f.disable(Category::Sched.bit());
    assert!(!f.enabled(Category::Sched));
    f.set(Categories::ALL);
    assert_eq!(f.get(), Categories::ALL);
}

#[test]
fn trace_events_cannot_be_switched_off() {
    let f = Filter::new(Categories::NONE);
    assert!(f.enabled(Category::Trace));
    f.set(Categories::NONE);
    assert!(f.enabled(Category::Trace));
    f.disable(Categories::ALL);
    assert!(f.enabled(Category::Trace));
    assert_eq!(f.get(), Category::Trace.bit());
}

#[test]
fn default_filter_is_the_default_set() {
    assert_eq!(Filter::default().get(), Categories::DEFAULT);
}
