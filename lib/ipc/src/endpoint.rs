//! [`Endpoint`]: a rendezvous point. A sender and a receiver meet and the
//! message passes straight across; whoever arrives first waits.
//!
//! Waiters are served in arrival order (FIFO), not by priority: the order
//! is easy to predict and to test, and no waiter starves. Priority
//! inversion is the scheduler's and the kernel's concern, not the queue's.
//!
//! At most one queue is non-empty at a time: a waiting sender would have
//! met any receiver that came along, and vice versa.

use crate::IpcError;
use crate::queue::{KEEP, trim};
use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// How a message was sent: a Call waits for a reply (see
/// [`crate::Replies`]), a Send does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SendKind {
    Send,
    Call,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome<T, M> {
    /// A receiver was waiting: the kernel copies `msg` to it and wakes it.
    /// After a Call the sender now waits for the reply.
    Delivered {
        receiver: T,
        msg: M,
        badge: u64,
        kind: SendKind,
    },
    /// The sender waits in the queue; the kernel blocks it.
    Blocked,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecvOutcome<T, M> {
    /// A sender was waiting: the kernel copies `msg` to the receiver and
    /// wakes the sender after a Send; after a Call the sender stays
    /// blocked, waiting for the reply.
    Received {
        sender: T,
        badge: u64,
        msg: M,
        kind: SendKind,
    },
    /// The receiver waits in the queue; the kernel blocks it.
    Blocked,
}

/// What [`Endpoint::cancel`] took out of the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cancelled<M> {
    /// A waiting sender, with the message it never delivered.
    Sender {
        badge: u64,
        msg: M,
        kind: SendKind,
    },
    Receiver,
}

/// The waiters [`Endpoint::close`] turned out, each in arrival order; the
/// kernel wakes each with an error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Closed<T> {
    pub senders: Vec<T>,
    pub receivers: Vec<T>,
}

#[derive(Clone, Debug)]
struct Message<M> {
    badge: u64,
    msg: M,
    kind: SendKind,
}

#[derive(Clone, Debug)]
pub struct Endpoint<T, M> {
    /// Waiting senders, oldest first. Their messages are kept apart, in
    /// `messages` (same length, same order), so [`Endpoint::close`] can
    /// hand the ids back without allocating.
    senders: VecDeque<T>,
    messages: VecDeque<Message<M>>,
    /// Waiting receivers, oldest first.
    receivers: VecDeque<T>,
    closed: bool,
}

impl<T, M> Default for Endpoint<T, M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, M> Endpoint<T, M> {
    /// Most heap bytes an endpoint with no waiters keeps (room for
    /// [`KEEP`] entries in each queue): what a kernel charges for it
    /// beyond the value itself.
    pub const IDLE_BYTES: usize =
        KEEP * (2 * core::mem::size_of::<T>() + core::mem::size_of::<Message<M>>());

    /// Most heap bytes one waiting thread adds: room for four entries in
    /// each queue it can be in (see `queue::trim`).
    pub const WAITER_BYTES: usize =
        4 * (core::mem::size_of::<T>() + core::mem::size_of::<Message<M>>());

    /// Heap bytes the queues hold now (for tests).
    pub fn room_bytes(&self) -> usize {
        self.senders.capacity() * core::mem::size_of::<T>()
            + self.receivers.capacity() * core::mem::size_of::<T>()
            + self.messages.capacity() * core::mem::size_of::<Message<M>>()
    }

    pub const fn new() -> Self {
        Endpoint {
            senders: VecDeque::new(),
            messages: VecDeque::new(),
            receivers: VecDeque::new(),
            closed: false,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Turns out every waiter; from now on every operation fails with
    /// [`IpcError::Closed`]. For when the endpoint's last capability is
    /// deleted or revoked. Never allocates; closing again returns nobody.
    pub fn close(&mut self) -> Closed<T> {
        self.closed = true;
        self.messages.clear();
        Closed {
            senders: Vec::from(core::mem::take(&mut self.senders)),
            receivers: Vec::from(core::mem::take(&mut self.receivers)),
        }
    }
}

impl<T: Copy + Eq, M> Endpoint<T, M> {
    /// Waiting senders, oldest first.
    pub fn senders(&self) -> impl ExactSizeIterator<Item = T> + '_ {
        self.senders.iter().copied()
    }

    /// Waiting receivers, oldest first.
    pub fn receivers(&self) -> impl ExactSizeIterator<Item = T> + '_ {
        self.receivers.iter().copied()
    }

    /// Whether `t` waits here, as sender or receiver.
    pub fn is_queued(&self, t: T) -> bool {
        self.senders.contains(&t) || self.receivers.contains(&t)
    }

    /// `sender` sends `msg`, with the badge of the capability it used.
    /// With `block` false, fails with [`IpcError::WouldBlock`] when no
    /// receiver waits (seL4's NBSend).
    pub fn send(
        &mut self,
        sender: T,
        badge: u64,
        msg: M,
        kind: SendKind,
        block: bool,
    ) -> Result<SendOutcome<T, M>, IpcError> {
        self.usable(sender)?;
        if let Some(receiver) = self.receivers.pop_front() {
            trim(&mut self.receivers);
            return Ok(SendOutcome::Delivered {
                receiver,
                msg,
                badge,
                kind,
            });
        }
        if !block {
            return Err(IpcError::WouldBlock);
        }
        self.senders
            .try_reserve(1)
            .map_err(|_| IpcError::OutOfMemory)?;
        self.messages
            .try_reserve(1)
            .map_err(|_| IpcError::OutOfMemory)?;
        self.senders.push_back(sender);
        self.messages.push_back(Message { badge, msg, kind });
        Ok(SendOutcome::Blocked)
    }

    /// `receiver` takes the oldest waiting message. With `block` false,
    /// fails with [`IpcError::WouldBlock`] when no sender waits.
    pub fn recv(&mut self, receiver: T, block: bool) -> Result<RecvOutcome<T, M>, IpcError> {
        self.usable(receiver)?;
        if let Some(sender) = self.senders.pop_front() {
            let Message { badge, msg, kind } = self
                .messages
                .pop_front()
                .expect("every waiting sender has a message");
            trim(&mut self.senders);
            trim(&mut self.messages);
            return Ok(RecvOutcome::Received {
                sender,
                badge,
                msg,
                kind,
            });
        }
        if !block {
            return Err(IpcError::WouldBlock);
        }
        self.receivers
            .try_reserve(1)
            .map_err(|_| IpcError::OutOfMemory)?;
        self.receivers.push_back(receiver);
        Ok(RecvOutcome::Blocked)
    }

    /// Takes `t` out of the queue it waits in (a timeout or a kill).
    /// `None` if it was not waiting here.
    pub fn cancel(&mut self, t: T) -> Option<Cancelled<M>> {
        if let Some(at) = self.senders.iter().position(|&s| s == t) {
            self.senders.remove(at);
            let Message { badge, msg, kind } = self
                .messages
                .remove(at)
                .expect("every waiting sender has a message");
            trim(&mut self.senders);
            trim(&mut self.messages);
            return Some(Cancelled::Sender { badge, msg, kind });
        }
        let at = self.receivers.iter().position(|&r| r == t)?;
        self.receivers.remove(at);
        trim(&mut self.receivers);
        Some(Cancelled::Receiver)
    }

    fn usable(&self, t: T) -> Result<(), IpcError> {
        if self.closed {
            Err(IpcError::Closed)
        } else if self.is_queued(t) {
            Err(IpcError::AlreadyQueued)
        } else {
            Ok(())
        }
    }

    /// For tests: the queues agree with each other and with the state.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        use crate::queue::in_proportion;
        if !(in_proportion(&self.senders)
            && in_proportion(&self.messages)
            && in_proportion(&self.receivers))
        {
            return Err("a queue keeps more room than its waiters need");
        }
        if self.senders.len() != self.messages.len() {
            return Err("senders and messages differ in length");
        }
        if !self.senders.is_empty() && !self.receivers.is_empty() {
            return Err("senders and receivers wait at once");
        }
        if self.closed && !(self.senders.is_empty() && self.receivers.is_empty()) {
            return Err("a closed endpoint has waiters");
        }
        let all = || self.senders.iter().chain(&self.receivers);
        for (i, t) in all().enumerate() {
            if all().skip(i + 1).any(|u| u == t) {
                return Err("a thread waits twice");
            }
        }
        Ok(())
    }
}
