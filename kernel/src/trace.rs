//! The kernel's decision trace. Every event carries its reason.
//!
//! - The binary trace (`ferrous-trace` records): one lock-free ring per
//!   CPU, categories chosen by `trace=`, streamed to COM2 by
//!   `trace.out=serial` (docs/OBSERVABILITY.md). Everything else in the
//!   kernel emits into it through [`emit`].
//! - The scheduler's events are also kept, decoded, in a small ring of the
//!   last `CAPACITY` (kernel tests read it) and logged at `trace` level.

use crate::sync::IrqMutex;
use ferrous_sched::Event;

pub const CAPACITY: usize = 1024;

struct SchedRing {
    events: [Option<(u64, Event)>; CAPACITY],
    next: usize,
    total: u64,
}

static RING: IrqMutex<SchedRing> = IrqMutex::new(SchedRing {
    events: [None; CAPACITY],
    next: 0,
    total: 0,
});

pub fn sched_event(e: Event) {
    sched_record(&e);
    let t = crate::arch::time::now_ns();
    log::trace!("sched: {e}");
    let mut r = RING.lock();
    let i = r.next;
    r.events[i] = Some((t, e));
    r.next = (i + 1) % CAPACITY;
    r.total += 1;
}

/// Calls `f` on each kept event, oldest first; returns how many were ever recorded.
pub fn for_each(mut f: impl FnMut(u64, &Event)) -> u64 {
    let r = RING.lock();
    for k in 0..CAPACITY {
        if let Some((t, e)) = &r.events[(r.next + k) % CAPACITY] {
            f(*t, e);
        }
    }
    r.total
}

/// Capability refusals: how many, and the last few with their reasons
/// (the tracing issue moves these into the per-CPU rings).
static DENIALS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// `cap.denied`: the running process's `op` on `slot` was refused for
/// `reason`. Logged at debug level; always counted.
pub fn cap_denied(op: ferrous_abi::Sysno, slot: u32, reason: crate::cap::Denial) {
    DENIALS.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    let code = reason.reason() as u64;
    let missing = u64::from(reason.missing().bits());
    emit(
        EventType::CapDenied,
        [u64::from(slot), op as u64, code, missing],
        0,
    );
    let who = crate::thread::current_name().unwrap_or("?");
    log::debug!("cap.denied process={who} call={op} slot={slot} reason={reason}");
}

/// `cap.revoke`: `deleted` capabilities derived from `slot` are gone.
pub fn cap_revoked(slot: u32, deleted: usize) {
    emit(
        EventType::CapRevoke,
        [u64::from(slot), deleted as u64, 0, 0],
        0,
    );
    let who = crate::thread::current_name().unwrap_or("?");
    log::debug!("cap.revoke process={who} slot={slot} deleted={deleted}");
}

pub fn denials() -> u64 {
    DENIALS.load(core::sync::atomic::Ordering::Relaxed)
}

// ----- the binary trace (ferrous-trace): per-CPU rings, COM2 stream -----

use crate::arch;
use crate::percpu;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use ferrous_trace::{Categories, EventType, Filter, Policy, Record, Ring};

/// Records per CPU ring unless `trace.ring=` says otherwise (64 bytes of
/// record plus a sequence word each: 288 KiB per CPU).
const DEFAULT_RING: usize = 4096;

/// One CPU's tracing state (its `percpu::CpuBlock::trace`).
#[repr(C)]
pub struct CpuTrace {
    /// The CPU's ring, made when the CPU comes online (first: see
    /// `percpu::CpuBlock`).
    ring: spin::Once<Ring>,
    /// The ring's loss count already reported as `trace.lost`.
    lost_seen: AtomicU64,
    /// What the next `sched.block` of this CPU is about (set by IPC just
    /// before it parks): `(reason << 56) | object`, or 0.
    block_detail: AtomicU64,
    /// A handoff is being decided (its block and wake are folded into one
    /// `sched.handoff`); the block's `(reason, object)` once seen.
    handoff: AtomicU64,
    /// The causal ID of the message a coming handoff delivers (the
    /// `sched.handoff` record carries it, standing in for `ipc.recv` or
    /// `ipc.reply`), and the thread that handoff ran, until it takes the
    /// note.
    handoff_causal: AtomicU64,
    handed_to: AtomicU64,
}

impl CpuTrace {
    pub const fn new() -> Self {
        CpuTrace {
            ring: spin::Once::new(),
            lost_seen: AtomicU64::new(0),
            block_detail: AtomicU64::new(0),
            handoff: AtomicU64::new(0),
            handoff_causal: AtomicU64::new(0),
            handed_to: AtomicU64::new(0),
        }
    }
}

/// This CPU's tracing state.
fn here() -> &'static CpuTrace {
    &percpu::this_cpu().trace
}

/// CPU `cpu`'s ring, once it has one.
fn ring_of(cpu: usize) -> Option<&'static Ring> {
    percpu::cpu(cpu).and_then(|c| c.trace.ring.get())
}

static RING_SIZE: AtomicU64 = AtomicU64::new(DEFAULT_RING as u64);
/// Which categories are recorded; `trace=` sets it at boot.
pub static FILTER: Filter = Filter::new(Categories::DEFAULT);
static TO_SERIAL: AtomicBool = AtomicBool::new(false);
static WRITTEN: AtomicU64 = AtomicU64::new(0);
static LOST_TOTAL: AtomicU64 = AtomicU64::new(0);
/// Serialises writers of the COM2 stream.
static STREAM: crate::sync::SpinLock<()> = crate::sync::SpinLock::new(());

/// Applies `trace=`, `trace.ring=` and `trace.out=` (problems are logged,
/// never fatal), and gives the boot CPU its ring.
pub fn init(opts: &ferrous_cmdline::KernelOptions<'_>) {
    if let Some(spec) = opts.trace {
        match ferrous_trace::parse_spec(spec) {
            Ok(c) => FILTER.set(c),
            Err(e) => log::warn!("command line: trace={spec}: {e}; keeping the default"),
        }
    }
    if let Some(n) = opts.trace_ring {
        match n.parse::<usize>() {
            Ok(n) if n.is_power_of_two() && (8..=1 << 20).contains(&n) => {
                RING_SIZE.store(n as u64, Ordering::Relaxed)
            }
            _ => log::warn!("command line: trace.ring={n}: not a power of two in 8..=1048576"),
        }
    }
    match opts.trace_out {
        None => {}
        Some("serial") => {
            if arch::serial::init_com2() {
                TO_SERIAL.store(true, Ordering::Release);
            } else {
                log::warn!("trace: no UART on COM2; the trace stays in memory");
            }
        }
        Some(other) => log::warn!("command line: trace.out={other}: only `serial` is known"),
    }
    init_cpu(0);
    log::info!(
        "trace: categories {}, {} records per CPU{}",
        FILTER.get(),
        RING_SIZE.load(Ordering::Relaxed),
        if TO_SERIAL.load(Ordering::Relaxed) {
            ", streamed to COM2"
        } else {
            ""
        }
    );
}

/// Gives CPU `index` its ring (when it comes online; allocates).
pub fn init_cpu(index: usize) {
    if let Some(cpu) = percpu::cpu(index) {
        let size = RING_SIZE.load(Ordering::Relaxed) as usize;
        cpu.trace.ring.call_once(|| {
            Ring::new(size, Policy::Overwrite).unwrap_or_else(|_| {
                // Out of memory at boot: a minimal ring keeps tracing safe.
                Ring::new(8, Policy::Overwrite).expect("an 8-record ring")
            })
        });
    }
}

/// A thread as the trace names it: `(generation << 32) | (index + 1)`;
/// 0 for none.
pub fn thread_word(id: Option<crate::thread::ThreadId>) -> u64 {
    id.map_or(0, |t| {
        (u64::from(t.generation) << 32) | (u64::from(t.index) + 1)
    })
}

/// Whether events of `event`'s category are recorded (check before
/// gathering expensive arguments).
pub fn enabled(event: EventType) -> bool {
    FILTER.enabled(event.category())
}

/// Records `event` on this CPU's ring if its category is on. Never
/// blocks; safe with interrupts off and under any lock.
pub fn emit(event: EventType, args: [u64; 4], causal: u64) {
    if !enabled(event) {
        return;
    }
    push(event, None, args, causal);
}

/// As [`emit`], naming the thread explicitly (scheduler events are about
/// threads other than the one running).
pub fn emit_for(event: EventType, thread: u64, args: [u64; 4], causal: u64) {
    if enabled(event) {
        push(event, Some(thread), args, causal);
    }
}

/// `thread` `None`: the running one (read with interrupts off, once).
fn push(event: EventType, thread: Option<u64>, args: [u64; 4], causal: u64) {
    if !arch::cpu::interrupts_enabled() {
        // The scheduler's events and anything under an IRQ lock: this
        // CPU's ring, interrupts off, so the exclusive (cheaper) push.
        let c = arch::percpu::index();
        let here = percpu::this_cpu();
        let thread = thread.unwrap_or_else(|| thread_word(here.thread.current()));
        if let Some(ring) = here.trace.ring.get() {
            ring.push_exclusive(&record(event, c, thread, args, causal));
        }
        return;
    }
    // Interrupts on (system calls, IPC): switching them off and on costs
    // more under QEMU than the push, so take the CPU and its running
    // thread without that (re-reading the CPU shows the two belong
    // together) and use the push that tolerates an interrupting or, after
    // a migration, a second producer.
    let (c, thread) = loop {
        let c = arch::percpu::index();
        let t = thread.unwrap_or_else(|| thread_word(crate::thread::current_id_on(c)));
        if arch::percpu::index() == c {
            break (c, t);
        }
    };
    if let Some(ring) = ring_of(c) {
        // alloc: none (a fixed ring of records)
        ring.push(&record(event, c, thread, args, causal));
    }
}

fn record(event: EventType, cpu: usize, thread: u64, args: [u64; 4], causal: u64) -> Record {
    let mut r = Record::new(event, args);
    r.timestamp = arch::cpu::tsc();
    r.cpu = cpu as u16;
    r.thread = thread;
    r.causal = causal;
    r
}

/// The next `sched.block` on this CPU is about `reason` and `object`.
pub fn block_detail(reason: ferrous_trace::BlockReason, object: u64) {
    let d = (reason as u64) << 56 | (object & ((1 << 56) - 1));
    arch::cpu::without_interrupts(|| here().block_detail.store(d, Ordering::Relaxed));
}

fn take_block_detail() -> Option<(u64, u64)> {
    let d = here().block_detail.swap(0, Ordering::Relaxed);
    (d != 0).then_some((d >> 56, d & ((1 << 56) - 1)))
}

/// In `CpuTrace::handoff`: a handoff is being decided.
const HANDOFF_ON: u64 = 1 << 63;

/// The next handoff on this CPU delivers a message with `causal` (0:
/// none, or the handoff did not happen).
pub fn handoff_causal(causal: u64) {
    arch::cpu::without_interrupts(|| here().handoff_causal.store(causal, Ordering::Relaxed));
}

/// Whether the running thread `me` was just run by a handoff that
/// recorded its message (so its own `ipc.recv` would repeat it).
pub fn take_handed_to(me: u64) -> bool {
    arch::cpu::without_interrupts(|| {
        here()
            .handed_to
            .compare_exchange(me, 0, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    })
}

/// Called by the scheduler glue around `Scheduler::handoff` (THREADS
/// held, interrupts off).
pub fn handoff_begin() {
    here().handoff.store(HANDOFF_ON, Ordering::Relaxed);
}

pub fn handoff_end() {
    here().handoff.store(0, Ordering::Relaxed);
}

/// The scheduler's decisions as trace records (called from its event
/// sink, under the scheduler lock: lock-free only).
fn sched_record(e: &Event) {
    use ferrous_sched::{BlockReason as B, PickReason, PreemptReason, WakeReason};
    use ferrous_trace::BlockReason as TB;
    let w = |t: ferrous_sched::ThreadId| thread_word(Some(t));
    // Under the scheduler lock, interrupts off: `here()` is this CPU's
    // throughout (read where needed, so most events skip it).
    match *e {
        Event::Pick {
            thread,
            reason: PickReason::Handoff { from },
            ..
        } if here().handoff.load(Ordering::Relaxed) & HANDOFF_ON != 0 => {
            let here = here();
            crate::metrics::count(crate::metrics::Counter::Switches);
            let d = here.handoff.load(Ordering::Relaxed) & !HANDOFF_ON;
            let (code, object) = (d >> 56, d & ((1 << 56) - 1));
            let args = [w(from), w(thread), code, object];
            let causal = here.handoff_causal.swap(0, Ordering::Relaxed);
            if causal != 0 && enabled(EventType::SchedHandoff) {
                here.handed_to.store(w(thread), Ordering::Relaxed);
            }
            emit_for(EventType::SchedHandoff, w(from), args, causal);
        }
        // Folded into the `sched.handoff` above.
        Event::Wake { .. } if here().handoff.load(Ordering::Relaxed) != 0 => {}
        Event::Block { reason: B::Ipc, .. } if here().handoff.load(Ordering::Relaxed) != 0 => {
            let (code, object) = take_block_detail().unwrap_or((TB::Reply as u64, 0));
            let d = HANDOFF_ON | code << 56 | (object & ((1 << 56) - 1));
            here().handoff.store(d, Ordering::Relaxed);
        }
        Event::Pick { thread, reason, .. } => {
            crate::metrics::count(crate::metrics::Counter::Switches);
            // Only a handoff names the thread switched from (which blocked).
            let (from, why) = match reason {
                PickReason::Handoff { from } => {
                    (w(from), ferrous_trace::SwitchReason::Block as u64)
                }
                _ => (0, 0),
            };
            emit_for(
                EventType::SchedSwitch,
                w(thread),
                [from, w(thread), why, 0],
                0,
            );
        }
        Event::Idle { .. } => emit_for(EventType::SchedIdle, 0, [0; 4], 0),
        Event::Preempt { thread, reason, .. } => {
            let by = match reason {
                PreemptReason::HigherPriority { by } => w(by),
                _ => 0,
            };
            emit_for(EventType::SchedPreempt, w(thread), [w(thread), by, 0, 0], 0);
        }
        Event::Block { thread, reason, .. } => {
            let (code, object) = match reason {
                B::Ipc => take_block_detail().unwrap_or((TB::Reply as u64, 0)),
                B::Sleep => (TB::Sleep as u64, 0),
                B::Join(t) => (TB::Join as u64, w(t)),
                B::WaitQueue(q) => (TB::ProcessWait as u64, q),
                B::Other(_) => (0, 0),
            };
            emit_for(EventType::SchedBlock, w(thread), [code, object, 0, 0], 0);
        }
        Event::Wake { thread, reason, .. } => {
            let by = match reason {
                WakeReason::ByThread(t) => w(t),
                _ => 0,
            };
            emit_for(EventType::SchedWake, w(thread), [w(thread), by, 0, 0], 0);
        }
        Event::Migrate {
            thread, from, to, ..
        } => emit_for(
            EventType::SchedMigrate,
            w(thread),
            [w(thread), u64::from(from.0), u64::from(to.0), 0],
            0,
        ),
        Event::Exit { thread, .. } => emit_for(
            EventType::ProcessThreadExit,
            w(thread),
            [w(thread), 0, 0, 0],
            0,
        ),
    }
}

/// Names a thread for decoders (`trace.name`).
pub fn name_thread(thread: crate::thread::ThreadId, process: u64, name: &str) {
    let mut bytes = [0u8; 16];
    for (b, c) in bytes.iter_mut().zip(name.bytes()) {
        *b = c;
    }
    let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap_or([0; 8]));
    emit_for(
        EventType::TraceName,
        thread_word(Some(thread)),
        [thread_word(Some(thread)), process, word(0), word(8)],
        0,
    );
}

/// Streams what the rings hold to COM2 (if `trace.out=serial`): a header
/// first, each CPU's records in order, a `trace.lost` record whenever a
/// ring lost some. Safe to call from any thread; callers serialise on the
/// stream lock.
pub fn drain() {
    if !TO_SERIAL.load(Ordering::Acquire) {
        return;
    }
    let _g = STREAM.lock();
    static HEADER_SENT: AtomicBool = AtomicBool::new(false);
    if !HEADER_SENT.swap(true, Ordering::AcqRel) {
        let mut h = [0u8; 64];
        h[..8].copy_from_slice(b"FERTRACE");
        h[8..12].copy_from_slice(&1u32.to_le_bytes());
        h[12..16].copy_from_slice(&(crate::thread::cpus_online() as u32).to_le_bytes());
        h[16..24].copy_from_slice(&arch::time::tsc_hz().to_le_bytes());
        h[24..32].copy_from_slice(&arch::cpu::entry_tsc().to_le_bytes());
        arch::serial::write_com2(&h);
    }
    let mut buf = [Record::default(); 64];
    for (c, cpu) in percpu::all().enumerate() {
        let Some(ring) = cpu.trace.ring.get() else {
            continue;
        };
        loop {
            let got = ring.drain(&mut buf);
            for r in &buf[..got.records] {
                arch::serial::write_com2(&r.to_bytes());
            }
            WRITTEN.fetch_add(got.records as u64, Ordering::Relaxed);
            if got.records < buf.len() {
                break;
            }
        }
        let lost = ring.lost();
        let seen = cpu.trace.lost_seen.swap(lost, Ordering::AcqRel);
        if lost > seen {
            let mut r = Record::new(EventType::TraceLost, [lost - seen, 0, 0, 0]);
            r.timestamp = arch::cpu::tsc();
            r.cpu = c as u16;
            arch::serial::write_com2(&r.to_bytes());
            LOST_TOTAL.fetch_add(lost - seen, Ordering::Relaxed);
        }
    }
}

/// The last drain, and the end block (test shutdown).
pub fn finish() {
    if !TO_SERIAL.load(Ordering::Acquire) {
        return;
    }
    drain();
    let _g = STREAM.lock();
    let mut end = [0u8; 64];
    end[..8].copy_from_slice(b"FERTREND");
    end[8..16].copy_from_slice(&WRITTEN.load(Ordering::Relaxed).to_le_bytes());
    end[16..24].copy_from_slice(&LOST_TOTAL.load(Ordering::Relaxed).to_le_bytes());
    arch::serial::write_com2(&end);
    log::info!(
        "trace: {} records streamed, {} lost",
        WRITTEN.load(Ordering::Relaxed),
        LOST_TOTAL.load(Ordering::Relaxed)
    );
}

/// Streams the rings every 20 ms while `trace.out=serial` (a kernel
/// thread).
pub fn start_drain_thread() {
    if TO_SERIAL.load(Ordering::Acquire) {
        // Above user threads, so CPU-bound work cannot starve it (it
        // sleeps 20 ms between drains).
        let r = crate::thread::spawn(
            "trace-drain",
            crate::thread::Priority(20),
            None,
            |_| loop {
                drain();
                crate::thread::sleep_ns(20_000_000);
            },
            0,
        );
        if let Err(e) = r {
            log::warn!("trace: no drain thread: {e:?}");
        }
    }
}

/// Up to `max` records of CPU `cpu`'s ring from `cursor` on, without
/// consuming them: `(records, next cursor, skipped)`. `None` for a CPU
/// without a ring.
pub fn read(
    cpu: usize,
    cursor: u64,
    max: usize,
) -> Result<(alloc::vec::Vec<Record>, u64, u64), ferrous_abi::SysError> {
    use ferrous_abi::SysError;
    let ring = ring_of(cpu).ok_or(SysError::NoSuchCpu)?;
    let mut buf = alloc::vec::Vec::new();
    buf.try_reserve_exact(max.min(ring.capacity()))
        .map_err(|_| SysError::OutOfMemory)?;
    // alloc: reserved above (try_reserve_exact)
    buf.resize(max.min(ring.capacity()), Record::default());
    let got = ring.read_from(cursor, &mut buf);
    buf.truncate(got.records);
    Ok((buf, got.next, got.skipped))
}

/// Records lost so far, over all CPUs (metrics).
pub fn lost() -> u64 {
    percpu::all()
        .filter_map(|c| c.trace.ring.get())
        .map(Ring::lost)
        .sum()
}
