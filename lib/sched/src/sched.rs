//! [`Scheduler`]: the thread table, the per-CPU run queues and the decisions
//! made over them.
//!
//! Threads live in a slab (`Vec<Slot>`); run queues and the throttled list
//! are doubly linked through the slots by index, so moving a thread between
//! queues is a few index writes and never allocates.

use crate::{
    BlockReason, Budget, Config, CpuId, Event, HandoffError, MigrateReason, PickReason,
    PreemptReason, Priority, SchedError, ThreadId, ThreadState, ThreadStats, WakeReason,
};
use alloc::vec::Vec;
use core::cmp::Reverse;
use core::fmt;

/// End of a list; "no thread".
const NIL: u32 = u32::MAX;
const LEVELS: usize = Priority::LEVELS;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ends {
    head: u32,
    tail: u32,
}

impl Ends {
    const EMPTY: Ends = Ends {
        head: NIL,
        tail: NIL,
    };
}

/// A budget and the period it is being spent in.
#[derive(Clone, Copy, Debug)]
struct Period {
    budget: Budget,
    start: u64,
    used: u64,
}

impl Period {
    /// The period containing `now`, nothing used; periods are aligned to
    /// multiples of their length.
    fn new(budget: Budget, now: u64) -> Period {
        Period {
            budget,
            start: now - now % budget.period_ns,
            used: 0,
        }
    }

    fn end(&self) -> u64 {
        self.start.saturating_add(self.budget.period_ns)
    }

    /// Moves on to the period containing `now` if this one is over; true if
    /// it did (the quota is available again).
    fn roll(&mut self, now: u64) -> bool {
        if now < self.end() {
            return false;
        }
        // Cannot overflow: the product is at most `now - start`.
        let periods = (now - self.start) / self.budget.period_ns;
        self.start += periods * self.budget.period_ns;
        self.used = 0;
        true
    }

    /// Charges `ran` ns of runtime that ended at `now`; only the part inside
    /// the current period counts against it.
    fn charge(&mut self, ran: u64, now: u64) {
        if self.roll(now) {
            self.used = ran.min(now - self.start);
        } else {
            self.used = self.used.saturating_add(ran);
        }
    }

    fn exhausted(&self) -> bool {
        self.used >= self.budget.quota_ns
    }

    /// Whether it is exhausted at `now`, after the roll that `now` implies
    /// (which this does not perform).
    fn exhausted_at(&self, now: u64) -> bool {
        now < self.end() && self.exhausted()
    }
}

#[derive(Clone, Copy, Debug)]
struct Thread {
    priority: Priority,
    affinity: Option<CpuId>,
    period: Option<Period>,
    state: ThreadState,
    /// Where it last ran or was queued: the wake-up placement hint.
    last_cpu: Option<CpuId>,
    /// Links on its run queue or the throttled list (`next` also links free
    /// slots); `NIL` otherwise.
    prev: u32,
    next: u32,
    /// Runtime in the current time slice.
    slice_used: u64,
    /// While running: when runtime was last charged.
    charged_at: u64,
    stats: ThreadStats,
}

impl Thread {
    fn new(priority: Priority, affinity: Option<CpuId>, budget: Option<Budget>) -> Thread {
        Thread {
            priority,
            affinity,
            period: budget.map(|budget| Period {
                budget,
                start: 0,
                used: 0,
            }),
            state: ThreadState::New,
            last_cpu: None,
            prev: NIL,
            next: NIL,
            slice_used: 0,
            charged_at: 0,
            stats: ThreadStats::default(),
        }
    }

    fn exhausted(&self) -> bool {
        self.period.is_some_and(|p| p.exhausted())
    }
}

#[derive(Clone, Copy, Debug)]
struct Slot {
    /// Bumped on every `remove`; a slot whose generation would wrap is
    /// retired instead of reused.
    generation: u32,
    live: bool,
    thread: Thread,
}

struct Cpu {
    /// Bit `p` set iff `queues[p]` is non-empty.
    bitmap: u64,
    queues: [Ends; LEVELS],
    /// Threads on `queues`, and how many of them are unpinned.
    ready: usize,
    movable: usize,
    current: u32,
    /// Whether the CPU runs: unpinned work is never placed on, balanced to
    /// or stolen for an offline CPU (it may be taken from one).
    online: bool,
}

impl Cpu {
    const IDLE: Cpu = Cpu {
        bitmap: 0,
        queues: [Ends::EMPTY; LEVELS],
        ready: 0,
        movable: 0,
        current: NIL,
        online: true,
    };
}

/// What becomes of the current thread in `reschedule`.
#[derive(Clone, Copy)]
enum Leave {
    /// Keeps running unless something should preempt it.
    Auto,
    Yield,
    Block(BlockReason),
    Exit,
}

fn link(slots: &mut [Slot], ends: &mut Ends, i: u32, front: bool) {
    let (prev, next) = if front {
        (NIL, ends.head)
    } else {
        (ends.tail, NIL)
    };
    let t = &mut slots[i as usize].thread;
    t.prev = prev;
    t.next = next;
    match prev {
        NIL => ends.head = i,
        p => slots[p as usize].thread.next = i,
    }
    match next {
        NIL => ends.tail = i,
        n => slots[n as usize].thread.prev = i,
    }
}

fn unlink(slots: &mut [Slot], ends: &mut Ends, i: u32) {
    let t = &mut slots[i as usize].thread;
    let (prev, next) = (t.prev, t.next);
    t.prev = NIL;
    t.next = NIL;
    match prev {
        NIL => ends.head = next,
        p => slots[p as usize].thread.next = next,
    }
    match next {
        NIL => ends.tail = prev,
        n => slots[n as usize].thread.prev = prev,
    }
}

/// Only called with indices below `cpus.len()`, which fits in a `u16`.
fn cpu_id(c: usize) -> CpuId {
    CpuId(c as u16)
}

fn highest(bits: u64) -> usize {
    63 - bits.leading_zeros() as usize
}

/// The scheduling policy for `Config::cpus` CPUs. See the crate docs for
/// the rules; the kernel serialises all calls with one lock.
pub struct Scheduler {
    slots: Vec<Slot>,
    /// Head of the free slot list, linked through `Thread::next`.
    free: u32,
    live: usize,
    cpus: Vec<Cpu>,
    throttled: Ends,
    time_slice: u64,
}

impl Scheduler {
    /// Allocates the per-CPU run queues (about 540 bytes per CPU); the
    /// thread table grows in [`Self::add_thread`].
    pub fn new(config: Config) -> Scheduler {
        let cpus = (0..config.cpus.max(1)).map(|_| Cpu::IDLE).collect();
        Scheduler {
            slots: Vec::new(),
            free: NIL,
            live: 0,
            cpus,
            throttled: Ends::EMPTY,
            time_slice: config.time_slice_ns.max(1),
        }
    }

    pub fn cpus(&self) -> u16 {
        self.cpus.len() as u16
    }

    pub fn time_slice_ns(&self) -> u64 {
        self.time_slice
    }

    /// Threads added and not yet removed.
    pub fn threads(&self) -> usize {
        self.live
    }

    /// A new thread in state `New`; [`Self::make_ready`] it with
    /// [`WakeReason::Created`] to start it. The only call that allocates (when
    /// no removed slot can be reused).
    pub fn add_thread(
        &mut self,
        priority: Priority,
        affinity: Option<CpuId>,
        budget: Option<Budget>,
    ) -> Result<ThreadId, SchedError> {
        let priority = priority.check()?;
        if let Some(cpu) = affinity {
            self.cpu_index(cpu)?;
        }
        let budget = budget.map(Budget::check).transpose()?;
        let thread = Thread::new(priority, affinity, budget);
        let i = if self.free != NIL {
            let i = self.free;
            let slot = &mut self.slots[i as usize];
            self.free = slot.thread.next;
            slot.live = true;
            slot.thread = thread;
            i
        } else {
            let i = u32::try_from(self.slots.len())
                .ok()
                .filter(|&i| i != NIL)
                .ok_or(SchedError::OutOfMemory)?;
            self.slots
                .try_reserve(1)
                .map_err(|_| SchedError::OutOfMemory)?;
            self.slots.push(Slot {
                generation: 0,
                live: true,
                thread,
            });
            i
        };
        self.live += 1;
        Ok(self.id(i))
    }

    /// Frees the slot of a thread that exited or never started and returns
    /// its final stats; its id becomes stale.
    pub fn remove(&mut self, t: ThreadId) -> Result<ThreadStats, SchedError> {
        let i = self.index(t)?;
        let slot = &mut self.slots[i as usize];
        match slot.thread.state {
            ThreadState::New | ThreadState::Exited => {}
            state => return Err(SchedError::WrongState { thread: t, state }),
        }
        let stats = slot.thread.stats;
        slot.live = false;
        self.live -= 1;
        if let Some(generation) = slot.generation.checked_add(1) {
            slot.generation = generation;
            slot.thread.next = self.free;
            self.free = i;
        }
        Ok(stats)
    }

    /// Queues a `New` or `Blocked` thread (see the crate docs for where)
    /// and returns the CPU that should reschedule now because of it: the
    /// thread outranks what runs there, or that CPU is idle. The kernel calls
    /// [`Self::pick_next`] there, or sends it a reschedule IPI if it is not
    /// the calling CPU. A thread whose budget is spent for this period
    /// becomes `Throttled` instead (no event; its `Wake { Refill }` comes at
    /// the period boundary).
    pub fn make_ready(
        &mut self,
        t: ThreadId,
        reason: WakeReason,
        now: u64,
        sink: &mut impl FnMut(Event),
    ) -> Result<Option<CpuId>, SchedError> {
        let i = self.index(t)?;
        let thread = self.thread_mut(i);
        match thread.state {
            ThreadState::New | ThreadState::Blocked(_) => {}
            state => return Err(SchedError::WrongState { thread: t, state }),
        }
        if let Some(p) = &mut thread.period {
            p.roll(now);
            if p.exhausted() {
                self.throttle(i);
                return Ok(None);
            }
        }
        let c = self.wake(i, reason, sink);
        Ok(self.resched_at(c).then(|| cpu_id(c)))
    }

    /// Decides what `cpu` runs next and makes it current; `None` = idle.
    /// The current thread is charged, then keeps running unless its budget
    /// is spent (→ `Throttled`), its affinity names another CPU (→ queued
    /// there), a higher-priority thread is ready here (→ head of its level,
    /// keeping the rest of its slice), or its slice expired and an equal
    /// priority thread is ready (→ tail, fresh slice). With nothing ready
    /// here, an idle CPU steals. Calling it again without a change in between
    /// returns the same thread and emits nothing.
    pub fn pick_next(
        &mut self,
        cpu: CpuId,
        now: u64,
        sink: &mut impl FnMut(Event),
    ) -> Option<ThreadId> {
        let c = self.cpu_index(cpu).ok()?;
        self.reschedule(c, now, Leave::Auto, sink)
    }

    /// The timer interrupt: charges `cpu`'s current thread, refills
    /// throttled threads whose period ended (on any CPU), and returns
    /// [`Self::needs_resched`]: true = call [`Self::pick_next`] now. An idle
    /// CPU gets true when work was queued for it or can be stolen.
    pub fn tick(&mut self, cpu: CpuId, now: u64, sink: &mut impl FnMut(Event)) -> bool {
        let Ok(c) = self.cpu_index(cpu) else {
            return false;
        };
        let current = self.cpus[c].current;
        if current != NIL {
            self.charge(current, now);
        }
        self.refill(now, sink);
        self.resched_at(c)
    }

    /// The current thread goes to the tail of its level with a fresh slice
    /// and the next thread is picked (possibly the same one); read it with
    /// [`Self::current`] or an (idempotent) [`Self::pick_next`].
    pub fn yield_now(&mut self, cpu: CpuId, now: u64, sink: &mut impl FnMut(Event)) {
        if let Ok(c) = self.cpu_index(cpu) {
            self.reschedule(c, now, Leave::Yield, sink);
        }
    }

    /// Blocks `cpu`'s current thread and picks the next: returns the thread
    /// to switch to (`None` = idle), not the blocked one.
    pub fn block_current(
        &mut self,
        cpu: CpuId,
        reason: BlockReason,
        now: u64,
        sink: &mut impl FnMut(Event),
    ) -> Option<ThreadId> {
        let c = self.cpu_index(cpu).ok()?;
        self.reschedule(c, now, Leave::Block(reason), sink)
    }

    /// Direct handoff, the IPC fast path: blocks `cpu`'s current thread with
    /// `reason` (charged, `Block` event and `blocked` stat, as
    /// [`Self::block_current`]) and makes the `Blocked` thread `to` the
    /// current thread of `cpu` at once, without queueing it or picking. The
    /// kernel then switches to `to` itself; [`Self::current`] returns it and
    /// a [`Self::pick_next`] right after emits nothing.
    ///
    /// Allowed only when the general path could have picked `to` here: `to`
    /// may run on `cpu` (unpinned, with `cpu` online, or pinned to `cpu`),
    /// it is within its budget at `now`, no ready thread on `cpu` has a
    /// higher priority, and if one of equal priority waits, `to` has some of
    /// its time slice left. `to` goes ahead of equal-priority ready threads
    /// (it was woken by the thread that had the CPU) but keeps the rest of
    /// its slice instead of getting a fresh one, so threads passing the CPU
    /// back and forth still yield to their level's round robin once their
    /// slices run out.
    ///
    /// Events: `Block` for the current thread, `Migrate { Handoff }` if
    /// `to` last ran on another CPU, `Wake { ByThread(current) }` and
    /// `Pick { Handoff { from: current } }` for `to`, whose `woken`,
    /// `scheduled` and `handoffs` stats count it. CPU loads do not change.
    ///
    /// On `Err` nothing changed and nothing was emitted: the kernel takes
    /// the general path (see the crate docs). Refusals, in the order
    /// checked: a bad `cpu` or `to`, `cpu` idle, `to` the current thread,
    /// `to` not `Blocked`, pinned elsewhere, `cpu` offline for an unpinned
    /// `to`, over budget, outranked, slice expired.
    pub fn handoff(
        &mut self,
        cpu: CpuId,
        reason: BlockReason,
        to: ThreadId,
        now: u64,
        sink: &mut impl FnMut(Event),
    ) -> Result<(), HandoffError> {
        let c = self.cpu_index(cpu)?;
        let i = self.index(to)?;
        let prev = self.cpus[c].current;
        if prev == NIL {
            return Err(HandoffError::Idle(cpu));
        }
        if prev == i {
            return Err(HandoffError::ToSelf(to));
        }
        let t = self.thread(i);
        if !matches!(t.state, ThreadState::Blocked(_)) {
            return Err(SchedError::WrongState {
                thread: to,
                state: t.state,
            }
            .into());
        }
        match t.affinity {
            Some(a) if a != cpu => return Err(HandoffError::Pinned { thread: to, cpu: a }),
            None if !self.cpus[c].online => return Err(HandoffError::Offline(cpu)),
            _ => {}
        }
        if t.period.is_some_and(|p| p.exhausted_at(now)) {
            return Err(HandoffError::OverBudget(to));
        }
        if let Some(top) = self.top_ready(c).filter(|&p| p >= t.priority) {
            let by = self.id(self.cpus[c].queues[usize::from(top.0)].head);
            if top > t.priority {
                return Err(HandoffError::Outranked { thread: to, by });
            }
            if t.slice_used >= self.time_slice {
                return Err(HandoffError::SliceExpired {
                    thread: to,
                    waiting: by,
                });
            }
        }

        self.charge(prev, now);
        let from = self.id(prev);
        self.set_blocked(prev, cpu, reason, sink);
        let t = self.thread_mut(i);
        if let Some(p) = &mut t.period {
            p.roll(now);
        }
        t.stats.woken += 1;
        t.stats.handoffs += 1;
        if let Some(last) = t.last_cpu.filter(|&l| l != cpu) {
            t.stats.migrated += 1;
            sink(Event::Migrate {
                thread: to,
                from: last,
                to: cpu,
                reason: MigrateReason::Handoff,
            });
        }
        sink(Event::Wake {
            thread: to,
            cpu,
            reason: WakeReason::ByThread(from),
        });
        self.run(i, c, now, PickReason::Handoff { from }, sink);
        Ok(())
    }

    /// Marks `cpu`'s current thread `Exited` and picks the next: returns the
    /// thread to switch to (`None` = idle). [`Self::remove`] the exited one
    /// once its stack is no longer in use.
    pub fn exit_current(
        &mut self,
        cpu: CpuId,
        now: u64,
        sink: &mut impl FnMut(Event),
    ) -> Option<ThreadId> {
        let c = self.cpu_index(cpu).ok()?;
        self.reschedule(c, now, Leave::Exit, sink)
    }

    /// Changes a thread's priority; a ready thread moves to the tail of its
    /// new level. Returns the CPU that should reschedule because of it, as
    /// [`Self::make_ready`] does. Emits nothing (the resulting preemption
    /// is reported by `pick_next`).
    pub fn set_priority(
        &mut self,
        t: ThreadId,
        priority: Priority,
        _sink: &mut impl FnMut(Event),
    ) -> Result<Option<CpuId>, SchedError> {
        let i = self.index(t)?;
        let priority = priority.check()?;
        let thread = self.thread(i);
        let old = thread.priority;
        match thread.state {
            ThreadState::Exited => Err(SchedError::WrongState {
                thread: t,
                state: ThreadState::Exited,
            }),
            ThreadState::Ready { cpu } => {
                let c = usize::from(cpu.0);
                if old != priority {
                    self.dequeue(i);
                    self.thread_mut(i).priority = priority;
                    self.enqueue(i, c, false);
                }
                Ok(self.resched_at(c).then_some(cpu))
            }
            ThreadState::Running { cpu } => {
                self.thread_mut(i).priority = priority;
                Ok(self.resched_at(usize::from(cpu.0)).then_some(cpu))
            }
            _ => {
                self.thread_mut(i).priority = priority;
                Ok(None)
            }
        }
    }

    /// Pins a thread to one CPU or unpins it. A ready thread moves to that
    /// CPU's queue at once (`Migrate { Affinity }`); a running one moves at
    /// its CPU's next `pick_next`, which the returned CPU should call.
    pub fn set_affinity(
        &mut self,
        t: ThreadId,
        affinity: Option<CpuId>,
        sink: &mut impl FnMut(Event),
    ) -> Result<Option<CpuId>, SchedError> {
        let i = self.index(t)?;
        if let Some(cpu) = affinity {
            self.cpu_index(cpu)?;
        }
        match self.thread(i).state {
            ThreadState::Exited => Err(SchedError::WrongState {
                thread: t,
                state: ThreadState::Exited,
            }),
            ThreadState::Ready { cpu } => {
                let to = affinity.unwrap_or(cpu);
                let c = usize::from(to.0);
                if to == cpu {
                    // Stays in place: only the movable count changes.
                    let q = &mut self.cpus[c];
                    let was = self.slots[i as usize].thread.affinity.is_none();
                    q.movable = q.movable + usize::from(affinity.is_none()) - usize::from(was);
                    self.thread_mut(i).affinity = affinity;
                } else {
                    self.dequeue(i);
                    let thread = self.thread_mut(i);
                    thread.affinity = affinity;
                    thread.stats.migrated += 1;
                    self.enqueue(i, c, false);
                    sink(Event::Migrate {
                        thread: t,
                        from: cpu,
                        to,
                        reason: MigrateReason::Affinity,
                    });
                }
                Ok(self.resched_at(c).then_some(to))
            }
            ThreadState::Running { cpu } => {
                self.thread_mut(i).affinity = affinity;
                Ok(self.resched_at(usize::from(cpu.0)).then_some(cpu))
            }
            _ => {
                self.thread_mut(i).affinity = affinity;
                Ok(None)
            }
        }
    }

    /// Sets or clears a thread's budget (resource groups). With the same
    /// period length the runtime used in the current period is kept,
    /// otherwise a fresh period starts. A throttled thread that is no longer
    /// over budget is made ready (`Wake { Refill }`), a ready one that now is
    /// gets throttled. Returns the CPU that should reschedule, as
    /// [`Self::make_ready`] does.
    pub fn set_budget(
        &mut self,
        t: ThreadId,
        budget: Option<Budget>,
        now: u64,
        sink: &mut impl FnMut(Event),
    ) -> Result<Option<CpuId>, SchedError> {
        let i = self.index(t)?;
        let budget = budget.map(Budget::check).transpose()?;
        let state = self.thread(i).state;
        if state == ThreadState::Exited {
            return Err(SchedError::WrongState { thread: t, state });
        }
        if let ThreadState::Running { .. } = state {
            self.charge(i, now);
        }
        let thread = self.thread_mut(i);
        thread.period = match (budget, thread.period) {
            (None, _) => None,
            (Some(b), Some(p)) if p.budget.period_ns == b.period_ns => {
                Some(Period { budget: b, ..p })
            }
            (Some(b), _) => Some(Period::new(b, now)),
        };
        match state {
            ThreadState::Running { cpu } => Ok(self.resched_at(usize::from(cpu.0)).then_some(cpu)),
            ThreadState::Ready { .. } if self.thread(i).exhausted() => {
                self.dequeue(i);
                self.throttle(i);
                Ok(None)
            }
            ThreadState::Throttled if !self.thread(i).exhausted() => {
                unlink(&mut self.slots, &mut self.throttled, i);
                let c = self.wake(i, WakeReason::Refill, sink);
                Ok(self.resched_at(c).then(|| cpu_id(c)))
            }
            _ => Ok(None),
        }
    }

    /// Makes ready every throttled thread whose budget period has ended
    /// (`Wake { Refill }`); returns how many. [`Self::tick`] calls it.
    pub fn refill(&mut self, now: u64, sink: &mut impl FnMut(Event)) -> usize {
        let mut refilled = 0;
        let mut i = self.throttled.head;
        while i != NIL {
            let thread = self.thread_mut(i);
            let next = thread.next;
            if thread.period.as_mut().is_none_or(|p| p.roll(now)) {
                unlink(&mut self.slots, &mut self.throttled, i);
                self.wake(i, WakeReason::Refill, sink);
                refilled += 1;
            }
            i = next;
        }
        refilled
    }

    /// The earliest period boundary that will refill a throttled thread,
    /// for a tickless kernel's timer.
    pub fn next_refill(&self) -> Option<u64> {
        let mut earliest = None;
        let mut i = self.throttled.head;
        while i != NIL {
            let thread = self.thread(i);
            let end = thread.period.map_or(0, |p| p.end());
            earliest = Some(earliest.map_or(end, |e: u64| e.min(end)));
            i = thread.next;
        }
        earliest
    }

    /// Evens out loads: while the busiest CPU that has an unpinned ready
    /// thread carries at least 2 more (ready + running) than the least
    /// loaded CPU, moves its lowest-priority unpinned ready thread (the
    /// newest of that level) there. Running and pinned threads never move.
    /// Returns the number of migrations; each is a `Migrate { Balance }`
    /// event, and its `to` CPU may need a reschedule IPI if idle (its next
    /// `tick` returns true in any case).
    pub fn balance(&mut self, _now: u64, sink: &mut impl FnMut(Event)) -> usize {
        let mut moved = 0;
        // Each move lowers the sum of squared loads, so this terminates well
        // before the bound.
        while moved < self.live {
            let Some(from) = (0..self.cpus.len())
                .filter(|&c| self.cpus[c].movable > 0)
                .max_by_key(|&c| (self.load_at(c), Reverse(c)))
            else {
                break;
            };
            let Some(to) = (0..self.cpus.len())
                .filter(|&c| self.cpus[c].online)
                .min_by_key(|&c| (self.load_at(c), c))
            else {
                break;
            };
            let (from_load, to_load) = (self.load_at(from), self.load_at(to));
            // Work stranded on an offline CPU moves whatever the imbalance.
            if self.cpus[from].online && from_load < to_load + 2 {
                break;
            }
            let Some(i) = self.find_movable(from, false) else {
                break;
            };
            self.dequeue(i);
            self.thread_mut(i).stats.migrated += 1;
            self.enqueue(i, to, false);
            sink(Event::Migrate {
                thread: self.id(i),
                from: cpu_id(from),
                to: cpu_id(to),
                reason: MigrateReason::Balance { from_load, to_load },
            });
            moved += 1;
        }
        moved
    }

    /// Whether [`Self::pick_next`] on `cpu` would switch: its current thread
    /// is over budget, pinned elsewhere, outranked by a ready thread, or
    /// past its slice with an equal-priority thread waiting; or the CPU is
    /// idle and has or can steal work. Does not charge runtime.
    pub fn needs_resched(&self, cpu: CpuId) -> bool {
        self.cpu_index(cpu).is_ok_and(|c| self.resched_at(c))
    }

    pub fn current(&self, cpu: CpuId) -> Option<ThreadId> {
        let c = self.cpu_index(cpu).ok()?;
        let i = self.cpus[c].current;
        (i != NIL).then(|| self.id(i))
    }

    pub fn state(&self, t: ThreadId) -> Result<ThreadState, SchedError> {
        Ok(self.thread(self.index(t)?).state)
    }

    pub fn stats(&self, t: ThreadId) -> Result<ThreadStats, SchedError> {
        Ok(self.thread(self.index(t)?).stats)
    }

    pub fn priority(&self, t: ThreadId) -> Result<Priority, SchedError> {
        Ok(self.thread(self.index(t)?).priority)
    }

    pub fn affinity(&self, t: ThreadId) -> Result<Option<CpuId>, SchedError> {
        Ok(self.thread(self.index(t)?).affinity)
    }

    /// Marks `cpu` as running or not (all CPUs start online). A kernel that
    /// brings CPUs up one by one marks the others offline first, so no
    /// unpinned thread waits on a CPU that never starts; threads pinned to
    /// an offline CPU wait for it.
    pub fn set_online(&mut self, cpu: CpuId, online: bool) -> Result<(), SchedError> {
        let c = self.cpu_index(cpu)?;
        self.cpus[c].online = online;
        Ok(())
    }

    pub fn is_online(&self, cpu: CpuId) -> bool {
        self.cpu_index(cpu).is_ok_and(|c| self.cpus[c].online)
    }

    /// Ready threads queued on `cpu` plus its running one (0 for an unknown
    /// CPU).
    pub fn load(&self, cpu: CpuId) -> usize {
        self.cpu_index(cpu).map_or(0, |c| self.load_at(c))
    }

    /// `cpu`'s ready threads in the order they would be picked (empty for
    /// an unknown CPU).
    pub fn queued(&self, cpu: CpuId) -> Queued<'_> {
        let c = usize::from(cpu.0);
        Queued {
            sched: self,
            cpu: c,
            bits: self.cpus.get(c).map_or(0, |q| q.bitmap),
            next: NIL,
            left: self.slots.len(),
        }
    }

    /// Checks every structural invariant, in O(threads + CPUs × levels):
    /// each ready thread is on exactly its CPU's queue at its priority, the
    /// bitmaps and counts match the queues, each running thread is the
    /// current of its CPU and vice versa, throttled threads are on the
    /// throttled list, and the links are consistent.
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        let n = self.slots.len();
        let mut queued = 0;
        for (c, q) in self.cpus.iter().enumerate() {
            let cpu = cpu_id(c);
            let (mut ready, mut movable) = (0, 0);
            for (level, ends) in q.queues.iter().enumerate() {
                if (q.bitmap >> level & 1 == 1) != (ends.head != NIL) {
                    return Err("bitmap disagrees with the run queues");
                }
                let mut prev = NIL;
                let mut i = ends.head;
                while i != NIL {
                    let s = self.slot(i).ok_or("run queue link out of range")?;
                    let t = &s.thread;
                    if t.state != (ThreadState::Ready { cpu }) {
                        return Err("run queue holds a thread that is not ready on its CPU");
                    }
                    if usize::from(t.priority.0) != level {
                        return Err("thread queued at the wrong priority");
                    }
                    if t.prev != prev {
                        return Err("run queue prev link is broken");
                    }
                    ready += 1;
                    movable += usize::from(t.affinity.is_none());
                    if ready > n {
                        return Err("run queue has a cycle");
                    }
                    prev = i;
                    i = t.next;
                }
                if ends.tail != prev {
                    return Err("run queue tail is wrong");
                }
            }
            if ready != q.ready || movable != q.movable {
                return Err("ready counts disagree with the run queues");
            }
            queued += ready;
            if q.current != NIL
                && self
                    .slot(q.current)
                    .is_none_or(|s| s.thread.state != ThreadState::Running { cpu })
            {
                return Err("current thread is not running on its CPU");
            }
        }

        let mut throttled = 0;
        let mut prev = NIL;
        let mut i = self.throttled.head;
        while i != NIL {
            let t = &self.slot(i).ok_or("throttled link out of range")?.thread;
            if t.state != ThreadState::Throttled || t.period.is_none() {
                return Err("throttled list holds a thread that is not throttled");
            }
            if t.prev != prev {
                return Err("throttled list prev link is broken");
            }
            throttled += 1;
            if throttled > n {
                return Err("throttled list has a cycle");
            }
            prev = i;
            i = t.next;
        }
        if self.throttled.tail != prev {
            return Err("throttled list tail is wrong");
        }

        let mut free = 0;
        let mut i = self.free;
        while i != NIL {
            let s = self.slots.get(i as usize).ok_or("free link out of range")?;
            if s.live {
                return Err("live slot on the free list");
            }
            free += 1;
            if free > n {
                return Err("free list has a cycle");
            }
            i = s.thread.next;
        }

        let (mut live, mut ready, mut running, mut throttled_threads) = (0, 0, 0, 0);
        let valid_cpu = |cpu: Option<CpuId>| cpu.is_none_or(|c| usize::from(c.0) < self.cpus.len());
        for (index, s) in self.slots.iter().enumerate() {
            if !s.live {
                continue;
            }
            live += 1;
            let t = &s.thread;
            if t.priority.check().is_err() {
                return Err("priority out of range");
            }
            if !valid_cpu(t.affinity) || !valid_cpu(t.last_cpu) {
                return Err("thread names a CPU that does not exist");
            }
            match t.state {
                ThreadState::Ready { .. } => ready += 1,
                ThreadState::Throttled => throttled_threads += 1,
                ThreadState::Running { cpu } => {
                    running += 1;
                    if self
                        .cpus
                        .get(usize::from(cpu.0))
                        .map(|q| q.current as usize)
                        != Some(index)
                    {
                        return Err("running thread is not the current of its CPU");
                    }
                }
                _ if t.prev != NIL || t.next != NIL => {
                    return Err("thread on no list has links");
                }
                _ => {}
            }
        }
        if live != self.live || live + free > n {
            return Err("live count disagrees with the thread table");
        }
        if ready != queued {
            return Err("a ready thread is missing from the run queues");
        }
        if throttled_threads != throttled {
            return Err("a throttled thread is missing from the throttled list");
        }
        if running != self.cpus.iter().filter(|q| q.current != NIL).count() {
            return Err("running threads disagree with the CPUs' current threads");
        }
        Ok(())
    }

    /// Test hook: gives `t`'s slot another generation.
    #[cfg(test)]
    pub(crate) fn force_generation(&mut self, t: ThreadId, generation: u32) -> ThreadId {
        self.slots[t.index as usize].generation = generation;
        ThreadId { generation, ..t }
    }

    fn cpu_index(&self, cpu: CpuId) -> Result<usize, SchedError> {
        let c = usize::from(cpu.0);
        if c < self.cpus.len() {
            Ok(c)
        } else {
            Err(SchedError::BadCpu(cpu))
        }
    }

    fn index(&self, t: ThreadId) -> Result<u32, SchedError> {
        match self.slots.get(t.index as usize) {
            Some(s) if s.live && s.generation == t.generation => Ok(t.index),
            _ => Err(SchedError::NoSuchThread(t)),
        }
    }

    fn slot(&self, i: u32) -> Option<&Slot> {
        self.slots.get(i as usize).filter(|s| s.live)
    }

    fn id(&self, i: u32) -> ThreadId {
        ThreadId {
            index: i,
            generation: self.slots[i as usize].generation,
        }
    }

    fn thread(&self, i: u32) -> &Thread {
        &self.slots[i as usize].thread
    }

    fn thread_mut(&mut self, i: u32) -> &mut Thread {
        &mut self.slots[i as usize].thread
    }

    fn load_at(&self, c: usize) -> usize {
        let q = &self.cpus[c];
        q.ready + usize::from(q.current != NIL)
    }

    fn top_ready(&self, c: usize) -> Option<Priority> {
        let bits = self.cpus[c].bitmap;
        (bits != 0).then(|| Priority(highest(bits) as u8))
    }

    /// The highest priority running or ready on `c`.
    fn top_work(&self, c: usize) -> Option<Priority> {
        let current = self.cpus[c].current;
        let running = (current != NIL).then(|| self.thread(current).priority);
        self.top_ready(c).max(running)
    }

    fn resched_at(&self, c: usize) -> bool {
        let top = self.top_ready(c);
        let current = self.cpus[c].current;
        if current == NIL {
            return top.is_some() || self.stealable(c);
        }
        let t = self.thread(current);
        t.exhausted()
            || t.affinity.is_some_and(|a| usize::from(a.0) != c)
            || top.is_some_and(|p| {
                p > t.priority || (p == t.priority && t.slice_used >= self.time_slice)
            })
    }

    fn stealable(&self, c: usize) -> bool {
        self.cpus
            .iter()
            .enumerate()
            .any(|(v, q)| v != c && q.movable > 0)
    }

    /// Runtime since the last charge goes to the thread, its slice and its
    /// budget period.
    fn charge(&mut self, i: u32, now: u64) {
        let t = self.thread_mut(i);
        let ran = now.saturating_sub(t.charged_at);
        t.charged_at = t.charged_at.max(now);
        t.stats.runtime_ns = t.stats.runtime_ns.saturating_add(ran);
        t.slice_used = t.slice_used.saturating_add(ran);
        if let Some(p) = &mut t.period {
            p.charge(ran, now);
        }
    }

    fn enqueue(&mut self, i: u32, c: usize, front: bool) {
        let t = self.thread_mut(i);
        t.state = ThreadState::Ready { cpu: cpu_id(c) };
        t.last_cpu = Some(cpu_id(c));
        let level = usize::from(t.priority.0);
        let pinned = t.affinity.is_some();
        let q = &mut self.cpus[c];
        link(&mut self.slots, &mut q.queues[level], i, front);
        q.bitmap |= 1 << level;
        q.ready += 1;
        q.movable += usize::from(!pinned);
    }

    /// Takes a ready thread off its queue; the caller sets its new state.
    fn dequeue(&mut self, i: u32) {
        let t = self.thread(i);
        let ThreadState::Ready { cpu } = t.state else {
            return;
        };
        let level = usize::from(t.priority.0);
        let pinned = t.affinity.is_some();
        let q = &mut self.cpus[usize::from(cpu.0)];
        unlink(&mut self.slots, &mut q.queues[level], i);
        if q.queues[level].head == NIL {
            q.bitmap &= !(1 << level);
        }
        q.ready -= 1;
        q.movable -= usize::from(!pinned);
    }

    fn throttle(&mut self, i: u32) {
        let t = self.thread_mut(i);
        t.state = ThreadState::Throttled;
        t.stats.throttled += 1;
        link(&mut self.slots, &mut self.throttled, i, false);
    }

    /// Where a waking thread goes: its pinned CPU; else its last CPU unless
    /// something of higher priority runs or waits there; else the least
    /// loaded CPU, preferring lower-priority work, then the lower number.
    fn place(&self, i: u32) -> usize {
        let t = self.thread(i);
        if let Some(cpu) = t.affinity {
            return usize::from(cpu.0);
        }
        if let Some(last) = t.last_cpu {
            let l = usize::from(last.0);
            if self.cpus.get(l).is_some_and(|q| q.online)
                && self.top_work(l).is_none_or(|p| p <= t.priority)
            {
                return l;
            }
        }
        (0..self.cpus.len())
            .filter(|&c| self.cpus[c].online)
            .min_by_key(|&c| (self.load_at(c), self.top_work(c), c))
            .unwrap_or(0)
    }

    /// Queues a thread that is on no list at the tail of the CPU chosen by
    /// `place`, with a fresh slice; returns that CPU.
    fn wake(&mut self, i: u32, reason: WakeReason, sink: &mut impl FnMut(Event)) -> usize {
        let c = self.place(i);
        let thread = self.id(i);
        let t = self.thread(i);
        if let Some(last) = t.last_cpu.filter(|l| usize::from(l.0) != c) {
            let reason = if t.affinity.is_some() {
                MigrateReason::Affinity
            } else {
                MigrateReason::Balance {
                    from_load: self.load_at(usize::from(last.0)),
                    to_load: self.load_at(c),
                }
            };
            self.thread_mut(i).stats.migrated += 1;
            sink(Event::Migrate {
                thread,
                from: last,
                to: cpu_id(c),
                reason,
            });
        }
        let t = self.thread_mut(i);
        t.stats.woken += 1;
        t.slice_used = 0;
        self.enqueue(i, c, false);
        sink(Event::Wake {
            thread,
            cpu: cpu_id(c),
            reason,
        });
        c
    }

    /// Puts a thread that was running on `c` back on a queue: `c`'s, or its
    /// pinned CPU's (`Migrate { Affinity }`, fresh slice). True if it stayed.
    fn requeue(&mut self, i: u32, c: usize, front: bool, sink: &mut impl FnMut(Event)) -> bool {
        let to = self.thread(i).affinity.map_or(c, |a| usize::from(a.0));
        if to != c {
            let t = self.thread_mut(i);
            t.stats.migrated += 1;
            t.slice_used = 0;
            sink(Event::Migrate {
                thread: self.id(i),
                from: cpu_id(c),
                to: cpu_id(to),
                reason: MigrateReason::Affinity,
            });
        }
        self.enqueue(i, to, front && to == c);
        to == c
    }

    fn reschedule(
        &mut self,
        c: usize,
        now: u64,
        leave: Leave,
        sink: &mut impl FnMut(Event),
    ) -> Option<ThreadId> {
        let cpu = cpu_id(c);
        let prev = self.cpus[c].current;
        // The level `prev` went to the tail of on this CPU, if it did.
        let mut rotated = None;
        if prev != NIL {
            self.charge(prev, now);
            let thread = self.id(prev);
            let old = *self.thread(prev);
            let preempt = |reason| Event::Preempt {
                cpu,
                thread,
                reason,
            };
            let expired = old.slice_used >= self.time_slice;
            let top = self.top_ready(c);
            match leave {
                Leave::Exit => {
                    self.thread_mut(prev).state = ThreadState::Exited;
                    sink(Event::Exit { thread, cpu });
                }
                Leave::Block(reason) => self.set_blocked(prev, cpu, reason, sink),
                _ if old.exhausted() => {
                    self.thread_mut(prev).stats.preempted += 1;
                    sink(preempt(PreemptReason::BudgetExhausted));
                    self.throttle(prev);
                }
                Leave::Yield => {
                    let t = self.thread_mut(prev);
                    t.stats.yielded += 1;
                    t.slice_used = 0;
                    sink(preempt(PreemptReason::Yielded));
                    if self.requeue(prev, c, false, sink) {
                        rotated = Some(old.priority);
                    }
                }
                Leave::Auto if old.affinity.is_some_and(|a| a != cpu) => {
                    self.requeue(prev, c, false, sink);
                }
                Leave::Auto if top.is_some_and(|p| p > old.priority) => {
                    let head = self.cpus[c].queues[highest(self.cpus[c].bitmap)].head;
                    let by = self.id(head);
                    let t = self.thread_mut(prev);
                    t.stats.preempted += 1;
                    if expired {
                        t.slice_used = 0;
                    }
                    sink(preempt(PreemptReason::HigherPriority { by }));
                    // Keeps its place in line, and the rest of its slice.
                    self.requeue(prev, c, !expired, sink);
                }
                Leave::Auto if expired && top == Some(old.priority) => {
                    let t = self.thread_mut(prev);
                    t.stats.preempted += 1;
                    t.slice_used = 0;
                    sink(preempt(PreemptReason::SliceExpired));
                    self.requeue(prev, c, false, sink);
                    rotated = Some(old.priority);
                }
                Leave::Auto => return Some(thread),
            }
            self.cpus[c].current = NIL;
        }

        let bits = self.cpus[c].bitmap;
        let (next, reason) = if bits != 0 {
            let i = self.cpus[c].queues[highest(bits)].head;
            self.dequeue(i);
            let reason = if self.cpus[c].ready == 0 {
                PickReason::OnlyRunnable
            } else if rotated == Some(self.thread(i).priority) && i != prev {
                PickReason::RoundRobin
            } else {
                PickReason::HighestPriority
            };
            (i, reason)
        } else if let Some((i, from)) = self.steal(c, sink) {
            (i, PickReason::Stolen { from })
        } else {
            if prev != NIL {
                sink(Event::Idle { cpu });
            }
            return None;
        };

        Some(self.run(next, c, now, reason, sink))
    }

    /// Marks the thread that was running on `cpu` (already charged, and no
    /// longer needed as its current) `Blocked`.
    fn set_blocked(
        &mut self,
        i: u32,
        cpu: CpuId,
        reason: BlockReason,
        sink: &mut impl FnMut(Event),
    ) {
        let t = self.thread_mut(i);
        t.state = ThreadState::Blocked(reason);
        t.stats.blocked += 1;
        sink(Event::Block {
            cpu,
            thread: self.id(i),
            reason,
        });
    }

    /// Makes a thread that is on no list the current thread of `c`.
    fn run(
        &mut self,
        i: u32,
        c: usize,
        now: u64,
        reason: PickReason,
        sink: &mut impl FnMut(Event),
    ) -> ThreadId {
        let cpu = cpu_id(c);
        self.cpus[c].current = i;
        let t = self.thread_mut(i);
        t.state = ThreadState::Running { cpu };
        t.last_cpu = Some(cpu);
        t.charged_at = now;
        t.stats.scheduled += 1;
        let priority = t.priority;
        let thread = self.id(i);
        sink(Event::Pick {
            cpu,
            thread,
            priority,
            reason,
        });
        thread
    }

    /// Takes the highest-priority unpinned ready thread (oldest first) off
    /// the busiest other CPU that has one, for the idle CPU `c`.
    fn steal(&mut self, c: usize, sink: &mut impl FnMut(Event)) -> Option<(u32, CpuId)> {
        let from = (0..self.cpus.len())
            .filter(|&v| v != c && self.cpus[v].movable > 0)
            .max_by_key(|&v| (self.load_at(v), Reverse(v)))?;
        let i = self.find_movable(from, true)?;
        self.dequeue(i);
        self.thread_mut(i).stats.migrated += 1;
        sink(Event::Migrate {
            thread: self.id(i),
            from: cpu_id(from),
            to: cpu_id(c),
            reason: MigrateReason::Steal,
        });
        Some((i, cpu_id(from)))
    }

    /// An unpinned ready thread on `c`: the highest priority, oldest one if
    /// `highest`, else the lowest priority, newest one. Walks past pinned
    /// threads, so O(ready) at worst; only stealing and balancing use it.
    fn find_movable(&self, c: usize, highest_first: bool) -> Option<u32> {
        let q = &self.cpus[c];
        let mut bits = q.bitmap;
        while bits != 0 {
            let level = if highest_first {
                highest(bits)
            } else {
                bits.trailing_zeros() as usize
            };
            bits &= !(1 << level);
            let ends = q.queues[level];
            let mut i = if highest_first { ends.head } else { ends.tail };
            while i != NIL {
                let t = self.thread(i);
                if t.affinity.is_none() {
                    return Some(i);
                }
                i = if highest_first { t.next } else { t.prev };
            }
        }
        None
    }
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheduler")
            .field("cpus", &self.cpus.len())
            .field("threads", &self.live)
            .field("time_slice_ns", &self.time_slice)
            .finish()
    }
}

/// Iterator over one CPU's ready threads in pick order, from
/// [`Scheduler::queued`].
pub struct Queued<'a> {
    sched: &'a Scheduler,
    cpu: usize,
    /// Levels not visited yet.
    bits: u64,
    next: u32,
    /// Bounds the walk even if the links were corrupt.
    left: usize,
}

impl Iterator for Queued<'_> {
    type Item = ThreadId;

    fn next(&mut self) -> Option<ThreadId> {
        while self.next == NIL {
            if self.bits == 0 {
                return None;
            }
            let level = highest(self.bits);
            self.bits &= !(1 << level);
            self.next = self.sched.cpus.get(self.cpu)?.queues[level].head;
        }
        self.left = self.left.checked_sub(1)?;
        let i = self.next;
        self.next = self.sched.slots.get(i as usize)?.thread.next;
        Some(self.sched.id(i))
    }
}
