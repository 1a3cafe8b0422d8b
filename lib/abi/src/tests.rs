//! Unit tests for every call, every decode check and the result words; then
//! property tests for round trips and canonical form; then the check that
//! docs/ABI.md lists what the crate defines.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;

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

// ---- Numbers ----

#[test]
fn sysno_numbers_unique_nonzero_and_from_raw_inverts() {
    let numbers: BTreeSet<u64> = Sysno::ALL.iter().map(|&s| s as u64).collect();
    assert_eq!(numbers.len(), Sysno::ALL.len());
    assert!(!numbers.contains(&0), "0 is never assigned");
    for &s in Sysno::ALL {
        assert_eq!(Sysno::from_raw(s as u64), Some(s));
    }
    let names: BTreeSet<&str> = Sysno::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(names.len(), Sysno::ALL.len());
    for n in [0, 40, 63, 64, u64::MAX] {
        assert_eq!(Sysno::from_raw(n), None);
    }
}

/// Changing a published number breaks every compiled program.
#[test]
fn sysno_numbers_are_stable() {
    let expect = [
        (1, "abi_version", 0),
        (2, "debug_write", 3),
        (3, "process_exit", 1),
        (4, "process_spawn", 6),
        (5, "process_wait", 2),
        (6, "thread_yield", 0),
        (7, "thread_sleep", 1),
        (8, "clock_monotonic", 0),
        (9, "mem_map", 4),
        (10, "mem_unmap", 3),
        (11, "mem_protect", 4),
        (12, "cap_delete", 1),
        (13, "cap_copy", 2),
        (14, "cap_mint", 4),
        (15, "cap_move", 2),
        (16, "cap_revoke", 1),
        (17, "cap_identify", 1),
        (18, "memory_split", 2),
        (19, "memory_info", 1),
        (20, "thread_create", 4),
        (21, "thread_exit", 1),
        (22, "thread_wait", 2),
        (23, "process_kill", 1),
        (24, "endpoint_create", 1),
        (25, "notification_create", 1),
        (26, "ipc_send", 6),
        (27, "ipc_recv", 2),
        (28, "ipc_call", 6),
        (29, "ipc_reply", 6),
        (30, "ipc_reply_recv", 6),
        (31, "notification_signal", 2),
        (32, "notification_wait", 2),
        (33, "notification_poll", 1),
        (34, "thread_set_cpu", 2),
        (35, "trace_read", 5),
        (36, "metrics_read", 3),
        (37, "trace_control", 2),
        (38, "frame_create", 2),
        (39, "frame_map", 4),
    ];
    let got: Vec<(u64, &str, usize)> = Sysno::ALL
        .iter()
        .map(|&s| (s as u64, s.name(), s.arg_count()))
        .collect();
    assert_eq!(got, expect);
}

#[test]
fn error_codes_unique_stable_and_grouped() {
    let codes: BTreeSet<u64> = ErrorCode::ALL.iter().map(|&c| c as u64).collect();
    assert_eq!(codes.len(), ErrorCode::ALL.len());
    assert!(!codes.contains(&0), "0 means success");
    for &c in ErrorCode::ALL {
        assert_eq!(ErrorCode::from_raw(c as u64), Some(c));
        assert_eq!(c.is_decode_error(), (c as u64) < 16, "{c}");
    }
    let names: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(names.len(), ErrorCode::ALL.len());
    for n in [0, 13, 15, 22, 31, 40, 47, 55, 63, 64, u64::MAX] {
        assert_eq!(ErrorCode::from_raw(n), None, "{n}");
    }
}

/// Changing a published code or its detail breaks every compiled program.
#[test]
fn error_codes_are_stable() {
    use Detail::*;
    let expect = [
        (1, "UnknownSyscall", Number),
        (2, "UnusedArgumentNotZero", Arg),
        (3, "ReservedBitsSet", Arg),
        (4, "NonCanonicalPointer", Arg),
        (5, "KernelPointer", Arg),
        (6, "LengthWraps", Arg),
        (7, "LengthTooLarge", Arg),
        (8, "RangeOutsideUser", Arg),
        (9, "ZeroLength", Arg),
        (10, "Misaligned", Arg),
        (11, "WriteAndExecute", Arg),
        (12, "PermsWithoutRead", Arg),
        (16, "BadAddress", Addr),
        (17, "PermissionDenied", Addr),
        (18, "AlreadyMapped", Addr),
        (19, "OutOfMemory", None),
        (20, "AddressSpaceFull", None),
        (21, "QuotaExceeded", None),
        (32, "EmptySlot", Arg),
        (33, "SlotOutOfRange", Arg),
        (34, "WrongObjectType", Arg),
        (35, "MissingRight", ArgRights),
        (36, "TableFull", None),
        (37, "SlotOccupied", Arg),
        (38, "BadgeAlreadySet", Arg),
        (39, "ObjectGone", None),
        (48, "BadElf", None),
        (49, "NotChild", Arg),
        (50, "WouldBlock", None),
        (51, "TimedOut", None),
        (52, "NoPendingReply", None),
        (53, "CallerGone", None),
        (54, "NoSuchCpu", None),
    ];
    let got: Vec<(u64, &str, Detail)> = ErrorCode::ALL
        .iter()
        .map(|&c| (c as u64, c.name(), c.detail()))
        .collect();
    assert_eq!(got, expect);
}

#[test]
fn user_end_matches_the_page_tables() {
    assert_eq!(USER_END, ferrous_paging::USER_END);
}

#[test]
fn capability_constants_agree() {
    // Slot 0 is never filled; the initial slots are distinct and in range.
    let initial = [
        initial::CONSOLE,
        initial::SELF_SPACE,
        initial::MEMORY,
        initial::IRQ_LINES,
        initial::IO_PORTS,
        initial::MMIO,
        initial::TRACE,
        initial::FIRST_MODULE,
    ];
    let slots: Vec<u32> = initial.iter().map(|h| h.0).collect();
    assert_eq!(slots, [1, 2, 3, 4, 5, 6, 7, 16]);
    assert!(
        slots
            .iter()
            .all(|&s| s != Handle::NULL.0 && s < CSPACE_SLOTS)
    );
    // Grant i lands in slot i + 1: every grant fits in the table.
    const { assert!(MAX_GRANTS < CSPACE_SLOTS as u64) };
    assert_eq!(GRANT_SIZE, std::mem::size_of::<Grant>() as u64);
    assert_eq!(
        GRANT_SIZE,
        Grant::new(H, Rights::ALL).to_bytes().len() as u64
    );
    // CHILD_SPACE is no slot a caller could name: the last `u32`.
    assert_eq!(Grant::CHILD_SPACE, u32::MAX);
    // A message's 8-bit capability slot can name every slot of a table.
    assert_eq!(u32::from(u8::MAX) + 1, CSPACE_SLOTS);
}

/// A message fills the argument registers after the endpoint and the
/// info, and its word count fits the 3-bit field.
#[test]
fn ipc_constants_agree() {
    assert_eq!(MSG_WORDS, ARG_REGISTERS.len() - 2);
    assert_eq!(MsgInfo::words(7).to_raw(), 7, "the word field is 3 bits");
    const { assert!(MSG_WORDS < 8) };
    // ANY_CPU is no CPU number: the last `u32`.
    assert_eq!(ANY_CPU, u32::MAX);
    // The default timeout of a message (none) is the one of process_wait.
    assert_eq!(MsgInfo::default().timeout_ns(), WAIT_FOREVER);
}

/// A `trace_read` buffer is a header of two `u64`s, then whole 64-byte
/// records; the largest read holds the header and many records, and the
/// kernel's metrics fit in one `metrics_read`.
#[test]
fn trace_constants_agree() {
    assert_eq!(TRACE_READ_HEADER, 2 * 8, "next cursor, then skipped");
    assert_eq!(MAX_TRACE_READ, 1 << 20, "1 MiB");
    assert_eq!(TRACE_RECORD, 8 * 8, "eight words");
    // Records stay 8-byte aligned after the header.
    assert!(TRACE_READ_HEADER.is_multiple_of(8));
    // The smallest buffer that can return a record, and the most records
    // one read returns.
    const { assert!(TRACE_READ_HEADER + TRACE_RECORD <= MAX_TRACE_READ) };
    assert_eq!((MAX_TRACE_READ - TRACE_READ_HEADER) / TRACE_RECORD, 16_383);
    // Metrics are whole words, and far more CPUs than the kernel runs
    // (64) fit in one read.
    assert!(MAX_TRACE_READ.is_multiple_of(8));
    assert!(8 * kernel_metrics_words(1024) <= MAX_TRACE_READ);
    assert_eq!(kernel_metrics_words(1), 71, "docs/OBSERVABILITY.md's count");
    // The kernel counts calls by number in 64 slots, the last shared by
    // every larger number: each assigned call still has its own.
    for &s in Sysno::ALL {
        assert!((s as u64) < 63, "{s} shares the last per-call counter");
    }
}

/// `frame_map`'s result is the frame's length with the own-space bit on
/// top: one bit that no length can have (a frame fits in user space), so
/// masking it off gives the length back.
#[test]
fn frame_map_result_keeps_length_and_own_space_apart() {
    assert_eq!(FRAME_MAP_OWN_SPACE.count_ones(), 1);
    const { assert!(FRAME_MAP_OWN_SPACE > USER_MAP_END) };
    for len in [PAGE_SIZE, 2 * PAGE_SIZE, 16 << 20, USER_MAP_END] {
        let own = len | FRAME_MAP_OWN_SPACE;
        assert_eq!(own & !FRAME_MAP_OWN_SPACE, len);
        assert_eq!(len & FRAME_MAP_OWN_SPACE, 0, "{len:#x}");
        // A success word like any other: `rax` 0, the value in `rdx`.
        assert_eq!(decode_result(0, own), Ok(own));
    }
}

// ---- Round trips of the sample calls ----

#[test]
fn every_call_round_trips() {
    let samples = samples();
    let covered: BTreeSet<Sysno> = samples.iter().map(Syscall::sysno).collect();
    assert_eq!(covered.len(), Sysno::ALL.len(), "a sample per call");
    assert_eq!(samples.len(), Sysno::ALL.len(), "one sample per call");
    for call in samples {
        let (nr, args) = call.encode();
        assert_eq!(nr, call.sysno() as u64);
        assert!(args[call.sysno().arg_count()..].iter().all(|&a| a == 0));
        assert_eq!(Syscall::decode(nr, args), Ok(call), "{call}");
    }
}

#[test]
fn encode_puts_arguments_in_register_order() {
    let call = Syscall::MemMap {
        space: Handle(2),
        addr: UserPtr::new(0x1000),
        len: 0x3000,
        perms: Perms::READ_WRITE,
    };
    assert_eq!(call.encode(), (9, [2, 0x1000, 0x3000, 3, 0, 0]));
    assert_eq!(
        Syscall::ProcessExit { code: u32::MAX }.encode(),
        (3, [0xffff_ffff, 0, 0, 0, 0, 0])
    );
    assert_eq!(
        Syscall::ThreadExit { code: u32::MAX }.encode(),
        (21, [0xffff_ffff, 0, 0, 0, 0, 0])
    );
    // A message: the endpoint, the info, then the four words in `rdx`,
    // `r10`, `r8`, `r9`.
    let words = [0xa0, 0xa1, 0xa2, 0xa3];
    let info = SEND_INFO.to_raw();
    for (call, nr) in [
        (
            Syscall::IpcSend {
                endpoint: H,
                info: SEND_INFO,
                words,
            },
            26,
        ),
        (
            Syscall::IpcCall {
                endpoint: H,
                info: SEND_INFO,
                words,
            },
            28,
        ),
        (
            Syscall::IpcReplyRecv {
                endpoint: H,
                info: SEND_INFO,
                words,
            },
            30,
        ),
    ] {
        assert_eq!(call.encode(), (nr, [7, info, 0xa0, 0xa1, 0xa2, 0xa3]));
    }
    // A reply names no endpoint: `rdi` is 0.
    assert_eq!(
        Syscall::IpcReply {
            info: MsgInfo::words(4),
            words
        }
        .encode(),
        (29, [0, 4, 0xa0, 0xa1, 0xa2, 0xa3])
    );
    assert_eq!(
        Syscall::ThreadSetCpu {
            thread: H,
            cpu: ANY_CPU
        }
        .encode(),
        (34, [7, 0xffff_ffff, 0, 0, 0, 0])
    );
    // trace_read: the trace, the CPU, the whole cursor in `rdx`, then the
    // buffer in `r10` and `r8`; `r9` unused.
    assert_eq!(
        Syscall::TraceRead {
            trace: initial::TRACE,
            cpu: u32::MAX,
            cursor: u64::MAX,
            buf: BUF,
            len: MAX_TRACE_READ,
        }
        .encode(),
        (35, [7, 0xffff_ffff, u64::MAX, 0x40_0000, 1 << 20, 0])
    );
    assert_eq!(
        Syscall::MetricsRead {
            object: Handle(9),
            buf: BUF,
            len: 40
        }
        .encode(),
        (36, [9, 0x40_0000, 40, 0, 0, 0])
    );
    assert_eq!(
        Syscall::TraceControl {
            trace: initial::TRACE,
            categories: u32::MAX
        }
        .encode(),
        (37, [7, 0xffff_ffff, 0, 0, 0, 0])
    );
    // frame_create: the memory, then the bytes; frame_map: the frame, the
    // address space, the address, then the permissions, as mem_map's
    // after its handle.
    assert_eq!(
        Syscall::FrameCreate {
            memory: initial::MEMORY,
            bytes: 16 << 20
        }
        .encode(),
        (38, [3, 0x100_0000, 0, 0, 0, 0])
    );
    assert_eq!(
        Syscall::FrameMap {
            frame: Handle(10),
            space: Handle(2),
            addr: UserPtr::new(0x7100_0000),
            perms: Perms::READ_EXECUTE
        }
        .encode(),
        (39, [10, 2, 0x7100_0000, 5, 0, 0])
    );
}

/// Each call with distinct register values: decode puts register `i` in
/// the `i`-th field, and encode puts it back.
#[test]
fn decode_reads_arguments_in_register_order() {
    let cases = [
        (
            Sysno::DebugWrite,
            [1, 0x1000, 5, 0, 0, 0],
            Syscall::DebugWrite {
                console: Handle(1),
                buf: UserPtr::new(0x1000),
                len: 5,
            },
        ),
        (
            Sysno::ProcessSpawn,
            [16, 3, 0x1000, 5, 0x2000, 2],
            Syscall::ProcessSpawn {
                module: Handle(16),
                memory: Handle(3),
                args: UserPtr::new(0x1000),
                args_len: 5,
                grants: UserPtr::new(0x2000),
                grant_count: 2,
            },
        ),
        (
            Sysno::ProcessExit,
            [6, 0, 0, 0, 0, 0],
            Syscall::ProcessExit { code: 6 },
        ),
        (
            Sysno::ProcessWait,
            [9, 99, 0, 0, 0, 0],
            Syscall::ProcessWait {
                process: Handle(9),
                timeout_ns: 99,
            },
        ),
        (
            Sysno::ThreadSleep,
            [99, 0, 0, 0, 0, 0],
            Syscall::ThreadSleep { ns: 99 },
        ),
        (
            Sysno::MemMap,
            [2, 0x1000, 0x3000, 5, 0, 0],
            Syscall::MemMap {
                space: Handle(2),
                addr: UserPtr::new(0x1000),
                len: 0x3000,
                perms: Perms::READ_EXECUTE,
            },
        ),
        (
            Sysno::MemUnmap,
            [2, 0x1000, 0x3000, 0, 0, 0],
            Syscall::MemUnmap {
                space: Handle(2),
                addr: UserPtr::new(0x1000),
                len: 0x3000,
            },
        ),
        (
            Sysno::MemProtect,
            [2, 0x1000, 0x3000, 1, 0, 0],
            Syscall::MemProtect {
                space: Handle(2),
                addr: UserPtr::new(0x1000),
                len: 0x3000,
                perms: Perms::READ,
            },
        ),
        (
            Sysno::CapDelete,
            [7, 0, 0, 0, 0, 0],
            Syscall::CapDelete { slot: Handle(7) },
        ),
        (
            Sysno::CapCopy,
            [7, 8, 0, 0, 0, 0],
            Syscall::CapCopy {
                src: Handle(7),
                dest: Handle(8),
            },
        ),
        (
            Sysno::CapMint,
            [7, 8, 0x301, 0xbad6e, 0, 0],
            Syscall::CapMint {
                src: Handle(7),
                dest: Handle(8),
                rights: Rights::READ | Rights::WAIT | Rights::CONTROL,
                badge: 0xbad6e,
            },
        ),
        (
            Sysno::CapMove,
            [7, 9, 0, 0, 0, 0],
            Syscall::CapMove {
                src: Handle(7),
                dest: Handle(9),
            },
        ),
        (
            Sysno::CapRevoke,
            [7, 0, 0, 0, 0, 0],
            Syscall::CapRevoke { slot: Handle(7) },
        ),
        (
            Sysno::CapIdentify,
            [7, 0, 0, 0, 0, 0],
            Syscall::CapIdentify { slot: Handle(7) },
        ),
        (
            Sysno::MemorySplit,
            [3, 0x5000, 0, 0, 0, 0],
            Syscall::MemorySplit {
                memory: Handle(3),
                bytes: 0x5000,
            },
        ),
        (
            Sysno::MemoryInfo,
            [3, 0, 0, 0, 0, 0],
            Syscall::MemoryInfo { memory: Handle(3) },
        ),
        (
            Sysno::ThreadCreate,
            [2, 0x40_1000, 0x80_0000, 77, 0, 0],
            Syscall::ThreadCreate {
                space: Handle(2),
                entry: UserPtr::new(0x40_1000),
                stack_top: UserPtr::new(0x80_0000),
                arg: 77,
            },
        ),
        (
            Sysno::ThreadExit,
            [6, 0, 0, 0, 0, 0],
            Syscall::ThreadExit { code: 6 },
        ),
        (
            Sysno::ThreadWait,
            [10, 99, 0, 0, 0, 0],
            Syscall::ThreadWait {
                thread: Handle(10),
                timeout_ns: 99,
            },
        ),
        (
            Sysno::ProcessKill,
            [9, 0, 0, 0, 0, 0],
            Syscall::ProcessKill { process: Handle(9) },
        ),
        (
            Sysno::EndpointCreate,
            [3, 0, 0, 0, 0, 0],
            Syscall::EndpointCreate { memory: Handle(3) },
        ),
        (
            Sysno::NotificationCreate,
            [3, 0, 0, 0, 0, 0],
            Syscall::NotificationCreate { memory: Handle(3) },
        ),
        (
            Sysno::IpcSend,
            [11, 0x0000_0064_0000_0c13, 21, 22, 23, 24],
            Syscall::IpcSend {
                endpoint: Handle(11),
                info: MsgInfo {
                    words: 3,
                    nonblocking: true,
                    cap_slot: 12,
                    timeout_us: 100,
                },
                words: [21, 22, 23, 24],
            },
        ),
        (
            Sysno::IpcRecv,
            [11, 0x0000_0001_0000_0d00, 0, 0, 0, 0],
            Syscall::IpcRecv {
                endpoint: Handle(11),
                info: MsgInfo {
                    words: 0,
                    nonblocking: false,
                    cap_slot: 13,
                    timeout_us: 1,
                },
            },
        ),
        (
            Sysno::IpcCall,
            [11, 4, 21, 22, 23, 24],
            Syscall::IpcCall {
                endpoint: Handle(11),
                info: MsgInfo::words(4),
                words: [21, 22, 23, 24],
            },
        ),
        (
            Sysno::IpcReply,
            [0, 1, 21, 22, 23, 24],
            Syscall::IpcReply {
                info: MsgInfo::words(1),
                words: [21, 22, 23, 24],
            },
        ),
        (
            Sysno::IpcReplyRecv,
            [11, 0x0e12, 21, 22, 23, 24],
            Syscall::IpcReplyRecv {
                endpoint: Handle(11),
                info: MsgInfo {
                    words: 2,
                    nonblocking: true,
                    cap_slot: 14,
                    timeout_us: 0,
                },
                words: [21, 22, 23, 24],
            },
        ),
        (
            Sysno::NotificationSignal,
            [12, 0x8000_0000_0000_0001, 0, 0, 0, 0],
            Syscall::NotificationSignal {
                notification: Handle(12),
                bits: 0x8000_0000_0000_0001,
            },
        ),
        (
            Sysno::NotificationWait,
            [12, 99, 0, 0, 0, 0],
            Syscall::NotificationWait {
                notification: Handle(12),
                timeout_ns: 99,
            },
        ),
        (
            Sysno::NotificationPoll,
            [12, 0, 0, 0, 0, 0],
            Syscall::NotificationPoll {
                notification: Handle(12),
            },
        ),
        (
            Sysno::ThreadSetCpu,
            [10, 3, 0, 0, 0, 0],
            Syscall::ThreadSetCpu {
                thread: Handle(10),
                cpu: 3,
            },
        ),
        (
            Sysno::TraceRead,
            [7, 2, 0x1234, 0x1000, 80, 0],
            Syscall::TraceRead {
                trace: Handle(7),
                cpu: 2,
                cursor: 0x1234,
                buf: UserPtr::new(0x1000),
                len: 80,
            },
        ),
        (
            Sysno::MetricsRead,
            [5, 0x2000, 40, 0, 0, 0],
            Syscall::MetricsRead {
                object: Handle(5),
                buf: UserPtr::new(0x2000),
                len: 40,
            },
        ),
        (
            Sysno::TraceControl,
            [7, 0x1ff, 0, 0, 0, 0],
            Syscall::TraceControl {
                trace: Handle(7),
                categories: 0x1ff,
            },
        ),
        (
            Sysno::FrameCreate,
            [3, 0x3000, 0, 0, 0, 0],
            Syscall::FrameCreate {
                memory: Handle(3),
                bytes: 0x3000,
            },
        ),
        (
            Sysno::FrameMap,
            [10, 2, 0x7000_0000, 1, 0, 0],
            Syscall::FrameMap {
                frame: Handle(10),
                space: Handle(2),
                addr: UserPtr::new(0x7000_0000),
                perms: Perms::READ,
            },
        ),
    ];
    for (nr, args, want) in cases {
        assert_eq!(decode(nr, args), Ok(want), "{nr}");
        assert_eq!(want.encode(), (nr as u64, args), "{nr}");
    }
    // Every call with arguments has a case.
    let covered: BTreeSet<Sysno> = cases.iter().map(|c| c.0).collect();
    for &s in Sysno::ALL {
        assert!(
            covered.contains(&s) || s.arg_count() == 0,
            "{s} has no case"
        );
    }
}

#[test]
fn display_for_traces() {
    let call = Syscall::MemMap {
        space: initial::SELF_SPACE,
        addr: UserPtr::NULL,
        len: 0x2000,
        perms: Perms::READ_WRITE,
    };
    assert_eq!(
        call.to_string(),
        "mem_map(space=h2, addr=0x0, len=0x2000, perms=rw-)"
    );
    assert_eq!(Syscall::ThreadYield {}.to_string(), "thread_yield()");
    assert_eq!(
        SysError::LengthTooLarge { arg: 2 }.to_string(),
        "argument 2 (rdx): length exceeds this call's limit"
    );
    let shown = [
        (
            Sysno::ProcessSpawn,
            "process_spawn(module=h16, memory=h3, args=0x400000, args_len=100, \
             grants=0x401000, grant_count=2)",
        ),
        (
            Sysno::ProcessWait,
            "process_wait(process=h7, timeout_ns=18446744073709551615)",
        ),
        (Sysno::CapDelete, "cap_delete(slot=h7)"),
        (Sysno::CapCopy, "cap_copy(src=h7, dest=h8)"),
        (
            Sysno::CapMint,
            "cap_mint(src=h7, dest=h8, rights=rw--d, badge=0x2a)",
        ),
        (Sysno::CapMove, "cap_move(src=h7, dest=h9)"),
        (Sysno::CapRevoke, "cap_revoke(slot=h7)"),
        (Sysno::CapIdentify, "cap_identify(slot=h7)"),
        (Sysno::MemorySplit, "memory_split(memory=h3, bytes=0x4000)"),
        (Sysno::MemoryInfo, "memory_info(memory=h3)"),
        (
            Sysno::ThreadCreate,
            "thread_create(space=h2, entry=0x401234, stack_top=0x800000, arg=0x1234)",
        ),
        (Sysno::ThreadExit, "thread_exit(code=4)"),
        (Sysno::ThreadWait, "thread_wait(thread=h7, timeout_ns=0)"),
        (Sysno::ProcessKill, "process_kill(process=h7)"),
        (Sysno::EndpointCreate, "endpoint_create(memory=h3)"),
        (Sysno::NotificationCreate, "notification_create(memory=h3)"),
        (
            Sysno::IpcSend,
            "ipc_send(endpoint=h7, info=[2 words, cap h9], words=[1, 2, 0, 0])",
        ),
        (
            Sysno::IpcRecv,
            "ipc_recv(endpoint=h7, info=[0 words, cap h10, timeout 500 us])",
        ),
        (
            Sysno::IpcCall,
            "ipc_call(endpoint=h7, info=[4 words, timeout 1000 us], words=[10, 20, 30, 40])",
        ),
        (
            Sysno::IpcReply,
            "ipc_reply(info=[1 words], words=[2a, 0, 0, 0])",
        ),
        (
            Sysno::IpcReplyRecv,
            "ipc_reply_recv(endpoint=h7, info=[3 words, nonblocking], words=[5, 6, 7, 0])",
        ),
        (
            Sysno::NotificationSignal,
            "notification_signal(notification=h7, bits=0x5)",
        ),
        (
            Sysno::NotificationWait,
            "notification_wait(notification=h7, timeout_ns=18446744073709551615)",
        ),
        (
            Sysno::NotificationPoll,
            "notification_poll(notification=h7)",
        ),
        (Sysno::ThreadSetCpu, "thread_set_cpu(thread=h7, cpu=1)"),
        (
            Sysno::TraceRead,
            "trace_read(trace=h7, cpu=1, cursor=64, buf=0x400000, len=272)",
        ),
        (
            Sysno::MetricsRead,
            "metrics_read(object=h7, buf=0x400000, len=568)",
        ),
        (
            Sysno::TraceControl,
            "trace_control(trace=h7, categories=0x1bd)",
        ),
        (Sysno::FrameCreate, "frame_create(memory=h3, bytes=0x2000)"),
        (
            Sysno::FrameMap,
            "frame_map(frame=h7, space=h2, addr=0x70000000, perms=rw-)",
        ),
    ];
    for (nr, want) in shown {
        assert_eq!(sample(nr).to_string(), want);
    }
    // Every call's trace starts with its ABI name.
    for call in samples() {
        let shown = call.to_string();
        assert!(
            shown.starts_with(&format!("{}(", call.sysno().name())),
            "{shown}"
        );
        assert!(shown.ends_with(')'), "{shown}");
    }
}

// ---- Decode errors ----

#[test]
fn unknown_number_carries_it() {
    for nr in [0, 40, 63, 0x8000_0000_0000_0001, u64::MAX] {
        assert_eq!(
            Syscall::decode(nr, [0; 6]),
            Err(SysError::UnknownSyscall { nr })
        );
    }
}

#[test]
fn unused_arguments_must_be_zero() {
    for call in samples() {
        let (nr, args) = call.encode();
        for i in call.sysno().arg_count()..6 {
            let mut bad = args;
            bad[i] = 1;
            assert_eq!(
                Syscall::decode(nr, bad),
                Err(SysError::UnusedArgumentNotZero { arg: i as u8 }),
                "{call} register {i}"
            );
            // The first non-zero unused register is named.
            bad[5] = u64::MAX;
            assert_eq!(
                Syscall::decode(nr, bad),
                Err(SysError::UnusedArgumentNotZero { arg: i as u8 }),
                "{call} register {i}"
            );
        }
    }
}

#[test]
fn first_failing_argument_wins() {
    // Both the handle (arg 0) and an unused register are bad: arg 0 first.
    assert_eq!(
        decode(Sysno::CapDelete, [1 << 32, 0, 0, 0, 0, 9]),
        Err(SysError::ReservedBitsSet { arg: 0 })
    );
    // Bad pointer (1) and bad length (2): the pointer.
    assert_eq!(
        decode(Sysno::DebugWrite, [1, u64::MAX, u64::MAX, 0, 0, 0]),
        Err(SysError::KernelPointer { arg: 1 })
    );
    // Two bad handles: the source.
    for nr in [Sysno::CapCopy, Sysno::CapMint, Sysno::CapMove] {
        assert_eq!(
            decode(nr, [1 << 32, 1 << 32, 0, 0, 0, 0]),
            Err(SysError::ReservedBitsSet { arg: 0 }),
            "{nr}"
        );
    }
    // Bad destination (1) and bad rights (2): the destination.
    assert_eq!(
        decode(Sysno::CapMint, [7, 1 << 32, u64::MAX, 0, 0, 0]),
        Err(SysError::ReservedBitsSet { arg: 1 })
    );
    // process_spawn: memory (1) before the arguments (2, 3), the arguments
    // before the grants (4, 5).
    assert_eq!(
        decode(Sysno::ProcessSpawn, [16, 1 << 32, u64::MAX, 0, u64::MAX, 0]),
        Err(SysError::ReservedBitsSet { arg: 1 })
    );
    assert_eq!(
        decode(Sysno::ProcessSpawn, [16, 3, 0x1000, u64::MAX, USER_END, 0]),
        Err(SysError::LengthWraps { arg: 3 })
    );
    assert_eq!(
        decode(
            Sysno::ProcessSpawn,
            [16, 3, 0x1000, MAX_SPAWN_ARGS + 1, 0x1000, u64::MAX]
        ),
        Err(SysError::LengthTooLarge { arg: 3 })
    );
    assert_eq!(
        decode(Sysno::ProcessSpawn, [16, 3, 0x1000, 0, USER_END, u64::MAX]),
        Err(SysError::NonCanonicalPointer { arg: 4 })
    );
    // thread_create: entry (1) before the stack (2).
    assert_eq!(
        decode(Sysno::ThreadCreate, [2, USER_END, u64::MAX, 0, 0, 0]),
        Err(SysError::NonCanonicalPointer { arg: 1 })
    );
    // memory_split: the handle before the size.
    assert_eq!(
        decode(Sysno::MemorySplit, [1 << 32, 0, 0, 0, 0, 0]),
        Err(SysError::ReservedBitsSet { arg: 0 })
    );
    // IPC: the endpoint (0) before the info (1).
    for nr in [
        Sysno::IpcSend,
        Sysno::IpcRecv,
        Sysno::IpcCall,
        Sysno::IpcReplyRecv,
    ] {
        assert_eq!(
            decode(nr, [1 << 32, u64::MAX, 0, 0, 0, 0]),
            Err(SysError::ReservedBitsSet { arg: 0 }),
            "{nr}"
        );
    }
    // ipc_recv: the info (1) before the unused registers (2..).
    assert_eq!(
        decode(Sysno::IpcRecv, [7, 1 << 3, 1, 0, 0, 0]),
        Err(SysError::ReservedBitsSet { arg: 1 })
    );
    // ipc_reply: `rdi` (0) before the info (1).
    assert_eq!(
        decode(Sysno::IpcReply, [7, u64::MAX, 0, 0, 0, 0]),
        Err(SysError::UnusedArgumentNotZero { arg: 0 })
    );
    // thread_set_cpu: the thread (0) before the CPU (1).
    assert_eq!(
        decode(Sysno::ThreadSetCpu, [1 << 32, 1 << 32, 0, 0, 0, 0]),
        Err(SysError::ReservedBitsSet { arg: 0 })
    );
    // ipc_reply: `rdi` (0) before a capability in the reply (1).
    assert_eq!(
        decode(Sysno::IpcReply, [7, 9 << 8, 0, 0, 0, 0]),
        Err(SysError::UnusedArgumentNotZero { arg: 0 })
    );
    // trace_read: the trace (0), the CPU (1), the buffer (3), its length
    // (4), then the unused `r9`; the cursor (2) is never refused.
    let bad_len = u64::MAX;
    assert_eq!(
        decode(
            Sysno::TraceRead,
            [1 << 32, 1 << 32, u64::MAX, USER_END, bad_len, 1]
        ),
        Err(SysError::ReservedBitsSet { arg: 0 })
    );
    assert_eq!(
        decode(
            Sysno::TraceRead,
            [7, 1 << 32, u64::MAX, USER_END, bad_len, 1]
        ),
        Err(SysError::ReservedBitsSet { arg: 1 })
    );
    assert_eq!(
        decode(Sysno::TraceRead, [7, 0, u64::MAX, USER_END, bad_len, 1]),
        Err(SysError::NonCanonicalPointer { arg: 3 })
    );
    assert_eq!(
        decode(Sysno::TraceRead, [7, 0, u64::MAX, 0x1000, bad_len, 1]),
        Err(SysError::LengthWraps { arg: 4 })
    );
    assert_eq!(
        decode(Sysno::TraceRead, [7, 0, u64::MAX, 0x1000, 80, 1]),
        Err(SysError::UnusedArgumentNotZero { arg: 5 })
    );
    // metrics_read: the object (0), the buffer (1), its length (2).
    assert_eq!(
        decode(Sysno::MetricsRead, [1 << 32, USER_END, bad_len, 1, 0, 0]),
        Err(SysError::ReservedBitsSet { arg: 0 })
    );
    assert_eq!(
        decode(Sysno::MetricsRead, [7, USER_END, bad_len, 1, 0, 0]),
        Err(SysError::NonCanonicalPointer { arg: 1 })
    );
    assert_eq!(
        decode(Sysno::MetricsRead, [7, 0x1000, MAX_TRACE_READ + 1, 1, 0, 0]),
        Err(SysError::LengthTooLarge { arg: 2 })
    );
    assert_eq!(
        decode(Sysno::MetricsRead, [7, 0x1000, 8, 1, 0, 0]),
        Err(SysError::UnusedArgumentNotZero { arg: 3 })
    );
    // trace_control: the trace (0) before the categories (1).
    assert_eq!(
        decode(Sysno::TraceControl, [1 << 32, 1 << 32, 1, 0, 0, 0]),
        Err(SysError::ReservedBitsSet { arg: 0 })
    );
    assert_eq!(
        decode(Sysno::TraceControl, [7, 1 << 32, 1, 0, 0, 0]),
        Err(SysError::ReservedBitsSet { arg: 1 })
    );
    // frame_create: the memory (0) before the bytes (1), the bytes before
    // the unused registers; a zero size before a misaligned one cannot
    // both happen, so zero is checked first.
    assert_eq!(
        decode(Sysno::FrameCreate, [1 << 32, 1, 1, 0, 0, 0]),
        Err(SysError::ReservedBitsSet { arg: 0 })
    );
    assert_eq!(
        decode(Sysno::FrameCreate, [3, 1, 1, 0, 0, 0]),
        Err(SysError::Misaligned { arg: 1 })
    );
    assert_eq!(
        decode(Sysno::FrameCreate, [3, 0, 1, 0, 0, 0]),
        Err(SysError::ZeroLength { arg: 1 })
    );
    assert_eq!(
        decode(Sysno::FrameCreate, [3, PAGE_SIZE, 1, 0, 0, 0]),
        Err(SysError::UnusedArgumentNotZero { arg: 2 })
    );
    // frame_map: the frame (0), the space (1), the address (2), the
    // permissions (3), then the unused `r8`.
    let bad_perms = Perms::ALL.bits();
    assert_eq!(
        decode(
            Sysno::FrameMap,
            [1 << 32, 1 << 32, USER_END, bad_perms, 1, 0]
        ),
        Err(SysError::ReservedBitsSet { arg: 0 })
    );
    assert_eq!(
        decode(Sysno::FrameMap, [7, 1 << 32, USER_END, bad_perms, 1, 0]),
        Err(SysError::ReservedBitsSet { arg: 1 })
    );
    assert_eq!(
        decode(Sysno::FrameMap, [7, 2, USER_END, bad_perms, 1, 0]),
        Err(SysError::NonCanonicalPointer { arg: 2 })
    );
    assert_eq!(
        decode(Sysno::FrameMap, [7, 2, 0x1001, bad_perms, 1, 0]),
        Err(SysError::Misaligned { arg: 2 })
    );
    assert_eq!(
        decode(Sysno::FrameMap, [7, 2, 0x1000, bad_perms, 1, 0]),
        Err(SysError::WriteAndExecute { arg: 3 })
    );
    assert_eq!(
        decode(Sysno::FrameMap, [7, 2, 0x1000, 1, 1, 0]),
        Err(SysError::UnusedArgumentNotZero { arg: 4 })
    );
}

/// Every handle argument of every call, the exit codes, the rights of
/// `cap_mint`, the CPU of `thread_set_cpu` and `trace_read` and the
/// categories of `trace_control`.
const THIRTY_TWO_BIT_ARGS: [(Sysno, usize); 43] = [
    (Sysno::DebugWrite, 0),
    (Sysno::ProcessExit, 0),
    (Sysno::ProcessSpawn, 0),
    (Sysno::ProcessSpawn, 1),
    (Sysno::ProcessWait, 0),
    (Sysno::MemMap, 0),
    (Sysno::MemUnmap, 0),
    (Sysno::MemProtect, 0),
    (Sysno::CapDelete, 0),
    (Sysno::CapCopy, 0),
    (Sysno::CapCopy, 1),
    (Sysno::CapMint, 0),
    (Sysno::CapMint, 1),
    (Sysno::CapMint, 2),
    (Sysno::CapMove, 0),
    (Sysno::CapMove, 1),
    (Sysno::CapRevoke, 0),
    (Sysno::CapIdentify, 0),
    (Sysno::MemorySplit, 0),
    (Sysno::MemoryInfo, 0),
    (Sysno::ThreadCreate, 0),
    (Sysno::ThreadExit, 0),
    (Sysno::ThreadWait, 0),
    (Sysno::ProcessKill, 0),
    (Sysno::EndpointCreate, 0),
    (Sysno::NotificationCreate, 0),
    (Sysno::IpcSend, 0),
    (Sysno::IpcRecv, 0),
    (Sysno::IpcCall, 0),
    (Sysno::IpcReplyRecv, 0),
    (Sysno::NotificationSignal, 0),
    (Sysno::NotificationWait, 0),
    (Sysno::NotificationPoll, 0),
    (Sysno::ThreadSetCpu, 0),
    (Sysno::ThreadSetCpu, 1),
    (Sysno::TraceRead, 0),
    (Sysno::TraceRead, 1),
    (Sysno::MetricsRead, 0),
    (Sysno::TraceControl, 0),
    (Sysno::TraceControl, 1),
    (Sysno::FrameCreate, 0),
    (Sysno::FrameMap, 0),
    (Sysno::FrameMap, 1),
];

#[test]
fn handles_exit_codes_and_rights_are_32_bits() {
    for (nr, arg) in THIRTY_TWO_BIT_ARGS {
        let (_, args) = sample(nr).encode();
        for high in [1 << 32, 1 << 63] {
            let mut bad = args;
            bad[arg] |= high;
            assert_eq!(
                decode(nr, bad),
                Err(SysError::ReservedBitsSet { arg: arg as u8 }),
                "{nr} argument {arg}"
            );
        }
    }
    // All 32 bits of a handle are the caller's: the kernel, not decode,
    // says whether the slot exists.
    for nr in [
        Sysno::CapDelete,
        Sysno::CapRevoke,
        Sysno::CapIdentify,
        Sysno::MemoryInfo,
        Sysno::ProcessKill,
        Sysno::EndpointCreate,
        Sysno::NotificationCreate,
        Sysno::IpcRecv,
        Sysno::NotificationSignal,
        Sysno::NotificationWait,
        Sysno::NotificationPoll,
        Sysno::ThreadSetCpu,
        Sysno::TraceRead,
        Sysno::MetricsRead,
        Sysno::TraceControl,
    ] {
        let got = decode(nr, [u64::from(u32::MAX), 0, 0, 0, 0, 0]).unwrap();
        assert_eq!(
            got.encode(),
            (nr as u64, [u64::from(u32::MAX), 0, 0, 0, 0, 0])
        );
    }
    assert_eq!(
        decode(Sysno::CapDelete, [u64::from(u32::MAX), 0, 0, 0, 0, 0]),
        Ok(Syscall::CapDelete {
            slot: Handle(u32::MAX)
        })
    );
    let max = u64::from(u32::MAX);
    assert_eq!(
        decode(Sysno::FrameCreate, [max, PAGE_SIZE, 0, 0, 0, 0]),
        Ok(Syscall::FrameCreate {
            memory: Handle(u32::MAX),
            bytes: PAGE_SIZE
        })
    );
    assert_eq!(
        decode(Sysno::FrameMap, [max, max, 0x1000, 1, 0, 0]),
        Ok(Syscall::FrameMap {
            frame: Handle(u32::MAX),
            space: Handle(u32::MAX),
            addr: UserPtr::new(0x1000),
            perms: Perms::READ
        })
    );
    assert_eq!(
        decode(
            Sysno::CapMove,
            [u64::from(CSPACE_SLOTS), u64::from(u32::MAX), 0, 0, 0, 0]
        ),
        Ok(Syscall::CapMove {
            src: Handle(CSPACE_SLOTS),
            dest: Handle(u32::MAX)
        })
    );
    for code in [0, u32::MAX] {
        assert_eq!(
            decode(Sysno::ThreadExit, [u64::from(code), 0, 0, 0, 0, 0]),
            Ok(Syscall::ThreadExit { code })
        );
    }
    // Any 32-bit CPU number decodes; whether that CPU is online is the
    // kernel's to say (`NoSuchCpu`). ANY_CPU lifts the pin.
    for cpu in [0, 1, 255, 256, ANY_CPU - 1, ANY_CPU] {
        assert_eq!(
            decode(Sysno::ThreadSetCpu, [7, u64::from(cpu), 0, 0, 0, 0]),
            Ok(Syscall::ThreadSetCpu { thread: H, cpu })
        );
        // The same for trace_read: whether that CPU has a ring is the
        // kernel's to say (`NoSuchCpu`); ANY_CPU means nothing there.
        assert_eq!(
            decode(Sysno::TraceRead, [7, u64::from(cpu), 0, 0x1000, 80, 0]),
            Ok(Syscall::TraceRead {
                trace: H,
                cpu,
                cursor: 0,
                buf: UserPtr::new(0x1000),
                len: 80
            })
        );
    }
}

/// `trace_control` takes any 32-bit category mask: which bits name a
/// category is `ferrous-trace`'s, and the kernel refuses the others with
/// `ReservedBitsSet` on argument 1 (the error decode gives for bits above
/// 31).
#[test]
fn trace_categories_are_the_kernels_to_check() {
    for categories in [0, 1, 0x1bd, 0x1ff, 0x200, 1 << 31, u32::MAX] {
        let args = [7, u64::from(categories), 0, 0, 0, 0];
        assert_eq!(
            decode(Sysno::TraceControl, args),
            Ok(Syscall::TraceControl {
                trace: H,
                categories
            }),
            "{categories:#x}"
        );
    }
    for high in [1 << 32, 1 << 63, u64::MAX] {
        assert_eq!(
            decode(Sysno::TraceControl, [7, high, 0, 0, 0, 0]),
            Err(SysError::ReservedBitsSet { arg: 1 }),
            "{high:#x}"
        );
    }
}

/// The calls whose argument 1 is a [`MsgInfo`].
const INFO_CALLS: [Sysno; 5] = [
    Sysno::IpcSend,
    Sysno::IpcRecv,
    Sysno::IpcCall,
    Sysno::IpcReply,
    Sysno::IpcReplyRecv,
];

#[test]
fn message_calls_refuse_bad_info() {
    for nr in INFO_CALLS {
        let (_, args) = sample(nr).encode();
        let with = |info: u64| {
            let mut a = args;
            a[1] = info;
            decode(nr, a)
        };
        let reserved = Err(SysError::ReservedBitsSet { arg: 1 });
        // Every reserved bit, alone and next to valid fields.
        for bit in (3..4).chain(5..8).chain(16..32) {
            assert_eq!(with(1 << bit), reserved, "{nr} bit {bit}");
            assert_eq!(with(args[1] | 1 << bit), reserved, "{nr} bit {bit}");
        }
        assert_eq!(with(u64::MAX), reserved, "{nr}");
        // More words than a message has.
        for words in 5..8 {
            assert_eq!(with(words), reserved, "{nr} {words} words");
            assert_eq!(with(args[1] & !7 | words), reserved, "{nr} {words} words");
        }
        // Every defined field at its extremes (a reply's capability slot
        // stays 0: replies carry none).
        let slot = if nr == Sysno::IpcReply { 0 } else { 0xff };
        for words in 0..=MSG_WORDS as u64 {
            let max = words | 1 << 4 | slot << 8 | 0xffff_ffff << 32;
            for info in [words, max] {
                let call = with(info).unwrap_or_else(|e| panic!("{nr} {info:#x}: {e}"));
                assert_eq!(call.encode().1[1], info, "{nr}");
            }
        }
    }
}

/// The words are the caller's: any values, those beyond the word count
/// included; decode neither checks nor clears them.
#[test]
fn message_words_take_any_bits() {
    for nr in [
        Sysno::IpcSend,
        Sysno::IpcCall,
        Sysno::IpcReply,
        Sysno::IpcReplyRecv,
    ] {
        let endpoint = if nr == Sysno::IpcReply { 0 } else { 7 };
        for words in [[0; 4], [u64::MAX; 4], [1 << 63, 1 << 32, 1, USER_END]] {
            for count in [0, 4] {
                let args = [endpoint, count, words[0], words[1], words[2], words[3]];
                let call = decode(nr, args).unwrap();
                assert_eq!(call.encode(), (nr as u64, args), "{call}");
                let got = match call {
                    Syscall::IpcSend { words, .. }
                    | Syscall::IpcCall { words, .. }
                    | Syscall::IpcReply { words, .. }
                    | Syscall::IpcReplyRecv { words, .. } => words,
                    _ => unreachable!(),
                };
                assert_eq!(got, words, "{nr}");
            }
        }
    }
}

/// `ipc_reply` answers the caller this thread received: `rdi` names no
/// endpoint and must be 0.
#[test]
fn ipc_reply_names_no_endpoint() {
    for rdi in [1, 7, 1 << 32, u64::MAX] {
        assert_eq!(
            decode(Sysno::IpcReply, [rdi, 1, 2, 0, 0, 0]),
            Err(SysError::UnusedArgumentNotZero { arg: 0 }),
            "{rdi:#x}"
        );
    }
    assert_eq!(
        decode(Sysno::IpcReply, [0, 1, 2, 0, 0, 0]),
        Ok(Syscall::IpcReply {
            info: MsgInfo::words(1),
            words: [2, 0, 0, 0]
        })
    );
}

/// Replies carry words only: decode refuses a reply whose info names a
/// capability slot, with `ReservedBitsSet` on argument 1, alone or next
/// to every other field. In `ipc_reply_recv` the slot is the receive's.
#[test]
fn ipc_reply_carries_no_capability() {
    let reserved = Err(SysError::ReservedBitsSet { arg: 1 });
    for slot in 0..=0xffu64 {
        let full = 4 | 1 << 4 | slot << 8 | 0xffff_ffff << 32;
        for info in [slot << 8, 1 | slot << 8, full] {
            let reply = decode(Sysno::IpcReply, [0, info, 1, 2, 3, 4]);
            if slot == 0 {
                assert_eq!(reply.map(|c| c.encode().1[1]), Ok(info), "{info:#x}");
            } else {
                assert_eq!(reply, reserved, "{info:#x}");
            }
            let reply_recv = decode(Sysno::IpcReplyRecv, [7, info, 1, 2, 3, 4]);
            assert_eq!(reply_recv.map(|c| c.encode().1[1]), Ok(info), "{info:#x}");
        }
    }
    // The type can hold a slot; what it encodes does not decode.
    let call = Syscall::IpcReply {
        info: MsgInfo {
            cap_slot: 9,
            ..MsgInfo::words(1)
        },
        words: [0; 4],
    };
    let (nr, args) = call.encode();
    assert_eq!(Syscall::decode(nr, args), reserved);
}

/// `(call, pointer argument)` for every user address that is not a `mem_*`
/// page address.
const BYTE_POINTERS: [(Sysno, usize); 7] = [
    (Sysno::DebugWrite, 1),
    (Sysno::ProcessSpawn, 2),
    (Sysno::ProcessSpawn, 4),
    (Sysno::ThreadCreate, 1),
    (Sysno::ThreadCreate, 2),
    (Sysno::TraceRead, 3),
    (Sysno::MetricsRead, 1),
];

/// The sample of `nr` with every byte range empty, so only pointers count.
fn with_empty_ranges(nr: Sysno) -> [u64; 6] {
    let (_, mut args) = sample(nr).encode();
    match nr {
        Sysno::DebugWrite => args[2] = 0,
        Sysno::ProcessSpawn => {
            args[3] = 0;
            args[5] = 0;
        }
        Sysno::TraceRead => args[4] = 0,
        Sysno::MetricsRead => args[2] = 0,
        _ => {}
    }
    args
}

#[test]
fn pointers_must_be_canonical_user_addresses() {
    for (nr, i) in BYTE_POINTERS {
        let at = |p: u64| {
            let mut args = with_empty_ranges(nr);
            args[i] = p;
            decode(nr, args)
        };
        let arg = i as u8;
        assert_eq!(at(USER_END), Err(SysError::NonCanonicalPointer { arg }));
        assert_eq!(
            at(0x1234_0000_0000_0000),
            Err(SysError::NonCanonicalPointer { arg })
        );
        assert_eq!(
            at(0xffff_7fff_ffff_ffff),
            Err(SysError::NonCanonicalPointer { arg })
        );
        assert_eq!(
            at(0xffff_8000_0000_0000),
            Err(SysError::KernelPointer { arg })
        );
        assert_eq!(at(u64::MAX), Err(SysError::KernelPointer { arg }));
        // The null page, the last user byte and unaligned addresses are
        // the caller's business.
        assert!(at(0).is_ok(), "{nr} {i}");
        assert!(at(1).is_ok(), "{nr} {i}");
        assert!(at(USER_END - 1).is_ok(), "{nr} {i}");
    }
}

#[test]
fn byte_lengths_checked_against_limit_wrap_and_user_end() {
    for (nr, ptr, len, max) in [
        (Sysno::DebugWrite, 1, 2, MAX_DEBUG_WRITE),
        (Sysno::ProcessSpawn, 2, 3, MAX_SPAWN_ARGS),
        (Sysno::TraceRead, 3, 4, MAX_TRACE_READ),
        (Sysno::MetricsRead, 1, 2, MAX_TRACE_READ),
    ] {
        let with = |p: u64, n: u64| {
            let mut args = with_empty_ranges(nr);
            args[ptr] = p;
            args[len] = n;
            decode(nr, args)
        };
        let arg = len as u8;
        assert!(with(0x1000, 0).is_ok());
        assert!(with(0x1000, max).is_ok());
        assert_eq!(with(0x1000, max + 1), Err(SysError::LengthTooLarge { arg }));
        assert_eq!(with(0x1000, u64::MAX), Err(SysError::LengthWraps { arg }));
        assert_eq!(
            with(USER_END - 1, 2),
            Err(SysError::RangeOutsideUser { arg })
        );
        assert!(with(USER_END - max, max).is_ok());
        assert_eq!(
            with(USER_END - max + 1, max),
            Err(SysError::RangeOutsideUser { arg })
        );
    }
}

/// Decode checks a trace or metrics buffer like any byte range; whether
/// it has room for something is the kernel's: `trace_read` refuses one
/// without room for a record (`ZeroLength` on argument 4), `metrics_read`
/// writes `len / 8` words or fewer. Neither length needs alignment.
#[test]
fn traces_take_any_length_up_to_the_limit() {
    let one_record = TRACE_READ_HEADER + TRACE_RECORD;
    for len in [
        0,
        1,
        TRACE_READ_HEADER,
        one_record - 1,
        one_record,
        one_record + 1,
        MAX_TRACE_READ - 1,
        MAX_TRACE_READ,
    ] {
        let read = [7, 0, 0, 0x1001, len, 0];
        assert_eq!(
            decode(Sysno::TraceRead, read).map(|c| c.encode()),
            Ok((35, read)),
            "{len}"
        );
        let metrics = [7, 0x1001, len, 0, 0, 0];
        assert_eq!(
            decode(Sysno::MetricsRead, metrics).map(|c| c.encode()),
            Ok((36, metrics)),
            "{len}"
        );
    }
    // A buffer that ends at the last user byte.
    let last = USER_END - MAX_TRACE_READ;
    assert!(decode(Sysno::TraceRead, [7, 0, 0, last, MAX_TRACE_READ, 0]).is_ok());
    assert_eq!(
        decode(Sysno::TraceRead, [7, 0, 0, last + 1, MAX_TRACE_READ, 0]),
        Err(SysError::RangeOutsideUser { arg: 4 })
    );
    assert!(decode(Sysno::MetricsRead, [7, last, MAX_TRACE_READ, 0, 0, 0]).is_ok());
    assert_eq!(
        decode(Sysno::MetricsRead, [7, last + 8, MAX_TRACE_READ, 0, 0, 0]),
        Err(SysError::RangeOutsideUser { arg: 2 })
    );
}

#[test]
fn grant_counts_are_checked_as_their_byte_range() {
    let with =
        |grants: u64, count: u64| decode(Sysno::ProcessSpawn, [16, 3, 0x1000, 0, grants, count]);
    let too_many = Err(SysError::LengthTooLarge { arg: 5 });
    let outside = Err(SysError::RangeOutsideUser { arg: 5 });
    assert!(with(0x1000, 0).is_ok());
    assert!(with(0x1000, 1).is_ok());
    assert!(with(0x1000, MAX_GRANTS).is_ok());
    assert_eq!(with(0x1000, MAX_GRANTS + 1), too_many);
    // Counts whose byte size would wrap are refused as counts.
    assert_eq!(with(0x1000, 1 << 61), too_many);
    assert_eq!(with(0x1000, u64::MAX), too_many);
    assert_eq!(with(USER_END - 1, u64::MAX), too_many);
    // The range is count * GRANT_SIZE bytes, and ends at or below USER_END.
    let last = USER_END - MAX_GRANTS * GRANT_SIZE;
    assert!(with(last, MAX_GRANTS).is_ok());
    assert_eq!(with(last + 1, MAX_GRANTS), outside);
    assert!(with(USER_END - GRANT_SIZE, 1).is_ok());
    assert_eq!(with(USER_END - GRANT_SIZE + 1, 1), outside);
    assert_eq!(with(USER_END - GRANT_SIZE, 2), outside);
    // Grants need no alignment.
    assert!(with(0x1001, 3).is_ok());
    // With no grants the pointer is still checked, but the range is empty.
    assert!(with(0, 0).is_ok());
    assert!(with(USER_END - 1, 0).is_ok());
    assert_eq!(
        with(USER_END, 0),
        Err(SysError::NonCanonicalPointer { arg: 4 })
    );
    assert_eq!(
        with(0xffff_8000_0000_0000, 0),
        Err(SysError::KernelPointer { arg: 4 })
    );
}

#[test]
fn mem_ranges_are_whole_user_pages() {
    let page = PAGE_SIZE;
    for nr in [Sysno::MemMap, Sysno::MemUnmap, Sysno::MemProtect] {
        let perms = if nr == Sysno::MemUnmap { 0 } else { 1 };
        let with = |addr: u64, len: u64| decode(nr, [2, addr, len, perms, 0, 0]);
        assert!(with(page, page).is_ok());
        assert!(with(0, USER_MAP_END).is_ok());
        assert!(with(USER_MAP_END - page, page).is_ok());
        // The top user page is never mapped.
        assert_eq!(
            with(USER_MAP_END, page),
            Err(SysError::RangeOutsideUser { arg: 2 })
        );
        assert_eq!(
            with(0, USER_END),
            Err(SysError::RangeOutsideUser { arg: 2 })
        );
        assert_eq!(with(page + 1, page), Err(SysError::Misaligned { arg: 1 }));
        assert_eq!(with(page, page + 1), Err(SysError::Misaligned { arg: 2 }));
        assert_eq!(with(page, 0), Err(SysError::ZeroLength { arg: 2 }));
        assert_eq!(
            with(page, u64::MAX - page + 1),
            Err(SysError::LengthWraps { arg: 2 })
        );
        assert_eq!(
            with(USER_MAP_END - page, 2 * page),
            Err(SysError::RangeOutsideUser { arg: 2 })
        );
        assert_eq!(
            with(0, USER_END + page),
            Err(SysError::RangeOutsideUser { arg: 2 })
        );
        assert_eq!(
            with(USER_END, page),
            Err(SysError::NonCanonicalPointer { arg: 1 })
        );
        assert_eq!(
            with(0xffff_8000_0000_0000, page),
            Err(SysError::KernelPointer { arg: 1 })
        );
    }
}

/// `memory_split` and `frame_create` sizes: whole pages, at least one.
/// Decode sets no upper limit: the budget is the kernel's to check, and so
/// is the largest frame (16 MiB today, `LengthTooLarge` on argument 1).
#[test]
fn memory_split_and_frame_create_take_whole_pages() {
    for nr in [Sysno::MemorySplit, Sysno::FrameCreate] {
        let with = |bytes: u64| decode(nr, [3, bytes, 0, 0, 0, 0]);
        for ok in [
            PAGE_SIZE,
            2 * PAGE_SIZE,
            16 << 20,
            (16 << 20) + PAGE_SIZE,
            USER_END,
            u64::MAX - (PAGE_SIZE - 1),
        ] {
            let want = match nr {
                Sysno::MemorySplit => Syscall::MemorySplit {
                    memory: initial::MEMORY,
                    bytes: ok,
                },
                _ => Syscall::FrameCreate {
                    memory: initial::MEMORY,
                    bytes: ok,
                },
            };
            assert_eq!(with(ok), Ok(want), "{nr} {ok:#x}");
        }
        assert_eq!(with(0), Err(SysError::ZeroLength { arg: 1 }), "{nr}");
        for bad in [1, PAGE_SIZE - 1, PAGE_SIZE + 1, 1 << 63 | 1, u64::MAX] {
            assert_eq!(
                with(bad),
                Err(SysError::Misaligned { arg: 1 }),
                "{nr} {bad:#x}"
            );
        }
    }
}

/// `frame_map`'s address is checked like a `mem_*` address (canonical,
/// user, page-aligned); it has no length, so whether the frame fits below
/// `USER_MAP_END` (`RangeOutsideUser` on argument 2) and address 0
/// (`AddressSpaceFull`: the kernel never picks one for a frame) are the
/// kernel's to refuse.
#[test]
fn frame_map_addresses_are_user_pages() {
    let at = |addr: u64| decode(Sysno::FrameMap, [7, 2, addr, 3, 0, 0]);
    for ok in [
        0,
        PAGE_SIZE,
        0x7000_0000,
        USER_MAP_END - PAGE_SIZE,
        USER_MAP_END,
    ] {
        assert_eq!(
            at(ok),
            Ok(Syscall::FrameMap {
                frame: H,
                space: initial::SELF_SPACE,
                addr: UserPtr::new(ok),
                perms: Perms::READ_WRITE
            }),
            "{ok:#x}"
        );
    }
    for bad in [1, PAGE_SIZE - 1, PAGE_SIZE + 8, USER_END - 1] {
        assert_eq!(at(bad), Err(SysError::Misaligned { arg: 2 }), "{bad:#x}");
    }
    for bad in [USER_END, 0x1234_0000_0000_0000, 0xffff_7fff_ffff_f000] {
        assert_eq!(
            at(bad),
            Err(SysError::NonCanonicalPointer { arg: 2 }),
            "{bad:#x}"
        );
    }
    for bad in [0xffff_8000_0000_0000, u64::MAX - (PAGE_SIZE - 1)] {
        assert_eq!(at(bad), Err(SysError::KernelPointer { arg: 2 }), "{bad:#x}");
    }
}

#[test]
fn mint_rights_are_defined_rights_only() {
    let with = |rights: u64| decode(Sysno::CapMint, [7, 8, rights, 0, 0, 0]);
    for ok in [
        Rights::NONE,
        Rights::READ,
        Rights::WAIT | Rights::CONTROL,
        Rights::ALL,
    ] {
        assert_eq!(
            with(u64::from(ok.bits())),
            Ok(Syscall::CapMint {
                src: H,
                dest: Handle(8),
                rights: ok,
                badge: 0
            }),
            "{ok}"
        );
    }
    let first_undefined = u64::from(Rights::ALL.bits()) + 1;
    for reserved in [
        first_undefined,
        first_undefined | 1,
        1 << 31,
        1 << 32,
        u64::from(u32::MAX),
        u64::MAX,
    ] {
        assert_eq!(
            with(reserved),
            Err(SysError::ReservedBitsSet { arg: 2 }),
            "{reserved:#x}"
        );
    }
}

#[test]
fn perms_are_w_xor_x_and_readable() {
    for nr in [Sysno::MemMap, Sysno::MemProtect, Sysno::FrameMap] {
        let with = |perms: u64| decode(nr, [2, 0x1000, 0x1000, perms, 0, 0]);
        for ok in [Perms::READ, Perms::READ_WRITE, Perms::READ_EXECUTE] {
            assert!(with(ok.bits()).is_ok(), "{ok}");
        }
        for wx in [Perms::WRITE | Perms::EXECUTE, Perms::ALL] {
            assert_eq!(
                with(wx.bits()),
                Err(SysError::WriteAndExecute { arg: 3 }),
                "{wx}"
            );
        }
        for unreadable in [Perms::NONE, Perms::WRITE, Perms::EXECUTE] {
            assert_eq!(
                with(unreadable.bits()),
                Err(SysError::PermsWithoutRead { arg: 3 }),
                "{unreadable}"
            );
        }
        for reserved in [8, 1 << 8, 1 << 63] {
            assert_eq!(
                with(1 | reserved),
                Err(SysError::ReservedBitsSet { arg: 3 })
            );
        }
    }
}

#[test]
fn plain_values_take_any_bits() {
    for v in [0, 1, 1 << 32, u64::MAX] {
        assert_eq!(
            decode(Sysno::ThreadSleep, [v, 0, 0, 0, 0, 0]),
            Ok(Syscall::ThreadSleep { ns: v })
        );
        assert_eq!(
            decode(Sysno::ProcessWait, [5, v, 0, 0, 0, 0]),
            Ok(Syscall::ProcessWait {
                process: Handle(5),
                timeout_ns: v
            })
        );
        assert_eq!(
            decode(Sysno::ThreadWait, [5, v, 0, 0, 0, 0]),
            Ok(Syscall::ThreadWait {
                thread: Handle(5),
                timeout_ns: v
            })
        );
        assert_eq!(
            decode(Sysno::CapMint, [7, 8, 1, v, 0, 0]),
            Ok(Syscall::CapMint {
                src: H,
                dest: Handle(8),
                rights: Rights::READ,
                badge: v
            })
        );
        assert_eq!(
            decode(Sysno::ThreadCreate, [2, 0x1000, 0x2000, v, 0, 0]),
            Ok(Syscall::ThreadCreate {
                space: Handle(2),
                entry: UserPtr::new(0x1000),
                stack_top: UserPtr::new(0x2000),
                arg: v
            })
        );
        assert_eq!(
            decode(Sysno::NotificationSignal, [5, v, 0, 0, 0, 0]),
            Ok(Syscall::NotificationSignal {
                notification: Handle(5),
                bits: v
            })
        );
        assert_eq!(
            decode(Sysno::NotificationWait, [5, v, 0, 0, 0, 0]),
            Ok(Syscall::NotificationWait {
                notification: Handle(5),
                timeout_ns: v
            })
        );
        assert_eq!(
            decode(Sysno::TraceRead, [7, 0, v, 0x1000, 80, 0]),
            Ok(Syscall::TraceRead {
                trace: H,
                cpu: 0,
                cursor: v,
                buf: UserPtr::new(0x1000),
                len: 80
            })
        );
    }
}

// ---- Errors and results ----

/// Rights that are missing in the sample errors: a letter right and a
/// named one, so both halves of the detail's rights field are used.
const MISSING: Rights = Rights::WRITE.union(Rights::CONTROL);

/// One error of each code, with a non-trivial detail where it has one.
fn every_error() -> Vec<SysError> {
    ErrorCode::ALL
        .iter()
        .map(|&c| {
            let detail = match c.detail() {
                Detail::None => 0,
                Detail::Arg => 3,
                Detail::ArgRights => 3 | u64::from(MISSING.bits()) << 8,
                Detail::Addr => 0x7fff_1000,
                Detail::Number => 999,
            };
            SysError::from_code(c as u64, detail).unwrap()
        })
        .collect()
}

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

#[test]
fn every_error_round_trips_through_code_and_detail() {
    let errors = every_error();
    assert_eq!(errors.len(), ErrorCode::ALL.len());
    for e in errors {
        let code = e.kind().unwrap();
        assert_eq!(e.code(), code as u64);
        assert_eq!(e.name(), code.name());
        assert_eq!(SysError::from_code(e.code(), e.detail()), Some(e));
        assert_eq!(decode_result(e.code(), e.detail()), Err(e));
        assert_eq!(encode_result(Err(e)), (e.code(), e.detail()));
        let names_arg = matches!(code.detail(), Detail::Arg | Detail::ArgRights);
        assert_eq!(e.arg(), names_arg.then_some(3), "{e}");
        assert_eq!(e, make_error(code, 3, MISSING, e.detail()), "{e}");
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn details_name_the_argument_or_address() {
    let e = SysError::UnusedArgumentNotZero { arg: 5 };
    assert_eq!(encode_result(Err(e)), (2, 5));
    assert_eq!(e.arg(), Some(5));
    assert_eq!(
        e.to_string(),
        "argument 5 (r9): not used by this call but not zero"
    );
    let e = SysError::BadAddress { addr: 0x1000 };
    assert_eq!(encode_result(Err(e)), (16, 0x1000));
    assert_eq!(e.arg(), None);
    assert_eq!(
        encode_result(Err(SysError::UnknownSyscall { nr: 77 })),
        (1, 77)
    );
    assert_eq!(encode_result(Err(SysError::TimedOut)), (51, 0));
    for (e, word) in [
        (SysError::QuotaExceeded, (21, 0)),
        (SysError::SlotOccupied { arg: 1 }, (37, 1)),
        (SysError::BadgeAlreadySet { arg: 0 }, (38, 0)),
        (SysError::ObjectGone, (39, 0)),
        (SysError::NoPendingReply, (52, 0)),
        (SysError::CallerGone, (53, 0)),
        (SysError::NoSuchCpu, (54, 0)),
    ] {
        assert_eq!(encode_result(Err(e)), word, "{e}");
    }
    for (e, shown) in [
        (SysError::NoPendingReply, "no call to reply to"),
        (SysError::CallerGone, "the caller is gone"),
        (SysError::NoSuchCpu, "no such CPU"),
    ] {
        assert_eq!(e.to_string(), shown);
    }
    assert_eq!(
        SysError::SlotOccupied { arg: 1 }.to_string(),
        "argument 1 (rsi): slot already holds a capability"
    );
}

#[test]
fn missing_right_names_the_argument_and_exactly_the_rights() {
    let missing = Rights::EXECUTE | Rights::WAIT;
    let e = SysError::MissingRight { arg: 1, missing };
    assert_eq!(encode_result(Err(e)), (35, 1 | 0x104 << 8));
    assert_eq!(e.arg(), Some(1));
    assert_eq!(
        e.to_string(),
        "argument 1 (rsi): capability lacks rights --x--+wait"
    );
    // Every defined right fits in bits 8..40.
    for arg in 0..6 {
        let all = SysError::MissingRight {
            arg,
            missing: Rights::ALL,
        };
        assert_eq!(all.detail(), u64::from(arg) | 0x3ff << 8);
        assert_eq!(SysError::from_code(35, all.detail()), Some(all));
    }
    // A word with no rights is well-formed (the kernel never sends it).
    assert_eq!(
        SysError::from_code(35, 2),
        Some(SysError::MissingRight {
            arg: 2,
            missing: Rights::NONE
        })
    );
}

#[test]
fn from_code_refuses_success_unknown_codes_and_bad_indices() {
    assert_eq!(SysError::from_code(0, 0), None);
    for unknown in [13, 15, 22, 31, 40, 47, 55, 63, 64, u64::MAX] {
        assert_eq!(SysError::from_code(unknown, 0), None, "{unknown}");
    }
    for c in ErrorCode::ALL
        .iter()
        .filter(|c| matches!(c.detail(), Detail::Arg | Detail::ArgRights))
    {
        for arg in [6, 7, 0xff] {
            assert_eq!(SysError::from_code(*c as u64, arg), None, "{c} {arg}");
        }
        assert!(SysError::from_code(*c as u64, 5).is_some(), "{c}");
    }
    // Bits above the index are reserved and ignored.
    assert_eq!(
        SysError::from_code(ErrorCode::EmptySlot as u64, 0x100 | 4),
        Some(SysError::EmptySlot { arg: 4 })
    );
    assert_eq!(
        SysError::from_code(ErrorCode::SlotOccupied as u64, 1 << 63 | 1),
        Some(SysError::SlotOccupied { arg: 1 })
    );
    // A detail on an error without one is ignored.
    for c in [
        ErrorCode::OutOfMemory,
        ErrorCode::QuotaExceeded,
        ErrorCode::ObjectGone,
        ErrorCode::NoPendingReply,
        ErrorCode::CallerGone,
        ErrorCode::NoSuchCpu,
    ] {
        let e = SysError::from_code(c as u64, 42).unwrap();
        assert_eq!((e.kind(), e.detail()), (Some(c), 0));
    }
}

#[test]
fn missing_right_with_unknown_rights_is_unrecognized() {
    // Undefined rights bits (the first after control, the last of the
    // field) and bits above the field make a word this version does not
    // know; the raw words are kept.
    let first_undefined = u64::from(Rights::ALL.bits()) + 1;
    for detail in [
        1 | first_undefined << 8,
        1 | 1 << 39,
        1 | 1 << 40,
        1 | 1 << 63,
        0x3ff << 8 | 1 << 40,
    ] {
        assert_eq!(SysError::from_code(35, detail), None, "{detail:#x}");
        let Err(SysError::Unrecognized(u)) = decode_result(35, detail) else {
            panic!("expected Unrecognized for {detail:#x}");
        };
        assert_eq!((u.code(), u.detail()), (35, detail));
    }
}

#[test]
fn results_round_trip_and_unknown_words_are_kept() {
    for v in [0, 1, u64::MAX] {
        assert_eq!(encode_result(Ok(v)), (0, v));
        assert_eq!(decode_result(0, v), Ok(v));
    }
    let Err(SysError::Unrecognized(u)) = decode_result(4000, 9) else {
        panic!("expected Unrecognized");
    };
    assert_eq!((u.code(), u.detail()), (4000, 9));
    let e = SysError::Unrecognized(u);
    assert_eq!(e.kind(), None);
    assert_eq!(e.arg(), None);
    assert_eq!(e.name(), "Unrecognized");
    assert_eq!(encode_result(Err(e)), (4000, 9));
    assert_eq!(e.to_string(), "unrecognized error code 4000 (detail 0x9)");
}

// ---- Result values ----

#[test]
fn exit_status_words() {
    let exited = ExitStatus::Exited { code: u32::MAX };
    assert_eq!(exited.to_raw(), 0xffff_ffff);
    let faulted = ExitStatus::Faulted { vector: 14 };
    assert_eq!(faulted.to_raw(), 1 << 32 | 14);
    assert_eq!(ExitStatus::Killed.to_raw(), 2 << 32);
    for s in [
        exited,
        faulted,
        ExitStatus::Exited { code: 0 },
        ExitStatus::Faulted { vector: 255 },
        ExitStatus::Killed,
    ] {
        assert_eq!(ExitStatus::from_raw(s.to_raw()), Some(s));
    }
    assert_eq!(ExitStatus::from_raw(1 << 32 | 256), None);
    // Killed carries no value.
    assert_eq!(ExitStatus::from_raw(2 << 32 | 1), None);
    assert_eq!(ExitStatus::from_raw(2 << 32 | 0xffff_ffff), None);
    assert_eq!(ExitStatus::from_raw(3 << 32), None);
    assert_eq!(ExitStatus::from_raw(0xff << 32), None);
    assert_eq!(ExitStatus::from_raw(1 << 40), None);
    assert_eq!(ExitStatus::from_raw(u64::MAX), None);
    assert_eq!(ExitStatus::Killed.to_string(), "killed");
    assert_eq!(exited.to_string(), "exited with code 4294967295");
    assert_eq!(faulted.to_string(), "ended by exception 14");
}

#[test]
fn grant_bytes_are_slot_then_rights_little_endian() {
    let g = Grant {
        slot: 0x0403_0201,
        rights: 0x0807_0605,
    };
    assert_eq!(g.to_bytes(), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(Grant::from_bytes(g.to_bytes()), g);
    let g = Grant::new(initial::CONSOLE, Rights::WRITE);
    assert_eq!(
        g,
        Grant {
            slot: 1,
            rights: Rights::WRITE.bits()
        }
    );
    assert_eq!(g.to_bytes(), [1, 0, 0, 0, 2, 0, 0, 0]);
    let g = Grant::child_space(Rights::ALL);
    assert_eq!(g.slot, Grant::CHILD_SPACE);
    assert_eq!(g.to_bytes(), [0xff, 0xff, 0xff, 0xff, 0xff, 0x03, 0, 0]);
    assert_eq!(Grant::from_bytes(g.to_bytes()), g);
    // Any 8 bytes are a Grant; the kernel checks its slot and rights.
    let bytes = [0xff; 8];
    assert_eq!(Grant::from_bytes(bytes).to_bytes(), bytes);
}

#[test]
fn cap_info_words() {
    let info = CapInfo {
        kind: ObjectType::Process,
        rights: Rights::ALL,
        badged: true,
    };
    assert_eq!(info.to_raw(), 0x3ff | 5 << 32 | 1 << 40);
    let console = CapInfo {
        kind: ObjectType::Console,
        rights: Rights::WRITE,
        badged: false,
    };
    assert_eq!(console.to_raw(), 2 | 13 << 32);
    for &kind in ObjectType::ALL {
        for rights in [Rights::NONE, Rights::READ | Rights::DERIVE, Rights::ALL] {
            for badged in [false, true] {
                let info = CapInfo {
                    kind,
                    rights,
                    badged,
                };
                let raw = info.to_raw();
                assert_eq!(raw >> 32 & 0xff, u64::from(kind.raw()));
                assert_eq!(CapInfo::from_raw(raw), Some(info), "{raw:#x}");
            }
        }
    }
}

#[test]
fn cap_info_refuses_words_this_version_does_not_produce() {
    let ok = CapInfo {
        kind: ObjectType::Memory,
        rights: Rights::READ,
        badged: false,
    }
    .to_raw();
    assert!(CapInfo::from_raw(ok).is_some());
    let first_undefined = u64::from(Rights::ALL.bits()) + 1;
    for bad in [
        // No type, or an unknown one.
        1,
        ok & !(0xff << 32),
        ok & !(0xff << 32) | 15 << 32,
        ok & !(0xff << 32) | 0xff << 32,
        // Undefined rights.
        ok | first_undefined,
        ok | 1 << 31,
        // Bits above the badge flag.
        ok | 1 << 41,
        ok | 1 << 63,
        u64::MAX,
    ] {
        assert_eq!(CapInfo::from_raw(bad), None, "{bad:#x}");
    }
}

/// The bits a [`MsgInfo`] defines: words 0..3, non-blocking 4, capability
/// slot 8..16, timeout 32..64. Written out, not taken from the crate, so a
/// moved field fails here.
const MSG_INFO_DEFINED: u64 = 0xffff_ffff_0000_ff17;
/// The bits a [`RecvInfo`] defines: words 0..3, capability received 5,
/// call 6, causal ID 32..64.
const RECV_INFO_DEFINED: u64 = 0xffff_ffff_0000_0067;

#[test]
fn msg_info_words() {
    assert_eq!(MsgInfo::default().to_raw(), 0);
    assert_eq!(MsgInfo::from_raw(0), Some(MsgInfo::default()));
    assert_eq!(
        MsgInfo::words(3),
        MsgInfo {
            words: 3,
            nonblocking: false,
            cap_slot: 0,
            timeout_us: 0
        }
    );
    // Each field in its place.
    let fields = [
        (MsgInfo::words(4), 4),
        (
            MsgInfo {
                nonblocking: true,
                ..MsgInfo::default()
            },
            1 << 4,
        ),
        (
            MsgInfo {
                cap_slot: 0xff,
                ..MsgInfo::default()
            },
            0xff << 8,
        ),
        (
            MsgInfo {
                timeout_us: u32::MAX,
                ..MsgInfo::default()
            },
            0xffff_ffff << 32,
        ),
    ];
    let mut all = 0;
    for (info, raw) in fields {
        assert_eq!(info.to_raw(), raw, "{info:?}");
        assert_eq!(MsgInfo::from_raw(raw), Some(info), "{raw:#x}");
        all |= raw;
    }
    let full = MsgInfo {
        words: 4,
        nonblocking: true,
        cap_slot: 0xab,
        timeout_us: 0x1234_5678,
    };
    assert_eq!(full.to_raw(), 0x1234_5678_0000_ab14);
    assert_eq!(MsgInfo::from_raw(full.to_raw()), Some(full));
    // The largest word count with every other field set: every defined bit
    // but the unused high word-count bits.
    assert_eq!(all | 3, MSG_INFO_DEFINED);
    for words in 0..=MSG_WORDS as u64 {
        let info = MsgInfo::from_raw(words).unwrap();
        assert_eq!(usize::from(info.words), words as usize);
    }
}

#[test]
fn msg_info_refuses_reserved_bits_and_too_many_words() {
    for bit in 0..64 {
        let raw = 1u64 << bit;
        let defined = raw & MSG_INFO_DEFINED != 0;
        assert_eq!(MsgInfo::from_raw(raw).is_some(), defined, "bit {bit}");
        // Next to valid fields too.
        let ok = 0x0000_0010_0000_0500;
        assert_eq!(MsgInfo::from_raw(ok | raw).is_some(), defined, "bit {bit}");
    }
    for words in 5..8 {
        assert_eq!(MsgInfo::from_raw(words), None, "{words}");
        assert_eq!(MsgInfo::from_raw(words | 0xff << 8), None, "{words}");
    }
    assert_eq!(MsgInfo::from_raw(u64::MAX), None);
    assert_eq!(MsgInfo::from_raw(MSG_INFO_DEFINED), None, "7 words");
    assert!(MsgInfo::from_raw(MSG_INFO_DEFINED & !3).is_some());
}

#[test]
fn msg_info_timeouts() {
    // No timeout: wait for ever.
    assert_eq!(MsgInfo::words(1).timeout_ns(), u64::MAX);
    let after = |timeout_us| MsgInfo {
        timeout_us,
        ..MsgInfo::default()
    };
    assert_eq!(after(1).timeout_ns(), 1000);
    assert_eq!(after(1500).timeout_ns(), 1_500_000);
    // The longest timeout, about 71 minutes, does not overflow.
    assert_eq!(after(u32::MAX).timeout_ns(), 4_294_967_295_000);
    // Non-blocking overrides any timeout.
    for timeout_us in [0, 1, u32::MAX] {
        let info = MsgInfo {
            nonblocking: true,
            ..after(timeout_us)
        };
        assert_eq!(info.timeout_ns(), 0, "{timeout_us}");
    }
}

#[test]
fn msg_info_display() {
    let shown = [
        (MsgInfo::default(), "0 words"),
        (SEND_INFO, "2 words, cap h9"),
        (RECV_INFO, "0 words, cap h10, timeout 500 us"),
        (REPLY_RECV_INFO, "3 words, nonblocking"),
        // A timeout that does not apply is not shown.
        (
            MsgInfo {
                timeout_us: 9,
                ..REPLY_RECV_INFO
            },
            "3 words, nonblocking",
        ),
    ];
    for (info, want) in shown {
        assert_eq!(info.to_string(), want);
    }
}

#[test]
fn recv_info_words() {
    assert_eq!(RecvInfo::default().to_raw(), 0);
    let fields = [
        (
            RecvInfo {
                words: 4,
                ..RecvInfo::default()
            },
            4,
        ),
        (
            RecvInfo {
                cap_received: true,
                ..RecvInfo::default()
            },
            1 << 5,
        ),
        (
            RecvInfo {
                is_call: true,
                ..RecvInfo::default()
            },
            1 << 6,
        ),
        (
            RecvInfo {
                causal: u32::MAX,
                ..RecvInfo::default()
            },
            0xffff_ffff << 32,
        ),
    ];
    let mut all = 7;
    for (info, raw) in fields {
        assert_eq!(info.to_raw(), raw, "{info:?}");
        assert_eq!(RecvInfo::from_raw(raw), info, "{raw:#x}");
        all |= raw;
    }
    assert_eq!(all, RECV_INFO_DEFINED);
    let call = RecvInfo {
        words: 2,
        cap_received: true,
        is_call: true,
        causal: 0xdead_beef,
    };
    assert_eq!(call.to_raw(), 0xdead_beef_0000_0062);
    // Reading is total: a newer kernel's flags are dropped, not refused.
    assert_eq!(RecvInfo::from_raw(u64::MAX).to_raw(), RECV_INFO_DEFINED);
    assert_eq!(
        RecvInfo::from_raw(1 << 4 | 1 << 7 | 1 << 31),
        RecvInfo::default()
    );
}

/// `cap_identify` reports these numbers, so they are published ABI.
#[test]
fn object_type_numbers_are_stable() {
    let expect = [
        (1, "memory"),
        (2, "frame"),
        (3, "address_space"),
        (4, "thread"),
        (5, "process"),
        (6, "endpoint"),
        (7, "notification"),
        (8, "irq_line"),
        (9, "io_ports"),
        (10, "mmio_region"),
        (11, "resource_group"),
        (12, "trace"),
        (13, "console"),
        (14, "module"),
    ];
    let got: Vec<(u8, &str)> = ObjectType::ALL
        .iter()
        .map(|t| (t.raw(), t.name()))
        .collect();
    assert_eq!(got, expect);
    for raw in [0, 15, 0xff] {
        assert_eq!(ObjectType::from_raw(raw), None);
    }
}

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

/// Rights travel in `cap_mint`, grants, `MissingRight` and `CapInfo`, so
/// their bits are published ABI.
#[test]
fn rights_bits_are_stable() {
    let mut all = Rights::NONE;
    for (bit, (right, name)) in RIGHTS.iter().enumerate() {
        assert_eq!(right.bits(), 1 << bit, "{name}");
        all = all | *right;
    }
    assert_eq!(all, Rights::ALL);
    assert_eq!(Rights::ALL.bits(), 0x3ff);
    assert_eq!(Rights::from_bits(0x400), None);
}

#[test]
fn perms_bits_and_display() {
    assert_eq!(Perms::from_bits(7), Some(Perms::ALL));
    assert_eq!(Perms::from_bits(8), None);
    assert_eq!(Perms::READ | Perms::EXECUTE, Perms::READ_EXECUTE);
    assert_eq!(Perms::ALL.to_string(), "rwx");
    assert_eq!(Perms::NONE.to_string(), "---");
    assert!(Perms::READ_WRITE.contains(Perms::WRITE));
    assert!(!Perms::READ_WRITE.contains(Perms::EXECUTE));
}

#[test]
fn user_ptr_is_only_an_address() {
    let x = 5u32;
    let p = UserPtr::from_ptr(&x);
    assert_eq!(p.addr(), &x as *const u32 as u64);
    assert_eq!(UserPtr::new(0x1000).to_string(), "0x1000");
    assert_eq!(Handle::NULL, Handle(0));
    assert_eq!(Handle(42).to_string(), "h42");
}

// ---- docs/ABI.md ----

const ABI_MD: &str = include_str!("../../../docs/ABI.md");

/// The cells of every table row under the `## heading` whose first cell is
/// a number, backticks stripped.
fn rows(heading: &str) -> Vec<Vec<String>> {
    let start = ABI_MD
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("docs/ABI.md has no `## {heading}`"));
    let section = &ABI_MD[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells.len() > 3 && cells[0].is_empty()).then(|| {
                cells[1..cells.len() - 1]
                    .iter()
                    .map(|c| c.trim_matches('`').to_string())
                    .collect::<Vec<String>>()
            })
        })
        .filter(|cells| cells[0].parse::<u64>().is_ok())
        .collect()
}

/// `(first cell, second cell)` of [`rows`].
fn table(heading: &str) -> BTreeSet<(String, String)> {
    rows(heading)
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect()
}

#[test]
fn docs_list_exactly_the_system_calls() {
    let crate_calls: BTreeSet<(String, String)> = Sysno::ALL
        .iter()
        .map(|&s| ((s as u64).to_string(), s.name().to_string()))
        .collect();
    assert_eq!(table("System calls"), crate_calls);
}

#[test]
fn docs_list_exactly_the_error_codes() {
    let crate_codes: BTreeSet<(String, String)> = ErrorCode::ALL
        .iter()
        .map(|&c| ((c as u64).to_string(), c.name().to_string()))
        .collect();
    assert_eq!(table("Error codes"), crate_codes);
}

#[test]
fn docs_give_each_error_code_its_detail() {
    for row in rows("Error codes") {
        let code = ErrorCode::from_raw(row[0].parse().unwrap()).unwrap();
        let detail = match code.detail() {
            Detail::None => "0",
            Detail::Arg => "arg",
            Detail::ArgRights => "arg, rights",
            Detail::Addr => "addr",
            Detail::Number => "nr",
        };
        assert_eq!(row[2], detail, "{code}");
    }
}

#[test]
fn docs_list_exactly_the_rights() {
    let crate_rights: BTreeSet<(String, String)> = RIGHTS
        .iter()
        .map(|(r, name)| (r.bits().trailing_zeros().to_string(), name.to_string()))
        .collect();
    assert_eq!(table("Rights"), crate_rights);
}

#[test]
fn docs_list_exactly_the_object_types() {
    let crate_types: BTreeSet<(String, String)> = ObjectType::ALL
        .iter()
        .map(|t| (t.raw().to_string(), t.name().to_string()))
        .collect();
    assert_eq!(table("Object types"), crate_types);
}

#[test]
fn docs_state_the_constants() {
    for (name, value) in [
        ("ABI_VERSION", u64::from(ABI_VERSION)),
        ("PAGE_SIZE", PAGE_SIZE),
        ("MAX_DEBUG_WRITE", MAX_DEBUG_WRITE),
        ("MAX_SPAWN_ARGS", MAX_SPAWN_ARGS),
        ("CSPACE_SLOTS", u64::from(CSPACE_SLOTS)),
        ("MAX_GRANTS", MAX_GRANTS),
        ("GRANT_SIZE", GRANT_SIZE),
        ("CONSOLE", u64::from(initial::CONSOLE.0)),
        ("SELF_SPACE", u64::from(initial::SELF_SPACE.0)),
        ("MEMORY", u64::from(initial::MEMORY.0)),
        ("IRQ_LINES", u64::from(initial::IRQ_LINES.0)),
        ("IO_PORTS", u64::from(initial::IO_PORTS.0)),
        ("MMIO", u64::from(initial::MMIO.0)),
        ("TRACE", u64::from(initial::TRACE.0)),
        ("FIRST_MODULE", u64::from(initial::FIRST_MODULE.0)),
        ("MSG_WORDS", MSG_WORDS as u64),
        ("TRACE_READ_HEADER", TRACE_READ_HEADER),
        ("MAX_TRACE_READ", MAX_TRACE_READ),
    ] {
        let row = format!("| `{name}` | {value} |");
        assert!(ABI_MD.contains(&row), "docs/ABI.md lacks `{row}`");
    }
    assert!(ABI_MD.contains("| `USER_END` | `0x0000_8000_0000_0000` |"));
    assert!(ABI_MD.contains("| `USER_MAP_END` | `0x0000_7fff_ffff_f000` |"));
    assert!(ABI_MD.contains("| `CHILD_SPACE` | `0xffff_ffff` |"));
    assert!(ABI_MD.contains("| `ANY_CPU` | `0xffff_ffff` |"));
    assert!(ABI_MD.contains("| `FRAME_MAP_OWN_SPACE` | `1 << 63` |"));
    assert_eq!(FRAME_MAP_OWN_SPACE, 1 << 63);
    assert_eq!(USER_MAP_END, 0x0000_7fff_ffff_f000);
    assert_eq!(Grant::CHILD_SPACE, 0xffff_ffff);
    assert_eq!(ANY_CPU, 0xffff_ffff);
}

/// The rows of the table under `### {heading}` (header and separator
/// left out), backticks stripped.
fn subsection_rows(heading: &str) -> Vec<Vec<String>> {
    let start = ABI_MD
        .find(&format!("\n### {heading}\n"))
        .unwrap_or_else(|| panic!("docs/ABI.md has no `### {heading}`"));
    let section = &ABI_MD[start + 1..];
    let section = &section[..section[4..].find("\n#").map_or(section.len(), |e| e + 4)];
    let rows: Vec<Vec<String>> = section
        .lines()
        .filter(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            cells[1..cells.len() - 1]
                .iter()
                .map(|c| c.trim_matches('`').to_string())
                .collect()
        })
        .collect();
    assert!(rows.len() > 2, "`### {heading}` has no table");
    assert!(rows[1].iter().all(|c| c.starts_with("---")), "{heading}");
    rows[2..].to_vec()
}

/// "5" or "8 to 15" as a mask.
fn bit_range(cell: &str) -> u64 {
    let (lo, hi) = cell.split_once(" to ").unwrap_or((cell, cell));
    let (lo, hi): (u32, u32) = (lo.parse().unwrap(), hi.parse().unwrap());
    assert!(lo <= hi && hi < 64, "{cell}");
    (lo..=hi).fold(0, |m, b| m | 1 << b)
}

/// Checks a bit table: the rows cover the 64 bits once each, in order; a
/// named field has exactly the bits `field` gives for its name; a
/// reserved range has only bits for which `reserved` holds.
fn check_bit_table(heading: &str, field: impl Fn(&str) -> u64, reserved: impl Fn(u32) -> bool) {
    let mut covered = 0u64;
    for row in subsection_rows(heading) {
        let mask = bit_range(&row[0]);
        assert_eq!(covered & mask, 0, "{heading}: bits {} twice", row[0]);
        assert_eq!(
            mask.trailing_zeros(),
            covered.count_ones(),
            "{heading}: order"
        );
        covered |= mask;
        if row[1] == "reserved" {
            for bit in (0..64).filter(|b| mask >> b & 1 == 1) {
                assert!(reserved(bit), "{heading}: bit {bit} is not reserved");
            }
        } else {
            assert_eq!(field(&row[1]), mask, "{heading}: {}", row[1]);
        }
    }
    assert_eq!(covered, u64::MAX, "{heading}: every bit");
}

#[test]
fn docs_give_msg_info_its_bits() {
    check_bit_table(
        "MsgInfo",
        |name| {
            let mut info = MsgInfo::default();
            match name {
                "words" => return MsgInfo::words(7).to_raw(),
                "nonblocking" => info.nonblocking = true,
                "cap_slot" => info.cap_slot = u8::MAX,
                "timeout_us" => info.timeout_us = u32::MAX,
                _ => panic!("MsgInfo has no field {name}"),
            }
            info.to_raw()
        },
        |bit| MsgInfo::from_raw(1 << bit).is_none() && 1 << bit & MSG_INFO_DEFINED == 0,
    );
}

#[test]
fn docs_give_recv_info_its_bits() {
    check_bit_table(
        "RecvInfo",
        |name| {
            let mut info = RecvInfo::default();
            match name {
                "words" => info.words = 7,
                "cap_received" => info.cap_received = true,
                "is_call" => info.is_call = true,
                "causal" => info.causal = u32::MAX,
                _ => panic!("RecvInfo has no field {name}"),
            }
            info.to_raw()
        },
        |bit| RecvInfo::from_raw(1 << bit) == RecvInfo::default(),
    );
}

/// The sender's column of the IPC register table is what `encode` does;
/// the receiver's is the convention `lib/abi/src/ipc.rs` states.
#[test]
fn docs_give_the_message_registers() {
    let words = [0xa0, 0xa1, 0xa2, 0xa3];
    let (_, args) = Syscall::IpcSend {
        endpoint: H,
        info: SEND_INFO,
        words,
    }
    .encode();
    let rows = subsection_rows("Message registers");
    let received = [
        ("rdi", "word 0"),
        ("rsi", "RecvInfo"),
        ("rdx", "badge"),
        ("r10", "word 1"),
        ("r8", "word 2"),
        ("r9", "word 3"),
    ];
    for (i, reg) in ARG_REGISTERS.iter().enumerate() {
        let sent = match args[i] {
            a if a == u64::from(H.0) => "endpoint".to_string(),
            a if a == SEND_INFO.to_raw() => "MsgInfo".to_string(),
            a => format!("word {}", words.iter().position(|&w| w == a).unwrap()),
        };
        let row = rows
            .iter()
            .find(|r| r[0] == *reg)
            .unwrap_or_else(|| panic!("no row for {reg}"));
        assert!(row[1].starts_with(&sent), "{reg}: {} is not {sent}", row[1]);
        let got = received.iter().find(|r| r.0 == *reg).unwrap().1;
        assert!(row[2].starts_with(got), "{reg}: {} is not {got}", row[2]);
    }
    assert_eq!(rows.len(), 1 + ARG_REGISTERS.len(), "rax and the arguments");
    assert_eq!(rows[0][0], "rax");
}

/// What the System calls table says each call of versions 3 to 5 needs
/// and how it fails: the rights the kernel checks, and every error
/// specific to it.
#[test]
fn docs_give_the_new_calls_their_rights_and_errors() {
    let handle_errors = "handle errors on";
    let byte_range = [
        "NonCanonicalPointer",
        "KernelPointer",
        "LengthWraps",
        "LengthTooLarge",
        "RangeOutsideUser",
    ];
    let expect: [(Sysno, &[&str], &[&str]); 16] = [
        (
            Sysno::EndpointCreate,
            &["memory, write"],
            &[
                "ReservedBitsSet",
                handle_errors,
                "QuotaExceeded",
                "TableFull",
            ],
        ),
        (
            Sysno::NotificationCreate,
            &["memory, write"],
            &[
                "ReservedBitsSet",
                handle_errors,
                "QuotaExceeded",
                "TableFull",
            ],
        ),
        (
            Sysno::IpcSend,
            &["endpoint, send", "grant and derive"],
            &[
                "ReservedBitsSet",
                handle_errors,
                "MissingRight",
                "WouldBlock",
                "TimedOut",
                "ObjectGone",
            ],
        ),
        (
            Sysno::IpcRecv,
            &["endpoint, receive"],
            &[
                "ReservedBitsSet",
                handle_errors,
                "WouldBlock",
                "TimedOut",
                "ObjectGone",
            ],
        ),
        (
            Sysno::IpcCall,
            &["endpoint, send", "grant and derive"],
            &[
                "ReservedBitsSet",
                handle_errors,
                "MissingRight",
                "WouldBlock",
                "TimedOut",
                "ObjectGone",
            ],
        ),
        (
            Sysno::IpcReply,
            &["nothing"],
            &[
                "UnusedArgumentNotZero",
                "ReservedBitsSet",
                "NoPendingReply",
                "CallerGone",
            ],
        ),
        (
            Sysno::IpcReplyRecv,
            &["endpoint, receive"],
            &[
                "ReservedBitsSet",
                handle_errors,
                "NoPendingReply",
                "CallerGone",
                "WouldBlock",
                "TimedOut",
                "ObjectGone",
            ],
        ),
        (
            Sysno::NotificationSignal,
            &["notification, signal"],
            &["ReservedBitsSet", handle_errors],
        ),
        (
            Sysno::NotificationWait,
            &["notification, wait"],
            &[
                "ReservedBitsSet",
                handle_errors,
                "WouldBlock",
                "TimedOut",
                "ObjectGone",
            ],
        ),
        (
            Sysno::NotificationPoll,
            &["notification, wait"],
            &["ReservedBitsSet", handle_errors],
        ),
        (
            Sysno::ThreadSetCpu,
            &["thread, control"],
            &["ReservedBitsSet", handle_errors, "NoSuchCpu"],
        ),
        (
            Sysno::TraceRead,
            &["trace, read"],
            &[
                "ReservedBitsSet",
                handle_errors,
                "ZeroLength",
                "NoSuchCpu",
                "BadAddress",
            ],
        ),
        (
            Sysno::MetricsRead,
            &["trace or process, read"],
            &[
                "ReservedBitsSet",
                "SlotOutOfRange",
                "EmptySlot",
                "MissingRight",
                "WrongObjectType",
                "BadAddress",
            ],
        ),
        (
            Sysno::TraceControl,
            &["trace, control"],
            &["ReservedBitsSet", handle_errors],
        ),
        (
            Sysno::FrameCreate,
            &["memory, write"],
            &[
                "ReservedBitsSet",
                "ZeroLength",
                "Misaligned",
                handle_errors,
                "LengthTooLarge",
                "QuotaExceeded",
                "TableFull",
                "OutOfMemory",
            ],
        ),
        (
            Sysno::FrameMap,
            &[
                "frame, read",
                "write if `perms` has write",
                "address_space, write",
                "execute if `perms` has execute",
            ],
            &[
                "ReservedBitsSet",
                "NonCanonicalPointer",
                "KernelPointer",
                "Misaligned",
                "WriteAndExecute",
                "PermsWithoutRead",
                handle_errors,
                "AddressSpaceFull",
                "RangeOutsideUser",
                "AlreadyMapped",
                "ObjectGone",
                "OutOfMemory",
            ],
        ),
    ];
    let rows = rows("System calls");
    for (nr, needs, errors) in expect {
        let row = rows
            .iter()
            .find(|r| r[1] == nr.name())
            .unwrap_or_else(|| panic!("no row for {nr}"));
        for n in needs {
            assert!(row[4].contains(n), "{nr} needs `{n}`: {}", row[4]);
        }
        for e in errors {
            assert!(row[5].contains(e), "{nr} errors lack `{e}`: {}", row[5]);
        }
    }
    // The trace calls' buffers are checked as byte ranges.
    for nr in [Sysno::TraceRead, Sysno::MetricsRead] {
        let row = rows.iter().find(|r| r[1] == nr.name()).unwrap();
        for e in byte_range {
            assert!(row[5].contains(e), "{nr} errors lack `{e}`: {}", row[5]);
        }
    }
    // The calls that make a capability say what it holds.
    let frame_create = rows.iter().find(|r| r[1] == "frame_create").unwrap();
    assert!(
        frame_create[3].contains("read, write, execute, grant and derive"),
        "{}",
        frame_create[3]
    );
    // frame_map's result word names the own-space bit.
    let frame_map = rows.iter().find(|r| r[1] == "frame_map").unwrap();
    assert!(
        frame_map[3].contains("FRAME_MAP_OWN_SPACE"),
        "{}",
        frame_map[3]
    );
    // The object type is made by a call now.
    let frame = rows_type("frame");
    for call in ["frame_create", "frame_map"] {
        assert!(frame.contains(call), "the frame type names {call}: {frame}");
    }
    // Every error version 3 added is returned by some call.
    for code in [
        ErrorCode::NoPendingReply,
        ErrorCode::CallerGone,
        ErrorCode::NoSuchCpu,
    ] {
        assert!(
            rows.iter().any(|r| r[5].contains(code.name())),
            "no call returns {code}"
        );
    }
}

/// The description of object type `name` in the Object types table.
fn rows_type(name: &str) -> String {
    rows("Object types")
        .into_iter()
        .find(|r| r[1] == name)
        .unwrap_or_else(|| panic!("no object type {name}"))[2]
        .clone()
}

/// The text of the `## {heading}` section.
fn section(heading: &str) -> &'static str {
    let start = ABI_MD
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("docs/ABI.md has no `## {heading}`"));
    let section = &ABI_MD[start + 1..];
    &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)]
}

/// "3 to 7" as `(3, 7)`.
fn number_range(cell: &str) -> (u64, u64) {
    let (lo, hi) = cell
        .split_once(" to ")
        .unwrap_or_else(|| panic!("`{cell}` is no range"));
    (lo.parse().unwrap(), hi.parse().unwrap())
}

/// Each version's entry under Versions names the calls it added as a
/// range ("Calls A to B"); the ranges follow each other from 1 to the
/// last call, the last entry is `ABI_VERSION`'s, and since version 3 an
/// entry names each of its calls.
#[test]
fn docs_give_every_version_its_calls() {
    let text = section("Versions");
    let entries: Vec<&str> = text.split("\n- **").skip(1).collect();
    assert_eq!(entries.len(), ABI_VERSION as usize, "an entry per version");
    let mut next = 1;
    for (i, entry) in entries.iter().enumerate() {
        let version = i as u32 + 1;
        assert!(entry.starts_with(&format!("{version}**:")), "{entry}");
        let at = entry
            .find("alls ")
            .unwrap_or_else(|| panic!("version {version} names no calls"));
        let words: Vec<&str> = entry[at + 5..].splitn(4, ' ').collect();
        let last = words[2].trim_end_matches(|c: char| !c.is_ascii_digit());
        let (first, last) = number_range(&format!("{} to {last}", words[0]));
        assert_eq!(words[1], "to", "version {version}");
        assert_eq!(first, next, "version {version} starts where the last ended");
        assert!(first <= last, "version {version}");
        next = last + 1;
        if version >= 3 {
            for nr in first..=last {
                let name = Sysno::from_raw(nr).unwrap().name();
                assert!(entry.contains(&format!("`{name}`")), "{version}: {name}");
            }
        }
    }
    let newest = Sysno::ALL.iter().map(|&s| s as u64).max().unwrap();
    assert_eq!(next, newest + 1, "the last version ends at the newest call");
}

/// The `trace_read` buffer table: the header as `u64` words covering
/// exactly `TRACE_READ_HEADER` bytes, then the records, 64 bytes each.
#[test]
fn docs_give_the_trace_read_buffer() {
    let rows = subsection_rows("trace_read buffer");
    let (records, header) = rows.split_last().unwrap();
    let mut at = 0;
    for row in header {
        let (lo, hi) = number_range(&row[0]);
        assert_eq!((lo, hi), (at, at + 7), "a u64 at byte {at}");
        assert!(row[1].contains("u64"), "{}", row[1]);
        at = hi + 1;
    }
    assert_eq!(at, TRACE_READ_HEADER);
    assert_eq!(records[0], format!("{TRACE_READ_HEADER} onwards"));
    assert!(records[1].contains(&format!("{TRACE_RECORD} bytes each")));
}

/// The metrics tables: the kernel's words end with the records lost at
/// word `5n + 65` (as [`kernel_metrics_words`] counts them), and a
/// process has five words.
#[test]
fn docs_give_the_metrics() {
    let kernel = subsection_rows("Kernel metrics");
    let first: Vec<&str> = kernel.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(first, ["0", "1 to 5n", "5n + 1 to 5n + 64", "5n + 65"]);
    for n in [1, 4, 64] {
        assert_eq!(kernel_metrics_words(n), 5 * n + 65 + 1);
    }
    assert!(kernel[3][1].contains("lost"), "{}", kernel[3][1]);
    let process = subsection_rows("Process metrics");
    let words: Vec<&str> = process.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(words, ["0", "1", "2", "3", "4"]);
}

/// `lib/trace/src/event.rs`, where the trace categories are defined: the
/// ABI crate cannot depend on `ferrous-trace` (that crate depends on it),
/// so the table is checked against the source text.
const TRACE_EVENTS_RS: &str = include_str!("../../trace/src/event.rs");

/// The categories table lists exactly `ferrous_trace::Category`: each
/// number is the category's bit in `trace_control`'s mask.
#[test]
fn docs_list_exactly_the_trace_categories() {
    let start = TRACE_EVENTS_RS
        .find("pub enum Category: u8 {")
        .expect("event.rs defines Category");
    let body = &TRACE_EVENTS_RS[start..];
    let body = &body[..body.find("\n    }").unwrap()];
    let defined: BTreeSet<(String, String)> = body
        .lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once(" = ")?;
            let (bit, name) = rest.split_once(" => ")?;
            let name = name.trim_end_matches(',').trim_matches('"');
            Some((bit.to_string(), name.to_string()))
        })
        .collect();
    // Category `i` is bit `i`, with no gaps (`Categories::ALL` is a run
    // of ones); this also fails if the parse above found nothing.
    let mut bits: Vec<u32> = defined.iter().map(|(b, _)| b.parse().unwrap()).collect();
    bits.sort_unstable();
    assert!(!bits.is_empty() && bits.len() <= 32, "{defined:?}");
    assert_eq!(bits, (0..bits.len() as u32).collect::<Vec<u32>>());
    let listed: BTreeSet<(String, String)> = subsection_rows("Trace categories")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(listed, defined);
}

/// `ferrous_trace::record::BYTES`, the size the docs and [`TRACE_RECORD`]
/// give a record, from the source text for the same reason.
#[test]
fn trace_record_size_matches_the_trace_crate() {
    let record_rs = include_str!("../../trace/src/record.rs");
    assert!(record_rs.contains("pub const WORDS: usize = 8;"));
    assert!(record_rs.contains("pub const BYTES: usize = WORDS * 8;"));
    assert_eq!(TRACE_RECORD, 8 * 8);
}

// ---- Property tests ----

fn handle() -> impl Strategy<Value = Handle> {
    prop_oneof![0..32u32, 0..CSPACE_SLOTS + 2, any::<u32>()].prop_map(Handle)
}

/// Any set of defined rights.
fn rights() -> impl Strategy<Value = Rights> {
    prop_oneof![
        1 => Just(Rights::NONE),
        1 => Just(Rights::ALL),
        6 => any::<u32>().prop_map(Rights::from_bits_truncate),
    ]
}

fn user_ptr() -> impl Strategy<Value = UserPtr> {
    prop_oneof![0..USER_END, Just(0), Just(USER_END - 1)].prop_map(UserPtr::new)
}

/// A valid `(start, len)` byte range below USER_END with len <= max.
fn byte_range(max: u64) -> impl Strategy<Value = (UserPtr, u64)> {
    (0..USER_END, 0..=max).prop_map(|(p, len)| (UserPtr::new(p.min(USER_END - len)), len))
}

/// A valid `(start, count)` of grants: the byte range below USER_END.
fn grant_range() -> impl Strategy<Value = (UserPtr, u64)> {
    (0..USER_END, 0..=MAX_GRANTS)
        .prop_map(|(p, count)| (UserPtr::new(p.min(USER_END - count * GRANT_SIZE)), count))
}

/// A valid page range: start may be 0 (anywhere, for mem_map).
fn page_range() -> impl Strategy<Value = (UserPtr, u64)> {
    let pages = USER_MAP_END / PAGE_SIZE;
    (0..pages, 1..=pages).prop_map(move |(start, n)| {
        let start = start.min(pages - n);
        (UserPtr::new(start * PAGE_SIZE), n * PAGE_SIZE)
    })
}

/// A byte count in whole pages, at least one; no upper limit.
fn pages() -> impl Strategy<Value = u64> {
    prop_oneof![1..=64u64, 1..=u64::MAX / PAGE_SIZE].prop_map(|n| n * PAGE_SIZE)
}

/// A page-aligned user address, 0 included (as `frame_map` takes it).
fn page_ptr() -> impl Strategy<Value = UserPtr> {
    prop_oneof![
        (0..USER_END / PAGE_SIZE).prop_map(|p| p * PAGE_SIZE),
        Just(0),
        Just(USER_MAP_END),
        Just(USER_END - PAGE_SIZE),
    ]
    .prop_map(UserPtr::new)
}

fn perms() -> impl Strategy<Value = Perms> {
    prop_oneof![
        Just(Perms::READ),
        Just(Perms::READ_WRITE),
        Just(Perms::READ_EXECUTE)
    ]
}

/// Any valid [`MsgInfo`]: 0 to [`MSG_WORDS`] words, the rest any value,
/// with the timeout often 0 (none).
fn msg_info() -> impl Strategy<Value = MsgInfo> {
    (
        0..=MSG_WORDS as u8,
        any::<bool>(),
        prop_oneof![Just(0u8), any::<u8>()],
        prop_oneof![Just(0u32), 1..2000u32, any::<u32>()],
    )
        .prop_map(|(words, nonblocking, cap_slot, timeout_us)| MsgInfo {
            words,
            nonblocking,
            cap_slot,
            timeout_us,
        })
}

/// A valid reply's info: no capability (decode refuses one).
fn reply_info() -> impl Strategy<Value = MsgInfo> {
    msg_info().prop_map(|info| MsgInfo {
        cap_slot: 0,
        ..info
    })
}

/// Message words: often small or zero, as real messages are.
fn words() -> impl Strategy<Value = [u64; MSG_WORDS]> {
    proptest::array::uniform4(prop_oneof![Just(0u64), 0..256u64, any::<u64>()])
}

/// Info words: anything, or the fields near the defined ones with a
/// reserved bit now and then.
fn msg_info_word() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        (
            0..8u64,
            0..2u64,
            0..=0xffu64,
            prop_oneof![Just(0u64), any::<u32>().prop_map(u64::from)],
            prop_oneof![4 => Just(0u64), 1 => (0..64u32).prop_map(|b| 1u64 << b)],
        )
            .prop_map(|(words, nb, slot, timeout, extra)| {
                words | nb << 4 | slot << 8 | timeout << 32 | extra
            }),
    ]
}

/// A CPU number: small, `ANY_CPU`, or anything.
fn cpu() -> impl Strategy<Value = u32> {
    prop_oneof![0..16u32, Just(ANY_CPU), any::<u32>()]
}

/// A category mask: defined bits (0 to 8) or any 32 bits; decode takes
/// both, the kernel refuses the undefined ones.
fn categories() -> impl Strategy<Value = u32> {
    prop_oneof![0..0x200u32, any::<u32>()]
}

/// A trace or metrics buffer: often a whole number of records after the
/// header, or of words.
fn trace() -> impl Strategy<Value = (UserPtr, u64)> {
    prop_oneof![
        byte_range(MAX_TRACE_READ),
        (
            0..USER_END,
            0..=(MAX_TRACE_READ - TRACE_READ_HEADER) / TRACE_RECORD
        )
            .prop_map(|(p, n)| {
                let len = TRACE_READ_HEADER + n * TRACE_RECORD;
                (UserPtr::new(p.min(USER_END - len)), len)
            }),
    ]
}

fn valid_call() -> impl Strategy<Value = Syscall> {
    prop_oneof![
        Just(Syscall::AbiVersion {}),
        (handle(), byte_range(MAX_DEBUG_WRITE))
            .prop_map(|(console, (buf, len))| { Syscall::DebugWrite { console, buf, len } }),
        any::<u32>().prop_map(|code| Syscall::ProcessExit { code }),
        (
            (handle(), handle()),
            byte_range(MAX_SPAWN_ARGS),
            grant_range()
        )
            .prop_map(
                |((module, memory), (args, args_len), (grants, grant_count))| {
                    Syscall::ProcessSpawn {
                        module,
                        memory,
                        args,
                        args_len,
                        grants,
                        grant_count,
                    }
                }
            ),
        (handle(), any::<u64>()).prop_map(|(process, timeout_ns)| Syscall::ProcessWait {
            process,
            timeout_ns
        }),
        Just(Syscall::ThreadYield {}),
        any::<u64>().prop_map(|ns| Syscall::ThreadSleep { ns }),
        Just(Syscall::ClockMonotonic {}),
        (handle(), page_range(), perms()).prop_map(|(space, (addr, len), perms)| {
            Syscall::MemMap {
                space,
                addr,
                len,
                perms,
            }
        }),
        (handle(), page_range()).prop_map(|(space, (addr, len))| Syscall::MemUnmap {
            space,
            addr,
            len
        }),
        (handle(), page_range(), perms()).prop_map(|(space, (addr, len), perms)| {
            Syscall::MemProtect {
                space,
                addr,
                len,
                perms,
            }
        }),
        handle().prop_map(|slot| Syscall::CapDelete { slot }),
        (handle(), handle()).prop_map(|(src, dest)| Syscall::CapCopy { src, dest }),
        (handle(), handle(), rights(), any::<u64>()).prop_map(|(src, dest, rights, badge)| {
            Syscall::CapMint {
                src,
                dest,
                rights,
                badge,
            }
        }),
        (handle(), handle()).prop_map(|(src, dest)| Syscall::CapMove { src, dest }),
        handle().prop_map(|slot| Syscall::CapRevoke { slot }),
        handle().prop_map(|slot| Syscall::CapIdentify { slot }),
        (handle(), pages()).prop_map(|(memory, bytes)| Syscall::MemorySplit { memory, bytes }),
        handle().prop_map(|memory| Syscall::MemoryInfo { memory }),
        (handle(), user_ptr(), user_ptr(), any::<u64>()).prop_map(
            |(space, entry, stack_top, arg)| Syscall::ThreadCreate {
                space,
                entry,
                stack_top,
                arg,
            }
        ),
        any::<u32>().prop_map(|code| Syscall::ThreadExit { code }),
        (handle(), any::<u64>())
            .prop_map(|(thread, timeout_ns)| Syscall::ThreadWait { thread, timeout_ns }),
        handle().prop_map(|process| Syscall::ProcessKill { process }),
        handle().prop_map(|memory| Syscall::EndpointCreate { memory }),
        handle().prop_map(|memory| Syscall::NotificationCreate { memory }),
        (handle(), msg_info(), words()).prop_map(|(endpoint, info, words)| Syscall::IpcSend {
            endpoint,
            info,
            words
        }),
        (handle(), msg_info()).prop_map(|(endpoint, info)| Syscall::IpcRecv { endpoint, info }),
        (handle(), msg_info(), words()).prop_map(|(endpoint, info, words)| Syscall::IpcCall {
            endpoint,
            info,
            words
        }),
        (reply_info(), words()).prop_map(|(info, words)| Syscall::IpcReply { info, words }),
        (handle(), msg_info(), words()).prop_map(|(endpoint, info, words)| {
            Syscall::IpcReplyRecv {
                endpoint,
                info,
                words,
            }
        }),
        (handle(), any::<u64>())
            .prop_map(|(notification, bits)| Syscall::NotificationSignal { notification, bits }),
        (handle(), any::<u64>()).prop_map(|(notification, timeout_ns)| Syscall::NotificationWait {
            notification,
            timeout_ns
        }),
        handle().prop_map(|notification| Syscall::NotificationPoll { notification }),
        (handle(), cpu()).prop_map(|(thread, cpu)| Syscall::ThreadSetCpu { thread, cpu }),
        (handle(), cpu(), any::<u64>(), trace()).prop_map(|(trace, cpu, cursor, (buf, len))| {
            Syscall::TraceRead {
                trace,
                cpu,
                cursor,
                buf,
                len,
            }
        }),
        (handle(), trace()).prop_map(|(object, (buf, len))| Syscall::MetricsRead {
            object,
            buf,
            len
        }),
        (handle(), categories())
            .prop_map(|(trace, categories)| Syscall::TraceControl { trace, categories }),
        (handle(), pages()).prop_map(|(memory, bytes)| Syscall::FrameCreate { memory, bytes }),
        (handle(), handle(), page_ptr(), perms()).prop_map(|(frame, space, addr, perms)| {
            Syscall::FrameMap {
                frame,
                space,
                addr,
                perms,
            }
        }),
    ]
}

/// Register values that hit the checks' edges often: zero, small numbers,
/// page multiples, rights and permissions around the defined bits, values
/// around USER_END and the canonical boundary, message infos around the
/// defined fields, lengths around the trace limit.
fn raw_word() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => msg_info_word(),
        4 => Just(0u64),
        2 => 0..16u64,
        2 => (0..64u64).prop_map(|p| p * PAGE_SIZE),
        1 => (0..USER_END / PAGE_SIZE).prop_map(|p| p * PAGE_SIZE),
        1 => 0..=2 * MAX_DEBUG_WRITE,
        1 => (MAX_TRACE_READ - 2 * PAGE_SIZE)..=(MAX_TRACE_READ + 2 * PAGE_SIZE),
        1 => 0..=2 * u64::from(Rights::ALL.bits()),
        1 => 0..=2 * Perms::ALL.bits() + 1,
        1 => (USER_END - 2 * PAGE_SIZE)..(USER_END + 2 * PAGE_SIZE),
        1 => 0xffff_7fff_ffff_f000..=0xffff_8000_0000_1000u64,
        1 => Just(u64::MAX),
        2 => any::<u64>(),
    ]
}

/// Mostly with the registers after a random prefix zero, as in real calls,
/// so that decode gets past the unused-register check often.
fn raw_args() -> impl Strategy<Value = [u64; 6]> {
    (proptest::array::uniform6(raw_word()), 0..=6usize, 0..4u8).prop_map(
        |(mut args, used, keep)| {
            if keep != 0 {
                args[used..].fill(0);
            }
            args
        },
    )
}

/// Every assigned number and a few beyond the last.
fn raw_nr() -> impl Strategy<Value = u64> {
    prop_oneof![8 => 0..44u64, 1 => any::<u64>()]
}

/// `(rax, args)`: random registers, or a valid call with one register
/// replaced, which probes each check right next to calls that pass.
fn raw_call() -> impl Strategy<Value = (u64, [u64; 6])> {
    let replace = |(call, i, word): (Syscall, usize, u64)| {
        let (nr, mut args) = call.encode();
        args[i] = word;
        (nr, args)
    };
    prop_oneof![
        (raw_nr(), raw_args()),
        (valid_call(), 0..6usize, raw_word()).prop_map(replace),
        // Values 0 to 7: every permission set, word count and small
        // handle, where one bit decides between a call and an error.
        (valid_call(), 0..6usize, 0..8u64).prop_map(replace),
    ]
}

/// Every known error, with any valid argument index, rights and word.
fn sys_error() -> impl Strategy<Value = SysError> {
    (
        proptest::sample::select(ErrorCode::ALL),
        0..6u8,
        rights(),
        any::<u64>(),
    )
        .prop_map(|(code, arg, missing, word)| make_error(code, arg, missing, word))
}

/// Detail words: anything, or an argument index with a rights field near
/// the defined rights, so `MissingRight` words are often well-formed.
fn detail_word() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0..16u64,
        (0..8u64, 0..=2 * u64::from(Rights::ALL.bits())).prop_map(|(arg, r)| arg | r << 8),
        (0..8u64, any::<u32>(), 0..4u64)
            .prop_map(|(arg, r, hi)| arg | u64::from(r) << 8 | hi << 40),
    ]
}

/// Status words: anything, or a kind near the defined ones with a value
/// near the edges.
fn status_word() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        (
            0..4u64,
            prop_oneof![0..2u64, 0..=0x1ffu64, any::<u32>().prop_map(u64::from)]
        )
            .prop_map(|(kind, value)| kind << 32 | value),
    ]
}

/// CapInfo words: anything, or fields near the defined ones.
fn cap_info_word() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        (
            0..=2 * u64::from(Rights::ALL.bits()),
            0..16u64,
            0..2u64,
            prop_oneof![3 => Just(0u64), 1 => 0..4u64],
        )
            .prop_map(|(rights, kind, badged, hi)| rights | kind << 32 | badged << 40 | hi << 41),
    ]
}

proptest! {
    // Every case is a few hundred nanoseconds; search wider than the default.
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn valid_calls_round_trip(call in valid_call()) {
        let (nr, args) = call.encode();
        prop_assert_eq!(Syscall::decode(nr, args), Ok(call));
        prop_assert!(args[call.sysno().arg_count()..].iter().all(|&a| a == 0));
    }

    #[test]
    fn decode_is_total_and_accepted_input_is_canonical((nr, args) in raw_call()) {
        match Syscall::decode(nr, args) {
            Ok(call) => prop_assert_eq!(call.encode(), (nr, args)),
            Err(e) => {
                // Decode never consults kernel state, so only decode errors.
                prop_assert!(e.kind().unwrap().is_decode_error(), "{}", e);
                if let Some(arg) = e.arg() {
                    prop_assert!((arg as usize) < 6);
                }
                prop_assert_eq!(decode_result(e.code(), e.detail()), Err(e));
            }
        }
    }

    /// The trace calls' buffers decode exactly when the model says: a
    /// user address, no wrap, at most `MAX_TRACE_READ`, ending at or
    /// below `USER_END`; the cursor and the CPU never matter.
    #[test]
    fn traces_decode_exactly_when_the_range_is_valid(
        buf in raw_word(),
        len in raw_word(),
        cursor in any::<u64>(),
        cpu in cpu(),
    ) {
        let ok = buf < USER_END
            && len <= MAX_TRACE_READ
            && buf.checked_add(len).is_some_and(|end| end <= USER_END);
        let read = decode(Sysno::TraceRead, [7, u64::from(cpu), cursor, buf, len, 0]);
        prop_assert_eq!(read.is_ok(), ok, "{:?}", read);
        let metrics = decode(Sysno::MetricsRead, [7, buf, len, 0, 0, 0]);
        prop_assert_eq!(metrics.is_ok(), ok, "{:?}", metrics);
        // Both refuse the same way, naming their own length argument.
        if let (Err(r), Err(m)) = (read, metrics) {
            prop_assert_eq!(r.kind(), m.kind());
            let shift = |e: SysError| e.arg().map(|a| if a >= 3 { a - 2 } else { a });
            prop_assert_eq!(shift(r), m.arg());
        }
    }

    /// `frame_map` decodes exactly when the model says: handles of 32
    /// bits, a canonical page-aligned user address, and permissions as
    /// `mem_map` takes them; `frame_create` when the size is whole pages.
    #[test]
    fn frame_calls_decode_exactly_when_the_model_says(
        frame in raw_word(),
        space in raw_word(),
        addr in raw_word(),
        perms in raw_word(),
        bytes in raw_word(),
    ) {
        let handles = frame <= u64::from(u32::MAX) && space <= u64::from(u32::MAX);
        let addr_ok = addr < USER_END && addr.is_multiple_of(PAGE_SIZE);
        let perms_ok = [1, 3, 5].contains(&perms);
        let map = decode(Sysno::FrameMap, [frame, space, addr, perms, 0, 0]);
        prop_assert_eq!(map.is_ok(), handles && addr_ok && perms_ok, "{:?}", map);
        let create = decode(Sysno::FrameCreate, [frame, bytes, 0, 0, 0, 0]);
        let create_ok = frame <= u64::from(u32::MAX)
            && bytes != 0
            && bytes.is_multiple_of(PAGE_SIZE);
        prop_assert_eq!(create.is_ok(), create_ok, "{:?}", create);
    }

    #[test]
    fn errors_round_trip(e in sys_error()) {
        let kind = e.kind().unwrap();
        prop_assert_eq!(e.code(), kind as u64);
        prop_assert_eq!(SysError::from_code(e.code(), e.detail()), Some(e));
        let (rax, rdx) = encode_result(Err(e));
        prop_assert_eq!(decode_result(rax, rdx), Err(e));
        match kind.detail() {
            Detail::None => prop_assert_eq!(rdx, 0),
            Detail::Arg => prop_assert!(rdx < 6),
            Detail::ArgRights => {
                let SysError::MissingRight { arg, missing } = e else {
                    unreachable!()
                };
                prop_assert_eq!(rdx & 0xff, u64::from(arg));
                prop_assert_eq!(rdx >> 8, u64::from(missing.bits()));
            }
            Detail::Addr | Detail::Number => {}
        }
        if let Some(arg) = e.arg() {
            prop_assert!((arg as usize) < ARG_REGISTERS.len());
        }
        prop_assert!(!e.to_string().is_empty());
    }

    #[test]
    fn from_code_is_total(code in prop_oneof![0..64u64, any::<u64>()], detail in detail_word()) {
        let arg_ok = detail & 0xff < 6;
        let expect = ErrorCode::from_raw(code).map(|c| match c.detail() {
            Detail::Arg => arg_ok,
            Detail::ArgRights => arg_ok && detail >> 8 <= u64::from(Rights::ALL.bits()),
            Detail::None | Detail::Addr | Detail::Number => true,
        });
        let got = SysError::from_code(code, detail);
        prop_assert_eq!(got.is_some(), expect == Some(true));
        if let Some(e) = got {
            prop_assert_eq!(e.code(), code);
            prop_assert_eq!(SysError::from_code(e.code(), e.detail()), Some(e));
            // What is kept of the detail: all of it, the index, or nothing.
            let kept = match e.kind().unwrap().detail() {
                Detail::None => 0,
                Detail::Arg => detail & 0xff,
                Detail::ArgRights | Detail::Addr | Detail::Number => detail,
            };
            prop_assert_eq!(e.detail(), kept);
            let _ = e.to_string();
        }
        let decoded = decode_result(code, detail);
        if code == 0 {
            prop_assert_eq!(decoded, Ok(detail));
        } else {
            let e = decoded.unwrap_err();
            prop_assert_eq!(decode_result(e.code(), e.detail()), Err(e));
            if got.is_none() {
                // Unknown words are kept as they came.
                prop_assert_eq!((e.kind(), e.code(), e.detail()), (None, code, detail));
            }
            let _ = e.to_string();
        }
    }

    #[test]
    fn results_round_trip(value in any::<u64>(), code in 0..64u64, detail in detail_word()) {
        prop_assert_eq!(decode_result(0, value), Ok(value));
        if let Some(e) = SysError::from_code(code, detail) {
            prop_assert_eq!(decode_result(encode_result(Err(e)).0, encode_result(Err(e)).1), Err(e));
        }
    }

    #[test]
    fn exit_status_from_raw_is_total(raw in status_word(), code in any::<u32>(), vector in any::<u8>()) {
        let (kind, value) = (raw >> 32, raw & 0xffff_ffff);
        let defined = kind == 0 || (kind == 1 && value <= 0xff) || (kind == 2 && value == 0);
        prop_assert_eq!(ExitStatus::from_raw(raw).is_some(), defined);
        if let Some(s) = ExitStatus::from_raw(raw) {
            prop_assert_eq!(s.to_raw(), raw);
        }
        for s in [ExitStatus::Exited { code }, ExitStatus::Faulted { vector }, ExitStatus::Killed] {
            prop_assert_eq!(ExitStatus::from_raw(s.to_raw()), Some(s));
        }
    }

    #[test]
    fn grants_round_trip_through_bytes(slot in any::<u32>(), rights in any::<u32>(), bytes in any::<[u8; 8]>()) {
        let g = Grant { slot, rights };
        prop_assert_eq!(Grant::from_bytes(g.to_bytes()), g);
        prop_assert_eq!(Grant::from_bytes(bytes).to_bytes(), bytes);
        let r = Rights::from_bits_truncate(rights);
        prop_assert_eq!(Grant::new(Handle(slot), r), Grant { slot, rights: r.bits() });
    }

    #[test]
    fn cap_info_round_trips(
        kind in proptest::sample::select(ObjectType::ALL),
        rights in rights(),
        badged in any::<bool>(),
    ) {
        let info = CapInfo { kind, rights, badged };
        prop_assert_eq!(CapInfo::from_raw(info.to_raw()), Some(info));
    }

    #[test]
    fn msg_info_round_trips(info in msg_info()) {
        let raw = info.to_raw();
        prop_assert_eq!(MsgInfo::from_raw(raw), Some(info));
        prop_assert_eq!(raw & !MSG_INFO_DEFINED, 0);
        let ns = info.timeout_ns();
        if info.nonblocking {
            prop_assert_eq!(ns, 0);
        } else if info.timeout_us == 0 {
            prop_assert_eq!(ns, WAIT_FOREVER);
        } else {
            prop_assert_eq!(ns, u64::from(info.timeout_us) * 1000);
        }
    }

    #[test]
    fn msg_info_from_raw_is_total(raw in msg_info_word()) {
        let defined = raw & !MSG_INFO_DEFINED == 0 && raw & 7 <= MSG_WORDS as u64;
        prop_assert_eq!(MsgInfo::from_raw(raw).is_some(), defined);
        if let Some(info) = MsgInfo::from_raw(raw) {
            prop_assert_eq!(info.to_raw(), raw);
            prop_assert!(usize::from(info.words) <= MSG_WORDS);
        }
    }

    #[test]
    fn recv_info_round_trips(
        words in 0..8u8,
        cap_received in any::<bool>(),
        is_call in any::<bool>(),
        causal in any::<u32>(),
        raw in any::<u64>(),
    ) {
        let info = RecvInfo { words, cap_received, is_call, causal };
        prop_assert_eq!(RecvInfo::from_raw(info.to_raw()), info);
        prop_assert_eq!(info.to_raw() & !RECV_INFO_DEFINED, 0);
        // Reading is total: reserved bits are dropped, the rest kept.
        prop_assert_eq!(RecvInfo::from_raw(raw).to_raw(), raw & RECV_INFO_DEFINED);
    }

    #[test]
    fn cap_info_from_raw_is_total(raw in cap_info_word()) {
        let defined = Rights::from_bits(raw as u32).is_some()
            && ObjectType::from_raw((raw >> 32) as u8).is_some()
            && raw >> 41 == 0;
        prop_assert_eq!(CapInfo::from_raw(raw).is_some(), defined);
        if let Some(info) = CapInfo::from_raw(raw) {
            prop_assert_eq!(info.to_raw(), raw);
        }
    }
}

/// The raw strategy is only worth something if it gets past decode: check
/// that it produces accepted calls of every kind and every decode error.
#[test]
fn raw_strategy_reaches_every_call_and_decode_error() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = raw_call();
    let mut calls = BTreeSet::new();
    let mut errors = BTreeSet::new();
    // The rarest results, `RangeOutsideUser` and `WriteAndExecute`, need
    // a valid call with one register just past an edge: about ten each in
    // this many.
    for _ in 0..20_000 {
        let (nr, args) = strategy.new_tree(&mut runner).unwrap().current();
        match Syscall::decode(nr, args) {
            Ok(call) => calls.insert(call.sysno()),
            Err(e) => errors.insert(e.kind().unwrap()),
        };
    }
    assert_eq!(calls.len(), Sysno::ALL.len(), "{calls:?}");
    let decode_errors = ErrorCode::ALL.iter().filter(|c| c.is_decode_error());
    for c in decode_errors {
        assert!(errors.contains(c), "{c} never produced");
    }
}

/// The same for the error strategy: every code, and `MissingRight` with
/// rights of both kinds.
#[test]
fn error_strategy_reaches_every_code() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = sys_error();
    let mut codes = BTreeSet::new();
    let mut rights_seen = Rights::NONE;
    for _ in 0..10_000 {
        let e = strategy.new_tree(&mut runner).unwrap().current();
        codes.insert(e.kind().unwrap());
        if let SysError::MissingRight { missing, .. } = e {
            rights_seen = rights_seen | missing;
        }
    }
    assert_eq!(codes.len(), ErrorCode::ALL.len());
    assert_eq!(rights_seen, Rights::ALL);
}
