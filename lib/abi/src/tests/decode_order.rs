//! Decode errors in general: unknown numbers, unused registers, and the
//! first failing argument wins.

use super::*;

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
