//! [`Replies`]: one-shot reply rights, seL4's implicit reply capability.
//!
//! When a Call reaches a server, the server gets the right to answer that
//! caller exactly once. A server holds at most one such right at a time,
//! and a caller waits for at most one reply. The right outlives neither
//! party: if the caller goes (killed, or gave up on a timeout) the server
//! learns so when it replies ([`IpcError::CallerGone`]); if the server
//! goes, the kernel wakes the caller with an error.
//!
//! Each right carries a [`ReplyToken`] whose generation is never reused,
//! so a token kept from one call cannot answer a later one.

use crate::IpcError;
use alloc::vec::Vec;

/// Names one bound reply right. Forging one is harmless: it is only ever
/// compared with the right the server holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplyToken(pub u64);

/// The reply right a server holds ([`Replies::pending`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending<T> {
    pub token: ReplyToken,
    /// `None` once the caller is gone: replying will fail with
    /// [`IpcError::CallerGone`] (and use the right up).
    pub caller: Option<T>,
}

#[derive(Clone, Copy, Debug)]
struct Entry<T> {
    server: T,
    pending: Pending<T>,
}

#[derive(Clone, Debug)]
pub struct Replies<T> {
    /// Sorted by server, at most one entry each.
    entries: Vec<Entry<T>>,
    /// The next token's generation. 2^64 binds never happen, so it does
    /// not wrap in practice (and would only wrap, not panic).
    next: u64,
}

impl<T> Default for Replies<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Replies<T> {
    pub const fn new() -> Self {
        Replies {
            entries: Vec::new(),
            next: 1,
        }
    }

    /// Reply rights held, including those whose caller is gone.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Makes room for `additional` more rights, so that many binds cannot
    /// fail with [`IpcError::OutOfMemory`]. The kernel may reserve one per
    /// thread when it creates the thread, so binding after a delivery,
    /// which cannot be undone, never fails for want of memory.
    pub fn reserve(&mut self, additional: usize) -> Result<(), IpcError> {
        self.entries
            .try_reserve(additional)
            .map_err(|_| IpcError::OutOfMemory)
    }
}

impl<T: Copy + Ord> Replies<T> {
    /// A Call from `caller` reached `server`: the server may now answer it
    /// once. Fails with [`IpcError::ReplyPending`] if the server still
    /// holds a right, even one whose caller is gone: the kernel decides
    /// whether that is the server's error or calls [`Replies::discard`]
    /// first, as seL4 does when a server receives again without replying.
    /// Fails with [`IpcError::AlreadyQueued`] if `caller` already waits
    /// for another reply.
    pub fn bind(&mut self, server: T, caller: T) -> Result<ReplyToken, IpcError> {
        let at = match self.find(server) {
            Ok(_) => return Err(IpcError::ReplyPending),
            Err(at) => at,
        };
        if self.awaiting(caller).is_some() {
            return Err(IpcError::AlreadyQueued);
        }
        self.reserve(1)?;
        let token = ReplyToken(self.next);
        self.next = self.next.wrapping_add(1);
        let pending = Pending {
            token,
            caller: Some(caller),
        };
        self.entries.insert(at, Entry { server, pending });
        Ok(token)
    }

    /// `server` replies: returns the caller to copy the reply to and wake.
    /// The right is used up, whether or not the caller is still there.
    pub fn take(&mut self, server: T) -> Result<T, IpcError> {
        let at = self.find(server).map_err(|_| IpcError::NoReplyPending)?;
        let entry = self.entries.remove(at);
        entry.pending.caller.ok_or(IpcError::CallerGone)
    }

    /// As [`Replies::take`], but only for the call `token` came from: a
    /// token from an earlier call fails with [`IpcError::StaleReply`] and
    /// leaves the current right in place.
    pub fn take_token(&mut self, server: T, token: ReplyToken) -> Result<T, IpcError> {
        let at = self.find(server).map_err(|_| IpcError::NoReplyPending)?;
        if self.entries[at].pending.token != token {
            return Err(IpcError::StaleReply);
        }
        self.take(server)
    }

    /// `caller` died or gave up waiting: no reply may reach it any more.
    /// The server's right stays until the server replies (and learns
    /// [`IpcError::CallerGone`]) or it is discarded, so the caller's id may
    /// be reused at once. False if `caller` waited for no reply.
    pub fn caller_gone(&mut self, caller: T) -> bool {
        let entry = self
            .entries
            .iter_mut()
            .find(|e| e.pending.caller == Some(caller));
        match entry {
            Some(e) => {
                e.pending.caller = None;
                true
            }
            None => false,
        }
    }

    /// `server` died: returns the caller it owed a reply, which the kernel
    /// wakes with an error.
    pub fn server_gone(&mut self, server: T) -> Option<T> {
        self.discard(server)
    }

    /// Drops `server`'s right unanswered, e.g. when it receives again
    /// without replying. Returns the caller, which the kernel wakes with
    /// an error rather than leaving it to wait for ever.
    pub fn discard(&mut self, server: T) -> Option<T> {
        let at = self.find(server).ok()?;
        self.entries.remove(at).pending.caller
    }

    /// The right `server` holds, if any.
    pub fn pending(&self, server: T) -> Option<Pending<T>> {
        let at = self.find(server).ok()?;
        Some(self.entries[at].pending)
    }

    /// The server `caller` waits for a reply from, if any.
    pub fn awaiting(&self, caller: T) -> Option<T> {
        let entry = self
            .entries
            .iter()
            .find(|e| e.pending.caller == Some(caller));
        entry.map(|e| e.server)
    }

    fn find(&self, server: T) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| e.server.cmp(&server))
    }

    /// For tests: one right per server, one per live caller, tokens unique
    /// and older than the next one.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        for pair in self.entries.windows(2) {
            if pair[0].server >= pair[1].server {
                return Err("servers are not sorted and unique");
            }
        }
        for (i, e) in self.entries.iter().enumerate() {
            let later = &self.entries[i + 1..];
            if e.pending.token.0 >= self.next {
                return Err("a token is newer than the generation counter");
            }
            if later.iter().any(|l| l.pending.token == e.pending.token) {
                return Err("two rights share a token");
            }
            let caller = e.pending.caller;
            if caller.is_some() && later.iter().any(|l| l.pending.caller == caller) {
                return Err("a caller waits for two replies");
            }
        }
        Ok(())
    }
}
