//! Every error: unknown spaces, slots, types and rights, derive, badges,
//! full tables, originals and retype.

use super::*;

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
