//! Scheduling events: one per decision, each carrying its reason, handed to
//! the caller's sink. `Display` renders them as short explanations for
//! traces ("cpu0: T3 preempted: time slice expired").

use crate::{CpuId, Priority, ThreadId};
use core::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// `cpu` switches to `thread`.
    Pick {
        cpu: CpuId,
        thread: ThreadId,
        priority: Priority,
        reason: PickReason,
    },
    /// `cpu` had a thread and now has nothing to run.
    Idle {
        cpu: CpuId,
    },
    /// `thread` stops running on `cpu` but stays runnable (or is throttled).
    Preempt {
        cpu: CpuId,
        thread: ThreadId,
        reason: PreemptReason,
    },
    Block {
        cpu: CpuId,
        thread: ThreadId,
        reason: BlockReason,
    },
    /// `thread` was queued on `cpu`, or (before a `Pick` with
    /// [`PickReason::Handoff`]) made its current thread directly.
    Wake {
        thread: ThreadId,
        cpu: CpuId,
        reason: WakeReason,
    },
    /// A ready `thread` moved between run queues.
    Migrate {
        thread: ThreadId,
        from: CpuId,
        to: CpuId,
        reason: MigrateReason,
    },
    Exit {
        thread: ThreadId,
        cpu: CpuId,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PickReason {
    /// First of the highest non-empty priority level.
    HighestPriority,
    /// The previous thread went to the tail of this level; this one is next.
    RoundRobin,
    /// This CPU had nothing ready and took it from `from`'s queue.
    Stolen { from: CpuId },
    /// Nothing else was ready on this CPU.
    OnlyRunnable,
    /// `from` blocked and handed this CPU straight to it
    /// ([`crate::Scheduler::handoff`]).
    Handoff { from: ThreadId },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreemptReason {
    SliceExpired,
    HigherPriority {
        by: ThreadId,
    },
    /// Throttled until its next budget period.
    BudgetExhausted,
    Yielded,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockReason {
    Sleep,
    /// Waiting on the kernel's wait queue with this id.
    WaitQueue(u64),
    Join(ThreadId),
    Ipc,
    Other(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WakeReason {
    ByThread(ThreadId),
    Timeout,
    Interrupt,
    /// Its budget period ended.
    Refill,
    /// First made ready after [`crate::Scheduler::add_thread`].
    Created,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrateReason {
    /// Load balancing or wake-up placement; the loads before the move.
    Balance { from_load: usize, to_load: usize },
    /// Taken by an idle CPU.
    Steal,
    /// Its affinity names another CPU.
    Affinity,
    /// Handed a CPU other than its last one by a direct handoff.
    Handoff,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pick {
                cpu,
                thread,
                priority,
                reason,
            } => write!(f, "{cpu}: runs {thread} (priority {priority}): {reason}"),
            Self::Idle { cpu } => write!(f, "{cpu}: idle: nothing runnable"),
            Self::Preempt {
                cpu,
                thread,
                reason,
            } => write!(f, "{cpu}: {thread} {reason}"),
            Self::Block {
                cpu,
                thread,
                reason,
            } => write!(f, "{cpu}: {thread} blocked: {reason}"),
            Self::Wake {
                thread,
                cpu,
                reason,
            } => write!(f, "{thread} ready on {cpu}: {reason}"),
            Self::Migrate {
                thread,
                from,
                to,
                reason,
            } => write!(f, "{thread} moved {from} -> {to}: {reason}"),
            Self::Exit { thread, cpu } => write!(f, "{cpu}: {thread} exited"),
        }
    }
}

impl fmt::Display for PickReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HighestPriority => f.write_str("highest priority ready"),
            Self::RoundRobin => f.write_str("next in round-robin order"),
            Self::Stolen { from } => write!(f, "stolen from {from}"),
            Self::OnlyRunnable => f.write_str("only runnable thread"),
            Self::Handoff { from } => write!(f, "direct handoff from {from}"),
        }
    }
}

impl fmt::Display for PreemptReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SliceExpired => f.write_str("preempted: time slice expired"),
            Self::HigherPriority { by } => write!(f, "preempted by higher-priority {by}"),
            Self::BudgetExhausted => f.write_str("preempted: budget exhausted for this period"),
            Self::Yielded => f.write_str("yielded"),
        }
    }
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sleep => f.write_str("sleeping"),
            Self::WaitQueue(q) => write!(f, "waiting on queue {q:#x}"),
            Self::Join(t) => write!(f, "joining {t}"),
            Self::Ipc => f.write_str("waiting for IPC"),
            Self::Other(why) => f.write_str(why),
        }
    }
}

impl fmt::Display for WakeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ByThread(t) => write!(f, "woken by {t}"),
            Self::Timeout => f.write_str("woken by timeout"),
            Self::Interrupt => f.write_str("woken by interrupt"),
            Self::Refill => f.write_str("budget refilled"),
            Self::Created => f.write_str("new thread"),
        }
    }
}

impl fmt::Display for MigrateReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Balance { from_load, to_load } => {
                write!(f, "load balance (load {from_load} vs {to_load})")
            }
            Self::Steal => f.write_str("stolen by an idle CPU"),
            Self::Affinity => f.write_str("pinned to the other CPU"),
            Self::Handoff => f.write_str("direct handoff"),
        }
    }
}
