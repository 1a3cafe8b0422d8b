//! Unit tests, one behaviour each: every error, the derivation
//! operations, revoke across spaces and over deep and wide trees, object
//! destruction, badges, rights and formatting.

use super::*;
use std::string::ToString;
use std::vec;
use std::vec::Vec;

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

// ----- rights and formatting -----

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

// ----- errors -----

#[test]
fn no_such_space_for_unknown_and_destroyed_spaces() {
    let (mut cs, s) = one(4);
    let bogus = CSpaceId {
        index: 7,
        generation: 0,
    };
    assert_eq!(
        cs.lookup(bogus, 0, None, Rights::NONE),
        Err(CapError::NoSuchCSpace(bogus))
    );
    cs.destroy_cspace(s).unwrap();
    assert_eq!(cs.destroy_cspace(s), Err(CapError::NoSuchCSpace(s)));
    // The entry is reused with a new generation; the old id stays stale.
    let s2 = cs.create_cspace(4).unwrap();
    assert_eq!(s2.index, s.index);
    assert_ne!(s2.generation, s.generation);
    refused(&mut cs, CapError::NoSuchCSpace(s), |cs| {
        cs.insert_original(s, 0, ep(FULL))
    });
    assert_eq!(cs.capacity(s2), Ok(4));
}

#[test]
fn slot_out_of_range() {
    let (mut cs, s) = one(4);
    refused(&mut cs, CapError::SlotOutOfRange { slot: 4 }, |cs| {
        cs.insert_original(s, 4, ep(FULL))
    });
    assert_eq!(
        cs.lookup(s, u32::MAX, None, Rights::NONE),
        Err(CapError::SlotOutOfRange { slot: u32::MAX })
    );
}

#[test]
fn empty_and_occupied_slots() {
    let (mut cs, s) = one(4);
    assert_eq!(
        cs.lookup(s, 0, None, Rights::NONE),
        Err(CapError::EmptySlot { slot: 0 })
    );
    assert_eq!(cs.delete(s, 0), Err(CapError::EmptySlot { slot: 0 }));
    assert_eq!(cs.revoke(s, 0), Err(CapError::EmptySlot { slot: 0 }));
    cs.insert_original(s, 0, ep(FULL)).unwrap();
    cs.insert_original(s, 1, Capability::new(FRAME, ObjectType::Frame, FULL))
        .unwrap();
    refused(&mut cs, CapError::SlotOccupied { slot: 1 }, |cs| {
        cs.copy((s, 0), (s, 1))
    });
    refused(&mut cs, CapError::SlotOccupied { slot: 0 }, |cs| {
        cs.move_cap((s, 0), (s, 0))
    });
    refused(&mut cs, CapError::EmptySlot { slot: 2 }, |cs| {
        cs.move_cap((s, 2), (s, 3))
    });
}

#[test]
fn lookup_checks_type_then_rights() {
    let (mut cs, s) = one(4);
    cs.insert_original(s, 0, ep(Rights::SEND | Rights::DERIVE))
        .unwrap();
    assert_eq!(
        cs.lookup(s, 0, Some(ObjectType::Frame), Rights::READ),
        Err(CapError::WrongType {
            slot: 0,
            expected: ObjectType::Frame,
            found: ObjectType::Endpoint
        })
    );
    assert_eq!(
        cs.lookup(
            s,
            0,
            Some(ObjectType::Endpoint),
            Rights::SEND | Rights::RECEIVE | Rights::READ
        ),
        Err(CapError::MissingRight {
            slot: 0,
            right: Rights::RECEIVE | Rights::READ
        })
    );
    let cap = cs
        .lookup(s, 0, Some(ObjectType::Endpoint), Rights::SEND)
        .unwrap();
    assert_eq!(cap, ep(Rights::SEND | Rights::DERIVE));
    assert_eq!(cs.lookup(s, 0, None, Rights::NONE), Ok(cap));
}

#[test]
fn without_derive_no_copy_or_mint() {
    let (mut cs, s) = one(4);
    cs.insert_original(s, 0, ep(FULL.difference(Rights::DERIVE)))
        .unwrap();
    let missing = CapError::MissingRight {
        slot: 0,
        right: Rights::DERIVE,
    };
    refused(&mut cs, missing, |cs| cs.copy((s, 0), (s, 1)));
    refused(&mut cs, missing, |cs| {
        cs.mint((s, 0), (s, 1), Rights::SEND, None)
    });
    // Moving needs no rights.
    cs.move_cap((s, 0), (s, 1)).unwrap();
}

#[test]
fn mint_cannot_rebadge() {
    let (mut cs, s) = one(4);
    cs.insert_original(s, 0, ep(FULL)).unwrap();
    cs.mint((s, 0), (s, 1), FULL, Some(7)).unwrap();
    refused(&mut cs, CapError::BadgeAlreadySet { slot: 1 }, |cs| {
        cs.mint((s, 1), (s, 2), FULL, Some(8))
    });
    refused(&mut cs, CapError::BadgeAlreadySet { slot: 1 }, |cs| {
        cs.mint((s, 1), (s, 2), FULL, Some(0))
    });
    // Without a badge it is a plain restricting mint; the badge stays.
    cs.mint((s, 1), (s, 2), Rights::SEND, None).unwrap();
    assert_eq!(cs.lookup(s, 2, None, Rights::NONE).unwrap().badge, 7);
}

#[test]
fn table_full_at_the_limits() {
    let mut cs = CapSystem::with_limits(Limits {
        max_cspaces: 1,
        max_capabilities: 2,
    });
    let s = cs.create_cspace(4).unwrap();
    assert_eq!(cs.create_cspace(4), Err(CapError::TableFull));
    cs.insert_original(s, 0, ep(FULL)).unwrap();
    cs.copy((s, 0), (s, 1)).unwrap();
    refused(&mut cs, CapError::TableFull, |cs| cs.copy((s, 0), (s, 2)));
    refused(&mut cs, CapError::TableFull, |cs| {
        cs.insert_original(s, 2, Capability::new(FRAME, ObjectType::Frame, FULL))
    });
    cs.delete(s, 1).unwrap();
    cs.copy((s, 0), (s, 2)).unwrap();

    let (mut cs, s) = one(2);
    assert_eq!(cs.free_slot(s, 0), Ok(0));
    cs.insert_original(s, 0, ep(FULL)).unwrap();
    assert_eq!(cs.free_slot(s, 0), Ok(1));
    assert_eq!(cs.free_slot(s, 1), Ok(1));
    // Searching from the end of the table (or beyond) finds nothing.
    assert_eq!(cs.free_slot(s, 2), Err(CapError::TableFull));
    assert_eq!(cs.free_slot(s, u32::MAX), Err(CapError::TableFull));
    cs.copy((s, 0), (s, 1)).unwrap();
    assert_eq!(cs.free_slot(s, 0), Err(CapError::TableFull));
}

#[test]
fn one_original_per_object() {
    let (mut cs, s) = one(4);
    cs.insert_original(s, 0, ep(FULL)).unwrap();
    refused(&mut cs, CapError::ObjectExists(EP), |cs| {
        cs.insert_original(s, 1, ep(FULL))
    });
    // Once destroyed, the kernel may reuse the id.
    assert_eq!(cs.delete(s, 0), Ok(vec![EP]));
    cs.insert_original(s, 1, ep(FULL)).unwrap();
}

#[test]
fn retype_needs_a_writable_memory() {
    let (mut cs, s) = one(8);
    cs.insert_original(s, 0, ep(FULL)).unwrap();
    cs.insert_original(s, 1, Capability::new(MEM, ObjectType::Memory, Rights::READ))
        .unwrap();
    let frame = Capability::new(FRAME, ObjectType::Frame, FULL);
    refused(
        &mut cs,
        CapError::WrongType {
            slot: 0,
            expected: ObjectType::Memory,
            found: ObjectType::Endpoint,
        },
        |cs| cs.retype((s, 0), (s, 2), frame),
    );
    refused(
        &mut cs,
        CapError::MissingRight {
            slot: 1,
            right: Rights::WRITE,
        },
        |cs| cs.retype((s, 1), (s, 2), frame),
    );
}

// ----- basics -----

#[test]
fn copy_keeps_rights_and_badge_as_a_child() {
    let (mut cs, s) = one(4);
    cs.insert_original(s, 0, ep(FULL)).unwrap();
    cs.mint((s, 0), (s, 1), FULL, Some(99)).unwrap();
    cs.copy((s, 1), (s, 2)).unwrap();
    let original = cs.lookup(s, 1, None, Rights::NONE).unwrap();
    assert_eq!(cs.lookup(s, 2, None, Rights::NONE), Ok(original));
    assert_eq!(original.badge, 99);
    assert_eq!(cs.parent(s, 2), Ok(Some((s, 1))));
    assert_eq!(cs.parent(s, 1), Ok(Some((s, 0))));
    assert_eq!(cs.parent(s, 0), Ok(None));
    assert_eq!(cs.count(EP), 3);
    cs.check_invariants().unwrap();
}

#[test]
fn mint_never_adds_rights() {
    let (mut cs, s) = one(4);
    cs.insert_original(s, 0, ep(Rights::SEND | Rights::DERIVE))
        .unwrap();
    cs.mint((s, 0), (s, 1), Rights::ALL, None).unwrap();
    assert_eq!(
        cs.lookup(s, 1, None, Rights::NONE).unwrap().rights,
        Rights::SEND | Rights::DERIVE
    );
    cs.mint((s, 1), (s, 2), Rights::SEND | Rights::RECEIVE, Some(5))
        .unwrap();
    let minted = cs.lookup(s, 2, None, Rights::NONE).unwrap();
    assert_eq!(minted.rights, Rights::SEND);
    assert_eq!(minted.badge, 5);
    // The minted capability lacks DERIVE, so it is a leaf for good.
    assert_eq!(
        cs.copy((s, 2), (s, 3)),
        Err(CapError::MissingRight {
            slot: 2,
            right: Rights::DERIVE
        })
    );
}

#[test]
fn move_keeps_node_badge_and_children() {
    let mut cs = CapSystem::new();
    let a = cs.create_cspace(4).unwrap();
    let b = cs.create_cspace(4).unwrap();
    cs.insert_original(a, 0, ep(FULL)).unwrap();
    cs.mint((a, 0), (a, 1), FULL, Some(3)).unwrap();
    cs.copy((a, 1), (a, 2)).unwrap();
    cs.move_cap((a, 1), (b, 3)).unwrap();
    assert_eq!(
        cs.lookup(a, 1, None, Rights::NONE),
        Err(CapError::EmptySlot { slot: 1 })
    );
    assert_eq!(cs.lookup(b, 3, None, Rights::NONE).unwrap().badge, 3);
    assert_eq!(cs.parent(b, 3), Ok(Some((a, 0))));
    assert_eq!(cs.parent(a, 2), Ok(Some((b, 3))));
    assert_eq!(cs.count(EP), 3);
    // Revoking the moved capability still finds its child.
    assert_eq!(cs.revoke(b, 3).unwrap().deleted, 1);
    assert_eq!(
        cs.lookup(a, 2, None, Rights::NONE),
        Err(CapError::EmptySlot { slot: 2 })
    );
    cs.check_invariants().unwrap();
}

#[test]
fn delete_reparents_children_to_the_grandparent() {
    let (mut cs, s) = one(8);
    cs.insert_original(s, 0, ep(FULL)).unwrap();
    cs.copy((s, 0), (s, 1)).unwrap();
    cs.copy((s, 1), (s, 2)).unwrap();
    cs.copy((s, 1), (s, 3)).unwrap();
    cs.copy((s, 0), (s, 4)).unwrap();
    assert_eq!(cs.delete(s, 1), Ok(vec![]));
    assert_eq!(cs.parent(s, 2), Ok(Some((s, 0))));
    assert_eq!(cs.parent(s, 3), Ok(Some((s, 0))));
    cs.check_invariants().unwrap();
    // Deleting a root makes its children roots.
    cs.delete(s, 0).unwrap();
    assert_eq!(cs.parent(s, 2), Ok(None));
    assert_eq!(cs.parent(s, 4), Ok(None));
    assert_eq!(cs.count(EP), 3);
    cs.check_invariants().unwrap();
}

#[test]
fn last_capability_destroys_the_object_once() {
    let (mut cs, s) = one(4);
    cs.insert_original(s, 0, ep(FULL)).unwrap();
    cs.copy((s, 0), (s, 1)).unwrap();
    cs.copy((s, 1), (s, 2)).unwrap();
    assert_eq!(cs.delete(s, 1), Ok(vec![]));
    assert_eq!(cs.delete(s, 0), Ok(vec![]));
    assert_eq!(cs.count(EP), 1);
    assert_eq!(cs.delete(s, 2), Ok(vec![EP]));
    assert_eq!(cs.count(EP), 0);
    assert_eq!(cs.capabilities(), 0);
    cs.check_invariants().unwrap();
}

#[test]
fn revoke_keeps_the_capability_and_its_siblings() {
    let (mut cs, s) = one(8);
    cs.insert_original(s, 0, ep(FULL)).unwrap();
    cs.copy((s, 0), (s, 1)).unwrap();
    cs.copy((s, 1), (s, 2)).unwrap();
    cs.copy((s, 2), (s, 3)).unwrap();
    cs.copy((s, 0), (s, 4)).unwrap();
    let r = cs.revoke(s, 1).unwrap();
    assert_eq!(r.deleted, 2);
    assert!(r.destroyed.is_empty());
    assert!(cs.lookup(s, 1, None, Rights::NONE).is_ok());
    assert!(cs.lookup(s, 4, None, Rights::NONE).is_ok());
    for slot in [2, 3] {
        assert_eq!(
            cs.lookup(s, slot, None, Rights::NONE),
            Err(CapError::EmptySlot { slot })
        );
    }
    assert_eq!(cs.count(EP), 3);
    // Nothing left to revoke.
    assert_eq!(cs.revoke(s, 1).unwrap(), Revoked::default());
    cs.check_invariants().unwrap();
}

#[test]
fn revoke_across_three_spaces() {
    let mut cs = CapSystem::new();
    let server = cs.create_cspace(4).unwrap();
    let a = cs.create_cspace(4).unwrap();
    let b = cs.create_cspace(4).unwrap();
    cs.insert_original(server, 0, ep(FULL)).unwrap();
    cs.mint((server, 0), (a, 0), Rights::SEND | Rights::DERIVE, Some(1))
        .unwrap();
    cs.copy((a, 0), (b, 0)).unwrap();
    cs.copy((b, 0), (a, 1)).unwrap();
    cs.mint((server, 0), (b, 1), Rights::SEND, Some(2)).unwrap();
    cs.copy((server, 0), (server, 1)).unwrap();
    let r = cs.revoke(server, 0).unwrap();
    assert_eq!(r.deleted, 5);
    assert!(r.destroyed.is_empty());
    for (space, slot) in [(a, 0), (a, 1), (b, 0), (b, 1), (server, 1)] {
        assert_eq!(
            cs.lookup(space, slot, None, Rights::NONE),
            Err(CapError::EmptySlot { slot })
        );
    }
    assert_eq!(cs.count(EP), 1);
    cs.check_invariants().unwrap();
}

#[test]
fn revoke_a_long_chain_without_recursion() {
    const N: u32 = 2_000;
    let (mut cs, s) = one(N + 1);
    cs.insert_original(s, 0, ep(FULL)).unwrap();
    for i in 0..N {
        cs.copy((s, i), (s, i + 1)).unwrap();
    }
    cs.check_invariants().unwrap();
    let r = cs.revoke(s, 0).unwrap();
    assert_eq!(r.deleted, N as usize);
    assert_eq!(cs.count(EP), 1);
    assert_eq!(cs.capabilities(), 1);
    cs.check_invariants().unwrap();
}

#[test]
fn revoke_a_wide_fan() {
    const N: u32 = 2_000;
    let (mut cs, s) = one(N + 1);
    cs.insert_original(s, 0, ep(FULL)).unwrap();
    for i in 1..=N {
        cs.copy((s, 0), (s, i)).unwrap();
    }
    let r = cs.revoke(s, 0).unwrap();
    assert_eq!(r.deleted, N as usize);
    assert_eq!(cs.capabilities(), 1);
    cs.check_invariants().unwrap();
}

#[test]
fn delete_in_a_long_chain_and_wide_fan() {
    const N: u32 = 1_000;
    let (mut cs, s) = one(2 * N + 2);
    cs.insert_original(s, 0, ep(FULL)).unwrap();
    for i in 0..N {
        cs.copy((s, i), (s, i + 1)).unwrap();
    }
    for i in N + 1..=2 * N {
        cs.copy((s, 1), (s, i)).unwrap();
    }
    // Slot 1 has N children: they all move up to slot 0.
    cs.delete(s, 1).unwrap();
    assert_eq!(cs.parent(s, 2), Ok(Some((s, 0))));
    assert_eq!(cs.parent(s, 2 * N), Ok(Some((s, 0))));
    cs.check_invariants().unwrap();
    assert_eq!(cs.revoke(s, 0).unwrap().deleted, 2 * N as usize - 1);
}

#[test]
fn revoking_memory_destroys_what_was_made_from_it() {
    let mut cs = CapSystem::new();
    let root = cs.create_cspace(8).unwrap();
    let app = cs.create_cspace(8).unwrap();
    cs.insert_original(root, 0, Capability::new(MEM, ObjectType::Memory, FULL))
        .unwrap();
    cs.copy((root, 0), (app, 0)).unwrap();
    cs.retype((app, 0), (app, 1), ep(FULL)).unwrap();
    cs.retype(
        (app, 0),
        (app, 2),
        Capability::new(FRAME, ObjectType::Frame, FULL),
    )
    .unwrap();
    cs.copy((app, 1), (root, 1)).unwrap();
    cs.mint((app, 2), (app, 3), Rights::READ, None).unwrap();
    cs.check_invariants().unwrap();
    let mut r = cs.revoke(root, 0).unwrap();
    r.destroyed.sort();
    assert_eq!(r.deleted, 5);
    assert_eq!(r.destroyed, vec![EP, FRAME]);
    assert_eq!(cs.count(MEM), 1);
    assert_eq!(cs.capabilities(), 1);
    cs.check_invariants().unwrap();
}

#[test]
fn destroy_space_deletes_each_capability() {
    let mut cs = CapSystem::new();
    let a = cs.create_cspace(4).unwrap();
    let b = cs.create_cspace(4).unwrap();
    cs.insert_original(a, 0, ep(FULL)).unwrap();
    cs.copy((a, 0), (a, 1)).unwrap();
    cs.copy((a, 1), (b, 0)).unwrap();
    cs.insert_original(a, 2, Capability::new(FRAME, ObjectType::Frame, FULL))
        .unwrap();
    cs.copy((a, 2), (a, 3)).unwrap();
    // The frame's two capabilities are both here: destroyed, once.
    assert_eq!(cs.destroy_cspace(a), Ok(vec![FRAME]));
    assert_eq!(cs.count(EP), 1);
    assert_eq!(cs.parent(b, 0), Ok(None));
    assert_eq!(cs.cspaces(), 1);
    assert_eq!(cs.destroy_cspace(b), Ok(vec![EP]));
    assert_eq!(cs.capabilities(), 0);
    cs.check_invariants().unwrap();
}

#[test]
fn zero_capacity_space() {
    let (mut cs, s) = one(0);
    assert_eq!(cs.free_slot(s, 0), Err(CapError::TableFull));
    assert_eq!(
        cs.insert_original(s, 0, ep(FULL)),
        Err(CapError::SlotOutOfRange { slot: 0 })
    );
    assert_eq!(cs.destroy_cspace(s), Ok(Vec::new()));
}

#[test]
fn object_type_numbers_round_trip_and_skip_zero() {
    assert_eq!(ObjectType::from_raw(0), None);
    assert_eq!(ObjectType::from_raw(15), None);
    for (i, t) in ObjectType::ALL.iter().enumerate() {
        assert_eq!(t.raw() as usize, i + 1);
        assert_eq!(ObjectType::from_raw(t.raw()), Some(*t));
    }
}
