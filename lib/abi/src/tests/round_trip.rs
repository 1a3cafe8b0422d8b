//! Encode, decode and `Display` of sample calls: register order and
//! round trips.

use super::*;
use std::collections::BTreeSet;

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
