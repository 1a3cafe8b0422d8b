//! Host tests of the ABI crate, one concept per file: the published
//! numbers, round trips of the sample calls, each decode check, the error
//! and result words, docs/ABI.md, then property tests.

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
mod values;

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
    }
}

/// One of each call, with ordinary arguments.
fn samples() -> Vec<Syscall> {
    vec![
        Syscall::AbiVersion {},
        Syscall::DebugWrite {
            console: initial::CONSOLE,
            buf: BUF,
            len: 12,
        },
        Syscall::ProcessExit { code: 3 },
        Syscall::ProcessSpawn {
            module: initial::FIRST_MODULE,
            memory: initial::MEMORY,
            args: BUF,
            args_len: 100,
            grants: GRANTS,
            grant_count: 2,
        },
        Syscall::ProcessWait {
            process: H,
            timeout_ns: WAIT_FOREVER,
        },
        Syscall::ThreadYield {},
        Syscall::ThreadSleep { ns: 1_000_000 },
        Syscall::ClockMonotonic {},
        Syscall::MemMap {
            space: initial::SELF_SPACE,
            addr: UserPtr::NULL,
            len: 2 * PAGE_SIZE,
            perms: Perms::READ_WRITE,
        },
        Syscall::MemUnmap {
            space: initial::SELF_SPACE,
            addr: BUF,
            len: PAGE_SIZE,
        },
        Syscall::MemProtect {
            space: initial::SELF_SPACE,
            addr: BUF,
            len: PAGE_SIZE,
            perms: Perms::READ_EXECUTE,
        },
        Syscall::CapDelete { slot: H },
        Syscall::CapCopy {
            src: H,
            dest: Handle(8),
        },
        Syscall::CapMint {
            src: H,
            dest: Handle(8),
            rights: Rights::READ | Rights::WRITE | Rights::DERIVE,
            badge: 0x2a,
        },
        Syscall::CapMove {
            src: H,
            dest: Handle(9),
        },
        Syscall::CapRevoke { slot: H },
        Syscall::CapIdentify { slot: H },
        Syscall::MemorySplit {
            memory: initial::MEMORY,
            bytes: 4 * PAGE_SIZE,
        },
        Syscall::MemoryInfo {
            memory: initial::MEMORY,
        },
        Syscall::ThreadCreate {
            space: initial::SELF_SPACE,
            entry: UserPtr::new(0x40_1234),
            stack_top: UserPtr::new(0x80_0000),
            arg: 0x1234,
        },
        Syscall::ThreadExit { code: 4 },
        Syscall::ThreadWait {
            thread: H,
            timeout_ns: 0,
        },
        Syscall::ProcessKill { process: H },
        Syscall::EndpointCreate {
            memory: initial::MEMORY,
        },
        Syscall::NotificationCreate {
            memory: initial::MEMORY,
        },
        Syscall::IpcSend {
            endpoint: H,
            info: SEND_INFO,
            words: [1, 2, 0, 0],
        },
        Syscall::IpcRecv {
            endpoint: H,
            info: RECV_INFO,
        },
        Syscall::IpcCall {
            endpoint: H,
            info: MsgInfo {
                timeout_us: 1000,
                ..MsgInfo::words(4)
            },
            words: [0x10, 0x20, 0x30, 0x40],
        },
        Syscall::IpcReply {
            info: MsgInfo::words(1),
            words: [0x2a, 0, 0, 0],
        },
        Syscall::IpcReplyRecv {
            endpoint: H,
            info: REPLY_RECV_INFO,
            words: [5, 6, 7, 0],
        },
        Syscall::NotificationSignal {
            notification: H,
            bits: 0b101,
        },
        Syscall::NotificationWait {
            notification: H,
            timeout_ns: WAIT_FOREVER,
        },
        Syscall::NotificationPoll { notification: H },
        Syscall::ThreadSetCpu { thread: H, cpu: 1 },
        Syscall::TraceRead {
            trace: initial::TRACE,
            cpu: 1,
            cursor: 0x40,
            buf: BUF,
            len: TRACE_READ_HEADER + 4 * TRACE_RECORD,
        },
        Syscall::MetricsRead {
            object: initial::TRACE,
            buf: BUF,
            len: 8 * kernel_metrics_words(1),
        },
        Syscall::TraceControl {
            trace: initial::TRACE,
            categories: 0x1bd,
        },
        Syscall::FrameCreate {
            memory: initial::MEMORY,
            bytes: 2 * PAGE_SIZE,
        },
        Syscall::FrameMap {
            frame: H,
            space: initial::SELF_SPACE,
            addr: SHARED_AT,
            perms: Perms::READ_WRITE,
        },
    ]
}

/// The sample of call `nr`.
fn sample(nr: Sysno) -> Syscall {
    samples().into_iter().find(|c| c.sysno() == nr).unwrap()
}

fn decode(nr: Sysno, args: [u64; 6]) -> Result<Syscall, SysError> {
    Syscall::decode(nr as u64, args)
}
