//! Unit tests, one behaviour each, by topic: `errors` (every error),
//! `derivation` (the derivation operations, revoke across spaces and over
//! deep and wide trees, object destruction, badges), `format` (rights and
//! formatting); `props` holds the property tests. The helpers here are
//! shared.

use super::*;
use std::string::ToString;
use std::vec;
use std::vec::Vec;

mod derivation;
mod errors;
mod format;
mod props;

const EP: ObjectId = ObjectId(1);
const FRAME: ObjectId = ObjectId(2);
const MEM: ObjectId = ObjectId(3);
const FULL: Rights = Rights::ALL;

fn ep(rights: Rights) -> Capability {
    Capability::new(EP, ObjectType::Endpoint, rights)
}

/// A system with one space of `capacity` slots.
fn one(capacity: u32) -> (CapSystem, CSpaceId) {
    let mut cs = CapSystem::new();
    let s = cs.create_cspace(capacity).unwrap();
    (cs, s)
}

/// Runs `op` expecting `err`, and checks it changed nothing.
fn refused(
    cs: &mut CapSystem,
    err: CapError,
    op: impl FnOnce(&mut CapSystem) -> Result<(), CapError>,
) {
    let before = std::format!("{cs:?}");
    assert_eq!(op(cs), Err(err));
    assert_eq!(
        std::format!("{cs:?}"),
        before,
        "a failed call changed the system"
    );
    cs.check_invariants().unwrap();
}
