//! Why a capability operation was refused.

use ferrous_abi::{DenyReason, ObjectType, Rights};

/// Why a capability operation was refused, with what the trace and the log
/// say about it: the ABI's [`DenyReason`] plus the types or rights
/// involved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denial {
    EmptySlot,
    Revoked,
    SlotOutOfRange,
    WrongType {
        expected: ObjectType,
        found: ObjectType,
    },
    MissingRight(Rights),
    SlotOccupied,
    BadgeAlreadySet,
    TableFull,
    OutOfMemory,
    ProcessEnded,
}

impl Denial {
    /// The reason code `cap.denied` records carry.
    pub fn reason(self) -> DenyReason {
        match self {
            Denial::EmptySlot => DenyReason::EmptySlot,
            Denial::Revoked => DenyReason::Revoked,
            Denial::SlotOutOfRange => DenyReason::SlotOutOfRange,
            Denial::WrongType { .. } => DenyReason::WrongType,
            Denial::MissingRight(_) => DenyReason::MissingRight,
            Denial::SlotOccupied => DenyReason::SlotOccupied,
            Denial::BadgeAlreadySet => DenyReason::BadgeAlreadySet,
            Denial::TableFull => DenyReason::TableFull,
            Denial::OutOfMemory => DenyReason::OutOfMemory,
            Denial::ProcessEnded => DenyReason::ProcessEnded,
        }
    }

    /// The rights that were missing (none for the other reasons).
    pub fn missing(self) -> Rights {
        match self {
            Denial::MissingRight(r) => r,
            _ => Rights::NONE,
        }
    }
}

impl core::fmt::Display for Denial {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Denial::WrongType { expected, found } => {
                write!(f, "wrong type: {found}, needs {expected}")
            }
            Denial::MissingRight(r) => write!(f, "missing right {}", r.names()),
            Denial::EmptySlot => f.write_str("empty slot"),
            Denial::Revoked => f.write_str("revoked"),
            Denial::SlotOutOfRange => f.write_str("slot out of range"),
            Denial::SlotOccupied => f.write_str("destination occupied"),
            Denial::BadgeAlreadySet => f.write_str("already badged"),
            Denial::TableFull => f.write_str("capability table full"),
            Denial::OutOfMemory => f.write_str("out of memory"),
            Denial::ProcessEnded => f.write_str("process ended"),
        }
    }
}
