//! A thread's life: spawn (kernel and user threads), its first run,
//! exit, join, and reaping the user threads nobody joins.

use super::preempt::kick;
use super::schedule::drop_parked_user;
use super::{
    BlockReason, CpuId, DEFAULT_PRIORITY, JoinError, Priority, Record, STACK_SIZE, SpawnError,
    Start, THREADS, ThreadId, UserStart, Waiters, WakeReason, cpu, id_from_u64, id_to_u64, now,
    preempt_if_needed, schedule, sink,
};
use crate::arch::{self, context::ThreadContext};
use crate::mm::stacks::{self, KernelStack};
use alloc::sync::Arc;

/// Creates a thread running `entry(arg)`; its return value is the exit code.
pub fn spawn(
    name: &'static str,
    priority: Priority,
    affinity: Option<CpuId>,
    entry: fn(u64) -> u64,
    arg: u64,
) -> Result<ThreadId, SpawnError> {
    create(name, priority, affinity, Start::Kernel((entry, arg)), None)
}

/// Creates user thread `user`: it enters ring 3 at `start.entry` in the
/// address space `start.root`.
pub fn spawn_user(
    name: &'static str,
    priority: Priority,
    user: Arc<crate::process::UserThread>,
    start: UserStart,
) -> Result<ThreadId, SpawnError> {
    create(name, priority, None, Start::User(start), Some(user))
}

fn create(
    name: &'static str,
    priority: Priority,
    affinity: Option<CpuId>,
    start: Start,
    user: Option<Arc<crate::process::UserThread>>,
) -> Result<ThreadId, SpawnError> {
    reap_detached();
    let stack = stacks::alloc(name, STACK_SIZE).map_err(|_| SpawnError::NoStack)?;
    let kstack_top = stack.top;
    let root = match start {
        Start::User(u) => Some(u.root),
        Start::Kernel(_) => None,
    };
    let mut kick_cpu = None;
    let result = arch::cpu::without_interrupts(|| {
        let mut g = THREADS.lock();
        let t = g.as_mut().ok_or(SpawnError::NotStarted)?;
        let id = t
            .sched
            .add_thread(priority, affinity, None)
            .map_err(SpawnError::Scheduler)?;
        // Room for its record and for it as a sleeper before anything
        // else changes (a system call makes threads: no panic for want
        // of heap).
        let room = t
            .table
            .reserve(id)
            .and_then(|()| t.sleepers.reserve(t.table.len() + 1));
        if room.is_err() {
            let _ = t.sched.remove(id);
            return Err(SpawnError::Scheduler(
                ferrous_sched::SchedError::OutOfMemory,
            ));
        }
        // alloc: fixed-size (mm::heap::fixed, "Fixed-size objects")
        let ctx = crate::mm::heap::fixed(|| {
            Arc::new(ThreadContext::new(stack.top, thread_entry, id_to_u64(id)))
        });
        // alloc: reserved above (ThreadTable::reserve)
        t.table.insert(
            id,
            Record {
                name,
                ctx,
                stack: None,
                start: Some(start),
                kstack_top,
                root,
                user,
                unparked: false,
                exit_code: None,
                joiners: Waiters::new(),
            },
        );
        kick_cpu = t
            .sched
            .make_ready(id, WakeReason::Created, now(), &mut sink)
            .map_err(SpawnError::Scheduler)?;
        Ok(id)
    });
    match result {
        Ok(id) => {
            // The thread may already have run on another CPU, exited and
            // been reaped (with no stack on its record yet): then the stack
            // is this call's to free, or it would leak.
            let orphan = arch::cpu::without_interrupts(|| {
                match THREADS.lock().as_mut().and_then(|t| t.table.get_mut(&id)) {
                    Some(r) => {
                        r.stack = Some(stack);
                        None
                    }
                    None => Some(stack),
                }
            });
            if let Some(s) = orphan {
                stacks::free(s);
            }
            if let Some(k) = kick_cpu {
                kick(k);
                arch::cpu::without_interrupts(preempt_if_needed);
            }
            Ok(id)
        }
        Err(e) => {
            stacks::free(stack);
            Err(e)
        }
    }
}

extern "C" fn thread_entry(raw: u64) -> ! {
    arch::context::finish_switch();
    drop_parked_user();
    let id = id_from_u64(raw);
    let start = THREADS
        .lock()
        .as_mut()
        .and_then(|t| t.table.get_mut(&id))
        .and_then(|r| r.start.take());
    match start {
        Some(Start::Kernel((entry, arg))) => {
            arch::cpu::enable_interrupts();
            exit(entry(arg))
        }
        // `schedule` already loaded the address space and kernel stack. A
        // thread whose process ended before it first ran leaves instead.
        Some(Start::User(u)) => {
            crate::process::check_return_to_user();
            arch::user::enter(u.entry, u.stack_top, u.arg0, u.arg1)
        }
        None => exit(u64::MAX),
    }
}

/// Ends the running thread with `code`, waking its joiners.
pub fn exit(code: u64) -> ! {
    arch::cpu::disable_interrupts();
    let mut kicks = 0u64;
    {
        let mut g = THREADS.lock();
        if let Some(t) = g.as_mut() {
            let c = CpuId(cpu() as u16);
            if let Some(id) = t.sched.current(c) {
                let mut joiners = Waiters::new();
                if let Some(r) = t.table.get_mut(&id) {
                    r.exit_code = Some(code);
                    core::mem::swap(&mut joiners, &mut r.joiners);
                }
                while let Some(j) = joiners.pop() {
                    if let Ok(Some(k)) =
                        t.sched
                            .make_ready(j, WakeReason::ByThread(id), now(), &mut sink)
                    {
                        kicks |= 1 << k.0;
                    }
                }
                t.sched.exit_current(c, now(), &mut sink);
            }
        }
    }
    super::user::kick_all(kicks);
    schedule();
    unreachable!("an exited thread was resumed");
}

/// Waits for thread `id` to exit, reaps it and returns its exit code.
pub fn join(id: ThreadId) -> Result<u64, JoinError> {
    enum Step {
        Reaped(u64, Option<KernelStack>),
        Retry,
    }
    loop {
        let step = arch::cpu::without_interrupts(|| -> Result<Step, JoinError> {
            let mut g = THREADS.lock();
            let t = g.as_mut().ok_or(JoinError::NoSuchThread)?;
            let c = CpuId(cpu() as u16);
            let me = t.sched.current(c);
            if me == Some(id) {
                return Err(JoinError::JoinSelf);
            }
            let rec = t.table.get_mut(&id).ok_or(JoinError::NoSuchThread)?;
            match rec.exit_code {
                Some(code) if !rec.ctx.on_cpu() => {
                    let rec = t.table.remove(&id).ok_or(JoinError::NoSuchThread)?;
                    let _ = t.sched.remove(id);
                    Ok(Step::Reaped(code, rec.stack))
                }
                Some(_) => Ok(Step::Retry), // still switching away
                None => {
                    if let Some(me) = me {
                        let prio = t.sched.priority(me).unwrap_or(DEFAULT_PRIORITY);
                        // alloc: none (ferrous-sched: fallible, returns an error)
                        if rec.joiners.push(me, prio).is_ok() {
                            t.sched
                                .block_current(c, BlockReason::Join(id), now(), &mut sink);
                            drop(g);
                            schedule();
                        }
                    }
                    Ok(Step::Retry)
                }
            }
        })?;
        match step {
            Step::Reaped(code, stack) => {
                // Freed outside THREADS: unmapping waits for TLB shootdowns.
                if let Some(s) = stack {
                    stacks::free(s);
                }
                return Ok(code);
            }
            Step::Retry => core::hint::spin_loop(),
        }
    }
}

/// Frees the records and stacks of exited user threads (nobody joins them)
/// once they are off their CPU: one at a time, so nothing is allocated.
pub fn reap_detached() {
    let mut from = 0;
    loop {
        let found = arch::cpu::without_interrupts(|| {
            let mut g = THREADS.lock();
            let t = g.as_mut()?;
            let (at, id) = t
                .table
                .iter()
                .skip_while(|&(i, _, _)| i < from)
                .find(|(_, _, r)| r.user.is_some() && r.exit_code.is_some() && !r.ctx.on_cpu())
                .map(|(i, id, _)| (i, id))?;
            let r = t.table.remove(&id);
            let _ = t.sched.remove(id);
            Some((at, r.and_then(|r| r.stack)))
        });
        let Some((at, stack)) = found else { return };
        from = at + 1;
        // Outside THREADS: unmapping waits for TLB shootdowns.
        if let Some(s) = stack {
            stacks::free(s);
        }
    }
}
