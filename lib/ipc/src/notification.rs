//! [`Notification`]: a word of bits for signals that must not block the
//! signaller (interrupts, "work available"). Signals OR into the word, so
//! several before a wait arrive together and none is lost; a waiter takes
//! the whole word and clears it.
//!
//! Waiters are woken one per signal, in arrival order (FIFO). A waiter
//! only waits while the word is 0, so the word and the queue are never
//! both non-empty.

use crate::IpcError;
use crate::queue::{KEEP, trim};
use alloc::collections::VecDeque;
use alloc::vec::Vec;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitOutcome {
    /// The word was non-zero: here it is; it is now 0.
    Ready(u64),
    /// The waiter is queued; the kernel blocks it.
    Blocked,
}

#[derive(Clone, Debug)]
pub struct Notification<T> {
    word: u64,
    /// Oldest first.
    waiters: VecDeque<T>,
    closed: bool,
}

impl<T> Default for Notification<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Notification<T> {
    /// Most heap bytes a notification with no waiters keeps (room for
    /// [`KEEP`] waiters): what a kernel charges for it beyond the value.
    pub const IDLE_BYTES: usize = KEEP * core::mem::size_of::<T>();

    /// Heap bytes the queue holds now (for tests).
    pub fn room_bytes(&self) -> usize {
        self.waiters.capacity() * core::mem::size_of::<T>()
    }

    pub const fn new() -> Self {
        Notification {
            word: 0,
            waiters: VecDeque::new(),
            closed: false,
        }
    }

    /// The bits signalled and not yet taken.
    pub fn word(&self) -> u64 {
        self.word
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// ORs `bits` into the word. If a thread waits, the oldest waiter gets
    /// the whole word (which is cleared): the kernel wakes it with those
    /// bits. `bits == 0` is allowed and does nothing, so no waiter is ever
    /// woken with an empty word.
    pub fn signal(&mut self, bits: u64) -> Result<Option<(T, u64)>, IpcError> {
        if self.closed {
            return Err(IpcError::Closed);
        }
        self.word |= bits;
        if self.word == 0 {
            return Ok(None);
        }
        let woken = self.waiters.pop_front().map(|t| (t, self.take()));
        trim(&mut self.waiters);
        Ok(woken)
    }

    /// Takes the word without waiting (0 if nothing was signalled).
    pub fn poll(&mut self) -> Result<u64, IpcError> {
        if self.closed {
            return Err(IpcError::Closed);
        }
        Ok(self.take())
    }

    /// Turns out every waiter, oldest first, and drops the word; from now
    /// on every operation fails with [`IpcError::Closed`]. Never
    /// allocates; closing again returns nobody.
    pub fn close(&mut self) -> Vec<T> {
        self.closed = true;
        self.word = 0;
        Vec::from(core::mem::take(&mut self.waiters))
    }

    fn take(&mut self) -> u64 {
        core::mem::take(&mut self.word)
    }
}

impl<T: Copy + Eq> Notification<T> {
    /// Waiting threads, oldest first.
    pub fn waiters(&self) -> impl ExactSizeIterator<Item = T> + '_ {
        self.waiters.iter().copied()
    }

    /// `t` takes the word if it is non-zero, else waits for a signal (or,
    /// with `block` false, fails with [`IpcError::WouldBlock`]).
    pub fn wait(&mut self, t: T, block: bool) -> Result<WaitOutcome, IpcError> {
        if self.closed {
            return Err(IpcError::Closed);
        }
        if self.waiters.contains(&t) {
            return Err(IpcError::AlreadyQueued);
        }
        if self.word != 0 {
            return Ok(WaitOutcome::Ready(self.take()));
        }
        if !block {
            return Err(IpcError::WouldBlock);
        }
        self.waiters
            .try_reserve(1)
            .map_err(|_| IpcError::OutOfMemory)?;
        self.waiters.push_back(t);
        Ok(WaitOutcome::Blocked)
    }

    /// Takes `t` out of the queue (a timeout or a kill); false if it was
    /// not waiting here.
    pub fn cancel(&mut self, t: T) -> bool {
        match self.waiters.iter().position(|&w| w == t) {
            Some(at) => {
                self.waiters.remove(at);
                trim(&mut self.waiters);
                true
            }
            None => false,
        }
    }

    /// For tests: no waiter alongside a non-zero word, none twice, none
    /// after close, and room in proportion to the queue.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        if !crate::queue::in_proportion(&self.waiters) {
            return Err("the queue keeps more room than its waiters need");
        }
        if self.word != 0 && !self.waiters.is_empty() {
            return Err("threads wait although bits are pending");
        }
        if self.closed && (self.word != 0 || !self.waiters.is_empty()) {
            return Err("a closed notification has bits or waiters");
        }
        for (i, t) in self.waiters.iter().enumerate() {
            if self.waiters.iter().skip(i + 1).any(|u| u == t) {
                return Err("a thread waits twice");
            }
        }
        Ok(())
    }
}
