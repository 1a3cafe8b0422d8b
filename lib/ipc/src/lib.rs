//! The IPC policy, seL4-style: who meets whom at an endpoint, who may
//! answer a call, what a notification delivers, and which request a
//! message belongs to.
//!
//! Only bookkeeping lives here. The kernel owns the threads: it copies
//! message registers, blocks and wakes threads, and charges time. This
//! crate decides, for each operation, which thread is paired with which
//! and who is left waiting, so host unit and property tests can cover
//! every decision. Each object is a plain value the kernel changes through
//! `&mut`, under whatever lock it chooses. Everything is generic over the kernel's thread id `T` and
//! its message payload `M` (the message registers, opaque here).
//!
//! The model:
//! - An [`Endpoint`] is a rendezvous: a sender meets a receiver and the
//!   message goes straight across, with the badge of the sender's
//!   capability. Whoever comes first waits in a FIFO queue. A Call
//!   ([`SendKind::Call`]) leaves the sender waiting for a reply.
//! - [`Replies`] holds, per server thread, the one reply it owes (seL4's
//!   implicit reply capability). The kernel binds it when a Call reaches
//!   the server; replying consumes it, once.
//! - A [`Notification`] is a word of bits: signals OR into it without
//!   blocking; a waiter takes the whole word.
//! - [`CausalState`] carries a request's [`CausalId`] from a client to the
//!   servers and drivers it calls on its behalf, for tracing.
//!
//! What the kernel does with each outcome:
//! - Send or Call by `s` ([`Endpoint::send`]): on
//!   [`SendOutcome::Delivered`], copy the message to the receiver and wake
//!   it; for a Call, [`Replies::bind`] the receiver to `s`, and `s` waits
//!   for the reply. On [`SendOutcome::Blocked`], block `s`.
//! - Receive by `r` ([`Endpoint::recv`]): on [`RecvOutcome::Received`],
//!   copy the message to `r`; wake the sender after a Send, bind `r` to it
//!   after a Call (the sender stays blocked).
//! - Reply by `r`: [`Replies::take`] names the caller to copy the reply
//!   to and wake. Reply-and-receive is a reply, then a receive.
//! - A thread `t` is killed: cancel it where it waits
//!   ([`Endpoint::cancel`], [`Notification::cancel`]), then
//!   [`Replies::caller_gone`]`(t)` (no one may answer it any more) and
//!   [`Replies::server_gone`]`(t)` (wake the caller it owed, with an
//!   error). A timeout is the same without the `server_gone`.
//! - The last capability to an endpoint or notification goes:
//!   [`Endpoint::close`] / [`Notification::close`] name every waiter to
//!   wake with an error. Replies already bound stay valid: a reply right
//!   does not depend on the endpoint the call came through.
//!
//! Guarantees: a failed call changes nothing (the payload of a refused
//! send is dropped; the sender's registers still hold it), and errors say
//! what was wrong ([`IpcError`]). Nothing panics on caller input.
//! Allocation uses `try_reserve` and fails with [`IpcError::OutOfMemory`];
//! only blocking and [`Replies::bind`] allocate, never a delivery, a
//! cancel or a close, so waking threads cannot fail. A queue's room stays
//! in proportion to its length (`queue::trim`: [`KEEP`] entries when empty,
//! at most four per waiter otherwise). Queues are short
//! (one entry per blocked thread), so finding a thread in one is a linear
//! scan: sends, receives, waits and cancels are O(queue length), replies
//! O(rights held).
//!
//! Miri checks for undefined behaviour in `alloc` use and for arithmetic
//! overflow:
//! `MIRIFLAGS=-Zmiri-disable-isolation PROPTEST_CASES=4 cargo +nightly miri test -p ferrous-ipc`
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use core::fmt;

mod causal;
mod endpoint;
mod notification;
mod queue;
mod reply;

pub use causal::{CausalId, CausalState};
pub use endpoint::{Cancelled, Closed, Endpoint, RecvOutcome, SendKind, SendOutcome};
pub use notification::{Notification, WaitOutcome};
pub use queue::KEEP;
pub use reply::{Pending, Replies, ReplyToken};

/// Why an operation was refused. The object is unchanged afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpcError {
    /// A non-blocking operation found no partner (or no bits).
    WouldBlock,
    /// The endpoint or notification was closed.
    Closed,
    /// The thread already waits here, or (for [`Replies::bind`]) already
    /// waits for a reply.
    AlreadyQueued,
    /// The server still owes a reply from an earlier call.
    ReplyPending,
    /// The server owes no reply.
    NoReplyPending,
    /// The caller died or gave up; the reply right is used up.
    CallerGone,
    /// The reply token is from an earlier call.
    StaleReply,
    OutOfMemory,
}

impl fmt::Display for IpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::WouldBlock => "the operation would block",
            Self::Closed => "the endpoint or notification is closed",
            Self::AlreadyQueued => "the thread is already waiting",
            Self::ReplyPending => "the server still owes a reply",
            Self::NoReplyPending => "no reply is pending",
            Self::CallerGone => "the caller is gone",
            Self::StaleReply => "the reply token is stale",
            Self::OutOfMemory => "out of memory",
        })
    }
}

impl core::error::Error for IpcError {}

#[cfg(test)]
mod tests;
