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

/// The live threads of `p`.
pub fn threads_of(p: &crate::process::Process) -> alloc::vec::Vec<ThreadId> {
    arch::cpu::without_interrupts(|| {
        let g = THREADS.lock();
        let Some(t) = g.as_ref() else {
            return alloc::vec::Vec::new();
        };
        t.table
            .iter()
            .filter(|(_, r)| {
                r.exit_code.is_none()
                    && r.user
                        .as_ref()
                        .is_some_and(|u| core::ptr::eq(Arc::as_ptr(&u.process), p))
            })
            .map(|(&id, _)| id)
            .collect()
    })
}

/// Makes every blocked or sleeping thread of `p` ready (its process has
/// ended): each returns from its blocking call and leaves on the way back
/// to user mode. Blocking loops check the process's state when woken.
pub fn interrupt_process(p: &crate::process::Process) {
    let mut kicks = alloc::vec::Vec::new();
    arch::cpu::without_interrupts(|| {
        let mut g = THREADS.lock();
        let Some(t) = g.as_mut() else { return };
        let ids: alloc::vec::Vec<ThreadId> = t
            .table
            .iter()
            .filter(|(_, r)| {
                r.exit_code.is_none()
                    && r.user
                        .as_ref()
                        .is_some_and(|u| core::ptr::eq(Arc::as_ptr(&u.process), p))
            })
            .map(|(&id, _)| id)
            .collect();
        t.sleepers.retain(|&(_, id), _| !ids.contains(&id));
        for id in ids {
            if let Ok(Some(k)) = t
                .sched
                .make_ready(id, WakeReason::Interrupt, now(), &mut sink)
            {
                kicks.push(k);
            }
        }
    });
    for k in kicks {
        kick(k);
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
