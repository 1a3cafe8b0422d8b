//! The derivation tree: copy, mint, move, delete, revoke (across spaces,
//! deep and wide), object destruction and whole spaces.

use super::*;

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
fn delete_one_empties_a_space_slot_by_slot_without_a_list() {
    let mut cs = CapSystem::new();
    let a = cs.create_cspace(8).unwrap();
    let b = cs.create_cspace(8).unwrap();
    cs.insert_original(a, 1, ep(FULL)).unwrap();
    cs.copy((a, 1), (a, 3)).unwrap();
    cs.copy((a, 3), (b, 0)).unwrap();
    cs.copy((a, 3), (a, 6)).unwrap();
    assert_eq!(cs.used_slot(a, 0), Ok(Some(1)));
    assert_eq!(cs.used_slot(a, 2), Ok(Some(3)));
    assert_eq!(cs.used_slot(a, 7), Ok(None));
    let mut gone = vec![];
    let mut from = 0;
    while let Some(slot) = cs.used_slot(a, from).unwrap() {
        gone.extend(cs.delete_one(a, slot).unwrap());
        from = slot + 1;
    }
    // The copy in the other space keeps the object, under no parent now.
    assert_eq!(gone, vec![]);
    assert_eq!(cs.parent(b, 0), Ok(None));
    assert_eq!(cs.count(EP), 1);
    assert_eq!(cs.destroy_cspace(a), Ok(vec![]));
    assert_eq!(cs.delete_one(b, 0), Ok(Some(EP)));
    assert_eq!(cs.delete_one(b, 0), Err(CapError::EmptySlot { slot: 0 }));
    assert_eq!(cs.used_slot(a, 0), Err(CapError::NoSuchCSpace(a)));
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

/// Issue 14: a revoke in bounded steps (the kernel lets other work run in
/// between) deletes the same capabilities as one revoke, whatever the
/// tree's shape.
#[test]
fn revoke_in_steps_of_at_most_max() {
    const N: u32 = 600;
    let (mut cs, s) = one(2 * N + 2);
    cs.insert_original(s, 0, ep(FULL)).unwrap();
    // A chain below slot 1 and a fan below slot 0.
    cs.copy((s, 0), (s, 1)).unwrap();
    for i in 1..N {
        cs.copy((s, i), (s, i + 1)).unwrap();
    }
    for i in N + 1..2 * N + 1 {
        cs.copy((s, 0), (s, i)).unwrap();
    }
    let mut whole = cs.clone();
    let want = whole.revoke(s, 0).unwrap();
    let (mut deleted, mut steps) = (0, 0);
    loop {
        let (r, more) = cs.revoke_some(s, 0, 64).unwrap();
        assert!(r.deleted <= 64);
        assert_eq!(r.emptied.len(), r.deleted);
        deleted += r.deleted;
        steps += 1;
        cs.check_invariants().unwrap();
        if !more {
            break;
        }
    }
    assert_eq!(deleted, want.deleted);
    assert_eq!(deleted, 2 * N as usize);
    assert_eq!(steps, (2 * N as usize).div_ceil(64));
    assert_eq!(cs.capabilities(), 1);
    assert_eq!(
        cs.revoke_some(s, 0, 64).unwrap(),
        (Revoked::default(), false)
    );
}

/// Issue 17: a hardware range splits into a child naming part of it (the
/// kernel's object); revoking the range revokes the part.
#[test]
fn hardware_ranges_split_into_children() {
    let (mut cs, s) = one(8);
    let ports = |object, rights| Capability {
        object: ObjectId(object),
        kind: ObjectType::IoPorts,
        rights,
        badge: 0,
    };
    cs.insert_original(s, 0, ports(10, Rights::ALL)).unwrap();
    cs.split((s, 0), (s, 1), ports(11, Rights::READ | Rights::WRITE))
        .unwrap();
    cs.check_invariants().unwrap();
    // No rights the range lacks, no other type, no split of a non-range.
    assert!(matches!(
        cs.split((s, 1), (s, 2), ports(12, Rights::ALL)),
        Err(CapError::MissingRight { .. })
    ));
    let mut other = ports(13, Rights::READ);
    other.kind = ObjectType::MmioRegion;
    assert!(cs.split((s, 0), (s, 2), other).is_err());
    cs.insert_original(s, 3, ep(FULL)).unwrap();
    assert!(matches!(
        cs.split((s, 3), (s, 4), ports(14, Rights::READ)),
        Err(CapError::WrongType { .. })
    ));
    // Splitting needs derive.
    assert!(matches!(
        cs.split((s, 1), (s, 5), ports(15, Rights::READ)),
        Err(CapError::MissingRight { .. })
    ));
    let r = cs.revoke(s, 0).unwrap();
    assert_eq!(r.deleted, 1);
    assert_eq!(r.destroyed, vec![ObjectId(11)]);
    cs.check_invariants().unwrap();
}
