//! Encode, decode and `Display` over rows of calls: each row is a call, the
//! registers it encodes to and decodes from, and its trace line. The rows
//! are the samples (one per call) and the ones below.

use super::*;
use std::sync::LazyLock;

/// More rows than the samples, with the argument kinds of the call's
/// sample.
fn more<R>(call: Call<R>, used: &[u64], shown: &'static str) -> Sample {
    row(call, sample(call.call.sysno()).args, used, shown)
}

/// Calls with distinct values in every register, so a field read from or
/// written to the wrong register shows (where the sample is already such a
/// call, it is not repeated), then calls at the extremes of their fields.
static MORE: LazyLock<Vec<Sample>> = LazyLock::new(|| {
    let words = [21, 22, 23, 24];
    let a = [0xa0, 0xa1, 0xa2, 0xa3];
    let max = u64::from(u32::MAX);
    vec![
        more(
            calls::debug_write(Handle(1), UserPtr::new(0x1000), 5),
            &[1, 0x1000, 5],
            "debug_write(console=h1, buf=0x1000, len=5)",
        ),
        more(
            calls::process_spawn(
                Handle(16),
                Handle(3),
                UserPtr::new(0x1000),
                5,
                UserPtr::new(0x2000),
                2,
            ),
            &[16, 3, 0x1000, 5, 0x2000, 2],
            "process_spawn(module=h16, memory=h3, args=0x1000, args_len=5, grants=0x2000, grant_count=2)",
        ),
        more(calls::process_exit(6), &[6], "process_exit(code=6)"),
        more(
            calls::process_wait(Handle(9), 99),
            &[9, 99],
            "process_wait(process=h9, timeout_ns=99)",
        ),
        more(calls::thread_sleep(99), &[99], "thread_sleep(ns=99)"),
        more(
            calls::mem_map(Handle(2), UserPtr::new(0x1000), 0x3000, Perms::READ_EXECUTE),
            &[2, 0x1000, 0x3000, 5],
            "mem_map(space=h2, addr=0x1000, len=0x3000, perms=r-x)",
        ),
        more(
            calls::mem_unmap(Handle(2), UserPtr::new(0x1000), 0x3000),
            &[2, 0x1000, 0x3000],
            "mem_unmap(space=h2, addr=0x1000, len=0x3000)",
        ),
        more(
            calls::mem_protect(Handle(2), UserPtr::new(0x1000), 0x3000, Perms::READ),
            &[2, 0x1000, 0x3000, 1],
            "mem_protect(space=h2, addr=0x1000, len=0x3000, perms=r--)",
        ),
        more(
            calls::cap_mint(
                Handle(7),
                Handle(8),
                Rights::READ | Rights::WAIT | Rights::CONTROL,
                0xbad6e,
            ),
            &[7, 8, 0x301, 0xbad6e],
            "cap_mint(src=h7, dest=h8, rights=r----+wait+control, badge=0xbad6e)",
        ),
        more(
            calls::memory_split(Handle(3), 0x5000),
            &[3, 0x5000],
            "memory_split(memory=h3, bytes=0x5000)",
        ),
        more(
            calls::thread_create(
                Handle(2),
                UserPtr::new(0x40_1000),
                UserPtr::new(0x80_0000),
                77,
            ),
            &[2, 0x40_1000, 0x80_0000, 77],
            "thread_create(space=h2, entry=0x401000, stack_top=0x800000, arg=0x4d)",
        ),
        more(calls::thread_exit(6), &[6], "thread_exit(code=6)"),
        more(
            calls::thread_wait(Handle(10), 99),
            &[10, 99],
            "thread_wait(thread=h10, timeout_ns=99)",
        ),
        more(
            calls::process_kill(Handle(9)),
            &[9],
            "process_kill(process=h9)",
        ),
        more(
            calls::ipc_send(
                Handle(11),
                MsgInfo {
                    words: 3,
                    nonblocking: true,
                    cap_slot: 12,
                    timeout_us: 100,
                },
                words,
            ),
            &[11, 0x0000_0064_0000_0c13, 21, 22, 23, 24],
            "ipc_send(endpoint=h11, info=[3 words, cap h12, nonblocking], words=[15, 16, 17, 18])",
        ),
        more(
            calls::ipc_recv(
                Handle(11),
                MsgInfo {
                    words: 0,
                    nonblocking: false,
                    cap_slot: 13,
                    timeout_us: 1,
                },
            ),
            &[11, 0x0000_0001_0000_0d00],
            "ipc_recv(endpoint=h11, info=[0 words, cap h13, timeout 1 us])",
        ),
        more(
            calls::ipc_call(Handle(11), MsgInfo::words(4), words),
            &[11, 4, 21, 22, 23, 24],
            "ipc_call(endpoint=h11, info=[4 words], words=[15, 16, 17, 18])",
        ),
        more(
            calls::ipc_reply(MsgInfo::words(1), words),
            &[0, 1, 21, 22, 23, 24],
            "ipc_reply(info=[1 words], words=[15, 16, 17, 18])",
        ),
        more(
            calls::ipc_reply_recv(
                Handle(11),
                MsgInfo {
                    words: 2,
                    nonblocking: true,
                    cap_slot: 14,
                    timeout_us: 0,
                },
                words,
            ),
            &[11, 0x0e12, 21, 22, 23, 24],
            "ipc_reply_recv(endpoint=h11, info=[2 words, cap h14, nonblocking], words=[15, 16, 17, 18])",
        ),
        more(
            calls::notification_signal(Handle(12), 0x8000_0000_0000_0001),
            &[12, 0x8000_0000_0000_0001],
            "notification_signal(notification=h12, bits=0x8000000000000001)",
        ),
        more(
            calls::notification_wait(Handle(12), 99),
            &[12, 99],
            "notification_wait(notification=h12, timeout_ns=99)",
        ),
        more(
            calls::notification_poll(Handle(12)),
            &[12],
            "notification_poll(notification=h12)",
        ),
        more(
            calls::thread_set_cpu(Handle(10), 3),
            &[10, 3],
            "thread_set_cpu(thread=h10, cpu=3)",
        ),
        more(
            calls::trace_read(Handle(7), 2, 0x1234, UserPtr::new(0x1000), 80),
            &[7, 2, 0x1234, 0x1000, 80],
            "trace_read(trace=h7, cpu=2, cursor=4660, buf=0x1000, len=80)",
        ),
        more(
            calls::metrics_read(Handle(5), UserPtr::new(0x2000), 40),
            &[5, 0x2000, 40],
            "metrics_read(object=h5, buf=0x2000, len=40)",
        ),
        more(
            calls::trace_control(Handle(7), 0x1ff),
            &[7, 0x1ff],
            "trace_control(trace=h7, categories=0x1ff)",
        ),
        more(
            calls::frame_create(Handle(3), 0x3000),
            &[3, 0x3000],
            "frame_create(memory=h3, bytes=0x3000)",
        ),
        more(
            calls::frame_map(Handle(10), Handle(2), SHARED_AT, Perms::READ),
            &[10, 2, 0x7000_0000, 1],
            "frame_map(frame=h10, space=h2, addr=0x70000000, perms=r--)",
        ),
        // The extremes.
        more(
            calls::mem_map(Handle(2), UserPtr::new(0x1000), 0x3000, Perms::READ_WRITE),
            &[2, 0x1000, 0x3000, 3],
            "mem_map(space=h2, addr=0x1000, len=0x3000, perms=rw-)",
        ),
        more(
            calls::process_exit(u32::MAX),
            &[max],
            "process_exit(code=4294967295)",
        ),
        more(
            calls::thread_exit(u32::MAX),
            &[max],
            "thread_exit(code=4294967295)",
        ),
        more(calls::thread_exit(0), &[0], "thread_exit(code=0)"),
        // A message: the endpoint, the info, then the four words in `rdx`,
        // `r10`, `r8`, `r9`.
        more(
            calls::ipc_send(H, SEND_INFO, a),
            &[7, 0x902, 0xa0, 0xa1, 0xa2, 0xa3],
            "ipc_send(endpoint=h7, info=[2 words, cap h9], words=[a0, a1, a2, a3])",
        ),
        more(
            calls::ipc_call(H, SEND_INFO, a),
            &[7, 0x902, 0xa0, 0xa1, 0xa2, 0xa3],
            "ipc_call(endpoint=h7, info=[2 words, cap h9], words=[a0, a1, a2, a3])",
        ),
        more(
            calls::ipc_reply_recv(H, SEND_INFO, a),
            &[7, 0x902, 0xa0, 0xa1, 0xa2, 0xa3],
            "ipc_reply_recv(endpoint=h7, info=[2 words, cap h9], words=[a0, a1, a2, a3])",
        ),
        // A reply names no endpoint: `rdi` is 0.
        more(
            calls::ipc_reply(MsgInfo::words(4), a),
            &[0, 4, 0xa0, 0xa1, 0xa2, 0xa3],
            "ipc_reply(info=[4 words], words=[a0, a1, a2, a3])",
        ),
        more(
            calls::thread_set_cpu(H, ANY_CPU),
            &[7, max],
            "thread_set_cpu(thread=h7, cpu=4294967295)",
        ),
        // trace_read: the trace, the CPU, the whole cursor in `rdx`, then
        // the buffer in `r10` and `r8`; `r9` unused.
        more(
            calls::trace_read(initial::TRACE, u32::MAX, u64::MAX, BUF, MAX_TRACE_READ),
            &[7, max, u64::MAX, 0x40_0000, 1 << 20],
            "trace_read(trace=h7, cpu=4294967295, cursor=18446744073709551615, buf=0x400000, len=1048576)",
        ),
        more(
            calls::metrics_read(Handle(9), BUF, 40),
            &[9, 0x40_0000, 40],
            "metrics_read(object=h9, buf=0x400000, len=40)",
        ),
        more(
            calls::trace_control(initial::TRACE, u32::MAX),
            &[7, max],
            "trace_control(trace=h7, categories=0xffffffff)",
        ),
        // frame_create: the memory, then the bytes; frame_map: the frame,
        // the address space, the address, then the permissions, as
        // mem_map's after its handle.
        more(
            calls::frame_create(initial::MEMORY, 16 << 20),
            &[3, 0x100_0000],
            "frame_create(memory=h3, bytes=0x1000000)",
        ),
        more(
            calls::frame_map(
                Handle(10),
                Handle(2),
                UserPtr::new(0x7100_0000),
                Perms::READ_EXECUTE,
            ),
            &[10, 2, 0x7100_0000, 5],
            "frame_map(frame=h10, space=h2, addr=0x71000000, perms=r-x)",
        ),
        // All 32 bits of a handle are the caller's: the kernel, not
        // decode, says whether the slot exists.
        more(
            calls::cap_delete(Handle(u32::MAX)),
            &[max],
            "cap_delete(slot=h4294967295)",
        ),
        more(
            calls::cap_move(Handle(CSPACE_SLOTS), Handle(u32::MAX)),
            &[256, max],
            "cap_move(src=h256, dest=h4294967295)",
        ),
        more(
            calls::frame_create(Handle(u32::MAX), PAGE_SIZE),
            &[max, 0x1000],
            "frame_create(memory=h4294967295, bytes=0x1000)",
        ),
        more(
            calls::frame_map(
                Handle(u32::MAX),
                Handle(u32::MAX),
                UserPtr::new(0x1000),
                Perms::READ,
            ),
            &[max, max, 0x1000, 1],
            "frame_map(frame=h4294967295, space=h4294967295, addr=0x1000, perms=r--)",
        ),
    ]
});

/// The samples, then [`MORE`].
fn rows() -> impl Iterator<Item = &'static Sample> {
    SAMPLES.iter().chain(MORE.iter())
}

#[test]
fn every_call_round_trips() {
    let covered: Vec<Sysno> = SAMPLES.iter().map(Sample::nr).collect();
    assert_eq!(covered, Sysno::ALL, "one sample per call, in number order");
    for s in SAMPLES.iter() {
        assert_eq!(s.args.len(), s.nr().arg_count(), "{}", s.call);
        let (nr, args) = s.call.encode();
        assert_eq!(nr, s.nr() as u64);
        assert!(args[s.nr().arg_count()..].iter().all(|&a| a == 0));
        assert_eq!(Syscall::decode(nr, args), Ok(s.call), "{}", s.call);
    }
}

#[test]
fn encode_puts_arguments_in_register_order() {
    for r in rows() {
        assert_eq!(r.call.encode(), (r.nr() as u64, r.regs), "{}", r.call);
    }
}

/// Decode puts register `i` in the `i`-th field; with [`encode_puts_arguments_in_register_order`],
/// every row round trips.
#[test]
fn decode_reads_arguments_in_register_order() {
    for r in rows() {
        assert_eq!(decode(r.nr(), r.regs), Ok(r.call), "{}", r.call);
    }
}

#[test]
fn display_for_traces() {
    for r in rows() {
        let shown = r.call.to_string();
        assert_eq!(shown, r.shown);
        // Every call's trace starts with its ABI name.
        assert!(shown.starts_with(&format!("{}(", r.nr().name())), "{shown}");
        assert!(shown.ends_with(')'), "{shown}");
    }
    assert_eq!(
        SysError::LengthTooLarge { arg: 2 }.to_string(),
        "argument 2 (rdx): length exceeds this call's limit"
    );
}
