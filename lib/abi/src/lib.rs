//! The system-call ABI: the one definition of the boundary between user
//! programs and the kernel, compiled into both so they cannot disagree.
//!
//! - [`Sysno`]: the call numbers. Stable since version 2, never reused
//!   since (version 2 gave number 12 to `cap_delete`); 0 is never
//!   assigned, so a zeroed `rax` is an [`SysError::UnknownSyscall`].
//! - [`Syscall`]: a call with typed arguments. [`Syscall::decode`] is the
//!   kernel's first step on every system call. It checks everything that can
//!   be checked without kernel state, in argument order, and reports the first
//!   failure as a specific [`SysError`] that names the argument register.
//!   [`Syscall::encode`] is what the user runtime puts in the registers.
//! - [`SysError`], [`encode_result`], [`decode_result`]: the result
//!   registers. `rax` = 0 for success or an error code, `rdx` = the value or
//!   the error's detail word.
//!
//! Every call that acts on an object names it by a capability slot
//! ([`Handle`]) and needs rights on it; there is no ambient authority.
//! Init starts with the [`initial`] capabilities; every other process has
//! only what its parent granted. Unused argument registers and
//! reserved bits must be zero, so a later ABI version can give them a
//! meaning in which zero keeps today's behaviour.
//!
//! `docs/ABI.md` describes the same ABI for readers; a test checks that it
//! lists every call and every error code.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

use core::fmt;

#[macro_use]
mod numbered;
#[macro_use]
mod table;

mod call;
mod deny;
mod error;
mod ipc;
pub mod metrics;
mod object;
mod rights;
mod syscalls;

pub use call::{Call, CallResult, Reg};
pub use deny::DenyReason;
pub use error::{Detail, ErrorCode, SysError, Unrecognized, decode_result, encode_result};
pub use ipc::{MSG_WORDS, MsgInfo, Received, RecvInfo};
pub use object::ObjectType;
pub use rights::{RightNames, Rights};
pub use syscalls::{Syscall, Sysno, calls};

/// Returned by [`Sysno::AbiVersion`]. The ABI only grows: new calls, new
/// error codes, meanings for registers and bits that must be zero today.
/// Each addition increments the version, so a program that needs one
/// checks `abi_version() >= N`. Since version 2 nothing is removed or
/// renumbered; version 2 was the one break (number 12 went from
/// `handle_close` to `cap_delete`, `process_spawn` gained arguments and
/// error code 49 was retired; docs/ABI.md, "Versions").
/// Version 4 added the trace calls ([`Sysno::TraceRead`],
/// [`Sysno::MetricsRead`], [`Sysno::TraceControl`]) and
/// [`initial::TRACE`]; version 5 the shared-memory calls
/// ([`Sysno::FrameCreate`], [`Sysno::FrameMap`]). docs/ABI.md lists what
/// each version added.
pub const ABI_VERSION: u32 = 7;

pub const PAGE_SIZE: u64 = 4096;
/// One past the highest user address: the lower canonical half.
pub const USER_END: u64 = 0x0000_8000_0000_0000;
/// End of what the `mem_*` calls may touch: the top user page is never
/// mapped. A `syscall` in that page would leave a non-canonical return
/// address in `rcx`, and `sysret` to one faults in kernel mode on Intel
/// CPUs.
pub const USER_MAP_END: u64 = USER_END - PAGE_SIZE;
/// Most bytes one [`Sysno::DebugWrite`] accepts: one page, so the kernel can
/// copy it to a fixed buffer on its stack.
pub const MAX_DEBUG_WRITE: u64 = 4096;
/// Most argument bytes [`Sysno::ProcessSpawn`] passes to a child: one page.
pub const MAX_SPAWN_ARGS: u64 = 4096;
/// [`Sysno::TraceRead`] writes this many bytes first: the cursor to pass
/// next (`u64`), then how many records were skipped because they were
/// overwritten before being read (`u64`). 64-byte records follow.
pub const TRACE_READ_HEADER: u64 = 16;
/// Most bytes one [`Sysno::TraceRead`] or [`Sysno::MetricsRead`] fills.
pub const MAX_TRACE_READ: u64 = 1 << 20;
/// In the result of [`Sysno::FrameMap`] (the bytes mapped): set when the
/// address space is the caller's own.
pub const FRAME_MAP_OWN_SPACE: u64 = 1 << 63;
/// For [`Sysno::ThreadSetCpu`]: any CPU.
pub const ANY_CPU: u32 = u32::MAX;
/// A [`Sysno::ProcessWait`] timeout that never expires. Timeout 0 polls.
pub const WAIT_FOREVER: u64 = u64::MAX;

/// Argument registers in order; decode errors name an argument by its
/// index in this array.
pub const ARG_REGISTERS: [&str; 6] = ["rdi", "rsi", "rdx", "r10", "r8", "r9"];

/// A slot in the calling process's capability table. Only the kernel knows
/// what, if anything, the slot holds; a `Handle` grants nothing by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Handle(pub u32);

impl Handle {
    /// Slot 0 never holds a capability, so a zeroed register names nothing.
    pub const NULL: Handle = Handle(0);
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "h{}", self.0)
    }
}

/// The capabilities init starts with. Other processes get what their
/// parent grants (grant `i` lands in slot `i + 1`); by convention parents
/// keep these slot meanings for what they pass on.
pub mod initial {
    use super::Handle;

    /// The debug console, for [`crate::Sysno::DebugWrite`].
    pub const CONSOLE: Handle = Handle(1);
    /// The process's own address space, for the `mem_*` calls and
    /// `thread_create`.
    pub const SELF_SPACE: Handle = Handle(2);
    /// Memory to make processes and memory capabilities from (init: all
    /// memory left after boot).
    pub const MEMORY: Handle = Handle(3);
    /// Init only: every IRQ line (for user-space drivers, phase 3).
    pub const IRQ_LINES: Handle = Handle(4);
    /// Init only: every I/O port.
    pub const IO_PORTS: Handle = Handle(5);
    /// Init only: every physical address range that is not RAM.
    pub const MMIO: Handle = Handle(6);
    /// Init only: the kernel trace and metrics (`trace_read`,
    /// `metrics_read`, `trace_control`).
    pub const TRACE: Handle = Handle(7);
    /// Init only: boot module `i` (in boot-configuration order) is in slot
    /// `FIRST_MODULE + i`; the slot after the last module is empty.
    pub const FIRST_MODULE: Handle = Handle(16);
}

/// Slots in each capability table: handles `0..CSPACE_SLOTS`; slot 0 is
/// never filled.
pub const CSPACE_SLOTS: u32 = 256;
/// Most capabilities one [`Sysno::ProcessSpawn`] grants.
pub const MAX_GRANTS: u64 = 64;
/// Bytes of one [`Grant`] in memory.
pub const GRANT_SIZE: u64 = 8;

/// One capability [`Sysno::ProcessSpawn`] gives the new process: a
/// derived copy of the caller's `slot` with its rights masked by
/// `rights` (the source needs grant). Grant `i` lands in the child's slot
/// `i + 1`. In memory: `slot` then `rights`, little-endian `u32`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Grant {
    pub slot: u32,
    pub rights: u32,
}

impl Grant {
    /// In [`Grant::slot`]: not a slot of the caller but the new process's
    /// own address space (its original capability stays with nobody else).
    pub const CHILD_SPACE: u32 = u32::MAX;

    pub const fn new(slot: Handle, rights: Rights) -> Grant {
        Grant {
            slot: slot.0,
            rights: rights.bits(),
        }
    }

    pub const fn child_space(rights: Rights) -> Grant {
        Grant {
            slot: Grant::CHILD_SPACE,
            rights: rights.bits(),
        }
    }

    pub const fn to_bytes(self) -> [u8; 8] {
        let s = self.slot.to_le_bytes();
        let r = self.rights.to_le_bytes();
        [s[0], s[1], s[2], s[3], r[0], r[1], r[2], r[3]]
    }

    pub const fn from_bytes(b: [u8; 8]) -> Grant {
        Grant {
            slot: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            rights: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }
}

/// What [`Sysno::CapIdentify`] returns: bits 0..32 the rights, bits 32..40
/// the [`ObjectType`] number, bit 40 set if the capability is badged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CapInfo {
    pub kind: ObjectType,
    pub rights: Rights,
    pub badged: bool,
}

impl CapInfo {
    pub const fn to_raw(self) -> u64 {
        self.rights.bits() as u64 | (self.kind.raw() as u64) << 32 | (self.badged as u64) << 40
    }

    /// `None` for a word this ABI version does not produce.
    pub const fn from_raw(raw: u64) -> Option<CapInfo> {
        let Some(rights) = Rights::from_bits(raw as u32) else {
            return None;
        };
        let Some(kind) = ObjectType::from_raw((raw >> 32) as u8) else {
            return None;
        };
        if raw >> 41 != 0 {
            return None;
        }
        Some(CapInfo {
            kind,
            rights,
            badged: raw >> 40 & 1 == 1,
        })
    }
}

/// A user address as the caller claims it: an allegation, not a pointer.
/// It cannot be dereferenced; the kernel reads and writes user memory only
/// through its usercopy path, which checks the range and survives faults.
/// In a [`Syscall`] returned by [`Syscall::decode`] it is canonical and in
/// the user half; nothing more is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserPtr(u64);

impl UserPtr {
    pub const NULL: UserPtr = UserPtr(0);

    pub const fn new(addr: u64) -> UserPtr {
        UserPtr(addr)
    }

    /// For the user runtime: the address of a buffer it passes.
    pub fn from_ptr<T>(ptr: *const T) -> UserPtr {
        UserPtr(ptr.addr() as u64)
    }

    pub const fn addr(self) -> u64 {
        self.0
    }
}

impl fmt::Display for UserPtr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// Page permissions for [`Sysno::MemMap`] and [`Sysno::MemProtect`]. Any
/// combination can be built; [`Syscall::decode`] refuses write with execute
/// (user mappings are W^X) and anything without read (x86 pages that are
/// present are readable, so a mapping without read cannot be honoured).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Perms(u8);

impl Perms {
    pub const NONE: Perms = Perms(0);
    pub const READ: Perms = Perms(1);
    pub const WRITE: Perms = Perms(2);
    pub const EXECUTE: Perms = Perms(4);
    pub const READ_WRITE: Perms = Perms(1 | 2);
    pub const READ_EXECUTE: Perms = Perms(1 | 4);
    /// Every defined bit; the rest of the register is reserved (future
    /// mapping flags) and must be zero.
    pub const ALL: Perms = Perms(1 | 2 | 4);

    /// `None` if a reserved bit is set.
    pub const fn from_bits(bits: u64) -> Option<Perms> {
        if bits & !(Perms::ALL.0 as u64) == 0 {
            Some(Perms(bits as u8))
        } else {
            None
        }
    }

    pub const fn bits(self) -> u64 {
        self.0 as u64
    }

    pub const fn contains(self, other: Perms) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: Perms) -> Perms {
        Perms(self.0 | other.0)
    }
}

impl core::ops::BitOr for Perms {
    type Output = Perms;

    fn bitor(self, rhs: Perms) -> Perms {
        self.union(rhs)
    }
}

/// `rwx`, with `-` for a missing permission.
impl fmt::Display for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bit = |p: Perms, c: char| if self.contains(p) { c } else { '-' };
        write!(
            f,
            "{}{}{}",
            bit(Perms::READ, 'r'),
            bit(Perms::WRITE, 'w'),
            bit(Perms::EXECUTE, 'x')
        )
    }
}

/// How a process ended: the value of a successful [`Sysno::ProcessWait`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// It called [`Sysno::ProcessExit`] with this code.
    Exited { code: u32 },
    /// The kernel ended it after an exception it did not handle (the
    /// vector, e.g. 14 for a page fault). The kernel log has the details.
    Faulted { vector: u8 },
    /// `process_kill`, or its last process capability was deleted or
    /// revoked, or the memory it was made from was revoked.
    Killed,
}

/// In the status word, bits 32..40 say which [`ExitStatus`] it is.
const STATUS_KIND_SHIFT: u32 = 32;
const STATUS_EXITED: u64 = 0;
const STATUS_FAULTED: u64 = 1;
const STATUS_KILLED: u64 = 2;

impl ExitStatus {
    /// The status word: bits 0..32 the code or vector, bits 32..40 the kind
    /// (0 exited, 1 faulted, 2 killed), the rest zero.
    pub const fn to_raw(self) -> u64 {
        match self {
            ExitStatus::Exited { code } => code as u64 | STATUS_EXITED << STATUS_KIND_SHIFT,
            ExitStatus::Faulted { vector } => vector as u64 | STATUS_FAULTED << STATUS_KIND_SHIFT,
            ExitStatus::Killed => STATUS_KILLED << STATUS_KIND_SHIFT,
        }
    }

    /// `None` for a word this ABI version does not produce.
    pub const fn from_raw(raw: u64) -> Option<ExitStatus> {
        let value = raw & 0xffff_ffff;
        match raw >> STATUS_KIND_SHIFT {
            STATUS_EXITED => Some(ExitStatus::Exited { code: value as u32 }),
            STATUS_FAULTED if value <= u8::MAX as u64 => Some(ExitStatus::Faulted {
                vector: value as u8,
            }),
            STATUS_KILLED if value == 0 => Some(ExitStatus::Killed),
            _ => None,
        }
    }
}

impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ExitStatus::Exited { code } => write!(f, "exited with code {code}"),
            ExitStatus::Faulted { vector } => write!(f, "ended by exception {vector}"),
            ExitStatus::Killed => write!(f, "killed"),
        }
    }
}

#[cfg(test)]
mod tests;
