//! Property tests: random operation sequences over 3 spaces of 8 slots and
//! a few objects, against a simple model (a flat list of nodes with parent
//! indices; descendants found by walking up). After every step: the
//! results agree with the model, `check_invariants` holds, rights never
//! grow along a derivation edge, revoked descendants are gone from every
//! space, objects are reported destroyed exactly when their count reaches
//! 0, and a failed call left the system byte-for-byte unchanged.

use crate::*;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::format;
use std::vec::Vec;

const SPACES: usize = 3;
const SLOTS: u32 = 8;
const OBJECTS: u64 = 6;

fn kind_of(object: u64) -> ObjectType {
    match object {
        1 | 2 => ObjectType::Memory,
        3 => ObjectType::Endpoint,
        4 => ObjectType::Frame,
        _ => ObjectType::Notification,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct At {
    space: usize,
    /// Sometimes `SLOTS`: out of range.
    slot: u32,
}

#[derive(Clone, Debug)]
enum Op {
    Insert {
        at: At,
        object: u64,
        rights: u32,
    },
    Retype {
        from: At,
        to: At,
        object: u64,
        rights: u32,
    },
    Copy {
        from: At,
        to: At,
    },
    Mint {
        from: At,
        to: At,
        mask: u32,
        badge: Option<u64>,
    },
    Move {
        from: At,
        to: At,
    },
    Delete(At),
    /// Revoke whole (step 0) or in steps of at most `step` deletions.
    Revoke(At, usize),
    Lookup {
        at: At,
        kind: Option<u64>,
        needed: u32,
    },
    DestroySpace(usize),
    /// A call on a destroyed space's id.
    Stale(At),
}

fn at() -> impl Strategy<Value = At> {
    (0..SPACES, 0..=SLOTS).prop_map(|(space, slot)| At { space, slot })
}

fn rights() -> impl Strategy<Value = u32> {
    prop_oneof![Just(Rights::ALL.bits()), 0u32..1024]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (at(), 1..=OBJECTS, rights()).prop_map(|(at, object, rights)| Op::Insert { at, object, rights }),
        2 => (at(), at(), 1..=OBJECTS, rights())
            .prop_map(|(from, to, object, rights)| Op::Retype { from, to, object, rights }),
        4 => (at(), at()).prop_map(|(from, to)| Op::Copy { from, to }),
        4 => (at(), at(), rights(), proptest::option::of(0u64..3))
            .prop_map(|(from, to, mask, badge)| Op::Mint { from, to, mask, badge }),
        2 => (at(), at()).prop_map(|(from, to)| Op::Move { from, to }),
        2 => at().prop_map(Op::Delete),
        2 => (at(), 0..4usize).prop_map(|(at, step)| Op::Revoke(at, step)),
        2 => (at(), proptest::option::of(1..=OBJECTS), rights())
            .prop_map(|(at, kind, needed)| Op::Lookup { at, kind, needed }),
        1 => (0..SPACES).prop_map(Op::DestroySpace),
        1 => at().prop_map(Op::Stale),
    ]
}

#[derive(Clone, Debug)]
struct MNode {
    cap: Capability,
    parent: Option<usize>,
    /// `None` once deleted.
    at: Option<At>,
}

/// The model: every node ever made, live ones in `slots`.
#[derive(Clone, Debug)]
struct Model {
    nodes: Vec<MNode>,
    slots: [[Option<usize>; SLOTS as usize]; SPACES],
}

impl Model {
    fn get(&self, at: At) -> Result<Option<usize>, CapError> {
        if at.slot >= SLOTS {
            return Err(CapError::SlotOutOfRange { slot: at.slot });
        }
        Ok(self.slots[at.space][at.slot as usize])
    }

    fn occupied(&self, at: At) -> Result<usize, CapError> {
        self.get(at)?.ok_or(CapError::EmptySlot { slot: at.slot })
    }

    fn vacant(&self, at: At) -> Result<(), CapError> {
        match self.get(at)? {
            None => Ok(()),
            Some(_) => Err(CapError::SlotOccupied { slot: at.slot }),
        }
    }

    fn count(&self, object: ObjectId) -> usize {
        let live = self.nodes.iter().filter(|n| n.at.is_some());
        live.filter(|n| n.cap.object == object).count()
    }

    fn check(
        at: At,
        cap: Capability,
        kind: Option<ObjectType>,
        needed: Rights,
    ) -> Result<(), CapError> {
        if let Some(expected) = kind
            && cap.kind != expected
        {
            return Err(CapError::WrongType {
                slot: at.slot,
                expected,
                found: cap.kind,
            });
        }
        if !cap.rights.contains(needed) {
            return Err(CapError::MissingRight {
                slot: at.slot,
                right: needed.difference(cap.rights),
            });
        }
        Ok(())
    }

    fn add(&mut self, at: At, cap: Capability, parent: Option<usize>) {
        self.slots[at.space][at.slot as usize] = Some(self.nodes.len());
        self.nodes.push(MNode {
            cap,
            parent,
            at: Some(at),
        });
    }

    /// Deletes node `i`, re-parenting its children.
    fn remove(&mut self, i: usize) -> Option<ObjectId> {
        let parent = self.nodes[i].parent;
        for n in &mut self.nodes {
            if n.at.is_some() && n.parent == Some(i) {
                n.parent = parent;
            }
        }
        let at = self.nodes[i].at.take().unwrap();
        self.slots[at.space][at.slot as usize] = None;
        let object = self.nodes[i].cap.object;
        (self.count(object) == 0).then_some(object)
    }

    fn is_descendant(&self, mut n: usize, ancestor: usize) -> bool {
        while let Some(p) = self.nodes[n].parent {
            if p == ancestor {
                return true;
            }
            n = p;
        }
        false
    }
}

/// Everything observable through the public API, slot by slot.
type View = Vec<Result<(Capability, Option<(CSpaceId, u32)>), CapError>>;

fn view(cs: &CapSystem, ids: &[CSpaceId; SPACES]) -> View {
    let mut v = Vec::new();
    for &s in ids {
        for slot in 0..SLOTS {
            let cap = cs.lookup(s, slot, None, Rights::NONE);
            v.push(cap.map(|c| (c, cs.parent(s, slot).unwrap())));
        }
    }
    v
}

fn counts(cs: &CapSystem) -> Vec<usize> {
    (1..=OBJECTS).map(|o| cs.count(ObjectId(o))).collect()
}

struct Harness {
    cs: CapSystem,
    model: Model,
    ids: [CSpaceId; SPACES],
    stale: Option<CSpaceId>,
}

impl Harness {
    fn new() -> Harness {
        let mut cs = CapSystem::new();
        let ids = [(); SPACES].map(|_| cs.create_cspace(SLOTS).unwrap());
        Harness {
            cs,
            model: Model {
                nodes: Vec::new(),
                slots: [[None; SLOTS as usize]; SPACES],
            },
            ids,
            stale: None,
        }
    }

    /// Runs `op` on the system and the model; returns the system's
    /// destroyed objects (empty for calls that destroy nothing).
    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let before_counts = counts(&self.cs);
        let before_debug = format!("{:?}", self.cs);
        let before_view = view(&self.cs, &self.ids);
        let Harness {
            cs,
            model: m,
            ids,
            stale,
        } = self;
        let ids_now = *ids;
        let sid = move |at: At| (ids_now[at.space], at.slot);
        let (got, want): (
            Result<Vec<ObjectId>, CapError>,
            Result<Vec<ObjectId>, CapError>,
        ) = match *op {
            Op::Insert { at, object, rights } => {
                let cap = Capability::new(
                    ObjectId(object),
                    kind_of(object),
                    Rights::from_bits_truncate(rights),
                );
                let (s, slot) = sid(at);
                let got = cs.insert_original(s, slot, cap).map(|()| Vec::new());
                let want = m.vacant(at).and_then(|()| {
                    if m.count(cap.object) > 0 {
                        return Err(CapError::ObjectExists(cap.object));
                    }
                    m.add(at, cap, None);
                    Ok(Vec::new())
                });
                (got, want)
            }
            Op::Retype {
                from,
                to,
                object,
                rights,
            } => {
                let cap = Capability::new(
                    ObjectId(object),
                    kind_of(object),
                    Rights::from_bits_truncate(rights),
                );
                let got = self.cs.retype(sid(from), sid(to), cap).map(|()| Vec::new());
                let want = (|| {
                    let p = m.occupied(from)?;
                    m.vacant(to)?;
                    Model::check(
                        from,
                        m.nodes[p].cap,
                        Some(ObjectType::Memory),
                        Rights::WRITE,
                    )?;
                    if m.count(cap.object) > 0 {
                        return Err(CapError::ObjectExists(cap.object));
                    }
                    m.add(to, cap, Some(p));
                    Ok(Vec::new())
                })();
                (got, want)
            }
            Op::Copy { from, to } | Op::Mint { from, to, .. } => {
                let (mask, badge) = match *op {
                    Op::Mint { mask, badge, .. } => (Rights::from_bits_truncate(mask), badge),
                    _ => (Rights::ALL, None),
                };
                let got = match op {
                    Op::Copy { .. } => cs.copy(sid(from), sid(to)),
                    _ => cs.mint(sid(from), sid(to), mask, badge),
                };
                let want = (|| {
                    let p = m.occupied(from)?;
                    m.vacant(to)?;
                    let src = m.nodes[p].cap;
                    Model::check(from, src, None, Rights::DERIVE)?;
                    if badge.is_some() && src.badge != 0 {
                        return Err(CapError::BadgeAlreadySet { slot: from.slot });
                    }
                    let cap = Capability {
                        rights: src.rights & mask,
                        badge: badge.unwrap_or(src.badge),
                        ..src
                    };
                    m.add(to, cap, Some(p));
                    Ok(())
                })();
                (got.map(|()| Vec::new()), want.map(|()| Vec::new()))
            }
            Op::Move { from, to } => {
                let got = cs.move_cap(sid(from), sid(to)).map(|()| Vec::new());
                let want = (|| {
                    let n = m.occupied(from)?;
                    m.vacant(to)?;
                    m.slots[from.space][from.slot as usize] = None;
                    m.slots[to.space][to.slot as usize] = Some(n);
                    m.nodes[n].at = Some(to);
                    Ok(Vec::new())
                })();
                (got, want)
            }
            Op::Delete(at) => {
                let (s, slot) = sid(at);
                let got = cs.delete(s, slot);
                let want = m.occupied(at).map(|n| m.remove(n).into_iter().collect());
                (got, want)
            }
            Op::Revoke(at, step) => {
                // Independently of the model: the descendants as the
                // system itself reports them through `parent`.
                let (s, slot) = sid(at);
                let mut doomed = Vec::new();
                for (space, &sid) in ids_now.iter().enumerate() {
                    for sl in 0..SLOTS {
                        let mut cur = (sid, sl);
                        while let Ok(Some(p)) = cs.parent(cur.0, cur.1) {
                            if p == (s, slot) {
                                doomed.push(At { space, slot: sl });
                                break;
                            }
                            cur = p;
                        }
                    }
                }
                let got = if step == 0 {
                    cs.revoke(s, slot)
                } else {
                    // `revoke_some` until nothing is left, with every
                    // invariant holding between steps.
                    let mut all = Revoked::default();
                    loop {
                        match cs.revoke_some(s, slot, step) {
                            Err(e) => break Err(e),
                            Ok((r, more)) => {
                                prop_assert!(r.deleted <= step);
                                cs.check_invariants().map_err(TestCaseError::fail)?;
                                all.deleted += r.deleted;
                                all.emptied.extend(r.emptied);
                                all.destroyed.extend(r.destroyed);
                                if !more {
                                    break Ok(all);
                                }
                                prop_assert!(r.deleted == step, "a step stopped early");
                            }
                        }
                    }
                };
                if let Ok(r) = &got {
                    prop_assert_eq!(r.deleted, doomed.len());
                    for d in &doomed {
                        prop_assert_eq!(
                            cs.lookup(ids_now[d.space], d.slot, None, Rights::NONE),
                            Err(CapError::EmptySlot { slot: d.slot }),
                            "revoked descendant still usable"
                        );
                    }
                }
                let want = m.occupied(at).map(|c| {
                    let victims: Vec<usize> = (0..m.nodes.len())
                        .filter(|&n| m.nodes[n].at.is_some() && m.is_descendant(n, c))
                        .collect();
                    let mut destroyed = Vec::new();
                    for &n in &victims {
                        if let Some(o) = m.remove(n) {
                            destroyed.push(o);
                        }
                    }
                    Revoked {
                        deleted: victims.len(),
                        destroyed,
                        emptied: Vec::new(),
                    }
                });
                let deleted = |r: &Result<Revoked, CapError>| r.as_ref().map(|r| r.deleted).ok();
                prop_assert_eq!(deleted(&got), deleted(&want));
                if let Ok(r) = &got {
                    // Every emptied slot is empty now, and there is one per deletion.
                    prop_assert_eq!(r.emptied.len(), r.deleted);
                    for &(s, slot, _) in &r.emptied {
                        let empty = matches!(
                            cs.lookup(s, slot, None, Rights::NONE),
                            Err(CapError::EmptySlot { .. })
                        );
                        prop_assert!(empty, "slot {} still holds a capability", slot);
                    }
                }
                (got.map(|r| r.destroyed), want.map(|r| r.destroyed))
            }
            Op::Lookup { at, kind, needed } => {
                let kind = kind.map(kind_of);
                let needed = Rights::from_bits_truncate(needed);
                let (s, slot) = sid(at);
                let got = cs.lookup(s, slot, kind, needed);
                let want = m.occupied(at).and_then(|n| {
                    Model::check(at, m.nodes[n].cap, kind, needed)?;
                    Ok(m.nodes[n].cap)
                });
                prop_assert_eq!(got, want);
                (got.map(|_| Vec::new()), want.map(|_| Vec::new()))
            }
            Op::DestroySpace(space) => {
                let old = ids[space];
                let got = cs.destroy_cspace(old);
                let mut want = Vec::new();
                for slot in 0..SLOTS as usize {
                    if let Some(n) = m.slots[space][slot] {
                        want.extend(m.remove(n));
                    }
                }
                ids[space] = cs.create_cspace(SLOTS).unwrap();
                prop_assert_ne!(ids[space], old);
                *stale = Some(old);
                (got, Ok(want))
            }
            Op::Stale(at) => {
                let Some(old) = *stale else {
                    return Ok(());
                };
                let got = cs.copy(sid(at), (old, at.slot));
                let want = m.occupied(at).and(Err(CapError::NoSuchCSpace(old)));
                prop_assert_eq!(got, want);
                (got.map(|()| Vec::new()), want.map(|()| Vec::new()))
            }
        };

        // Same outcome as the model; destroyed sets compared as sets.
        let sorted = |r: &Result<Vec<ObjectId>, CapError>| {
            r.clone().map(|mut v| {
                v.sort();
                v
            })
        };
        prop_assert_eq!(sorted(&got), sorted(&want), "{:?}", op);

        let after_counts = counts(&self.cs);
        match &got {
            Err(_) => {
                prop_assert_eq!(
                    format!("{:?}", self.cs),
                    before_debug,
                    "failed call changed state"
                );
                prop_assert_eq!(&view(&self.cs, &self.ids), &before_view);
            }
            Ok(destroyed) => {
                // Reported exactly when the count reached 0, never twice.
                let reported: BTreeSet<u64> = destroyed.iter().map(|o| o.0).collect();
                prop_assert_eq!(reported.len(), destroyed.len(), "reported twice");
                let reached_zero: BTreeSet<u64> = (1..=OBJECTS)
                    .filter(|&o| {
                        before_counts[o as usize - 1] > 0 && after_counts[o as usize - 1] == 0
                    })
                    .collect();
                prop_assert_eq!(reported, reached_zero);
            }
        }

        self.compare()
    }

    /// The system agrees with the model slot by slot, and its invariants
    /// hold; rights never grow along a derivation edge.
    fn compare(&self) -> Result<(), TestCaseError> {
        if let Err(e) = self.cs.check_invariants() {
            return Err(TestCaseError::fail(e));
        }
        let m = &self.model;
        for space in 0..SPACES {
            for slot in 0..SLOTS {
                let s = self.ids[space];
                let got = self.cs.lookup(s, slot, None, Rights::NONE);
                match m.slots[space][slot as usize] {
                    None => prop_assert_eq!(got, Err(CapError::EmptySlot { slot })),
                    Some(n) => {
                        let cap = got.unwrap();
                        prop_assert_eq!(cap, m.nodes[n].cap);
                        let parent = self.cs.parent(s, slot).unwrap();
                        let want = m.nodes[n].parent.map(|p| {
                            let at = m.nodes[p].at.unwrap();
                            (self.ids[at.space], at.slot)
                        });
                        prop_assert_eq!(parent, want);
                        if let Some((ps, pslot)) = parent {
                            let pcap = self.cs.lookup(ps, pslot, None, Rights::NONE).unwrap();
                            if pcap.object == cap.object {
                                prop_assert!(pcap.rights.contains(cap.rights), "rights grew");
                                prop_assert!(pcap.badge == 0 || pcap.badge == cap.badge);
                            } else {
                                prop_assert_eq!(pcap.kind, ObjectType::Memory);
                            }
                        }
                    }
                }
            }
        }
        for o in 1..=OBJECTS {
            prop_assert_eq!(self.cs.count(ObjectId(o)), m.count(ObjectId(o)));
        }
        let live = m.nodes.iter().filter(|n| n.at.is_some()).count();
        prop_assert_eq!(self.cs.capabilities(), live);
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn operation_sequences_match_the_model(ops in proptest::collection::vec(op(), 1..120)) {
        let mut h = Harness::new();
        for op in &ops {
            h.step(op)?;
        }
        // Tearing everything down destroys every object exactly once.
        let mut destroyed = Vec::new();
        for s in h.ids {
            destroyed.extend(h.cs.destroy_cspace(s).unwrap());
        }
        let unique: BTreeSet<ObjectId> = destroyed.iter().copied().collect();
        prop_assert_eq!(unique.len(), destroyed.len());
        let had: BTreeSet<ObjectId> = (1..=OBJECTS)
            .map(ObjectId)
            .filter(|&o| h.model.count(o) > 0)
            .collect();
        prop_assert_eq!(unique, had);
        prop_assert_eq!(h.cs.capabilities(), 0);
        prop_assert!(h.cs.check_invariants().is_ok());
    }

    /// Along any chain of copies and mints, rights only shrink.
    #[test]
    fn rights_never_amplify_along_a_chain(
        start in rights(),
        masks in proptest::collection::vec(rights(), 1..20),
    ) {
        let mut cs = CapSystem::new();
        let s = cs.create_cspace(32).unwrap();
        let root = Rights::from_bits_truncate(start) | Rights::DERIVE;
        cs.insert_original(s, 0, Capability::new(ObjectId(1), ObjectType::Frame, root)).unwrap();
        let mut prev = root;
        for (i, &mask) in masks.iter().enumerate() {
            let i = i as u32;
            // Always keep DERIVE so the chain can go on.
            let mask = Rights::from_bits_truncate(mask) | Rights::DERIVE;
            cs.mint((s, i), (s, i + 1), mask, None).unwrap();
            let got = cs.lookup(s, i + 1, None, Rights::NONE).unwrap().rights;
            prop_assert!(prev.contains(got));
            prop_assert_eq!(got, prev & mask);
            prev = got;
        }
    }
}
