//! docs/ABI.md's System calls table: what each newer call needs and how
//! it fails.

use super::docs::rows;
use super::*;

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
