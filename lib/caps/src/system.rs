//! [`CapSystem`]: the spaces, the derivation tree and the object counts.
//!
//! Layout: the tree's nodes live in one arena indexed by `u32`, each with
//! its location (space index, slot), its parent, its first child and a
//! doubly linked sibling list, so unlinking is O(1) and re-parenting the
//! children of a deleted node is O(children). A slot holds the index of
//! its node. Roots have no siblings. Freed arena and space entries form
//! intrusive free lists, so freeing never allocates. Live capability
//! counts per object sit in a vector sorted by id (binary search; the
//! kernel has far fewer objects than the tree has nodes).

use crate::{CSpaceId, CapError, Capability, Limits, ObjectId, ObjectType, Revoked, Rights};
use alloc::vec::Vec;

type NodeIdx = u32;

#[derive(Clone, Copy, Debug)]
struct Node {
    cap: Capability,
    space: u32,
    slot: u32,
    parent: Option<NodeIdx>,
    first_child: Option<NodeIdx>,
    prev: Option<NodeIdx>,
    next: Option<NodeIdx>,
}

#[derive(Clone, Debug)]
enum NodeEntry {
    Free { next_free: Option<NodeIdx> },
    Used(Node),
}

#[derive(Clone, Debug)]
enum SpaceState {
    Free { next_free: Option<u32> },
    Live { slots: Vec<Option<NodeIdx>> },
}

#[derive(Clone, Debug)]
struct SpaceEntry {
    generation: u32,
    state: SpaceState,
}

/// Most heap bytes one slot of a capability space can cost the system:
/// the slot, a derivation-tree node and an object count, three times over
/// for the vectors' growth (a vector that doubles holds its old buffer and
/// one twice its size at once). What a kernel charges per slot so that a
/// full table is paid for.
pub const SLOT_BYTES: usize = 3
    * (core::mem::size_of::<Option<NodeIdx>>()
        + core::mem::size_of::<NodeEntry>()
        + core::mem::size_of::<(ObjectId, usize)>());

/// All capability spaces and the derivation tree over their capabilities.
#[derive(Clone, Debug)]
pub struct CapSystem {
    limits: Limits,
    nodes: Vec<NodeEntry>,
    free_node: Option<NodeIdx>,
    live_nodes: u32,
    spaces: Vec<SpaceEntry>,
    free_space: Option<u32>,
    live_spaces: u32,
    /// (object, live capabilities), sorted by object; counts are never 0.
    objects: Vec<(ObjectId, usize)>,
}

impl Default for CapSystem {
    fn default() -> CapSystem {
        CapSystem::new()
    }
}

fn oom<T>(_: T) -> CapError {
    CapError::OutOfMemory
}

impl CapSystem {
    pub const fn new() -> CapSystem {
        CapSystem::with_limits(Limits::UNLIMITED)
    }

    pub const fn with_limits(limits: Limits) -> CapSystem {
        CapSystem {
            limits,
            nodes: Vec::new(),
            free_node: None,
            live_nodes: 0,
            spaces: Vec::new(),
            free_space: None,
            live_spaces: 0,
            objects: Vec::new(),
        }
    }

    // ----- spaces -----

    /// A new, empty space with `capacity` slots (`0..capacity`).
    pub fn create_cspace(&mut self, capacity: u32) -> Result<CSpaceId, CapError> {
        if self.live_spaces >= self.limits.max_cspaces {
            return Err(CapError::TableFull);
        }
        let mut slots = Vec::new();
        slots.try_reserve_exact(capacity as usize).map_err(oom)?;
        slots.resize(capacity as usize, None);
        let index = match self.free_space {
            Some(index) => {
                let entry = &mut self.spaces[index as usize];
                let SpaceState::Free { next_free } = entry.state else {
                    unreachable!("live space on the free list")
                };
                self.free_space = next_free;
                entry.state = SpaceState::Live { slots };
                index
            }
            None => {
                let index = u32::try_from(self.spaces.len()).map_err(|_| CapError::TableFull)?;
                self.spaces.try_reserve(1).map_err(oom)?;
                self.spaces.push(SpaceEntry {
                    generation: 0,
                    state: SpaceState::Live { slots },
                });
                index
            }
        };
        self.live_spaces += 1;
        Ok(CSpaceId {
            index,
            generation: self.spaces[index as usize].generation,
        })
    }

    /// Deletes every capability in the space (as [`CapSystem::delete`] on
    /// each slot, in slot order; children elsewhere are re-parented), then
    /// the space. Returns the objects destroyed.
    pub fn destroy_cspace(&mut self, space: CSpaceId) -> Result<Vec<ObjectId>, CapError> {
        let used = self.slots(space)?.iter().flatten().count();
        let mut destroyed = Vec::new();
        destroyed
            .try_reserve(used.min(self.objects.len()))
            .map_err(oom)?;
        let capacity = self.slots(space)?.len();
        for slot in 0..capacity {
            if let Some(n) = self.slots(space)?[slot] {
                destroyed.extend(self.remove_node(n));
            }
        }
        self.live_spaces -= 1;
        let entry = &mut self.spaces[space.index as usize];
        // An entry whose generation would wrap is retired, never reused.
        let reuse = entry.generation.checked_add(1);
        entry.generation = reuse.unwrap_or(u32::MAX);
        entry.state = SpaceState::Free {
            next_free: if reuse.is_some() {
                self.free_space
            } else {
                None
            },
        };
        if reuse.is_some() {
            self.free_space = Some(space.index);
        }
        Ok(destroyed)
    }

    /// The number of slots, fixed at creation.
    pub fn capacity(&self, space: CSpaceId) -> Result<u32, CapError> {
        Ok(self.slots(space)?.len() as u32)
    }

    /// The lowest empty slot at or above `first` (a kernel that never
    /// fills slot 0 passes 1); [`CapError::TableFull`] if there is none.
    pub fn free_slot(&self, space: CSpaceId, first: u32) -> Result<u32, CapError> {
        let slots = self.slots(space)?;
        let at = slots.iter().skip(first as usize).position(Option::is_none);
        at.map(|at| at as u32 + first).ok_or(CapError::TableFull)
    }

    /// Live spaces.
    pub fn cspaces(&self) -> usize {
        self.live_spaces as usize
    }

    // ----- inserting -----

    /// The kernel made `cap.object`: its original capability (a root of
    /// the derivation tree) goes into `slot`.
    pub fn insert_original(
        &mut self,
        space: CSpaceId,
        slot: u32,
        cap: Capability,
    ) -> Result<(), CapError> {
        self.vacant((space, slot))?;
        self.insert_node((space, slot), cap, None)
    }

    /// The kernel made `cap.object` out of the memory capability at
    /// `memory` (which needs [`Rights::WRITE`]): its capability goes into
    /// `to` as a child of that memory capability, so revoking the memory
    /// capability destroys it. `cap`'s rights are the
    /// kernel's choice; they are not limited by the memory capability's.
    pub fn retype(
        &mut self,
        memory: (CSpaceId, u32),
        to: (CSpaceId, u32),
        cap: Capability,
    ) -> Result<(), CapError> {
        let parent = self.occupied(memory)?;
        self.vacant(to)?;
        let source = self.node(parent).cap;
        check(memory.1, source, Some(ObjectType::Memory), Rights::WRITE)?;
        self.insert_node(to, cap, Some(parent))
    }

    /// The kernel made `cap.object`, a part of the hardware range the
    /// capability at `range` names (which needs [`Rights::DERIVE`]): its
    /// capability goes into `to` as a child of that one, so revoking the
    /// range revokes the part. Same type, and no rights the range's lacks.
    pub fn split(
        &mut self,
        range: (CSpaceId, u32),
        to: (CSpaceId, u32),
        cap: Capability,
    ) -> Result<(), CapError> {
        let parent = self.occupied(range)?;
        self.vacant(to)?;
        let source = self.node(parent).cap;
        if !source.kind.is_range() {
            return Err(CapError::WrongType {
                slot: range.1,
                expected: ObjectType::IoPorts,
                found: source.kind,
            });
        }
        check(range.1, source, Some(source.kind), Rights::DERIVE)?;
        if cap.kind != source.kind || !source.rights.contains(cap.rights) {
            return Err(CapError::MissingRight {
                slot: range.1,
                right: cap.rights.difference(source.rights),
            });
        }
        self.insert_node(to, cap, Some(parent))
    }

    fn insert_node(
        &mut self,
        at: (CSpaceId, u32),
        cap: Capability,
        parent: Option<NodeIdx>,
    ) -> Result<(), CapError> {
        let pos = match self.objects.binary_search_by_key(&cap.object, |e| e.0) {
            Ok(_) => return Err(CapError::ObjectExists(cap.object)),
            Err(pos) => pos,
        };
        self.reserve_node()?;
        self.objects.try_reserve(1).map_err(oom)?;
        self.objects.insert(pos, (cap.object, 0));
        self.add_node(at, cap, parent);
        Ok(())
    }

    // ----- looking up -----

    /// The capability in `slot`, if it is of `kind` (when given) and holds
    /// at least `needed`.
    pub fn lookup(
        &self,
        space: CSpaceId,
        slot: u32,
        kind: Option<ObjectType>,
        needed: Rights,
    ) -> Result<Capability, CapError> {
        let n = self.occupied((space, slot))?;
        check(slot, self.node(n).cap, kind, needed)
    }

    /// Where the capability in `slot` was derived from: `None` for an
    /// original, or once every ancestor is deleted.
    pub fn parent(&self, space: CSpaceId, slot: u32) -> Result<Option<(CSpaceId, u32)>, CapError> {
        let n = self.occupied((space, slot))?;
        Ok(self.node(n).parent.map(|p| self.location(p)))
    }

    /// Live capabilities to `object`, in all spaces; 0 once destroyed.
    pub fn count(&self, object: ObjectId) -> usize {
        match self.objects.binary_search_by_key(&object, |e| e.0) {
            Ok(i) => self.objects[i].1,
            Err(_) => 0,
        }
    }

    /// Live capabilities, in all spaces.
    pub fn capabilities(&self) -> usize {
        self.live_nodes as usize
    }

    // ----- deriving -----

    /// A child of the source with the same rights and badge; needs
    /// [`Rights::DERIVE`] on the source.
    pub fn copy(&mut self, from: (CSpaceId, u32), to: (CSpaceId, u32)) -> Result<(), CapError> {
        self.mint_inner(from, to, Rights::ALL, None)
    }

    /// A child with rights `source & mask` (never more) and, if `badge` is
    /// given, that badge, which only an unbadged source accepts (even
    /// `Some(0)`, which leaves the child unbadged). Needs
    /// [`Rights::DERIVE`] on the source.
    pub fn mint(
        &mut self,
        from: (CSpaceId, u32),
        to: (CSpaceId, u32),
        mask: Rights,
        badge: Option<u64>,
    ) -> Result<(), CapError> {
        self.mint_inner(from, to, mask, badge)
    }

    fn mint_inner(
        &mut self,
        from: (CSpaceId, u32),
        to: (CSpaceId, u32),
        mask: Rights,
        badge: Option<u64>,
    ) -> Result<(), CapError> {
        let parent = self.occupied(from)?;
        self.vacant(to)?;
        let source = check(from.1, self.node(parent).cap, None, Rights::DERIVE)?;
        if badge.is_some() && source.badge != 0 {
            return Err(CapError::BadgeAlreadySet { slot: from.1 });
        }
        self.reserve_node()?;
        let cap = Capability {
            rights: source.rights & mask,
            badge: badge.unwrap_or(source.badge),
            ..source
        };
        self.add_node(to, cap, Some(parent));
        Ok(())
    }

    /// Moves the capability, keeping its place in the derivation tree (its
    /// parent and children). Needs no rights.
    pub fn move_cap(&mut self, from: (CSpaceId, u32), to: (CSpaceId, u32)) -> Result<(), CapError> {
        let n = self.occupied(from)?;
        self.vacant(to)?;
        *self.slot_mut(from) = None;
        *self.slot_mut(to) = Some(n);
        let node = self.node_mut(n);
        node.space = to.0.index;
        node.slot = to.1;
        Ok(())
    }

    // ----- deleting -----

    /// Deletes one capability; its children move up to its parent (or
    /// become roots). Returns the object if this was its last capability.
    pub fn delete(&mut self, space: CSpaceId, slot: u32) -> Result<Vec<ObjectId>, CapError> {
        let n = self.occupied((space, slot))?;
        let mut destroyed = Vec::new();
        if self.count(self.node(n).cap.object) == 1 {
            destroyed.try_reserve(1).map_err(oom)?;
        }
        destroyed.extend(self.remove_node(n));
        Ok(destroyed)
    }

    /// [`CapSystem::delete`] without allocating, for paths that must not
    /// fail (a process's table going, cleanup after a failed call):
    /// returns the object if this was its last capability.
    pub fn delete_one(&mut self, space: CSpaceId, slot: u32) -> Result<Option<ObjectId>, CapError> {
        let n = self.occupied((space, slot))?;
        Ok(self.remove_node(n))
    }

    /// The lowest occupied slot at or above `first`, if any: with
    /// [`CapSystem::delete_one`], a space can be emptied one capability at
    /// a time, without a list of what goes.
    pub fn used_slot(&self, space: CSpaceId, first: u32) -> Result<Option<u32>, CapError> {
        let slots = self.slots(space)?;
        let at = slots.iter().skip(first as usize).position(Option::is_some);
        Ok(at.map(|at| at as u32 + first))
    }

    /// Deletes every capability derived, transitively, from the one in
    /// `slot`, in every space; that one stays. O(subtree), no recursion.
    pub fn revoke(&mut self, space: CSpaceId, slot: u32) -> Result<Revoked, CapError> {
        let root = self.occupied((space, slot))?;
        let object = self.node(root).cap.object;
        // Size the result first, so running out of memory changes nothing.
        // Only objects made from a revoked memory capability can be destroyed.
        let mut other = 0usize;
        let mut size = 0usize;
        let mut at = root;
        while let Some(n) = self.next_preorder(at, root) {
            other += usize::from(self.node(n).cap.object != object);
            size += 1;
            at = n;
        }
        let mut revoked = Revoked::default();
        revoked
            .destroyed
            .try_reserve(other.min(self.objects.len()))
            .map_err(oom)?;
        revoked.emptied.try_reserve_exact(size).map_err(oom)?;
        // Post-order through the parent links: descend to a leaf, delete
        // it, continue from its parent.
        let mut n = root;
        loop {
            if let Some(child) = self.node(n).first_child {
                n = child;
                continue;
            }
            if n == root {
                break;
            }
            let parent = self.node(n).parent.expect("a descendant has a parent");
            let (space, slot) = self.location(n);
            revoked.emptied.push((space, slot, self.node(n).cap.object));
            revoked.destroyed.extend(self.remove_node(n));
            revoked.deleted += 1;
            n = parent;
        }
        Ok(revoked)
    }

    /// [`CapSystem::revoke`] a step at a time, for a kernel that lets
    /// other work in between: deletes at most `max` of the capabilities
    /// derived from the one in `slot` and says whether any are left
    /// (`true`: call again). It deletes the revoked capability's first
    /// child each time, whose children move up to it (as a delete does),
    /// so every step leaves a tree a sequence of deletes could have made:
    /// another caller between steps sees a consistent system, and steps
    /// until `false` delete exactly what one `revoke` would. A step costs
    /// O(`max` + the deleted capabilities' children), whatever the
    /// subtree's size; room for `max` results is made first, so running
    /// out of memory changes nothing.
    pub fn revoke_some(
        &mut self,
        space: CSpaceId,
        slot: u32,
        max: usize,
    ) -> Result<(Revoked, bool), CapError> {
        let root = self.occupied((space, slot))?;
        let mut revoked = Revoked::default();
        revoked.emptied.try_reserve_exact(max).map_err(oom)?;
        revoked
            .destroyed
            .try_reserve_exact(max.min(self.objects.len()))
            .map_err(oom)?;
        while revoked.deleted < max {
            let Some(child) = self.node(root).first_child else {
                return Ok((revoked, false));
            };
            let (space, slot) = self.location(child);
            revoked
                .emptied
                .push((space, slot, self.node(child).cap.object));
            revoked.destroyed.extend(self.remove_node(child));
            revoked.deleted += 1;
        }
        let more = self.node(root).first_child.is_some();
        Ok((revoked, more))
    }

    // ----- checking -----

    /// Checks every structural invariant: slots and nodes point at each
    /// other, the sibling lists and parent links agree, the tree has no
    /// cycles, rights never grow and badges never change along an edge
    /// (except memory → object made from it), object counts are exact.
    /// O(nodes + slots), allocates one count per object; for tests and
    /// debug builds.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        // Spaces.
        let mut free = 0usize;
        let mut next = self.free_space;
        while let Some(i) = next {
            let entry = self
                .spaces
                .get(i as usize)
                .ok_or("free space out of range")?;
            let SpaceState::Free { next_free } = entry.state else {
                return Err("live space on the free list");
            };
            free += 1;
            if free > self.spaces.len() {
                return Err("space free list has a cycle");
            }
            next = next_free;
        }
        let mut live_spaces = 0u32;
        let mut slot_refs = 0usize;
        for (si, entry) in self.spaces.iter().enumerate() {
            let SpaceState::Live { slots } = &entry.state else {
                continue;
            };
            live_spaces += 1;
            for (slot, n) in slots.iter().enumerate() {
                let Some(n) = *n else { continue };
                slot_refs += 1;
                let Some(NodeEntry::Used(node)) = self.nodes.get(n as usize) else {
                    return Err("slot points at a free node");
                };
                if node.space as usize != si || node.slot as usize != slot {
                    return Err("node location disagrees with its slot");
                }
            }
        }
        if live_spaces != self.live_spaces || live_spaces > self.limits.max_cspaces {
            return Err("live space count is wrong");
        }
        if free + live_spaces as usize > self.spaces.len() {
            return Err("space free list holds live entries");
        }

        // Nodes and links.
        let mut free = 0usize;
        let mut next = self.free_node;
        while let Some(i) = next {
            let Some(NodeEntry::Free { next_free }) = self.nodes.get(i as usize) else {
                return Err("free list holds a used or missing node");
            };
            free += 1;
            if free > self.nodes.len() {
                return Err("node free list has a cycle");
            }
            next = *next_free;
        }
        let mut live = 0usize;
        let mut roots = 0usize;
        for (i, entry) in self.nodes.iter().enumerate() {
            let NodeEntry::Used(node) = entry else {
                continue;
            };
            let i = i as NodeIdx;
            live += 1;
            let here = self.slot_of(node).ok_or("node is not in its slot")?;
            if here != Some(i) {
                return Err("node is not in its slot");
            }
            if Rights::from_bits(node.cap.rights.bits()).is_none() {
                return Err("undefined rights bits");
            }
            match node.parent {
                None => {
                    roots += 1;
                    if node.prev.is_some() || node.next.is_some() {
                        return Err("root has siblings");
                    }
                }
                Some(p) => {
                    let parent = self.used(p).ok_or("parent is free")?;
                    if node.prev.is_none() && parent.first_child != Some(i) {
                        return Err("first sibling is not its parent's first child");
                    }
                    let c = node.cap;
                    let pc = parent.cap;
                    if c.object == pc.object {
                        if c.kind != pc.kind {
                            return Err("derived capability changed type");
                        }
                        if !pc.rights.contains(c.rights) {
                            return Err("rights grew along a derivation");
                        }
                        if pc.badge != 0 && c.badge != pc.badge {
                            return Err("badge changed along a derivation");
                        }
                    } else if pc.kind.is_range() {
                        if c.kind != pc.kind || !pc.rights.contains(c.rights) {
                            return Err("a part of a hardware range changed type or grew rights");
                        }
                    } else if pc.kind != ObjectType::Memory {
                        return Err(
                            "child names another object but its parent is neither a memory capability nor a hardware range",
                        );
                    }
                }
            }
            if let Some(x) = node.prev {
                let prev = self.used(x).ok_or("prev sibling is free")?;
                if prev.next != Some(i) || prev.parent != node.parent {
                    return Err("sibling links disagree");
                }
            }
            if let Some(y) = node.next {
                let next = self.used(y).ok_or("next sibling is free")?;
                if next.prev != Some(i) || next.parent != node.parent {
                    return Err("sibling links disagree");
                }
            }
            if let Some(c) = node.first_child {
                let child = self.used(c).ok_or("first child is free")?;
                if child.parent != Some(i) || child.prev.is_some() {
                    return Err("first child link disagrees");
                }
            }
        }
        if live != self.live_nodes as usize || live > self.limits.max_capabilities as usize {
            return Err("live capability count is wrong");
        }
        if live != slot_refs {
            return Err("a node is in no slot, or in two");
        }
        if live + free != self.nodes.len() {
            return Err("node arena has leaked entries");
        }
        // Every node is reachable from a root: no cycles.
        let mut reached = 0usize;
        for (i, entry) in self.nodes.iter().enumerate() {
            let NodeEntry::Used(node) = entry else {
                continue;
            };
            if node.parent.is_some() {
                continue;
            }
            let root = i as NodeIdx;
            let mut at = root;
            reached += 1;
            while let Some(n) = self.next_preorder(at, root) {
                reached += 1;
                if reached > live {
                    return Err("derivation tree has a cycle");
                }
                at = n;
            }
        }
        if reached != live || roots == 0 && live > 0 {
            return Err("derivation tree has a cycle");
        }

        // Object counts.
        if self.objects.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err("object table is not sorted");
        }
        if self.objects.iter().any(|e| e.1 == 0) {
            return Err("object table holds a destroyed object");
        }
        let mut counts = Vec::new();
        counts
            .try_reserve_exact(self.objects.len())
            .map_err(|_| "out of memory")?;
        counts.resize(self.objects.len(), 0usize);
        for entry in &self.nodes {
            let NodeEntry::Used(node) = entry else {
                continue;
            };
            let i = self
                .objects
                .binary_search_by_key(&node.cap.object, |e| e.0)
                .map_err(|_| "capability to an object missing from the table")?;
            counts[i] += 1;
        }
        if self.objects.iter().zip(&counts).any(|(e, &c)| e.1 != c) {
            return Err("object count is wrong");
        }
        Ok(())
    }

    // ----- internals -----

    fn slots(&self, space: CSpaceId) -> Result<&Vec<Option<NodeIdx>>, CapError> {
        match self.spaces.get(space.index as usize) {
            Some(SpaceEntry {
                generation,
                state: SpaceState::Live { slots },
            }) if *generation == space.generation => Ok(slots),
            _ => Err(CapError::NoSuchCSpace(space)),
        }
    }

    fn get(&self, (space, slot): (CSpaceId, u32)) -> Result<Option<NodeIdx>, CapError> {
        let slots = self.slots(space)?;
        let entry = slots.get(slot as usize);
        entry.copied().ok_or(CapError::SlotOutOfRange { slot })
    }

    fn occupied(&self, at: (CSpaceId, u32)) -> Result<NodeIdx, CapError> {
        self.get(at)?.ok_or(CapError::EmptySlot { slot: at.1 })
    }

    fn vacant(&self, at: (CSpaceId, u32)) -> Result<(), CapError> {
        match self.get(at)? {
            None => Ok(()),
            Some(_) => Err(CapError::SlotOccupied { slot: at.1 }),
        }
    }

    /// Only after `get(at)` succeeded.
    fn slot_mut(&mut self, (space, slot): (CSpaceId, u32)) -> &mut Option<NodeIdx> {
        match &mut self.spaces[space.index as usize].state {
            SpaceState::Live { slots } => &mut slots[slot as usize],
            SpaceState::Free { .. } => unreachable!("slot_mut on a free space"),
        }
    }

    fn slot_of(&self, node: &Node) -> Option<Option<NodeIdx>> {
        match &self.spaces.get(node.space as usize)?.state {
            SpaceState::Live { slots } => slots.get(node.slot as usize).copied(),
            SpaceState::Free { .. } => None,
        }
    }

    fn location(&self, n: NodeIdx) -> (CSpaceId, u32) {
        let node = self.node(n);
        let space = CSpaceId {
            index: node.space,
            generation: self.spaces[node.space as usize].generation,
        };
        (space, node.slot)
    }

    fn used(&self, n: NodeIdx) -> Option<&Node> {
        match self.nodes.get(n as usize) {
            Some(NodeEntry::Used(node)) => Some(node),
            _ => None,
        }
    }

    fn node(&self, n: NodeIdx) -> &Node {
        self.used(n).expect("node index names a live node")
    }

    fn node_mut(&mut self, n: NodeIdx) -> &mut Node {
        match &mut self.nodes[n as usize] {
            NodeEntry::Used(node) => node,
            NodeEntry::Free { .. } => unreachable!("node index names a free node"),
        }
    }

    /// The node after `n` in a pre-order walk of the subtree under `root`.
    fn next_preorder(&self, n: NodeIdx, root: NodeIdx) -> Option<NodeIdx> {
        if let Some(child) = self.node(n).first_child {
            return Some(child);
        }
        let mut n = n;
        loop {
            if n == root {
                return None;
            }
            let node = self.node(n);
            if let Some(next) = node.next {
                return Some(next);
            }
            n = node.parent?;
        }
    }

    /// Makes sure `add_node` will not allocate or exceed the limit.
    fn reserve_node(&mut self) -> Result<(), CapError> {
        if self.live_nodes >= self.limits.max_capabilities {
            return Err(CapError::TableFull);
        }
        if self.free_node.is_none() {
            if self.nodes.len() >= u32::MAX as usize {
                return Err(CapError::TableFull);
            }
            self.nodes.try_reserve(1).map_err(oom)?;
        }
        Ok(())
    }

    /// After `reserve_node`, with `at` vacant and `cap.object` in the
    /// object table.
    fn add_node(&mut self, at: (CSpaceId, u32), cap: Capability, parent: Option<NodeIdx>) {
        let next = parent.and_then(|p| self.node(p).first_child);
        let node = Node {
            cap,
            space: at.0.index,
            slot: at.1,
            parent,
            first_child: None,
            prev: None,
            next,
        };
        let n = match self.free_node {
            Some(n) => {
                let NodeEntry::Free { next_free } = self.nodes[n as usize] else {
                    unreachable!("used node on the free list")
                };
                self.free_node = next_free;
                self.nodes[n as usize] = NodeEntry::Used(node);
                n
            }
            None => {
                self.nodes.push(NodeEntry::Used(node));
                (self.nodes.len() - 1) as NodeIdx
            }
        };
        if let Some(p) = parent {
            if let Some(next) = next {
                self.node_mut(next).prev = Some(n);
            }
            self.node_mut(p).first_child = Some(n);
        }
        *self.slot_mut(at) = Some(n);
        self.live_nodes += 1;
        let i = self
            .objects
            .binary_search_by_key(&cap.object, |e| e.0)
            .expect("object is in the table");
        self.objects[i].1 += 1;
    }

    /// Unlinks and frees `n`, splicing its children into its place among
    /// its parent's children (or making them roots). O(children); never
    /// allocates. Returns the object if `n` was its last capability.
    fn remove_node(&mut self, n: NodeIdx) -> Option<ObjectId> {
        let node = *self.node(n);
        let mut last_child = None;
        let mut c = node.first_child;
        while let Some(ci) = c {
            let child = self.node_mut(ci);
            child.parent = node.parent;
            if node.parent.is_none() {
                child.prev = None;
                c = child.next.take();
            } else {
                c = child.next;
                last_child = Some(ci);
            }
        }
        if let Some(p) = node.parent {
            // The children (if any) take n's place in the sibling list.
            let (before, after) = (node.prev, node.next);
            let (head, tail) = match (node.first_child, last_child) {
                (Some(first), Some(last)) => {
                    self.node_mut(first).prev = before;
                    self.node_mut(last).next = after;
                    (Some(first), Some(last))
                }
                _ => (after, before),
            };
            match before {
                Some(b) => self.node_mut(b).next = head,
                None => self.node_mut(p).first_child = head,
            }
            if let Some(a) = after {
                self.node_mut(a).prev = tail;
            }
        }
        let space = CSpaceId {
            index: node.space,
            generation: self.spaces[node.space as usize].generation,
        };
        *self.slot_mut((space, node.slot)) = None;
        self.nodes[n as usize] = NodeEntry::Free {
            next_free: self.free_node,
        };
        self.free_node = Some(n);
        self.live_nodes -= 1;
        let i = self
            .objects
            .binary_search_by_key(&node.cap.object, |e| e.0)
            .expect("object is in the table");
        self.objects[i].1 -= 1;
        if self.objects[i].1 == 0 {
            self.objects.remove(i);
            Some(node.cap.object)
        } else {
            None
        }
    }
}

/// `cap` if it is of `kind` (when given) and holds `needed`.
fn check(
    slot: u32,
    cap: Capability,
    kind: Option<ObjectType>,
    needed: Rights,
) -> Result<Capability, CapError> {
    if let Some(expected) = kind
        && cap.kind != expected
    {
        return Err(CapError::WrongType {
            slot,
            expected,
            found: cap.kind,
        });
    }
    let missing = needed.difference(cap.rights);
    if !missing.is_empty() {
        return Err(CapError::MissingRight {
            slot,
            right: missing,
        });
    }
    Ok(cap)
}
