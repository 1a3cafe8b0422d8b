//! Decode checks of single-register values: 32-bit handles, codes and
//! masks, rights, permissions and plain 64-bit values.

use super::*;

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
