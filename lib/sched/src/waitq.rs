//! [`WaitQueue`]: threads waiting for one event, woken highest priority
//! first and, within a priority, in arrival order, so a low-priority waiter
//! cannot delay a high-priority one (the same order as the run queues).
//!
//! It only stores ids. The kernel pairs it with the scheduler: push the
//! current thread, then [`crate::Scheduler::block_current`]; to wake, pop and
//! [`crate::Scheduler::make_ready`]. The priority is the one given to
//! [`WaitQueue::push`]; after a priority change, `remove` and `push` again.

use crate::{Priority, SchedError, ThreadId};
use alloc::vec::Vec;

#[derive(Clone, Debug, Default)]
pub struct WaitQueue {
    /// Sorted by ascending priority and, within a priority, newest first:
    /// the next to wake is the last entry, so `pop` is O(1).
    entries: Vec<(Priority, ThreadId)>,
}

impl WaitQueue {
    pub const fn new() -> WaitQueue {
        WaitQueue {
            entries: Vec::new(),
        }
    }

    /// Queues `t` behind the waiters of the same or higher priority. O(n);
    /// allocates only when the queue outgrows its capacity.
    pub fn push(&mut self, t: ThreadId, priority: Priority) -> Result<(), SchedError> {
        let priority = priority.check()?;
        if self.contains(t) {
            return Err(SchedError::AlreadyQueued(t));
        }
        self.entries
            .try_reserve(1)
            .map_err(|_| SchedError::OutOfMemory)?;
        let at = self.entries.partition_point(|&(p, _)| p < priority);
        self.entries.insert(at, (priority, t));
        Ok(())
    }

    /// The highest-priority waiter that came first.
    pub fn pop(&mut self) -> Option<ThreadId> {
        self.entries.pop().map(|(_, t)| t)
    }

    pub fn peek(&self) -> Option<ThreadId> {
        self.entries.last().map(|&(_, t)| t)
    }

    /// Takes `t` out (a timeout or a kill); false if it was not queued.
    pub fn remove(&mut self, t: ThreadId) -> bool {
        match self.entries.iter().position(|&(_, w)| w == t) {
            Some(at) => {
                self.entries.remove(at);
                true
            }
            None => false,
        }
    }

    pub fn contains(&self, t: ThreadId) -> bool {
        self.entries.iter().any(|&(_, w)| w == t)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The waiters in wake-up order.
    pub fn iter(&self) -> impl Iterator<Item = ThreadId> + '_ {
        self.entries.iter().rev().map(|&(_, t)| t)
    }
}
