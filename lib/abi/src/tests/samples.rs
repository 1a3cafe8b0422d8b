//! The sample calls: one row per system call, made with its `calls::`
//! constructor, with what each argument register holds, the registers it
//! encodes to and its trace line. The tests of encode, decode and
//! `Display`, and the decode checks of each kind of argument, run over
//! these rows; a new call needs a row here and no new test code.

use super::*;
use std::sync::LazyLock;

/// What an argument register holds: the checks decode makes on it, as
/// docs/ABI.md states them. A length's range starts at the register
/// before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Reserved: must be zero (`ipc_reply`'s `rdi`).
    Zero,
    /// A capability slot: 32 bits.
    Handle,
    /// A 32-bit number: an exit code, a CPU, a category mask.
    U32,
    /// Any 64 bits.
    Raw,
    /// A user address, any alignment.
    Ptr,
    /// The length of the byte range at the register before: at most this.
    Bytes(u64),
    /// How many [`Grant`]s are at the register before.
    Grants,
    /// A page-aligned user address.
    PagePtr,
    /// The length of the page range at the register before.
    PageLen,
    /// A byte count in whole pages, at least one, with no limit.
    Pages,
    /// Defined rights only, in 32 bits.
    Rights,
    /// Readable, and not both writable and executable.
    Perms,
    /// A [`MsgInfo`].
    Info,
    /// A reply's [`MsgInfo`]: no capability slot.
    ReplyInfo,
    /// A message word: any 64 bits.
    Word,
}

/// One call with ordinary arguments.
pub(super) struct Sample {
    pub(super) call: Syscall,
    /// What each argument register holds: `arg_count` entries.
    pub(super) args: &'static [Kind],
    /// What the call encodes to; unused registers zero.
    pub(super) regs: [u64; 6],
    /// Its trace line.
    pub(super) shown: &'static str,
}

impl Sample {
    pub(super) fn nr(&self) -> Sysno {
        self.call.sysno()
    }

    /// The sample's registers with register `i` set to `value`.
    pub(super) fn with(&self, i: usize, value: u64) -> [u64; 6] {
        let mut regs = self.regs;
        regs[i] = value;
        regs
    }

    /// Decodes the sample's registers with register `i` set to `value`.
    pub(super) fn decode_with(&self, i: usize, value: u64) -> Result<Syscall, SysError> {
        decode(self.nr(), self.with(i, value))
    }

    /// Asserts that register `i` takes `value` as it is: the registers
    /// decode, and the call encodes back to them.
    #[track_caller]
    pub(super) fn takes(&self, i: usize, value: u64) {
        let regs = self.with(i, value);
        assert_eq!(
            decode(self.nr(), regs).map(|c| c.encode()),
            Ok((self.nr() as u64, regs)),
            "{} argument {i} = {value:#x}",
            self.call
        );
    }
}

/// `used` then zeros: the six argument registers.
pub(super) fn regs(used: &[u64]) -> [u64; 6] {
    let mut regs = [0; 6];
    regs[..used.len()].copy_from_slice(used);
    regs
}

pub(super) fn row<R>(
    call: Call<R>,
    args: &'static [Kind],
    used: &[u64],
    shown: &'static str,
) -> Sample {
    assert_eq!(args.len(), used.len(), "{}: a kind per register", call.call);
    Sample {
        call: call.call,
        args,
        regs: regs(used),
        shown,
    }
}

/// One row per call, in number order.
pub(super) static SAMPLES: LazyLock<Vec<Sample>> = LazyLock::new(|| {
    use Kind as K;
    // A message call's arguments: the endpoint, the info, the words.
    const MESSAGE: &[K] = &[K::Handle, K::Info, K::Word, K::Word, K::Word, K::Word];
    vec![
        row(calls::abi_version(), &[], &[], "abi_version()"),
        row(
            calls::debug_write(initial::CONSOLE, BUF, 12),
            &[K::Handle, K::Ptr, K::Bytes(MAX_DEBUG_WRITE)],
            &[1, 0x40_0000, 12],
            "debug_write(console=h1, buf=0x400000, len=12)",
        ),
        row(
            calls::process_exit(3),
            &[K::U32],
            &[3],
            "process_exit(code=3)",
        ),
        row(
            calls::process_spawn(initial::FIRST_MODULE, initial::MEMORY, BUF, 100, GRANTS, 2),
            &[
                K::Handle,
                K::Handle,
                K::Ptr,
                K::Bytes(MAX_SPAWN_ARGS),
                K::Ptr,
                K::Grants,
            ],
            &[16, 3, 0x40_0000, 100, 0x40_1000, 2],
            "process_spawn(module=h16, memory=h3, args=0x400000, args_len=100, \
             grants=0x401000, grant_count=2)",
        ),
        row(
            calls::process_wait(H, WAIT_FOREVER),
            &[K::Handle, K::Raw],
            &[7, u64::MAX],
            "process_wait(process=h7, timeout_ns=18446744073709551615)",
        ),
        row(calls::thread_yield(), &[], &[], "thread_yield()"),
        row(
            calls::thread_sleep(1_000_000),
            &[K::Raw],
            &[1_000_000],
            "thread_sleep(ns=1000000)",
        ),
        row(calls::clock_monotonic(), &[], &[], "clock_monotonic()"),
        row(
            calls::mem_map(
                initial::SELF_SPACE,
                UserPtr::NULL,
                2 * PAGE_SIZE,
                Perms::READ_WRITE,
            ),
            &[K::Handle, K::PagePtr, K::PageLen, K::Perms],
            &[2, 0, 0x2000, 3],
            "mem_map(space=h2, addr=0x0, len=0x2000, perms=rw-)",
        ),
        row(
            calls::mem_unmap(initial::SELF_SPACE, BUF, PAGE_SIZE),
            &[K::Handle, K::PagePtr, K::PageLen],
            &[2, 0x40_0000, 0x1000],
            "mem_unmap(space=h2, addr=0x400000, len=0x1000)",
        ),
        row(
            calls::mem_protect(initial::SELF_SPACE, BUF, PAGE_SIZE, Perms::READ_EXECUTE),
            &[K::Handle, K::PagePtr, K::PageLen, K::Perms],
            &[2, 0x40_0000, 0x1000, 5],
            "mem_protect(space=h2, addr=0x400000, len=0x1000, perms=r-x)",
        ),
        row(
            calls::cap_delete(H),
            &[K::Handle],
            &[7],
            "cap_delete(slot=h7)",
        ),
        row(
            calls::cap_copy(H, Handle(8)),
            &[K::Handle, K::Handle],
            &[7, 8],
            "cap_copy(src=h7, dest=h8)",
        ),
        row(
            calls::cap_mint(
                H,
                Handle(8),
                Rights::READ | Rights::WRITE | Rights::DERIVE,
                0x2a,
            ),
            &[K::Handle, K::Handle, K::Rights, K::Raw],
            &[7, 8, 0x13, 0x2a],
            "cap_mint(src=h7, dest=h8, rights=rw--d, badge=0x2a)",
        ),
        row(
            calls::cap_move(H, Handle(9)),
            &[K::Handle, K::Handle],
            &[7, 9],
            "cap_move(src=h7, dest=h9)",
        ),
        row(
            calls::cap_revoke(H),
            &[K::Handle],
            &[7],
            "cap_revoke(slot=h7)",
        ),
        row(
            calls::cap_identify(H),
            &[K::Handle],
            &[7],
            "cap_identify(slot=h7)",
        ),
        row(
            calls::memory_split(initial::MEMORY, 4 * PAGE_SIZE),
            &[K::Handle, K::Pages],
            &[3, 0x4000],
            "memory_split(memory=h3, bytes=0x4000)",
        ),
        row(
            calls::memory_info(initial::MEMORY),
            &[K::Handle],
            &[3],
            "memory_info(memory=h3)",
        ),
        row(
            calls::thread_create(
                initial::SELF_SPACE,
                UserPtr::new(0x40_1234),
                UserPtr::new(0x80_0000),
                0x1234,
            ),
            &[K::Handle, K::Ptr, K::Ptr, K::Raw],
            &[2, 0x40_1234, 0x80_0000, 0x1234],
            "thread_create(space=h2, entry=0x401234, stack_top=0x800000, arg=0x1234)",
        ),
        row(
            calls::thread_exit(4),
            &[K::U32],
            &[4],
            "thread_exit(code=4)",
        ),
        row(
            calls::thread_wait(H, 0),
            &[K::Handle, K::Raw],
            &[7, 0],
            "thread_wait(thread=h7, timeout_ns=0)",
        ),
        row(
            calls::process_kill(H),
            &[K::Handle],
            &[7],
            "process_kill(process=h7)",
        ),
        row(
            calls::endpoint_create(initial::MEMORY),
            &[K::Handle],
            &[3],
            "endpoint_create(memory=h3)",
        ),
        row(
            calls::notification_create(initial::MEMORY),
            &[K::Handle],
            &[3],
            "notification_create(memory=h3)",
        ),
        row(
            calls::ipc_send(H, SEND_INFO, [1, 2, 0, 0]),
            MESSAGE,
            &[7, 0x902, 1, 2, 0, 0],
            "ipc_send(endpoint=h7, info=[2 words, cap h9], words=[1, 2, 0, 0])",
        ),
        row(
            calls::ipc_recv(H, RECV_INFO),
            &[K::Handle, K::Info],
            &[7, 0x0000_01f4_0000_0a00],
            "ipc_recv(endpoint=h7, info=[0 words, cap h10, timeout 500 us])",
        ),
        row(
            calls::ipc_call(
                H,
                MsgInfo {
                    timeout_us: 1000,
                    ..MsgInfo::words(4)
                },
                [0x10, 0x20, 0x30, 0x40],
            ),
            MESSAGE,
            &[7, 0x0000_03e8_0000_0004, 0x10, 0x20, 0x30, 0x40],
            "ipc_call(endpoint=h7, info=[4 words, timeout 1000 us], words=[10, 20, 30, 40])",
        ),
        row(
            calls::ipc_reply(MsgInfo::words(1), [0x2a, 0, 0, 0]),
            &[K::Zero, K::ReplyInfo, K::Word, K::Word, K::Word, K::Word],
            &[0, 1, 0x2a, 0, 0, 0],
            "ipc_reply(info=[1 words], words=[2a, 0, 0, 0])",
        ),
        row(
            calls::ipc_reply_recv(H, REPLY_RECV_INFO, [5, 6, 7, 0]),
            MESSAGE,
            &[7, 0x13, 5, 6, 7, 0],
            "ipc_reply_recv(endpoint=h7, info=[3 words, nonblocking], words=[5, 6, 7, 0])",
        ),
        row(
            calls::notification_signal(H, 0b101),
            &[K::Handle, K::Raw],
            &[7, 5],
            "notification_signal(notification=h7, bits=0x5)",
        ),
        row(
            calls::notification_wait(H, WAIT_FOREVER),
            &[K::Handle, K::Raw],
            &[7, u64::MAX],
            "notification_wait(notification=h7, timeout_ns=18446744073709551615)",
        ),
        row(
            calls::notification_poll(H),
            &[K::Handle],
            &[7],
            "notification_poll(notification=h7)",
        ),
        row(
            calls::thread_set_cpu(H, 1),
            &[K::Handle, K::U32],
            &[7, 1],
            "thread_set_cpu(thread=h7, cpu=1)",
        ),
        row(
            calls::trace_read(
                initial::TRACE,
                1,
                0x40,
                BUF,
                TRACE_READ_HEADER + 4 * TRACE_RECORD,
            ),
            &[K::Handle, K::U32, K::Raw, K::Ptr, K::Bytes(MAX_TRACE_READ)],
            &[7, 1, 0x40, 0x40_0000, 272],
            "trace_read(trace=h7, cpu=1, cursor=64, buf=0x400000, len=272)",
        ),
        row(
            calls::metrics_read(initial::TRACE, BUF, 8 * kernel_metrics_words(1)),
            &[K::Handle, K::Ptr, K::Bytes(MAX_TRACE_READ)],
            &[7, 0x40_0000, 568],
            "metrics_read(object=h7, buf=0x400000, len=568)",
        ),
        row(
            calls::trace_control(initial::TRACE, 0x1bd),
            &[K::Handle, K::U32],
            &[7, 0x1bd],
            "trace_control(trace=h7, categories=0x1bd)",
        ),
        row(
            calls::frame_create(initial::MEMORY, 2 * PAGE_SIZE),
            &[K::Handle, K::Pages],
            &[3, 0x2000],
            "frame_create(memory=h3, bytes=0x2000)",
        ),
        row(
            calls::frame_map(H, initial::SELF_SPACE, SHARED_AT, Perms::READ_WRITE),
            &[K::Handle, K::Handle, K::PagePtr, K::Perms],
            &[7, 2, 0x7000_0000, 3],
            "frame_map(frame=h7, space=h2, addr=0x70000000, perms=rw-)",
        ),
        row(
            calls::fault_inject(initial::TRACE, 97),
            &[K::Handle, K::U32],
            &[7, 97],
            "fault_inject(trace=h7, every=97)",
        ),
        row(
            calls::hw_split(initial::IO_PORTS, 0x70, 2),
            &[K::Handle, K::Raw, K::Raw],
            &[5, 0x70, 2],
            "hw_split(range=h5, first=0x70, count=0x2)",
        ),
        row(
            calls::io_ports_enable(H),
            &[K::Handle],
            &[7],
            "io_ports_enable(ports=h7)",
        ),
        row(
            calls::irq_bind(initial::IRQ_LINES, 8, H, 1 << 3),
            &[K::Handle, K::U32, K::Handle, K::Raw],
            &[4, 8, 7, 8],
            "irq_bind(irq=h4, line=8, notification=h7, bits=0x8)",
        ),
        row(
            calls::irq_ack(initial::IRQ_LINES, 8),
            &[K::Handle, K::U32],
            &[4, 8],
            "irq_ack(irq=h4, line=8)",
        ),
    ]
});

/// The sample of call `nr`.
pub(super) fn sample(nr: Sysno) -> &'static Sample {
    SAMPLES
        .iter()
        .find(|s| s.nr() == nr)
        .unwrap_or_else(|| panic!("{nr} has no sample"))
}

/// Every argument for which `is` holds, as `(sample, register, kind)`.
pub(super) fn args_where(
    is: impl Fn(Kind) -> bool,
) -> impl Iterator<Item = (&'static Sample, usize, Kind)> {
    SAMPLES.iter().flat_map(move |s| {
        s.args
            .iter()
            .enumerate()
            .filter(|&(_, &k)| is(k))
            .map(move |(i, &k)| (s, i, k))
            .collect::<Vec<_>>()
    })
}
