//! Host tests of the ABI crate.
//!
//! # Test layout (every `lib/` crate)
//!
//! Host tests live in `src/tests/`, declared once from `lib.rs` as
//! `#[cfg(test)] mod tests;`: no `#[path]`, no test modules inside the
//! crate's own modules.
//!
//! - `tests/mod.rs`: what the tests cover, the `mod` lines, and the helpers
//!   more than one file uses.
//! - `tests/<topic>.rs`: the unit tests of one concept, opening with a line
//!   that says which; under about 600 lines.
//! - `tests/props.rs` (or `props_<topic>.rs`): the property tests and their
//!   strategies.
//!
//! A crate whose unit tests fit in one file has just `mod.rs` (and
//! `props.rs`). A test that needs a private item gets it made
//! `pub(crate)`. Cases that repeat a test with other values are rows of a
//! table, or are generated from the crate's own lists (`ALL`), not copies.
//!
//! # This crate
//!
//! `samples.rs` has one row per system call: its `calls::` constructor,
//! what each argument register holds ([`Kind`]), the registers and the
//! trace line. Encode, decode and `Display` (`round_trip`), each kind's
//! decode checks at every argument position (`decode_*`) and the property
//! tests (`props`, which also hold decode to a model built from the kinds)
//! run over those rows, so a new call needs its row there, its line in
//! `numbers.rs`'s list of stable numbers and its rows in docs/ABI.md
//! (`docs`), and no new test code. The rest: error and result words
//! (`errors`, `values`, `props_words`) and docs/ABI.md (`docs`,
//! `docs_calls`).

use super::*;

mod decode_messages;
mod decode_order;
mod decode_ranges;
mod decode_values;
mod docs;
mod docs_calls;
mod errors;
mod numbers;
mod props;
mod props_words;
mod round_trip;
mod samples;
mod values;

use samples::*;

const H: Handle = Handle(7);
const BUF: UserPtr = UserPtr::new(0x40_0000);
const GRANTS: UserPtr = UserPtr::new(0x40_1000);

/// Where the sample `frame_map` puts its frame: page-aligned.
const SHARED_AT: UserPtr = UserPtr::new(0x7000_0000);

/// Bytes of one trace record in a `trace_read` buffer
/// (`ferrous_trace::record::BYTES`, checked against that crate's source
/// below). The ABI crate does not define it; docs/ABI.md states it.
const TRACE_RECORD: u64 = 64;

/// `metrics_read` of a trace capability with `n` CPUs: `n`, five counters
/// per CPU, 64 per-call counts, the records lost. Written out from
/// docs/ABI.md.
const fn kernel_metrics_words(n: u64) -> u64 {
    1 + 5 * n + 64 + 1
}

/// A message info with every field set: 2 words, capability slot 9.
const SEND_INFO: MsgInfo = MsgInfo {
    words: 2,
    nonblocking: false,
    cap_slot: 9,
    timeout_us: 0,
};

/// A receive into slot 10 with a 500 µs timeout.
const RECV_INFO: MsgInfo = MsgInfo {
    words: 0,
    nonblocking: false,
    cap_slot: 10,
    timeout_us: 500,
};

/// A reply of 3 words, then a receive that does not wait.
const REPLY_RECV_INFO: MsgInfo = MsgInfo {
    words: 3,
    nonblocking: true,
    cap_slot: 0,
    timeout_us: 0,
};

/// The bits a [`MsgInfo`] defines: words 0..3, non-blocking 4, capability
/// slot 8..16, timeout 32..64. Written out, not taken from the crate, so a
/// moved field fails here.
const MSG_INFO_DEFINED: u64 = 0xffff_ffff_0000_ff17;

/// The bits a [`RecvInfo`] defines: words 0..3, capability received 5,
/// call 6, causal ID 32..64.
const RECV_INFO_DEFINED: u64 = 0xffff_ffff_0000_0067;

/// The rights in bit order, with their ABI names.
const RIGHTS: [(Rights, &str); 10] = [
    (Rights::READ, "read"),
    (Rights::WRITE, "write"),
    (Rights::EXECUTE, "execute"),
    (Rights::GRANT, "grant"),
    (Rights::DERIVE, "derive"),
    (Rights::SEND, "send"),
    (Rights::RECEIVE, "receive"),
    (Rights::SIGNAL, "signal"),
    (Rights::WAIT, "wait"),
    (Rights::CONTROL, "control"),
];

/// Rights that are missing in the sample errors: a letter right and a
/// named one, so both halves of the detail's rights field are used.
const MISSING: Rights = Rights::WRITE.union(Rights::CONTROL);

/// The error of kind `code` built directly (not through `from_code`), from
/// an argument index, rights and a word for the other details.
fn make_error(code: ErrorCode, arg: u8, missing: Rights, word: u64) -> SysError {
    use SysError::*;
    match code {
        ErrorCode::UnknownSyscall => UnknownSyscall { nr: word },
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
        ErrorCode::BadAddress => BadAddress { addr: word },
        ErrorCode::PermissionDenied => PermissionDenied { addr: word },
        ErrorCode::AlreadyMapped => AlreadyMapped { addr: word },
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
    }
}

fn decode(nr: Sysno, args: [u64; 6]) -> Result<Syscall, SysError> {
    Syscall::decode(nr as u64, args)
}
