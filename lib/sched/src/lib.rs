//! The scheduler policy: which thread runs on which CPU, for how long, and
//! why.
//!
//! Only bookkeeping lives here. The kernel calls in under its one scheduler
//! lock, from the timer interrupt and the blocking paths, and performs the
//! context switches this crate decides. Keeping the policy free of `unsafe`
//! and hardware lets host unit and property tests cover every decision.
//!
//! The policy:
//! - 64 fixed priority levels, higher runs first; round-robin with a time
//!   slice within a level. A thread preempted by a higher-priority one goes
//!   back to the head of its level and keeps the rest of its slice; one whose
//!   slice expired, or that yielded, goes to the tail with a fresh slice.
//! - Per-CPU run queues: for each level an intrusive FIFO list linked through
//!   the thread table, plus a `u64` bitmap of non-empty levels, so picking is
//!   O(1) and queueing never allocates. Only [`Scheduler::add_thread`] (and
//!   [`WaitQueue::push`]) allocate, and they report failure as
//!   [`SchedError::OutOfMemory`].
//! - Placement of a waking unpinned thread: its last CPU if nothing of
//!   higher priority runs or waits there, else the least-loaded CPU (ties go
//!   to the CPU with the lowest-priority work, then the lowest number).
//!   Pinned threads always go to their CPU. Load = ready + running threads.
//! - Direct handoff (the IPC fast path): a thread that blocks may hand its
//!   CPU straight to a blocked thread it wakes, without a trip through the
//!   run queue, when that picks what the general path could have picked: the
//!   woken thread may run there, is within its budget, and no ready thread
//!   there outranks it (nor waits at its level once its slice is used up).
//!   It keeps the rest of its time slice, so a pair of threads passing the
//!   CPU back and forth cannot starve others of their priority.
//! - An idle CPU steals the highest-priority unpinned ready thread of the
//!   busiest CPU that has one; [`Scheduler::balance`] evens out loads.
//! - Optional CPU budgets (quota per period, the hook for resource groups):
//!   a thread that used its quota is throttled until the next period
//!   boundary. Periods are aligned to multiples of the period on the
//!   caller's clock.
//! - Every decision is reported as an [`Event`] with its reason, so traces
//!   explain themselves.
//!
//! Driving it (every call under the one lock; the sink must not call back):
//! - Timer interrupt: [`Scheduler::tick`]; when it returns true, call
//!   [`Scheduler::pick_next`] and switch to its result (`None` = idle loop).
//!   Runtime is charged only by ticks and switches.
//! - [`Scheduler::make_ready`] (and `set_priority`, `set_affinity`,
//!   `set_budget`) return the CPU that should reschedule now: call
//!   `pick_next` there, via a reschedule IPI if it is another CPU.
//! - [`Scheduler::block_current`], [`Scheduler::exit_current`] and
//!   [`Scheduler::yield_now`] pick the next thread themselves; a `pick_next`
//!   right after returns the same thread and emits nothing.
//! - IPC fast path (`call`, `reply_recv`): [`Scheduler::handoff`] blocks the
//!   current thread and makes the blocked thread it woke current on the same
//!   CPU at once. On `Ok` the kernel switches to that thread itself
//!   ([`Scheduler::current`] returns it; a `pick_next` right after emits
//!   nothing). On `Err` nothing changed: take the general path
//!   (`block_current`, `make_ready` of the target, and the pick or
//!   reschedule IPI they call for).
//! - An idle CPU's `tick` returns true when it has work or can steal it;
//!   call [`Scheduler::balance`] from a slower periodic timer.
//! - A thread switched away from may be picked by another CPU as soon as
//!   the lock is dropped: the kernel must not resume it before its context
//!   is saved.
//!
//! Time (`now`) is in nanoseconds on one monotonic clock shared by all CPUs;
//! a value that goes backwards is treated as no time passing. Nothing panics
//! on caller input: bad ids, CPUs, priorities and budgets are
//! [`SchedError`]s (methods without a `Result` ignore an unknown CPU).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use core::fmt;

mod event;
mod sched;
pub mod waitq;

pub use event::{BlockReason, Event, MigrateReason, PickReason, PreemptReason, WakeReason};
pub use sched::{Queued, Scheduler};
pub use waitq::WaitQueue;

/// Default round-robin time slice: 10 ms.
pub const DEFAULT_TIME_SLICE_NS: u64 = 10_000_000;

/// A thread, as handed out by [`Scheduler::add_thread`]: a slot in the
/// thread table plus the slot's generation, so an id kept after
/// [`Scheduler::remove`] is detected as stale rather than naming the slot's
/// next occupant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ThreadId {
    pub index: u32,
    pub generation: u32,
}

impl fmt::Display for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T{}", self.index)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CpuId(pub u16);

impl fmt::Display for CpuId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cpu{}", self.0)
    }
}

/// Scheduling priority, `0..=63`; a higher value runs first. The field is
/// public for convenience; every method that takes one checks the range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(pub u8);

impl Priority {
    pub const LEVELS: usize = 64;
    pub const MIN: Priority = Priority(0);
    pub const MAX: Priority = Priority(Self::LEVELS as u8 - 1);

    pub const fn new(value: u8) -> Result<Priority, SchedError> {
        if (value as usize) < Self::LEVELS {
            Ok(Priority(value))
        } else {
            Err(SchedError::BadPriority(value))
        }
    }

    fn check(self) -> Result<Priority, SchedError> {
        Priority::new(self.0)
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// At least one CPU is always managed: 0 counts as 1.
    pub cpus: u16,
    /// Round-robin slice within a priority level; 0 counts as 1 ns.
    pub time_slice_ns: u64,
}

impl Config {
    /// `cpus` CPUs with the default time slice.
    pub const fn new(cpus: u16) -> Config {
        Config {
            cpus,
            time_slice_ns: DEFAULT_TIME_SLICE_NS,
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config::new(1)
    }
}

/// A CPU budget: at most `quota_ns` of runtime in each `period_ns`.
/// Requires `0 < quota_ns <= period_ns`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub period_ns: u64,
    pub quota_ns: u64,
}

impl Budget {
    fn check(self) -> Result<Budget, SchedError> {
        if self.quota_ns == 0 || self.quota_ns > self.period_ns {
            return Err(SchedError::BadBudget(self));
        }
        Ok(self)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadState {
    /// Added but never made ready.
    New,
    /// On `cpu`'s run queue.
    Ready {
        cpu: CpuId,
    },
    /// The current thread of `cpu`.
    Running {
        cpu: CpuId,
    },
    Blocked(BlockReason),
    /// Used its budget for this period; ready again at the next boundary.
    Throttled,
    /// Finished; only [`Scheduler::remove`] applies.
    Exited,
}

impl ThreadState {
    /// The CPU a ready or running thread is on.
    pub fn cpu(&self) -> Option<CpuId> {
        match *self {
            ThreadState::Ready { cpu } | ThreadState::Running { cpu } => Some(cpu),
            _ => None,
        }
    }
}

impl fmt::Display for ThreadState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::New => f.write_str("new"),
            Self::Ready { cpu } => write!(f, "ready on {cpu}"),
            Self::Running { cpu } => write!(f, "running on {cpu}"),
            Self::Blocked(reason) => write!(f, "blocked: {reason}"),
            Self::Throttled => f.write_str("throttled"),
            Self::Exited => f.write_str("exited"),
        }
    }
}

/// Per-thread accounting. Runtime is charged on every tick and switch, so
/// a running thread's time since the last one is not included yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadStats {
    pub runtime_ns: u64,
    /// Times it was switched to.
    pub scheduled: u64,
    /// Involuntary switches away: slice expired, higher priority, budget.
    pub preempted: u64,
    pub yielded: u64,
    pub blocked: u64,
    /// Times its budget ran out.
    pub throttled: u64,
    /// Times it moved to another CPU.
    pub migrated: u64,
    /// Times it was made ready by [`Scheduler::make_ready`], a refill or a
    /// handoff.
    pub woken: u64,
    /// Times it was switched to by a direct [`Scheduler::handoff`] (also
    /// counted in `woken` and `scheduled`).
    pub handoffs: u64,
}

/// Why a call was refused. The scheduler is unchanged afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchedError {
    /// Never handed out, or removed (a stale generation).
    NoSuchThread(ThreadId),
    BadCpu(CpuId),
    BadPriority(u8),
    /// The call does not apply to a thread in `state`.
    WrongState {
        thread: ThreadId,
        state: ThreadState,
    },
    OutOfMemory,
    /// Not `0 < quota_ns <= period_ns`.
    BadBudget(Budget),
    /// [`WaitQueue::push`] of a thread that is already queued there.
    AlreadyQueued(ThreadId),
}

impl fmt::Display for SchedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSuchThread(t) => write!(f, "no such thread {t} (generation {})", t.generation),
            Self::BadCpu(cpu) => write!(f, "no such CPU {cpu}"),
            Self::BadPriority(p) => write!(f, "priority {p} is outside 0..={}", Priority::MAX),
            Self::WrongState { thread, state } => write!(f, "{thread} is {state}"),
            Self::OutOfMemory => f.write_str("out of memory"),
            Self::BadBudget(b) => write!(
                f,
                "bad budget: quota {} ns per {} ns period",
                b.quota_ns, b.period_ns
            ),
            Self::AlreadyQueued(t) => write!(f, "{t} is already on the wait queue"),
        }
    }
}

impl core::error::Error for SchedError {}

/// Why [`Scheduler::handoff`] declined. The scheduler is unchanged
/// afterwards; the kernel takes the general path instead (see the crate
/// docs). Every variant but `Sched` is a policy refusal, not a misuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandoffError {
    /// A bad CPU or thread id, or the target is not `Blocked`
    /// ([`SchedError::WrongState`]).
    Sched(SchedError),
    /// The CPU has no current thread to block.
    Idle(CpuId),
    /// The target is the CPU's current thread.
    ToSelf(ThreadId),
    /// The target is pinned to another CPU.
    Pinned { thread: ThreadId, cpu: CpuId },
    /// The CPU is offline and the target is not pinned to it: unpinned work
    /// is not placed on an offline CPU.
    Offline(CpuId),
    /// The target has used its budget for this period: waking it throttles
    /// it.
    OverBudget(ThreadId),
    /// A higher-priority thread, `by`, is ready on the CPU.
    Outranked { thread: ThreadId, by: ThreadId },
    /// The target has used up its time slice and `waiting`, of the same
    /// priority, is ready on the CPU: it is `waiting`'s turn.
    SliceExpired { thread: ThreadId, waiting: ThreadId },
}

impl From<SchedError> for HandoffError {
    fn from(e: SchedError) -> HandoffError {
        HandoffError::Sched(e)
    }
}

impl fmt::Display for HandoffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sched(e) => e.fmt(f),
            Self::Idle(cpu) => write!(f, "{cpu} has no current thread to block"),
            Self::ToSelf(t) => write!(f, "{t} cannot hand off to itself"),
            Self::Pinned { thread, cpu } => write!(f, "{thread} is pinned to {cpu}"),
            Self::Offline(cpu) => write!(f, "{cpu} is offline"),
            Self::OverBudget(t) => write!(f, "{t} has used its budget for this period"),
            Self::Outranked { thread, by } => {
                write!(f, "{thread} is outranked by ready {by}")
            }
            Self::SliceExpired { thread, waiting } => write!(
                f,
                "{thread} used its time slice and {waiting} waits at its priority"
            ),
        }
    }
}

impl core::error::Error for HandoffError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Sched(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
