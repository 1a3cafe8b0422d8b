//! The switch: `schedule` picks the next thread for this CPU under
//! THREADS and switches to it after releasing the lock; `yield_now`; the
//! idle loops; the periodic tick (time slices, sleepers, load balancing);
//! affinity.

use super::preempt::kick;
use super::{
    BALANCE_TICKS, CpuId, ONLINE_MASK, THREADS, ThreadId, WakeReason, cpu, here, id_to_u64, now,
    preempt_if_needed, sink,
};
use crate::arch::{self, percpu::MAX_CPUS};
use alloc::sync::Arc;
use core::sync::atomic::Ordering;

/// The bootstrap CPU's idle context starts here (an AP idles on its boot
/// flow, `run_idle`).
pub(super) extern "C" fn idle_entry(_cpu: u64) -> ! {
    arch::context::finish_switch();
    loop {
        schedule();
        arch::cpu::enable_interrupts_and_halt();
        arch::cpu::disable_interrupts();
    }
}

/// An AP's boot flow becomes its idle loop (never returns).
pub fn run_idle() -> ! {
    arch::cpu::disable_interrupts();
    loop {
        schedule();
        arch::cpu::enable_interrupts_and_halt();
        arch::cpu::disable_interrupts();
    }
}

/// Picks the next thread for this CPU and switches to it. Interrupts must
/// be off. Returns when the caller's context is resumed.
pub fn schedule() {
    let c = cpu();
    let here = here();
    here.need_resched.store(false, Ordering::Relaxed);
    let (from, to) = {
        let mut g = THREADS.lock();
        let Some(t) = g.as_mut() else { return };
        let next = t.sched.pick_next(CpuId(c as u16), now(), &mut sink);
        // One look-up of what runs next; the contexts are cloned only when
        // the CPU switches.
        let rec = next.and_then(|id| t.table.get(&id));
        let to = match next {
            Some(_) => rec.map(|r| &r.ctx),
            None => t.cpus[c].idle.as_ref(),
        };
        let (Some(to), Some(from)) = (to, t.cpus[c].running.as_ref()) else {
            return;
        };
        if Arc::ptr_eq(from, to) {
            return;
        }
        let (from, to) = (from.clone(), to.clone());
        let (name, switch_to, user) = match rec {
            Some(r) => (r.name, Some((r.root, r.kstack_top)), r.user.clone()),
            None => ("idle", None, None),
        };
        t.cpus[c].running = Some(to.clone());
        *here.running_name.lock() = name;
        here.current_id
            .store(next.map_or(u64::MAX, id_to_u64), Ordering::Relaxed);
        let ports = user
            .as_ref()
            .map_or((0, 0), |u| (u.process.id, u.process.ports_generation()));
        // The old value is dropped after the switch (not under THREADS).
        let old_user = core::mem::replace(&mut *here.current_user.lock(), user);
        here.parked_user.lock().replace(old_user);
        // The I/O ports the next thread's process enabled (none for a
        // kernel thread), after `current_user` names it: a refresh from a
        // port IPI in between then loads the right process.
        crate::ports::load(ports);
        // The address space and kernel stack of what runs next: a user
        // thread's own; anything else runs on the kernel's tables.
        let (root, kstack) = switch_to.unwrap_or((None, 0));
        let root = root.unwrap_or_else(crate::mm::kspace::kernel_root);
        if root != 0 && root != arch::mm::current_root() {
            arch::mm::switch_root(root);
        }
        if kstack != 0 {
            arch::percpu::set_kernel_stack(kstack);
        }
        (from, to)
    };
    arch::context::switch(from, to);
    drop_parked_user();
}

/// Lets other threads of the same priority run.
pub fn yield_now() {
    arch::cpu::without_interrupts(|| {
        if let Some(t) = THREADS.lock().as_mut() {
            t.sched.yield_now(CpuId(cpu() as u16), now(), &mut sink);
        }
        schedule();
    });
}

/// Drops the user-thread reference the last `schedule` on this CPU
/// replaced (runs right after every switch lands).
pub(super) fn drop_parked_user() {
    let parked = arch::cpu::without_interrupts(|| here().parked_user.lock().take());
    drop(parked);
}

/// The periodic tick on this CPU: charge the running thread, wake sleepers.
pub fn timer_tick() {
    let c = cpu();
    let mut kicks = [None; 8];
    let mut n = 0;
    {
        let mut g = THREADS.lock();
        let Some(t) = g.as_mut() else { return };
        let now = now();
        if t.sched.tick(CpuId(c as u16), now, &mut sink) {
            here().need_resched.store(true, Ordering::Relaxed);
        }
        // Load balancing every BALANCE_TICKS on the bootstrap CPU; CPUs that
        // received work are kicked below.
        if c == 0
            && crate::irq::ticks(0).is_multiple_of(BALANCE_TICKS)
            && t.sched.balance(now, &mut sink) > 0
        {
            let online = ONLINE_MASK.load(Ordering::Relaxed);
            for cpu in (1..MAX_CPUS).filter(|c| online & (1 << c) != 0) {
                if n < kicks.len() && t.sched.load(CpuId(cpu as u16)) > 0 {
                    kicks[n] = Some(CpuId(cpu as u16));
                    n += 1;
                }
            }
        }
        while let Some((deadline, id)) = t.sleepers.first() {
            if deadline > now {
                break;
            }
            t.sleepers.remove(&(deadline, id));
            if let Ok(Some(target)) = t.sched.make_ready(id, WakeReason::Timeout, now, &mut sink)
                && n < kicks.len()
            {
                kicks[n] = Some(target);
                n += 1;
            }
        }
    }
    for k in kicks.into_iter().flatten() {
        kick(k);
    }
}

/// Pins `id` to CPU `cpu` (`None`: any). `false` if that CPU is not online
/// or the thread is gone.
pub fn set_affinity(id: ThreadId, cpu: Option<u16>) -> bool {
    if let Some(c) = cpu
        && (c as usize >= MAX_CPUS || ONLINE_MASK.load(Ordering::Relaxed) & (1 << c) == 0)
    {
        return false;
    }
    let result = arch::cpu::without_interrupts(|| {
        let mut g = THREADS.lock();
        let t = g.as_mut()?;
        t.sched.set_affinity(id, cpu.map(CpuId), &mut sink).ok()
    });
    match result {
        Some(kick_cpu) => {
            if let Some(k) = kick_cpu {
                kick(k);
            }
            arch::cpu::without_interrupts(preempt_if_needed);
            true
        }
        None => false,
    }
}
