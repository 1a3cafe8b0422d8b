//! Error codes and the result registers.

use crate::ARG_REGISTERS;
use core::fmt;

numbered! {
    /// The stable code of each [`SysError`], returned in `rax`. Codes are
    /// grouped by what went wrong (`code / 16`): 1–15 the call is malformed
    /// (found by [`crate::Syscall::decode`] without looking at kernel
    /// state; retrying cannot help), 16–31 memory, 32–47 capabilities,
    /// 48–63 processes and waiting, 64–79 hardware. Codes are never
    /// reused.
    pub enum ErrorCode {
        UnknownSyscall = 1 => "UnknownSyscall",
        UnusedArgumentNotZero = 2 => "UnusedArgumentNotZero",
        ReservedBitsSet = 3 => "ReservedBitsSet",
        NonCanonicalPointer = 4 => "NonCanonicalPointer",
        KernelPointer = 5 => "KernelPointer",
        LengthWraps = 6 => "LengthWraps",
        LengthTooLarge = 7 => "LengthTooLarge",
        RangeOutsideUser = 8 => "RangeOutsideUser",
        ZeroLength = 9 => "ZeroLength",
        Misaligned = 10 => "Misaligned",
        WriteAndExecute = 11 => "WriteAndExecute",
        PermsWithoutRead = 12 => "PermsWithoutRead",
        BadAddress = 16 => "BadAddress",
        PermissionDenied = 17 => "PermissionDenied",
        AlreadyMapped = 18 => "AlreadyMapped",
        OutOfMemory = 19 => "OutOfMemory",
        AddressSpaceFull = 20 => "AddressSpaceFull",
        QuotaExceeded = 21 => "QuotaExceeded",
        EmptySlot = 32 => "EmptySlot",
        SlotOutOfRange = 33 => "SlotOutOfRange",
        WrongObjectType = 34 => "WrongObjectType",
        MissingRight = 35 => "MissingRight",
        TableFull = 36 => "TableFull",
        SlotOccupied = 37 => "SlotOccupied",
        BadgeAlreadySet = 38 => "BadgeAlreadySet",
        ObjectGone = 39 => "ObjectGone",
        BadElf = 48 => "BadElf",
        NotChild = 49 => "NotChild",
        WouldBlock = 50 => "WouldBlock",
        TimedOut = 51 => "TimedOut",
        NoPendingReply = 52 => "NoPendingReply",
        CallerGone = 53 => "CallerGone",
        NoSuchCpu = 54 => "NoSuchCpu",
        OutsideRange = 64 => "OutsideRange",
        LineBusy = 65 => "LineBusy",
        NotBound = 66 => "NotBound",
    }
}

/// What an error's detail word (`rdx`) holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Detail {
    /// Zero. A decoder ignores it, so a later version may add one.
    None,
    /// The argument at fault, as an index into [`ARG_REGISTERS`], in bits
    /// 0..8; the other bits are zero (reserved, ignored by a decoder).
    Arg,
    /// The user address at fault.
    Addr,
    /// The system-call number that was not recognised.
    Number,
    /// As [`Detail::Arg`], plus the missing [`crate::Rights`] bits in bits
    /// 8..40.
    ArgRights,
}

impl ErrorCode {
    pub const fn detail(self) -> Detail {
        use ErrorCode::*;
        match self {
            UnknownSyscall => Detail::Number,
            UnusedArgumentNotZero
            | ReservedBitsSet
            | NonCanonicalPointer
            | KernelPointer
            | LengthWraps
            | LengthTooLarge
            | RangeOutsideUser
            | ZeroLength
            | Misaligned
            | WriteAndExecute
            | PermsWithoutRead
            | EmptySlot
            | SlotOutOfRange
            | WrongObjectType
            | SlotOccupied
            | BadgeAlreadySet
            | NotChild
            | OutsideRange
            | NotBound => Detail::Arg,
            MissingRight => Detail::ArgRights,
            BadAddress | PermissionDenied | AlreadyMapped => Detail::Addr,
            OutOfMemory | AddressSpaceFull | QuotaExceeded | TableFull | BadElf | WouldBlock
            | TimedOut | ObjectGone | NoPendingReply | CallerGone | NoSuchCpu | LineBusy => {
                Detail::None
            }
        }
    }

    /// 1–15: the call itself is malformed; no kernel state was consulted.
    pub const fn is_decode_error(self) -> bool {
        (self as u64) < 16
    }
}

/// Why a system call failed. `arg` is an index into [`ARG_REGISTERS`]
/// (0 = `rdi`); `addr` is a user address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SysError {
    /// `rax` names no system call.
    UnknownSyscall { nr: u64 },
    /// An argument register the call does not use is not zero.
    UnusedArgumentNotZero { arg: u8 },
    /// Bits the ABI reserves are set: above bit 31 of a handle or exit
    /// code, above the defined [`crate::Perms`] or [`crate::Rights`] bits.
    ReservedBitsSet { arg: u8 },
    /// An address with bits 63..47 not all equal.
    NonCanonicalPointer { arg: u8 },
    /// An address in the kernel half.
    KernelPointer { arg: u8 },
    /// Address + length overflows 64 bits (`arg` is the length).
    LengthWraps { arg: u8 },
    /// The length exceeds the call's limit.
    LengthTooLarge { arg: u8 },
    /// The range ends above [`crate::USER_END`], or for the `mem_*` calls
    /// above [`crate::USER_MAP_END`] (`arg` is the length).
    RangeOutsideUser { arg: u8 },
    /// A zero length where the call needs at least a page.
    ZeroLength { arg: u8 },
    /// An address or length that is not a multiple of [`crate::PAGE_SIZE`].
    Misaligned { arg: u8 },
    /// Write with execute: user mappings are W^X.
    WriteAndExecute { arg: u8 },
    /// Write or execute, or nothing, without read.
    PermsWithoutRead { arg: u8 },
    /// Nothing is mapped at `addr`, or a copy from or to it faulted.
    BadAddress { addr: u64 },
    /// `addr` is mapped, but its page permissions forbid the access.
    PermissionDenied { addr: u64 },
    /// A fixed [`crate::Sysno::MemMap`] overlaps a mapping at `addr`.
    AlreadyMapped { addr: u64 },
    /// The kernel could not allocate memory for the call.
    OutOfMemory,
    /// No free range of the requested length in the address space.
    AddressSpaceFull,
    /// The memory capability the call charges has too little budget left.
    QuotaExceeded,
    /// The handle's slot holds no capability.
    EmptySlot { arg: u8 },
    /// The handle is beyond the end of the capability table.
    SlotOutOfRange { arg: u8 },
    /// The handle names an object of another type than the call needs.
    WrongObjectType { arg: u8 },
    /// The capability lacks rights the call needs: exactly `missing`.
    MissingRight { arg: u8, missing: crate::Rights },
    /// No free slot for the handle the call would return, or another
    /// per-process table (threads) is full.
    TableFull,
    /// The destination slot already holds a capability.
    SlotOccupied { arg: u8 },
    /// `cap_mint` with a badge from a capability that already has one.
    BadgeAlreadySet { arg: u8 },
    /// The capability a blocked call was using was deleted or revoked, or
    /// its object destroyed, while the caller waited; or the call's target
    /// (or the caller's own process) has already ended.
    ObjectGone,
    /// The module is not a valid user program; the kernel log says why.
    BadElf,
    /// ABI 1 only (waiting needs a process capability since ABI 2); the
    /// kernel no longer returns it, and the code is never reused.
    NotChild { arg: u8 },
    /// Not ready, and the timeout was 0.
    WouldBlock,
    /// The timeout expired first.
    TimedOut,
    /// `ipc_reply` without a call to answer.
    NoPendingReply,
    /// The caller this reply was for has gone (it died or its call timed
    /// out); the reply capability was used up.
    CallerGone,
    /// No online CPU has that number.
    NoSuchCpu,
    /// A line, port or address the hardware capability's range does not
    /// hold.
    OutsideRange { arg: u8 },
    /// The interrupt line is already bound to a notification.
    LineBusy,
    /// `irq_ack` of a line not bound through this capability.
    NotBound { arg: u8 },
    /// A code, or a code and detail, that this version of the crate does
    /// not know: only [`decode_result`] and [`SysError::from_code`]'s
    /// callers see it, from a newer kernel. The kernel never returns it.
    Unrecognized(Unrecognized),
}

/// The raw words of an error this crate version does not know. Only made by
/// [`decode_result`], so it never holds code 0 or a known code with a
/// well-formed detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Unrecognized {
    code: u64,
    detail: u64,
}

impl Unrecognized {
    pub const fn code(self) -> u64 {
        self.code
    }

    pub const fn detail(self) -> u64 {
        self.detail
    }
}

impl SysError {
    /// `None` only for [`SysError::Unrecognized`].
    pub const fn kind(self) -> Option<ErrorCode> {
        use SysError::*;
        Some(match self {
            UnknownSyscall { .. } => ErrorCode::UnknownSyscall,
            UnusedArgumentNotZero { .. } => ErrorCode::UnusedArgumentNotZero,
            ReservedBitsSet { .. } => ErrorCode::ReservedBitsSet,
            NonCanonicalPointer { .. } => ErrorCode::NonCanonicalPointer,
            KernelPointer { .. } => ErrorCode::KernelPointer,
            LengthWraps { .. } => ErrorCode::LengthWraps,
            LengthTooLarge { .. } => ErrorCode::LengthTooLarge,
            RangeOutsideUser { .. } => ErrorCode::RangeOutsideUser,
            ZeroLength { .. } => ErrorCode::ZeroLength,
            Misaligned { .. } => ErrorCode::Misaligned,
            WriteAndExecute { .. } => ErrorCode::WriteAndExecute,
            PermsWithoutRead { .. } => ErrorCode::PermsWithoutRead,
            BadAddress { .. } => ErrorCode::BadAddress,
            PermissionDenied { .. } => ErrorCode::PermissionDenied,
            AlreadyMapped { .. } => ErrorCode::AlreadyMapped,
            OutOfMemory => ErrorCode::OutOfMemory,
            AddressSpaceFull => ErrorCode::AddressSpaceFull,
            QuotaExceeded => ErrorCode::QuotaExceeded,
            EmptySlot { .. } => ErrorCode::EmptySlot,
            SlotOutOfRange { .. } => ErrorCode::SlotOutOfRange,
            WrongObjectType { .. } => ErrorCode::WrongObjectType,
            MissingRight { .. } => ErrorCode::MissingRight,
            TableFull => ErrorCode::TableFull,
            SlotOccupied { .. } => ErrorCode::SlotOccupied,
            BadgeAlreadySet { .. } => ErrorCode::BadgeAlreadySet,
            ObjectGone => ErrorCode::ObjectGone,
            BadElf => ErrorCode::BadElf,
            NotChild { .. } => ErrorCode::NotChild,
            WouldBlock => ErrorCode::WouldBlock,
            TimedOut => ErrorCode::TimedOut,
            NoPendingReply => ErrorCode::NoPendingReply,
            CallerGone => ErrorCode::CallerGone,
            NoSuchCpu => ErrorCode::NoSuchCpu,
            OutsideRange { .. } => ErrorCode::OutsideRange,
            LineBusy => ErrorCode::LineBusy,
            NotBound { .. } => ErrorCode::NotBound,
            Unrecognized(_) => return None,
        })
    }

    /// The value for `rax`; never 0.
    pub const fn code(self) -> u64 {
        match (self, self.kind()) {
            (SysError::Unrecognized(u), _) => u.code,
            (_, Some(kind)) => kind as u64,
            // Unreachable: `kind` is `None` only for `Unrecognized`.
            (_, None) => u64::MAX,
        }
    }

    /// The value for `rdx`: see [`Detail`].
    pub const fn detail(self) -> u64 {
        use SysError::*;
        match self {
            UnknownSyscall { nr } => nr,
            UnusedArgumentNotZero { arg }
            | ReservedBitsSet { arg }
            | NonCanonicalPointer { arg }
            | KernelPointer { arg }
            | LengthWraps { arg }
            | LengthTooLarge { arg }
            | RangeOutsideUser { arg }
            | ZeroLength { arg }
            | Misaligned { arg }
            | WriteAndExecute { arg }
            | PermsWithoutRead { arg }
            | EmptySlot { arg }
            | SlotOutOfRange { arg }
            | WrongObjectType { arg }
            | SlotOccupied { arg }
            | BadgeAlreadySet { arg }
            | NotChild { arg }
            | OutsideRange { arg }
            | NotBound { arg } => arg as u64,
            MissingRight { arg, missing } => arg as u64 | (missing.bits() as u64) << 8,
            BadAddress { addr } | PermissionDenied { addr } | AlreadyMapped { addr } => addr,
            OutOfMemory | AddressSpaceFull | QuotaExceeded | TableFull | BadElf | WouldBlock
            | TimedOut | ObjectGone | NoPendingReply | CallerGone | NoSuchCpu | LineBusy => 0,
            Unrecognized(u) => u.detail,
        }
    }

    /// The argument at fault, for errors that name one.
    pub const fn arg(self) -> Option<u8> {
        match self.kind() {
            Some(kind) if matches!(kind.detail(), Detail::Arg | Detail::ArgRights) => {
                Some(self.detail() as u8)
            }
            _ => None,
        }
    }

    /// The error for a code and detail word. `None` for 0 (success), for a
    /// code this version does not know, and for an argument index beyond
    /// the six registers. A detail on an error that has none is ignored.
    pub const fn from_code(code: u64, detail: u64) -> Option<SysError> {
        use SysError::*;
        let Some(kind) = ErrorCode::from_raw(code) else {
            return None;
        };
        let arg = (detail & 0xff) as u8;
        if matches!(kind.detail(), Detail::Arg | Detail::ArgRights)
            && arg as usize >= ARG_REGISTERS.len()
        {
            return None;
        }
        // Rights bits this version does not know make the word unknown.
        let missing = match crate::Rights::from_bits((detail >> 8) as u32) {
            Some(r) if detail >> 40 == 0 => r,
            _ if matches!(kind.detail(), Detail::ArgRights) => return None,
            _ => crate::Rights::NONE,
        };
        let addr = detail;
        Some(match kind {
            ErrorCode::UnknownSyscall => UnknownSyscall { nr: detail },
            ErrorCode::UnusedArgumentNotZero => UnusedArgumentNotZero { arg },
            ErrorCode::ReservedBitsSet => ReservedBitsSet { arg },
            ErrorCode::NonCanonicalPointer => NonCanonicalPointer { arg },
            ErrorCode::KernelPointer => KernelPointer { arg },
            ErrorCode::LengthWraps => LengthWraps { arg },
            ErrorCode::LengthTooLarge => LengthTooLarge { arg },
            ErrorCode::RangeOutsideUser => RangeOutsideUser { arg },
            ErrorCode::ZeroLength => ZeroLength { arg },
            ErrorCode::Misaligned => Misaligned { arg },
            ErrorCode::WriteAndExecute => WriteAndExecute { arg },
            ErrorCode::PermsWithoutRead => PermsWithoutRead { arg },
            ErrorCode::BadAddress => BadAddress { addr },
            ErrorCode::PermissionDenied => PermissionDenied { addr },
            ErrorCode::AlreadyMapped => AlreadyMapped { addr },
            ErrorCode::OutOfMemory => OutOfMemory,
            ErrorCode::AddressSpaceFull => AddressSpaceFull,
            ErrorCode::QuotaExceeded => QuotaExceeded,
            ErrorCode::EmptySlot => EmptySlot { arg },
            ErrorCode::SlotOutOfRange => SlotOutOfRange { arg },
            ErrorCode::WrongObjectType => WrongObjectType { arg },
            ErrorCode::MissingRight => MissingRight { arg, missing },
            ErrorCode::TableFull => TableFull,
            ErrorCode::SlotOccupied => SlotOccupied { arg },
            ErrorCode::BadgeAlreadySet => BadgeAlreadySet { arg },
            ErrorCode::ObjectGone => ObjectGone,
            ErrorCode::BadElf => BadElf,
            ErrorCode::NotChild => NotChild { arg },
            ErrorCode::WouldBlock => WouldBlock,
            ErrorCode::TimedOut => TimedOut,
            ErrorCode::NoPendingReply => NoPendingReply,
            ErrorCode::CallerGone => CallerGone,
            ErrorCode::NoSuchCpu => NoSuchCpu,
            ErrorCode::OutsideRange => OutsideRange { arg },
            ErrorCode::LineBusy => LineBusy,
            ErrorCode::NotBound => NotBound { arg },
        })
    }

    /// The [`ErrorCode`] name, or `Unrecognized`.
    pub const fn name(self) -> &'static str {
        match self.kind() {
            Some(kind) => kind.name(),
            None => "Unrecognized",
        }
    }
}

/// "argument 2 (rdx)". Callers pass indices below 6.
struct Arg(u8);

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reg = ARG_REGISTERS.get(self.0 as usize).copied().unwrap_or("?");
        write!(f, "argument {} ({reg})", self.0)
    }
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SysError::*;
        match *self {
            UnknownSyscall { nr } => write!(f, "unknown system call {nr}"),
            UnusedArgumentNotZero { arg } => {
                write!(f, "{}: not used by this call but not zero", Arg(arg))
            }
            ReservedBitsSet { arg } => write!(f, "{}: reserved bits set", Arg(arg)),
            NonCanonicalPointer { arg } => write!(f, "{}: address not canonical", Arg(arg)),
            KernelPointer { arg } => write!(f, "{}: address in the kernel half", Arg(arg)),
            LengthWraps { arg } => write!(f, "{}: address + length wraps around", Arg(arg)),
            LengthTooLarge { arg } => {
                write!(f, "{}: length exceeds this call's limit", Arg(arg))
            }
            RangeOutsideUser { arg } => {
                write!(f, "{}: range extends past the end of user space", Arg(arg))
            }
            ZeroLength { arg } => write!(f, "{}: length is zero", Arg(arg)),
            Misaligned { arg } => write!(f, "{}: not a multiple of the page size", Arg(arg)),
            WriteAndExecute { arg } => {
                write!(
                    f,
                    "{}: write with execute (user mappings are W^X)",
                    Arg(arg)
                )
            }
            PermsWithoutRead { arg } => write!(f, "{}: permissions without read", Arg(arg)),
            BadAddress { addr } => write!(f, "nothing mapped at {addr:#x}"),
            PermissionDenied { addr } => {
                write!(f, "page permissions forbid the access at {addr:#x}")
            }
            AlreadyMapped { addr } => write!(f, "{addr:#x} is already mapped"),
            OutOfMemory => write!(f, "out of memory"),
            AddressSpaceFull => write!(f, "no free address range of that length"),
            QuotaExceeded => write!(f, "the memory capability's budget is exhausted"),
            EmptySlot { arg } => write!(f, "{}: empty capability slot", Arg(arg)),
            SlotOutOfRange { arg } => {
                write!(f, "{}: slot beyond the capability table", Arg(arg))
            }
            WrongObjectType { arg } => {
                write!(f, "{}: handle names the wrong type of object", Arg(arg))
            }
            MissingRight { arg, missing } => {
                write!(f, "{}: capability lacks rights {missing}", Arg(arg))
            }
            TableFull => write!(f, "capability table full"),
            SlotOccupied { arg } => write!(f, "{}: slot already holds a capability", Arg(arg)),
            BadgeAlreadySet { arg } => write!(f, "{}: capability is already badged", Arg(arg)),
            ObjectGone => write!(f, "the capability waited on was deleted or revoked"),
            BadElf => write!(f, "module is not a valid user program"),
            NotChild { arg } => write!(f, "{}: not a child of the caller", Arg(arg)),
            WouldBlock => write!(f, "not ready, and the timeout was zero"),
            TimedOut => write!(f, "timed out"),
            NoPendingReply => write!(f, "no call to reply to"),
            CallerGone => write!(f, "the caller is gone"),
            NoSuchCpu => write!(f, "no such CPU"),
            OutsideRange { arg } => {
                write!(f, "{}: outside the capability's hardware range", Arg(arg))
            }
            LineBusy => write!(f, "the interrupt line is already bound"),
            NotBound { arg } => {
                write!(f, "{}: line not bound through this capability", Arg(arg))
            }
            Unrecognized(u) => write!(
                f,
                "unrecognized error code {} (detail {:#x})",
                u.code, u.detail
            ),
        }
    }
}

/// The result registers `(rax, rdx)`: `(0, value)` or `(code, detail)`.
pub const fn encode_result(result: Result<u64, SysError>) -> (u64, u64) {
    match result {
        Ok(value) => (0, value),
        Err(e) => (e.code(), e.detail()),
    }
}

/// The inverse of [`encode_result`], total: words a newer kernel may send
/// that this version does not know become [`SysError::Unrecognized`].
pub const fn decode_result(rax: u64, rdx: u64) -> Result<u64, SysError> {
    if rax == 0 {
        return Ok(rdx);
    }
    match SysError::from_code(rax, rdx) {
        Some(e) => Err(e),
        None => Err(SysError::Unrecognized(Unrecognized {
            code: rax,
            detail: rdx,
        })),
    }
}
