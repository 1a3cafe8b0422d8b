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
//!
//! This file holds the table, the per-CPU state and start-up; the rest:
//! - `schedule`: the switch, yield, the idle loop, the tick, affinity;
//! - `preempt`: the preemption count and reschedule requests;
//! - `lifecycle`: spawn, the first run, exit, join, reaping;
//! - `park`: blocking the running thread (park/unpark, the IPC handoff,
//!   sleep);
//! - `wait`: wait queues;
//! - `user`: what the CPU runs, and user threads and their process;
//! - `ids`: thread ids as one word.

mod ids;
mod lifecycle;
mod park;
mod preempt;
mod schedule;
mod table;
mod user;
mod wait;

pub use ferrous_sched::{BlockReason, CpuId, Priority, ThreadId, WakeReason};
pub use ids::{id_from_u64, id_to_u64};
pub use lifecycle::{exit, join, reap_detached, spawn, spawn_user};
pub use park::{handoff, park, sleep_ns, unpark};
pub use preempt::{preempt_disable, preempt_enable, preempt_if_needed};
pub use schedule::{run_idle, schedule, set_affinity, timer_tick, yield_now};
pub use user::{
    current_id, current_id_on, current_name, current_process, current_user_thread,
    interrupt_process, leave_user_space, next_thread_of, runtime_of,
};
pub use wait::WaitQueue;

use crate::arch::{self, context::ThreadContext, percpu::MAX_CPUS};
use crate::mm::stacks::{self, KernelStack};
use crate::percpu;
use crate::sync::IrqMutex;
use crate::trace;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use ferrous_sched::waitq::WaitQueue as Waiters;
use ferrous_sched::{Config, Event, Scheduler};
use schedule::idle_entry;
use table::{Sleepers, ThreadTable};

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

/// A CPU's contexts, under THREADS (the per-CPU state the scheduler lock
/// covers; the rest is [`CpuState`]).
struct Cpu {
    /// The context running on this CPU now (a thread's or the idle one).
    running: Option<Arc<ThreadContext>>,
    idle: Option<Arc<ThreadContext>>,
}

struct Threads {
    sched: Scheduler,
    table: ThreadTable,
    cpus: [Cpu; MAX_CPUS],
    /// Sleeping threads by wake-up time, with room for every thread.
    sleepers: Sleepers,
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

    /// The id of the thread this CPU runs (read on this CPU with
    /// interrupts off, or as a hint).
    #[inline]
    pub fn current(&self) -> Option<ThreadId> {
        let raw = self.current_id.load(Ordering::Relaxed);
        (raw != u64::MAX).then(|| id_from_u64(raw))
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinError {
    NoSuchThread,
    JoinSelf,
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
        table: ThreadTable::new(),
        cpus: [const {
            Cpu {
                running: None,
                idle: None,
            }
        }; MAX_CPUS],
        sleepers: Sleepers::new(),
    };
    // Boot: nothing else has allocated yet, so no room is a fatal error.
    t.table
        .reserve(main)
        .and_then(|()| t.sleepers.reserve(1))
        .map_err(|_| SpawnError::Scheduler(ferrous_sched::SchedError::OutOfMemory))?;
    // alloc: fixed-size (mm::heap, "Fixed-size objects"), at boot
    let ctx = Arc::new(ThreadContext::current());
    // alloc: reserved above (ThreadTable::reserve)
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
        // alloc: fixed-size (mm::heap, "Fixed-size objects"), at boot
        Arc::new(ThreadContext::new(stack.top, idle_entry, index as u64))
    } else {
        // alloc: fixed-size (mm::heap, "Fixed-size objects"), at boot
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

/// Whether `id` is a user thread whose process has ended (an atomic
/// load: allowed under THREADS).
fn ending(t: &Threads, id: ThreadId) -> bool {
    t.table
        .get(&id)
        .and_then(|r| r.user.as_ref())
        .is_some_and(|u| !u.process.is_running())
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
