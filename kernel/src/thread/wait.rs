//! Wait queues: threads waiting for a condition, woken in priority order.

use super::{
    BlockReason, CpuId, DEFAULT_PRIORITY, THREADS, Waiters, WakeReason, cpu, now,
    preempt_if_needed, schedule, sink, yield_now,
};
use crate::arch;
use crate::sync::IrqMutex;
use core::sync::atomic::{AtomicU64, Ordering};

/// A queue of threads waiting for a condition (the blocking primitive IPC
/// and drivers build on). Waiting and waking happen under the scheduler
/// lock, so a wake-up between "condition false" and "blocked" is never lost.
/// Waiters are woken in priority order, then FIFO.
pub struct WaitQueue {
    id: u64,
    waiters: IrqMutex<Waiters>,
}

static NEXT_QUEUE_ID: AtomicU64 = AtomicU64::new(1);

impl WaitQueue {
    pub fn new() -> WaitQueue {
        WaitQueue {
            id: NEXT_QUEUE_ID.fetch_add(1, Ordering::Relaxed),
            waiters: IrqMutex::new(Waiters::new()),
        }
    }

    /// Blocks until `ready()` is true. `ready` is evaluated with the
    /// scheduler lock held: keep it short and lock-free (atomics).
    pub fn wait_until(&self, ready: impl Fn() -> bool) {
        loop {
            let blocked = arch::cpu::without_interrupts(|| {
                let mut g = THREADS.lock();
                let Some(t) = g.as_mut() else { return false };
                if ready() {
                    return false;
                }
                let c = CpuId(cpu() as u16);
                let Some(me) = t.sched.current(c) else {
                    return false;
                };
                let prio = t.sched.priority(me).unwrap_or(DEFAULT_PRIORITY);
                // alloc: none (ferrous-sched: fallible, returns an error)
                match self.waiters.lock().push(me, prio) {
                    // Still queued from before an interrupted wait.
                    Ok(()) | Err(ferrous_sched::SchedError::AlreadyQueued(_)) => {}
                    Err(_) => return false, // out of memory: fall back to polling
                }
                t.sched
                    .block_current(c, BlockReason::WaitQueue(self.id), now(), &mut sink);
                drop(g);
                schedule();
                true
            });
            if !blocked {
                if ready() {
                    return;
                }
                yield_now();
            }
        }
    }

    /// Wakes the highest-priority waiter; returns whether there was one.
    pub fn wake_one(&self) -> bool {
        self.wake(1) == 1
    }

    /// Wakes every waiter; returns how many.
    pub fn wake_all(&self) -> usize {
        self.wake(usize::MAX)
    }

    fn wake(&self, max: usize) -> usize {
        let mut kicks = 0u64;
        let woken = arch::cpu::without_interrupts(|| {
            let mut g = THREADS.lock();
            let Some(t) = g.as_mut() else { return 0 };
            let waker = t.sched.current(CpuId(cpu() as u16));
            let mut n = 0;
            while n < max {
                let Some(w) = self.waiters.lock().pop() else {
                    break;
                };
                let reason = waker.map_or(WakeReason::Interrupt, WakeReason::ByThread);
                if let Ok(k) = t.sched.make_ready(w, reason, now(), &mut sink) {
                    if let Some(k) = k {
                        kicks |= 1 << k.0;
                    }
                    n += 1;
                }
            }
            n
        });
        super::user::kick_all(kicks);
        arch::cpu::without_interrupts(preempt_if_needed);
        woken
    }
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}
