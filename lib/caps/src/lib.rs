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
//! - A capability space ([`SpaceId`], one per process) has a fixed number
//!   of slots; a slot index is what user space calls a handle.
//! - One derivation tree spans all spaces. The kernel inserts an object's
//!   original capability ([`CapSystem::insert_original`], no parent) or,
//!   for an object carved out of an Untyped, a child of the Untyped
//!   capability ([`CapSystem::retype`]). [`CapSystem::copy`] and
//!   [`CapSystem::mint`] add children; rights only ever shrink along a
//!   path, and a badge, once set, stays. [`CapSystem::move_cap`] keeps
//!   the node. [`CapSystem::delete`] re-parents the children to the
//!   deleted capability's parent; [`CapSystem::revoke`] deletes the whole
//!   subtree below a capability, in every space.
//! - An object is destroyed when its last capability goes; every call that
//!   deletes returns the objects destroyed, each exactly once, and the
//!   kernel frees them.
//!
//! Guarantees: a failed call changes nothing, and errors say what was
//! wrong ([`CapError`]). Nothing panics on caller input. Allocation uses
//! `try_reserve` and fails with [`CapError::OutOfMemory`]; only
//! [`CapSystem::create_space`], `insert_original`, `retype`, `copy`,
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
use core::ops::{BitAnd, BitOr};

mod system;

pub use system::CapSystem;

/// A kernel object, as named by the kernel. Opaque here: only equality
/// matters. The kernel may reuse an id once the object is destroyed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId(pub u64);

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "object {}", self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectType {
    /// Memory from which other objects are made ([`CapSystem::retype`]).
    Untyped,
    Frame,
    AddressSpace,
    Thread,
    Process,
    Endpoint,
    Notification,
    IrqLine,
    IoPorts,
    MmioRegion,
    ResourceGroup,
    TraceBuffer,
    Console,
    Module,
}

impl ObjectType {
    pub const ALL: [ObjectType; 14] = [
        Self::Untyped,
        Self::Frame,
        Self::AddressSpace,
        Self::Thread,
        Self::Process,
        Self::Endpoint,
        Self::Notification,
        Self::IrqLine,
        Self::IoPorts,
        Self::MmioRegion,
        Self::ResourceGroup,
        Self::TraceBuffer,
        Self::Console,
        Self::Module,
    ];

    /// The stable number user space sees (`cap_identify`): the index in
    /// [`ObjectType::ALL`] plus one, so 0 never names a type.
    pub const fn raw(self) -> u8 {
        match self {
            Self::Untyped => 1,
            Self::Frame => 2,
            Self::AddressSpace => 3,
            Self::Thread => 4,
            Self::Process => 5,
            Self::Endpoint => 6,
            Self::Notification => 7,
            Self::IrqLine => 8,
            Self::IoPorts => 9,
            Self::MmioRegion => 10,
            Self::ResourceGroup => 11,
            Self::TraceBuffer => 12,
            Self::Console => 13,
            Self::Module => 14,
        }
    }

    pub const fn from_raw(raw: u8) -> Option<ObjectType> {
        match raw {
            1..=14 => Some(Self::ALL[raw as usize - 1]),
            _ => None,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Self::Untyped => "memory",
            Self::Frame => "frame",
            Self::AddressSpace => "address_space",
            Self::Thread => "thread",
            Self::Process => "process",
            Self::Endpoint => "endpoint",
            Self::Notification => "notification",
            Self::IrqLine => "irq_line",
            Self::IoPorts => "io_ports",
            Self::MmioRegion => "mmio_region",
            Self::ResourceGroup => "resource_group",
            Self::TraceBuffer => "trace_buffer",
            Self::Console => "console",
            Self::Module => "module",
        }
    }
}

impl fmt::Display for ObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of rights. Only the defined bits can be set, so a `Rights` read
/// from user space goes through [`Rights::from_bits`] (strict) or
/// [`Rights::from_bits_truncate`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rights(u32);

impl Rights {
    pub const READ: Rights = Rights(1 << 0);
    pub const WRITE: Rights = Rights(1 << 1);
    /// May be mapped executable.
    pub const EXECUTE: Rights = Rights(1 << 2);
    /// May be passed to another space in IPC.
    pub const GRANT: Rights = Rights(1 << 3);
    /// May be copied or minted.
    pub const DERIVE: Rights = Rights(1 << 4);
    pub const SEND: Rights = Rights(1 << 5);
    pub const RECEIVE: Rights = Rights(1 << 6);
    pub const SIGNAL: Rights = Rights(1 << 7);
    pub const WAIT: Rights = Rights(1 << 8);
    /// Type-specific management (thread control, IRQ acknowledge, ...).
    pub const CONTROL: Rights = Rights(1 << 9);

    pub const NONE: Rights = Rights(0);
    pub const ALL: Rights = Rights((1 << 10) - 1);

    /// Letters first (shown as `rwxgd`), then the names of the rest.
    const LETTERS: [(Rights, char); 5] = [
        (Self::READ, 'r'),
        (Self::WRITE, 'w'),
        (Self::EXECUTE, 'x'),
        (Self::GRANT, 'g'),
        (Self::DERIVE, 'd'),
    ];
    const NAMES: [(Rights, &'static str); 5] = [
        (Self::SEND, "send"),
        (Self::RECEIVE, "receive"),
        (Self::SIGNAL, "signal"),
        (Self::WAIT, "wait"),
        (Self::CONTROL, "control"),
    ];

    pub const fn bits(self) -> u32 {
        self.0
    }

    /// `None` if an undefined bit is set.
    pub const fn from_bits(bits: u32) -> Option<Rights> {
        if bits & !Self::ALL.0 == 0 {
            Some(Rights(bits))
        } else {
            None
        }
    }

    pub const fn from_bits_truncate(bits: u32) -> Rights {
        Rights(bits & Self::ALL.0)
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Every right in `other` is in `self`.
    pub const fn contains(self, other: Rights) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: Rights) -> Rights {
        Rights(self.0 | other.0)
    }

    pub const fn intersection(self, other: Rights) -> Rights {
        Rights(self.0 & other.0)
    }

    /// The rights in `self` that are not in `other`.
    pub const fn difference(self, other: Rights) -> Rights {
        Rights(self.0 & !other.0)
    }
}

impl BitOr for Rights {
    type Output = Rights;
    fn bitor(self, rhs: Rights) -> Rights {
        self.union(rhs)
    }
}

impl BitAnd for Rights {
    type Output = Rights;
    fn bitand(self, rhs: Rights) -> Rights {
        self.intersection(rhs)
    }
}

/// `rw--d+send+receive`: a letter or `-` for each of read, write,
/// execute, grant, derive, then `+name` for each type-specific right.
impl fmt::Display for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (right, letter) in Self::LETTERS {
            let c = if self.contains(right) { letter } else { '-' };
            write!(f, "{c}")?;
        }
        for (right, name) in Self::NAMES {
            if self.contains(right) {
                write!(f, "+{name}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Rights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rights({self})")
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

/// A capability space: an index in the space table plus that entry's
/// generation, so an id kept after [`CapSystem::destroy_space`] is
/// detected as stale rather than naming the entry's next occupant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpaceId {
    pub index: u32,
    pub generation: u32,
}

impl fmt::Display for SpaceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "space {}", self.index)
    }
}

/// Upper bounds the kernel sets so user space cannot exhaust its heap
/// through capability bookkeeping alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Live spaces at once.
    pub max_spaces: u32,
    /// Live capabilities at once, over all spaces.
    pub max_capabilities: u32,
}

impl Limits {
    /// As many as the `u32` indices allow.
    pub const UNLIMITED: Limits = Limits {
        max_spaces: u32::MAX,
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
    pub emptied: Vec<(SpaceId, u32, ObjectId)>,
    /// Objects whose last capability was deleted, each once. Empty unless
    /// the revoked capability is an Untyped with objects made from it.
    pub destroyed: Vec<ObjectId>,
}

/// Why a call was refused. The system is unchanged afterwards.
///
/// Calls that take two slots check the source first, then the target,
/// then rights, then badges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CapError {
    /// Never created, or destroyed (a stale generation).
    NoSuchSpace(SpaceId),
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
            Self::NoSuchSpace(s) => {
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
mod proptests;
#[cfg(test)]
mod tests;
