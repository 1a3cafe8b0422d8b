//! Property tests: random operation sequences over a few thread ids.
//!
//! - Endpoints, replies and notifications each against a simple model
//!   (plain vectors and maps): every result agrees with the model, and
//!   `check_invariants` holds after every step. Beyond that: a message is
//!   delivered at most once, as sent; no thread waits twice; queues are
//!   FIFO; close turns out exactly the waiters; a call is answered at most
//!   once and never after its caller is gone; a waiter gets the union of
//!   the bits signalled since the word was last taken.
//! - A small kernel driving an endpoint and its replies together, with
//!   timeouts, kills and id reuse: every thread the kernel thinks is
//!   blocked is queued or owed a reply (no lost wake-ups), and every call
//!   ends exactly once.

use crate::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::vec::Vec;

const THREADS: u32 = 4;

/// A payload that cannot be cloned: each one is a serial number, so a
/// message delivered twice or swapped shows up.
#[derive(Debug, PartialEq, Eq)]
struct Msg(u64);

fn thread() -> impl Strategy<Value = u32> {
    0..THREADS
}

fn kind() -> impl Strategy<Value = SendKind> {
    prop_oneof![Just(SendKind::Send), Just(SendKind::Call)]
}

// ----- endpoints -----

#[derive(Clone, Debug)]
enum EpOp {
    Send {
        t: u32,
        badge: u64,
        kind: SendKind,
        block: bool,
    },
    Recv {
        t: u32,
        block: bool,
    },
    Cancel(u32),
    Close,
}

fn ep_op() -> impl Strategy<Value = EpOp> {
    prop_oneof![
        5 => (thread(), 0u64..3, kind(), any::<bool>())
            .prop_map(|(t, badge, kind, block)| EpOp::Send { t, badge, kind, block }),
        5 => (thread(), any::<bool>()).prop_map(|(t, block)| EpOp::Recv { t, block }),
        2 => thread().prop_map(EpOp::Cancel),
        1 => Just(EpOp::Close),
    ]
}

#[derive(Default)]
struct EpModel {
    /// (thread, badge, serial, kind), oldest first.
    senders: Vec<(u32, u64, u64, SendKind)>,
    receivers: Vec<u32>,
    closed: bool,
}

impl EpModel {
    fn queued(&self, t: u32) -> bool {
        self.senders.iter().any(|s| s.0 == t) || self.receivers.contains(&t)
    }

    fn refusal(&self, t: u32) -> Option<IpcError> {
        if self.closed {
            Some(IpcError::Closed)
        } else if self.queued(t) {
            Some(IpcError::AlreadyQueued)
        } else {
            None
        }
    }
}

#[derive(Default)]
struct EpHarness {
    ep: Endpoint<u32, Msg>,
    model: EpModel,
    next_serial: u64,
    delivered: BTreeSet<u64>,
}

impl EpHarness {
    fn deliver(&mut self, serial: u64) -> Result<(), TestCaseError> {
        prop_assert!(self.delivered.insert(serial), "{serial} delivered twice");
        Ok(())
    }

    fn step(&mut self, op: &EpOp) -> Result<(), TestCaseError> {
        match *op {
            EpOp::Send {
                t,
                badge,
                kind,
                block,
            } => {
                let serial = self.next_serial;
                self.next_serial += 1;
                let got = self.ep.send(t, badge, Msg(serial), kind, block);
                let m = &mut self.model;
                let want = if let Some(e) = m.refusal(t) {
                    Err(e)
                } else if !m.receivers.is_empty() {
                    let receiver = m.receivers.remove(0);
                    let msg = Msg(serial);
                    Ok(SendOutcome::Delivered {
                        receiver,
                        msg,
                        badge,
                        kind,
                    })
                } else if block {
                    m.senders.push((t, badge, serial, kind));
                    Ok(SendOutcome::Blocked)
                } else {
                    Err(IpcError::WouldBlock)
                };
                prop_assert_eq!(&got, &want);
                if let Ok(SendOutcome::Delivered { msg, .. }) = got {
                    self.deliver(msg.0)?;
                }
            }
            EpOp::Recv { t, block } => {
                let got = self.ep.recv(t, block);
                let m = &mut self.model;
                let want = if let Some(e) = m.refusal(t) {
                    Err(e)
                } else if !m.senders.is_empty() {
                    let (sender, badge, serial, kind) = m.senders.remove(0);
                    let msg = Msg(serial);
                    Ok(RecvOutcome::Received {
                        sender,
                        badge,
                        msg,
                        kind,
                    })
                } else if block {
                    m.receivers.push(t);
                    Ok(RecvOutcome::Blocked)
                } else {
                    Err(IpcError::WouldBlock)
                };
                prop_assert_eq!(&got, &want);
                if let Ok(RecvOutcome::Received { msg, .. }) = got {
                    self.deliver(msg.0)?;
                }
            }
            EpOp::Cancel(t) => {
                let got = self.ep.cancel(t);
                let m = &mut self.model;
                let want = if let Some(at) = m.senders.iter().position(|s| s.0 == t) {
                    let (_, badge, serial, kind) = m.senders.remove(at);
                    let msg = Msg(serial);
                    Some(Cancelled::Sender { badge, msg, kind })
                } else if let Some(at) = m.receivers.iter().position(|&r| r == t) {
                    m.receivers.remove(at);
                    Some(Cancelled::Receiver)
                } else {
                    None
                };
                prop_assert_eq!(got, want);
            }
            EpOp::Close => {
                let got = self.ep.close();
                let m = &mut self.model;
                let senders = m.senders.drain(..).map(|s| s.0).collect();
                let receivers = m.receivers.drain(..).collect();
                m.closed = true;
                prop_assert_eq!(got, Closed { senders, receivers });
                prop_assert_eq!(self.ep.senders().len() + self.ep.receivers().len(), 0);
            }
        }
        self.check()
    }

    fn check(&self) -> Result<(), TestCaseError> {
        self.ep.check_invariants().map_err(TestCaseError::fail)?;
        let m = &self.model;
        let senders: Vec<u32> = m.senders.iter().map(|s| s.0).collect();
        prop_assert_eq!(self.ep.senders().collect::<Vec<_>>(), senders);
        prop_assert_eq!(self.ep.receivers().collect::<Vec<_>>(), m.receivers.clone());
        prop_assert_eq!(self.ep.is_closed(), m.closed);
        for t in 0..THREADS {
            prop_assert_eq!(self.ep.is_queued(t), m.queued(t));
        }
        Ok(())
    }
}

// ----- replies -----

#[derive(Clone, Debug)]
enum ReplyOp {
    Bind {
        server: u32,
        caller: u32,
    },
    Take(u32),
    /// With one of the tokens handed out so far.
    TakeToken {
        server: u32,
        pick: usize,
    },
    CallerGone(u32),
    ServerGone(u32),
    Discard(u32),
}

fn reply_op() -> impl Strategy<Value = ReplyOp> {
    prop_oneof![
        4 => (thread(), thread()).prop_map(|(server, caller)| ReplyOp::Bind { server, caller }),
        3 => thread().prop_map(ReplyOp::Take),
        3 => (thread(), any::<usize>()).prop_map(|(server, pick)| ReplyOp::TakeToken { server, pick }),
        2 => thread().prop_map(ReplyOp::CallerGone),
        1 => thread().prop_map(ReplyOp::ServerGone),
        1 => thread().prop_map(ReplyOp::Discard),
    ]
}

#[derive(Default)]
struct ReplyHarness {
    replies: Replies<u32>,
    /// server -> its right.
    model: BTreeMap<u32, Pending<u32>>,
    issued: Vec<ReplyToken>,
    /// Calls answered, by a reply or by waking the caller with an error.
    answered: BTreeSet<ReplyToken>,
    /// Calls whose caller went.
    gone: BTreeSet<ReplyToken>,
}

impl ReplyHarness {
    fn token_of(&self, server: u32) -> Option<ReplyToken> {
        self.model.get(&server).map(|p| p.token)
    }

    /// The model's side of a take of `server`'s right.
    fn take(&mut self, server: u32) -> Result<u32, IpcError> {
        let pending = self.model.remove(&server).ok_or(IpcError::NoReplyPending)?;
        pending.caller.ok_or(IpcError::CallerGone)
    }

    fn answer(&mut self, token: ReplyToken, replied: bool) -> Result<(), TestCaseError> {
        prop_assert!(self.answered.insert(token), "{token:?} answered twice");
        if replied {
            prop_assert!(!self.gone.contains(&token), "replied to a gone caller");
        }
        Ok(())
    }

    fn step(&mut self, op: &ReplyOp) -> Result<(), TestCaseError> {
        match *op {
            ReplyOp::Bind { server, caller } => {
                let got = self.replies.bind(server, caller);
                if self.model.contains_key(&server) {
                    prop_assert_eq!(got, Err(IpcError::ReplyPending));
                } else if self.model.values().any(|p| p.caller == Some(caller)) {
                    prop_assert_eq!(got, Err(IpcError::AlreadyQueued));
                } else {
                    let token = got.map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert!(!self.issued.contains(&token), "token reused");
                    self.issued.push(token);
                    let caller = Some(caller);
                    self.model.insert(server, Pending { token, caller });
                }
            }
            ReplyOp::Take(server) => {
                let token = self.token_of(server);
                let got = self.replies.take(server);
                prop_assert_eq!(got, self.take(server));
                if let (Ok(_), Some(token)) = (got, token) {
                    self.answer(token, true)?;
                }
            }
            ReplyOp::TakeToken { server, pick } => {
                let token = match self.issued.len() {
                    0 => ReplyToken(0),
                    n => self.issued[pick % n],
                };
                let got = self.replies.take_token(server, token);
                let want = match self.token_of(server) {
                    Some(t) if t != token => Err(IpcError::StaleReply),
                    _ => self.take(server),
                };
                prop_assert_eq!(got, want);
                if got.is_ok() {
                    self.answer(token, true)?;
                }
            }
            ReplyOp::CallerGone(caller) => {
                let got = self.replies.caller_gone(caller);
                let entry = self.model.values_mut().find(|p| p.caller == Some(caller));
                prop_assert_eq!(got, entry.is_some());
                if let Some(p) = entry {
                    p.caller = None;
                    self.gone.insert(p.token);
                }
            }
            ReplyOp::ServerGone(server) | ReplyOp::Discard(server) => {
                let got = match op {
                    ReplyOp::Discard(_) => self.replies.discard(server),
                    _ => self.replies.server_gone(server),
                };
                let pending = self.model.remove(&server);
                prop_assert_eq!(got, pending.and_then(|p| p.caller));
                if let (Some(_), Some(p)) = (got, pending) {
                    self.answer(p.token, false)?;
                }
            }
        }
        self.check()
    }

    fn check(&self) -> Result<(), TestCaseError> {
        self.replies
            .check_invariants()
            .map_err(TestCaseError::fail)?;
        prop_assert_eq!(self.replies.len(), self.model.len());
        for t in 0..THREADS {
            prop_assert_eq!(self.replies.pending(t), self.model.get(&t).copied());
            let server = self.model.iter().find(|(_, p)| p.caller == Some(t));
            prop_assert_eq!(self.replies.awaiting(t), server.map(|(&s, _)| s));
        }
        Ok(())
    }
}

// ----- notifications -----

#[derive(Clone, Debug)]
enum NoteOp {
    Signal(u64),
    Wait { t: u32, block: bool },
    Poll,
    Cancel(u32),
    Close,
}

fn bits() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0), (0u32..64).prop_map(|b| 1 << b), any::<u64>()]
}

fn note_op() -> impl Strategy<Value = NoteOp> {
    prop_oneof![
        5 => bits().prop_map(NoteOp::Signal),
        5 => (thread(), any::<bool>()).prop_map(|(t, block)| NoteOp::Wait { t, block }),
        2 => Just(NoteOp::Poll),
        2 => thread().prop_map(NoteOp::Cancel),
        1 => Just(NoteOp::Close),
    ]
}

#[derive(Default)]
struct NoteHarness {
    n: Notification<u32>,
    /// The union of the bits signalled since the word was last taken.
    since: u64,
    waiters: Vec<u32>,
    closed: bool,
}

impl NoteHarness {
    fn step(&mut self, op: &NoteOp) -> Result<(), TestCaseError> {
        let closed = self.closed.then_some(IpcError::Closed);
        match *op {
            NoteOp::Signal(bits) => {
                let got = self.n.signal(bits);
                let want =
                    match closed {
                        Some(e) => Err(e),
                        None => {
                            self.since |= bits;
                            let wake = self.since != 0 && !self.waiters.is_empty();
                            Ok(wake.then(|| {
                                (self.waiters.remove(0), core::mem::take(&mut self.since))
                            }))
                        }
                    };
                prop_assert_eq!(got, want);
            }
            NoteOp::Wait { t, block } => {
                let got = self.n.wait(t, block);
                let want = if let Some(e) = closed {
                    Err(e)
                } else if self.waiters.contains(&t) {
                    Err(IpcError::AlreadyQueued)
                } else if self.since != 0 {
                    Ok(WaitOutcome::Ready(core::mem::take(&mut self.since)))
                } else if block {
                    self.waiters.push(t);
                    Ok(WaitOutcome::Blocked)
                } else {
                    Err(IpcError::WouldBlock)
                };
                prop_assert_eq!(got, want);
            }
            NoteOp::Poll => {
                let want = match closed {
                    Some(e) => Err(e),
                    None => Ok(core::mem::take(&mut self.since)),
                };
                prop_assert_eq!(self.n.poll(), want);
            }
            NoteOp::Cancel(t) => {
                let at = self.waiters.iter().position(|&w| w == t);
                prop_assert_eq!(self.n.cancel(t), at.is_some());
                if let Some(at) = at {
                    self.waiters.remove(at);
                }
            }
            NoteOp::Close => {
                prop_assert_eq!(self.n.close(), core::mem::take(&mut self.waiters));
                self.since = 0;
                self.closed = true;
            }
        }
        self.n.check_invariants().map_err(TestCaseError::fail)?;
        prop_assert_eq!(self.n.word(), self.since);
        prop_assert_eq!(self.n.waiters().collect::<Vec<_>>(), self.waiters.clone());
        prop_assert_eq!(self.n.is_closed(), self.closed);
        Ok(())
    }
}

// ----- a small kernel -----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Th {
    Running,
    /// Queued on the endpoint with message `id`.
    Sending {
        id: u64,
        kind: SendKind,
    },
    Receiving,
    /// Call `id` was delivered to `server`, which owes the reply.
    Awaiting {
        id: u64,
        server: u32,
    },
    Dead,
}

#[derive(Clone, Copy, Debug)]
enum Action {
    Call,
    Send,
    Recv,
    Reply,
    ReplyRecv,
    /// Gives up whatever the thread waits for.
    Timeout,
    Kill,
    /// A new thread reuses a dead thread's id.
    Respawn,
    /// The endpoint's last capability goes; a new endpoint replaces it.
    Close,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => Just(Action::Call),
        2 => Just(Action::Send),
        4 => Just(Action::Recv),
        3 => Just(Action::Reply),
        2 => Just(Action::ReplyRecv),
        2 => Just(Action::Timeout),
        1 => Just(Action::Kill),
        1 => Just(Action::Respawn),
        1 => Just(Action::Close),
    ]
}

const fn badge(t: u32) -> u64 {
    100 + t as u64
}

struct Kernel {
    ep: Endpoint<u32, Msg>,
    replies: Replies<u32>,
    threads: [Th; THREADS as usize],
    /// server -> (call id, its caller while still there).
    owes: BTreeMap<u32, (u64, Option<u32>)>,
    /// Calls made, and those over: replied to, failed, or given up.
    calls: BTreeSet<u64>,
    ended: BTreeSet<u64>,
    next_id: u64,
}

impl Kernel {
    fn new() -> Kernel {
        Kernel {
            ep: Endpoint::new(),
            replies: Replies::new(),
            threads: [Th::Running; THREADS as usize],
            owes: BTreeMap::new(),
            calls: BTreeSet::new(),
            ended: BTreeSet::new(),
            next_id: 0,
        }
    }

    fn th(&mut self, t: u32) -> &mut Th {
        &mut self.threads[t as usize]
    }

    fn end(&mut self, id: u64) -> Result<(), TestCaseError> {
        prop_assert!(self.ended.insert(id), "call {id} ended twice");
        Ok(())
    }

    /// Message `id` from `sender` reached `server`.
    fn deliver(&mut self, server: u32, sender: u32, id: u64, kind: SendKind) {
        *self.th(sender) = match kind {
            SendKind::Send => Th::Running,
            SendKind::Call => {
                // The receive discarded any old right first, so this holds.
                let bound = self.replies.bind(server, sender);
                assert!(bound.is_ok(), "bind failed: {bound:?}");
                self.owes.insert(server, (id, Some(sender)));
                Th::Awaiting { id, server }
            }
        };
    }

    /// `server`'s right went unanswered: its caller, if any, is woken
    /// with an error.
    fn unowed(&mut self, server: u32, woken: Option<u32>) -> Result<(), TestCaseError> {
        let owed = self.owes.remove(&server);
        prop_assert_eq!(woken, owed.and_then(|o| o.1));
        if let (Some(c), Some((id, _))) = (woken, owed) {
            prop_assert_eq!(self.threads[c as usize], Th::Awaiting { id, server });
            *self.th(c) = Th::Running;
            self.end(id)?;
        }
        Ok(())
    }

    fn send(&mut self, t: u32, kind: SendKind) -> Result<(), TestCaseError> {
        let id = self.next_id;
        self.next_id += 1;
        if kind == SendKind::Call {
            self.calls.insert(id);
        }
        match self.ep.send(t, badge(t), Msg(id), kind, true) {
            Ok(SendOutcome::Delivered {
                receiver,
                msg,
                badge: b,
                kind: k,
            }) => {
                prop_assert_eq!(self.threads[receiver as usize], Th::Receiving);
                prop_assert_eq!((msg, b, k), (Msg(id), badge(t), kind));
                *self.th(receiver) = Th::Running;
                self.deliver(receiver, t, id, kind);
            }
            Ok(SendOutcome::Blocked) => *self.th(t) = Th::Sending { id, kind },
            Err(e) => prop_assert!(false, "send failed: {e}"),
        }
        Ok(())
    }

    fn recv(&mut self, t: u32) -> Result<(), TestCaseError> {
        // seL4: receiving drops a reply right still held.
        let woken = self.replies.discard(t);
        self.unowed(t, woken)?;
        match self.ep.recv(t, true) {
            Ok(RecvOutcome::Received {
                sender,
                badge: b,
                msg,
                kind,
            }) => {
                let id = msg.0;
                prop_assert_eq!(self.threads[sender as usize], Th::Sending { id, kind });
                prop_assert_eq!(b, badge(sender));
                self.deliver(t, sender, id, kind);
            }
            Ok(RecvOutcome::Blocked) => *self.th(t) = Th::Receiving,
            Err(e) => prop_assert!(false, "recv failed: {e}"),
        }
        Ok(())
    }

    fn reply(&mut self, t: u32) -> Result<(), TestCaseError> {
        let got = self.replies.take(t);
        match (got, self.owes.remove(&t)) {
            (Ok(c), Some((id, Some(owed)))) => {
                prop_assert_eq!(c, owed);
                prop_assert_eq!(self.threads[c as usize], Th::Awaiting { id, server: t });
                *self.th(c) = Th::Running;
                self.end(id)?;
            }
            (Err(IpcError::CallerGone), Some((_, None))) => {}
            (Err(IpcError::NoReplyPending), None) => {}
            (got, owed) => prop_assert!(false, "reply gave {got:?}, owed {owed:?}"),
        }
        Ok(())
    }

    /// Takes `t` out of whatever it waits for.
    fn give_up(&mut self, t: u32) -> Result<(), TestCaseError> {
        match self.threads[t as usize] {
            Th::Sending { id, kind } => {
                let msg = Msg(id);
                let badge = badge(t);
                let want = Cancelled::Sender { badge, msg, kind };
                prop_assert_eq!(self.ep.cancel(t), Some(want));
                if kind == SendKind::Call {
                    self.end(id)?;
                }
            }
            Th::Receiving => prop_assert_eq!(self.ep.cancel(t), Some(Cancelled::Receiver)),
            Th::Awaiting { id, server } => {
                prop_assert!(self.replies.caller_gone(t));
                let owed = self.owes.get_mut(&server);
                let owed = owed.ok_or_else(|| TestCaseError::fail("no one owes the call"))?;
                owed.1 = None;
                self.end(id)?;
            }
            Th::Running | Th::Dead => {
                prop_assert_eq!(self.ep.cancel(t), None);
                prop_assert!(!self.replies.caller_gone(t));
            }
        }
        *self.th(t) = Th::Running;
        Ok(())
    }

    fn step(&mut self, t: u32, action: Action) -> Result<(), TestCaseError> {
        let running = self.threads[t as usize] == Th::Running;
        match action {
            Action::Call if running => self.send(t, SendKind::Call)?,
            Action::Send if running => self.send(t, SendKind::Send)?,
            Action::Recv if running => self.recv(t)?,
            Action::Reply if running => self.reply(t)?,
            Action::ReplyRecv if running => {
                self.reply(t)?;
                self.recv(t)?;
            }
            Action::Timeout if self.threads[t as usize] != Th::Dead => self.give_up(t)?,
            Action::Kill if self.threads[t as usize] != Th::Dead => {
                self.give_up(t)?;
                let woken = self.replies.server_gone(t);
                self.unowed(t, woken)?;
                *self.th(t) = Th::Dead;
            }
            Action::Respawn if self.threads[t as usize] == Th::Dead => *self.th(t) = Th::Running,
            Action::Close => {
                let closed = self.ep.close();
                for &w in closed.senders.iter().chain(&closed.receivers) {
                    if let Th::Sending {
                        id,
                        kind: SendKind::Call,
                    } = self.threads[w as usize]
                    {
                        self.end(id)?;
                    }
                    *self.th(w) = Th::Running;
                }
                self.ep = Endpoint::new();
            }
            _ => {}
        }
        self.check()
    }

    /// Every blocked thread is queued or owed a reply, and nobody else is.
    fn check(&self) -> Result<(), TestCaseError> {
        self.ep.check_invariants().map_err(TestCaseError::fail)?;
        self.replies
            .check_invariants()
            .map_err(TestCaseError::fail)?;
        for t in 0..THREADS {
            let sending = self.ep.senders().any(|s| s == t);
            let receiving = self.ep.receivers().any(|r| r == t);
            let (want_send, want_recv, want_server) = match self.threads[t as usize] {
                Th::Sending { .. } => (true, false, None),
                Th::Receiving => (false, true, None),
                Th::Awaiting { server, .. } => (false, false, Some(server)),
                Th::Running | Th::Dead => (false, false, None),
            };
            prop_assert_eq!((sending, receiving), (want_send, want_recv), "thread {}", t);
            prop_assert_eq!(self.replies.awaiting(t), want_server, "thread {}", t);
            let owed = self.owes.get(&t).map(|o| o.1);
            prop_assert_eq!(self.replies.pending(t).map(|p| p.caller), owed);
        }
        Ok(())
    }
}

proptest! {
    #[test]
    fn endpoint_matches_the_model(ops in proptest::collection::vec(ep_op(), 1..100)) {
        let mut h = EpHarness::default();
        for op in &ops {
            h.step(op)?;
        }
        // Close at the end turns out exactly who was left waiting.
        h.step(&EpOp::Close)?;
    }

    #[test]
    fn replies_match_the_model(ops in proptest::collection::vec(reply_op(), 1..100)) {
        let mut h = ReplyHarness::default();
        for op in &ops {
            h.step(op)?;
        }
    }

    #[test]
    fn notification_matches_the_model(ops in proptest::collection::vec(note_op(), 1..100)) {
        let mut h = NoteHarness::default();
        for op in &ops {
            h.step(op)?;
        }
    }

    #[test]
    fn a_kernel_loses_no_thread_and_answers_each_call_once(
        steps in proptest::collection::vec((thread(), action()), 1..150),
    ) {
        let mut k = Kernel::new();
        for &(t, action) in &steps {
            k.step(t, action)?;
        }
        // Killing everyone wakes every thread still waiting and ends
        // every call still open.
        for t in 0..THREADS {
            k.step(t, Action::Kill)?;
        }
        prop_assert!(k.replies.is_empty());
        prop_assert!(k.owes.is_empty());
        prop_assert_eq!(k.ended, k.calls);
    }
}
