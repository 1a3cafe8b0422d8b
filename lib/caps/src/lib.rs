//! The capability policy, seL4-style: who may name which kernel object,
//! with which rights, and what goes away when a capability is revoked.
//!
//! Only bookkeeping lives here. The kernel owns the objects; this crate
//! owns the capabilities to them, so host unit and property tests can
//! cover every decision. The kernel calls in under one lock.
//!
//! The model:
//! - A [`Capability`] names an object ([`ObjectId`], chosen by the kernel,
//!   plus its [`ObjectType`]) with [`Rights`] and a badge (0 = unbadged).
//! - A capability space, a cspace ([`CSpaceId`], one per process), has a fixed number
//!   of slots; a slot index is what user space calls a handle.
//! - One derivation tree spans all cspaces. The kernel inserts an object's
//!   original capability ([`CapSystem::insert_original`], no parent) or,
//!   for an object made from memory, a child of the memory
//!   capability ([`CapSystem::retype`]). [`CapSystem::copy`] and
//!   [`CapSystem::mint`] add children; rights only ever shrink along a
//!   path, and a badge, once set, stays. [`CapSystem::move_cap`] keeps
//!   the node. [`CapSystem::delete`] re-parents the children to the
//!   deleted capability's parent; [`CapSystem::revoke`] deletes the whole
//!   subtree below a capability, in every cspace.
//! - An object is destroyed when its last capability goes; every call that
//!   deletes returns the objects destroyed, each exactly once, and the
//!   kernel frees them.
//!
//! Guarantees: a failed call changes nothing, and errors say what was
//! wrong ([`CapError`]). Nothing panics on caller input. Allocation uses
//! `try_reserve` and fails with [`CapError::OutOfMemory`]; only
//! [`CapSystem::create_cspace`], `insert_original`, `retype`, `copy`,
//! `mint` (a node or the object table may grow) and the calls that return
//! destroyed objects allocate. Revoke walks the tree through its parent
//! links, so neither depth nor width uses the Rust stack; deleting one
//! capability is O(its children), revoke O(the subtree).
//!
//! Miri (about 6 minutes; the property tests run few cases) checks for
//! undefined behaviour in `alloc` use and for arithmetic overflow:
//! `MIRIFLAGS=-Zmiri-disable-isolation PROPTEST_CASES=4 cargo +nightly miri test -p ferrous-caps`
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;
use core::fmt;

/// Rights and object types are the ABI's vocabulary (`ferrous-abi`, the
/// leaf crate); this crate decides what they permit.
pub use ferrous_abi::{ObjectType, Rights};

mod system;

pub use system::{CapSystem, SLOT_BYTES};

/// A kernel object, as named by the kernel. Opaque here: only equality
/// matters. The kernel may reuse an id once the object is destroyed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId(pub u64);

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "object {}", self.0)
    }
}

/// A badge tells a server which client sent a message; 0 means unbadged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Capability {
    pub object: ObjectId,
    pub kind: ObjectType,
    pub rights: Rights,
    pub badge: u64,
}

impl Capability {
    /// An unbadged capability.
    pub const fn new(object: ObjectId, kind: ObjectType, rights: Rights) -> Capability {
        Capability {
            object,
            kind,
            rights,
            badge: 0,
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}) {}", self.object, self.kind, self.rights)?;
        if self.badge != 0 {
            write!(f, " badge {:#x}", self.badge)?;
        }
        Ok(())
    }
}

/// A capability space (cspace): an index in the cspace table plus that entry's
/// generation, so an id kept after [`CapSystem::destroy_cspace`] is
/// detected as stale rather than naming the entry's next occupant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CSpaceId {
    pub index: u32,
    pub generation: u32,
}

impl fmt::Display for CSpaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cspace {}", self.index)
    }
}

/// Upper bounds the kernel sets so user space cannot exhaust its heap
/// through capability bookkeeping alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Live cspaces at once.
    pub max_cspaces: u32,
    /// Live capabilities at once, over all cspaces.
    pub max_capabilities: u32,
}

impl Limits {
    /// As many as the `u32` indices allow.
    pub const UNLIMITED: Limits = Limits {
        max_cspaces: u32::MAX,
        max_capabilities: u32::MAX,
    };
}

/// The result of [`CapSystem::revoke`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Revoked {
    /// Capabilities deleted (the revoked one is not among them).
    pub deleted: usize,
    /// Where each deleted capability was and what it named, in deletion
    /// order (`deleted` entries): the kernel remembers these slots as
    /// revoked (so a later use is explained) and wakes the objects' waiters.
    pub emptied: Vec<(CSpaceId, u32, ObjectId)>,
    /// Objects whose last capability was deleted, each once. Empty unless
    /// the revoked capability is a memory capability with objects made from
    /// it.
    pub destroyed: Vec<ObjectId>,
}

/// Why a call was refused. The system is unchanged afterwards.
///
/// Calls that take two slots check the source first, then the target,
/// then rights, then badges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapError {
    /// Never created, or destroyed (a stale generation).
    NoSuchCSpace(CSpaceId),
    SlotOutOfRange {
        slot: u32,
    },
    EmptySlot {
        slot: u32,
    },
    SlotOccupied {
        slot: u32,
    },
    WrongType {
        slot: u32,
        expected: ObjectType,
        found: ObjectType,
    },
    /// `right` holds exactly the rights that were needed but not held.
    MissingRight {
        slot: u32,
        right: Rights,
    },
    /// Mint with a badge from a capability that already has one.
    BadgeAlreadySet {
        slot: u32,
    },
    /// A [`Limits`] bound, or (for [`CapSystem::free_slot`]) every slot of
    /// the space, is in use.
    TableFull,
    OutOfMemory,
    /// `insert_original` or `retype` for an object that still has
    /// capabilities: an object has one original.
    ObjectExists(ObjectId),
}

impl fmt::Display for CapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NoSuchCSpace(s) => {
                write!(
                    f,
                    "no such capability space {s} (generation {})",
                    s.generation
                )
            }
            Self::SlotOutOfRange { slot } => write!(f, "slot {slot} is out of range"),
            Self::EmptySlot { slot } => write!(f, "slot {slot} is empty"),
            Self::SlotOccupied { slot } => write!(f, "slot {slot} is occupied"),
            Self::WrongType {
                slot,
                expected,
                found,
            } => write!(
                f,
                "slot {slot} holds the wrong type: {found}, not {expected}"
            ),
            Self::MissingRight { slot, right } => {
                write!(f, "the capability in slot {slot} lacks rights {right}")
            }
            Self::BadgeAlreadySet { slot } => {
                write!(f, "the capability in slot {slot} is already badged")
            }
            Self::TableFull => f.write_str("capability table full"),
            Self::OutOfMemory => f.write_str("out of memory"),
            Self::ObjectExists(o) => write!(f, "{o} already has capabilities"),
        }
    }
}

impl core::error::Error for CapError {}

#[cfg(test)]
mod tests;
