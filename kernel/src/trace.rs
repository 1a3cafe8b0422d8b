//! The kernel's decision trace (first user: the scheduler). Every event
//! carries its reason; the last `CAPACITY` events are kept in a ring that
//! tests and fault reports can read, and each is logged at `trace` level.
//! The tracing issue will replace the ring with per-CPU buffers and a
//! binary format; the event vocabulary stays.

use crate::sync::IrqMutex;
use ferrous_sched::Event;

pub const CAPACITY: usize = 1024;

struct Ring {
    events: [Option<(u64, Event)>; CAPACITY],
    next: usize,
    total: u64,
}

static RING: IrqMutex<Ring> = IrqMutex::new(Ring {
    events: [None; CAPACITY],
    next: 0,
    total: 0,
});

pub fn sched_event(e: Event) {
    let t = crate::arch::time::now_ns();
    log::trace!("sched: {e}");
    let mut r = RING.lock();
    let i = r.next;
    r.events[i] = Some((t, e));
    r.next = (i + 1) % CAPACITY;
    r.total += 1;
}

/// Calls `f` on each kept event, oldest first; returns how many were ever recorded.
pub fn for_each(mut f: impl FnMut(u64, &Event)) -> u64 {
    let r = RING.lock();
    for k in 0..CAPACITY {
        if let Some((t, e)) = &r.events[(r.next + k) % CAPACITY] {
            f(*t, e);
        }
    }
    r.total
}

/// Capability refusals: how many, and the last few with their reasons
/// (the tracing issue moves these into the per-CPU rings).
static DENIALS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// `cap.denied`: the running process's `op` on `slot` was refused for
/// `reason`. Logged at debug level; always counted.
pub fn cap_denied(op: ferrous_abi::Sysno, slot: u32, reason: crate::cap::DenyReason) {
    DENIALS.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    let who = crate::thread::current_name().unwrap_or("?");
    log::debug!("cap.denied process={who} call={op} slot={slot} reason={reason}");
}

/// `cap.revoke`: `deleted` capabilities derived from `slot` are gone.
pub fn cap_revoked(slot: u32, deleted: usize) {
    let who = crate::thread::current_name().unwrap_or("?");
    log::debug!("cap.revoke process={who} slot={slot} deleted={deleted}");
}

pub fn denials() -> u64 {
    DENIALS.load(core::sync::atomic::Ordering::Relaxed)
}
