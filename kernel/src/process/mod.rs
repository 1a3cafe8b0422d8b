//! User processes: an address space, a capability space, one or more
//! threads, and the memory object everything is charged to.
//!
//! A process ends once (the first of `process_exit`, a fault, its last
//! thread's `thread_exit`, `process_kill`, or the destruction of its
//! process object): its status is set, its capability space is destroyed
//! (which may end the processes it made), waiters wake, and its blocked
//! threads are interrupted. Each thread leaves when it next reaches user
//! mode; the last one to leave frees the address space and refunds the
//! memory charged for it.

mod boot;
mod fault;

pub use boot::{Initial, spawn_from_kernel};
pub use fault::{UserFault, user_fault};

use crate::arch;
use crate::cap;
use crate::exec::{self, LoadError};
use crate::memory::Memory;
use crate::mm::uspace::UserSpace;
use crate::sync::SpinLock;
use crate::thread::{self, Priority, WaitQueue};
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use ferrous_abi::metrics::{PROCESS_METRICS, ProcessMetric};
use ferrous_abi::{ExitStatus, PAGE_SIZE, SysError};
use ferrous_caps::CSpaceId;

const RUNNING: u64 = u64::MAX;
static NEXT_PROCESS_ID: AtomicU64 = AtomicU64::new(1);
pub const USER_PRIORITY: Priority = Priority(12);
/// Charged per process beyond its pages and page tables (which its
/// address space charges as it makes them): a page for the process record
/// and bookkeeping, and its capability table full (every slot with a node
/// in the derivation tree, `ferrous_caps::SLOT_BYTES`, and an entry in the
/// kernel's object table, `cap::OBJECT_ENTRY_BYTES`), so no number of
/// capabilities it makes costs the kernel unpaid memory.
const PROCESS_OVERHEAD: u64 = PAGE_SIZE
    + (ferrous_abi::CSPACE_SLOTS as u64
        * (ferrous_caps::SLOT_BYTES + crate::cap::OBJECT_ENTRY_BYTES) as u64)
        .next_multiple_of(PAGE_SIZE);
/// Charged per thread: its kernel stack and record.
const THREAD_COST: u64 = thread::STACK_SIZE + PAGE_SIZE;
/// Most threads one process may have at once.
pub const MAX_THREADS: usize = 64;

pub struct Process {
    pub name: &'static str,
    /// Kernel-internal (never in the ABI): names the process as the owner
    /// of the endpoints it made.
    pub id: u64,
    pub cspace: CSpaceId,
    /// Bytes charged to its memory on this process's behalf besides its
    /// address space's frames and tables (which the space counts itself),
    /// refunded when the address space goes.
    charged: AtomicU64,
    /// The address space and the memory everything this process holds is
    /// charged to; `None` once the last thread has left. The memory goes
    /// with the space, so an ended process whose records linger (its
    /// threads are reaped later) no longer holds its `Memory` object,
    /// which then is freed, and its cost refunded, as soon as nothing else
    /// needs it.
    space: SpinLock<Option<Live>>,
    root: u64,
    status: AtomicU64,
    exited: WaitQueue,
    /// Always-on counters: [`Stat`] order.
    stats: [AtomicU64; STATS],
    /// Live threads, plus [`CLOSED`] once the last one has left: no
    /// thread can be added after that (its address space is gone).
    threads: AtomicU64,
    /// The next process on the capability code's list of ended processes
    /// whose tables are still to go (`cap::end_processes`): the list is
    /// linked through the processes, so ending a tree allocates nothing.
    next_ended: SpinLock<Option<Arc<Process>>>,
    /// The generation of its I/O port grants (`crate::ports`): 0 if it
    /// never had one, else raised at every change.
    ports_generation: AtomicU64,
}

/// What a process holds until its last thread leaves.
struct Live {
    space: UserSpace,
    memory: Arc<Memory>,
}

/// Per-process counters: the first [`ProcessMetric`]s of the
/// `metrics_read` layout (the CPU time adds the live threads', and the
/// memory charged follows, see [`Process::metrics`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stat {
    Syscalls = ProcessMetric::Syscalls as isize,
    IpcSent = ProcessMetric::IpcSent as isize,
    Faults = ProcessMetric::Faults as isize,
    /// CPU time of threads that have left, in ns.
    CpuNsDone = ProcessMetric::CpuNs as isize,
}
const STATS: usize = 4;

/// In `Process::threads`: the address space is gone for good.
const CLOSED: u64 = 1 << 63;
/// In `Process::threads`: and everything charged for it is refunded.
const RELEASED: u64 = 1 << 62;

/// A user thread: the kernel thread record points here.
pub struct UserThread {
    pub process: Arc<Process>,
    status: AtomicU64,
    exited: WaitQueue,
    /// The scheduler's id, once the thread exists (`thread::id_to_u64`).
    tid: AtomicU64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    Load(LoadError),
    Thread(thread::SpawnError),
    Sys(SysError),
}

impl core::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SpawnError::Load(e) => write!(f, "{e}"),
            SpawnError::Thread(e) => write!(f, "no thread: {e:?}"),
            SpawnError::Sys(e) => write!(f, "{e}"),
        }
    }
}

impl SpawnError {
    pub fn to_sys(self) -> SysError {
        match self {
            SpawnError::Load(LoadError::Elf(_)) => SysError::BadElf,
            SpawnError::Load(LoadError::Space(e)) => e,
            SpawnError::Sys(e) => e,
            _ => SysError::OutOfMemory,
        }
    }
}

impl Process {
    /// The generation of its I/O port grants (0: never had one).
    pub fn ports_generation(&self) -> u64 {
        self.ports_generation.load(Ordering::Acquire)
    }

    /// Its I/O port grants changed (`crate::ports`).
    pub fn ports_changed(&self, generation: u64) {
        self.ports_generation.store(generation, Ordering::Release);
    }

    pub fn status(&self) -> Option<ExitStatus> {
        let raw = self.status.load(Ordering::SeqCst);
        ExitStatus::from_raw(raw).filter(|_| raw != RUNNING)
    }

    pub fn count(&self, s: Stat) {
        self.stats[s as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// The `metrics_read` words, one per [`ProcessMetric`], CPU time
    /// including its live threads'.
    pub fn metrics(&self) -> [u64; PROCESS_METRICS] {
        let live = thread::runtime_of(self);
        let stat = |s: Stat| self.stats[s as usize].load(Ordering::Relaxed);
        let mut words = [0; PROCESS_METRICS];
        for m in ProcessMetric::ALL {
            words[*m as usize] = match m {
                ProcessMetric::Syscalls => stat(Stat::Syscalls),
                ProcessMetric::IpcSent => stat(Stat::IpcSent),
                ProcessMetric::Faults => stat(Stat::Faults),
                ProcessMetric::CpuNs => stat(Stat::CpuNsDone) + live,
                ProcessMetric::MemoryCharged => {
                    self.charged.load(Ordering::Relaxed)
                        + self.with_space(|s| s.charged()).unwrap_or(0)
                }
            };
        }
        words
    }

    /// Links this ended process to the next on a list (`cap::Ended`).
    pub fn set_next_ended(&self, next: Option<Arc<Process>>) {
        *self.next_ended.lock() = next;
    }

    pub fn take_next_ended(&self) -> Option<Arc<Process>> {
        self.next_ended.lock().take()
    }

    pub fn is_running(&self) -> bool {
        self.status.load(Ordering::SeqCst) == RUNNING
    }

    /// Runs `f` on the address space (`None` once it is gone).
    pub fn with_space<R>(&self, f: impl FnOnce(&mut UserSpace) -> R) -> Option<R> {
        self.space.lock().as_mut().map(|l| f(&mut l.space))
    }

    /// Charges `bytes` to the process's memory, for as long as the process
    /// lives (or until `uncharge`). Under the space lock, so it cannot race
    /// with the last thread's refund: once the space is gone nothing more
    /// is charged (`ObjectGone`).
    pub fn charge(&self, bytes: u64) -> Result<(), SysError> {
        let live = self.space.lock();
        let Some(live) = live.as_ref() else {
            return Err(SysError::ObjectGone);
        };
        live.memory.charge(bytes)?;
        self.charged.fetch_add(bytes, Ordering::AcqRel);
        Ok(())
    }

    /// Gives back `bytes` charged by [`Process::charge`]; nothing once the
    /// space is gone (the last thread refunded everything then).
    pub fn uncharge(&self, bytes: u64) {
        let live = self.space.lock();
        let Some(live) = live.as_ref() else {
            return;
        };
        let taken = self
            .charged
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                Some(c.saturating_sub(bytes))
            })
            .map_or(0, |c| c.min(bytes));
        live.memory.refund(taken);
    }

    /// Whether its address space is gone and every charge refunded (after
    /// it ended).
    pub fn is_released(&self) -> bool {
        self.threads.load(Ordering::Acquire) & RELEASED != 0
    }

    /// Blocks until the process has ended and its memory is back in its
    /// budget, `timeout_ns` passed (0 polls,
    /// `u64::MAX` waits for ever), the caller's process is ending, or the
    /// capability `still_held` checks is gone.
    pub fn wait(
        &self,
        timeout_ns: u64,
        still_held: impl Fn() -> bool,
    ) -> Result<ExitStatus, SysError> {
        let deadline = arch::time::now_ns().saturating_add(timeout_ns);
        loop {
            // Ended and released: what it held is back in its budget.
            if let Some(s) = self.status().filter(|_| self.is_released()) {
                return Ok(s);
            }
            wait_step(&self.exited, deadline, timeout_ns, &still_held, || {
                self.is_released()
            })?;
        }
    }

    /// Ends the process with `status` unless it has already ended. The
    /// processes whose last capability was in its table end too: all of
    /// them one after another (`cap::end_processes`), not by recursion, so
    /// a deep process tree cannot exhaust the kernel stack.
    pub fn end(self: &Arc<Process>, status: ExitStatus) {
        cap::end_processes(self.clone(), status);
    }

    /// The first half of ending: sets the status once. `false` if the
    /// process had already ended.
    pub fn mark_ended(&self, status: ExitStatus) -> bool {
        let first = self
            .status
            .compare_exchange(RUNNING, status.to_raw(), Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if first {
            log::info!("process {}: {status}", self.name);
            let args = [self.id, status.to_raw(), 0, 0];
            crate::trace::emit(ferrous_trace::EventType::ProcessExit, args, 0);
        }
        first
    }

    /// The second half, after its capability table is gone: IPC treats its
    /// threads as gone (calls they owe fail, replies owed to them are
    /// dead, endpoints they serve close), waiters wake, and its blocked
    /// threads are interrupted so each can leave.
    pub fn after_end(&self) {
        // One thread at a time, found again under the thread lock: no list.
        let mut from = 0;
        while let Some((at, t)) = thread::next_thread_of(self, from) {
            crate::ipc::thread_gone(t);
            from = at + 1;
        }
        crate::ipc::process_ended(self.id);
        self.exited.wake_all();
        thread::interrupt_process(self);
    }

    /// A thread of this process has left for good (it runs on the
    /// kernel's tables now): the last one out ends the process if nothing
    /// else did, frees the address space and refunds the charges.
    fn thread_left(self: &Arc<Process>, status: ExitStatus) {
        let before = self
            .threads
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(if n == 1 { CLOSED } else { n.saturating_sub(1) })
            })
            .unwrap_or(0);
        if before == 1 {
            self.end(status);
            // `metrics` scans the thread table: only when it is printed.
            if log::log_enabled!(log::Level::Debug) {
                let m = self.metrics();
                let get = |w: ProcessMetric| m[w as usize];
                log::debug!(
                    "metrics: process {} syscalls={} ipc={} faults={} cpu_us={} memory_charged={}",
                    self.name,
                    get(ProcessMetric::Syscalls),
                    get(ProcessMetric::IpcSent),
                    get(ProcessMetric::Faults),
                    get(ProcessMetric::CpuNs) / 1000,
                    get(ProcessMetric::MemoryCharged)
                );
            }
            self.close();
        }
    }

    /// Frees the address space and refunds every charge; once. Waiters
    /// wake again: `process_wait` returns only after this.
    fn close(&self) {
        let mut guard = self.space.lock();
        if let Some(Live { space, memory }) = guard.take() {
            let charged = self.charged.swap(0, Ordering::AcqRel);
            drop(guard);
            space.destroy();
            memory.refund(charged);
            self.threads.fetch_or(RELEASED, Ordering::AcqRel);
            self.exited.wake_all();
        }
    }
}

impl UserThread {
    /// The scheduler's id (`None` until the thread exists).
    pub fn id(&self) -> Option<thread::ThreadId> {
        let raw = self.tid.load(Ordering::Acquire);
        (raw != u64::MAX).then(|| thread::id_from_u64(raw))
    }

    pub fn status(&self) -> Option<u32> {
        let raw = self.status.load(Ordering::SeqCst);
        (raw != RUNNING).then_some(raw as u32)
    }

    /// As [`Process::wait`], for the thread's exit code.
    pub fn wait(&self, timeout_ns: u64, still_held: impl Fn() -> bool) -> Result<u32, SysError> {
        let deadline = arch::time::now_ns().saturating_add(timeout_ns);
        loop {
            if let Some(code) = self.status() {
                return Ok(code);
            }
            wait_step(&self.exited, deadline, timeout_ns, &still_held, || {
                self.status.load(Ordering::SeqCst) != RUNNING
            })?;
        }
    }
}

/// One round of a blocking wait on `queue` until `done`: returns when the
/// caller should look again, or the error that ends the wait. A bounded
/// wait polls at tick granularity; an unbounded one sleeps on the queue
/// and also wakes for capability changes and its own process's end.
fn wait_step(
    queue: &WaitQueue,
    deadline: u64,
    timeout_ns: u64,
    still_held: &impl Fn() -> bool,
    done: impl Fn() -> bool,
) -> Result<(), SysError> {
    let me = thread::current_process();
    let dying = || me.as_ref().is_some_and(|p| !p.is_running());
    if dying() {
        return Err(SysError::ObjectGone);
    }
    // The epoch before the check: a delete after it changes the epoch, so
    // the wait below cannot miss it.
    let epoch = cap::epoch();
    if !still_held() {
        return Err(SysError::ObjectGone);
    }
    if timeout_ns == u64::MAX {
        queue.wait_until(|| done() || dying() || cap::epoch() != epoch);
        return Ok(());
    }
    let now = arch::time::now_ns();
    if now >= deadline {
        return Err(if timeout_ns == 0 {
            SysError::WouldBlock
        } else {
            SysError::TimedOut
        });
    }
    thread::sleep_ns((deadline - now).min(10_000_000));
    Ok(())
}

/// Loads `elf` as a new process made from `memory`, with an empty
/// capability space. It runs once [`start`] gives it a thread.
pub fn create(
    name: &'static str,
    elf: &[u8],
    args: &[u8],
    memory: Arc<Memory>,
) -> Result<(Arc<Process>, thread::UserStart), SpawnError> {
    let exec::Image {
        space,
        entry,
        stack_top,
        args: args_va,
        args_len,
        ..
    } = {
        // The bookkeeping first; the space charges its pages and tables
        // to `memory` as it makes them.
        memory.charge(PROCESS_OVERHEAD).map_err(SpawnError::Sys)?;
        exec::load(elf, args, Some(memory.clone())).map_err(|e| {
            memory.refund(PROCESS_OVERHEAD);
            SpawnError::Load(e)
        })?
    };
    let bytes = PROCESS_OVERHEAD;
    let cspace = match cap::create_cspace() {
        Ok(s) => s,
        Err(e) => {
            space.destroy();
            memory.refund(bytes);
            return Err(SpawnError::Sys(e));
        }
    };
    let root = space.root();
    // alloc: fixed-size (mm::heap::fixed, "Fixed-size objects"), charged above
    let p = crate::mm::heap::fixed(|| {
        Arc::new(Process {
            name,
            id: NEXT_PROCESS_ID.fetch_add(1, Ordering::Relaxed),
            cspace,
            charged: AtomicU64::new(bytes),
            space: SpinLock::new(Some(Live { space, memory })),
            root,
            status: AtomicU64::new(RUNNING),
            exited: WaitQueue::new(),
            threads: AtomicU64::new(0),
            stats: [const { AtomicU64::new(0) }; STATS],
            next_ended: SpinLock::new(None),
            ports_generation: AtomicU64::new(0),
        })
    });
    let start = thread::UserStart {
        entry,
        stack_top,
        arg0: args_va,
        arg1: args_len,
        root,
    };
    let parent = thread::current_process().map_or(0, |q| q.id);
    crate::trace::emit(
        ferrous_trace::EventType::ProcessSpawn,
        [p.id, parent, 0, 0],
        0,
    );
    Ok((p, start))
}

/// Starts the first thread of a process made by [`create`]; on failure
/// the process is ended (`Killed`).
pub fn start(p: &Arc<Process>, start: thread::UserStart) -> Result<Arc<UserThread>, SpawnError> {
    match add_thread(p, start, |_| Ok(())) {
        Ok(t) => {
            log::info!("process {}: started at {:#x}", p.name, start.entry);
            Ok(t)
        }
        Err(e) => {
            // No thread will ever leave it: take it apart here.
            abandon(p);
            Err(e)
        }
    }
}

/// A new thread in `p`, entering user mode at `start` (whose root is
/// filled in here). `register` runs before the thread starts (it records a
/// capability for it); if it fails, no thread runs.
pub fn add_thread(
    p: &Arc<Process>,
    start: thread::UserStart,
    register: impl FnOnce(&Arc<UserThread>) -> Result<(), SysError>,
) -> Result<Arc<UserThread>, SpawnError> {
    // Count it first: once counted, the space cannot go away under it.
    p.threads
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n & CLOSED == 0 && n < MAX_THREADS as u64).then_some(n + 1)
        })
        .map_err(|n| {
            SpawnError::Sys(if n & CLOSED != 0 {
                SysError::ObjectGone
            } else {
                SysError::TableFull
            })
        })?;
    // Uncounting the only thread ends the process: it has no other.
    let undo = |e: SpawnError| {
        p.thread_left(ExitStatus::Killed);
        e
    };
    if !p.is_running() {
        return Err(undo(SpawnError::Sys(SysError::ObjectGone)));
    }
    p.charge(THREAD_COST)
        .map_err(|e| undo(SpawnError::Sys(e)))?;
    // alloc: fixed-size (mm::heap::fixed, "Fixed-size objects"), charged above
    let t = crate::mm::heap::fixed(|| {
        Arc::new(UserThread {
            process: p.clone(),
            status: AtomicU64::new(RUNNING),
            exited: WaitQueue::new(),
            tid: AtomicU64::new(u64::MAX),
        })
    });
    if let Err(e) = register(&t) {
        p.uncharge(THREAD_COST);
        return Err(undo(SpawnError::Sys(e)));
    }
    let start = thread::UserStart {
        root: p.root,
        ..start
    };
    match thread::spawn_user(p.name, USER_PRIORITY, t.clone(), start) {
        Ok(id) => {
            t.tid.store(thread::id_to_u64(id), Ordering::Release);
            let word = crate::trace::thread_word(Some(id));
            crate::trace::emit(
                ferrous_trace::EventType::ProcessThreadStart,
                [word, p.id, 0, 0],
                0,
            );
            crate::trace::name_thread(id, p.id, p.name);
        }
        Err(e) => {
            p.uncharge(THREAD_COST);
            return Err(undo(SpawnError::Thread(e)));
        }
    }
    Ok(t)
}

/// Ends the running thread with `code`: the last thread of a process ends
/// the process with `Exited { code }`. Never returns.
pub fn thread_exit_current(code: u32) -> ! {
    leave(code)
}

/// Ends the running thread's process with `status`. Never returns.
pub fn exit_current(status: ExitStatus) -> ! {
    if let Some(t) = thread::current_user_thread() {
        t.process.end(status);
    }
    leave(u32::MAX)
}

/// The running thread stops for good with `code`: off its address space
/// first (so the last thread out can free it), then out of the process.
fn leave(code: u32) -> ! {
    let t = thread::current_user_thread();
    if let Some(me) = thread::current_id() {
        crate::ipc::thread_gone(me);
        if let (Some(t), Some(s)) = (&t, thread::stats(me)) {
            t.process.stats[Stat::CpuNsDone as usize].fetch_add(s.runtime_ns, Ordering::Relaxed);
        }
    }
    thread::leave_user_space();
    if let Some(t) = t {
        t.status.store(u64::from(code), Ordering::SeqCst);
        t.exited.wake_all();
        t.process.uncharge(THREAD_COST);
        t.process.thread_left(ExitStatus::Exited { code });
    }
    thread::exit(u64::from(code))
}

/// Called before returning to user mode (after a system call or an
/// interrupt from ring 3): a thread whose process has ended leaves here.
pub fn check_return_to_user() {
    if let Some(p) = thread::current_process()
        && !p.is_running()
    {
        arch::cpu::enable_interrupts();
        leave(u32::MAX);
    }
}

/// Wakes the threads blocked on `o` (waiting for a process or thread),
/// after one of its capabilities was deleted: each re-checks its own.
pub fn wake_waiters(o: &cap::Object) {
    match o {
        cap::Object::Process(p) => {
            p.exited.wake_all();
        }
        cap::Object::Thread(t) => {
            t.exited.wake_all();
        }
        cap::Object::Endpoint(e) => crate::ipc::revalidate(e.id()),
        cap::Object::Notification(n) => crate::ipc::revalidate(n.id()),
        _ => {}
    }
}

/// Takes apart a process made by [`create`] that never got a thread.
pub fn abandon(p: &Arc<Process>) {
    p.end(ExitStatus::Killed);
    let closed = p
        .threads
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n == 0).then_some(CLOSED)
        })
        .is_ok();
    if closed {
        p.close();
    }
}
