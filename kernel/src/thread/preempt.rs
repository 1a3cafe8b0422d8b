//! Preemption: the per-CPU count that holds it off (`SpinLock` raises it),
//! the reschedule request (`need_resched`, set by the tick and by wake-ups,
//! by IPI on another CPU), and the check at the end of every interrupt.

use super::{CpuId, ONLINE_MASK, cpu, here, schedule};
use crate::arch;
use crate::percpu;
use core::sync::atomic::Ordering;

/// Called at the end of every interrupt: switch if the tick or a wake-up
/// asked for it.
pub fn preempt_if_needed() {
    let here = here();
    if here.preempt_off.load(Ordering::Relaxed) == 0
        && here.need_resched.swap(false, Ordering::Relaxed)
    {
        schedule();
    }
}

/// Marks CPU `target` for rescheduling, by IPI if it is another CPU.
pub(super) fn kick(target: CpuId) {
    let target = target.0 as usize;
    let Some(block) = percpu::cpu(target) else {
        return;
    };
    block.thread.need_resched.store(true, Ordering::Relaxed);
    // A CPU not yet online picks its work up when it starts.
    if target != cpu() && ONLINE_MASK.load(Ordering::SeqCst) & (1 << target) != 0 {
        arch::apic::send_ipi(
            arch::percpu::apic_id_of(target),
            arch::apic::VECTOR_RESCHEDULE,
        );
    }
}

/// Holds off preemption on this CPU (nests). Used by `SpinLock`.
pub fn preempt_disable() {
    // Interrupts off so the CPU cannot change between reading the index and
    // the increment; once it is counted, this thread stays here.
    arch::cpu::without_interrupts(|| here().preempt_off.fetch_add(1, Ordering::Relaxed));
}

/// Ends a `preempt_disable`; reschedules if a switch was asked for
/// meanwhile and interrupts are on.
pub fn preempt_enable() {
    let were_enabled = arch::cpu::interrupts_enabled();
    arch::cpu::disable_interrupts();
    if here().preempt_off.fetch_sub(1, Ordering::Relaxed) == 1 && were_enabled {
        preempt_if_needed();
    }
    if were_enabled {
        arch::cpu::enable_interrupts();
    }
}
