//! IPC in the kernel: endpoints, one-shot replies and notifications, with
//! the policy in `ferrous-ipc` and the threads here.
//!
//! One lock (`IPC`) covers every endpoint, notification, reply right and
//! per-thread mailbox. Lock order: IPC → CAPS (a transferred capability is
//! granted under IPC) → THREADS (`unpark`); CAPS never takes IPC: objects
//! whose capabilities go are closed or woken after CAPS is released.
//!
//! A blocked thread is parked (`thread::park`) with a record of where it
//! waits. Whoever completes its operation writes the result into its
//! mailbox under IPC, then unparks it. A parked thread that wakes looks at
//! its mailbox first; if nothing is there it checks, in order, its
//! process's end, its capability (a revoked one fails with `ObjectGone`)
//! and its deadline, and if one of them ends the wait it takes itself out
//! of the queue it was in, all under IPC, so a result is never lost and
//! never delivered twice.
//!
//! Causality: every message carries a causal ID. A thread that sends while
//! handling a message it received passes that message's ID on; otherwise
//! the message gets a fresh one. Trace lines `ipc.send`, `ipc.recv`,
//! `ipc.reply` carry it.

use crate::cap;
use crate::memory::Memory;
use crate::sync::IrqMutex;
use crate::thread::{self, ThreadId};
use crate::trace;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use ferrous_abi::{Handle, MSG_WORDS, MsgInfo, RecvInfo, Rights, SysError, Sysno};
use ferrous_caps::{CSpaceId, ObjectId};
use ferrous_ipc::{
    CausalId, CausalState, Endpoint, IpcError, Notification, RecvOutcome, Replies, SendKind,
    SendOutcome, WaitOutcome,
};
use ferrous_trace::EventType;

/// A message in flight: registers, badge, causal ID, and the capability
/// the sender offers (its space and slot), transferred at the rendezvous.
#[derive(Clone, Copy, Debug)]
pub struct Msg {
    words: [u64; MSG_WORDS],
    len: u8,
    badge: u64,
    causal: CausalId,
    cap: Option<(CSpaceId, u32)>,
}

/// What a woken thread finds.
#[derive(Clone, Copy, Debug)]
pub enum Delivery {
    Message {
        badge: u64,
        words: [u64; MSG_WORDS],
        info: RecvInfo,
    },
    Bits(u64),
    Failed(SysError),
}

/// Where a parked thread waits, so it can take itself out.
#[derive(Clone, Copy, Debug)]
enum Waiting {
    Send {
        endpoint: u64,
    },
    Recv {
        endpoint: u64,
        space: CSpaceId,
        slot: u8,
    },
    Reply,
    Notification {
        id: u64,
    },
}

struct EndpointState {
    queue: Endpoint<ThreadId, Msg>,
    /// Its server: the first process to receive on it (until then, the
    /// one that made it). The endpoint closes when that process ends, so
    /// clients never wait on a server that is gone.
    owner: u64,
    bound: bool,
}

/// Per-thread state: a few entries at a time, found by a linear scan, in a
/// vector that keeps its capacity, so the hot path never allocates (a
/// `BTreeMap` allocates a node whenever it goes from empty to one entry).
struct ThreadMap<V> {
    entries: alloc::vec::Vec<(ThreadId, V)>,
}

impl<V> ThreadMap<V> {
    const fn new() -> ThreadMap<V> {
        ThreadMap {
            entries: alloc::vec::Vec::new(),
        }
    }

    fn get(&self, t: &ThreadId) -> Option<&V> {
        self.entries.iter().find(|(k, _)| k == t).map(|(_, v)| v)
    }

    fn get_mut(&mut self, t: &ThreadId) -> Option<&mut V> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k == t)
            .map(|(_, v)| v)
    }

    fn insert(&mut self, t: ThreadId, v: V) {
        match self.get_mut(&t) {
            Some(old) => *old = v,
            None => self.entries.push((t, v)),
        }
    }

    fn remove(&mut self, t: &ThreadId) -> Option<V> {
        let i = self.entries.iter().position(|(k, _)| k == t)?;
        Some(self.entries.swap_remove(i).1)
    }
}

impl<V: Default> ThreadMap<V> {
    fn entry_or_default(&mut self, t: ThreadId) -> &mut V {
        let i = match self.entries.iter().position(|(k, _)| *k == t) {
            Some(i) => i,
            None => {
                self.entries.push((t, V::default()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }
}

struct Ipc {
    endpoints: BTreeMap<u64, EndpointState>,
    notifications: BTreeMap<u64, Notification<ThreadId>>,
    replies: Replies<ThreadId>,
    mailbox: ThreadMap<Delivery>,
    waiting: ThreadMap<Waiting>,
    causal: ThreadMap<CausalState>,
}

static IPC: IrqMutex<Ipc> = IrqMutex::new(Ipc {
    endpoints: BTreeMap::new(),
    notifications: BTreeMap::new(),
    replies: Replies::new(),
    mailbox: ThreadMap::new(),
    waiting: ThreadMap::new(),
    causal: ThreadMap::new(),
});

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static NEXT_CAUSAL: AtomicU64 = AtomicU64::new(1);

fn fresh_causal() -> CausalId {
    CausalId(NEXT_CAUSAL.fetch_add(1, Ordering::Relaxed))
}

/// Charged to the memory an endpoint or notification is made from.
pub const OBJECT_COST: u64 = 256;

/// The kernel object behind an endpoint capability. Its state lives under
/// `IPC`, by id; the charge goes back when the object does.
pub struct EndpointObj {
    id: u64,
    memory: Arc<Memory>,
}

/// The kernel object behind a notification capability.
pub struct NotificationObj {
    id: u64,
    memory: Arc<Memory>,
}

impl Drop for EndpointObj {
    fn drop(&mut self) {
        self.memory.refund(OBJECT_COST);
    }
}

impl Drop for NotificationObj {
    fn drop(&mut self) {
        self.memory.refund(OBJECT_COST);
    }
}

fn oom(_: IpcError) -> SysError {
    SysError::OutOfMemory
}

/// A new endpoint owned by process `owner`, charged to `memory`.
pub fn create_endpoint(owner: u64, memory: Arc<Memory>) -> Result<Arc<EndpointObj>, SysError> {
    memory.charge(OBJECT_COST)?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let obj = Arc::new(EndpointObj { id, memory });
    let state = EndpointState {
        queue: Endpoint::new(),
        owner,
        bound: false,
    };
    IPC.lock().endpoints.insert(id, state);
    Ok(obj)
}

pub fn create_notification(memory: Arc<Memory>) -> Result<Arc<NotificationObj>, SysError> {
    memory.charge(OBJECT_COST)?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let obj = Arc::new(NotificationObj { id, memory });
    IPC.lock().notifications.insert(id, Notification::new());
    Ok(obj)
}

fn deliver(ipc: &mut Ipc, to: ThreadId, d: Delivery) -> ThreadId {
    ipc.mailbox.insert(to, d);
    ipc.waiting.remove(&to);
    to
}

/// Closes an endpoint: every thread queued on it wakes with `ObjectGone`.
pub fn close_endpoint(id: u64) {
    let woken = {
        let mut ipc = IPC.lock();
        let Some(mut e) = ipc.endpoints.remove(&id) else {
            return;
        };
        let closed = e.queue.close();
        let mut woken = alloc::vec::Vec::new();
        for t in closed.senders.into_iter().chain(closed.receivers) {
            woken.push(deliver(&mut ipc, t, Delivery::Failed(SysError::ObjectGone)));
        }
        woken
    };
    log::debug!("ipc.close endpoint={id} woken={}", woken.len());
    for t in woken {
        thread::unpark(t);
    }
}

pub fn close_notification(id: u64) {
    let woken = {
        let mut ipc = IPC.lock();
        let Some(mut n) = ipc.notifications.remove(&id) else {
            return;
        };
        let waiters = n.close();
        waiters
            .into_iter()
            .map(|t| deliver(&mut ipc, t, Delivery::Failed(SysError::ObjectGone)))
            .collect::<alloc::vec::Vec<_>>()
    };
    for t in woken {
        thread::unpark(t);
    }
}

/// A capability to endpoint or notification `id` was deleted: its
/// waiters look at theirs again.
pub fn wake_waiters(id: u64) {
    let ts: alloc::vec::Vec<ThreadId> = {
        let ipc = IPC.lock();
        match (ipc.endpoints.get(&id), ipc.notifications.get(&id)) {
            (Some(e), _) => e.queue.senders().chain(e.queue.receivers()).collect(),
            (None, Some(n)) => n.waiters().collect(),
            _ => alloc::vec::Vec::new(),
        }
    };
    for t in ts {
        thread::unpark(t);
    }
}

/// Every endpoint the process made closes with it.
pub fn process_ended(owner: u64) {
    let ids: alloc::vec::Vec<u64> = IPC
        .lock()
        .endpoints
        .iter()
        .filter(|(_, e)| e.owner == owner)
        .map(|(&id, _)| id)
        .collect();
    for id in ids {
        close_endpoint(id);
    }
}

/// Thread `me` is gone for IPC (it leaves, or its process ended): out of
/// every queue; the reply it owed fails its caller with `ObjectGone`; a
/// reply owed to it is dead. Idempotent.
pub fn thread_gone(me: ThreadId) {
    let caller = {
        let mut ipc = IPC.lock();
        cancel(&mut ipc, me);
        ipc.mailbox.remove(&me);
        ipc.causal.remove(&me);
        ipc.replies.caller_gone(me);
        let caller = ipc.replies.server_gone(me);
        caller.map(|c| deliver(&mut ipc, c, Delivery::Failed(SysError::ObjectGone)))
    };
    if let Some(c) = caller {
        thread::unpark(c);
    }
}

/// Takes `me` out of wherever it waits. Returns whether it was waiting.
fn cancel(ipc: &mut Ipc, me: ThreadId) -> bool {
    match ipc.waiting.remove(&me) {
        Some(Waiting::Send { endpoint } | Waiting::Recv { endpoint, .. }) => {
            if let Some(e) = ipc.endpoints.get_mut(&endpoint) {
                e.queue.cancel(me);
            }
            true
        }
        Some(Waiting::Reply) => {
            ipc.replies.caller_gone(me);
            true
        }
        Some(Waiting::Notification { id }) => {
            if let Some(n) = ipc.notifications.get_mut(&id) {
                n.cancel(me);
            }
            true
        }
        None => false,
    }
}

/// The capability a blocked call was made with, to check after wake-ups.
pub struct Held {
    space: CSpaceId,
    handle: Handle,
    object: ObjectId,
}

/// Waits until a delivery, the deadline, the process's end or the loss of
/// the capability `held`. Looks before it parks: after a handoff, or an
/// `unpark` that came first, the delivery is already there.
fn wait(me: ThreadId, deadline: u64, held: Option<&Held>) -> Result<Delivery, SysError> {
    let process = thread::current_process();
    let mut epoch = cap::epoch();
    loop {
        {
            let mut ipc = IPC.lock();
            if let Some(d) = ipc.mailbox.remove(&me) {
                return match d {
                    Delivery::Failed(e) => Err(e),
                    d => Ok(d),
                };
            }
            // The capability matters while queued on its object; a call
            // that was delivered waits for its reply whatever becomes of it.
            let queued = !matches!(ipc.waiting.get(&me), Some(Waiting::Reply) | None);
            let gone = process.as_ref().is_some_and(|p| !p.is_running())
                || (queued
                    && cap::epoch() != epoch
                    && held.is_some_and(|h| !cap::still_names(h.space, h.handle, h.object)));
            if gone {
                cancel(&mut ipc, me);
                return Err(SysError::ObjectGone);
            }
            if crate::arch::time::now_ns() >= deadline {
                cancel(&mut ipc, me);
                return Err(SysError::TimedOut);
            }
            note_block(ipc.waiting.get(&me).copied());
        }
        epoch = cap::epoch();
        thread::park(deadline);
    }
}

/// Tells the trace what the coming `sched.block` of this thread is about
/// (where it waits, read under the IPC lock by the caller).
fn note_block(waiting: Option<Waiting>) {
    use ferrous_trace::BlockReason as B;
    if !trace::enabled(EventType::SchedBlock) {
        return;
    }
    let what = match waiting.as_ref() {
        Some(Waiting::Send { endpoint }) => (B::EndpointSend, *endpoint),
        Some(Waiting::Recv { endpoint, .. }) => (B::EndpointRecv, *endpoint),
        Some(Waiting::Notification { id }) => (B::Notification, *id),
        Some(Waiting::Reply) | None => (B::Reply, 0),
    };
    trace::block_detail(what.0, what.1);
}

/// A message reached this thread: `ipc.recv` in its own context.
fn note_recv(endpoint: u64, r: &Received) {
    crate::metrics::count(crate::metrics::Counter::IpcMessages);
    if !trace::enabled(EventType::IpcRecv) {
        return;
    }
    // Run by a handoff that recorded this message already (its causal ID
    // is on the `sched.handoff` record): one record, not two.
    if trace::take_handed_to(trace::thread_word(thread::current_id())) {
        return;
    }
    let args = [endpoint, r.0, u64::from(r.1.words), r.2[0]];
    trace::emit(EventType::IpcRecv, args, u64::from(r.1.causal));
}

/// Wakes `to` and waits: by direct handoff when `fast` and the scheduler
/// allows it (the IPC fast path), else by unpark and park.
/// `causal`: the message `to` gets (its ID goes on the `sched.handoff`
/// record). Returns the delivery and whether the handoff happened.
fn switch_and_wait(
    waiting: Waiting,
    me: ThreadId,
    to: ThreadId,
    fast: bool,
    deadline: u64,
    held: &Held,
    causal: u64,
) -> (Result<Delivery, SysError>, bool) {
    note_block(Some(waiting));
    // A handoff blocks without a deadline: with a timeout, take the
    // general path, which arms it.
    let fast = fast && deadline == u64::MAX && FAST_PATH_ON.load(Ordering::Relaxed);
    if fast {
        trace::handoff_causal(causal);
    }
    let handed = fast && thread::handoff(to);
    if handed {
        FAST_PATH.fetch_add(1, Ordering::Relaxed);
    } else {
        if fast {
            trace::handoff_causal(0);
        }
        thread::unpark(to);
    }
    (wait(me, deadline, Some(held)), handed)
}

/// Whether the fast path may be used (benchmarks turn it off to measure
/// the general path).
pub static FAST_PATH_ON: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(true);

/// How many wake-ups went by direct handoff (reported by benchmarks).
pub static FAST_PATH: AtomicU64 = AtomicU64::new(0);

fn deadline(timeout_ns: u64) -> u64 {
    if timeout_ns == u64::MAX {
        u64::MAX
    } else {
        crate::arch::time::now_ns().saturating_add(timeout_ns)
    }
}

/// The result registers of a receive: `(badge, info, words)`.
pub type Received = (u64, RecvInfo, [u64; MSG_WORDS]);

fn unpack(d: Delivery) -> Received {
    match d {
        Delivery::Message { badge, words, info } => (badge, info, words),
        Delivery::Bits(b) => (0, RecvInfo::default(), [b, 0, 0, 0]),
        Delivery::Failed(_) => (0, RecvInfo::default(), [0; MSG_WORDS]),
    }
}

/// Moves the message's capability (if any) into the receiver's slot
/// (0: it refuses capabilities). Best effort: a failed transfer leaves
/// `cap_received` clear.
fn transfer(msg: &Msg, to: Option<(CSpaceId, u8)>, op: Sysno) -> bool {
    match (msg.cap, to) {
        (Some((from_space, from)), Some((space, slot))) if slot != 0 => cap::grant(
            from_space,
            Handle(from),
            space,
            u32::from(slot),
            Rights::ALL,
            op,
            1,
        )
        .is_ok(),
        _ => false,
    }
}

fn message(msg: &Msg, cap_received: bool, is_call: bool) -> Delivery {
    Delivery::Message {
        badge: msg.badge,
        words: msg.words,
        info: RecvInfo {
            words: msg.len,
            cap_received,
            is_call,
            causal: msg.causal.0 as u32,
        },
    }
}

/// The caller's capability to an endpoint, with the rights `needed`.
pub struct Target {
    /// The calling process (kernel-internal id).
    pub process: u64,
    pub space: CSpaceId,
    pub handle: Handle,
    pub object: ObjectId,
    pub endpoint: u64,
    pub badge: u64,
}

pub fn endpoint_target(
    process: u64,
    space: CSpaceId,
    op: Sysno,
    handle: Handle,
    needed: Rights,
) -> Result<Target, SysError> {
    let (e, c) = cap::lookup_as::<cap::kind::Endpoint>(space, op, handle, 0, needed)?;
    Ok(Target {
        process,
        space,
        handle,
        object: c.object,
        endpoint: e.id,
        badge: c.badge,
    })
}

/// The message the caller sends: its words, its causal ID, and the
/// capability it offers (checked now for grant and derive).
fn outgoing(
    ipc: &mut Ipc,
    me: ThreadId,
    space: CSpaceId,
    info: MsgInfo,
    words: [u64; MSG_WORDS],
    badge: u64,
    op: Sysno,
) -> Result<Msg, SysError> {
    let cap = match info.cap_slot {
        0 => None,
        slot => {
            let needed = Rights::GRANT | Rights::DERIVE;
            cap::lookup(space, op, Handle(u32::from(slot)), 1, None, needed)?;
            Some((space, u32::from(slot)))
        }
    };
    let causal = ipc
        .causal
        .get(&me)
        .copied()
        .unwrap_or_default()
        .outgoing(fresh_causal);
    Ok(Msg {
        words,
        len: info.words,
        badge,
        causal,
        cap,
    })
}

/// `ipc_send` and `ipc_call`.
pub fn send(
    t: &Target,
    info: MsgInfo,
    words: [u64; MSG_WORDS],
    call: bool,
) -> Result<Received, SysError> {
    let me = thread::current_id().ok_or(SysError::ObjectGone)?;
    let op = if call { Sysno::IpcCall } else { Sysno::IpcSend };
    let kind = if call { SendKind::Call } else { SendKind::Send };
    let timeout = info.timeout_ns();
    // A call waits for its reply for the timeout, or for ever: the
    // non-blocking flag only means "fail if no receiver is waiting".
    let deadline = if call && info.nonblocking {
        if info.timeout_us == 0 {
            u64::MAX
        } else {
            self::deadline(u64::from(info.timeout_us) * 1000)
        }
    } else {
        deadline(timeout)
    };
    let mut abandoned = None;
    let sent_causal: u64;
    let woken = {
        let mut ipc = IPC.lock();
        let msg = outgoing(&mut ipc, me, t.space, info, words, t.badge, op)?;
        sent_causal = msg.causal.0;
        let event = if call {
            EventType::IpcCall
        } else {
            EventType::IpcSend
        };
        let args = [t.endpoint, t.badge, u64::from(info.words), words[0]];
        trace::emit(event, args, msg.causal.0);
        log::trace!(
            "ipc.{} endpoint={} badge={:#x} causal={}",
            if call { "call" } else { "send" },
            t.endpoint,
            t.badge,
            msg.causal.0
        );
        let ipc = &mut *ipc;
        // Room for the reply right first: once a receiver is taken off the
        // queue, binding must not fail.
        ipc.replies.reserve(1).map_err(oom)?;
        let e = ipc
            .endpoints
            .get_mut(&t.endpoint)
            .ok_or(SysError::ObjectGone)?;
        match e.queue.send(me, t.badge, msg, kind, timeout != 0) {
            Err(IpcError::WouldBlock) => return Err(SysError::WouldBlock),
            Err(IpcError::Closed) => return Err(SysError::ObjectGone),
            Err(e) => return Err(oom(e)),
            Ok(SendOutcome::Blocked) => {
                ipc.waiting.insert(
                    me,
                    Waiting::Send {
                        endpoint: t.endpoint,
                    },
                );
                None
            }
            Ok(SendOutcome::Delivered { receiver, msg, .. }) => {
                let to = match ipc.waiting.get(&receiver) {
                    Some(Waiting::Recv { space, slot, .. }) => Some((*space, *slot)),
                    _ => None,
                };
                let got_cap = transfer(&msg, to, op);
                if call {
                    // The receiver owes us a reply; we wait for it. A
                    // reply it still owed someone else is abandoned: that
                    // caller fails now rather than waiting for ever.
                    if let Some(old) = ipc.replies.discard(receiver) {
                        abandoned = Some(deliver(ipc, old, Delivery::Failed(SysError::ObjectGone)));
                    }
                    ipc.replies.bind(receiver, me).map_err(oom)?;
                    ipc.waiting.insert(me, Waiting::Reply);
                }
                let state = ipc.causal.entry_or_default(receiver);
                state.received(msg.causal);
                let plain = msg.cap.is_none();
                Some((deliver(ipc, receiver, message(&msg, got_cap, call)), plain))
            }
        }
    };
    if let Some(old) = abandoned {
        thread::unpark(old);
    }
    let held = Held {
        space: t.space,
        handle: t.handle,
        object: t.object,
    };
    let d = match woken {
        Some((r, _)) if !call => {
            thread::unpark(r);
            return Ok((0, RecvInfo::default(), [0; MSG_WORDS]));
        }
        // A call to a waiting server: run it now (register-only messages).
        Some((r, plain)) => {
            switch_and_wait(Waiting::Reply, me, r, plain, deadline, &held, sent_causal).0?
        }
        None => wait(me, deadline, Some(&held))?,
    };
    Ok(unpack(d))
}

/// `ipc_recv`: a transferred capability may land in `info.cap_slot`.
pub fn recv(t: &Target, info: MsgInfo) -> Result<Received, SysError> {
    recv_then(t, info, None)
}

/// Receives; if it must wait and `replied` names the caller just answered,
/// runs that caller at once (the fast path of `ipc_reply_recv`).
fn recv_then(
    t: &Target,
    info: MsgInfo,
    replied: Option<(ThreadId, ReplyNote)>,
) -> Result<Received, SysError> {
    let me = thread::current_id().ok_or(SysError::ObjectGone)?;
    let timeout = info.timeout_ns();
    let deadline = deadline(timeout);
    // A closure, so that every refusal below reaches the unpark of the
    // caller just answered.
    let woken = (|| {
        let mut ipc = IPC.lock();
        let ipc = &mut *ipc;
        let e = ipc
            .endpoints
            .get_mut(&t.endpoint)
            .ok_or(SysError::ObjectGone)?;
        if !e.bound {
            e.owner = t.process;
            e.bound = true;
        }
        // Room for the reply right first: once a call is taken off the
        // queue, binding it must not fail.
        ipc.replies.reserve(1).map_err(oom)?;
        let Some(e) = ipc.endpoints.get_mut(&t.endpoint) else {
            return Err(SysError::ObjectGone);
        };
        match e.queue.recv(me, timeout != 0) {
            Err(IpcError::WouldBlock) => Err(SysError::WouldBlock),
            Err(IpcError::Closed) => Err(SysError::ObjectGone),
            Err(e) => Err(oom(e)),
            Ok(RecvOutcome::Blocked) => {
                let w = Waiting::Recv {
                    endpoint: t.endpoint,
                    space: t.space,
                    slot: info.cap_slot,
                };
                ipc.waiting.insert(me, w);
                Ok(None)
            }
            Ok(RecvOutcome::Received {
                sender, msg, kind, ..
            }) => {
                let got_cap = transfer(&msg, Some((t.space, info.cap_slot)), Sysno::IpcRecv);
                let call = kind == SendKind::Call;
                ipc.causal.entry_or_default(me).received(msg.causal);
                let d = message(&msg, got_cap, call);
                log::trace!("ipc.recv endpoint={} causal={}", t.endpoint, msg.causal.0);
                if call {
                    let old = ipc.replies.discard(me);
                    let old = old.map(|o| deliver(ipc, o, Delivery::Failed(SysError::ObjectGone)));
                    ipc.replies.bind(me, sender).map_err(oom)?;
                    ipc.waiting.insert(sender, Waiting::Reply);
                    Ok(Some((old, d)))
                } else {
                    ipc.waiting.remove(&sender);
                    let sent = Delivery::Message {
                        badge: 0,
                        words: [0; MSG_WORDS],
                        info: RecvInfo::default(),
                    };
                    ipc.mailbox.insert(sender, sent);
                    Ok(Some((Some(sender), d)))
                }
            }
        }
    })();
    let woken = match woken {
        Ok(w) => w,
        Err(e) => {
            if let Some((c, note)) = replied {
                note.emit();
                thread::unpark(c);
            }
            return Err(e);
        }
    };
    if let Some((sender, d)) = woken {
        if let Some((_, note)) = &replied {
            note.emit();
        }
        for t in sender.into_iter().chain(replied.map(|r| r.0)) {
            thread::unpark(t);
        }
        let r = unpack(d);
        note_recv(t.endpoint, &r);
        return Ok(r);
    }
    let held = Held {
        space: t.space,
        handle: t.handle,
        object: t.object,
    };
    let d = match replied {
        Some((c, note)) => {
            let waiting = Waiting::Recv {
                endpoint: t.endpoint,
                space: t.space,
                slot: info.cap_slot,
            };
            let (d, handed) = switch_and_wait(waiting, me, c, true, deadline, &held, note.causal);
            // A handoff's record carries the reply; otherwise record it.
            if !handed {
                note.emit();
            }
            d?
        }
        None => wait(me, deadline, Some(&held))?,
    };
    let r = unpack(d);
    note_recv(t.endpoint, &r);
    Ok(r)
}

/// `ipc_reply_recv`: the reply, then a receive; when the receive must wait,
/// the caller runs at once.
pub fn reply_recv(
    t: &Target,
    info: MsgInfo,
    words: [u64; MSG_WORDS],
) -> Result<Received, SysError> {
    let reply_info = MsgInfo {
        cap_slot: 0,
        ..info
    };
    let replied = reply_to(t.space, reply_info, words)?;
    recv_then(t, MsgInfo { words: 0, ..info }, Some(replied))
}

/// `ipc_reply`: the caller this thread owes a reply gets the message.
pub fn reply(space: CSpaceId, info: MsgInfo, words: [u64; MSG_WORDS]) -> Result<(), SysError> {
    let (caller, note) = reply_to(space, info, words)?;
    note.emit();
    thread::unpark(caller);
    Ok(())
}

/// The `ipc.reply` record of a reply, emitted unless a handoff to the
/// caller carries it.
#[derive(Clone, Copy)]
struct ReplyNote {
    args: [u64; 4],
    causal: u64,
}

impl ReplyNote {
    fn emit(&self) {
        trace::emit(EventType::IpcReply, self.args, self.causal);
    }
}

/// Delivers the reply; returns the caller, still to be woken, and its
/// trace record.
fn reply_to(
    space: CSpaceId,
    info: MsgInfo,
    words: [u64; MSG_WORDS],
) -> Result<(ThreadId, ReplyNote), SysError> {
    let me = thread::current_id().ok_or(SysError::ObjectGone)?;
    if info.cap_slot != 0 {
        // Replies carry words only; capabilities travel in requests.
        return Err(SysError::ReservedBitsSet { arg: 1 });
    }
    let mut ipc = IPC.lock();
    let msg = outgoing(&mut ipc, me, space, info, words, 0, Sysno::IpcReply)?;
    let caller = match ipc.replies.take(me) {
        Ok(c) => c,
        Err(IpcError::CallerGone) => return Err(SysError::CallerGone),
        Err(_) => return Err(SysError::NoPendingReply),
    };
    if let Some(state) = ipc.causal.get_mut(&me) {
        state.replied();
    }
    log::trace!("ipc.reply causal={}", msg.causal.0);
    crate::metrics::count(crate::metrics::Counter::IpcMessages);
    let args = [
        trace::thread_word(Some(caller)),
        u64::from(info.words),
        words[0],
        0,
    ];
    let note = ReplyNote {
        args,
        causal: msg.causal.0,
    };
    Ok((deliver(&mut ipc, caller, message(&msg, false, false)), note))
}

/// The caller's notification capability with the rights `needed`.
pub fn notification_target(
    space: CSpaceId,
    op: Sysno,
    handle: Handle,
    needed: Rights,
) -> Result<(u64, Held), SysError> {
    let (n, c) = cap::lookup_as::<cap::kind::Notification>(space, op, handle, 0, needed)?;
    let held = Held {
        space,
        handle,
        object: c.object,
    };
    Ok((n.id, held))
}

pub fn signal(id: u64, bits: u64) -> Result<(), SysError> {
    let woken = {
        let mut ipc = IPC.lock();
        let n = ipc.notifications.get_mut(&id).ok_or(SysError::ObjectGone)?;
        match n.signal(bits) {
            Err(_) => return Err(SysError::ObjectGone),
            Ok(None) => None,
            Ok(Some((t, word))) => Some(deliver(&mut ipc, t, Delivery::Bits(word))),
        }
    };
    log::trace!("ipc.signal notification={id} bits={bits:#x}");
    trace::emit(EventType::IpcSignal, [id, bits, 0, 0], 0);
    if let Some(t) = woken {
        thread::unpark(t);
    }
    Ok(())
}

pub fn wait_bits(id: u64, held: &Held, timeout_ns: u64) -> Result<u64, SysError> {
    let me = thread::current_id().ok_or(SysError::ObjectGone)?;
    let deadline = deadline(timeout_ns);
    {
        let mut ipc = IPC.lock();
        let n = ipc.notifications.get_mut(&id).ok_or(SysError::ObjectGone)?;
        match n.wait(me, timeout_ns != 0) {
            Err(IpcError::WouldBlock) => return Err(SysError::WouldBlock),
            Err(IpcError::Closed) => return Err(SysError::ObjectGone),
            Err(e) => return Err(oom(e)),
            Ok(WaitOutcome::Ready(bits)) => {
                trace::emit(EventType::IpcWait, [id, bits, 0, 0], 0);
                return Ok(bits);
            }
            Ok(WaitOutcome::Blocked) => {
                ipc.waiting.insert(me, Waiting::Notification { id });
            }
        }
    }
    match wait(me, deadline, Some(held))? {
        Delivery::Bits(b) => {
            trace::emit(EventType::IpcWait, [id, b, 0, 0], 0);
            Ok(b)
        }
        _ => Err(SysError::ObjectGone),
    }
}

pub fn poll(id: u64) -> Result<u64, SysError> {
    let mut ipc = IPC.lock();
    let n = ipc.notifications.get_mut(&id).ok_or(SysError::ObjectGone)?;
    n.poll().map_err(|_| SysError::ObjectGone)
}

impl EndpointObj {
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl NotificationObj {
    pub fn id(&self) -> u64 {
        self.id
    }
}
