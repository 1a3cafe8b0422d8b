//! Interrupt, time, SMP and scheduler scenarios. Each runs with 1 and 4 CPUs
//! (see tests/scenarios.toml).

use super::{Outcome, ensure};
use crate::arch;
use crate::mm::frames::{self, FrameKind};
use crate::thread::{self, CpuId, Priority};
use crate::{Boot, irq, trace};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use ferrous_sched::{Event, PickReason, PreemptReason};

pub fn timer(_: &Boot) -> Outcome {
    let start_ticks = irq::ticks(0);
    let start_ns = arch::time::now_ns();
    while irq::ticks(0) < start_ticks + 20 {
        arch::cpu::enable_interrupts_and_halt();
    }
    let ns = arch::time::now_ns() - start_ns;
    let hz = 20 * 1_000_000_000 / ns.max(1);
    log::info!(
        "timer: 20 ticks in {} us: {hz} Hz measured for {} Hz programmed",
        ns / 1000,
        thread::TICK_HZ
    );
    // Generous bounds: this only proves ticks arrive at roughly the right
    // rate (a wrong calibration would be off by orders of magnitude).
    ensure(
        hz > thread::TICK_HZ / 4 && hz < thread::TICK_HZ * 4,
        "tick rate far from the programmed rate",
    )?;
    // The monotonic clock never goes backwards.
    let mut last = arch::time::now_ns();
    for _ in 0..1000 {
        let now = arch::time::now_ns();
        ensure(now >= last, "clock went backwards")?;
        last = now;
    }
    Ok(())
}

/// Routes the PIT's ISA IRQ 0 through the I/O APIC (honouring the MADT's
/// override, usually to GSI 2) and counts the interrupts that arrive.
pub fn ioapic(_: &Boot) -> Outcome {
    let p = crate::platform::info().ok_or("no platform info")?;
    let (gsi, flags) = p.isa_gsi(0);
    let ioapic = crate::platform::ioapic_for(gsi).ok_or("no I/O APIC handles the PIT's GSI")?;
    let before = irq::isa_count(0);
    ioapic.route(gsi, arch::apic::VECTOR_ISA_BASE, arch::apic::id(), flags);
    arch::pit::start_periodic(1000);
    let deadline = arch::time::now_ns() + 2_000_000_000;
    while irq::isa_count(0) < before + 20 && arch::time::now_ns() < deadline {
        arch::cpu::enable_interrupts_and_halt();
    }
    ioapic.mask(gsi);
    arch::pit::stop_periodic();
    let got = irq::isa_count(0) - before;
    log::info!(
        "ioapic: ISA IRQ 0 -> GSI {gsi} -> vector {:#x}: {got} interrupts",
        arch::apic::VECTOR_ISA_BASE
    );
    ensure(
        got >= 20,
        "PIT interrupts did not arrive through the I/O APIC",
    )
}

/// Producer/consumer over a wait queue: consumers block until items arrive,
/// and every item is consumed exactly once.
pub fn wait_queue(_: &Boot) -> Outcome {
    use spin::Once;
    static QUEUE: Once<thread::WaitQueue> = Once::new();
    static ITEMS: AtomicU64 = AtomicU64::new(0);
    static TAKEN: AtomicU64 = AtomicU64::new(0);
    const TOTAL: u64 = 2000;
    let q = QUEUE.call_once(thread::WaitQueue::new);
    fn consumer(_: u64) -> u64 {
        let q = QUEUE.get().expect("set");
        let mut mine = 0;
        loop {
            q.wait_until(|| {
                ITEMS.load(Ordering::SeqCst) > 0 || TAKEN.load(Ordering::SeqCst) >= TOTAL
            });
            if ITEMS
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                mine += 1;
                if TAKEN.fetch_add(1, Ordering::SeqCst) + 1 == TOTAL {
                    q.wake_all();
                }
            } else if TAKEN.load(Ordering::SeqCst) >= TOTAL {
                return mine;
            }
        }
    }
    let consumers: Vec<_> = (0..4)
        .map(|i| thread::spawn("consumer", Priority(20), None, consumer, i))
        .collect::<Result<_, _>>()
        .map_err(|_| "spawn")?;
    for i in 0..TOTAL {
        ITEMS.fetch_add(1, Ordering::SeqCst);
        q.wake_one();
        if i % 64 == 0 {
            thread::yield_now();
        }
    }
    let mut sum = 0;
    for c in consumers {
        sum += thread::join(c).map_err(|_| "join")?;
    }
    let mut waits = 0;
    trace::for_each(|_, e| {
        if let Event::Block {
            reason: ferrous_sched::BlockReason::WaitQueue(_),
            ..
        } = e
        {
            waits += 1;
        }
    });
    log::info!(
        "waitq: {TOTAL} items consumed exactly once by 4 consumers ({sum} counted), {waits} blocking waits traced"
    );
    ensure(
        sum == TOTAL && TAKEN.load(Ordering::SeqCst) == TOTAL,
        "items lost or consumed twice",
    )
}

static STOP: AtomicBool = AtomicBool::new(false);
static COUNTS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

fn spin_counter(slot: u64) -> u64 {
    while !STOP.load(Ordering::Relaxed) {
        COUNTS[slot as usize].fetch_add(1, Ordering::Relaxed);
    }
    slot
}

pub fn preemption(_: &Boot) -> Outcome {
    STOP.store(false, Ordering::SeqCst);
    // Two busy threads of one priority, both pinned to CPU 0, below main so
    // main can create them all; once main blocks in join, only preemption
    // by the tick lets the second spinner run.
    let p = Priority(10);
    let a = thread::spawn("spin-a", p, Some(CpuId(0)), spin_counter, 0).map_err(|_| "spawn")?;
    let b = thread::spawn("spin-b", p, Some(CpuId(0)), spin_counter, 1).map_err(|_| "spawn")?;
    // A top-priority helper sleeps, then stops them.
    // It stops them once both have made progress (and at least 300 ms
    // passed), so a slow or overloaded host delays the test but cannot fail
    // it; only starvation keeps a counter at zero until the 30 s limit.
    let stopper = thread::spawn(
        "stopper",
        Priority(40),
        Some(CpuId(0)),
        |_| {
            let start = arch::time::now_ns();
            loop {
                thread::sleep_ns(50_000_000);
                let elapsed = arch::time::now_ns() - start;
                let both = COUNTS[0].load(Ordering::Relaxed) > 1000
                    && COUNTS[1].load(Ordering::Relaxed) > 1000;
                if (both && elapsed > 300_000_000) || elapsed > 30_000_000_000 {
                    break;
                }
            }
            STOP.store(true, Ordering::SeqCst);
            0
        },
        0,
    )
    .map_err(|_| "spawn")?;
    thread::join(stopper).map_err(|_| "join")?;
    for (name, t) in [("spin-a", a), ("spin-b", b)] {
        if let Some(st) = thread::stats(t) {
            log::info!(
                "preemption: {name} ran {} ms, scheduled {} times, preempted {}",
                st.runtime_ns / 1_000_000,
                st.scheduled,
                st.preempted
            );
        }
        thread::join(t).map_err(|_| "join")?;
    }
    let (ca, cb) = (
        COUNTS[0].load(Ordering::Relaxed),
        COUNTS[1].load(Ordering::Relaxed),
    );
    log::info!("preemption: spin-a counted {ca}, spin-b counted {cb}");
    ensure(ca > 0 && cb > 0, "a busy thread starved its peer")?;
    let mut slice_preemptions = 0;
    trace::for_each(|_, e| {
        if matches!(
            e,
            Event::Preempt {
                reason: PreemptReason::SliceExpired,
                ..
            }
        ) {
            slice_preemptions += 1;
        }
    });
    log::info!("preemption: {slice_preemptions} 'time slice expired' preemptions traced");
    ensure(
        slice_preemptions >= 2,
        "no slice-expiry preemptions in the trace",
    )
}

static ORDER: spin::Mutex<Vec<u64>> = spin::Mutex::new(Vec::new());

fn record(tag: u64) -> u64 {
    ORDER.lock().push(tag);
    tag
}

pub fn priority(_: &Boot) -> Outcome {
    ORDER.lock().clear();
    // main holds CPU 0 at priority 16; both new threads are pinned there.
    // The high one (above main) runs at once; the low one only when main blocks.
    let low = thread::spawn("low", Priority(5), Some(CpuId(0)), record, 1).map_err(|_| "spawn")?;
    let high =
        thread::spawn("high", Priority(30), Some(CpuId(0)), record, 2).map_err(|_| "spawn")?;
    record(0); // main, after high preempted it and finished
    thread::join(high).map_err(|_| "join")?;
    thread::join(low).map_err(|_| "join")?;
    let order = ORDER.lock().clone();
    log::info!("priority: run order {order:?} (2 = high, 0 = main, 1 = low)");
    ensure(order == [2, 0, 1], "threads did not run in priority order")?;
    let mut picked_by_priority = false;
    trace::for_each(|_, e| {
        if let Event::Pick {
            reason: PickReason::HighestPriority,
            ..
        } = e
        {
            picked_by_priority = true;
        }
    });
    ensure(picked_by_priority, "no highest-priority pick traced")
}

static SEEN_CPU: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];

pub fn all_cpus(boot: &Boot) -> Outcome {
    let _ = boot;
    let online = thread::cpus_online();
    let expected = crate::platform::info().map_or(1, |p| p.cpus.len() as u64);
    log::info!("smp: {online} CPUs online, {expected} in the MADT");
    ensure(online == expected, "not every CPU came online")?;
    let mut ids = Vec::new();
    for cpu in 0..online {
        let t = thread::spawn(
            "per-cpu",
            Priority(20),
            Some(CpuId(cpu as u16)),
            |cpu| {
                SEEN_CPU[cpu as usize].store(arch::percpu::index() as u64 + 1, Ordering::SeqCst);
                cpu
            },
            cpu,
        )
        .map_err(|_| "spawn")?;
        ids.push(t);
    }
    for t in ids {
        thread::join(t).map_err(|_| "join")?;
    }
    for (cpu, seen) in SEEN_CPU.iter().enumerate().take(online as usize) {
        ensure(
            seen.load(Ordering::SeqCst) == cpu as u64 + 1,
            "a thread did not run on its CPU",
        )?;
    }
    log::info!("smp: a thread ran on each of the {online} CPUs");
    Ok(())
}

fn thousand(round: u32) -> Result<(), &'static str> {
    let mut ids = Vec::new();
    for i in 0..1000u64 {
        let t = thread::spawn("worker", Priority(10), None, |i| i * 2, i).map_err(|_| "spawn")?;
        ids.push(t);
    }
    let mut sum = 0;
    for t in ids {
        sum += thread::join(t).map_err(|_| "join")?;
    }
    log::info!("threads: round {round}: 1000 created, run and joined");
    ensure(sum == 999 * 1000, "exit codes lost")
}

pub fn thousand_threads(_: &Boot) -> Outcome {
    let before = frames::stats();
    thousand(1)?;
    // The scheduler's thread slab and the thread table keep their high-water
    // mark; a second round must not need a byte more.
    let heap_mid = crate::mm::heap::stats().used;
    thousand(2)?;
    let heap_end = crate::mm::heap::stats().used;
    thread::check_invariants()?;
    let after = frames::stats();
    log::info!(
        "threads: 1000 created, run and joined twice; stacks {} -> {} frames, page tables {} -> {}, heap in use {heap_mid} -> {heap_end} bytes between rounds",
        before.allocated(FrameKind::KernelStack),
        after.allocated(FrameKind::KernelStack),
        before.allocated(FrameKind::PageTable),
        after.allocated(FrameKind::PageTable)
    );
    ensure(
        after.allocated(FrameKind::KernelStack) == before.allocated(FrameKind::KernelStack),
        "kernel stacks leaked",
    )?;
    ensure(
        after.allocated(FrameKind::PageTable) <= before.allocated(FrameKind::PageTable) + 2,
        "page tables leaked",
    )?;
    ensure(heap_end <= heap_mid + 1024, "heap memory leaked per thread")
}

pub fn thread_fault(_: &Boot) -> Outcome {
    let t = thread::spawn(
        "faulty",
        Priority(20),
        None,
        |_| {
            arch::cpu::trigger_invalid_opcode();
            0
        },
        0,
    )
    .map_err(|_| "spawn")?;
    let _ = thread::join(t);
    Err("the faulting thread came back")
}

static TLB_SEEN: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];
static TLB_PHASE: AtomicU64 = AtomicU64::new(0);

pub fn tlb_shootdown(_: &Boot) -> Outcome {
    use crate::mm::{SCRATCH, kspace};
    use ferrous_paging::{Flags, PageSize};
    let online = thread::cpus_online();
    ensure(online > 1, "needs more than one CPU")?;
    let va = SCRATCH.start + 0x30_0000;
    let old = frames::alloc(0, FrameKind::Test).map_err(|_| "frame")?;
    let new = frames::alloc(0, FrameKind::Test).map_err(|_| "frame")?;
    kspace::map(va, old, PageSize::Size4K, Flags::KERNEL_RW).map_err(|_| "map")?;
    arch::probe::scratch_write(&SCRATCH, va, 1);
    TLB_PHASE.store(0, Ordering::SeqCst);
    let mut ids = Vec::new();
    for cpu in 1..online {
        ids.push(
            thread::spawn(
                "tlb-reader",
                Priority(20),
                Some(CpuId(cpu as u16)),
                |cpu| {
                    let va = SCRATCH.start + 0x30_0000;
                    // Cache the old translation (read it), wait for the remap
                    // without touching the page, then read again: a CPU that
                    // missed the shootdown still sees the old frame's 1.
                    TLB_SEEN[cpu as usize]
                        .store(arch::probe::scratch_read(&SCRATCH, va), Ordering::SeqCst);
                    while TLB_PHASE.load(Ordering::SeqCst) == 0 {
                        core::hint::spin_loop();
                    }
                    TLB_SEEN[cpu as usize]
                        .store(arch::probe::scratch_read(&SCRATCH, va), Ordering::SeqCst);
                    0
                },
                cpu,
            )
            .map_err(|_| "spawn")?,
        );
    }
    // Let every reader cache the old mapping.
    while (1..online as usize).any(|c| TLB_SEEN[c].load(Ordering::SeqCst) != 1) {
        thread::yield_now();
    }
    let before = crate::mm::shootdown::count();
    kspace::unmap(va).map_err(|_| "unmap")?;
    kspace::map(va, new, PageSize::Size4K, Flags::KERNEL_RW).map_err(|_| "remap")?;
    arch::probe::scratch_write(&SCRATCH, va, 2);
    TLB_PHASE.store(1, Ordering::SeqCst);
    for t in ids {
        thread::join(t).map_err(|_| "join")?;
    }
    let shootdowns = crate::mm::shootdown::count() - before;
    for seen in TLB_SEEN.iter().take(online as usize).skip(1) {
        ensure(
            seen.load(Ordering::SeqCst) == 2,
            "a CPU kept a stale translation",
        )?;
    }
    kspace::unmap(va).map_err(|_| "unmap")?;
    frames::free(old, 0).map_err(|_| "free")?;
    frames::free(new, 0).map_err(|_| "free")?;
    log::info!(
        "tlb: {shootdowns} shootdowns; all {} other CPUs see the new frame",
        online - 1
    );
    Ok(())
}

/// Timer interrupt latency: arm a one-shot APIC timer, compare the TSC at
/// interrupt entry with the TSC the deadline corresponds to.
fn timer_latency() {
    let mut samples = [0u64; 15];
    for s in samples.iter_mut() {
        let last = irq::last_tick_tsc(0);
        let deadline = arch::cpu::without_interrupts(|| arch::time::arm_oneshot_ns(1_000_000));
        while irq::last_tick_tsc(0) == last {
            arch::cpu::enable_interrupts_and_halt();
        }
        *s = irq::last_tick_tsc(0).saturating_sub(deadline);
    }
    arch::time::start_tick(thread::TICK_HZ);
    samples.sort_unstable();
    log::info!(
        "bench timer-irq-latency: median {} cycles/op (min {}, max {}, 15 x 1 ops) = {} ns median",
        samples[7],
        samples[0],
        samples[14],
        arch::time::cycles_to_ns(samples[7])
    );
}

pub fn bench(_: &Boot) -> Outcome {
    timer_latency();
    // Context switch: two threads on CPU 0 yielding to each other. Every
    // yield is one switch; the TSC is sampled every BATCH switches, after a
    // warm-up batch, so spawning and joining are not counted.
    static ROUNDS: AtomicU64 = AtomicU64::new(0);
    static MARKS: [AtomicU64; 17] = [const { AtomicU64::new(0) }; 17];
    const BATCH: u64 = 1000;
    const N: u64 = BATCH * 17;
    fn pinger(_: u64) -> u64 {
        loop {
            let r = ROUNDS.fetch_add(1, Ordering::Relaxed) + 1;
            if r > N {
                return 0;
            }
            if r.is_multiple_of(BATCH) {
                MARKS[(r / BATCH - 1) as usize].store(arch::cpu::tsc(), Ordering::Relaxed);
            }
            thread::yield_now();
        }
    }
    ROUNDS.store(0, Ordering::SeqCst);
    let a = thread::spawn("ping", Priority(30), Some(CpuId(0)), pinger, 0).map_err(|_| "spawn")?;
    let b = thread::spawn("pong", Priority(30), Some(CpuId(0)), pinger, 0).map_err(|_| "spawn")?;
    thread::join(a).map_err(|_| "join")?;
    thread::join(b).map_err(|_| "join")?;
    // Mark 0 ends the warm-up batch; 16 measured batches follow.
    let mut per_switch: Vec<u64> = (1..MARKS.len())
        .map(|i| {
            MARKS[i]
                .load(Ordering::Relaxed)
                .wrapping_sub(MARKS[i - 1].load(Ordering::Relaxed))
                / BATCH
        })
        .collect();
    per_switch.sort_unstable();
    log::info!(
        "bench yield-switch: median {} cycles/op (min {}, max {}, {} x {BATCH} ops)",
        per_switch[per_switch.len() / 2],
        per_switch[0],
        per_switch[per_switch.len() - 1],
        per_switch.len()
    );
    // Scheduler pick cost with 10 and 1000 ready threads (policy only).
    for ready in [10u32, 1000] {
        let mut s = ferrous_sched::Scheduler::new(ferrous_sched::Config {
            cpus: 1,
            time_slice_ns: 1,
        });
        let mut sink = |_e: Event| {};
        // All at one level, so every pick rotates round-robin in both cases
        // and only the number of ready threads differs.
        for _ in 0..ready {
            let t = s.add_thread(Priority(20), None, None).map_err(|_| "add")?;
            s.make_ready(t, ferrous_sched::WakeReason::Created, 0, &mut sink)
                .map_err(|_| "ready")?;
        }
        let mut now = 0;
        let name = if ready == 10 {
            "sched-pick-10-ready"
        } else {
            "sched-pick-1000-ready"
        };
        crate::bench::measure(name, 2000, || {
            now += 1;
            core::hint::black_box(s.pick_next(CpuId(0), now, &mut sink));
        });
    }
    Ok(())
}
