//! What this CPU runs, read without THREADS (its `CpuState`), and user
//! threads: their process, the threads of a process, interrupting a
//! process's threads when it ends, leaving a user address space.

use super::preempt::kick;
use super::{CpuId, THREADS, ThreadId, WakeReason, cpu, here, now, sink};
use crate::arch;
use crate::percpu;
use alloc::sync::Arc;

/// The running thread's name, without waiting for locks (fault reports).
pub fn current_name() -> Option<&'static str> {
    here().running_name.try_lock().map(|n| *n)
}

/// The id of what CPU `cpu` runs (call with interrupts off, on `cpu`).
pub fn current_id_on(cpu: usize) -> Option<ThreadId> {
    percpu::cpu(cpu)?.thread.current()
}

/// The running thread's id (this CPU's record, as above).
pub fn current_id() -> Option<ThreadId> {
    arch::cpu::without_interrupts(|| here().current())
}

/// The process the running thread belongs to, if it is a user thread.
pub fn current_process() -> Option<Arc<crate::process::Process>> {
    current_user_thread().map(|t| t.process.clone())
}

/// The running thread's user-thread object, if it is a user thread. Reads
/// this CPU's record of what it runs (interrupts off, so the thread cannot
/// move to another CPU between the two reads), not the thread table.
pub fn current_user_thread() -> Option<Arc<crate::process::UserThread>> {
    arch::cpu::without_interrupts(|| here().current_user.lock().clone())
}

/// Whether record `r` is a live thread of `p`.
fn live_in(r: &super::Record, p: &crate::process::Process) -> bool {
    r.exit_code.is_none()
        && r.user
            .as_ref()
            .is_some_and(|u| core::ptr::eq(Arc::as_ptr(&u.process), p))
}

/// The first live thread of `p` at table index `from` or later, with its
/// index: walk with `from = index + 1` (no list is allocated, and the
/// caller may take other locks between steps).
pub fn next_thread_of(p: &crate::process::Process, from: usize) -> Option<(usize, ThreadId)> {
    arch::cpu::without_interrupts(|| {
        let g = THREADS.lock();
        let t = g.as_ref()?;
        t.table
            .iter()
            .skip_while(|&(i, _, _)| i < from)
            .find(|(_, _, r)| live_in(r, p))
            .map(|(i, id, _)| (i, id))
    })
}

/// The CPU time of `p`'s live threads, in ns.
pub fn runtime_of(p: &crate::process::Process) -> u64 {
    arch::cpu::without_interrupts(|| {
        let g = THREADS.lock();
        let Some(t) = g.as_ref() else { return 0 };
        t.table
            .iter()
            .filter(|(_, _, r)| live_in(r, p))
            .filter_map(|(_, id, _)| t.sched.stats(id).ok())
            .map(|s| s.runtime_ns)
            .sum()
    })
}

/// Makes every blocked or sleeping thread of `p` ready (its process has
/// ended): each returns from its blocking call and leaves on the way back
/// to user mode. Blocking loops check the process's state when woken.
/// Allocates nothing (it runs when a process ends).
pub fn interrupt_process(p: &crate::process::Process) {
    let mut kicks = 0u64;
    arch::cpu::without_interrupts(|| {
        let mut g = THREADS.lock();
        let Some(t) = g.as_mut() else { return };
        let super::Threads {
            sched,
            table,
            sleepers,
            ..
        } = t;
        sleepers.retain(|id| !table.get(&id).is_some_and(|r| live_in(r, p)));
        for (_, id, _) in table.iter().filter(|(_, _, r)| live_in(r, p)) {
            if let Ok(Some(k)) = sched.make_ready(id, WakeReason::Interrupt, now(), &mut sink) {
                kicks |= 1 << k.0;
            }
        }
    });
    kick_all(kicks);
}

/// Kicks every CPU whose bit is set in `mask`.
pub(super) fn kick_all(mask: u64) {
    for c in (0..64).filter(|c| mask & (1 << c) != 0) {
        kick(CpuId(c as u16));
    }
}

/// The running thread stops using its user address space (before the
/// space is destroyed): from now on it runs on the kernel's tables.
pub fn leave_user_space() {
    arch::cpu::without_interrupts(|| {
        if let Some(t) = THREADS.lock().as_mut()
            && let Some(id) = t.sched.current(CpuId(cpu() as u16))
            && let Some(r) = t.table.get_mut(&id)
        {
            r.root = None;
        }
        arch::mm::switch_root(crate::mm::kspace::kernel_root());
    });
}
