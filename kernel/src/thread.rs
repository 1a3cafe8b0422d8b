//! Kernel threads: creation, the scheduler glue, blocking, sleeping, exit
//! and join. Policy (who runs next, and why) is `ferrous-sched`; this module
//! owns the thread records and performs the switches through
//! `arch::context`.
//!
//! One lock (`THREADS`) covers the scheduler and the thread table. It is
//! never held across a context switch: `schedule` decides under the lock,
//! releases it, then switches; `ThreadContext`'s on-CPU flag keeps another
//! CPU from resuming a thread before its state is saved.
//!
//! Lock order: THREADS → trace ring. Stacks are freed outside THREADS.

use crate::arch::{self, context::ThreadContext, percpu::MAX_CPUS};
use crate::mm::stacks::{self, KernelStack};
use crate::percpu;
use crate::sync::IrqMutex;
use crate::trace;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use ferrous_sched::waitq::WaitQueue as Waiters;
pub use ferrous_sched::{BlockReason, CpuId, Priority, ThreadId, WakeReason};
use ferrous_sched::{Config, Event, Scheduler};

/// Kernel stack of every thread.
pub const STACK_SIZE: u64 = 32 * 1024;
/// Scheduler tick and round-robin slice.
pub const TICK_HZ: u64 = 100;
pub const TIME_SLICE_NS: u64 = 10_000_000;
pub const DEFAULT_PRIORITY: Priority = Priority(16);
/// Ticks between load-balancing passes.
const BALANCE_TICKS: u64 = 10;

/// A thread's body and its argument.
type Entry = (fn(u64) -> u64, u64);

/// How a user thread starts: where, on which stack, with which arguments,
/// in which address space.
#[derive(Clone, Copy, Debug)]
pub struct UserStart {
    pub entry: u64,
    pub stack_top: u64,
    pub arg0: u64,
    pub arg1: u64,
    pub root: u64,
}

#[derive(Clone, Copy)]
enum Start {
    Kernel(Entry),
    User(UserStart),
}

struct Record {
    name: &'static str,
    ctx: Arc<ThreadContext>,
    stack: Option<KernelStack>,
    start: Option<Start>,
    /// Top of the kernel stack (SYSCALL and user interrupts land there).
    kstack_top: u64,
    /// The user address space this thread runs in, if any.
    root: Option<u64>,
    user: Option<Arc<crate::process::UserThread>>,
    /// An `unpark` arrived while the thread was not parked: its next
    /// `park` returns at once.
    unparked: bool,
    exit_code: Option<u64>,
    joiners: Waiters,
}

struct Cpu {
    /// The context running on this CPU now (a thread's or the idle one).
    running: Option<Arc<ThreadContext>>,
    idle: Option<Arc<ThreadContext>>,
}

struct Threads {
    sched: Scheduler,
    table: BTreeMap<ThreadId, Record>,
    cpus: [Cpu; MAX_CPUS],
    /// Sleeping threads by wake-up time.
    sleepers: BTreeMap<(u64, ThreadId), ()>,
}

static THREADS: IrqMutex<Option<Threads>> = IrqMutex::new(None);
static ONLINE: AtomicU64 = AtomicU64::new(0);
/// Bit `i` set once CPU `i` runs its idle loop (IPIs go only to these).
static ONLINE_MASK: AtomicU64 = AtomicU64::new(0);

/// One CPU's thread state outside THREADS (its `percpu::CpuBlock::thread`):
/// what the CPU runs, for readers that must not take THREADS, and its
/// preemption state. The running and idle contexts are `Cpu`, under
/// THREADS.
pub struct CpuState {
    /// A switch was asked for (by the tick or a wake-up).
    need_resched: AtomicBool,
    /// `preempt_disable` nesting depth; no preemption while above zero.
    preempt_off: AtomicU32,
    /// The running thread's id (`u64::MAX` for none), set by `schedule`
    /// (under THREADS) and read without THREADS on the system-call path.
    current_id: AtomicU64,
    /// Name of the running thread, for fault reports (written only by this
    /// CPU, in `schedule`, so a report on the same CPU never waits).
    running_name: spin::Mutex<&'static str>,
    /// The running thread's user-thread object (as `current_id`).
    current_user: spin::Mutex<Option<Arc<crate::process::UserThread>>>,
    /// A user-thread reference replaced in `schedule`, dropped after the
    /// switch (dropping the last reference must not happen under THREADS).
    parked_user: spin::Mutex<Option<Option<Arc<crate::process::UserThread>>>>,
}

impl CpuState {
    pub const fn new() -> Self {
        CpuState {
            need_resched: AtomicBool::new(false),
            preempt_off: AtomicU32::new(0),
            current_id: AtomicU64::new(u64::MAX),
            running_name: spin::Mutex::new("main"),
            current_user: spin::Mutex::new(None),
            parked_user: spin::Mutex::new(None),
        }
    }
}

fn cpu() -> usize {
    arch::percpu::index()
}

/// This CPU's `CpuState`.
fn here() -> &'static CpuState {
    &percpu::this_cpu().thread
}

fn now() -> u64 {
    arch::time::now_ns()
}

/// Records scheduling decisions with their reasons.
fn sink(e: Event) {
    trace::sched_event(e);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    NoStack,
    Scheduler(ferrous_sched::SchedError),
    NotStarted,
}

/// Starts threading on the bootstrap CPU: the running flow becomes thread
/// "main" and an idle context is made for CPU 0.
pub fn init(cpus: u16) -> Result<(), SpawnError> {
    let mut sched = Scheduler::new(Config {
        cpus,
        time_slice_ns: TIME_SLICE_NS,
    });
    // Only the bootstrap CPU runs yet; each AP is marked online as it joins,
    // so no unpinned thread is placed on a CPU that never starts.
    for c in 1..cpus {
        sched
            .set_online(CpuId(c), false)
            .map_err(SpawnError::Scheduler)?;
    }
    let main = sched
        .add_thread(DEFAULT_PRIORITY, Some(CpuId(0)), None)
        .map_err(SpawnError::Scheduler)?;
    let mut t = Threads {
        sched,
        table: BTreeMap::new(),
        cpus: [const {
            Cpu {
                running: None,
                idle: None,
            }
        }; MAX_CPUS],
        sleepers: BTreeMap::new(),
    };
    let ctx = Arc::new(ThreadContext::current());
    t.table.insert(
        main,
        Record {
            name: "main",
            ctx: ctx.clone(),
            stack: None,
            start: None,
            kstack_top: 0,
            root: None,
            user: None,
            unparked: false,
            exit_code: None,
            joiners: Waiters::new(),
        },
    );
    t.sched
        .make_ready(main, WakeReason::Created, now(), &mut sink)
        .map_err(SpawnError::Scheduler)?;
    let picked = t.sched.pick_next(CpuId(0), now(), &mut sink);
    debug_assert_eq!(picked, Some(main));
    t.cpus[0].running = Some(ctx);
    *THREADS.lock() = Some(t);
    start_cpu(0)
}

/// Gives CPU `index` its idle context and counts it online. On the BSP
/// (whose boot flow is thread "main") the idle context gets its own stack;
/// on an AP the boot flow itself becomes the idle loop (`run_idle`).
pub fn start_cpu(index: usize) -> Result<(), SpawnError> {
    let is_bsp = index == 0;
    let idle = if is_bsp {
        let stack = stacks::alloc("idle", STACK_SIZE).map_err(|_| SpawnError::NoStack)?;
        // The idle stack lives forever: its `KernelStack` handle is dropped
        // without `stacks::free`.
        Arc::new(ThreadContext::new(stack.top, idle_entry, index as u64))
    } else {
        Arc::new(ThreadContext::current())
    };
    let mut g = THREADS.lock();
    let t = g.as_mut().ok_or(SpawnError::NotStarted)?;
    if !is_bsp {
        t.cpus[index].running = Some(idle.clone());
        t.sched
            .set_online(CpuId(index as u16), true)
            .map_err(SpawnError::Scheduler)?;
    }
    t.cpus[index].idle = Some(idle);
    ONLINE.fetch_add(1, Ordering::SeqCst);
    ONLINE_MASK.fetch_or(1 << index, Ordering::SeqCst);
    Ok(())
}

pub fn cpus_online() -> u64 {
    ONLINE.load(Ordering::SeqCst)
}

extern "C" fn idle_entry(_cpu: u64) -> ! {
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
        let switch_to = next
            .and_then(|id| t.table.get(&id))
            .map(|r| (r.root, r.kstack_top));
        let (to, name) = match next {
            Some(id) => (
                t.table.get(&id).map(|r| r.ctx.clone()),
                t.table.get(&id).map_or("?", |r| r.name),
            ),
            None => (t.cpus[c].idle.clone(), "idle"),
        };
        let (Some(to), Some(from)) = (to, t.cpus[c].running.clone()) else {
            return;
        };
        if Arc::ptr_eq(&from, &to) {
            return;
        }
        t.cpus[c].running = Some(to.clone());
        *here.running_name.lock() = name;
        here.current_id
            .store(next.map_or(u64::MAX, id_to_u64), Ordering::Relaxed);
        let user = next
            .and_then(|id| t.table.get(&id))
            .and_then(|r| r.user.clone());
        // The old value is dropped after the switch (not under THREADS).
        let old_user = core::mem::replace(&mut *here.current_user.lock(), user);
        here.parked_user.lock().replace(old_user);
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

/// Drops the user-thread reference the last `schedule` on this CPU
/// replaced (runs right after every switch lands).
fn drop_parked_user() {
    let parked = arch::cpu::without_interrupts(|| here().parked_user.lock().take());
    drop(parked);
}

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
fn kick(target: CpuId) {
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
        while let Some((&(deadline, id), _)) = t.sleepers.first_key_value() {
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
        let ctx = Arc::new(ThreadContext::new(stack.top, thread_entry, id_to_u64(id)));
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
            arch::cpu::without_interrupts(|| {
                if let Some(t) = THREADS.lock().as_mut()
                    && let Some(r) = t.table.get_mut(&id)
                {
                    r.stack = Some(stack);
                }
            });
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

/// Frees the records and stacks of exited user threads (nobody joins them)
/// once they are off their CPU.
pub fn reap_detached() {
    let mut stacks_to_free = alloc::vec::Vec::new();
    arch::cpu::without_interrupts(|| {
        let mut g = THREADS.lock();
        let Some(t) = g.as_mut() else { return };
        let done: alloc::vec::Vec<ThreadId> = t
            .table
            .iter()
            .filter(|(_, r)| r.user.is_some() && r.exit_code.is_some() && !r.ctx.on_cpu())
            .map(|(&id, _)| id)
            .collect();
        for id in done {
            if let Some(r) = t.table.remove(&id) {
                let _ = t.sched.remove(id);
                stacks_to_free.extend(r.stack);
            }
        }
    });
    // Outside THREADS: unmapping waits for TLB shootdowns.
    for s in stacks_to_free {
        stacks::free(s);
    }
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

/// A thread id as one word (for atomics), and back.
pub fn id_to_u64(id: ThreadId) -> u64 {
    ((id.generation as u64) << 32) | id.index as u64
}

pub fn id_from_u64(v: u64) -> ThreadId {
    ThreadId {
        index: v as u32,
        generation: (v >> 32) as u32,
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

/// The running thread's name, without waiting for locks (fault reports).
pub fn current_name() -> Option<&'static str> {
    here().running_name.try_lock().map(|n| *n)
}

/// Ends the running thread with `code`, waking its joiners.
pub fn exit(code: u64) -> ! {
    arch::cpu::disable_interrupts();
    let mut kicks = alloc::vec::Vec::new();
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
                        kicks.push(k);
                    }
                }
                t.sched.exit_current(c, now(), &mut sink);
            }
        }
    }
    for k in kicks {
        kick(k);
    }
    schedule();
    unreachable!("an exited thread was resumed");
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinError {
    NoSuchThread,
    JoinSelf,
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

/// Lets other threads of the same priority run.
pub fn yield_now() {
    arch::cpu::without_interrupts(|| {
        if let Some(t) = THREADS.lock().as_mut() {
            t.sched.yield_now(CpuId(cpu() as u16), now(), &mut sink);
        }
        schedule();
    });
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
            t.sleepers.insert((now().saturating_add(ns), me), ());
            t.sched
                .block_current(c, BlockReason::Sleep, now(), &mut sink);
        }
        schedule();
    });
}

/// Runtime statistics of a thread (for tests and reports).
pub fn stats(id: ThreadId) -> Option<ferrous_sched::ThreadStats> {
    THREADS.lock().as_ref()?.sched.stats(id).ok()
}

pub fn check_invariants() -> Result<(), &'static str> {
    THREADS
        .lock()
        .as_ref()
        .map_or(Err("threads not started"), |t| t.sched.check_invariants())
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
        let mut kicks = alloc::vec::Vec::new();
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
                    kicks.extend(k);
                    n += 1;
                }
            }
            n
        });
        for k in kicks {
            kick(k);
        }
        arch::cpu::without_interrupts(preempt_if_needed);
        woken
    }
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether `id` is a user thread whose process has ended (an atomic
/// load: allowed under THREADS).
fn ending(t: &Threads, id: ThreadId) -> bool {
    t.table
        .get(&id)
        .and_then(|r| r.user.as_ref())
        .is_some_and(|u| !u.process.is_running())
}

/// The id of what CPU `cpu` runs (call with interrupts off, on `cpu`).
pub fn current_id_on(cpu: usize) -> Option<ThreadId> {
    let raw = percpu::cpu(cpu)?.thread.current_id.load(Ordering::Relaxed);
    (raw != u64::MAX).then(|| id_from_u64(raw))
}

/// The running thread's id (this CPU's record, as above).
pub fn current_id() -> Option<ThreadId> {
    let raw = arch::cpu::without_interrupts(|| here().current_id.load(Ordering::Relaxed));
    (raw != u64::MAX).then(|| id_from_u64(raw))
}

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
            if deadline != u64::MAX {
                t.sleepers.insert((deadline, me), ());
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
