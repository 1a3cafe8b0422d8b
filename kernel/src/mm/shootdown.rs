//! TLB shootdown: after changing a mapping other CPUs may have cached, the
//! changing CPU asks every other online CPU (by IPI) to flush the range and
//! waits for all of them. One request at a time; the initiator keeps
//! answering requests addressed to it while it waits, so two CPUs shooting
//! down at once cannot deadlock. Callers must not hold an `IrqMutex`.

use crate::arch::{self, apic, percpu::MAX_CPUS};
use crate::sync::SpinLock;
use core::sync::atomic::{AtomicU64, Ordering};

static REQUEST: SpinLock<()> = SpinLock::new(());
static VA: AtomicU64 = AtomicU64::new(0);
static LEN: AtomicU64 = AtomicU64::new(0);
/// CPUs that still have to flush the current request.
static PENDING: AtomicU64 = AtomicU64::new(0);
/// CPUs that take part (set as they come online).
static ONLINE_MASK: AtomicU64 = AtomicU64::new(1);
static SHOOTDOWNS: AtomicU64 = AtomicU64::new(0);

pub fn cpu_online(index: usize) {
    ONLINE_MASK.fetch_or(1 << index, Ordering::SeqCst);
}

/// Flushes `[va, va + len)` on every other online CPU (the caller has
/// already flushed its own TLB).
pub fn broadcast(va: u64, len: u64) {
    let me = arch::percpu::index();
    let others = ONLINE_MASK.load(Ordering::SeqCst) & !(1u64 << me);
    if others == 0 {
        return;
    }
    // Not `REQUEST.lock()`'s plain wait: answer other initiators meanwhile.
    let _guard = REQUEST.lock();
    VA.store(va, Ordering::SeqCst);
    LEN.store(len, Ordering::SeqCst);
    PENDING.store(others, Ordering::SeqCst);
    for cpu in 0..MAX_CPUS {
        if others & (1 << cpu) != 0 {
            apic::send_ipi(arch::percpu::apic_id_of(cpu), apic::VECTOR_TLB_SHOOTDOWN);
        }
    }
    while PENDING.load(Ordering::SeqCst) & others != 0 {
        core::hint::spin_loop();
    }
    SHOOTDOWNS.fetch_add(1, Ordering::Relaxed);
}

/// Answers a pending request addressed to this CPU, if any (called by the
/// IPI handler and by every lock spin loop).
pub fn poll() {
    if PENDING.load(Ordering::Relaxed) & (1u64 << arch::percpu::index()) != 0 {
        handle();
    }
}

/// The shootdown IPI: flush the requested range here and acknowledge.
pub fn handle() {
    let me = 1u64 << arch::percpu::index();
    if PENDING.load(Ordering::SeqCst) & me != 0 {
        arch::mm::flush_local(VA.load(Ordering::SeqCst), LEN.load(Ordering::SeqCst));
        PENDING.fetch_and(!me, Ordering::SeqCst);
        // I/O port grants change with the same IPI (`ports::gone`). After
        // the acknowledgement, so a lock spin inside cannot answer this
        // request again; before this CPU next runs ring 3 either way.
        crate::ports::refresh();
    }
}

pub fn count() -> u64 {
    SHOOTDOWNS.load(Ordering::Relaxed)
}
