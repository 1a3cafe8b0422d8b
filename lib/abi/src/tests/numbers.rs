//! Published numbers (calls, error codes) and the constants that must
//! agree with each other and with other crates.

use super::*;
use std::collections::BTreeSet;

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
    for n in [0, 45, 63, 64, u64::MAX] {
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
        (40, "fault_inject", 2),
        (41, "hw_split", 3),
        (42, "io_ports_enable", 1),
        (43, "irq_bind", 4),
        (44, "irq_ack", 2),
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
    for n in [0, 13, 15, 22, 31, 40, 47, 55, 63, 67, 80, u64::MAX] {
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
        (64, "OutsideRange", Arg),
        (65, "LineBusy", None),
        (66, "NotBound", Arg),
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
