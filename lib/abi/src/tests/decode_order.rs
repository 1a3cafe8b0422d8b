//! Decode errors in general: unknown numbers, unused registers, and the
//! first failing argument wins.

use super::*;

#[test]
fn unknown_number_carries_it() {
    for nr in [0, 45, 63, 0x8000_0000_0000_0001, u64::MAX] {
        assert_eq!(
            Syscall::decode(nr, [0; 6]),
            Err(SysError::UnknownSyscall { nr })
        );
    }
}

#[test]
fn unused_arguments_must_be_zero() {
    for call in SAMPLES.iter().map(|s| s.call) {
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

/// A value decode refuses for argument `arg` of kind `kind` in a sample,
/// and the error; `None` for kinds that take any value.
fn bad(kind: Kind, arg: u8) -> Option<(u64, SysError)> {
    use SysError as E;
    Some(match kind {
        Kind::Zero => (1, E::UnusedArgumentNotZero { arg }),
        Kind::Handle | Kind::U32 | Kind::Rights => (1 << 32, E::ReservedBitsSet { arg }),
        Kind::Raw | Kind::Word => return None,
        Kind::Ptr | Kind::PagePtr => (USER_END, E::NonCanonicalPointer { arg }),
        // The sample's range starts at a user address above 0.
        Kind::Bytes(_) => (u64::MAX, E::LengthWraps { arg }),
        Kind::Grants => (u64::MAX, E::LengthTooLarge { arg }),
        Kind::PageLen | Kind::Pages => (0, E::ZeroLength { arg }),
        Kind::Perms => (1 | 8, E::ReservedBitsSet { arg }),
        Kind::Info | Kind::ReplyInfo => (1 << 3, E::ReservedBitsSet { arg }),
    })
}

/// Each argument of each call, bad in its sample, is named with the error
/// of its kind.
#[test]
fn each_bad_argument_is_named() {
    let mut checked = 0;
    for s in SAMPLES.iter() {
        for (i, &kind) in s.args.iter().enumerate() {
            let Some((value, error)) = bad(kind, i as u8) else {
                continue;
            };
            assert_eq!(
                s.decode_with(i, value),
                Err(error),
                "{} argument {i}",
                s.call
            );
            checked += 1;
        }
    }
    assert!(checked > Sysno::ALL.len(), "{checked}");
}

/// Every argument from one on bad (and every unused register not zero):
/// the first is named, for every call and every argument.
#[test]
fn an_earlier_bad_argument_wins_over_every_later_one() {
    for s in SAMPLES.iter() {
        let n = s.args.len();
        let first_bad = |i: usize| match i < n {
            true => bad(s.args[i], i as u8),
            false => Some((1, SysError::UnusedArgumentNotZero { arg: i as u8 })),
        };
        let mut all_bad = s.regs;
        for (i, reg) in all_bad.iter_mut().enumerate() {
            if let Some((value, _)) = first_bad(i) {
                *reg = value;
            }
        }
        for i in 0..6 {
            let Some((_, error)) = first_bad(i) else {
                continue;
            };
            let mut regs = s.regs;
            regs[i..].copy_from_slice(&all_bad[i..]);
            assert_eq!(decode(s.nr(), regs), Err(error), "{} from {i}", s.call);
        }
    }
}

/// `(call, registers, error)`: more than one bad argument, or a bad one
/// next to an unused register that is not zero, in each call whose order
/// matters; the first bad argument is named.
const FIRST_FAILING: &[(Sysno, [u64; 6], SysError)] = {
    use SysError::*;
    use Sysno::*;
    const MAX: u64 = u64::MAX;
    const HIGH: u64 = 1 << 32;
    // A bad permission set that is two errors at once.
    const BAD_PERMS: u64 = Perms::ALL.bits();
    &[
        // The handle (0) and an unused register: the handle.
        (CapDelete, [HIGH, 0, 0, 0, 0, 9], ReservedBitsSet { arg: 0 }),
        // A bad pointer (1) and a bad length (2): the pointer.
        (DebugWrite, [1, MAX, MAX, 0, 0, 0], KernelPointer { arg: 1 }),
        // Two bad handles: the source.
        (
            CapCopy,
            [HIGH, HIGH, 0, 0, 0, 0],
            ReservedBitsSet { arg: 0 },
        ),
        (
            CapMint,
            [HIGH, HIGH, 0, 0, 0, 0],
            ReservedBitsSet { arg: 0 },
        ),
        (
            CapMove,
            [HIGH, HIGH, 0, 0, 0, 0],
            ReservedBitsSet { arg: 0 },
        ),
        // A bad destination (1) and bad rights (2): the destination.
        (CapMint, [7, HIGH, MAX, 0, 0, 0], ReservedBitsSet { arg: 1 }),
        // process_spawn: memory (1) before the arguments (2, 3), the
        // arguments before the grants (4, 5).
        (
            ProcessSpawn,
            [16, HIGH, MAX, 0, MAX, 0],
            ReservedBitsSet { arg: 1 },
        ),
        (
            ProcessSpawn,
            [16, 3, 0x1000, MAX, USER_END, 0],
            LengthWraps { arg: 3 },
        ),
        (
            ProcessSpawn,
            [16, 3, 0x1000, MAX_SPAWN_ARGS + 1, 0x1000, MAX],
            LengthTooLarge { arg: 3 },
        ),
        (
            ProcessSpawn,
            [16, 3, 0x1000, 0, USER_END, MAX],
            NonCanonicalPointer { arg: 4 },
        ),
        // thread_create: entry (1) before the stack (2).
        (
            ThreadCreate,
            [2, USER_END, MAX, 0, 0, 0],
            NonCanonicalPointer { arg: 1 },
        ),
        // memory_split: the handle before the size.
        (
            MemorySplit,
            [HIGH, 0, 0, 0, 0, 0],
            ReservedBitsSet { arg: 0 },
        ),
        // IPC: the endpoint (0) before the info (1).
        (IpcSend, [HIGH, MAX, 0, 0, 0, 0], ReservedBitsSet { arg: 0 }),
        (IpcRecv, [HIGH, MAX, 0, 0, 0, 0], ReservedBitsSet { arg: 0 }),
        (IpcCall, [HIGH, MAX, 0, 0, 0, 0], ReservedBitsSet { arg: 0 }),
        (
            IpcReplyRecv,
            [HIGH, MAX, 0, 0, 0, 0],
            ReservedBitsSet { arg: 0 },
        ),
        // ipc_recv: the info (1) before the unused registers (2..).
        (IpcRecv, [7, 1 << 3, 1, 0, 0, 0], ReservedBitsSet { arg: 1 }),
        // ipc_reply: `rdi` (0) before the info (1), and before a
        // capability in the reply (1).
        (
            IpcReply,
            [7, MAX, 0, 0, 0, 0],
            UnusedArgumentNotZero { arg: 0 },
        ),
        (
            IpcReply,
            [7, 9 << 8, 0, 0, 0, 0],
            UnusedArgumentNotZero { arg: 0 },
        ),
        // thread_set_cpu: the thread (0) before the CPU (1).
        (
            ThreadSetCpu,
            [HIGH, HIGH, 0, 0, 0, 0],
            ReservedBitsSet { arg: 0 },
        ),
        // trace_read: the trace (0), the CPU (1), the buffer (3), its
        // length (4), then the unused `r9`; the cursor (2) is never
        // refused.
        (
            TraceRead,
            [HIGH, HIGH, MAX, USER_END, MAX, 1],
            ReservedBitsSet { arg: 0 },
        ),
        (
            TraceRead,
            [7, HIGH, MAX, USER_END, MAX, 1],
            ReservedBitsSet { arg: 1 },
        ),
        (
            TraceRead,
            [7, 0, MAX, USER_END, MAX, 1],
            NonCanonicalPointer { arg: 3 },
        ),
        (
            TraceRead,
            [7, 0, MAX, 0x1000, MAX, 1],
            LengthWraps { arg: 4 },
        ),
        (
            TraceRead,
            [7, 0, MAX, 0x1000, 80, 1],
            UnusedArgumentNotZero { arg: 5 },
        ),
        // metrics_read: the object (0), the buffer (1), its length (2).
        (
            MetricsRead,
            [HIGH, USER_END, MAX, 1, 0, 0],
            ReservedBitsSet { arg: 0 },
        ),
        (
            MetricsRead,
            [7, USER_END, MAX, 1, 0, 0],
            NonCanonicalPointer { arg: 1 },
        ),
        (
            MetricsRead,
            [7, 0x1000, MAX_TRACE_READ + 1, 1, 0, 0],
            LengthTooLarge { arg: 2 },
        ),
        (
            MetricsRead,
            [7, 0x1000, 8, 1, 0, 0],
            UnusedArgumentNotZero { arg: 3 },
        ),
        // trace_control: the trace (0) before the categories (1).
        (
            TraceControl,
            [HIGH, HIGH, 1, 0, 0, 0],
            ReservedBitsSet { arg: 0 },
        ),
        (
            TraceControl,
            [7, HIGH, 1, 0, 0, 0],
            ReservedBitsSet { arg: 1 },
        ),
        // frame_create: the memory (0) before the bytes (1), the bytes
        // before the unused registers; a zero size before a misaligned one
        // cannot both happen, so zero is checked first.
        (
            FrameCreate,
            [HIGH, 1, 1, 0, 0, 0],
            ReservedBitsSet { arg: 0 },
        ),
        (FrameCreate, [3, 1, 1, 0, 0, 0], Misaligned { arg: 1 }),
        (FrameCreate, [3, 0, 1, 0, 0, 0], ZeroLength { arg: 1 }),
        (
            FrameCreate,
            [3, PAGE_SIZE, 1, 0, 0, 0],
            UnusedArgumentNotZero { arg: 2 },
        ),
        // frame_map: the frame (0), the space (1), the address (2), the
        // permissions (3), then the unused `r8`.
        (
            FrameMap,
            [HIGH, HIGH, USER_END, BAD_PERMS, 1, 0],
            ReservedBitsSet { arg: 0 },
        ),
        (
            FrameMap,
            [7, HIGH, USER_END, BAD_PERMS, 1, 0],
            ReservedBitsSet { arg: 1 },
        ),
        (
            FrameMap,
            [7, 2, USER_END, BAD_PERMS, 1, 0],
            NonCanonicalPointer { arg: 2 },
        ),
        (
            FrameMap,
            [7, 2, 0x1001, BAD_PERMS, 1, 0],
            Misaligned { arg: 2 },
        ),
        (
            FrameMap,
            [7, 2, 0x1000, BAD_PERMS, 1, 0],
            WriteAndExecute { arg: 3 },
        ),
        (
            FrameMap,
            [7, 2, 0x1000, 1, 1, 0],
            UnusedArgumentNotZero { arg: 4 },
        ),
    ]
};

#[test]
fn first_failing_argument_wins() {
    for &(nr, regs, error) in FIRST_FAILING {
        assert_eq!(decode(nr, regs), Err(error), "{nr} {regs:x?}");
    }
}
