//! Causal ids: one id follows a request through every server and driver
//! that works on it, so a trace can put a chain of IPCs back together.
//!
//! The rules, per thread ([`CausalState`]):
//! - A message sent (Send or Call) while handling a request carries that
//!   request's id; otherwise it starts a new chain with a fresh id.
//! - Receiving a message makes its id the one being handled.
//! - Replying ends the handling; reply-and-receive then handles the next
//!   message's id once it arrives.
//!
//! A reply does not change what its caller handles: a server that called
//! a driver on behalf of a client is still handling the client's request.

use core::fmt;

/// A request's id; [`CausalId::NONE`] (0) marks an untraced message, so
/// the id fits in one message register.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CausalId(pub u64);

impl CausalId {
    pub const NONE: CausalId = CausalId(0);

    pub const fn is_none(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for CausalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_none() {
            f.write_str("causal -")
        } else {
            write!(f, "causal {:#x}", self.0)
        }
    }
}

/// What one thread is working on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CausalState {
    /// The request being handled; never `Some(CausalId::NONE)`.
    pub handling: Option<CausalId>,
}

impl CausalState {
    pub const fn new() -> CausalState {
        CausalState { handling: None }
    }

    /// The id for a message this thread sends: the handled request's, or
    /// a fresh one from `fresh` (called only then). A generator that
    /// returns [`CausalId::NONE`] leaves the message untraced.
    pub fn outgoing(&self, fresh: impl FnOnce() -> CausalId) -> CausalId {
        self.handling.unwrap_or_else(fresh)
    }

    /// This thread received a message carrying `id`: it now handles that
    /// request (or none, for an untraced message).
    pub fn received(&mut self, id: CausalId) {
        self.handling = (!id.is_none()).then_some(id);
    }

    /// This thread replied: the request is done. For reply-and-receive,
    /// call [`CausalState::received`] when the next message arrives.
    pub fn replied(&mut self) {
        self.handling = None;
    }
}
