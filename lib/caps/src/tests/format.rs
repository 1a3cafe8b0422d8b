//! Rights and errors as text, and rights as sets.

use super::*;

#[test]
fn rights_display_letters_then_names() {
    assert_eq!(Rights::NONE.to_string(), "-----");
    assert_eq!(
        Rights::ALL.to_string(),
        "rwxgd+send+receive+signal+wait+control"
    );
    assert_eq!(
        (Rights::READ | Rights::DERIVE | Rights::SEND).to_string(),
        "r---d+send"
    );
    assert_eq!(std::format!("{:?}", Rights::WRITE), "Rights(-w---)");
}

#[test]
fn rights_set_operations() {
    let rw = Rights::READ | Rights::WRITE;
    assert!(rw.contains(Rights::READ));
    assert!(!Rights::READ.contains(rw));
    assert_eq!(rw & Rights::WRITE, Rights::WRITE);
    assert_eq!(rw.difference(Rights::READ), Rights::WRITE);
    assert_eq!(Rights::from_bits(1 << 10), None);
    assert_eq!(Rights::from_bits(3), Some(rw));
    assert_eq!(Rights::from_bits_truncate(u32::MAX), Rights::ALL);
    assert!(Rights::NONE.is_empty());
}

#[test]
fn errors_display_what_went_wrong() {
    let e = CapError::MissingRight {
        slot: 4,
        right: Rights::DERIVE,
    };
    assert_eq!(e.to_string(), "the capability in slot 4 lacks rights ----d");
    let e = CapError::WrongType {
        slot: 1,
        expected: ObjectType::Frame,
        found: ObjectType::Endpoint,
    };
    assert_eq!(
        e.to_string(),
        "slot 1 holds the wrong type: endpoint, not frame"
    );
    let c = Capability {
        badge: 0x2a,
        ..ep(Rights::SEND)
    };
    assert_eq!(c.to_string(), "object 1 (endpoint) -----+send badge 0x2a");
}
