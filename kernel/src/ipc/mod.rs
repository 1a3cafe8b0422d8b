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
//! Revocation is immediate: deleting or revoking a capability to an
//! endpoint or notification runs [`revalidate`] before the call returns,
//! which takes every queued thread whose capability is gone out of the
//! queue (its message dropped, nothing delivered to it) and fails it with
//! `ObjectGone`. A call checks its capability again under IPC if any
//! capability was deleted since it looked it up ([`Held::check`]), so a
//! revoke between the look-up and the queue cannot be missed either.
//!
//! Allocation (issue 14): endpoints and notifications live in [`Slab`]s
//! reserved before they change; every operation that may queue a thread
//! or deliver to one first makes room under the lock ([`Ipc::room`]), so
//! the per-thread maps never allocate after that; and a close wakes the
//! threads it fails without building a list. Running out of heap is
//! `OutOfMemory` with a `mem.oom` trace event, before anything changed.
//!
//! Causality: every message carries a causal ID. A thread that sends while
//! handling a message it received passes that message's ID on; otherwise
//! the message gets a fresh one. Trace lines `ipc.send`, `ipc.recv`,
//! `ipc.reply` carry it.

mod endpoint;
mod notification;
mod thread_map;

pub use endpoint::{Target, endpoint_target, recv, reply, reply_recv, send};
pub use notification::{notification_target, poll, signal, signal_from_kernel, wait_bits};

use crate::cap;
use crate::memory::Memory;
use crate::slab::Slab;
use crate::sync::IrqMutex;
use crate::thread::{self, ThreadId};
use crate::trace;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use ferrous_abi::{Handle, MSG_WORDS, MsgInfo, RecvInfo, Rights, SysError, Sysno};
use ferrous_caps::{CSpaceId, ObjectId};
use ferrous_ipc::{
    CausalId, CausalState, Endpoint, IpcError, Notification, RecvOutcome, Replies, SendKind,
    SendOutcome, WaitOutcome,
};
use ferrous_trace::EventType;
use thread_map::ThreadMap;

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

/// Where a parked thread waits, so it can take itself out, and the
/// capability it waits through (checked again when one is revoked).
#[derive(Clone, Copy, Debug)]
enum Waiting {
    Send {
        endpoint: u64,
        held: Held,
    },
    Recv {
        endpoint: u64,
        /// Where a transferred capability lands.
        slot: u8,
        held: Held,
    },
    Reply,
    Notification {
        id: u64,
        held: Held,
    },
}

impl Waiting {
    /// The object it is queued on and the capability it waits through
    /// (`None` for a reply, which no capability governs).
    fn queued_on(&self) -> Option<(u64, &Held)> {
        match self {
            Waiting::Send { endpoint, held } | Waiting::Recv { endpoint, held, .. } => {
                Some((*endpoint, held))
            }
            Waiting::Notification { id, held } => Some((*id, held)),
            Waiting::Reply => None,
        }
    }
}

struct EndpointState {
    queue: Endpoint<ThreadId, Msg>,
    /// Its server: the first process to receive on it (until then, the
    /// one that made it). The endpoint closes when that process ends, so
    /// clients never wait on a server that is gone.
    owner: u64,
    bound: bool,
}

struct Ipc {
    /// By endpoint id (the slab's key).
    endpoints: Slab<EndpointState>,
    /// By notification id (keys with bit 63 set: never an endpoint's).
    notifications: Slab<Notification<ThreadId>>,
    replies: Replies<ThreadId>,
    mailbox: ThreadMap<Delivery>,
    waiting: ThreadMap<Waiting>,
    causal: ThreadMap<CausalState>,
}

static IPC: IrqMutex<Ipc> = IrqMutex::new(Ipc {
    endpoints: Slab::new(0),
    notifications: Slab::new(1 << 63),
    replies: Replies::new(),
    mailbox: ThreadMap::new(),
    waiting: ThreadMap::new(),
    causal: ThreadMap::new(),
});

/// Entries an operation may add to a per-thread map: its own and its
/// partner's (and a mailbox entry for a caller whose reply it abandons).
const ROOM: usize = 3;

impl Ipc {
    /// Makes room, before an operation changes anything, for what it may
    /// add: [`ROOM`] entries in each per-thread map, and in the mailboxes
    /// one more for every waiting thread, since a close or revocation
    /// delivers to each of those (`mailbox` room ≥ its entries + the
    /// waiting threads', an invariant every insert into `waiting` keeps
    /// because it comes after this). `OutOfMemory`, and a `mem.oom` trace
    /// event, if the heap cannot grow. Free once the maps have grown.
    fn room(&mut self) -> Result<(), SysError> {
        let waiting = self.waiting.entries.len();
        let made = self
            .waiting
            .reserve(ROOM)
            .and_then(|()| self.causal.reserve(ROOM))
            .and_then(|()| self.mailbox.reserve(waiting + ROOM));
        if made.is_err() {
            out_of_memory(0);
        }
        made
    }
}

/// The kernel heap could not grow for an IPC structure: `mem.oom` (bytes
/// unknown: 0), then the caller returns `OutOfMemory`.
fn out_of_memory(bytes: u64) {
    let who = thread::current_process().map_or(0, |p| p.id);
    trace::emit(EventType::MemOom, [bytes, who, 0, 0], 0);
}

static NEXT_CAUSAL: AtomicU64 = AtomicU64::new(1);

fn fresh_causal() -> CausalId {
    CausalId(NEXT_CAUSAL.fetch_add(1, Ordering::Relaxed))
}

/// Charged to the memory an endpoint or notification is made from. It
/// covers what the kernel keeps for the object: its `Arc` block (two
/// counters and the object, rounded up to the heap's 16-byte pieces),
/// three entries of the table it lives in (which grows by doubling), and
/// the room its queues keep with no one waiting (`Endpoint::IDLE_BYTES`).
/// Waiting threads pay for their own queue entries (their `THREAD_COST`
/// page covers `Endpoint::WAITER_BYTES` many times). The assertions keep
/// it honest.
pub const OBJECT_COST: u64 = 1024;

const fn object_bytes<O>(entry: usize, idle: usize) -> usize {
    (2 * core::mem::size_of::<usize>() + core::mem::size_of::<O>()).next_multiple_of(16)
        + 16
        + 3 * entry
        + idle
}

const _: () = assert!(
    object_bytes::<EndpointObj>(
        Slab::<EndpointState>::ENTRY_BYTES,
        Endpoint::<ThreadId, Msg>::IDLE_BYTES
    ) <= OBJECT_COST as usize
);
const _: () = assert!(
    object_bytes::<NotificationObj>(
        Slab::<Notification<ThreadId>>::ENTRY_BYTES,
        Notification::<ThreadId>::IDLE_BYTES
    ) <= OBJECT_COST as usize
);
const _: () =
    assert!(Endpoint::<ThreadId, Msg>::WAITER_BYTES * 2 <= ferrous_abi::PAGE_SIZE as usize);

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
    out_of_memory(0);
    SysError::OutOfMemory
}

/// A new endpoint owned by process `owner`, charged to `memory`.
pub fn create_endpoint(owner: u64, memory: Arc<Memory>) -> Result<Arc<EndpointObj>, SysError> {
    memory.charge(OBJECT_COST)?;
    let id = {
        let mut ipc = IPC.lock();
        if ipc.endpoints.reserve().is_ok() {
            // alloc: reserved above (Slab::reserve)
            Some(ipc.endpoints.insert(EndpointState {
                queue: Endpoint::new(),
                owner,
                bound: false,
            }))
        } else {
            None
        }
    };
    let Some(id) = id else {
        memory.refund(OBJECT_COST);
        out_of_memory(core::mem::size_of::<EndpointState>() as u64);
        return Err(SysError::OutOfMemory);
    };
    // alloc: fixed-size (mm::heap::fixed, "Fixed-size objects"), charged above
    Ok(crate::mm::heap::fixed(|| {
        Arc::new(EndpointObj { id, memory })
    }))
}

pub fn create_notification(memory: Arc<Memory>) -> Result<Arc<NotificationObj>, SysError> {
    memory.charge(OBJECT_COST)?;
    let id = {
        let mut ipc = IPC.lock();
        if ipc.notifications.reserve().is_ok() {
            // alloc: reserved above (Slab::reserve)
            Some(ipc.notifications.insert(Notification::new()))
        } else {
            None
        }
    };
    let Some(id) = id else {
        memory.refund(OBJECT_COST);
        out_of_memory(core::mem::size_of::<Notification<ThreadId>>() as u64);
        return Err(SysError::OutOfMemory);
    };
    // alloc: fixed-size (mm::heap::fixed, "Fixed-size objects"), charged above
    Ok(crate::mm::heap::fixed(|| {
        Arc::new(NotificationObj { id, memory })
    }))
}

fn deliver(ipc: &mut Ipc, to: ThreadId, d: Delivery) -> ThreadId {
    // alloc: reserved above (Ipc::room: room for every waiting thread)
    ipc.mailbox.insert(to, d);
    ipc.waiting.remove(&to);
    to
}

/// Closes an endpoint: every thread queued on it wakes with `ObjectGone`.
/// Allocates nothing: the queues' own lists (which `close` hands over)
/// say whom to wake, and the mailboxes have room for every waiting thread
/// ([`Ipc::room`]).
pub fn close_endpoint(id: u64) {
    let closed = {
        let mut ipc = IPC.lock();
        let Some(mut e) = ipc.endpoints.remove(id) else {
            return;
        };
        let closed = e.queue.close();
        for &t in closed.senders.iter().chain(closed.receivers.iter()) {
            deliver(&mut ipc, t, Delivery::Failed(SysError::ObjectGone));
        }
        closed
    };
    log::debug!(
        "ipc.close endpoint={id} woken={}",
        closed.senders.len() + closed.receivers.len()
    );
    for t in closed.senders.into_iter().chain(closed.receivers) {
        thread::unpark(t);
    }
}

pub fn close_notification(id: u64) {
    let waiters = {
        let mut ipc = IPC.lock();
        let Some(mut n) = ipc.notifications.remove(id) else {
            return;
        };
        let waiters = n.close();
        for &t in &waiters {
            deliver(&mut ipc, t, Delivery::Failed(SysError::ObjectGone));
        }
        waiters
    };
    for t in waiters {
        thread::unpark(t);
    }
}

/// A capability to endpoint or notification `id` was deleted or revoked:
/// every thread queued on it through a capability that is gone leaves
/// the queue now (a sender's message is dropped, a receiver gets nothing)
/// and wakes with `ObjectGone`. Runs before the deleting call returns, so
/// after `cap_delete` or `cap_revoke` no thread acts through what it
/// removed. Work: one capability look-up per waiting thread, without
/// allocating.
pub fn revalidate(id: u64) {
    loop {
        // One at a time: the unpark happens outside the IPC lock.
        let gone = {
            let mut ipc = IPC.lock();
            let stale = ipc.waiting.entries.iter().find_map(|(t, w)| {
                let (on, held) = w.queued_on()?;
                (on == id && !cap::still_names(held.space, held.handle, held.object)).then_some(*t)
            });
            stale.map(|t| {
                cancel(&mut ipc, t);
                deliver(&mut ipc, t, Delivery::Failed(SysError::ObjectGone))
            })
        };
        match gone {
            Some(t) => thread::unpark(t),
            None => return,
        }
    }
}

/// Every endpoint the process made closes with it: one at a time, found
/// again under the lock, so nothing is allocated.
pub fn process_ended(owner: u64) {
    let mut from = 0;
    loop {
        let next = IPC
            .lock()
            .endpoints
            .find_from(from, |e| e.owner == owner)
            .map(|(at, id, _)| (at, id));
        let Some((at, id)) = next else { return };
        from = at + 1;
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
        Some(Waiting::Send { endpoint, .. } | Waiting::Recv { endpoint, .. }) => {
            if let Some(e) = ipc.endpoints.get_mut(endpoint) {
                e.queue.cancel(me);
            }
            true
        }
        Some(Waiting::Reply) => {
            ipc.replies.caller_gone(me);
            true
        }
        Some(Waiting::Notification { id, .. }) => {
            if let Some(n) = ipc.notifications.get_mut(id) {
                n.cancel(me);
            }
            true
        }
        None => false,
    }
}

/// The capability a call was made with, to check again under IPC and
/// after wake-ups.
#[derive(Clone, Copy, Debug)]
pub struct Held {
    space: CSpaceId,
    handle: Handle,
    object: ObjectId,
    /// `cap::epoch()` before the look-up.
    epoch: u64,
}

impl Held {
    /// Under IPC: `ObjectGone` if the capability went since the look-up.
    /// Free unless some capability was deleted meanwhile (the epoch moved):
    /// a revoke either bumped the epoch before this (and the capability is
    /// looked at again) or runs its [`revalidate`] after this call's IPC
    /// section (and finds the thread if it queued).
    fn check(&self) -> Result<(), SysError> {
        if cap::epoch() == self.epoch || cap::still_names(self.space, self.handle, self.object) {
            Ok(())
        } else {
            Err(SysError::ObjectGone)
        }
    }
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
        Some(Waiting::Send { endpoint, .. }) => (B::EndpointSend, *endpoint),
        Some(Waiting::Recv { endpoint, .. }) => (B::EndpointRecv, *endpoint),
        Some(Waiting::Notification { id, .. }) => (B::Notification, *id),
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
