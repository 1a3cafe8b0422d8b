//! Blocking the running thread: `park`/`unpark` (what IPC builds on), the
//! IPC fast path's direct `handoff`, and `sleep_ns`.

use super::preempt::kick;
use super::{
    BlockReason, CpuId, THREADS, ThreadId, WakeReason, cpu, ending, now, preempt_if_needed,
    schedule, sink,
};
use crate::arch;

/// Blocks the running thread (reason `Ipc`) until [`unpark`] names it, the
/// clock passes `deadline` (ns; `u64::MAX` for never), or its process is
/// interrupted. An `unpark` that came first makes it return at once.
/// Callers re-check their condition after every return: wake-ups may be
/// spurious.
pub fn park(deadline: u64) {
    arch::cpu::without_interrupts(|| {
        let me;
        {
            let mut g = THREADS.lock();
            let Some(t) = g.as_mut() else { return };
            let c = CpuId(cpu() as u16);
            let Some(id) = t.sched.current(c) else { return };
            me = id;
            if let Some(r) = t.table.get_mut(&me)
                && core::mem::take(&mut r.unparked)
            {
                return;
            }
            if ending(t, me) {
                return;
            }
            // No room (never, with room kept for every thread): return at
            // once, a spurious wake-up the caller re-checks.
            // alloc: reserved above (Sleepers: room for every thread)
            if deadline != u64::MAX && !t.sleepers.insert((deadline, me)) {
                return;
            }
            t.sched.block_current(c, BlockReason::Ipc, now(), &mut sink);
        }
        schedule();
        // Woken before the deadline: the timer must not wake a later block.
        if deadline != u64::MAX
            && let Some(t) = THREADS.lock().as_mut()
        {
            t.sleepers.remove(&(deadline, me));
        }
    });
}

/// Wakes `id` if it is parked; otherwise its next [`park`] returns at once.
pub fn unpark(id: ThreadId) {
    let kick_cpu = arch::cpu::without_interrupts(|| {
        let mut g = THREADS.lock();
        let t = g.as_mut()?;
        if matches!(
            t.sched.state(id),
            Ok(ferrous_sched::ThreadState::Blocked(BlockReason::Ipc))
        ) {
            let waker = t.sched.current(CpuId(cpu() as u16));
            let reason = waker.map_or(WakeReason::Interrupt, WakeReason::ByThread);
            t.sched
                .make_ready(id, reason, now(), &mut sink)
                .ok()
                .flatten()
        } else {
            if let Some(r) = t.table.get_mut(&id) {
                r.unparked = true;
            }
            None
        }
    });
    if let Some(k) = kick_cpu {
        kick(k);
    }
    arch::cpu::without_interrupts(preempt_if_needed);
}

/// The IPC fast path: blocks the running thread (reason `Ipc`) and runs
/// the parked thread `to` on this CPU at once, without the general pick,
/// if the scheduler policy allows it (`Scheduler::handoff`). Returns
/// `false` without blocking otherwise (the caller unparks `to` and parks
/// itself), and also when an `unpark` for the running thread is pending.
/// Returns `true` once the running thread has been woken again.
pub fn handoff(to: ThreadId) -> bool {
    arch::cpu::without_interrupts(|| {
        {
            let mut g = THREADS.lock();
            let Some(t) = g.as_mut() else { return false };
            let c = CpuId(cpu() as u16);
            let Some(me) = t.sched.current(c) else {
                return false;
            };
            if t.table.get(&me).is_some_and(|r| r.unparked) {
                return false;
            }
            // The trace folds the handoff's block, wake and switch into
            // one `sched.handoff` record.
            crate::trace::handoff_begin();
            let ok = t
                .sched
                .handoff(c, BlockReason::Ipc, to, now(), &mut sink)
                .is_ok();
            crate::trace::handoff_end();
            if !ok {
                return false;
            }
        }
        schedule();
        true
    })
}

/// Blocks the running thread for at least `ns` nanoseconds (tick granularity).
pub fn sleep_ns(ns: u64) {
    arch::cpu::without_interrupts(|| {
        {
            let mut g = THREADS.lock();
            let Some(t) = g.as_mut() else { return };
            let c = CpuId(cpu() as u16);
            let Some(me) = t.sched.current(c) else { return };
            // A thread of an ended process does not go to sleep: it must
            // reach user mode to leave.
            if ending(t, me) {
                return;
            }
            // alloc: reserved above (Sleepers: room for every thread)
            if !t.sleepers.insert((now().saturating_add(ns), me)) {
                return;
            }
            t.sched
                .block_current(c, BlockReason::Sleep, now(), &mut sink);
        }
        schedule();
    });
}
