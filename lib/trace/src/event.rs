//! The event catalogue: categories, event types with their arguments, and
//! the reason codes events carry. Everything here is generated from the
//! lists below, so a number, its name and its arguments cannot drift.

use core::fmt;
use core::ops::{BitOr, Sub};
/// The deny reasons are the ABI's: one list for the kernel and traces.
pub use ferrous_abi::DenyReason;
use ferrous_abi::{ErrorCode, ExitStatus, Perms, Sysno, numbered};

/// Most arguments a record carries.
pub const MAX_ARGS: usize = 4;

numbered! {
    /// What an event is about; the unit that is switched on and off. The
    /// number is the category's bit in [`Categories`].
    pub enum Category: u8 {
        Sched = 0 => "sched",
        Syscall = 1 => "syscall",
        Ipc = 2 => "ipc",
        Cap = 3 => "cap",
        Mem = 4 => "mem",
        Fault = 5 => "fault",
        Irq = 6 => "irq",
        Process = 7 => "process",
        /// Events about the trace itself, such as lost records. Always on:
        /// see [`crate::Filter`].
        Trace = 8 => "trace",
    }
}

impl Category {
    pub const fn bit(self) -> Categories {
        Categories(1 << self as u8)
    }
}

/// A set of categories, one bit each.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Categories(u32);

impl Categories {
    pub const NONE: Categories = Categories(0);
    pub const ALL: Categories = Categories((1 << Category::ALL.len()) - 1);
    /// What `trace=default` (and a boot without `trace=`) switches on: the
    /// events that explain decisions and failures and are rare enough to
    /// leave on. System calls and interrupts happen thousands of times a
    /// second and are off until asked for.
    pub const DEFAULT: Categories = Categories(
        Category::Sched.bit().0
            | Category::Ipc.bit().0
            | Category::Cap.bit().0
            | Category::Mem.bit().0
            | Category::Fault.bit().0
            | Category::Process.bit().0
            | Category::Trace.bit().0,
    );

    pub const fn bits(self) -> u32 {
        self.0
    }

    /// `None` if a bit names no category.
    pub const fn from_bits(bits: u32) -> Option<Categories> {
        if bits & !Self::ALL.0 == 0 {
            Some(Categories(bits))
        } else {
            None
        }
    }

    pub const fn from_bits_truncate(bits: u32) -> Categories {
        Categories(bits & Self::ALL.0)
    }

    pub const fn contains(self, category: Category) -> bool {
        self.0 & category.bit().0 != 0
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub const fn union(self, other: Categories) -> Categories {
        Categories(self.0 | other.0)
    }

    pub const fn difference(self, other: Categories) -> Categories {
        Categories(self.0 & !other.0)
    }

    /// The categories in the set, in number order.
    pub fn iter(self) -> impl Iterator<Item = Category> {
        Category::ALL
            .iter()
            .copied()
            .filter(move |c| self.contains(*c))
    }
}

impl From<Category> for Categories {
    fn from(category: Category) -> Categories {
        category.bit()
    }
}

impl BitOr for Categories {
    type Output = Categories;

    fn bitor(self, rhs: Categories) -> Categories {
        self.union(rhs)
    }
}

impl Sub for Categories {
    type Output = Categories;

    fn sub(self, rhs: Categories) -> Categories {
        self.difference(rhs)
    }
}

/// `none`, `all`, or the names joined by commas: the syntax of
/// [`crate::parse_spec`], so the output parses back to the same set.
impl fmt::Display for Categories {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        if *self == Self::ALL {
            return f.write_str("all");
        }
        for (i, c) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(c.name())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Categories {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Categories({self})")
    }
}

/// How an argument is printed by [`crate::describe`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// A count or an id, in decimal.
    Dec,
    /// An address, bit set or opaque word, in hex.
    Hex,
    /// A [`Sysno`] by name.
    Sysno,
    /// An [`ErrorCode`] by name; 0 is `ok`.
    Error,
    /// [`Perms`] as `rwx`.
    Perms,
    /// An [`ExitStatus`] word as `exit:CODE` or `exception:VECTOR`.
    Status,
    /// A [`Categories`] mask by name.
    Categories,
    Switch,
    Block,
    Deny,
    Fault,
    /// Eight bytes of text, little-endian, NUL-padded.
    Text,
}

/// One argument of an event: its name and how to print it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arg {
    pub name: &'static str,
    pub kind: ArgKind,
}

/// Defines [`EventType`] from one table: number, name, category and
/// arguments of each event.
macro_rules! events {
    (
        $(
            $(#[$vmeta:meta])*
            $variant:ident = $value:literal => $name:literal in $cat:ident
                ( $( $arg:ident: $kind:ident ),* ),
        )*
    ) => {
        numbered! {
            /// An event type. Numbers are stable and never reused; 0 is
            /// never assigned, so a zeroed record is invalid. Each
            /// category has a block of 16 numbers (a reading aid only:
            /// [`EventType::category`] is the truth).
            pub enum EventType: u16 {
                $( $(#[$vmeta])* $variant = $value => $name, )*
            }
        }

        impl EventType {
            pub const fn category(self) -> Category {
                match self {
                    $( EventType::$variant => Category::$cat, )*
                }
            }

            /// The arguments in record order; at most [`MAX_ARGS`].
            pub const fn args(self) -> &'static [Arg] {
                match self {
                    $( EventType::$variant => &[
                        $( Arg { name: stringify!($arg), kind: ArgKind::$kind } ),*
                    ], )*
                }
            }
        }
    };
}

events! {
    /// The CPU switches from thread `from` to thread `to`.
    SchedSwitch = 1 => "sched.switch" in Sched (from: Dec, to: Dec, reason: Switch),
    /// The current thread blocks on `object` (0 if none, e.g. sleep).
    SchedBlock = 2 => "sched.block" in Sched (reason: Block, object: Dec),
    /// `thread` becomes runnable, woken by thread `by` (0: the kernel).
    SchedWake = 3 => "sched.wake" in Sched (thread: Dec, by: Dec),
    /// `thread` must give up the CPU to thread `by` (0: its time slice
    /// ended).
    SchedPreempt = 4 => "sched.preempt" in Sched (thread: Dec, by: Dec),
    /// A ready `thread` moves between CPUs' run queues.
    SchedMigrate = 5 => "sched.migrate" in Sched (thread: Dec, from_cpu: Dec, to_cpu: Dec),
    /// The CPU has nothing to run.
    SchedIdle = 6 => "sched.idle" in Sched (),
    /// The IPC fast path in one record: `from` blocked for `reason` on
    /// `object` and handed its CPU straight to `to`, which it woke (what
    /// `sched.block`, `sched.wake` and `sched.switch` would say, at a
    /// third of the cost). With a causal ID, it delivered that message to
    /// `to` and stands in for `to`'s `ipc.recv` (a call) or the server's
    /// `ipc.reply` (a reply).
    SchedHandoff = 7 => "sched.handoff" in Sched (from: Dec, to: Dec, reason: Block, object: Dec),
    /// A system call starts.
    SyscallEnter = 16 => "syscall.enter" in Syscall (nr: Sysno, arg0: Hex),
    /// A system call returns `error` (0 for success) and `value` (`rdx`).
    SyscallExit = 17 => "syscall.exit" in Syscall (nr: Sysno, error: Error, value: Hex),
    /// A message of `len` words, the first `word0`, is sent on `endpoint`.
    /// The causal id links it to its receive, call and reply.
    IpcSend = 32 => "ipc.send" in Ipc (endpoint: Dec, badge: Hex, len: Dec, word0: Hex),
    /// A message is received from `endpoint`, sent with `badge`.
    IpcRecv = 33 => "ipc.recv" in Ipc (endpoint: Dec, badge: Hex, len: Dec, word0: Hex),
    /// A call (send, then wait for the reply) on `endpoint`.
    IpcCall = 34 => "ipc.call" in Ipc (endpoint: Dec, badge: Hex, len: Dec, word0: Hex),
    /// A reply to the calling thread `to`.
    IpcReply = 35 => "ipc.reply" in Ipc (to: Dec, len: Dec, word0: Hex),
    /// `bits` are signalled on `notification`.
    IpcSignal = 36 => "ipc.signal" in Ipc (notification: Dec, bits: Hex),
    /// A wait on `notification` returns `bits`.
    IpcWait = 37 => "ipc.wait" in Ipc (notification: Dec, bits: Hex),
    /// A capability check failed: slot `slot`, for system call `op`.
    /// `missing` holds the rights that were needed but not held.
    CapDenied = 48 => "cap.denied" in Cap (slot: Dec, op: Sysno, reason: Deny, missing: Hex),
    /// The capability in `slot` was revoked, deleting `deleted` others.
    CapRevoke = 49 => "cap.revoke" in Cap (slot: Dec, deleted: Dec),
    /// An allocation of `bytes` for `who` (a process or object id) failed.
    MemOom = 64 => "mem.oom" in Mem (bytes: Dec, who: Dec),
    /// Memory is mapped into address space `space`.
    MemMap = 65 => "mem.map" in Mem (space: Dec, addr: Hex, len: Hex, perms: Perms),
    /// Memory is unmapped from address space `space`.
    MemUnmap = 66 => "mem.unmap" in Mem (space: Dec, addr: Hex, len: Hex),
    /// A page fault at `addr` with the hardware `error` code, at `rip`.
    FaultPage = 80 => "fault.page" in Fault (addr: Hex, error: Hex, rip: Hex, cause: Fault),
    /// Another exception: `vector`, the hardware `error` code, at `rip`.
    FaultException = 81 => "fault.exception" in Fault (vector: Dec, error: Hex, rip: Hex),
    /// An interrupt handler starts.
    IrqEnter = 96 => "irq.enter" in Irq (vector: Dec),
    /// An interrupt handler ends.
    IrqExit = 97 => "irq.exit" in Irq (vector: Dec),
    /// `process` starts, spawned by process `parent`.
    ProcessSpawn = 112 => "process.spawn" in Process (process: Dec, parent: Dec),
    /// `process` ends with `status`.
    ProcessExit = 113 => "process.exit" in Process (process: Dec, status: Status),
    /// `thread` starts in `process`.
    ProcessThreadStart = 114 => "process.thread_start" in Process (thread: Dec, process: Dec),
    /// `thread` ends.
    ProcessThreadExit = 115 => "process.thread_exit" in Process (thread: Dec),
    /// A request was refused because `resource` is at its `limit`.
    /// Resource codes come with resource groups.
    ProcessLimit = 116 => "process.limit" in Process (resource: Dec, limit: Dec),
    /// `count` records of this CPU were lost since the last `trace.lost`.
    TraceLost = 128 => "trace.lost" in Trace (count: Dec),
    /// The enabled categories changed to `mask`.
    TraceFilter = 129 => "trace.filter" in Trace (mask: Categories),
    /// Names `thread` of `process` for decoders: up to 16 bytes of the
    /// process name, little-endian in `name0` then `name1`, NUL-padded.
    TraceName = 130 => "trace.name" in Trace (thread: Dec, process: Dec, name0: Text, name1: Text),
    /// Fault injection changed: every `every`-th kernel heap allocation
    /// fails from now on (0: none), as `process` asked.
    TraceInject = 131 => "trace.inject" in Trace (every: Dec, process: Dec),
}

// Every event fits a record.
const _: () = {
    let mut i = 0;
    while i < EventType::ALL.len() {
        assert!(EventType::ALL[i].args().len() <= MAX_ARGS);
        i += 1;
    }
};

numbered! {
    /// Why a CPU switched threads (`sched.switch`).
    pub enum SwitchReason: u64 {
        Yield = 1 => "yield",
        Block = 2 => "block",
        /// The time slice ended.
        Timeslice = 3 => "timeslice",
        Exit = 4 => "exit",
        /// A thread of higher priority woke.
        WakePriority = 5 => "wake_priority",
    }
}

numbered! {
    /// What a blocked thread waits for (`sched.block`).
    pub enum BlockReason: u64 {
        EndpointSend = 1 => "endpoint_send",
        EndpointRecv = 2 => "endpoint_recv",
        Reply = 3 => "reply",
        Notification = 4 => "notification",
        Sleep = 5 => "sleep",
        Join = 6 => "join",
        ProcessWait = 7 => "process_wait",
    }
}

numbered! {
    /// What a page fault was, as the kernel decoded it from the error code
    /// and the page tables (`fault.page`).
    pub enum FaultCause: u64 {
        NotPresent = 1 => "not_present",
        /// A write to a read-only page.
        WriteProtected = 2 => "write_protected",
        /// An instruction fetch from a no-execute page.
        NoExecute = 3 => "no_execute",
        /// A user access to a kernel page.
        KernelPage = 4 => "kernel_page",
        ReservedBit = 5 => "reserved_bit",
    }
}

impl ArgKind {
    /// Writes `value` as this kind; a value with no name is written as a
    /// number, so nothing is hidden.
    pub fn write(self, value: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn named(name: Option<&str>, value: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match name {
                Some(n) => f.write_str(n),
                None => write!(f, "{value}"),
            }
        }
        match self {
            ArgKind::Dec => write!(f, "{value}"),
            ArgKind::Hex => write!(f, "{value:#x}"),
            ArgKind::Sysno => named(Sysno::from_raw(value).map(Sysno::name), value, f),
            ArgKind::Error if value == 0 => f.write_str("ok"),
            ArgKind::Error => named(ErrorCode::from_raw(value).map(ErrorCode::name), value, f),
            ArgKind::Perms => match Perms::from_bits(value) {
                Some(p) => write!(f, "{p}"),
                None => write!(f, "{value:#x}"),
            },
            ArgKind::Status => match ExitStatus::from_raw(value) {
                Some(ExitStatus::Exited { code }) => write!(f, "exit:{code}"),
                Some(ExitStatus::Faulted { vector }) => write!(f, "exception:{vector}"),
                Some(ExitStatus::Killed) => f.write_str("killed"),
                None => write!(f, "{value:#x}"),
            },
            ArgKind::Categories => {
                match u32::try_from(value).ok().and_then(Categories::from_bits) {
                    Some(c) => write!(f, "{c}"),
                    None => write!(f, "{value:#x}"),
                }
            }
            ArgKind::Switch => named(
                SwitchReason::from_raw(value).map(SwitchReason::name),
                value,
                f,
            ),
            ArgKind::Block => named(
                BlockReason::from_raw(value).map(BlockReason::name),
                value,
                f,
            ),
            ArgKind::Deny => named(DenyReason::from_raw(value).map(DenyReason::name), value, f),
            ArgKind::Fault => named(FaultCause::from_raw(value).map(FaultCause::name), value, f),
            ArgKind::Text => {
                for b in value.to_le_bytes().into_iter().take_while(|&b| b != 0) {
                    let c = if b.is_ascii_graphic() { b as char } else { '?' };
                    write!(f, "{c}")?;
                }
                Ok(())
            }
        }
    }
}
